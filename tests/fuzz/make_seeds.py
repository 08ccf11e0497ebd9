"""Writes the fuzzers' seed corpora, fuzz/corpus/<target>/, from real files
made by the real tools: torch.save (zip and legacy formats), safetensors as
the format defines it, torch.onnx.export, numpy.save, PIL and pydicom. Each
seed is small (a fuzzer mutates it many times a second) and valid: the unit
tests check that every seed is accepted, but for those named refused_*, which
must be refused with a clear error (tests/fuzz/replay_test.cpp).

    /usr/bin/python3 tests/fuzz/make_seeds.py [OUT_DIR]   (default: fuzz/corpus)
"""
import collections
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "oracle"))
import oracle_common as oc  # noqa: E402
import runtime_oracle as ro  # noqa: E402
from test_vision_dicom import write_dicom  # noqa: E402


def tiny_models():
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 2)
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        conv[1].running_mean.uniform_(-0.5, 0.5)
        conv[1].running_var.uniform_(0.5, 2.0)
    half = {k: v.half() for k, v in conv.state_dict().items() if v.is_floating_point()}
    return {"linear": linear.state_dict(), "conv": conv.state_dict(), "half": half}, conv.eval()


def checkpoints(out, models):
    for name, sd in models.items():
        wrapped = {"model_state_dict": sd, "epoch": 3, "labels": ["a", "b"]}
        torch.save(wrapped, out / "torch_zip" / f"{name}.pth")
        torch.save(sd, out / "torch_zip" / f"{name}_bare.pth")
        torch.save(wrapped, out / "torch_legacy" / f"{name}.pth", _use_new_zipfile_serialization=False)
        oc.write_safetensors(out / "safetensors" / f"{name}.safetensors", sd)
    # The pickles inside: a state dict's data.pkl (persistent ids) and plain objects.
    with zipfile.ZipFile(out / "torch_zip" / "conv.pth") as z:
        pkl = next(n for n in z.namelist() if n.endswith("data.pkl"))
        # Its storages are persistent ids, which a pickle alone cannot resolve: refused.
        (out / "unpickler" / "refused_state_dict_persistent_ids.pkl").write_bytes(z.read(pkl))
    plain = collections.OrderedDict(a=[1, 2.5, "x", b"\x00\x01", None, True], b=(1, (2, 3)), c={"k": -7},
                                    big=2 ** 70, neg=-(2 ** 40))
    for protocol in (2, 3, 4, 5):
        (out / "unpickler" / f"plain_p{protocol}.pkl").write_bytes(pickle.dumps(plain, protocol=protocol))


def onnx_models(out, conv):
    ro.export_tiny_classifier(out / "onnx" / "tiny.onnx")
    ro.export(conv, out / "onnx" / "conv_bn.onnx", torch.randn(1, 3, 8, 8), keep_batchnorm=True)

    class Patterns(torch.nn.Module):
        def forward(self, x):
            y = torch.nn.functional.hardswish(x) * torch.sigmoid(x)
            return torch.clamp(y, 0, 6).view(x.size(0), -1)

    ro.export(Patterns(), out / "onnx" / "patterns.onnx", torch.randn(1, 3, 4, 4))


def arrays(out):
    rng = np.random.default_rng(0)
    np.save(out / "npy" / "f32.npy", rng.standard_normal((1, 3, 4, 4)).astype(np.float32))
    np.save(out / "npy" / "f32_matrix.npy", rng.standard_normal((2, 3)).astype(np.float32))
    np.save(out / "npy" / "f32_vector.npy", rng.standard_normal(7).astype(np.float32))
    # pt2onnx reads little-endian, C-order float32 only; these are refused with a clear error.
    np.save(out / "npy" / "refused_f64.npy", rng.standard_normal((2, 3)))
    np.save(out / "npy" / "refused_i64.npy", np.arange(6, dtype=np.int64).reshape(2, 3))
    np.save(out / "npy" / "refused_fortran.npy", np.asfortranarray(rng.standard_normal((3, 2)).astype(np.float32)))
    np.save(out / "npy" / "refused_big_endian.npy", rng.standard_normal(5).astype(">f4"))


