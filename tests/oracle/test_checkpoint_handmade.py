"""Checkpoints torch 1.13 cannot write, built by hand with zipfile and pickle:
PyTorch 2.x's zip layout, safetensors, malicious pickles and broken files.
pt2onnx inspect must read the good ones exactly and refuse the bad ones with
exit code 3 and one clear line naming the file."""

import builtins
import collections
import json
import os
import pathlib
import pickle
import random
import shutil
import struct
import subprocess
import sys
import unittest
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_oracle as oracle  # noqa: E402

STORAGE_CLASSES = {
    torch.float32: torch.FloatStorage,
    torch.float16: torch.HalfStorage,
    torch.bfloat16: torch.BFloat16Storage,
    torch.float64: torch.DoubleStorage,
    torch.int64: torch.LongStorage,
    torch.int32: torch.IntStorage,
    torch.int16: torch.ShortStorage,
    torch.int8: torch.CharStorage,
    torch.uint8: torch.ByteStorage,
    torch.bool: torch.BoolStorage,
}


class Storage:
    """Becomes the persistent id ('storage', torch.<Type>Storage, key, 'cpu', numel)."""

    def __init__(self, key, base):
        self.key, self.base = key, base


class TensorRef:
    """Pickles as torch does: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, view):
        self.storage, self.view = storage, view

    def __reduce__(self):
        v = self.view
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, v.storage_offset(), tuple(v.size()), tuple(v.stride()), False,
                 collections.OrderedDict()))


class RawView:
    """A view description without a tensor behind it, for geometry torch would never write."""

    def __init__(self, offset, size, stride):
        self.offset, self.sizes, self.strides = offset, size, stride

    def storage_offset(self):
        return self.offset

    def size(self):
        return self.sizes

    def stride(self):
        return self.strides


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", STORAGE_CLASSES[obj.base.dtype], obj.key, "cpu", obj.base.numel())
        return None


def storage_bytes(base, big_endian=False):
    array = base.contiguous().view(torch.int16).numpy() if base.dtype == torch.bfloat16 else base.contiguous().numpy()
    if big_endian:
        array = array.byteswap()
    return array.tobytes()


def torch2_zip(path, views, prefix="archive", big_endian=False, compression=zipfile.ZIP_STORED, protocol=2):
    """Writes {name: view} in PyTorch 2.x's layout. Views of one base tensor share its storage."""
    bases, storages, obj = [], {}, collections.OrderedDict()
    for name, view in views.items():
        base = view._base if view._base is not None else view
        key = next((k for k, b in storages.items() if b is base), None)
        if key is None:
            key = str(len(storages))
            storages[key] = base
            bases.append(Storage(key, base))
        obj[name] = TensorRef(next(s for s in bases if s.key == key), view)
    buffer = __import__("io").BytesIO()
    StoragePickler(buffer, protocol=protocol).dump(obj)
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr(f"{prefix}/data.pkl", buffer.getvalue())
        z.writestr(f"{prefix}/.format_version", "1")
        z.writestr(f"{prefix}/.storage_alignment", "64")
        z.writestr(f"{prefix}/byteorder", "big" if big_endian else "little")
        for key, base in storages.items():
            z.writestr(f"{prefix}/data/{key}", storage_bytes(base, big_endian))
        z.writestr(f"{prefix}/version", "3\n")
        z.writestr(f"{prefix}/.data/serialization_id", "0123456789012345678901234567890123456789")
    return path


def views_of_every_kind():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(4, 6, generator=g)
    ints = torch.arange(12, dtype=torch.int64)
    half = torch.randn(8, generator=g).to(torch.float16)
    return collections.OrderedDict(
        base=base,
        every_other=base[:, ::2],
        transposed=base.t(),
        narrowed=base.narrow(0, 1, 2),
        corner=base[2:, 3:],
        ints=ints.view(3, 4)[:, 1],
        half_tail=half[5:],
        bf16=torch.randn(3, 3, generator=g).to(torch.bfloat16),
        f64=torch.randn(5, generator=g, dtype=torch.float64),
        i32=torch.arange(-3, 3, dtype=torch.int32),
        i16=torch.arange(4, dtype=torch.int16),
        i8=torch.arange(-4, 4, dtype=torch.int8),
        u8=torch.arange(250, 256, dtype=torch.uint8),
        flags=torch.tensor([True, False, True]),
    )


