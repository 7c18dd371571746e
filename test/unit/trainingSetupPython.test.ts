/**
 * The training set-up the Python readers find statically (issue 11): Keras `compile(...)` and
 * PyTorch `torch.optim.X(...)` / loss modules and functions, tied to the model they train, with
 * exact spans for the quick fixes that edit them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';
import { loadTorchPython } from '../../src/core/parse/torchPython';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

async function load(framework: 'keras' | 'torch', name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, framework, 'training', name), 'utf8');
  const result = framework === 'keras' ? await loadKerasPython(text, name) : await loadTorchPython(text, name);
  return { text, result };
}

function model(result: LoadResult, name: string): ModelSpec {
  const found = result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name} missing; models: ${result.models.map((m) => m.name).join(', ')}; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan | undefined): string | undefined {
  return span && text.slice(span.start.offset, span.end.offset);
}

/** The optimiser as plain data, its spans as the text they cover. */
function optimizer(text: string, m: ModelSpec): Record<string, unknown> | undefined {
  const o = m.training?.optimizer;
  if (!o) return undefined;
  assert.equal(o.text, at(text, o.span), 'text is the span as written');
  const plain: Record<string, unknown> = { name: o.name, span: at(text, o.span) };
  if (o.learningRate !== undefined) plain.learningRate = o.learningRate;
  if (o.momentum !== undefined) plain.momentum = o.momentum;
  if (o.argumentsSpan) plain.arguments = at(text, o.argumentsSpan);
  if (o.learningRateValueSpan) plain.rate = at(text, o.learningRateValueSpan);
  return plain;
}

function loss(text: string, m: ModelSpec): Record<string, unknown> | undefined {
  const l = m.training?.loss;
  if (!l) return undefined;
  assert.equal(l.text, at(text, l.span), 'text is the span as written');
  const plain: Record<string, unknown> = { kind: l.kind, input: l.input, span: at(text, l.span) };
  if (l.sparse !== undefined) plain.sparse = l.sparse;
  return plain;
}

// #region Keras

test('Keras: an optimiser bound to a name is located at its call; positional compile with a Keras 2 `lr=` SGD and a from_logits loss object; two models tied to their own compile', async () => {
  const { text, result } = await load('keras', 'optimizer_objects.py');
  assert.deepEqual(result.problems, []);
  const encoder = model(result, 'encoder');
  assert.deepEqual(optimizer(text, encoder), {
    name: 'adam', span: 'keras.optimizers.Adam(learning_rate=1e-3)', learningRate: 1e-3, arguments: '(learning_rate=1e-3)', rate: '1e-3',
  });
  assert.deepEqual(loss(text, encoder), { kind: 'categoricalCrossentropy', input: 'probabilities', span: '"categorical_crossentropy"' });
  const classifier = model(result, 'classifier');
  assert.deepEqual(optimizer(text, classifier), {
    name: 'sgd', span: 'tf.keras.optimizers.SGD(lr=0.01, momentum=0.9)', learningRate: 0.01, momentum: 0.9, arguments: '(lr=0.01, momentum=0.9)', rate: '0.01',
  });
  assert.deepEqual(loss(text, classifier), { kind: 'categoricalCrossentropy', input: 'logits', sparse: true, span: 'keras.losses.SparseCategoricalCrossentropy(from_logits=True)' });
  assert.equal(classifier.notes, undefined);
});

test('Keras: compile inside a builder function, a functional model, and a subclass compiled under `if __name__`; positional RMSprop rate from a constant', async () => {
  const { text, result } = await load('keras', 'builder_and_subclass.py');
  assert.deepEqual(result.problems, []);
  const built = model(result, 'build_model');
  assert.deepEqual(optimizer(text, built), { name: 'adam', span: 'Adam()', arguments: '()' });
  assert.deepEqual(loss(text, built), { kind: 'binaryCrossentropy', input: 'probabilities', span: 'keras.losses.BinaryCrossentropy()' });
  const regressor = model(result, 'regressor');
  assert.deepEqual(optimizer(text, regressor), { name: 'nadam', span: '"Nadam"' });
  assert.deepEqual(loss(text, regressor), { kind: 'meanSquaredError', input: 'values', span: 'keras.losses.mean_squared_error' });
  const scorer = model(result, 'Scorer');
  // The rate is a constant's value, not a literal in the call: no value span to replace.
  assert.deepEqual(optimizer(text, scorer), {
    name: 'rmsprop', span: 'RMSprop(LEARNING_RATE, 0.9, 0.5)', learningRate: 3e-4, momentum: 0.5, arguments: '(LEARNING_RATE, 0.9, 0.5)',
  });
  assert.deepEqual(loss(text, scorer), { kind: 'huber', input: 'values', span: 'keras.losses.Huber()' });
});

