/**
 * Every kind of suggested change as text edits, in each text format: bias and kernel
 * initialisers alone, BatchNorm before an activation, the learning rate, the loss (head/loss
 * fixes). Each edit set is applied and the file reloaded with the product's own loader, which must
 * show the change. Until the readers fill in `ModelSpec.training`, the optimiser and loss spans are
 * found in the text by the tests (`withTraining`); reloads check `training` when the reader sets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PositionIndex, type LossSpec, type ModelSpec, type OptimizerSpec } from '../../src/core/model';
import { applyEdits, type TextEdit } from '../../src/core/fixes';
import { suggestionEdits, suggestedLearningRate, type SuggestedChange } from '../../src/core/fixes/changes';
import { loadModelFile } from '../../src/core/parse/index';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'fixes');

async function load(file: string, name?: string, text = fs.readFileSync(path.join(FIXTURES, file), 'utf8')): Promise<{ text: string; model: ModelSpec }> {
  const result = await loadModelFile(text, file);
  assert.deepEqual(result.problems, [], `${file}: ${text}`);
  const model = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(model, file);
  return { text, model };
}

/** The model with `training` spans found in the text (when the reader has not set them). */
function withTraining(text: string, model: ModelSpec, optimizer?: Omit<OptimizerSpec, 'span' | 'text' | 'argumentsSpan' | 'learningRateValueSpan'> & { text: string; lr?: string }, loss?: Omit<LossSpec, 'span'>): ModelSpec {
  if (model.training?.optimizer && model.training.loss) return model;
  const positions = new PositionIndex(text);
  const spanOf = (needle: string, from = 0) => {
    const at = text.indexOf(needle, from);
    assert.ok(at >= 0, needle);
    return positions.span(at, at + needle.length);
  };
  const training: { optimizer?: OptimizerSpec; loss?: LossSpec } = {};
  if (optimizer) {
    const span = spanOf(optimizer.text);
    const open = optimizer.text.indexOf('(');
    training.optimizer = {
      name: optimizer.name,
      learningRate: optimizer.learningRate,
      text: optimizer.text,
      span,
      argumentsSpan: open >= 0 ? positions.span(span.start.offset + open, span.end.offset) : undefined,
      learningRateValueSpan: optimizer.lr ? spanOf(optimizer.lr, span.start.offset) : undefined,
    };
  }
  if (loss) training.loss = { ...loss, span: spanOf(loss.text) };
  return { ...model, training: { ...training, ...model.training } };
}

function editsOf(text: string, model: ModelSpec, change: SuggestedChange): TextEdit[] {
  const result = suggestionEdits(text, model, change);
  assert.ok(Array.isArray(result), `expected edits, got ${JSON.stringify(result)}`);
  return result;
}

async function applyAndReload(file: string, model: ModelSpec, text: string, change: SuggestedChange) {
  const newText = applyEdits(text, editsOf(text, model, change));
  const after = await load(file, model.name, newText);
  return { newText, after: after.model };
}

// #region Initialisers

test('Keras: bias initialiser replaced in place; kernel initialiser alone keeps the activation', async () => {
  const { text, model } = await load('keras_list.py');
  const bias = await applyAndReload('keras_list.py', model, text, { changes: [{ layerIndex: 0, biasInitializer: { name: 'zeros' } }] });
  assert.ok(bias.newText.includes("layers.Dense(64, activation='relu', bias_initializer='zeros'),"), bias.newText);
  assert.deepEqual(bias.after.layers[0].biasInitializer, { name: 'zeros' });
  const inserted = await applyAndReload('keras_list.py', model, text, { changes: [{ layerIndex: 2, biasInitializer: { name: 'zeros' } }] });
  assert.ok(inserted.newText.includes("layers.Dense(32, activation='relu', bias_initializer='zeros'),"), inserted.newText);
  const kernel = await applyAndReload('keras_list.py', model, text, { changes: [{ layerIndex: 1, kernelInitializer: { name: 'glorotUniform' } }] });
  assert.ok(kernel.newText.includes(`layers.Dense(64, activation='tanh', kernel_initializer="glorot_uniform"),`), kernel.newText);
  assert.deepEqual(kernel.after.layers[1].kernelInitializer, { name: 'glorotUniform' });
  assert.deepEqual(kernel.after.layers[1].activation, { name: 'tanh' });
  // Both on one layer: one insertion.
  const both = await applyAndReload('keras_list.py', model, text, { changes: [{ layerIndex: 2, kernelInitializer: { name: 'heNormal' }, biasInitializer: { name: 'zeros' } }] });
  assert.deepEqual([both.after.layers[2].kernelInitializer, both.after.layers[2].biasInitializer], [{ name: 'heNormal' }, { name: 'zeros' }]);
});

