/**
 * The teacher probe task, measured in PyTorch (test/reference/torch_reference.py, mode "probe"):
 * facts the product's switch from random targets to a teacher task relies on. The numbers in
 * the comments were measured with Debian's python3-torch 1.13 on seeds 0–2 (100 steps, batch 64,
 * 512 rows, probe batch = the first 256 rows); the assertions keep a margin below them.
 *
 * One Python process per scenario group (MLPs; CNNs), three seeds each; about 20–40 s in all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, '..', 'reference', 'torch_reference.py');
const SEEDS = [0, 1, 2];

function torchAvailable(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not found`;
  return probe.status === 0 ? undefined : `PyTorch is not installed for ${PYTHON} (apt-get install python3-torch)`;
}

// In CI (CI=true) a missing PyTorch is a failure, not a skip, as in reference.test.ts.
const skipReason = process.env.CI ? undefined : torchAvailable();

interface ProbeLayer {
  index: number; type: string; activation: string;
  deadStart: number | null; deadEnd: number | null; saturatedStart: number | null; saturatedEnd: number | null;
}
interface ProbeSeed { seed: number; lossStart: number; lossEnd: number | null; lossHeldOut: number | null; epochLosses: (number | null)[]; layers: ProbeLayer[] }
interface ProbeRun { tag: string; task: string; perSeed: ProbeSeed[] }

type Layer = Record<string, unknown>;
const dense = (units: number, activation: string, extra: Layer = {}): Layer => ({ type: 'dense', units, activation, ...extra });
const conv = (filters: number, extra: Layer = {}): Layer => ({ type: 'conv2d', filters, kernelSize: 3, activation: 'relu', ...extra });
const POOL = { type: 'maxpool2d', poolSize: 2 };
const FLAT = { type: 'flatten' };

/** Runs one group of probe requests in one Python process; results by tag. */
function probeGroup(runs: Layer[]): Map<string, ProbeRun> {
  const request = { mode: 'probe', steps: 100, batchSize: 64, seeds: SEEDS, optimizer: 'adam', lr: 1e-3, runs };
  const r = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify(request), encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, timeout: 180_000,
  });
  assert.equal(r.status, 0, r.stderr || String(r.error));
  const out = JSON.parse(r.stdout) as { runs: ProbeRun[] };
  return new Map(out.runs.map((run) => [run.tag, run]));
}

function lazy<T>(f: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= f());
}

const mlp = (first: Layer = {}, init?: string) => ({
  ...(init ? { init } : {}), inputShape: [784], layers: [dense(128, 'relu', first), dense(64, 'relu'), dense(10, 'softmax')],
});
const small = { inputShape: [20], layers: [dense(64, 'relu'), dense(64, 'relu'), dense(3, 'softmax')] };

const mlps = lazy(() => probeGroup([
  { tag: 'healthy/teacher', task: 'teacher', model: mlp() },
  { tag: 'healthy/random', task: 'random', model: mlp() },
  { tag: 'bias-3/torch-init', task: 'teacher', model: mlp({ bias: -3 }, 'torch') },
  { tag: 'bias-3/glorot', task: 'teacher', model: mlp({ bias: -3 }) },
  { tag: 'tanh-normal1', task: 'teacher', model: { inputShape: [784], layers: [dense(128, 'tanh', { kernelInit: { name: 'randomNormal', stddev: 1 } }), dense(64, 'tanh'), dense(10, 'softmax')] } },
  { tag: 'adam-lr1', task: 'teacher', lr: 1, model: mlp() },
  { tag: 'sgd-lr10', task: 'teacher', optimizer: 'sgd', lr: 10, model: mlp() },
  { tag: 'small/teacher', task: 'teacher', model: small },
  { tag: 'small/random', task: 'random', model: small },
]));

// conv16 → pool → conv32 → pool → fc64 → fc10 (Keras defaults: Glorot uniform, zero biases); the
// canonical reference of the same architecture: He normal kernels, zero biases.
const cnn = (fc: Layer = {}, convInit: Layer = {}) => ({
  inputShape: [28, 28, 1],
  layers: [conv(16, convInit), POOL, conv(32, convInit), POOL, FLAT, dense(64, 'relu', fc), dense(10, 'softmax')],
});
const cnns = lazy(() => probeGroup([
  { tag: 'cnn', task: 'teacher', model: cnn() },
  { tag: 'cnn/reference', task: 'teacher', model: cnn({ kernelInit: 'heNormal' }, { kernelInit: 'heNormal' }) },
  { tag: 'cnn/fc-bias-3', task: 'teacher', model: cnn({ bias: -3 }) },
]));

