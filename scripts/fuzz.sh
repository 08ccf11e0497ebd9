#!/usr/bin/env bash
# Fuzzing pt2onnx's parsers with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (Debian's clang-14 and libclang-rt-14-dev), in
# build-fuzz/. Targets: fuzz/targets.txt (unpickler torch_zip torch_legacy
# safetensors onnx npy png jpeg dicom serve_request), bodies in fuzz/targets.cpp.
#
#   scripts/fuzz.sh TARGET [SECONDS]   one campaign (default 600 s); new inputs
#                                      collect in build-fuzz/corpus/TARGET
#   scripts/fuzz.sh --all SECONDS      every target in turn
#   scripts/fuzz.sh --unit-tests       the unit tests (tests/**/*_test.cpp) built
#                                      in the same instrumented build, and run
#   scripts/fuzz.sh --ci SECONDS       both: the unit tests, then every target
#                                      (CI runs --ci 30)
#   scripts/fuzz.sh --build            build the fuzzers and the unit tests only
#
# Each run starts from the seeds (fuzz/corpus/TARGET) and the regressions
# (fuzz/regressions/TARGET). A finding (crash, sanitizer report, internal
# error, timeout, memory blow-up) is copied into fuzz/regressions/TARGET/,
# which the unit tests replay, and the script exits 1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build-fuzz"
mapfile -t all_targets <"$here/fuzz/targets.txt"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
unit_tests=0
case "${1:-}" in
  "" | -h | --help) usage; exit 0 ;;
  --all) targets=("${all_targets[@]}"); seconds="${2:?--all needs SECONDS}" ;;
  --ci) targets=("${all_targets[@]}"); seconds="${2:?--ci needs SECONDS}"; unit_tests=1 ;;
  --unit-tests) targets=(); seconds=0; unit_tests=1 ;;
  --build) targets=("${all_targets[@]}"); seconds=0; unit_tests=1 ;;
  *)
    targets=("$1"); seconds="${2:-600}"
    [[ " ${all_targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: no target '$1' (${all_targets[*]})" >&2; exit 2; }
    ;;
esac
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }
command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 is missing (scripts/setup.sh installs it)" >&2; exit 2; }

mkdir -p "$build"
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
# oneDNN runs on GCC's OpenMP runtime, libgomp, and clang links the same one;
# omp.h comes from libomp-14-dev (GCC's does not parse with clang 14). The
# engine uses only the standard omp_* functions, which both declare alike.
CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=None -DPT2ONNX_FUZZ=ON \
  -DPT2ONNX_BUILD_TESTS=ON -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DOpenMP_CXX_FLAGS=-fopenmp=libgomp -DOpenMP_CXX_LIB_NAMES=gomp \
  -DOpenMP_gomp_LIBRARY="$(g++ -print-file-name=libgomp.so)" >"$build/configure.log" 2>&1 ||
  { tail -20 "$build/configure.log" >&2; echo "fuzz.sh: configuring the fuzz build failed" >&2; exit 2; }
build_targets=("${targets[@]/#/pt2onnx_fuzz_}")
((unit_tests)) && build_targets+=(pt2onnx_tests)
if ! cmake --build "$build" --parallel "$(nproc)" --target "${build_targets[@]}" >"$build/build.log" 2>&1; then
  grep -E "error" "$build/build.log" | head -20 >&2
  echo "fuzz.sh: building ${build_targets[*]} failed (build-fuzz/build.log)" >&2
  exit 2
fi

export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
# The unit tests under the same sanitizers: a sanitizer report aborts the
# binary, so it fails like a failed test. Not with --build.
if ((unit_tests)) && [ "$1" != --build ]; then
  log="$build/unit_tests.log"
  echo "fuzz.sh: the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
  start=$SECONDS
  if (cd "$build/tests" && timeout 1800 ./pt2onnx_tests --gtest_brief=1) >"$log" 2>&1; then
    echo "fuzz.sh: $(grep -oE '[0-9]+ tests?' <(grep -E '^\[  PASSED  \]' "$log")) passed in $((SECONDS - start)) s"
  else
    status=1
    tail -40 "$log" >&2
    echo "fuzz.sh: the unit tests FAILED under the sanitizers (build-fuzz/unit_tests.log)" >&2
  fi
fi
((seconds > 0)) || exit "$status"

for t in "${targets[@]}"; do
  work="$build/corpus/$t" artifacts="$build/artifacts/$t/"
  mkdir -p "$work" "$artifacts" "$here/fuzz/regressions/$t"
  log="$build/$t.log"
  echo "fuzz.sh: $t for ${seconds} s"
  # PT2ONNX_FUZZ_SEED: a fixed random seed (CI); 0, the default, a new one each run.
  if "$build/pt2onnx_fuzz_$t" -max_total_time="$seconds" -seed="${PT2ONNX_FUZZ_SEED:-0}" -timeout=25 \
    -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$work" "$here/fuzz/corpus/$t" "$here/fuzz/regressions/$t" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$log" | tr '\n' ' '
    grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+" "$log" | tail -1
  else
    status=1
    echo "fuzz.sh: $t FOUND A PROBLEM; the input is kept in fuzz/regressions/$t/:" >&2
    grep -E "ERROR|SUMMARY|internal error|runtime error|deadly signal|timeout|out-of-memory" "$log" | head -5 >&2
    for f in "$artifacts"*; do
      [ -f "$f" ] && cp "$f" "$here/fuzz/regressions/$t/$(basename "$f")"
    done
  fi
done
exit "$status"
