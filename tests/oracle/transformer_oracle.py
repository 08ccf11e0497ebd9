"""What the Swin and MaxViT oracle tests share: a torchvision vision
transformer made to depend strongly on its input, and one check of `pt2onnx
run` against PyTorch eager and ONNX Runtime at batch 1 and 2.

The model: random weights (weights=None); its LayerNorms' and BatchNorms'
affine parameters perturbed, the BatchNorms' running statistics calibrated on
image-like batches (normal noise and the probe kinds: uniform, constant, 3x
wider), as oracle_common.make_nontrivial_model does for CNNs; the relative
position bias tables (truncated normal of std 0.02 at initialisation, which
makes the bias nearly constant) drawn of std 1 so that the relative position
index and the shifted windows' mask matter; the last Linear scaled so the
logits are of magnitude oc.LOGIT_SCALE. Tolerance: 1e-4 of the logits' scale,
as in test_runtime_vit.py.
"""

import torch

import oracle_common as oc
import runtime_oracle as ro

RELATIVE_TOLERANCE = 1e-4


def calibrated(model, seed, head):
    """`model` in eval mode, perturbed and calibrated as the module says; its
    last Linear `head` scaled."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "relative_position_bias_table" in name:
                p.normal_()
        for m in model.modules():
            if isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm2d)):
                m.weight.mul_(1.0 + 0.3 * torch.randn_like(m.weight)).add_(0.05 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        saved = [bn.momentum for bn in bns]
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # the cumulative average over the calibration batches
        model.eval()
        if bns:
            for bn in bns:
                bn.train()
            s = oc.INPUT_SIZE
            kinds = torch.stack([torch.rand(3, s, s), torch.ones(3, s, s), torch.zeros(3, s, s),
                                 3.0 * torch.randn(3, s, s)])
            model(torch.cat([torch.randn(2, 3, s, s), kinds]))
            for bn, m in zip(bns, saved):
                bn.momentum = m
            model.eval()
        mix = [torch.from_numpy(x) for x in oc.probe_inputs(1, seed=1000 + seed).values()]
        scale = oc.LOGIT_SCALE / float(model(torch.cat(mix)).abs().mean())
        head.weight.mul_(scale)
        head.bias.mul_(scale)
    assert not model.training
    return model


def export(model, work, name):
    return ro.export(model, work / f"{name}.onnx", torch.randn(1, 3, oc.INPUT_SIZE, oc.INPUT_SIZE))


def check_against_torch_and_ort(test, model, path, work, name):
    """`pt2onnx run` on two probe kinds at batch 1 and 2, each within
    RELATIVE_TOLERANCE of the logits' scale of PyTorch eager and of ONNX Runtime."""
    probes = {k: v for k, v in oc.probe_inputs(2, seed=7).items() if k != "half_normal"}
    wants = {k: oc.torch_eval(model, x) for k, x in probes.items()}
    for batch in (1, 2):
        from_ort = oc.ort_run(path, [x[:batch] for x in probes.values()])
        for (probe, x), ort_out in zip(probes.items(), from_ort):
            with test.subTest(batch=batch, probe=probe):
                want = wants[probe][:batch]
                test.assertGreater(abs(want).max(), 1.0)
                tol = RELATIVE_TOLERANCE * max(oc.LOGIT_SCALE, float(abs(want).max()))
                got = ro.pt2onnx_run(path, x[:batch], work, f"{name}_b{batch}_{probe}")
                diff_torch, diff_ort = ro.max_abs_diff(got, want), ro.max_abs_diff(got, ort_out)
                print(f"{name} batch {batch} {probe}: |pt2onnx - PyTorch| {diff_torch:.2e}, "
                      f"|pt2onnx - ONNX Runtime| {diff_ort:.2e}, tolerance {tol:.2e}", flush=True)
                test.assertLessEqual(diff_torch, tol, "against PyTorch eager")
                test.assertLessEqual(diff_ort, tol, "against ONNX Runtime")
