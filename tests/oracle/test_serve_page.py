"""`pt2onnx serve`'s web page in a real browser: headless Chromium, driven by
serve_page.js (puppeteer-core), opens the page of a server running a
MobileNetV3-Small checkpoint with calibrated BatchNorm exported by
`pt2onnx export`, reads the model card, drops an RGB JPEG of odd size and a
12-bit DICOM file onto the drop zone as one drop, and reads the bars drawn.

Checks: the bars' scores equal `pt2onnx infer`'s probabilities on the same
files, in the model's labels; the card shows the labels, the activation and the
checkpoint's SHA-256; the page requests nothing from another origin and logs no
script error.

Needs /usr/bin/chromium (Debian's chromium; scripts/setup.sh installs it) or
PT2ONNX_CHROMIUM, and tests/oracle/node_modules (npm ci). Without a Chromium
the test prints SKIPPED and passes.
"""

import json
import os
import re
import signal
import subprocess
import sys
import unittest

import numpy as np
from PIL import Image

import oracle_common as oc
from test_serve import Server
from test_vision_dicom import write_dicom
from vision_common import smooth_noise

CHROMIUM = os.environ.get("PT2ONNX_CHROMIUM", "/usr/bin/chromium")
LABELS = ["mass", "calcification", "normal"]
TIMEOUT_S = 60


def kill_group(pid):
    """SIGKILL to the process group led by pid, if it is still there."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_page(url, files):
    """serve_page.js on url with files; its JSON report. The script and the
    browser it starts (a process group of its own, as puppeteer starts it) are
    killed whatever happens."""
    proc = subprocess.Popen([oc.NODE, str(oc.ORACLE_DIR / "serve_page.js"), url, *map(str, files)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PT2ONNX_PAGE_TIMEOUT_MS": str(TIMEOUT_S * 1000)})
    try:
        out, err = proc.communicate(timeout=4 * TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, err = proc.communicate()
    finally:
        kill_group(proc.pid)
    for m in re.finditer(r"browser pid (\d+)", err or ""):
        kill_group(int(m.group(1)))
    if proc.returncode != 0:
        raise AssertionError(f"serve_page.js exited {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}")
    return json.loads(out)


class ServePageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = oc.work_dir("serve_page")
        torch_model = oc.make_nontrivial_model(n_out=len(LABELS), seed=11, arch="mobilenet_v3_small")
        cls.checkpoint = cls.dir / "mnv3.pth"
        oc.save_checkpoint(torch_model, cls.checkpoint)
        cls.model = cls.dir / "mnv3.onnx"
        oc.run_pt2onnx("export", "--input", cls.checkpoint, "--output", cls.model, "--labels", ",".join(LABELS))
        jpeg = cls.dir / "photo 301x257.jpg"  # a space: the name travels in the page as the File's name
        Image.fromarray(smooth_noise(301, 257, 3, seed=61), "RGB").save(jpeg, quality=90)
        dcm = cls.dir / "mammo12.dcm"
        write_dicom(dcm, smooth_noise(260, 210, 1, seed=62)[:, :, 0].astype(np.uint16) * 16, bits_stored=12)
        cls.files = [jpeg, dcm]
        cls.server = Server(f"mnv3={cls.model}", "--threads", "2")
        try:
            cls.report = run_page(cls.server.url + "/", cls.files)
        except BaseException:
            cls.stop_server()
            raise

    @classmethod
    def stop_server(cls):
        try:
            cls.server.stop()
        except subprocess.TimeoutExpired:
            cls.server.proc.kill()
            cls.server.proc.wait()

    @classmethod
    def tearDownClass(cls):
        cls.stop_server()

    def test_bars_equal_infer(self):
        proc = oc.run_pt2onnx("infer", self.model, *self.files, "--format", "jsonl")
        expected = {os.path.basename(r["path"]): r["probabilities"]
                    for r in map(json.loads, proc.stdout.splitlines())}
        results = self.report["results"]
        self.assertEqual(sorted(results), sorted(f.name for f in self.files))
        for name, result in results.items():
            with self.subTest(file=name):
                self.assertEqual(result["state"], "done", result.get("error"))
                self.assertEqual(sorted(result["scores"]), sorted(LABELS))
                got = [result["scores"][label] for label in LABELS]
                want = [expected[name][label] for label in LABELS]
                # infer prints 6 significant digits; the page holds the server's JSON floats.
                np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
                # Bars drawn highest first.
                self.assertEqual(result["order"], sorted(LABELS, key=lambda label: -result["scores"][label]))
                self.assertRegex(result["latency"], r"^\d+\.\d ms")

    def test_card(self):
        card = self.report["card"]
        self.assertEqual(self.report["models"], ["mnv3"])
        self.assertTrue(card["Name"].startswith("mnv3 "), card["Name"])
        self.assertEqual(card["Labels"], ", ".join(LABELS))
        self.assertEqual(card["Scores"], "sigmoid")
        self.assertEqual(card["Input"], "image: 3 x 224 x 224")
        self.assertEqual(card["Checkpoint SHA-256"], oc.sha256_file(self.checkpoint))
        self.assertEqual(card["Opset"], "17")

    def test_nothing_from_elsewhere(self):
        self.assertEqual(self.report["external"], [])
        paths = {r["url"].removeprefix(self.server.url) for r in self.report["requests"]}
        self.assertIn("/models", paths)
        self.assertIn("/v2/models/mnv3/classify", paths)
        self.assertEqual(self.report["page_errors"], [])
        # The page has no icon link, so Chromium asks for /favicon.ico (a 404 logged as a console error).
        errors = [e for e in self.report["console_errors"] if not e["url"].endswith("/favicon.ico")]
        self.assertEqual(errors, [])
        self.assertEqual([r["status"] for r in self.report["requests"] if "/v2/" in r["url"]], [200, 200])


if __name__ == "__main__":
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIPPED: no Chromium at {CHROMIUM} (Debian's chromium package; scripts/setup.sh installs it)")
        sys.exit(0)
    unittest.main(verbosity=2)