test('PyTorch: bias initialiser as an nn.init.zeros_ line after the init that set it', async () => {
  const { text, model } = await load('torch_class.py');
  const { newText, after } = await applyAndReload('torch_class.py', model, text, { changes: [{ layerIndex: 0, biasInitializer: { name: 'zeros' } }] });
  assert.ok(newText.includes('        nn.init.constant_(self.fc1.bias, -1.0)\n        nn.init.zeros_(self.fc1.bias)\n'), newText);
  assert.deepEqual(after.layers[0].biasInitializer, { name: 'zeros' });
  const kernel = await applyAndReload('torch_class.py', model, text, { changes: [{ layerIndex: 2, kernelInitializer: { name: 'heNormal' }, biasInitializer: { name: 'zeros' } }] });
  assert.ok(kernel.newText.includes('nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")\n        nn.init.zeros_(self.fc2.bias)'), kernel.newText);
  assert.deepEqual([kernel.after.layers[2].kernelInitializer, kernel.after.layers[2].biasInitializer], [{ name: 'heNormal' }, { name: 'zeros' }]);
  const refused = suggestionEdits(text, model, { changes: [{ layerIndex: 1, biasInitializer: { name: 'zeros' } }] });
  assert.ok('error' in refused);
});

test('TF.js: biasInitializer replaced; kernelInitializer alone', async () => {
  const { text, model } = await load('tfjs_model.js', 'model');
  const bias = await applyAndReload('tfjs_model.js', model, text, { changes: [{ layerIndex: 0, biasInitializer: { name: 'zeros' } }] });
  assert.ok(bias.newText.includes("inputShape: [10], biasInitializer: 'zeros' })"), bias.newText);
  assert.deepEqual(bias.after.layers[0].biasInitializer, { name: 'zeros' });
  const kernel = await applyAndReload('tfjs_model.js', model, text, { changes: [{ layerIndex: 1, kernelInitializer: { name: 'heNormal' }, biasInitializer: { name: 'zeros' } }] });
  assert.ok(kernel.newText.includes("tf.layers.dense({ units: 16, activation: 'relu', biasInitializer: 'zeros', kernelInitializer: 'heNormal' })"), kernel.newText);
  assert.deepEqual(kernel.after.layers[1].kernelInitializer, { name: 'heNormal' });
  assert.deepEqual(kernel.after.layers[1].activation, { name: 'relu' });
});

// #endregion

// #region BatchNorm

test('Keras list: Dense(…, activation) splits into Dense, BatchNormalization, Activation on their own lines', async () => {
  const { text, model } = await load('keras_list.py');
  const { newText, after } = await applyAndReload('keras_list.py', model, text, {
    changes: [{ layerIndex: 1, batchNormBeforeActivation: true }, { layerIndex: 2, batchNormBeforeActivation: true }],
  });
  assert.ok(newText.includes(
    "    layers.Dense(64, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0)),\n    layers.BatchNormalization(),\n    layers.Activation('tanh'),\n    layers.Dense(32),\n    layers.BatchNormalization(),\n    layers.Activation('relu'),\n",
  ), newText);
  assert.deepEqual(after.layers.map((l) => `${l.kind}:${l.activation.name}`), [
    'dense:relu', 'dense:linear', 'batchNorm:linear', 'activation:tanh', 'dense:linear', 'batchNorm:linear', 'activation:relu', 'dense:softmax',
  ]);
});

test('Keras model.add: new add lines after the layer; before a standalone activation', async () => {
  const { text, model } = await load('keras_add.py');
  const { newText, after } = await applyAndReload('keras_add.py', model, text, {
    changes: [{ layerIndex: 0, batchNormBeforeActivation: true }, { layerIndex: 2, batchNormBeforeActivation: true }],
  });
  // `import keras` gives a name for BatchNormalization, so no import line is added.
  assert.ok(newText.includes('model.add(Dense(32, input_dim=100))\nmodel.add(keras.layers.BatchNormalization())\nmodel.add(Activation("sigmoid"))\nmodel.add(Dense(16))\nmodel.add(keras.layers.BatchNormalization())\nmodel.add(Activation("tanh"))\n'), newText);
  assert.deepEqual(after.layers.map((l) => l.kind), ['dense', 'batchNorm', 'activation', 'dense', 'batchNorm', 'activation', 'dense']);
});

