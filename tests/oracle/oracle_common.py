"""Shared helpers of the oracle tests: real torchvision models with non-trivial
weights, the checkpoint containers pt2onnx reads, running the pt2onnx binary,
and running ONNX files in ONNX Runtime through ort_run.js.

Environment (set by ctest, see tests/CMakeLists.txt; defaults suit a manual run
from the repository root after scripts/build.sh):
  PT2ONNX             the pt2onnx binary
  PT2ONNX_NODE        node
  PT2ONNX_ORACLE_DIR  this directory
  PT2ONNX_WORK_DIR    scratch directory of the test
"""

import json
import os
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
import torchvision

ORACLE_DIR = Path(os.environ.get("PT2ONNX_ORACLE_DIR", Path(__file__).resolve().parent))
REPO = ORACLE_DIR.parent.parent
PT2ONNX = os.environ.get("PT2ONNX", str(REPO / "build" / "pt2onnx"))
NODE = os.environ.get("PT2ONNX_NODE", "node")

# The seed script's head and export settings.
SEED_DROPOUT = 0.4
INPUT_SIZE = 224
# Logits are scaled to this magnitude so that a 1e-3 tolerance is a real test.
LOGIT_SCALE = 10.0

THREADS = int(os.environ.get("OMP_NUM_THREADS", "2"))
torch.set_num_threads(THREADS)


def work_dir(name):
    """A fresh, empty scratch directory for one test."""
    base = Path(os.environ.get("PT2ONNX_WORK_DIR", tempfile.gettempdir())) / name
    if base.exists():
        for p in sorted(base.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() and not p.is_symlink() else p.unlink()
    base.mkdir(parents=True, exist_ok=True)
    return base


def create_model(n_out=2, dropout=SEED_DROPOUT, arch="efficientnet_b0", replace_head=None, **options):
    """The seed's create_model: torchvision's model with Sequential(Dropout, Linear(n_in, n_out));
    a resized fc for ResNets, RegNets, ShuffleNets, GoogLeNet and Inception
    (their auxiliary classifiers kept, as torchvision builds them without
    weights), a resized classifier Linear for DenseNets; for MobileNets,
    AlexNet, VGG, ConvNeXts and MaxViT only the last Linear is replaced,
    keeping the rest of their head (MobileNet's Hardswish, ConvNeXt's
    LayerNorm, MaxViT's LayerNorm and Tanh); ViT's heads.head and Swin's head
    are resized."""
    if arch.startswith(("googlenet", "inception")):  # aux heads kept unless options say otherwise
        options.setdefault("init_weights", True)
    model = getattr(torchvision.models, arch)(weights=None, **options)
    if arch.startswith(("mobilenet", "alexnet", "vgg", "convnext", "maxvit")):
        model.classifier[-1] = torch.nn.Linear(model.classifier[-1].in_features, n_out)
    elif arch.startswith("vit"):
        model.heads.head = torch.nn.Linear(model.heads.head.in_features, n_out)
    elif arch.startswith("swin"):
        model.head = torch.nn.Linear(model.head.in_features, n_out)
    elif arch.startswith("squeezenet"):  # its classifier's 1x1 convolution
        model.classifier[1] = torch.nn.Conv2d(512, n_out, kernel_size=1)
    elif isinstance(getattr(model, "classifier", None), torch.nn.Linear):  # DenseNet
        model.classifier = torch.nn.Linear(model.classifier.in_features, n_out)
    elif hasattr(model, "classifier"):
        n_in = model.classifier[1].in_features
        model.classifier = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(n_in, n_out))
    else:  # ResNet, ShuffleNet, GoogLeNet, Inception
        model.fc = torch.nn.Linear(model.fc.in_features, n_out)
    if replace_head is not None:  # a user's own head instead: replace_head(model, n_out)
        replace_head(model, n_out)
    return model


