"""`pt2onnx serve` started for real on a free port and spoken to by real
clients (Python `requests`, `curl`, raw sockets), on a ResNet-18 checkpoint
with calibrated BatchNorm exported by `pt2onnx export`:

- every Open Inference Protocol route (health, server and model metadata,
  model readiness, infer) and the pt2onnx ones (classify, metrics, the page);
- infer with JSON tensors (nested and flat), with the binary tensor data
  extension both ways, and with BYTES images (JPEG, PNG, DICOM): the logits
  equal `pt2onnx run`'s on the same tensors and PyTorch eager's, the
  probabilities equal `pt2onnx infer`'s on the same files;
- faults: malformed JSON, wrong names, shapes and datatypes, a body over
  --max-request-mb (413), truncated binary data, a corrupt image (only that
  request fails), a full queue (503), 1,000 connections at once, clients
  that disconnect mid-request;
- dynamic batching: concurrent requests share engine runs (the metrics'
  batch-size histogram), with the rows a lone request gets;
- SIGTERM under load: every request sent gets an answer, and the exit is 0.
"""

import json
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests
import torch
from PIL import Image

import oracle_common as oc
from test_vision_dicom import write_dicom
from vision_common import smooth_noise

LABELS = ["benign", "malignant", "artifact"]


class Server:
    """A `pt2onnx serve` process on a free port; stderr (its JSON log) is
    collected by a thread so that the pipe never fills."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([oc.PT2ONNX, "serve", *map(str, args), "--http-port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.listening = threading.Event()
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()
        if not self.listening.wait(60):
            self.proc.kill()
            raise AssertionError(f"the server did not start: {self.lines}")
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            if '"listening"' in line:
                self.port = json.loads(line)["port"]
                self.listening.set()
        self.listening.set()

    def events(self):
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def infer_json(tensor, name="image", nested=False, **extra):
    data = tensor.tolist() if nested else tensor.reshape(-1).tolist()
    body = {"inputs": [{"name": name, "shape": list(tensor.shape), "datatype": "FP32", "data": data}]}
    body.update(extra)
    return body


def binary_request(tensor, outputs_binary=True):
    header = {"inputs": [{"name": "image", "shape": list(tensor.shape), "datatype": "FP32",
                          "parameters": {"binary_data_size": tensor.nbytes}}],
              "parameters": {"binary_data_output": outputs_binary}}
    text = json.dumps(header).encode()
    return text + tensor.astype("<f4").tobytes(), len(text)


def bytes_request(files, name="image"):
    blobs = [f.read_bytes() for f in files]
    header = {"inputs": [{"name": name, "shape": [len(blobs)], "datatype": "BYTES",
                          "parameters": {"binary_data_size": sum(4 + len(b) for b in blobs)}}]}
    text = json.dumps(header).encode()
    return text + b"".join(struct.pack("<I", len(b)) + b for b in blobs), len(text)


def split_binary_response(response):
    """The JSON header and the outputs' arrays of a binary response."""
    length = int(response.headers["Inference-Header-Content-Length"])
    header = json.loads(response.content[:length])
    arrays, offset = {}, length
    for out in header["outputs"]:
        size = out["parameters"]["binary_data_size"]
        raw = response.content[offset:offset + size]
        offset += size
        if out["datatype"] == "FP32":
            arrays[out["name"]] = np.frombuffer(raw, "<f4").reshape(out["shape"])
    assert offset == len(response.content)
    return header, arrays


