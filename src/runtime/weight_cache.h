// Constants (weights, biases) in the layouts kernels asked for, reordered
// once and shared by every plan of a model: plans for batch 1 and batch 7
// use the same reordered convolution weights when their layouts agree.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "pt2onnx/tensor.h"
#include "runtime/large_buffers.h"

namespace pt2onnx::runtime {

class WeightCache {
 public:
  explicit WeightCache(dnnl::engine engine) : engine_(std::move(engine)) {}

  // `tensor` seen through src_md (its dims and strides over the tensor's
  // bytes), delivered in layout md. The memory stays valid while the cache lives.
  dnnl::memory get(const std::shared_ptr<const Tensor>& tensor, const dnnl::memory::desc& src_md,
                   const dnnl::memory::desc& md);
  [[nodiscard]] std::size_t bytes() const;
  // Whether the reordered weights go on transparent huge pages (large_buffers.h).
  void set_huge_pages(bool on) { buffers_.set_huge_pages(on); }

 private:
  struct Entry {
    std::shared_ptr<const Tensor> tensor;
    dnnl::memory::desc src_md;
    dnnl::memory::desc md;
    dnnl::memory memory;
  };
  dnnl::engine engine_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
  BufferSlabs buffers_;  // the reordered weights' bytes
};

}  // namespace pt2onnx::runtime