function run(group: Map<string, ProbeRun>, tag: string): ProbeSeed[] {
  const r = group.get(tag);
  assert.ok(r, `no run ${tag}`);
  assert.equal(r.perSeed.length, SEEDS.length);
  return r.perSeed;
}

const num = (x: number | null | undefined): number => {
  assert.ok(typeof x === 'number' && Number.isFinite(x), `expected a finite number, got ${x}`);
  return x;
};

test('(a) healthy 784→128→64→10 ReLU MLP, Adam 1e-3, 100 steps: dead fractions stay at their step-0 values under the teacher task (and, in PyTorch, under random targets too)', { skip: skipReason }, () => {
  // Measured: 0 dead units at step 0 and at the end in both layers, every seed, both tasks.
  for (const tag of ['healthy/teacher', 'healthy/random']) {
    for (const s of run(mlps(), tag)) {
      for (const l of s.layers) {
        assert.ok(Math.abs(num(l.deadEnd) - num(l.deadStart)) <= 0.05, `${tag} seed ${s.seed} layer ${l.index}: dead ${l.deadStart} → ${l.deadEnd}`);
        assert.ok(num(l.deadEnd) <= 0.05, `${tag} seed ${s.seed} layer ${l.index}: dead ${l.deadEnd} at the end`);
      }
    }
  }
});

test('(b) a ReLU layer with bias −3 on 784 inputs is entirely dead at step 0 under PyTorch\'s default init, but not mostly dead under Glorot', { skip: skipReason }, () => {
  // Torch default init: pre-activation std ≈ 0.58, so −3 is ≈ 5 std away: 100 % dead at step 0 and
  // at the end (and ≈ 50–60 % of the next layer, fed zeros, dead through its negative default biases).
  for (const s of run(mlps(), 'bias-3/torch-init')) {
    assert.ok(num(s.layers[0].deadStart) >= 0.9, `seed ${s.seed}: dead at step 0 ${s.layers[0].deadStart}`);
    assert.ok(num(s.layers[0].deadEnd) >= 0.9, `seed ${s.seed}: dead at the end ${s.layers[0].deadEnd}`);
    assert.ok(num(s.lossEnd) > 0.9 * s.lossStart, `seed ${s.seed}: the network should not learn (${s.lossStart} → ${s.lossEnd})`);
  }
  // Glorot uniform: pre-activation std ≈ 1.3, −3 is ≈ 2.3 std: measured 3–12.5 % dead at step 0 —
  // a real but minority effect (most units are rarely active instead), and the loss still falls.
  for (const s of run(mlps(), 'bias-3/glorot')) {
    assert.ok(num(s.layers[0].deadStart) > 0 && num(s.layers[0].deadStart) < 0.3, `seed ${s.seed}: dead at step 0 ${s.layers[0].deadStart}`);
  }
});

test('(b) a tanh layer with RandomNormal(stddev=1) on 784 inputs is mostly saturated at step 0 and at the end', { skip: skipReason }, () => {
  // Measured: 92.7 % of pre-activation entries beyond ±2.5 at step 0, 94.5 % at the end; the next
  // (Glorot) tanh layer ≈ 3 %.
  for (const s of run(mlps(), 'tanh-normal1')) {
    assert.ok(num(s.layers[0].saturatedStart) >= 0.85, `seed ${s.seed}: ${s.layers[0].saturatedStart}`);
    assert.ok(num(s.layers[0].saturatedEnd) >= 0.85, `seed ${s.seed}: ${s.layers[0].saturatedEnd}`);
    assert.ok(num(s.layers[1].saturatedStart) <= 0.1, `seed ${s.seed}: next layer ${s.layers[1].saturatedStart}`);
  }
});

test('(b) Adam lr=1 and SGD lr=10 kill most units of a layer during training (none dead at step 0), with a first-epoch loss in the thousands for Adam', { skip: skipReason }, () => {
  // Measured: the 64-unit layer ends 97–100 % dead (the 128-unit layer stays at 0); Adam's mean
  // loss over the first 8 steps 2.1e3–2.9e3, SGD's 1.1e3–1.2e25; both end at chance (≈ 2.30).
  for (const tag of ['adam-lr1', 'sgd-lr10']) {
    for (const s of run(mlps(), tag)) {
      assert.ok(Math.max(...s.layers.map((l) => num(l.deadStart))) <= 0.05, `${tag} seed ${s.seed}: dead at step 0`);
      const worst = Math.max(...s.layers.map((l) => num(l.deadEnd)));
      assert.ok(worst >= 0.9, `${tag} seed ${s.seed}: most dead layer at the end ${worst}`);
    }
  }
  for (const s of run(mlps(), 'adam-lr1')) assert.ok(num(s.epochLosses[0]) >= 1000, `seed ${s.seed}: first-epoch loss ${s.epochLosses[0]}`);
});

