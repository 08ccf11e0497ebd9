"""Shared by the reference oracle tests: state dicts as .npy directories for
pt2onnx_reference_tool, running it, and the comparison of its output with
PyTorch eager, and the reference tests' calibration recipe. The torchvision
models with the seed's head and the probe inputs come from oracle_common."""
import copy
import os
import subprocess
from pathlib import Path

import numpy as np
import torch

import oracle_common as oc

TOOL = os.environ["PT2ONNX_REFERENCE_TOOL"]
# Emptied on import: every reference test starts from a clean scratch directory.
WORK = oc.work_dir("reference")
ATOL = 1e-3


def calibration_batch(size, g):
    """Images like every probe (normal, uniform, constant), so that each probe is
    in distribution: a constant image a network never saw gives logits in the
    thousands, where float32 rounding alone moves them by more than 1e-3."""
    return torch.cat([
        torch.randn(3, 3, size, size, generator=g),
        torch.rand(2, 3, size, size, generator=g),
        torch.ones(1, 3, size, size),
        torch.zeros(1, 3, size, size),
    ])


def make_nontrivial(model, size=oc.INPUT_SIZE, seed=0, target_logit_std=10.0):
    """Perturbs every BatchNorm's affine parameters, calibrates its running
    statistics on random batches in train mode (momentum None: a plain
    average), and scales the final Linear so that logits are of magnitude ~10.
    Without this a freshly built model's BatchNorm is the identity with unit
    variance, and outputs hardly depend on the input. Unlike
    oracle_common.make_nontrivial_model it calibrates on constant images too,
    since the reference probes include them, and scales by the logits' std:
    with oracle_common's recipe ResNet-50 at 96x96 reaches logits of ~40, where
    PyTorch's own float32 rounding exceeds ATOL."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(1.0 + 0.25 * torch.randn(m.weight.shape, generator=g))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for _ in range(2):
            model(calibration_batch(size, g))
        model.eval()
        final = model.classifier[1] if hasattr(model, "classifier") else model.fc
        logits = model(calibration_batch(size, g))
        scale = target_logit_std / max(float(logits.std()), 1e-6)
        final.weight.mul_(scale)
        final.bias.mul_(scale)
    assert not model.training
    return model


def save_state_dir(model, directory):
    """Every floating-point state-dict entry, and Swin's integer relative_position_index, as KEY.npy (float32),
    their order in keys.txt ("KEY\tint64" for an integer one)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    keys = []
    for key, tensor in model.state_dict().items():
        integer = not tensor.is_floating_point()
        if integer and not key.endswith(".relative_position_index"):
            continue  # num_batches_tracked: the binder ignores it
        np.save(directory / f"{key}.npy", tensor.detach().cpu().numpy().astype(np.float32))
        keys.append(f"{key}\tint64" if integer else key)
    (directory / "keys.txt").write_text("\n".join(keys) + "\n")
    return directory


def probes(size=oc.INPUT_SIZE):
    """The verification probes: seeded normal (seed 42, as the seed script), zeros,
    ones, and oracle_common's normal and uniform [0, 1) families at batch 3."""
    one = oc.probe_inputs(1, seed=42, size=size)
    three = oc.probe_inputs(3, seed=7, size=size)
    return [
        ("randn42 b1", torch.from_numpy(one["normal"])),
        ("randn b3", torch.from_numpy(three["normal"])),
        ("zeros b1", torch.zeros(1, 3, size, size)),
        ("ones b3", torch.ones(3, 3, size, size)),
        ("uniform b3", torch.from_numpy(three["uniform"])),
    ]


def check_model(arch, n_out, seed, size, tag):
    """oracle_common's model with the seed's head, made non-trivial here, through
    the reference on every probe; returns the number of failures."""
    torch.manual_seed(seed)  # torchvision's initialisation draws from the global generator
    model = make_nontrivial(oc.create_model(n_out, arch=arch), size=size, seed=seed)
    state = save_state_dir(model, WORK / tag.replace(" ", "_").replace("=", ""))
    return compare(arch, model, state, probes(size), tag)


def run_reference(arch, state_dir, x, tag):
    """Runs pt2onnx_reference_tool on x; returns (output, seconds per image as it reports)."""
    x_path = WORK / f"{tag}_x.npy"
    y_path = WORK / f"{tag}_y.npy"
    np.save(x_path, x.numpy())
    proc = subprocess.run([TOOL, "run", "--arch", arch, "--state-dir", str(state_dir), "--input", str(x_path),
                           "--output", str(y_path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"reference tool failed ({proc.returncode}): {proc.stderr}")
    seconds = float(proc.stderr.strip().split(" in ")[-1].split()[0])
    return np.load(y_path), seconds / x.shape[0]


def compare(arch, model, state_dir, inputs, tag):
    """Compares the reference with PyTorch eager on every probe; returns the number
    of failures. On a failure the same model in float64 shows whose rounding the
    difference is: the reference (double accumulation) should sit closer to it."""
    failures = 0
    outputs = []
    for name, x in inputs:
        with torch.no_grad():
            want = model(x).numpy()
        got, per_image = run_reference(arch, state_dir, x, f"{tag}_{name.replace(' ', '_')}")
        diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
        ok = diff <= ATOL
        failures += not ok
        outputs.append(want)
        print(f"{'ok  ' if ok else 'FAIL'} {tag} {name}: shape {tuple(got.shape)}, max |logit| "
              f"{float(np.abs(want).max()):.2f}, max abs diff {diff:.2e} (atol {ATOL}), {per_image:.3f} s/image")
        if not ok:
            with torch.no_grad():
                exact = copy.deepcopy(model).double()(x.double()).numpy()
            print(f"     torch {want.ravel()[:6]}\n     ours  {got.ravel()[:6]}\n     float64 torch {exact.ravel()[:6]}")
    # The checkpoint must make outputs depend on the input, or the comparison proves little.
    firsts = np.stack([o[0] for o in outputs])
    spread = float(firsts.std(axis=0).max())
    if spread < 1.0:
        print(f"FAIL {tag}: outputs hardly depend on the input (spread {spread:.3f})")
        failures += 1
    return failures
