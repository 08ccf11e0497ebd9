"""The reference executor against PyTorch eager on torchvision's ViT-B/32
(patch convolution, class token, position embedding, LayerNorm, multi-head
self-attention, GELU MLP) with LayerNorm affine parameters perturbed and the
class token drawn, on several probes at batch 1 and 3: the reference's
transformer layers are written from torch's definitions, independently of
the exporter and the engine, so that verification covers them."""
import sys

import oracle_common as oc
import reference_util as ru


def main():
    model = oc.make_nontrivial_model(2, seed=12, arch="vit_b_32")
    state = ru.save_state_dir(model, ru.WORK / "vit_b_32")
    failures = ru.compare("vit_b_32", model, state, ru.probes(), "vit_b_32 224x224 n_out=2")
    print("FAILED" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
