#!/usr/bin/env bash
# Installs every system dependency of pt2onnx from Debian's archive, and the
# ONNX Runtime test oracle from npm. Safe to run again: it only adds what is missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build_pkgs=(
  build-essential cmake pkg-config git
  libzip-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libdnnl-dev
  libjpeg62-turbo-dev libspng-dev libgdcm-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
  python3-pil python3-pydicom
  libgdcm-tools  # gdcmconv: the DICOM oracle test compresses files with it
  clang-format clang-tidy  # scripts/check_style.sh
)
# Node.js with npm drives the ONNX Runtime oracle; keep a Node the machine already has.
command -v npm >/dev/null 2>&1 || test_pkgs+=(nodejs npm)

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime (CPU) for cross-checks and benchmarks only; never linked into pt2onnx.
# --ignore-scripts: the package's install script fetches GPU providers we do not need.
if [ ! -f "$here/tests/oracle/node_modules/onnxruntime-node/package.json" ]; then
  (cd "$here/tests/oracle" && npm ci --ignore-scripts --no-audit --no-fund)
fi
