#!/usr/bin/env bash
# The whole test suite: set-up, build, formatting and lint (scripts/check_style.sh), every
# unit and oracle test through ctest, then the fuzzers for a bounded time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh"
"$here/scripts/check_style.sh"
(cd "$here/build" && ctest --output-on-failure --parallel "$(nproc)" "$@")
# The parsers under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer,
# 30 s each from a fixed seed (docs/reliability.md); a finding fails the run.
# PT2ONNX_FUZZ_SECONDS=0 skips them.
seconds="${PT2ONNX_FUZZ_SECONDS:-30}"
if [ "$seconds" != 0 ]; then
  PT2ONNX_FUZZ_SEED=1 "$here/scripts/fuzz.sh" --all "$seconds"
fi
