import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTfjsSource } from '../../src/core/frameworks/tfjs/source';
import { countParameters } from '../../src/core/shapes';
import type { ModelSpec } from '../../src/core/model';

async function only(text: string): Promise<ModelSpec> {
  const result = await loadTfjsSource(text, 'model.js');
  assert.deepEqual(result.problems, []);
  assert.equal(result.models.length, 1);
  return result.models[0];
}

// The tfjs-examples mnist-node style: two conv blocks, each halved by 2×2 max pooling, then Dense.
const MNIST_NODE_CNN = `const tf = require('@tensorflow/tfjs-node');

const model = tf.sequential();
model.add(tf.layers.conv2d({inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu'}));
model.add(tf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu'}));
model.add(tf.layers.maxPooling2d({poolSize: [2, 2]}));
model.add(tf.layers.conv2d({filters: 64, kernelSize: 3, activation: 'relu'}));
model.add(tf.layers.conv2d({filters: 64, kernelSize: 3, activation: 'relu'}));
model.add(tf.layers.maxPooling2d({poolSize: [2, 2]}));
model.add(tf.layers.flatten());
model.add(tf.layers.dropout({rate: 0.25}));
model.add(tf.layers.dense({units: 512, activation: 'relu'}));
model.add(tf.layers.dropout({rate: 0.5}));
model.add(tf.layers.dense({units: 10, activation: 'softmax'}));

module.exports = model;
`;

test('TF.js Node MNIST CNN: the parameter count follows the valid convolutions and the pooling', async () => {
  const m = await only(MNIST_NODE_CNN);
  // Keras / TF.js: conv = kh·kw·in·filters + filters; dense = in·units + units.
  // 28 →(3×3 valid) 26 → 24 →(pool 2) 12 → 10 → 8 →(pool 2) 4; flatten 4·4·64 = 1024.
  const expected =
    (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (3 * 3 * 64 * 64 + 64) + (1024 * 512 + 512) + (512 * 10 + 10);
  assert.equal(expected, 594_922);
  assert.equal(countParameters(m), expected);
});

test('strides and same padding shrink the traced shape before Flatten; BatchNorm counts gamma and beta', async () => {
  const m = await only(`import * as tf from '@tensorflow/tfjs';
export const model = tf.sequential({layers: [
  tf.layers.conv2d({inputShape: [32, 32, 3], filters: 16, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu'}),
  tf.layers.batchNormalization(),
  tf.layers.conv2d({filters: 8, kernelSize: [3, 3], strides: [2, 2], useBias: false, activation: 'relu'}),
  tf.layers.averagePooling2d({poolSize: 3, strides: 1, padding: 'same'}),
  tf.layers.flatten(),
  tf.layers.dense({units: 10, activation: 'softmax'}),
]});
`);
  // 32 →(5×5, stride 2, same) ceil(32/2) = 16 →(3×3, stride 2, valid) floor((16-3)/2)+1 = 7
  // →(pool 3, stride 1, same) 7; flatten 7·7·8 = 392.
  const expected = (5 * 5 * 3 * 16 + 16) + 2 * 16 + 3 * 3 * 16 * 8 + (392 * 10 + 10);
  assert.equal(countParameters(m), expected);
});
