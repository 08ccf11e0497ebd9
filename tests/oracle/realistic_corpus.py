"""A corpus of realistic checkpoints for verification tests.

oracle_common.make_nontrivial_model tunes its models to pt2onnx's probes: its
BatchNorm statistics are calibrated on the probe kinds themselves and its logits
are ~10. Checkpoints from real training look different: BatchNorm statistics
describe normalised photographs, so a constant or randn*3 probe lies far outside
them, and overconfident classifiers produce logits in the thousands. Verifying
such a checkpoint is where an absolute tolerance on every probe breaks down, so
these are the models the verifier has to be tested on.

    import realistic_corpus as rc
    corpus = rc.build_corpus(work_dir)   # [{name, arch, n_out, checkpoint, model, input_size, dtype}]
    x = rc.smooth_images(4, 224, seed=0) # image-like, ImageNet-normalised inputs
"""

import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import oracle_common as oc

sys.path.insert(0, str(oc.REPO / "bench"))
import seed_export as seed_script  # noqa: E402  (bench/ is not a package)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# pt2onnx's input size per architecture (src/models/efficientnet.cpp: torchvision's
# crop_size of the IMAGENET1K weights); 224 for the rest.
INPUT_SIZES = {"efficientnet_b0": 224, "efficientnet_b1": 240, "efficientnet_b2": 288, "efficientnet_b3": 300}


def input_size_of(arch):
    return INPUT_SIZES.get(arch, 224)


def _rand(g, *shape):
    return torch.rand(*shape, generator=g)


def _raw_images(n, size, g):
    """Unnormalised RGB images in [0, 1]: what a photograph looks like to a
    network (smooth regions, soft-edged objects, an edge, shading), rather than
    per-pixel noise, whose statistics no trained network has seen."""
    coord = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coord, coord, indexing="ij")
    out = torch.empty(n, 3, size, size)
    for i in range(n):
        # Colour regions plus texture at every scale, amplitude falling with
        # frequency as in photographs (roughly 1/f).
        img = _rand(g, 3, 1, 1).expand(3, size, size).clone()
        cells = int(torch.randint(3, 7, (1,), generator=g))
        rough = 0.5 + float(_rand(g, 1))
        while cells <= size // 2:
            grid = _rand(g, 3, cells, cells) - 0.5
            grid = 0.5 * grid + 0.5 * grid.mean(0, keepdim=True)  # texture is partly luminance
            amp = 0.45 * (3.0 / cells) ** (1.0 / rough)
            img += amp * F.interpolate(grid[None], size=(size, size), mode="bilinear", align_corners=False)[0]
            cells *= 2
        # One straight edge (a horizon, a table edge), antialiased over ~1 pixel.
        a, offset = (2 * math.pi * _rand(g, 1)).item(), 0.6 * (_rand(g, 1).item() - 0.5)
        dist = (xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a) - offset
        mask = (0.5 + dist * size).clamp(0, 1)
        img = img * (1 - 0.7 * mask) + 0.7 * mask * _rand(g, 3, 1, 1)
        # A few objects: rotated ellipses with soft edges.
        for _ in range(int(torch.randint(2, 6, (1,), generator=g))):
            cx, cy, rx, ry, th, alpha = _rand(g, 6).tolist()
            rx, ry, th = 0.05 + 0.25 * rx, 0.05 + 0.25 * ry, th * math.pi
            dx, dy = xx - cx, yy - cy
            u = (dx * math.cos(th) + dy * math.sin(th)) / rx
            v = (-dx * math.sin(th) + dy * math.cos(th)) / ry
            inside = (1 - torch.sqrt(u * u + v * v)) * min(rx, ry) * size
            mask = (0.5 + inside).clamp(0, 1) * (0.6 + 0.4 * alpha)
            img = img * (1 - mask) + mask * _rand(g, 3, 1, 1)
        # Shading across the frame, then sensor noise.
        light = 0.75 + 0.5 * ((xx - 0.5) * (float(_rand(g, 1)) - 0.5) + (yy - 0.5) * (float(_rand(g, 1)) - 0.5))
        img = img * light + 0.015 * torch.randn(3, size, size, generator=g)
        out[i] = img.clamp(0, 1)
    return out


