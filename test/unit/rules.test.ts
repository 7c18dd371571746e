/** Rules on hand-built statistics: each finding fires on the numbers it is about, and only then. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, geometricMean, summarize } from '../../src/core/analysis/rules';
import { DEFAULT_THRESHOLDS } from '../../src/core/analysis/types';
import type { ActivationName } from '../../src/core/model';
import type { LayerStats, ProbeSample, RunStats } from '../../src/core/stats';
import { DEFAULT_TRAINING } from '../../src/engine/diagnose';
import { mlp } from '../helpers/specs';

function probe(p: Partial<ProbeSample> = {}): ProbeSample {
  return { step: 0, mean: 0, std: 1, min: -1, max: 1, preMean: 0, preStd: 1, saturatedFraction: 0, deadFraction: 0, inactiveFraction: 0.5, ...p };
}

function layerStats(index: number, activation: ActivationName, gradNorm: number, p: Partial<ProbeSample> = {}): LayerStats {
  return { index, name: `dense_${index}`, kind: 'dense', activation, hasKernel: true, gradNorms: [gradNorm, gradNorm], probes: [probe(p)], histograms: [] };
}

function run(layers: LayerStats[], extra: Partial<RunStats> = {}): RunStats {
  return {
    backend: { name: 'cpu', skipped: [] }, options: DEFAULT_TRAINING, stepsRun: 2, msPerStep: 1, totalMs: 2,
    parameterCount: 10, loss: [2.3, 2.2], layers, ...extra,
  };
}

const model3 = (a: ActivationName, b: ActivationName) =>
  mlp(8, [{ units: 8, activation: a }, { units: 8, activation: b }, { units: 10, activation: 'softmax' }]);

test('geometric mean ignores zeros and non-finite values', () => {
  assert.ok(Math.abs(geometricMean([1e-6, 1e-2]) / 1e-4 - 1) < 1e-12);
  assert.ok(Math.abs(geometricMean([0, 4, Number.NaN, 1]) - 2) < 1e-12);
  assert.equal(geometricMean([]), 0);
});

test('vanishing gradient: error below 1e-3 of the last layer, warning below 1e-2, nothing above', () => {
  const stats = run([layerStats(0, 'sigmoid', 1e-7), layerStats(1, 'sigmoid', 5e-3), layerStats(2, 'softmax', 1)]);
  const findings = evaluate(model3('sigmoid', 'sigmoid'), stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'vanishing-gradient');
  assert.deepEqual(findings.map((f) => [f.layerIndex, f.severity]), [[0, 'error'], [1, 'warning']]);
  assert.ok(Math.abs(findings[0].metrics.gradRatioToLast - 1e-7) < 1e-12);
  const healthy = run([layerStats(0, 'relu', 1.5), layerStats(1, 'relu', 1.2), layerStats(2, 'softmax', 1)]);
  assert.equal(evaluate(model3('relu', 'relu'), healthy, DEFAULT_THRESHOLDS).filter((f) => f.code === 'vanishing-gradient').length, 0);
});

test('thresholds can be overridden', () => {
  const stats = run([layerStats(0, 'sigmoid', 5e-3), layerStats(1, 'sigmoid', 1), layerStats(2, 'softmax', 1)]);
  const strict = { ...DEFAULT_THRESHOLDS, vanishingWarnRatio: 1e-3 };
  assert.equal(evaluate(model3('sigmoid', 'sigmoid'), stats, strict).filter((f) => f.code === 'vanishing-gradient').length, 0);
});

test('exploding gradient from the ratio, from the loss, and non-finite values', () => {
  const stats = run([layerStats(0, 'relu', 500), layerStats(1, 'relu', 2), layerStats(2, 'softmax', 1)], { loss: [2, 5000] });
  const findings = evaluate(model3('relu', 'relu'), stats, DEFAULT_THRESHOLDS);
  assert.ok(findings.some((f) => f.code === 'exploding-gradient' && f.layerIndex === 0 && f.severity === 'warning'));
  assert.ok(findings.some((f) => f.code === 'exploding-gradient' && f.layerIndex === null && f.severity === 'error'));
  const nan = run([layerStats(0, 'relu', 1), layerStats(1, 'relu', 1), layerStats(2, 'softmax', 1)], { nonFinite: { step: 3, what: 'loss' } });
  const nf = evaluate(model3('relu', 'relu'), nan, DEFAULT_THRESHOLDS).find((f) => f.code === 'non-finite');
  assert.equal(nf?.severity, 'error');
  assert.match(nf?.message ?? '', /step 4/);
});

test('saturation fires for two-sided activations only, never on the output head', () => {
  const stats = run([layerStats(0, 'tanh', 1, { saturatedFraction: 0.93 }), layerStats(1, 'relu', 1, { saturatedFraction: 0.93 }), layerStats(2, 'softmax', 1, { saturatedFraction: 0.99 })]);
  const sat = evaluate(model3('tanh', 'relu'), stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'saturated-activation');
  assert.deepEqual(sat.map((f) => [f.layerIndex, f.severity]), [[0, 'error']]);
  const mild = run([layerStats(0, 'sigmoid', 1, { saturatedFraction: 0.6 }), layerStats(1, 'relu', 1), layerStats(2, 'softmax', 1)]);
  assert.equal(evaluate(model3('sigmoid', 'relu'), mild, DEFAULT_THRESHOLDS).find((f) => f.code === 'saturated-activation')?.severity, 'warning');
});

test('dead ReLU: dead units or mostly-inactive outputs, for ReLU but not for Leaky ReLU', () => {
  const stats = run([layerStats(0, 'relu', 1, { deadFraction: 0.6, inactiveFraction: 0.99 }), layerStats(1, 'leakyRelu', 1, { deadFraction: 0, inactiveFraction: 0.99 }), layerStats(2, 'softmax', 1)]);
  const dead = evaluate(model3('relu', 'leakyRelu'), stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'dead-relu');
  assert.deepEqual(dead.map((f) => [f.layerIndex, f.severity]), [[0, 'error']]);
  const healthy = run([layerStats(0, 'relu', 1, { deadFraction: 0.02, inactiveFraction: 0.5 }), layerStats(1, 'relu', 1), layerStats(2, 'softmax', 1)]);
  assert.equal(evaluate(model3('relu', 'relu'), healthy, DEFAULT_THRESHOLDS).filter((f) => f.code === 'dead-relu').length, 0);
});

test('not zero-centred: non-negative outputs with a large mean feeding more weights', () => {
  const stats = run([layerStats(0, 'sigmoid', 1, { mean: 0.5, std: 0.1, min: 0.2 }), layerStats(1, 'relu', 1, { mean: 0.4, std: 0.58, min: 0 }), layerStats(2, 'softmax', 1, { mean: 0.1, std: 0.01, min: 0 })]);
  const off = evaluate(model3('sigmoid', 'relu'), stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'not-zero-centred');
  assert.deepEqual(off.map((f) => f.layerIndex), [0]);
  assert.equal(off[0].severity, 'info');
  assert.equal(off[0].metrics.meanToStd, 5);
});

test('not zero-centred is left to the activation: a pooling or flatten layer after a ReLU is not flagged', () => {
  // relu dense → linear (pass-through, e.g. pooling) → dense → softmax: the pass-through layer's
  // outputs are ≥ 0 with a large mean, but it applies no nonlinearity of its own.
  const model = mlp(8, [{ units: 8, activation: 'relu' }, { units: 8, activation: 'linear' }, { units: 8, activation: 'tanh' }, { units: 10, activation: 'softmax' }]);
  const stats = run([
    layerStats(0, 'relu', 1, { mean: 0.4, std: 0.58, min: 0 }),
    layerStats(1, 'linear', 1, { mean: 0.9, std: 0.3, min: 0 }),
    layerStats(2, 'tanh', 1, { mean: 0, std: 0.5, min: -0.9 }),
    layerStats(3, 'softmax', 1, { mean: 0.1, std: 0.01, min: 0 }),
  ]);
  assert.deepEqual(evaluate(model, stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'not-zero-centred').map((f) => f.layerIndex), []);
});

test('summaries use the last layer with a kernel for the ratio', () => {
  const s = summarize(run([layerStats(0, 'relu', 2), layerStats(1, 'relu', 4), layerStats(2, 'softmax', 8)]));
  assert.deepEqual(s.map((x) => Number(x.gradRatioToLast.toFixed(12))), [0.25, 0.5, 1]);
});

test('stability: the first probe step from which the findings equal the final ones', async () => {
  const { stableFrom } = await import('../../src/core/analysis/stability');
  // Layer 0 vanishes (1e-7 of the last) from step 20 on; before that its gradient was healthy.
  const grads = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ...Array(40).fill(1e-12)];
  const probeSteps = [0, 10, 20, 30, 40, 50, 60];
  const layer = (index: number, activation: ActivationName, norms: number[]): LayerStats => ({
    index, name: `dense_${index}`, kind: 'dense', activation, hasKernel: true, gradNorms: norms, probes: probeSteps.map((step) => probe({ step })), histograms: [],
  });
  const stats = run([layer(0, 'sigmoid', grads), layer(1, 'sigmoid', Array(60).fill(1)), layer(2, 'softmax', Array(60).fill(1))], {
    stepsRun: 60, loss: Array(60).fill(2), elapsedMs: Array.from({ length: 60 }, (_, i) => (i + 1) * 10),
  });
  const stable = stableFrom(model3('sigmoid', 'sigmoid'), stats, DEFAULT_THRESHOLDS);
  // The geometric mean of layer 0 falls below 1e-3 × last once enough tiny steps accumulate.
  assert.ok(stable && stable.step > 10 && stable.step <= 60, JSON.stringify(stable));
  assert.equal(stable?.ms, stable ? stable.step * 10 : undefined);
  const healthy = run([layer(0, 'relu', Array(60).fill(1)), layer(1, 'relu', Array(60).fill(1)), layer(2, 'softmax', Array(60).fill(1))], { stepsRun: 60, loss: Array(60).fill(2) });
  assert.equal(stableFrom(model3('relu', 'relu'), healthy, DEFAULT_THRESHOLDS)?.step, 10, 'nothing ever fires: stable from the first probe');
});
