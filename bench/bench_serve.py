#!/usr/bin/python3
"""`pt2onnx serve` under load (autocannon, pinned in tests/oracle/package.json)
beside the engine alone, in one run on one model (EfficientNet-B0 with the
seed's 2-output head, bench/export_efficientnet_b0.py, as bench_runtime.sh
uses):

- served tensors: POST /v2/models/NAME/infer, one [1,3,224,224] FP32 image as
  binary tensor data (Inference-Header-Content-Length), binary outputs asked for;
- served JPEGs: POST /v2/models/NAME/classify, a real JPEG as the body
  (`pt2onnx demo-images`' 517x389 RGB sample);
  each at concurrency 1, 8 and 64 (autocannon connections), for --seconds each
  after a 1 s warm-up: images/s (2xx answers per second), p50 and p99 latency
  (from autocannon's per-response times in float ms; its own histogram keeps
  whole ms only);
- the engine alone: `pt2onnx bench --batch-size 1 2 4 8` (best images/s, batch-1
  p50), and `pt2onnx infer` on copies of the same JPEG (images/s from the time
  of --infer-images copies less that of 8, so the model's load is not counted).

Then the ratios against the targets: served tensors at concurrency >= 8 over the
engine's best >= 0.90; served JPEGs (best concurrency) over infer >= 0.85;
served p50 at concurrency 1 less the engine's batch-1 p50 within 1 ms.

--rss adds memory stability: a fresh server's VmRSS after the first
--rss-amounts requests and after the last (default 1,000 and 100,000), of a mix
cycled by each of 8 connections: classify with a tiny PNG, infer with a tensor,
infer with a BYTES PNG, and cheap ones that do not run the engine (model
metadata, readiness, the model card, a malformed infer (400), a corrupt image
(400), an unknown model (404)). Each is read with the server at rest, 2.5 s after
the last answer: the server gives the memory a burst left free back to the system
after a quiet second, so what stays is what it holds. The peak (VmHWM) is printed
beside. Target: the two within 10%. (The answered counts are printed.) The engine
runs on
3 of every 10 requests, so 100,000 take about 30,000 / (engine images/s) s.

Raw JSON lines go to bench/out/bench_serve.jsonl (bench/out is git-ignored).

    /usr/bin/python3 bench/bench_serve.py [--model FILE] [--seconds 10] [--threads T]
                                          [--concurrency 1 8 64] [--rss] [--rss-amounts 1000 100000]

Needs a build (build/pt2onnx), `cd tests/oracle && npm ci --ignore-scripts`,
and /usr/bin/python3 with torch and torchvision to export the default model.
The machine is shared: the load average is printed with the figures.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
ORACLE = ROOT / "tests" / "oracle"
PT2ONNX = os.environ.get("PT2ONNX", str(ROOT / "build" / "pt2onnx"))
NODE = os.environ.get("PT2ONNX_NODE", "node")

# Runs autocannon on one JSON config (argv[1]); prints one JSON result. Latencies
# come from the 'response' events (float ms), 2xx answers only.
# When a server closes a keep-alive connection (pt2onnx serve did after 5
# requests, cpp-httplib's default, until serve_http.cpp lifted it; it still does
# when it stops), autocannon 9.0.0 reconnects without dropping the request it had
# just written to the closing socket, and from then on times each answer from
# the start of the request before it: latencies grow with every reconnect.
# setupClient clears that queue on each reconnect (the unanswered request is
# simply lost) and counts the reconnects, which should now be 0.
LOAD_JS = r"""
const fs = require("fs");
const autocannon = require("autocannon");
const cfg = JSON.parse(process.argv[1]);
const load = r => ({method: r.method, path: r.path, headers: r.headers || {},
                    body: r.body_file ? fs.readFileSync(r.body_file) : undefined});
