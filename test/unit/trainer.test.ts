/**
 * The trainer against oracles: gradient norms against finite differences on tiny networks,
 * every activation trains on wasm, runs are reproducible, RReLU behaves as specified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_NAMES } from '../../src/core/model';
import { selectBackend } from '../../src/train/backends';
import { buildModel } from '../../src/train/buildModel';
import { createActivationLayer } from '../../src/train/activations';
import { gradientReadout, trainAndMeasure } from '../../src/train/trainer';
import { DEFAULT_TRAINING } from '../../src/engine/diagnose';
import { mlp, spanAtLine } from '../helpers/specs';
import { loadModelFile } from '../../src/core/parse/index';

type Matrix = number[][];

function matmulAddBias(x: Matrix, w: Matrix, b: number[]): Matrix {
  return x.map((row) => b.map((bias, j) => row.reduce((s, v, i) => s + v * w[i][j], bias)));
}

/** Reads a 2-D kernel [in, out] or bias [out] back as float64 arrays. */
function weightsOf(model: tf.LayersModel): number[][][] {
  return model.getWeights().map((w) => {
    const flat = Array.from(w.dataSync(), Number);
    if (w.shape.length === 1) return [flat];
    const [rows, cols] = w.shape as [number, number];
    return Array.from({ length: rows }, (_, r) => flat.slice(r * cols, (r + 1) * cols));
  });
}

/** Finite-difference ‖∂L/∂W‖ for every kernel of a 2-layer net; `loss` is computed in float64. */
function finiteDifferenceNorms(weights: number[][][], loss: (w: number[][][]) => number): number[] {
  const h = 1e-6;
  const norms: number[] = [];
  for (const k of [0, 2]) {
    let sum = 0;
    for (let i = 0; i < weights[k].length; i++) {
      for (let j = 0; j < weights[k][i].length; j++) {
        const saved = weights[k][i][j];
        weights[k][i][j] = saved + h;
        const up = loss(weights);
        weights[k][i][j] = saved - h;
        const down = loss(weights);
        weights[k][i][j] = saved;
        sum += ((up - down) / (2 * h)) ** 2;
      }
    }
    norms.push(Math.sqrt(sum));
  }
  return norms;
}

const X: Matrix = [[0.5, -1.2, 0.3], [1.5, 0.2, -0.7], [-0.4, 0.9, 1.1], [0.0, -0.3, -1.8], [2.0, 1.0, 0.5]];

test('gradient norms match finite differences: tanh hidden layer, linear head, mean squared error', async () => {
  assert.equal((await selectBackend('cpu')).name, 'cpu');
  const spec = mlp(3, [{ units: 4, activation: 'tanh', biasInitializer: { name: 'randomNormal', stddev: 0.5 } }, { units: 2, activation: 'linear' }]);
  const built = buildModel(spec, 3);
  const Y: Matrix = [[0.1, -0.5], [1.0, 0.3], [-0.2, 0.8], [0.5, 0.5], [-1.0, 0.0]];
  const weights = weightsOf(built.trainModel);
  const loss = (w: number[][][]) => {
    const hidden = matmulAddBias(X, w[0], w[1][0]).map((r) => r.map(Math.tanh));
    const out = matmulAddBias(hidden, w[2], w[3][0]);
    return out.reduce((s, r, i) => s + r.reduce((t, v, j) => t + (v - Y[i][j]) ** 2, 0), 0) / (X.length * 2);
  };
  const expected = finiteDifferenceNorms(weights, loss);
  const kernels = built.kernels.filter((k): k is tf.Variable => !!k);
  const values = tf.tidy(() => gradientReadout(built, built.trainModel.trainableWeights.map((w) => w.read() as tf.Variable), kernels, tf.tensor2d(X), tf.tensor2d(Y)).readout.arraySync());
  assert.ok(Math.abs(values[0] - loss(weights)) < 1e-5, `loss ${values[0]} vs ${loss(weights)}`);
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(values[k + 1] - expected[k]) / expected[k] < 1e-3, `kernel ${k}: ${values[k + 1]} vs ${expected[k]}`);
  }
  built.trainModel.dispose();
});

