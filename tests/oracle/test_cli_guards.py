"""Guards of the command line that protect the user's files and the machine:
an output path naming the model, an input or an input list is refused with
exit 2 and the file is left as it was (run, infer); --threads beyond 8 per
CPU, negative or not a number is a usage error naming the limit (run, bench,
infer, verify), never a crash inside the thread library."""

import hashlib
import os
import unittest

import numpy as np

import oracle_common as oc
import runtime_oracle as ro

EXIT_USAGE = 2


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


class CliGuards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("cli_guards")
        cls.onnx = ro.export_tiny_classifier(cls.work / "tiny.onnx")
        cls.x = cls.work / "x.npy"
        np.save(cls.x, np.random.default_rng(0).standard_normal((1, 3, 8, 8), dtype=np.float32))

    def refused(self, args, *needles):
        proc = oc.run_pt2onnx(*args, check=False)
        self.assertEqual(proc.returncode, EXIT_USAGE, f"{args}: {proc.stderr}")
        for n in needles:
            self.assertIn(str(n), proc.stderr)
        return proc

    def test_run_never_writes_over_its_model_or_inputs(self):
        model_before, x_before = digest(self.onnx), digest(self.x)
        self.refused(["run", self.onnx, "-i", self.x, "-o", self.x], "is the input", self.x)
        self.refused(["run", self.onnx, "-i", self.x, "-o", self.onnx], "is the model")
        os.link(self.x, self.work / "x_link.npy") if not (self.work / "x_link.npy").exists() else None
        self.refused(["run", self.onnx, "-i", self.x, "-o", self.work / "x_link.npy"], "is the input")
        self.refused(["run", self.onnx, "-i", self.x, "-o", self.work / ".." / self.work.name / "x.npy"], "is the input")
        self.assertEqual((digest(self.onnx), digest(self.x)), (model_before, x_before))
        # A fresh output is fine.
        oc.run_pt2onnx("run", self.onnx, "-i", self.x, "-o", self.work / "y.npy")
        self.assertEqual(np.load(self.work / "y.npy").shape, (1, 2))

    def test_infer_never_writes_over_its_model_inputs_or_list(self):
        image = self.work / "image.png"
        from PIL import Image
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
        listing = self.work / "list.txt"
        listing.write_text(f"{image}\n")
        before = [digest(p) for p in (self.onnx, image, listing)]
        self.refused(["infer", self.onnx, image, "--output", self.onnx], "is the model")
        self.refused(["infer", self.onnx, image, "--output", image], "is the input")
        self.refused(["infer", self.onnx, f"@{listing}", "--output", listing], "is the input list")
        self.assertEqual([digest(p) for p in (self.onnx, image, listing)], before)

    def test_thread_counts_have_a_bound_and_a_clear_message(self):
        limit = max(8, 8 * len(os.sched_getaffinity(0)))
        commands = {
            "run": ["run", self.onnx, "-i", self.x, "-o", self.work / "t.npy"],
            "bench": ["bench", self.onnx, "--seconds", "0.1"],
            "infer": ["infer", self.onnx, self.x, "--output", self.work / "t.csv"],
            "verify": ["verify", self.onnx, "--checkpoint", self.x],
        }
        for name, args in commands.items():
            with self.subTest(command=name):
                self.refused(args + ["--threads", "100000"], "--threads", f"more than the {limit}")
                self.refused(args + ["--threads", str(limit + 1)], f"more than the {limit}")
                proc = self.refused(args + ["--threads=-3"], "'-3' is not a thread count")
                self.assertNotIn("1.79769", proc.stderr)  # no DBL_MAX in the message
                self.refused(args + ["--threads", "two"], "'two' is not a thread count")
        proc = oc.run_pt2onnx("run", self.onnx, "-i", self.x, "-o", self.work / "t.npy", "--threads", str(limit),
                              check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
