import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import {
  registerWasmKernelFixes,
  setNativeGemm,
  unregisterWasmKernelFixes,
  wasmKernelFixesRegistered,
} from '../../src/train/wasmKernels';
import { loadNativeGemm, type NativeGemm } from '../../src/train/nativeBlas';

function koffiEntry(): string | undefined {
  try {
    return createRequire(path.join(__dirname, '..', '..', 'noop.js')).resolve('koffi');
  } catch {
    return undefined;
  }
}

/**
 * Every kernel test runs twice: with the products in WebAssembly, and with the machine's BLAS
 * (nativeBlas.ts) doing the matrix products and the convolutions built on them. CI installs
 * OpenBLAS (.ci/run), so there the second run must not be skipped.
 */
const nativeLoad = loadNativeGemm(koffiEntry());
const PRODUCT_MODES: { label: string; gemm?: NativeGemm; skip: false | string }[] = [
  { label: 'WebAssembly products', skip: false },
  {
    label: 'native BLAS products',
    gemm: nativeLoad.gemm,
    skip: nativeLoad.gemm || process.env.CI ? false : `no native BLAS here: ${nativeLoad.reason}`,
  },
];

function kernelTest(name: string, body: () => Promise<void>): void {
  for (const mode of PRODUCT_MODES) {
    test(`${name} (${mode.label})`, { skip: mode.skip }, async () => {
      if (mode.label === 'native BLAS products') assert.ok(mode.gemm, `native BLAS expected in CI: ${nativeLoad.reason}`);
      setNativeGemm(mode.gemm);
      try {
        await body();
      } finally {
        setNativeGemm(undefined);
      }
    });
  }
}

/**
 * With IS_TEST on, the engine checks every kernel for leaked backend data ids.
 * Enabled for the kernel-level tests only: custom-gradient ops (e.g.
 * softmaxCrossEntropy) legitimately keep saved tensors and trip that check.
 */
function strictKernelLeakChecks(on: boolean): void {
  tf.env().set('IS_TEST', on);
}

const TOL = 1e-4;

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32). */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'result sizes differ');
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(b[i]));
  }
  return diff / Math.max(mag, 1e-6);
}

type Result = { shape: number[]; values: number[] }[];

/**
 * Runs `fn` on the given backend; `fn` builds its tensors from plain arrays and
 * returns tensors whose shapes and values are read back. Asserts that the
 * computation leaves no tensor and no backend data id behind.
 */
async function runOn(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Result> {
  assert.equal(await tf.setBackend(backend), true, `setBackend(${backend})`);
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = tf.engine().backend.numDataIds();
  const outs = tf.tidy(fn);
  const list = Array.isArray(outs) ? outs : [outs];
  const res = list.map(t => ({ shape: t.shape.slice(), values: Array.from(t.dataSync()) }));
  tf.dispose(list);
  assert.equal(tf.memory().numTensors, tensorsBefore, `tensor leak on ${backend}`);
  assert.equal(tf.engine().backend.numDataIds(), idsBefore, `data id leak on ${backend}`);
  return res;
}

async function compare(label: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('wasm', fn);
  assert.equal(got.length, ref.length, label);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(got[i].shape, ref[i].shape, `${label}: shape of output ${i}`);
    const e = relErr(got[i].values, ref[i].values);
    worst = Math.max(worst, e);
    assert.ok(e <= TOL, `${label}: output ${i} relative error ${e}`);
  }
  return worst;
}

test('wasm backend initialises and the fixes register idempotently', async () => {
  assert.equal(await tf.setBackend('wasm'), true);
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  registerWasmKernelFixes();
  assert.ok(wasmKernelFixesRegistered());
  for (const k of ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
    'UnsortedSegmentSum']) {
    assert.ok(tf.getKernel(k, 'wasm') != null, k);
  }
  // Unregister / re-register round trip restores a working stock kernel.
  unregisterWasmKernelFixes();
  assert.ok(!wasmKernelFixesRegistered());
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  const plain = tf.tidy(() => Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync()));
  assert.deepEqual(plain, [3, 3, 3, 3]);
  registerWasmKernelFixes();
  assert.ok(wasmKernelFixesRegistered());
});

