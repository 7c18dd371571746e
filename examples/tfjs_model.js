// A deep TensorFlow.js sigmoid stack: gradients vanish towards the first layers.
// Try: npm run --silent diagnose -- examples/tfjs_model.js
const tf = require('@tensorflow/tfjs');

const WIDTH = 128;

const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid', inputShape: [64] }),
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid' }),
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid' }),
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid' }),
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid' }),
    tf.layers.dense({ units: WIDTH, activation: 'sigmoid' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});

module.exports = { model };