test('gradient norms match finite differences: sigmoid hidden layer, softmax cross-entropy head', async () => {
  await selectBackend('cpu');
  const spec = mlp(3, [{ units: 4, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }]);
  const built = buildModel(spec, 5);
  const labels = [0, 2, 1, 1, 0];
  const Y: Matrix = labels.map((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0)));
  const weights = weightsOf(built.trainModel);
  const loss = (w: number[][][]) => {
    const hidden = matmulAddBias(X, w[0], w[1][0]).map((r) => r.map((v) => 1 / (1 + Math.exp(-v))));
    const logits = matmulAddBias(hidden, w[2], w[3][0]);
    // mean over the batch of −log softmax(z)[label]
    return logits.reduce((s, z, i) => s - (z[labels[i]] - Math.log(z.reduce((t, v) => t + Math.exp(v), 0))), 0) / X.length;
  };
  const expected = finiteDifferenceNorms(weights, loss);
  const kernels = built.kernels.filter((k): k is tf.Variable => !!k);
  const values = tf.tidy(() => gradientReadout(built, built.trainModel.trainableWeights.map((w) => w.read() as tf.Variable), kernels, tf.tensor2d(X), tf.tensor2d(Y)).readout.arraySync());
  assert.ok(Math.abs(values[0] - loss(weights)) < 1e-5);
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(values[k + 1] - expected[k]) / expected[k] < 1e-3, `kernel ${k}: ${values[k + 1]} vs ${expected[k]}`);
  }
  built.trainModel.dispose();
});

const QUICK = { ...DEFAULT_TRAINING, steps: 4, batchSize: 16, probeEvery: 2, probeSize: 32 };

test('every activation of the guide trains on wasm with finite loss and gradients', async () => {
  const backend = await selectBackend('wasm');
  assert.equal(backend.name, 'wasm');
  for (const name of ACTIVATION_NAMES) {
    const spec = mlp(8, [{ units: 16, activation: name, alpha: name === 'leakyRelu' ? 0.1 : undefined }, { units: 12, activation: name }, { units: 4, activation: 'softmax' }]);
    const stats = await trainAndMeasure(spec, QUICK, backend, 1e6);
    assert.equal(stats.stepsRun, 4, name);
    assert.ok(stats.loss.every(Number.isFinite), `${name}: loss ${stats.loss}`);
    assert.ok(stats.layers[0].gradNorms.every((g) => Number.isFinite(g) && g > 0), `${name}: grads ${stats.layers[0].gradNorms}`);
  }
});

test('runs are reproducible for a seed and differ across seeds', async () => {
  const backend = await selectBackend('wasm');
  const spec = mlp(20, [{ units: 16, activation: 'relu' }, { units: 3, activation: 'softmax' }]);
  const a = await trainAndMeasure(spec, QUICK, backend, 1e6);
  const b = await trainAndMeasure(spec, QUICK, backend, 1e6);
  const c = await trainAndMeasure(spec, { ...QUICK, seed: 7 }, backend, 1e6);
  assert.deepEqual(a.loss, b.loss);
  assert.deepEqual(a.layers[0].gradNorms, b.layers[0].gradNorms);
  assert.notDeepEqual(a.loss, c.loss);
});

test('the trainer leaves no tensors behind', async () => {
  const backend = await selectBackend('wasm');
  const spec = mlp(20, [{ units: 16, activation: 'rrelu' }, { units: 3, activation: 'softmax' }]);
  await trainAndMeasure(spec, QUICK, backend, 1e6);
  const before = tf.memory().numTensors;
  await trainAndMeasure(spec, QUICK, backend, 1e6);
  assert.equal(tf.memory().numTensors, before);
});

test('models above the parameter cap are refused before training, with the size named', async () => {
  const backend = await selectBackend('wasm');
  const spec = mlp(1000, [{ units: 1000, activation: 'relu' }, { units: 10, activation: 'softmax' }]);
  await assert.rejects(trainAndMeasure(spec, QUICK, backend, 100_000), /1,011,010 trainable parameters, above the cap of 100,000/);
});

