"""The reference executor against PyTorch eager on torchvision's ResNet-18
(BasicBlock, MaxPool, ReLU) at 224x224 and ResNet-50 (Bottleneck) at 96x96,
with non-trivial BatchNorm, on several probes at batch 1 and 3."""
import shutil
import sys

import torch
import torchvision.models as tvm

import reference_util as ru


def main():
    torch.set_num_threads(2)
    shutil.rmtree(ru.WORK, ignore_errors=True)
    ru.WORK.mkdir(parents=True)
    failures = 0
    for arch, size, n_out in (("resnet18", 224, 2), ("resnet50", 96, 3)):
        torch.manual_seed(11)  # torchvision's initialisation draws from the global generator
        model = ru.make_nontrivial(ru.seed_head(getattr(tvm, arch)(weights=None), n_out), size=size, seed=11)
        state = ru.save_state_dir(model, ru.WORK / arch)
        failures += ru.compare(arch, model, state, ru.probes(size), f"{arch} {size}x{size} n_out={n_out}")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
