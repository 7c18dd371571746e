/**
 * Keras Python styles found in real users' files: positional layer arguments, models built in
 * `for` loops, builder functions called with arguments, and channels-first data. Each style is
 * either read exactly or refused with a positioned problem — never built as a different model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, LoadProblem, LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'keras');

async function loadFixture(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadKerasPython(text, name) };
}

async function loadLines(lines: readonly string[]): Promise<{ text: string; result: LoadResult }> {
  const text = ['from tensorflow import keras', 'from tensorflow.keras import layers', ...lines, ''].join('\n');
  return { text, result: await loadKerasPython(text, 'inline.py') };
}

function model(result: LoadResult, name: string): ModelSpec {
  const found = result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name} missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

/** The one file-level problem of a refused model. */
function refusal(result: LoadResult, name: string): LoadProblem {
  assert.ok(!result.models.some((m) => m.name === name), `model ${name} should not be returned`);
  const found = result.problems.filter((p) => p.message.includes(`Model \`${name}\``));
  assert.equal(found.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return found[0];
}

function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span, 'span missing');
  return text.slice(span.start.offset, span.end.offset);
}

function lineColumn(span: SourceSpan): string {
  return `${span.start.line}:${span.start.column}`;
}

/** kind, units or filters, activation: e.g. 'dense 64 relu'. */
function summary(layers: readonly LayerSpec[]): string[] {
  return layers.map((l) => {
    const alpha = l.activation.alpha !== undefined ? `(${l.activation.alpha})` : '';
    return [l.kind, l.units ?? l.filters, `${l.activation.name}${alpha}`].filter((part) => part !== undefined).join(' ');
  });
}

// #region 1. Positional arguments

test('positional arguments follow the Keras signatures: activation, use_bias, initialisers, conv and pooling options', async () => {
  const { text, result } = await loadFixture('positional_arguments.py');
  assert.deepEqual(result.problems, []);
  const mlp = model(result, 'mlp');
  assert.deepEqual(mlp.inputShape, [20]);
  assert.deepEqual(summary(mlp.layers), ['dense 64 relu', 'dense 64 tanh', 'dropout linear', 'batchNorm linear', 'activation leakyRelu(0.1)', 'dense 1 sigmoid']);
  assert.deepEqual(mlp.layers[1].kernelInitializer, { name: 'heNormal' });
  assert.equal(mlp.layers[1].useBias, true);
  assert.equal(mlp.layers[2].rate, 0.3);
  assert.deepEqual([mlp.layers[3].momentum, mlp.layers[3].epsilon], [0.9, 1e-5]);
  // A positional activation has the spans quick fixes rewrite, like a keyword one.
  assert.equal(at(text, mlp.layers[0].source.activationValueSpan), '"relu"');
  assert.equal(lineColumn(mlp.layers[0].source.activationValueSpan!), '6:22');
  assert.equal(at(text, mlp.layers[1].source.kernelInitializerValueSpan), '"he_normal"');

  const cnn = model(result, 'cnn');
  assert.deepEqual(cnn.inputShape, [28, 28, 1]);
  assert.deepEqual(summary(cnn.layers), ['conv2d 16 relu', 'maxPool2d linear', 'conv2d 32 linear', 'activation elu(1)', 'globalAvgPool2d linear', 'dense 10 softmax']);
  assert.deepEqual([cnn.layers[0].kernelSize, cnn.layers[0].strides, cnn.layers[0].padding], [[3, 3], [1, 1], 'same']);
  assert.deepEqual([cnn.layers[1].poolSize, cnn.layers[1].strides, cnn.layers[1].padding], [[2, 2], [2, 2], 'valid']);
  assert.deepEqual([cnn.layers[2].strides, cnn.layers[2].padding], [[2, 2], 'valid']);
});

