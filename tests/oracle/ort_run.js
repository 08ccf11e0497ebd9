#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) on float32 .npy
// inputs and writes each output as float32 .npy: the test oracle for pt2onnx's
// exports and runtime. Never used by pt2onnx itself.
//
//   node ort_run.js MODEL.onnx [--threads N] [--opt all|disabled|basic|extended] IN.npy OUT.npy [IN.npy OUT.npy ...]
//
// One session serves every pair; each IN feeds the model's first input, OUT gets its first output.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // "\x93NUMPY"

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) throw new Error(`${file}: truncated header`);
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: unreadable header ${header}`);
  if (descr[1] !== '<f4') throw new Error(`${file}: dtype ${descr[1]}, expected <f4 (float32)`);
  if (fortran[1] !== 'False') throw new Error(`${file}: Fortran order is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (buf.length - dataStart !== count * 4) {
    throw new Error(`${file}: ${buf.length - dataStart} data bytes for shape (${dims}), expected ${count * 4}`);
  }
  // Copy: the Buffer's offset need not be 4-byte aligned.
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(dataStart + 4 * i);
  return { data, dims };
}

function writeNpy(file, data, dims) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Version 1.0: magic (6) + version (2) + length (2) + header, padded with
  // spaces to a multiple of 64 and ended by a newline, as numpy writes it.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 1) throw new Error('usage: ort_run.js MODEL.onnx [--threads N] [--opt LEVEL] IN.npy OUT.npy ...');
  const model = args.shift();
  let threads = 2;
  let opt = 'all';
  while (args.length && args[0].startsWith('--')) {
    const flag = args.shift();
    if (flag === '--threads') threads = Number(args.shift());
    else if (flag === '--opt') opt = args.shift();
    else throw new Error(`unknown flag ${flag}`);
  }
  if (args.length === 0 || args.length % 2 !== 0) throw new Error('expected IN.npy OUT.npy pairs');
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: opt,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  for (let i = 0; i < args.length; i += 2) {
    const x = readNpy(args[i]);
    const result = await session.run({ [inputName]: new ort.Tensor('float32', x.data, x.dims) });
    const y = result[outputName];
    writeNpy(args[i + 1], y.data, y.dims);
  }
}

main().catch((e) => {
  process.stderr.write(`ort_run.js: ${e.message}\n`);
  process.exit(1);
});
