/**
 * The training set-up (ModelSpec.training) the TF.js source and saved-model readers state: the
 * optimiser with its learning rate and spans, the loss with what it expects, and notes for what
 * the IR cannot express (issue 11).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadTfjsSource, MAX_TFJS_EVALUATIONS } from '../../src/core/frameworks/tfjs/source';
import { loadModelFile } from '../../src/core/parse/index';
import { makeHdf5, makeZip } from '../fixtures/saved/generate';

const SAVED = path.join(__dirname, '..', 'fixtures', 'saved', 'training');
const readSaved = (name: string): string => fs.readFileSync(path.join(SAVED, name), 'utf8');

// The TF.js sources are inline: every file of test/fixtures/tfjs is read as a fuzz seed.
const OPTIMIZERS_JS = `// Each model is compiled with a different optimiser form of TF.js.
const tf = require('@tensorflow/tfjs');

const byName = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
byName.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const adam = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
adam.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });

const sgd = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
sgd.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });

const momentum = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
momentum.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });

const LEARNING_RATE = 0.005;
const rmsprop = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
rmsprop.compile({ optimizer: tf.train.rmsprop(LEARNING_RATE), loss: 'categoricalCrossentropy' });

const adadelta = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
adadelta.compile({ optimizer: tf.train.adadelta(), loss: 'categoricalCrossentropy' });

const adagrad = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
adagrad.compile({ optimizer: tf.train.adagrad(0.1), loss: 'categoricalCrossentropy' });

const adamax = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
adamax.compile({ optimizer: tf.train.adamax(), loss: 'categoricalCrossentropy' });

const rmspropMomentum = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
rmspropMomentum.compile({ optimizer: tf.train.rmsprop(0.001, 0.9, 0.5), loss: 'categoricalCrossentropy' });

module.exports = { byName, adam, sgd, momentum, rmsprop, adadelta, adagrad, adamax, rmspropMomentum };
`;

const LOSSES_TS = `// Each model is compiled with a different loss form of TF.js.
import * as tf from '@tensorflow/tfjs';
import { losses } from '@tensorflow/tfjs';

export function build(): void {
  const categorical = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
  categorical.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });

  const sparse = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
  sparse.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });

  const binary = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4], activation: 'sigmoid' })] });
  binary.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });

  const mse = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  mse.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });

  const mae = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  mae.compile({ optimizer: 'sgd', loss: 'meanAbsoluteError' });

  const softmaxCE = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });
  softmaxCE.compile({ optimizer: 'sgd', loss: tf.losses.softmaxCrossEntropy });

  const sigmoidCE = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  sigmoidCE.compile({ optimizer: 'sgd', loss: tf.losses.sigmoidCrossEntropy });

  const coreMse = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  coreMse.compile({ optimizer: 'sgd', loss: losses.meanSquaredError });

  const metricCE = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })] });
  metricCE.compile({ optimizer: 'sgd', loss: tf.metrics.categoricalCrossentropy });

  const huber = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  huber.compile({ optimizer: 'sgd', loss: tf.losses.huberLoss });

  const absolute = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
  absolute.compile({ optimizer: 'sgd', loss: tf.losses.absoluteDifference });

}
`;

const BOUND_JS = `// Optimisers and options bound to constants, models in functions and classes.
import * as tf from '@tensorflow/tfjs';

const RATE = 0.02;
const OPTIMIZER = tf.train.sgd(RATE);
const OPTIONS = { optimizer: tf.train.adam(3e-4), loss: 'binaryCrossentropy' };

export function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' }));
  model.compile({ optimizer: OPTIMIZER, loss: 'binaryCrossentropy' });
  return model;
}

export function createOther() {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 1, inputShape: [2], activation: 'sigmoid' }));
  model.compile(OPTIONS);
  return model;
}

export class Classifier {
  constructor() {
    this.model = tf.sequential();
    this.model.add(tf.layers.dense({ units: 3, inputShape: [2], activation: 'softmax' }));
  }

  async train(xs, ys) {
    this.model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy' });
    await this.model.fit(xs, ys);
  }
}

const input = tf.input({ shape: [2] });
const output = tf.layers.dense({ units: 1 }).apply(input);
const functional = tf.model({ inputs: input, outputs: output });
functional.compile({ optimizer: tf.train.adagrad(0.05), loss: 'meanSquaredError' });

const uncompiled = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
`;

const UNSUPPORTED_JS = `// Optimisers and losses the IR cannot express: each is left out with a note.
const tf = require('@tensorflow/tfjs');

const shortName = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
shortName.compile({ optimizer: 'adam', loss: 'mse' });

const hinge = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
hinge.compile({ optimizer: tf.train.momentum(0.1, 0.9, true), loss: tf.losses.hingeLoss });

const custom = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
custom.compile({ optimizer: 'nadam', loss: (yTrue, yPred) => tf.losses.meanSquaredError(yTrue, yPred) });

function withRate(rate) {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  model.compile({ optimizer: tf.train.adam(rate), loss: 'poisson' });
  return model;
}

module.exports = { shortName, hinge, custom, withRate };
`;


function only(result: LoadResult, name: string): ModelSpec {
  const found = result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name} missing; models: ${result.models.map((m) => m.name).join(', ')}; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan | undefined): string | undefined {
  return span ? text.slice(span.start.offset, span.end.offset) : undefined;
}

/** The optimiser as [name, learningRate, momentum, span text, arguments text, rate text]. */
function optimizer(text: string, model: ModelSpec): unknown[] | undefined {
  const o = model.training?.optimizer;
  if (!o) return undefined;
  assert.equal(at(text, o.span), o.text);
  return [o.name, o.learningRate, o.momentum, at(text, o.span), at(text, o.argumentsSpan), at(text, o.learningRateValueSpan)];
}

