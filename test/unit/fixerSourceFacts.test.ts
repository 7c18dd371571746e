/**
 * [issue 12] The Python fixers take what they need from the ModelSpec (`sourceFacts`, gathered
 * while the file was read), not from a parser: a model that went through JSON, as it does
 * across the worker boundary, yields the same edits, and a model without the facts cannot
 * borrow them from the text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelSpec } from '../../src/core/model';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';
import { batchNormEdits, mergeEdits } from '../../src/core/fixes/changes';
import { loadModelFile } from '../../src/core/parse/index';

/** What a model is after the trainer's worker boundary: JSON, no prototypes, no Maps. */
function throughJson(model: ModelSpec): ModelSpec {
  return JSON.parse(JSON.stringify(model)) as ModelSpec;
}

function withoutFacts(model: ModelSpec): ModelSpec {
  const { sourceFacts: _facts, ...rest } = model;
  return rest;
}

async function loadOne(text: string, fileName: string): Promise<ModelSpec> {
  const result = await loadModelFile(text, fileName);
  assert.deepEqual(result.problems, []);
  assert.equal(result.models.length, 1);
  return result.models[0];
}

const KERAS_BY_NAME = `from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

model = Sequential([
    Dense(64, activation="sigmoid", input_shape=(20,)),
    Dense(10, activation="softmax"),
])
`;

test('Keras: a class the file has no name for is imported next to the import the layers come from, from the facts alone', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  assert.ok(model.sourceFacts, 'the loader records the facts');
  const swap = { activation: { name: 'leakyRelu' as const, alpha: 0.01 } };
  const edits = activationSwapEdits(KERAS_BY_NAME, model, 0, swap);
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(KERAS_BY_NAME, edits);
  assert.ok(fixed.includes('from tensorflow.keras.layers import Dense\nfrom tensorflow.keras.layers import LeakyReLU\n'), fixed);
  assert.ok(fixed.includes('Dense(64, activation=LeakyReLU(0.01), input_shape=(20,))'), fixed);
  assert.deepEqual(activationSwapEdits(KERAS_BY_NAME, throughJson(model), 0, swap), edits);
  // Without the facts the fixer cannot tell how the file names Keras layers (bare `Dense`), and says so.
  assert.match(JSON.stringify(activationSwapEdits(KERAS_BY_NAME, withoutFacts(model), 0, swap)), /Cannot tell how this file refers to Keras layers/);
});

test('Keras: BatchNormalization edits are the same after JSON', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  const edits = batchNormEdits(KERAS_BY_NAME, model, [0]);
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  // Two import lines go after the same statement; the callers merge such insertions.
  const merged = mergeEdits(KERAS_BY_NAME, edits);
  assert.ok(Array.isArray(merged), JSON.stringify(merged));
  assert.ok(applyEdits(KERAS_BY_NAME, merged).includes('from tensorflow.keras.layers import BatchNormalization'));
  assert.deepEqual(batchNormEdits(KERAS_BY_NAME, throughJson(model), [0]), edits);
});

test('Keras: an import statement that changed since the read is not spliced at its old offsets', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  const edited = KERAS_BY_NAME.replace('import Dense\n', 'import Dens\n\n');
  assert.match(JSON.stringify(activationSwapEdits(edited, model, 0, { activation: { name: 'leakyRelu', alpha: 0.01 } })), /changed since/);
});

const TORCH_CLASS = `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.act = nn.Sigmoid()
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.act(self.fc1(x))
        return torch.sigmoid(self.fc2(x))


model = Net()
`;

