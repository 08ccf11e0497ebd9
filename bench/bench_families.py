"""Every CNN family pt2onnx rebuilds, through pt2onnx's engine and ONNX Runtime
side by side: for each architecture, a torchvision model with a 2-output head
and BatchNorm calibrated on image batches is exported by `pt2onnx export`
(auto-detected, verified), then `pt2onnx bench` and bench/ort_bench.js run the
same file, at batch 1 with one and with two threads, and at batch 8 with two.
Prints a Markdown table of images/s and ratios (pt2onnx / ONNX Runtime) for
the README.

    /usr/bin/python3 bench/bench_families.py [--archs a,b,...] [--seconds 3] [--rounds 3] [--torch-export]

Each round runs the two engines back to back on each setting, pt2onnx first in
odd rounds and ONNX Runtime first in even ones, and takes the ratio of that
pair. The table gives each engine's median images/s over the rounds and the
median of the rounds' ratios. On a shared virtual machine the host's speed
moves in phases of seconds to minutes; a pair run within a few seconds sees
the same phase, where the best of each engine's rounds taken apart may come
from different phases.

--torch-export exports with torch.onnx.export (opset 17, dynamic batch)
instead of `pt2onnx export`: the engine on the file most users have today.

Needs what the oracle tests need (Debian's torch and torchvision, node with
onnxruntime-node under tests/oracle/node_modules) and a built build/pt2onnx.
Takes about archs x rounds x 3 settings x 2 engines x (seconds + 1) seconds,
plus the exports.
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
sys.path.insert(0, str(REPO / "tests" / "oracle"))
os.environ.setdefault("PT2ONNX_ORACLE_DIR", str(REPO / "tests" / "oracle"))

DEFAULT_ARCHS = ["resnet18", "resnet50", "resnext50_32x4d", "efficientnet_b0", "mobilenet_v2",
                 "mobilenet_v3_small", "mobilenet_v3_large", "regnet_x_400mf", "regnet_y_400mf", "regnet_y_1_6gf",
                 "densenet121", "squeezenet1_1", "mnasnet1_0", "shufflenet_v2_x1_0", "convnext_tiny", "googlenet",
                 "inception_v3", "efficientnet_v2_s", "alexnet", "vgg11_bn"]
SETTINGS = [(1, 1), (1, 2), (8, 2)]  # (batch, threads)


def cpu_name():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def images_per_second(argv):
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default=",".join(DEFAULT_ARCHS))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pt2onnx", default=str(REPO / "build" / "pt2onnx"))
    ap.add_argument("--torch-export", action="store_true", help="export with torch.onnx.export, not pt2onnx export")
    args = ap.parse_args()

    import oracle_common as oc
    out_dir = REPO / "bench" / "out" / "families"
    out_dir.mkdir(parents=True, exist_ok=True)
    node = os.environ.get("PT2ONNX_NODE", "node")
    rows = []
    for arch in args.archs.split(","):
        onnx_path = out_dir / f"{arch}{'_torch' if args.torch_export else ''}.onnx"
        if not onnx_path.exists() and args.torch_export:
            import torch
            import runtime_oracle as ro
            ro.export(oc.make_nontrivial_model(2, seed=7, arch=arch), onnx_path,
                      torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE))
        if not onnx_path.exists():
            ckpt = out_dir / f"{arch}.pth"
            oc.save_checkpoint(oc.make_nontrivial_model(2, seed=7, arch=arch), ckpt)
            subprocess.run([args.pt2onnx, "export", "--input", str(ckpt), "--output", str(onnx_path)], check=True,
                           stdout=subprocess.DEVNULL)
            ckpt.unlink()
        pairs = {key: [] for key in SETTINGS}  # (pt2onnx, ONNX Runtime) images/s per round
        for round_index in range(args.rounds):
            for batch, threads in SETTINGS:
                common = ["--batch-size", str(batch), "--threads", str(threads), "--seconds", str(args.seconds)]
                run_ours = lambda: images_per_second([args.pt2onnx, "bench", str(onnx_path), *common, "--json"])
                run_theirs = lambda: images_per_second([node, str(HERE / "ort_bench.js"), str(onnx_path), *common])
                if round_index % 2 == 0:
                    ours = run_ours()
                    theirs = run_theirs()
                else:
                    theirs = run_theirs()
                    ours = run_ours()
                pairs[(batch, threads)].append((ours, theirs))
        rows.append((arch, pairs))
        print(f"{arch}: " + "; ".join(f"b{b} t{t} " + ", ".join(f"{o:.1f}/{r:.1f}" for o, r in runs)
                                      for (b, t), runs in pairs.items()), file=sys.stderr)

    print(f"Machine: {cpu_name()}, {os.cpu_count()} CPUs; {args.rounds} rounds of {args.seconds:g} s, the engines "
          "back to back in each; images/s, pt2onnx / ONNX Runtime, median over the rounds; ratio: median of the "
          "rounds' ratios")
    header = " | ".join(f"b{b} {t} thr: pt2onnx / ORT | ratio" for b, t in SETTINGS)
    print(f"| model | {header} |")
    print("|---|" + "---|---:|" * len(SETTINGS))
    for arch, pairs in rows:
        cells = []
        for key in SETTINGS:
            runs = pairs[key]
            ours = statistics.median(o for o, _ in runs)
            theirs = statistics.median(r for _, r in runs)
            ratio = statistics.median(o / r for o, r in runs)
            cells.append(f"{ours:.1f} / {theirs:.1f} | {ratio:.2f}")
        print(f"| {arch} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
