// Content hashes of input files, recorded as provenance in exported models.
#pragma once

#include <filesystem>
#include <string>

namespace pt2onnx::exporter {

// Lowercase hex SHA-256 of the whole file, read in chunks. Error(Io) if unreadable.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace pt2onnx::exporter