test('registering before the wasm backend is initialised works (fresh process)', () => {
  // The original kernels' setupFunc must still run when the backend starts.
  const code = [
    "import * as tf from '@tensorflow/tfjs';",
    "import { registerWasmKernelFixes } from './src/train/wasmKernels.ts';",
    'registerWasmKernelFixes();',
    "const ok = await tf.setBackend('wasm');",
    'const v = Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync());',
    "const g = tf.grad((f) => tf.conv2d(tf.ones([1, 4, 4, 1]), f, 1, 'same').sum())(tf.ones([3, 3, 1, 1]));",
    'console.log(JSON.stringify({ ok, v, g: Array.from(g.dataSync()) }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', code],
    { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find(l => l.startsWith('{'));
  assert.ok(line, r.stdout);
  assert.deepEqual(JSON.parse(line), { ok: true, v: [3, 3, 3, 3], g: [9, 12, 9, 12, 16, 12, 9, 12, 9] });
});

kernelTest('BatchMatMul: transpose combos, batch dims and broadcasting match cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  const cases: { a: number[]; b: number[] }[] = [
    { a: [5, 7], b: [7, 3] },
    { a: [1, 7], b: [7, 4] },
    { a: [6, 1], b: [1, 4] },
    { a: [64, 96], b: [96, 33] },
    { a: [3, 5, 7], b: [3, 7, 4] },
    { a: [1, 5, 7], b: [4, 7, 6] }, // broadcast a over batch
    { a: [4, 5, 7], b: [7, 6] }, // rank-2 b broadcast
    { a: [2, 3, 5, 7], b: [7, 6] }, // rank-4 a
    { a: [2, 3, 5, 7], b: [2, 3, 7, 2] },
    // Small M, large N: transposed-B products take the swapped formulation.
    { a: [2, 7], b: [7, 40] },
    { a: [2, 3, 2, 7], b: [7, 40] },
    { a: [2, 7], b: [3, 7, 40] },
    { a: [1, 2, 7], b: [4, 7, 40] },
    { a: [4, 2, 7], b: [1, 7, 40] },
    { a: [3, 2, 7], b: [3, 7, 40] },
  ];
  let worst = 0;
  let seed = 1;
  for (const c of cases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const aShape = c.a.slice();
        const bShape = c.b.slice();
        const ra = aShape.length;
        const rb = bShape.length;
        if (tA) [aShape[ra - 2], aShape[ra - 1]] = [aShape[ra - 1], aShape[ra - 2]];
        if (tB) [bShape[rb - 2], bShape[rb - 1]] = [bShape[rb - 1], bShape[rb - 2]];
        const av = rand(size(aShape), seed++);
        const bv = rand(size(bShape), seed++);
        worst = Math.max(worst, await compare(`matMul ${aShape}x${bShape} tA=${tA} tB=${tB}`,
          () => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), tA, tB)));
      }
    }
  }
  // Fused matmul (bias + activation) with transposes goes through _FusedMatMul.
  for (const [tA, tB] of [[false, true], [true, false], [true, true]] as const) {
    const av = rand(40, seed++);
    const bv = rand(24, seed++);
    const bias = rand(3, seed++);
    worst = Math.max(worst, await compare(`fused matMul tA=${tA} tB=${tB}`, () => tf.fused.matMul({
      a: tf.tensor(av, tA ? [8, 5] : [5, 8]),
      b: tf.tensor(bv, tB ? [3, 8] : [8, 3]),
      transposeA: tA, transposeB: tB, bias: tf.tensor1d(bias), activation: 'relu',
    })));
  }
  console.log(`  BatchMatMul worst relative error: ${worst.toExponential(2)}`);
});

type ConvCase = {
  n: number; h: number; w: number; ci: number; co: number; kh: number; kw: number;
  strides: number | [number, number]; pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
};

