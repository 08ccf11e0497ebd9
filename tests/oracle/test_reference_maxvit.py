"""The reference executor against PyTorch eager on torchvision's MaxViT-T
(stem, MBConv with pre-norm BatchNorm and squeeze-excitation, block and grid
partitions, relative-position attention with k scaled by the whole width,
GELU MLP, the LayerNorm, Linear, Tanh and Linear classifier) with BatchNorm
calibrated, LayerNorm affine parameters perturbed and the bias tables drawn at
a trained model's size, on several probes at batch 1 and 3: the reference's
MaxViT layers are written from torch's definitions, independently of the
exporter and the engine, so that verification covers them."""
import sys

import oracle_common as oc
import reference_util as ru


def main():
    model = oc.make_nontrivial_model(2, seed=14, arch="maxvit_t")
    state = ru.save_state_dir(model, ru.WORK / "maxvit_t")
    failures = ru.compare("maxvit_t", model, state, ru.probes(), "maxvit_t 224x224 n_out=2")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
