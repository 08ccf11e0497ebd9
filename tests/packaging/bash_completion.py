"""packaging/pt2onnx.bash-completion in a real bash: the completion function is
called as bash's programmable completion calls it (COMP_WORDS, COMP_CWORD),
in a folder of files of every kind, and must offer

- the commands (as `pt2onnx --help` lists them) for the first word;
- a command's own options (those its --help lists, and no other command's);
- files by extension where a file is expected: models (.onnx) first for run,
  bench, verify and infer, then images and folders for infer; checkpoints for
  export --input and demo-checkpoint; .npy for run's --input and --output;
  .csv and .jsonl for infer --output; folders always;
- the fixed choices of --format, --activation and --interpolation;
- nothing for an option that takes a number or a name.

    bash_completion.py PT2ONNX SOURCE_DIR WORK_DIR
"""
import pathlib
import re
import shutil
import subprocess
import sys


def main():
    pt2onnx, source, work = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("model.onnx", "other.ONNX", "ckpt.pth", "weights.safetensors", "x.npy", "scan.jpg", "scan.PNG",
                 "mammo.dcm", "list.txt", "out.csv", "notes.md"):
        (work / name).write_bytes(b"")
    (work / "images").mkdir()
    script = source / "packaging" / "pt2onnx.bash-completion"
    failures = []

    def complete(line):
        # The words of the line; a trailing space starts a new, empty word.
        words = line.split() + ([""] if line.endswith(" ") else [])
        words[0] = pt2onnx
        quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
        program = (f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _pt2onnx; "
                   "printf '%s\\n' \"${COMPREPLY[@]}\"")
        proc = subprocess.run(["bash", "-c", program], cwd=work, capture_output=True, text=True)
        if proc.returncode != 0:
            failures.append(f"{line!r}: bash exited {proc.returncode}: {proc.stderr}")
        return sorted(w for w in proc.stdout.split("\n") if w)

    def expect(line, want):
        got = complete(line)
        if got != sorted(want):
            failures.append(f"{line!r}: offered {got}, expected {sorted(want)}")

    def expect_includes(line, want, never=()):
        got = complete(line)
        if not set(want) <= set(got) or set(never) & set(got):
            failures.append(f"{line!r}: offered {got}; must include {sorted(want)} and never {sorted(never)}")

    commands = re.findall(r"^  ([a-z][a-z-]+) ", subprocess.run([pt2onnx, "--help"], capture_output=True,
                                                                text=True).stdout.split("Subcommands:")[1], re.M)
    expect("pt2onnx ", commands + ["--help", "--version"])
    expect("pt2onnx ex", ["export"])
    expect("pt2onnx demo-", ["demo-checkpoint", "demo-images"])

    export_options = re.findall(r"^  (?:-\w,)?(--[a-z-]+)", subprocess.run(
        [pt2onnx, "export", "--help"], capture_output=True, text=True).stdout, re.M)
    expect_includes("pt2onnx export --", export_options, never=["--format", "--batch-size"])
    expect("pt2onnx export --o", ["--output", "--opset"])
    expect_includes("pt2onnx infer m.onnx --", ["--output", "--format", "--resume", "--shard"], never=["--opset"])

    images = ["images", "list.txt", "mammo.dcm", "scan.PNG", "scan.jpg"]
    expect("pt2onnx run ", ["images", "model.onnx", "other.ONNX"])
    expect("pt2onnx bench m", ["model.onnx"])
    expect("pt2onnx infer ", ["images", "model.onnx", "other.ONNX"])
    expect("pt2onnx infer model.onnx ", images)
    expect("pt2onnx infer model.onnx --threads 2 scan.jpg ", images)
    expect("pt2onnx infer model.onnx --output ", ["images", "out.csv"])
    expect("pt2onnx run model.onnx --input ", ["images", "x.npy"])
    expect("pt2onnx run model.onnx --output ", ["images", "x.npy"])
    expect("pt2onnx export --input ", ["ckpt.pth", "images", "weights.safetensors"])
    expect("pt2onnx export --output ", ["images", "model.onnx", "other.ONNX"])
    expect("pt2onnx verify model.onnx --checkpoint ", ["ckpt.pth", "images", "weights.safetensors"])
    expect("pt2onnx demo-checkpoint ", ["ckpt.pth", "images", "weights.safetensors"])
    expect("pt2onnx demo-images ", ["images"])
    expect("pt2onnx inspect ", ["ckpt.pth", "images", "model.onnx", "other.ONNX", "weights.safetensors", "x.npy"])

    expect("pt2onnx infer model.onnx --format ", ["csv", "jsonl"])
    expect("pt2onnx infer model.onnx --activation s", ["sigmoid", "softmax"])
    expect("pt2onnx export --interpolation b", ["bicubic", "bilinear"])
    expect("pt2onnx export --labels ", [])
    expect("pt2onnx run model.onnx --threads ", [])

    if failures:
        sys.exit("FAILED:\n  " + "\n  ".join(failures))
    print(f"bash_completion: {len(commands)} commands, options and file filters as expected")


if __name__ == "__main__":
    main()