def images(out):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (13, 17, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(out / "png" / "rgb.png")
    Image.fromarray(rgb).convert("L").save(out / "png" / "gray.png")
    Image.fromarray(rgb).convert("RGBA").save(out / "png" / "rgba.png")
    Image.fromarray(rgb).convert("P").save(out / "png" / "palette.png")
    Image.fromarray(rgb).convert("LA").save(out / "png" / "gray_alpha.png")
    Image.fromarray((rng.integers(0, 65536, (9, 11))).astype(np.uint16)).save(out / "png" / "gray16.png")
    Image.fromarray(rgb).save(out / "jpeg" / "rgb.jpg", quality=90)
    Image.fromarray(rgb).convert("L").save(out / "jpeg" / "gray.jpg", quality=80)
    Image.fromarray(rgb).save(out / "jpeg" / "progressive.jpg", quality=85, progressive=True)
    Image.fromarray(rgb).save(out / "jpeg" / "subsampled.jpg", quality=75, subsampling=2)
    write_dicom(out / "dicom" / "mono8.dcm", rng.integers(0, 256, (12, 10), dtype=np.uint8))
    write_dicom(out / "dicom" / "mono12_window.dcm", rng.integers(0, 4096, (16, 12)).astype(np.uint16),
                photometric="MONOCHROME1", bits_stored=12, WindowCenter="2000", WindowWidth="3000",
                RescaleIntercept="-100", RescaleSlope="1")
    write_dicom(out / "dicom" / "signed.dcm", rng.integers(-2000, 2000, (8, 8)).astype(np.int16), signed=True,
                bits_stored=16)
    write_dicom(out / "dicom" / "rgb.dcm", rgb, photometric="RGB")
    write_dicom(out / "dicom" / "frames.dcm", rng.integers(0, 256, (2, 6, 5), dtype=np.uint8), frames=2)


def serve_requests(out):
    """Open Inference Protocol infer requests as a client writes them: json.dumps,
    and for the binary tensor data extension the JSON header's length on a line
    of its own, then the header and the little-endian tensor bytes."""
    import json
    import struct
    d = out / "serve_request"
    (d / "json_fp32.json").write_text(json.dumps({
        "id": "1", "inputs": [{"name": "image", "shape": [1, 3, 2, 2], "datatype": "FP32",
                               "data": [[[[0.5, -1.0], [2.0, 0.25]], [[0.0, 1.0], [3.5, -2.5]],
                                         [[1.5, 0.75], [-0.5, 4.0]]]]}],
        "outputs": [{"name": "logits"}]}))
    (d / "json_bytes.json").write_text(json.dumps({
        "inputs": [{"name": "image", "shape": [2], "datatype": "BYTES", "data": ["abc", "defg"]}],
        "parameters": {"activation": "softmax"}}))
    png = (out / "png" / "rgb.png").read_bytes()[:64]
    floats = struct.pack("<6f", 0.5, -1.25, 3.0, 0.0, 1e-3, -7.0)
    header = json.dumps({
        "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "parameters": {"binary_data_size": len(floats)}},
                   {"name": "image", "shape": [1], "datatype": "BYTES",
                    "parameters": {"binary_data_size": 4 + len(png)}}],
        "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    (d / "binary.bin").write_bytes(str(len(header)).encode() + b"\n" + header + floats + struct.pack("<I", len(png)) + png)
    (d / "refused_shape.json").write_text(json.dumps({
        "inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1.0, 2.0]}]}))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "fuzz" / "corpus"
    for target in ("unpickler", "torch_zip", "torch_legacy", "safetensors", "onnx", "npy", "png", "jpeg", "dicom",
                   "serve_request"):
        (out / target).mkdir(parents=True, exist_ok=True)
    models, conv = tiny_models()
    checkpoints(out, models)
    onnx_models(out, conv)
    arrays(out)
    images(out)
    serve_requests(out)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"make_seeds: {sum(1 for p in out.rglob('*') if p.is_file())} seeds, {total} bytes, in {out}")


if __name__ == "__main__":
    main()
