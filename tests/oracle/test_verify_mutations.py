"""A mutation test of the verifier: exports made wrong in the ways real mistakes
make them, from realistic checkpoints (realistic_corpus), must each be refused
by `pt2onnx verify` with exit 6, while the unchanged export passes. The
noise-aware criterion must not have made the verifier blind. Also finds the
smallest scaling of one convolution's weights that is still caught, for
docs/verification.md."""

import unittest

import numpy as np
import onnx
from onnx import helper, numpy_helper

import oracle_common as oc
import realistic_corpus as rc

# The first, a middle and the head convolution/Linear, by module path.
MODELS = {
    "efficientnet_b0": {"first": "features.0.0", "mid": "features.4.1.block.3.0", "bias": "features.5.0.block.0.0",
                        "gate": "features.4.1.block.2.scale_activation", "head": "classifier.1"},
    "resnet18_trained": {"first": "conv1", "mid": "layer3.0.conv2", "bias": "layer2.1.conv1", "head": "fc"},
    "resnet50_fp16": {"first": "conv1", "mid": "layer3.2.conv2", "bias": "layer2.1.conv3", "head": "fc"},
}
SCALES = (1.02, 1.01, 1.005, 1.002, 1.001, 1.0005)


def initializer(model, name):
    for init in model.graph.initializer:
        if init.name == name:
            return init
    raise AssertionError(f"no initializer {name}; have {[i.name for i in model.graph.initializer][:20]}...")


def edit(model, name, change):
    init = initializer(model, name)
    w = numpy_helper.to_array(init).astype(np.float32).copy()
    init.CopyFrom(numpy_helper.from_array(change(w).astype(np.float32), name))


def scale_by(factor):
    return lambda w: w * factor


def reverse_input_channels(w):
    return w[:, ::-1].copy()


def shift_by_std(b):
    b = b.copy()
    b[len(b) // 2] += float(b.std())
    return b


def swap_rows(w):
    return w[[1, 0] + list(range(2, w.shape[0]))].copy()


def sigmoid_to_hardsigmoid(model, node_name):
    for node in model.graph.node:
        if node.name == node_name and node.op_type == "Sigmoid":
            node.op_type = "HardSigmoid"
            node.attribute.extend([helper.make_attribute("alpha", 1.0 / 6.0), helper.make_attribute("beta", 0.5)])
            return
    raise AssertionError(f"no Sigmoid node {node_name}")


class VerifierMutations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("verify_mutations")
        corpus = {e["name"]: e for e in rc.build_corpus(cls.work, only=set(MODELS))}
        cls.entries = {name: corpus[name] for name in MODELS}
        for name, e in cls.entries.items():
            e["onnx"] = cls.work / f"{name}.onnx"
            oc.run_pt2onnx("export", "--input", e["checkpoint"], "--output", e["onnx"], "--arch", e["arch"])

    def verify(self, entry, model, tag):
        path = self.work / f"{tag}.onnx"
        onnx.save(model, str(path))
        return oc.run_pt2onnx("verify", path, "--checkpoint", entry["checkpoint"], "--arch", entry["arch"],
                              check=False)

    def mutants(self, name):
        at = MODELS[name]
        n_out = self.entries[name]["n_out"]
        yield "a weight tensor x1.5", lambda m: edit(m, at["mid"] + ".weight", scale_by(1.5))
        yield "RGB/BGR swapped", lambda m: edit(m, at["first"] + ".weight", reverse_input_channels)
        yield "a bias shifted by its std", lambda m: edit(m, at["bias"] + ".bias", shift_by_std)
        if n_out > 1:
            yield "output rows swapped", lambda m: (edit(m, at["head"] + ".weight", swap_rows),
                                                    edit(m, at["head"] + ".bias", swap_rows))
        if "gate" in at:
            yield "a sigmoid gate as HardSigmoid", lambda m: sigmoid_to_hardsigmoid(m, at["gate"])
        yield "a conv's weights x1.02", lambda m: edit(m, at["mid"] + ".weight", scale_by(1.02))

    def test_the_unchanged_exports_pass(self):
        for name, e in self.entries.items():
            with self.subTest(name):
                proc = self.verify(e, onnx.load(str(e["onnx"])), f"{name}.unchanged")
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_every_mutation_is_refused(self):
        for name, e in self.entries.items():
            for i, (what, mutate) in enumerate(self.mutants(name)):
                with self.subTest(f"{name}: {what}"):
                    model = onnx.load(str(e["onnx"]))
                    mutate(model)
                    proc = self.verify(e, model, f"{name}.mutant{i}")
                    self.assertEqual(proc.returncode, 6, f"{what} was not caught:\n{proc.stdout}{proc.stderr}")
                    self.assertIn("Verification FAILED", proc.stdout)

    def test_the_smallest_caught_weight_scaling(self):
        for name, e in self.entries.items():
            caught = []
            for factor in SCALES:
                model = onnx.load(str(e["onnx"]))
                edit(model, MODELS[name]["mid"] + ".weight", scale_by(factor))
                proc = self.verify(e, model, f"{name}.scale{factor}")
                self.assertIn(proc.returncode, (0, 6), proc.stdout + proc.stderr)
                if proc.returncode != 6:
                    break
                caught.append(factor)
            print(f"{name}: weights of {MODELS[name]['mid']} scaled by {caught[-1] if caught else 'none'} "
                  f"and more are caught (tried {', '.join(map(str, SCALES))})")
            self.assertIn(1.02, caught, name)


if __name__ == "__main__":
    unittest.main()
