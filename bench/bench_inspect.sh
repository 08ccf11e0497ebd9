#!/usr/bin/env bash
# Side by side, in one run: whole-process wall time and peak RSS of
# `pt2onnx inspect` and of `python3 -c "import torch; torch.load(...)"` on the
# same ~16 MB EfficientNet-B0 training checkpoint (made here with torch, with
# the 2-class head of the seed export script).
#
#   bench/bench_inspect.sh [REPETITIONS]     (default 10; needs a built build/pt2onnx)
#
# Each process is measured on its own (os.wait4 gives that child's ru_maxrss);
# runs are interleaved and the file is read once first, so the page cache is
# warm for every contender. Figures: median and best wall time, median peak RSS.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${PT2ONNX:-$here/build/pt2onnx}"
[ -x "$bin" ] || { echo "bench_inspect: build pt2onnx first ($bin not found)" >&2; exit 2; }
out="$here/bench/out"
mkdir -p "$out"
ckpt="$out/efficientnet_b0.pth"
# Made in its own process, so that the measuring process below stays small (see there).
if [ ! -f "$ckpt" ]; then
  /usr/bin/python3 - "$ckpt" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.efficientnet_b0(weights=None)
model.classifier = torch.nn.Sequential(torch.nn.Dropout(0.4), torch.nn.Linear(1280, 2))
torch.save({"epoch": 30, "model_state_dict": model.state_dict()}, sys.argv[1])
PY
fi
exec /usr/bin/python3 - "$bin" "$ckpt" "${1:-10}" <<'PY'
import os, platform, statistics, subprocess, sys, time

binary, ckpt, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
contenders = {
    "pt2onnx inspect": [binary, "inspect", ckpt],
    "pt2onnx inspect --json (with sums)": [binary, "inspect", "--json", ckpt],
    "python3: import torch; torch.load": ["/usr/bin/python3", "-c",
                                          f"import torch; torch.load({ckpt!r}, map_location='cpu')"],
    "python3: import torch (no load)": ["/usr/bin/python3", "-c", "import torch"],
    "/bin/true (measurement floor)": ["/bin/true"],
}

def measure(cmd):
    # ru_maxrss counts the child's memory from before its exec too. A vfork'ed
    # child would report this whole process's peak, so force a plain fork
    # (preexec_fn does) from this small process: the floor is then the copied
    # part of this interpreter, shown by /bin/true, well below what is measured.
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=lambda: None)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"bench_inspect: {cmd} failed: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024.0  # KiB -> MiB

for cmd in contenders.values():  # warm the page cache and Python's bytecode caches
    measure(cmd)
results = {name: [] for name in contenders}
for _ in range(reps):
    for name, cmd in contenders.items():
        results[name].append(measure(cmd))

print(f"checkpoint: {ckpt} ({os.path.getsize(ckpt) / 1e6:.1f} MB), {reps} runs each, "
      f"{platform.machine()} with {os.cpu_count()} CPUs")
print(f"{'':38} {'median s':>9} {'best s':>8} {'peak RSS MiB':>13}")
summary = {}
for name, runs in results.items():
    walls = [w for w, _ in runs]
    rss = statistics.median(r for _, r in runs)
    summary[name] = (statistics.median(walls), rss)
    print(f"{name:38} {statistics.median(walls):9.3f} {min(walls):8.3f} {rss:13.1f}")
ours_t, ours_m = summary["pt2onnx inspect"]
torch_t, torch_m = summary["python3: import torch; torch.load"]
print(f"torch.load / pt2onnx inspect: {torch_t / ours_t:.1f}x the wall time, {torch_m / ours_m:.1f}x the peak memory")
PY
