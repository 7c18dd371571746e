// A ReLU layer whose biases start at -4.
import * as tf from '@tensorflow/tfjs';

export const model = tf.sequential();
model.add(tf.layers.dense({
  inputShape: [784],
  units: 128,
  activation: 'relu',
  biasInitializer: tf.initializers.constant({ value: -4 }),
}));
model.add(tf.layers.dense({ units: 64, activation: 'relu' }));
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
