"""pt2onnx inspect against torch.load on checkpoints written by real PyTorch
(Debian's torch 1.13): every container format, pickle protocol, dtype and
layout of tensors that training scripts produce."""

import argparse
import collections
import os
import subprocess
import sys
import unittest

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_oracle as oracle  # noqa: E402

torch.manual_seed(0)


class UserConfig:
    """A class of the training script: pickled by reference, read as a placeholder."""

    def __init__(self):
        self.depth = 3
        self.name = "small"


def small_model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 2),
    )


def training_checkpoint():
    model = small_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loss = model(torch.randn(2, 3, 8, 8)).sum()
    loss.backward()
    optimizer.step()
    scheduler.step()
    return {
        "epoch": 7,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
        "args": argparse.Namespace(lr=1e-3, epochs=10, data="/data/train"),
        "best_auc": np.float64(0.875),
        "seen": np.int64(1234),
        "confusion": np.array([[5, 1], [2, 7]]),
        "labels": ["biopsy", "magview"],
        "config": UserConfig(),
        "misc": {"big": 2**70, "bytes": b"\x00\x01", "set": {1, 2}, "none": None, "pair": (1.5, "x"), "flag": True},
    }


def every_dtype():
    g = torch.Generator().manual_seed(1)
    base = torch.randn(4, 5, generator=g) * 10
    return collections.OrderedDict(
        f32=base,
        f16=base.to(torch.float16),
        bf16=base.to(torch.bfloat16),
        f64=base.to(torch.float64) / 3,
        i64=torch.randint(-(2**40), 2**40, (3, 3), generator=g),
        i32=torch.randint(-(2**30), 2**30, (7,), dtype=torch.int32, generator=g),
        i16=torch.randint(-30000, 30000, (2, 2, 2), dtype=torch.int16, generator=g),
        i8=torch.randint(-128, 127, (9,), dtype=torch.int8, generator=g),
        u8=torch.randint(0, 255, (3, 4), dtype=torch.uint8, generator=g),
        b=torch.rand(11, generator=g) > 0.5,
        scalar=torch.tensor(3.25),
        empty=torch.zeros(0, 3),
        param=torch.nn.Parameter(torch.randn(2, 2, generator=g)),
    )


def shared_views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    ints = torch.arange(10, dtype=torch.int64)
    return {
        "base": base,
        "every_other": base[:, ::2],
        "transposed": base.t(),
        "narrowed": base.narrow(0, 1, 2),
        "column": base[:, 3],
        "corner": base[2:, 4:],
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(4, 3),
        "int_tail": ints[7:],
        "int_stride": ints[1::3],
        "same_again": base,
    }


