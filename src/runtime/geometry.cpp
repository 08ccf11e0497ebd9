#include "runtime/geometry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pt2onnx/error.h"

namespace pt2onnx::runtime {
namespace {

std::vector<std::int64_t> positive_list(const AttributeMap& attrs, const std::string& name, std::size_t rank) {
  auto v = attrs.get_ints(name, std::vector<std::int64_t>(rank, 1));
  if (v.size() != rank) {
    throw_error(ErrorKind::BadInput, fmt::format("{} has {} values, expected {}", name, v.size(), rank));
  }
  for (auto x : v) {
    if (x <= 0 || x > (1 << 20))
      throw_error(ErrorKind::BadInput, fmt::format("{} [{}] must be positive", name, fmt::join(v, ", ")));
  }
  return v;
}

}  // namespace

WindowGeometry window_geometry(const AttributeMap& attrs, const std::vector<std::int64_t>& input,
                               const std::vector<std::int64_t>& kernel, bool allow_ceil_mode, bool allow_dilations) {
  const auto rank = input.size();
  WindowGeometry g;
  g.kernel = kernel;
  if (kernel.size() != rank) {
    throw_error(ErrorKind::BadInput, fmt::format("kernel has {} spatial dims, the input {}", kernel.size(), rank));
  }
  for (auto k : kernel) {
    if (k <= 0 || k > (1 << 20)) throw_error(ErrorKind::BadInput, fmt::format("kernel size {} must be positive", k));
  }
  g.strides = positive_list(attrs, "strides", rank);
  g.dilations = allow_dilations ? positive_list(attrs, "dilations", rank) : std::vector<std::int64_t>(rank, 1);
  const auto auto_pad = attrs.get_string("auto_pad", "NOTSET");
  const bool ceil_mode = allow_ceil_mode && attrs.get_int("ceil_mode", 0) != 0;
  g.pad_begin.assign(rank, 0);
  g.pad_end.assign(rank, 0);
  g.output.assign(rank, 0);
  g.ceil_extra.assign(rank, 0);

  if (auto_pad == "NOTSET") {
    auto pads = attrs.get_ints("pads", std::vector<std::int64_t>(2 * rank, 0));
    if (pads.size() != 2 * rank) {
      throw_error(ErrorKind::BadInput, fmt::format("pads has {} values, expected {}", pads.size(), 2 * rank));
    }
    for (std::size_t i = 0; i < rank; ++i) {
      g.pad_begin[i] = pads[i];
      g.pad_end[i] = pads[i + rank];
      if (g.pad_begin[i] < 0 || g.pad_end[i] < 0 || g.pad_begin[i] > (1 << 20) || g.pad_end[i] > (1 << 20)) {
        throw_error(ErrorKind::BadInput, fmt::format("pads [{}] must be non-negative", fmt::join(pads, ", ")));
      }
    }
  } else if (auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    throw_error(ErrorKind::BadInput,
                fmt::format("auto_pad '{}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", auto_pad));
  }

  for (std::size_t i = 0; i < rank; ++i) {
    const auto span = (g.kernel[i] - 1) * g.dilations[i] + 1;  // extent of one dilated window
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // Output covers ceil(input / stride); the padding makes it fit, the odd
      // pixel going to the end (UPPER) or the beginning (LOWER).
      g.output[i] = (input[i] + g.strides[i] - 1) / g.strides[i];
      const auto total = std::max<std::int64_t>(0, (g.output[i] - 1) * g.strides[i] + span - input[i]);
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pad_end[i] = total - g.pad_begin[i];
      continue;
    }
    const auto padded = input[i] + g.pad_begin[i] + g.pad_end[i];
    if (padded < span) {
      throw_error(
          ErrorKind::BadInput,
          fmt::format("the window ({} with dilation {}) is larger than the padded input ({}) on spatial axis {}",
                      g.kernel[i], g.dilations[i], padded, i));
    }
    g.output[i] = (padded - span) / g.strides[i] + 1;
    if (ceil_mode) {
      auto out = (padded - span + g.strides[i] - 1) / g.strides[i] + 1;
      // As PyTorch: a last window that would start inside the end padding is dropped.
      if ((out - 1) * g.strides[i] >= input[i] + g.pad_begin[i]) --out;
      if (out > g.output[i]) {
        g.ceil_extra[i] = (out - 1) * g.strides[i] + span - padded;
        g.output[i] = out;
      }
    }
  }
  for (auto o : g.output) {
    if (o <= 0) throw_error(ErrorKind::BadInput, "the output would be empty");
  }
  return g;
}

}  // namespace pt2onnx::runtime
