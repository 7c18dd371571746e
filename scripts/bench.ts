/**
 * `npm run bench`: training speed of the reference models on each available backend, the CLI's
 * wall time for a whole diagnosis, and the same training in PyTorch on this machine when it is
 * installed (OpenBLAS, OPENBLAS_NUM_THREADS=1, 2 torch threads), with the ratio.
 * Prints figures; asserts nothing (speed is not a test).
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelFile } from '../src/core/parse/index';
import type { ModelSpec } from '../src/core/model';
import type { BackendName } from '../src/core/stats';
import { DEFAULT_TRAINING } from '../src/engine/diagnose';
import { selectBackend } from '../src/train/backends';
import { GradientReplicas } from '../src/train/replicas';
import { trainAndMeasure } from '../src/train/trainer';
import { coreTypeFromFlags } from '../src/train/nativeBlas';
import { activeNativeGemm, setNativeGemm } from '../src/train/wasmKernels';

const ROOT = path.join(__dirname, '..');
/** The Python with PyTorch: Debian's here; BENCH_PYTHON elsewhere (the GPU machine's `python3`). */
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
/** Where the PyTorch side trains: BENCH_TORCH_DEVICE=cuda on a GPU machine (scripts/device/). */
const TORCH_DEVICE = process.env.BENCH_TORCH_DEVICE === 'cuda' ? 'cuda' : 'cpu';
/** BENCH_TRAINING_ONLY=1 leaves out the 1,000-step memory run and the CLI timings. */
const TRAINING_ONLY = process.env.BENCH_TRAINING_ONLY === '1';
/** The trainer worker bundle; replicas are instances of it (the bench runs from dist/). */
const WORKER = path.join(__dirname, 'worker.js');
/** Threads for the data-parallel rows: the default (min(2, cores)), or BENCH_THREADS. */
const THREADS = Number(process.env.BENCH_THREADS ?? DEFAULT_TRAINING.threads ?? 1);

interface Workload {
  readonly label: string;
  /** An example file, or Keras source written here (for models too big to ship as examples). */
  readonly example: string | { readonly source: string };
  readonly batchSize: number;
  readonly steps: number;
  readonly torch: Record<string, unknown>;
}

const WORKLOADS: readonly Workload[] = [
  {
    label: 'reference MLP 784→256×9→10 sigmoid, batch 64',
    example: 'examples/deep_sigmoid.py',
    batchSize: 64,
    steps: 100,
    torch: { model: 'mlp', inputDim: 784, layers: [...Array.from({ length: 9 }, () => ({ units: 256, activation: 'sigmoid' })), { units: 10, activation: 'softmax' }] },
  },
  {
    label: 'small CNN conv3×3×32→conv3×3×64→dense on 28×28×1, batch 32',
    example: 'examples/small_cnn.py',
    batchSize: 32,
    steps: 30,
    torch: { model: 'cnn', inputShape: [28, 28, 1] },
  },
  {
    label: 'deep MLP 1024→1024×20→10 relu, batch 256',
    example: {
      source: [
        'from tensorflow import keras',
        'from tensorflow.keras import layers',
        'model = keras.Sequential([keras.Input(shape=(1024,))] + [layers.Dense(1024, activation="relu") for _ in range(20)] + [layers.Dense(10, activation="softmax")])',
      ].join('\n'),
    },
    batchSize: 256,
    steps: 6,
    torch: { model: 'mlp', inputDim: 1024, layers: [...Array.from({ length: 20 }, () => ({ units: 1024, activation: 'relu' })), { units: 10, activation: 'softmax' }] },
  },
];

async function loadExample(example: Workload['example']): Promise<ModelSpec> {
  const file = typeof example === 'string' ? example : 'bench_model.py';
  const text = typeof example === 'string' ? fs.readFileSync(path.join(ROOT, example), 'utf8') : example.source;
  const loaded = await loadModelFile(text, file);
  if (loaded.models.length === 0) throw new Error(`${file}: ${loaded.problems.map((p) => p.message).join('; ')}`);
  return loaded.models[0];
}

/**
 * OpenBLAS kernels our trainer loads on this machine when the user sets none (nativeBlas.ts),
 * given to PyTorch's OpenBLAS as well so that both sides multiply with the same kernels.
 */
