#!/bin/sh
# pt2onnx's engine against ONNX Runtime on a busy machine: bench/bench_runtime.sh
# (the two engines interleaved per configuration, each in a fresh process)
# with no load, with one busy loop per CPU, and with two, then one table
# (bench/bench_load_summary.py): images/s at batch 1 and at the best setting,
# CPU ms per image, first inference, and whether pt2onnx meets its targets.
#
#   bench/bench_load.sh [--threads T] [--seconds S] [--rounds R] [--model FILE]
#                       [--batch-sizes "1 8"] [--streams "1 2"] [--busy "0 1 2"]
#
# Needs what bench/bench_runtime.sh needs. Takes about
# loads x rounds x batch sizes x streams x 2 x (S + 1) seconds (2 minutes by default).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench/out"
THREADS=$(nproc)
SECONDS_PER_RUN=3
ROUNDS=2
BATCHES="1 8"
STREAMS=""
BUSY_LEVELS="0 1 2"
MODEL=""

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --batch-sizes) BATCHES=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --busy) BUSY_LEVELS=$2; shift 2 ;;
    *) echo "bench_load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$STREAMS" ] || STREAMS=$( [ "$THREADS" -gt 1 ] && echo "1 $THREADS" || echo 1)

mkdir -p "$OUT"
files=""
for busy in $BUSY_LEVELS; do
  echo "== $busy busy loop(s) per CPU"
  file="$OUT/bench_load_busy$busy.jsonl"
  set -- --threads "$THREADS" --seconds "$SECONDS_PER_RUN" --rounds "$ROUNDS" --batch-sizes "$BATCHES" \
    --streams "$STREAMS" --busy-per-core "$busy" --out "$file"
  [ -z "$MODEL" ] || set -- "$@" --model "$MODEL"
  "$ROOT/bench/bench_runtime.sh" "$@" > "$OUT/bench_load_busy$busy.log"
  grep -E '^(machine|model|load|round)' "$OUT/bench_load_busy$busy.log" || true
  files="$files $file"
done
# shellcheck disable=SC2086
/usr/bin/python3 "$ROOT/bench/bench_load_summary.py" $files
