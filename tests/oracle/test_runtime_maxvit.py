"""pt2onnx's engine on torchvision's MaxViT-T, exported by torch.onnx.export
(opset 17, dynamic batch), against PyTorch eager and ONNX Runtime at batch 1
and 2 (transformer_oracle.py: the model's perturbation, the BatchNorm
calibration and the tolerance).

What the export holds beyond ViT: block and grid attention as Einsum
("B G H I D, B G H J D -> B G H I J" and back), MBConv blocks (BatchNorm,
depthwise Conv, squeeze-excitation's Sigmoid), AveragePool shortcuts, and a
Tanh in the classifier. The export runs once.
"""

import unittest

import torch
import torchvision

import oracle_common as oc
import runtime_oracle as ro
import transformer_oracle as to


def maxvit_t(seed):
    torch.manual_seed(seed)
    model = torchvision.models.maxvit_t(weights=None)
    model.classifier[-1] = torch.nn.Linear(model.classifier[-1].in_features, 2)
    return to.calibrated(model, seed, model.classifier[-1])


class MaxVit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_maxvit")
        cls.model = maxvit_t(seed=5)
        cls.path = to.export(cls.model, cls.work, "maxvit_t")

    def test_exports_einsum_and_tanh(self):
        ops = ro.op_types(self.path)
        self.assertEqual(ops.count("Einsum"), 44)
        self.assertIn("Tanh", ops)

    def test_matches_pytorch_and_onnx_runtime(self):
        to.check_against_torch_and_ort(self, self.model, self.path, self.work, "maxvit_t")


if __name__ == "__main__":
    unittest.main()
