"""The Debian package, as a user installing it gets it: cpack builds
pt2onnx_<version>_amd64.deb from the build, and then

- its file name and fields are Debian's (name, version from --version, amd64);
- its Depends names the package of every shared library the binary links
  (found apart from dpkg-shlibdeps: `readelf` for the NEEDED entries, `ldd`
  for where they are, `dpkg -S` for their packages), with a version;
- it holds the binary, the manual page (every command's section, each
  command's options as --help lists them), bash completion and the README;
- unpacked into an empty root (`dpkg-deb -x`), the binary's libraries all
  resolve, and it runs: --version, then demo-checkpoint and export with
  verification.

What this does not prove: that `apt install ./pt2onnx_*.deb` on a bare
bookworm machine pulls exactly those packages and nothing is missing; the
libraries resolve here against a machine that has the build dependencies.
docs/packaging.md records that install done by hand in a debootstrap root.

    debian_package.py BUILD_DIR WORK_DIR
"""
import gzip
import pathlib
import re
import shutil
import subprocess
import sys


def run(*args, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout[-3000:]}\n"
                 f"{proc.stderr[-3000:]}")
    return proc


def fail(message):
    sys.exit(f"FAILED: {message}")


def shared_library_packages(binary):
    """Package of each library the binary names as NEEDED (readelf), where `ldd` finds it."""
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", run("readelf", "-d", binary).stdout))
    if not needed:
        fail(f"readelf finds no NEEDED libraries in {binary}")
    packages = {}
    for line in run("ldd", binary).stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if not m or m.group(1) not in needed:
            continue
        real = pathlib.Path(m.group(2)).resolve()
        owner = None
        for candidate in (m.group(2), str(real)):
            proc = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if proc.returncode == 0:
                owner = proc.stdout.split(":", 1)[0]
                break
        if owner is None:
            fail(f"no package owns {m.group(2)} (needed by {binary})")
        packages[m.group(1)] = owner
    if set(packages) != needed:
        fail(f"ldd does not resolve {sorted(needed - set(packages))} for {binary}")
    return packages


def main():
    build, work = (pathlib.Path(a).resolve() for a in sys.argv[1:3])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pt2onnx = build / "pt2onnx"
    version = run(pt2onnx, "--version").stdout.split()[-1]

    run("cpack", "-G", "DEB", "--config", build / "CPackConfig.cmake", "-B", work / "out")
    debs = list((work / "out").glob("*.deb"))
    if [d.name for d in debs] != [f"pt2onnx_{version}_amd64.deb"]:
        fail(f"cpack made {[d.name for d in debs]}, expected pt2onnx_{version}_amd64.deb")
    deb = debs[0]
    fields = {f: run("dpkg-deb", "-f", deb, f).stdout.strip() for f in ("Package", "Version", "Architecture",
                                                                           "Depends", "Description")}
    if (fields["Package"], fields["Version"], fields["Architecture"]) != ("pt2onnx", version, "amd64"):
        fail(f"package fields {fields}")

    # Depends: one entry per library package, each with a minimum version.
    depends = {}
    for entry in fields["Depends"].split(","):
        m = re.match(r"\s*([a-z0-9.+-]+)(?::any)?\s*(\(.*\))?", entry)
        depends[m.group(1)] = m.group(2)
    needed = shared_library_packages(pt2onnx)
    for library, package in sorted(needed.items()):
        if package not in depends:
            fail(f"Depends ({fields['Depends']}) lacks {package}, which provides {library}")
        if not depends[package]:
            fail(f"Depends names {package} without a version")
    for must in ("libdnnl", "libzip", "libspng", "libgdcm", "libprotobuf", "libgomp1"):
        if not any(p.startswith(must) for p in depends):
            fail(f"Depends lacks {must}*: {fields['Depends']}")

    contents = run("dpkg-deb", "-c", deb).stdout
    for path in ("./usr/bin/pt2onnx", "./usr/share/man/man1/pt2onnx.1.gz",
                 "./usr/share/bash-completion/completions/pt2onnx", "./usr/share/doc/pt2onnx/README.md"):
        if f" {path}\n" not in contents + "\n" and not re.search(rf" {re.escape(path)}$", contents, re.M):
            fail(f"the package has no {path}:\n{contents}")

    root = work / "root"
    run("dpkg-deb", "-x", deb, root)
    installed = root / "usr" / "bin" / "pt2onnx"
    missing = [line for line in run("ldd", installed).stdout.splitlines() if "not found" in line]
    if missing:
        fail(f"unresolved libraries: {missing}")
    if run(installed, "--version").stdout.strip() != f"pt2onnx {version}":
        fail("the installed binary's --version")

    # The manual page: every command, with the options its --help lists.
    page = gzip.decompress((root / "usr/share/man/man1/pt2onnx.1.gz").read_bytes()).decode()
    if not page.startswith(".TH PT2ONNX 1"):
        fail("the manual page has no .TH header")
    top = run(installed, "--help").stdout
    commands = re.findall(r"^  ([a-z][a-z-]+) ", top.split("Subcommands:", 1)[1], re.M)
    if len(commands) < 7:
        fail(f"commands in --help: {commands}")
    for command in commands:
        if f".SS {command}\n" not in page:
            fail(f"the manual page has no section for {command}")
        for option in re.findall(r"^  (--[a-z-]+)", run(installed, command, "--help").stdout, re.M):
            if option.replace("-", "\\-") not in page:
                fail(f"the manual page lacks {command} {option}")

    # The unpacked binary does the main job.
    run(installed, "demo-checkpoint", work / "demo.pth", "--num-outputs", "2")
    proc = run(installed, "export", "--input", work / "demo.pth", "--output", work / "demo.onnx")
    if "Verification passed!" not in proc.stdout:
        fail(f"export from the package did not verify:\n{proc.stdout[-2000:]}")
    print(f"debian_package: {deb.name}, Depends: {fields['Depends']}")


if __name__ == "__main__":
    main()
