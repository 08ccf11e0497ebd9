#!/usr/bin/env bash
# The built-in demo: the whole path of pt2onnx on a fresh machine, in order:
# install what building needs, build the pt2onnx command alone, make a demo
# checkpoint (unless models/model.pth is there), export it with verification,
# write sample images (JPEG, PNG, DICOM) and classify them with `infer`,
# printing the CSV of probabilities.
#
#   scripts/demo.sh [--no-build] [--dir DIR]
#     --no-build  use the pt2onnx already built (build/pt2onnx, or $PT2ONNX)
#     --dir DIR   work in DIR instead of models/ (checkpoint, model, images, CSV)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build=1
dir="$here/models"
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --dir) dir="${2:?--dir needs a directory}"; shift ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step=0
step() {
  step=$((step + 1))
  printf '\n[%d/%d] %s\n' "$step" "$((build ? 6 : 4))" "$*"
}

start=$SECONDS
if ((build)); then
  step "Installing what pt2onnx needs to build (scripts/setup.sh --build)"
  "$here/scripts/setup.sh" --build
  step "Building the pt2onnx command (build/pt2onnx; the tests are built by scripts/test.sh)"
  # A new build folder leaves the tests out (scripts/test.sh turns them on);
  # an existing one keeps its choice.
  tests=()
  [ -f "$here/build/CMakeCache.txt" ] || tests=(-DPT2ONNX_BUILD_TESTS=OFF)
  cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release "${tests[@]}" >/dev/null
  cmake --build "$here/build" --target pt2onnx --parallel "$(nproc)" | grep -E '^\[ *[0-9]+%\] (Built|Linking)' || true
  bin="$here/build/pt2onnx"
else
  bin="${PT2ONNX:-$here/build/pt2onnx}"
fi
[ -x "$bin" ] || { echo "demo.sh: no pt2onnx at $bin (run without --no-build)" >&2; exit 2; }

mkdir -p "$dir"
step "A checkpoint to export: $dir/model.pth"
if [ -f "$dir/model.pth" ]; then
  echo "Using the checkpoint already at $dir/model.pth."
else
  echo "None there: writing a demo EfficientNet-B0 checkpoint (random weights, BatchNorm calibrated, 2 outputs)."
  "$bin" demo-checkpoint "$dir/model.pth" --num-outputs 2 --seed 1
fi

step "Exporting to ONNX and verifying it: $dir/model.onnx"
"$bin" export --input "$dir/model.pth" --output "$dir/model.onnx" --labels biopsy,magview

step "Writing sample images to classify: $dir/samples/"
"$bin" demo-images "$dir/samples" --force

step "Classifying them with the exported model: $dir/predictions.csv"
"$bin" infer "$dir/model.onnx" "$dir/samples" --output "$dir/predictions.csv"
echo
echo "$dir/predictions.csv:"
cat "$dir/predictions.csv"

printf '\nDone in %d s. Next:\n' "$((SECONDS - start))"
echo "  $bin infer $dir/model.onnx YOUR_IMAGES/ --output predictions.csv"
echo "  $bin bench $dir/model.onnx"
echo "  $bin serve $dir/model.onnx    # then open http://127.0.0.1:8000/"
echo "  $bin --help"