function convGrid(): ConvCase[] {
  const out: ConvCase[] = [];
  for (const ci of [1, 3, 8]) {
    for (const k of [1, 3, 5]) {
      for (const s of [1, 2]) {
        for (const pad of ['same', 'valid'] as const) {
          const h = 7 + ((ci + k + s) % 2); // mix odd and even spatial sizes
          out.push({ n: 2, h, w: h + 1, ci, co: ci === 8 ? 4 : 5, kh: k, kw: k, strides: s, pad });
        }
      }
    }
  }
  // Non-square kernels/strides, numeric and explicit padding.
  out.push({ n: 1, h: 9, w: 6, ci: 2, co: 3, kh: 3, kw: 2, strides: [2, 1], pad: 'same' });
  out.push({ n: 2, h: 6, w: 9, ci: 3, co: 2, kh: 2, kw: 3, strides: [1, 3], pad: 'valid' });
  out.push({ n: 2, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, strides: 1, pad: 1 });
  out.push({ n: 2, h: 8, w: 8, ci: 3, co: 4, kh: 3, kw: 3, strides: 2, pad: 1 });
  out.push({ n: 2, h: 8, w: 7, ci: 2, co: 3, kh: 3, kw: 3, strides: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
  out.push({ n: 2, h: 8, w: 7, ci: 2, co: 3, kh: 3, kw: 3, strides: 2, pad: [[0, 0], [0, 1], [2, 1], [0, 0]] });
  // Padding larger than kernel-1 forces the general (col2im) path at stride 1.
  out.push({ n: 1, h: 5, w: 5, ci: 2, co: 2, kh: 2, kw: 2, strides: 1, pad: [[0, 0], [2, 2], [0, 3], [0, 0]] });
  return out;
}

function outSize(inSize: number, k: number, s: number, pad: ConvCase['pad'], axis: 1 | 2): number {
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - k + 1) / s);
  const total = typeof pad === 'number' ? 2 * pad : pad[axis][0] + pad[axis][1];
  return Math.floor((inSize + total - k) / s) + 1;
}

kernelTest('Conv2DBackpropFilter and Conv2DBackpropInput kernels match cpu over a shape grid', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  let worstF = 0;
  let worstI = 0;
  let seed = 100;
  for (const c of convGrid()) {
    const [sh, sw] = typeof c.strides === 'number' ? [c.strides, c.strides] : c.strides;
    const oh = outSize(c.h, c.kh, sh, c.pad, 1);
    const ow = outSize(c.w, c.kw, sw, c.pad, 2);
    const xShape = [c.n, c.h, c.w, c.ci];
    const fShape = [c.kh, c.kw, c.ci, c.co];
    const dyShape = [c.n, oh, ow, c.co];
    const xv = rand(size(xShape), seed++);
    const fv = rand(size(fShape), seed++);
    const dyv = rand(size(dyShape), seed++);
    const round = typeof c.pad === 'number' ? 'floor' : undefined;
    const label = `conv ${JSON.stringify(c)}`;
    worstF = Math.max(worstF, await compare(`backpropFilter ${label}`, () =>
      tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: round, filterShape: fShape } as never,
      ) as tf.Tensor));
    worstI = Math.max(worstI, await compare(`backpropInput ${label}`, () =>
      tf.engine().runKernel('Conv2DBackpropInput',
        { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(fv, fShape) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: round, inputShape: xShape } as never,
      ) as tf.Tensor));
  }
  console.log(`  Conv2DBackpropFilter worst relative error: ${worstF.toExponential(2)}`);
  console.log(`  Conv2DBackpropInput worst relative error: ${worstI.toExponential(2)}`);
});