function ourOpenBlasCore(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE !== undefined) return process.env.OPENBLAS_CORETYPE;
  try {
    return coreTypeFromFlags(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

function torchMsPerStep(workload: Workload, openBlasCore?: string): { ms?: number; note: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { note: `PyTorch not installed for ${PYTHON}` };
  const request = { mode: 'bench', batchSize: workload.batchSize, steps: workload.steps, warmup: 3, lr: 0.01, device: TORCH_DEVICE, ...workload.torch };
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
  if (openBlasCore) env.OPENBLAS_CORETYPE = openBlasCore;
  else delete env.OPENBLAS_CORETYPE;
  const r = spawnSync(PYTHON, [path.join(ROOT, 'test/reference/torch_reference.py')], {
    input: JSON.stringify(request), encoding: 'utf8', env,
  });
  if (r.status !== 0) return { note: `PyTorch bench failed: ${r.stderr.trim()}` };
  const result = JSON.parse(r.stdout);
  return { ms: result.msPerStep, note: TORCH_DEVICE === 'cuda' ? `torch ${probe.stdout.trim()}, CUDA` : `torch ${probe.stdout.trim()}, 2 threads, OPENBLAS_NUM_THREADS=1` };
}

function cliWallSeconds(args: string[]): number {
  const start = performance.now();
  spawnSync(process.execPath, [path.join(ROOT, 'bin/activation-lens.js'), 'diagnose', ...args, '--json'], { cwd: ROOT, encoding: 'utf8' });
  return (performance.now() - start) / 1000;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const backends: BackendName[] = (process.env.BENCH_BACKENDS ?? 'webgpu,wasm,cpu').split(',') as BackendName[];
  console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log('');
  console.log('Training steps with SGD (lr 0.01) on both sides; ours include the per-step gradient-norm read (the probe-batch statistics every 10 steps are timed apart, in the CLI wall time).');
  const core = TORCH_DEVICE === 'cuda' ? undefined : ourOpenBlasCore();
  if (TORCH_DEVICE === 'cuda') console.log('PyTorch trains on the GPU (CUDA); both PyTorch columns are that run.');
  console.log(core
    ? `PyTorch runs twice: with OPENBLAS_CORETYPE=${core} (the OpenBLAS kernels our native products use here) and with OpenBLAS's own choice, which on CPUs newer than the library is its generic SSE3 kernels.`
    : 'PyTorch runs with OpenBLAS\'s own choice of kernels, as our native products do.');
  console.log(row(['workload', 'backend', 'ms/step', 'PyTorch ms/step', 'ratio', 'PyTorch, OpenBLAS default kernels', 'ratio']));
  console.log(row(['---', '---', '---', '---', '---', '---', '---']));
  for (const workload of WORKLOADS) {
    const spec = await loadExample(workload.example);
    const torch = torchMsPerStep(workload, core);
    const torchDefault = core ? torchMsPerStep(workload, undefined) : torch;
    for (const name of backends) {
      let backend;
      try {
        backend = await selectBackend(name);
      } catch (error) {
        console.log(row([workload.label, name, `unavailable: ${(error as Error).message}`, '', '']));
        continue;
      }
      // The pure-JS backend is ~60× slower: fewer steps keep the benchmark short, and its conv
      // backprops take tens of seconds each, so convolutional workloads are not run on it.
      if (name === 'cpu' && workload.torch.model === 'cnn') {
        console.log(row([workload.label, 'cpu', 'not run: pure-JS conv backprops take tens of seconds per step', '', '']));
        continue;
      }
      if (name === 'cpu' && workload.batchSize >= 256) {
        console.log(row([workload.label, 'cpu', 'not run: about 70 s per step (measured once: 70,159 ms, 57× PyTorch)', '', '']));
        continue;
      }
      // Dawn's software adapter (llvmpipe, used by name when there is no GPU) checks the path;
      // its speed says nothing about a GPU's, so it gets a few steps and no 20×1024 MLP.
      const softwareGpu = name === 'webgpu' && /software/.test(backend.device ?? '');
      if (softwareGpu && workload.batchSize >= 256) {
        console.log(row([workload.label, `webgpu on ${backend.device}`, 'not run: a software GPU', '', '']));
        continue;
      }
      const steps = name === 'cpu' || softwareGpu ? Math.min(10, workload.steps) : workload.steps;
      // One thread, then the batch shared with replicas (data-parallel) on the backends that
      // compute on the caller's core.
      const threadCounts = name === 'wasm' ? [1, ...(THREADS > 1 ? [THREADS] : [])] : [1];
      // wasm: with the native BLAS products (when found), then with WebAssembly's own.
      const native = name === 'wasm' ? activeNativeGemm() : undefined;
      const productModes = native ? [native, undefined] : [undefined];
      for (const productMode of productModes)
      for (const threads of threadCounts) {
        if (name === 'wasm') {
          setNativeGemm(productMode);
          // Replicas choose their products when they start: tell them through their environment.
          if (productMode) delete process.env.ACTIVATION_LENS_BLAS;
          else process.env.ACTIVATION_LENS_BLAS = 'off';
        }
        const products = name !== 'wasm' ? '' : productMode ? ', native BLAS products' : ', WebAssembly products';
        let replicas: GradientReplicas | undefined;
        if (threads > 1) replicas = new GradientReplicas(threads - 1, WORKER, backend.name);
        try {
          // Plain SGD, lr 0.01, as the PyTorch side runs it; statistics (probes every 10 steps) included.
          const stats = await trainAndMeasure(spec, { ...DEFAULT_TRAINING, optimizer: 'sgd', learningRate: 0.01, batchSize: workload.batchSize, steps, threads }, backend, 1e9, { replicas });
          const ratio = (t: { ms?: number; note: string }) => t.ms ? `${(stats.msPerStep / t.ms).toFixed(1)}×` : t.note;
          const used = stats.parallelism?.threads ?? 1;
          const note = stats.parallelism?.note ? ` (${stats.parallelism.note})` : '';
          const device = name === 'webgpu' && backend.device ? ` on ${backend.device}` : '';
          console.log(row([workload.label, `${backend.name}${device}${products}, ${used} thread${used === 1 ? '' : 's'}${note} (${steps} steps)`, stats.msPerStep.toFixed(1),
            torch.ms?.toFixed(1) ?? '–', ratio(torch), torchDefault.ms?.toFixed(1) ?? '–', ratio(torchDefault)]));
        } finally {
          await replicas?.dispose();
        }
      }
      if (name === 'wasm') {
        setNativeGemm(native);
        delete process.env.ACTIVATION_LENS_BLAS;
        if (workload === WORKLOADS[0]) console.log(`(wasm: ${backend.device})`);
      }
    }
  }
  if (TRAINING_ONLY) return;
  await memoryOverLongRun();
  console.log('');
  console.log('CLI wall time, `activation-lens diagnose examples/deep_sigmoid.py` (100 steps, batch 64, default backend):');
  console.log(`  without verification (--no-verify), one training thread (--threads 1): ${cliWallSeconds(['examples/deep_sigmoid.py', '--no-verify', '--threads', '1']).toFixed(1)} s`);
  console.log(`  without verification (--no-verify), default threads (${DEFAULT_TRAINING.threads}): ${cliWallSeconds(['examples/deep_sigmoid.py', '--no-verify']).toFixed(1)} s`);
  console.log(`  with verification of its suggestions: ${cliWallSeconds(['examples/deep_sigmoid.py']).toFixed(1)} s`);
}

/**
 * The trainer's memory over a 1,000-step run of the reference MLP on wasm (probes every 10
 * steps): live tensors and their bytes, and the process's resident set, at a few steps. Bounded
 * means flat after the first probes, not zero growth.
 */
async function memoryOverLongRun(): Promise<void> {
  const backend = await selectBackend('wasm');
  const spec = await loadExample('examples/deep_sigmoid.py');
  const rows: string[] = [];
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  await trainAndMeasure(spec, { ...DEFAULT_TRAINING, steps: 1000, threads: 1 }, backend, 1e9, {
    onProgress: (step) => {
      if ([1, 100, 250, 500, 750, 1000].includes(step)) {
        const m = tf.memory();
        rows.push(row([step, m.numTensors, mib(m.numBytes), mib(process.memoryUsage().rss)]));
      }
    },
  });
  console.log('');
  console.log('Memory over a 1,000-step run (reference MLP, wasm, adam, probes every 10 steps):');
  console.log(row(['step', 'live tensors', 'tensor MiB', 'process RSS MiB']));
  console.log(row(['---', '---', '---', '---']));
  rows.forEach((r) => console.log(r));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
