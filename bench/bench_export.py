"""Whole-process time and peak memory of `pt2onnx export` against the Python
equivalent of the seed script (bench/seed_export.py) on the same ~16 MB
EfficientNet-B0 training checkpoint, side by side in one run.

    /usr/bin/python3 bench/bench_export.py [--runs 5] [--pt2onnx build/pt2onnx]

Each measured command runs as the only child of a fresh helper process, so the
helper's RUSAGE_CHILDREN peak RSS is that command's own. Runs alternate between
the two tools so that machine noise hits both alike; medians are reported.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = "/usr/bin/python3"

# Runs `argv` once; prints {"wall_s", "max_rss_kb", "rc"} as JSON.
MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - t
print(json.dumps({"wall_s": wall, "max_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "rc": rc}))
"""


def measure(argv, env):
    out = subprocess.run([PYTHON, "-c", MEASURE, *map(str, argv)], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed with exit code {result['rc']}")
    return result


def make_checkpoint(path):
    """The seed's training checkpoint: {'model_state_dict': ..., ...} of EfficientNet-B0 with a 2-output head."""
    sys.path.insert(0, str(REPO / "tests" / "oracle"))
    import oracle_common as oc
    model = oc.make_nontrivial_model(2, seed=1)
    oc.save_checkpoint(model, path, "training")


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pt2onnx", default=str(REPO / "build" / "pt2onnx"))
    ap.add_argument("--threads", default="2", help="OMP/MKL threads for PyTorch (pt2onnx export uses every core while it verifies)")
    args = ap.parse_args()

    out_dir = REPO / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = out_dir / "model.pth"
    if not ckpt.exists():
        make_checkpoint(ckpt)
    env = dict(os.environ, OMP_NUM_THREADS=args.threads, MKL_NUM_THREADS=args.threads)

    tools = {
        "pt2onnx export": [args.pt2onnx, "export", "--input", ckpt, "--output", out_dir / "pt2onnx.onnx"],
        "python seed export": [PYTHON, HERE / "seed_export.py", ckpt, out_dir / "python.onnx"],
    }
    # One warm-up each: page cache and Python bytecode caches, not what is measured.
    for argv in tools.values():
        measure(argv, env)
    results = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, argv in tools.items():
            results[name].append(measure(argv, env))

    print(f"Checkpoint: {ckpt} ({ckpt.stat().st_size / 1e6:.1f} MB), {args.runs} runs each, median (min-max)")
    print(f"Machine: {cpu_name()}, {os.cpu_count()} CPUs; PyTorch threads {args.threads}")
    summary = {}
    for name, runs in results.items():
        walls = [r["wall_s"] for r in runs]
        rss = max(r["max_rss_kb"] for r in runs) / 1024
        summary[name] = (statistics.median(walls), rss)
        print(f"  {name:<20} {statistics.median(walls):7.3f} s ({min(walls):.3f}-{max(walls):.3f})   peak RSS {rss:7.1f} MB")
    (ours_t, ours_m), (py_t, py_m) = summary["pt2onnx export"], summary["python seed export"]
    print(f"Ratios (Python / pt2onnx): time {py_t / ours_t:.1f}x, peak memory {py_m / ours_m:.1f}x")
    sizes = {name: (out_dir / f).stat().st_size for name, f in (("pt2onnx", "pt2onnx.onnx"), ("python", "python.onnx"))}
    print(f"ONNX sizes: pt2onnx {sizes['pt2onnx'] / 1e6:.1f} MB, python {sizes['python'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
