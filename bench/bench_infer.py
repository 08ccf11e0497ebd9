#!/usr/bin/python3
"""End-to-end inference speed: `pt2onnx infer` on a folder of generated
512x512 JPEGs, side by side in one run with

  (a) `pt2onnx bench` on the same model: the engine alone at its best setting,
  (b) the Python equivalent: PIL + torchvision transforms + PyTorch eager,
      a DataLoader with 2 workers, batch 32,
  (c) decoding + preprocessing alone on one thread (pt2onnx_vision_probe),
      the most one infer worker can feed,

then the ratios the issue sets as targets: infer >= 80% of the engine alone,
infer >= 5x Python. Run from the repository root after a build:

    /usr/bin/python3 bench/bench_infer.py [--images 1000] [--threads 2] [--rounds 3]

The engine's best setting is found by a sweep over batch sizes and stream
counts; then infer and the engine at that setting take turns for --rounds
rounds, so that both see the same moments of a shared machine, and each
side's best and median round are reported. (The sweep's own figures are not
used for the ratio: the best of ten settings is the best of ten draws.)

Everything it makes goes under bench/out/ (git-ignored). Parts whose command
this build lacks (export, bench, the runtime) are reported as missing.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def make_images(folder, count):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("*.jpg"))
    if len(existing) == count:
        return
    for p in existing:
        p.unlink()
    rng = np.random.default_rng(0)
    y = np.linspace(0, 1, 512)[:, None]
    x = np.linspace(0, 1, 512)[None, :]
    for i in range(count):
        a, b, c = rng.uniform(1, 8, 3)
        planes = [128 + 100 * np.sin(a * x + b * y + k + c) for k in range(3)]
        img = np.clip(np.stack(planes, -1) + rng.normal(0, 12, (512, 512, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"img_{i:05d}.jpg", quality=90)


def make_checkpoint(path):
    import torch
    import torch.nn as nn
    from torchvision.models import efficientnet_b0

    torch.manual_seed(0)
    model = efficientnet_b0(weights=None)
    model.classifier = nn.Sequential(nn.Dropout(0.4), nn.Linear(1280, 2))
    torch.save({"model_state_dict": model.state_dict()}, path)
    return model.eval()


def has_command(pt2onnx, name):
    out = subprocess.run([pt2onnx, "--help"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == [name] for line in out.splitlines())


def rate_from(text):
    """The last 'N images/s' figure a command printed."""
    found = re.findall(r"([0-9]+(?:\.[0-9]+)?)\s*images?/s", text)
    return float(found[-1]) if found else None


def engine_rates(pt2onnx, onnx, threads, streams, batch_sizes, seconds):
    """`pt2onnx bench` rows (JSON) for these batch sizes."""
    proc = subprocess.run([pt2onnx, "bench", onnx, "--threads", str(threads), "--streams", str(streams), "--seconds",
                           str(seconds), "--json", "--batch-size", *map(str, batch_sizes)], capture_output=True,
                          text=True)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def python_pipeline(model, folder, threads, batch_size):
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    class Files(Dataset):
        def __init__(self, paths):
            self.paths = paths
            self.tf = transforms.Compose(
                [transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(MEAN, STD)])

        def __len__(self):
            return len(self.paths)

        def __getitem__(self, i):
            return self.tf(Image.open(self.paths[i]).convert("RGB"))

    torch.set_num_threads(threads)
    loader = DataLoader(Files(sorted(folder.glob("*.jpg"))), batch_size=batch_size, num_workers=2)
    start = time.perf_counter()
    n = 0
    with torch.no_grad():
        for batch in loader:
            torch.sigmoid(model(batch))
            n += batch.shape[0]
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--build", type=Path, default=ROOT / "build")
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of infer and the engine alone")
    args = parser.parse_args()

    pt2onnx = str(args.build / "pt2onnx")
    probe = str(args.build / "pt2onnx_vision_probe")
    out = ROOT / "bench" / "out"
    images = out / "images"
    out.mkdir(parents=True, exist_ok=True)
    print(f"bench_infer: {args.images} JPEGs 512x512, {args.threads} threads, batch {args.batch_size}", flush=True)
    make_images(images, args.images)
    model = make_checkpoint(out / "model.pth")
    results = {}

    if os.path.exists(probe):
        proc = subprocess.run([probe, "throughput", images, "-", "224x224", "none", "bilinear"], capture_output=True,
                              text=True)
        results["decode+preprocess, 1 thread"] = rate_from(proc.stdout)

    onnx = out / "model.onnx"
    if has_command(pt2onnx, "export"):
        proc = subprocess.run([pt2onnx, "export", "--input", out / "model.pth", "--output", onnx, "--arch",
                               "efficientnet_b0", "--labels", "biopsy,magview"], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"export failed:\n{proc.stdout}\n{proc.stderr}")
    else:
        print("pt2onnx export: not in this build")

    best = None
    if onnx.exists() and has_command(pt2onnx, "bench"):
        # The engine's best setting: every batch size infer could use, one
        # stream of all threads and one stream per thread.
        for streams in (1, args.threads):
            for row in engine_rates(pt2onnx, onnx, args.threads, streams, [1, 2, 4, 8, args.batch_size], 2):
                if best is None or row["images_per_second"] > best["images_per_second"]:
                    best = row
        if best:
            print(f"pt2onnx bench sweep: best at batch {best['batch_size']}, {best['streams']} stream(s) "
                  f"({best['images_per_second']:.1f} images/s)")
    else:
        print("pt2onnx bench: not in this build (or no model)")

    if onnx.exists():
        engine_rounds, infer_rounds = [], []
        for r in range(args.rounds):
            if best:
                rows = engine_rates(pt2onnx, onnx, args.threads, best["streams"], [best["batch_size"]], 3)
                engine_rounds += [row["images_per_second"] for row in rows]
            start = time.perf_counter()
            proc = subprocess.run([pt2onnx, "infer", onnx, images, "--threads", str(args.threads), "--batch-size",
                                   str(args.batch_size), "--output", out / "infer.csv", "--no-progress"],
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if proc.returncode != 0:
                print(f"pt2onnx infer: exit {proc.returncode}: {proc.stderr.strip()}")
                break
            infer_rounds.append(args.images / seconds)
            engine_text = f"engine alone {engine_rounds[-1]:.1f} images/s, " if best and engine_rounds else ""
            print(f"round {r + 1}: {engine_text}infer {infer_rounds[-1]:.1f} images/s")
        if infer_rounds:
            results["pt2onnx infer (end to end), best round"] = max(infer_rounds)
            results["pt2onnx infer (end to end), median round"] = statistics.median(infer_rounds)
        if engine_rounds:
            results["pt2onnx bench (engine alone), best round"] = max(engine_rounds)
            results["pt2onnx bench (engine alone), median round"] = statistics.median(engine_rounds)

    if not args.skip_python:
        results["Python: PIL + torchvision + PyTorch eager"] = python_pipeline(model, images, args.threads,
                                                                              args.batch_size)

    print()
    for name, rate in results.items():
        print(f"  {name:50s} {rate:8.1f} images/s" if rate else f"  {name:50s}      n/a")
    python = results.get("Python: PIL + torchvision + PyTorch eager")
    for which in ("best", "median"):
        infer = results.get(f"pt2onnx infer (end to end), {which} round")
        engine = results.get(f"pt2onnx bench (engine alone), {which} round")
        if infer and engine:
            print(f"  infer / engine alone, {which} rounds: {infer / engine:.2f} (target >= 0.80)")
        if infer and python:
            print(f"  infer / Python, {which} infer round:  {infer / python:.2f} (target >= 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