kernelTest('conv backprops split into batch chunks (small im2col limit) match cpu', async () => {
  registerWasmKernelFixes({ maxColumnFloats: 64 }); // forces one image per chunk
  strictKernelLeakChecks(true);
  try {
    let seed = 500;
    for (const [s, pad] of [[1, 'same'], [2, 'same'], [2, 'valid'], [1, 'valid']] as const) {
      const xShape = [5, 7, 6, 3];
      const fShape = [3, 3, 3, 4];
      const dyShape = [5, outSize(7, 3, s, pad, 1), outSize(6, 3, s, pad, 2), 4];
      const xv = rand(size(xShape), seed++);
      const fv = rand(size(fShape), seed++);
      const dyv = rand(size(dyShape), seed++);
      await compare(`chunked filter s=${s} ${pad}`, () => tf.engine().runKernel('Conv2DBackpropFilter',
        { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) },
        { strides: s, pad, dataFormat: 'NHWC', filterShape: fShape } as never) as tf.Tensor);
      await compare(`chunked input s=${s} ${pad}`, () => tf.engine().runKernel('Conv2DBackpropInput',
        { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(fv, fShape) },
        { strides: s, pad, dataFormat: 'NHWC', inputShape: xShape } as never) as tf.Tensor);
    }
  } finally {
    registerWasmKernelFixes();
  }
});

kernelTest('conv kernels with NCHW data format match cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  const xShape = [2, 3, 7, 6]; // NCHW
  const fShape = [3, 3, 3, 4];
  for (const [s, pad] of [[1, 'same'], [2, 'valid'], [2, 'same']] as const) {
    const oh = outSize(7, 3, s, pad, 1);
    const ow = outSize(6, 3, s, pad, 2);
    const dyShape = [2, 4, oh, ow];
    const xv = rand(size(xShape), 7);
    const fv = rand(size(fShape), 8);
    const dyv = rand(size(dyShape), 9);
    await compare(`NCHW filter s=${s} ${pad}`, () => tf.engine().runKernel('Conv2DBackpropFilter',
      { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) },
      { strides: s, pad, dataFormat: 'NCHW', filterShape: fShape } as never) as tf.Tensor);
    await compare(`NCHW input s=${s} ${pad}`, () => tf.engine().runKernel('Conv2DBackpropInput',
      { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(fv, fShape) },
      { strides: s, pad, dataFormat: 'NCHW', inputShape: xShape } as never) as tf.Tensor);
  }
});

kernelTest('conv2d and conv1d gradients (tf.grads) match cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  let seed = 1000;
  for (const ci of [1, 3, 8]) {
    for (const k of [1, 3, 5]) {
      for (const s of [1, 2] as const) {
        for (const pad of ['same', 'valid'] as const) {
          // conv2d
          const xv = rand(2 * 9 * 8 * ci, seed++);
          const fv = rand(k * k * ci * 4, seed++);
          await compare(`conv2d grads ci=${ci} k=${k} s=${s} ${pad}`, () => {
            const x = tf.tensor4d(xv, [2, 9, 8, ci]);
            const f = tf.tensor4d(fv, [k, k, ci, 4]);
            const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad).square().sum());
            return g([x, f]);
          });
          // conv1d goes through conv2d with a [1, s] stride.
          const x1 = rand(3 * 11 * ci, seed++);
          const f1 = rand(k * ci * 5, seed++);
          await compare(`conv1d grads ci=${ci} k=${k} s=${s} ${pad}`, () => {
            const x = tf.tensor3d(x1, [3, 11, ci]);
            const f = tf.tensor3d(f1, [k, ci, 5]);
            const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              tf.conv1d(a as tf.Tensor3D, b as tf.Tensor3D, s, pad).square().sum());
            return g([x, f]);
          });
        }
      }
    }
  }
});

kernelTest('UnsortedSegmentSum and gather gradients match cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  const xv = rand(6 * 4, 31);
  const ids = [2, 0, 2, 5, -1, 1];
  await compare('unsortedSegmentSum', () =>
    tf.unsortedSegmentSum(tf.tensor2d(xv, [6, 4]), tf.tensor1d(ids, 'int32'), 4));
  await compare('unsortedSegmentSum int32', () =>
    tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 3));
  const table = rand(10 * 3, 32);
  await compare('gather grad', () => {
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor2d([1, 3, 3, 9, 0, 1], [2, 3], 'int32')).square().sum());
    return g(tf.tensor2d(table, [10, 3]));
  });
});

