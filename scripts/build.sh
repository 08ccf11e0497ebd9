#!/usr/bin/env bash
# Configures and builds pt2onnx and its tests into build/ (Release).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release -DPT2ONNX_BUILD_TESTS=ON >/dev/null
cmake --build "$here/build" --parallel "$(nproc)"
