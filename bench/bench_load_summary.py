"""Summarises bench/bench_load.sh: per load (busy loops per CPU) and engine,
images/s at batch 1 (one stream) and at the best batch size and stream count,
CPU ms per image at batch 1, and the first inference; each configuration's best
round. Then pt2onnx's targets: at least ONNX Runtime's images/s at batch 1 and
at the best setting under every load, and CPU ms per image under load within
1.5x of the idle figure.

    /usr/bin/python3 bench/bench_load_summary.py bench/out/bench_load_busy*.jsonl
"""
import json
import sys

ENGINES = ("pt2onnx", "onnxruntime")


def best_rounds(rows):
    best = {}
    for r in rows:
        key = (r["engine"], r["batch_size"], r["streams"])
        if key not in best or r["images_per_second"] > best[key]["images_per_second"]:
            best[key] = r
    return best


def summarise(rows):
    best = best_rounds(rows)
    out = {}
    for engine in ENGINES:
        mine = {k: r for k, r in best.items() if k[0] == engine}
        b1 = mine.get((engine, 1, 1))
        if not b1:
            continue
        top = max(mine.values(), key=lambda r: r["images_per_second"])
        firsts = [r["first_run_ms"] for r in rows
                  if r["engine"] == engine and r["batch_size"] == 1 and r["streams"] == 1 and r.get("first_run_ms")]
        out[engine] = {"b1": b1["images_per_second"], "cpu": b1.get("cpu_ms_per_image"),
                       "best": top["images_per_second"], "best_at": f"b{top['batch_size']}x{top['streams']}",
                       "first": min(firsts) if firsts else None,
                       "team": b1.get("team_runs"), "single": b1.get("one_thread_runs")}
    loads = [r["load"] for r in rows if "load" in r]
    return out, (min(loads), max(loads)) if loads else (0, 0)


def main():
    levels = {}
    for path in sys.argv[1:]:
        rows = [json.loads(line) for line in open(path) if line.strip()]
        if rows:
            levels[rows[0].get("busy_per_core", 0)] = summarise(rows)
    print("\n| busy loops per CPU | load avg | pt2onnx b1 img/s | ORT b1 img/s | ratio | pt2onnx best img/s | "
          "ORT best img/s | ratio | pt2onnx CPU ms/img | ORT CPU ms/img | pt2onnx first ms | ORT first ms | "
          "pt2onnx team/1-thread runs |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    misses = []
    idle_cpu = levels.get(0, ({}, None))[0].get("pt2onnx", {}).get("cpu")
    for busy in sorted(levels):
        s, (lo, hi) = levels[busy]
        o, t = s.get("pt2onnx"), s.get("onnxruntime")
        if not o or not t:
            continue
        fmt = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
        print(f"| {busy} | {lo:.1f}-{hi:.1f} | {o['b1']:.1f} | {t['b1']:.1f} | {o['b1'] / t['b1']:.2f} | "
              f"{o['best']:.1f} ({o['best_at']}) | {t['best']:.1f} ({t['best_at']}) | {o['best'] / t['best']:.2f} | "
              f"{fmt(o['cpu'], '.2f')} | {fmt(t['cpu'], '.2f')} | {fmt(o['first'], '.0f')} | {fmt(t['first'], '.0f')} | "
              f"{o['team']}/{o['single']} |")
        if o["b1"] < t["b1"]:
            misses.append(f"{busy} busy per CPU: batch 1 {o['b1']:.1f} < ORT {t['b1']:.1f} img/s")
        if o["best"] < t["best"]:
            misses.append(f"{busy} busy per CPU: best {o['best']:.1f} < ORT {t['best']:.1f} img/s")
        if busy > 0 and idle_cpu and o["cpu"] and o["cpu"] > 1.5 * idle_cpu:
            misses.append(f"{busy} busy per CPU: CPU {o['cpu']:.2f} ms/image > 1.5x idle {idle_cpu:.2f}")
    print("\n(bN x S: batch N in S streams; CPU ms per image at batch 1, the whole process)")
    print("targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))


if __name__ == "__main__":
    main()
