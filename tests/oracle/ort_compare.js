#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU) as the oracle the runtime tests compare
// pt2onnx's engine against. Test-only; pt2onnx never uses it.
//
//   node ort_compare.js MODEL.onnx [--threads N] IN.npy OUT.npy [IN.npy OUT.npy ...]
//
// Each IN (float32 .npy, C order) feeds the model's only input; the first
// output goes to OUT as float32 .npy. All optimizations on, as in production.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function loadNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const version = buf[6];
  const headerLength = version === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const offset = version === 1 ? 10 : 12;
  const header = buf.toString('latin1', offset, offset + headerLength);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: expected a C-order float32 array, header ${header.trim()}`);
  }
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)[1];
  const dims = shapeText.split(',').filter((s) => s.trim() !== '').map((s) => parseInt(s, 10));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = offset + headerLength;
  if (buf.length !== start + 4 * count) throw new Error(`${file}: ${buf.length - start} data bytes for ${count} floats`);
  const aligned = new ArrayBuffer(4 * count);
  buf.copy(Buffer.from(aligned), 0, start, start + 4 * count);
  return new ort.Tensor('float32', new Float32Array(aligned), dims);
}

function saveNpy(file, tensor) {
  const dims = tensor.dims;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';  // total a multiple of 64
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]));
}

async function main() {
  const args = process.argv.slice(2);
  const model = args.shift();
  let threads = 2;
  if (args[0] === '--threads') {
    args.shift();
    threads = parseInt(args.shift(), 10);
  }
  if (!model || args.length === 0 || args.length % 2 !== 0) {
    throw new Error('usage: ort_compare.js MODEL.onnx [--threads N] IN.npy OUT.npy [IN.npy OUT.npy ...]');
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
  });
  for (let i = 0; i < args.length; i += 2) {
    const feeds = { [session.inputNames[0]]: loadNpy(args[i]) };
    const results = await session.run(feeds);
    saveNpy(args[i + 1], results[session.outputNames[0]]);
  }
}

main().catch((e) => {
  process.stderr.write(`ort_compare.js: ${e.message}\n`);
  process.exit(1);
});
