/**
 * Issue 11, findings you can trust: calibration against the canonical reference, the file's own
 * training set-up, head/loss findings, whole-network verification and ranking, and the probe task.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, summarize } from '../../src/core/analysis/rules';
import { evaluateHead, proposeHeadCandidates } from '../../src/core/analysis/headRules';
import { referencePlan } from '../../src/core/analysis/reference';
import { introducedFindings, judge, problemKey, rankSuggestions } from '../../src/core/analysis/suggestions';
import { DEFAULT_THRESHOLDS, type Finding, type Suggestion } from '../../src/core/analysis/types';
import type { ActivationName, LossSpec, ModelSpec, OptimizerSpec } from '../../src/core/model';
import type { LayerStats, ProbeSample, RunStats } from '../../src/core/stats';
import { resolveTraining } from '../../src/core/trainingSetup';
import { DEFAULT_TRAINING } from '../../src/engine/diagnose';
import { selectBackend } from '../../src/train/backends';
import { trainAndMeasure } from '../../src/train/trainer';
import { mlp, spanAtLine } from '../helpers/specs';

function probe(step: number, p: Partial<ProbeSample> = {}): ProbeSample {
  return { step, mean: 0, std: 1, min: -1, max: 1, preMean: 0, preStd: 1, saturatedFraction: 0, deadFraction: 0, inactiveFraction: 0.5, ...p };
}

/** A layer's stats with a step-0 and a last probe. */
function layer(index: number, activation: ActivationName, at0: Partial<ProbeSample>, last: Partial<ProbeSample>): LayerStats {
  return { index, name: `dense_${index}`, kind: 'dense', activation, hasKernel: true, gradNorms: [1, 1], probes: [probe(0, at0), probe(100, last)], histograms: [] };
}

function run(layers: LayerStats[]): RunStats {
  return { backend: { name: 'cpu', skipped: [] }, options: DEFAULT_TRAINING, stepsRun: 100, msPerStep: 1, totalMs: 1, parameterCount: 1, loss: [2.3, 1], layers };
}

const reluNet = mlp(8, [{ units: 64, activation: 'relu' }, { units: 64, activation: 'relu' }, { units: 10, activation: 'softmax' }]);

test('dead ReLUs are judged against the reference: the same share as the canonical network is no finding, an excess is', () => {
  const stats = run([layer(0, 'relu', { deadFraction: 0.15 }, { deadFraction: 0.6 }), layer(1, 'relu', {}, { deadFraction: 0.9 }), layer(2, 'softmax', {}, {})]);
  const reference = run([layer(0, 'relu', { deadFraction: 0.15 }, { deadFraction: 0.55 }), layer(1, 'relu', {}, { deadFraction: 0.05 }), layer(2, 'softmax', {}, {})]);
  const uncalibrated = evaluate(reluNet, stats, DEFAULT_THRESHOLDS).filter((f) => f.code === 'dead-relu');
  assert.deepEqual(uncalibrated.map((f) => [f.layerIndex, f.severity]), [[0, 'error'], [1, 'error']]);
  const calibrated = evaluate(reluNet, stats, DEFAULT_THRESHOLDS, { summaries: summarize(reference) }).filter((f) => f.code === 'dead-relu');
  assert.deepEqual(calibrated.map((f) => [f.layerIndex, f.severity]), [[1, 'error']]);
  assert.equal(calibrated[0].metrics.referenceDeadFraction, 0.05);
  assert.match(calibrated[0].message, /0% at initialisation: they became dead while training/);
  // A run that is its own reference never has an excess.
  assert.deepEqual(evaluate(reluNet, stats, DEFAULT_THRESHOLDS, { summaries: summarize(stats) }).filter((f) => f.code === 'dead-relu'), []);
});

test('dead at initialisation is told apart from dead during training; a small excess is a warning', () => {
  const stats = run([layer(0, 'relu', { deadFraction: 0.3 }, { deadFraction: 0.3 }), layer(1, 'relu', {}, {}), layer(2, 'softmax', {}, {})]);
  const reference = run([layer(0, 'relu', {}, { deadFraction: 0.05 }), layer(1, 'relu', {}, {}), layer(2, 'softmax', {}, {})]);
  const [finding] = evaluate(reluNet, stats, DEFAULT_THRESHOLDS, { summaries: summarize(reference) }).filter((f) => f.code === 'dead-relu');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /already 30% at initialisation, before any update/);
  assert.equal(finding.metrics.deadFractionStep0, 0.3);
});

