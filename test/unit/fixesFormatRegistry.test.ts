import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS, findBinaryFormat, findFormat, fixesFor } from '../../src/core/formats';
import { detectFormat, loadModelFile } from '../../src/core/parse/index';
import { activationSwapEdits } from '../../src/core/fixes';
import { batchNormEdits, learningRateEdits } from '../../src/core/fixes/changes';
import type { ModelFormat } from '../../src/core/model';
import { kerasArchive, MLP_CONFIG } from '../fixtures/saved/generate';

const KERAS_PY = `from tensorflow import keras
model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3, activation="sigmoid")])
`;
// Mentions Keras only in a comment; imports only torch, so it is PyTorch.
const TORCH_PY = `# a port of the keras tutorial
import torch.nn as nn

model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())
`;
const TFJS = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential({layers: [tf.layers.dense({inputShape: [4], units: 3, activation: 'sigmoid'})]});
`;
const TFJS_JSON = JSON.stringify({ format: 'layers-model', modelTopology: JSON.parse(MLP_CONFIG) });

test('the registry has one entry per format, in an order where the more specific format comes first', () => {
  const ids = FORMATS.map((f) => f.id);
  assert.deepEqual([...new Set(ids)], ids);
  assert.deepEqual([...ids].sort(), ['keras-archive', 'keras-json', 'keras-python', 'pytorch-python', 'tfjs-json', 'tfjs-source']);
  assert.ok(ids.indexOf('pytorch-python') < ids.indexOf('keras-python'));
  assert.ok(ids.indexOf('tfjs-json') < ids.indexOf('keras-json'));
  const formats: ModelFormat[] = ['keras-python', 'pytorch-python', 'tfjs-source', 'keras-json', 'tfjs-json'];
  for (const format of formats) assert.equal(typeof fixesFor(format).activationSwap, 'function', format);
});

test('detectFormat goes through the registry: extension first, then content', async () => {
  assert.equal(detectFormat(KERAS_PY, 'm.py'), 'keras-python');
  assert.equal(detectFormat('import torch\n', 'm.py'), 'pytorch-python');
  assert.equal(detectFormat('x = 1\n', 'm.pyw'), 'keras-python');
  assert.equal(detectFormat(TFJS, 'm.ts'), 'tfjs-source');
  assert.equal(detectFormat('const x = 1;\n', 'm.js'), undefined);
  assert.equal(detectFormat(TFJS_JSON, 'model.json'), 'tfjs-json');
  assert.equal(detectFormat(MLP_CONFIG, 'model.json'), 'keras-json');
  assert.equal(detectFormat(MLP_CONFIG, 'config.txt'), 'keras-json');
  // A Python file is never read as JSON, whatever it holds.
  assert.equal(findFormat(MLP_CONFIG, 'm.py')?.id, 'keras-python');
  assert.equal(detectFormat('{"a": 1}', 'data.json'), undefined);
  const archive = await kerasArchive();
  assert.equal(findBinaryFormat(archive, 'model.keras')?.id, 'keras-archive');
  assert.equal(findBinaryFormat(new TextEncoder().encode(KERAS_PY), 'm.py'), undefined);
});

test('loadModelFile dispatches to the entry that matches; a Keras-mentioning file that imports only torch is PyTorch', async () => {
  const torch = await loadModelFile(TORCH_PY, 'port.py');
  assert.equal(torch.format, 'pytorch-python');
  assert.equal(torch.models[0]?.layers[0]?.kind, 'dense');
  const keras = await loadModelFile(KERAS_PY, 'k.py');
  assert.equal(keras.format, 'keras-python');
  const tfjs = await loadModelFile(TFJS, 'm.ts');
  assert.equal(tfjs.format, 'tfjs-source');
  const saved = await loadModelFile(TFJS_JSON, 'model.json');
  assert.equal(saved.format, 'tfjs-json');
  const archive = await loadModelFile(await kerasArchive(), 'model.keras');
  assert.equal(archive.format, 'keras-json');
  assert.equal(archive.models[0]?.binary, true);
});

test('fixes dispatch by the model format: each format writes its own syntax or says why it cannot', async () => {
  const keras = (await loadModelFile(KERAS_PY, 'k.py')).models[0];
  const kerasEdits = activationSwapEdits(KERAS_PY, keras, 0, { activation: { name: 'relu' } });
  assert.ok(Array.isArray(kerasEdits));
  assert.deepEqual(kerasEdits.map((e) => e.newText), ['"relu"']);
  const torch = (await loadModelFile(TORCH_PY, 'port.py')).models[0];
  const torchEdits = activationSwapEdits(TORCH_PY, torch, 1, { activation: { name: 'relu' } });
  assert.ok(Array.isArray(torchEdits), JSON.stringify(torchEdits));
  assert.ok(torchEdits.some((e) => e.newText.includes('nn.ReLU()')));
  const tfjs = (await loadModelFile(TFJS, 'm.ts')).models[0];
  const tfjsEdits = activationSwapEdits(TFJS, tfjs, 0, { activation: { name: 'relu' } });
  assert.ok(Array.isArray(tfjsEdits));
  assert.deepEqual(tfjsEdits.map((e) => e.newText), ["'relu'"]);
  const saved = (await loadModelFile(TFJS_JSON, 'model.json')).models[0];
  assert.match(JSON.stringify(batchNormEdits(TFJS_JSON, saved, [0])), /BatchNormalization layer cannot be inserted/);
  assert.match(JSON.stringify(learningRateEdits(TFJS_JSON, saved, 0.01)), /does not hold the learning rate/);
  const archive = (await loadModelFile(await kerasArchive(), 'model.keras')).models[0];
  assert.match(JSON.stringify(activationSwapEdits('', archive, 0, { activation: { name: 'relu' } })), /binary file/);
});
