#!/bin/sh
# pt2onnx's engine against ONNX Runtime (onnxruntime-node, pinned in
# tests/oracle/package.json) on the same .onnx file, interleaved in one run:
# for each round, each batch size, each stream count, ours then ONNX Runtime,
# each in a fresh process (so peak RSS and cold start are per configuration).
# Prints the ratios; raw JSON lines go to bench/out/bench_runtime.jsonl.
#
#   bench/bench_runtime.sh [--threads T] [--seconds S] [--rounds R] [--model FILE]
#                          [--batch-sizes "1 2 4 8 32"] [--streams "1 2"]
#                          [--busy-per-core N] [--out FILE.jsonl]
#
# --busy-per-core N runs N busy loops per CPU beside both engines for the
# whole run (a shared machine; bench/bench_load.sh runs 0, 1 and 2).
#
# Needs a build (build/pt2onnx), `cd tests/oracle && npm ci --ignore-scripts`,
# and /usr/bin/python3 with torch and torchvision to export the default model
# (EfficientNet-B0 with the seed's 2-output head, random weights).
# The machine is shared: figures are only as good as the load average printed
# with them; compare ratios, and prefer runs taken with the load near zero.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/bench/out"
THREADS=$(nproc)
SECONDS_PER_RUN=3
ROUNDS=3
BATCHES="1 2 4 8 32"
STREAMS=""
BUSY=0
RESULTS=""
MODEL="$OUT/efficientnet_b0.onnx"
PT2ONNX="${PT2ONNX:-$ROOT/build/pt2onnx}"

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --batch-sizes) BATCHES=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --busy-per-core) BUSY=$2; shift 2 ;;
    --out) RESULTS=$2; shift 2 ;;
    *) echo "bench_runtime.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# One stream of all threads, and one stream per thread (throughput mode).
[ -n "$STREAMS" ] || STREAMS=$( [ "$THREADS" -gt 1 ] && echo "1 $THREADS" || echo 1)

mkdir -p "$OUT"
[ -x "$PT2ONNX" ] || { echo "bench_runtime.sh: no $PT2ONNX; build first" >&2; exit 2; }
[ -d "$ROOT/tests/oracle/node_modules/onnxruntime-node" ] ||
  { echo "bench_runtime.sh: run 'cd tests/oracle && npm ci --ignore-scripts' first" >&2; exit 2; }
if [ ! -f "$MODEL" ]; then
  echo "exporting $MODEL"
  /usr/bin/python3 "$ROOT/bench/export_efficientnet_b0.py" "$MODEL"
fi

[ -n "$RESULTS" ] || RESULTS="$OUT/bench_runtime.jsonl"
: > "$RESULTS"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "model: $MODEL; threads $THREADS; batch sizes $BATCHES; streams $STREAMS; $ROUNDS round(s) of ${SECONDS_PER_RUN} s"
BUSY_PIDS=""
stop_busy() { [ -z "$BUSY_PIDS" ] || kill $BUSY_PIDS 2>/dev/null || true; }
trap stop_busy EXIT
trap 'exit 130' INT TERM
if [ "$BUSY" -gt 0 ]; then
  for _ in $(seq 1 $((BUSY * $(nproc)))); do
    sh -c 'while :; do :; done' &
    BUSY_PIDS="$BUSY_PIDS $!"
  done
  echo "load: $BUSY busy loop(s) per CPU beside the benchmark"
fi
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for batch in $BATCHES; do
    for streams in $STREAMS; do
      load=$(cut -d' ' -f1 /proc/loadavg)
      "$PT2ONNX" bench "$MODEL" --batch-size "$batch" --threads "$THREADS" --streams "$streams" \
        --seconds "$SECONDS_PER_RUN" --json | sed "s/}\$/,\"round\":$round,\"load\":$load,\"busy_per_core\":$BUSY}/" >> "$RESULTS"
      node "$ROOT/bench/ort_bench.js" "$MODEL" --batch-size "$batch" --threads "$THREADS" --streams "$streams" \
        --seconds "$SECONDS_PER_RUN" | sed "s/}\$/,\"round\":$round,\"load\":$load,\"busy_per_core\":$BUSY}/" >> "$RESULTS"
    done
  done
done
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$ROOT/bench/bench_summary.py" "$RESULTS"
