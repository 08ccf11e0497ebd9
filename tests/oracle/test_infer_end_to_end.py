"""`pt2onnx infer` end to end against the Python pipeline it replaces:
an EfficientNet-B0 with the seed's head (Dropout + Linear(1280, 2)) saved as a
checkpoint, exported by `pt2onnx export`, run by `pt2onnx infer` on JPEG, PNG
and DICOM files; the probabilities must equal PIL + torchvision transforms +
PyTorch eager (sigmoid) on the same files within 1e-3. Bad files (a truncated
JPEG, a zero-byte file, a text file named .png, a DICOM without pixel data)
give error rows, exit status 8 and a summary line; --shard covers every input
once for N = 1..4; --resume completes an interrupted output.

Skipped (exit 0 with a note) while this build has no `export` command or no
inference runtime."""
import csv
import io
import json
import subprocess
import sys

import numpy as np
import pydicom
import torch
import torch.nn as nn
from PIL import Image
from torchvision import transforms
from torchvision.models import efficientnet_b0

from test_vision_dicom import expected_u8, write_dicom
from vision_common import PT2ONNX, Failures, smooth_noise, work_dir

LABELS = ["biopsy", "magview"]
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(0)


def run(*args):
    return subprocess.run([PT2ONNX, *map(str, args)], capture_output=True, text=True)