test('positional arguments that cannot be matched or modelled refuse the model at the argument', async () => {
  const { text, result } = await loadLines([
    'too_many = keras.Sequential([layers.Dense(8, None, True, "zeros", "zeros", None, None, None, None, None, 5, input_shape=(4,))])',
    'old_conv = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, 1, "same", None, 1, "relu")])',
    'splat = keras.Sequential([keras.Input((4,)), layers.Dense(8, **options)])',
    'twice = keras.Sequential([keras.Input((4,)), layers.Dense(8, "relu", activation="tanh")])',
    'dilated = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, 1, "valid", None, 2)])',
    'kept = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.GlobalMaxPooling2D(None, True)])',
    'bn_axis = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.BatchNormalization(1)])',
    'bn_last = keras.Sequential([keras.Input((8,)), layers.Dense(8), layers.BatchNormalization(1)])',
  ]);
  const expectations: [string, string, string, string, RegExp][] = [
    ['too_many', 'parse-error', '3:106', '5', /`Dense` is given 11 positional arguments, but only 10 .* are read by position; pass `5` by keyword/],
    ['old_conv', 'parse-error', '4:96', '"relu"', /7th positional argument of `Conv2D`, which is `groups` in Keras ≥ 2\.3 and Keras 3/],
    ['splat', 'parse-error', '5:62', '**options', /`\*\*options` passes arguments to `Dense` that are only known at run time/],
    ['twice', 'parse-error', '6:62', '"relu"', /`Dense` gets `activation` twice/],
    ['dilated', 'unsupported-layer', '7:93', '2', /`dilation_rate=2`: dilation is not supported yet/],
    ['kept', 'unsupported-layer', '8:105', 'True', /`keepdims=True`: keeping the pooled axes is not supported yet/],
    ['bn_axis', 'unsupported-layer', '9:102', '1', /`axis=1` of `BatchNormalization` is not supported: .*last axis only \(axis=-1, here also axis=3\)/],
  ];
  for (const [name, code, position, argument, message] of expectations) {
    const problem = refusal(result, name);
    assert.deepEqual([problem.code, lineColumn(problem.span), at(text, problem.span)], [code, position, argument], name);
    assert.match(problem.message, message, name);
  }
  // axis=1 is the last axis of a flat input: the same model as axis=-1.
  assert.deepEqual(summary(model(result, 'bn_last').layers), ['dense 8 linear', 'batchNorm linear']);
});

// #endregion

// #region 2. Loops

test('functional chains built in for loops are unrolled, with the loop variable bound', async () => {
  const { text, result } = await loadFixture('functional_loops.py');
  assert.deepEqual(result.problems, []);
  const looped = model(result, 'looped');
  assert.deepEqual(looped.inputShape, [32]);
  assert.deepEqual(summary(looped.layers), [
    'dense 128 relu', 'dropout linear', 'dense 64 relu', 'dropout linear', 'dense 32 relu', 'dropout linear', 'dense 1 sigmoid',
  ]);
  // Every unrolled layer points at the one call in the loop body.
  assert.equal(lineColumn(looped.layers[2].source.span), '10:9');
  assert.equal(at(text, looped.layers[2].source.span), 'layers.Dense(units, activation="relu")');
  assert.deepEqual(looped.layers.map((l) => l.name), ['dense', 'dropout', 'dense_1', 'dropout_1', 'dense_2', 'dropout_2', 'dense_3']);

  const tapered = model(result, 'tapered');
  assert.deepEqual(tapered.inputShape, [16]);
  assert.deepEqual(summary(tapered.layers), ['dense 64 tanh', 'batchNorm linear', 'dense 32 tanh', 'batchNorm linear', 'dense 16 tanh', 'dense 2 linear']);
});

test('add-chains and layer lists built in loops: augmented assignments and append are followed', async () => {
  const { result } = await loadFixture('functional_loops.py');
  const halving = model(result, 'halving');
  assert.deepEqual(halving.inputShape, [8]);
  assert.deepEqual(summary(halving.layers), ['dense 64 elu(1)', 'dense 32 elu(1)', 'dense 16 elu(1)']);
  const stacked = model(result, 'stacked');
  assert.deepEqual(summary(stacked.layers), ['dense 16 selu', 'dense 8 selu', 'dense 1 linear']);
});

