"""What only the runtime oracle tests (test_runtime_*.py) need on top of
oracle_common: torch.onnx.export as users run it, the op types of an ONNX
file, `pt2onnx run` on one array, and the max abs difference of two outputs.
Models, probes, PyTorch eager, ONNX Runtime (ort_run.js), work directories and
running the binary come from oracle_common.

Environment (set by ctest, see tests/CMakeLists.txt): see oracle_common.
"""

from pathlib import Path

import numpy as np
import torch

import oracle_common as oc


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


def tiny_classifier(channels=4, seed=0):
    """A small Conv-ReLU-pool-Linear(2) classifier in eval mode, for tests of
    the command line rather than of the numbers."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(3, channels, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                               torch.nn.Flatten(), torch.nn.Linear(channels, 2)).eval()


def export_tiny_classifier(path, size=8, channels=4):
    """tiny_classifier exported to `path` for [batch, 3, size, size] images."""
    return export(tiny_classifier(channels), path, torch.randn(1, 3, size, size))


def op_types(path):
    import onnx
    return [n.op_type for n in onnx.load(str(path)).graph.node]


def pt2onnx_run(model_path, x, work, tag):
    """`pt2onnx run` on one float32 array; returns the output array."""
    xin, yout = work / f"{tag}_in.npy", work / f"{tag}_out.npy"
    np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
    oc.run_pt2onnx("run", model_path, "--input", xin, "--output", yout, "--threads", oc.THREADS)
    return np.load(yout)


def max_abs_diff(a, b):
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())
