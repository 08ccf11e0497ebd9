"""Output paths that are not plain files, and interrupted writes, for `run`
(.npy) and `export` (.onnx):

- a symbolic link: its target gets the new content, the link stays a link
  (a dangling link creates its target);
- a FIFO, a character device (/dev/null) and "-" (standard output): the content
  is written into them, nothing is replaced; "-" carries the data alone, the
  messages go to standard error; /dev/full fails with exit 3 naming it and
  stays a device;
- a socket: refused with exit 2, left as it is;
- SIGINT or SIGTERM during an export: the process dies of the signal and
  leaves no temporary file and no output;
- SIGKILL during an export leaves its temporary; the next export to the same
  output removes it and says so; a temporary that a live process holds (its
  lock) is left alone;
- SIGINT during `infer --output`: every row written is whole (at most the
  last is cut) and `--resume` completes the output."""

import fcntl
import io
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

import numpy as np
import onnx

import oracle_common as oc
import runtime_oracle as ro

EXIT_USAGE, EXIT_BAD_INPUT = 2, 3


def temporaries(folder, name):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.tmp-"))


class OutputPaths(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("output_paths")
        cls.onnx = ro.export_tiny_classifier(cls.work / "tiny.onnx")
        cls.x = cls.work / "x.npy"
        np.save(cls.x, np.random.default_rng(0).standard_normal((2, 3, 8, 8), dtype=np.float32))
        oc.run_pt2onnx("run", cls.onnx, "-i", cls.x, "-o", cls.work / "want.npy")
        cls.want = np.load(cls.work / "want.npy")
        cls.checkpoint = cls.work / "demo.pth"
        oc.run_pt2onnx("demo-checkpoint", cls.checkpoint, "--num-outputs", "2")

    def run_to(self, output, **kw):
        return oc.run_pt2onnx("run", self.onnx, "-i", self.x, "-o", output, **kw)

    def test_symlink_keeps_the_link_and_writes_its_target(self):
        target = self.work / "target.npy"
        target.write_bytes(b"old")
        link = self.work / "link.npy"
        link.symlink_to("target.npy")
        self.run_to(link)
        self.assertTrue(link.is_symlink())
        np.testing.assert_array_equal(np.load(target), self.want)
        dangling = self.work / "dangling.npy"
        dangling.symlink_to("created.npy")
        self.run_to(dangling)
        self.assertTrue(dangling.is_symlink())
        np.testing.assert_array_equal(np.load(self.work / "created.npy"), self.want)
        self.assertEqual(temporaries(self.work, "target.npy") + temporaries(self.work, "created.npy"), [])

    def test_fifo_is_streamed_into(self):
        fifo = self.work / "pipe.npy"
        os.mkfifo(fifo)
        received = []

        def read_all():
            with open(fifo, "rb") as f:
                received.append(f.read())

        reader = threading.Thread(target=read_all)
        reader.start()
        self.run_to(fifo)
        reader.join(timeout=60)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still a FIFO")
        np.testing.assert_array_equal(np.load(io.BytesIO(received[0])), self.want)

    def test_character_devices(self):
        self.run_to("/dev/null")
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))
        proc = self.run_to("/dev/full", check=False)
        self.assertEqual(proc.returncode, EXIT_BAD_INPUT, proc.stderr)
        self.assertIn("/dev/full", proc.stderr)
        self.assertIn("No space left on device", proc.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/full").st_mode), "/dev/full is still a device")

    def test_standard_output_carries_the_data_alone(self):
        proc = subprocess.run([oc.PT2ONNX, "run", self.onnx, "-i", self.x, "-o", "-"], capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        np.testing.assert_array_equal(np.load(io.BytesIO(proc.stdout)), self.want)
        self.assertIn(b"-> -", proc.stderr)

        proc = subprocess.run([oc.PT2ONNX, "export", "--input", self.checkpoint, "--output", "-"], capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertIn(b"Verification passed!", proc.stderr)
        model = onnx.load_from_string(proc.stdout)
        onnx.checker.check_model(model)
        self.assertEqual([i.name for i in model.graph.input], ["image"])

    def test_directory_and_socket_are_refused(self):
        proc = self.run_to(self.work, check=False)
        self.assertEqual(proc.returncode, EXIT_USAGE, proc.stderr)
        self.assertIn("is a directory", proc.stderr)

        path = self.work / "sock.npy"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        try:
            proc = self.run_to(path, check=False)
            self.assertEqual(proc.returncode, EXIT_USAGE, proc.stderr)
            self.assertIn("is a socket", proc.stderr)
            self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode))
        finally:
            server.close()

    def start_export_and_catch_its_temporary(self, output):
        """Starts an export; returns (process, temporary name) once the temporary exists."""
        proc = subprocess.Popen([oc.PT2ONNX, "export", "--input", self.checkpoint, "--output", output],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            found = temporaries(output.parent, output.name)
            if found:
                return proc, found[0]
            time.sleep(0.002)
        proc.kill()
        self.fail(f"no temporary seen while exporting (exit {proc.wait()})")

    def test_sigint_and_sigterm_remove_the_temporary(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            output = self.work / f"interrupted_{sig.name}.onnx"
            proc, temp = self.start_export_and_catch_its_temporary(output)
            proc.send_signal(sig)
            proc.wait(timeout=60)
            if proc.returncode == 0:
                continue  # the export finished first; the output is complete, as it should be
            self.assertEqual(proc.returncode, -sig, f"{sig.name}: died of the signal")
            self.assertEqual(temporaries(self.work, output.name), [], f"{sig.name}: {temp} removed")
            self.assertFalse(output.exists(), f"{sig.name}: no partial output")

    def test_temporary_left_by_sigkill_is_removed_next_time(self):
        output = self.work / "killed.onnx"
        proc, temp = self.start_export_and_catch_its_temporary(output)
        proc.kill()
        proc.wait(timeout=60)
        if not (self.work / temp).exists():
            self.skipTest("the export renamed its temporary before the kill")
        # As if the kill had been a while ago.
        old = time.time() - 60
        os.utime(self.work / temp, (old, old))
        # A temporary that a live process holds is not a leftover.
        held = self.work / ".killed.onnx.tmp-LiVe00"
        with open(held, "wb") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            os.utime(held, (old, old))
            proc = oc.run_pt2onnx("export", "--input", self.checkpoint, "--output", output, "--no-verify")
            self.assertTrue(held.exists(), "a held temporary is left alone")
        self.assertIn(f"removed {self.work / temp}", proc.stderr)
        self.assertIn("interrupted run", proc.stderr)
        self.assertFalse((self.work / temp).exists())
        onnx.checker.check_model(onnx.load(str(output)))
        held.unlink()

    def test_interrupted_infer_keeps_whole_rows_and_resumes(self):
        from PIL import Image
        images = self.work / "images"
        images.mkdir()
        rng = np.random.default_rng(1)
        count = 400
        for i in range(count):
            Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(images / f"{i:03d}.png")
        out = self.work / "rows.csv"
        proc = subprocess.Popen([oc.PT2ONNX, "infer", self.onnx, images, "--output", out, "--threads", "1",
                                 "--resize", "8x8"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_text().count("\n") >= 20:
                break
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        self.assertEqual(proc.returncode, -signal.SIGINT, "infer was still running when interrupted")
        lines = out.read_text().split("\n")
        rows = lines[1:-1]  # the last piece is empty or a row cut short
        self.assertTrue(10 <= len(rows) < count, f"{len(rows)} rows before the interruption")
        self.assertTrue(all(len(r.split(",")) == 5 for r in rows), f"whole rows only: {rows[-3:]}")
        oc.run_pt2onnx("infer", self.onnx, images, "--output", out, "--resume", "--resize", "8x8")
        final = out.read_text().splitlines()
        self.assertEqual(len(final), count + 1, "a header and one row per image after --resume")
        self.assertEqual(sorted(r.split(",")[0] for r in final[1:]), sorted(str(p) for p in images.iterdir()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
