"""Summarises bench/bench_runtime.sh's JSON lines: for each engine and
configuration the best round (the least disturbed on a shared machine), then
the ratios of pt2onnx to ONNX Runtime.

    /usr/bin/python3 bench/bench_summary.py bench/out/bench_runtime.jsonl
"""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    best = {}
    for r in rows:
        key = (r["engine"], r["batch_size"], r["streams"])
        if key not in best or r["images_per_second"] > best[key]["images_per_second"]:
            best[key] = r
    rounds = len({r.get("round") for r in rows})
    loads = [r["load"] for r in rows if "load" in r]
    batches = sorted({k[1] for k in best})
    streams = sorted({k[2] for k in best})
    print(f"\nbest of {rounds} round(s); load average during the runs {min(loads):.2f} to {max(loads):.2f}")
    print("| batch | streams | pt2onnx img/s | ORT img/s | ratio | pt2onnx p50 ms | ORT p50 ms | pt2onnx RSS MB | ORT RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for b in batches:
        for s in streams:
            ours, ort = best.get(("pt2onnx", b, s)), best.get(("onnxruntime", b, s))
            if not ours or not ort:
                continue
            print(f"| {b} | {s} | {ours['images_per_second']:.1f} | {ort['images_per_second']:.1f} | "
                  f"{ours['images_per_second'] / ort['images_per_second']:.2f} | {ours['latency_ms_p50']:.2f} | "
                  f"{ort['latency_ms_p50']:.2f} | {ours['peak_rss_mb']:.0f} | {ort['peak_rss_mb']:.0f} |")

    def top(engine):
        return max((r for k, r in best.items() if k[0] == engine), key=lambda r: r["images_per_second"])

    ours1, ort1 = best.get(("pt2onnx", 1, 1)), best.get(("onnxruntime", 1, 1))
    if ours1 and ort1:
        print(f"\nbatch-1 latency p50 (1 stream): pt2onnx {ours1['latency_ms_p50']:.2f} ms, "
              f"ORT {ort1['latency_ms_p50']:.2f} ms, ratio ORT/pt2onnx {ort1['latency_ms_p50'] / ours1['latency_ms_p50']:.2f}")
    bo, bt = top("pt2onnx"), top("onnxruntime")
    print(f"best throughput: pt2onnx {bo['images_per_second']:.1f} img/s (batch {bo['batch_size']}, "
          f"{bo['streams']} stream(s)), ORT {bt['images_per_second']:.1f} img/s (batch {bt['batch_size']}, "
          f"{bt['streams']} stream(s)), ratio {bo['images_per_second'] / bt['images_per_second']:.2f}")
    rss_o = [r["peak_rss_mb"] for k, r in best.items() if k[0] == "pt2onnx" and k[2] == 1]
    rss_t = [r["peak_rss_mb"] for k, r in best.items() if k[0] == "onnxruntime" and k[2] == 1]
    if rss_o and rss_t:
        print(f"peak RSS over the 1-stream runs: pt2onnx {max(rss_o):.0f} MB, ORT {max(rss_t):.0f} MB")
    cold = [r["load_ms"] + r["first_run_ms"] for r in rows if r["engine"] == "pt2onnx" and r["batch_size"] == 1 and r["streams"] == 1]
    cold_t = [r["load_ms"] + r["first_run_ms"] for r in rows
              if r["engine"] == "onnxruntime" and r["batch_size"] == 1 and r["streams"] == 1 and "load_ms" in r]
    if cold:
        line = f"cold start (load + first inference, batch 1), best: pt2onnx {min(cold):.0f} ms"
        if cold_t:
            line += f", ORT {min(cold_t):.0f} ms"
        print(line)


if __name__ == "__main__":
    main()
