"""Helpers of the runtime oracle tests (test_runtime_*.py): real torchvision
models with non-trivial weights, torch.onnx.export, `pt2onnx run` on .npy
files, and ONNX Runtime through ort_compare.js.

Environment (set by ctest, see tests/CMakeLists.txt): PT2ONNX (the binary),
PT2ONNX_NODE (node), PT2ONNX_ORACLE_DIR (this folder), PT2ONNX_WORK_DIR (scratch).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
import torchvision

ORACLE_DIR = Path(os.environ.get("PT2ONNX_ORACLE_DIR", Path(__file__).resolve().parent))
PT2ONNX = os.environ.get("PT2ONNX", str(ORACLE_DIR.parent.parent / "build" / "pt2onnx"))
NODE = os.environ.get("PT2ONNX_NODE", "node")
THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))
torch.set_num_threads(THREADS)

# Logits of this magnitude make an absolute tolerance of 1e-3 a real test.
LOGIT_SCALE = 10.0
SIZE = 224


def work_dir(name):
    base = Path(os.environ.get("PT2ONNX_WORK_DIR", tempfile.gettempdir())) / name
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    return base


def classifier_model(arch, n_out=2, dropout=0.4):
    """torchvision's architecture with the seed's head: Dropout + Linear(n_in, n_out)
    (for MobileNetV3 only the last Linear is replaced, keeping its Hardswish head)."""
    model = getattr(torchvision.models, arch)(weights=None)
    if arch.startswith("mobilenet"):
        model.classifier[-1] = torch.nn.Linear(model.classifier[-1].in_features, n_out)
    elif hasattr(model, "classifier"):
        model.classifier = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(model.classifier[1].in_features, n_out))
    else:
        model.fc = torch.nn.Linear(model.fc.in_features, n_out)
    return model


def nontrivial_model(arch, seed=0, n_out=2):
    """Perturbed BatchNorm affine parameters, running statistics calibrated on
    random batches (train mode, momentum=None: a cumulative average), the last
    Linear scaled so the logits are of magnitude LOGIT_SCALE. Eval mode."""
    torch.manual_seed(seed)
    model = classifier_model(arch, n_out)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.mul_(1.0 + 0.3 * torch.randn_like(bn.weight)).add_(0.05 * torch.randn_like(bn.weight))
            bn.bias.add_(0.1 * torch.randn_like(bn.bias))
            bn.reset_running_stats()
            bn.momentum = None
        model.eval()
        for bn in bns:  # only the BatchNorms train: dropout and stochastic depth stay off
            bn.train()
        for _ in range(2):
            model(torch.randn(6, 3, SIZE, SIZE))
        model.eval()
        last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
        scale = LOGIT_SCALE / float(model(torch.randn(4, 3, SIZE, SIZE)).abs().mean())
        last.weight.mul_(scale)
        last.bias.mul_(scale)
    return model


def export(model, path, example, fold=True, keep_batchnorm=False, input_name="image", output_name="logits"):
    """torch.onnx.export as users run it: opset 17, a dynamic batch axis.
    keep_batchnorm exports with training=PRESERVE (the model is in eval mode):
    torch 1.13's eval-mode export fuses BatchNormalization into the Conv even
    with do_constant_folding=False, PRESERVE keeps it."""
    torch.onnx.export(model, example, str(path), opset_version=17, input_names=[input_name],
                      output_names=[output_name],
                      dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                      do_constant_folding=fold,
                      training=torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL)
    return Path(path)


def op_types(path):
    import onnx
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def run_cli(*args, check=True):
    proc = subprocess.run([PT2ONNX, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"pt2onnx {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def pt2onnx_run(model_path, x, work, tag):
    """`pt2onnx run` on one float32 array; returns the output array."""
    xin, yout = work / f"{tag}_in.npy", work / f"{tag}_out.npy"
    np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
    run_cli("run", model_path, "--input", xin, "--output", yout, "--threads", THREADS)
    return np.load(yout)


def ort_run(model_path, xs, work):
    """ONNX Runtime on each array of xs (one session); returns the outputs."""
    args = []
    for i, x in enumerate(xs):
        np.save(work / f"ort_in{i}.npy", np.ascontiguousarray(x, dtype=np.float32))
        args += [work / f"ort_in{i}.npy", work / f"ort_out{i}.npy"]
    proc = subprocess.run([NODE, ORACLE_DIR / "ort_compare.js", model_path, "--threads", str(THREADS), *args],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"ort_compare.js failed:\n{proc.stderr}")
    return [np.load(work / f"ort_out{i}.npy") for i in range(len(xs))]


def torch_eval(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def probes(batch, seed=42, shape=(3, SIZE, SIZE)):
    """Seeded normal (the seed script's dummy input), uniform [0, 1) and half-scale
    normal: near the calibration distribution, where the logits are ~10."""
    g = torch.Generator().manual_seed(seed + batch)
    return {
        "normal": torch.randn(batch, *shape, generator=g).numpy(),
        "uniform": torch.rand(batch, *shape, generator=g).numpy(),
        "half_normal": (0.5 * torch.randn(batch, *shape, generator=g)).numpy(),
    }


def max_abs_diff(a, b):
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())