test('models whose activations cannot fit are refused before any data is made, the largest layer named', async () => {
  const backend = await selectBackend('wasm');
  // Few weights (about 2,000) but 384×384×64 values per sample in the convolution's output.
  const source = [
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    'model = keras.Sequential([keras.Input(shape=(384, 384, 3)), layers.Conv2D(64, 3, padding="same", activation="relu"),',
    '    layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")])',
  ].join('\n');
  const spec = (await loadModelFile(source, 'big.py')).models[0];
  const before = tf.memory().numTensors;
  await assert.rejects(trainAndMeasure(spec, QUICK, backend, 1e6), (error: Error) => {
    assert.equal(error.constructor.name, 'ModelTooLargeError');
    assert.match(error.message, /would need about \d+(\.\d)? GiB to train on 32 samples at once \(limit 2\.0 GiB\)/);
    assert.match(error.message, /the most in conv2d\w* \(9,437,184\)/);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'the built model was not disposed');
});

test('RReLU: a random slope per unit in [lower, upper] in training, the mean slope at inference', async () => {
  await selectBackend('cpu');
  const layer = createActivationLayer({ name: 'rrelu', lower: 0.1, upper: 0.3 }, 'rrelu_test', 1)!;
  const x = tf.fill([50, 6], -1);
  const trained = (layer.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][];
  const inferred = (layer.apply(x, { training: false }) as tf.Tensor).arraySync() as number[][];
  for (let unit = 0; unit < 6; unit++) {
    const slopes = new Set(trained.map((row) => row[unit]));
    assert.equal(slopes.size, 1, 'one slope per unit, shared across the batch');
    const slope = -trained[0][unit];
    assert.ok(slope >= 0.1 && slope <= 0.3, `slope ${slope}`);
  }
  assert.ok(new Set(trained[0]).size > 1, 'units get different slopes');
  assert.ok(inferred.flat().every((v) => Math.abs(v + 0.2) < 1e-6));
  const positive = (layer.apply(tf.fill([2, 6], 2), { training: true }) as tf.Tensor).arraySync() as number[][];
  assert.ok(positive.flat().every((v) => v === 2));
});

test('ELU with α ≠ 1 (TensorFlow.js refuses it): α(eˣ − 1) below 0, x above, with its gradient, and it trains', async () => {
  const backend = await selectBackend('wasm');
  const layer = createActivationLayer({ name: 'elu', alpha: 0.5 }, 'elu_half', 1)!;
  const x = tf.tensor1d([-2, -0.5, 0, 1.5]);
  const y = (layer.apply(x) as tf.Tensor).arraySync() as number[];
  const expected = [0.5 * (Math.exp(-2) - 1), 0.5 * (Math.exp(-0.5) - 1), 0, 1.5];
  y.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `f(${x.arraySync()[i]}) = ${v}, expected ${expected[i]}`));
  const slope = (tf.grad((t: tf.Tensor) => layer.apply(t) as tf.Tensor)(tf.tensor1d([-1, 2])).arraySync()) as number[];
  assert.ok(Math.abs(slope[0] - 0.5 * Math.exp(-1)) < 1e-6 && Math.abs(slope[1] - 1) < 1e-6, `slopes ${slope}`);
  const spec = mlp(8, [{ units: 16, activation: 'elu', alpha: 0.5 }, { units: 4, activation: 'softmax' }]);
  const stats = await trainAndMeasure(spec, QUICK, backend, 1e6);
  assert.ok(stats.loss.every(Number.isFinite));
});

