"""Decoded pixels of pt2onnx's JPEG and PNG decoders equal PIL's
Image.open(path).convert("RGB") exactly, for the modes and odd sizes PIL
writes (both link Debian's libjpeg-turbo), and broken files are errors."""
import io

import numpy as np
from PIL import Image

from vision_common import Failures, max_abs_diff, probe, probe_array, smooth_noise, work_dir

SIZES = [(1, 1), (7, 3), (37, 23), (301, 199)]


def main():
    work = work_dir("vision_decode")
    f = Failures()

    def compare(path, label):
        ours = probe_array("decode", path, work / "out.npy")
        ref = np.array(Image.open(path).convert("RGB"))
        f.check(max_abs_diff(ours, ref) == 0, f"{label}: {path.name} differs from PIL (max {max_abs_diff(ours, ref)})")

    for (w, h) in SIZES:
        rgb = smooth_noise(h, w, 3, seed=w * 1000 + h)
        base = Image.fromarray(rgb, "RGB")
        images = {
            "L": base.convert("L"),
            "RGB": base,
            "RGBA": Image.fromarray(np.dstack([rgb, rgb[..., :1]]), "RGBA"),
            "LA": base.convert("LA"),
            "P": base.quantize(colors=37),
            "1": base.convert("1"),
            "I;16": Image.fromarray((rgb[..., 0].astype(np.uint16) * 257 // 3 + 40).astype(np.uint16)),
        }
        for mode, im in images.items():
            path = work / f"{mode.replace(';', '')}_{w}x{h}.png"
            im.save(path)
            compare(path, f"PNG {mode}")
        jpegs = {
            "rgb_q90": dict(image=base, quality=90),
            "rgb_444": dict(image=base, quality=95, subsampling=0),
            "rgb_422": dict(image=base, quality=75, subsampling=1),
            "rgb_progressive": dict(image=base, quality=85, progressive=True),
            "gray": dict(image=base.convert("L"), quality=90),
            "cmyk": dict(image=base.convert("CMYK"), quality=90),
        }
        for name, opts in jpegs.items():
            im = opts.pop("image")
            path = work / f"{name}_{w}x{h}.jpg"
            im.save(path, **opts)
            compare(path, f"JPEG {name}")

    # 16-bit RGB PNG (PIL reads the high byte of each sample).
    rgb16 = (smooth_noise(9, 11, 3, seed=5).astype(np.uint16) * 251 + 7).astype(">u2")
    path = work / "rgb16.png"
    write_png_rgb16(path, rgb16)
    compare(path, "PNG RGB 16-bit")

    # Broken files: PIL refuses them, so must we.
    good = work / "rgb_q90_37x23.jpg"
    data = good.read_bytes()
    broken = {
        "truncated.jpg": data[: len(data) // 2],
        "zero.png": b"",
        "text.png": b"this is not an image\n",
        "truncated.png": (work / "RGB_37x23.png").read_bytes()[:-60],
    }
    for name, content in broken.items():
        path = work / name
        path.write_bytes(content)
        rc, err = probe("decode", path, work / "out.npy", expect_ok=False)
        f.check(rc == 3 and name in err, f"{name}: expected a decoding error naming the file, got rc={rc} {err!r}")
        try:
            Image.open(path).convert("RGB")
            f.check(False, f"{name}: PIL accepted it; the test file is not broken")
        except Exception:
            pass
    f.finish()


def write_png_rgb16(path, array):
    """A 16-bit RGB PNG written with zlib and struct (PIL cannot write one)."""
    import struct
    import zlib

    h, w, _ = array.shape
    raw = b"".join(b"\x00" + array[y].tobytes() for y in range(h))

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
