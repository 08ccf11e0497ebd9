// A fresh directory under the system temp dir for one test, removed with its
// contents. Unique per process, per test and per instance, so ctest may run
// tests in parallel (and several builds may test at once) without collisions.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include <gtest/gtest.h>

namespace pt2onnx::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& name = "") {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("pt2onnx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
             (info != nullptr ? std::string(info->name()) : std::string("global")) + (name.empty() ? "" : "_" + name));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  std::filesystem::path write(const std::string& name, std::span<const std::byte> bytes) const {
    auto p = path_ / name;
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    return write(name, std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  }

 private:
  std::filesystem::path path_;
};

}  // namespace pt2onnx::testing
