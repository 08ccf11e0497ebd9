"""Writes the benchmark model: torchvision EfficientNet-B0 with the seed's
2-output head (Dropout + Linear), random weights, eval mode, exported by
torch.onnx.export (opset 17, dynamic batch) as users run it. Speed does not
depend on the weights' values, so no checkpoint is needed.

    /usr/bin/python3 bench/export_efficientnet_b0.py OUT.onnx
"""
import sys

import torch
import torchvision


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    model = torchvision.models.efficientnet_b0(weights=None)
    model.classifier = torch.nn.Sequential(torch.nn.Dropout(0.4), torch.nn.Linear(model.classifier[1].in_features, 2))
    model.eval()
    example = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, example, out, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)


if __name__ == "__main__":
    main()
