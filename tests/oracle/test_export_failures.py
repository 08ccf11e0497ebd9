"""What pt2onnx export refuses, and that a refusal writes nothing: checkpoints
of other architectures (with the "looks like" diagnostic, exit 4), the
checkpoint as its own output, labels that do not fit. An existing output file
survives every failure untouched."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle_common as oc  # noqa: E402

ARCH_MISMATCH = 4
USAGE = 2
BAD_INPUT = 3


class ExportFailures(unittest.TestCase):
    def assert_refused(self, work, args, code, fragments):
        out = work / "model.onnx"
        out.write_bytes(b"previous export")
        before = sorted(p.name for p in work.iterdir())
        proc = oc.run_pt2onnx("export", *args, "--output", out, check=False)
        self.assertEqual(proc.returncode, code, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        for fragment in fragments:
            self.assertIn(fragment, proc.stderr)
        self.assertTrue(proc.stderr.startswith("pt2onnx: error: "), proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, "one paragraph")
        self.assertEqual(out.read_bytes(), b"previous export")
        self.assertEqual(sorted(p.name for p in work.iterdir()), before, "no temporary file left behind")

    def test_other_architectures_are_named(self):
        for arch, n_out in (("efficientnet_b1", 2), ("resnet18", 3)):
            with self.subTest(arch=arch):
                work = oc.work_dir(f"mismatch_{arch}")
                ckpt = oc.save_checkpoint(oc.create_model(n_out, arch=arch), work / "model.pth")
                # An explicit --arch that the checkpoint does not fit (the default, auto, would find it).
                self.assert_refused(work, ["--input", ckpt, "--arch", "efficientnet_b0"], ARCH_MISMATCH,
                                    ["does not fit efficientnet_b0", f"looks like {arch}"])

    def test_the_checkpoint_is_never_the_output(self):
        work = oc.work_dir("same_file")
        ckpt = oc.save_checkpoint(oc.create_model(2), work / "model.pth")
        before = ckpt.read_bytes()
        for out in (ckpt, work / "." / "model.pth"):
            proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", out, check=False)
            self.assertEqual(proc.returncode, USAGE, proc.stderr)
            self.assertIn("is the input checkpoint", proc.stderr)
        link = work / "link.onnx"
        link.symlink_to(ckpt)
        proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", link, check=False)
        self.assertEqual(proc.returncode, USAGE, proc.stderr)
        self.assertEqual(ckpt.read_bytes(), before)

    def test_labels_must_fit_the_outputs(self):
        work = oc.work_dir("labels")
        ckpt = oc.save_checkpoint(oc.create_model(2), work / "model.pth")
        self.assert_refused(work, ["--input", ckpt, "--labels", "a,b,c"], USAGE,
                            ["3 label names given (a,b,c) but the model has 2 outputs"])
        self.assert_refused(work, ["--input", ckpt, "--labels", "a,,b"], USAGE, ["empty name"])
        bad = oc.save_checkpoint(oc.create_model(2), work / "labelled.pth", labels=["only-one"])
        self.assert_refused(work, ["--input", bad], BAD_INPUT, ["its 'labels' entry does not fit: 1 label names given (only-one) but the model has 2 outputs", "--labels"])

    def test_missing_checkpoint(self):
        work = oc.work_dir("missing")
        self.assert_refused(work, ["--input", work / "absent.pth"], BAD_INPUT, ["absent.pth"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
