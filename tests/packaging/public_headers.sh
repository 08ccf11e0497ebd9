#!/bin/sh
# Each public header of include/pt2onnx/ compiles on its own, with only
# include/ on the include path: the API needs nothing from src/.
#   public_headers.sh CXX INCLUDE_DIR
set -eu
cxx=$1
include=$2
count=0
for header in "$include"/pt2onnx/*.h; do
  name=${header#"$include"/}
  printf '#include <%s>\n#include <%s>\n' "$name" "$name" |
    "$cxx" -std=c++20 -Wall -Wextra -Werror -fsyntax-only -I "$include" -x c++ - ||
    { echo "public_headers: $name does not compile alone" >&2; exit 1; }
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "public_headers: no headers in $include/pt2onnx" >&2; exit 1; }
echo "public_headers: $count headers compile alone (twice each: include guards hold)"
