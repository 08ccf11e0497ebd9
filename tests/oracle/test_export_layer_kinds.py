"""Every layer kind's ONNX lowering, run in ONNX Runtime, against the same
layers computed by torch.nn.functional in eval mode: the hand-built graphs of
tests/exporter/graph_fixtures.h (one EfficientNet-like, one with ReLU, MaxPool,
an unfolded BatchNorm, Hardswish, Hardsigmoid and a bias-free Linear), exported
by pt2onnx_export_fixture_tool at every opset from 13 to 17."""

import collections
import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402

# Built beside the pt2onnx binary, as every test-only tool (tests/CMakeLists.txt).
TOOL = os.environ.get("PT2ONNX_EXPORT_FIXTURE_TOOL",
                      str(Path(oc.PT2ONNX).resolve().parent / "pt2onnx_export_fixture_tool"))
ATOL = 1e-4


def bn(x, p, key, eps):
    return F.batch_norm(x, p[key + ".running_mean"], p[key + ".running_var"], p[key + ".weight"], p[key + ".bias"],
                        training=False, eps=eps)


def tiny_efficientnet(x, p):
    x = F.silu(bn(F.conv2d(x, p["features.0.0.weight"], None, 2, 1), p, "features.0.1", 1e-3))
    block_in = x
    b = "features.1.0.block."
    y = F.silu(bn(F.conv2d(x, p[b + "0.0.weight"], None, 1, 1, groups=8), p, b + "0.1", 1e-3))
    s = F.adaptive_avg_pool2d(y, 1)
    s = F.silu(F.conv2d(s, p[b + "1.fc1.weight"], p[b + "1.fc1.bias"]))
    s = torch.sigmoid(F.conv2d(s, p[b + "1.fc2.weight"], p[b + "1.fc2.bias"]))
    y = bn(F.conv2d(y * s, p[b + "2.0.weight"]), p, b + "2.1", 1e-3)
    x = torch.flatten(F.adaptive_avg_pool2d(y + block_in, 1), 1)
    return F.linear(x, p["classifier.1.weight"], p["classifier.1.bias"])


def tiny_mixed(x, p):
    x = F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], 1, 1))
    x = F.max_pool2d(x, 3, 2, 1)
    x = F.hardsigmoid(F.hardswish(bn(x, p, "bn", 1e-5)))
    return F.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), p["fc.weight"])


GRAPHS = {"tiny_efficientnet": tiny_efficientnet, "tiny_mixed": tiny_mixed}


class LayerKinds(unittest.TestCase):
    def test_every_lowering_matches_torch_at_every_opset(self):
        work = oc.work_dir("layer_kinds")
        g = torch.Generator().manual_seed(3)
        inputs = [torch.randn(1, 3, 16, 16, generator=g), 3 * torch.randn(3, 3, 16, 16, generator=g)]
        for name, forward in GRAPHS.items():
            for opset in range(13, 18):
                with self.subTest(graph=name, opset=opset):
                    onnx_path, params_path = work / f"{name}_{opset}.onnx", work / f"{name}_{opset}.json"
                    subprocess.run([TOOL, name, str(opset), onnx_path, params_path], check=True)
                    params = {k: torch.tensor(v["data"], dtype=torch.float32).reshape(v["shape"])
                              for k, v in json.loads(params_path.read_text()).items()}
                    model, dims = oc.onnx_structure(onnx_path)
                    self.assertEqual(dims, ["batch", 3])
                    ops = collections.Counter(n.op_type for n in model.graph.node)
                    if name == "tiny_mixed":
                        self.assertEqual(ops["HardSwish"], 1 if opset >= 14 else 0)
                        self.assertEqual(ops["BatchNormalization"], 1)
                    else:
                        self.assertNotIn("BatchNormalization", ops)
                    outs = oc.ort_run(onnx_path, [x.numpy() for x in inputs])
                    for x, y in zip(inputs, outs):
                        with torch.no_grad():
                            ref = forward(x, params).numpy()
                        self.assertEqual(y.shape, ref.shape)
                        self.assertLessEqual(float(np.abs(ref - y).max()), ATOL, f"{ref} vs {y}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
