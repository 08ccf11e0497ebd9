"""Shared helpers for the vision and infer oracle tests (not a test itself).

The C++ side is reached through two executables named by ctest's environment:
PT2ONNX (the CLI) and PT2ONNX_VISION_PROBE (tests/tools/pt2onnx_vision_probe.cpp), which
runs one src/vision stage on one file and writes the result as .npy.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

PROBE = os.environ.get("PT2ONNX_VISION_PROBE", "")
PT2ONNX = os.environ.get("PT2ONNX", "")


def work_dir(name):
    root = Path(os.environ.get("PT2ONNX_WORK_DIR", f"/tmp/pt2onnx-oracle-{name}"))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    return root


class Failures:
    """Collects mismatches so one run reports all of them, with parameters."""

    def __init__(self):
        self.messages = []
        self.checks = 0

    def check(self, ok, message):
        self.checks += 1
        if not ok:
            self.messages.append(message)
            print("FAIL:", message, flush=True)

    def finish(self):
        print(f"{self.checks - len(self.messages)}/{self.checks} checks passed")
        sys.exit(1 if self.messages else 0)


def probe(*args, expect_ok=True):
    """Runs the probe; returns (returncode, stderr)."""
    proc = subprocess.run([PROBE, *map(str, args)], capture_output=True, text=True)
    if expect_ok and proc.returncode != 0:
        raise RuntimeError(f"probe {' '.join(map(str, args))} failed: {proc.stderr}")
    return proc.returncode, proc.stderr


def probe_array(command, path, out, *extra):
    probe(command, path, out, *extra)
    return np.load(out)


def smooth_noise(height, width, channels, seed):
    """A photo-like test image: smooth structure plus noise, uint8."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    planes = []
    for c in range(channels):
        base = 128 + 90 * np.sin(5 * x + 3 * y + c) * np.cos(4 * y - 2 * x * c)
        planes.append(base + rng.normal(0, 25, (height, width)))
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def max_abs_diff(a, b):
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0
