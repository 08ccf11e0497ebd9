"""pt2onnx's engine on torchvision ResNet-18 (Relu, MaxPool, residual adds)
and MobileNetV3-Small (HardSwish, HardSigmoid, Relu, squeeze-excitation),
exported by torch.onnx.export, against PyTorch eager and ONNX Runtime."""

import unittest

import torch

import oracle_common as oc
import runtime_oracle as ro

TOLERANCE = 1e-3


class TorchvisionModels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_torchvision")

    def check(self, arch, expected_ops):
        model = oc.make_nontrivial_model(arch=arch, seed=1)
        path = ro.export(model, self.work / f"{arch}.onnx", torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE))
        ops = ro.op_types(path)
        for op in expected_ops:
            self.assertIn(op, ops)
        for batch in (1, 3):
            xs = {k: v for k, v in oc.probe_inputs(batch, seed=42 + batch).items() if k != "half_normal"}
            ort = oc.ort_run(path, list(xs.values()))
            for (name, x), from_ort in zip(xs.items(), ort):
                with self.subTest(arch=arch, batch=batch, probe=name):
                    want = oc.torch_eval(model, x)
                    got = ro.pt2onnx_run(path, x, self.work, f"{arch}_b{batch}_{name}")
                    self.assertGreater(abs(want).max(), 3.0)
                    self.assertLessEqual(ro.max_abs_diff(got, want), TOLERANCE, "against PyTorch eager")
                    self.assertLessEqual(ro.max_abs_diff(got, from_ort), TOLERANCE, "against ONNX Runtime")

    def test_resnet18(self):
        self.check("resnet18", ["Relu", "MaxPool", "Add", "GlobalAveragePool", "Gemm"])

    def test_mobilenet_v3_small(self):
        self.check("mobilenet_v3_small", ["HardSwish", "HardSigmoid", "Relu", "Mul", "Add"])


if __name__ == "__main__":
    unittest.main()