def make_model(path):
    torch.manual_seed(0)
    model = efficientnet_b0(weights=None)
    model.classifier = nn.Sequential(nn.Dropout(0.4), nn.Linear(1280, 2))
    # Freshly initialised BatchNorm statistics make the features almost
    # constant; a few training-mode passes over varied images give them
    # realistic values, so the outputs depend on the image.
    images = torch.stack([torch.from_numpy(smooth_noise(224, 224, 3, seed=s)).permute(2, 0, 1).float() / 255
                          for s in range(8)])
    images = (images - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
    model.train()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None  # cumulative average
        for _ in range(3):
            model(images)
        model.classifier[1].weight.mul_(20)
    torch.save({"model_state_dict": model.state_dict()}, path)
    return model.eval()


def make_images(folder):
    folder.mkdir()
    rgb = smooth_noise(384, 512, 3, seed=1)
    Image.fromarray(rgb).save(folder / "a_photo.jpg", quality=90)
    Image.fromarray(smooth_noise(301, 257, 3, seed=2)).convert("L").save(folder / "b_gray.png")
    Image.fromarray(np.dstack([smooth_noise(200, 150, 3, seed=3), np.full((200, 150, 1), 128, np.uint8)])).save(
        folder / "c_rgba.png")
    mammo = np.random.default_rng(4).integers(0, 4096, (320, 240)).astype(np.uint16)
    write_dicom(folder / "d_mammo.dcm", mammo, photometric="MONOCHROME1", bits_stored=12, WindowCenter="2000",
                WindowWidth="3000")
    write_dicom(folder / "e_rgb.dcm", smooth_noise(90, 120, 3, seed=5), photometric="RGB")
    # The bad ones.
    data = (folder / "a_photo.jpg").read_bytes()
    (folder / "f_truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "g_empty.png").write_bytes(b"")
    (folder / "h_text.png").write_text("I am not a PNG\n")
    write_dicom(folder / "i_no_pixels.dcm", mammo, bits_stored=12)
    ds = pydicom.dcmread(str(folder / "i_no_pixels.dcm"))
    del ds.PixelData
    ds.save_as(str(folder / "i_no_pixels.dcm"))
    good = ["a_photo.jpg", "b_gray.png", "c_rgba.png", "d_mammo.dcm", "e_rgb.dcm"]
    bad = ["f_truncated.jpg", "g_empty.png", "h_text.png", "i_no_pixels.dcm"]
    return good, bad


def reference_probabilities(model, path):
    if path.suffix == ".dcm":
        u8 = expected_u8(path)
        image = Image.fromarray(u8).convert("RGB")
    else:
        image = Image.open(path).convert("RGB")
    tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    with torch.no_grad():
        return torch.sigmoid(model(tf(image)[None])).numpy()[0]


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def main():
    if not any(line.split()[:1] == ["export"] for line in run("--help").stdout.splitlines()):
        skip("this build has no `pt2onnx export` yet")
    work = work_dir("infer_end_to_end")
    f = Failures()
    model = make_model(work / "model.pth")
    proc = run("export", "--input", work / "model.pth", "--output", work / "model.onnx", "--arch", "efficientnet_b0",
               "--labels", ",".join(LABELS))
    f.check(proc.returncode == 0, f"export failed: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    if proc.returncode != 0:
        f.finish()
    images = work / "images"
    good, bad = make_images(images)

    proc = run("infer", work / "model.onnx", images, "--batch-size", "2", "--threads", "2")
    if proc.returncode == 7 and "no inference runtime" in proc.stderr:
        skip("this build has no inference runtime yet")
    f.check(proc.returncode == 8, f"expected exit 8 (some inputs failed), got {proc.returncode}: {proc.stderr}")
    f.check(f"{len(good)} ok, {len(bad)} failed" in proc.stderr, f"summary line missing: {proc.stderr!r}")
    rows = read_csv(proc.stdout)
    f.check([r["path"] for r in rows] == [str(images / n) for n in sorted(good + bad)], "rows are in sorted order")
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in rows}
    for name in good:
        row = by_name.get(name, {})
        ref = reference_probabilities(model, images / name)
        ours = np.array([float(row.get(label) or "nan") for label in LABELS])
        d = float(np.abs(ours - ref).max())
        f.check(d <= 1e-3 and not row.get("error"), f"{name}: probabilities {ours} vs PyTorch {ref} (diff {d}) "
                                                   f"error={row.get('error')!r}")
        predicted = ";".join(label for label, p in zip(LABELS, ours) if p > 0.5)
        f.check(row.get("predicted") == predicted, f"{name}: predicted {row.get('predicted')!r}, want {predicted!r}")
    for name in bad:
        row = by_name.get(name, {})
        f.check(bool(row.get("error")) and not row.get(LABELS[0]), f"{name}: expected an error row, got {row}")

    # Dedicated decode threads make infer run whole batches instead of image
    # workers (each decoding and running its own images): the same rows.
    proc = run("infer", work / "model.onnx", images, "--batch-size", "2", "--threads", "3", "--decode-threads", "1")
    f.check(proc.returncode == 8, f"--decode-threads 1: exit {proc.returncode}: {proc.stderr}")
    batched = read_csv(proc.stdout)
    f.check([r["path"] for r in batched] == [r["path"] for r in rows], "--decode-threads 1: same rows in order")
    for a, b in zip(rows, batched):
        same = a.get("error") == b.get("error") and all(
            abs(float(a[label] or 0) - float(b[label] or 0)) <= 1e-6 for label in LABELS)
        f.check(same, f"--decode-threads 1: {b} differs from the image workers' {a}")

    # JSON Lines carries the same.
    proc = run("infer", work / "model.onnx", images, "--format", "jsonl", "--output", work / "out.jsonl")
    lines = [json.loads(line) for line in (work / "out.jsonl").read_text().splitlines()]
    f.check(len(lines) == len(good) + len(bad) and sum(1 for j in lines if j["error"]) == len(bad),
            "jsonl rows and errors")

    # Shards: every input exactly once for N = 1..4, each shard its share.
    everything = sorted(str(images / n) for n in good + bad)
    for n in range(1, 5):
        seen = []
        for k in range(1, n + 1):
            out = work / f"shard_{k}_of_{n}.csv"
            run("infer", work / "model.onnx", images, "--shard", f"{k}/{n}", "--output", out)
            seen += [r["path"] for r in read_csv(out.read_text())]
        f.check(sorted(seen) == everything, f"--shard */{n} covers every input exactly once")

    # Resume: cut the output after two rows and half a row, then resume.
    out = work / "resume.csv"
    run("infer", work / "model.onnx", images, "--output", out)
    full = out.read_text()
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:10])
    proc = run("infer", work / "model.onnx", images, "--output", out, "--resume")
    resumed = out.read_text()
    f.check(len(read_csv(resumed)) == len(everything), f"--resume: {len(read_csv(resumed))} rows")
    f.check(sorted(r["path"] for r in read_csv(resumed)) == everything, "--resume: every path once")
    f.finish()


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
