import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';
import { detectFormat, loadModelFile } from '../../src/core/parse/index';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'keras');

function read(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8');
}

async function load(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = read(name);
  return { text, result: await loadKerasPython(text, name) };
}

/** The single model of a result (or the named one), failing with the problems when missing. */
function model(result: LoadResult, name?: string): ModelSpec {
  const found = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name ?? '(first)'} missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

/** The text a span covers, checked against its offsets. */
function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span, 'span missing');
  return text.slice(span.start.offset, span.end.offset);
}

function lineColumn(span: SourceSpan | undefined): string {
  assert.ok(span, 'span missing');
  return `${span.start.line}:${span.start.column}`;
}

/** kind/units-or-filters/activation, e.g. 'dense 256 sigmoid'. */
function summary(layers: readonly LayerSpec[]): string[] {
  return layers.map((l) => {
    const size = l.units ?? l.filters;
    const alpha = l.activation.alpha !== undefined ? `(${l.activation.alpha})` : '';
    return [l.kind, size, `${l.activation.name}${alpha}`].filter((part) => part !== undefined).join(' ');
  });
}

test('TensorFlow quickstart: tf.keras.models.Sequential, Flatten(input_shape=), Dropout', async () => {
  const { text, result } = await load('tutorial_mnist.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.equal(m.format, 'keras-python');
  assert.deepEqual(m.inputShape, [28, 28]);
  assert.deepEqual(summary(m.layers), ['flatten linear', 'dense 128 relu', 'dropout linear', 'dense 10 linear']);
  assert.equal(m.layers[2].rate, 0.2);
  assert.deepEqual(m.layers.map((l) => l.name), ['flatten', 'dense', 'dropout', 'dense_1']);
  assert.deepEqual(m.layers.map((l) => l.index), [0, 1, 2, 3]);
  assert.equal(lineColumn(m.span), '8:9');
  assert.ok(at(text, m.span).startsWith('tf.keras.models.Sequential(['));
  assert.equal(lineColumn(m.layers[1].source.span), '10:3');
  assert.equal(at(text, m.layers[1].source.span), "tf.keras.layers.Dense(128, activation='relu')");
  assert.equal(at(text, m.layers[1].source.calleeSpan), 'tf.keras.layers.Dense');
  assert.equal(at(text, m.layers[1].source.argumentsSpan), "(128, activation='relu')");
  assert.equal(at(text, m.layers[1].source.activationArgumentSpan), "activation='relu'");
  assert.equal(at(text, m.layers[1].source.activationValueSpan), "'relu'");
  assert.equal(lineColumn(m.layers[1].source.activationValueSpan), '10:41');
  // Keras defaults are filled in explicitly.
  assert.deepEqual(m.layers[1].kernelInitializer, { name: 'glorotUniform' });
  assert.deepEqual(m.layers[1].biasInitializer, { name: 'zeros' });
  assert.equal(m.layers[1].useBias, true);
  assert.equal(m.layers[3].source.activationValueSpan, undefined);
});

test('keras.io guide: keras.Input, name=, non-ASCII docstring and comment', async () => {
  const { text, result } = await load('keras_io_guide.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(m.layers.map((l) => l.name), ['layer1', 'layer2', 'layer3']);
  assert.deepEqual(summary(m.layers), ['dense 64 relu', 'dense 64 relu', 'dense 10 linear']);
  assert.equal(lineColumn(m.layers[0].source.span), '10:9');
  assert.equal(lineColumn(m.layers[1].source.activationValueSpan), '11:37');
  assert.equal(at(text, m.layers[1].source.activationValueSpan), '"relu"');
});

test('columns and offsets count UTF-16 code units (non-ASCII on the same line)', async () => {
  const { text, result } = await load('unicode_columns.py');
  const m = model(result);
  const line = text.split('\n')[4];
  const second = m.layers[1];
  assert.equal(m.layers[0].name, 'dénse_😀');
  assert.equal(second.source.span.start.line, 5);
  assert.equal(second.source.span.start.column, line.indexOf('layers.Dense(2') + 1);
  assert.equal(lineColumn(second.source.activationValueSpan), '5:113');
  assert.equal(at(text, second.source.activationValueSpan), '"tanh"');
});

test('Sequential() + model.add chain with from-imports and Activation layers', async () => {
  const { text, result } = await load('add_chain.py');
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [100]);
  assert.deepEqual(summary(m.layers), ['dense 32 linear', 'activation relu', 'dropout linear', 'dense 10 linear', 'activation softmax']);
  assert.equal(m.layers[2].rate, 0.25);
  assert.deepEqual(m.layers.map((l) => l.name), ['dense', 'activation', 'dropout', 'dense_1', 'activation_1']);
  assert.equal(at(text, m.span), 'model = Sequential()');
  assert.equal(lineColumn(m.span), '4:1');
  assert.equal(at(text, m.layers[1].source.activationArgumentSpan), "'relu'");
  assert.equal(lineColumn(m.layers[4].source.activationValueSpan), '9:22');
});

test('aliases: import tensorflow.keras as K, Dense as D, InputLayer, units=, K.activations ref', async () => {
  const { result } = await load('aliases.py');
  const m = model(result, 'net');
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(summary(m.layers), ['dense 50 tanh', 'dense 25 sigmoid', 'dense 1 sigmoid']);
  assert.equal(lineColumn(m.layers[1].source.activationValueSpan), '8:41');
});

test('several models per file: function name, variables, add chain, unique names', async () => {
  const { result } = await load('several_models.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((m) => m.name), ['build_encoder', 'baseline', 'classifier', 'baseline_2']);
  assert.deepEqual(summary(model(result, 'build_encoder').layers), ['dense 32 relu', 'dense 8 relu']);
  assert.deepEqual(model(result, 'baseline').inputShape, [64]);
  assert.deepEqual(summary(model(result, 'classifier').layers), ['dense 4 softmax']);
  assert.deepEqual(model(result, 'classifier').inputShape, [8]);
  assert.deepEqual(summary(model(result, 'baseline_2').layers), ['dense 2 sigmoid']);
  assert.equal(lineColumn(model(result, 'baseline').layers[1].source.span), '13:86');
});

test('constants, list concatenation, comprehensions, * repetition and for-range add loops', async () => {
  const { text, result } = await load('comprehension_constants.py');
  const deep = model(result, 'deep');
  assert.deepEqual(deep.inputShape, [784]);
  assert.deepEqual(summary(deep.layers), [...Array<string>(9).fill('dense 256 sigmoid'), 'dense 10 softmax']);
  // Repeated layers share the one call's span; names stay unique.
  const spans = new Set(deep.layers.slice(0, 9).map((l) => lineColumn(l.source.span)));
  assert.deepEqual([...spans], ['12:8']);
  assert.equal(at(text, deep.layers[4].source.activationValueSpan), 'ACT');
  assert.equal(deep.layers[8].name, 'dense_8');

  const tapered = model(result, 'tapered');
  assert.deepEqual(summary(tapered.layers), ['dense 512 relu', 'dense 256 relu', 'dense 128 relu', 'dense 128 linear', 'dense 128 linear']);
  assert.deepEqual(tapered.layers.map((l) => l.name), ['hidden_512', 'hidden_256', 'hidden_128', 'dense', 'dense_1']);

  const looped = model(result, 'looped');
  assert.deepEqual(summary(looped.layers), ['dense 512 elu(1)', 'dense 512 elu(1)', 'dense 512 elu(1)', 'dense 10 softmax']);
  assert.equal(lineColumn(looped.layers[2].source.span), '23:16');
});

test('initialiser strings and objects, with Keras defaults for missing parameters', async () => {
  const { text, result } = await load('initializer_objects.py');
  const m = model(result);
  assert.deepEqual(m.problems, []);
  const kernels = m.layers.map((l) => l.kernelInitializer);
  const biases = m.layers.map((l) => l.biasInitializer);
  assert.deepEqual(kernels, [
    { name: 'heNormal' },
    { name: 'randomNormal', mean: 0, stddev: 2 },
    { name: 'heNormal' },
    { name: 'randomUniform', minval: -0.5, maxval: 0.5 },
    { name: 'truncatedNormal', mean: 0, stddev: 0.02 },
    { name: 'varianceScaling', scale: 2, mode: 'fanAvg', distribution: 'uniform' },
    { name: 'glorotUniform' },
    { name: 'orthogonal', scale: 1.5 },
    { name: 'randomNormal', mean: 0, stddev: 0.1 },
  ]);
  assert.deepEqual(biases, [
    { name: 'constant', value: -3 },
    { name: 'zeros' },
    { name: 'constant', value: -3 },
    { name: 'ones' },
    { name: 'zeros' },
    { name: 'zeros' },
    { name: 'zeros' },
    { name: 'ones' },
    { name: 'zeros' },
  ]);
  const first = m.layers[0].source;
  assert.equal(at(text, first.kernelInitializerArgumentSpan), 'kernel_initializer="he_normal"');
  assert.equal(at(text, first.kernelInitializerValueSpan), '"he_normal"');
  assert.equal(at(text, first.biasInitializerValueSpan), 'keras.initializers.Constant(-3.0)');
  assert.equal(lineColumn(first.biasInitializerArgumentSpan), '8:73');
  assert.equal(m.layers[2].source.kernelInitializerValueSpan?.start.line, 10);
  assert.equal(m.layers[1].source.biasInitializerValueSpan, undefined);
});

test('activation references: tf.nn.relu, keras.activations.elu, activations.tanh, None', async () => {
  const { text, result } = await load('tf_nn_refs.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [32]);
  assert.deepEqual(summary(m.layers), [
    'dense 128 relu',
    'dense 128 elu(1)',
    'dense 128 tanh',
    'dense 128 leakyRelu(0.2)',
    'dense 128 swish',
    'dense 128 linear',
    'dense 10 softmax',
  ]);
  assert.equal(at(text, m.layers[0].source.activationValueSpan), 'tf.nn.relu');
  assert.equal(at(text, m.layers[5].source.activationValueSpan), 'None');
});

test('CNN: Conv2D kernel/strides/padding, pooling aliases, global pooling, module constant shape', async () => {
  const { text, result } = await load('cnn_pooling.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [28, 28, 1]);
  assert.deepEqual(m.layers.map((l) => l.kind), [
    'conv2d', 'maxPool2d', 'conv2d', 'maxPool2d', 'avgPool2d', 'conv2d', 'globalAvgPool2d', 'dropout', 'dense',
  ]);
  assert.deepEqual(m.layers[0].kernelSize, [3, 3]);
  assert.deepEqual(m.layers[0].strides, [1, 1]);
  assert.equal(m.layers[0].padding, 'valid');
  assert.equal(m.layers[2].padding, 'same');
  assert.deepEqual(m.layers[3].poolSize, [2, 2]);
  assert.deepEqual(m.layers[3].strides, [2, 2]);
  assert.deepEqual(m.layers[4].strides, [1, 1]);
  assert.deepEqual(m.layers[5].kernelSize, [3, 3]);
  assert.equal(m.layers[5].filters, 64);
  assert.equal(m.layers[8].units, 10);
  assert.equal(m.layers[3].name, 'max_pooling2d_1');
  assert.equal(lineColumn(m.layers[2].source.activationValueSpan), '13:85');
  assert.equal(at(text, m.layers[0].source.calleeSpan), 'layers.Conv2D');
});

test('Dense(use_bias=False) + BatchNormalization + Activation layers', async () => {
  const { text, result } = await load('batchnorm_activation.py');
  const m = model(result);
  assert.deepEqual(summary(m.layers), [
    'dense 128 linear', 'batchNorm linear', 'activation sigmoid', 'dense 64 linear', 'batchNorm linear', 'activation tanh', 'dense 1 sigmoid',
  ]);
  assert.equal(m.layers[0].useBias, false);
  assert.equal(m.layers[1].momentum, 0.9);
  assert.equal(m.layers[1].epsilon, 1e-5);
  assert.equal(m.layers[4].momentum, 0.99);
  assert.equal(m.layers[4].epsilon, 0.001);
  assert.equal(at(text, m.layers[5].source.activationArgumentSpan), 'activation="tanh"');
  assert.equal(lineColumn(m.layers[2].source.activationValueSpan), '8:16');
});

test('LeakyReLU / PReLU / ELU / ReLU variants / Softmax layers and a layer as activation', async () => {
  const { result } = await load('advanced_activations.py');
  const m = model(result);
  const standalone = m.layers.filter((l) => l.kind === 'activation').map((l) => l.activation);
  assert.deepEqual(standalone, [
    { name: 'leakyRelu', alpha: 0.1 },
    { name: 'leakyRelu', alpha: 0.3 },
    { name: 'prelu', alpha: 0.25 },
    { name: 'elu', alpha: 0.5 },
    { name: 'relu6' },
    { name: 'leakyRelu', alpha: 0.05 },
    { name: 'softmax' },
  ]);
  assert.deepEqual(m.layers[12].activation, { name: 'leakyRelu', alpha: 0.2 });
  assert.deepEqual(m.layers.slice(0, 4).map((l) => l.name), ['dense', 'leaky_re_lu', 'dense_1', 'leaky_re_lu_1']);
});

test('line breaks, trailing commas, comments and parenthesised values', async () => {
  const { text, result } = await load('multiline_trailing_commas.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(summary(m.layers), ['dense 256 sigmoid', 'dense 256 linear', 'dense 128 tanh', 'dense 10 softmax']);
  assert.equal(lineColumn(m.layers[0].source.activationValueSpan), '7:24');
  assert.equal(lineColumn(m.layers[2].source.activationValueSpan), '14:42');
  assert.ok(at(text, m.layers[2].source.activationValueSpan).includes('"tanh"'));
  assert.equal(lineColumn(m.layers[1].source.span), '10:9');
  assert.equal(m.layers[1].source.span.end.line, 12);
});

test('Conv1D model built with add(): 1-D pooling, global pooling, input_shape on the first layer', async () => {
  const { result } = await load('conv1d_sequence.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [100, 8]);
  assert.deepEqual(m.layers.map((l) => l.kind), ['conv1d', 'conv1d', 'maxPool1d', 'conv1d', 'globalAvgPool1d', 'dropout', 'dense']);
  assert.deepEqual(m.layers[0].kernelSize, [3]);
  assert.deepEqual(m.layers[2].poolSize, [3]);
  assert.equal(m.layers[3].padding, 'same');
  assert.equal(lineColumn(m.layers[6].source.activationValueSpan), '11:31');
});

test('Keras 3 style: import keras, layers= keyword, every activation string', async () => {
  const { result } = await load('keras3_style.py');
  const m = model(result);
  assert.deepEqual(m.inputShape, [32]);
  assert.deepEqual(summary(m.layers), [
    'dense 64 gelu', 'activation leakyRelu(0.1)', 'dense 64 swish', 'dense 64 mish', 'dense 64 hardSigmoid', 'dense 64 leakyRelu(0.2)',
    'dense 64 relu6', 'dense 64 selu', 'dense 64 softplus', 'dense 64 softsign', 'dense 64 exponential', 'dense 64 linear',
  ]);
  assert.deepEqual(m.layers[7].kernelInitializer, { name: 'lecunNormal' });
});

test('function builder: parameter defaults, constant if, for over a tuple, model.build shape', async () => {
  const { result } = await load('function_builder.py');
  const m = model(result, 'build_model');
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(summary(m.layers), ['dense 128 relu', 'dropout linear', 'dense 64 relu', 'dense 32 relu', 'dense 3 softmax']);
  assert.equal(lineColumn(m.span), '7:5');
});

test('a PyTorch nn.Sequential in the same file is not taken for Keras', async () => {
  const { result } = await load('mixed_frameworks.py');
  assert.deepEqual(result.models.map((m) => m.name), ['keras_model']);
  assert.deepEqual(result.problems, []);
});

test('unknown shape-preserving layers, activations and initialisers become model problems', async () => {
  const { result } = await load('skipped_layers.py');
  const m = model(result);
  assert.deepEqual(summary(m.layers), ['dense 8 linear', 'dense 1 linear']);
  assert.deepEqual(
    m.problems.map((p) => [p.code, lineColumn(p.span)]),
    [
      ['unsupported-layer', '6:5'],
      ['unsupported-layer', '7:32'],
      ['unsupported-layer', '7:66'],
      ['unsupported-layer', '8:5'],
      ['parse-error', '9:26'],
    ],
  );
  assert.match(m.problems[0].message, /GaussianNoise/);
  assert.match(m.problems[1].message, /my_activation/);
  assert.deepEqual(m.layers[0].kernelInitializer, { name: 'glorotUniform' });
});

// #region Broken input

test('syntax error: reported at its position, intact models still loaded', async () => {
  const { result } = await load('broken/syntax_error.py');
  assert.deepEqual(result.models.map((m) => m.name), ['good']);
  const [syntax, bad] = result.problems;
  assert.equal(syntax.code, 'parse-error');
  assert.match(syntax.message, /^Python syntax error near line 6, column 12/);
  assert.equal(lineColumn(syntax.span), '6:12');
  assert.equal(bad.code, 'parse-error');
  assert.match(bad.message, /`bad`/);
  assert.equal(bad.span.start.line, 9);
});

test('a file with no model says so at 1:1', async () => {
  for (const name of ['broken/no_model.py', 'broken/empty.py']) {
    const { result } = await load(name);
    assert.deepEqual(result.models, []);
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0].code, 'parse-error');
    assert.match(result.problems[0].message, /No Keras Sequential model/);
    assert.equal(lineColumn(result.problems[0].span), '1:1');
  }
});

test('binary garbage is refused without throwing', async () => {
  const { result } = await load('broken/garbage.py');
  assert.deepEqual(result.models, []);
  assert.equal(result.problems[0].code, 'parse-error');
  assert.match(result.problems[0].message, /not a text file/);
});

test('unknown shape-changing layers drop the model with unsupported-layer at the layer', async () => {
  const { text, result } = await load('broken/unknown_layer.py');
  assert.deepEqual(result.models, []);
  assert.deepEqual(result.problems.map((p) => [p.code, lineColumn(p.span), at(text, p.span)]), [
    ['unsupported-layer', '6:5', 'layers.LSTM'],
    ['unsupported-layer', '10:53', 'MyResidualBlock'],
  ]);
  assert.match(result.problems[0].message, /`recurrent`.*LSTM/);
});

test('a width known only at run time is a parse-error at the argument', async () => {
  const { text, result } = await load('broken/runtime_width.py');
  assert.deepEqual(result.models, []);
  assert.equal(result.problems.length, 1);
  assert.equal(result.problems[0].code, 'parse-error');
  assert.equal(at(text, result.problems[0].span), 'n_hidden');
  assert.equal(lineColumn(result.problems[0].span), '8:22');
  assert.match(result.problems[0].message, /n_hidden.*run time/);
});

test('a model without an input shape is not returned, the problem is at the model', async () => {
  const { result } = await load('broken/no_input_shape.py');
  assert.deepEqual(result.models, []);
  assert.equal(result.problems[0].code, 'unknown-input-shape');
  assert.match(result.problems[0].message, /input shape/);
  assert.equal(lineColumn(result.problems[0].span), '4:9');
});

test('rank mismatches are caught before training (Conv2D on a flat input)', async () => {
  const text = 'from tensorflow import keras\nm = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Conv2D(8, 3)])\n';
  const result = await loadKerasPython(text, 'inline.py');
  assert.deepEqual(result.models, []);
  assert.match(result.problems[0].message, /rank 3/);
  assert.equal(lineColumn(result.problems[0].span), '2:50');
});

// #endregion

test('loadModelFile dispatches .py by imports and refuses what it cannot read with a position', async () => {
  assert.equal(detectFormat('import tensorflow as tf', 'a.py'), 'keras-python');
  assert.equal(detectFormat('import torch', 'a.py'), 'pytorch-python');
  assert.equal(detectFormat('{"modelTopology": {}}', 'model.json'), 'tfjs-json');
  assert.equal(detectFormat('hello', 'notes.txt'), undefined);
  const keras = await loadModelFile(read('tutorial_mnist.py'), 'tutorial_mnist.py');
  assert.equal(keras.models.length, 1);
  // A file that imports torch and builds no module at all (a lone nn.Linear is a model: torchPython.test.ts).
  const torch = await loadModelFile('import torch\nx = torch.zeros(3)\n', 'net.py');
  assert.equal(torch.format, 'pytorch-python');
  assert.deepEqual(torch.models, []);
  assert.equal(torch.problems[0].code, 'parse-error');
  assert.match(torch.problems[0].message, /No PyTorch model found/);
  assert.equal(lineColumn(torch.problems[0].span), '1:1');
  const notes = await loadModelFile('some notes\n', 'notes.txt');
  assert.deepEqual([notes.models.length, notes.problems[0].code, lineColumn(notes.problems[0].span)], [0, 'parse-error', '1:1']);
  assert.match(notes.problems[0].message, /not a model definition Activation Lens can read/);
});

test('the bundled examples load with the expected architectures', async () => {
  const examples = path.join(__dirname, '..', '..', 'examples');
  const expectations: Record<string, string[]> = {
    'deep_sigmoid.py': [...Array<string>(9).fill('dense 256 sigmoid'), 'dense 10 softmax'],
    'dead_relu.py': ['dense 256 relu', 'dense 128 relu', 'dense 10 softmax'],
    'saturated_tanh.py': ['dense 256 tanh', 'dense 256 tanh', 'dense 10 softmax'],
    'healthy_relu.py': ['dense 256 relu', 'dense 256 relu', 'dense 128 relu', 'dense 10 softmax'],
    'elu_mlp.py': [...Array<string>(4).fill('dense 256 elu(1)'), 'dense 10 softmax'],
    'small_cnn.py': ['conv2d 32 relu', 'conv2d 64 relu', 'flatten linear', 'dense 10 softmax'],
  };
  for (const [file, layers] of Object.entries(expectations)) {
    const result = await loadKerasPython(fs.readFileSync(path.join(examples, file), 'utf8'), file);
    assert.deepEqual(result.problems, [], file);
    assert.deepEqual(summary(model(result).layers), layers, file);
  }
  const dead = await loadKerasPython(fs.readFileSync(path.join(examples, 'dead_relu.py'), 'utf8'), 'dead_relu.py');
  assert.deepEqual(model(dead).layers[0].biasInitializer, { name: 'constant', value: -3 });
  const tanh = await loadKerasPython(fs.readFileSync(path.join(examples, 'saturated_tanh.py'), 'utf8'), 'saturated_tanh.py');
  assert.deepEqual(model(tanh).layers[1].kernelInitializer, { name: 'randomNormal', mean: 0, stddev: 1 });
  const two = await loadKerasPython(fs.readFileSync(path.join(examples, 'two_models.py'), 'utf8'), 'two_models.py');
  assert.deepEqual(two.models.map((m) => m.name), ['sigmoid_net', 'relu_net']);
  assert.deepEqual(model(await loadKerasPython(fs.readFileSync(path.join(examples, 'small_cnn.py'), 'utf8'), 'x.py')).inputShape, [28, 28, 1]);
});