def outputs_by_name(body):
    return {o["name"]: o for o in body["outputs"]}


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = oc.work_dir("serve")
        cls.torch_model = oc.make_nontrivial_model(n_out=3, seed=5, arch="resnet18")
        checkpoint = cls.dir / "resnet.pth"
        oc.save_checkpoint(cls.torch_model, checkpoint)
        cls.model = cls.dir / "resnet.onnx"
        oc.run_pt2onnx("export", "--input", checkpoint, "--output", cls.model, "--labels", ",".join(LABELS))
        # Images of odd sizes and modes, and a DICOM file.
        cls.images = []
        for i, (h, w, mode) in enumerate([(301, 257, "RGB"), (199, 333, "L")]):
            arr = smooth_noise(h, w, 3 if mode == "RGB" else 1, seed=40 + i)
            img = Image.fromarray(arr if mode == "RGB" else arr[:, :, 0], mode)
            path = cls.dir / (f"photo{i}.jpg" if mode == "RGB" else f"scan{i}.png")
            img.save(path, quality=90) if mode == "RGB" else img.save(path)
            cls.images.append(path)
        dcm = cls.dir / "mammo.dcm"
        write_dicom(dcm, (smooth_noise(260, 210, 1, seed=47)[:, :, 0].astype(np.uint16) * 16), bits_stored=12)
        cls.images.append(dcm)
        cls.corrupt = cls.dir / "cut.jpg"
        cls.corrupt.write_bytes(cls.images[0].read_bytes()[:400])
        cls.server = Server(f"resnet={cls.model}", "--threads", "2", "--max-request-mb", "8")
        cls.url = cls.server.url
        cls.x = oc.probe_inputs(2, seed=9)["normal"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def infer_probabilities(self, files, activation="sigmoid"):
        """`pt2onnx infer`'s scores for files, by path."""
        proc = oc.run_pt2onnx("infer", self.model, *files, "--format", "jsonl", "--activation", activation)
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        key = "logits" if activation == "none" else "probabilities"
        return {r["path"]: [r[key][label] for label in LABELS] for r in rows}

    def run_logits(self, x):
        np.save(self.dir / "x.npy", x)
        oc.run_pt2onnx("run", self.model, "--input", self.dir / "x.npy", "--output", self.dir / "y.npy")
        return np.load(self.dir / "y.npy")

    # --- routes -------------------------------------------------------------

    def test_health_and_metadata(self):
        self.assertEqual(requests.get(f"{self.url}/v2/health/live").json(), {"live": True})
        ready = requests.get(f"{self.url}/v2/health/ready")
        self.assertEqual((ready.status_code, ready.json()), (200, {"ready": True}))
        server = requests.get(f"{self.url}/v2").json()
        self.assertEqual(server["name"], "pt2onnx")
        self.assertIn("binary_tensor_data", server["extensions"])
        for path in ("/v2/models/resnet", "/v2/models/resnet/versions/1"):
            meta = requests.get(self.url + path).json()
            self.assertEqual(meta["name"], "resnet")
            self.assertEqual(meta["inputs"], [{"name": "image", "datatype": "FP32", "shape": [-1, 3, 224, 224]}])
            self.assertEqual([(o["name"], o["datatype"], o["shape"]) for o in meta["outputs"]],
                             [("logits", "FP32", [-1, 3]), ("probabilities", "FP32", [-1, 3]), ("labels", "BYTES", [3])])
        self.assertEqual(requests.get(f"{self.url}/v2/models/resnet/ready").status_code, 200)
        for path in ("/v2/models/nope", "/v2/models/resnet/versions/7", "/v2/models/nope/ready"):
            r = requests.get(self.url + path)
            self.assertEqual(r.status_code, 404, path)
            self.assertIn("error", r.json())
        card = requests.get(f"{self.url}/models").json()[0]
        self.assertEqual(card["labels"], LABELS)
        self.assertEqual(card["checkpoint_sha256"], oc.sha256_file(self.dir / "resnet.pth"))
        self.assertEqual(card["opset"], 17)
        page = requests.get(self.url + "/")
        self.assertEqual(page.headers["Content-Type"], "text/html; charset=utf-8")
        # Nothing from elsewhere: no external script, style, font or image.
        self.assertIsNone(re.search(r"(src|href)=\"(https?:)?//", page.text))
        self.assertIn("/classify", page.text)

    # --- tensors ------------------------------------------------------------

    def test_infer_json_matches_run_and_torch(self):
        expected = self.run_logits(self.x)
        eager = oc.torch_eval(self.torch_model, self.x)
        scale = float(np.abs(eager).max())
        for nested in (False, True):
            r = requests.post(f"{self.url}/v2/models/resnet/infer", json=infer_json(self.x, nested=nested, id="req-7"))
            self.assertEqual(r.status_code, 200, r.text)
            body = r.json()
            self.assertEqual((body["id"], body["model_name"], body["model_version"]), ("req-7", "resnet", "1"))
            outs = outputs_by_name(body)
            logits = np.array(outs["logits"]["data"], np.float32).reshape(outs["logits"]["shape"])
            np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-5 * scale)
            self.assertLess(np.abs(logits - eager).max(), 1e-4 * scale)
            probabilities = np.array(outs["probabilities"]["data"]).reshape(2, 3)
            np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits.astype(np.float64))), atol=1e-6)
            self.assertEqual(outs["labels"]["data"], LABELS)
        # One output asked for, softmax asked for.
        r = requests.post(f"{self.url}/v2/models/resnet/infer",
                          json=infer_json(self.x, outputs=[{"name": "probabilities"}],
                                          parameters={"activation": "softmax"}))
        outs = r.json()["outputs"]
        self.assertEqual([o["name"] for o in outs], ["probabilities"])
        p = np.array(outs[0]["data"]).reshape(2, 3)
        e = np.exp(expected - expected.max(1, keepdims=True))
        np.testing.assert_allclose(p, e / e.sum(1, keepdims=True), atol=1e-5)

    def test_binary_tensor_data(self):
        expected = self.run_logits(self.x)
        body, length = binary_request(self.x)
        r = requests.post(f"{self.url}/v2/models/resnet/infer", data=body,
                          headers={"Inference-Header-Content-Length": str(length)})
        self.assertEqual(r.status_code, 200, r.text)
        header, arrays = split_binary_response(r)
        self.assertEqual(header["model_name"], "resnet")
        scale = float(np.abs(expected).max())
        np.testing.assert_allclose(arrays["logits"], expected, rtol=0, atol=1e-5 * scale)
        # The same request as JSON gives the same bits.
        j = outputs_by_name(requests.post(f"{self.url}/v2/models/resnet/infer", json=infer_json(self.x)).json())
        np.testing.assert_array_equal(arrays["logits"].reshape(-1), np.array(j["logits"]["data"], np.float32))

    # --- images -------------------------------------------------------------

    def test_images_in_probabilities_out(self):
        expected = self.infer_probabilities(self.images)
        body, length = bytes_request(self.images)
        r = requests.post(f"{self.url}/v2/models/resnet/infer", data=body,
                          headers={"Inference-Header-Content-Length": str(length)})
        self.assertEqual(r.status_code, 200, r.text)
        outs = outputs_by_name(r.json())
        p = np.array(outs["probabilities"]["data"]).reshape(len(self.images), 3)
        for i, f in enumerate(self.images):
            np.testing.assert_allclose(p[i], expected[str(f)], atol=2e-6, err_msg=str(f))
        # Logits likewise, against infer --activation none.
        raw = self.infer_probabilities(self.images, activation="none")
        logits = np.array(outs["logits"]["data"]).reshape(len(self.images), 3)
        for i, f in enumerate(self.images):
            np.testing.assert_allclose(logits[i], raw[str(f)], rtol=1e-5, atol=1e-5)

    def test_classify_route(self):
        expected = self.infer_probabilities(self.images)
        for f in self.images:
            raw = requests.post(f"{self.url}/v2/models/resnet/classify", data=f.read_bytes()).json()
            form = requests.post(f"{self.url}/v2/models/resnet/classify", files={"file": (f.name, f.read_bytes())}).json()
            self.assertEqual(list(raw), LABELS)
            self.assertEqual(raw, form)
            np.testing.assert_allclose([raw[k] for k in LABELS], expected[str(f)], atol=2e-6, err_msg=str(f))
        # curl, as a user types it (--data-binary sends a form content type).
        out = subprocess.run(["curl", "-sS", "--data-binary", f"@{self.images[2]}",
                              f"{self.url}/v2/models/resnet/classify?activation=softmax"],
                             capture_output=True, text=True, check=True).stdout
        scores = json.loads(out)
        self.assertAlmostEqual(sum(scores.values()), 1.0, places=5)
        logits = self.infer_probabilities([self.images[2]], activation="none")[str(self.images[2])]
        e = np.exp(np.array(logits) - max(logits))
        np.testing.assert_allclose([scores[k] for k in LABELS], e / e.sum(), atol=1e-5)
        request = self.dir / "request.json"
        request.write_text(json.dumps(infer_json(self.x[:1])))
        out = subprocess.run(["curl", "-sS", "-H", "Content-Type: application/json", "--data-binary",
                              f"@{request}", f"{self.url}/v2/models/resnet/infer"],
                             capture_output=True, text=True, check=True).stdout
        self.assertEqual(outputs_by_name(json.loads(out))["logits"]["shape"], [1, 3])

    # --- faults -------------------------------------------------------------

    def assert_error(self, response, status, *needles):
        self.assertEqual(response.status_code, status, response.text)
        message = response.json()["error"]
        for n in needles:
            self.assertIn(n, message)

    def test_bad_requests(self):
        url = f"{self.url}/v2/models/resnet/infer"
        self.assert_error(requests.post(url, data=b'{"inputs": [ {"name"'), 400, "JSON")
        self.assert_error(requests.post(url, json=infer_json(self.x, name="pixels")), 400, "'pixels'", "'image'")
        self.assert_error(requests.post(url, json=infer_json(self.x[:, :, :100])), 400, "[2,3,100,224]")
        bad_type = infer_json(self.x)
        bad_type["inputs"][0]["datatype"] = "INT64"
        self.assert_error(requests.post(url, json=bad_type), 400, "INT64")
        wrong_count = infer_json(self.x)
        wrong_count["inputs"][0]["data"] = wrong_count["inputs"][0]["data"][:-1]
        self.assert_error(requests.post(url, json=wrong_count), 400)
        self.assert_error(requests.post(url, json=infer_json(self.x, outputs=[{"name": "embedding"}])), 400,
                          "embedding")
        body, length = binary_request(self.x)
        self.assert_error(requests.post(url, data=body[:-10], headers={"Inference-Header-Content-Length": str(length)}),
                          400)
        self.assert_error(requests.post(f"{self.url}/v2/models/other/infer", json=infer_json(self.x)), 404, "other")
        # Over --max-request-mb 8: refused before the body is read whole.
        big = np.zeros((16, 3, 224, 224), np.float32)  # 9.6 MB
        body, length = binary_request(big)
        self.assert_error(requests.post(url, data=body, headers={"Inference-Header-Content-Length": str(length)}),
                          413, "max-request-mb")
        # A corrupt image fails its own request, naming the element; the
        # server goes on answering the others.
        body, length = bytes_request([self.images[0], self.corrupt])
        self.assert_error(requests.post(url, data=body, headers={"Inference-Header-Content-Length": str(length)}),
                          400, "element 1")
        self.assert_error(requests.post(f"{self.url}/v2/models/resnet/classify", data=b"not an image"), 400)
        self.assertEqual(requests.post(f"{self.url}/v2/models/resnet/classify",
                                       data=self.images[0].read_bytes()).status_code, 200)

    def test_concurrent_requests_batch_and_match(self):
        server = Server(f"resnet={self.model}", "--threads", "2", "--max-queue-delay-ms", "300", "--max-batch", "8")
        try:
            inputs = [oc.probe_inputs(1, seed=100 + i)["uniform"] for i in range(8)]
            expected = self.run_logits(np.concatenate(inputs))
            scale = float(np.abs(expected).max())

            def one(i):
                r = requests.post(f"{server.url}/v2/models/resnet/infer", json=infer_json(inputs[i]))
                return np.array(outputs_by_name(r.json())["logits"]["data"], np.float32)

            for _ in range(3):
                with ThreadPoolExecutor(8) as pool:
                    got = list(pool.map(one, range(8)))
                for i in range(8):
                    np.testing.assert_allclose(got[i], expected[i], rtol=0, atol=1e-5 * scale)
            metrics = requests.get(f"{server.url}/metrics").text
            runs = float(re.search(r'pt2onnx_batch_size_count\{model="resnet"\} (\S+)', metrics).group(1))
            images = float(re.search(r'pt2onnx_images_total\{model="resnet"\} (\S+)', metrics).group(1))
            # 24 requests (and the warm-up, which is not counted) in fewer runs.
            self.assertEqual(images, 24)
            self.assertLess(runs, 24)
            requests_total = re.search(r'pt2onnx_requests_total\{model="resnet",endpoint="infer"\} (\S+)', metrics)
            self.assertEqual(float(requests_total.group(1)), 24)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_full_queue_answers_503(self):
        server = Server(f"resnet={self.model}", "--threads", "1", "--max-queue", "1", "--max-batch", "1",
                        "--max-queue-delay-ms", "0")
        try:
            x = oc.probe_inputs(1, seed=3)["normal"]
            with ThreadPoolExecutor(24) as pool:
                codes = list(pool.map(lambda _: requests.post(f"{server.url}/v2/models/resnet/infer",
                                                              json=infer_json(x)), range(24)))
            statuses = sorted({r.status_code for r in codes})
            self.assertTrue(set(statuses) <= {200, 503}, statuses)
            self.assertIn(503, statuses)
            self.assertIn(200, statuses)
            self.assertIn("queue is full", next(r for r in codes if r.status_code == 503).json()["error"])
        finally:
            self.assertEqual(server.stop(), 0)

    def test_many_connections_and_disconnects(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        # Clients that go away: mid-body, and right after sending a whole request.
        body = json.dumps(infer_json(self.x[:1])).encode()
        for cut in (True, False):
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", self.server.port))
                head = (f"POST /v2/models/resnet/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                s.sendall(head + (body[:100] if cut else body))
                s.close()
        # 1,000 connections at once, each asking for readiness.
        sel = selectors.DefaultSelector()
        socks = []
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", self.server.port))
            s.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, bytearray())
            socks.append(s)
        done, deadline = 0, time.time() + 120
        answered = 0
        while done < len(socks) and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                chunk = key.fileobj.recv(4096)
                if chunk:
                    key.data.extend(chunk)
                    continue
                answered += key.data.startswith(b"HTTP/1.1 200")
                sel.unregister(key.fileobj)
                key.fileobj.close()
                done += 1
        self.assertEqual(answered, 1000)
        # Still serving, with the same numbers.
        r = requests.post(f"{self.url}/v2/models/resnet/infer", json=infer_json(self.x))
        np.testing.assert_allclose(np.array(outputs_by_name(r.json())["logits"]["data"]).reshape(2, 3),
                                   self.run_logits(self.x), atol=1e-4)
        self.assertIsNone(self.server.proc.poll())

    def test_sigterm_under_load(self):
        server = Server(f"resnet={self.model}", "--threads", "2")
        x = oc.probe_inputs(1, seed=4)["normal"]
        results = []

        def client():
            session = requests.Session()
            for _ in range(6):
                try:
                    r = session.post(f"{server.url}/v2/models/resnet/infer", json=infer_json(x), timeout=60)
                    results.append(r.status_code)
                except requests.ConnectionError:
                    results.append("refused")  # sent after the listener closed: never accepted
                    return

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        while len(results) < 8:
            time.sleep(0.01)
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join()
        self.assertEqual(server.proc.wait(60), 0)
        answered = [r for r in results if r != "refused"]
        self.assertTrue(set(answered) <= {200, 503}, results)
        events = [e["event"] for e in server.events()]
        self.assertEqual(events[-1], "stopped")
        self.assertIn("stopping", events)
        # Every request the server read was answered: one log line each, none cut off.
        logged = [e for e in server.events() if e["event"] == "request" and e["path"].endswith("/infer")]
        self.assertEqual(len(logged), len(answered))


if __name__ == "__main__":
    unittest.main(verbosity=2)
