// Writing outputs so that a reader never sees half a file: write a temporary
// file beside the target, flush it to disk, then rename it over the target.
// On any failure the temporary is removed and an existing target is untouched.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace pt2onnx {

// `write` streams the content; an exception from it aborts the write cleanly.
void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ostream&)>& write);
void write_file_atomically(const std::filesystem::path& target, std::string_view content);

}  // namespace pt2onnx
