"""Every registered architecture's layer graph matches torchvision's model:
it expects exactly torchvision's state_dict (the same keys, in the same order,
with the same shapes, minus num_batches_tracked, which the binder ignores), and
each layer is the torchvision module at its path with the same attributes
(kernel, stride, padding, dilation, groups, bias, BatchNorm eps, pooling).
Real torchvision checkpoints of efficientnet_b1 and resnet18 offered as
efficientnet_b0 are refused, naming what they look like.
The numbers are checked by test_reference_efficientnet and test_reference_resnet."""
import json
import re
import subprocess
import sys

import numpy as np
import torchvision.models as tvm

import oracle_common as oc
import reference_util as ru

TOOL = ru.TOOL

ARCHS = [f"efficientnet_b{i}" for i in range(8)] + ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def module_attrs(kind, m):
    """The attributes our layer dump shows, read from the torchvision module."""
    if kind == "Conv2d":
        return {"in_channels": m.in_channels, "out_channels": m.out_channels, "kernel_size": pair(m.kernel_size),
                "stride": pair(m.stride), "padding": pair(m.padding), "dilation": pair(m.dilation),
                "groups": m.groups, "bias": m.bias is not None}
    if kind == "BatchNorm2d":
        return {"num_features": m.num_features, "eps": m.eps}
    if kind == "Linear":
        return {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if kind == "MaxPool2d":
        assert pair(m.dilation) == [1, 1] and not m.ceil_mode
        return {"kernel_size": pair(m.kernel_size), "stride": pair(m.stride), "padding": pair(m.padding)}
    if kind == "AdaptiveAvgPool2d":
        assert pair(m.output_size) == [1, 1], m
        return {}
    if kind == "StochasticDepth":
        assert m.mode == "row"
        return {"p": m.p}
    if kind == "Dropout":
        return {"p": None}
    return {}


# Layers that stand for a functional op inside a module's forward().
FUNCTIONAL = {
    "Mul": ("SqueezeExcitation",),
    "Add": ("MBConv", "BasicBlock", "Bottleneck"),
}


def check_layers(arch, model, n_out):
    """Returns a list of problems; empty when every layer matches its module."""
    out = subprocess.run([TOOL, "layers", arch, str(n_out)], check=True, capture_output=True, text=True)
    problems, used = [], set()
    for line in out.stdout.splitlines():
        path, kind, _inputs, attrs = line.split("\t")
        attrs = json.loads(attrs)
        if kind == "Flatten":
            if path != "flatten" or attrs != {"start_dim": 1}:
                problems.append(f"{path}: unexpected Flatten {attrs}")
            continue
        module_path = re.sub(r"_\d+$", "", path)  # relu_1: the second call of relu
        try:
            m = model.get_submodule(module_path)
        except AttributeError:
            problems.append(f"{path}: no module {module_path} in torchvision's {arch}")
            continue
        used.add(module_path)
        name = type(m).__name__
        if kind in FUNCTIONAL:
            if name not in FUNCTIONAL[kind] or (name == "MBConv" and not m.use_res_connect):
                problems.append(f"{path}: {kind} at a {name}")
            continue
        if name != kind:
            problems.append(f"{path}: ours {kind}, torchvision {name}")
            continue
        want = module_attrs(kind, m)
        if kind == "Dropout":
            attrs = {"p": None}
        if attrs != want:
            problems.append(f"{path}: ours {attrs}, torchvision {want}")
    for mpath, m in model.named_modules():
        if len(list(m.children())) or mpath in used:
            continue
        # torchvision registers a StochasticDepth in every MBConv but calls it only with a residual.
        parent = model.get_submodule(mpath.rsplit(".", 1)[0]) if "." in mpath else model
        if type(m).__name__ == "StochasticDepth" and not parent.use_res_connect:
            continue
        problems.append(f"{mpath}: torchvision's {type(m).__name__} has no layer")
    return problems


def check_recognition():
    """Returns the number of failures."""
    failures = 0
    x = ru.WORK / "x.npy"
    np.save(x, np.zeros((1, 3, 32, 32), np.float32))
    for arch in ("efficientnet_b1", "resnet18"):
        state = ru.save_state_dir(oc.create_model(2, arch=arch), ru.WORK / arch)
        proc = subprocess.run([TOOL, "run", "--arch", "efficientnet_b0", "--state-dir", str(state), "--input", str(x),
                               "--output", str(ru.WORK / "y.npy")], capture_output=True, text=True)
        want = f"This looks like {arch}"
        ok = proc.returncode != 0 and want in proc.stderr and "does not fit efficientnet_b0" in proc.stderr
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {arch} offered as efficientnet_b0: exit {proc.returncode}: "
              f"{proc.stderr.strip()[:160]} ... {proc.stderr.strip()[-80:]}")
    return failures


def main():
    failures = check_recognition()
    for arch in ARCHS:
        for n_out in (1000, 3):
            model = oc.create_model(n_out, arch=arch)
            want = [(k, list(v.shape), "buffer" if k.endswith(("running_mean", "running_var")) else "param")
                    for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
            out = subprocess.run([TOOL, "expected-state", arch, str(n_out)], check=True, capture_output=True, text=True)
            got = []
            for line in out.stdout.splitlines():
                key, shape, kind = line.split("\t")
                got.append((key, [int(d) for d in shape.strip("[]").split(",") if d.strip()], kind))
            if got != want:
                failures += 1
                print(f"FAIL {arch} n_out={n_out}: {len(got)} entries, torchvision has {len(want)}")
                for g, w in zip(got, want):
                    if g != w:
                        print(f"  first difference: ours {g}, torchvision {w}")
                        break
            else:
                print(f"ok   {arch} n_out={n_out}: {len(got)} state entries")
        problems = check_layers(arch, getattr(tvm, arch)(weights=None, num_classes=7), 7)
        if problems:
            failures += 1
            print(f"FAIL {arch} layers: {len(problems)} problems")
            for p in problems[:10]:
                print("  " + p)
        else:
            print(f"ok   {arch} layers")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
