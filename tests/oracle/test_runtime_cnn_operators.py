"""pt2onnx's engine on the torchvision families that need more than
convolutions and pools, exported by torch.onnx.export (opset 17, dynamic
batch), against PyTorch eager and ONNX Runtime at batch 1 and 3:

- MNASNet-0.5: the head's x.mean([2, 3]) (ReduceMean, axes attribute, keepdims 0);
- ShuffleNet V2 x0.5: channel shuffles (Reshape to [N, 2, C/2, H, W], Transpose
  [0, 2, 1, 3, 4], Reshape back, the shapes computed with Shape, Gather, Div on
  integers, Cast, Unsqueeze, Concat), x.chunk(2, dim=1) as Slices of
  activations, ReduceMean;
- ConvNeXt-Tiny: Transposes to channels-last and back, LayerNormalization over
  the last axis, Linear layers as 4-D MatMul plus Add, the erf GELU (Div, Erf,
  Add, Mul, Mul), the [C, 1, 1] layer scale;
- GoogLeNet with transform_input=True (aux_logits=False): x[:, c] of the input
  image as Gather(image, scalar c, axis 1), then Unsqueeze, Mul, Add, and the
  three channels concatenated (Inception v3 exports the same pattern).

Tolerance: 1e-4 of the logits' scale (oc.LOGIT_SCALE, or the probe's largest
logit if larger), the house rule of test_export_families.py. PyTorch runs once
per probe at batch 3; in eval mode each image's logits are its own, so batch 1
is compared with the first row.
"""

import unittest

import torch

import oracle_common as oc
import runtime_oracle as ro

RELATIVE_TOLERANCE = 1e-4


class CnnOperators(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_cnn_operators")

    def check(self, arch, expected_ops, seed, calibration_batches=1, inspect=None, **options):
        model = oc.make_nontrivial_model(2, seed=seed, arch=arch, calibration_batches=calibration_batches,
                                         **options)
        path = ro.export(model, self.work / f"{arch}.onnx", torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE))
        ops = ro.op_types(path)
        for op in expected_ops:
            self.assertIn(op, ops)
        if inspect:
            inspect(path)
        probes = {k: v for k, v in oc.probe_inputs(3, seed=seed).items() if k != "half_normal"}
        wants = {k: oc.torch_eval(model, x) for k, x in probes.items()}
        for batch in (1, 3):
            from_ort = oc.ort_run(path, [x[:batch] for x in probes.values()])
            for (name, x), ort_out in zip(probes.items(), from_ort):
                with self.subTest(arch=arch, batch=batch, probe=name):
                    want = wants[name][:batch]
                    self.assertGreater(abs(want).max(), 1.0)
                    tol = RELATIVE_TOLERANCE * max(oc.LOGIT_SCALE, float(abs(want).max()))
                    got = ro.pt2onnx_run(path, x[:batch], self.work, f"{arch}_b{batch}_{name}")
                    diff_torch, diff_ort = ro.max_abs_diff(got, want), ro.max_abs_diff(got, ort_out)
                    print(f"{arch} batch {batch} {name}: |pt2onnx - PyTorch| {diff_torch:.2e}, "
                          f"|pt2onnx - ONNX Runtime| {diff_ort:.2e}, tolerance {tol:.2e}", flush=True)
                    self.assertLessEqual(diff_torch, tol, "against PyTorch eager")
                    self.assertLessEqual(diff_ort, tol, "against ONNX Runtime")

    def test_mnasnet0_5(self):
        self.check("mnasnet0_5", ["ReduceMean", "Conv", "Relu", "Add", "Gemm"], seed=31)

    def test_shufflenet_v2_x0_5(self):
        self.check("shufflenet_v2_x0_5", ["Transpose", "Slice", "ReduceMean", "Div", "Cast", "Reshape", "Concat"],
                   seed=32)

    def test_convnext_tiny(self):
        # No BatchNorm to calibrate: make_nontrivial_model perturbs its LayerNorms and layer scales.
        self.check("convnext_tiny", ["Transpose", "LayerNormalization", "Erf", "MatMul", "Mul", "Add"], seed=33,
                   calibration_batches=0)

    def test_googlenet_transform_input(self):
        def gathers_the_image(path):
            import onnx

            graph = onnx.load(str(path)).graph
            image = graph.input[0].name
            gathers = [n for n in graph.node if n.op_type == "Gather" and n.input[0] == image]
            self.assertEqual(len(gathers), 3, "x[:, c] as Gather of the input image, once per channel")
            for g in gathers:
                self.assertEqual([a.i for a in g.attribute if a.name == "axis"], [1])

        self.check("googlenet", ["Gather", "Unsqueeze", "Mul", "Add", "Concat", "MaxPool"], seed=34,
                   inspect=gathers_the_image, aux_logits=False, transform_input=True)


if __name__ == "__main__":
    unittest.main()
