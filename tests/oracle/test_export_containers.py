"""pt2onnx export reads every checkpoint container the reader supports and
exports the same model from each (compared with PyTorch in ONNX Runtime), at
every opset from 13 to 17."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402

ATOL = 1e-3


class ExportContainersAndOpsets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = oc.make_nontrivial_model(2, seed=7)

    def check_numbers(self, onnx_path, batches=(1,)):
        for batch, probe, diff, magnitude in oc.max_abs_diff_vs_torch(self.model, onnx_path, batches=batches):
            self.assertLessEqual(diff, ATOL, f"{onnx_path} batch {batch} {probe}: {diff} on logits up to {magnitude}")

    def test_containers(self):
        work = oc.work_dir("containers")
        cases = [("bare", "model.pth", []), ("state_dict", "model.pth", []), ("legacy", "model.pth", []),
                 ("training", "model.pth", ["--key", "model_state_dict"]), ("safetensors", "model.safetensors", [])]
        for container, name, extra in cases:
            with self.subTest(container=container):
                d = work / container
                d.mkdir()
                ckpt = oc.save_checkpoint(self.model, d / name, container)
                out = d / "model.onnx"
                oc.run_pt2onnx("export", "--input", ckpt, "--output", out, *extra)
                self.check_numbers(out)

    def test_opsets(self):
        work = oc.work_dir("opsets")
        ckpt = oc.save_checkpoint(self.model, work / "model.pth")
        for opset in (13, 14, 15, 16, 17):
            with self.subTest(opset=opset):
                out = work / f"opset{opset}.onnx"
                oc.run_pt2onnx("export", "--input", ckpt, "--output", out, "--opset", opset)
                onnx_model, dims = oc.onnx_structure(out)
                self.assertEqual(onnx_model.opset_import[0].version, opset)
                self.assertEqual(onnx_model.ir_version, 7 if opset <= 14 else 8)
                self.assertEqual(dims, ["batch", 2])
                self.check_numbers(out)
        for bad in (12, 18):
            proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", work / "bad.onnx", "--opset", bad, check=False)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("choose 13 to 17", proc.stderr)
            self.assertFalse((work / "bad.onnx").exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
