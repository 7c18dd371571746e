import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerSpec, ModelSpec } from '../../src/core/model';
import { activationSwapEdits, applyEdits, type ActivationSwap, type TextEdit } from '../../src/core/fixes';
import { activationSwapEditsTorch, kernelInitializerEditsTorch } from '../../src/core/fixes/torchPython';
import { loadTorchPython } from '../../src/core/parse/torchPython';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'torch');

async function loadModel(file: string, name?: string): Promise<{ text: string; model: ModelSpec }> {
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  const result = await loadTorchPython(text, file);
  const model = name === undefined ? result.models[0] : result.models.find((m) => m.name === name);
  assert.ok(model, `${file}: ${JSON.stringify(result.problems)}`);
  return { text, model };
}

function edits(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TextEdit[] & { note?: string } {
  // Through the shared entry point: it dispatches on model.format.
  const result = activationSwapEdits(text, model, layerIndex, swap);
  assert.ok(Array.isArray(result), `expected edits, got ${JSON.stringify(result)}`);
  return result;
}

async function swapAndReload(file: string, layerIndex: number, swap: ActivationSwap, name?: string) {
  const before = await loadModel(file, name);
  const made = edits(before.text, before.model, layerIndex, swap);
  const newText = applyEdits(before.text, made);
  const result = await loadTorchPython(newText, file);
  assert.deepEqual(result.problems, [], newText);
  const after = result.models.find((m) => m.name === before.model.name);
  assert.ok(after, newText);
  return { before: before.model, after, newText, note: made.note };
}

function shape(layer: LayerSpec): Omit<LayerSpec, 'source' | 'name'> {
  const { source: _source, name: _name, ...rest } = layer;
  return rest;
}

function onlyChanged(before: ModelSpec, after: ModelSpec, changed: readonly number[]): void {
  assert.equal(after.layers.length, before.layers.length);
  assert.deepEqual(after.inputShape, before.inputShape);
  before.layers.forEach((layer, i) => {
    if (!changed.includes(i)) assert.deepEqual(shape(after.layers[i]), shape(layer), `layer ${i} changed`);
  });
}

const RELU_HE: ActivationSwap = { activation: { name: 'relu' }, kernelInitializer: 'heNormal' };

test('torch.sigmoid → torch.relu, and kaiming_normal_ inserted after self.fc1 = ...', async () => {
  const { before, after, newText } = await swapAndReload('mnist_mlp.py', 1, RELU_HE);
  assert.ok(newText.includes('x = torch.relu(self.fc1(x))'), newText);
  assert.ok(newText.includes('        self.fc1 = nn.Linear(784, 256)\n        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")\n'), newText);
  assert.deepEqual(after.layers[1].activation, { name: 'relu' });
  assert.deepEqual(after.layers[0].kernelInitializer, { name: 'heNormal' });
  onlyChanged(before, after, [0, 1]);
});

test('functional leaky ReLU needs torch.nn.functional: written through the F alias with the slope', async () => {
  const { before, after, newText } = await swapAndReload('mnist_mlp.py', 3, { activation: { name: 'leakyRelu', alpha: 0.01 } });
  assert.ok(newText.includes('x = F.leaky_relu(self.fc2(x), negative_slope=0.01)'), newText);
  assert.deepEqual(after.layers[3].activation, { name: 'leakyRelu', alpha: 0.01 });
  onlyChanged(before, after, [3]);
});

test('F.leaky_relu(x, 0.2) → F.elu(x): the old slope argument goes', async () => {
  const { after, newText } = await swapAndReload('functional_zoo.py', 1, { activation: { name: 'elu', alpha: 1 }, kernelInitializer: 'heNormal' });
  assert.ok(newText.includes('x = F.elu(self.l1(x))\n'), newText);
  assert.ok(newText.includes('self.l1 = nn.Linear(12, 12)\n        nn.init.kaiming_normal_(self.l1.weight, nonlinearity="relu")'), newText);
  assert.deepEqual(after.layers[1].activation, { name: 'elu', alpha: 1 });
  assert.deepEqual(after.layers[0].kernelInitializer, { name: 'heNormal' });
});

test('a tensor method stays a method where one exists, else becomes a functional call', async () => {
  const tanh = await swapAndReload('functional_zoo.py', 11, { activation: { name: 'relu' } });
  assert.ok(tanh.newText.includes('out = out.relu()'), tanh.newText);
  assert.deepEqual(tanh.after.layers[11].activation, { name: 'relu' });
  const elu = await swapAndReload('functional_zoo.py', 7, { activation: { name: 'elu', alpha: 0.5 } });
  assert.ok(elu.newText.includes('x = F.elu(self.l4(x), alpha=0.5)'), elu.newText);
  assert.deepEqual(elu.after.layers[7].activation, { name: 'elu', alpha: 0.5 });
});

test('activation module nn.Sigmoid() → nn.ReLU() in an OrderedDict; init via the module path model.fc1', async () => {
  const { before, after, newText } = await swapAndReload('ordered_dict.py', 1, RELU_HE);
  assert.ok(newText.includes('("act1", nn.ReLU()),'), newText);
  assert.ok(newText.includes(']))\nnn.init.kaiming_normal_(model.fc1.weight, nonlinearity="relu")'), newText);
  assert.deepEqual(after.layers[1].activation, { name: 'relu' });
  assert.deepEqual(after.layers[0].kernelInitializer, { name: 'heNormal' });
  onlyChanged(before, after, [0, 1]);
});

test('LeakyReLU and ELU modules with parameters; bare imported class names get an import', async () => {
  const leaky = await swapAndReload('sequential_basic.py', 1, { activation: { name: 'leakyRelu', alpha: 0.01 }, kernelInitializer: 'heNormal' });
  assert.ok(leaky.newText.includes('    nn.LeakyReLU(0.01),'), leaky.newText);
  assert.ok(leaky.newText.includes('\nnn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")'), leaky.newText);
  assert.deepEqual(leaky.after.layers[1].activation, { name: 'leakyRelu', alpha: 0.01 });
  assert.deepEqual(leaky.after.layers[0].kernelInitializer, { name: 'heNormal' });
  const elu = await swapAndReload('aliases_from_import.py', 1, { activation: { name: 'elu', alpha: 1 } }, 'net');
  // `import torch.nn` binds `torch`, so the new class is written torch.nn.ELU().
  assert.ok(elu.newText.includes('Linear(16, 32), torch.nn.ELU(), Linear'), elu.newText);
  assert.deepEqual(elu.after.layers[1].activation, { name: 'elu', alpha: 1 });
  const leakyAgain = await swapAndReload('aliases_from_import.py', 1, { activation: { name: 'leakyRelu', alpha: 0.05 } }, 'net');
  assert.ok(leakyAgain.newText.includes('Linear(16, 32), LeakyReLU(0.05), Linear'), leakyAgain.newText);
});

test('a shared activation module changes every use; init goes into __init__ after the loop that would override it', async () => {
  const shared = await swapAndReload('self_act_module.py', 1, RELU_HE);
  assert.ok(shared.newText.includes('self.act = nn.ReLU()'));
  assert.deepEqual([shared.after.layers[1].activation, shared.after.layers[3].activation], [{ name: 'relu' }, { name: 'relu' }]);
  const loop = await swapAndReload('init_loop.py', 3, { activation: { name: 'elu', alpha: 1 }, kernelInitializer: 'glorotUniform' });
  const lines = loop.newText.split('\n');
  const added = lines.indexOf('        nn.init.xavier_uniform_(self.fc2.weight)');
  assert.ok(added > lines.findIndex((l) => l.includes('nn.init.xavier_uniform_(self.fc3.weight)')), loop.newText);
  assert.deepEqual(loop.after.layers[2].kernelInitializer, { name: 'glorotUniform' });
  assert.deepEqual(loop.after.layers[0].kernelInitializer, { name: 'heNormal' });
});

test('nested Sequential paths and ModuleList items are initialised one by one', async () => {
  const nested = await swapAndReload('features_classifier.py', 10, RELU_HE);
  assert.ok(nested.newText.includes('nn.init.kaiming_normal_(self.classifier[1].weight, nonlinearity="relu")'), nested.newText);
  assert.deepEqual(nested.after.layers[9].kernelInitializer, { name: 'heNormal' });
  assert.deepEqual(nested.after.layers[0].kernelInitializer, { name: 'torchDefaultKernel' });
  const list = await swapAndReload('modulelist_loop.py', 5, RELU_HE);
  assert.ok(list.newText.includes('nn.init.kaiming_normal_(self.layers[1].weight, nonlinearity="relu")'), list.newText);
  assert.deepEqual(list.after.layers.filter((l) => l.kind === 'dense').map((l) => l.kernelInitializer?.name),
    ['torchDefaultKernel', 'torchDefaultKernel', 'heNormal', 'torchDefaultKernel', 'torchDefaultKernel', 'torchDefaultKernel']);
});

test('a Sequential returned by a function (no name to reach it): activation edit only, with a note', async () => {
  const text = 'import torch.nn as nn\n\n\ndef make_model():\n    return nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2))\n';
  const loaded = await loadTorchPython(text, 'factory.py');
  const model = loaded.models[0];
  assert.equal(model.name, 'make_model');
  const result = activationSwapEditsTorch(text, model, 1, RELU_HE);
  assert.ok(Array.isArray(result));
  assert.match(result.note ?? '', /not bound to a name/);
  assert.equal(applyEdits(text, result), text.replace('nn.Sigmoid()', 'nn.ReLU()'));
});

test('a factory-built block inside a named Sequential is reached by index: classifier[2][0]', async () => {
  const before = await loadModel('nested_sequential.py');
  const result = activationSwapEditsTorch(before.text, before.model, 6, { activation: { name: 'elu', alpha: 1 }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(result));
  const newText = applyEdits(before.text, result);
  assert.ok(newText.includes('nn.BatchNorm1d(n_out, eps=1e-3, momentum=0.01), nn.ELU())'), newText);
  assert.ok(newText.endsWith(')\nnn.init.kaiming_normal_(classifier[2][0].weight, nonlinearity="relu")\n'), newText);
  const after = (await loadTorchPython(newText, 'nested_sequential.py')).models[0];
  assert.deepEqual(after.layers[4].kernelInitializer, { name: 'heNormal' });
  assert.deepEqual(after.layers[6].activation, { name: 'elu', alpha: 1 });
});

test('kernel-only changes, refusals and stale sources', async () => {
  const { text, model } = await loadModel('mnist_mlp.py');
  const init = kernelInitializerEditsTorch(text, model, 2, 'glorotNormal');
  assert.ok(Array.isArray(init));
  const reloaded = await loadTorchPython(applyEdits(text, init), 'mnist_mlp.py');
  assert.deepEqual(reloaded.models[0].layers[2].kernelInitializer, { name: 'glorotNormal' });
  assert.ok('error' in (activationSwapEditsTorch(text, model, 0, RELU_HE) as object));
  assert.ok('error' in (activationSwapEditsTorch(text, model, 99, RELU_HE) as object));
  assert.ok('error' in (activationSwapEditsTorch(`# edited\n${text}`, model, 1, RELU_HE) as object));
  const prelu = activationSwapEditsTorch(text, model, 1, { activation: { name: 'prelu' } });
  assert.ok('error' in (prelu as object));
});
