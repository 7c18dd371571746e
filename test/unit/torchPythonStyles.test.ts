/**
 * PyTorch loader: model-definition styles met in users' files (black-box findings). Initialisation
 * in helpers called from __init__ or after construction, factory functions that return an
 * nn.Sequential, log-softmax heads, and the problems reported (with positions) when one of them
 * cannot be read statically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, LoadProblem, LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadTorchPython } from '../../src/core/parse/torchPython';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'torch');

async function loadFixture(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadTorchPython(text, name) };
}

async function loadText(text: string): Promise<LoadResult> {
  return loadTorchPython(text, 'snippet.py');
}

function model(result: LoadResult, name?: string): ModelSpec {
  const found = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name ?? '(first)'} missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan): string {
  return text.slice(span.start.offset, span.end.offset);
}

function lineColumn(span: SourceSpan): string {
  return `${span.start.line}:${span.start.column}`;
}

/** 'dense 64', 'activation tanh', … */
function summary(layers: readonly LayerSpec[]): string[] {
  return layers.map((l) => [l.kind, l.units ?? l.filters, l.kind === 'activation' || l.activation.name !== 'linear' ? l.activation.name : undefined].filter((p) => p !== undefined).join(' '));
}

function dense(m: ModelSpec): LayerSpec[] {
  return m.layers.filter((l) => l.kind === 'dense');
}

function only(problems: readonly LoadProblem[]): LoadProblem {
  assert.equal(problems.length, 1, JSON.stringify(problems.map((p) => p.message)));
  return problems[0];
}

const TORCH_BIAS = { name: 'torchDefaultBias' };

