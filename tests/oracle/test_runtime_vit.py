"""pt2onnx's engine on torchvision's ViT-B/32, exported by torch.onnx.export
(opset 17, dynamic batch), against PyTorch eager and ONNX Runtime at batch 1
and 2:

- the class token's `expand(n, -1, -1)`: Shape, Gather, Unsqueeze, Concat,
  Reshape, then ConstantOfShape, Mul, Equal and Where turning the -1s into 1s,
  and Expand of the token to the batch, concatenated before the patches;
- the patch embedding (a 32x32 stride-32 Conv, Reshape, Transpose) and the
  position embedding;
- nn.MultiheadAttention as exported: the batch moved off axis 0 ([seq, batch,
  embed]), one in_proj MatMul sliced into q, k and v, Reshapes to [batch *
  heads, seq, head_dim] from computed shapes, MatMul of two computed tensors
  (q k^T and the weights times v), Softmax over the last axis, out_proj as
  Gemm;
- LayerNormalization (ln_1, ln_2 and the last ln) and the erf GELU of the MLP.

The model: random weights, its LayerNorms' affine parameters perturbed, the
class token drawn (zeros at initialisation would make the expanded token
indistinguishable from any zero-fill), a 2-output head scaled so the logits are
of magnitude oc.LOGIT_SCALE. Tolerance: 1e-4 of the logits' scale, as in
test_runtime_cnn_operators.py. The export (about a minute) runs once.
"""

import unittest

import torch
import torchvision

import oracle_common as oc
import runtime_oracle as ro

RELATIVE_TOLERANCE = 1e-4


def vit_b_32(seed):
    torch.manual_seed(seed)
    model = torchvision.models.vit_b_32(weights=None)
    model.heads.head = torch.nn.Linear(model.heads.head.in_features, 2)
    with torch.no_grad():
        model.class_token.normal_()
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.mul_(1.0 + 0.3 * torch.randn_like(m.weight)).add_(0.05 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
        model.eval()
        mix = [torch.from_numpy(x) for x in oc.probe_inputs(1, seed=1000 + seed).values()]
        scale = oc.LOGIT_SCALE / float(model(torch.cat(mix)).abs().mean())
        model.heads.head.weight.mul_(scale)
        model.heads.head.bias.mul_(scale)
    return model


class VisionTransformer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_vit")
        cls.model = vit_b_32(seed=3)
        cls.path = ro.export(cls.model, cls.work / "vit_b_32.onnx",
                             torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE))

    def test_exports_the_class_token_expand(self):
        ops = ro.op_types(self.path)
        for op in ("ConstantOfShape", "Equal", "Where", "Expand", "Softmax", "LayerNormalization", "Erf"):
            self.assertIn(op, ops)
        # q k^T and the attention weights times v: MatMuls whose both inputs are computed.
        import onnx
        graph = onnx.load(str(self.path)).graph
        constants = {t.name for t in graph.initializer}
        constants |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
        both_computed = [n for n in graph.node if n.op_type == "MatMul" and not set(n.input) & constants]
        self.assertEqual(len(both_computed), 24)

    def test_matches_pytorch_and_onnx_runtime(self):
        probes = {k: v for k, v in oc.probe_inputs(2, seed=7).items() if k != "half_normal"}
        wants = {k: oc.torch_eval(self.model, x) for k, x in probes.items()}
        for batch in (1, 2):
            from_ort = oc.ort_run(self.path, [x[:batch] for x in probes.values()])
            for (name, x), ort_out in zip(probes.items(), from_ort):
                with self.subTest(batch=batch, probe=name):
                    want = wants[name][:batch]
                    self.assertGreater(abs(want).max(), 1.0)
                    tol = RELATIVE_TOLERANCE * max(oc.LOGIT_SCALE, float(abs(want).max()))
                    got = ro.pt2onnx_run(self.path, x[:batch], self.work, f"vit_b{batch}_{name}")
                    diff_torch, diff_ort = ro.max_abs_diff(got, want), ro.max_abs_diff(got, ort_out)
                    print(f"vit_b_32 batch {batch} {name}: |pt2onnx - PyTorch| {diff_torch:.2e}, "
                          f"|pt2onnx - ONNX Runtime| {diff_ort:.2e}, tolerance {tol:.2e}", flush=True)
                    self.assertLessEqual(diff_torch, tol, "against PyTorch eager")
                    self.assertLessEqual(diff_ort, tol, "against ONNX Runtime")


if __name__ == "__main__":
    unittest.main()
