#!/usr/bin/env bash
# The built-in demo, as the seed script's workflow: set up, build, make a demo
# EfficientNet-B0 checkpoint at models/model.pth if there is none, then export
# it to models/model.onnx (checked and verified) and inspect the result.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh"
"$here/scripts/build.sh" >/dev/null
cd "$here"
bin="$here/build/pt2onnx"
mkdir -p models
if [ ! -f models/model.pth ]; then
  echo "No models/model.pth: writing a demo checkpoint (random weights, 2 outputs)."
  "$bin" demo-checkpoint models/model.pth --num-outputs 2 --seed 1
fi
"$bin" export --labels biopsy,magview
"$bin" inspect models/model.onnx