test('a layer whose outputs are almost all 0 says so, and when: a negative bias leaves units barely alive', () => {
  const stats = run([layer(0, 'relu', { deadFraction: 0.12, inactiveFraction: 0.98 }, { deadFraction: 0.15, inactiveFraction: 0.99 }), layer(1, 'relu', {}, {}), layer(2, 'softmax', {}, {})]);
  const reference = run([layer(0, 'relu', {}, { deadFraction: 0, inactiveFraction: 0.5 }), layer(1, 'relu', {}, {}), layer(2, 'softmax', {}, {})]);
  const [finding] = evaluate(reluNet, stats, DEFAULT_THRESHOLDS, { summaries: summarize(reference) }).filter((f) => f.code === 'dead-relu');
  assert.equal(finding.severity, 'warning');
  assert.match(finding.message, /99% of all outputs are 0 \(already 98% at initialisation/);
  assert.match(finding.message, /canonical initialisation 0% of the units are dead and 50% of the outputs 0/);
});

test('saturation is calibrated the same way', () => {
  const tanhNet = mlp(8, [{ units: 64, activation: 'tanh' }, { units: 10, activation: 'softmax' }]);
  const stats = run([layer(0, 'tanh', { saturatedFraction: 0.8 }, { saturatedFraction: 1 }), layer(1, 'softmax', {}, {})]);
  const healthy = run([layer(0, 'tanh', {}, { saturatedFraction: 0.05 }), layer(1, 'softmax', {}, {})]);
  const alike = run([layer(0, 'tanh', { saturatedFraction: 0.7 }, { saturatedFraction: 0.9 }), layer(1, 'softmax', {}, {})]);
  const against = (ref: RunStats) => evaluate(tanhNet, stats, DEFAULT_THRESHOLDS, { summaries: summarize(ref) }).filter((f) => f.code === 'saturated-activation');
  assert.deepEqual(against(healthy).map((f) => f.severity), ['error']);
  assert.deepEqual(against(alike), []);
});

test('the reference plan: explicit initialisers become canonical and explicit biases 0, the framework defaults stay, the rate is capped at the default; a canonical run is its own reference', () => {
  const explicit = mlp(8, [
    { units: 64, activation: 'relu', kernelInitializer: { name: 'randomNormal', stddev: 1 }, biasInitializer: { name: 'constant', value: -3 } },
    { units: 64, activation: 'tanh', kernelInitializer: { name: 'randomNormal', stddev: 1 } },
    { units: 10, activation: 'softmax' },
  ]);
  const plan = referencePlan(explicit, 'adam', 1.0);
  assert.equal(plan.learningRate, 0.001);
  assert.deepEqual(plan.model.layers.map((l) => l.kernelInitializer?.name), ['heNormal', 'glorotUniform', 'glorotUniform']);
  assert.ok(plan.model.layers.every((l) => l.biasInitializer?.name === 'zeros'));
  assert.equal(plan.sameAsRun, false);
  const canonical = referencePlan(plan.model, 'adam', 0.001);
  assert.equal(canonical.sameAsRun, true);
  assert.equal(canonical.key, plan.key);
  assert.equal(referencePlan(plan.model, 'adam', 1e-4).learningRate, 1e-4);
  // Keras' and PyTorch's defaults are what textbook networks use: kept.
  assert.equal(referencePlan(reluNet, 'adam', 0.001).sameAsRun, true);
  const torchDefaults: ModelSpec = { ...mlp(8, [
    { units: 64, activation: 'relu', kernelInitializer: { name: 'torchDefaultKernel' }, biasInitializer: { name: 'torchDefaultBias' } },
    { units: 10, activation: 'linear', kernelInitializer: { name: 'torchDefaultKernel' }, biasInitializer: { name: 'torchDefaultBias' } },
  ]), format: 'pytorch-python' };
  assert.equal(referencePlan(torchDefaults, 'sgd', 0.01).sameAsRun, true);
  assert.equal(referencePlan(torchDefaults, 'sgd', 10).sameAsRun, false);
});

const optimizer = (o: Partial<OptimizerSpec> & Pick<OptimizerSpec, 'name'>): OptimizerSpec => ({ text: o.name, span: spanAtLine(20), ...o });
const loss = (l: Partial<LossSpec> & Pick<LossSpec, 'kind' | 'input'>): LossSpec => ({ text: l.kind, span: spanAtLine(21), ...l });
const withTraining = (model: ModelSpec, training: ModelSpec['training']): ModelSpec => ({ ...model, training });

test("the file's optimiser and rate are used, its framework's default rate when none is stated; explicit settings win", () => {
  const torchModel: ModelSpec = { ...reluNet, format: 'pytorch-python' };
  const stated = resolveTraining(withTraining(torchModel, { optimizer: optimizer({ name: 'adadelta', learningRate: 1.0 }) }), DEFAULT_TRAINING);
  assert.equal(stated.options.optimizer, 'adadelta');
  assert.equal(stated.options.learningRate, 1.0);
  assert.equal(stated.used.optimizerFrom, 'file');
  assert.equal(stated.used.optimizerLine, 20);
  const unstatedRate = resolveTraining(withTraining(reluNet, { optimizer: optimizer({ name: 'rmsprop' }) }), DEFAULT_TRAINING);
  assert.equal(unstatedRate.options.learningRate, 0.001);
  assert.equal(unstatedRate.used.learningRateFrom, 'framework-default');
  assert.equal(resolveTraining(withTraining(torchModel, { optimizer: optimizer({ name: 'rmsprop' }) }), DEFAULT_TRAINING).options.learningRate, 0.01);
  const flagRate = resolveTraining(withTraining(torchModel, { optimizer: optimizer({ name: 'sgd', learningRate: 0.1, momentum: 0.9 }) }), { ...DEFAULT_TRAINING, learningRate: 0.5 }, { learningRate: true });
  assert.deepEqual([flagRate.options.optimizer, flagRate.options.learningRate, flagRate.options.momentum], ['sgd', 0.5, 0.9]);
  const flagOptimizer = resolveTraining(withTraining(torchModel, { optimizer: optimizer({ name: 'sgd', learningRate: 0.1 }) }), DEFAULT_TRAINING, { optimizer: true });
  assert.deepEqual([flagOptimizer.options.optimizer, flagOptimizer.options.learningRate, flagOptimizer.used.optimizerFrom], ['adam', 0.001, 'setting']);
  const none = resolveTraining(reluNet, DEFAULT_TRAINING);
  assert.deepEqual([none.used.optimizerFrom, none.used.lossFrom, none.used.loss.kind], ['default', 'head', 'categoricalCrossentropy']);
});

const headNet = (activation: ActivationName, units: number, l?: Parameters<typeof loss>[0], inputs = 8, hidden = 16): ModelSpec => {
  const model = mlp(inputs, [{ units: hidden, activation: 'relu', kernelInitializer: { name: 'heNormal' } }, { units, activation }]);
  return l ? withTraining(model, { loss: loss(l) }) : model;
};

test('head/loss mismatches are findings with their fixes; right pairs are not', () => {
  const cases: [ModelSpec, string | undefined, string[]][] = [
    [headNet('softmax', 1), 'error', ['head:sigmoid+bce']],
    [headNet('softmax', 1, { kind: 'categoricalCrossentropy', input: 'probabilities' }), 'error', ['head:sigmoid+bce']],
    [headNet('relu', 10, { kind: 'categoricalCrossentropy', input: 'probabilities' }), 'error', ['head:softmax']],
    [headNet('linear', 10, { kind: 'categoricalCrossentropy', input: 'probabilities' }), 'error', ['head:softmax']],
    [headNet('sigmoid', 10, { kind: 'categoricalCrossentropy', input: 'probabilities' }), 'warning', ['head:softmax']],
    [headNet('softmax', 10, { kind: 'binaryCrossentropy', input: 'probabilities' }), 'warning', ['head:sigmoid', 'loss:categorical']],
    [headNet('softmax', 10, { kind: 'categoricalCrossentropy', input: 'logits', sparse: true }), 'warning', ['head:linear']],
    [headNet('sigmoid', 1, { kind: 'binaryCrossentropy', input: 'logits' }), 'warning', ['head:linear']],
    [headNet('sigmoid', 10, { kind: 'categoricalCrossentropy', input: 'logits', sparse: true }), 'warning', ['head:linear']],
    [headNet('relu', 1, { kind: 'binaryCrossentropy', input: 'logits' }), 'warning', ['head:linear']],
    [headNet('linear', 10, { kind: 'categoricalCrossentropy', input: 'logProbabilities', sparse: true }), 'error', ['head:softmax']],
    [headNet('softmax', 10), undefined, []],
    [headNet('linear', 10, { kind: 'categoricalCrossentropy', input: 'logits', sparse: true }), undefined, []],
    [headNet('sigmoid', 1, { kind: 'binaryCrossentropy', input: 'probabilities' }), undefined, []],
    [headNet('softmax', 10, { kind: 'categoricalCrossentropy', input: 'probabilities' }), undefined, []],
    [headNet('linear', 3, { kind: 'meanSquaredError', input: 'values' }), undefined, []],
  ];
  for (const [model, severity, fixes] of cases) {
    const findings = evaluateHead(model);
    const what = `${model.layers.at(-1)?.activation.name}/${model.layers.at(-1)?.units} with ${model.training?.loss?.kind ?? 'no loss'} ${model.training?.loss?.input ?? ''}`;
    assert.deepEqual(findings.map((f) => f.severity), severity ? [severity] : [], what);
    assert.deepEqual(proposeHeadCandidates(model, findings).map((c) => c.id), fixes, what);
    if (severity) assert.equal(findings[0].layerIndex, model.layers.length - 1);
  }
});

const finding = (code: Finding['code'], layerIndex: number | null, severity: Finding['severity'] = 'warning', line = 3): Finding => ({
  code, severity, layerIndex, message: '', metrics: {}, suggestions: [],
  span: { start: { line, column: 1, offset: line * 10 }, end: { line, column: 5, offset: line * 10 + 4 } },
});

test('verification judges the whole network: a fix that brings a new warning elsewhere is not verified', () => {
  const dead = finding('dead-relu', 0);
  const baseline = [dead, finding('not-zero-centred', 1, 'info')];
  const clean = judge(dead, { deadFraction: 0.6 }, { deadFraction: 0 }, [finding('not-zero-centred', 1, 'info')], DEFAULT_THRESHOLDS, { initial: 2.3, before: 1, after: 0.5 }, baseline);
  assert.equal(clean.improved, true);
  const trades = judge(dead, { deadFraction: 0.6 }, { deadFraction: 0 }, [finding('saturated-activation', 2)], DEFAULT_THRESHOLDS, { initial: 2.3, before: 1, after: 0.5 }, baseline, reluNet);
  assert.equal(trades.improved, false);
  assert.deepEqual(trades.introduced, ['saturated-activation at `dense_2`']);
  assert.match(trades.summary, /but it brings saturated-activation/);
  const remains = judge(dead, { deadFraction: 0.6 }, { deadFraction: 0.25 }, [finding('dead-relu', 0)], DEFAULT_THRESHOLDS, { initial: 2.3, before: 1, after: 0.5 }, baseline);
  assert.equal(remains.improved, false);
  // A finding the baseline had at the same or higher severity is not new.
  assert.deepEqual(introducedFindings([finding('dead-relu', 1, 'error')], [finding('dead-relu', 1, 'warning')]), []);
  assert.equal(introducedFindings([finding('dead-relu', 1, 'warning')], [finding('dead-relu', 1, 'error')]).length, 1);
});

const suggestion = (id: string, improved: boolean, finalLoss: number, change: Suggestion['changes'][number]): Suggestion => ({
  id, label: id, rationale: '', changes: [change],
  verified: { improved, before: {}, after: {}, summary: '', clears: improved, finalLoss },
});

test('ranking by outcome; the fix of the cause first when it does at least as well', () => {
  const leaky = suggestion('leaky', true, 0.42, { layerIndex: 0, activation: { name: 'leakyRelu', alpha: 0.01 } });
  const elu = suggestion('elu', true, 0.2, { layerIndex: 0, activation: { name: 'elu' } });
  const bias = suggestion('bias-zeros', true, 0.0093, { layerIndex: 0, biasInitializer: { name: 'zeros' } });
  const failed = suggestion('bn', false, 0.001, { layerIndex: 0, batchNormBeforeActivation: true });
  assert.deepEqual(rankSuggestions([leaky, elu, failed, bias]).map((s) => s.id), ['bias-zeros', 'elu', 'leaky', 'bn']);
  // Within 10 % of the best outcome the cause still goes first; far behind it does not.
  const init = suggestion('glorot', true, 0.21, { layerIndex: 0, kernelInitializer: { name: 'glorotUniform' } });
  assert.deepEqual(rankSuggestions([elu, init]).map((s) => s.id), ['glorot', 'elu']);
  const poorInit = suggestion('glorot', true, 0.5, { layerIndex: 0, kernelInitializer: { name: 'glorotUniform' } });
  assert.deepEqual(rankSuggestions([poorInit, elu]).map((s) => s.id), ['elu', 'glorot']);
  // ... unless training ends no worse than as written.
  const holdsInit = { ...poorInit, verified: { ...poorInit.verified!, finalLossBefore: 0.6 } };
  assert.deepEqual(rankSuggestions([elu, holdsInit]).map((s) => s.id), ['glorot', 'elu']);
  // BatchNorm adds layers: it needs half the loss of a simpler verified change to go first.
  const bn = suggestion('bn', true, 0.15, { layerIndex: 0, batchNormBeforeActivation: true });
  assert.deepEqual(rankSuggestions([bn, elu]).map((s) => s.id), ['elu', 'bn']);
  const muchBetterBn = suggestion('bn', true, 0.05, { layerIndex: 0, batchNormBeforeActivation: true });
  assert.deepEqual(rankSuggestions([elu, muchBetterBn]).map((s) => s.id), ['bn', 'elu']);
});

test('problems, not rows: one loop line is one problem, vanishing gradients over many layers are one', () => {
  const keys = new Set([
    finding('dead-relu', 0, 'warning', 5), finding('dead-relu', 2, 'warning', 5), finding('dead-relu', 4, 'warning', 6),
    finding('vanishing-gradient', 0), finding('vanishing-gradient', 2), finding('vanishing-gradient', 4),
  ].map(problemKey));
  assert.equal(keys.size, 3);
});

const QUICK = { ...DEFAULT_TRAINING, steps: 100, threads: 1, probeEvery: 50 };

test('the probe task is learnable: the loss of a healthy MLP falls well below where it starts', async () => {
  const backend = await selectBackend('wasm');
  const model = mlp(32, [{ units: 64, activation: 'relu', kernelInitializer: { name: 'heNormal' } }, { units: 10, activation: 'softmax' }]);
  const stats = await trainAndMeasure(model, QUICK, backend, 1e6);
  const first = stats.loss[0];
  const last = stats.loss.at(-1) ?? NaN;
  assert.ok(last < 0.6 * first, `teacher task loss ${first} → ${last}`);
});

test('a one-unit softmax trains without an internal error: loss 0 and no gradient, as in the frameworks', async () => {
  const backend = await selectBackend('wasm');
  const stats = await trainAndMeasure(headNet('softmax', 1), { ...QUICK, steps: 5 }, backend, 1e6);
  assert.ok(stats.loss.every((l) => l === 0), stats.loss.join());
  assert.ok(stats.layers[0].gradNorms.every((g) => g === 0));
});

test('a softmax before a loss on logits trains as a double softmax: its loss stays far above the right pair', async () => {
  const backend = await selectBackend('wasm');
  const logitsLoss = { kind: 'categoricalCrossentropy' as const, input: 'logits' as const, sparse: true };
  const doubled = await trainAndMeasure(headNet('softmax', 10, logitsLoss, 32, 64), QUICK, backend, 1e6);
  const right = await trainAndMeasure(headNet('linear', 10, logitsLoss, 32, 64), QUICK, backend, 1e6);
  const end = (s: RunStats) => s.loss.at(-1) ?? NaN;
  // log(10) ≈ 2.30 is the loss of a uniform guess. Probabilities in [0, 1] as logits give a
  // softmax no further from uniform than e¹ : e⁰, so the doubled loss stays above
  // −log(e / (e + 9)) ≈ 1.46 and learns slowly; measured here 2.34 → 2.13 against 3.0 → 1.71.
  assert.ok(end(doubled) > 1.9, `double softmax ended at ${end(doubled)}`);
  assert.ok(end(right) < end(doubled) - 0.25, `right pair ${end(right)} vs double ${end(doubled)}`);
});