SAFETENSORS_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64",
    torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def write_safetensors(path, tensors, metadata=None, header_hook=None):
    """The safetensors format by its specification (the package is not in Debian bookworm)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        blob = storage_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata is not None:
        header["__metadata__"] = metadata
    if header_hook:
        header_hook(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return path


class Evil:
    """Runs a command when unpickled by Python: pt2onnx must refuse it, never run it."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class UserThing:
    def __init__(self):
        self.size = 3


def patch_zip_sizes(path, member, value, compressed_too=False):
    """Rewrites the declared (uncompressed, optionally also compressed) size of
    one member in its local and central headers."""
    data = bytearray(pathlib.Path(path).read_bytes())
    name = member.encode()
    headers = ((b"PK\x03\x04", 18, 22, 30), (b"PK\x01\x02", 20, 24, 46))
    for signature, compressed_at, size_at, name_at in headers:
        start = 0
        while (i := data.find(signature, start)) >= 0:
            if data[i + name_at:i + name_at + len(name)] == name:
                for off in (compressed_at, size_at) if compressed_too else (size_at,):
                    data[i + off:i + off + 4] = struct.pack("<I", value)
            start = i + 4
    pathlib.Path(path).write_bytes(bytes(data))


class HandMadeCheckpoints(unittest.TestCase):
    def test_pytorch2_layout(self):
        views = views_of_every_kind()
        for prefix, compression, protocol in (("archive", zipfile.ZIP_STORED, 2), ("my_model-v2", zipfile.ZIP_STORED, 4),
                                              ("archive", zipfile.ZIP_DEFLATED, 2)):
            with self.subTest(prefix=prefix, compression=compression, protocol=protocol):
                path = torch2_zip(oracle.work_path(f"v2_{prefix}_{compression}.pt"), views, prefix=prefix,
                                  compression=compression, protocol=protocol)
                report = oracle.inspect_json(self, path)
                oracle.assert_tensors_match(self, report, list(views.items()))
                self.assertEqual(report["metadata"]["archive"], prefix)
                self.assertEqual(report["metadata"]["byteorder"], "little")
                self.assertEqual(report["metadata"][".format_version"], "1")
                # torch 1.13 reads the 2.x layout too: the same names, dtypes, shapes and sums.
                oracle.assert_matches_torch_load(self, path)

    def test_pytorch2_big_endian(self):
        views = views_of_every_kind()
        path = torch2_zip(oracle.work_path("v2_big.pt"), views, big_endian=True)
        oracle.assert_tensors_match(self, oracle.inspect_json(self, path), list(views.items()))

    def test_safetensors(self):
        tensors = collections.OrderedDict((k, v.contiguous()) for k, v in views_of_every_kind().items())
        tensors["empty"] = torch.zeros(0, 2)
        path = write_safetensors(oracle.work_path("model.safetensors"), tensors, {"format": "pt", "note": "x"})
        report = oracle.inspect_json(self, path)
        self.assertEqual(report["format"], "safetensors")
        self.assertEqual(report["metadata"], {"format": "pt", "note": "x"})
        self.assertEqual(report["state_dict"]["found_under"], "")
        oracle.assert_tensors_match(self, report, list(tensors.items()))

    def test_format_is_detected_by_content(self):
        tensors = {"w": torch.ones(2, 2)}
        st = write_safetensors(oracle.work_path("really_safetensors.pth"), tensors)
        self.assertEqual(oracle.inspect_json(self, st)["format"], "safetensors")
        pt = oracle.work_path("really_torch.safetensors")
        torch.save(tensors, pt)
        self.assertEqual(oracle.inspect_json(self, pt)["format"], "torch-zip")

    def test_code_execution_is_refused_and_never_runs(self):
        marker = oracle.work_path("pwned")
        cases = {
            "posix.system": Evil(os.system, (f"touch {marker}",)),
            "subprocess.Popen": Evil(subprocess.Popen, (["touch", str(marker)],)),
            "builtins.eval": Evil(builtins.eval, (f"__import__('os').system('touch {marker}')",)),
            "builtins.exec": Evil(builtins.exec, (f"open('{marker}', 'w')",)),
        }
        for callable_name, evil in cases.items():
            for protocol, legacy in ((2, False), (4, False), (2, True)):
                with self.subTest(callable=callable_name, protocol=protocol, legacy=legacy):
                    path = oracle.work_path(f"evil_{callable_name}_{protocol}_{legacy}.pth")
                    torch.save({"model_state_dict": {"w": torch.ones(2), "x": evil}, "epoch": 1}, path,
                               pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
                    oracle.assert_refused(self, path, "refusing", callable_name)
                    self.assertFalse(marker.exists(), "the pickled command ran")
        # Outside the state dict too: a file that tries to run code is refused as a whole.
        path = oracle.work_path("evil_config.pth")
        torch.save({"model": {"w": torch.ones(2)}, "config": cases["posix.system"]}, path)
        oracle.assert_refused(self, path, "posix.system")
        self.assertFalse(marker.exists())

    def test_unknown_objects_are_placeholders(self):
        # Next to the state dict: read, listed, and the weights are found.
        path = oracle.work_path("user_object.pth")
        torch.save({"model_state_dict": {"w": torch.ones(2)}, "thing": UserThing()}, path)
        report = oracle.inspect_json(self, path)
        self.assertEqual(report["state_dict"]["found_under"], "model_state_dict")
        self.assertEqual({e["name"]: e["class"] for e in report["entries"]}, {"thing": "__main__.UserThing"})
        # Inside it: listed, but the state dict is reported unusable, naming the class.
        path = oracle.work_path("user_object_inside.pth")
        torch.save({"model_state_dict": {"w": torch.ones(2), "odd": UserThing()}}, path)
        report = oracle.inspect_json(self, path)
        self.assertIn("__main__.UserThing", report["state_dict"]["error"])
        bad = oracle.run_inspect(path, "--key", "model_state_dict")
        self.assertEqual(bad.returncode, oracle.EXIT_BAD_INPUT)
        self.assertIn("'odd'", bad.stderr)

    def test_broken_files_give_one_clear_error(self):
        good = oracle.work_path("good.pth")
        torch.save({"model_state_dict": {"w": torch.randn(64, 64)}}, good)
        legacy = oracle.work_path("good_legacy.pth")
        torch.save({"w": torch.randn(64, 64)}, legacy, _use_new_zipfile_serialization=False)
        st = write_safetensors(oracle.work_path("good.safetensors"), {"w": torch.randn(64, 64)})
        rng = random.Random(0)
        cases = {
            "empty.pth": (b"", ["empty"]),
            "random.pth": (rng.randbytes(4096), ["not a checkpoint"]),
            "random_zip.pth": (b"PK\x03\x04" + rng.randbytes(4096), ["zip"]),
            "random_pickle.pth": (b"\x80\x02" + rng.randbytes(4096), ["not a checkpoint"]),
        }
        for source, cuts in ((good, (100, 0.5, -22)), (legacy, (40, 200, 0.5, -1)), (st, (5, 40, -1))):
            data = source.read_bytes()
            for cut in cuts:
                n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut > 0 else len(data) + cut)
                cases[f"cut_{n}_{source.name}"] = (data[:n], [])
        for name, (data, needles) in cases.items():
            with self.subTest(file=name):
                path = oracle.work_path(name)
                path.write_bytes(data)
                oracle.assert_refused(self, path, *needles)
        missing = oracle.work_path("does_not_exist.pth")
        oracle.assert_refused(self, missing, "cannot open")
        directory = oracle.work_path("a_directory.pth")
        directory.mkdir(exist_ok=True)
        oracle.assert_refused(self, directory, "not a regular file")

    def test_zip_bombs(self):
        big = torch.zeros(16 * 2**20)  # 64 MiB of zeros deflates about 1000:1
        bomb = torch2_zip(oracle.work_path("bomb.pth"), {"w": big}, compression=zipfile.ZIP_DEFLATED)
        self.assertLess(bomb.stat().st_size, 1 << 20)
        oracle.assert_refused(self, bomb, "zip bomb", "data/0")
        # A stored record that claims 4 GiB of a small file: as its size, and as its size in the file.
        liar = torch2_zip(oracle.work_path("liar.pth"), {"w": torch.ones(1000)})
        patch_zip_sizes(liar, "archive/data/0", 0xFFFFFFF0)
        oracle.assert_refused(self, liar, "archive/data/0", "4294967280")
        patch_zip_sizes(liar, "archive/data/0", 0xFFFFFFF0, compressed_too=True)
        oracle.assert_refused(self, liar, "zip")
        # A deflated record that claims more than deflate can produce from its bytes.
        deflated = torch2_zip(oracle.work_path("liar_deflated.pth"), {"w": torch.randn(1000)},
                              compression=zipfile.ZIP_DEFLATED)
        patch_zip_sizes(deflated, "archive/data/0", 0xFFFFFFF0)
        oracle.assert_refused(self, deflated, "archive/data/0", "zip bomb")

    def test_views_that_would_explode_are_refused(self):
        def write(name, view):
            base = torch.ones(4)
            obj = {"w": TensorRef(Storage("0", base), view)}
            buffer = __import__("io").BytesIO()
            StoragePickler(buffer, protocol=2).dump(obj)
            path = oracle.work_path(name)
            with zipfile.ZipFile(path, "w") as z:
                z.writestr("archive/data.pkl", buffer.getvalue())
                z.writestr("archive/data/0", storage_bytes(base))
            return path

        # Four floats broadcast to 2^40 elements (stride 0): valid geometry, 4 TiB to copy.
        oracle.assert_refused(self, write("expand_bomb.pth", RawView(0, (2**20, 2**20), (0, 0))), "more than")
        # Offsets and strides that reach outside the storage.
        oracle.assert_refused(self, write("offset.pth", RawView(3, (2,), (1,))), "past the end")
        oracle.assert_refused(self, write("stride.pth", RawView(0, (2, 2), (3, 1))), "past the end")
        oracle.assert_refused(self, write("negative.pth", RawView(0, (2,), (-1,))), "negative stride")

    def test_bad_safetensors_headers(self):
        tensors = {"a": torch.ones(4), "b": torch.zeros(2)}
        cases = {
            "overlap": (lambda h: h["b"].update(data_offsets=[8, 16]), ["'b'", "overlap"]),
            "gap": (lambda h: h["b"].update(data_offsets=[20, 28]), ["'b'"]),
            "shape": (lambda h: h["a"].update(shape=[5]), ["'a'", "needs 20"]),
            "dtype": (lambda h: h["a"].update(dtype="C64"), ["'a'", "C64"]),
        }
        for name, (hook, needles) in cases.items():
            with self.subTest(case=name):
                path = write_safetensors(oracle.work_path(f"bad_{name}.safetensors"), tensors, header_hook=hook)
                result = oracle.run_inspect(path)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(str(path), result.stderr)
                for needle in needles:
                    self.assertIn(needle, result.stderr)


if __name__ == "__main__":
    shutil.rmtree(oracle.WORK_DIR, ignore_errors=True)
    unittest.main()
