// Conv and the pools: their shape rules, batch rows and limits. The kernels
// are kernels/conv.cpp and kernels/pooling.cpp.
#include "runtime/ops/conv_pool.h"

#include <fmt/format.h>

#include "runtime/geometry.h"
#include "runtime/op_util.h"
#include "runtime/shape_inference.h"
#include "runtime/support.h"

namespace pt2onnx::runtime {
namespace {

// Input 0 of a conv or pool: [N, C, spatial...] with 1 to 3 spatial dims.
const Dims* image_dims(const Graph& g, const Node& n) {
  const auto& dims = input_dims(g, n, 0);
  if (!dims) return nullptr;
  if (dims->size() < 3 || dims->size() > 5) {
    throw_error(ErrorKind::Unsupported,
                fmt::format("input {} must be [N, C, spatial...] with 1 to 3 spatial dims", dims_to_string(*dims)));
  }
  return &*dims;
}

// Output spatial dims when the input's are known, unknown otherwise.
Dims spatial_output(const AttributeMap& attrs, const Dims& in, const std::vector<std::int64_t>& kernel, bool pool,
                    bool dilations) {
  const Dims spatial(in.begin() + 2, in.end());
  if (!all_known(spatial)) {
    window_geometry(attrs, std::vector<std::int64_t>(spatial.size(), 1 << 20), kernel, pool,
                    dilations);  // attribute checks
    return Dims(spatial.size());
  }
  return dims_from_values(window_geometry(attrs, known_values(spatial), kernel, pool, dilations).output);
}

}  // namespace

std::vector<OutputInfo> infer_conv(const Graph& g, const Node& n) {
  expect_arity(n, 2, 3);
  const auto& w = input_dims(g, n, 1);
  const auto* x = image_dims(g, n);
  if (!w || !all_known(*w)) throw_error(ErrorKind::Unsupported, "the weight shape must be known");
  const auto wv = known_values(*w);
  if (x && x->size() != wv.size()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("weight {} does not match input {}", dims_to_string(*w), dims_to_string(*x)));
  }
  if (wv.size() < 3 || wv.size() > 5)
    throw_error(ErrorKind::Unsupported, fmt::format("weight {} must have 1 to 3 spatial dims", dims_to_string(*w)));
  const auto group = n.attrs.get_int("group", 1);
  if (group <= 0 || wv[0] % group != 0) {
    throw_error(ErrorKind::BadInput, fmt::format("group {} does not divide the {} output channels", group, wv[0]));
  }
  if (x && (*x)[1].is_known() && (*x)[1].value() != wv[1] * group) {
    throw_error(ErrorKind::BadInput, fmt::format("input has {} channels, weight {} with group {} expects {}",
                                                 (*x)[1].value(), dims_to_string(*w), group, wv[1] * group));
  }
  const std::vector<std::int64_t> kernel(wv.begin() + 2, wv.end());
  if (auto ks = n.attrs.find_ints("kernel_shape"); ks && *ks != kernel) {
    throw_error(ErrorKind::BadInput, "kernel_shape does not match the weight");
  }
  const auto b = optional_input(n, 2);
  if (b != kNoValue && g.value(b).dims) {
    const auto& bd = *g.value(b).dims;
    if (bd.size() != 1 || !bd[0].is(wv[0])) {
      throw_error(ErrorKind::BadInput, fmt::format("bias {} must be [{}]", dims_to_string(bd), wv[0]));
    }
  }
  if (!x) return {{DType::Float32, std::nullopt}};
  Dims out{(*x)[0], Dim::known(wv[0])};
  for (auto d : spatial_output(n.attrs, *x, kernel, false, true)) out.push_back(d);
  return {{DType::Float32, out}};
}

std::vector<OutputInfo> infer_pool(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto kernel = n.attrs.find_ints("kernel_shape");
  if (!kernel) throw_error(ErrorKind::BadInput, "kernel_shape is required");
  const auto* x = image_dims(g, n);
  if (n.op == OpType::MaxPool && n.attrs.get_int("storage_order", 0) != 0 && n.outputs.size() > 1) {
    throw_error(ErrorKind::Unsupported, "storage_order 1 is not supported");
  }
  if (!x) return {{DType::Float32, std::nullopt}, {DType::Int64, std::nullopt}};
  if (kernel->size() + 2 != x->size()) {
    throw_error(ErrorKind::BadInput,
                fmt::format("kernel_shape has {} dims, input {}", kernel->size(), dims_to_string(*x)));
  }
  Dims out{(*x)[0], (*x)[1]};
  const bool dilations = n.op == OpType::MaxPool;
  for (auto d : spatial_output(n.attrs, *x, *kernel, true, dilations)) out.push_back(d);
  return {{DType::Float32, out}, {DType::Int64, out}};
}

std::vector<OutputInfo> infer_global_pool(const Graph& g, const Node& n) {
  expect_arity(n, 1, 1);
  const auto* x = image_dims(g, n);
  if (!x) return {{DType::Float32, std::nullopt}};
  Dims out{(*x)[0], (*x)[1]};
  out.resize(x->size(), Dim::known(1));
  return {{DType::Float32, out}};
}

void check_conv_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  // Constants, possibly behind an Identity that is folded at plan time.
  if (!known[static_cast<std::size_t>(n.inputs[1])]) {
    throw_error(ErrorKind::Unsupported, "the weight must be a constant");
  }
}

void check_max_pool_support(const Graph& g, const Node& n, const std::vector<bool>& known) {
  check_kernel_inputs(g, n, known);
  if (output_in_use(g, n, 1)) throw_error(ErrorKind::Unsupported, "the Indices output of MaxPool is not supported");
}

}  // namespace pt2onnx::runtime
