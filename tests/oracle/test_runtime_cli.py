"""`pt2onnx run` as a user meets it: .npy in and out, one loaded model per
call, and clear errors (naming the file, input or node) with the documented
exit codes for malformed or mismatched arrays and models."""

import unittest

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

import oracle_common as oc
import runtime_oracle as ro

EXIT_USAGE, EXIT_BAD_INPUT, EXIT_UNSUPPORTED = 2, 3, 7


class RunCommand(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_cli")
        cls.model = ro.tiny_classifier()
        cls.onnx = ro.export(cls.model, cls.work / "tiny.onnx", torch.randn(1, 3, 8, 8))

    def run_expecting(self, code, args, *needles):
        proc = oc.run_pt2onnx("run", *args, check=False)
        self.assertEqual(proc.returncode, code, proc.stderr)
        for n in needles:
            self.assertIn(str(n), proc.stderr)
        return proc

    def test_round_trip_at_several_batch_sizes(self):
        for batch in (1, 7, 2):
            x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8), dtype=np.float32)
            got = ro.pt2onnx_run(self.onnx, x, self.work, f"b{batch}")
            self.assertEqual(got.dtype, np.float32)
            self.assertEqual(got.shape, (batch, 2))
            self.assertLessEqual(ro.max_abs_diff(got, oc.torch_eval(self.model, x)), 1e-5)

    def test_mismatched_arrays_name_the_file_and_the_input(self):
        out = self.work / "out.npy"
        wrong_shape = self.work / "wrong_shape.npy"
        np.save(wrong_shape, np.zeros((2, 3, 9, 8), np.float32))
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", wrong_shape, "-o", out],
                           "wrong_shape.npy", "input 'image'", "[batch, 3, 8, 8]")
        wrong_rank = self.work / "wrong_rank.npy"
        np.save(wrong_rank, np.zeros((3, 8, 8), np.float32))
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", wrong_rank, "-o", out], "wrong_rank.npy", "rank 3")
        float64 = self.work / "float64.npy"
        np.save(float64, np.zeros((1, 3, 8, 8), np.float64))
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", float64, "-o", out], "float64.npy")
        fortran = self.work / "fortran.npy"
        np.save(fortran, np.asfortranarray(np.zeros((1, 3, 8, 8), np.float32)))
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", fortran, "-o", out], "fortran.npy")
        self.assertFalse(out.exists())

    def test_malformed_array_file(self):
        garbage = self.work / "garbage.npy"
        garbage.write_bytes(b"\x93NUMPY\x01\x00\xff\xff{'descr'")
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", garbage, "-o", self.work / "o.npy"], "garbage.npy")
        truncated = self.work / "truncated.npy"
        np.save(truncated, np.zeros((1, 3, 8, 8), np.float32))
        truncated.write_bytes(truncated.read_bytes()[:-10])
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", truncated, "-o", self.work / "o.npy"], "truncated.npy")

    def test_failed_run_leaves_an_existing_output_untouched(self):
        out = self.work / "keep.npy"
        np.save(out, np.arange(3, dtype=np.float32))
        bad = self.work / "bad.npy"
        np.save(bad, np.zeros((1, 3, 2, 2), np.float32))
        self.run_expecting(EXIT_BAD_INPUT, [self.onnx, "-i", bad, "-o", out])
        np.testing.assert_array_equal(np.load(out), np.arange(3, dtype=np.float32))

    def test_bad_models(self):
        x = self.work / "x.npy"
        np.save(x, np.zeros((1, 3), np.float32))
        broken = self.work / "broken.onnx"
        broken.write_bytes(self.onnx.read_bytes()[:200])
        self.run_expecting(EXIT_BAD_INPUT, [broken, "-i", x, "-o", self.work / "o.npy"], "broken.onnx")
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="act"),
                                   helper.make_node("Acos", ["r"], ["y"], name="the_acos")], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
        acos = self.work / "acos.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), acos)
        self.run_expecting(EXIT_UNSUPPORTED, [acos, "-i", x, "-o", self.work / "o.npy"], "the_acos", "Acos", "acos.onnx")
        self.run_expecting(EXIT_USAGE, [self.onnx, "-i", x, "-i", x, "-o", self.work / "o.npy"], "1 input(s)")


if __name__ == "__main__":
    unittest.main()
