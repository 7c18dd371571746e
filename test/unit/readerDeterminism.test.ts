/**
 * A file's reading never depends on the machine's speed (issue 12): the same Python files read
 * normally, under a clock that runs very fast (every read of the time advances it by a second,
 * so any wall-clock deadline would fire in the middle of the file), and while every CPU core is
 * kept busy, give JSON-identical LoadResults. The files are the kinds that used to be refused
 * at a position that changed from run to run: long training loops after the model, a GAN with
 * two module-level models, a Keras script with a long plotting section.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LoadResult, ModelSpec } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';

const dir = join(__dirname, '..', 'fixtures', 'python-semantics');

/**
 * Each file, and the models it must yield as `kind size activation` per layer (so identical
 * refusals, or identically truncated models, cannot pass for determinism).
 */
const files: readonly { readonly name: string; readonly models: Readonly<Record<string, string>> }[] = [
  { name: 'mnist_mlp_train.py', models: { Net: 'dense 256, relu, dropout 0.2, dense 128, relu, dropout 0.2, dense 10, softmax' } },
  {
    name: 'gan_tutorial.py',
    models: {
      D: 'dense 256, leakyRelu, dense 256, leakyRelu, dense 1, sigmoid',
      G: 'dense 256, relu, dense 256, relu, dense 784, tanh',
    },
  },
  { name: 'keras_cnn_history_plot.py', models: { model: 'conv2d 32 relu, maxPool2d, conv2d 64 relu, maxPool2d, flatten, dropout 0.5, dense 128 relu, dense 10 softmax' } },
];

function summary(model: ModelSpec): string {
  return model.layers
    .map((l) => (l.kind === 'activation' ? l.activation.name : [l.kind, l.units ?? l.filters ?? l.rate, l.activation.name === 'linear' ? undefined : l.activation.name].filter((p) => p !== undefined).join(' ')))
    .join(', ');
}

async function readAll(): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  for (const file of files) results.push(await loadModelFile(readFileSync(join(dir, file.name), 'utf8'), file.name));
  // Through JSON, as a report or the CLI's --json would carry it.
  return JSON.parse(JSON.stringify(results)) as LoadResult[];
}

/** Runs `body` with Date.now, performance.now and process.hrtime advancing one second per call. */
async function withRacingClock<T>(body: () => Promise<T>): Promise<T> {
  const realDateNow = Date.now;
  const realPerformanceNow = performance.now;
  const realHrtime = process.hrtime;
  const realHrtimeBigint = process.hrtime.bigint;
  let fakeMs = realDateNow();
  const tick = (): number => {
    fakeMs += 1000;
    return fakeMs;
  };
  Date.now = tick;
  performance.now = tick;
  const hrtime = ((previous?: [number, number]): [number, number] => {
    const ms = tick();
    const now: [number, number] = [Math.floor(ms / 1000), (ms % 1000) * 1e6];
    return previous ? [now[0] - previous[0], now[1] - previous[1]] : now;
  }) as typeof process.hrtime;
  hrtime.bigint = () => BigInt(tick()) * 1_000_000n;
  process.hrtime = hrtime;
  try {
    return await body();
  } finally {
    Date.now = realDateNow;
    performance.now = realPerformanceNow;
    process.hrtime = realHrtime;
    process.hrtime.bigint = realHrtimeBigint;
  }
}

/** Runs `body` while one spinning worker per CPU core competes with it for the processor. */
async function withCpuHog<T>(body: () => Promise<T>): Promise<T> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const count = availableParallelism();
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       parentPort.postMessage('spinning');
       let x = 0;
       while (Atomics.load(workerData, 0) === 0) x = (x * 1103515245 + 12345) % 2147483648;`,
      { eval: true, workerData: stop },
    );
    workers.push(worker);
    started.push(new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    }));
  }
  try {
    await Promise.all(started);
    return await body();
  } finally {
    Atomics.store(stop, 0, 1);
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }
}

test('the files are read: their models, with all their layers, and no problem', async () => {
  const results = await readAll();
  for (const [i, file] of files.entries()) {
    const result = results[i];
    assert.deepEqual(result.problems.map((p) => p.message), [], file.name);
    assert.deepEqual(Object.fromEntries(result.models.map((m) => [m.name, summary(m)])), file.models, file.name);
    assert.deepEqual(result.models.flatMap((m) => m.problems.map((p) => p.message)), [], file.name);
  }
});

test('a racing clock does not change any result', async () => {
  const normal = await readAll();
  const racing = await withRacingClock(readAll);
  assert.deepEqual(racing, normal);
});

test('every CPU core busy does not change any result', async () => {
  const normal = await readAll();
  const hogged = await withCpuHog(readAll);
  assert.deepEqual(hogged, normal);
});

test('a racing clock and busy cores together do not change any result, read after read', async () => {
  const normal = await readAll();
  const both = await withCpuHog(() => withRacingClock(async () => [await readAll(), await readAll()]));
  assert.deepEqual(both[0], normal);
  assert.deepEqual(both[1], normal);
});