def _normalise(raw):
    """8-bit quantisation and ImageNet normalisation, as torchvision's
    ToTensor + Normalize does to a decoded image."""
    q = torch.round(raw * 255) / 255
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((q - mean) / std).float()


def smooth_images(n, size, seed):
    """n image-like inputs [n, 3, size, size], float32, ImageNet-normalised
    (about -2.1..2.6). Deterministic given seed."""
    g = torch.Generator().manual_seed(seed)
    return _normalise(_raw_images(n, size, g))


def _last_linear(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]


def make_realistic(arch, n_out, seed, logit_target=3e3, size=None, calibration_batches=2, batch=4, scale_batch=6):
    """A torchvision model with the seed's head whose BatchNorm statistics
    describe image-like inputs (not pt2onnx's probes) and whose logits on such
    inputs reach about logit_target, as an overconfident trained classifier's do.
    A randomly initialised network's response is heavy-tailed (about one image
    in ten gives 10-1000x the logits of the others), so the scale is set on the
    median image's max |logit|, not the batch's max. Returned in eval mode, float32."""
    size = size or input_size_of(arch)
    torch.manual_seed(seed)
    model = oc.create_model(n_out, arch=arch).float()
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        # Trained BatchNorm affine parameters are far from (1, 0); as in
        # oracle_common.make_nontrivial_model.
        for bn in bns:
            bn.weight.mul_(1.0 + 0.3 * torch.randn_like(bn.weight)).add_(0.05 * torch.randn_like(bn.weight))
            bn.bias.add_(0.1 * torch.randn_like(bn.bias))
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        # Only the BatchNorms train: dropout and stochastic depth stay off.
        model.eval()
        for bn in bns:
            bn.train()
        for b in range(calibration_batches):
            model(smooth_images(batch, size, seed=10_000 * seed + b))
        for bn in bns:
            bn.momentum = 0.1
        model.eval()
        # Scale on other images than the calibration's.
        per_image = model(smooth_images(scale_batch, size, seed=10_000 * seed + 999)).abs().amax(1)
        scale = logit_target / float(torch.quantile(per_image, 0.5))
        last = _last_linear(model)
        last.weight.mul_(scale)
        last.bias.mul_(scale)
    return model


def _blob_task(n, size, g):
    """A 3-class task on image-like inputs: which colour channel dominates the
    one large blob painted over a smooth background. Returns (inputs, labels)."""
    raw = _raw_images(n, size, g)
    labels = torch.randint(0, 3, (n,), generator=g)
    coord = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coord, coord, indexing="ij")
    for i in range(n):
        cx, cy, r = (0.3 + 0.4 * _rand(g, 2)).tolist() + [0.15 + 0.15 * float(_rand(g, 1))]
        mask = (0.5 + (r - torch.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)) * size).clamp(0, 1)
        colour = 0.35 * _rand(g, 3)
        colour[labels[i]] = 0.6 + 0.4 * float(_rand(g, 1))
        raw[i] = raw[i] * (1 - mask) + mask * colour.view(3, 1, 1)
    return _normalise(raw), labels


