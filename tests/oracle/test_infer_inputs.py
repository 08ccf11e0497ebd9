"""`pt2onnx infer` input handling through the real CLI, without running a
model (--list-inputs loads none): the directory walk (image files only, sorted,
extension-less DICOM by magic), @lists, --shard K/N covering every input
exactly once for N = 1..4, --resume skipping paths already in an output, and
usage errors with exit status 2."""
import os
import subprocess

from vision_common import PT2ONNX, Failures, work_dir


def infer(*args):
    proc = subprocess.run([PT2ONNX, "infer", *map(str, args)], capture_output=True, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    work = work_dir("infer_inputs")
    f = Failures()
    images = work / "images"
    files = ["b.png", "a.JPG", "c.jpeg", "B.png", "sub/z.dcm", "sub/a.png", "sub/deeper/y.dicom", "sub/k.DCM",
             "notes.txt", "sub/README", "data.csv"]
    for name in files:
        path = images / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (images / "sub" / "IMG0001").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 16)
    os.symlink(images / "sub", images / "link_to_sub")
    root = str(images)
    expected = [f"{root}/{p}" for p in ["B.png", "a.JPG", "b.png", "c.jpeg", "sub/IMG0001", "sub/a.png",
                                        "sub/deeper/y.dicom", "sub/k.DCM", "sub/z.dcm"]]

    rc, out, err = infer("model.onnx", images, "--list-inputs")
    f.check(rc == 0 and out.splitlines() == expected, f"directory walk: rc={rc} got {out.splitlines()} {err}")

    listing = work / "list.txt"
    listing.write_text(f"{root}/notes.txt\n\n{root}/sub/deeper\nmissing.png\n")
    rc, out, err = infer("model.onnx", f"@{listing}", f"{root}/b.png", "--list-inputs")
    f.check(out.splitlines() == [f"{root}/notes.txt", f"{root}/sub/deeper/y.dicom", "missing.png", f"{root}/b.png"],
            f"@list: got {out.splitlines()} {err}")

    for n in range(1, 5):
        seen = []
        for k in range(1, n + 1):
            rc, out, err = infer("model.onnx", images, "--list-inputs", "--shard", f"{k}/{n}")
            f.check(rc == 0, f"--shard {k}/{n}: rc={rc} {err}")
            part = out.splitlines()
            f.check(part == expected[k - 1::n], f"--shard {k}/{n} takes inputs i with i mod {n} = {k - 1}: {part}")
            seen += part
        f.check(sorted(seen) == sorted(expected), f"--shard */{n} covers every input exactly once: {sorted(seen)}")

    output = work / "out.csv"
    output.write_text(f"path,x,predicted,error\n{expected[0]},0.5,,\n\"{expected[2]}\",,,bad\n{expected[3]},0.")
    before = output.read_bytes()
    rc, out, err = infer("model.onnx", images, "--list-inputs", "--resume", "--output", output)
    f.check(out.splitlines() == [p for p in expected if p not in (expected[0], expected[2])],
            f"--resume skips the complete rows only: {out.splitlines()} {err}")
    f.check(output.read_bytes() == before, "--list-inputs --resume must not change the output")

    for args, needle in [(("--shard", "0/3"), "--shard"), (("--shard", "4/3"), "--shard"),
                         (("--resume",), "--resume needs --output"), (("--format", "xml"), "--format"),
                         (("--activation", "relu"), "--activation"), (("--batch-size", "0"), "--batch-size")]:
        rc, out, err = infer("model.onnx", images, "--list-inputs", *args)
        f.check(rc == 2 and needle in err, f"{args}: expected exit 2 naming {needle}, got {rc} {err.strip()}")
    rc, out, err = infer("model.onnx", f"@{work}/no_such_list.txt", "--list-inputs")
    f.check(rc == 3 and "no_such_list.txt" in err, f"missing @list: rc={rc} {err.strip()}")
    rc, out, err = infer(work / "no_such_model.onnx", images)
    f.check(rc == 3 and "no_such_model.onnx" in err, f"missing model: rc={rc} {err.strip()}")
    f.finish()


if __name__ == "__main__":
    main()