test('(c) the teacher task is learnable where random targets are not: 20 features, 512 rows', { skip: skipReason }, () => {
  // Measured (20→64→64→3): teacher training loss to 24–27 % of the start, held-out loss (fresh
  // inputs, same teacher) 35–39 %; random targets: training loss 75–80 %, held-out ≥ 100 % (chance).
  const teacher = run(mlps(), 'small/teacher');
  const random = run(mlps(), 'small/random');
  for (const s of teacher) {
    assert.ok(num(s.lossEnd) < 0.4 * s.lossStart, `teacher seed ${s.seed}: ${s.lossStart} → ${s.lossEnd}`);
    assert.ok(num(s.lossHeldOut) < 0.6 * s.lossStart, `teacher seed ${s.seed}: held out ${s.lossHeldOut}`);
  }
  for (const s of random) {
    assert.ok(num(s.lossEnd) > 0.6 * s.lossStart, `random seed ${s.seed}: ${s.lossStart} → ${s.lossEnd}`);
    assert.ok(num(s.lossHeldOut) > 0.9 * s.lossStart, `random seed ${s.seed}: held out ${s.lossHeldOut}`);
  }
});

test('(c) on 784 inputs with 512 rows both tasks are memorised (training loss alone does not tell them apart); the teacher\'s held-out loss is lower', { skip: skipReason }, () => {
  // Measured: training loss to 1 % of the start for both tasks; held-out 2.68–2.75 (teacher) against
  // 2.99–3.11 (random), paired by seed: a difference of 0.31–0.36.
  const teacher = run(mlps(), 'healthy/teacher');
  const random = run(mlps(), 'healthy/random');
  for (let i = 0; i < SEEDS.length; i++) {
    assert.ok(num(teacher[i].lossEnd) < 0.1 * teacher[i].lossStart, `teacher seed ${SEEDS[i]}`);
    assert.ok(num(random[i].lossEnd) < 0.1 * random[i].lossStart, `random seed ${SEEDS[i]}`);
    assert.ok(num(teacher[i].lossHeldOut) < num(random[i].lossHeldOut) - 0.15, `seed ${SEEDS[i]}: held out ${teacher[i].lossHeldOut} vs ${random[i].lossHeldOut}`);
  }
});

test('CNN conv16→pool→conv32→pool→fc64→fc10: fc64 dies partly under the teacher task too, like its He-init reference, so only the excess over the reference marks a bug', { skip: skipReason }, () => {
  // Measured fc64 dead fraction, step 0 → end (seeds 0–2): Glorot 23/20/16 % → 53/34/48 %; the He
  // reference (He normal everywhere, zero biases) 22/19/16 % → 69/38/48 % (seeds 3–5 alike, under
  // random targets too). Model − reference, paired by seed: step 0 +0.00…+0.02, end −0.16…0.00
  // (−0.19…−0.09 on seeds 3–5: per-seed noise is large at the end). With bias −3 on fc64: 100 %
  // dead from step 0; excess at the end 0.31/0.63/0.52.
  const model = run(cnns(), 'cnn');
  const reference = run(cnns(), 'cnn/reference');
  const buggy = run(cnns(), 'cnn/fc-bias-3');
  const fc = (s: ProbeSeed) => s.layers[2];
  assert.equal(fc(model[0]).type, 'dense');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rise = reference.map((s) => num(fc(s).deadEnd) - num(fc(s).deadStart));
  assert.ok(mean(rise) >= 0.15, `reference fc64 rise ${rise.join(', ')}`);
  const excess = (a: ProbeSeed[], key: 'deadStart' | 'deadEnd') => a.map((s, i) => num(fc(s)[key]) - num(fc(reference[i])[key]));
  for (const e of excess(model, 'deadStart')) assert.ok(Math.abs(e) <= 0.1, `healthy excess at step 0 ${e}`);
  for (const e of excess(buggy, 'deadStart')) assert.ok(e >= 0.6, `bias −3 excess at step 0 ${e}`);
  for (const e of excess(model, 'deadEnd')) assert.ok(Math.abs(e) <= 0.25, `healthy excess at the end ${e}`);
  assert.ok(Math.abs(mean(excess(model, 'deadEnd'))) <= 0.15, `healthy mean excess at the end ${excess(model, 'deadEnd')}`);
  assert.ok(mean(excess(buggy, 'deadEnd')) >= 0.35, `bias −3 mean excess at the end ${excess(buggy, 'deadEnd')}`);
});
