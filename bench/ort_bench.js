#!/usr/bin/env node
// ONNX Runtime's side of bench/bench_runtime.sh: the same measurement as
// `pt2onnx bench --json`, on onnxruntime-node (CPU, pinned in
// tests/oracle/package.json). Benchmark-only; pt2onnx never uses it.
//
//   node bench/ort_bench.js MODEL.onnx [--batch-size N ...] [--threads T]
//                           [--streams S] [--seconds S] [--warmup W]
//
// Prints one JSON object per batch size, with the keys pt2onnx bench uses
// (cpu_ms_per_image: the whole process's CPU time over the timed runs).
// Threads: intraOpNumThreads = T / S per session, sequential execution (a CNN
// is a chain, so inter-op threads would only spin), all graph optimizations.
// Streams: onnxruntime-node runs a session synchronously on the JS thread, so
// S streams are S worker threads, each with its own session (ONNX Runtime's
// Node API cannot share one session's weights between threads).
'use strict';
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const ort = require(path.join(__dirname, '..', 'tests', 'oracle', 'node_modules', 'onnxruntime-node'));

// splitmix64 uniform values in [-1, 1): the input only has to be fixed and
// realistic in range; speed does not depend on it.
function randomInput(count, seed) {
  const data = new Float32Array(count);
  let state = BigInt.asUintN(64, BigInt(seed));
  for (let i = 0; i < count; ++i) {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    z ^= z >> 31n;
    data[i] = Number(z >> 40n) / 8388608.0 - 1.0;  // 24 bits -> [-1, 1)
  }
  return data;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function openSession(model, threads) {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

function feedsFor(session, batch, input) {
  // The model's first input, with its symbolic batch set and the other dims fixed.
  const name = session.inputNames[0];
  const dims = [batch, 3, 224, 224];
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (meta && Array.isArray(meta.shape)) {
    for (let d = 1; d < meta.shape.length; ++d) if (typeof meta.shape[d] === 'number') dims[d] = meta.shape[d];
  }
  const count = dims.reduce((a, b) => a * b, 1);
  // Inputs larger than 224x224 (Inception v3's 299x299) get their own values.
  const data = input.length >= count ? input.subarray(0, count) : randomInput(count, 42);
  return { [name]: new ort.Tensor('float32', data, dims) };
}

// One stream: warm-up, then timed runs until the deadline; returns latencies (ms).
async function stream(session, feeds, warmup, deadline) {
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  const latencies = [];
  while (performance.now() < deadline || latencies.length === 0) {
    const t0 = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

function parseArgs(argv) {
  const args = { model: null, batches: [], threads: 2, streams: 1, seconds: 3, warmup: 3 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--batch-size') args.batches.push(parseInt(next(), 10));
    else if (a === '--threads') args.threads = parseInt(next(), 10);
    else if (a === '--streams') args.streams = parseInt(next(), 10);
    else if (a === '--seconds') args.seconds = parseFloat(next());
    else if (a === '--warmup') args.warmup = parseInt(next(), 10);
    else if (!args.model) args.model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.model) throw new Error('usage: ort_bench.js MODEL.onnx [--batch-size N ...] [--threads T] [--streams S]');
  if (args.batches.length === 0) args.batches = [1];
  return args;
}

async function workerMain() {
  const { model, threads, batch, warmup } = workerData;
  const session = await openSession(model, threads);
  const feeds = feedsFor(session, batch, randomInput(batch * 3 * 224 * 224, 42));
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  parentPort.postMessage({ ready: true });
  parentPort.once('message', async (go) => {
    const latencies = await stream(session, feeds, 0, go.deadline);
    parentPort.postMessage({ latencies, end: performance.now() });
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const perStream = Math.max(1, Math.floor(args.threads / args.streams));
  const input = randomInput(Math.max(...args.batches) * 3 * 224 * 224, 42);
  const t0 = performance.now();
  const session = args.streams === 1 ? await openSession(args.model, perStream) : null;
  const loadMs = performance.now() - t0;
  let firstMs = 0;
  for (const batch of args.batches) {
    let latencies = [];
    let wall = 0;
    let images = 0;
    let cpuStart = null;
    let cpu = null;  // the process's CPU time over the timed runs (every thread)
    if (args.streams === 1) {
      const feeds = feedsFor(session, batch, input);
      if (firstMs === 0) {
        const f0 = performance.now();
        await session.run(feeds);
        firstMs = performance.now() - f0;
      }
      for (let i = 0; i < args.warmup; ++i) await session.run(feeds);
      cpuStart = process.cpuUsage();
      const start = performance.now();
      latencies = await stream(session, feeds, 0, start + 1000 * args.seconds);
      cpu = process.cpuUsage(cpuStart);
      wall = latencies.reduce((a, b) => a + b, 0);
      images = latencies.length * batch;
    } else {
      const workers = [];
      for (let s = 0; s < args.streams; ++s) {
        const w = new Worker(__filename, { workerData: { model: args.model, threads: perStream, batch, warmup: args.warmup } });
        workers.push(w);
      }
      await Promise.all(workers.map((w) => new Promise((res, rej) => { w.once('message', res); w.once('error', rej); })));
      cpuStart = process.cpuUsage();
      const start = performance.now();
      const deadline = start + 1000 * args.seconds;
      const results = await Promise.all(workers.map((w) => new Promise((res, rej) => {
        w.once('message', res);
        w.once('error', rej);
        w.postMessage({ deadline });
      })));
      // Every stream warmed up before the start mark; the timed runs end at the last stream's end.
      const end = Math.max(...results.map((r) => r.end));
      cpu = process.cpuUsage(cpuStart);
      for (const r of results) latencies = latencies.concat(r.latencies);
      wall = end - start;
      images = latencies.length * batch;
      await Promise.all(workers.map((w) => w.terminate()));
    }
    latencies.sort((a, b) => a - b);
    const result = {
      engine: 'onnxruntime',
      version: ort.env.versions ? ort.env.versions.common : undefined,
      batch_size: batch,
      threads: args.threads,
      streams: args.streams,
      runs: latencies.length,
      images_per_second: (images / wall) * 1000,
      latency_ms_p50: percentile(latencies, 50),
      latency_ms_p90: percentile(latencies, 90),
      latency_ms_p99: percentile(latencies, 99),
      cpu_ms_per_image: (cpu.user + cpu.system) / 1000 / images,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      load_ms: args.streams === 1 ? loadMs : undefined,
      first_run_ms: args.streams === 1 ? firstMs : undefined,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  }
}

if (isMainThread) {
  main().catch((e) => {
    process.stderr.write(`ort_bench.js: ${e.stack || e}\n`);
    process.exit(1);
  });
} else {
  workerMain().catch((e) => {
    process.stderr.write(`ort_bench.js worker: ${e.stack || e}\n`);
    process.exit(1);
  });
}
