"""DICOM decoding: pt2onnx's 8-bit image equals the documented conversion
(src/vision/dicom_pixels.h, docs/infer.md) done with pydicom and numpy on
files written by pydicom: MONOCHROME1 and 2, 8 to 16 bits, signed pixels,
rescale slope and intercept, VOI windows (first of several, LINEAR and
LINEAR_EXACT) or the full range, RGB in both planar configurations,
multi-frame (first frame), and the compressed transfer syntaxes GDCM's
gdcmconv writes (JPEG 2000, JPEG lossless, JPEG-LS, RLE), which must decode
to exactly the uncompressed pixels. A JPEG baseline DICOM made from a PIL
JPEG decodes exactly as PIL decodes that JPEG (both use libjpeg-turbo)."""
import shutil
import subprocess

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

from vision_common import Failures, max_abs_diff, probe, probe_array, smooth_noise, work_dir


def write_dicom(path, arr, photometric="MONOCHROME2", bits_stored=None, signed=False, planar=0, frames=None,
                transfer_syntax=ExplicitVRLittleEndian, pixel_bytes=None, **attrs):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"  # Digital Mammography X-Ray Image
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MG"
    shape = arr.shape[1:] if frames else arr.shape
    ds.Rows, ds.Columns = shape[0], shape[1]
    color = len(shape) == 3
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = photometric
    if color:
        ds.PlanarConfiguration = planar
    if frames:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    if pixel_bytes is not None:
        ds.PixelData = pixel_bytes
    elif arr is not None:
        data = arr
        if color and planar == 1:
            data = np.moveaxis(arr, -1, -3)  # (frames,) channels, rows, columns
        ds.PixelData = np.ascontiguousarray(data).tobytes()
    ds.is_little_endian = True
    ds.is_implicit_VR = transfer_syntax == ImplicitVRLittleEndian
    ds.save_as(str(path), write_like_original=False)


def first(value):
    return float(value[0]) if isinstance(value, pydicom.multival.MultiValue) else float(value)


def expected_u8(path):
    """The documented DICOM -> 8-bit conversion, with pydicom and numpy."""
    ds = pydicom.dcmread(str(path))
    arr = ds.pixel_array
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        arr = arr[0]
    if ds.SamplesPerPixel == 3:
        return arr
    m = arr.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    m = m * slope + intercept
    function = str(getattr(ds, "VOILUTFunction", "LINEAR")).strip() or "LINEAR"
    window = None
    if "WindowCenter" in ds and "WindowWidth" in ds:
        c, w = first(ds.WindowCenter), first(ds.WindowWidth)
        if (function == "LINEAR" and w >= 1) or (function != "LINEAR" and w > 0):
            window = (c, w)
    if window and function == "LINEAR_EXACT":
        c, w = window
        lo, hi = c - w / 2, c + w / 2
    elif window:
        c, w = window
        lo, hi = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
    else:
        lo, hi = m.min(), m.max()
    if hi > lo:
        t = np.clip((m - lo) / (hi - lo), 0.0, 1.0)
    else:
        t = (m > lo).astype(np.float64)
    v = np.floor(t * 255 + 0.5)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        v = 255 - v
    return v.astype(np.uint8)


