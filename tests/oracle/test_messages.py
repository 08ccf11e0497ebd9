"""Errors that must name the right thing and say enough, each checked through
the command a user runs:

- a node that cannot run on the given shapes names the model and the node,
  not the input array; a wrong array still names its file;
- a corrupt zip checkpoint is described in pt2onnx's words, not libzip's;
- an ONNX input with a zero-sized axis names the axis; a model whose only
  input is also an initializer says so;
- NaN, inf or negative tolerances, thresholds and durations are usage errors;
- a checkpoint with NaN in a weight, or weights so large (1e38) that a layer
  overflows, fails verification saying that the outputs are not finite and
  which layer is the first to go wrong: the same module where PyTorch's own
  forward hooks first see NaN or inf;
- DICOM Pixel Data of undefined length that is not encapsulated names Pixel
  Data, and a codec failure names the codec and what it was given;
- a JPEG or PNG cut inside its signature is called truncated;
- BatchNormalization with a negative or NaN epsilon, and Clip with the
  pre-opset-11 min attribute, are refused;
- `infer --resize` too large for any image is refused before any image is
  decoded;
- a write that fails (file size limit) names the output, the temporary only in
  brackets."""

import os
import resource
import signal
import subprocess
import sys
import unittest

import numpy as np
import onnx
import pydicom
import torch
from onnx import TensorProto, helper, numpy_helper
from pydicom.encaps import encapsulate

import oracle_common as oc
from test_vision_dicom import write_dicom

EXIT_USAGE, EXIT_BAD_INPUT, EXIT_UNSUPPORTED, EXIT_VERIFY = 2, 3, 7, 6


