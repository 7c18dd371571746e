/**
 * Measures the effect of registerWasmKernelFixes() on the tfjs wasm backend.
 *
 *   node --import tsx scripts/benchKernels.ts [--quick] [--cpu]
 *
 * Prints GFLOP/s of plain vs transposed BatchMatMul (dense-MLP backward
 * shapes), Conv2D backprop filter/input timings on a 32x28x28x32 input, and
 * ms/step for training a 9x256 sigmoid MLP, each without and with the fixes.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmKernelFixes,
  unregisterWasmKernelFixes,
} from '../src/train/wasmKernels';

const quick = process.argv.includes('--quick');
/** Also time the cpu backend's conv backprops (very slow: ~1 min for the filter gradient). */
const withCpu = process.argv.includes('--cpu');

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

/** Median wall time (ms) of `fn` over `reps` runs after `warmup` runs. */
function timeMs(fn: () => tf.Tensor | tf.Tensor[], reps: number, warmup = 2): number {
  const run = () => {
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    list.forEach(t => t.dataSync());
    tf.dispose(list);
  };
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const fmt = (v: number, d = 2) => v.toFixed(d).padStart(8);

function benchMatMul(): void {
  console.log('\n== BatchMatMul (wasm), GFLOP/s, median; M x K x N = out rows x inner x out cols');
  const shapes: [number, number, number][] = [
    [64, 784, 256], // forward of the first dense layer / dx of layer 1 (tB)
    [784, 64, 256], // dW of the first dense layer (tA)
    [64, 256, 784], // dx through the first layer (tB)
    [256, 64, 256], // dW of a 256x256 layer (tA)
    [64, 256, 256], // dx of a 256x256 layer (tB)
  ];
  console.log('  shape            mode    stock     fixed   speed-up');
  for (const [M, K, N] of shapes) {
    const flop = 2 * M * K * N;
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = tf.tensor(rand(M * K, 1), tA ? [K, M] : [M, K]);
      const b = tf.tensor(rand(K * N, 2), tB ? [N, K] : [K, N]);
      const reps = quick ? 5 : 20;
      unregisterWasmKernelFixes();
      const stock = timeMs(() => tf.matMul(a, b, tA, tB), reps);
      registerWasmKernelFixes();
      const fixed = timeMs(() => tf.matMul(a, b, tA, tB), reps);
      tf.dispose([a, b]);
      const mode = `${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`;
      console.log(`  ${`${M}x${K}x${N}`.padEnd(15)}  ${mode}  ${fmt(flop / stock / 1e6)}  ${fmt(flop / fixed / 1e6)}  ${fmt(stock / fixed, 1)}x`);
    }
  }
}

async function benchConv(): Promise<void> {
  const [N, H, W, C, CO, Kk] = [32, 28, 28, 32, 32, 3];
  console.log(`\n== Conv2D backprops on wasm, x ${N}x${H}x${W}x${C}, filter ${Kk}x${Kk}x${C}x${CO}, median ms`);
  console.log(`  kernel                   stride pad     stock      fixed  speed-up${withCpu ? '        cpu' : ''}`);
  const xv = rand(N * H * W * C, 3);
  const fv = rand(Kk * Kk * C * CO, 4);
  for (const [s, pad] of [[1, 'same'], [1, 'valid'], [2, 'same']] as const) {
    const OH = pad === 'same' ? Math.ceil(H / s) : Math.ceil((H - Kk + 1) / s);
    const OW = pad === 'same' ? Math.ceil(W / s) : Math.ceil((W - Kk + 1) / s);
    const dyv = rand(N * OH * OW * CO, 5);
    const reps = quick ? 3 : 8;
    const run = async (backend: 'cpu' | 'wasm', kernel: 'filter' | 'input', fixes: boolean, n: number) => {
      await tf.setBackend(backend);
      if (fixes) registerWasmKernelFixes(); else unregisterWasmKernelFixes();
      if (backend === 'wasm' && kernel === 'filter' && tf.getKernel('Conv2DBackpropFilter', 'wasm') == null) {
        return NaN; // not registered on stock wasm
      }
      const x = tf.tensor4d(xv, [N, H, W, C]);
      const dy = tf.tensor4d(dyv, [N, OH, OW, CO]);
      const f = tf.tensor4d(fv, [Kk, Kk, C, CO]);
      const ms = kernel === 'filter'
        ? timeMs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
          { strides: s, pad, dataFormat: 'NHWC', filterShape: [Kk, Kk, C, CO] } as never) as tf.Tensor, n, 1)
        : timeMs(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f },
          { strides: s, pad, dataFormat: 'NHWC', inputShape: [N, H, W, C] } as never) as tf.Tensor, n, 1);
      tf.dispose([x, dy, f]);
      return ms;
    };
    for (const kernel of ['filter', 'input'] as const) {
      const stock = await run('wasm', kernel, false, Math.min(reps, 3));
      const fixed = await run('wasm', kernel, true, reps);
      const cpu = withCpu ? await run('cpu', kernel, true, 1) : NaN;
      const name = kernel === 'filter' ? 'Conv2DBackpropFilter' : 'Conv2DBackpropInput ';
      const st = Number.isNaN(stock) ? '(missing)'.padStart(9) : fmt(stock, 1).padStart(9);
      const up = Number.isNaN(stock) ? '       -' : `${fmt(stock / fixed, 1)}x`;
      console.log(`  ${name}    ${String(s).padStart(6)} ${pad.padEnd(6)} ${st}  ${fmt(fixed, 1)}  ${up}${withCpu ? `  ${fmt(cpu, 1)}` : ''}`);
    }
  }
  await tf.setBackend('wasm');
  registerWasmKernelFixes();
}

/** 784 -> 9 x Dense(256, sigmoid) -> Dense(10, softmax), batch 64, SGD. */
function benchMlp(): void {
  console.log('\n== Reference MLP training step on wasm (784 -> 9x256 sigmoid -> 10 softmax, batch 64, SGD)');
  const steps = quick ? 5 : 20;
  const build = () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'sigmoid' }));
    for (let i = 0; i < 8; i++) model.add(tf.layers.dense({ units: 256, activation: 'sigmoid' }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
    return model;
  };
  const x = tf.tensor2d(rand(64 * 784, 6), [64, 784]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);
  for (const fixes of [false, true]) {
    if (fixes) registerWasmKernelFixes(); else unregisterWasmKernelFixes();
    const model = build();
    const opt = tf.train.sgd(0.1);
    const step = () => {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    };
    for (let i = 0; i < 3; i++) step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    const ms = (performance.now() - t0) / steps;
    console.log(`  ${fixes ? 'with fixes   ' : 'without fixes'}: ${ms.toFixed(1)} ms/step (${steps} steps after 3 warm-up)`);
    opt.dispose();
    model.dispose();
  }
  tf.dispose([x, y]);
}

async function main(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  registerWasmKernelFixes();
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);
  benchMatMul();
  await benchConv();
  await tf.setBackend('wasm');
  benchMlp();
  registerWasmKernelFixes();
}

main().catch(err => {
  console.error(err);
  process.exitCode = 1;
});
