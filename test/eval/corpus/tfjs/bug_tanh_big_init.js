// tanh layers initialised with N(0, 1.5^2) weights on 100 inputs.
const tf = require('@tensorflow/tfjs');

const init = tf.initializers.randomNormal({ mean: 0, stddev: 1.5 });
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [100], units: 64, activation: 'tanh', kernelInitializer: init }),
    tf.layers.dense({ units: 64, activation: 'tanh', kernelInitializer: init }),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });

module.exports = { model };