test('nn.init in a helper method called from __init__ (self._init_weights()) is honoured', async () => {
  const { result } = await loadFixture('init_helper_method.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'Net');
  assert.deepEqual(m.inputShape, [50]);
  assert.deepEqual(summary(m.layers), ['dense 200', 'activation tanh', 'dense 200', 'activation tanh', 'dense 1']);
  assert.deepEqual(dense(m).map((l) => l.kernelInitializer), [
    { name: 'randomNormal', mean: 0, stddev: 1 },
    { name: 'randomNormal', mean: 0, stddev: 1 },
    { name: 'randomNormal', mean: 0, stddev: 1 },
  ]);
  assert.deepEqual(dense(m).map((l) => l.biasInitializer), [TORCH_BIAS, TORCH_BIAS, TORCH_BIAS]);
  assert.deepEqual(m.problems, []);
});

test('a module-level init function called as init_weights(self) from __init__ is followed with self bound', async () => {
  const { result } = await loadFixture('init_module_function.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'ReluNet');
  assert.deepEqual(m.inputShape, [8]);
  assert.deepEqual(summary(m.layers), ['dense 16', 'activation relu', 'dense 2']);
  assert.deepEqual(dense(m).map((l) => [l.kernelInitializer?.name, l.biasInitializer?.name]), [['heNormal', 'zeros'], ['heNormal', 'zeros']]);
  assert.deepEqual(m.problems, []);
});

test('self.reset_parameters() is followed in order; layer.reset_parameters() restores the PyTorch defaults', async () => {
  const { result } = await loadFixture('init_reset_parameters.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'TanhNet');
  assert.deepEqual(m.inputShape, [8]);
  assert.deepEqual(summary(m.layers), ['dense 16', 'activation tanh', 'dense 2']);
  // fc1: xavier_uniform_; fc2: ones_ in __init__, then reset to the defaults by fc2.reset_parameters().
  assert.deepEqual(dense(m).map((l) => l.kernelInitializer?.name), ['glorotUniform', 'torchDefaultKernel']);
  assert.deepEqual(dense(m).map((l) => l.biasInitializer), [TORCH_BIAS, TORCH_BIAS]);
});

test('model.apply(init_fn) after `model = Classifier(12, 3).to(...)` at module level initialises the class model', async () => {
  const { result } = await loadFixture('init_apply_after_construction.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'Classifier');
  assert.deepEqual(m.inputShape, [12]);
  assert.deepEqual(summary(m.layers), ['dense 32', 'activation sigmoid', 'dense 3']);
  assert.deepEqual(dense(m).map((l) => [l.kernelInitializer, l.biasInitializer]), [
    [{ name: 'orthogonal', scale: 1 }, { name: 'constant', value: 0.1 }],
    [{ name: 'orthogonal', scale: 1 }, { name: 'constant', value: 0.1 }],
  ]);
});

test('initialisations that cannot be resolved are reported at their positions, and the defaults kept', async () => {
  const { text, result } = await loadFixture('init_unresolved.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'Backbone');
  assert.deepEqual(summary(m.layers), ['dense 16', 'activation tanh', 'dense 2']);
  assert.deepEqual(dense(m).map((l) => l.kernelInitializer?.name), ['torchDefaultKernel', 'torchDefaultKernel']);
  assert.deepEqual(m.problems.map((p) => [p.code, lineColumn(p.span), at(text, p.span)]), [
    ['unsupported-layer', '11:9', 'self.init_params()'],
    ['unsupported-layer', '12:9', 'weight_init.c2_xavier_fill(self.fc1)'],
    ['unsupported-layer', '13:24', 'self.named_parameters()'],
  ]);
  assert.match(m.problems[0].message, /`self\.init_params\(\)` cannot be followed statically.*default initialisation is assumed/);
  assert.match(m.problems[1].message, /`weight_init\.c2_xavier_fill\(self\.fc1\)` cannot be followed statically/);
  assert.match(m.problems[2].message, /initialisation in the loop over `self\.named_parameters\(\)` cannot be followed statically; it is ignored/);
});

test('a factory function called at module level builds its nn.Sequential from the call arguments; apply after it', async () => {
  const { text, result } = await loadFixture('factory_mlp.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((x) => x.name), ['model']);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [10]);
  assert.deepEqual(summary(m.layers), ['dense 64', 'activation tanh', 'dense 64', 'activation tanh', 'dense 1']);
  assert.deepEqual(m.layers.map((l) => l.name), ['0', '1', '2', '3', '4']);
  assert.deepEqual(dense(m).map((l) => l.kernelInitializer?.name), ['glorotNormal', 'glorotNormal', 'glorotNormal']);
  // The model is the call; its layers point into the factory.
  assert.equal(at(text, m.span), 'make_mlp([10, 64, 64, 1], act=nn.Tanh)');
  assert.equal(at(text, m.layers[1].source.span), 'act()');
  assert.equal(lineColumn(m.layers[4].source.span), '8:19');
});

test('one factory called twice (positional, keyword and default arguments, zip of slices) gives two models', async () => {
  const { result } = await loadFixture('factory_actor_critic.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((x) => x.name), ['actor', 'critic']);
  const actor = model(result, 'actor');
  assert.deepEqual(actor.inputShape, [8]);
  assert.deepEqual(summary(actor.layers), ['dense 64', 'activation tanh', 'dense 64', 'activation tanh', 'dense 2']);
  const critic = model(result, 'critic');
  assert.deepEqual(critic.inputShape, [8]);
  assert.deepEqual(summary(critic.layers), ['dense 32', 'activation elu', 'dense 1']);
  assert.equal(critic.layers[1].activation.alpha, 1);
});

test('a factory that is only defined is read with its defaults when they are complete', async () => {
  const { result } = await loadFixture('factory_defaults.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'build_model');
  assert.deepEqual(m.inputShape, [6]);
  assert.deepEqual(summary(m.layers), ['dense 24', 'activation swish', 'dense 24', 'activation swish', 'dense 1']);
});

test('an uncalled factory with required parameters is reported at the loop its parameter blocks, not at 1:1', async () => {
  const result = await loadText(
    [
      'import torch.nn as nn',
      'def make_mlp(sizes, act=nn.ReLU):',
      '    layers = []',
      '    for i in range(len(sizes) - 2):',
      '        layers.append(nn.Linear(sizes[i], sizes[i + 1])); layers.append(act())',
      '    layers.append(nn.Linear(sizes[-2], sizes[-1]))',
      '    return nn.Sequential(*layers)',
      '',
    ].join('\n'),
  );
  assert.deepEqual(result.models, []);
  const problem = only(result.problems);
  assert.equal(problem.code, 'parse-error');
  assert.equal(lineColumn(problem.span), '4:14');
  assert.match(problem.message, /^Model `make_mlp` cannot be diagnosed: the loop over `range\(len\(sizes\) - 2\)` that builds layers is only known at run time \(`sizes` is a parameter of `make_mlp`, known only at run time/);
});

test('a factory called with a run-time list is reported at `*layers` in its nn.Sequential, with the reason', async () => {
  const result = await loadText(
    [
      'import sys',
      'import torch.nn as nn',
      'def make(extra):',
      '    layers = [nn.Linear(4, 8)]',
      '    for name in extra:',
      '        layers.append(getattr(nn, name)())',
      '    return nn.Sequential(*layers)',
      'model = make(sys.argv[1:])',
      '',
    ].join('\n'),
  );
  assert.deepEqual(result.models, []);
  const problem = only(result.problems);
  assert.equal(problem.code, 'parse-error');
  assert.equal(lineColumn(problem.span), '7:26');
  assert.match(problem.message, /^Model `model` cannot be diagnosed: the layers `\*layers` are only known at run time \(`layers` is changed in the loop over `extra` \(`sys\.argv` is known only at run time/);
});

test('a width changed in a loop only known at run time refuses the model instead of using the value before the loop', async () => {
  const result = await loadText(
    [
      'import sys',
      'import torch.nn as nn',
      'def make(things):',
      '    n = 10',
      '    for t in things:',
      '        n += 1',
      '    return nn.Sequential(nn.Linear(n, 3))',
      'model = make(sys.argv)',
      '',
    ].join('\n'),
  );
  assert.deepEqual(result.models, []);
  const problem = only(result.problems);
  assert.equal(problem.code, 'parse-error');
  assert.equal(lineColumn(problem.span), '7:36');
  assert.match(problem.message, /`in_features` must be a positive integer known before running the code, but it is `n \+= 1` \(`n` is changed in the loop over `things`/);
});

test('a factory call whose result is not found is reported at the call, not read as a layer', async () => {
  const result = await loadText(
    ['import torch.nn as nn', 'def make(n):', '    seq = nn.Sequential(nn.Linear(n, 2))', '    if n > 3:', '        return seq', 'model = make(2)', ''].join('\n'),
  );
  assert.deepEqual(result.models, []);
  const problem = only(result.problems);
  assert.equal(problem.code, 'parse-error');
  assert.equal(lineColumn(problem.span), '6:9');
  assert.match(problem.message, /`make\(2\)` does not return a model that can be read statically/);
});

test('F.log_softmax and nn.LogSoftmax heads are diagnosed as softmax, with a note at the call saying so', async () => {
  const { text, result } = await loadFixture('log_softmax_head.py');
  assert.deepEqual(result.problems, []);
  const tagger = model(result, 'Tagger');
  assert.deepEqual(tagger.inputShape, [20]);
  assert.deepEqual(summary(tagger.layers), ['dense 32', 'activation relu', 'dense 5', 'activation softmax']);
  assert.equal(tagger.layers[3].name, 'log_softmax');
  const taggerNote = tagger.notes?.find((n) => n.message.includes('log-softmax'));
  assert.ok(taggerNote, JSON.stringify(tagger.notes));
  assert.equal(at(text, taggerNote.span), 'F.log_softmax');
  assert.match(taggerNote.message, /^`F\.log_softmax` is diagnosed as a softmax/);
  const seq = model(result, 'seq');
  assert.deepEqual(summary(seq.layers), ['dense 8', 'activation relu', 'dense 3', 'activation softmax']);
  const seqNote = seq.notes?.find((n) => n.message.includes('log-softmax'));
  assert.ok(seqNote, JSON.stringify(seq.notes));
  assert.equal(at(text, seqNote.span), 'nn.LogSoftmax(dim=1)');
  assert.equal(lineColumn(seqNote.span), '15:66');
});
