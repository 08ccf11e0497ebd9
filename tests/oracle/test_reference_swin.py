"""The reference executor against PyTorch eager on torchvision's Swin-T
(patch embedding, shifted-window attention with relative position bias and
the shifted windows' mask, patch merging, GELU MLP, the mean over tokens)
with LayerNorm affine parameters perturbed and the bias tables drawn at a
trained model's size, on several probes at batch 1 and 3: the reference's
Swin layers are written from torch's definitions, independently of the
exporter and the engine, so that verification covers them."""
import sys

import oracle_common as oc
import reference_util as ru


def main():
    model = oc.make_nontrivial_model(2, seed=13, arch="swin_t")
    state = ru.save_state_dir(model, ru.WORK / "swin_t")
    failures = ru.compare("swin_t", model, state, ru.probes(), "swin_t 224x224 n_out=2")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
