#include "runtime/weight_cache.h"

#include <fmt/format.h>

#include "pt2onnx/error.h"
#include "runtime/threads.h"

namespace pt2onnx::runtime {

dnnl::memory WeightCache::get(const std::shared_ptr<const Tensor>& tensor, const dnnl::memory::desc& src_md,
                              const dnnl::memory::desc& md) {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e.tensor == tensor && e.src_md == src_md && e.md == md) return e.memory;
  }
  if (src_md.get_size() > tensor->nbytes()) {
    throw_error(ErrorKind::Internal,
                fmt::format("constant of {} bytes viewed as {} bytes", tensor->nbytes(), src_md.get_size()));
  }
  // oneDNN takes a non-const handle, but a source memory is only read.
  dnnl::memory src(src_md, engine_, const_cast<std::byte*>(tensor->bytes().data()));
  dnnl::memory out;
  if (src_md == md) {
    out = src;
  } else {
    out = dnnl::memory(md, engine_, buffers_.allocate(md.get_size()));
    // Dozens of small copies at plan time: one thread does them faster than
    // a team meeting at a barrier after each (far faster on a loaded machine).
    const ScopedThreadCount one(1);
    dnnl::stream stream(engine_);
    dnnl::reorder(src, out).execute(stream, src, out);
    stream.wait();
  }
  entries_.push_back({tensor, src_md, md, out});
  return out;
}

std::size_t WeightCache::bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& e : entries_) total += e.memory.get_desc().get_size();
  return total;
}

}  // namespace pt2onnx::runtime