/** The loss as [kind, input, sparse, span text]. */
function loss(text: string, model: ModelSpec): unknown[] | undefined {
  const l = model.training?.loss;
  if (!l) return undefined;
  assert.equal(at(text, l.span), l.text);
  return [l.kind, l.input, l.sparse, at(text, l.span)];
}

test('TF.js: compile with optimiser names and every tf.train factory, rates from literals and constants', async () => {
  const text = OPTIMIZERS_JS;
  const result = await loadTfjsSource(text, 'optimizers.js');
  assert.deepEqual(result.problems, []);
  const expected: Record<string, unknown[]> = {
    byName: ['adam', undefined, undefined, "'adam'", undefined, undefined],
    adam: ['adam', 0.001, undefined, 'tf.train.adam(0.001)', '(0.001)', '0.001'],
    sgd: ['sgd', 0.1, undefined, 'tf.train.sgd(0.1)', '(0.1)', '0.1'],
    momentum: ['sgd', 0.01, 0.9, 'tf.train.momentum(0.01, 0.9)', '(0.01, 0.9)', '0.01'],
    rmsprop: ['rmsprop', 0.005, undefined, 'tf.train.rmsprop(LEARNING_RATE)', '(LEARNING_RATE)', undefined],
    // tf.train.adadelta's own default (0.001), not the 'adadelta' string's (1).
    adadelta: ['adadelta', 0.001, undefined, 'tf.train.adadelta()', '()', undefined],
    adagrad: ['adagrad', 0.1, undefined, 'tf.train.adagrad(0.1)', '(0.1)', '0.1'],
    adamax: ['adamax', undefined, undefined, 'tf.train.adamax()', '()', undefined],
    rmspropMomentum: ['rmsprop', 0.001, 0.5, 'tf.train.rmsprop(0.001, 0.9, 0.5)', '(0.001, 0.9, 0.5)', '0.001'],
  };
  for (const [name, want] of Object.entries(expected)) {
    const model = only(result, name);
    assert.deepEqual(optimizer(text, model), want, name);
    assert.deepEqual(loss(text, model), ['categoricalCrossentropy', 'probabilities', undefined, "'categoricalCrossentropy'"], name);
    assert.equal(model.notes, undefined, name);
  }
});

