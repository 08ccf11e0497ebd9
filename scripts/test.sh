#!/usr/bin/env bash
# The whole test suite: set-up, build, formatting and lint (scripts/check_style.sh), then every
# unit and oracle test through ctest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh"
"$here/scripts/check_style.sh"
cd "$here/build"
ctest --output-on-failure --parallel "$(nproc)" "$@"
