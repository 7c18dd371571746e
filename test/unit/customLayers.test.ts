/**
 * [issue 14: custom layers] A layer class of the file is read when its `call` / `forward` is a
 * composition of supported calls, with the arguments of each instance; when it is not, only the
 * models that use it are refused, with the class named and its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';

function layersOf(result: LoadResult, name: string): string[] {
  const model = result.models.find((m) => m.name === name);
  assert.ok(model, `no model ${name}: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return model.layers.map((l) => `${l.kind}${l.units ?? ''}${l.activation.name === 'linear' ? '' : `/${l.activation.name}`}@${l.source.span.start.line}`);
}

const KERAS_BLOCK = `import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

class Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(units, activation="relu")
        self.out = layers.Dense(units)

    def call(self, inputs):
        return tf.nn.tanh(self.out(self.hidden(inputs)))

class Swish(layers.Layer):
    def call(self, x):
        return x * tf.sigmoid(x)
`;

test('Keras: a custom layer is read in place, once per instance with its arguments, in lists, add chains and functional chains', async () => {
  const result = await loadModelFile(`${KERAS_BLOCK}
listed = keras.Sequential([layers.Dense(8, input_shape=(4,)), Block(16), Swish(), Block(32), layers.Dense(2)])
added = keras.Sequential()
added.add(layers.Dense(8, input_shape=(4,)))
added.add(Block(units=12))
added.add(layers.Dense(2))
inputs = keras.Input(shape=(4,))
outputs = layers.Dense(2)(Block(6)(inputs))
functional = keras.Model(inputs, outputs)
`, 'blocks.py');
  assert.deepEqual(result.problems, []);
  // The block's layers carry the class's lines (8, 9, 12), where its CodeLens and findings go.
  assert.deepEqual(layersOf(result, 'listed'), ['dense8@18', 'dense16/relu@8', 'dense16@9', 'activation/tanh@12', 'activation/swish@16', 'dense32/relu@8', 'dense32@9', 'activation/tanh@12', 'dense2@18']);
  assert.deepEqual(layersOf(result, 'added'), ['dense8@20', 'dense12/relu@8', 'dense12@9', 'activation/tanh@12', 'dense2@22']);
  assert.deepEqual(layersOf(result, 'functional'), ['dense6/relu@8', 'dense6@9', 'activation/tanh@12', 'dense2@24']);
});

test('Keras: a custom layer that cannot be read refuses only the models using it, naming the class and its line', async () => {
  const result = await loadModelFile(`${KERAS_BLOCK}
class Scaled(layers.Layer):
    def call(self, x):
        return x * 2.0

good = keras.Sequential([layers.Dense(8, input_shape=(4,)), Block(8), layers.Dense(2)])
bad = keras.Sequential([layers.Dense(8, input_shape=(4,)), Scaled(), layers.Dense(2)])
`, 'scaled.py');
  assert.deepEqual(result.models.map((m) => m.name), ['good']);
  const [problem] = result.problems;
  assert.match(problem.message, /^Model `bad` cannot be diagnosed: the custom layer `Scaled` \(class at line 18\) cannot be read: /);
  assert.deepEqual([problem.span.start.line, problem.span.start.column], [20, 16]);
});

test('PyTorch: a module that writes SiLU out (x * torch.sigmoid(x)) is read as SiLU', async () => {
  const result = await loadModelFile(`import torch
import torch.nn as nn

class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)

class Gated(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x) * x

model = nn.Sequential(nn.Linear(4, 8), Swish(), nn.Linear(8, 8), Gated(), nn.Linear(8, 2))
`, 'swish.py');
  assert.deepEqual(layersOf(result, 'model').map((l) => l.replace(/@\d+$/, '')), ['dense8', 'activation/swish', 'dense8', 'activation/swish', 'dense2']);
});
