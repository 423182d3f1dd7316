#!/usr/bin/env node
// ONNX Runtime (CPU) reference runner for imgrec's comparison tests and benchmarks.
//
// Usage:
//   node bench/ort_run.js MODEL.onnx --info
//   node bench/ort_run.js MODEL.onnx [--input NAME=FILE.npy]... [--random-inputs SEED] --output-dir DIR [--threads T]
//   node bench/ort_run.js MODEL.onnx --bench N [--warmup W] [--threads T] [--input NAME=FILE.npy]... [--random-inputs SEED] [--profile PREFIX]
//
// Same conventions as imgrec-run: inputs are cast to the type the model declares (float32,
// float16, int64, int32, int8, uint8, bool); inputs not given are filled from --random-inputs
// (uniform in [-1, 1) for float inputs, 0 otherwise); each output is written as float32
// DIR/<output-name>.npy with characters other than [A-Za-z0-9._-] replaced by '_'.
// --bench prints one JSON line with median_ms, min_ms, max_ms, load_ms.
// --profile PREFIX: ORT's profiler writes PREFIX_<date>.json (Chrome trace, one
// event per node run); bench/profile_compare.py sets it beside imgrec-run --profile.
// --threads sets intraOpNumThreads (interOpNumThreads is 1, sequential execution).
//
// onnxruntime-node is looked up in $IMGREC_ORT_DIR, then <repo>/.cache/ort/node_modules
// (install it there with: npm install --prefix .cache/ort --ignore-scripts onnxruntime-node).
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(1);
}

function loadOrt() {
  const dirs = [];
  if (process.env.IMGREC_ORT_DIR) dirs.push(process.env.IMGREC_ORT_DIR);
  dirs.push(path.join(__dirname, '..', '.cache', 'ort', 'node_modules'));
  for (const d of dirs) {
    const p = path.join(d, 'onnxruntime-node');
    if (fs.existsSync(p)) {
      const ort = require(p);
      ort.packageVersion = JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8')).version;
      return ort;
    }
  }
  fail(`onnxruntime-node not found in ${dirs.join(', ')}`);
}

// ---- float16 <-> float32 ----
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
function f32ToF16(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);           // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;                                   // overflow -> inf
  if (e <= 0) {                                                          // subnormal / zero
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;            // round to nearest even
  return sign | half;
}
function f16ToF32(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * Math.pow(2, -24);
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * Math.pow(2, exp - 15);
}

// ---- .npy ----
const NPY_TYPES = {
  '<f4': { name: 'float32', size: 4, get: (dv, o) => dv.getFloat32(o, true) },
  '<f8': { name: 'float64', size: 8, get: (dv, o) => dv.getFloat64(o, true) },
  '<f2': { name: 'float16', size: 2, get: (dv, o) => f16ToF32(dv.getUint16(o, true)) },
  '<i8': { name: 'int64', size: 8, get: (dv, o) => Number(dv.getBigInt64(o, true)) },
  '<i4': { name: 'int32', size: 4, get: (dv, o) => dv.getInt32(o, true) },
  '|i1': { name: 'int8', size: 1, get: (dv, o) => dv.getInt8(o) },
  '|u1': { name: 'uint8', size: 1, get: (dv, o) => dv.getUint8(o) },
  '|b1': { name: 'bool', size: 1, get: (dv, o) => dv.getUint8(o) },
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) fail(`${file}: bad .npy header`);
  if (fortran[1] === 'True') fail(`${file}: fortran-order arrays are not supported`);
  const t = NPY_TYPES[descr[1]];
  if (!t) fail(`${file}: unsupported dtype ${descr[1]}`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length - off < n * t.size) fail(`${file}: truncated data`);
  const dv = new DataView(buf.buffer, buf.byteOffset + off, n * t.size);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = t.get(dv, i * t.size);
  return { shape, values, dtype: t.name };
}