test('Keras functional: BatchNorm nested into the call chain', async () => {
  const { text, model } = await load('keras_functional.py');
  const { newText, after } = await applyAndReload('keras_functional.py', model, text, {
    changes: [{ layerIndex: 0, batchNormBeforeActivation: true }, { layerIndex: 2, batchNormBeforeActivation: true }],
  });
  assert.ok(newText.includes('x = tf.keras.layers.Activation("tanh")(tf.keras.layers.BatchNormalization()(tf.keras.layers.Dense(16)(inputs)))'), newText);
  assert.ok(newText.includes('x = tf.keras.layers.Activation("sigmoid")(tf.keras.layers.BatchNormalization()(x))'), newText);
  assert.deepEqual(after.layers.map((l) => `${l.kind}:${l.activation.name}`), ['dense:linear', 'batchNorm:linear', 'activation:tanh', 'dense:linear', 'batchNorm:linear', 'activation:sigmoid', 'dense:linear']);
});

test('TF.js: tf.layers.batchNormalization() in a layers list and in an add chain', async () => {
  const { text, model } = await load('tfjs_model.js', 'model');
  const list = await applyAndReload('tfjs_model.js', model, text, {
    changes: [{ layerIndex: 1, batchNormBeforeActivation: true }, { layerIndex: 3, batchNormBeforeActivation: true }],
  });
  assert.ok(list.newText.includes(
    "    tf.layers.dense({ units: 16 }),\n    tf.layers.batchNormalization(),\n    tf.layers.activation({ activation: 'relu' }),\n    tf.layers.dense({ units: 8 }),\n    tf.layers.batchNormalization(),\n    tf.layers.activation({ activation: 'tanh' }),\n",
  ), list.newText);
  assert.deepEqual(list.after.layers.map((l) => l.kind), ['dense', 'dense', 'batchNorm', 'activation', 'dense', 'batchNorm', 'activation', 'dense']);
  const chain = await load('tfjs_model.js', 'chain');
  const added = await applyAndReload('tfjs_model.js', chain.model, text, { changes: [{ layerIndex: 0, batchNormBeforeActivation: true }] });
  assert.ok(added.newText.includes("chain.add(tf.layers.dense({ units: 12, inputShape: [4] }));\nchain.add(tf.layers.batchNormalization());\nchain.add(tf.layers.activation({ activation: 'tanh' }));\n"), added.newText);
  assert.deepEqual(added.after.layers.map((l) => `${l.kind}:${l.activation.name}`), ['dense:linear', 'batchNorm:linear', 'activation:tanh', 'dense:linear']);
});

test('PyTorch class: self.bnK defined after the layer and applied in forward; names do not clash', async () => {
  const { text, model } = await load('torch_class.py');
  const { newText, after } = await applyAndReload('torch_class.py', model, text, {
    changes: [{ layerIndex: 1, batchNormBeforeActivation: true }, { layerIndex: 3, batchNormBeforeActivation: true }],
  });
  // bn1 is taken by the class: the new ones are bn2 and bn3.
  assert.ok(newText.includes('        self.fc1 = nn.Linear(20, 64)\n        self.bn2 = nn.BatchNorm1d(64)\n'), newText);
  assert.ok(newText.includes('        self.fc2 = nn.Linear(64, 32)\n        self.bn3 = nn.BatchNorm1d(32)\n'), newText);
  assert.ok(newText.includes('x = torch.sigmoid(self.bn2(self.fc1(x)))'), newText);
  assert.ok(newText.includes('x = F.relu(self.bn3(self.fc2(x)))'), newText);
  assert.deepEqual(after.layers.map((l) => l.kind), ['dense', 'batchNorm', 'activation', 'dense', 'batchNorm', 'activation', 'activation', 'dense', 'activation']);
});

test('PyTorch nn.Sequential: BatchNorm2d after a conv, BatchNorm1d after a Linear, as new items', async () => {
  const { text, model } = await load('torch_sequential.py');
  const { newText, after } = await applyAndReload('torch_sequential.py', model, text, {
    changes: [{ layerIndex: 1, batchNormBeforeActivation: true }, { layerIndex: 4, batchNormBeforeActivation: true }],
  });
  assert.ok(newText.includes('    nn.Conv2d(1, 8, 3),\n    nn.BatchNorm2d(8),\n    nn.Tanh(),\n'), newText);
  assert.ok(newText.includes('    nn.Linear(8 * 26 * 26, 32),\n    nn.BatchNorm1d(32),\n    nn.Sigmoid(),\n'), newText);
  assert.deepEqual(after.layers.map((l) => l.kind), ['conv2d', 'batchNorm', 'activation', 'flatten', 'dense', 'batchNorm', 'activation', 'dense']);
});

