import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, LoadResult, ModelSpec, SourceSpan } from '../../src/core/model';
import { loadTorchPython } from '../../src/core/parse/torchPython';
import { loadModelFile } from '../../src/core/parse/index';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'torch');

async function load(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadTorchPython(text, name) };
}

function model(result: LoadResult, name?: string): ModelSpec {
  const found = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name ?? '(first)'} missing; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

function at(text: string, span: SourceSpan | undefined): string {
  assert.ok(span, 'span missing');
  return text.slice(span.start.offset, span.end.offset);
}

function lc(span: SourceSpan | undefined): string {
  assert.ok(span, 'span missing');
  return `${span.start.line}:${span.start.column}`;
}

/** 'dense 256', 'activation sigmoid', 'leakyRelu(0.2)' … */
function summary(layers: readonly LayerSpec[]): string[] {
  return layers.map((l) => {
    const size = l.units ?? l.filters;
    const a = l.activation;
    const params = a.alpha !== undefined ? `(${a.alpha})` : a.lower !== undefined ? `(${a.lower},${a.upper})` : '';
    return [l.kind, size, l.kind === 'activation' || a.name !== 'linear' ? `${a.name}${params}` : undefined].filter((p) => p !== undefined).join(' ');
  });
}

const TORCH_DEFAULT = { kernelInitializer: { name: 'torchDefaultKernel' }, biasInitializer: { name: 'torchDefaultBias' } };