def train_small(arch="resnet18", n_out=3, steps=200, seed=0, size=32, batch=8, lr=0.01, dataset=384, threads=1):
    """Really trains a small classifier with SGD (momentum 0.9, weight decay,
    cosine schedule) for a few epochs over a fixed synthetic data set with
    random flips, so its weights and BatchNorm running statistics (momentum 0.1)
    are the product of training, not of calibration. The data set is drawn
    once: drawing images costs more than a training step at this size.
    Runs on `threads` threads (then restores torch's setting): at this size the
    steps are many small ops, which two OpenMP threads barely speed up and,
    when the cores are busy (a parallel build or ctest -j), slow down about
    5x by spin-waiting; one thread also makes the result independent of the
    machine's setting.
    Returns (model in eval mode, mean loss of the first 20 steps, of the last 20)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        g = torch.Generator().manual_seed(seed)
        xs, ys = _blob_task(dataset, size, g)
        model = oc.create_model(n_out, arch=arch).float()
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        model.train()
        losses, order = [], torch.empty(0, dtype=torch.long)
        for _ in range(steps):
            if len(order) < batch:
                order = torch.randperm(dataset, generator=g)
            idx, order = order[:batch], order[batch:]
            x, y = xs[idx], ys[idx]
            flip = _rand(g, batch) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
    finally:
        torch.set_num_threads(prev)
    model.eval()
    k = min(20, steps)
    return model, sum(losses[:k]) / k, sum(losses[-k:]) / k


class _StateDictHolder:
    """What oracle_common.save_checkpoint needs of a model: a state_dict()."""

    def __init__(self, sd):
        self._sd = sd

    def state_dict(self):
        return self._sd


def _round_to_fp16(model):
    """The state dict with floating tensors in float16 (a checkpoint saved after
    model.half(), or from mixed-precision training), and the float32 model
    loaded with exactly those rounded values."""
    sd = {k: (v.detach().half() if v.is_floating_point() else v.detach().clone())
          for k, v in model.state_dict().items()}
    for k, v in sd.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ValueError(f"{k} does not fit float16")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()})
    return sd


# (name, arch, n_out, seed, dtype); the trained resnet18 is added by build_corpus.
CORPUS = [
    ("efficientnet_b0", "efficientnet_b0", 2, 1, "float32"),
    ("efficientnet_b0_fp16", "efficientnet_b0", 2, 2, "float16"),
    ("efficientnet_b1", "efficientnet_b1", 1, 3, "float32"),
    ("efficientnet_b2", "efficientnet_b2", 3, 4, "float32"),
    ("efficientnet_b3", "efficientnet_b3", 2, 5, "float32"),
    ("resnet18", "resnet18", 2, 6, "float32"),
    ("resnet50_fp16", "resnet50", 1, 7, "float16"),
]


def build_corpus(work_dir, verbose=False, only=None):
    """Builds every checkpoint afresh under work_dir (seed's training dict
    container), or those named in `only`. Returns a list of dicts: name, arch,
    n_out, checkpoint (Path), model (eval float32, exactly the checkpoint's
    values), input_size, dtype; the trained one also has training_loss (mean of
    the first and of the last 20 steps)."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    entries = []

    def add(name, arch, n_out, model, dtype, **extra):
        path = work_dir / f"{name}.pth"
        sd = _round_to_fp16(model) if dtype == "float16" else model.state_dict()
        oc.save_checkpoint(_StateDictHolder(sd), path)
        entries.append({"name": name, "arch": arch, "n_out": n_out, "checkpoint": path,
                        "model": model.eval(), "input_size": input_size_of(arch), "dtype": dtype, **extra})

    for name, arch, n_out, seed, dtype in CORPUS:
        if only is not None and name not in only:
            continue
        t = time.time()
        add(name, arch, n_out, make_realistic(arch, n_out, seed), dtype)
        if verbose:
            print(f"{name}: {time.time() - t:.1f} s", flush=True)
    if only is not None and "resnet18_trained" not in only:
        return entries
    t = time.time()
    model, first, last = train_small(seed=8)
    add("resnet18_trained", "resnet18", 3, model, "float32", training_loss=(first, last))
    if verbose:
        print(f"resnet18_trained: {time.time() - t:.1f} s (loss {first:.3f} -> {last:.3f})", flush=True)
    return entries


def seed_export(model, onnx_path, input_size):
    """The seed script's torch.onnx.export (bench/seed_export.py) at input_size."""
    seed_script.export(model, onnx_path, input_size)
    return Path(onnx_path)
