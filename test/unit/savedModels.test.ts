import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { detectFormat, loadModelFile } from '../../src/core/parse/index';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';
import { buildModel, UnsupportedModelError } from '../../src/train/buildModel';
import { kerasArchive, legacyH5, makeZip, MLP_CONFIG, ramp, tfjsShard } from '../fixtures/saved/generate';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'saved');
const read = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function only(result: LoadResult): ModelSpec {
  assert.equal(result.models.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return result.models[0];
}

function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span);
  return text.slice(span.start.offset, span.end.offset);
}

const summary = (m: ModelSpec): string[] => m.layers.map((l) => [l.kind, l.units ?? l.filters, l.activation.name].filter((p) => p !== undefined).join(' '));

test('Keras 2 to_json Sequential: layers, initialisers, spans of each layer object', async () => {
  const text = read('keras2_sequential.json');
  const result = await loadModelFile(text, 'keras2_sequential.json');
  assert.equal(result.format, 'keras-json');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  assert.equal(m.name, 'sequential');
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(summary(m), ['dense 64 sigmoid', 'dropout linear', 'dense 64 sigmoid', 'dense 10 softmax']);
  assert.deepEqual(m.layers[2].kernelInitializer, { name: 'randomNormal', mean: 0, stddev: 2 });
  assert.ok(at(text, m.layers[0].source.span).startsWith('{"class_name": "Dense"'));
  assert.ok(at(text, m.layers[0].source.span).endsWith('}}'));
  assert.equal(at(text, m.layers[0].source.activationValueSpan), '"sigmoid"');
  assert.equal(`${m.layers[0].source.span.start.line}:${m.layers[0].source.span.start.column}`, '3:3');
});

