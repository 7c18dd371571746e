/**
 * [issue 14: training state] Layers a file freezes are not trained in the diagnosis, in every
 * framework's spelling: Keras `trainable=False`, a saved config's `"trainable": false`, TF.js
 * `trainable: false`, PyTorch `requires_grad_(False)` and the `for p in m.parameters()` loop. A
 * freeze the IR cannot express (one tensor of a layer) or cannot place is reported, not ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoadResult } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';
import { MLP_CONFIG } from '../fixtures/saved/generate';

/** Each layer's kind, with `*` when it is frozen. */
function frozenMap(result: LoadResult): string[] {
  return result.models.map((m) => m.layers.map((l) => `${l.kind}${l.frozen ? '*' : ''}`).join(' '));
}

test('Keras, a saved Keras config and TF.js: the trainable flag freezes its layer', async () => {
  const keras = await loadModelFile('from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,), trainable=False), layers.Dense(2)])\n', 'k.py');
  assert.deepEqual(keras.problems, []);
  assert.deepEqual(frozenMap(keras), ['dense* dense']);
  const config = JSON.parse(MLP_CONFIG);
  config.config.layers[1].config.trainable = false;
  config.config.layers[3].config.trainable = true;
  const saved = await loadModelFile(JSON.stringify(config), 'saved.json');
  assert.deepEqual(frozenMap(saved), ['dense* batchNorm dense']);
  const tfjs = await loadModelFile("import * as tf from '@tensorflow/tfjs';\nconst model = tf.sequential();\nmodel.add(tf.layers.dense({units: 8, inputShape: [4], activation: 'relu', trainable: false}));\nmodel.add(tf.layers.dense({units: 2}));\n", 't.js');
  assert.deepEqual(tfjs.problems, []);
  assert.deepEqual(frozenMap(tfjs), ['dense* dense']);
});

test('Keras: trainable statements after the model freeze and thaw its layers in program order, or are reported', async () => {
  const KERAS = 'from tensorflow import keras\nfrom tensorflow.keras import layers\n';
  const byStatement = await loadModelFile(`${KERAS}model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(8, name="mid"), layers.Dense(8), layers.Dense(2)])
model.layers[0].trainable = False
model.get_layer("mid").trainable = False
model.layers[-1].trainable = False
model.layers[-1].trainable = True
`, 'k1.py');
  assert.deepEqual(frozenMap(byStatement), ['dense* dense* dense dense']);
  assert.deepEqual(byStatement.models[0].problems, []);
  const loop = await loadModelFile(`${KERAS}model = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(8), layers.Dense(8), layers.Dense(2)])\nfor layer in model.layers[:-2]:\n    layer.trainable = False\n`, 'k2.py');
  assert.deepEqual(frozenMap(loop), ['dense* dense* dense dense']);
  const builder = await loadModelFile(`${KERAS}def build(n):\n    model = keras.Sequential([layers.Dense(n, input_shape=(4,)), layers.Dense(2)])\n    model.trainable = False\n    return model\nmodel = build(8)\nother = keras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])\n`, 'k3.py');
  assert.deepEqual(frozenMap(builder), ['dense* dense*', 'dense dense']);
  // Functional: a layer variable is found by the call that built it; positions (the list starts
  // with the InputLayer) and a loop with a condition are reported where they are written.
  const functional = await loadModelFile(`${KERAS}inputs = keras.Input(shape=(4,))
dense = layers.Dense(8, activation="relu")
outputs = layers.Dense(2)(dense(inputs))
model = keras.Model(inputs, outputs)
dense.trainable = False
model.layers[1].trainable = False
for layer in model.layers:
    if layer.name.startswith("d"):
        layer.trainable = False
`, 'k4.py');
  assert.deepEqual(frozenMap(functional), ['dense* dense']);
  assert.deepEqual(functional.models[0].problems.map((p) => [p.span.start.line, /the layers it names are trained in the diagnosis/.test(p.message)]), [[8, true], [9, true]]);
});

