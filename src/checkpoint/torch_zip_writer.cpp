// write_torch_zip: the layout torch 1.13's torch.save produces for a dict of
// tensors, so that torch.load (and pt2onnx) read it back exactly.
#include <fmt/format.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/pickle_writer.h"
#include "checkpoint/torch_storage.h"
#include "checkpoint/zip_writer.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

constexpr std::string_view kArchive = "archive";
constexpr std::string_view kFormatVersion = "3\n";  // what torch 1.13 writes

// An empty OrderedDict: the backward_hooks argument of _rebuild_tensor_v2, and the state dict itself.
void ordered_dict(PickleWriter& p) {
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
}

// torch._utils._rebuild_tensor_v2(storage, 0, size, contiguous stride, False, OrderedDict())
void tensor(PickleWriter& p, const Tensor& t, std::size_t storage_key) {
  p.global("torch._utils", "_rebuild_tensor_v2");
  p.mark();
  p.mark();  // persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)
  p.unicode("storage");
  p.global("torch", storage_class_of_dtype(t.dtype()));
  p.unicode(fmt::format("{}", storage_key));
  p.unicode("cpu");
  p.integer(t.numel());
  p.tuple_from_mark();
  p.binpersid();
  p.integer(0);
  p.int_tuple(t.shape());
  Shape stride(t.rank(), 1);
  for (std::size_t i = t.rank(); i-- > 1;) stride[i - 1] = stride[i] * std::max<std::int64_t>(t.shape()[i], 1);
  p.int_tuple(stride);
  p.boolean(false);
  ordered_dict(p);
  p.tuple_from_mark();
  p.reduce();
}

}  // namespace

void write_torch_zip(const std::filesystem::path& out, const StateDict& state, const std::string& wrapper_key) {
  with_error_context(fmt::format("file {}", out.string()), [&] {
    PickleWriter p;
    if (!wrapper_key.empty()) {
      p.empty_dict();
      p.unicode(wrapper_key);
    }
    ordered_dict(p);
    if (!state.entries.empty()) {
      p.mark();
      for (std::size_t i = 0; i < state.entries.size(); ++i) {
        p.unicode(state.entries[i].first);
        tensor(p, state.entries[i].second, i);
      }
      p.setitems();
    }
    if (!wrapper_key.empty()) p.setitem();
    p.stop();

    AtomicFile file(out);
    ZipWriter zip(file);
    const auto& pickle = p.bytes();
    zip.add_stored(fmt::format("{}/data.pkl", kArchive),
                   std::as_bytes(std::span<const char>(pickle.data(), pickle.size())));
    for (std::size_t i = 0; i < state.entries.size(); ++i) {
      zip.add_stored(fmt::format("{}/data/{}", kArchive, i), state.entries[i].second.bytes());
    }
    zip.add_stored(fmt::format("{}/version", kArchive),
                   std::as_bytes(std::span<const char>(kFormatVersion.data(), kFormatVersion.size())));
    zip.finish();
    file.commit();
  });
}

}  // namespace pt2onnx::checkpoint
