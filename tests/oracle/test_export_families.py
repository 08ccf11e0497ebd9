"""The CNN families beyond EfficientNet and ResNet, from real torchvision
checkpoints (BatchNorm calibrated on image batches, logits of about 10):

- `pt2onnx export` with no --arch identifies each architecture and exports
  it with default verification;
- ONNX Runtime running that file matches PyTorch eager, and so does
  `pt2onnx run` on it and on torch.onnx.export's file of the same model,
  within 1e-4 of the logits' scale, or within twice PyTorch's own float32
  error (float32 eager against float64 eager) where that is larger: on
  ResNeXt-50 ONNX Runtime on torch's own file differs from PyTorch by 1.2e-4
  of the logits, and PyTorch float32 from float64 by 0.7e-4;
- heads users train in place of the family's last Linear are read from the
  checkpoint (Dropout + Linear, an MLP with ReLU) or described by --head;
- auto-detection tells look-alikes apart (ResNeXt, Wide ResNet and ResNet;
  EfficientNet-B0 and B1; MobileNet V3 small and large; the widths of
  MNASNet, ShuffleNet and ConvNeXt), and a model of a family pt2onnx does not
  rebuild is refused with exit 7, naming the nearest family and the route
  that works today.

The larger families are in test_export_families_large.py.
"""

import unittest

import torch
import torchvision

import oracle_common as oc
from families_common import FamilyExportCase

class Families(FamilyExportCase):
    def test_mobilenet_v2(self):
        self.export_and_compare("mobilenet_v2", ["Clip", "Conv", "Add", "GlobalAveragePool", "Gemm"], seed=21)

    def test_mobilenet_v3_small(self):
        self.export_and_compare("mobilenet_v3_small", ["HardSwish", "HardSigmoid", "Relu", "Mul", "Add"], seed=22)

    def test_mobilenet_v3_large(self):
        self.export_and_compare("mobilenet_v3_large", ["HardSwish", "HardSigmoid", "Relu", "Mul", "Add"], seed=23)

    def test_regnet_y_400mf(self):
        # Grouped convolutions (8 channels a group) and squeeze-excitation with ReLU and Sigmoid.
        self.export_and_compare("regnet_y_400mf", ["Conv", "Relu", "Sigmoid", "Mul", "Add", "Gemm"], seed=25)

    def test_regnet_x_400mf(self):
        self.export_and_compare("regnet_x_400mf", ["Conv", "Relu", "Add", "Gemm"], seed=26)

    def test_densenet121(self):
        # Concatenations, BatchNorm before its convolution (kept as BatchNormalization), average pooling.
        self.export_and_compare("densenet121", ["Concat", "BatchNormalization", "AveragePool", "Relu", "Gemm"],
                                seed=27)

    def test_squeezenet1_1(self):
        # Fire modules (concatenated expand branches), ceil_mode max pools, a convolutional classifier.
        self.export_and_compare("squeezenet1_1", ["Concat", "MaxPool", "Conv", "Relu", "GlobalAveragePool"], seed=28)

    def test_mnasnet0_5(self):
        self.export_and_compare("mnasnet0_5", ["Conv", "Relu", "Add", "GlobalAveragePool", "Gemm"], seed=29)

    def test_shufflenet_v2_x0_5(self):
        # x.chunk halves (Slice) and channel_shuffle (Reshape, Transpose, Reshape).
        self.export_and_compare("shufflenet_v2_x0_5", ["Slice", "Transpose", "Reshape", "Concat", "Gemm"], seed=35)

    def test_convnext_tiny(self):
        # LayerNorm over channels (Transpose, LayerNormalization), per-pixel Linear layers, GELU, layer scale.
        self.export_and_compare("convnext_tiny", ["LayerNormalization", "Transpose", "Erf", "Conv", "Mul", "Add"],
                                seed=36)

    def test_resnext50_32x4d(self):
        self.export_and_compare("resnext50_32x4d", ["Conv", "Relu", "MaxPool", "Add", "Gemm"], seed=24)


