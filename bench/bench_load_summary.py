"""Summarises bench/bench_load.sh: per load (busy loops per CPU) and engine,
images/s at batch 1 (one stream) and at the best batch size and stream count,
CPU ms per image at batch 1, and the first inference; each configuration's best
round. Then the same images/s as the median of each configuration's rounds (on
a shared host the best round favours the engine whose speed varies more), and
pt2onnx's targets: at least ONNX Runtime's images/s at batch 1 and
at the best setting under every load, and CPU ms per image under load within
1.5x of the idle figure.

    /usr/bin/python3 bench/bench_load_summary.py bench/out/bench_load_busy*.jsonl
"""
import json
import statistics
import sys

ENGINES = ("pt2onnx", "onnxruntime")


def best_rounds(rows):
    best = {}
    for r in rows:
        key = (r["engine"], r["batch_size"], r["streams"])
        if key not in best or r["images_per_second"] > best[key]["images_per_second"]:
            best[key] = r
    return best


def median_rounds(rows):
    """Images/s per (engine, batch, streams): the median over the rounds."""
    runs = {}
    for r in rows:
        runs.setdefault((r["engine"], r["batch_size"], r["streams"]), []).append(r["images_per_second"])
    return {k: statistics.median(v) for k, v in runs.items()}


def median_line(busy, rows):
    med = median_rounds(rows)
    parts = []
    for engine in ENGINES:
        mine = {k: v for k, v in med.items() if k[0] == engine}
        if (engine, 1, 1) not in mine:
            return None
        top = max(mine, key=mine.get)
        parts.append((engine, mine[(engine, 1, 1)], mine[top], f"b{top[1]}x{top[2]}"))
    (_, o1, ob, oat), (_, t1, tb, tat) = parts
    return (f"{busy} busy per CPU, medians: batch 1 {o1:.1f} / {t1:.1f} img/s ({o1 / t1:.2f}x); "
            f"best {ob:.1f} ({oat}) / {tb:.1f} ({tat}) ({ob / tb:.2f}x)")


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
    medians = []
    for path in sys.argv[1:]:
        rows = [json.loads(line) for line in open(path) if line.strip()]
        if rows:
            busy = rows[0].get("busy_per_core", 0)
            levels[busy] = summarise(rows)
            medians.append((busy, median_line(busy, rows)))
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
    print("\nMedian of the rounds, pt2onnx / ONNX Runtime:")
    for _, line in sorted(medians):
        if line:
            print("- " + line)
    print("targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))


if __name__ == "__main__":
    main()
