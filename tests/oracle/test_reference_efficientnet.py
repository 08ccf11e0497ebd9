"""The reference executor against PyTorch eager on torchvision's EfficientNet-B0
with the seed script's head, n_out 1, 2 and 3, non-trivial BatchNorm, several
probes at batch 1 and 3: max abs diff at most 1e-3 on logits of magnitude ~10.
Also B1 (deeper) and B5 (BatchNorm eps 1e-3) at a smaller input size."""
import sys

import reference_util as ru


def main():
    failures = 0
    for n_out in (1, 2, 3):
        failures += ru.check_model("efficientnet_b0", n_out, seed=n_out, size=224, tag=f"efficientnet_b0 n_out={n_out}")
    for arch, size in (("efficientnet_b1", 96), ("efficientnet_b5", 128)):
        failures += ru.check_model(arch, 2, seed=5, size=size, tag=f"{arch} {size}x{size}")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
