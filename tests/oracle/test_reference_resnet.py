"""The reference executor against PyTorch eager on torchvision's ResNet-18
(BasicBlock, MaxPool, ReLU) at 224x224 and ResNet-50 (Bottleneck) at 96x96,
with non-trivial BatchNorm, on several probes at batch 1 and 3."""
import sys

import reference_util as ru


def main():
    failures = 0
    for arch, size, n_out in (("resnet18", 224, 2), ("resnet50", 96, 3)):
        failures += ru.check_model(arch, n_out, seed=11, size=size, tag=f"{arch} {size}x{size} n_out={n_out}")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