test('a BatchNorm what-if (before the activation) builds and trains with the same probe layout', async () => {
  const backend = await selectBackend('wasm');
  const base = mlp(8, [{ units: 16, activation: 'sigmoid' }, { units: 4, activation: 'softmax' }]);
  const withBn = { ...base, layers: base.layers.map((l, i) => (i === 0 ? { ...l, batchNormBeforeActivation: true } : l)) };
  const stats = await trainAndMeasure(withBn, QUICK, backend, 1e6);
  assert.equal(stats.layers.length, 2);
  assert.ok(stats.loss.every(Number.isFinite));
  // After BatchNorm the sigmoid's inputs are standardised: mean ≈ 0, std ≈ 1 (batch statistics).
  const last = stats.layers[0].probes.at(-1)!;
  assert.ok(Math.abs(last.preMean) < 0.2 && Math.abs(last.preStd - 1) < 0.2, `pre ${last.preMean} ± ${last.preStd}`);
});

test('a frozen layer is not trained: its gradient is not measured, its outputs do not move, the layers around it train', async () => {
  const backend = await selectBackend('wasm');
  const plain = mlp(12, [{ units: 16, activation: 'tanh' }, { units: 16, activation: 'tanh' }, { units: 3, activation: 'softmax' }]);
  const spec = { ...plain, layers: plain.layers.map((l) => (l.index === 0 ? { ...l, frozen: true } : l)) };
  const stats = await trainAndMeasure(spec, { ...QUICK, steps: 6, probeEvery: 3 }, backend, 1e6);
  const [frozen, middle] = stats.layers;
  assert.equal(frozen.frozen, true);
  assert.equal(frozen.hasKernel, false);
  assert.deepEqual(frozen.gradNorms, []);
  assert.ok(middle.gradNorms.length === 6 && middle.gradNorms.every((g) => g > 0), `${middle.gradNorms}`);
  // The probe batch is the same at every probe: a frozen layer's pre-activations are identical,
  // the next layer's (whose weights train) are not.
  const first = frozen.probes[0];
  const last = frozen.probes[frozen.probes.length - 1];
  assert.ok(last.step > first.step);
  assert.deepEqual([last.preMean, last.preStd], [first.preMean, first.preStd]);
  assert.notDeepEqual([middle.probes[middle.probes.length - 1].preMean, middle.probes[middle.probes.length - 1].preStd], [middle.probes[0].preMean, middle.probes[0].preStd]);
  // Nothing left to train is refused with the reason, not run.
  const allFrozen = { ...plain, layers: plain.layers.map((l) => ({ ...l, frozen: true })) };
  await assert.rejects(trainAndMeasure(allFrozen, QUICK, backend, 1e6), /Every layer of model "model" that has weights is frozen/);
});

test('PReLU learns one slope per unit, per channel or one shared, as the spec says', async () => {
  await selectBackend('cpu');
  const conv = (slopes?: 'perChannel' | 'shared'): number => {
    const spec = {
      ...mlp(1, []),
      inputShape: [6, 6, 2],
      layers: [
        { index: 0, kind: 'conv2d' as const, name: 'conv', filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'valid' as const, activation: { name: 'prelu' as const, alpha: 0.25, ...(slopes ? { slopes } : {}) }, useBias: true, source: { span: spanAtLine(2) } },
        { index: 1, kind: 'flatten' as const, name: 'flatten', activation: { name: 'linear' as const }, source: { span: spanAtLine(2) } },
        { index: 2, kind: 'dense' as const, name: 'head', units: 2, activation: { name: 'softmax' as const }, useBias: true, source: { span: spanAtLine(2) } },
      ],
    };
    const built = buildModel(spec, 1);
    const slopesCount = built.trainModel.layers.find((l) => l.name === 'L0_act')?.countParams() ?? -1;
    built.trainModel.dispose();
    return slopesCount;
  };
  // A 3×3 valid convolution of 6×6 gives 4×4×3 outputs: 48 slopes per unit, 3 per channel, 1 shared.
  assert.deepEqual([conv(), conv('perChannel'), conv('shared')], [48, 3, 1]);
  const torch = await loadModelFile('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 8), nn.PReLU(), nn.Linear(8, 8), nn.PReLU(num_parameters=8), nn.Linear(8, 2))\n', 'prelu.py');
  assert.deepEqual(torch.models[0].layers.filter((l) => l.activation.name === 'prelu').map((l) => l.activation.slopes), ['shared', 'perChannel']);
  assert.deepEqual(torch.models[0].problems, []);
});
