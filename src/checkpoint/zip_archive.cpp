#include "checkpoint/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "common/checked_math.h"
#include "pt2onnx/error.h"

namespace pt2onnx::checkpoint {
namespace {

// Deflated entries smaller than this are not held to the ratio cap: small
// records of repeated bytes compress very well and are harmless.
constexpr std::uint64_t kRatioFreeBytes = std::uint64_t{1} << 20;

struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

// libzip's own texts name its internals ("No such file" for a local header
// that does not match, "File already exists" for a clash of names): ours say
// what is wrong with the archive.
std::string error_text(const zip_error_t* error) {
  return describe_zip_error(zip_error_code_zip(error), zip_error_code_system(error));
}

[[noreturn]] void entry_error(ErrorKind kind, const std::string& entry, const std::string& what) {
  throw Error(kind, what).with_context(fmt::format("entry {}", entry));
}

}  // namespace

std::string describe_zip_error(int code, int system_error) {
  const auto with_system = [&](const char* what) {
    return system_error != 0 ? fmt::format("{}: {}", what, std::strerror(system_error)) : std::string(what);
  };
  switch (code) {
    case ZIP_ER_NOZIP:
      return "no valid end of central directory: truncated, or not a zip archive";
    case ZIP_ER_INCONS:
      return "the central directory and the entries' local headers disagree (corrupt)";
    case ZIP_ER_NOENT:
      return "an entry the central directory lists is not where it says (corrupt local header)";
    case ZIP_ER_EXISTS:
      return "two entries have the same name (a duplicate, or a name cut short by a NUL byte)";
    case ZIP_ER_EOF:
      return "the file ends inside an entry or the central directory (truncated)";
    case ZIP_ER_CRC:
      return "an entry's data does not match its CRC-32 (corrupt)";
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA:
      return "an entry's compressed data is corrupt";
    case ZIP_ER_COMPNOTSUPP:
      return "an entry uses a compression method other than stored or deflate";
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_WRONGPASSWD:
      return "encrypted entries are not supported";
    case ZIP_ER_MULTIDISK:
      return "the archive is split across several files, which is not supported";
    case ZIP_ER_MEMORY:
      return "out of memory";
    case ZIP_ER_OPEN:
      return with_system("cannot open the file");
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
    case ZIP_ER_TELL:
      return with_system("cannot read the file");
    default:
      return fmt::format("corrupt (libzip error {})", code);
  }
}

ZipArchive::ZipArchive(const std::filesystem::path& path, std::uint64_t file_size, const ZipLimits& limits)
    : limits_(limits) {
  int code = 0;
  zip_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (zip_ == nullptr) {
    const int system_error = errno;
    std::error_code ec;
    if (code == ZIP_ER_NOENT && !std::filesystem::exists(path, ec)) throw_error(ErrorKind::Io, "no such file");
    // Otherwise a missing entry (NOENT) is corruption, not a missing file.
    const auto kind = code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_SEEK || code == ZIP_ER_MEMORY
                          ? ErrorKind::Io
                          : ErrorKind::BadInput;
    throw_error(kind, fmt::format("not a readable zip archive: {}", describe_zip_error(code, system_error)));
  }
  const zip_int64_t count = zip_get_num_entries(zip_.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) {
      throw_error(ErrorKind::BadInput,
                  fmt::format("zip entry {} is unreadable: {}", i, error_text(zip_get_error(zip_.get()))));
    }
    constexpr auto kNeeded = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & kNeeded) != kNeeded) {
      throw_error(ErrorKind::BadInput, fmt::format("zip entry {} lacks its name or sizes", i));
    }
    ZipEntry e;
    e.name = st.name;
    e.size = st.size;
    e.compressed_size = st.comp_size;
    e.index = static_cast<std::uint64_t>(i);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE) {
      entry_error(ErrorKind::Unsupported, e.name, "the entry is encrypted");
    }
    if (st.comp_method == ZIP_CM_STORE) {
      e.method = ZipMethod::Stored;
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      e.method = ZipMethod::Deflated;
    } else {
      entry_error(ErrorKind::Unsupported, e.name,
                  fmt::format("compression method {} is not supported (only stored and deflated)", st.comp_method));
    }
    if (e.compressed_size > file_size) {
      entry_error(ErrorKind::BadInput, e.name,
                  fmt::format("declares {} compressed bytes but the file has only {}", e.compressed_size, file_size));
    }
    if (e.method == ZipMethod::Stored && e.size != e.compressed_size) {
      entry_error(ErrorKind::BadInput, e.name,
                  fmt::format("a stored entry declares {} bytes but holds {}", e.size, e.compressed_size));
    }
    if (e.method == ZipMethod::Deflated) {
      const auto ratio_cap = checked_mul(e.compressed_size, limits_.max_compression_ratio);
      if (e.size > kRatioFreeBytes && (!ratio_cap || e.size > *ratio_cap)) {
        entry_error(ErrorKind::BadInput, e.name,
                    fmt::format("would inflate {} bytes from {}, more than {} times (zip bomb guard)", e.size,
                                e.compressed_size, limits_.max_compression_ratio));
      }
    }
    if (e.size > limits_.max_entry_bytes) {
      entry_error(
          ErrorKind::BadInput, e.name,
          fmt::format("declares {} bytes, more than the {} allowed for one entry", e.size, limits_.max_entry_bytes));
    }
    entries_.push_back(std::move(e));
  }
}

