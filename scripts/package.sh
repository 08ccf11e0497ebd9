#!/usr/bin/env bash
# Builds the Debian package build/package/pt2onnx_<version>_amd64.deb: the
# pt2onnx command, its manual page (made from --help), bash completion and
# the docs, with Depends computed by dpkg-shlibdeps from the libraries the
# binary links. Install it with: sudo apt install ./build/package/pt2onnx_*.deb
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/setup.sh" --package
# A new build folder leaves the tests out (scripts/test.sh turns them on); an
# existing one keeps its choice.
tests=()
[ -f "$here/build/CMakeCache.txt" ] || tests=(-DPT2ONNX_BUILD_TESTS=OFF)
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release "${tests[@]}" >/dev/null
cmake --build "$here/build" --target pt2onnx man_page --parallel "$(nproc)"
rm -f "$here"/build/package/pt2onnx_*.deb
(cd "$here/build" && cpack -G DEB -B "$here/build/package")
ls -l "$here"/build/package/pt2onnx_*.deb