test('Keras: loss and optimiser spellings; losses and optimisers it cannot express are left out with a note', async () => {
  const { text, result } = await load('keras', 'losses_misc.py');
  assert.deepEqual(result.problems, []);
  const camel = model(result, 'm_camel');
  assert.deepEqual(optimizer(text, camel), { name: 'adamw', span: '"ADAMW"' });
  assert.deepEqual(loss(text, camel), { kind: 'meanSquaredError', input: 'values', span: '"meanSquaredError"' });
  const mae = model(result, 'm_mae');
  assert.deepEqual(optimizer(text, mae), { name: 'adagrad', span: 'keras.optimizers.Adagrad(0.05)', learningRate: 0.05, arguments: '(0.05)', rate: '0.05' });
  assert.deepEqual(loss(text, mae), { kind: 'meanAbsoluteError', input: 'values', span: '"mae"' });
  assert.deepEqual(loss(text, model(result, 'm_bce')), { kind: 'binaryCrossentropy', input: 'logits', span: 'keras.losses.BinaryCrossentropy(from_logits=True)' });
  assert.deepEqual(optimizer(text, model(result, 'm_bce')), { name: 'adamax', span: '"adamax"' });
  assert.deepEqual(loss(text, model(result, 'm_abs')), { kind: 'meanAbsoluteError', input: 'values', span: 'keras.losses.MeanAbsoluteError()' });

  const hinge = model(result, 'm_hinge');
  assert.equal(hinge.training, undefined);
  assert.deepEqual(hinge.notes?.map((n) => at(text, n.span)), ['"ftrl"', '"hinge"']);
  assert.match(hinge.notes?.[0].message ?? '', /optimiser `"ftrl"` is not one .* default optimiser/);
  assert.match(hinge.notes?.[1].message ?? '', /loss `"hinge"` is not one .* the loss the model's head implies/);

  const custom = model(result, 'm_custom');
  assert.deepEqual(optimizer(text, custom), { name: 'sgd', span: '"sgd"' });
  assert.equal(custom.training?.loss, undefined);
  assert.deepEqual(custom.notes?.map((n) => at(text, n.span)), ['my_loss']);
  const dict = model(result, 'm_dict');
  assert.equal(dict.training?.loss, undefined);
  assert.match(dict.notes?.[0].message ?? '', /a dict of losses/);
});

test('Keras: the tutorial files of the corpus read their compile', async () => {
  const mnist = fs.readFileSync(path.join(FIXTURES, 'keras', 'tutorial_mnist.py'), 'utf8');
  const m = (await loadKerasPython(mnist, 'tutorial_mnist.py')).models[0];
  assert.deepEqual(optimizer(mnist, m), { name: 'adam', span: "'adam'" });
  assert.deepEqual(loss(mnist, m), { kind: 'categoricalCrossentropy', input: 'logits', sparse: true, span: 'tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)' });
  const chain = fs.readFileSync(path.join(FIXTURES, 'keras', 'add_chain.py'), 'utf8');
  const c = (await loadKerasPython(chain, 'add_chain.py')).models[0];
  assert.deepEqual(optimizer(chain, c), { name: 'rmsprop', span: "'rmsprop'" });
  assert.deepEqual(loss(chain, c), { kind: 'categoricalCrossentropy', input: 'probabilities', span: "'categorical_crossentropy'" });
});

test('Keras: a model without compile has no training set-up', async () => {
  const text = 'from tensorflow import keras\nmodel = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])\nother.compile(optimizer="adam")\n';
  const result = await loadKerasPython(text, 'plain.py');
  assert.equal(result.models[0].training, undefined);
  assert.equal(result.models[0].notes, undefined);
});

// #endregion

// #region PyTorch

test('PyTorch: the MNIST example layout: Adadelta built in main() for `model = Net().to(device)`, its rate from the argparse default, the loss from train()', async () => {
  const { text, result } = await load('torch', 'mnist_argparse.py');
  assert.deepEqual(result.problems, []);
  const net = model(result, 'Net');
  // `lr=args.lr` is not a literal: the rate is the option's default, and there is no value span.
  assert.deepEqual(optimizer(text, net), {
    name: 'adadelta', span: 'optim.Adadelta(model.parameters(), lr=args.lr)', learningRate: 1.0, arguments: '(model.parameters(), lr=args.lr)',
  });
  // train() comes before evaluate(): the training loss is the one located.
  assert.deepEqual(loss(text, net), { kind: 'categoricalCrossentropy', input: 'logProbabilities', sparse: true, span: 'F.nll_loss(output, target)' });
  // The log-softmax head is read as softmax, as before: with NLLLoss the pair is a cross-entropy.
  assert.equal(net.layers[net.layers.length - 1].activation.name, 'softmax');
  assert.ok(net.notes?.some((n) => n.message.includes('`F.log_softmax` is diagnosed as a softmax')));
});

test('PyTorch: two models with two optimisers, each tied through its own .parameters(); the one loss of a file of several models is left out with a note', async () => {
  const { text, result } = await load('torch', 'two_models.py');
  assert.deepEqual(result.problems, []);
  const critic = model(result, 'Discriminator');
  assert.deepEqual(optimizer(text, critic), {
    name: 'sgd', span: 'optim.SGD(critic.parameters(), 0.02, 0.5)', learningRate: 0.02, momentum: 0.5, arguments: '(critic.parameters(), 0.02, 0.5)', rate: '0.02',
  });
  const generator = model(result, 'generator');
  assert.deepEqual(optimizer(text, generator), {
    name: 'adam', span: 'torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))', learningRate: 2e-4,
    arguments: '(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))', rate: '2e-4',
  });
  for (const m of [critic, generator]) {
    assert.equal(m.training?.loss, undefined);
    assert.deepEqual(m.notes?.map((n) => at(text, n.span)), ['nn.BCELoss()']);
    assert.match(m.notes?.[0].message ?? '', /not tied to this model/);
  }
});

test('PyTorch: optimisers imported by name (positional rate, a parameters name bound first, `.to(...)`), losses tied by the def that creates the model', async () => {
  const { text, result } = await load('torch', 'regressors.py');
  assert.deepEqual(result.problems, []);
  const l1 = model(result, 'l1_net');
  assert.deepEqual(optimizer(text, l1), {
    name: 'rmsprop', span: 'RMSprop(l1_net.parameters(), lr=0.005, momentum=0.9)', learningRate: 0.005, momentum: 0.9,
    arguments: '(l1_net.parameters(), lr=0.005, momentum=0.9)', rate: '0.005',
  });
  assert.deepEqual(loss(text, l1), { kind: 'meanAbsoluteError', input: 'values', span: 'nn.L1Loss()' });
  const huber = model(result, 'huber_net');
  assert.deepEqual(optimizer(text, huber), { name: 'adamw', span: 'AdamW(params)', arguments: '(params)' });
  assert.deepEqual(loss(text, huber), { kind: 'huber', input: 'values', span: 'nn.SmoothL1Loss(beta=1.0)' });
  const mse = model(result, 'mse_net');
  assert.deepEqual(optimizer(text, mse), { name: 'nadam', span: 'NAdam(mse_net.parameters(), 1e-3)', learningRate: 1e-3, arguments: '(mse_net.parameters(), 1e-3)', rate: '1e-3' });
  assert.deepEqual(loss(text, mse), { kind: 'meanSquaredError', input: 'values', span: 'F.mse_loss(mse_net(x), y)' });
  for (const m of [l1, huber, mse]) assert.equal(m.notes, undefined);
});

test('PyTorch: a loss and optimiser in the model class; an explicit softmax head under cross-entropy stays softmax; a linear head under BCE-with-logits is noted as logits', async () => {
  const { text, result } = await load('torch', 'class_methods.py');
  assert.deepEqual(result.problems, []);
  const tagger = model(result, 'Tagger');
  assert.deepEqual(optimizer(text, tagger), { name: 'adagrad', span: 'Adagrad(self.parameters(), lr=0.01)', learningRate: 0.01, arguments: '(self.parameters(), lr=0.01)', rate: '0.01' });
  assert.deepEqual(loss(text, tagger), { kind: 'categoricalCrossentropy', input: 'logits', sparse: true, span: 'F.cross_entropy(self(x), y)' });
  // As written: F.softmax then a loss that applies softmax again (the double softmax is the diagnosis' to find).
  assert.equal(tagger.layers[tagger.layers.length - 1].activation.name, 'softmax');
  assert.equal(tagger.notes, undefined);
  const scorer = model(result, 'Scorer');
  assert.equal(scorer.training?.optimizer, undefined);
  assert.deepEqual(loss(text, scorer), { kind: 'binaryCrossentropy', input: 'logits', span: 'F.binary_cross_entropy_with_logits(self(x), y)' });
  assert.equal(scorer.layers[scorer.layers.length - 1].activation.name, 'linear');
  assert.deepEqual(scorer.notes?.map((n) => n.message), ["The output of `fc` is read as logits for the file's loss `F.binary_cross_entropy_with_logits(self(x), y)`, which applies the sigmoid itself."]);
});

test('PyTorch: the head is no longer rewritten for the loss: a linear head + CrossEntropyLoss stays linear, with the loss saying logits', async () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'torch', 'reference_mlp.py'), 'utf8');
  const m = (await loadTorchPython(text, 'reference_mlp.py')).models[0];
  assert.equal(m.layers[m.layers.length - 1].activation.name, 'linear');
  assert.deepEqual(loss(text, m), { kind: 'categoricalCrossentropy', input: 'logits', sparse: true, span: 'nn.CrossEntropyLoss()' });
  assert.ok(m.notes?.some((n) => n.message.includes('read as logits')));
  const mnist = fs.readFileSync(path.join(FIXTURES, 'torch', 'mnist_mlp.py'), 'utf8');
  const net = (await loadTorchPython(mnist, 'mnist_mlp.py')).models[0];
  assert.deepEqual(optimizer(mnist, net), { name: 'sgd', span: 'torch.optim.SGD(model.parameters(), lr=0.01)', learningRate: 0.01, arguments: '(model.parameters(), lr=0.01)', rate: '0.01' });
  assert.deepEqual(loss(mnist, net), { kind: 'categoricalCrossentropy', input: 'logProbabilities', sparse: true, span: 'nn.NLLLoss()' });
});