void ZipArchive::Discard::operator()(zip* z) const { zip_discard(z); }

const ZipEntry* ZipArchive::find(std::string_view name) const {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const ZipEntry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

void ZipArchive::check_inflation_budget(const ZipEntry& entry) const {
  if (entry.method != ZipMethod::Deflated) return;
  const auto left = limits_.max_inflated_bytes - std::min(inflated_, limits_.max_inflated_bytes);
  if (entry.size > left) {
    entry_error(ErrorKind::BadInput, entry.name,
                fmt::format("inflating {} more bytes would pass the {} allowed from compressed entries "
                            "(zip bomb guard)",
                            entry.size, limits_.max_inflated_bytes));
  }
}

std::vector<std::byte> ZipArchive::read(const ZipEntry& entry) {
  // Sizes were checked against the per-entry limits when the archive was
  // opened; the running total of inflated bytes is checked before allocating.
  check_inflation_budget(entry);
  std::vector<std::byte> out(static_cast<std::size_t>(entry.size));
  read_into(entry, out);
  return out;
}

void ZipArchive::read_into(const ZipEntry& entry, std::span<std::byte> out) {
  if (out.size() != entry.size) {
    entry_error(ErrorKind::Internal, entry.name, "read buffer does not match the entry size");
  }
  check_inflation_budget(entry);
  if (entry.method == ZipMethod::Deflated) inflated_ += entry.size;
  ZipFilePtr file(zip_fopen_index(zip_.get(), entry.index, 0));
  if (!file) {
    entry_error(ErrorKind::BadInput, entry.name, fmt::format("cannot open: {}", error_text(zip_get_error(zip_.get()))));
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const zip_int64_t n = zip_fread(file.get(), out.data() + done, out.size() - done);
    if (n < 0) {
      entry_error(ErrorKind::BadInput, entry.name,
                  fmt::format("read failed after {} bytes: {}", done, error_text(zip_file_get_error(file.get()))));
    }
    if (n == 0) {
      entry_error(ErrorKind::BadInput, entry.name, fmt::format("holds {} bytes but declares {}", done, entry.size));
    }
    done += static_cast<std::size_t>(n);
  }
  // One more read must find the end; it is also where libzip checks the CRC.
  std::byte extra{};
  const zip_int64_t n = zip_fread(file.get(), &extra, 1);
  if (n < 0) {
    entry_error(ErrorKind::BadInput, entry.name, error_text(zip_file_get_error(file.get())));
  }
  if (n > 0) {
    entry_error(ErrorKind::BadInput, entry.name, fmt::format("holds more than the {} bytes it declares", entry.size));
  }
}

}  // namespace pt2onnx::checkpoint
