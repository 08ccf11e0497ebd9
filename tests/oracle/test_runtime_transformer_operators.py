"""pt2onnx's engine against ONNX Runtime on single operators that Swin and
MaxViT need (ops/math.h, ops/index.h, ops/einsum.h, Tanh), in small graphs
written with onnx.helper: Mod (fmod 1 on float32, fmod 0 on int64), Pow
(float32 exponents broadcast, an int64 exponent, int64 bases), Not, Range
(int64 and float32), ScatterND (on computed float32 data with each
reduction, on int64 constants), Einsum (MaxViT's equations, implicit output,
a letter summed from one operand), Tanh. Integer results are evaluated at
load and observed through Cast and Add to the float32 input. Each graph runs
at batch 1 and 2 where its input has a batch axis. Tolerance 1e-5 of the
output's scale.

FusedAttention: attention as pt2onnx export writes it (Swin's and MaxViT's
grouped heads with a relative-position bias, the query or the key scaled)
and as torch.onnx.export writes ViT's (three-dimensional heads, Div by
sqrt(d), Softmax on a positive axis), which the engine runs as one Attention
kernel (fuse_attention), and look-alikes it must leave to the plain operators
(bias added before the scale, Softmax over another axis, scores also read
elsewhere), each against ONNX Runtime, which runs the operators as written.
"""

import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import oracle_common as oc
import runtime_oracle as ro


def model(nodes, x_shape, y_name="y", initializers=(), opset=17):
    graph = helper.make_graph(
        nodes, "op", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), name=k) for k, v in initializers])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8

    return m