test('PyTorch: activation, initialiser and BatchNorm edits of a class come from the facts and survive JSON', async () => {
  const model = await loadOne(TORCH_CLASS, 'net.py');
  assert.ok(model.sourceFacts?.torch, 'the loader records the facts');
  const swap = { activation: { name: 'relu' as const }, kernelInitializer: 'heNormal' as const };
  const swapped = activationSwapEdits(TORCH_CLASS, model, 1, swap);
  assert.ok(Array.isArray(swapped), JSON.stringify(swapped));
  const fixed = applyEdits(TORCH_CLASS, swapped);
  assert.ok(fixed.includes('        self.fc1 = nn.Linear(784, 256)\n        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")\n        self.act = nn.ReLU()\n'), fixed);
  assert.deepEqual(activationSwapEdits(TORCH_CLASS, throughJson(model), 1, swap), swapped);
  // The module attribute applied in forward, and the functional call: BatchNorm on each one's input.
  const batchNorm = batchNormEdits(TORCH_CLASS, model, [1, 3]);
  assert.ok(Array.isArray(batchNorm), JSON.stringify(batchNorm));
  const withBatchNorm = applyEdits(TORCH_CLASS, batchNorm);
  assert.ok(withBatchNorm.includes('x = self.act(self.bn1(self.fc1(x)))') && withBatchNorm.includes('return torch.sigmoid(self.bn2(self.fc2(x)))'), withBatchNorm);
  assert.deepEqual(batchNormEdits(TORCH_CLASS, throughJson(model), [1, 3]), batchNorm);
  // Without the facts the fixer has nothing to read the class from: it does not parse the text itself.
  assert.match(JSON.stringify(activationSwapEdits(TORCH_CLASS, withoutFacts(model), 1, swap)), /carries no facts about its source/);
});

test('PyTorch: a notebook keeps its facts as offsets of the joined cells', async () => {
  const cells = ['import torch.nn as nn\n', '%matplotlib inline\nmodel = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 2))\n'];
  const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { language_info: { name: 'python' } }, cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null })) });
  const result = await loadModelFile(notebook, 'net.ipynb');
  assert.deepEqual(result.problems, []);
  const program = cells.join('\n');
  const model = throughJson(result.models[0]);
  const edits = activationSwapEdits(program, model, 1, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  assert.equal(applyEdits(program, edits), program.replace('nn.Sigmoid()', 'nn.ReLU()').replace('nn.Linear(8, 2))\n', 'nn.Linear(8, 2))\nnn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")\n'));
});

test('PyTorch: a source that moved since the read is refused, not spliced at the old offsets', async () => {
  const model = await loadOne(TORCH_CLASS, 'net.py');
  assert.match(JSON.stringify(activationSwapEdits(`# edited\n${TORCH_CLASS}`, model, 1, { activation: { name: 'relu' } })), /changed since it was analysed/);
  assert.match(JSON.stringify(batchNormEdits(`# edited\n${TORCH_CLASS}`, model, [1])), /changed since it was analysed/);
});

test('PyTorch: the statements recorded for a model name it whole (`net` is not in `net2`), as the reader runs them', async () => {
  const text = 'import torch.nn as nn\nnet = nn.Sequential(nn.Linear(4, 8), nn.Tanh())\nnet2 = nn.Sequential(nn.Linear(4, 8), nn.Tanh())\nnn.init.zeros_(net2[0].weight)\n';
  const result = await loadModelFile(text, 'two.py');
  assert.deepEqual(result.problems, []);
  const [net, net2] = result.models;
  const recorded = (model: ModelSpec): string[] => {
    const definition = model.sourceFacts?.torch?.definition;
    assert.ok(definition?.kind === 'expression' && definition.binding, JSON.stringify(definition));
    return definition.binding.statements.map((s) => text.slice(s.start, s.end));
  };
  assert.deepEqual(recorded(net), ['net = nn.Sequential(nn.Linear(4, 8), nn.Tanh())']);
  assert.deepEqual(recorded(net2), ['net2 = nn.Sequential(nn.Linear(4, 8), nn.Tanh())', 'nn.init.zeros_(net2[0].weight)']);
  assert.deepEqual([net.layers[0].kernelInitializer?.name, net2.layers[0].kernelInitializer?.name], ['torchDefaultKernel', 'zeros'], 'the zeros_ call initialises net2 only');
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}

test('no fixer imports the parser: src/core/fixes reads syntax only through the ModelSpec', () => {
  const fixes = path.resolve(__dirname, '../../src/core/fixes');
  const sources = [...filesUnder(fixes), path.resolve(fixes, '../fixes.ts')].filter((file) => file.endsWith('.ts'));
  assert.ok(sources.length >= 8, sources.join(', '));
  for (const file of sources) {
    const imports = [...fs.readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]);
    const parsers = imports.filter((specifier) => specifier === 'web-tree-sitter' || specifier.endsWith('/treeSitter') || specifier.endsWith('python/importFacts'));
    assert.deepEqual(parsers, [], path.relative(fixes, file));
  }
});
