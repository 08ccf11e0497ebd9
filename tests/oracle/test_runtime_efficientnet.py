"""pt2onnx's engine on torchvision EfficientNet-B0 (the seed's head, non-trivial
BatchNorm statistics, logits ~10) exported by torch.onnx.export with constant
folding on and off, against PyTorch eager and ONNX Runtime at batch 1 and 3."""

import unittest

import torch

import runtime_oracle as ro

TOLERANCE = 1e-3


class EfficientNetB0(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = ro.work_dir("runtime_efficientnet")
        cls.model = ro.nontrivial_model("efficientnet_b0")
        example = torch.randn(1, 3, ro.SIZE, ro.SIZE)
        cls.files = {fold: ro.export(cls.model, cls.work / f"folding_{fold}.onnx", example, fold=fold)
                     for fold in (True, False)}

    def test_export_forms_are_what_we_mean_to_test(self):
        folded = ro.op_types(self.files[True])
        unfolded = ro.op_types(self.files[False])
        self.assertNotIn("BatchNormalization", folded)
        self.assertIn("Identity", folded)  # shared initializers
        self.assertEqual(unfolded.count("BatchNormalization"), 49)
        for op in ("Sigmoid", "Mul", "GlobalAveragePool", "Add", "Flatten", "Gemm"):
            self.assertIn(op, unfolded)

    def check(self, fold):
        for batch in (1, 3):
            xs = ro.probes(batch)
            ort = ro.ort_run(self.files[fold], list(xs.values()), self.work)
            for (name, x), from_ort in zip(xs.items(), ort):
                with self.subTest(folding=fold, batch=batch, probe=name):
                    want = ro.torch_eval(self.model, x)
                    got = ro.pt2onnx_run(self.files[fold], x, self.work, f"f{int(fold)}_b{batch}_{name}")
                    self.assertGreater(abs(want).max(), 3.0)  # logits really are ~10
                    self.assertLessEqual(ro.max_abs_diff(got, want), TOLERANCE, "against PyTorch eager")
                    self.assertLessEqual(ro.max_abs_diff(got, from_ort), TOLERANCE, "against ONNX Runtime")

    def test_constant_folding_on(self):
        self.check(True)

    def test_constant_folding_off_with_batchnorm(self):
        self.check(False)


if __name__ == "__main__":
    unittest.main()