class Heads(FamilyExportCase):
    """Heads users train in place of the family's last Linear, read from the
    checkpoint or described by --head."""
    WORK = "export_families_heads"

    def test_dropout_and_linear_in_place_of_resnets_fc(self):
        def head(model, n_out):
            model.fc = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(512, n_out))
        proc = self.export_and_compare("resnet18", ["Gemm"], seed=40, name="resnet18_dropout_head", replace_head=head)
        self.assertIn("Note: the head at fc is Sequential(Dropout, Linear)", proc.stdout)

    def test_an_mlp_in_place_of_efficientnets_classifier(self):
        def head(model, n_out):
            model.classifier = torch.nn.Sequential(torch.nn.Linear(1280, 256), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                                   torch.nn.Linear(256, n_out))
        proc = self.export_and_compare("efficientnet_b0", ["Gemm", "Relu"], seed=41, name="b0_mlp_head",
                                       replace_head=head)
        self.assertIn("Note: the head at classifier is Sequential(Linear, ReLU, Dropout, Linear)", proc.stdout)
        self.assertIn("ReLU is assumed between them", proc.stdout)

    def test_head_describes_what_the_checkpoint_cannot(self):
        def head(model, n_out):
            model.classifier[3] = torch.nn.Sequential(torch.nn.Linear(1024, 64), torch.nn.GELU(),
                                                      torch.nn.Linear(64, n_out))
        proc = self.export_and_compare("mobilenet_v3_small", ["Erf", "Gemm"], seed=42, name="mv3_gelu_head",
                                       replace_head=head, export_args=("--head", "linear,gelu,linear"))
        self.assertIn("Note: the head at classifier.3 is Sequential(Linear, GELU, Linear), as --head describes",
                      proc.stdout)

    def test_a_bad_head_description_is_a_usage_error(self):
        torch.manual_seed(0)
        model = oc.create_model(2, arch="resnet18")
        path = self.work / "bad_head.pth"
        torch.save(model.state_dict(), path)
        for spec, message in (("linear,tanh,linear", "'tanh' is not a head module"),
                              ("linear,relu", "must end with linear"),
                              ("dropout(1.5),linear", "a dropout probability is a number from 0 to 1")):
            with self.subTest(spec=spec):
                proc = oc.run_pt2onnx("export", "--input", path, "--output", self.work / "bad_head.onnx",
                                      "--head", spec, check=False)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertFalse((self.work / "bad_head.onnx").exists())


class InputSize(FamilyExportCase):
    """--image-size: a convolutional family at another square size, compared with PyTorch there; sizes a family
    cannot take are usage errors naming why."""
    WORK = "export_families_size"

    def test_a_resnet_at_160(self):
        proc = self.export_and_compare("resnet18", ["Conv", "Gemm"], seed=43, size=160, name="resnet18_160",
                                       export_args=("--image-size", "160"))
        self.assertIn("Note: input size 160x160 (--image-size); trained at 224x224", proc.stdout)
        self.assertIn("Input: (batch, 3, 160, 160)", proc.stdout)

    def test_sizes_a_family_cannot_take_are_usage_errors(self):
        torch.manual_seed(0)
        for arch, args, message in (
                ("alexnet", ("--image-size", "8"), "--image-size 8: too small for AlexNet: layer features.2 "
                                                   "(MaxPool2d) would have no output cells at 8x8"),
                ("resnet18", ("--image-size", "160", "--interpolate-position-embedding"),
                 "--interpolate-position-embedding: ResNet-18 has no position embedding"),
                ("resnet18", ("--interpolate-position-embedding",), "--interpolate-position-embedding needs "
                                                                    "--image-size")):
            with self.subTest(arch=arch, args=args):
                path = self.work / f"{arch}.pth"
                if not path.exists():
                    torch.save(oc.create_model(2, arch=arch).state_dict(), path)
                out = self.work / f"{arch}_sized.onnx"
                proc = oc.run_pt2onnx("export", "--input", path, "--output", out, "--no-verify", *args, check=False)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertFalse(out.exists())


