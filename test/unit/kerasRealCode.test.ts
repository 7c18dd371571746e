/**
 * Keras Python as public tutorials and questions write it (issue 12): Keras 1 spellings read as
 * their current names with a note, tuple assignments, and the `image_data_format()` branch that
 * picks the input shape. Each model file here is written for the test, in those styles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'keras');

async function load(lines: readonly string[]): Promise<{ text: string; result: LoadResult }> {
  const text = [...lines, ''].join('\n');
  return { text, result: await loadKerasPython(text, 'inline.py') };
}

function only(result: LoadResult): ModelSpec {
  assert.equal(result.models.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return result.models[0];
}

function layer(model: ModelSpec, index: number, kind: LayerSpec['kind']): LayerSpec {
  const found = model.layers[index];
  assert.equal(found?.kind, kind);
  return found;
}

function textAt(text: string, span: SourceSpan): string {
  return text.slice(span.start.offset, span.end.offset);
}

test('a Keras 1 MNIST convnet (Convolution2D(n, r, c), border_mode, init, output_dim, image_dim_ordering) is read with a note for each spelling', async () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'keras1_mnist_cnn.py'), 'utf8');
  const result = await loadKerasPython(text, 'keras1_mnist_cnn.py');
  const model = only(result);
  assert.deepEqual(model.inputShape, [28, 28, 1]);
  assert.deepEqual(model.layers.map((l) => l.kind), ['conv2d', 'activation', 'conv2d', 'activation', 'maxPool2d', 'dropout', 'flatten', 'dense', 'activation', 'dropout', 'dense', 'activation']);
  const conv = layer(model, 0, 'conv2d');
  assert.equal(conv.filters, 32);
  assert.deepEqual(conv.kernelSize, [3, 3]);
  assert.deepEqual(conv.strides, [1, 1]);
  assert.equal(conv.padding, 'valid');
  assert.equal(layer(model, 7, 'dense').kernelInitializer?.name, 'heNormal');
  assert.equal(layer(model, 10, 'dense').units, 10);
  const notes = (model.notes ?? []).map((n) => [n.message, textAt(text, n.span)]);
  assert.deepEqual(
    notes.filter(([m]) => m.includes('Keras 1')),
    [
      ["`border_mode` is the Keras 1 name of `padding`; read as padding='valid'.", "border_mode='valid'"],
      ["`Convolution2D(nb_filters, kernel_size[0], kernel_size[1])` is Keras 1's (nb_filter, nb_row, nb_col); read as filters=32, kernel_size=(3, 3).", 'kernel_size[0]'],
      ["`Convolution2D(nb_filters, kernel_size[0], kernel_size[1])` is Keras 1's (nb_filter, nb_row, nb_col); read as filters=32, kernel_size=(3, 3).", 'kernel_size[0]'],
      ["`init` is the Keras 1 name of `kernel_initializer`; read as kernel_initializer='he_normal'.", "init='he_normal'"],
      ['`output_dim` is the Keras 1 name of `units`; read as units=10.', 'output_dim=nb_classes'],
    ],
  );
  assert.ok(notes.some(([m, at]) => m.includes('read as "tf", Keras\' default') && at === 'K.image_dim_ordering()'), JSON.stringify(notes));
  assert.equal(model.training?.optimizer?.name, 'adadelta');
});

test('Dense(output_dim=1) alone reads units=1 (it was refused as "`units` is missing")', async () => {
  const { result } = await load(['from keras.models import Sequential', 'from keras.layers import Dense', 'model = Sequential()', 'model.add(Dense(output_dim=1, input_dim=8))']);
  const model = only(result);
  assert.equal(layer(model, 0, 'dense').units, 1);
  assert.deepEqual(model.notes?.map((n) => n.message), ['`output_dim` is the Keras 1 name of `units`; read as units=1.']);
});

test('Keras 1 keywords: nb_filter, nb_row/nb_col, subsample, Dropout(p=), MaxPooling1D(pool_length=, stride=)', async () => {
  const { result } = await load([
    'from keras.models import Sequential',
    'from keras.layers import Convolution1D, Convolution2D, MaxPooling1D, Dropout, Flatten, Dense, Reshape',
    'model = Sequential([',
    "    Convolution2D(nb_filter=16, nb_row=5, nb_col=3, subsample=(2, 2), border_mode='same', input_shape=(32, 32, 3)),",
    '    Dropout(p=0.3),',
    '    Flatten(),',
    '    Dense(64),',
    '])',
    'seq = Sequential([',
    "    Convolution1D(nb_filter=8, filter_length=3, subsample_length=1, border_mode='valid', input_shape=(100, 4)),",
    '    MaxPooling1D(pool_length=4, stride=2),',
    '    Flatten(),',
    '    Dense(1),',
    '])',
  ]);
  assert.equal(result.models.length, 2, JSON.stringify(result.problems));
  const [model, seq] = result.models;
  const conv = layer(model, 0, 'conv2d');
  assert.deepEqual([conv.filters, conv.kernelSize, conv.strides, conv.padding], [16, [5, 3], [2, 2], 'same']);
  assert.equal(layer(model, 1, 'dropout').rate, 0.3);
  const conv1 = layer(seq, 0, 'conv1d');
  assert.deepEqual([conv1.filters, conv1.kernelSize, conv1.strides], [8, [3], [1]]);
  const pool = layer(seq, 1, 'maxPool1d');
  assert.deepEqual([pool.poolSize, pool.strides], [[4], [2]]);
  assert.ok(model.notes?.some((n) => n.message === '`nb_row`, `nb_col` are the Keras 1 names of `kernel_size`; read as kernel_size=(5, 3).'));
  assert.ok(seq.notes?.some((n) => n.message === '`pool_length` is the Keras 1 name of `pool_size`; read as pool_size=4.'));
});

test('a modern Conv2D(64, 3, 2) keeps Keras 2/3 positional meaning (strides=2), with no note', async () => {
  const { result } = await load(['from tensorflow import keras', 'from tensorflow.keras import layers', 'model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(64, 3, 2), layers.Flatten(), layers.Dense(10)])']);
  const model = only(result);
  const conv = layer(model, 0, 'conv2d');
  assert.deepEqual([conv.kernelSize, conv.strides], [[3, 3], [2, 2]]);
  assert.equal(model.notes, undefined);
});

test("dim_ordering='th' is channels-first: refused at the argument like data_format='channels_first'", async () => {
  const { text, result } = await load([
    'from keras.models import Sequential',
    'from keras.layers import Convolution2D, Flatten, Dense',
    "model = Sequential([Convolution2D(8, 3, 3, dim_ordering='th', input_shape=(1, 28, 28)), Flatten(), Dense(10)])",
  ]);
  assert.equal(result.models.length, 0);
  assert.equal(result.problems.length, 1);
  assert.match(result.problems[0].message, /`dim_ordering='th'` \(Keras 1's data_format="channels_first"\) is not supported yet/);
  assert.equal(textAt(text, result.problems[0].span), "'th'");
});

test('both the Keras 1 name and the current one of an argument are refused, not one silently dropped', async () => {
  const { text, result } = await load(['from keras.models import Sequential', 'from keras.layers import Dense', 'model = Sequential([Dense(4, output_dim=2, input_dim=3)])']);
  assert.equal(result.models.length, 0);
  assert.match(result.problems[0].message, /gets `units` twice|gets both `output_dim`/);
  assert.ok(textAt(text, result.problems[0].span).length > 0);
});

test('img_rows, img_cols = 28, 28 binds each name to its number, at module level and in a builder', async () => {
  const { result } = await load([
    'from keras.models import Sequential',
    'from keras.layers import Conv2D, Flatten, Dense',
    'img_rows, img_cols = 28, 28',
    'model = Sequential([Conv2D(8, (3, 3), input_shape=(img_rows, img_cols, 1)), Flatten(), Dense(10)])',
    'def build():',
    '    rows, cols, channels = 32, 24, 3',
    '    m = Sequential()',
    '    m.add(Conv2D(8, (3, 3), input_shape=(rows, cols, channels)))',
    '    m.add(Flatten())',
    '    m.add(Dense(10))',
    '    return m',
    'other = build()',
  ]);
  assert.equal(result.models.length, 2, JSON.stringify(result.problems));
  assert.deepEqual(result.models.map((m) => m.inputShape), [[28, 28, 1], [32, 24, 3]]);
});

test("if K.image_data_format() == 'channels_first' takes the channels_last branch (Keras' default), with a note at the call", async () => {
  const { text, result } = await load([
    'import keras',
    'from keras import backend as K',
    'from keras import layers',
    'img_rows, img_cols = 28, 28',
    "if K.image_data_format() == 'channels_first':",
    '    input_shape = (1, img_rows, img_cols)',
    'else:',
    '    input_shape = (img_rows, img_cols, 1)',
    'model = keras.Sequential([layers.Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape), layers.Flatten(), layers.Dense(10, activation="softmax")])',
  ]);
  const model = only(result);
  assert.deepEqual(model.inputShape, [28, 28, 1]);
  const note = model.notes?.find((n) => n.message.includes('image_data_format'));
  assert.ok(note, JSON.stringify(model.notes));
  assert.equal(note.message, '`K.image_data_format()` is read as "channels_last", Keras\' default (the `~/.keras/keras.json` setting is not read statically).');
  assert.equal(textAt(text, note.span), 'K.image_data_format()');
});

test("the file's own set_image_data_format('channels_first') decides the branch: the channels-first layer is refused there", async () => {
  const { text, result } = await load([
    'import keras',
    'from keras import backend as K',
    'from keras import layers',
    "K.set_image_data_format('channels_first')",
    "if K.image_data_format() == 'channels_first':",
    '    input_shape = (1, 28, 28)',
    'else:',
    '    input_shape = (28, 28, 1)',
    'model = keras.Sequential([layers.Conv2D(32, 3, input_shape=input_shape), layers.Flatten(), layers.Dense(10)])',
  ]);
  assert.equal(result.models.length, 0);
  assert.equal(result.problems.length, 1);
  assert.match(result.problems[0].message, /set_image_data_format\('channels_first'\)/);
  assert.equal(textAt(text, result.problems[0].span), "'channels_first'");
});

test('a subclassed keras.Model is read once per instantiation, its __init__ bound to the call (MyModel(hidden_dim=256, output_dim=16)); an argument known only at run time is refused at the call', async () => {
  const model = (args: string) =>
    [
      'from tensorflow import keras',
      '',
      'class MyModel(keras.Model):',
      '    def __init__(self, hidden_dim=128, output_dim=10):',
      '        super().__init__()',
      '        self.hidden = keras.layers.Dense(hidden_dim, activation="relu")',
      '        self.head = keras.layers.Dense(output_dim)',
      '',
      '    def call(self, inputs):',
      '        return self.head(self.hidden(inputs))',
      '',
      args,
      '',
    ].join('\n');
  const two = await loadKerasPython(model('model = MyModel(hidden_dim=256, output_dim=16)\nmodel.build((None, 32))\nsmall = MyModel(64)'), 'subclass.py');
  assert.deepEqual(two.problems, []);
  assert.deepEqual(
    two.models.map((m) => [m.name, m.inputShape, m.layers.filter((l) => l.kind === 'dense').map((l) => l.units)]),
    [
      ['model', [32], [256, 16]],
      ['small', [32], [64, 10]],
    ],
  );
  const uninstantiated = only(await loadKerasPython(model('').replace('class MyModel', '# activation-lens: input_shape=(32,)\nclass MyModel'), 'defaults.py'));
  assert.deepEqual(uninstantiated.layers.filter((l) => l.kind === 'dense').map((l) => l.units), [128, 10]);
  const text = model('import sys\nmodel = MyModel(hidden_dim=int(sys.argv[1]))\nmodel.build((None, 32))');
  const refused = await loadKerasPython(text, 'runtime.py');
  assert.equal(refused.models.length, 0);
  assert.equal(refused.problems.length, 1);
  assert.match(refused.problems[0].message, /hidden_dim.*MyModel\(hidden_dim=int\(sys\.argv\[1\]\)\)/);
  assert.equal(refused.problems[0].span.start.line, 13);
});

test('f-string layer names follow Python format specs (zero padding, precision, alignment); a spec it does not evaluate is a note, never a wrong name', async () => {
  const text = [
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    'I = 8',
    'R = 0.25',
    'model = keras.Sequential([',
    '    keras.Input(shape=(4,)),',
    '    layers.Dense(16, name=f"dense_{I:03d}"),',
    `    layers.Dense(16, name=f"d{R:.2f}_{'x':>3}|{-5:04d}"),`,
    '    layers.Dense(2, name=f"out_{I:x}"),',
    '])',
    '',
  ].join('\n');
  const model = only(await loadKerasPython(text, 'names.py'));
  assert.deepEqual(model.layers.slice(0, 2).map((l) => l.name), ['dense_008', 'd0.25_  x|-005']);
  assert.notEqual(model.layers[2].name, 'out_8');
  const problems = model.problems ?? [];
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /\{I:x\}/);
  assert.equal(problems[0].span.start.line, 9);
});