function writeNpyF32(file, shape, data) {
  const shp = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(new Float32Array(data).buffer);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function toFloat32(tensor) {
  const d = tensor.data;
  if (tensor.type === 'float16') {
    const out = new Float32Array(d.length);
    const u16 = d instanceof Uint16Array ? d : new Uint16Array(d.buffer, d.byteOffset, d.length);
    for (let i = 0; i < u16.length; i++) out[i] = f16ToF32(u16[i]);
    return out;
  }
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float32Array.from(d, (v) => Number(v));
  if (tensor.type === 'string') fail('string outputs are not supported');
  return Float32Array.from(d);
}

// ---- inputs ----
function makeTensor(ort, type, shape, values) {
  const n = values.length;
  switch (type) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(values), shape);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(values), shape);
    case 'float16': {
      const u = new Uint16Array(n);
      for (let i = 0; i < n; i++) u[i] = f32ToF16(values[i]);
      return new ort.Tensor('float16', u, shape);
    }
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))), shape);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(values, Math.trunc), shape);
    case 'int8': return new ort.Tensor('int8', Int8Array.from(values, Math.trunc), shape);
    case 'uint8': return new ort.Tensor('uint8', Uint8Array.from(values, Math.trunc), shape);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(values, (v) => (v ? 1 : 0)), shape);
    default: fail(`unsupported input type ${type}`);
  }
}

// xorshift32, deterministic per seed and input index (values differ from imgrec-run's own
// generator: compare runs must pass the same .npy files to both).
function randomValues(n, seed, index, isFloat) {
  let s = (seed * 2654435761 + index * 40503 + 1) >>> 0 || 1;
  const v = new Float64Array(n);
  if (!isFloat) return v;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = (s / 4294967296) * 2 - 1;
  }
  return v;
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], outputDir: null, threads: 1, bench: 0, warmup: 3, seed: 0, info: false, profile: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => { if (i + 1 >= argv.length) fail(`${k} needs a value`); return argv[++i]; };
    if (k === '--input') {
      const v = next(); const eq = v.indexOf('=');
      if (eq <= 0) fail(`--input wants NAME=FILE.npy, got ${v}`);
      a.inputs.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else if (k === '--output-dir') a.outputDir = next();
    else if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--bench') a.bench = parseInt(next(), 10);
    else if (k === '--warmup') a.warmup = parseInt(next(), 10);
    else if (k === '--random-inputs') a.seed = parseInt(next(), 10);
    else if (k === '--info') a.info = true;
    else if (k === '--profile') a.profile = next();
    else if (k.startsWith('--')) fail(`unknown option ${k}`);
    else if (!a.model) a.model = k;
    else fail(`unexpected argument ${k}`);
  }
  if (!a.model) fail('no model given');
  if (!(a.threads >= 1)) fail('--threads must be >= 1');
  if (!a.info && !a.bench && !a.outputDir) fail('give --info, --bench N or --output-dir DIR');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT's own profiler: a Chrome-trace JSON of every node's run time,
    // written as PREFIX_<date>.json when the session ends
    ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profile } : {}),
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const meta = {};
  for (const m of session.inputMetadata || []) meta[m.name] = m;
  if (args.info) {
    console.log(JSON.stringify({ ort_version: ort.packageVersion,
      inputs: session.inputMetadata, outputs: session.outputMetadata }));
    return;
  }
  const given = new Map(args.inputs);
  for (const name of given.keys()) if (!session.inputNames.includes(name)) fail(`model has no input named ${name}`);
  const feeds = {};
  session.inputNames.forEach((name, idx) => {
    const m = meta[name] || { type: 'float32', shape: [] };
    if (given.has(name)) {
      const arr = readNpy(given.get(name));
      feeds[name] = makeTensor(ort, m.type, arr.shape, arr.values);
    } else {
      const shape = (m.shape || []).map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
      const n = shape.reduce((x, y) => x * y, 1);
      const isFloat = ['float32', 'float16', 'float64'].includes(m.type);
      feeds[name] = makeTensor(ort, m.type, shape, randomValues(n, args.seed, idx, isFloat));
    }
  });
  if (args.bench > 0) {
    for (let i = 0; i < args.warmup; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < args.bench; i++) {
      const s = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    times.sort((x, y) => x - y);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    console.log(JSON.stringify({ model: args.model, engine: 'onnxruntime', threads: args.threads, runs: args.bench,
      median_ms: +median.toFixed(4), min_ms: +times[0].toFixed(4), max_ms: +times[times.length - 1].toFixed(4),
      load_ms: +loadMs.toFixed(3) }));
    if (args.profile) session.endProfiling();
    return;
  }
  const results = await session.run(feeds);
  fs.mkdirSync(args.outputDir, { recursive: true });
  for (const name of session.outputNames) {
    const t = results[name];
    const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
    writeNpyF32(path.join(args.outputDir, safe + '.npy'), t.dims, toFloat32(t));
  }
}

main().catch((e) => fail(String(e && e.message ? e.message : e).split('\n')[0]));
