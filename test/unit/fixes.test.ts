import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, ModelSpec } from '../../src/core/model';
import { PositionIndex } from '../../src/core/model';
import { activationSwapEdits, applyEdits, describeActivation, type ActivationSwap, type TextEdit } from '../../src/core/fixes';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'keras');

async function loadModel(file: string, name?: string): Promise<{ text: string; model: ModelSpec }> {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  const result = await loadKerasPython(text, file);
  const model = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(model, `${file}: ${JSON.stringify(result.problems)}`);
  return { text, model };
}

function edits(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TextEdit[] {
  const result = activationSwapEdits(text, model, layerIndex, swap);
  assert.ok(Array.isArray(result), `expected edits, got ${JSON.stringify(result)}`);
  return result;
}

/** Applies a swap, reloads the file and returns the new text and the same-named model. */
async function swapAndReload(file: string, layerIndex: number, swap: ActivationSwap, name?: string) {
  const before = await loadModel(file, name);
  const newText = applyEdits(before.text, edits(before.text, before.model, layerIndex, swap));
  const result = await loadKerasPython(newText, file);
  assert.deepEqual(result.problems, [], newText);
  const after = result.models.find((m) => m.name === before.model.name);
  assert.ok(after, newText);
  return { before: before.model, after, oldText: before.text, newText };
}

/**
 * A layer without its source spans (which move when text is inserted before them) and its name
 * (Keras auto-names such as `activation_1` follow the classes before them, so they may shift).
 */
function shape(layer: LayerSpec): Omit<LayerSpec, 'source' | 'name'> {
  const { source: _source, name: _name, ...rest } = layer;
  return rest;
}

/** Asserts that only the listed layers differ between the two models. */
function onlyChanged(before: ModelSpec, after: ModelSpec, changed: readonly number[]): void {
  assert.equal(after.layers.length, before.layers.length);
  assert.deepEqual(after.inputShape, before.inputShape);
  before.layers.forEach((layer, i) => {
    if (!changed.includes(i)) assert.deepEqual(shape(after.layers[i]), shape(layer), `layer ${i} changed`);
  });
}

test('replaces an activation value and inserts the kernel initialiser (one call shared by a comprehension)', async () => {
  const { before, after, newText } = await swapAndReload(
    'comprehension_constants.py',
    4,
    { activation: { name: 'relu' }, kernelInitializer: 'heNormal' },
    'deep',
  );
  assert.ok(newText.includes('[layers.Dense(HIDDEN, activation="relu", kernel_initializer="he_normal") for _ in range(DEPTH)]'));
  // The shared call changes every repetition, and nothing else.
  for (let i = 0; i < 9; i++) {
    assert.deepEqual(after.layers[i].activation, { name: 'relu' });
    assert.deepEqual(after.layers[i].kernelInitializer, { name: 'heNormal' });
  }
  onlyChanged(before, after, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});

test('inserts activation= into a call without one', async () => {
  const { before, after, newText } = await swapAndReload('tutorial_mnist.py', 3, { activation: { name: 'elu', alpha: 1 } });
  assert.ok(newText.includes('tf.keras.layers.Dense(10, activation="elu")'));
  assert.deepEqual(after.layers[3].activation, { name: 'elu', alpha: 1 });
  onlyChanged(before, after, [3]);
});

test('multi-line calls keep their layout: trailing comma, comment, one argument per line', async () => {
  const first = await swapAndReload('multiline_trailing_commas.py', 1, { activation: { name: 'relu' }, kernelInitializer: 'heUniform' });
  assert.ok(
    first.newText.includes(
      '        tf.keras.layers.Dense(\n            256,  # no activation: linear\n            activation="relu",\n            kernel_initializer="he_uniform",\n        ),',
    ),
    first.newText,
  );
  assert.deepEqual(first.after.layers[1].activation, { name: 'relu' });
  onlyChanged(first.before, first.after, [1]);

  const second = await swapAndReload('multiline_trailing_commas.py', 2, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  // The whole parenthesised value is the activation value, so it is replaced as a whole.
  assert.ok(second.newText.includes('tf.keras.layers.Dense(128,\n                              activation="relu",\n                              kernel_initializer="he_normal")'), second.newText);
  onlyChanged(second.before, second.after, [2]);

  const third = await swapAndReload('multiline_trailing_commas.py', 3, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(third.newText.includes('tf.keras.layers.Dense(10, activation="relu", kernel_initializer="he_normal",),'), third.newText);
});

test('a comment after the last argument without a trailing comma stays on its line', async () => {
  const text = 'from tensorflow import keras\nm = keras.Sequential([\n    keras.layers.Dense(\n        4,\n        input_shape=(3,)  # the input\n    ),\n])\n';
  const model = (await loadKerasPython(text, 'inline.py')).models[0];
  const newText = applyEdits(text, edits(text, model, 0, { activation: { name: 'tanh' } }));
  assert.ok(newText.includes('        input_shape=(3,),  # the input\n        activation="tanh"\n    ),'), newText);
  assert.deepEqual((await loadKerasPython(newText, 'inline.py')).models[0].layers[0].activation, { name: 'tanh' });
});

test('replaces an existing kernel initialiser object', async () => {
  const { before, after, newText } = await swapAndReload('initializer_objects.py', 1, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(newText.includes('layers.Dense(64, activation="relu", kernel_initializer="he_normal"),'));
  assert.deepEqual(after.layers[1].kernelInitializer, { name: 'heNormal' });
  onlyChanged(before, after, [1]);
});

test('Activation("sigmoid") layer: value replaced, initialiser on the preceding Dense (past BatchNorm)', async () => {
  const { before, after, newText } = await swapAndReload('batchnorm_activation.py', 2, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(newText.includes('    Activation("relu"),'));
  assert.ok(newText.includes('    Dense(128, use_bias=False, kernel_initializer="he_normal"),'));
  assert.deepEqual(after.layers[2].activation, { name: 'relu' });
  assert.deepEqual(after.layers[0].kernelInitializer, { name: 'heNormal' });
  onlyChanged(before, after, [0, 2]);
});

test('a LeakyReLU layer becomes layers.Activation("elu") with the file\'s own prefix', async () => {
  const { before, after, newText } = await swapAndReload('advanced_activations.py', 1, { activation: { name: 'elu', alpha: 1 } });
  assert.ok(newText.includes('    layers.Activation("elu"),\n    layers.Dense(32),\n    layers.LeakyReLU(),'));
  assert.deepEqual(after.layers[1].activation, { name: 'elu', alpha: 1 });
  onlyChanged(before, after, [1]);
});

test('a parameterised activation becomes a layer instance passed as activation=', async () => {
  const { before, after, newText } = await swapAndReload('keras_io_guide.py', 0, { activation: { name: 'leakyRelu', alpha: 0.01 }, kernelInitializer: 'heNormal' });
  assert.ok(newText.includes('layers.Dense(64, activation=layers.LeakyReLU(0.01), name="layer1", kernel_initializer="he_normal"),'), newText);
  assert.deepEqual(after.layers[0].activation, { name: 'leakyRelu', alpha: 0.01 });
  onlyChanged(before, after, [0]);

  const elu = await swapAndReload('tf_nn_refs.py', 2, { activation: { name: 'elu', alpha: 0.5 } });
  assert.ok(elu.newText.includes('tf.keras.layers.Dense(128, activation=tf.keras.layers.ELU(alpha=0.5)),'), elu.newText);
  assert.deepEqual(elu.after.layers[2].activation, { name: 'elu', alpha: 0.5 });
});

test('bare imports: a missing class is imported next to the existing keras.layers import', async () => {
  const { before, after, newText } = await swapAndReload('add_chain.py', 1, { activation: { name: 'leakyRelu', alpha: 0.01 }, kernelInitializer: 'heNormal' });
  assert.ok(newText.includes('from keras.layers import Dense, Activation, Dropout\nfrom keras.layers import LeakyReLU\n'), newText);
  assert.ok(newText.includes('model.add(LeakyReLU(0.01))'));
  assert.ok(newText.includes('model.add(Dense(32, input_dim=100, kernel_initializer="he_normal"))'));
  assert.deepEqual(after.layers[1].activation, { name: 'leakyRelu', alpha: 0.01 });
  onlyChanged(before, after, [0, 1]);
});

test('PReLU as a standalone layer uses the file\'s initializers module', async () => {
  const { after, newText } = await swapAndReload('advanced_activations.py', 7, { activation: { name: 'prelu', alpha: 0.25 } });
  assert.ok(newText.includes('layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25)),\n    layers.Dense(32),\n    layers.ReLU(max_value=6)'), newText);
  assert.deepEqual(after.layers[7].activation, { name: 'prelu', alpha: 0.25 });
});

test('unusable swaps come back as errors, not edits', async () => {
  const { text, model } = await loadModel('tutorial_mnist.py');
  const rrelu = activationSwapEdits(text, model, 1, { activation: { name: 'rrelu', lower: 0.125, upper: 0.333 } });
  assert.ok('error' in rrelu && /RReLU/.test(rrelu.error));
  const prelu = activationSwapEdits(text, model, 1, { activation: { name: 'prelu' } });
  assert.ok('error' in prelu && /PReLU/.test(prelu.error));
  const dropout = activationSwapEdits(text, model, 2, { activation: { name: 'relu' } });
  assert.ok('error' in dropout);
  const missing = activationSwapEdits(text, model, 99, { activation: { name: 'relu' } });
  assert.ok('error' in missing);
  const stale = activationSwapEdits(text.slice(0, 200), model, 1, { activation: { name: 'relu' } });
  assert.ok('error' in stale && /changed/.test(stale.error));
  const constant = activationSwapEdits(text, model, 1, { activation: { name: 'relu' }, kernelInitializer: 'constant' });
  assert.ok('error' in constant);
});

test('applyEdits applies in reverse order and rejects overlaps', () => {
  const text = 'abcdef';
  const positions = new PositionIndex(text);
  const edit = (start: number, end: number, newText: string): TextEdit => ({ span: positions.span(start, end), newText });
  assert.equal(applyEdits(text, [edit(0, 1, 'X'), edit(4, 6, 'YZW'), edit(2, 2, '+')]), 'Xb+cdYZW');
  assert.throws(() => applyEdits(text, [edit(0, 3, 'X'), edit(2, 4, 'Y')]), /Overlapping/);
  assert.throws(() => applyEdits(text, [edit(2, 2, 'X'), edit(2, 2, 'Y')]), /Overlapping/);
  assert.equal(applyEdits(text, []), text);
});

test('describeActivation writes each format\'s spelling', () => {
  assert.equal(describeActivation({ name: 'relu' }, 'keras-python'), 'relu');
  assert.equal(describeActivation({ name: 'hardSigmoid' }, 'keras-python'), 'hard_sigmoid');
  assert.equal(describeActivation({ name: 'elu', alpha: 1 }, 'keras-python'), 'elu');
  assert.equal(describeActivation({ name: 'elu', alpha: 0.5 }, 'keras-python'), 'ELU(alpha=0.5)');
  assert.equal(describeActivation({ name: 'leakyRelu', alpha: 0.01 }, 'keras-python'), 'LeakyReLU(0.01)');
  assert.equal(describeActivation({ name: 'leakyRelu', alpha: 0.01 }, 'pytorch-python'), 'nn.LeakyReLU(0.01)');
  assert.equal(describeActivation({ name: 'rrelu', lower: 0.125, upper: 0.25 }, 'pytorch-python'), 'nn.RReLU(0.125, 0.25)');
  assert.equal(describeActivation({ name: 'swish' }, 'pytorch-python'), 'nn.SiLU()');
  assert.equal(describeActivation({ name: 'relu' }, 'tfjs-source'), "'relu'");
  assert.equal(describeActivation({ name: 'leakyRelu', alpha: 0.01 }, 'tfjs-source'), 'tf.layers.leakyReLU({alpha: 0.01})');
});
