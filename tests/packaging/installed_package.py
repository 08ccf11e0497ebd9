"""pt2onnx as a dependency of another project: `cmake --install` the build into
a fresh prefix, configure and build examples/embed against it with
find_package(pt2onnx), then check that its programs, linking only the installed
library and headers, give what the command gives: examples/embed/classify the
outputs of `pt2onnx run` for the same model and input, examples/embed/export
the same model file as `pt2onnx export` from the same checkpoint.

    installed_package.py BUILD_DIR SOURCE_DIR WORK_DIR
"""
import pathlib
import shutil
import subprocess
import sys

import numpy as np


def run(*args, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def main():
    build, source, work = (pathlib.Path(a).resolve() for a in sys.argv[1:4])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prefix = work / "prefix"
    run("cmake", "--install", build, "--prefix", prefix)
    for must in ["bin/pt2onnx", "include/pt2onnx/runtime.h", "include/pt2onnx/export.h", "include/pt2onnx/tensor.h", "lib/libpt2onnx.a",
                 "lib/cmake/pt2onnx/pt2onnxConfig.cmake", "lib/cmake/pt2onnx/pt2onnxConfigVersion.cmake"]:
        found = list(prefix.glob(must.replace("lib/", "lib*/", 1))) if must.startswith("lib/") else [prefix / must]
        if not any(p.exists() for p in found):
            sys.exit(f"FAILED: the install has no {must}")
    # Nothing private is installed.
    headers = sorted(p.name for p in (prefix / "include" / "pt2onnx").iterdir())
    if headers != sorted(p.name for p in (source / "include" / "pt2onnx").iterdir()):
        sys.exit(f"FAILED: installed headers {headers} differ from include/pt2onnx")

    example = work / "example"
    run("cmake", "-S", source / "examples" / "embed", "-B", example, f"-DCMAKE_PREFIX_PATH={prefix}",
        "-DCMAKE_BUILD_TYPE=Release")
    run("cmake", "--build", example, "--parallel", "2")

    # A model from the installed command itself.
    pt2onnx = prefix / "bin" / "pt2onnx"
    run(pt2onnx, "demo-checkpoint", work / "demo.pth", "--num-outputs", "3")
    run(pt2onnx, "export", "--input", work / "demo.pth", "--output", work / "demo.onnx")
    # The library's export, called from the example, writes the command's file byte for byte.
    said = run(example / "export", work / "demo.pth", work / "demo_api.onnx")
    if "Verification passed!" not in said.stderr or "verified" not in said.stdout:
        sys.exit(f"FAILED: the export example did not verify:\n{said.stdout}\n{said.stderr}")
    if (work / "demo_api.onnx").read_bytes() != (work / "demo.onnx").read_bytes():
        sys.exit("FAILED: examples/embed/export wrote another file than pt2onnx export")
    print(f"export example: {said.stdout.strip()}; the same bytes as pt2onnx export")

    for value in (0.5, -1.25):
        got = run(example / "classify", work / "demo.onnx", value).stdout.split()
        x = np.full((1, 3, 224, 224), value, dtype=np.float32)
        np.save(work / "x.npy", x)
        run(pt2onnx, "run", work / "demo.onnx", "--input", work / "x.npy", "--output", work / "y.npy")
        want = np.load(work / "y.npy").ravel()
        if got[0] != "logits" or len(got) != 1 + want.size:
            sys.exit(f"FAILED: classify printed {got}, expected logits and {want.size} values")
        values = np.array([float(v) for v in got[1:]], dtype=np.float64)
        diff = np.abs(values - want).max()
        if diff > 1e-5 * max(1.0, np.abs(want).max()):
            sys.exit(f"FAILED: input {value}: classify {values} against pt2onnx run {want} (max diff {diff})")
        print(f"input {value}: classify and pt2onnx run agree within {diff:.3g}: {values}")
    print("OK: installed package found, example built and run")


if __name__ == "__main__":
    main()