def save_model(path, nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def info(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def first_non_finite_module(model, x):
    """The first leaf module (in execution order) whose output holds NaN or inf, by PyTorch's forward hooks."""
    found = []

    def hook(name):
        def record(_module, _inputs, output):
            if not found and not torch.isfinite(output).all():
                found.append(name)
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if not list(m.children())]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return found[0] if found else None


class Messages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("messages")
        cls.x = cls.work / "x.npy"
        np.save(cls.x, np.ones((1, 2), np.float32))

    def failed(self, args, code, *needles, never=()):
        proc = oc.run_pt2onnx(*args, check=False)
        self.assertEqual(proc.returncode, code, f"{args}: {proc.stdout[-1500:]}\n{proc.stderr}")
        for n in needles:
            self.assertIn(n, proc.stderr)
        for n in never:
            self.assertNotIn(n, proc.stderr)
        return proc

    def test_corrupt_zip_in_our_words(self):
        model = torch.nn.Linear(4, 2)
        path = self.work / "ckpt.pth"
        torch.save({"model_state_dict": model.state_dict()}, path)
        data = bytearray(path.read_bytes())
        second = data.find(b"PK\x03\x04", 4)
        data[second + 26] ^= 0x40  # the second entry's local header: a wrong name length
        bad = self.work / "bad.pth"
        bad.write_bytes(bytes(data))
        self.failed(["inspect", bad], EXIT_BAD_INPUT, str(bad), "disagree",
                    never=["Zip archive inconsistent", "No such file", "File already exists"])

    def test_a_model_defect_is_not_blamed_on_the_input(self):
        # Gemm with transA=1 on [N, 4]: K is the batch axis, so the weight [3, 5] fits N = 3 only.
        weight = numpy_helper.from_array(np.ones((3, 5), np.float32), "w")
        gemm = helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transA=1)
        model = save_model(self.work / "gemm.onnx", [gemm], [info("x", ["N", 4])], [info("y", [4, 5])], [weight])
        x = self.work / "x24.npy"
        np.save(x, np.ones((2, 4), np.float32))
        self.failed(["run", model, "-i", x, "-o", self.work / "y.npy"], EXIT_BAD_INPUT, "gemm.onnx", "node 'fc'",
                    never=["x24.npy"])
        # An array of the wrong rank is the array's fault, and its file is named.
        np.save(x, np.ones((2, 4, 1), np.float32))
        self.failed(["run", model, "-i", x, "-o", self.work / "y.npy"], EXIT_BAD_INPUT, "x24.npy")

    def test_zero_sized_axis_and_input_that_is_an_initializer(self):
        relu = helper.make_node("Relu", ["x"], ["y"])
        zero = save_model(self.work / "zero.onnx", [relu], [info("x", [1, 0, 3])], [info("y", [1, 0, 3])])
        self.failed(["run", zero, "-i", self.x, "-o", self.work / "y.npy"], EXIT_BAD_INPUT, "input 'x'",
                    "axis 1 has size 0")
        constant = numpy_helper.from_array(np.ones((1, 2), np.float32), "x")
        both = save_model(self.work / "both.onnx", [relu], [info("x", [1, 2])], [info("y", [1, 2])], [constant])
        self.failed(["run", both, "-i", self.x, "-o", self.work / "y.npy"], EXIT_UNSUPPORTED, "also an initializer",
                    "'x'", never=["has no inputs"])

    def test_non_finite_numbers_on_the_command_line(self):
        ckpt, model = self.work / "any.pth", self.work / "any.onnx"
        for placeholder in (ckpt, model):
            placeholder.write_bytes(b"")  # the checks of the numbers come before any file is read
        for args in (["export", "--input", ckpt, "--atol", "nan"], ["export", "--input", ckpt, "--atol", "-1"],
                     ["export", "--input", ckpt, "--rtol", "inf"], ["export", "--input", ckpt, "--dropout", "nan"],
                     ["export", "--input", ckpt, "--spread-multiple", "nan"],
                     ["verify", model, "--checkpoint", ckpt, "--atol", "nan"],
                     ["infer", model, self.work, "--threshold", "nan"], ["bench", model, "--seconds", "nan"],
                     ["bench", model, "--seconds", "-2"]):
            proc = oc.run_pt2onnx(*args, check=False)
            self.assertEqual(proc.returncode, EXIT_USAGE, f"{args}: {proc.stderr}")
            self.assertIn("finite number", proc.stdout + proc.stderr, args)

    def test_non_finite_weights_name_the_first_layer(self):
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(42))
        # NaN in one convolution weight; the stem convolution's weights all
        # 1e38, so that its sums over 27 inputs overflow in float32 and in
        # double alike.
        for case, module in (("nan", "features.2.0.block.0.0"), ("huge", "features.0.0")):
            torch.manual_seed(3)
            model = oc.create_model(2).eval()
            with torch.no_grad():
                if case == "nan":
                    model.features[2][0].block[0][0].weight[0, 0, 0, 0] = float("nan")
                else:
                    model.features[0][0].weight.fill_(1e38)
            path = oc.save_checkpoint(model, self.work / f"{case}.pth")
            where = first_non_finite_module(model, x)
            self.assertEqual(where, module, "where PyTorch's hooks first see NaN or inf")
            proc = self.failed(["export", "--input", path, "--output", self.work / f"{case}.onnx"], EXIT_VERIFY,
                               "not finite", f"layer {where} (", never=["max difference 0"])
            if case == "nan":
                self.assertIn("parameter 'weight'", proc.stderr)
            self.assertFalse((self.work / f"{case}.onnx").exists())

    def test_dicom_messages(self):
        pixels = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
        native = self.work / "native.dcm"
        write_dicom(native, pixels, bits_stored=12)
        data = bytearray(native.read_bytes())
        at = data.find(b"\xe0\x7f\x10\x00OW\x00\x00")
        self.assertGreater(at, 0)
        data[at + 8:at + 12] = b"\xff\xff\xff\xff"
        undefined = self.work / "undefined.dcm"
        undefined.write_bytes(bytes(data))

        codec = self.work / "codec.dcm"
        write_dicom(codec, pixels, bits_stored=12)
        ds = pydicom.dcmread(str(codec))
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.70"  # JPEG Lossless, first-order prediction
        ds.PixelData = encapsulate([b"\xff\xd8\xff\xc3" + bytes(range(200))])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        ds.is_implicit_VR = False
        ds.save_as(str(codec), write_like_original=False)

        for path, needles in ((undefined, ["(7FE0,0010)", "not encapsulated"]),
                              (codec, ["JPEG Lossless", "1.2.840.10008.1.2.4.70", "corrupt or truncated", "48x64"])):
            probe = subprocess.run([os.environ["PT2ONNX_VISION_PROBE"], "decode", str(path), str(self.work / "o.npy")],
                                   capture_output=True, text=True)
            self.assertNotEqual(probe.returncode, 0, path)
            for n in needles:
                self.assertIn(n, probe.stderr, path)
            self.assertNotIn("(0000,0101)", probe.stderr)

    def test_truncated_signatures(self):
        (self.work / "cut.jpg").write_bytes(b"\xff\xd8")
        (self.work / "cut.png").write_bytes(b"\x89PNG")
        for name, needle in (("cut.jpg", "truncated JPEG"), ("cut.png", "truncated PNG")):
            probe = subprocess.run([os.environ["PT2ONNX_VISION_PROBE"], "decode", str(self.work / name),
                                    str(self.work / "o.npy")], capture_output=True, text=True)
            self.assertIn(needle, probe.stderr, name)

    def test_batchnorm_epsilon_and_old_clip_attribute(self):
        params = [numpy_helper.from_array(np.ones(2, np.float32), n) for n in ("s", "b", "m", "v")]
        for eps in (-1.0, float("nan")):
            bn = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=eps)
            path = save_model(self.work / "bn.onnx", [bn], [info("x", [1, 2])], [info("y", [1, 2])], params)
            self.failed(["run", path, "-i", self.x, "-o", self.work / "y.npy"], EXIT_BAD_INPUT, "epsilon")
        clip = helper.make_node("Clip", ["x"], ["y"], min=0.0)
        path = save_model(self.work / "clip.onnx", [clip], [info("x", [1, 2])], [info("y", [1, 2])])
        self.failed(["run", path, "-i", self.x, "-o", self.work / "y.npy"], EXIT_BAD_INPUT, "'min' attribute",
                    "opset 11")

    def test_absurd_resize_is_refused_before_decoding(self):
        relu = helper.make_node("Relu", ["image"], ["logits"])
        model = save_model(self.work / "img.onnx", [relu], [info("image", [1, 3, 224, 224])],
                           [info("logits", [1, 3, 224, 224])])
        images = self.work / "images"
        images.mkdir(exist_ok=True)
        (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
        proc = self.failed(["infer", model, images, "--resize", "30000", "--crop", "224"], EXIT_USAGE,
                           "resize 30000", "over the limit")
        self.assertEqual(proc.stdout, "", "no rows: nothing was decoded")

    def test_failed_write_names_the_output(self):
        # A file size limit stands in for a full disk: the write fails part way.
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

        relu = helper.make_node("Relu", ["x"], ["y"])
        model = save_model(self.work / "big.onnx", [relu], [info("x", [1, 3, 224, 224])], [info("y", [1, 3, 224, 224])])
        big = self.work / "big_in.npy"
        np.save(big, np.ones((1, 3, 224, 224), np.float32))
        for name, args in (("limited.pth", ["demo-checkpoint"]), ("limited.npy", ["run", model, "-i", big, "-o"])):
            out = self.work / name
            proc = subprocess.run([oc.PT2ONNX, *map(str, args), str(out)], capture_output=True, text=True,
                                  preexec_fn=limit)
            self.assertEqual(proc.returncode, EXIT_BAD_INPUT, proc.stderr)
            self.assertIn(f"cannot write {out}: File too large (while writing its temporary file", proc.stderr)
            self.assertFalse(out.exists())
            self.assertEqual([p.name for p in self.work.iterdir() if p.name.startswith(f".{name}")], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
