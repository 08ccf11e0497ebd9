#!/usr/bin/env bash
# Installs pt2onnx's system dependencies from Debian's archive. Safe to run
# again: it only adds what is missing.
#
#   scripts/setup.sh            everything: what pt2onnx needs to build, plus the
#                               test suite's libraries and oracles (PyTorch,
#                               torchvision, ONNX, PIL, pydicom, GDCM's tools, the
#                               style tools, and ONNX Runtime's CPU library from npm)
#   scripts/setup.sh --build    only what building and running pt2onnx needs
#                               (scripts/demo.sh uses this)
#   scripts/setup.sh --package  that, and what CPack needs to make the Debian
#                               package (scripts/package.sh uses this)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

mode=all
case "${1:-}" in
  "") ;;
  --build) mode=build ;;
  --package) mode=package ;;
  -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown option '$1' (use --build, --package or nothing)" >&2; exit 2 ;;
esac

build_pkgs=(
  build-essential cmake pkg-config
  libzip-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libdnnl-dev
  libjpeg62-turbo-dev libspng-dev libgdcm-dev
  libcpp-httplib-dev  # pt2onnx serve's HTTP server
  libgrpc++-dev protobuf-compiler-grpc  # pt2onnx serve's gRPC service
)
# CPack's Debian generator runs dpkg-shlibdeps (dpkg-dev, with build-essential) and file.
package_pkgs=(file)
test_pkgs=(
  git
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-numpy python3-torch python3-torchvision python3-onnx
  # Debian's PyTorch calls the system BLAS for Linear and matmul; the reference BLAS it gets by default ran a
  # ViT-B/32 forward of 3 images in 11 s, OpenBLAS (its OpenMP build, sharing PyTorch's threads) in 0.2 s.
  libopenblas0-openmp
  python3-pil python3-pydicom
  python3-requests curl  # tests/oracle/test_serve.py: HTTP clients of pt2onnx serve
  python3-grpcio python3-grpc-tools  # its gRPC client, stubs generated from proto/
  chromium  # tests/oracle/test_serve_page.py: serve's web page in headless Chromium (puppeteer-core)
  libgdcm-tools  # gdcmconv: the DICOM oracle test compresses files with it
  clang-format clang-tidy  # scripts/check_style.sh
  clang-14 libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer
  libomp-14-dev  # scripts/fuzz.sh: omp.h for clang (the fuzzers link GCC's libgomp, as oneDNN does)
)
# Node.js with npm drives the ONNX Runtime oracle; keep a Node the machine already has.
command -v npm >/dev/null 2>&1 || test_pkgs+=(nodejs npm)

wanted=("${build_pkgs[@]}")
[ "$mode" = build ] || wanted+=("${package_pkgs[@]}")
[ "$mode" != all ] || wanted+=("${test_pkgs[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ "$mode" = all ] || exit 0

# ONNX Runtime (CPU), puppeteer-core and autocannon (tests/oracle/package.json) for
# cross-checks, browser tests and benchmarks only; never linked into pt2onnx.
# --ignore-scripts: the package's install script fetches GPU providers we do not need.
# Again whenever a package of tests/oracle/package.json is missing (one added later).
if [ ! -f "$here/tests/oracle/node_modules/onnxruntime-node/package.json" ] ||
  [ ! -f "$here/tests/oracle/node_modules/puppeteer-core/package.json" ] ||
  [ ! -f "$here/tests/oracle/node_modules/autocannon/package.json" ]; then
  (cd "$here/tests/oracle" && npm ci --ignore-scripts --no-audit --no-fund)
fi