/** Gradients of a small model using dense, conv2d and conv1d layers. */
kernelTest('Sum over leading axes (bias gradients) and other reductions match cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  const xv = rand(4 * 5 * 3 * 6, 41);
  const x = () => tf.tensor4d(xv, [4, 5, 3, 6]);
  await compare('sum [0,1,2]', () => tf.sum(x(), [0, 1, 2]));
  await compare('sum [0,1,2] keepDims', () => tf.sum(x(), [0, 1, 2], true));
  await compare('sum [1,0] (unsorted axes)', () => tf.sum(x(), [1, 0]));
  await compare('sum 0 of a matrix', () => tf.sum(tf.tensor2d(xv.slice(0, 24), [4, 6]), 0));
  await compare('sum -1 (not leading: the stock kernel)', () => tf.sum(x(), -1));
  await compare('sum all', () => tf.sum(x()));
  await compare('sum int32 over 0 (the stock kernel)', () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
  await compare('bias gradient of a dense layer', () => tf.grad((b: tf.Tensor) => tf.add(tf.tensor2d(xv.slice(0, 24), [4, 6]), b).square().sum())(tf.tensor1d(xv.slice(24, 30))));
});

function modelGrads(weights: number[][], img: number[], seq: number[], labels: number[]): tf.Tensor[] {
  const imgIn = tf.input({ shape: [8, 8, 3] });
  const seqIn = tf.input({ shape: [12, 4] });
  const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(imgIn) as tf.SymbolicTensor;
  const c2b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu' }).apply(c2) as tf.SymbolicTensor;
  const c1 = tf.layers.conv1d({ filters: 5, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' }).apply(seqIn) as tf.SymbolicTensor;
  const c1b = tf.layers.conv1d({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid' }).apply(c1) as tf.SymbolicTensor;
  const flat = tf.layers.concatenate().apply([
    tf.layers.flatten().apply(c2b) as tf.SymbolicTensor,
    tf.layers.flatten().apply(c1b) as tf.SymbolicTensor,
  ]) as tf.SymbolicTensor;
  const d1 = tf.layers.dense({ units: 16, activation: 'sigmoid' }).apply(flat) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(d1) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [imgIn, seqIn], outputs: out });
  try {
    const ws = model.getWeights();
    assert.equal(ws.length, weights.length);
    model.setWeights(ws.map((w, i) => tf.tensor(weights[i].slice(0, w.size), w.shape)));
    const xi = tf.tensor4d(img, [4, 8, 8, 3]);
    const xs = tf.tensor3d(seq, [4, 12, 4]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const { grads } = tf.variableGrads(() =>
      tf.losses.softmaxCrossEntropy(y, model.apply([xi, xs]) as tf.Tensor) as tf.Scalar);
    return model.trainableWeights.map(w => grads[w.originalName ?? w.name] ?? grads[w.name]);
  } finally {
    model.dispose();
  }
}

kernelTest('gradients of a tiny dense + conv2d + conv1d layers model match cpu, without leaks', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(false);
  const weights = Array.from({ length: 12 }, (_, i) => rand(2000, 5000 + i).map(v => v * 0.5));
  const img = rand(4 * 8 * 8 * 3, 77);
  const seq = rand(4 * 12 * 4, 78);
  const labels = [0, 2, 1, 2];
  // tf.layers keeps no global tensors besides the model's, which is disposed.
  const worst = await compare('layers model grads', () => modelGrads(weights, img, seq, labels));
  console.log(`  layers model gradients worst relative error: ${worst.toExponential(2)}`);
});

kernelTest('dense training step (optimizer.minimize) on wasm matches cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(false);
  const xv = rand(16 * 20, 91);
  const w1 = rand(20 * 32, 92).map(v => v * 0.3);
  const w2 = rand(32 * 4, 93).map(v => v * 0.3);
  const yv = Array.from({ length: 16 }, (_, i) => i % 4);
  await compare('sgd step', () => {
    const W1 = tf.variable(tf.tensor2d(w1, [20, 32]));
    const W2 = tf.variable(tf.tensor2d(w2, [32, 4]));
    const x = tf.tensor2d(xv, [16, 20]);
    const y = tf.oneHot(tf.tensor1d(yv, 'int32'), 4);
    const opt = tf.train.sgd(0.1);
    for (let i = 0; i < 3; i++) {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.sigmoid(x.matMul(W1)).matMul(W2)) as tf.Scalar);
    }
    const res = [W1.clone(), W2.clone()];
    opt.dispose();
    W1.dispose();
    W2.dispose();
    return res;
  });
});

