#include "infer/pipeline.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "infer/reorder_buffer.h"
#include "vision/image_decoder.h"

namespace pt2onnx::infer {
namespace {

struct Prepared {
  std::int64_t position = 0;
  std::string path;
  std::vector<float> tensor;  // 3 x H x W, empty on error
  std::string error;
};

// Numbers the inputs and hands them to the workers one at a time.
class JobSource {
 public:
  explicit JobSource(const std::function<std::optional<InputItem>()>& next) : next_(next) {}

  std::optional<std::pair<std::int64_t, InputItem>> take() {
    std::lock_guard lock(mutex_);
    if (stopped_) return std::nullopt;
    try {
      std::optional<InputItem> item = next_();
      if (!item) {
        stopped_ = true;
        return std::nullopt;
      }
      return std::make_pair(count_++, std::move(*item));
    } catch (...) {
      error_ = std::current_exception();
      stopped_ = true;
      return std::nullopt;
    }
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }

  // Final once take() has returned nullopt to someone.
  std::int64_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

  void fail(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    stopped_ = true;
  }

  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  const std::function<std::optional<InputItem>()>& next_;
  std::mutex mutex_;
  std::int64_t count_ = 0;
  bool stopped_ = false;
  std::exception_ptr error_;
};

// Decode and preprocess one image; every failure becomes the row's error. The
// message leaves out the path: the row already names it.
Prepared prepare(std::int64_t position, InputItem item, const PipelineOptions& options) {
  Prepared p;
  p.position = position;
  p.path = std::move(item.path);
  if (!item.error.empty()) {
    p.error = std::move(item.error);
    return p;
  }
  try {
    const std::vector<std::uint8_t> bytes = vision::read_file_bytes(p.path, options.limits);
    const vision::Image image = vision::decode_image(bytes, options.limits);
    const vision::Size2 size = options.input_size;
    p.tensor.resize(3 * static_cast<std::size_t>(size.height) * static_cast<std::size_t>(size.width));
    vision::preprocess_into(image, options.preprocess, size, p.tensor);
  } catch (const Error& e) {
    p.error = e.what();
  } catch (const std::bad_alloc&) {
    p.error = "out of memory";
  } catch (const std::exception& e) {
    p.error = fmt::format("internal error: {}", e.what());
  }
  if (!p.error.empty()) p.tensor = {};
  return p;
}

}  // namespace

PipelineStats run_pipeline(const std::function<std::optional<InputItem>()>& next_input, BatchEngine& engine,
                           const PipelineOptions& options, const std::function<void(const ImageResult&)>& on_result) {
  const int batch_size = std::max(1, options.batch_size);
  const int threads = std::max(1, options.decode_threads);
  // Room for the batch being run, the next one being decoded, and a little
  // slack so that one slow image does not idle the other workers.
  const std::int64_t window = 2 * std::int64_t{batch_size} + 2 * threads;
  JobSource source(next_input);
  ReorderBuffer<Prepared> buffer(window);

  std::vector<std::thread> workers;
  const auto stop_workers = [&] {
    source.stop();
    buffer.abort();
    for (auto& t : workers) {
      if (t.joinable()) t.join();
    }
  };

  PipelineStats stats;
  try {
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&] {
        try {
          while (auto job = source.take()) {
            if (!buffer.put(job->first, prepare(job->first, std::move(job->second), options))) return;
          }
        } catch (...) {
          source.fail(std::current_exception());
          buffer.abort();
          return;
        }
        buffer.finish(source.count());
      });
    }

    std::vector<Prepared> pending;
    std::size_t good = 0;
    const std::size_t per_image =
        3 * static_cast<std::size_t>(options.input_size.height) * static_cast<std::size_t>(options.input_size.width);
    const auto emit = [&](Prepared& p, std::vector<float> outputs) {
      ImageResult r;
      r.position = p.position;
      r.path = std::move(p.path);
      r.error = std::move(p.error);
      r.outputs = std::move(outputs);
      if (r.error.empty())
        ++stats.ok;
      else
        ++stats.failed;
      on_result(r);
    };
    // The batch tensor is kept from one batch to the next: a fresh one would
    // cost page faults and zeroing of tens of megabytes for every batch.
    Tensor batch;
    const auto flush = [&] {
      std::vector<std::vector<float>> outputs;
      if (good > 0) {
        const Shape shape{static_cast<std::int64_t>(good), 3, options.input_size.height, options.input_size.width};
        if (batch.shape() != shape) batch = Tensor(DType::Float32, shape);
        float* dst = batch.f32().data();
        for (const Prepared& p : pending) {
          if (!p.error.empty()) continue;
          std::memcpy(dst, p.tensor.data(), per_image * sizeof(float));
          dst += per_image;
        }
        outputs = engine.run(batch);
        if (outputs.size() != good) {
          throw_error(ErrorKind::Internal,
                      fmt::format("the engine returned {} rows for {} images", outputs.size(), good));
        }
      }
      std::size_t next_output = 0;
      for (Prepared& p : pending) {
        emit(p, p.error.empty() ? std::move(outputs[next_output++]) : std::vector<float>{});
      }
      pending.clear();
      good = 0;
    };

    while (auto item = buffer.take()) {
      const bool ok = item->error.empty();
      if (!ok && good == 0) {
        emit(*item, {});  // nothing before it waits for the model
        continue;
      }
      pending.push_back(std::move(*item));
      if (ok) ++good;
      // Errors between good images wait for their batch, but not without bound.
      if (good == static_cast<std::size_t>(batch_size) || pending.size() >= 4 * static_cast<std::size_t>(batch_size)) {
        flush();
      }
    }
    // Rows already decoded are written even when the input stream failed.
    flush();
    if (auto error = source.error()) std::rethrow_exception(error);
  } catch (...) {
    stop_workers();
    throw;
  }
  stop_workers();
  return stats;
}

}  // namespace pt2onnx::infer