test('Keras bare imports: BatchNormalization imported next to the existing keras.layers import', async () => {
  const text = 'from keras.models import Sequential\nfrom keras.layers import Dense\n\nmodel = Sequential()\nmodel.add(Dense(8, input_dim=4, activation="tanh"))\nmodel.add(Dense(1))\n';
  const { model } = await load('bare.py', undefined, text);
  const { newText, after } = await applyAndReload('bare.py', model, text, { changes: [{ layerIndex: 0, batchNormBeforeActivation: true }] });
  assert.ok(newText.startsWith('from keras.models import Sequential\nfrom keras.layers import Dense\nfrom keras.layers import BatchNormalization\nfrom keras.layers import Activation\n'), newText);
  assert.ok(newText.includes('model.add(Dense(8, input_dim=4))\nmodel.add(BatchNormalization())\nmodel.add(Activation("tanh"))\n'), newText);
  assert.deepEqual(after.layers.map((l) => l.kind), ['dense', 'batchNorm', 'activation', 'dense']);
});

test('BatchNorm is refused where the format cannot express it: comprehensions, saved JSON', async () => {
  const text = 'from tensorflow.keras import layers, Sequential\n\nmodel = Sequential([layers.Input(shape=(4,))] + [layers.Dense(8, activation="tanh") for _ in range(3)])\n';
  const { model } = await load('comprehension.py', undefined, text);
  const refused = suggestionEdits(text, model, { changes: [{ layerIndex: 0, batchNormBeforeActivation: true }] });
  assert.ok('error' in refused && /comprehension/.test(refused.error), JSON.stringify(refused));
  const json = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'saved', 'keras2_sequential.json'), 'utf8');
  const saved = await load('keras2_sequential.json', undefined, json);
  const jsonRefused = suggestionEdits(json, saved.model, { changes: [{ layerIndex: 0, batchNormBeforeActivation: true }] });
  assert.ok('error' in jsonRefused && /saved model/.test(jsonRefused.error));
});

// #endregion

// #region Learning rate and loss

