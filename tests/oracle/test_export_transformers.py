"""The vision transformers from real torchvision checkpoints (LayerNorm
affine parameters perturbed, the class token drawn, logits of about 10):

- `pt2onnx export` with no --arch identifies the architecture and its
  trained image size, and exports it with default verification;
- ONNX Runtime running that file matches PyTorch eager, and so does
  `pt2onnx run` on it and on torch.onnx.export's file of the same model,
  within 1e-4 of the logits' scale (or twice PyTorch's own float32 error);
- the file is written as the issue asks: LayerNormalization, exact GELU
  (Erf), attention as MatMul and Softmax, a dynamic batch;
- a model file over 128 MiB is run without transparent huge pages;
- the verifier refuses exports broken inside attention, the MLP, the
  position embedding or the class token;
- another image size is refused with a clear message, or exported with the
  position embedding interpolated as torchvision's interpolate_embeddings
  does when the user asks for it;
- ViT's look-alikes (B/16 and B/32, B and L) are told apart, and a
  checkpoint trained at another image size is rebuilt at that size.

Swin-T and MaxViT-T go through the same export and comparison; the verifier
refuses their exports broken in the shifted windows' mask, the relative
position bias, patch merging, MaxViT's k scaling or its grid partition; Swin
takes any image size, as torchvision does, and MaxViT refuses a size its 7x7
partitions do not divide, as torchvision does. Every transformer variant
expects torchvision's state dict, key for key.
"""

import os
import subprocess
import unittest

import torch
import torchvision

import oracle_common as oc
import runtime_oracle as ro
from families_common import FamilyExportCase
from test_export_families import detect


