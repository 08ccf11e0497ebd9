"""Small torch models covering what the CNN classifiers do not: AveragePool
(ceil_mode, count_include_pad), MaxPool with ceil_mode and dilation, Softmax,
Concat, MatMul, Reshape through the x.view(x.size(0), -1) shape chain, Sub
and Div with broadcasting, ReLU6 (Clip), Hardsigmoid. Exported by
torch.onnx.export with a dynamic batch, run at batch 1 and 3, against PyTorch
eager and ONNX Runtime."""

import unittest

import torch
from torch import nn

import oracle_common as oc
import runtime_oracle as ro

TOLERANCE = 1e-4


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.avg_ceil_counted = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)
        self.avg_ceil = nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)
        self.max_ceil = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.max_dilated = nn.MaxPool2d(2, stride=1, dilation=2, padding=1)
        self.fc = nn.Linear(8 * 2 * 2, 5)

    def forward(self, x):
        x = nn.functional.relu6(self.conv(x))
        x = self.avg_ceil_counted(x)   # 15 -> 8
        x = self.avg_ceil(x)           # 8 -> 4
        x = self.max_dilated(x)        # 4 -> 4
        x = nn.functional.hardsigmoid(x) - 0.25
        x = self.max_ceil(x)           # 4 -> 2
        x = x.view(x.size(0), -1)      # Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        return torch.softmax(self.fc(x), dim=1)


class Branches(nn.Module):
    """Two convolution branches concatenated, Sub and Div with broadcasting, a 3-D x 2-D MatMul."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 6, 3, padding=1, groups=3)
        self.w = nn.Parameter(torch.randn(10, 7) * 0.3)
        self.mean = nn.Parameter(torch.randn(1, 10, 1, 1) * 0.1)

    def forward(self, x):
        y = torch.cat([self.a(x), torch.sigmoid(self.b(x))], dim=1)  # Concat on channels
        y = (y - self.mean) / 1.5                                    # Sub (broadcast), Div by a scalar
        y = y / (1.0 + torch.sigmoid(y))                             # Div by a computed tensor
        z = y.reshape(y.size(0), -1, 10)                             # shape chain -> Reshape
        return torch.softmax(torch.matmul(z, self.w), dim=-1)


class Channels(nn.Module):
    """Softmax over the channels of a 4-D tensor, Sub from a constant, MatMul."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 3, stride=2)
        self.w = nn.Parameter(torch.randn(7, 4) * 0.5)

    def forward(self, x):
        y = torch.softmax(self.conv(x), dim=1)
        y = 1.0 - y                             # the broadcast operand comes first
        y = y.reshape(y.size(0), -1, 7)
        return torch.matmul(y, self.w)


class SmallModels(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_small_models")

    def check(self, name, model, shape, expected_ops):
        torch.manual_seed(5)
        model.eval()
        path = ro.export(model, self.work / f"{name}.onnx", torch.randn(1, *shape), input_name="x", output_name="y")
        ops = ro.op_types(path)
        for op in expected_ops:
            self.assertIn(op, ops, f"{name} exported as {sorted(set(ops))}")
        for batch in (1, 3):
            g = torch.Generator().manual_seed(batch)
            x = torch.randn(batch, *shape, generator=g).numpy()
            with self.subTest(model=name, batch=batch):
                want = oc.torch_eval(model, x)
                got = ro.pt2onnx_run(path, x, self.work, f"{name}_{batch}")
                (from_ort,) = oc.ort_run(path, [x])
                self.assertLessEqual(ro.max_abs_diff(got, want), TOLERANCE, "against PyTorch eager")
                self.assertLessEqual(ro.max_abs_diff(got, from_ort), TOLERANCE, "against ONNX Runtime")

    def test_pools_softmax_and_shape_chain(self):
        torch.manual_seed(1)
        self.check("pools", Pools(), (3, 15, 15),
                   ["AveragePool", "MaxPool", "Clip", "HardSigmoid", "Sub", "Shape", "Gather", "Reshape", "Softmax"])

    def test_concat_div_matmul(self):
        torch.manual_seed(2)
        self.check("branches", Branches(), (3, 6, 6), ["Concat", "Sub", "Div", "MatMul", "Reshape", "Softmax"])

    def test_channel_softmax_and_batched_matmul(self):
        torch.manual_seed(3)
        self.check("channels", Channels(), (3, 15, 15), ["Softmax", "Sub", "MatMul", "Reshape"])


if __name__ == "__main__":
    unittest.main()