def main():
    work = work_dir("vision_dicom")
    f = Failures()
    rng = np.random.default_rng(7)
    mammo = (rng.integers(0, 4096, (301, 257))).astype(np.uint16)
    signed = rng.integers(-1500, 2500, (64, 71)).astype(np.int16)
    cases = {
        "mono2_12bit_window.dcm": dict(arr=mammo, bits_stored=12, WindowCenter="2000", WindowWidth="1500"),
        "mono2_full_range.dcm": dict(arr=mammo, bits_stored=12),
        "mono1_full_range.dcm": dict(arr=mammo, photometric="MONOCHROME1", bits_stored=12),
        "mono1_window_rescale.dcm": dict(arr=mammo, photometric="MONOCHROME1", bits_stored=12, RescaleSlope="1.5",
                                         RescaleIntercept="-100", WindowCenter="2500", WindowWidth="3000"),
        "signed_rescale_windows.dcm": dict(arr=signed, signed=True, RescaleSlope="0.75", RescaleIntercept="-1024",
                                           WindowCenter=["40", "300"], WindowWidth=["400", "1500"]),
        "linear_exact.dcm": dict(arr=mammo, bits_stored=12, WindowCenter="1800", WindowWidth="900",
                                 VOILUTFunction="LINEAR_EXACT"),
        "mono2_16bit.dcm": dict(arr=(mammo.astype(np.uint32) * 16 + 7).astype(np.uint16)),
        "mono2_8bit.dcm": dict(arr=(mammo >> 4).astype(np.uint8)),
        "implicit_vr.dcm": dict(arr=mammo, bits_stored=12, transfer_syntax=ImplicitVRLittleEndian),
        "rgb_interleaved.dcm": dict(arr=smooth_noise(45, 61, 3, seed=1), photometric="RGB"),
        "rgb_planar.dcm": dict(arr=smooth_noise(45, 61, 3, seed=2), photometric="RGB", planar=1),
        "multiframe.dcm": dict(arr=rng.integers(0, 1024, (3, 40, 50)).astype(np.uint16), bits_stored=10, frames=3),
    }
    for name, spec in cases.items():
        path = work / name
        write_dicom(path, **spec)
        ours = probe_array("decode", path, work / "out.npy")
        ref = expected_u8(path)
        if ref.ndim == 2:
            ref = np.repeat(ref[..., None], 3, axis=2)
        d = max_abs_diff(ours, ref)
        f.check(d == 0, f"{name}: differs from pydicom + numpy by up to {d}")

    # Compressed transfer syntaxes decode to exactly the uncompressed pixels.
    if shutil.which("gdcmconv"):
        for source in ("mono2_12bit_window.dcm", "mono1_window_rescale.dcm", "signed_rescale_windows.dcm",
                       "rgb_interleaved.dcm"):
            plain = probe_array("decode", work / source, work / "plain.npy")
            for flag in ("--j2k", "--jpeg", "--jpegls", "--rle"):
                if flag == "--rle" and source.startswith("rgb"):
                    continue  # gdcmconv's RLE encoder asserts on this RGB image (its bug, not ours)
                target = work / f"{flag[2:]}_{source}"
                proc = subprocess.run(["gdcmconv", flag, str(work / source), str(target)], capture_output=True)
                if proc.returncode != 0:
                    f.check(False, f"gdcmconv {flag} {source} failed: {proc.stderr.decode()[:200]}")
                    continue
                syntax = pydicom.dcmread(str(target), stop_before_pixels=True).file_meta.TransferSyntaxUID
                f.check(syntax.is_compressed, f"gdcmconv {flag} left {source} uncompressed")
                ours = probe_array("decode", target, work / "out.npy")
                f.check(max_abs_diff(ours, plain) == 0, f"{target.name} ({syntax.name}) decodes differently from "
                                                        f"the uncompressed file")
    else:
        f.check(False, "gdcmconv (Debian libgdcm-tools) is missing: scripts/setup.sh installs it")

    # JPEG baseline in DICOM (YBR_FULL_422), from a JPEG that PIL also decodes.
    rgb = smooth_noise(48, 64, 3, seed=3)
    jpeg_path = work / "frame.jpg"
    Image.fromarray(rgb).save(jpeg_path, quality=90)
    write_dicom(work / "jpeg_baseline.dcm", rgb, photometric="YBR_FULL_422", transfer_syntax=JPEGBaseline8Bit,
                pixel_bytes=encapsulate([jpeg_path.read_bytes()]))
    ours = probe_array("decode", work / "jpeg_baseline.dcm", work / "out.npy")
    d = max_abs_diff(ours, np.array(Image.open(jpeg_path).convert("RGB")))
    f.check(d == 0, f"JPEG baseline DICOM differs from PIL's decode of its JPEG by {d}")

    # Mutated compressed files (GDCM's codecs) give an image or an error, never a crash.
    rng = np.random.default_rng(11)
    outcomes = {}
    for source in sorted(work.glob("*_mono*.dcm")) + [work / "jpeg_baseline.dcm"]:
        if not source.name.split("_")[0] in ("j2k", "jpeg", "jpegls", "rle"):
            continue
        data = source.read_bytes()
        for i in range(12):
            mutated = bytearray(data)
            if i % 2:
                mutated = mutated[: int(rng.integers(132, len(mutated)))]
            else:
                for _ in range(int(rng.integers(1, 10))):
                    mutated[int(rng.integers(132, len(mutated)))] = int(rng.integers(0, 256))
            (work / "mutated.dcm").write_bytes(bytes(mutated))
            rc, err = probe("decode", work / "mutated.dcm", work / "out.npy", expect_ok=False)
            outcomes[rc] = outcomes.get(rc, 0) + 1
            f.check(rc in (0, 3), f"mutated {source.name} #{i}: exit {rc} {err[-200:]!r}")
    print(f"mutated compressed files: {outcomes}")

    # Broken files are errors naming the file.
    no_pixels = work / "no_pixels.dcm"
    write_dicom(no_pixels, mammo, bits_stored=12)
    ds = pydicom.dcmread(str(no_pixels))
    del ds.PixelData
    ds.save_as(str(no_pixels))
    truncated = work / "truncated.dcm"
    truncated.write_bytes((work / "mono2_16bit.dcm").read_bytes()[:-5000])
    short = work / "short_pixel_data.dcm"
    write_dicom(short, mammo, bits_stored=12, pixel_bytes=mammo[:10].tobytes())
    for path, needle in ((no_pixels, "no Pixel Data"), (truncated, "truncated"), (short, "Pixel Data has")):
        rc, err = probe("decode", path, work / "out.npy", expect_ok=False)
        f.check(rc == 3 and path.name in err and needle in err, f"{path.name}: expected an error with '{needle}', "
                                                                 f"got rc={rc} {err.strip()!r}")
    f.finish()


if __name__ == "__main__":
    main()
