"""The reference executor against PyTorch eager on torchvision's EfficientNet-B0
with the seed script's head, n_out 1, 2 and 3, non-trivial BatchNorm, several
probes at batch 1 and 3: max abs diff at most 1e-3 on logits of magnitude ~10.
Also B1 (deeper) and B5 (BatchNorm eps 1e-3) at a smaller input size."""
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
    for n_out in (1, 2, 3):
        torch.manual_seed(n_out)  # torchvision's initialisation draws from the global generator
        model = ru.make_nontrivial(ru.seed_head(tvm.efficientnet_b0(weights=None), n_out), seed=n_out)
        state = ru.save_state_dir(model, ru.WORK / f"b0_{n_out}")
        failures += ru.compare("efficientnet_b0", model, state, ru.probes(), f"efficientnet_b0 n_out={n_out}")
    for arch, size in (("efficientnet_b1", 96), ("efficientnet_b5", 128)):
        torch.manual_seed(5)
        model = ru.make_nontrivial(ru.seed_head(getattr(tvm, arch)(weights=None), 2), size=size, seed=5)
        state = ru.save_state_dir(model, ru.WORK / arch)
        failures += ru.compare(arch, model, state, ru.probes(size), f"{arch} {size}x{size}")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
