import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadTfjsSource } from '../../src/core/frameworks/tfjs/source';
import { detectFormat, loadModelFile } from '../../src/core/parse/index';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'tfjs');

async function load(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadTfjsSource(text, name) };
}

function only(result: LoadResult, name?: string): ModelSpec {
  const found = name ? result.models.find((m) => m.name === name) : result.models[0];
  assert.ok(found, `model missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span);
  return text.slice(span.start.offset, span.end.offset);
}

const summary = (m: ModelSpec): string[] =>
  m.layers.map((l) => [l.kind, l.units ?? l.filters, `${l.activation.name}${l.activation.alpha !== undefined ? `(${l.activation.alpha})` : ''}`].filter((p) => p !== undefined).join(' '));

test('tf.sequential({layers: [...]}) with require, constants, inputShape, initialisers', async () => {
  const { text, result } = await load('sequential_layers.js');
  assert.deepEqual(result.problems, []);
  const m = only(result, 'model');
  assert.equal(m.format, 'tfjs-source');
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(summary(m), ['dense 64 sigmoid', 'dense 64 sigmoid', 'dropout linear', 'dense 10 softmax']);
  assert.equal(m.layers[0].kernelInitializer?.name, 'glorotNormal');
  assert.equal(m.layers[1].kernelInitializer?.name, 'heNormal');
  assert.equal(m.layers[2].rate, 0.2);
  assert.equal(at(text, m.layers[0].source.span), "tf.layers.dense({ units: HIDDEN, activation: 'sigmoid', inputShape: [784] })");
  assert.equal(at(text, m.layers[0].source.activationValueSpan), "'sigmoid'");
  assert.equal(at(text, m.layers[0].source.activationArgumentSpan), "activation: 'sigmoid'");
  assert.equal(`${m.layers[3].source.span.start.line}:${m.layers[3].source.span.start.column}`, '10:5');
});

test('TypeScript: model.add chain, conv2d/pool/batchNorm/activation, initializer objects', async () => {
  const { text, result } = await load('add_chain.ts');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  assert.deepEqual(m.inputShape, [28, 28, 1]);
  assert.deepEqual(summary(m), ['conv2d 8 relu', 'maxPool2d linear', 'batchNorm linear', 'conv2d 16 linear', 'activation tanh', 'globalAvgPool2d linear', 'dense 10 linear']);
  assert.deepEqual(m.layers[0].kernelSize, [3, 3]);
  assert.equal(m.layers[0].padding, 'same');
  assert.deepEqual(m.layers[3].strides, [2, 2]);
  assert.deepEqual(m.layers[3].kernelInitializer, { name: 'randomNormal', mean: 0, stddev: 2 });
  assert.equal(m.layers[6].useBias, false);
  assert.equal(at(text, m.span), 'const model = tf.sequential();');
});

test('ES named imports with alias, batchInputShape, standalone activation layers', async () => {
  const { result } = await load('named_imports.mjs');
  assert.deepEqual(result.problems, []);
  const m = only(result, 'net');
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(summary(m), ['dense 32 tanh', 'activation leakyRelu(0.1)', 'dense 32 linear', 'activation elu(1)', 'dense 32 linear', 'activation relu6', 'activation prelu(0)', 'activation softmax']);
});

test('CommonJS destructured require, conv1d, biasInitializer', async () => {
  const { result } = await load('conv1d_require_destructured.cjs');
  const m = only(result);
  assert.deepEqual(m.inputShape, [100, 2]);
  assert.deepEqual(summary(m), ['conv1d 4 elu(1)', 'flatten linear', 'dense 1 sigmoid']);
  assert.equal(m.layers[2].biasInitializer?.name, 'ones');
});

test('unsupported layers, unknown activations and missing input shape are typed problems; a static loop is unrolled', async () => {
  const { result } = await load('unsupported.js');
  assert.deepEqual(result.problems.map((p) => [p.code, p.span.start.line]), [['unsupported-layer', 4], ['unknown-input-shape', 15]]);
  const normed = only(result, 'normed');
  assert.deepEqual(normed.problems.map((p) => p.code), ['unsupported-layer', 'unsupported-layer']);
  assert.equal(normed.layers.length, 2);
  const looped = only(result, 'looped');
  assert.deepEqual(looped.inputShape, [4]);
  assert.deepEqual(looped.layers.map((l) => [l.kind, l.units, l.source.span.start.line]), [['dense', 8, 18], ['dense', 8, 18], ['dense', 8, 18]]);
});

test('detectFormat and loadModelFile dispatch JS/TS to the TF.js loader', async () => {
  assert.equal(detectFormat("const tf = require('@tensorflow/tfjs')", 'a.js'), 'tfjs-source');
  const text = fs.readFileSync(path.join(FIXTURES, 'add_chain.ts'), 'utf8');
  const result = await loadModelFile(text, 'add_chain.ts');
  assert.equal(result.format, 'tfjs-source');
  assert.equal(result.models.length, 1);
});

test('syntax errors are positioned; intact models still load', async () => {
  const text = "import * as tf from '@tensorflow/tfjs';\nconst a = tf.sequential({layers: [tf.layers.dense({units: 2, inputShape: [3]})]});\nconst b = tf.sequential({layers: [tf.layers.dense({units: 2 *, inputShape: [3]})]});\n";
  const result = await loadTfjsSource(text, 'broken.js');
  assert.ok(result.problems.some((p) => p.code === 'parse-error' && p.span.start.line === 3));
  assert.equal(only(result, 'a').layers.length, 1);
});

test('fixes: replace sigmoid with relu, insert kernelInitializer, swap standalone activation layers; reload', async () => {
  const { text, result } = await load('sequential_layers.js');
  const m = only(result);
  const edits = activationSwapEdits(text, m, 0, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(text, edits);
  assert.match(fixed, /tf\.layers\.dense\(\{ units: HIDDEN, activation: 'relu', inputShape: \[784\], kernelInitializer: 'heNormal' \}\)/);
  const reloaded = only(await loadTfjsSource(fixed, 'x.js'));
  assert.equal(reloaded.layers[0].activation.name, 'relu');
  assert.equal(reloaded.layers[0].kernelInitializer?.name, 'heNormal');
  // Existing kernelInitializer is replaced.
  const second = applyEdits(text, activationSwapEdits(text, m, 1, { activation: { name: 'elu', alpha: 1 }, kernelInitializer: 'heUniform' }) as never);
  assert.equal(only(await loadTfjsSource(second, 'x.js')).layers[1].kernelInitializer?.name, 'heUniform');
  assert.equal(only(await loadTfjsSource(second, 'x.js')).layers[1].activation.name, 'elu');
  // Leaky ReLU has no activation string in TF.js: refused with advice.
  assert.ok(!Array.isArray(activationSwapEdits(text, m, 0, { activation: { name: 'leakyRelu', alpha: 0.01 } })));

  const chain = await load('add_chain.ts');
  const cm = only(chain.result);
  const swapped = applyEdits(chain.text, activationSwapEdits(chain.text, cm, 4, { activation: { name: 'leakyRelu', alpha: 0.01 }, kernelInitializer: 'heNormal' }) as never);
  const after = only(await loadTfjsSource(swapped, 'c.ts'));
  assert.deepEqual(after.layers[4].activation, { name: 'leakyRelu', alpha: 0.01 });
  assert.equal(after.layers[3].kernelInitializer?.name, 'heNormal');
  // Activation layer with a string: only its value changes.
  const relu = applyEdits(chain.text, activationSwapEdits(chain.text, cm, 4, { activation: { name: 'relu' } }) as never);
  assert.match(relu, /tf\.layers\.activation\(\{ activation: 'relu' \}\)/);
  // A layer written without options gets an options object.
  const named = await load('named_imports.mjs');
  const nm = only(named.result);
  const elu = applyEdits(named.text, activationSwapEdits(named.text, nm, 3, { activation: { name: 'selu' } }) as never);
  assert.match(elu, /net\.add\(L\.activation\(\{ activation: 'selu' \}\)\);/);
  assert.equal(only(await loadTfjsSource(elu, 'n.mjs')).layers[3].activation.name, 'selu');
});