kernelTest('fused conv2d with bias (and with an activation, left to wasm) matches cpu', async () => {
  registerWasmKernelFixes();
  strictKernelLeakChecks(true);
  let seed = 5000;
  for (const ci of [1, 3, 16]) {
    for (const k of [1, 3]) {
      for (const s of [1, 2] as const) {
        for (const pad of ['same', 'valid'] as const) {
          for (const activation of ['linear', 'relu'] as const) {
            const xv = rand(3 * 10 * 7 * ci, seed++);
            const fv = rand(k * k * ci * 6, seed++);
            const bv = rand(6, seed++);
            await compare(`fused conv2d ci=${ci} k=${k} s=${s} ${pad} ${activation}`, () => {
              const x = tf.tensor4d(xv, [3, 10, 7, ci]);
              const filter = tf.tensor4d(fv, [k, k, ci, 6]);
              const bias = tf.tensor1d(bv);
              return tf.fused.conv2d({ x, filter, strides: s, pad, bias, activation });
            });
          }
        }
      }
    }
  }
});

test('native GEMM: every transpose combination and leading dimension matches a plain loop, and bad sizes throw', { skip: PRODUCT_MODES[1].skip }, () => {
  const gemm = nativeLoad.gemm;
  assert.ok(gemm, nativeLoad.reason);
  const M = 5;
  const N = 7;
  const K = 3;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const lda = (transA ? M : K) + 2; // padded rows: the leading dimension is honoured
      const ldb = (transB ? K : N) + 1;
      const ldc = N + 3;
      const A = Float32Array.from(rand((transA ? K : M) * lda, 1));
      const B = Float32Array.from(rand((transB ? N : K) * ldb, 2));
      const C = Float32Array.from(rand(M * ldc, 3));
      const before = C.slice();
      gemm.sgemm(transA, transB, M, N, K, 0.5, A, lda, B, ldb, 2, C, ldc);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < ldc; j++) {
          if (j >= N) {
            assert.equal(C[i * ldc + j], before[i * ldc + j], 'padding columns untouched');
            continue;
          }
          let sum = 0;
          for (let k = 0; k < K; k++) {
            const a = transA ? A[k * lda + i] : A[i * lda + k];
            const b = transB ? B[j * ldb + k] : B[k * ldb + j];
            sum += a * b;
          }
          const want = 0.5 * sum + 2 * before[i * ldc + j];
          assert.ok(Math.abs(C[i * ldc + j] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `transA=${transA} transB=${transB} C[${i}][${j}]`);
        }
      }
    }
  }
  const small = new Float32Array(4);
  assert.throws(() => gemm.sgemm(false, false, 3, 3, 3, 1, small, 3, small, 3, 0, small, 3), /holds 4 floats, the product reads 9/);
  assert.throws(() => gemm.sgemm(false, false, 2, 2, 2, 1, small, 1, small, 2, 0, small, 2), /leading dimension of A/);
});

test('OpenBLAS kernels are chosen from the CPU flags Linux reports', async () => {
  const { coreTypeFromFlags } = await import('../../src/train/nativeBlas');
  const cpu = (flags: string) => `processor\t: 0\nmodel\t\t: 207\nflags\t\t: ${flags}\nbugs\t\t: spectre_v1\n`;
  assert.equal(coreTypeFromFlags(cpu('fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl')), 'SkylakeX');
  assert.equal(coreTypeFromFlags(cpu('fpu sse2 avx avx2 fma avx512f')), 'Haswell', 'AVX-512 without BW/VL/DQ is not enough for the SkylakeX kernels');
  assert.equal(coreTypeFromFlags(cpu('fpu sse2 avx')), undefined);
  assert.equal(coreTypeFromFlags('Processor : AArch64\nFeatures : fp asimd\n'), undefined);
});
