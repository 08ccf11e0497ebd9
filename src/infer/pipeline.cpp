#include "infer/pipeline.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "infer/reorder_buffer.h"
#include "pt2onnx/error.h"
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

// Decode and preprocess one image into `out` (3 x H x W); returns the error,
// empty on success. Every failure becomes the row's error; the message leaves
// out the path: the row already names it.
std::string prepare_into(const InputItem& item, const PipelineOptions& options, std::span<float> out) {
  if (!item.error.empty()) return item.error;
  try {
    const std::vector<std::uint8_t> bytes = vision::read_file_bytes(item.path, options.limits);
    const vision::Image image = vision::decode_image(bytes, options.limits);
    vision::preprocess_into(image, options.preprocess, options.input_size, out);
    return {};
  } catch (const Error& e) {
    return e.what();
  } catch (const std::bad_alloc&) {
    return "out of memory";
  } catch (const std::exception& e) {
    return fmt::format("internal error: {}", e.what());
  }
}

std::size_t image_floats(const PipelineOptions& options) {
  return 3 * static_cast<std::size_t>(options.input_size.height) * static_cast<std::size_t>(options.input_size.width);
}

Prepared prepare(std::int64_t position, InputItem item, const PipelineOptions& options) {
  Prepared p;
  p.position = position;
  try {
    p.tensor.resize(image_floats(options));
    p.error = prepare_into(item, options, p.tensor);
  } catch (const std::bad_alloc&) {
    p.error = "out of memory";
  }
  p.path = std::move(item.path);
  if (!p.error.empty()) p.tensor = {};
  return p;
}

// Worker threads over one JobSource and one ReorderBuffer: on any way out,
// the source and the buffer are stopped first, so that no worker waits
// forever, then every worker is joined.
template <typename Item>
class Workers {
 public:
  Workers(JobSource& source, ReorderBuffer<Item>& buffer) : source_(source), buffer_(buffer) {}
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() { stop(); }

  // body(job) makes the item for one job. An exception from it fails the
  // source and aborts the buffer.
  template <typename Body>
  void start(int count, Body body) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, body]() mutable {
        try {
          while (auto job = source_.take()) {
            const std::int64_t position = job->first;
            if (!buffer_.put(position, body(position, std::move(job->second)))) return;
          }
        } catch (...) {
          source_.fail(std::current_exception());
          buffer_.abort();
          return;
        }
        buffer_.finish(source_.count());
      });
    }
  }

  void stop() {
    source_.stop();
    buffer_.abort();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  JobSource& source_;
  ReorderBuffer<Item>& buffer_;
  std::vector<std::thread> threads_;
};

// What an image worker hands on: the image's row, or the engine's failure on
// it, which ends the run once the rows before it are written.
struct WorkerResult {
  ImageResult row;
  std::exception_ptr engine_error;
};

// Each worker decodes an image into its own [1, 3, H, W] tensor and runs the
// model on it; the calling thread only hands the results on in order.
PipelineStats run_image_workers(const std::function<std::optional<InputItem>()>& next_input, BatchEngine& engine,
                                const PipelineOptions& options,
                                const std::function<void(const ImageResult&)>& on_result) {
  const int count = options.image_workers;
  JobSource source(next_input);
  // A result is a few numbers; the slack lets the other workers go on past
  // one slow image.
  ReorderBuffer<WorkerResult> buffer(8 * std::int64_t{count});
  Workers<WorkerResult> workers(source, buffer);
  // The workers are joined when `workers` goes, before `source` and `buffer`
  // and after any later local: so they use only those two, the parameters,
  // and what the lambda owns.
  workers.start(count, [&source, &engine, &options, image = std::optional<Tensor>()](std::int64_t position,
                                                                                     InputItem item) mutable {
    WorkerResult r;
    r.row.position = position;
    try {
      if (!image) image.emplace(DType::Float32, Shape{1, 3, options.input_size.height, options.input_size.width});
      r.row.error = prepare_into(item, options, image->f32());
    } catch (const std::bad_alloc&) {
      r.row.error = "out of memory";
    }
    r.row.path = std::move(item.path);
    if (r.row.error.empty()) {
      try {
        r.row.outputs = engine.run_image(*image);
      } catch (...) {
        // No new images; the ones before this one still get their rows.
        r.engine_error = std::current_exception();
        source.stop();
      }
    }
    return r;
  });
  PipelineStats stats;
  while (auto r = buffer.take()) {
    if (r->engine_error) {
      workers.stop();
      std::rethrow_exception(r->engine_error);
    }
    ++(r->row.error.empty() ? stats.ok : stats.failed);
    on_result(r->row);
  }
  workers.stop();
  if (auto error = source.error()) std::rethrow_exception(error);
  return stats;
}

// Decode threads prepare images; the calling thread gathers them into
// batches and runs the model on each.
PipelineStats run_batches(const std::function<std::optional<InputItem>()>& next_input, BatchEngine& engine,
                          const PipelineOptions& options, const std::function<void(const ImageResult&)>& on_result) {
  const int batch_size = std::max(1, options.batch_size);
  const int threads = std::max(1, options.decode_threads);
  // Room for the batch being run, the next one being decoded, and a little
  // slack so that one slow image does not idle the other workers.
  const std::int64_t window = 2 * std::int64_t{batch_size} + 2 * std::int64_t{threads};
  JobSource source(next_input);
  ReorderBuffer<Prepared> buffer(window);
  Workers<Prepared> workers(source, buffer);
  workers.start(threads,
                [&](std::int64_t position, InputItem item) { return prepare(position, std::move(item), options); });

  PipelineStats stats;
  std::vector<Prepared> pending;
  std::size_t good = 0;
  const std::size_t per_image = image_floats(options);
  const auto emit = [&](Prepared& p, std::vector<float> outputs) {
    ImageResult r;
    r.position = p.position;
    r.path = std::move(p.path);
    r.error = std::move(p.error);
    r.outputs = std::move(outputs);
    ++(r.error.empty() ? stats.ok : stats.failed);
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
  workers.stop();
  if (auto error = source.error()) std::rethrow_exception(error);
  return stats;
}

}  // namespace

PipelineStats run_pipeline(const std::function<std::optional<InputItem>()>& next_input, BatchEngine& engine,
                           const PipelineOptions& options, const std::function<void(const ImageResult&)>& on_result) {
  if (options.image_workers > 0 && engine.runs_images_alone()) {
    return run_image_workers(next_input, engine, options, on_result);
  }
  return run_batches(next_input, engine, options, on_result);
}

}  // namespace pt2onnx::infer
