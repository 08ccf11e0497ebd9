"""pt2onnx demo-checkpoint writes what torch.load and torchvision's
load_state_dict(strict=True) accept, deterministically; and `pt2onnx export`
with no arguments turns models/model.pth into models/model.onnx, as the seed."""

import sys
import unittest
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402


class DemoCheckpoint(unittest.TestCase):
    def test_loads_strictly_in_torchvision_and_exports(self):
        work = oc.work_dir("demo")
        (work / "models").mkdir()
        ckpt = work / "models" / "model.pth"
        proc = oc.run_pt2onnx("demo-checkpoint", ckpt, "--num-outputs", 3, "--seed", 5)
        self.assertIn("Wrote demo checkpoint", proc.stdout)

        obj = torch.load(ckpt, map_location="cpu")
        self.assertEqual(list(obj), ["model_state_dict"])
        model = oc.create_model(3)
        model.load_state_dict(obj["model_state_dict"], strict=True)
        model.eval()
        for k, v in obj["model_state_dict"].items():
            if k.endswith("num_batches_tracked"):
                self.assertEqual(v.dtype, torch.int64)
            elif k.endswith("running_var"):
                self.assertGreater(float(v.min()), 0.0, k)

        # Deterministic: the same seed gives the same weights, another seed others.
        again = work / "again.pth"
        oc.run_pt2onnx("demo-checkpoint", again, "--num-outputs", 3, "--seed", 5)
        other = work / "other.pth"
        oc.run_pt2onnx("demo-checkpoint", other, "--num-outputs", 3, "--seed", 6)
        a = obj["model_state_dict"]
        b = torch.load(again, map_location="cpu")["model_state_dict"]
        c = torch.load(other, map_location="cpu")["model_state_dict"]
        self.assertTrue(all(torch.equal(a[k], b[k]) for k in a))
        self.assertFalse(torch.equal(a["classifier.1.weight"], c["classifier.1.weight"]))

        # An existing checkpoint is not replaced without --force.
        proc = oc.run_pt2onnx("demo-checkpoint", ckpt, check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--force", proc.stderr)

        # The seed's default paths: models/model.pth -> models/model.onnx.
        proc = oc.run_pt2onnx("export", cwd=work)
        self.assertIn("Loading model from models/model.pth...", proc.stdout)
        self.assertIn("Exporting to models/model.onnx...", proc.stdout)
        out = work / "models" / "model.onnx"
        _, dims = oc.onnx_structure(out)
        self.assertEqual(dims, ["batch", 3])
        for batch, probe, diff, magnitude in oc.max_abs_diff_vs_torch(model, out, batches=(1,)):
            self.assertLess(magnitude, 1e4, "demo weights keep activations sane")
            self.assertLessEqual(diff, 1e-3 * max(1.0, magnitude / 10), f"{probe}: {diff} on logits up to {magnitude}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
