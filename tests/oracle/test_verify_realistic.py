"""Verification never refuses a correct export: on realistic checkpoints written by
real PyTorch (BatchNorm calibrated on image-like batches, logits in the thousands,
fp16 weights, one really trained), default `pt2onnx export` passes, and
`pt2onnx verify` passes on the seed script's own torch.onnx.export of each, with
the per-probe spread, threshold and verdict in its JSON report. That the exports
are right in the first place is checked against ONNX Runtime and PyTorch eager."""

import json
import unittest

import numpy as np

import oracle_common as oc
import realistic_corpus as rc


class RealisticCorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("verify_realistic")
        cls.corpus = rc.build_corpus(cls.work, verbose=True)
        cls.ratios = []  # (checkpoint, probe, max abs diff / f32 spread), printed at the end

    @classmethod
    def tearDownClass(cls):
        # What docs/verification.md quotes: how close correct exports come to their spread multiple.
        print("\ncheckpoint           source  probe                  diff/spread")
        for name, source, probe, ratio in cls.ratios:
            print(f"{name:<20} {source:<7} {probe:<22} {ratio:9.3f}")

    def check_report(self, entry, source, report):
        """Every probe carries its spread, threshold and verdict; the seed's and
        the image-like probe are judged (never set aside), and pass."""
        self.assertTrue(report["passed"], json.dumps(report["probes"], indent=1)[:4000])
        by_name = {p["name"]: p for p in report["probes"]}
        for p in report["probes"]:
            self.assertIn(p["verdict"], ("ok", "unstable"), p["name"])
            self.assertGreaterEqual(p["threshold"], p["tolerance"] if p["role"] != "seed" else report["atol"])
            self.assertGreaterEqual(p["threshold"], report["spread_multiple"] * p["f32_spread"] * (1 - 1e-12))
            if p["verdict"] == "ok":
                self.assertLessEqual(p["max_abs_diff"], p["threshold"], p["name"])
            else:
                self.assertGreater(p["f32_spread"], p["tolerance"], p["name"])
            if p["f32_spread"] > 0:
                self.ratios.append((entry["name"], source, p["name"], p["max_abs_diff"] / p["f32_spread"]))
        image = by_name["image-like"]
        self.assertEqual(image["role"], "production")
        self.assertEqual(image["verdict"], "ok")
        self.assertEqual(by_name["randn(seed=42)"]["role"], "seed")
        if "training_loss" not in entry:
            # The image-like probe is what production sees: its logits are the corpus's large ones.
            self.assertGreater(max(map(abs, image["reference_output"])), 50.0, entry["name"])

    def test_the_corpus_is_what_it_claims(self):
        names = {e["name"] for e in self.corpus}
        archs = {e["arch"] for e in self.corpus}
        self.assertTrue({"efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "resnet18",
                         "resnet50"} <= archs, archs)
        self.assertEqual({e["n_out"] for e in self.corpus}, {1, 2, 3})
        self.assertIn("float16", {e["dtype"] for e in self.corpus})
        self.assertIn("resnet18_trained", names)
        for e in self.corpus:
            if e["name"] == "resnet18_trained":
                first, last = e["training_loss"]
                self.assertLess(last, 0.5 * first, "the trained checkpoint really learned its task")
                continue
            x = rc.smooth_images(4, e["input_size"], seed=77).numpy()
            peak = float(np.abs(oc.torch_eval(e["model"], x)).max())
            self.assertGreaterEqual(peak, 1e3, f"{e['name']}: logits should reach the thousands, got {peak:.1f}")
            self.assertLessEqual(peak, 1e6, e["name"])

    def test_default_export_passes_and_is_right(self):
        for e in self.corpus:
            with self.subTest(e["name"]):
                out = self.work / f"{e['name']}.onnx"
                proc = oc.run_pt2onnx("export", "--input", e["checkpoint"], "--output", out, "--arch", e["arch"],
                                      check=False)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertIn("Verification passed!", proc.stdout)
                # The export is right: ONNX Runtime on it agrees with PyTorch eager on
                # image-like inputs as closely as float32 allows.
                x = rc.smooth_images(2, e["input_size"], seed=5).numpy()
                ours = oc.ort_run(out, [x])[0]
                ref = oc.torch_eval(e["model"], x)
                self.assertLessEqual(float(np.abs(ours - ref).max()), 1e-2 + 1e-3 * float(np.abs(ref).max()))
                report = self.work / f"{e['name']}.ours.json"
                oc.run_pt2onnx("verify", out, "--checkpoint", e["checkpoint"], "--arch", e["arch"], "--json", report)
                self.check_report(e, "ours", json.loads(report.read_text()))

    def test_verify_passes_on_the_seed_scripts_export(self):
        for e in self.corpus:
            with self.subTest(e["name"]):
                seed_onnx = rc.seed_export(e["model"], self.work / f"{e['name']}.seed.onnx", e["input_size"])
                report = self.work / f"{e['name']}.seed.json"
                proc = oc.run_pt2onnx("verify", seed_onnx, "--checkpoint", e["checkpoint"], "--arch", e["arch"],
                                      "--json", report, check=False)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.check_report(e, "seed", json.loads(report.read_text()))


if __name__ == "__main__":
    unittest.main()
