"""`export` and `infer` take the same --labels and preprocessing flags
(--resize, --crop, --interpolation, --mean, --std): through the real CLI, each
string is accepted by both or refused by both, with the same exit code, and a
refusal names the flag."""

import subprocess
import unittest

import numpy as np
from PIL import Image

import oracle_common as oc

EXIT_OK, EXIT_USAGE = 0, 2

LABELS = ["benign,malignant", " benign , malignant ", "a,,b", "a,", ",b", "a,a", "a, a", "only_one", "a,b,c", ""]
PREPROCESS = [
    [],
    ["--resize", "224x224"],
    ["--resize", "256", "--crop", "224"],
    ["--resize", "256x300", "--crop", "224x224", "--interpolation", "bicubic"],
    ["--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25"],
    ["--resize", "0x5"],
    ["--resize", "-3"],
    ["--resize", "224x"],
    ["--crop", "abc"],
    ["--crop", "none"],
    ["--interpolation", "lanczos"],
    ["--mean", "1,2"],
    ["--mean", "a,b,c"],
    ["--std", "0,1,1"],
    ["--std", "1,1,nan"],
    ["--resize", "256"],  # a shorter-side resize with no crop: sizes vary, the model needs 224x224
    ["--resize", "100x100"],  # not the model's input size
]


class SharedOptions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("shared_options")
        cls.checkpoint = cls.work / "demo.pth"
        oc.run_pt2onnx("demo-checkpoint", cls.checkpoint)
        cls.model = cls.work / "demo.onnx"
        oc.run_pt2onnx("export", "--input", cls.checkpoint, "--output", cls.model, "--no-verify")
        cls.image = cls.work / "image.png"
        rng = np.random.default_rng(3)
        Image.fromarray(rng.integers(0, 255, (230, 301, 3), dtype=np.uint8)).save(cls.image)

    def export(self, *flags, tag):
        out = self.work / f"export_{tag}.onnx"
        proc = oc.run_pt2onnx("export", "--input", self.checkpoint, "--output", out, "--no-verify", *flags, check=False)
        return proc

    def infer(self, *flags, tag):
        out = self.work / f"infer_{tag}.csv"
        proc = oc.run_pt2onnx("infer", self.model, self.image, "--output", out, "--no-progress", *flags, check=False)
        return proc

    def assert_same(self, flags, tag):
        e, i = self.export(*flags, tag=tag), self.infer(*flags, tag=tag)
        self.assertIn(e.returncode, (EXIT_OK, EXIT_USAGE), e.stderr)
        self.assertEqual(e.returncode, i.returncode,
                         f"{flags}: export exit {e.returncode} ({e.stderr.strip()}), "
                         f"infer exit {i.returncode} ({i.stderr.strip()})")
        if e.returncode == EXIT_USAGE:
            flag = next(f for f in flags if f.startswith("--")) if flags else None
            for proc in (e, i):
                self.assertIn(flag, proc.stderr, f"{flags}: the error names the flag")
        return e.returncode

    def test_labels(self):
        codes = {}
        for n, text in enumerate(LABELS):
            with self.subTest(labels=text):
                codes[text] = self.assert_same(["--labels", text] if text else [], f"labels{n}")
        # Both directions happen: the lists are not all accepted or all refused.
        self.assertEqual(codes["benign,malignant"], EXIT_OK)
        self.assertEqual(codes["a,a"], EXIT_USAGE)
        self.assertEqual(codes["a,,b"], EXIT_USAGE)

    def test_preprocessing(self):
        codes = []
        for n, flags in enumerate(PREPROCESS):
            with self.subTest(flags=flags):
                codes.append(self.assert_same(flags, f"pre{n}"))
        self.assertIn(EXIT_OK, codes[:5])
        self.assertEqual(codes[:5], [EXIT_OK] * 5)
        self.assertEqual(codes[5:9], [EXIT_USAGE] * 4)


if __name__ == "__main__":
    unittest.main()
