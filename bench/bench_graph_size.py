"""How loading and running scale with the node count: chains of Identity
nodes (which the passes remove) and of Relu nodes on an 8-element tensor
(which run, each a tiny step), as a generated or hostile model holds them.
Reports the whole `pt2onnx run` time per chain length and per node; linear
scaling keeps the per-node time flat.

    /usr/bin/python3 bench/bench_graph_size.py [--pt2onnx build/pt2onnx] [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parent.parent


def chain(op, n, path):
    nodes = [helper.make_node(op, [f"v{i}"], [f"v{i + 1}"], name=f"n{i}") for i in range(n)]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("v0", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, [1, 8])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pt2onnx", default=str(REPO / "build" / "pt2onnx"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "x.npy", np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8))
        print(f"{'model':<18} {'nodes':>8} {'median s':>9} {'us/node':>8}")
        for op, sizes in (("Identity", (25_000, 50_000, 100_000, 200_000)), ("Relu", (5_000, 10_000, 20_000, 40_000))):
            for n in sizes:
                path = tmp / f"{op}_{n}.onnx"
                chain(op, n, path)
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    subprocess.run([args.pt2onnx, "run", path, "-i", tmp / "x.npy", "-o", tmp / "y.npy"], check=True,
                                   capture_output=True)
                    times.append(time.perf_counter() - t)
                median = statistics.median(times)
                print(f"{op + ' chain':<18} {n:>8} {median:>9.3f} {median / n * 1e6:>8.1f}")
    print(f"machine: {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
