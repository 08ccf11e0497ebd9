"""pt2onnx's engine on torchvision EfficientNet-B0 (the seed's head, non-trivial
BatchNorm statistics, logits ~10) exported by torch.onnx.export with constant
folding on and off (and off with BatchNormalization kept), against PyTorch
eager and ONNX Runtime at batch 1 and 3."""

import unittest

import torch

import oracle_common as oc
import runtime_oracle as ro

TOLERANCE = 1e-3


class EfficientNetB0(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_efficientnet")
        cls.model = oc.make_nontrivial_model(arch="efficientnet_b0")
        example = torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE)
        cls.files = {
            "folded": ro.export(cls.model, cls.work / "folded.onnx", example, fold=True),
            "unfolded": ro.export(cls.model, cls.work / "unfolded.onnx", example, fold=False),
            "unfolded_bn": ro.export(cls.model, cls.work / "unfolded_bn.onnx", example, fold=False, keep_batchnorm=True),
        }
        # PyTorch's outputs, computed once for all forms of the model.
        cls.inputs = {batch: oc.probe_inputs(batch, seed=42 + batch) for batch in (1, 3)}  # other draws per batch
        cls.expected = {(batch, name): oc.torch_eval(cls.model, x)
                        for batch, xs in cls.inputs.items() for name, x in xs.items()}

    def test_export_forms_are_what_we_mean_to_test(self):
        folded = ro.op_types(self.files["folded"])
        self.assertNotIn("BatchNormalization", folded)
        self.assertIn("Identity", folded)  # shared initializers
        kept = ro.op_types(self.files["unfolded_bn"])
        self.assertEqual(kept.count("BatchNormalization"), 49)
        for op in ("Sigmoid", "Mul", "GlobalAveragePool", "Add", "Flatten", "Gemm"):
            self.assertIn(op, kept)

    def check(self, form, probe_names):
        for batch in (1, 3):
            xs = {k: v for k, v in self.inputs[batch].items() if k in probe_names}
            ort = oc.ort_run(self.files[form], list(xs.values()))
            for (name, x), from_ort in zip(xs.items(), ort):
                with self.subTest(form=form, batch=batch, probe=name):
                    want = self.expected[(batch, name)]
                    got = ro.pt2onnx_run(self.files[form], x, self.work, f"{form}_b{batch}_{name}")
                    self.assertGreater(abs(want).max(), 3.0)  # logits really are ~10
                    self.assertLessEqual(ro.max_abs_diff(got, want), TOLERANCE, "against PyTorch eager")
                    self.assertLessEqual(ro.max_abs_diff(got, from_ort), TOLERANCE, "against ONNX Runtime")

    def test_constant_folding_on(self):
        self.check("folded", ("normal", "uniform", "half_normal"))

    def test_constant_folding_off(self):
        self.check("unfolded", ("normal",))

    def test_constant_folding_off_batchnorm_kept(self):
        self.check("unfolded_bn", ("normal", "uniform", "half_normal"))


if __name__ == "__main__":
    unittest.main()
