// A one-unit softmax output under binary cross-entropy.
const tf = require('@tensorflow/tfjs');

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [30], units: 16, activation: 'relu' }),
    tf.layers.dense({ units: 1, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.001), loss: 'binaryCrossentropy', metrics: ['accuracy'] });

module.exports = { model };
