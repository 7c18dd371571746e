/** The report's data-to-chart logic, on a hand-built model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, fractions, gradientFlow, gradientsOverSteps, groupFindings, histograms, logSafe, losses, tableRows } from '../../webview/chartData';
import type { ReportModel } from '../../src/protocol/reportData';

const layer = (index: number, activation: string, hasKernel: boolean, extra = {}) => ({
  index, name: `l${index}`, kind: hasKernel ? 'dense' : 'dropout', activation, line: 10 + index, hasKernel, frozen: false,
  gradNorm: hasKernel ? 10 ** -index : null, gradRatioToLast: hasKernel ? 10 ** -index : null,
  saturatedFraction: 0.25 * index, deadFraction: 0, inactiveFraction: 0.5, mean: 0.1, std: 1, ...extra,
});

const MODEL: ReportModel = {
  name: 'm', line: 1, backend: 'wasm', skippedBackends: [], steps: 3, batchSize: 8, seed: 0, msPerStep: 1, totalMs: 10, parameters: 100, data: 'synthetic',
  layers: [layer(0, 'sigmoid', true), layer(1, 'linear', false), layer(2, 'softmax', true)],
  gradNormsByStep: [[1e-6, 0, 2e-6], null, [1, 0.5, 0.25]],
  histograms: [
    { layerIndex: 0, step: 0, edges: [0, 1, 2], counts: [5, 5], mean: 1 },
    { layerIndex: 0, step: 3, edges: [0, 0.5, 1, 1.5], counts: [1, 2, 3], mean: 1.2 },
  ],
  runs: [
    { id: 'baseline', label: 'as written', loss: [2, 1.9, null], gradNormFirst: [1e-6, null, 1], gradNormLast: [2e-6, null, 0.25] },
    { id: 'relu+heNormal', label: 'ReLU', improved: true, loss: [2, 1, 0.5], gradNormFirst: [0.5, null, 1], gradNormLast: [0.4, null, 0.3] },
    { id: 'elu', label: 'ELU', improved: false, loss: [2, 2, 2], gradNormFirst: [1e-6, null, 1], gradNormLast: [1e-6, null, 1] },
  ],
  findings: [
    { code: 'not-zero-centred', severity: 'info', layerIndex: 0, line: 10, message: 'a', suggestions: [] },
    { code: 'vanishing-gradient', severity: 'warning', layerIndex: 0, line: 10, message: 'b', suggestions: [] },
    { code: 'vanishing-gradient', severity: 'error', layerIndex: 1, line: 10, message: 'c', suggestions: [] },
  ],
  thresholds: { saturatedWarnFraction: 0.5, deadWarnFraction: 0.1, vanishingErrorRatio: 1e-3 },
};

test('log-safe values: zero, negative and non-finite become gaps', () => {
  assert.deepEqual([logSafe(0), logSafe(-1), logSafe(Number.NaN), logSafe(null), logSafe(2)], [null, null, null, null, 2]);
});

test('gradient flow: kernel layers only, baseline at step 0 and last, suggestions overlaid', () => {
  const flow = gradientFlow(MODEL);
  assert.deepEqual(flow.labels, ['0 l0', '2 l2']);
  assert.deepEqual(flow.series.map((s) => [s.label, s.values, s.style]), [
    ['as written, step 0', [1e-6, 1], 'solid'],
    ['as written, step 3', [2e-6, 0.25], 'dashed'],
    ['ReLU, step 0', [0.5, 1], 'solid'],
    ['ELU (no improvement), step 0', [1e-6, 1], 'dashed'],
  ]);
});

test('gradients over steps keep gaps for zero norms', () => {
  const steps = gradientsOverSteps(MODEL);
  assert.deepEqual(steps.labels, ['1', '2', '3']);
  assert.deepEqual(steps.series[0].values, [1e-6, null, 2e-6]);
});

test('fractions in percent with constant threshold lines', () => {
  const f = fractions(MODEL);
  assert.deepEqual(f.series[0].values, [0, 25, 50]);
  assert.deepEqual(f.series[2].values, [50, 50, 50]);
  assert.equal(f.series[2].style, 'threshold');
});

test('histograms: last probe only, bin centres and the bin holding the mean', () => {
  const [h] = histograms(MODEL);
  assert.deepEqual(h.binCentres, [0.25, 0.75, 1.25]);
  assert.equal(h.meanBin, 2);
  assert.equal(histograms(MODEL).length, 1);
});

test('loss series per run, failing suggestions dashed', () => {
  const l = losses(MODEL);
  assert.deepEqual(l.series.map((s) => [s.label, s.style]), [['as written', 'solid'], ['ReLU', 'solid'], ['ELU (no improvement)', 'dashed']]);
});

test('table rows and grouped findings', () => {
  assert.deepEqual(tableRows(MODEL)[1], ['1', 'l1', '11', 'linear', '–', '–', '0.25', '0', '0.5', '0.1', '1']);
  // A frozen layer says so where its gradient would be.
  const frozen = { ...MODEL, layers: [layer(0, 'relu', false, { frozen: true })] };
  assert.deepEqual(tableRows(frozen)[0].slice(4, 6), ['frozen', 'frozen']);
  assert.equal(formatNumber(5.995e-6), '5.995e-6');
  assert.equal(formatNumber(0.123456), '0.1235');
  const groups = groupFindings(MODEL);
  assert.deepEqual(groups.map((g) => [g.code, g.severity, g.layers]), [['vanishing-gradient', 'error', [0, 1]], ['not-zero-centred', 'info', [0]]]);
});