const requests = cfg.requests.map(load);
let reconnects = 0;
function setupClient(client) {
  const connect = client._connect;
  let first = true;
  client._connect = function () {
    if (!first) { reconnects++; this.pipelinedRequests.clear(); }
    first = false;
    return connect.call(this);
  };
}
function once(opts, keep) {
  return new Promise((resolve, reject) => {
    const lat = [], statuses = {};
    const o = {url: cfg.url, connections: opts.connections, requests, timeout: cfg.timeout || 60, pipelining: 1,
               setupClient};
    if (opts.amount) o.amount = opts.amount; else o.duration = opts.duration;
    const inst = autocannon(o,
                            (err, res) => err ? reject(err) : resolve({res, lat, statuses}));
    inst.on("response", (client, status, bytes, ms) => {
      statuses[status] = (statuses[status] || 0) + 1;
      if (keep && status >= 200 && status < 300) lat.push(ms);
    });
  });
}
(async () => {
  if (cfg.warmup > 0) await once({connections: cfg.connections, duration: cfg.warmup}, false);
  reconnects = 0;
  const t0 = process.hrtime.bigint();
  const {res, lat, statuses} = await once({connections: cfg.connections, duration: cfg.duration,
                                           amount: cfg.amount}, true);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const q = p => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null;
  const ok = Object.entries(statuses).filter(([s]) => s >= 200 && s < 300).reduce((a, [, n]) => a + n, 0);
  const seconds = res.duration || wall;
  console.log(JSON.stringify({ok, statuses, errors: res.errors, timeouts: res.timeouts, seconds, reconnects,
                              rps: ok / seconds, p50_ms: q(0.5), p99_ms: q(0.99),
                              mean_ms: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : null}));
})().catch(e => { console.error(e); process.exit(1); });
"""


def log(*args, **kwargs):
    print(*args, **kwargs, flush=True)


class Server:
    """`pt2onnx serve` on a free port; its stderr is drained by a thread."""

    def __init__(self, model, name, threads, extra=()):
        self.proc = subprocess.Popen([PT2ONNX, "serve", f"{name}={model}", "--http-port", "0", "--threads",
                                      str(threads), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # A request whose client closed its connection while it waited (autocannon
        # closes its connections when a run ends) is dropped, status 499.
        self.port, self.errors, self.requests, self.dropped = None, [], 0, 0
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                if '"listening"' in line:
                    self.port = json.loads(line)["port"]
                    ready.set()
                elif '"event":"request"' in line:
                    self.requests += 1
                    if '"status":499' in line:
                        self.dropped += 1
                    elif '"error"' in line and len(self.errors) < 20:
                        self.errors.append(line.strip())
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120) or self.port is None:
            self.stop()
            sys.exit(f"bench_serve.py: the server did not start (exit {self.proc.poll()})")
        self.url = f"http://127.0.0.1:{self.port}"

    def rss_mb(self, field="VmRSS"):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return None

    def rss_at_rest_mb(self):
        """VmRSS once the server has been quiet long enough to give back what a
        burst left free (it does after a second without answers)."""
        time.sleep(2.5)
        return self.rss_mb()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def load(url, requests, connections, seconds=None, amount=None, warmup=1.0, timeout=60):
    cfg = {"url": url, "requests": requests, "connections": connections, "duration": seconds, "amount": amount,
           "warmup": warmup, "timeout": timeout}
    proc = subprocess.run([NODE, "-e", LOAD_JS, json.dumps(cfg)], cwd=ORACLE, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_serve.py: autocannon failed\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tiny_png(path, w=8, h=8):
    raw = b"".join(b"\0" + bytes((x * 31 + y * 17) % 256 for x in range(w) for _ in range(3)) for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def tensor_request(path, tensor):
    header = json.dumps({"inputs": [{"name": "image", "shape": list(tensor.shape), "datatype": "FP32",
                                     "parameters": {"binary_data_size": tensor.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    path.write_bytes(header + tensor.astype("<f4").tobytes())
    return {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}


def bytes_request(path, blob):
    header = json.dumps({"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": 4 + len(blob)}}],
                         "outputs": [{"name": "probabilities"}]}).encode()
    path.write_bytes(header + struct.pack("<I", len(blob)) + blob)
    return {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}


def engine_bench(model, threads, seconds):
    proc = subprocess.run([PT2ONNX, "bench", str(model), "--batch-size", "1", "2", "4", "8", "--threads",
                           str(threads), "--seconds", str(seconds), "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_serve.py: pt2onnx bench failed\n{proc.stderr}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def infer_seconds(model, files, threads):
    t0 = time.perf_counter()
    proc = subprocess.run([PT2ONNX, "infer", str(model), *map(str, files), "--threads", str(threads),
                           "--no-progress", "--format", "jsonl"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_serve.py: pt2onnx infer failed\n{proc.stderr}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=OUT / "efficientnet_b0.onnx")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--infer-images", type=int, default=64)
    ap.add_argument("--rss", action="store_true", help="also measure the server's RSS over many requests")
    ap.add_argument("--rss-amounts", type=int, nargs=2, default=[1000, 100000], metavar=("FIRST", "LAST"))
    ap.add_argument("--rss-only", action="store_true", help="only the --rss measurement")
    ap.add_argument("--out", type=Path, default=OUT / "bench_serve.jsonl")
    args = ap.parse_args()
    args.rss = args.rss or args.rss_only

    if not os.access(PT2ONNX, os.X_OK):
        sys.exit(f"bench_serve.py: no {PT2ONNX}; build first")
    if not (ORACLE / "node_modules" / "autocannon").is_dir():
        sys.exit("bench_serve.py: run 'cd tests/oracle && npm ci --ignore-scripts' first")
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.model.exists():
        log(f"exporting {args.model}")
        subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "export_efficientnet_b0.py"), str(args.model)],
                       check=True)
    name = "model"
    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    rows = []

    def record(row):
        row = {**row, "load": float(Path("/proc/loadavg").read_text().split()[0]), "threads": args.threads}
        rows.append(row)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        return row

    args.out.write_text("")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    log(f"machine: {cpu}, {os.cpu_count()} CPUs; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    log(f"model: {args.model}; threads {args.threads}; {args.seconds} s per point; concurrency {args.concurrency}")

    subprocess.run([PT2ONNX, "demo-images", str(tmp / "demo")], check=True, capture_output=True)
    jpeg = tmp / "demo" / "sample_1_rgb.jpg"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    tensor_headers = tensor_request(tmp / "tensor.bin", x)
    try:
        if not args.rss_only:
            measure_throughput(args, name, tmp, jpeg, tensor_headers, record)
        if args.rss:
            measure_rss(args, name, tmp, x, record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"raw results: {args.out}")


def measure_throughput(args, name, tmp, jpeg, tensor_headers, record):
    # The engine alone first, while nothing else runs.
    engine = engine_bench(args.model, args.threads, max(1.0, args.seconds / 2))
    for e in engine:
        record({"kind": "engine", **e})
    best = max(e["images_per_second"] for e in engine)
    p50_1 = next(e["latency_ms_p50"] for e in engine if e["batch_size"] == 1)
    copies = tmp / "copies"
    copies.mkdir()
    files = []
    for i in range(8 + args.infer_images):
        f = copies / f"img{i:04d}.jpg"
        os.link(jpeg, f) if i else shutil.copy(jpeg, f)
        files.append(f)
    t_small = infer_seconds(args.model, files[:8], args.threads)
    t_big = infer_seconds(args.model, files, args.threads)
    infer_ips = args.infer_images / max(1e-9, t_big - t_small)
    record({"kind": "infer", "images": len(files), "seconds": t_big, "images_8": 8, "seconds_8": t_small,
            "images_per_second": infer_ips, "images_per_second_with_startup": len(files) / t_big})

    server = Server(args.model, name, args.threads)
    served = {}
    try:
        kinds = {
            "tensor": {"method": "POST", "path": f"/v2/models/{name}/infer", "headers": tensor_headers,
                       "body_file": str(tmp / "tensor.bin")},
            "jpeg": {"method": "POST", "path": f"/v2/models/{name}/classify",
                     "headers": {"Content-Type": "image/jpeg"}, "body_file": str(jpeg)},
        }
        for kind, request in kinds.items():
            for c in args.concurrency:
                r = load(server.url, [request], c, seconds=args.seconds)
                served[kind, c] = record({"kind": f"serve_{kind}", "concurrency": c, **r})
                bad = {s: n for s, n in r["statuses"].items() if not s.startswith("2")}
                log(f"  {kind:6} c={c:<3} {r['rps']:7.1f} images/s  p50 {r['p50_ms']:8.2f} ms  "
                    f"p99 {r['p99_ms']:8.2f} ms" + (f"  non-2xx {bad}" if bad else "")
                    + (f"  errors {r['errors']}" if r["errors"] else ""))
        rss = server.rss_mb()
    finally:
        server.stop()
    if server.errors:
        log("server errors (first):", *server.errors[:5], sep="\n  ")
    if server.dropped:
        log(f"requests dropped unrun because their client left (the ends of the load runs): {server.dropped}")

    tensor_hi = max((served["tensor", c]["rps"] for c in args.concurrency if c >= 8), default=float("nan"))
    jpeg_best = max(served["jpeg", c]["rps"] for c in args.concurrency)
    p50_gap = (served["tensor", 1]["p50_ms"] - p50_1) if ("tensor", 1) in served else float("nan")
    log("")
    log(f"{'':34}{'images/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for e in engine:
        log(f"{'engine batch ' + str(e['batch_size']):34}{e['images_per_second']:10.1f}"
            f"{e['latency_ms_p50']:10.2f}{e['latency_ms_p99']:10.2f}")
    log(f"{'infer ' + str(args.infer_images) + ' JPEGs (less startup)':34}{infer_ips:10.1f}")
    for (kind, c), r in served.items():
        log(f"{'served ' + kind + ' c=' + str(c):34}{r['rps']:10.1f}{r['p50_ms']:10.2f}{r['p99_ms']:10.2f}")
    log(f"server RSS after the runs: {rss:.1f} MB")
    log("")
    checks = [
        ("served tensors (c>=8) / engine best", tensor_hi / best, ">= 0.90", tensor_hi / best >= 0.90),
        ("served JPEGs (best c) / infer", jpeg_best / infer_ips, ">= 0.85", jpeg_best / infer_ips >= 0.85),
        ("served p50 c=1 - engine batch-1 p50", p50_gap, "<= 1 ms", p50_gap <= 1.0),
    ]
    log(f"{'ratio':40}{'value':>10}  {'target':10}")
    for label, value, target, ok in checks:
        log(f"{label:40}{value:10.3f}  {target:10}{'met' if ok else 'NOT met'}")
    record({"kind": "summary", "engine_best_ips": best, "engine_b1_p50_ms": p50_1, "infer_ips": infer_ips,
            "tensor_ips_c8plus": tensor_hi, "jpeg_ips_best": jpeg_best, "p50_gap_ms": p50_gap,
            "ratio_tensor": tensor_hi / best, "ratio_jpeg": jpeg_best / infer_ips, "server_rss_mb": rss})


def measure_rss(args, name, tmp, x, record):
    png = tiny_png(tmp / "tiny.png")
    (tmp / "corrupt.png").write_bytes(png.read_bytes()[:30])
    small = tmp / "small.bin"
    headers_tensor = tensor_request(small, x)
    headers_bytes = bytes_request(tmp / "bytes.bin", png.read_bytes())
    (tmp / "bad.json").write_text('{"inputs": [{"name": "image", "shape": [1,3,224,224], "datatype": "FP32", "data": [1,')
    infer = f"/v2/models/{name}/infer"
    mix = [
        {"method": "POST", "path": f"/v2/models/{name}/classify", "body_file": str(png),
         "headers": {"Content-Type": "image/png"}},
        {"method": "GET", "path": f"/v2/models/{name}"},
        {"method": "POST", "path": infer, "headers": headers_tensor, "body_file": str(small)},
        {"method": "GET", "path": f"/v2/models/{name}/ready"},
        {"method": "POST", "path": infer, "headers": {"Content-Type": "application/json"},
         "body_file": str(tmp / "bad.json")},
        {"method": "POST", "path": infer, "headers": headers_bytes, "body_file": str(tmp / "bytes.bin")},
        {"method": "POST", "path": f"/v2/models/{name}/classify", "body_file": str(tmp / "corrupt.png"),
         "headers": {"Content-Type": "image/png"}},
        {"method": "GET", "path": "/models"},
        {"method": "POST", "path": "/v2/models/nope/infer", "headers": {"Content-Type": "application/json"},
         "body_file": str(tmp / "bad.json")},
        {"method": "GET", "path": "/v2/health/ready"},
    ]
    first, last = args.rss_amounts
    server = Server(args.model, name, args.threads)
    try:
        rss0 = server.rss_mb()
        log(f"\nRSS: fresh server {rss0:.1f} MB; {first} then {last - first} more requests "
            f"(a mix of {len(mix)}, 3 run the engine), 8 connections")
        t0 = time.perf_counter()
        a = load(server.url, mix, 8, amount=first, warmup=0)
        rss1 = server.rss_at_rest_mb()
        log(f"  after {first:>7} requests: VmRSS {rss1:7.1f} MB at rest, peak so far {server.rss_mb('VmHWM'):7.1f} MB "
            f"({sum(a['statuses'].values())} answered, statuses {a['statuses']})")
        b = load(server.url, mix, 8, amount=last - first, warmup=0)
        rss2 = server.rss_at_rest_mb()
        seconds = time.perf_counter() - t0
        log(f"  after {last:>7} requests: VmRSS {rss2:7.1f} MB at rest, peak so far {server.rss_mb('VmHWM'):7.1f} MB "
            f"({sum(b['statuses'].values())} more answered, statuses {b['statuses']})")
        log(f"  ratio {rss2 / rss1:.3f} (target within 10%: {'met' if abs(rss2 / rss1 - 1) <= 0.10 else 'NOT met'}); "
            f"{seconds:.0f} s")
        record({"kind": "rss", "rss_start_mb": rss0, "requests_first": first, "rss_first_mb": rss1,
                "requests_last": last, "rss_last_mb": rss2, "ratio": rss2 / rss1, "seconds": seconds,
                "statuses_first": a["statuses"], "statuses_last": b["statuses"], "errors": a["errors"] + b["errors"]})
    finally:
        server.stop()


if __name__ == "__main__":
    main()
