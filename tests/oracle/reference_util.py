"""Shared by the reference oracle tests: torchvision models with non-trivial
BatchNorm, state dicts as .npy directories for pt2onnx_reference_tool, and the
comparison of its output with PyTorch eager."""
import copy
import os
import pathlib
import subprocess

import numpy as np
import torch

TOOL = os.environ["PT2ONNX_REFERENCE_TOOL"]
WORK = pathlib.Path(os.environ.get("PT2ONNX_WORK_DIR", "/tmp/pt2onnx_reference_oracle"))
ATOL = 1e-3


def seed_head(model, n_out, dropout=0.4):
    """The seed script's create_model head for EfficientNets; a resized fc for ResNets."""
    if hasattr(model, "classifier"):
        n_in = model.classifier[1].in_features
        model.classifier = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(n_in, n_out))
    else:
        model.fc = torch.nn.Linear(model.fc.in_features, n_out)
    return model


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


def make_nontrivial(model, size=224, seed=0, target_logit_std=10.0):
    """Perturbs every BatchNorm's affine parameters, calibrates its running
    statistics on random batches in train mode (momentum None: a plain
    average), and scales the final Linear so that logits are of magnitude ~10.
    Without this a freshly built model's BatchNorm is the identity with unit
    variance, and outputs hardly depend on the input."""
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
    """Every floating-point state-dict entry as KEY.npy, their order in keys.txt."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    keys = []
    for key, tensor in model.state_dict().items():
        if not tensor.is_floating_point():
            continue  # num_batches_tracked: the binder ignores it
        np.save(directory / f"{key}.npy", tensor.detach().cpu().numpy().astype(np.float32))
        keys.append(key)
    (directory / "keys.txt").write_text("\n".join(keys) + "\n")
    return directory


def probes(size=224):
    """The verification probes: seeded normal (seed 42, as the seed script), zeros, ones, uniform [0, 1)."""
    torch.manual_seed(42)
    randn1 = torch.randn(1, 3, size, size)
    g = torch.Generator().manual_seed(7)
    return [
        ("randn42 b1", randn1),
        ("randn b3", torch.randn(3, 3, size, size, generator=g)),
        ("zeros b1", torch.zeros(1, 3, size, size)),
        ("ones b3", torch.ones(3, 3, size, size)),
        ("uniform b3", torch.rand(3, 3, size, size, generator=g)),
    ]


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