test('Keras 3 Sequential CNN: batch_shape, module/registered_name layout, VarianceScaling, LeakyReLU negative_slope', async () => {
  const m = only(await loadModelFile(read('keras3_sequential_cnn.json'), 'cnn.json'));
  assert.deepEqual(m.inputShape, [28, 28, 1]);
  assert.deepEqual(summary(m), ['conv2d 8 tanh', 'batchNorm linear', 'maxPool2d linear', 'flatten linear', 'activation leakyRelu', 'dense 10 linear']);
  assert.equal(m.layers[4].activation.alpha, 0.1);
  assert.equal(m.layers[0].kernelInitializer?.name, 'heNormal');
  assert.deepEqual(m.layers[5].kernelInitializer, { name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' });
  assert.equal(m.layers[1].momentum, 0.9);
});

test('Functional linear chains (Keras 2 and 3 inbound_nodes); a merge drops the model', async () => {
  assert.deepEqual(summary(only(await loadModelFile(read('keras2_functional.json'), 'f2.json'))), ['dense 16 tanh', 'dense 1 sigmoid']);
  const k3 = only(await loadModelFile(read('keras3_functional.json'), 'f3.json'));
  assert.deepEqual(k3.inputShape, [20]);
  assert.deepEqual(summary(k3), ['dense 8 relu', 'dense 3 softmax']);
  const add = await loadModelFile(read('keras_functional_add.json'), 'add.json');
  assert.equal(add.models.length, 0);
  assert.equal(add.problems[0].code, 'unsupported-layer');
  assert.equal(add.problems[0].span.start.line, 4);
});

test('malformed JSON configs: typed, positioned problems quoting the value', async () => {
  const truncated = await loadModelFile(read('malformed_truncated.json'), 'malformed_truncated.json');
  assert.equal(truncated.problems[0].code, 'parse-error');
  assert.match(truncated.problems[0].message, /Invalid JSON/);
  assert.equal(truncated.problems[0].span.start.line, 2);
  const units = await loadModelFile(read('malformed_units.json'), 'u.json');
  assert.match(units.problems[0].message, /"sixty-four"/);
  assert.equal(units.problems[0].span.start.line, 2);
  const graph = await loadModelFile(read('tfjs_graph_model.json'), 'model.json');
  assert.equal(graph.problems[0].code, 'unsupported-layer');
  assert.match(graph.problems[0].message, /graph-model/);
});

test('content detection ignores the extension', () => {
  assert.equal(detectFormat(read('keras2_sequential.json'), 'model.txt'), 'keras-json');
  assert.equal(detectFormat(read('tfjs_layers_model.json'), 'weights'), 'tfjs-json');
});

test('TF.js model.json: weights from the shard next to it; freshInit ignores them; a missing shard is a problem', async () => {
  const text = read('tfjs_layers_model.json');
  const readSibling = (name: string) => (name === 'group1-shard1of1.bin' ? tfjsShard() : undefined);
  const result = await loadModelFile(text, 'tfjs_layers_model.json', { readSibling });
  assert.equal(result.format, 'tfjs-json');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  assert.deepEqual(m.layers.map((l) => l.name), ['dense_Dense1', 'dense_Dense2']);
  assert.deepEqual(m.layers[0].weights?.kernel?.shape, [3, 4]);
  assert.deepEqual(Array.from(m.layers[0].weights?.kernel?.values ?? []), Array.from(ramp(12)));
  assert.deepEqual(Array.from(m.layers[1].weights?.bias?.values ?? []), [0, 0]);
  assert.equal(only(await loadModelFile(text, 'm.json', { readSibling, freshInit: true })).layers[0].weights, undefined);
  const missing = await loadModelFile(text, 'm.json', { readSibling: () => undefined });
  assert.match(missing.problems[0].message, /group1-shard1of1\.bin/);
  assert.equal(only(missing).layers[0].weights, undefined);
  const short = await loadModelFile(text, 'm.json', { readSibling: () => new Uint8Array(8) });
  assert.match(short.problems[0].message, /fewer than the manifest needs/);
});

test('legacy .h5 (HDF5 model_config + model_weights): layers, weights by weight_names, spans at 1:1', async () => {
  const bytes = await legacyH5();
  const result = await loadModelFile(bytes, 'model.h5');
  assert.equal(result.format, 'keras-json');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  assert.equal(m.binary, true);
  assert.deepEqual(summary(m), ['dense 3 sigmoid', 'batchNorm linear', 'dense 2 softmax']);
  assert.deepEqual(m.layers[0].weights?.kernel?.shape, [4, 3]);
  assert.deepEqual(Array.from(m.layers[1].weights?.gamma?.values ?? []), [1.5, 2, 2.5]);
  assert.deepEqual(Array.from(m.layers[1].weights?.movingVariance?.values ?? []), [0.25, 0.25, 0.25]);
  assert.deepEqual([m.layers[2].source.span.start.line, m.layers[2].source.span.start.column], [1, 1]);
  assert.equal(only(await loadModelFile(bytes, 'model.h5', { freshInit: true })).layers[0].weights, undefined);
  // Fixes refuse binary models.
  assert.ok(!Array.isArray(activationSwapEdits('', m, 0, { activation: { name: 'relu' } })));
});

test('.keras archive (stored and deflated zip, Keras 3 vars layout)', async () => {
  for (const deflate of [false, true]) {
    const m = only(await loadModelFile(await kerasArchive(deflate), 'model.keras'));
    assert.equal(m.name, 'saved_mlp');
    assert.deepEqual(Array.from(m.layers[0].weights?.bias?.values ?? []), Array.from(ramp(3, 0.5)));
    assert.deepEqual(m.layers[2].weights?.kernel?.shape, [3, 2]);
  }
});

test('malformed binaries: typed problems at 1:1 naming the file', async () => {
  const noConfig = await loadModelFile(makeZip({ 'readme.txt': 'hi' }), 'x.keras');
  assert.match(noConfig.problems[0].message, /without config\.json/);
  const truncatedZip = await loadModelFile((await kerasArchive()).slice(0, 100), 'x.keras');
  assert.match(truncatedZip.problems[0].message, /not a readable \.keras archive/);
  const badConfig = await loadModelFile(makeZip({ 'config.json': '{"class_name": ' }), 'x.keras');
  assert.match(badConfig.problems[0].message, /not valid JSON/);
  const h5 = await legacyH5();
  const truncatedH5 = await loadModelFile(h5.slice(0, 200), 'x.h5');
  assert.equal(truncatedH5.models.length, 0);
  assert.equal(truncatedH5.problems[0].span.start.line, 1);
  // A weight of the wrong shape loads (the config is fine) but building refuses it clearly.
  const wrong = only(await loadModelFile(await legacyH5([3, 4]), 'w.h5'));
  assert.throws(() => buildModel(wrong, 1), (e: unknown) => e instanceof UnsupportedModelError && /saved kernel has shape \[3, 4\].*needs \[4, 3\]/.test((e as Error).message));
});

test('buildModel starts from the saved weights (Dense kernel/bias, BatchNorm gamma/beta/moving stats)', async () => {
  const m = only(await loadModelFile(await legacyH5(), 'model.h5'));
  const built = buildModel(m, 7);
  const byName = (prefix: string) => built.trainModel.layers.find((l) => l.name.startsWith(prefix));
  const dense = byName('L0_dense');
  assert.ok(dense);
  const [kernel, bias] = dense.getWeights();
  assert.deepEqual(Array.from(await kernel.data()).map((v) => Number(v.toFixed(5))), Array.from(ramp(12)).map((v) => Number(v.toFixed(5))));
  assert.deepEqual(Array.from(await bias.data()).map((v) => Number(v.toFixed(5))), Array.from(ramp(3, 0.5)).map((v) => Number(v.toFixed(5))));
  const bn = byName('L1_batchNorm');
  assert.ok(bn);
  const values = await Promise.all(bn.getWeights().map((w) => w.data()));
  assert.deepEqual(values.map((v) => Array.from(v)), [[1.5, 2, 2.5], [0.1, 0.2, 0.3].map((x) => Math.fround(x)), [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]]);
  // freshInit: same architecture, initialiser values.
  const fresh = buildModel(only(await loadModelFile(await legacyH5(), 'model.h5', { freshInit: true })), 7);
  const freshKernel = fresh.trainModel.layers.find((l) => l.name.startsWith('L0_dense'))?.getWeights()[0];
  assert.notDeepEqual(Array.from((await freshKernel?.data()) ?? []), Array.from(ramp(12)));
  tf.disposeVariables();
});

test('JSON fixes: activation and kernel_initializer edits (Keras and TF.js forms) reload as intended', async () => {
  const text = read('keras2_sequential.json');
  const m = only(await loadModelFile(text, 'k.json'));
  const edits = activationSwapEdits(text, m, 2, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(text, edits);
  assert.match(fixed, /"activation": "relu", "use_bias": true,\n {4}"kernel_initializer": \{"class_name": "HeNormal", "config": \{\}\}/);
  const again = only(await loadModelFile(fixed, 'k.json'));
  assert.equal(again.layers[2].activation.name, 'relu');
  assert.equal(again.layers[2].kernelInitializer?.name, 'heNormal');
  JSON.parse(fixed);

  const tfjsText = read('tfjs_layers_model.json');
  const tm = only(await loadModelFile(tfjsText, 'm.json'));
  const tfixed = applyEdits(tfjsText, activationSwapEdits(tfjsText, tm, 0, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' }) as never);
  const t2 = only(await loadModelFile(tfixed, 'm.json'));
  assert.equal(t2.layers[0].activation.name, 'relu');
  assert.deepEqual(t2.layers[0].kernelInitializer, { name: 'varianceScaling', scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' });

  // A config without activation / kernel_initializer keys gets them inserted.
  const bare = JSON.stringify({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 2, batch_input_shape: [null, 3] } }] } });
  const bm = only(await loadModelFile(bare, 'b.json'));
  const bfixed = applyEdits(bare, activationSwapEdits(bare, bm, 0, { activation: { name: 'tanh' }, kernelInitializer: 'glorotNormal' }) as never);
  const b2 = only(await loadModelFile(bfixed, 'b.json'));
  assert.equal(b2.layers[0].activation.name, 'tanh');
  assert.equal(b2.layers[0].kernelInitializer?.name, 'glorotNormal');
  assert.ok(MLP_CONFIG.length > 0);
});