def cast_add(name):
    """x + float(name): an integer constant's values, seen in the output."""
    return [helper.make_node("Cast", [name], [name + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["x", name + "_f"], ["y"])]


class TransformerOperators(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_transformer_operators")
        cls.count = 0

    def check(self, m, inputs):
        self.__class__.count += 1
        path = self.work / f"op{self.count}.onnx"
        onnx.save(m, str(path))
        wants = oc.ort_run(path, inputs)
        for i, (x, want) in enumerate(zip(inputs, wants)):
            got = ro.pt2onnx_run(path, x, self.work, f"op{self.count}_{i}")
            self.assertEqual(got.shape, want.shape)
            scale = max(1.0, float(np.abs(want).max()))
            self.assertLessEqual(ro.max_abs_diff(got, want), 1e-5 * scale, f"input {i}")

    def rand(self, shape, lo=-3.0, hi=3.0, seed=0):
        return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)

    def test_mod_fmod1_on_float32(self):
        d = np.array([[1.5], [-0.7], [2.0]], np.float32)
        m = model([helper.make_node("Mod", ["x", "d"], ["y"], fmod=1)], ["N", 3, 4], initializers=[("d", d)])
        self.check(m, [self.rand((1, 3, 4)), self.rand((2, 3, 4), seed=1)])

    def test_integer_mod_both_signs(self):
        a = np.array([7, -7, 7, -7, 0, 9, -9, 5], np.int64)
        b = np.array([3, 3, -3, -3, 2, 4, 4, -5], np.int64)
        for fmod in (0, 1):
            with self.subTest(fmod=fmod):
                m = model([helper.make_node("Mod", ["a", "b"], ["r"], fmod=fmod)] + cast_add("r"), [8],
                          initializers=[("a", a), ("b", b)])
                self.check(m, [np.zeros(8, np.float32)])

    def test_pow(self):
        e = np.array([0.5, -1.0, 2.0, 1.5], np.float32)
        m = model([helper.make_node("Pow", ["x", "e"], ["y"])], ["N", 3, 4], initializers=[("e", e)])
        self.check(m, [self.rand((1, 3, 4), 0.1, 3.0), self.rand((2, 3, 4), 0.1, 3.0, seed=2)])
        m = model([helper.make_node("Pow", ["x", "three"], ["y"])], ["N", 5],
                  initializers=[("three", np.array(3, np.int64))])
        self.check(m, [self.rand((2, 5))])
        m = model([helper.make_node("Pow", ["a", "b"], ["r"])] + cast_add("r"), [2, 3],
                  initializers=[("a", np.array([[2], [-3]], np.int64)), ("b", np.array([0, 1, 5], np.int64))])
        self.check(m, [np.zeros((2, 3), np.float32)])

    def test_not(self):
        c = np.array([True, False, True, False])
        m = model([helper.make_node("Not", ["c"], ["nc"]), helper.make_node("Where", ["nc", "x", "z"], ["y"])],
                  ["N", 4], initializers=[("c", c), ("z", np.array([-5.0], np.float32))])
        self.check(m, [self.rand((1, 4)), self.rand((2, 4), seed=3)])

    def test_range(self):
        for start, limit, delta, dtype in ((0, 7, 2, np.int64), (10, 1, -3, np.int64), (0.5, 2.25, 0.25, np.float32),
                                           (3, 3, 1, np.int64)):
            with self.subTest(start=start, limit=limit, delta=delta):
                inits = [("s", np.array(start, dtype)), ("l", np.array(limit, dtype)), ("d", np.array(delta, dtype))]
                nodes = [helper.make_node("Range", ["s", "l", "d"], ["r"])]
                if dtype == np.int64:
                    nodes.append(helper.make_node("Cast", ["r"], ["r_f"], to=TensorProto.FLOAT))
                else:
                    nodes.append(helper.make_node("Identity", ["r"], ["r_f"]))
                # After x's one element: an empty range leaves x alone (graph inputs have positive sizes).
                nodes.append(helper.make_node("Concat", ["x", "r_f"], ["y"], axis=0))
                self.check(model(nodes, [1], initializers=inits), [self.rand((1,))])

    def test_scatter_nd_on_computed_data(self):
        indices = np.array([[0, 1], [1, -1], [0, 1]], np.int64)
        updates = self.rand((3, 4), seed=4)
        for reduction in ("add", "mul"):
            with self.subTest(reduction=reduction):
                m = model([helper.make_node("ScatterND", ["x", "i", "u"], ["y"], reduction=reduction)], [2, 3, 4],
                          initializers=[("i", indices), ("u", updates)])
                self.check(m, [self.rand((2, 3, 4), seed=5)])
        m = model([helper.make_node("ScatterND", ["x", "i", "u"], ["y"])], [2, 3, 4],
                  initializers=[("i", indices[:2]), ("u", updates[:2])])
        self.check(m, [self.rand((2, 3, 4), seed=6)])

    def test_scatter_nd_on_int64_constants(self):
        data = np.zeros((4, 3), np.int64)
        m = model([helper.make_node("ScatterND", ["data", "i", "u"], ["r"])] + cast_add("r"), [4, 3],
                  initializers=[("data", data), ("i", np.array([[3], [0]], np.int64)),
                                ("u", np.array([[1, 2, 3], [4, 5, 6]], np.int64))])
        self.check(m, [np.zeros((4, 3), np.float32)])

    def test_einsum(self):
        k = self.rand((3, 2, 6, 5), seed=7)
        cases = [
            ("B G H I D, B G H J D -> B G H I J", [helper.make_node("Einsum", ["x", "x"], ["y"])], [], (2, 3, 2, 6, 5)),
            ("bghij,bghjd->bghid", [helper.make_node("Einsum", ["x", "x"], ["y"])], [], (2, 3, 2, 5, 5)),
            ("ghjd,bghid->bghij", [helper.make_node("Einsum", ["k", "x"], ["y"])], [("k", k)], (2, 3, 2, 4, 5)),
            ("bij,kj", [helper.make_node("Einsum", ["x", "w"], ["y"])], [("w", self.rand((3, 5), seed=8))],
             (2, 4, 5)),
            ("bij,k->bi", [helper.make_node("Einsum", ["x", "w"], ["y"])], [("w", self.rand((3,), seed=9))],
             (2, 4, 5)),
        ]
        for equation, nodes, inits, shape in cases:
            with self.subTest(equation=equation):
                nodes[0].attribute.append(helper.make_attribute("equation", equation))
                m = model(nodes, ["N", *shape[1:]], initializers=inits)
                self.check(m, [self.rand((1, *shape[1:]), seed=10), self.rand(shape, seed=11)])

    def test_tanh(self):
        m = model([helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Tanh", ["m"], ["y"])],
                  ["N", 4], initializers=[("w", self.rand((4, 3), seed=12))])
        self.check(m, [self.rand((1, 4)), self.rand((2, 4), seed=13)])


def projection(name, x, dim_in, dim_out, seed):
    """x @ W for a random W [dim_in, dim_out] with the scale of a trained Linear."""
    w = np.random.default_rng(seed).normal(0, dim_in ** -0.5, (dim_in, dim_out)).astype(np.float32)
    return [helper.make_node("MatMul", [x, name + ".w"], [name])], [(name + ".w", w)]


class FusedAttention(unittest.TestCase):
    """Attention graphs with large scores (a softmax far from uniform), at batch 1 and 3."""

    check = TransformerOperators.check
    rand = TransformerOperators.rand

    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_fused_attention")
        cls.count = 0

    def grouped(self, scale_keys, bias_shape, scale_after_bias=False, softmax_axis=-1, second_reader=False):
        """pt2onnx export's grouped attention: x [N, 2 groups, 6 tokens, 16] -> qkv -> heads [N, 2, 2, 6, 8]."""
        nodes, inits = projection("qkv", "x", 16, 48, 3)
        inits.append(("heads_shape", np.array([0, 2, 6, 3, 2, 8], np.int64)))
        nodes += [helper.make_node("Reshape", ["qkv", "heads_shape"], ["qkv_heads"]),
                  helper.make_node("Transpose", ["qkv_heads"], ["by_role"], perm=[3, 0, 1, 4, 2, 5])]
        for r, role in enumerate("qkv"):
            inits.append((role + "_index", np.array(r, np.int64)))
            nodes.append(helper.make_node("Gather", ["by_role", role + "_index"], [role], axis=0))
        inits.append(("scale", np.array(8 ** -0.5 * 3.0, np.float32)))
        rng = np.random.default_rng(4)
        inits.append(("bias", rng.normal(0, 2.0, bias_shape).astype(np.float32)))
        scaled = "k" if scale_keys else "q"
        q = "q" if scale_keys else "q_scaled"
        if scale_after_bias:
            nodes += [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 2, 4, 3]),
                      helper.make_node("MatMul", ["q", "kt"], ["scores"]),
                      helper.make_node("Add", ["scores", "bias"], ["biased"]),
                      helper.make_node("Mul", ["biased", "scale"], ["logits"])]
        else:
            nodes += [helper.make_node("Mul", [scaled, "scale"], [scaled + "_scaled"]),
                      helper.make_node("Transpose", ["k_scaled" if scale_keys else "k"], ["kt"], perm=[0, 1, 2, 4, 3]),
                      helper.make_node("MatMul", [q, "kt"], ["scores"]),
                      helper.make_node("Add", ["scores", "bias"], ["logits"])]
        nodes += [helper.make_node("Softmax", ["logits"], ["weights"], axis=softmax_axis),
                  helper.make_node("MatMul", ["weights", "v"], ["mixed_once" if second_reader else "mixed"])]
        if second_reader:  # the scores feed a second softmax too
            nodes += [helper.make_node("Softmax", ["logits"], ["weights2"], axis=-2),
                      helper.make_node("MatMul", ["weights2", "v"], ["mixed_twice"]),
                      helper.make_node("Add", ["mixed_once", "mixed_twice"], ["mixed"])]
        inits.append(("joined_shape", np.array([0, 2, 6, 16], np.int64)))
        nodes += [helper.make_node("Transpose", ["mixed"], ["mixed_tokens"], perm=[0, 1, 3, 2, 4]),
                  helper.make_node("Reshape", ["mixed_tokens", "joined_shape"], ["y"])]
        return model(nodes, ["N", 2, 6, 16], initializers=inits)

    def inputs(self, shape):
        return [self.rand((1, *shape), seed=11), self.rand((3, *shape), seed=12)]

    def test_grouped_heads_with_a_bias_per_group_and_the_query_scaled(self):
        self.check(self.grouped(False, (2, 2, 6, 6)), self.inputs((2, 6, 16)))

    def test_grouped_heads_with_a_bias_per_head_and_the_key_scaled(self):
        self.check(self.grouped(True, (1, 2, 6, 6)), self.inputs((2, 6, 16)))
        self.check(self.grouped(True, (6,)), self.inputs((2, 6, 16)))

    def test_look_alikes_left_to_the_plain_operators(self):
        self.check(self.grouped(False, (2, 2, 6, 6), scale_after_bias=True), self.inputs((2, 6, 16)))
        self.check(self.grouped(False, (2, 2, 6, 6), softmax_axis=-2), self.inputs((2, 6, 16)))
        self.check(self.grouped(False, (2, 1, 6, 6)), self.inputs((2, 6, 16)))  # a middle axis broadcasts

    def test_scores_read_twice_stay(self):
        self.check(self.grouped(False, (2, 2, 6, 6), second_reader=True), self.inputs((2, 6, 16)))

    def test_torch_vit_heads(self):
        """torch.onnx.export's ViT: heads merged with the batch, q divided by sqrt(d), Softmax(axis=2) on rank 3."""
        nodes, inits = [], []
        for i, role in enumerate("qkv"):
            n, w = projection(role + "_proj", "x", 16, 16, 20 + i)
            nodes += n
            inits += w
        inits += [("split", np.array([0, 5, 2, 8], np.int64)), ("merged", np.array([-1, 5, 8], np.int64)),
                  ("sqrt_d", np.array(8 ** 0.5 / 3.0, np.float32)), ("joined", np.array([-1, 5, 16], np.int64))]
        for role in "qkv":
            nodes += [helper.make_node("Reshape", [role + "_proj", "split"], [role + "_split"]),
                      helper.make_node("Transpose", [role + "_split"], [role + "_heads4"], perm=[0, 2, 1, 3]),
                      helper.make_node("Reshape", [role + "_heads4", "merged"], [role + "_heads"])]
        nodes += [helper.make_node("Div", ["q_heads", "sqrt_d"], ["q_scaled"]),
                  helper.make_node("Transpose", ["k_heads"], ["kt"], perm=[0, 2, 1]),
                  helper.make_node("MatMul", ["q_scaled", "kt"], ["scores"]),
                  helper.make_node("Softmax", ["scores"], ["weights"], axis=2),
                  helper.make_node("MatMul", ["weights", "v_heads"], ["mixed"]),
                  helper.make_node("Reshape", ["mixed", "joined"], ["y"])]
        self.check(model(nodes, ["N", 5, 16], initializers=inits), self.inputs((5, 16)))


if __name__ == "__main__":
    unittest.main()
