#include "exporter/atomic_write.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include "pt2onnx/error.h"

namespace pt2onnx::exporter {
namespace fs = std::filesystem;

void check_protobuf_size(std::uint64_t bytes, std::uint64_t limit) {
  if (bytes > limit) {
    throw_error(ErrorKind::ExportFailed,
                fmt::format("the model is {} bytes, over the {} byte limit of a single protobuf ONNX file; pt2onnx "
                            "does not write ONNX external data, so models this large cannot be exported",
                            bytes, limit));
  }
}

void write_model(const onnx::ModelProto& model, const fs::path& output,
                 const std::optional<fs::path>& source_checkpoint, const BeforeCommit& before_commit) {
  if (source_checkpoint) refuse_overwriting_input(output, *source_checkpoint, "input checkpoint");
  check_protobuf_size(model.ByteSizeLong());
  write_file_atomically(
      output,
      [&](int fd) {
        // Streams straight to the file: no second in-memory copy of the weights.
        google::protobuf::io::FileOutputStream stream(fd);
        if (!model.SerializeToZeroCopyStream(&stream) || !stream.Flush()) {
          throw_error(ErrorKind::Io,
                      fmt::format("cannot write {}: {}", output.string(),
                                  stream.GetErrno() != 0 ? std::strerror(stream.GetErrno()) : "serialization failed"));
        }
      },
      before_commit);
}

}  // namespace pt2onnx::exporter
