/**
 * Keras and PyTorch Python loaders: layers applied twice (shared weights) are refused, backslash
 * line continuations are not arguments, constant dicts are evaluated (and refused when changed),
 * and PyTorch Lightning modules are read like nn.Module subclasses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerSpec, LoadResult, ModelSpec } from '../../src/core/model';
import { loadKerasPython } from '../../src/core/frameworks/keras/python';
import { loadTorchPython } from '../../src/core/parse/torchPython';

function only(result: LoadResult): ModelSpec {
  assert.deepEqual(result.problems.map((p) => p.message), []);
  assert.equal(result.models.length, 1);
  return result.models[0];
}

/** 'dense 64 relu', 'activation relu', … */
function summary(layers: readonly LayerSpec[]): string[] {
  return layers.map((l) => [l.kind, l.units, l.kind === 'activation' || l.activation.name !== 'linear' ? l.activation.name : undefined].filter((p) => p !== undefined).join(' '));
}

function refusal(result: LoadResult): { code: string; message: string; at: string } {
  assert.equal(result.models.length, 0);
  assert.equal(result.problems.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  const [problem] = result.problems;
  return { code: problem.code, message: problem.message, at: `${problem.span.start.line}:${problem.span.start.column}` };
}

test('PyTorch: a module applied twice in forward (shared weights) is refused at the second application', async () => {
  const text = `import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(10, 32)
        self.shared = nn.Linear(32, 32)
        self.out = nn.Linear(32, 1)
    def forward(self, x):
        x = F.relu(self.inp(x))
        x = F.relu(self.shared(x))
        x = F.relu(self.shared(x))
        return self.out(x)
`;
  const problem = refusal(await loadTorchPython(text, 'a.py'));
  assert.equal(problem.code, 'unsupported-layer');
  assert.equal(problem.at, '12:20');
  assert.match(problem.message, /`nn\.Linear\(32, 32\)` is applied more than once \(its weights are shared\)/);
});

test('PyTorch: a module listed twice in nn.Sequential is refused at the second listing', async () => {
  const text = `import torch.nn as nn
l = nn.Linear(8, 8)
model = nn.Sequential(l, nn.ReLU(), l)
`;
  const problem = refusal(await loadTorchPython(text, 'a.py'));
  assert.equal(problem.code, 'unsupported-layer');
  assert.equal(problem.at, '3:37');
  assert.match(problem.message, /applied more than once \(its weights are shared\)/);
});

test('PyTorch: an activation module without weights applied twice is read (nothing is shared)', async () => {
  const text = `import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)
        self.act = nn.Tanh()
    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.act(x))))
`;
  const m = only(await loadTorchPython(text, 'a.py'));
  assert.deepEqual(summary(m.layers), ['activation tanh', 'dense 8', 'activation tanh', 'dense 2']);
});

test('Keras functional: a layer object applied twice is refused at the second application', async () => {
  const text = `from tensorflow import keras
from tensorflow.keras import layers
inp = keras.Input(shape=(16,))
shared = layers.Dense(16, activation='relu')
x = shared(inp)
x = shared(x)
out = layers.Dense(1)(x)
model = keras.Model(inp, out)
`;
  const problem = refusal(await loadKerasPython(text, 'a.py'));
  assert.equal(problem.code, 'unsupported-layer');
  assert.equal(problem.at, '6:5');
  assert.match(problem.message, /`layers\.Dense\(16, activation='relu'\)` is applied more than once \(its weights are shared\)/);
});

test('Keras Sequential: a layer object listed twice is refused at the second listing', async () => {
  const text = `from tensorflow import keras
from tensorflow.keras import layers
d = layers.Dense(16, activation='relu')
model = keras.Sequential([keras.Input(shape=(16,)), d, d, layers.Dense(1)])
`;
  const problem = refusal(await loadKerasPython(text, 'a.py'));
  assert.equal(problem.code, 'unsupported-layer');
  assert.equal(problem.at, '4:56');
  assert.match(problem.message, /applied more than once \(its weights are shared\)/);
});

test('Keras: a backslash line continuation inside a call is not an argument', async () => {
  const text = `from keras.models import Sequential
from keras.layers import Dense
model = Sequential()
model.add(Dense(8, input_dim=4, \\
                activation='relu'))
model.add(Dense(1, \\
                activation='sigmoid'))
`;
  const m = only(await loadKerasPython(text, 'a.py'));
  assert.deepEqual(m.inputShape, [4]);
  assert.deepEqual(summary(m.layers), ['dense 8 relu', 'dense 1 sigmoid']);
});

test('PyTorch: backslash line continuations in arguments, lists and parameters are skipped', async () => {
  const text = `import torch.nn as nn
def make(n_in, \\
         n_out=2):
    return nn.Sequential(nn.Linear(n_in, \\
                                   16), *[nn.ReLU(), \\
                                          nn.Linear(16, n_out)])
model = make(5)
`;
  const m = only(await loadTorchPython(text, 'a.py'));
  assert.deepEqual(m.inputShape, [5]);
  assert.deepEqual(summary(m.layers), ['dense 16', 'activation relu', 'dense 2']);
});

test('Keras: module-level dict literals and dict(...) are evaluated (subscript, .get, loops)', async () => {
  const text = `from tensorflow import keras
from tensorflow.keras import layers
CONFIG = {"hidden": [64, 32], "act": "relu"}
params = dict(units=64, act='tanh')
model = keras.Sequential()
model.add(keras.Input(shape=(10,)))
model.add(layers.Dense(params['units'], activation=params['act']))
for width in CONFIG['hidden']:
    model.add(layers.Dense(width, activation=CONFIG.get('act', 'linear')))
model.add(layers.Dense(CONFIG.get('out', 3), activation='softmax'))
`;
  const m = only(await loadKerasPython(text, 'a.py'));
  assert.deepEqual(m.inputShape, [10]);
  assert.deepEqual(summary(m.layers), ['dense 64 tanh', 'dense 64 relu', 'dense 32 relu', 'dense 3 softmax']);
});

test('Keras: a dict changed in place is not a constant; refused with where it is changed', async () => {
  const text = `from tensorflow import keras
from tensorflow.keras import layers
CONFIG = {"units": 64}
CONFIG["units"] = 128
model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(CONFIG["units"])])
`;
  const problem = refusal(await loadKerasPython(text, 'a.py'));
  assert.equal(problem.code, 'parse-error');
  assert.equal(problem.at, '5:66');
  assert.match(problem.message, /`CONFIG` is a dict that is changed at line 4 \(`CONFIG\["units"\] = 128`\)/);
});

test('PyTorch: dict subscripts and .get(key, default) give layer sizes', async () => {
  const text = `import torch.nn as nn
cfg = {'in_dim': 20, 'hidden': 64}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(cfg['in_dim'], cfg['hidden'])
        self.fc2 = nn.Linear(cfg['hidden'], cfg.get('units', 32))
    def forward(self, x):
        return self.fc2(self.fc1(x).relu())
`;
  const m = only(await loadTorchPython(text, 'a.py'));
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(summary(m.layers), ['dense 64', 'activation relu', 'dense 32']);
});

test('PyTorch: a dict changed by update() elsewhere is refused with where it is changed', async () => {
  const text = `import torch.nn as nn
cfg = dict(in_dim=20)
cfg.update(in_dim=30)
model = nn.Sequential(nn.Linear(cfg['in_dim'], 4))
`;
  const problem = refusal(await loadTorchPython(text, 'a.py'));
  assert.equal(problem.code, 'parse-error');
  assert.equal(problem.at, '4:33');
  assert.match(problem.message, /`cfg` is a dict that is changed at line 3 \(`cfg\.update\(in_dim=30\)`\)/);
});

test('PyTorch Lightning: a LightningModule is read through __init__ and forward', async () => {
  for (const [imports, base] of [
    ['import pytorch_lightning as pl', 'pl.LightningModule'],
    ['import lightning as L', 'L.LightningModule'],
    ['import lightning', 'lightning.pytorch.LightningModule'],
  ]) {
    const text = `import torch
import torch.nn as nn
${imports}
class LitModel(${base}):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 1)
    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self(x), y)
`;
    const m = only(await loadTorchPython(text, 'a.py'));
    assert.equal(m.name, 'LitModel');
    assert.deepEqual(m.inputShape, [10]);
    assert.deepEqual(summary(m.layers), ['dense 32', 'activation relu', 'dense 1']);
  }
});
