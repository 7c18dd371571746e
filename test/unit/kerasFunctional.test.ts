import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'keras');

async function load(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadKerasPython(text, name) };
}

function model(result: LoadResult, name: string): ModelSpec {
  const found = result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name} missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span);
  return text.slice(span.start.offset, span.end.offset);
}

const summary = (m: ModelSpec): string[] => m.layers.map((l) => [l.kind, l.units ?? l.filters, l.activation.name].filter((p) => p !== undefined).join(' '));

test('functional chain: keras.Input → Dense → Dense → Dense, keras.Model(inputs, outputs)', async () => {
  const { text, result } = await load('functional_mlp.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(summary(m), ['dense 64 relu', 'dense 64 linear', 'dense 10 softmax']);
  assert.equal(at(text, m.layers[0].source.span), 'layers.Dense(64, activation="relu")');
  assert.equal(at(text, m.layers[0].source.activationValueSpan), '"relu"');
  assert.equal(`${m.layers[2].source.span.start.line}:${m.layers[2].source.span.start.column}`, '7:11');
  assert.equal(at(text, m.span), 'keras.Model(inputs, outputs)');
});

test('functional chain in a function, keyword inputs/outputs, nested application, constants', async () => {
  const { text, result } = await load('functional_keywords.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'build_model');
  assert.deepEqual(m.inputShape, [28, 28, 1]);
  assert.deepEqual(summary(m), ['conv2d 16 sigmoid', 'maxPool2d linear', 'flatten linear', 'dense 128 sigmoid', 'dropout linear', 'dense 10 linear']);
  assert.equal(m.layers[4].rate, 0.25);
  assert.equal(at(text, m.layers[4].source.span), 'tf.keras.layers.Dropout(0.25)');
  assert.equal(m.layers[3].kernelInitializer?.name, 'glorotNormal');
});

test('functional branches (Add) drop the model with unsupported-layer; the linear model beside it loads', async () => {
  const { text, result } = await load('functional_branch.py');
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0].code, 'unsupported-layer');
  assert.match(result.problems[0].message, /Add/);
  assert.equal(at(text, result.problems[0].span), 'layers.Add()');
  const chain = model(result, 'chain');
  assert.deepEqual(chain.inputShape, [8]);
  assert.deepEqual(summary(chain), ['dense 4 sigmoid']);
  assert.equal(result.models.length, 1);
});

test('subclassed models: layers from __init__, order from call, input shape from comment / self.build / model.build', async () => {
  const { text, result } = await load('functional_subclass.py');
  const deep = model(result, 'DeepSigmoid');
  assert.deepEqual(deep.inputShape, [784]);
  assert.deepEqual(summary(deep), ['dense 256 sigmoid', 'dense 256 linear', 'activation relu', 'dropout linear', 'dense 10 linear']);
  assert.equal(at(text, deep.layers[0].source.span), 'layers.Dense(width, activation="sigmoid")');
  assert.equal(at(text, deep.layers[2].source.span), 'tf.nn.relu');
  assert.equal(at(text, deep.span).split('\n')[0], 'class DeepSigmoid(keras.Model):');
  const built = model(result, 'Built');
  assert.deepEqual(built.inputShape, [20]);
  assert.deepEqual(summary(built), ['dense 32 tanh', 'dense 1 sigmoid']);
  const later = model(result, 'Later');
  assert.deepEqual(later.inputShape, [12]);
  // Control flow in call(): dropped with a positioned problem.
  const problem = result.problems.find((p) => p.message.includes('Branchy'));
  assert.ok(problem);
  assert.equal(problem.span.start.line, 56);
});

test('fix edits work on functional and subclassed layers (same LayerSource spans as Sequential)', async () => {
  const { text, result } = await load('functional_mlp.py');
  const m = model(result, 'model');
  const edits = activationSwapEdits(text, m, 1, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(text, edits);
  assert.match(fixed, /layers\.Dense\(64, activation="relu", kernel_initializer="he_normal"\)\(x\)/);
  const reloaded = model(await loadKerasPython(fixed, 'f.py'), 'model');
  assert.equal(reloaded.layers[1].activation.name, 'relu');
  assert.equal(reloaded.layers[1].kernelInitializer?.name, 'heNormal');

  const sub = await load('functional_subclass.py');
  const deep = model(sub.result, 'DeepSigmoid');
  const subEdits = activationSwapEdits(sub.text, deep, 0, { activation: { name: 'relu' } });
  assert.ok(Array.isArray(subEdits));
  const subFixed = applyEdits(sub.text, subEdits);
  assert.match(subFixed, /self\.d1 = layers\.Dense\(width, activation="relu"\)/);
  assert.equal(model(await loadKerasPython(subFixed, 's.py'), 'DeepSigmoid').layers[0].activation.name, 'relu');
  // An activation *function* in call() is not a layer call: the fix is refused, not mangled.
  assert.ok(!Array.isArray(activationSwapEdits(sub.text, deep, 2, { activation: { name: 'elu', alpha: 1 } })));
});

test('functional: outputs not assigned, multiple outputs, no Input are typed problems', async () => {
  const text = [
    'import keras',
    'from keras import layers',
    'i = keras.Input(shape=(4,))',
    'a = layers.Dense(2)(i)',
    'b = layers.Dense(2)(i)',
    'two = keras.Model(i, [a, b])',
    'ghost = keras.Model(i, missing)',
    '',
  ].join('\n');
  const result = await loadKerasPython(text, 'x.py');
  assert.equal(result.models.length, 0);
  assert.deepEqual(result.problems.map((p) => [p.code, p.span.start.line]), [['unsupported-layer', 6], ['parse-error', 7]]);
});