def make_nontrivial_model(n_out=2, seed=0, arch="efficientnet_b0", calibration_batches=2, batch=4, replace_head=None,
                          **options):
    """A model whose outputs depend strongly on the input: BatchNorm affine
    parameters perturbed, running statistics calibrated on random image batches
    (cumulative average, momentum=None, only the BatchNorms in train mode so
    dropout and stochastic depth stay off), then the last Linear scaled so the
    logits are of magnitude LOGIT_SCALE. Returned in eval mode. `options` go
    to torchvision's constructor (aux_logits=False, transform_input=True).
    ConvNeXt has LayerNorms instead: their affine parameters are perturbed the
    same way, and its layer scales (1e-6 at initialisation, which makes every
    block an identity) drawn around 0.3. ViT's class token (zeros at
    initialisation) is drawn too, so that a misplaced token shows, and so are
    Swin's relative position bias tables (std 0.02 at initialisation)."""
    torch.manual_seed(seed)
    model = create_model(n_out, arch=arch, replace_head=replace_head, **options)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.mul_(1.0 + 0.3 * torch.randn_like(m.weight)).add_(0.05 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
            if hasattr(m, "layer_scale"):
                m.layer_scale.copy_(0.3 * (1.0 + 0.3 * torch.randn_like(m.layer_scale)))
            if hasattr(m, "class_token"):  # ViT's, zeros at initialisation
                m.class_token.normal_(0.0, 0.2)
            if hasattr(m, "relative_position_bias_table"):  # Swin's: std 0.02 at initialisation, units when trained
                m.relative_position_bias_table.normal_(0.0, 1.0)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.mul_(1.0 + 0.3 * torch.randn_like(bn.weight)).add_(0.05 * torch.randn_like(bn.weight))
            bn.bias.add_(0.1 * torch.randn_like(bn.bias))
            bn.reset_running_stats()
            bn.momentum = None
        model.eval()
        for bn in bns:
            bn.train()
        for _ in range(calibration_batches):
            # Besides normal noise, the kinds of image pt2onnx's verification
            # probes with (uniform, constant, 3x wider), so that each probe meets
            # BatchNorm statistics that cover it, as a trained network's cover
            # images; otherwise a constant image drives logits into the
            # thousands, where no float32 engine agrees with another to 1e-3.
            s = INPUT_SIZE
            kinds = torch.stack([torch.rand(3, s, s), torch.ones(3, s, s), torch.zeros(3, s, s),
                                 3.0 * torch.randn(3, s, s)])
            model(torch.cat([torch.randn(batch, 3, s, s), kinds]))
        for bn in bns:
            bn.momentum = 0.1
        model.eval()
        # Scale on inputs of every probe family (with other seeds than the probes'),
        # since the logits' size differs between them.
        # The last Linear, or SqueezeNet's classifier convolution (a ReLU follows it: scaling keeps its sign).
        last = ([m for m in model.modules() if isinstance(m, torch.nn.Linear)] or [model.classifier[1]])[-1]
        mix = [torch.from_numpy(x) for x in probe_inputs(1, seed=1000 + seed).values()]
        logits = model(torch.cat(mix))
        scale = LOGIT_SCALE / float(logits.abs().mean())
        last.weight.mul_(scale)
        last.bias.mul_(scale)
    assert not model.training
    return model


def save_checkpoint(model, path, container="training", labels=None):
    """Saves the state dict the ways training scripts do:
    training  {'model_state_dict': sd, 'epoch', 'optimizer_state_dict', 'best_auc'} (the seed's)
    bare      sd itself
    state_dict {'state_dict': sd}
    legacy    the seed's dict in torch's pre-1.6 (non-zip) format
    safetensors  a .safetensors file
    labels, when given, is stored as a 'labels' list next to the state dict."""
    sd = model.state_dict()
    path = Path(path)
    if container == "safetensors":
        write_safetensors(path, sd)
        return path
    if container == "bare":
        obj = sd
    elif container == "state_dict":
        obj = {"state_dict": sd}
    else:
        obj = {"model_state_dict": sd, "epoch": 7, "best_auc": 0.91,
               "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0, 1]}]}}
    if labels is not None:
        if not isinstance(obj, dict) or obj is sd:
            obj = {"model_state_dict": sd}
        obj["labels"] = list(labels)
    torch.save(obj, path, _use_new_zipfile_serialization=(container != "legacy"))
    return path


_SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                       torch.float64: "F64", torch.int64: "I64"}


def write_safetensors(path, state_dict):
    """The safetensors format by hand (8-byte header length, JSON header, data),
    so the tests need no package beyond Debian's torch."""
    header, blobs, offset = {}, [], 0
    for key, t in state_dict.items():
        t = t.detach().contiguous().cpu()
        data = t.view(torch.uint8).numpy().tobytes() if t.dim() > 0 else t.reshape(1).view(torch.uint8).numpy().tobytes()
        header[key] = {"dtype": _SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                       "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def run_pt2onnx(*args, cwd=None, check=True, timeout=600):
    """Runs the pt2onnx binary; returns the CompletedProcess (text stdout and stderr)."""
    proc = subprocess.run([PT2ONNX, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"pt2onnx {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def ort_run(model_path, inputs, threads=2, opt="all"):
    """Runs each float32 array of `inputs` through the model in ONNX Runtime;
    returns the first output for each, as float32 arrays."""
    tmp = Path(tempfile.mkdtemp(prefix="ort_run_", dir=os.environ.get("PT2ONNX_WORK_DIR")))
    args = []
    for i, x in enumerate(inputs):
        np.save(tmp / f"in{i}.npy", np.ascontiguousarray(x, dtype=np.float32))
        args += [tmp / f"in{i}.npy", tmp / f"out{i}.npy"]
    proc = subprocess.run([NODE, ORACLE_DIR / "ort_run.js", model_path, "--threads", str(threads), "--opt", opt, *args],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"ort_run.js failed ({proc.returncode}):\n{proc.stderr}")
    outs = [np.load(tmp / f"out{i}.npy") for i in range(len(inputs))]
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    return outs


def torch_eval(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()


def probe_inputs(batch, seed=42, size=INPUT_SIZE):
    """Inputs that exercise the model differently: seeded normal (like the seed
    script's dummy input), uniform [0, 1), and half-scale normal. All stay near
    the calibration distribution, where logits are of magnitude ~10; far outside
    it a random network's logits reach 1e4 and an absolute tolerance means little."""
    g = torch.Generator().manual_seed(seed)
    return {
        "normal": torch.randn(batch, 3, size, size, generator=g).numpy(),
        "uniform": torch.rand(batch, 3, size, size, generator=g).numpy(),
        "half_normal": (0.5 * torch.randn(batch, 3, size, size, generator=g)).numpy(),
    }


def onnx_structure(path):
    """onnx.checker full check and strict shape inference in Python; returns
    (model, inferred output dims as strings/ints)."""
    import onnx
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    out = inferred.graph.output[0].type.tensor_type.shape
    dims = [d.dim_param if d.dim_param else d.dim_value for d in out.dim]
    return model, dims


def module_paths(model):
    return {name for name, _ in model.named_modules() if name}


def max_abs_diff_vs_torch(model, onnx_path, batches=(1, 3), seed=42, only=None):
    """Runs the probe inputs (all, or those named) at each batch size in ONNX
    Runtime and compares with PyTorch eager; returns
    [(batch, probe name, max abs diff, max abs logit)]. PyTorch runs once, at the
    largest batch: in eval mode each sample's logits are its own, so a smaller
    batch (the first rows of the same inputs) is compared with the first rows."""
    probes = {k: v for k, v in probe_inputs(max(batches), seed=seed).items() if only is None or k in only}
    refs = {k: torch_eval(model, x) for k, x in probes.items()}
    results = []
    for batch in batches:
        outs = ort_run(onnx_path, [x[:batch] for x in probes.values()])
        for (name, ref), y in zip(refs.items(), outs):
            ref = ref[:batch]
            if y.shape != ref.shape:
                raise AssertionError(f"{onnx_path}: batch {batch} probe {name}: ONNX Runtime gave shape {y.shape}, "
                                     f"PyTorch {ref.shape}")
            results.append((batch, name, float(np.abs(ref - y).max()), float(np.abs(ref).max())))
    return results


def onnx_metadata(model):
    return {p.key: p.value for p in model.metadata_props}


def sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_path_of(name, paths):
    """True when a node name maps back to the model: a module path, "flatten"
    (torch.flatten in forward()), or a functional op inside a module
    ("layer1.0.relu_1"); a "/Suffix" marks a helper node of that layer."""
    base = name.split("/")[0]
    return base in paths or base == "flatten" or base.rsplit(".", 1)[0] in paths
