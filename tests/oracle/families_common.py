"""What the families oracle tests share: a calibrated torchvision model
exported by `pt2onnx export` with auto-detection and verification, then
ONNX Runtime and `pt2onnx run` on our file, and `pt2onnx run` on
torch.onnx.export's file, each against PyTorch eager."""

import unittest

import torch

import oracle_common as oc
import runtime_oracle as ro

RELATIVE_TOLERANCE = 1e-4  # of the logits' scale: the model's (oc.LOGIT_SCALE), or the probe's if larger


def tolerance(model, x, want):
    """Absolute tolerance for outputs meant to equal `want` (PyTorch float32 eager on x)."""
    with torch.no_grad():
        exact = model.double()(torch.from_numpy(x).double()).numpy()
    model.float()
    scale = max(oc.LOGIT_SCALE, float(abs(want).max()))
    return max(RELATIVE_TOLERANCE * scale, 2.0 * float(abs(want - exact).max()))


class FamilyExportCase(unittest.TestCase):
    WORK = "export_families"

    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir(cls.WORK)

    def export_and_compare(self, arch, expected_ops, seed, size=oc.INPUT_SIZE, name=None, options=None,
                           replace_head=None, export_args=()):
        """Exports a calibrated torchvision `arch` (built with `options`) with
        auto-detection and verification, and compares ONNX Runtime and
        `pt2onnx run` with PyTorch on `size` x `size` probes. Returns export's output."""
        name = name or arch
        model = oc.make_nontrivial_model(2, seed=seed, arch=arch, replace_head=replace_head, **(options or {}))
        ckpt = oc.save_checkpoint(model, self.work / f"{name}.pth")
        ours = self.work / f"{name}.onnx"
        proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", ours, *export_args)
        self.assertIn(f"Architecture: {arch} (detected: all ", proc.stdout)
        self.assertIn("Verification passed!", proc.stdout)
        _, dims = oc.onnx_structure(ours)
        self.assertEqual(dims, ["batch", 2])
        ops = ro.op_types(ours)
        for op in expected_ops:
            self.assertIn(op, ops)

        theirs = ro.export(model, self.work / f"{name}_torch.onnx", torch.randn(1, 3, size, size))
        for batch in (1, 3):
            xs = oc.probe_inputs(batch, seed=seed + batch, size=size)
            from_ort = oc.ort_run(ours, list(xs.values()))
            for (probe, x), ort_out in zip(xs.items(), from_ort):
                with self.subTest(arch=name, batch=batch, probe=probe):
                    want = oc.torch_eval(model, x)
                    self.assertGreater(abs(want).max(), 1.0)
                    tol = tolerance(model, x, want)
                    self.assertLessEqual(ro.max_abs_diff(ort_out, want), tol, "ONNX Runtime, our file")
                    got = ro.pt2onnx_run(ours, x, self.work, f"{name}_b{batch}_{probe}")
                    self.assertLessEqual(ro.max_abs_diff(got, want), tol, "pt2onnx run, our file")
                    got = ro.pt2onnx_run(theirs, x, self.work, f"{name}_torch_b{batch}_{probe}")
                    self.assertLessEqual(ro.max_abs_diff(got, want), tol, "pt2onnx run, torch's file")
        for path in (ckpt, ours, theirs):
            path.unlink()
        return proc
