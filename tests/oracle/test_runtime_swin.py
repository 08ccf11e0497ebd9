"""pt2onnx's engine on torchvision's Swin-T, exported by torch.onnx.export
(opset 17, dynamic batch), against PyTorch eager and ONNX Runtime at batch 1
and 2 (transformer_oracle.py: the model's perturbation and the tolerance).

What the export holds beyond ViT: the shifted windows' attention mask built
from shapes (Range, Mod, ScatterND into ConstantOfShape zeros, Not, Equal,
Where, Pow), folded at load; the windows' padding (Pad) and roll (Slice and
Concat); relative position bias gathered by index; attention dropout written
in training mode with ratio 0. The export runs once.
"""

import unittest

import torch
import torchvision

import oracle_common as oc
import runtime_oracle as ro
import transformer_oracle as to


def swin_t(seed):
    torch.manual_seed(seed)
    model = torchvision.models.swin_t(weights=None)
    model.head = torch.nn.Linear(model.head.in_features, 2)
    return to.calibrated(model, seed, model.head)


class SwinTransformer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_swin")
        cls.model = swin_t(seed=4)
        cls.path = to.export(cls.model, cls.work, "swin_t")

    def test_exports_the_shifted_window_operators(self):
        ops = set(ro.op_types(self.path))
        for op in ("Range", "Mod", "ScatterND", "Not", "Pow", "Where", "Pad", "Softmax", "LayerNormalization"):
            self.assertIn(op, ops)

    def test_matches_pytorch_and_onnx_runtime(self):
        to.check_against_torch_and_ort(self, self.model, self.path, self.work, "swin_t")


if __name__ == "__main__":
    unittest.main()