def detect(test, state_dict, name):
    """Runs `pt2onnx export` with the default --arch on a bare state dict
    (float16: half the file) and returns the process."""
    path = test.work / f"{name}.pth"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state_dict.items()}, path)
    return oc.run_pt2onnx("export", "--input", path, "--output", test.work / f"{name}.onnx", "--no-verify",
                          check=False)


class AutoDetection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("export_families_detect")

    def test_look_alikes_are_told_apart(self):
        for arch in ("resnet50", "resnext50_32x4d", "wide_resnet50_2", "resnet18", "resnet34", "efficientnet_b0",
                     "efficientnet_b1", "mobilenet_v3_small", "mobilenet_v3_large", "mobilenet_v2",
                     "regnet_x_400mf", "regnet_y_400mf", "regnet_x_800mf", "regnet_y_1_6gf", "regnet_x_8gf",
                     "densenet121", "densenet169", "squeezenet1_0", "squeezenet1_1", "mnasnet0_5",
                     "mnasnet0_75", "alexnet", "vgg11", "vgg11_bn", "googlenet", "inception_v3", "efficientnet_v2_s", "efficientnet_v2_m",
                     "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "convnext_tiny", "convnext_small"):
            with self.subTest(arch=arch):
                torch.manual_seed(0)
                model = oc.create_model(3, arch=arch)
                proc = detect(self, model.state_dict(), arch)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                # Every parameter and buffer but BatchNorm's num_batches_tracked, which no layer reads, and the
                # training-only auxiliary classifiers, which are dropped.
                tensors = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")
                           and not k.startswith(("aux1.", "aux2.", "AuxLogits."))]
                self.assertIn(f"Architecture: {arch} (detected: all {len(tensors)} of its tensors fit", proc.stdout)
                (self.work / f"{arch}.pth").unlink()

    def test_another_family_is_unsupported_with_the_nearest_named(self):
        # Swin V2-T: a torchvision family pt2onnx does not rebuild (its attention's cosine scale and bias MLP).
        model = torchvision.models.swin_v2_t(weights=None)
        proc = detect(self, model.state_dict(), "swin_v2_t")
        self.assertEqual(proc.returncode, 7, proc.stderr)
        self.assertIn("fits none of the architectures pt2onnx rebuilds", proc.stderr)
        self.assertIn("families: EfficientNet, ResNet, MobileNet, RegNet, DenseNet, SqueezeNet", proc.stderr)
        self.assertIn("The nearest is swin_t (Swin)", proc.stderr)
        self.assertIn("torch.onnx.export", proc.stderr)
        self.assertIn("pt2onnx run", proc.stderr)

    def test_a_resnet_with_a_changed_layer_names_resnet_and_what_differs(self):
        torch.manual_seed(0)
        model = oc.create_model(2, arch="resnet18")
        model.layer3[1].conv2 = torch.nn.Conv2d(256, 256, 5, padding=2, bias=False)
        proc = detect(self, model.state_dict(), "resnet18_changed")
        self.assertEqual(proc.returncode, 7, proc.stderr)
        self.assertIn("The nearest is resnet18 (ResNet)", proc.stderr)
        self.assertIn("layer3.1.conv2.weight is [256, 256, 5, 5] in the checkpoint, [256, 256, 3, 3] expected",
                      proc.stderr)

    def test_an_explicit_arch_still_wins(self):
        torch.manual_seed(0)
        model = oc.create_model(2, arch="resnet18")
        path = self.work / "explicit.pth"
        torch.save(model.state_dict(), path)
        proc = oc.run_pt2onnx("export", "--input", path, "--output", self.work / "explicit.onnx", "--arch",
                              "resnet34", "--no-verify", check=False)
        self.assertEqual(proc.returncode, 4, proc.stderr)
        self.assertIn("does not fit resnet34", proc.stderr)
        self.assertIn("This looks like resnet18", proc.stderr)
        self.assertNotIn("Architecture:", proc.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