test('tutorial MNIST MLP: functional sigmoids in forward, view as flatten, log_softmax head', async () => {
  const { text, result } = await load('mnist_mlp.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'Net');
  assert.equal(m.format, 'pytorch-python');
  assert.deepEqual(m.inputShape, [784]);
  // `x.view(-1, 784)` on data that is already a 784-vector is a no-op and is left out.
  assert.deepEqual(summary(m.layers), ['dense 256', 'activation sigmoid', 'dense 128', 'activation sigmoid', 'dense 10', 'activation softmax']);
  assert.deepEqual(m.layers.map((l) => l.name), ['fc1', 'sigmoid', 'fc2', 'sigmoid_1', 'fc3', 'log_softmax']);
  assert.equal(lc(m.span), '7:1');
  assert.equal(at(text, m.layers[0].source.span), 'nn.Linear(784, 256)');
  assert.equal(lc(m.layers[0].source.span), '10:20');
  assert.deepEqual({ k: m.layers[0].kernelInitializer, b: m.layers[0].biasInitializer }, { k: TORCH_DEFAULT.kernelInitializer, b: TORCH_DEFAULT.biasInitializer });
  // The functional activation's spans are the callee in forward.
  assert.equal(at(text, m.layers[1].source.span), 'torch.sigmoid');
  assert.equal(at(text, m.layers[1].source.activationValueSpan), 'torch.sigmoid');
  assert.equal(lc(m.layers[1].source.span), '16:13');
  assert.ok(m.notes?.some((n) => n.message.includes('flat vector of 784')));
});

test('CNN with F.max_pool2d and view: input size solved from Linear(32 * 7 * 7), CHW → HWC, a logits head for the cross-entropy loss', async () => {
  const { text, result } = await load('cnn_pool_view.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'ConvNet');
  assert.deepEqual(m.inputShape, [28, 28, 1]);
  assert.deepEqual(summary(m.layers), [
    'conv2d 16', 'activation relu', 'maxPool2d', 'conv2d 32', 'activation relu', 'maxPool2d', 'flatten', 'dropout', 'dense 128', 'activation relu', 'dense 10',
  ]);
  const conv1 = m.layers[0];
  assert.deepEqual([conv1.kernelSize, conv1.strides, conv1.padding], [[3, 3], [1, 1], 'same']);
  assert.deepEqual([m.layers[2].poolSize, m.layers[2].strides], [[2, 2], [2, 2]]);
  assert.equal(m.layers[7].rate, 0.25);
  assert.equal(at(text, m.layers[6].source.span), 'x.view(x.size(0), -1)');
  assert.equal(at(text, m.layers[0].source.span), 'nn.Conv2d(1, 16, kernel_size=3, padding=1)');
  assert.ok(m.notes?.some((n) => n.message.includes('(1, 28, 28)')));
  // The head stays as written (logits); the file's nn.CrossEntropyLoss applies the softmax (issue 11).
  assert.equal(m.training?.loss?.input, 'logits');
  assert.ok(m.notes?.some((n) => n.message.includes('read as logits')));
});

test('module-level nn.Sequential named after its variable; a regression loss keeps a linear head', async () => {
  const { text, result } = await load('sequential_basic.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(summary(m.layers), ['dense 64', 'activation tanh', 'dense 64', 'activation tanh', 'dense 1']);
  assert.deepEqual(m.layers.map((l) => l.name), ['0', '1', '2', '3', '4']);
  assert.equal(at(text, m.span).split('\n')[0], 'nn.Sequential(');
  assert.equal(at(text, m.layers[1].source.span), 'nn.Tanh()');
  assert.equal(at(text, m.layers[1].source.activationValueSpan), 'nn.Tanh()');
  assert.equal(m.notes, undefined);
});

test('OrderedDict names the layers; Softmax(dim=1) is an activation layer', async () => {
  const { text, result } = await load('ordered_dict.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(m.layers.map((l) => l.name), ['fc1', 'act1', 'drop', 'fc2', 'out']);
  assert.deepEqual(summary(m.layers), ['dense 128', 'activation sigmoid', 'dropout', 'dense 10', 'activation softmax']);
  assert.equal(m.layers[2].rate, 0.2);
  assert.equal(at(text, m.layers[1].source.span), 'nn.Sigmoid()');
  assert.equal(lc(m.layers[1].source.span), '7:14');
});

test('nested Sequentials and a factory function are flattened in order; BatchNorm momentum converted', async () => {
  const { text, result } = await load('nested_sequential.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((x) => x.name), ['classifier']);
  const m = model(result);
  assert.deepEqual(summary(m.layers), ['dense 64', 'activation relu', 'dense 64', 'activation elu(0.5)', 'dense 48', 'batchNorm', 'activation relu', 'dense 3']);
  assert.deepEqual(m.layers.map((l) => l.name), ['0.0', '0.1', '1.0', '1.1', '2.0', '2.1', '2.2', '3']);
  assert.equal(m.layers[5].epsilon, 1e-3);
  assert.ok(Math.abs((m.layers[5].momentum ?? 0) - 0.99) < 1e-12);
  assert.equal(at(text, m.layers[4].source.span), 'nn.Linear(n_in, n_out)');
});

test('ModuleList comprehension with constant depth, iterated in forward', async () => {
  const { result } = await load('modulelist_loop.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'DeepTanh');
  assert.deepEqual(m.inputShape, [64]);
  assert.equal(m.layers.length, 11);
  assert.deepEqual(m.layers.filter((l) => l.kind === 'dense').map((l) => l.name), ['inp', 'layers.0', 'layers.1', 'layers.2', 'layers.3', 'out']);
  assert.ok(m.layers.filter((l) => l.kind === 'activation').every((l) => l.activation.name === 'tanh'));
  // The four repeated layers share one constructor call (and its span).
  assert.deepEqual(new Set(m.layers.filter((l) => l.name.startsWith('layers.')).map((l) => lc(l.source.span))), new Set(['12:38']));
});

test('init loop over self.modules() with isinstance, then an explicit init that overrides it', async () => {
  const { result } = await load('init_loop.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  const dense = m.layers.filter((l) => l.kind === 'dense');
  assert.deepEqual(dense.map((l) => l.kernelInitializer?.name), ['heNormal', 'heNormal', 'glorotUniform']);
  assert.deepEqual(dense.map((l) => l.biasInitializer?.name), ['zeros', 'zeros', 'zeros']);
});

test('explicit nn.init calls with literal arguments map to InitializerSpec', async () => {
  const { result } = await load('explicit_inits.py');
  assert.deepEqual(result.problems, []);
  const dense = model(result).layers.filter((l) => l.kind === 'dense');
  const [a, b, c, d, e, f, g] = dense;
  assert.equal(a.kernelInitializer?.name, 'varianceScaling');
  assert.ok(Math.abs((a.kernelInitializer?.scale ?? 0) - 25 / 9) < 1e-9);
  assert.deepEqual([a.kernelInitializer?.mode, a.kernelInitializer?.distribution], ['fanAvg', 'normal']);
  assert.deepEqual(b.kernelInitializer, { name: 'torchDefaultKernel' });
  assert.deepEqual(c.kernelInitializer, { name: 'randomNormal', mean: 0, stddev: 0.02 });
  assert.deepEqual(d.kernelInitializer, { name: 'randomUniform', minval: -0.1, maxval: 0.1 });
  assert.deepEqual(d.biasInitializer, { name: 'constant', value: 0.5 });
  assert.deepEqual(e.kernelInitializer, { name: 'orthogonal', scale: 1 });
  assert.deepEqual(f.kernelInitializer, { name: 'randomNormal', mean: 0, stddev: 0.01 });
  assert.equal(f.useBias, false);
  assert.deepEqual([g.kernelInitializer?.name, g.kernelInitializer?.mode], ['varianceScaling', 'fanOut']);
});

test('from torch.nn import Linear, ReLU, Sequential; torch.nn.* spelled out; LeakyReLU default slope 0.01', async () => {
  const { text, result } = await load('aliases_from_import.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((m) => m.name), ['net', 'other']);
  assert.deepEqual(summary(model(result, 'net').layers), ['dense 32', 'activation relu', 'dense 32', 'activation leakyRelu(0.01)', 'dense 8', 'activation leakyRelu(0.2)']);
  assert.deepEqual(summary(model(result, 'other').layers), ['dense 4', 'activation gelu']);
  assert.equal(at(text, model(result, 'net').layers[0].source.span), 'Linear(16, 32)');
});

test('every activation module maps to an IR activation layer', async () => {
  const { result } = await load('activation_zoo.py');
  const m = model(result);
  const activations = m.layers.filter((l) => l.kind === 'activation').map((l) => l.activation);
  assert.deepEqual(activations, [
    { name: 'relu' }, { name: 'leakyRelu', alpha: 0.1 }, { name: 'prelu', alpha: 0.25, slopes: 'shared' }, { name: 'rrelu', lower: 0.1, upper: 0.3 },
    { name: 'elu', alpha: 1 }, { name: 'selu' }, { name: 'gelu' }, { name: 'swish' }, { name: 'mish' }, { name: 'softplus' },
    { name: 'softsign' }, { name: 'sigmoid' }, { name: 'tanh' }, { name: 'hardSigmoid' }, { name: 'relu6' }, { name: 'linear' }, { name: 'softmax' },
  ]);
  // Hardsigmoid's slope differs between PyTorch and the trainer: said once, at the module.
  assert.deepEqual(m.problems.map((p) => [p.code, lc(p.span)]), [['unsupported-layer', '18:22']]);
});

test('functional activations: F.leaky_relu(x, 0.2), F.elu(alpha=), nn.functional.gelu, x.relu(), out.tanh(), F.softmax', async () => {
  const { text, result } = await load('functional_zoo.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(m.layers.filter((l) => l.kind === 'activation').map((l) => l.activation), [
    { name: 'leakyRelu', alpha: 0.2 }, { name: 'elu', alpha: 0.7 }, { name: 'gelu' }, { name: 'relu' }, { name: 'swish' }, { name: 'tanh' }, { name: 'softmax' },
  ]);
  const method = m.layers.find((l) => l.name === 'relu');
  assert.equal(at(text, method?.source.span), 'self.l4(x).relu()');
  assert.equal(at(text, method?.source.activationValueSpan), 'relu');
  assert.equal(at(text, m.layers.find((l) => l.name === 'gelu')?.source.span), 'nn.functional.gelu');
});

test('one activation module applied twice becomes two layers sharing its constructor span', async () => {
  const { text, result } = await load('self_act_module.py');
  const m = model(result);
  assert.deepEqual(summary(m.layers), ['dense 20', 'activation sigmoid', 'dense 20', 'activation sigmoid', 'dense 5']);
  assert.deepEqual(m.layers.map((l) => l.name), ['fc1', 'act', 'fc2', 'act_1', 'fc3']);
  assert.equal(at(text, m.layers[3].source.span), 'nn.Sigmoid()');
  assert.deepEqual(m.inputShape, [30]);
});

test('features/classifier Sequentials with type hints: BatchNorm2d, MaxPool2d, Flatten; 32×32 solved', async () => {
  const { result } = await load('features_classifier.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'SmallVGG');
  assert.deepEqual(m.inputShape, [32, 32, 3]);
  assert.deepEqual(m.layers.map((l) => l.name).slice(0, 3), ['features.0', 'features.1', 'features.2']);
  assert.deepEqual(summary(m.layers), [
    'conv2d 32', 'batchNorm', 'activation relu', 'maxPool2d', 'conv2d 64', 'batchNorm', 'activation relu', 'maxPool2d',
    'flatten', 'dense 256', 'activation relu', 'dropout', 'dense 10',
  ]);
  assert.equal(m.layers[1].epsilon, 1e-5);
  assert.ok(Math.abs((m.layers[1].momentum ?? 0) - 0.9) < 1e-12);
  assert.equal(m.layers[11].rate, 0.5);
});

test('input_shape comment (C, H, W) with padding="same", stride 2 and AdaptiveAvgPool2d(1)', async () => {
  const { result } = await load('input_shape_comment.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(m.inputShape, [32, 32, 3]);
  // torch.flatten after global pooling is a no-op in the channels-last IR and is left out.
  assert.deepEqual(summary(m.layers), ['conv2d 16', 'activation relu', 'conv2d 16', 'activation relu', 'globalAvgPool2d', 'dense 10']);
  assert.deepEqual([m.layers[0].padding, m.layers[2].padding, m.layers[2].strides], ['same', 'valid', [2, 2]]);
});

test('layers appended to a list in a loop, then nn.Sequential(*layers)', async () => {
  const { result } = await load('layers_list_append.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(m.inputShape, [784]);
  assert.deepEqual(summary(m.layers).filter((s) => s.startsWith('dense')), ['dense 512', 'dense 256', 'dense 128', 'dense 64', 'dense 10']);
  assert.equal(m.layers.filter((l) => l.activation.name === 'sigmoid').length, 4);
  assert.deepEqual(m.layers.map((l) => l.name).slice(0, 2), ['net.0', 'net.1']);
});

test('__init__ parameters without defaults come from the instantiation; self.attr constants', async () => {
  const { result } = await load('constructor_args.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'MLP');
  assert.deepEqual(m.inputShape, [40]);
  assert.deepEqual(summary(m.layers), ['dense 100', 'activation leakyRelu(0.05)', 'dense 5']);
});

test('dataclass config instance with an override', async () => {
  const { result } = await load('dataclass_config.py');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'Model');
  assert.deepEqual(summary(m.layers), ['dense 96', 'activation relu', 'dropout', 'dense 2']);
  assert.equal(m.layers[2].rate, 0.1);
  assert.deepEqual(m.inputShape, [32]);
});

test('comments and trailing commas inside calls', async () => {
  const { text, result } = await load('comments_trailing.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(summary(m.layers), ['dense 20', 'activation softplus', 'dense 1']);
  assert.ok(at(text, m.layers[0].source.span).startsWith('nn.Linear(\n'));
  assert.equal(lc(m.layers[0].source.span), '6:5');
});

test('self.apply(fn) and seq.apply(fn) with type(m) == nn.Linear; seq[0].weight init at module level', async () => {
  const { result } = await load('apply_init.py');
  assert.deepEqual(result.problems, []);
  const wrapped = model(result, 'Wrapped');
  assert.deepEqual(wrapped.layers.filter((l) => l.kind === 'dense').map((l) => [l.kernelInitializer?.name, l.biasInitializer]), [
    ['glorotUniform', { name: 'constant', value: 0.01 }],
    ['glorotUniform', { name: 'constant', value: 0.01 }],
  ]);
  const seq = model(result, 'seq');
  assert.deepEqual(seq.layers.filter((l) => l.kind === 'dense').map((l) => l.kernelInitializer?.name), ['heNormal', 'glorotUniform']);
});

test('Conv1d + BatchNorm1d + F.max_pool1d + x.flatten(1): length solved, (C, L) → (L, C)', async () => {
  const { result } = await load('conv1d_model.py');
  assert.deepEqual(result.problems, []);
  const m = model(result);
  assert.deepEqual(m.inputShape, [64, 2]);
  assert.deepEqual(summary(m.layers), ['conv1d 8', 'batchNorm', 'activation relu', 'maxPool1d', 'conv1d 16', 'activation relu', 'flatten', 'dense 4']);
  assert.equal(m.layers[0].padding, 'same');
});

test('module classes used as blocks are inlined (with their arguments), helper methods too', async () => {
  const { text, result } = await load('helper_blocks.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((x) => x.name), ['Stack']);
  const m = model(result);
  assert.deepEqual(m.layers.map((l) => l.name), ['b1.lin', 'b1.bn', 'b1.relu', 'b2.lin', 'b2.bn', 'b2.relu', 'head']);
  assert.deepEqual(summary(m.layers).filter((s) => s.startsWith('dense')), ['dense 40', 'dense 30', 'dense 3']);
  assert.equal(at(text, m.layers[3].source.span), 'nn.Linear(n_in, n_out)');
});

test('shape-preserving unknown modules are skipped with a problem; LSTM and residual sums drop their model', async () => {
  const { result } = await load('unsupported_layers.py');
  assert.deepEqual(result.models.map((m) => m.name), ['WithNorm']);
  const m = model(result);
  assert.deepEqual(summary(m.layers), ['dense 16', 'dense 2']);
  assert.deepEqual(m.problems.map((p) => [p.code, lc(p.span)]), [['unsupported-layer', '8:21'], ['unsupported-layer', '9:20']]);
  assert.deepEqual(result.problems.map((p) => [p.code, lc(p.span)]), [['unsupported-layer', '20:20'], ['unsupported-layer', '34:13']]);
  assert.match(result.problems[0].message, /WithLstm.*LSTM/);
  assert.match(result.problems[1].message, /Residual/);
});

const BROKEN: Record<string, [string, string, RegExp]> = {
  'syntax_error.py': ['parse-error', '7:29', /syntax error/],
  'runtime_width.py': ['parse-error', '5:13', /out_features.*sys\.argv/],
  'mismatched_features.py': ['parse-error', '3:53', /expects 30 input features but gets 20/],
  'unknown_input_size.py': ['unknown-input-shape', '4:1', /activation-lens: input_shape=\(3, H, W\)/],
  'odd_padding.py': ['unsupported-layer', '3:50', /padding 2/],
  'branching_forward.py': ['unsupported-layer', '12:9', /branches/],
  'no_model.py': ['parse-error', '1:1', /No PyTorch model found/],
  'truncated.py': ['parse-error', '3:22', /syntax error/],
};

for (const [file, [code, position, message]] of Object.entries(BROKEN)) {
  test(`broken: ${file} → ${code} at ${position}, no model`, async () => {
    const { result } = await load(path.join('broken', file));
    assert.deepEqual(result.models, []);
    assert.equal(result.problems[0]?.code, code, JSON.stringify(result.problems));
    assert.equal(lc(result.problems[0].span), position);
    assert.match(result.problems[0].message, message);
  });
}

test('loadModelFile routes torch-only Python to the PyTorch loader and mixed files to Keras', async () => {
  const torchText = fs.readFileSync(path.join(FIXTURES, 'sequential_basic.py'), 'utf8');
  assert.equal((await loadModelFile(torchText, 'seq.py')).format, 'pytorch-python');
  const mixed = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'keras', 'mixed_frameworks.py'), 'utf8');
  const loaded = await loadModelFile(mixed, 'mixed.py');
  assert.equal(loaded.format, 'keras-python');
  assert.deepEqual(loaded.models.map((m) => m.name), ['keras_model']);
  // A torch file that mentions Keras only in a comment is still PyTorch.
  const commented = `# ported from a keras example\n${torchText}`;
  assert.equal((await loadModelFile(commented, 'seq.py')).format, 'pytorch-python');
});

test('NUL bytes and empty input are typed problems', async () => {
  const nul = await loadTorchPython('import torch\u0000', 'x.py');
  assert.equal(nul.problems[0].code, 'parse-error');
  const empty = await loadTorchPython('', 'x.py');
  assert.equal(empty.models.length, 0);
  assert.equal(lc(empty.problems[0].span), '1:1');
});

test('a module-level layer on its own (logistic regression) is a model of that one layer, with a note', async () => {
  const text = ['import torch', 'import torch.nn as nn', '', 'model = nn.Linear(784, 10)', 'optimizer = torch.optim.SGD(model.parameters(), lr=0.1)', ''].join('\n');
  const result = await loadTorchPython(text, 'logreg.py');
  assert.deepEqual(result.problems, []);
  const read = model(result, 'model');
  assert.deepEqual(summary(read.layers), ['dense 10']);
  assert.deepEqual(read.inputShape, [784]);
  assert.ok(read.notes?.some((note) => /single `nn\.Linear` module, read as a model of that one layer/.test(note.message) && lc(note.span) === '4:9'));
});

test('a lone layer is not a model when the file has another (a Sequential that uses it)', async () => {
  const text = ['import torch.nn as nn', '', 'head = nn.Linear(16, 1)', 'model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), head)', ''].join('\n');
  const result = await loadTorchPython(text, 'net.py');
  assert.deepEqual(result.models.map((m) => m.name), ['model']);
});

test('an nn.Module without forward is named at its class, not "no model" at 1:1', async () => {
  const text = ['import torch.nn as nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc1 = nn.Linear(10, 20)', '        self.fc2 = nn.Linear(20, 1)', ''].join('\n');
  const result = await loadTorchPython(text, 'net.py');
  assert.equal(result.models.length, 0);
  assert.equal(result.problems.length, 1);
  assert.equal(lc(result.problems[0].span), '3:7');
  assert.match(result.problems[0].message, /`Net` is an nn\.Module subclass without a `forward` method/);
});

test('forward inherited from a base class of the file: the subclass is the model, the base is not read alone', async () => {
  const text = [
    'import torch.nn as nn', '',
    'class Base(nn.Module):', '    def forward(self, x):', '        return self.fc2(self.act(self.fc1(x)))', '',
    'class Net(Base):', '    def __init__(self):', '        super().__init__()', '        self.fc1 = nn.Linear(4, 8)', '        self.act = nn.Tanh()', '        self.fc2 = nn.Linear(8, 1)', '',
  ].join('\n');
  const result = await loadTorchPython(text, 'net.py');
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.models.map((m) => m.name), ['Net']);
  assert.deepEqual(summary(model(result, 'Net').layers), ['dense 8', 'activation tanh', 'dense 1']);
});

test("a conv-first model with no fixed spatial size takes the chosen data's example shape, channels last or first, with a note", async () => {
  const text = ['import torch.nn as nn', '', 'model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))', ''].join('\n');
  const refused = await loadTorchPython(text, 'net.py');
  assert.equal(refused.models.length, 0);
  assert.equal(refused.problems[0].code, 'unknown-input-shape');
  const channelsLast = await loadTorchPython(text, 'net.py', { inputShape: [20, 20, 3] });
  assert.deepEqual(model(channelsLast).inputShape, [20, 20, 3]);
  assert.ok(model(channelsLast).notes?.some((n) => /chosen data's/.test(n.message)));
  const channelsFirst = await loadTorchPython(text, 'net.py', { inputShape: [3, 24, 24] });
  assert.deepEqual(model(channelsFirst).inputShape, [24, 24, 3]);
  // A data shape that fits no layout of the first layer is not used: the refusal stands.
  const wrong = await loadTorchPython(text, 'net.py', { inputShape: [5, 24, 24] });
  assert.equal(wrong.models.length, 0);
  assert.equal(wrong.problems[0].code, 'unknown-input-shape');
});
