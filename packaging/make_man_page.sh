#!/bin/sh
# Writes pt2onnx(1) from the program's own --help texts, so that the manual
# page says exactly what the binary does: the top-level help, then each
# command's help in its own section.
#
#   packaging/make_man_page.sh PATH/TO/pt2onnx OUTPUT.1
set -eu
bin=$1
out=$2
version=$("$bin" --version | sed 's/^pt2onnx //')

# Help text as troff: backslashes and hyphens escaped, lines that would start
# a request (. or ') guarded, shown without refilling.
as_troff() {
  sed -e "s|^Usage: [^ ]*pt2onnx|Usage: pt2onnx|" -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\([.']\)/\\\\\&\1/"
}

commands=$("$bin" --help | sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$commands" ] || { echo "make_man_page.sh: no commands in '$bin --help'" >&2; exit 1; }

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
  echo ".TH PT2ONNX 1 \"\" \"pt2onnx $version\" \"User Commands\""
  echo ".SH NAME"
  echo "pt2onnx \\- export PyTorch image classifiers to verified ONNX models, and run them"
  echo ".SH SYNOPSIS"
  echo ".B pt2onnx"
  echo ".I COMMAND"
  printf '%s\n' '[\fIOPTIONS\fR]'
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$bin" --help | as_troff
  echo ".fi"
  echo ".SH COMMANDS"
  for c in $commands; do
    echo ".SS $c"
    echo ".nf"
    "$bin" "$c" --help | as_troff
    echo ".fi"
  done
  echo ".SH FILES"
  echo "/usr/share/doc/pt2onnx/ holds the README and the guides (docs/*.md)."
  echo ".SH SEE ALSO"
  echo "The README: /usr/share/doc/pt2onnx/README.md"
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
