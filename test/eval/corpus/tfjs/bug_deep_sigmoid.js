// Nine sigmoid hidden layers on 64 inputs.
const tf = require('@tensorflow/tfjs');

const model = tf.sequential();
model.add(tf.layers.dense({ units: 128, activation: 'sigmoid', inputShape: [64] }));
for (let i = 0; i < 8; i++) {
  model.add(tf.layers.dense({ units: 128, activation: 'sigmoid' }));
}
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });

module.exports = { model };
