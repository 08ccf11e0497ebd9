#!/usr/bin/env bash
# Formatting and lint, run by scripts/test.sh (so by CI) before the tests:
#   - clang-format (.clang-format) on every tracked C++ file: the whole tree stays formatted;
#   - clang-tidy (.clang-tidy: naming, bug-prone checks) on the C++ files that the
#     last commit changed (or those given), with compile commands from build/lint.
# Fails, listing each violation, on either. Debian's clang-format and clang-tidy.
#
#   scripts/check_style.sh [FILE.cpp ...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

mapfile -t all < <(git ls-files '*.cpp' '*.h')
unformatted=()
for f in "${all[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]})); then
  echo "check_style: not formatted as .clang-format says (run clang-format -i on them):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
echo "check_style: clang-format: ${#all[@]} files formatted"

if (($#)); then
  changed=("$@")
else
  # The files the last commit touched (on a fresh clone: the commit being tested).
  mapfile -t changed < <(git diff --name-only --diff-filter=AM HEAD~1 HEAD -- '*.cpp' 2>/dev/null || true)
fi
# The build compiles the library in unity batches, so its compile_commands.json
# names the batches; a configuration of its own (no build needed) names each file.
cmake -S . -B build/lint -DCMAKE_BUILD_TYPE=Release -DPT2ONNX_UNITY_BUILD=OFF -DPT2ONNX_BUILD_TESTS=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# The gRPC service's generated headers, which serve's gRPC side includes (protoc only, no compile).
cmake --build build/lint --target pt2onnx_grpc_generated >/dev/null
# Only translation units the build knows (test tools, sources; not deleted files).
units=()
for f in "${changed[@]}"; do
  [ -f "$f" ] && grep -q "\"file\": \"$here/$f\"" build/lint/compile_commands.json && units+=("$f")
done
if ((${#units[@]} == 0)); then
  echo "check_style: clang-tidy: no changed translation units"
  exit 0
fi
echo "check_style: clang-tidy on ${#units[@]} changed file(s): ${units[*]}"
clang-tidy -p build/lint --quiet "${units[@]}" 2>/dev/null
echo "check_style: clang-tidy: clean"