test('TF.js: loss names of tfjs-layers and tf.losses / tf.metrics functions', async () => {
  const text = LOSSES_TS;
  const result = await loadTfjsSource(text, 'losses.ts');
  assert.deepEqual(result.problems, []);
  const expected: Record<string, unknown[]> = {
    categorical: ['categoricalCrossentropy', 'probabilities', undefined, "'categoricalCrossentropy'"],
    sparse: ['categoricalCrossentropy', 'probabilities', true, "'sparseCategoricalCrossentropy'"],
    binary: ['binaryCrossentropy', 'probabilities', undefined, "'binaryCrossentropy'"],
    mse: ['meanSquaredError', 'values', undefined, "'meanSquaredError'"],
    mae: ['meanAbsoluteError', 'values', undefined, "'meanAbsoluteError'"],
    softmaxCE: ['categoricalCrossentropy', 'logits', undefined, 'tf.losses.softmaxCrossEntropy'],
    sigmoidCE: ['binaryCrossentropy', 'logits', undefined, 'tf.losses.sigmoidCrossEntropy'],
    coreMse: ['meanSquaredError', 'values', undefined, 'losses.meanSquaredError'],
    metricCE: ['categoricalCrossentropy', 'probabilities', undefined, 'tf.metrics.categoricalCrossentropy'],
    huber: ['huber', 'values', undefined, 'tf.losses.huberLoss'],
    absolute: ['meanAbsoluteError', 'values', undefined, 'tf.losses.absoluteDifference'],
  };
  for (const [name, want] of Object.entries(expected)) {
    const model = only(result, name);
    assert.deepEqual(loss(text, model), want, name);
    assert.deepEqual(optimizer(text, model), ['sgd', undefined, undefined, "'sgd'", undefined, undefined], name);
  }
});

test('TF.js: an optimiser and an options object bound to constants; models in functions, classes and tf.model', async () => {
  const text = BOUND_JS;
  const result = await loadTfjsSource(text, 'bound.js');
  assert.deepEqual(result.problems, []);
  const [first, second] = result.models.filter((m) => m.name.startsWith('model'));
  // The const's call is the optimiser expression: a fix edits it where it is written.
  assert.deepEqual(optimizer(text, first), ['sgd', 0.02, undefined, 'tf.train.sgd(RATE)', '(RATE)', undefined]);
  assert.deepEqual(loss(text, first), ['binaryCrossentropy', 'probabilities', undefined, "'binaryCrossentropy'"]);
  assert.deepEqual(optimizer(text, second), ['adam', 0.0003, undefined, 'tf.train.adam(3e-4)', '(3e-4)', '3e-4']);
  assert.deepEqual(loss(text, second), ['binaryCrossentropy', 'probabilities', undefined, "'binaryCrossentropy'"]);
  const classModel = only(result, 'Classifier.model');
  assert.deepEqual(optimizer(text, classModel), ['rmsprop', undefined, undefined, "'rmsprop'", undefined, undefined]);
  const functional = only(result, 'functional');
  assert.deepEqual(optimizer(text, functional), ['adagrad', 0.05, undefined, 'tf.train.adagrad(0.05)', '(0.05)', '0.05']);
  assert.deepEqual(loss(text, functional), ['meanSquaredError', 'values', undefined, "'meanSquaredError'"]);
  assert.equal(only(result, 'uncompiled').training, undefined);
});

