"""scripts/demo.sh, the newcomer's first command, run as a newcomer sees it
(with --no-build: the build is this test build's pt2onnx) in a fresh folder:

- its steps are printed in order: the demo checkpoint, the export with a
  passed verification, the sample images and their classification;
- the sample images it writes are real files: PIL opens each JPEG and PNG
  with the size and mode its description gives, pydicom the DICOM file with
  its 12 stored bits and window;
- the CSV it prints has one row per sample image, with the probabilities that
  `pt2onnx infer` gives when run separately, and that PIL + torchvision's
  transforms + PyTorch eager give for the demo checkpoint (within 1e-3);
- `demo-images` refuses to replace existing images without --force (exit 2,
  the file untouched) and a DIR that is a file."""

import csv
import io
import os
import re
import subprocess
import sys

import numpy as np
import pydicom
import torch
import torch.nn as nn
from PIL import Image
from torchvision.models import efficientnet_b0

import oracle_common as oc
from test_infer_end_to_end import reference_probabilities

LABELS = ["biopsy", "magview"]
EXIT_USAGE = 2


def demo_model(path):
    model = efficientnet_b0(weights=None)
    model.classifier = nn.Sequential(nn.Dropout(0.4), nn.Linear(1280, 2))
    state = torch.load(path, map_location="cpu", weights_only=False)["model_state_dict"]
    model.load_state_dict(state, strict=True)
    return model.eval()


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def main():
    work = oc.work_dir("demo")
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
            print(f"FAIL: {what}")

    env = dict(os.environ, PT2ONNX=oc.PT2ONNX)
    proc = subprocess.run([str(oc.REPO / "scripts" / "demo.sh"), "--no-build", "--dir", str(work)], env=env,
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout
    if proc.returncode != 0:
        sys.exit(f"demo.sh failed with exit {proc.returncode}:\n{out[-3000:]}\n{proc.stderr[-3000:]}")

    # The steps, numbered and in the path's order.
    steps = re.findall(r"^\[(\d)/(\d)\] (.*)$", out, re.M)
    check([(n, total) for n, total, _ in steps] == [("1", "4"), ("2", "4"), ("3", "4"), ("4", "4")],
          f"four numbered steps, got {steps}")
    titles = [t for _, _, t in steps]
    for i, word in enumerate(["checkpoint", "Exporting", "sample images", "Classifying"]):
        check(i < len(titles) and word in titles[i], f"step {i + 1} is about {word!r}: {titles}")
    order = [out.find(s) for s in ("Wrote demo checkpoint", "Verification passed!", "Wrote 6 sample images",
                                   "predictions.csv:")]
    check(all(p >= 0 for p in order) and order == sorted(order), f"progress lines in order: {order}")

    # The sample images are what their descriptions say.
    samples = work / "samples"
    described = dict(re.findall(r"^  (sample_\S+) +(.*)$", out, re.M))
    check(sorted(described) == sorted(p.name for p in samples.iterdir()), f"listed files {sorted(described)}")
    modes = {"RGB": "RGB", "grayscale": "L", "RGBA": "RGBA"}
    for name, text in described.items():
        width, height = map(int, re.search(r"(\d+)x(\d+)$", text).groups())
        if name.endswith(".dcm"):
            ds = pydicom.dcmread(str(samples / name))
            check((ds.Columns, ds.Rows, ds.BitsStored, ds.PhotometricInterpretation) ==
                  (width, height, 12, "MONOCHROME2"), f"{name}: pydicom reads {ds.Columns}x{ds.Rows}")
            check(int(ds.pixel_array.max()) > 2048, f"{name}: a 12-bit range")
        else:
            with Image.open(samples / name) as image:
                kind = "JPEG" if name.endswith(".jpg") else "PNG"
                mode = next(m for word, m in modes.items() if f", {word}," in text)
                check((image.format, image.mode, image.size) == (kind, mode, (width, height)),
                      f"{name}: PIL opens {image.format} {image.mode} {image.size}, described as {text!r}")
                check(np.asarray(image.convert("L")).std() > 10, f"{name}: has content")

    # The CSV: one row per image, as infer gives it run apart, as PyTorch computes.
    printed = out[out.find("predictions.csv:\n") + len("predictions.csv:\n"):out.find("\nDone in")]
    rows = rows_of(printed)
    check(rows == rows_of((work / "predictions.csv").read_text()), "the printed CSV is the file")
    check(sorted(r["path"].rsplit("/", 1)[1] for r in rows) == sorted(described), f"one row per image: {rows}")
    separate = subprocess.run([oc.PT2ONNX, "infer", str(work / "model.onnx"), str(samples)], capture_output=True,
                              text=True, check=True).stdout
    by_path = {r["path"]: r for r in rows_of(separate)}
    model = demo_model(work / "model.pth")
    spread = []
    for r in rows:
        ours = np.array([float(r[label]) for label in LABELS])
        alone = np.array([float(by_path[r["path"]][label]) for label in LABELS])
        check(np.abs(ours - alone).max() <= 1e-6, f"{r['path']}: demo {ours} vs infer alone {alone}")
        ref = reference_probabilities(model, samples / r["path"].rsplit("/", 1)[1])
        check(np.abs(ours - ref).max() <= 1e-3, f"{r['path']}: demo {ours} vs PyTorch {ref}")
        spread.append(ours)
    check(np.ptp(np.array(spread), axis=0).max() > 1e-3, f"the images get different probabilities: {spread}")

    # demo-images guards what is there.
    victim = samples / "sample_1_rgb.jpg"
    victim.write_bytes(b"my own image")
    proc = oc.run_pt2onnx("demo-images", samples, check=False)
    check(proc.returncode == EXIT_USAGE and "--force" in proc.stderr, f"no --force: {proc.returncode} {proc.stderr}")
    check(victim.read_bytes() == b"my own image", "an existing image is left alone")
    proc = oc.run_pt2onnx("demo-images", work / "model.onnx", check=False)
    check(proc.returncode == EXIT_USAGE and "not a directory" in proc.stderr, f"DIR is a file: {proc.stderr}")

    if failures:
        sys.exit(f"{len(failures)} checks failed")
    print("demo: ok")


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
