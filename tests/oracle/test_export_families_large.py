"""The larger CNN families, split from test_export_families.py so that the two
run side by side: AlexNet and VGG (hundreds of MB of Linear weights),
GoogLeNet and Inception V3 (auxiliary classifiers, transform_input), and
EfficientNet V2 at 384x384. Same checks: export with auto-detection and
verification; ONNX Runtime and `pt2onnx run` on our file and `pt2onnx run` on
torch.onnx.export's file against PyTorch, within 1e-4 of the logits' scale.
"""

import unittest

from families_common import FamilyExportCase


class LargeFamilies(FamilyExportCase):
    WORK = "export_families_large"

    def test_alexnet(self):
        # AdaptiveAvgPool2d((6, 6)) on a 6x6 map, three Linear layers with ReLU between them.
        self.export_and_compare("alexnet", ["Conv", "Relu", "MaxPool", "AveragePool", "Gemm"], seed=30)

    def test_vgg11_bn(self):
        self.export_and_compare("vgg11_bn", ["Conv", "Relu", "MaxPool", "AveragePool", "Gemm"], seed=31)

    def test_googlenet_built_without_weights(self):
        # As googlenet() builds it: auxiliary classifiers (dropped), transform_input off.
        proc = self.export_and_compare("googlenet", ["Conv", "Relu", "MaxPool", "Concat", "Gemm"], seed=32)
        self.assertIn("Note: transform_input is off: the checkpoint has auxiliary classifiers", proc.stdout)
        self.assertIn("Note: dropped 20 tensors of aux1, aux2", proc.stdout)

    def test_inception_v3_fine_tuned_from_weights(self):
        # As inception_v3(weights=...) leaves it once fine-tuned: no AuxLogits, transform_input on.
        proc = self.export_and_compare("inception_v3", ["Conv", "Concat", "AveragePool", "MaxPool", "Mul", "Add"],
                                       seed=33, size=299, options={"aux_logits": False, "transform_input": True})
        self.assertIn("Note: transform_input is on: the checkpoint has no auxiliary classifiers", proc.stdout)
        self.assertNotIn("dropped", proc.stdout)

    def test_efficientnet_v2_s(self):
        # FusedMBConv stages (a full 3x3 conv, no squeeze-excitation) before MBConv ones, at 384x384.
        self.export_and_compare("efficientnet_v2_s", ["Conv", "Sigmoid", "Mul", "Add", "GlobalAveragePool"],
                                seed=34, size=384)


if __name__ == "__main__":
    unittest.main(verbosity=2)
