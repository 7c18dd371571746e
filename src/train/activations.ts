/**
 * Activation layers for every ActivationName, built from ops that every backend (wasm
 * included) implements with gradients. Two are not in TensorFlow.js and are custom layers here.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActivationSpec } from '../core/model';

type Kwargs = Record<string, unknown>;

/**
 * Randomized leaky ReLU (Xu et al. 2015): f(x) = x for x > 0, a·x otherwise, with
 * a ~ U(lower, upper) drawn per unit per training step; at inference a = (lower + upper) / 2.
 */
class RandomizedLeakyReLU extends tf.layers.Layer {
  static className = 'ActivationLensRReLU';
  private step = 0;

  constructor(
    private readonly lower: number,
    private readonly upper: number,
    private readonly seed: number,
    name: string,
  ) {
    super({ name });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      let slope: tf.Tensor | number;
      if (kwargs['training'] === true) {
        // One slope per unit (last axis), fresh every step, broadcast over batch and space.
        const units = x.shape[x.shape.length - 1] ?? 1;
        slope = tf.randomUniform([units], this.lower, this.upper, 'float32', this.seed * 7919 + this.step++);
      } else {
        slope = (this.lower + this.upper) / 2;
      }
      // relu(x) − a·relu(−x) = x for x > 0, a·x otherwise; built from ops with gradients.
      return tf.sub(tf.relu(x), tf.mul(slope, tf.relu(tf.neg(x))));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), lower: this.lower, upper: this.upper };
  }
}

/** f(x) = eˣ (Keras' "exponential"); not among TensorFlow.js' built-in activations. */
class ExponentialActivation extends tf.layers.Layer {
  static className = 'ActivationLensExponential';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.exp(Array.isArray(inputs) ? inputs[0] : inputs);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
}

/**
 * ELU with any α: f(x) = x for x > 0, α(eˣ − 1) otherwise, written as relu(x) + α(e^min(x, 0) − 1)
 * so that every op has a gradient. TensorFlow.js' own ELU layer refuses α ≠ 1.
 */
class ScaledELU extends tf.layers.Layer {
  static className = 'ActivationLensELU';

  constructor(
    private readonly alpha: number,
    name: string,
  ) {
    super({ name });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.add(tf.relu(x), tf.mul(this.alpha, tf.sub(tf.exp(tf.minimum(x, 0)), 1)));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

/** PyTorch's and the RReLU paper's default slope interval [1/8, 1/3]. */
export const RRELU_DEFAULT_LOWER = 1 / 8;
export const RRELU_DEFAULT_UPPER = 1 / 3;

/**
 * The axes a PReLU shares its slopes over, for an input of `rank` axes with the batch axis 0:
 * a shared slope spans every other axis, a per-channel slope every axis but the last.
 */
function preluSharedAxes(slopes: ActivationSpec['slopes'], rank: number): number[] | undefined {
  const nonBatch = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  if (slopes === 'shared') return nonBatch;
  if (slopes === 'perChannel' && rank > 2) return nonBatch.slice(0, -1);
  return undefined;
}

/** Builds the activation layer for a spec, or undefined for `linear` (identity); `inputRank` counts the batch axis. */
export function createActivationLayer(spec: ActivationSpec, name: string, seed: number, inputRank = 2): tf.layers.Layer | undefined {
  switch (spec.name) {
    case 'linear':
      return undefined;
    case 'leakyRelu':
      return tf.layers.leakyReLU({ alpha: spec.alpha ?? 0.01, name });
    case 'prelu': {
      // Learned slopes starting at α (PyTorch 0.25, Keras 0): per unit, per channel or one shared.
      const sharedAxes = preluSharedAxes(spec.slopes, inputRank);
      return tf.layers.prelu({ alphaInitializer: tf.initializers.constant({ value: spec.alpha ?? 0.25 }), ...(sharedAxes ? { sharedAxes } : {}), name });
    }
    case 'elu':
      return spec.alpha === undefined || spec.alpha === 1
        ? tf.layers.activation({ activation: 'elu', name })
        : new ScaledELU(spec.alpha, name);
    case 'rrelu':
      return new RandomizedLeakyReLU(spec.lower ?? RRELU_DEFAULT_LOWER, spec.upper ?? RRELU_DEFAULT_UPPER, seed, name);
    case 'exponential':
      return new ExponentialActivation({ name });
    case 'sigmoid':
    case 'tanh':
    case 'relu':
    case 'relu6':
    case 'selu':
    case 'gelu':
    case 'swish':
    case 'mish':
    case 'softplus':
    case 'softsign':
    case 'hardSigmoid':
    case 'softmax':
      return tf.layers.activation({ activation: spec.name, name });
  }
}