test('TF.js: an optimiser or loss the IR cannot express is absent, with a note at it naming it', async () => {
  const text = UNSUPPORTED_JS;
  const result = await loadTfjsSource(text, 'unsupported.js');
  assert.deepEqual(result.problems, []);
  const notes = (m: ModelSpec) => (m.notes ?? []).map((n) => [n.message, at(text, n.span)]);
  const shortName = only(result, 'shortName');
  assert.deepEqual(optimizer(text, shortName), ['adam', undefined, undefined, "'adam'", undefined, undefined]);
  assert.equal(shortName.training?.loss, undefined);
  assert.match(notes(shortName)[0][0] ?? '', /"mse" is not a name TF\.js accepts.*Unknown loss mse/);
  assert.equal(notes(shortName)[0][1], "'mse'");
  const hinge = only(result, 'hinge');
  assert.equal(hinge.training, undefined);
  assert.deepEqual(notes(hinge).map((n) => n[1]), ['true', 'tf.losses.hingeLoss']);
  assert.match(notes(hinge)[0][0] ?? '', /Nesterov/);
  assert.match(notes(hinge)[1][0] ?? '', /tf\.losses\.hingeLoss` is not one Activation Lens models/);
  const custom = only(result, 'custom');
  assert.equal(custom.training, undefined);
  assert.match(notes(custom)[0][0] ?? '', /"nadam" is not a name TF\.js accepts/);
  assert.match(notes(custom)[1][0] ?? '', /custom loss function/);
  const withRate = only(result, 'model');
  assert.equal(withRate.training, undefined);
  assert.deepEqual(notes(withRate).map((n) => n[1]), ['rate', "'poisson'"]);
  assert.match(notes(withRate)[0][0] ?? '', /learning rate of `tf\.train\.adam\(rate\)`.*parameter of `withRate`/);
});

test('TF.js: a model compiled twice uses its first compile, noted; compile on another model is not taken', async () => {
  const text = `import * as tf from '@tensorflow/tfjs';
const a = tf.sequential({layers: [tf.layers.dense({units: 1, inputShape: [2]})]});
const b = tf.sequential({layers: [tf.layers.dense({units: 1, inputShape: [2]})]});
b.compile({optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError'});
a.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
a.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
`;
  const result = await loadTfjsSource(text, 'twice.js');
  assert.equal(only(result, 'a').training?.optimizer?.learningRate, 0.1);
  assert.equal(only(result, 'b').training?.optimizer?.learningRate, 0.5);
  const note = only(result, 'a').notes?.[0];
  assert.match(note?.message ?? '', /compiled more than once.*line 5/);
  assert.equal(at(text, note?.span), "a.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'})");
});

test('TF.js: a model returned by a function is compiled where its caller binds it', async () => {
  const text = `import * as tf from '@tensorflow/tfjs';
function createModel() {
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 10, inputShape: [784], activation: 'softmax'}));
  return model;
}
async function run() {
  const model = createModel();
  model.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy'});
}
`;
  const result = await loadTfjsSource(text, 'returned.js');
  assert.deepEqual(optimizer(text, only(result, 'model')), ['adam', 0.01, undefined, 'tf.train.adam(0.01)', '(0.01)', '0.01']);
  // Two callers: which one trains the model is only known at run time, so none is taken.
  const twice = text.replace('async function run', 'const other = createModel();\nother.compile({optimizer: \'sgd\', loss: \'meanSquaredError\'});\nasync function run');
  assert.equal(only(await loadTfjsSource(twice, 'returned.js'), 'model').training, undefined);
});

test('TF.js: constants nested in each other cost a bounded number of evaluation steps', async () => {
  let text = "import * as tf from '@tensorflow/tfjs';\nconst c0 = [1, 1, 1, 1, 1, 1, 1, 1];\n";
  for (let i = 1; i <= 12; i++) text += `const c${i} = [c${i - 1}, c${i - 1}, c${i - 1}, c${i - 1}, c${i - 1}, c${i - 1}, c${i - 1}, c${i - 1}];\n`;
  text += "const m = tf.sequential({layers: [tf.layers.dense({units: 1, inputShape: [2]})]});\nm.compile({optimizer: c12, loss: 'meanSquaredError'});\n";
  const before = process.cpuUsage();
  const result = await loadTfjsSource(text, 'nested.js');
  const used = process.cpuUsage(before);
  assert.ok((used.user + used.system) / 1000 < 8000);
  const problem = result.problems.find((p) => p.message.includes(`more than ${MAX_TFJS_EVALUATIONS.toLocaleString('en-US')} steps`));
  assert.ok(problem, JSON.stringify(result.problems.map((p) => p.message)));
  assert.equal(problem.code, 'parse-error');
  assert.ok(problem.span.start.line > 1);
});

test('saved TF.js model.json: trainingConfig of tf.LayersModel.save and the converter\'s modelTopology.training_config, at their JSON positions', async () => {
  const saved = readSaved('tfjs_saved.json');
  const classifier = only(await loadModelFile(saved, 'model.json'), 'classifier');
  const o = classifier.training?.optimizer;
  assert.deepEqual([o?.name, o?.learningRate, o?.momentum], ['adam', 0.002, undefined]);
  assert.equal(at(saved, o?.span), o?.text);
  assert.match(o?.text ?? '', /^\{"class_name": "Adam"/);
  assert.match(at(saved, o?.argumentsSpan) ?? '', /^\{"learningRate": 0\.002,.*\}$/);
  assert.equal(at(saved, o?.learningRateValueSpan), '0.002');
  assert.deepEqual(loss(saved, classifier), ['categoricalCrossentropy', 'probabilities', undefined, '"categorical_crossentropy"']);

  const converted = readSaved('tfjs_converted.json');
  const detector = only(await loadModelFile(converted, 'model.json'), 'detector');
  const sgd = detector.training?.optimizer;
  // Keras 2 writes `lr`; SGD's momentum is kept.
  assert.deepEqual([sgd?.name, sgd?.learningRate, sgd?.momentum], ['sgd', 0.05, 0.9]);
  assert.equal(at(converted, sgd?.learningRateValueSpan), '0.05');
  // A loss per output of a single-output model is the model's loss.
  assert.deepEqual(loss(converted, detector), ['binaryCrossentropy', 'probabilities', undefined, '"binary_crossentropy"']);
});

test('saved Keras 3 config: compile_config with a serialised optimiser and a from_logits loss object; the same config in a .keras archive is at the model\'s span', async () => {
  const config = readSaved('keras3_config.json');
  const json = only(await loadModelFile(config, 'config.json'), 'logits_head');
  const o = json.training?.optimizer;
  assert.deepEqual([o?.name, o?.learningRate, o?.momentum], ['rmsprop', 0.0005, 0.1]);
  assert.equal(at(config, o?.learningRateValueSpan), '0.0005');
  assert.equal(at(config, o?.span), o?.text);
  assert.deepEqual(json.training?.loss && [json.training.loss.kind, json.training.loss.input, json.training.loss.sparse], ['categoricalCrossentropy', 'logits', true]);
  assert.match(at(config, json.training?.loss?.span) ?? '', /^\{"module": "keras\.losses", "class_name": "SparseCategoricalCrossentropy".*\}$/);

  const archive = makeZip({ 'config.json': config, 'metadata.json': '{"keras_version": "3.4.1"}' });
  const binary = only(await loadModelFile(archive, 'model.keras'), 'logits_head');
  assert.equal(binary.binary, true);
  const b = binary.training?.optimizer;
  assert.deepEqual([b?.name, b?.learningRate, b?.momentum], ['rmsprop', 0.0005, 0.1]);
  assert.deepEqual(b?.span, binary.span);
  assert.equal(b?.argumentsSpan, undefined);
  assert.equal(b?.learningRateValueSpan, undefined);
  assert.match(b?.text ?? '', /"class_name":"RMSprop"/);
  assert.deepEqual(binary.training?.loss?.span, binary.span);
  assert.equal(binary.training?.loss?.input, 'logits');
});

test('saved configs the IR cannot express: a learning-rate schedule, an unmodelled loss, Nesterov momentum in a legacy .h5', async () => {
  const text = readSaved('keras3_unsupported.json');
  const model = only(await loadModelFile(text, 'config.json'), 'unsupported');
  assert.equal(model.training, undefined);
  const notes = (model.notes ?? []).map((n) => [n.message, at(text, n.span)]);
  assert.match(notes[0][0] ?? '', /schedule `ExponentialDecay`/);
  assert.match(notes[0][1] ?? '', /^\{"module": "keras\.optimizers\.schedules"/);
  assert.match(notes[1][0] ?? '', /loss `kl_divergence` is not one Activation Lens models/);
  assert.equal(notes[1][1], '"kl_divergence"');

  const modelConfig = JSON.stringify({
    class_name: 'Sequential',
    config: { name: 'legacy', layers: [{ class_name: 'Dense', config: { name: 'dense_1', units: 2, activation: 'softmax', batch_input_shape: [null, 3] } }] },
  });
  const h5 = async (training: object | string): Promise<ModelSpec> => {
    const bytes = await makeHdf5((f) => {
      f.create_attribute('model_config', modelConfig);
      f.create_attribute('keras_version', '2.15.0');
      f.create_attribute('training_config', typeof training === 'string' ? training : JSON.stringify(training));
    });
    return only(await loadModelFile(bytes, 'model.h5'), 'legacy');
  };
  const legacy = await h5({ loss: 'sparse_categorical_crossentropy', optimizer_config: { class_name: 'RMSprop', config: { name: 'RMSprop', learning_rate: 0.01, rho: 0.9, momentum: 0.0, centered: false } } });
  assert.equal(legacy.binary, true);
  assert.deepEqual([legacy.training?.optimizer?.name, legacy.training?.optimizer?.learningRate, legacy.training?.optimizer?.momentum], ['rmsprop', 0.01, 0]);
  assert.deepEqual(legacy.training?.optimizer?.span, legacy.span);
  assert.deepEqual([legacy.training?.loss?.kind, legacy.training?.loss?.input, legacy.training?.loss?.sparse], ['categoricalCrossentropy', 'probabilities', true]);

  const nesterov = await h5({ loss: 'mse', optimizer_config: { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9, nesterov: true } } });
  assert.equal(nesterov.training?.optimizer, undefined);
  assert.equal(nesterov.training?.loss?.kind, 'meanSquaredError');
  assert.match(nesterov.notes?.[0]?.message ?? '', /Nesterov momentum/);
  assert.deepEqual(nesterov.notes?.[0]?.span, nesterov.span);

  const broken = await h5('{"loss": ');
  assert.equal(broken.training, undefined);
  assert.match(broken.notes?.[0]?.message ?? '', /training_config` is not readable JSON/);
});