test('PyTorch: requires_grad_(False) and the parameters() loop freeze modules, in the class, after construction and in a factory', async () => {
  const afterConstruction = await loadModelFile(`import torch.nn as nn
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
model[0].requires_grad_(False)
for p in model[2].parameters():
    p.requires_grad = False
`, 'a.py');
  assert.deepEqual(frozenMap(afterConstruction), ['dense* activation dense* activation dense']);
  assert.deepEqual(afterConstruction.models[0].problems, []);
  const inClass = await loadModelFile(`import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 2)
        for param in self.features.parameters():
            param.requires_grad_(False)
    def forward(self, x):
        return self.head(torch.relu(self.features(x)))
`, 'b.py');
  assert.deepEqual(frozenMap(inClass), ['dense* activation* dense* activation dense']);
  const factory = await loadModelFile(`import torch.nn as nn
def make():
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    m[0].requires_grad_(requires_grad=False)
    return m
model = make()
other = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
`, 'c.py');
  assert.deepEqual(frozenMap(factory), ['dense* activation dense', 'dense activation dense']);
});

test('PyTorch: a freeze the IR cannot express or place is reported where it is written', async () => {
  const oneTensor = await loadModelFile('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\nmodel[2].weight.requires_grad = False\n', 'd.py');
  assert.deepEqual(frozenMap(oneTensor), ['dense activation dense']);
  const [problem] = oneTensor.models[0].problems;
  assert.match(problem.message, /freezes one tensor of a layer, which is not modelled.*trained in the diagnosis/);
  assert.deepEqual([problem.span.start.line, problem.span.start.column], [3, 1]);
  // `requires_grad_()` with no argument turns training back on: not a freeze.
  const unfreeze = await loadModelFile('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\nmodel[0].requires_grad_()\n', 'e.py');
  assert.deepEqual(frozenMap(unfreeze), ['dense activation dense']);
  const unknown = await loadModelFile('import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\nfor p in model.backbone_from_hub().parameters():\n    p.requires_grad = False\n', 'f.py');
  assert.match(unknown.models[0].problems.map((p) => p.message).join('\n'), /`for p in model\.backbone_from_hub\(\)\.parameters\(\):.*` freezes a module that is not one of the model's layers known statically; nothing is frozen/);
});

test('the CLI trains around a frozen layer and judges no gradient of it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-frozen-'));
  const file = path.join(dir, 'frozen.py');
  // Six sigmoid layers: as written the first ones are flagged for vanishing gradients; frozen, they are not judged.
  const hidden = Array.from({ length: 6 }, (_, i) => `    layers.Dense(64, activation="sigmoid"${i === 0 ? ', input_shape=(32,)' : ''}${i < 3 ? ', trainable=False' : ''}),`).join('\n');
  fs.writeFileSync(file, `from tensorflow import keras\nfrom tensorflow.keras import layers\nmodel = keras.Sequential([\n${hidden}\n    layers.Dense(10, activation="softmax"),\n])\nmodel.compile(optimizer="adam", loss="categorical_crossentropy")\n`);
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'activation-lens.js'), 'diagnose', file, '--json', '--steps', '12', '--no-verify', '--backend', 'wasm'], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const model = JSON.parse(r.stdout).models[0];
  assert.deepEqual(model.layers.map((l: { frozen?: boolean }) => l.frozen === true), [true, true, true, false, false, false, false]);
  assert.deepEqual(model.layers.slice(0, 3).map((l: { gradNorm: number | null }) => l.gradNorm), [null, null, null]);
  assert.ok(model.layers.slice(3).every((l: { gradNorm: number | null }) => typeof l.gradNorm === 'number' && l.gradNorm > 0));
  const gradientFindings = model.findings.filter((f: { code: string; layerIndex: number | null }) => /gradient/.test(f.code) && f.layerIndex !== null && f.layerIndex < 3);
  assert.deepEqual(gradientFindings, []);
});