test('learning rate: string optimisers become classes, stated rates are replaced, missing ones inserted', async () => {
  const keras = await load('keras_list.py');
  const kerasModel = withTraining(keras.text, keras.model, { name: 'adam', text: "'adam'" }, { kind: 'categoricalCrossentropy', input: 'probabilities', text: "'categorical_crossentropy'" });
  assert.equal(suggestedLearningRate(kerasModel, { changes: [], learningRateFactor: 0.1 }), 0.0001);
  const k = await applyAndReload('keras_list.py', kerasModel, keras.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(k.newText.includes('model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0001), loss='), k.newText);
  if (k.after.training?.optimizer) assert.equal(k.after.training.optimizer.learningRate, 0.0001);

  const add = await load('keras_add.py');
  const sgd = withTraining(add.text, add.model, { name: 'sgd', momentum: 0.9, text: 'keras.optimizers.SGD(momentum=0.9)' });
  const s = await applyAndReload('keras_add.py', sgd, add.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(s.newText.includes('keras.optimizers.SGD(momentum=0.9, learning_rate=0.001)'), s.newText);

  const functional = await load('keras_functional.py');
  const adam = withTraining(functional.text, functional.model, { name: 'adam', learningRate: 0.01, text: 'tf.keras.optimizers.Adam(learning_rate=0.01)', lr: '0.01' });
  const f = await applyAndReload('keras_functional.py', adam, functional.text, { changes: [], learningRateFactor: 0.1, learningRate: 0.001 });
  assert.ok(f.newText.includes('tf.keras.optimizers.Adam(learning_rate=0.001)'), f.newText);

  const torch = await load('torch_class.py');
  const torchModel = withTraining(torch.text, torch.model, { name: 'adam', text: 'torch.optim.Adam(model.parameters())' });
  const t = await applyAndReload('torch_class.py', torchModel, torch.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(t.newText.includes('torch.optim.Adam(model.parameters(), lr=0.0001)'), t.newText);
  const seq = await load('torch_sequential.py');
  const seqModel = withTraining(seq.text, seq.model, { name: 'sgd', learningRate: 0.1, momentum: 0.9, text: 'torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)', lr: '0.1' });
  const q = await applyAndReload('torch_sequential.py', seqModel, seq.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(q.newText.includes('lr=0.01, momentum=0.9)'), q.newText);
  if (q.after.training?.optimizer) assert.equal(q.after.training.optimizer.learningRate, 0.01);

  const tfjs = await load('tfjs_model.js', 'model');
  const tfjsModel = withTraining(tfjs.text, tfjs.model, { name: 'adam', text: "'adam'" });
  const j = await applyAndReload('tfjs_model.js', tfjsModel, tfjs.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(j.newText.includes("model.compile({ optimizer: tf.train.adam(0.0001), loss: 'categoricalCrossentropy' });"), j.newText);
  const chain = await load('tfjs_model.js', 'chain');
  const chainModel = withTraining(tfjs.text, chain.model, { name: 'sgd', text: 'tf.train.sgd()' });
  const c = await applyAndReload('tfjs_model.js', chainModel, tfjs.text, { changes: [], learningRateFactor: 0.1 });
  assert.ok(c.newText.includes('tf.train.sgd(0.001)'), c.newText);
});

test('learning rate without a stated optimiser stays advice', async () => {
  const { text, model } = await load('keras_functional.py');
  const bare = { ...model, training: undefined };
  const refused = suggestionEdits(text, bare, { changes: [], learningRateFactor: 0.1 });
  assert.ok('error' in refused && /no optimiser/.test(refused.error));
  const data = suggestionEdits(text, model, { changes: [], dataTransform: 'standardize' });
  assert.ok('error' in data && /input data/.test(data.error));
});

test('head/loss: softmax on one unit → sigmoid with binary cross-entropy (Keras, TF.js); torch softmax before CrossEntropyLoss removed', async () => {
  const keras = await load('keras_list.py');
  const kerasModel = withTraining(keras.text, keras.model, { name: 'adam', text: "'adam'" }, { kind: 'categoricalCrossentropy', input: 'probabilities', text: "'categorical_crossentropy'" });
  const k = await applyAndReload('keras_list.py', kerasModel, keras.text, {
    changes: [{ layerIndex: 3, activation: { name: 'sigmoid' } }],
    loss: { kind: 'binaryCrossentropy', input: 'probabilities' },
  });
  assert.ok(k.newText.includes("layers.Dense(1, activation=\"sigmoid\"),"), k.newText);
  assert.ok(k.newText.includes("loss='binary_crossentropy')"), k.newText);
  assert.deepEqual(k.after.layers[3].activation, { name: 'sigmoid' });
  if (k.after.training?.loss) assert.equal(k.after.training.loss.kind, 'binaryCrossentropy');
  const logits = suggestionEdits(keras.text, kerasModel, { changes: [{ layerIndex: 3, activation: { name: 'linear' } }], loss: { kind: 'binaryCrossentropy', input: 'logits' } });
  assert.ok(Array.isArray(logits));
  assert.ok(applyEdits(keras.text, logits).includes('loss=keras.losses.BinaryCrossentropy(from_logits=True)'));

  const tfjs = await load('tfjs_model.js', 'model');
  const tfjsModel = withTraining(tfjs.text, tfjs.model, undefined, { kind: 'categoricalCrossentropy', input: 'probabilities', text: "'categoricalCrossentropy'" });
  const j = await applyAndReload('tfjs_model.js', tfjsModel, tfjs.text, {
    changes: [{ layerIndex: 4, activation: { name: 'sigmoid' } }],
    loss: { kind: 'binaryCrossentropy', input: 'probabilities' },
  });
  assert.ok(j.newText.includes("tf.layers.dense({ units: 1, activation: 'sigmoid' }),") && j.newText.includes("loss: 'binaryCrossentropy'"), j.newText);

  const torch = await load('torch_class.py');
  const torchModel = withTraining(torch.text, torch.model, undefined, { kind: 'categoricalCrossentropy', input: 'logits', sparse: true, text: 'nn.CrossEntropyLoss()' });
  const t = await applyAndReload('torch_class.py', torchModel, torch.text, {
    changes: [{ layerIndex: 6, activation: { name: 'linear' } }],
    loss: { kind: 'categoricalCrossentropy', input: 'logits', sparse: true },
  });
  assert.ok(t.newText.includes('        return self.fc3(x)\n'), t.newText);
  assert.ok(t.newText.includes('criterion = nn.CrossEntropyLoss()'), t.newText);
  assert.equal(t.after.layers.length, 6);
  const nll = suggestionEdits(torch.text, torchModel, { changes: [], loss: { kind: 'categoricalCrossentropy', input: 'logProbabilities', sparse: true } });
  assert.ok(Array.isArray(nll) && applyEdits(torch.text, nll).includes('criterion = nn.NLLLoss()'));
});

// #endregion
