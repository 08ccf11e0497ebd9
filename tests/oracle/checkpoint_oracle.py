"""Shared helpers for the checkpoint oracle tests: run `pt2onnx inspect`, and
list what torch.load sees in the same file the way pt2onnx names it (dict keys
joined with '.', list and tuple indices in decimal) so the two can be compared."""

import json
import math
import os
import pathlib
import subprocess

import torch

PT2ONNX = os.environ["PT2ONNX"]
WORK_DIR = pathlib.Path(os.environ.get("PT2ONNX_WORK_DIR", "/tmp/pt2onnx_oracle"))
# Helper programs are built next to the pt2onnx binary (tests/CMakeLists.txt).
TOOLS_DIR = pathlib.Path(PT2ONNX).parent
EXIT_BAD_INPUT = 3


def work_path(name):
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return WORK_DIR / name


def run_inspect(path, *args):
    return subprocess.run([PT2ONNX, "inspect", str(path), *args], capture_output=True, text=True, timeout=120)


def inspect_json(testcase, path, *args):
    result = run_inspect(path, "--json", *args)
    testcase.assertEqual(result.returncode, 0, f"inspect failed on {path}: {result.stderr}")
    return json.loads(result.stdout)


def _segment(key):
    return key if isinstance(key, str) else str(key)


def torch_tensors(obj, name=""):
    """[(name, tensor)] in the order pt2onnx lists them."""
    out = []

    def walk(value, path):
        if isinstance(value, torch.Tensor):
            out.append((path, value))
        elif isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, _segment(k) if not path else f"{path}.{_segment(k)}")
        elif isinstance(value, (list, tuple)) and value:
            for i, v in enumerate(value):
                walk(v, str(i) if not path else f"{path}.{i}")

    walk(obj, name)
    return out


def torch_leaves(obj, name=""):
    """[(name, value)] of the non-tensor leaves, as pt2onnx lists them."""
    out = []

    def walk(value, path):
        if isinstance(value, torch.Tensor):
            return
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, _segment(k) if not path else f"{path}.{_segment(k)}")
        elif isinstance(value, (list, tuple)) and value:
            for i, v in enumerate(value):
                walk(v, str(i) if not path else f"{path}.{i}")
        else:
            out.append((path, value))

    walk(obj, name)
    return out


def dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def float64_sum(t):
    return t.detach().to(torch.float64).sum().item()


def assert_tensors_match(testcase, report, expected):
    """The JSON's tensors against [(name, tensor)]: same names in the same order,
    same dtypes and shapes, sums within 1e-6 relative (float64 on both sides)."""
    got = report["tensors"]
    testcase.assertEqual([t["name"] for t in got], [n for n, _ in expected])
    for entry, (name, tensor) in zip(got, expected):
        with testcase.subTest(tensor=name):
            testcase.assertEqual(entry["dtype"], dtype_name(tensor.dtype))
            testcase.assertEqual(entry["shape"], list(tensor.shape))
            want = float64_sum(tensor)
            scale = max(1.0, tensor.detach().to(torch.float64).abs().sum().item())
            testcase.assertTrue(
                math.isclose(entry["sum"], want, rel_tol=1e-6, abs_tol=1e-9 * scale),
                f"{name}: sum {entry['sum']} vs torch {want}",
            )


def assert_matches_torch_load(testcase, path, *args):
    """inspect --json against torch.load of the same file; returns (report, loaded)."""
    report = inspect_json(testcase, path, *args)
    loaded = torch.load(path, map_location="cpu")
    assert_tensors_match(testcase, report, torch_tensors(loaded))
    return report, loaded


def assert_refused(testcase, path, *needles):
    """inspect must fail with exit code 3 and a message naming the file and each needle."""
    result = run_inspect(path)
    testcase.assertEqual(result.returncode, EXIT_BAD_INPUT, f"stdout: {result.stdout}\nstderr: {result.stderr}")
    testcase.assertIn(str(path), result.stderr)
    for needle in needles:
        testcase.assertIn(needle, result.stderr)
    testcase.assertEqual(len(result.stderr.strip().splitlines()), 1, "one readable error line")
    return result