class CheckpointsWrittenByTorch(unittest.TestCase):
    def save(self, obj, name, **kwargs):
        path = oracle.work_path(name)
        torch.save(obj, path, **kwargs)
        return path

    def test_plain_state_dict(self):
        path = self.save(small_model().state_dict(), "plain.pth")
        report, _ = oracle.assert_matches_torch_load(self, path)
        self.assertEqual(report["format"], "torch-zip")
        self.assertEqual(report["state_dict"]["found_under"], "")
        self.assertEqual(report["state_dict"]["tensors"], 9)
        human = oracle.run_inspect(path)
        self.assertEqual(human.returncode, 0, human.stderr)
        self.assertIn("0.weight", human.stdout)
        self.assertIn("float32", human.stdout)
        self.assertIn("[8, 3, 3, 3]", human.stdout)

    def test_training_checkpoint_with_optimizer_scheduler_and_objects(self):
        path = self.save(training_checkpoint(), "train.pth")
        report, loaded = oracle.assert_matches_torch_load(self, path)
        self.assertEqual(report["state_dict"]["found_under"], "model_state_dict")
        # Adam's per-parameter state is listed by parameter index.
        self.assertIn("optimizer_state_dict.state.0.exp_avg_sq", [t["name"] for t in report["tensors"]])
        entries = {e["name"]: e for e in report["entries"]}
        self.assertEqual(entries["epoch"]["value"], "7")
        self.assertEqual(entries["args"]["class"], "argparse.Namespace")
        self.assertIn("lr=0.001", entries["args"]["value"])
        self.assertEqual(entries["best_auc"]["class"], "numpy.core.multiarray.scalar")
        self.assertEqual(entries["confusion"]["class"], "numpy.core.multiarray._reconstruct")
        self.assertEqual(entries["config"]["class"], "__main__.UserConfig")
        self.assertEqual(entries["misc.big"]["value"], str(2**70))
        self.assertEqual(entries["misc.bytes"]["value"], "b'\\x00\\x01'")
        self.assertEqual(entries["misc.set"]["type"], "set")
        self.assertEqual(entries["labels.1"]["value"], "'magview'")
        self.assertEqual(entries["optimizer_state_dict.param_groups.0.betas.1"]["value"], "0.999")
        # Every non-tensor leaf torch.load sees is listed under the same name.
        self.assertEqual(sorted(entries), sorted(n for n, _ in oracle.torch_leaves(loaded)))

    def test_data_parallel_prefix(self):
        model = torch.nn.DataParallel(small_model())
        path = self.save({"state_dict": model.state_dict(), "epoch": 1}, "dp.pth")
        report, _ = oracle.assert_matches_torch_load(self, path)
        self.assertTrue(all(t["name"].startswith("state_dict.module.") for t in report["tensors"]))
        self.assertEqual(report["state_dict"]["found_under"], "state_dict")
        self.assertEqual(report["state_dict"]["stripped_prefixes"], ["module."])

    def test_torch_compile_prefix(self):
        sd = collections.OrderedDict(("_orig_mod." + k, v) for k, v in small_model().state_dict().items())
        path = self.save({"model": sd}, "compiled.pth")
        report, _ = oracle.assert_matches_torch_load(self, path)
        self.assertEqual(report["state_dict"]["found_under"], "model")
        self.assertEqual(report["state_dict"]["stripped_prefixes"], ["_orig_mod."])

    def test_legacy_format(self):
        for name, obj in [("train", training_checkpoint()), ("views", shared_views()), ("dtypes", every_dtype())]:
            with self.subTest(checkpoint=name):
                path = self.save(obj, f"legacy_{name}.pth", _use_new_zipfile_serialization=False)
                report, _ = oracle.assert_matches_torch_load(self, path)
                self.assertEqual(report["format"], "torch-legacy")

    def test_pickle_protocols(self):
        for protocol in (2, 3, 4, 5):
            for legacy in (False, True):
                with self.subTest(protocol=protocol, legacy=legacy):
                    path = self.save(training_checkpoint(), f"proto{protocol}_{legacy}.pth", pickle_protocol=protocol,
                                     _use_new_zipfile_serialization=not legacy)
                    report, _ = oracle.assert_matches_torch_load(self, path)
                    self.assertEqual(report["state_dict"]["found_under"], "model_state_dict")

    def test_every_dtype(self):
        path = self.save(every_dtype(), "dtypes.pth")
        report, _ = oracle.assert_matches_torch_load(self, path)
        self.assertEqual({t["dtype"] for t in report["tensors"]},
                         {"float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8",
                          "bool"})

    def test_shared_storages_and_strided_views(self):
        path = self.save(shared_views(), "views.pth")
        report, loaded = oracle.assert_matches_torch_load(self, path)
        # Exact values, not just sums: dump them in the order inspect lists tensors.
        self.assertEqual(report["tensors"][1]["sum"], loaded["every_other"].sum().item())

    def test_efficientnet_b0(self):
        model = torchvision.models.efficientnet_b0(weights=None)
        path = self.save({"model_state_dict": model.state_dict(), "epoch": 30}, "efficientnet_b0.pth")
        report, _ = oracle.assert_matches_torch_load(self, path)
        self.assertEqual(report["state_dict"]["found_under"], "model_state_dict")
        self.assertEqual(report["state_dict"]["tensors"], len(model.state_dict()))
        self.assertEqual(report["state_dict"]["parameters"], sum(t.numel() for t in model.state_dict().values()))

    def test_key_option_picks_the_state_dict(self):
        ema = small_model()
        path = self.save({"model": small_model().state_dict(), "ema": ema.state_dict()}, "ema.pth")
        report = oracle.inspect_json(self, path)
        self.assertEqual(report["state_dict"]["found_under"], "model")
        report = oracle.inspect_json(self, path, "--key", "ema")
        self.assertEqual(report["state_dict"]["found_under"], "ema")
        oracle.assert_tensors_match(self, report, oracle.torch_tensors(ema.state_dict(), "ema"))
        bad = oracle.run_inspect(path, "--key", "nope")
        self.assertEqual(bad.returncode, oracle.EXIT_BAD_INPUT)
        self.assertIn("no entry 'nope'", bad.stderr)

    def test_writer_round_trips_through_torch_load(self):
        source = every_dtype()
        src = self.save(source, "writer_source.pth")
        for wrapper in ("model_state_dict", ""):
            with self.subTest(wrapper=wrapper):
                out = oracle.work_path(f"written_{wrapper or 'plain'}.pth")
                subprocess.run([str(oracle.TOOLS_DIR / "pt2onnx_write_checkpoint"), str(src), str(out), wrapper],
                               check=True, timeout=60)
                loaded = torch.load(out, map_location="cpu")
                state = loaded[wrapper] if wrapper else loaded
                self.assertIsInstance(state, collections.OrderedDict)
                self.assertEqual(list(state), list(source))
                for name, tensor in source.items():
                    self.assertEqual(state[name].dtype, tensor.dtype, name)
                    self.assertTrue(torch.equal(state[name], tensor.detach()), name)
                oracle.assert_matches_torch_load(self, out)


if __name__ == "__main__":
    unittest.main()