test('PyTorch: several different losses and models without a tie → no loss, with a note; an unsupported loss and optimiser → notes', async () => {
  const { result } = await load('torch', 'losses_untied.py');
  assert.deepEqual(result.problems, []);
  for (const name of ['encoder', 'head']) {
    const m = model(result, name);
    assert.equal(m.training, undefined);
    assert.match(m.notes?.[0].message ?? '', /several losses \(`nn\.MSELoss\(\)`, `nn\.CrossEntropyLoss\(\)`\)/);
  }
  const unsupported = await load('torch', 'unsupported.py');
  const m = model(unsupported.result, 'model');
  assert.equal(m.training, undefined);
  const notes = (m.notes ?? []).map((n) => [at(unsupported.text, n.span), n.message] as const);
  assert.ok(notes.some(([where, message]) => where === 'nn.KLDivLoss(reduction="batchmean")' && /loss .* is not one .* the loss the model's head implies/.test(message)));
  assert.ok(notes.some(([where, message]) => where === 'torch.optim.LBFGS(model.parameters(), lr=1)' && /default optimiser/.test(message)));
});

test('PyTorch: the training reads count against the work budget (a file of thousands of optimisers ends in time)', async () => {
  const lines = ['import torch', 'from torch import nn, optim', 'model = nn.Sequential(nn.Linear(4, 2))'];
  for (let i = 0; i < 5000; i++) lines.push(`opt${i} = optim.SGD(model.parameters(), lr=LR${i})`);
  const text = lines.join('\n') + '\n';
  const started = process.hrtime.bigint();
  const result = await loadTorchPython(text, 'many.py');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.equal(result.models.length, 1);
});

// #endregion

test('PyTorch: a rate only known at run time is left out with a note at it; the single model gets an optimiser whose parameters cannot be tied', async () => {
  const text = [
    'import torch.nn as nn',
    'from torch import optim',
    'cfg = load_config()',
    'model = nn.Sequential(nn.Linear(3, 2))',
    'params = [p for p in get_params() if p.requires_grad]',
    'optimizer = optim.SGD(params, lr=cfg.lr, momentum=0.9)',
    '',
  ].join('\n');
  const m = (await loadTorchPython(text, 'config.py')).models[0];
  assert.deepEqual(optimizer(text, m), { name: 'sgd', span: 'optim.SGD(params, lr=cfg.lr, momentum=0.9)', momentum: 0.9, arguments: '(params, lr=cfg.lr, momentum=0.9)' });
  assert.deepEqual(m.notes?.map((n) => at(text, n.span)), ['cfg.lr']);
  assert.match(m.notes?.[0].message ?? '', /learning rate `cfg\.lr` .* PyTorch's default rate for sgd/);
});

test('Keras: many compile calls are read once each (the last one on the model wins) within the evaluation budget', async () => {
  const lines = ['from tensorflow import keras', 'model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])'];
  for (let i = 0; i < 3000; i++) lines.push(`m${i} = model`, `m${i}.compile(optimizer="sgd", loss="mse")`);
  lines.push('model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.5), loss="mae")');
  const text = lines.join('\n') + '\n';
  const started = process.hrtime.bigint();
  const result = await loadKerasPython(text, 'many.py');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 5000, `took ${ms} ms`);
  const m = result.models[0];
  assert.equal(m.training?.optimizer?.learningRate, 0.5);
  assert.equal(m.training?.loss?.kind, 'meanAbsoluteError');
});
