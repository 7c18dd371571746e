/**
 * Data-parallel training: the trainer thread and replicas (other instances of dist/worker.js)
 * share each batch, and the averaged gradient step must be the full-batch step up to float
 * rounding. A replica that dies mid-run must not lose the run: the trainer finishes alone and
 * says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../../src/core/model';
import { DEFAULT_TRAINING } from '../../src/engine/diagnose';
import { selectBackend } from '../../src/train/backends';
import { GradientReplicas } from '../../src/train/replicas';
import { shareRows, trainAndMeasure } from '../../src/train/trainer';
import { loadModelFile } from '../../src/core/parse/index';
import { mlp } from '../helpers/specs';

const WORKER = path.join(__dirname, '..', '..', 'dist', 'worker.js');

// These tests are about sharing batches between wasm instances, with WebAssembly doing the
// products. A native BLAS (nativeBlas.ts) moves the point where sharing pays, so it is turned
// off here, for this process and for the replicas (which copy this environment when they
// start); the last test turns it back on to check where sharing starts then.
process.env.ACTIVATION_LENS_BLAS = 'off';
const OPTIONS = { ...DEFAULT_TRAINING, optimizer: 'sgd' as const, learningRate: 0.3, steps: 12, batchSize: 240, probeEvery: 4, probeSize: 32 };

function workerBuilt(t: { skip(message: string): void }): boolean {
  if (fs.existsSync(WORKER)) return true;
  if (process.env.CI) assert.fail(`${WORKER} is missing: run "npm run build" first`);
  t.skip('dist/worker.js is not built (run "npm run build"); npm test builds it first');
  return false;
}

function assertClose(actual: readonly number[], expected: readonly number[], relative: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= relative * Math.max(1e-6, Math.abs(e)), `${what}[${i}]: ${a} against ${e} on one thread`);
  });
}

async function smallCnn(): Promise<ModelSpec> {
  const source = [
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    'model = keras.Sequential([',
    '    keras.Input(shape=(10, 10, 2)),',
    '    layers.Conv2D(6, 3, activation="tanh"),',
    '    layers.Flatten(),',
    '    layers.Dense(4, activation="softmax"),',
    '])',
  ].join('\n');
  const loaded = await loadModelFile(source, 'cnn.py');
  assert.equal(loaded.models.length, 1, JSON.stringify(loaded.problems));
  return loaded.models[0];
}

test('shareRows splits a batch into near-equal shares, the larger first', () => {
  assert.deepEqual(shareRows(30, 2), [15, 15]);
  assert.deepEqual(shareRows(31, 2), [16, 15]);
  assert.deepEqual(shareRows(10, 3), [4, 3, 3]);
});

test('a batch that is small for its weights trains on one thread, with the reason', async () => {
  const backend = await selectBackend('wasm');
  const spec = mlp(64, [{ units: 64, activation: 'relu' }, { units: 2, activation: 'softmax' }]);
  // 64 rows × ~1 multiply-add per weight per row: sharing would copy more than it saves.
  const stats = await trainAndMeasure(spec, { ...OPTIONS, batchSize: 64, steps: 2, threads: 2 }, backend, 1e6, { replicas: {} as GradientReplicas });
  assert.equal(stats.parallelism?.threads, 1);
  assert.match(stats.parallelism?.note ?? '', /a batch of 64 is too little work per weight \(4,290\) to share between threads/);
});

test('two threads take the same training steps as one (MLP and CNN, SGD), up to rounding', async (t) => {
  if (!workerBuilt(t)) return;
  const backend = await selectBackend('wasm');
  const replicas = new GradientReplicas(1, WORKER, 'wasm');
  try {
    const specs = [mlp(12, [{ units: 16, activation: 'tanh' }, { units: 16, activation: 'relu' }, { units: 3, activation: 'softmax' }]), await smallCnn()];
    for (const spec of specs) {
      const one = await trainAndMeasure(spec, { ...OPTIONS, threads: 1 }, backend, 1e6);
      const tensorsBefore = tf.memory().numTensors;
      const two = await trainAndMeasure(spec, { ...OPTIONS, threads: 2 }, backend, 1e6, { replicas });
      assert.equal(tf.memory().numTensors, tensorsBefore, `${spec.name}: tensors left behind`);
      assert.equal(one.parallelism, undefined);
      assert.deepEqual(two.parallelism, { threads: 2 });
      assert.equal(two.stepsRun, OPTIONS.steps);
      assertClose(two.loss, one.loss, 1e-4, `${spec.name} loss`);
      two.layers.forEach((layer, i) => assertClose(layer.gradNorms, one.layers[i].gradNorms, 1e-3, `${spec.name} ‖∇W‖ of ${layer.name}`));
      // Training moved the weights (else equal losses would prove nothing).
      assert.ok(Math.abs(one.loss[OPTIONS.steps - 1] - one.loss[0]) > 1e-3, `${spec.name}: loss did not change`);
    }
  } finally {
    await replicas.dispose();
  }
});

test('a replica that dies mid-run: the run finishes on one thread and says so', async (t) => {
  if (!workerBuilt(t)) return;
  const backend = await selectBackend('wasm');
  const replicas = new GradientReplicas(1, WORKER, 'wasm');
  const spec = mlp(12, [{ units: 16, activation: 'tanh' }, { units: 3, activation: 'softmax' }]);
  let killed: Promise<void> | undefined;
  try {
    const stats = await trainAndMeasure(spec, { ...OPTIONS, threads: 2 }, backend, 1e6, {
      replicas,
      onProgress: (step) => {
        if (step === 4) killed = replicas.dispose();
      },
    });
    await killed;
    assert.equal(stats.stepsRun, OPTIONS.steps);
    assert.ok(stats.loss.every(Number.isFinite));
    assert.equal(stats.parallelism?.threads, 2);
    assert.match(stats.parallelism?.note ?? '', /exited .*the rest of the run used one thread/);
    assert.equal(replicas.healthy, false);
  } finally {
    await replicas.dispose();
  }
});

test('a batch too small to share trains on one thread, with the reason', async () => {
  const backend = await selectBackend('wasm');
  const spec = mlp(4, [{ units: 4, activation: 'relu' }, { units: 2, activation: 'softmax' }]);
  const stats = await trainAndMeasure(spec, { ...OPTIONS, batchSize: 8, steps: 2, threads: 2 }, backend, 1e6, {});
  assert.equal(stats.parallelism?.threads, 1);
  assert.match(stats.parallelism?.note ?? '', /no training threads|too small/);
});

test('with native products, the 20×1024-style batch not worth sharing trains on one thread, with the reason', async (t) => {
  delete process.env.ACTIVATION_LENS_BLAS;
  try {
    const backend = await selectBackend('wasm');
    if (/WebAssembly/.test(backend.device ?? '')) {
      if (process.env.CI) assert.fail(`CI installs OpenBLAS, yet: ${backend.device}`);
      t.skip(`no native BLAS here: ${backend.device}`);
      return;
    }
    // 240 rows: 240 multiply-adds per weight, enough to share on WebAssembly products (200) but
    // not on native ones (600), whose products are faster than the copies a share costs.
    const spec = mlp(32, [{ units: 64, activation: 'tanh' }, { units: 3, activation: 'softmax' }]);
    const stats = await trainAndMeasure(spec, { ...OPTIONS, threads: 2 }, backend, 1e6, { replicas: {} as GradientReplicas });
    assert.equal(stats.parallelism?.threads, 1);
    assert.match(stats.parallelism?.note ?? '', /a batch of 240 is too little work per weight/);
  } finally {
    process.env.ACTIVATION_LENS_BLAS = 'off';
    await selectBackend('wasm');
  }
});