test('loops that cannot be unrolled refuse the model at the loop, never a shortened model; a `while` on known values runs as in Python', async () => {
  const { text, result } = await loadLines([
    'def by_parameter(n):',
    '    inp = keras.Input(shape=(8,))',
    '    h = inp',
    '    for _ in range(n):',
    '        h = layers.Dense(4)(h)',
    '    return keras.Model(inp, h)',
    'inp2 = keras.Input(shape=(8,))',
    'h2 = inp2',
    'i = 0',
    'while i < 3:',
    '    h2 = layers.Dense(4)(h2)',
    '    i += 1',
    'whiled = keras.Model(inp2, h2)',
    'inp3 = keras.Input(shape=(8,))',
    'h3 = inp3',
    'for width in (8, 4, 2):',
    '    if width < threshold:',
    '        break',
    '    h3 = layers.Dense(width)(h3)',
    'stopped = keras.Model(inp3, h3)',
    'chain = keras.Sequential([keras.Input(shape=(4,))])',
    'while len(chain.layers) < 3:',
    '    chain.add(layers.Dense(3))',
  ]);
  const expectations: [string, string, string, RegExp][] = [
    ['by_parameter', '6:14', 'range(n)', /the `for` loop over `range\(n\)` is only known at run time, so the layers it builds cannot be read/],
    ['stopped', '19:8', 'width < threshold', /the loop stops or skips under `width < threshold`, a condition only known at run time/],
    ['chain', '24:7', 'len(chain.layers) < 3', /a `while` loop is not unrolled/],
  ];
  for (const [name, position, node, message] of expectations) {
    const problem = refusal(result, name);
    assert.deepEqual([problem.code, lineColumn(problem.span), at(text, problem.span)], ['parse-error', position, node], name);
    assert.match(problem.message, message, name);
  }
  // `i` goes 0, 1, 2: the loop body runs three times, as Python runs it.
  assert.deepEqual(summary(model(result, 'whiled').layers), ['dense 4 linear', 'dense 4 linear', 'dense 4 linear']);
  assert.equal(result.models.length, 1);
});

// #endregion

// #region 3. Builder functions

test('builder functions are read with the arguments of the calls that create the models', async () => {
  const { result } = await loadFixture('builder_arguments.py');
  assert.deepEqual(result.problems, []);
  // Called once: named after the function, as a function never called is.
  const getModel = model(result, 'get_model');
  assert.deepEqual(getModel.inputShape, [7]);
  assert.deepEqual(summary(getModel.layers), ['dense 32 relu', 'dense 1 sigmoid']);
  const build = model(result, 'build');
  assert.deepEqual(build.inputShape, [7]);
  assert.deepEqual(summary(build.layers), ['dense 16 tanh', 'dense 1 linear']);
  // Called twice with different arguments: one model per call, named after its variable.
  assert.deepEqual(summary(model(result, 'narrow').layers), ['dense 4 relu']);
  assert.deepEqual(model(result, 'narrow').inputShape, [4]);
  assert.deepEqual(summary(model(result, 'wide').layers), ['dense 64 relu', 'dense 32 relu', 'dense 16 relu']);
  assert.deepEqual(model(result, 'wide').inputShape, [3]);
  assert.equal(result.models.length, 4);
});

test('builder calls with run-time or missing arguments are refused at the call', async () => {
  const { text, result } = await loadLines([
    'import sys',
    'def runtime(width=8):',
    '    return keras.Sequential([keras.Input(shape=(3,)), layers.Dense(width)])',
    'r = runtime(int(sys.argv[1]))',
    'def needs(width):',
    '    return keras.Sequential([keras.Input(shape=(3,)), layers.Dense(width)])',
    'n = needs()',
    'def strict(width=4):',
    '    return keras.Sequential([keras.Input(shape=(3,)), layers.Dense(width)])',
    's = strict(4, 5)',
  ]);
  const runtime = refusal(result, 'runtime');
  assert.deepEqual([runtime.code, lineColumn(runtime.span), at(text, runtime.span)], ['parse-error', '6:13', 'int(sys.argv[1])']);
  assert.match(runtime.message, /`width` is given `int\(sys\.argv\[1\]\)` by the call `runtime\(int\(sys\.argv\[1\]\)\)` \(line 6\), which cannot be evaluated statically/);
  const needs = refusal(result, 'needs');
  assert.deepEqual([lineColumn(needs.span), at(text, needs.span)], ['9:5', 'needs()']);
  assert.match(needs.message, /does not give `width`, a parameter of `needs` without a default/);
  const strict = refusal(result, 'strict');
  assert.deepEqual([lineColumn(strict.span), at(text, strict.span)], ['12:15', '5']);
  assert.match(strict.message, /passes 2 positional arguments, but `strict` takes 1/);
});

// #endregion

// #region 4. Channels-first data

