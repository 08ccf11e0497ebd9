"""The Python equivalent of the seed script's export (04_export.py) without its
ONNX Runtime comparison: torch.load, create_model, load_state_dict, eval,
torch.onnx.export with the seed's arguments, onnx.checker. The baseline that
bench_export.py measures pt2onnx against.

    /usr/bin/python3 bench/seed_export.py INPUT.pth OUTPUT.onnx
"""

import sys

import onnx
import torch
import torch.nn as nn
from torchvision.models import efficientnet_b0


def create_model(n_out=2, dropout=0.4):
    model = efficientnet_b0(weights=None)
    n_in = model.classifier[1].in_features
    model.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, n_out))
    return model


def export(model, output_path, size=224):
    """The seed's _create_dummy_input and _export_onnx: torch.onnx.export of the
    eval-mode model with the seed's arguments (also used by the oracle tests)."""
    model.eval()
    torch.manual_seed(42)
    dummy_input = torch.randn(1, 3, size, size)
    # torch 1.13 has no `dynamo` argument: TorchScript export is its only path,
    # which is what the seed's dynamo=False selects.
    torch.onnx.export(
        model, dummy_input, str(output_path),
        input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=17, do_constant_folding=True,
        training=torch.onnx.TrainingMode.EVAL,
    )


def main(model_path, output_path):
    print(f"Loading model from {model_path}...")
    checkpoint = torch.load(model_path, map_location="cpu")
    state = checkpoint["model_state_dict"]
    model = create_model(n_out=state["classifier.1.weight"].shape[0])
    model.load_state_dict(state)
    model.eval()
    print(f"Exporting to {output_path}...")
    export(model, output_path)
    print("Verifying ONNX model structure...")
    onnx.checker.check_model(onnx.load(str(output_path)))
    print("Export complete!")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
