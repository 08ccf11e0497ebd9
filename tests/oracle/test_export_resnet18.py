"""pt2onnx export --arch resnet18 against PyTorch in ONNX Runtime: the layer
kinds EfficientNet does not use (ReLU, MaxPool, convolutions without bias in
front of BatchNorm, residual adds before an activation)."""

import collections
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402


class ExportResNet18(unittest.TestCase):
    def test_matches_pytorch(self):
        work = oc.work_dir("resnet18")
        model = oc.make_nontrivial_model(4, seed=18, arch="resnet18")
        ckpt = oc.save_checkpoint(model, work / "model.pth")
        out = work / "model.onnx"
        proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", out, "--arch", "resnet18")
        self.assertIn("Model: ResNet-18", proc.stdout)
        onnx_model, dims = oc.onnx_structure(out)
        self.assertEqual(dims, ["batch", 4])
        ops = collections.Counter(n.op_type for n in onnx_model.graph.node)
        self.assertEqual(ops, {"Conv": 20, "Relu": 17, "Add": 8, "MaxPool": 1, "GlobalAveragePool": 1,
                               "Flatten": 1, "Gemm": 1})
        paths = oc.module_paths(model)
        for node in onnx_model.graph.node:
            self.assertTrue(oc.is_path_of(node.name, paths), node.name)
        for batch, probe, diff, magnitude in oc.max_abs_diff_vs_torch(model, out):
            with self.subTest(batch=batch, probe=probe):
                self.assertLessEqual(diff, 1e-3, f"{diff} on logits up to {magnitude}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
