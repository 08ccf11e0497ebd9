"""pt2onnx export reads every checkpoint container the reader supports and
exports the same graph from each; and it exports at every opset from 13 to 17,
each run in ONNX Runtime against PyTorch."""

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

    def check_numbers(self, onnx_path, only=None):
        for batch, probe, diff, magnitude in oc.max_abs_diff_vs_torch(self.model, onnx_path, batches=(1,), only=only):
            self.assertLessEqual(diff, ATOL, f"{onnx_path} batch {batch} {probe}: {diff} on logits up to {magnitude}")

    def test_containers(self):
        import onnx
        work = oc.work_dir("containers")
        reference = oc.save_checkpoint(self.model, work / "model.pth", "training")
        oc.run_pt2onnx("export", "--input", reference, "--output", work / "model.onnx")
        self.check_numbers(work / "model.onnx")
        # The graph (nodes and weights, not the provenance metadata) must not
        # depend on how the state dict was stored.
        expected_graph = onnx.load(str(work / "model.onnx")).graph.SerializeToString()
        cases = [("bare", "model.pth", [], ""), ("state_dict", "model.pth", [], "state_dict"),
                 ("legacy", "model.pth", [], "model_state_dict"),
                 ("training", "model.pth", ["--key", "model_state_dict"], "model_state_dict"),
                 ("safetensors", "model.safetensors", [], "")]
        for container, name, extra, found_under in cases:
            with self.subTest(container=container):
                d = work / container
                d.mkdir()
                ckpt = oc.save_checkpoint(self.model, d / name, container)
                out = d / "model.onnx"
                oc.run_pt2onnx("export", "--input", ckpt, "--output", out, *extra)
                exported = onnx.load(str(out))
                self.assertTrue(exported.graph.SerializeToString() == expected_graph, "graph differs")
                md = oc.onnx_metadata(exported)
                self.assertEqual(md["pt2onnx.checkpoint.sha256"], oc.sha256_file(ckpt))
                self.assertEqual(md.get("pt2onnx.checkpoint.key", ""), found_under)

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
                self.check_numbers(out, only=("normal",))
        for bad in (12, 18):
            proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", work / "bad.onnx", "--opset", bad, check=False)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("choose 13 to 17", proc.stderr)
            self.assertFalse((work / "bad.onnx").exists())


if __name__ == "__main__":
    unittest.main(verbosity=2)
