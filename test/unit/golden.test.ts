/**
 * Golden scenarios from the domain (activation-guide.md), end to end through the same path the
 * CLI and the extension use: Keras source → loader → trainer worker (dist/worker.js) → rules →
 * verified suggestions.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelFile } from '../../src/core/parse/index';
import { DEFAULT_DIAGNOSE_OPTIONS, DEFAULT_TRAINING, diagnoseLoaded, type ModelDiagnosis } from '../../src/engine/diagnose';
import { TrainerClient } from '../../src/engine/trainerClient';

const client = new TrainerClient();
after(() => client.dispose());

const OPTIONS = { ...DEFAULT_DIAGNOSE_OPTIONS, backend: 'wasm' as const, training: { ...DEFAULT_TRAINING, steps: 60 } };

async function diagnoseExample(name: string, verify = true): Promise<ModelDiagnosis> {
  const file = path.join(__dirname, '..', '..', 'examples', name);
  const loaded = await loadModelFile(fs.readFileSync(file, 'utf8'), file);
  assert.equal(loaded.models.length, 1, `${name}: ${JSON.stringify(loaded.problems)}`);
  const diagnosis = await diagnoseLoaded(file, loaded, client, { ...OPTIONS, verify });
  const model = diagnosis.models[0];
  assert.equal(model.error, undefined);
  assert.equal(model.stats?.backend.name, 'wasm');
  return model;
}

test('a 10-layer sigmoid MLP vanishes at its first layers; the verified ReLU/He swap lifts the ratio by orders of magnitude', async () => {
  const m = await diagnoseExample('deep_sigmoid.py');
  const first = m.findings.find((f) => f.code === 'vanishing-gradient' && f.layerIndex === 0);
  assert.ok(first, 'vanishing gradient at layer 0');
  assert.equal(first.severity, 'error');
  assert.ok(first.metrics.gradRatioToLast < 1e-4, `ratio ${first.metrics.gradRatioToLast}`);
  const relu = first.suggestions.find((s) => s.activation?.name === 'relu');
  assert.ok(relu?.verified, 'ReLU suggestion retrained');
  assert.equal(relu.initializer?.name, 'heNormal');
  assert.equal(relu.verified.improved, true);
  const gain = relu.verified.after.gradRatioToLast / relu.verified.before.gradRatioToLast;
  assert.ok(gain > 1e3, `first/last ratio gain ${gain}`);
  assert.equal(first.suggestions[0].verified?.improved, true, 'an improving suggestion ranks first');
  // The head (softmax) is never a swap target.
  assert.ok(first.suggestions.every((s) => s.changes.every((c) => c.layerIndex !== 9)));
});

test('a ReLU layer with bias −3 has dead units, and a verified fix revives them', async () => {
  const m = await diagnoseExample('dead_relu.py');
  const dead = m.findings.find((f) => f.code === 'dead-relu');
  assert.ok(dead, JSON.stringify(m.findings.map((f) => f.code)));
  assert.equal(dead.layerIndex, 0);
  assert.ok(dead.metrics.inactiveFraction > 0.9, `inactive ${dead.metrics.inactiveFraction}`);
  assert.ok(dead.suggestions.some((s) => s.id === 'bias-zeros'));
  assert.equal(dead.suggestions[0].verified?.improved, true);
});

test('tanh with an N(0, 1) kernel on 784 inputs saturates', async () => {
  const m = await diagnoseExample('saturated_tanh.py');
  const sat = m.findings.find((f) => f.code === 'saturated-activation' && f.layerIndex === 0);
  assert.ok(sat);
  assert.ok(sat.metrics.saturatedFraction > 0.8, `saturated ${sat.metrics.saturatedFraction}`);
  const verified = sat.suggestions.filter((s) => s.verified?.improved);
  assert.ok(verified.length > 0, 'at least one verified suggestion');
});

for (const example of ['healthy_relu.py', 'elu_mlp.py']) {
  test(`${example}: no error-level finding`, async () => {
    const m = await diagnoseExample(example, false);
    const errors = m.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors.map((f) => `${f.code}@${f.layerIndex}: ${f.message}`), []);
    const ratios = (m.summaries ?? []).filter((s) => s.hasKernel).map((s) => s.gradRatioToLast);
    assert.ok(ratios.every((r) => r > 0.05 && r < 20), `ratios ${ratios}`);
  });
}

test('a small CNN trains on wasm (Conv2D backprop on the project kernels)', async () => {
  const m = await diagnoseExample('small_cnn.py', false);
  assert.ok((m.stats?.loss ?? []).every(Number.isFinite));
  assert.ok((m.summaries ?? [])[0].gradNorm > 0);
});

test('turning native products off (and on) between runs takes effect at the next run, on a fresh worker', async () => {
  const own = new TrainerClient();
  try {
    const file = path.join(__dirname, '..', '..', 'examples', 'healthy_relu.py');
    const loaded = await loadModelFile(fs.readFileSync(file, 'utf8'), file);
    const devices: string[] = [];
    for (const native of [true, false, true]) {
      own.setNativeProducts(native);
      const diagnosis = await diagnoseLoaded(file, loaded, own, { ...OPTIONS, verify: false, training: { ...OPTIONS.training, steps: 3 } });
      devices.push(diagnosis.models[0].stats?.backend.device ?? '');
    }
    assert.match(devices[1], /matrix products in WebAssembly \(native products turned off/);
    // Where no BLAS is installed the first and last runs name why; either way they agree.
    assert.equal(devices[2], devices[0]);
    if (process.env.CI) assert.match(devices[0], /matrix products in OpenBLAS/);
  } finally {
    await own.dispose();
  }
});