test('data_format="channels_first" refuses conv and pooling layers at the argument; Flatten only gets a model problem', async () => {
  const { text, result } = await loadLines([
    'conv = keras.Sequential([keras.Input((1, 28, 28)), layers.Conv2D(8, 3, data_format="channels_first"), layers.Flatten()])',
    'pool = keras.Sequential([keras.Input((1, 28, 28)), layers.MaxPooling2D(2, 2, "valid", "channels_first")])',
    'flat = keras.Sequential([keras.Input((4, 4, 2)), layers.Flatten("channels_first"), layers.Dense(3)])',
  ]);
  const conv = refusal(result, 'conv');
  assert.deepEqual([conv.code, lineColumn(conv.span), at(text, conv.span)], ['unsupported-layer', '3:84', '"channels_first"']);
  assert.match(conv.message, /`data_format="channels_first"` is not supported yet; .*`Conv2D` would be built with the wrong shape/);
  const pool = refusal(result, 'pool');
  assert.deepEqual([pool.code, lineColumn(pool.span), at(text, pool.span)], ['unsupported-layer', '4:87', '"channels_first"']);
  const flat = model(result, 'flat');
  assert.deepEqual(summary(flat.layers), ['flatten linear', 'dense 3 linear']);
  assert.deepEqual(flat.problems.map((p) => [p.code, lineColumn(p.span)]), [['unsupported-layer', '5:65']]);
  assert.match(flat.problems[0].message, /channels_first.* is not supported yet; `Flatten` is diagnosed channels-last/);
});

test('set_image_data_format("channels_first") refuses the conv models after it at the call; dense models still load', async () => {
  const { text, result } = await loadLines([
    'from tensorflow.keras import backend as K',
    'K.set_image_data_format("channels_first")',
    'cnn = keras.Sequential([keras.Input((1, 28, 28)), layers.Conv2D(8, 3), layers.Flatten(), layers.Dense(10)])',
    'mlp = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(1)])',
    'explicit = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, data_format="channels_last")])',
  ]);
  const cnn = refusal(result, 'cnn');
  assert.deepEqual([cnn.code, lineColumn(cnn.span), at(text, cnn.span)], ['unsupported-layer', '4:25', '"channels_first"']);
  assert.match(cnn.message, /`K\.set_image_data_format\("channels_first"\)` \(line 4\), the default data_format of every layer after it, is not supported yet/);
  assert.deepEqual(summary(model(result, 'mlp').layers), ['dense 8 linear', 'dense 1 linear']);
  assert.deepEqual(summary(model(result, 'explicit').layers), ['conv2d 8 linear']);
});

// #endregion

test('an Input tensor held in a variable opens a Sequential list, as written inline', async () => {
  const text = [
    'import keras',
    'from keras import layers',
    'N_FEATURES = 12',
    'inp = keras.Input(shape=(N_FEATURES,))',
    'model = keras.Sequential([inp, layers.Dense(8, activation="relu"), layers.Dense(1)])',
  ].join('\n');
  const result = await loadKerasPython(text, 'input_var.py');
  assert.equal(result.models.length, 1, JSON.stringify(result.problems));
  assert.deepEqual(result.models[0].inputShape, [12]);
  assert.deepEqual(result.models[0].layers.map((l) => [l.kind, l.units, l.activation.name]), [['dense', 8, 'relu'], ['dense', 1, 'linear']]);
});

test('an activation only known at run time, and ReLU options that cannot be rebuilt, refuse the model at the value', async () => {
  const header = ['from tensorflow import keras', 'from tensorflow.keras import layers'];
  const runtime = await loadKerasPython([
    ...header,
    'def build(act):',
    '    return keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation=act), layers.Dense(1)])',
    'model = build(input("activation? "))',
  ].join('\n'), 'runtime_act.py');
  assert.equal(runtime.models.length, 0);
  const refusal = runtime.problems.find((p) => /cannot be diagnosed/.test(p.message));
  assert.ok(refusal, JSON.stringify(runtime.problems.map((p) => p.message)));
  assert.match(refusal.message, /`activation` must be an activation name known before running the code/);
  const typo = await loadKerasPython([...header, 'model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation="reluu"), layers.Dense(1)])'].join('\n'), 'typo.py');
  assert.equal(typo.models.length, 1, 'a misspelt name is diagnosed as linear with a warning');
  assert.ok(typo.models[0].problems.concat(typo.problems).some((p) => /The activation name "reluu" is unknown/.test(p.message)));
  const capped = await loadKerasPython([...header, 'model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8), layers.ReLU(max_value=1.0), layers.Dense(1)])'].join('\n'), 'capped.py');
  assert.equal(capped.models.length, 0);
  const cap = capped.problems.find((p) => /max_value=1/.test(p.message));
  assert.ok(cap, JSON.stringify(capped.problems.map((p) => p.message)));
  assert.equal(cap.code, 'unsupported-layer');
  assert.deepEqual([cap.span.start.line, cap.span.start.column], [3, 91], "at the value 1.0");
  const six = await loadKerasPython([...header, 'model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8), layers.ReLU(max_value=6), layers.Dense(1)])'].join('\n'), 'six.py');
  assert.equal(six.models[0]?.layers[1].activation.name, 'relu6');
});
