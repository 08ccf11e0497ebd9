"""pt2onnx export against real PyTorch and ONNX Runtime: torchvision's
efficientnet_b0 with the seed's head, non-trivial BatchNorm, logits ~10, for
1, 2 and 3 outputs, saved as the seed's training checkpoint."""

import collections
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402
import torch  # noqa: E402

ATOL = 1e-3
# The seed's console sequence, in order; other lines (the structural checks, the
# probe table) may stand between them.
SEED_LINES = ["Loading model from {ckpt}...", "Exporting to {out}...", "Verifying ONNX model structure...",
              "Comparing PyTorch vs ONNX outputs...", "Verification passed!", "",
              "Model: EfficientNet-B0", "Size: {size} MB", "Input: (batch, 3, 224, 224)", "Output: {output}", "",
              "Export complete!", "Next: Run inference with: pt2onnx infer {out} IMAGES..."]


class ExportEfficientNetB0(unittest.TestCase):
    def export_and_check(self, n_out, labels, label_source):
        work = oc.work_dir(f"b0_{n_out}")
        model = oc.make_nontrivial_model(n_out, seed=100 + n_out)
        ckpt = oc.save_checkpoint(model, work / "model.pth", "training",
                                  labels=labels if label_source == "checkpoint" else None)
        out = work / "model.onnx"
        args = ["export", "--input", ckpt, "--output", out]
        if label_source == "flag":
            args += ["--labels", ",".join(labels)]
        proc = oc.run_pt2onnx(*args)

        # The seed's console sequence.
        size = f"{out.stat().st_size / 1e6:.1f}"
        output = f"(batch, {n_out}) - [{', '.join(labels)}] logits" if labels else f"(batch, {n_out}) logits"
        expected = [line.format(ckpt=ckpt, out=out, size=size, output=output) for line in SEED_LINES]
        lines = proc.stdout.splitlines()
        at = 0
        for want in expected:
            self.assertIn(want, lines[at:], f"missing or out of order: {want!r}\n{proc.stdout}")
            at = lines.index(want, at) + 1
        self.assertEqual(lines[-len(expected) + 5:], expected[5:], "the summary closes the output")
        self.assertEqual(proc.stderr, "")

        # The onnx package's own full check and strict inference agree with ours.
        onnx_model, out_dims = oc.onnx_structure(out)
        self.assertEqual(out_dims, ["batch", n_out])
        g = onnx_model.graph
        self.assertEqual([i.name for i in g.input], ["image"])
        self.assertEqual([o.name for o in g.output], ["logits"])
        in_dims = [d.dim_param or d.dim_value for d in g.input[0].type.tensor_type.shape.dim]
        self.assertEqual(in_dims, ["batch", 3, 224, 224])
        self.assertEqual(onnx_model.opset_import[0].version, 17)
        self.assertEqual(onnx_model.ir_version, 8)
        self.assertEqual(onnx_model.producer_name, "pt2onnx")

        # Eval semantics, and names that map back to torchvision.
        ops = collections.Counter(n.op_type for n in g.node)
        for op in ("Dropout", "Identity", "BatchNormalization"):
            self.assertNotIn(op, ops)
        self.assertEqual(ops["Conv"], 81)
        self.assertEqual(ops["Gemm"], 1)
        paths = oc.module_paths(model)
        for node in g.node:
            self.assertTrue(oc.is_path_of(node.name, paths), node.name)
        # "<module path>.<parameter>"; a Conv with a BatchNorm folded in gains a
        # bias that torchvision's Conv2d(bias=False) does not have.
        modules = dict(model.named_modules())
        for init in g.initializer:
            path, param = init.name.rsplit(".", 1)
            self.assertIn(path, modules, init.name)
            self.assertIn(param, ("weight", "bias"), init.name)
            if init.name not in model.state_dict():
                self.assertIsInstance(modules[path], torch.nn.Conv2d, init.name)
        self.assertFalse({i.name for i in g.initializer} & {i.name for i in g.input})

        md = oc.onnx_metadata(onnx_model)
        self.assertEqual(md["pt2onnx.arch"], "efficientnet_b0")
        self.assertEqual(md["pt2onnx.num_outputs"], str(n_out))
        self.assertEqual(md.get("pt2onnx.labels"), ",".join(labels) if labels else None)
        self.assertEqual(md["pt2onnx.input_size"], "224x224")
        self.assertEqual(md["pt2onnx.preprocess.mean"], "0.485,0.456,0.406")
        self.assertEqual(md["pt2onnx.preprocess.std"], "0.229,0.224,0.225")
        self.assertEqual(md["pt2onnx.checkpoint.sha256"], oc.sha256_file(ckpt))
        self.assertEqual(md["pt2onnx.checkpoint.key"], "model_state_dict")

        # The numbers: ONNX Runtime against PyTorch eager at batch 1 and 3.
        results = oc.max_abs_diff_vs_torch(model, out)
        self.assertGreater(max(r[3] for r in results), 5.0, "the logits are not trivially small")
        for batch, probe, diff, magnitude in results:
            with self.subTest(n_out=n_out, batch=batch, probe=probe):
                self.assertLessEqual(diff, ATOL, f"max abs diff {diff} on logits up to {magnitude}")

    def test_one_output_no_labels(self):
        self.export_and_check(1, [], None)

    def test_two_outputs_labels_from_the_flag(self):
        self.export_and_check(2, ["biopsy", "magview"], "flag")

    def test_three_outputs_labels_from_the_checkpoint(self):
        self.export_and_check(3, ["a", "b", "c"], "checkpoint")


if __name__ == "__main__":
    unittest.main(verbosity=2)
