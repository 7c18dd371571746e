/** The decision guide as code: which changes are proposed, how they apply, how they are judged. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCandidate, candidateAddresses, judge, proposeCandidates, toSuggestion } from '../../src/core/analysis/suggestions';
import { DEFAULT_THRESHOLDS, type Finding } from '../../src/core/analysis/types';
import { mlp, spanAtLine, stack } from '../helpers/specs';

function finding(code: Finding['code'], layerIndex: number | null, severity: Finding['severity'] = 'error'): Finding {
  return { code, severity, layerIndex, span: spanAtLine(1), message: '', metrics: {}, suggestions: [] };
}

test('vanishing sigmoid stack: ReLU + He first, then ELU for a small network; the head is never swapped', () => {
  const model = stack('sigmoid', 4, 32, 16);
  const candidates = proposeCandidates(model, [finding('vanishing-gradient', 0)]);
  assert.deepEqual(candidates.map((c) => c.id), ['relu+heNormal', 'elu(1)+heNormal', 'batchnorm']);
  const relu = candidates[0];
  assert.deepEqual(relu.changes.map((c) => c.layerIndex), [0, 1, 2, 3]);
  assert.ok(relu.changes.every((c) => c.activation?.name === 'relu' && c.kernelInitializer?.name === 'heNormal'));
  const changed = applyCandidate(model, relu);
  assert.equal(changed.layers[4].activation.name, 'softmax');
  assert.equal(changed.layers[0].activation.name, 'relu');
  assert.equal(model.layers[0].activation.name, 'sigmoid', 'the original spec is not mutated');
});

test('large networks get Leaky ReLU rather than ELU as the second choice', () => {
  const model = stack('tanh', 4, 1024);
  const ids = proposeCandidates(model, [finding('vanishing-gradient', 0)]).map((c) => c.id);
  assert.deepEqual(ids, ['relu+heNormal', 'leakyRelu(0.01)+heNormal', 'batchnorm']);
});

test('saturation from an oversized initializer also proposes keeping tanh with Glorot init', () => {
  const model = mlp(784, [{ units: 64, activation: 'tanh', kernelInitializer: { name: 'randomNormal', stddev: 1 } }, { units: 10, activation: 'softmax' }]);
  const ids = proposeCandidates(model, [finding('saturated-activation', 0)]).map((c) => c.id);
  assert.ok(ids.includes('glorotUniform'));
  assert.equal(ids[0], 'relu+heNormal');
});

test('dead ReLUs with a negative constant bias: Leaky ReLU, ELU and a zero bias are proposed', () => {
  const model = mlp(784, [{ units: 64, activation: 'relu', biasInitializer: { name: 'constant', value: -3 } }, { units: 10, activation: 'softmax' }]);
  const dead = finding('dead-relu', 0);
  const candidates = proposeCandidates(model, [dead]);
  assert.deepEqual(candidates.map((c) => c.id), ['leakyRelu(0.01)+heNormal', 'elu(1)+heNormal', 'bias-zeros']);
  assert.ok(candidates.every((c) => candidateAddresses(model, c, dead)));
  const suggestion = toSuggestion(model, candidates[0], dead);
  assert.equal(suggestion.activation?.name, 'leakyRelu');
  assert.equal(suggestion.activation?.alpha, 0.01);
  assert.equal(suggestion.initializer?.name, 'heNormal');
});

test('a healthy model gets no candidates', () => {
  assert.deepEqual(proposeCandidates(stack('relu', 3, 32, 16), []), []);
});

test('judging: improved only when the finding no longer fires; one that moved but still fires, or brings a new error, is not', () => {
  const f = finding('vanishing-gradient', 0);
  const fixed = judge(f, { gradRatioToLast: 1e-6 }, { gradRatioToLast: 1.9 }, [], DEFAULT_THRESHOLDS);
  assert.equal(fixed.improved, true);
  assert.match(fixed.summary, /1\.0e-6 → 1\.9/);
  const same = judge(f, { gradRatioToLast: 1e-6 }, { gradRatioToLast: 2e-6 }, [finding('vanishing-gradient', 0)], DEFAULT_THRESHOLDS);
  assert.equal(same.improved, false);
  assert.match(same.summary, /the finding remains/);
  const moved = judge(f, { gradRatioToLast: 1e-6 }, { gradRatioToLast: 1e-4 }, [finding('vanishing-gradient', 0)], DEFAULT_THRESHOLDS);
  assert.equal(moved.improved, false, 'a 100× better ratio that still fires does not fix the finding');
  const sat = judge(finding('saturated-activation', 0), { saturatedFraction: 0.9 }, { saturatedFraction: 0.6 }, [finding('saturated-activation', 0, 'warning')], DEFAULT_THRESHOLDS);
  assert.equal(sat.improved, false, '0.9 → 0.6 is not halved and still fires');
  const newError = judge(finding('saturated-activation', 0), { saturatedFraction: 0.9 }, { saturatedFraction: 0 }, [finding('dead-relu', 0, 'error')], DEFAULT_THRESHOLDS);
  assert.equal(newError.improved, false, 'trading saturation for dead units is not an improvement');
});

test('BatchNorm is proposed where a swap is no fix, and applies without changing layer indices', () => {
  // A deep ReLU stack with vanishing gradients: no activation swap applies, BatchNorm does.
  const model = stack('relu', 4, 32, 16);
  const candidates = proposeCandidates(model, [finding('vanishing-gradient', 0)]);
  assert.deepEqual(candidates.map((c) => c.id), ['batchnorm']);
  const changed = applyCandidate(model, candidates[0]);
  assert.equal(changed.layers.length, model.layers.length);
  assert.deepEqual(changed.layers.map((l) => l.batchNormBeforeActivation ?? false), [true, true, true, true, false]);
});
