"""The whole pipeline against real PyTorch: `pt2onnx export` (with its built-in
verification) of a torchvision EfficientNet-B0 with non-trivial BatchNorm, the
export run by pt2onnx's own engine against PyTorch eager, and `pt2onnx verify`
catching a tampered model and a model from another checkpoint."""

import json
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

import oracle_common as oc

TOLERANCE = 1e-3


class VerifyPipeline(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("verify_pipeline")
        cls.model = oc.make_nontrivial_model(n_out=2, seed=3)
        cls.checkpoint = cls.work / "model.pth"
        oc.save_checkpoint(cls.model, cls.checkpoint)
        cls.onnx_path = cls.work / "model.onnx"
        cls.export = oc.run_pt2onnx("export", "--input", cls.checkpoint, "--output", cls.onnx_path,
                                    "--labels", "biopsy,magview")

    def run_engine(self, x, tag):
        np.save(self.work / f"{tag}_in.npy", x)
        oc.run_pt2onnx("run", self.onnx_path, "--input", self.work / f"{tag}_in.npy",
                       "--output", self.work / f"{tag}_out.npy")
        return np.load(self.work / f"{tag}_out.npy")

    def test_export_prints_the_seed_sequence_and_passes(self):
        out = self.export.stdout
        order = ["Loading model from", "Exporting to", "Verifying ONNX model structure...",
                 "Comparing PyTorch vs ONNX outputs...", "PyTorch output:", "ONNX output:",
                 "Max output difference:", "Verification passed!", "Model: EfficientNet-B0",
                 "Output: (batch, 2) - [biopsy, magview] logits", "Export complete!"]
        positions = [out.find(s) for s in order]
        self.assertNotIn(-1, positions, out)
        self.assertEqual(positions, sorted(positions), out)

    def test_our_export_on_our_engine_matches_pytorch(self):
        for batch in (1, 3):
            for name, x in oc.probe_inputs(batch, seed=7).items():
                ours = self.run_engine(x, f"{name}{batch}")
                ref = oc.torch_eval(self.model, x)
                self.assertEqual(ours.shape, ref.shape)
                diff = float(np.abs(ours - ref).max())
                self.assertGreater(float(np.abs(ref).max()), 1.0, "logits should be of magnitude ~10")
                self.assertLessEqual(diff, TOLERANCE, f"batch {batch} probe {name}: max abs diff {diff}")

    def test_verify_passes_and_writes_the_report(self):
        report_path = self.work / "report.json"
        proc = oc.run_pt2onnx("verify", self.onnx_path, "--checkpoint", self.checkpoint, "--json", report_path)
        self.assertIn("Verification passed!", proc.stdout)
        report = json.loads(report_path.read_text())
        self.assertTrue(report["passed"])
        self.assertTrue(report["structure"]["ok"])
        self.assertEqual(report["structure"]["opset"], 17)
        names = [p["name"] for p in report["probes"]]
        self.assertEqual(names[0], "randn(seed=42)")
        self.assertIn("zeros", names)
        self.assertIn("ones", names)
        self.assertTrue(any(p["input_shape"][0] > 1 for p in report["probes"]), "a probe above batch 1")
        # The seed's probe and the batch probe are run twice and must repeat
        # bit for bit; the other probes are run once (null).
        repeated = [p["name"] for p in report["probes"] if p["deterministic"] is not None]
        self.assertEqual(repeated, [names[0], names[-1]])
        self.assertGreater(report["probes"][-1]["input_shape"][0], 1)
        for p in report["probes"]:
            self.assertIn(p["deterministic"], (True, None), p["name"])
            self.assertEqual(p["verdict"], "ok", p["name"])
            self.assertLessEqual(p["max_abs_diff"], report["atol"] + report["rtol"] * max(map(abs, p["reference_output"])))
            self.assertEqual(len(p["onnx_output"]), 2 * p["input_shape"][0])

    def test_a_tampered_weight_fails_verification(self):
        model = onnx.load(str(self.onnx_path))
        for init in model.graph.initializer:
            if init.name == "features.0.0.weight":
                w = numpy_helper.to_array(init).copy()
                w.flat[0] += 2.0
                init.CopyFrom(numpy_helper.from_array(w, init.name))
                break
        else:
            self.fail("no initializer features.0.0.weight in the export")
        tampered = self.work / "tampered.onnx"
        onnx.save(model, str(tampered))
        proc = oc.run_pt2onnx("verify", tampered, "--checkpoint", self.checkpoint, check=False)
        self.assertEqual(proc.returncode, 6, proc.stdout + proc.stderr)
        self.assertIn("Verification FAILED", proc.stdout)

    def test_a_model_from_another_checkpoint_fails_verification(self):
        other = self.work / "other.pth"
        oc.save_checkpoint(oc.make_nontrivial_model(n_out=2, seed=4), other)
        proc = oc.run_pt2onnx("verify", self.onnx_path, "--checkpoint", other, check=False)
        self.assertEqual(proc.returncode, 6, proc.stdout + proc.stderr)

    def test_failed_verification_writes_nothing(self):
        # A tolerance of zero with no allowance for float32's spread cannot be
        # met by a float32 engine against a double-precision reference (the
        # image-like probe is always judged): the export must fail and leave no file.
        out = self.work / "strict.onnx"
        before = sorted(p.name for p in self.work.iterdir())
        proc = oc.run_pt2onnx("export", "--input", self.checkpoint, "--output", out, "--atol", "0", "--rtol", "0",
                              "--spread-multiple", "0", check=False)
        self.assertEqual(proc.returncode, 6, proc.stdout + proc.stderr)
        self.assertIn("nothing was written", proc.stderr)
        self.assertEqual(sorted(p.name for p in self.work.iterdir()), before)


if __name__ == "__main__":
    unittest.main()
