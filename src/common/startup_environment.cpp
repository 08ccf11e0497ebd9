#include "common/startup_environment.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <sys/stat.h>
#include <unistd.h>

namespace pt2onnx {

namespace {

// The re-executed process carries these markers beside what was added, so
// that it knows which values are pt2onnx's and not the user's, and never
// re-executes a second time.
constexpr char kGompMarker[] = "PT2ONNX_ADDED_GOMP";
constexpr char kMallocMarker[] = "PT2ONNX_ADDED_MALLOC";
constexpr char kSpinEntry[] = "GOMP_SPINCOUNT=2000";
static_assert(kSpinCount == 2000, "kSpinEntry spells kSpinCount");
constexpr char kGompMarkerEntry[] = "PT2ONNX_ADDED_GOMP=1";
constexpr char kMallocMarkerEntry[] = "PT2ONNX_ADDED_MALLOC=1";
constexpr char kMallocMarkerLargeEntry[] = "PT2ONNX_ADDED_MALLOC=large";
static_assert(sizeof kMallocTunablesLarge <= sizeof kMallocTunables);
constexpr std::size_t kTunablesLength = sizeof "GLIBC_TUNABLES=" + sizeof kMallocTunables;
char g_tunables_entry[kTunablesLength] = {};

bool starts_with(const char* text, const char* prefix) {
  while (*prefix != '\0') {
    if (*text++ != *prefix++) return false;
  }
  return true;
}

// Whether an argument (or the value of an "--option=value" one) names a
// regular file larger than kLargeFileBytes. stat is a plain system call.
bool names_large_file(char** argv) {
  for (char** a = argv + (argv[0] != nullptr ? 1 : 0); *a != nullptr; ++a) {
    const char* path = *a;
    if (starts_with(path, "--")) {
      const char* eq = std::strchr(path, '=');
      if (eq == nullptr) continue;
      path = eq + 1;
    }
    struct stat st {};
    if (::stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > kLargeFileBytes) return true;
  }
  return false;
}

// Runs from the executable's .preinit_array: after the dynamic loader has
// mapped and relocated the libraries, before any of them has run its
// initialiser, libgomp's and glibc malloc's included. The C library is not
// initialised yet (no environ, no malloc), so this uses its arguments and
// static memory only.
void complete_environment(int /*argc*/, char** argv, char** envp) {
  constexpr std::size_t kMaxEntries = 4096;
  static char* entries[kMaxEntries + 5];
  bool add_gomp = true, add_malloc = true;
  std::size_t n = 0;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e, ++n) {
    if (starts_with(*e, "PT2ONNX_ADDED_")) return;  // this is the re-executed process
    if (starts_with(*e, "OMP_WAIT_POLICY=") || starts_with(*e, "GOMP_SPINCOUNT=")) add_gomp = false;
    if (starts_with(*e, "GLIBC_TUNABLES=")) add_malloc = false;
    if (n == kMaxEntries) return;
    entries[n] = *e;
  }
  if (!add_gomp && !add_malloc) return;
  if (add_gomp) {
    entries[n++] = const_cast<char*>(kSpinEntry);
    entries[n++] = const_cast<char*>(kGompMarkerEntry);
  }
  if (add_malloc) {
    const bool large = names_large_file(argv);
    const std::string_view tunables = large ? kMallocTunablesLarge : kMallocTunables;
    std::memcpy(g_tunables_entry, "GLIBC_TUNABLES=", sizeof "GLIBC_TUNABLES=" - 1);
    std::memcpy(g_tunables_entry + sizeof "GLIBC_TUNABLES=" - 1, tunables.data(), tunables.size() + 1);
    entries[n++] = g_tunables_entry;
    entries[n++] = const_cast<char*>(large ? kMallocMarkerLargeEntry : kMallocMarkerEntry);
  }
  entries[n] = nullptr;
  execve("/proc/self/exe", argv, entries);
}

// Plain static storage: a constructor attribute runs in no set order with
// this file's C++ initialisers.
struct RawSetting {
  SettingSource source = SettingSource::NotSet;
  char user_text[256] = {};
};
RawSetting g_gomp;
RawSetting g_malloc;
bool g_malloc_large = false;  // ours, without huge pages: the command line names a large file

void note_user_values(RawSetting& setting, std::initializer_list<const char*> names) {
  std::size_t used = 0;
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value == nullptr || used >= sizeof setting.user_text) continue;
    setting.source = SettingSource::User;
    const int n = std::snprintf(setting.user_text + used, sizeof setting.user_text - used, "%s%s=%s",
                                used == 0 ? "" : ", ", name, value);
    if (n > 0) used += static_cast<std::size_t>(n);
  }
}

// Executable constructors run after every shared library's, so libgomp and
// the loader have read the variables by now. pt2onnx's own are removed again:
// child processes get the environment the user gave.
__attribute__((constructor)) void note_startup_settings() {
  if (std::getenv(kGompMarker) != nullptr) {
    g_gomp.source = SettingSource::Ours;
    unsetenv(kGompMarker);
    unsetenv("GOMP_SPINCOUNT");
  } else {
    note_user_values(g_gomp, {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"});
  }
  if (const char* marker = std::getenv(kMallocMarker); marker != nullptr) {
    g_malloc.source = SettingSource::Ours;
    g_malloc_large = std::strcmp(marker, "large") == 0;
    unsetenv(kMallocMarker);
    unsetenv("GLIBC_TUNABLES");
  } else {
    note_user_values(g_malloc, {"GLIBC_TUNABLES"});
  }
}

}  // namespace

// In the executable only (a shared library may not have one). This object is
// linked whenever the engine is: runtime/threads.cpp reports its settings.
__attribute__((used, section(".preinit_array"))) void (*const kCompleteEnvironment)(int, char**,
                                                                                    char**) = &complete_environment;

const StartupSetting& gomp_wait_setting() {
  static const StartupSetting kSetting{g_gomp.source, g_gomp.user_text};
  return kSetting;
}

const StartupSetting& malloc_setting() {
  static const StartupSetting kSetting{g_malloc.source, g_malloc.user_text};
  return kSetting;
}

std::string malloc_policy() {
  const auto& s = malloc_setting();
  switch (s.source) {
    case SettingSource::Ours:
      return g_malloc_large ? fmt::format(
                                  "freed memory kept for reuse, no huge pages for a file over {} MiB (pt2onnx's "
                                  "default)",
                                  kLargeFileBytes >> 20)
                            : "transparent huge pages, freed memory kept for reuse (pt2onnx's default)";
    case SettingSource::User:
      return fmt::format("{} (from the environment)", s.user_text);
    case SettingSource::NotSet:
      break;
  }
  return "glibc's default (pt2onnx could not set its own)";
}

}  // namespace pt2onnx
