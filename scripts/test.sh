#!/usr/bin/env bash
# The whole test suite: set-up, build, formatting and lint (scripts/check_style.sh), every
# unit and oracle test through ctest, then the unit tests and fuzzers under the sanitizers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh"
"$here/scripts/check_style.sh"
(cd "$here/build" && ctest --output-on-failure --parallel "$(nproc)" "$@")
# With clang's AddressSanitizer and UndefinedBehaviorSanitizer (docs/reliability.md):
# the unit tests, then each parser under libFuzzer for 30 s from a fixed seed. A
# sanitizer report, a failed test or a finding fails the run.
# PT2ONNX_FUZZ_SECONDS=0 skips both.
seconds="${PT2ONNX_FUZZ_SECONDS:-30}"
if [ "$seconds" != 0 ]; then
  PT2ONNX_FUZZ_SEED=1 "$here/scripts/fuzz.sh" --ci "$seconds"
fi