class MutantCase(unittest.TestCase):
    """A calibrated ARCH checkpoint (seed SEED) exported without verification into WORK, for tests that change the
    export and expect `pt2onnx verify` to refuse it."""
    ARCH = SEED = WORK = None

    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir(cls.WORK)
        model = oc.make_nontrivial_model(2, seed=cls.SEED, arch=cls.ARCH)
        cls.ckpt = oc.save_checkpoint(model, cls.work / f"{cls.ARCH}.pth")
        cls.good = cls.work / f"{cls.ARCH}.onnx"
        oc.run_pt2onnx("export", "--input", cls.ckpt, "--output", cls.good, "--no-verify")

    def assert_mutants_refused(self, mutants):
        """`pt2onnx verify` passes the export and refuses (exit 6) each copy of it with one initializer changed:
        mutants maps a name to (initializer, change), change taking and returning a NumPy array."""
        import numpy as np
        import onnx
        from onnx import numpy_helper

        proc = oc.run_pt2onnx("verify", self.good, "--checkpoint", self.ckpt, check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        for name, (initializer, change) in mutants.items():
            with self.subTest(mutant=name):
                model = onnx.load(str(self.good))
                init = next(i for i in model.graph.initializer if i.name == initializer)
                init.CopyFrom(numpy_helper.from_array(change(numpy_helper.to_array(init)).astype(np.float32),
                                                      initializer))
                path = self.work / "mutant.onnx"
                onnx.save(model, str(path))
                proc = oc.run_pt2onnx("verify", path, "--checkpoint", self.ckpt, check=False)
                self.assertEqual(proc.returncode, 6, proc.stdout + proc.stderr)
                self.assertIn("FAILED", proc.stdout)


class Transformers(FamilyExportCase):
    WORK = "export_transformers"

    def test_vit_b_32(self):
        proc = self.export_and_compare("vit_b_32", ["LayerNormalization", "Erf", "MatMul", "Softmax", "Gather"],
                                       seed=50)
        self.assertIn("Input: (batch, 3, 224, 224)", proc.stdout)

    def test_swin_t(self):
        # Shifted windows with their mask in stages 1 to 3; stage 4's 7x7 grid is one window, unshifted.
        proc = self.export_and_compare("swin_t", ["LayerNormalization", "Erf", "MatMul", "Softmax", "ReduceMean"],
                                       seed=60)
        self.assertIn("Input: (batch, 3, 224, 224)", proc.stdout)

    def test_maxvit_t(self):
        # MBConv with squeeze-excitation, attention in blocks and in strided grids, the Tanh classifier; the
        # replaced last Linear has a bias where torchvision's has none.
        proc = self.export_and_compare("maxvit_t", ["LayerNormalization", "Erf", "MatMul", "Softmax", "Tanh"],
                                       seed=70)
        self.assertIn("Note: the head classifier.5 is a Linear with a bias, where the family's has none", proc.stdout)

    def test_a_large_model_loads_without_huge_pages(self):
        # A file over 128 MiB on the command line: glibc malloc without transparent huge pages, whose zeroing made
        # ViT-B/32's load take from 0.5 to 9 s (docs/runtime.md, "Memory").
        torch.manual_seed(0)
        model = oc.create_model(2, arch="vit_b_32")
        path = self.work / "vit_b_32_plain.onnx"
        proc = oc.run_pt2onnx("export", "--input", oc.save_checkpoint(model, self.work / "vit_b_32_plain.pth"),
                              "--output", path, "--no-verify")
        self.assertGreater(path.stat().st_size, 128 << 20)
        proc = oc.run_pt2onnx("bench", path, "--batch-size", "1", "--threads", "1", "--seconds", "0.2")
        self.assertIn("memory: freed memory kept for reuse, no huge pages for a file over 128 MiB", proc.stdout)


class VerifierCatchesTransformerMistakes(MutantCase):
    """The verifier's reference computes the transformer layers itself: exports made wrong the ways a lowering
    could go wrong are refused by `pt2onnx verify` (exit 6), while the unchanged export passes."""

    ARCH, SEED, WORK = "vit_b_32", 52, "export_transformers_mutations"

    def test_mutants_are_refused_and_the_export_passes(self):
        import numpy as np

        block = "encoder.layers.encoder_layer_5"

        def swap_q_heads(w):  # [D, 3D]: q's first two heads exchanged, k's kept
            w = w.copy()
            w[:, 0:64], w[:, 64:128] = w[:, 64:128].copy(), w[:, 0:64].copy()
            return w

        def swap_positions(w):  # [1, L, D]: two patches' position embeddings exchanged
            w = w.copy()
            w[0, [1, 2]] = w[0, [2, 1]]
            return w

        mutants = {
            "q heads swapped": (f"{block}.self_attention.in_proj.weight_transposed", swap_q_heads),
            "MLP weight x1.02": (f"{block}.mlp.0.weight_transposed", lambda w: w * 1.02),
            "positions swapped": ("encoder.pos_embedding.value", swap_positions),
            "class token zeroed": ("class_token.value", lambda w: np.where(np.arange(w.shape[1])[None, :, None] == 0,
                                                                           0.0, w)),
        }
        self.assert_mutants_refused(mutants)


class SwinVerifierCatchesMistakes(MutantCase):
    """The reference computes Swin's windows, shifts, mask and patch merging itself: exports broken the ways a
    lowering of them could break are refused (exit 6), and the unchanged export passes."""

    ARCH, SEED, WORK = "swin_t", 61, "export_swin_mutations"

    def test_mutants_are_refused_and_the_export_passes(self):
        import numpy as np

        def unmask(b):  # [windows, heads, 49, 49]: the shifted windows' -100s gone, the bias kept
            return np.where(b < -50.0, b + 100.0, b)

        def swap_heads(b):  # [heads, 49, 49]: two heads' relative position biases exchanged
            b = b.copy()
            b[[0, 1]] = b[[1, 0]]
            return b

        def transpose_bias(b):  # bias[j][i] for bias[i][j]: the index read the wrong way round
            return np.swapaxes(b, -1, -2).copy()

        def swap_merged_parts(w):  # [4C, 2C]: PatchMerging's x1 and x2 (odd rows, odd columns) taken in each
            w = w.copy()      # other's place, as a transpose of the wrong axes would
            c = w.shape[0] // 4
            w[c:2 * c], w[2 * c:3 * c] = w[2 * c:3 * c].copy(), w[c:2 * c].copy()
            return w

        mutants = {
            "mask dropped": ("features.3.1.attn.bias_and_mask", unmask),
            "heads' bias swapped": ("features.1.0.attn.bias", swap_heads),
            "bias transposed": ("features.5.0.attn.bias", transpose_bias),
            "merged parts swapped": ("features.2.reduction.weight_transposed", swap_merged_parts),
            "MLP weight x1.02": ("features.5.3.mlp.0.weight_transposed", lambda w: w * 1.02),
        }
        self.assert_mutants_refused(mutants)


class MaxVitVerifierCatchesMistakes(MutantCase):
    """The same for MaxViT's partitions and its attention, which scales k by the whole width."""

    ARCH, SEED, WORK = "maxvit_t", 71, "export_maxvit_mutations"

    def test_mutants_are_refused_and_the_export_passes(self):
        import numpy as np
        import onnx

        grid = "blocks.1.layers.0.layers.grid_attention.attn_layer.1"
        window = "blocks.2.layers.3.layers.window_attention.attn_layer.1"
        mutants = {
            # Swin's and ViT's scale, by the head's width (32), instead of torchvision's by all 256 features
            "k scaled per head": (f"{window}.scale", lambda s: np.full_like(s, 32.0 ** -0.5)),
            "grid bias transposed": (f"{grid}.bias", lambda b: np.swapaxes(b, -1, -2).copy()),
            "merge weight x1.02": (f"{window}.merge.weight_transposed", lambda w: w * 1.02),
        }
        self.assert_mutants_refused(mutants)
        # A grid partition taken as a block partition: the transposes of one grid layer swapped for a window
        # layer's, every shape unchanged.
        model = onnx.load(str(self.good))
        nodes = {n.name: n for n in model.graph.node}
        for step in ("partition_op/group_major", "departition_op/map_major"):
            perm = next(a for a in nodes[f"blocks.1.layers.0.layers.window_attention.{step}"].attribute)
            target = next(a for a in nodes[f"blocks.1.layers.0.layers.grid_attention.{step}"].attribute)
            target.CopyFrom(perm)
            for which in ("split", "groups"):
                src = f"blocks.1.layers.0.layers.window_attention.{step.split('/')[0]}/{which}.shape"
                dst = f"blocks.1.layers.0.layers.grid_attention.{step.split('/')[0]}/{which}.shape"
                inits = {i.name: i for i in model.graph.initializer}
                if src in inits and dst in inits:
                    inits[dst].CopyFrom(inits[src])
                    inits[dst].name = dst
        path = self.work / "mutant_partition.onnx"
        onnx.save(model, str(path))
        proc = oc.run_pt2onnx("verify", path, "--checkpoint", self.ckpt, check=False)
        self.assertEqual(proc.returncode, 6, proc.stdout + proc.stderr)


class SwinInputSize(unittest.TestCase):
    def test_any_size_as_torchvision_runs_it(self):
        # Swin has nothing sized by the image: at 200 the 50x50 grid pads to 56 for its windows, and the second
        # PatchMerging pads a 25x25 grid to 26; torchvision runs the same model at that size.
        work = oc.work_dir("export_swin_size")
        model = oc.make_nontrivial_model(2, seed=62, arch="swin_t")
        ckpt = oc.save_checkpoint(model, work / "swin_t.pth")
        ours = work / "swin_t_200.onnx"
        proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", ours, "--image-size", "200")
        self.assertIn("Note: input size 200x200 (--image-size); trained at 224x224", proc.stdout)
        self.assertIn("Verification passed!", proc.stdout)
        self.assertIn("Input: (batch, 3, 200, 200)", proc.stdout)
        xs = oc.probe_inputs(2, seed=12, size=200)
        for (probe, x), from_ort in zip(xs.items(), oc.ort_run(ours, list(xs.values()))):
            with self.subTest(probe=probe):
                want = oc.torch_eval(model, x)
                tol = 1e-4 * max(oc.LOGIT_SCALE, float(abs(want).max()))
                self.assertLessEqual(ro.max_abs_diff(from_ort, want), tol, "ONNX Runtime")
                got = ro.pt2onnx_run(ours, x, work, f"swin_200_{probe}")
                self.assertLessEqual(ro.max_abs_diff(got, want), tol, "pt2onnx run")


class MaxVitInputSize(unittest.TestCase):
    def test_a_size_its_partitions_do_not_divide_is_refused(self):
        # torchvision refuses MaxViT at 256 too: its 64x64 first block does not split into 7x7 partitions.
        work = oc.work_dir("export_maxvit_size")
        torch.manual_seed(0)
        ckpt = oc.save_checkpoint(oc.create_model(2, arch="maxvit_t"), work / "maxvit_t.pth")
        with self.assertRaises(ValueError):
            torchvision.models.maxvit_t(weights=None, input_size=(256, 256))
        out = work / "refused.onnx"
        proc = oc.run_pt2onnx("export", "--input", ckpt, "--output", out, "--image-size", "256", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--image-size 256: MaxViT-T cuts each block's feature map into 7x7 partitions", proc.stderr)
        self.assertIn("has a 64x64 map", proc.stderr)
        self.assertFalse(out.exists())


class InputSize(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("export_transformers_size")
        cls.model = oc.make_nontrivial_model(2, seed=51, arch="vit_b_32")
        cls.ckpt = oc.save_checkpoint(cls.model, cls.work / "vit_b_32.pth")

    def test_another_size_is_refused_without_interpolation(self):
        out = self.work / "refused.onnx"
        proc = oc.run_pt2onnx("export", "--input", self.ckpt, "--output", out, "--image-size", "288", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("--image-size 288: ViT-B/32's position embedding was trained for 224x224 images", proc.stderr)
        self.assertIn("--interpolate-position-embedding", proc.stderr)
        self.assertFalse(out.exists())
        proc = oc.run_pt2onnx("export", "--input", self.ckpt, "--output", out, "--image-size", "300",
                              "--interpolate-position-embedding", check=False)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("the size must be a multiple of 32", proc.stderr)
        self.assertFalse(out.exists())

    def test_interpolated_as_torchvision_interpolates(self):
        # torchvision's own route to a ViT at another size: interpolate_embeddings on the state dict, then the
        # model built at that size.
        from torchvision.models.vision_transformer import interpolate_embeddings
        state = interpolate_embeddings(288, 32, self.model.state_dict())
        theirs = torchvision.models.vit_b_32(weights=None, image_size=288)
        theirs.heads.head = torch.nn.Linear(768, 2)
        theirs.load_state_dict(state)
        theirs.eval()
        ours = self.work / "vit_b_32_288.onnx"
        proc = oc.run_pt2onnx("export", "--input", self.ckpt, "--output", ours, "--image-size", "288",
                              "--interpolate-position-embedding")
        self.assertIn("Note: input size 288x288 (--image-size); trained at 224x224, position embedding interpolated",
                      proc.stdout)
        self.assertIn("Verification passed!", proc.stdout)
        self.assertIn("Input: (batch, 3, 288, 288)", proc.stdout)
        xs = oc.probe_inputs(2, seed=9, size=288)
        for (probe, x), from_ort in zip(xs.items(), oc.ort_run(ours, list(xs.values()))):
            with self.subTest(probe=probe):
                want = oc.torch_eval(theirs, x)
                tol = 1e-4 * max(oc.LOGIT_SCALE, float(abs(want).max()))
                self.assertLessEqual(ro.max_abs_diff(from_ort, want), tol, "ONNX Runtime")
                got = ro.pt2onnx_run(ours, x, self.work, f"vit_288_{probe}")
                self.assertLessEqual(ro.max_abs_diff(got, want), tol, "pt2onnx run")


class TransformerDetection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("export_transformers_detect")

    def test_every_transformer_expects_torchvisions_state_dict(self):
        # The same keys in the same order with the same shapes: with the unit test that tells every registered
        # architecture from the others by its tensors, this proves each variant is detected from a real checkpoint.
        for arch in ("vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14", "swin_t", "swin_s", "swin_b",
                     "maxvit_t"):
            with self.subTest(arch=arch):
                torch.manual_seed(0)
                # torchvision's own head (MaxViT's last Linear has no bias); BatchNorm's num_batches_tracked,
                # which binding ignores, left out
                model = getattr(torchvision.models, arch)(weights=None, num_classes=3)
                want = [(k, list(v.shape)) for k, v in model.state_dict().items()
                        if not k.endswith(".num_batches_tracked")]
                out = subprocess.run([os.environ["PT2ONNX_REFERENCE_TOOL"], "expected-state", arch, "3"],
                                     check=True, capture_output=True, text=True).stdout
                got = [(key, [int(d) for d in shape.strip("[]").split(",") if d.strip()])
                       for key, shape, _ in (line.split("\t") for line in out.splitlines())]
                self.assertEqual(got, want)

    def test_look_alikes_are_told_apart(self):
        # B/16 and B/32 differ only in the patch; Swin-S and Swin-B have the same depths, Swin-T and Swin-S the same
        # widths.
        for arch in ("vit_b_16", "vit_b_32", "swin_s", "swin_b"):
            with self.subTest(arch=arch):
                torch.manual_seed(0)
                model = oc.create_model(3, arch=arch)
                proc = detect(self, model.state_dict(), arch)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn(f"Architecture: {arch} (detected: all {len(model.state_dict())} of its tensors fit",
                              proc.stdout)
                self.assertIn("Input: (batch, 3, 224, 224)", proc.stdout)
                (self.work / f"{arch}.pth").unlink()

    def test_a_vit_trained_at_another_size_is_rebuilt_at_it(self):
        torch.manual_seed(0)
        model = torchvision.models.vit_b_32(weights=None, image_size=384)
        model.heads.head = torch.nn.Linear(768, 2)
        proc = detect(self, model.state_dict(), "vit_b_32_384")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Architecture: vit_b_32 (detected", proc.stdout)
        self.assertIn("Input: (batch, 3, 384, 384)", proc.stdout)
        model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})  # as `detect` saved it
        _, dims = oc.onnx_structure(self.work / "vit_b_32_384.onnx")
        self.assertEqual(dims, ["batch", 2])
        x = torch.randn(2, 3, 384, 384).numpy()
        want = oc.torch_eval(model, x)
        got = ro.pt2onnx_run(self.work / "vit_b_32_384.onnx", x, self.work, "vit_b_32_384")
        self.assertLessEqual(ro.max_abs_diff(got, want), 1e-4 * max(1.0, float(abs(want).max())))


if __name__ == "__main__":
    unittest.main(verbosity=2)
