/**
 * Turns a ModelSpec into TensorFlow.js models: one to train and one to probe. Every IR layer is
 * built as its core layer with a linear output followed by its activation layer, so the probe can
 * read both the pre-activation (for saturation and dead units) and the activation (for
 * zero-centring and histograms). Mathematically identical to the fused Keras layer.
 */
import * as tf from '@tensorflow/tfjs';
import type { InitializerSpec, LayerSpec, ModelSpec, WeightTensor } from '../core/model';
import { effectiveLoss } from '../core/trainingSetup';
import { createActivationLayer } from './activations';

export class UnsupportedModelError extends Error {}

export interface BuiltModel {
  /** Input → the last layer's pre-activation (logits for a softmax/sigmoid head). */
  readonly trainModel: tf.LayersModel;
  /** Input → every distinct pre-/post-activation tensor; see probeLayout. */
  readonly probeModel: tf.LayersModel;
  /** Per IR layer: which probe output is its pre-activation and which its activation (equal for linear). */
  readonly probeLayout: readonly { readonly pre: number; readonly post: number }[];
  /** Per IR layer: its kernel variable, when it has one (for per-step gradient norms). */
  readonly kernels: readonly (tf.Variable | undefined)[];
  /** The output layer. */
  readonly head: LayerSpec;
  /** How the loss is computed from trainModel's output (lossPlan below). */
  readonly loss: LossPlan;
  /** True when a BatchNorm layer makes training-mode and inference-mode outputs differ. */
  readonly hasBatchNorm: boolean;
}

/**
 * The loss the run trains with, as computed from trainModel's output:
 * - `softmaxCrossEntropy` / `sigmoidCrossEntropy`: on logits. The output is the head's
 *   pre-activation when the head is the softmax/sigmoid the loss expects (the stable form of
 *   Keras' cross-entropy on probabilities, and of NLLLoss after log_softmax), or the head's own
 *   output when the loss takes logits (PyTorch CrossEntropyLoss, from_logits=True): after an
 *   explicit softmax that is a softmax applied twice, as in the user's code.
 * - `categoricalOnProbabilities` / `binaryOnProbabilities`: Keras' formulas on whatever the head
 *   outputs (a ReLU or linear head under a cross-entropy trains as badly here as there).
 * - `negativeLogLikelihood`: NLLLoss on an output that is not a log-softmax.
 * - regression losses on the output.
 * `targets` is what the targets are: class one-hots, bits per output, or values.
 */
export interface LossPlan {
  readonly kind:
    | 'softmaxCrossEntropy' | 'sigmoidCrossEntropy' | 'categoricalOnProbabilities' | 'binaryOnProbabilities'
    | 'negativeLogLikelihood' | 'meanSquaredError' | 'meanAbsoluteError' | 'huber';
  readonly targets: 'classes' | 'bits' | 'values';
  /** trainModel ends at the head's pre-activation (its softmax/sigmoid is inside the loss). */
  readonly onHeadLogits: boolean;
}

/** A layer's settings in words, for messages. */
function layerSettings(layer: LayerSpec): string {
  const parts: string[] = [];
  if (layer.units !== undefined) parts.push(`${layer.units} units`);
  if (layer.filters !== undefined) parts.push(`${layer.filters} filters`);
  if (layer.kernelSize) parts.push(`kernel ${layer.kernelSize.join('×')}`);
  if (layer.strides) parts.push(`strides ${layer.strides.join('×')}`);
  if (layer.poolSize) parts.push(`pool ${layer.poolSize.join('×')}`);
  if (layer.padding) parts.push(`padding ${layer.padding}`);
  if (layer.rate !== undefined) parts.push(`rate ${layer.rate}`);
  return parts.join(', ') || 'none';
}

/** Why a layer cannot take an input shape, in the product's words. */
function misfit(layer: LayerSpec, inputShape: readonly number[]): string {
  const spatial = inputShape.slice(0, -1);
  const window = layer.kernelSize ?? layer.poolSize;
  const rank = layer.kind.endsWith('2d') ? 2 : layer.kind.endsWith('1d') ? 1 : 0;
  if (rank > 0 && spatial.length !== rank) return `a ${layer.kind} layer needs ${rank + 1}-dimensional samples (${rank === 2 ? 'height, width' : 'length'}, channels)`;
  if (window && layer.padding !== 'same' && window.some((w, i) => w > (spatial[i] ?? 0))) {
    return `its window ${window.join('×')} is larger than the input's ${spatial.join('×')} without padding`;
  }
  return `the layer's settings (${layerSettings(layer)}) do not match that shape`;
}

export function lossPlan(spec: ModelSpec): LossPlan {
  const head = spec.layers[spec.layers.length - 1]?.activation.name ?? 'linear';
  const loss = effectiveLoss(spec);
  switch (loss.kind) {
    case 'categoricalCrossentropy':
      if (loss.input === 'logits') return { kind: 'softmaxCrossEntropy', targets: 'classes', onHeadLogits: false };
      if (head === 'softmax') return { kind: 'softmaxCrossEntropy', targets: 'classes', onHeadLogits: true };
      if (loss.input === 'logProbabilities') return { kind: 'negativeLogLikelihood', targets: 'classes', onHeadLogits: false };
      return { kind: 'categoricalOnProbabilities', targets: 'classes', onHeadLogits: false };
    case 'binaryCrossentropy':
      if (loss.input === 'logits') return { kind: 'sigmoidCrossEntropy', targets: 'bits', onHeadLogits: false };
      if (head === 'sigmoid') return { kind: 'sigmoidCrossEntropy', targets: 'bits', onHeadLogits: true };
      return { kind: 'binaryOnProbabilities', targets: 'bits', onHeadLogits: false };
    case 'meanAbsoluteError':
      return { kind: 'meanAbsoluteError', targets: 'values', onHeadLogits: false };
    case 'huber':
      return { kind: 'huber', targets: 'values', onHeadLogits: false };
    default:
      return { kind: 'meanSquaredError', targets: 'values', onHeadLogits: false };
  }
}

type Initializer = ReturnType<typeof tf.initializers.zeros>;

/**
 * Seeds per layer so that runs are reproducible and layers do not share random streams. Never 0:
 * tfjs treats a seed of 0 as no seed at all.
 */
function layerSeed(seed: number, index: number, salt: number): number {
  return seed * 100_003 + index * 17 + salt + 1;
}

function toInitializer(spec: InitializerSpec | undefined, seed: number, fanIn: number): Initializer | undefined {
  if (!spec) return undefined;
  switch (spec.name) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform({ seed });
    case 'glorotNormal':
      return tf.initializers.glorotNormal({ seed });
    case 'heUniform':
      return tf.initializers.heUniform({ seed });
    case 'heNormal':
      return tf.initializers.heNormal({ seed });
    case 'lecunUniform':
      return tf.initializers.leCunUniform({ seed });
    case 'lecunNormal':
      return tf.initializers.leCunNormal({ seed });
    case 'zeros':
      return tf.initializers.zeros();
    case 'ones':
      return tf.initializers.ones();
    case 'constant':
      return tf.initializers.constant({ value: spec.value ?? 0 });
    case 'randomNormal':
      return tf.initializers.randomNormal({ mean: spec.mean ?? 0, stddev: spec.stddev ?? 0.05, seed });
    case 'truncatedNormal':
      return tf.initializers.truncatedNormal({ mean: spec.mean ?? 0, stddev: spec.stddev ?? 0.05, seed });
    case 'randomUniform':
      return tf.initializers.randomUniform({ minval: spec.minval ?? -0.05, maxval: spec.maxval ?? 0.05, seed });
    case 'orthogonal':
      return tf.initializers.orthogonal({ gain: spec.scale ?? 1, seed });
    case 'identity':
      return tf.initializers.identity({ gain: spec.scale ?? 1 });
    case 'varianceScaling':
      return tf.initializers.varianceScaling({
        scale: spec.scale ?? 1,
        mode: spec.mode ?? 'fanIn',
        distribution: spec.distribution ?? 'truncatedNormal',
        seed,
      });
    case 'torchDefaultKernel':
      // kaiming_uniform(a=√5): bound = gain·√(3/fanIn) with gain = √(2/(1+a²)) = √(1/3) → 1/√fanIn,
      // which is varianceScaling(scale=1/3, fanIn, uniform): limit = √(3·scale/fanIn).
      return tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed });
    case 'torchDefaultBias': {
      // U(±1/√fanIn) with the layer's fan-in, not the bias vector's own size.
      const bound = 1 / Math.sqrt(Math.max(1, fanIn));
      return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
    }
  }
}

function pair(values: readonly number[] | undefined, fallback: number): [number, number] {
  if (!values || values.length === 0) return [fallback, fallback];
  return [values[0], values[1] ?? values[0]];
}

function createCoreLayer(layer: LayerSpec, inputShape: readonly number[], seed: number): tf.layers.Layer | undefined {
  const name = `L${layer.index}_${layer.kind}`;
  const channels = inputShape[inputShape.length - 1] ?? 1;
  const kernelArea = (layer.kernelSize ?? [1]).reduce((a, b) => a * b, 1);
  const fanIn = channels * kernelArea;
  const kernelInitializer = toInitializer(layer.kernelInitializer, layerSeed(seed, layer.index, 1), fanIn);
  const biasInitializer = toInitializer(layer.biasInitializer, layerSeed(seed, layer.index, 2), fanIn);
  const common = { name, useBias: layer.useBias ?? true, kernelInitializer, biasInitializer, activation: 'linear' as const };
  switch (layer.kind) {
    case 'dense':
      return tf.layers.dense({ ...common, units: required(layer, 'units', layer.units) });
    case 'conv2d':
      return tf.layers.conv2d({
        ...common,
        filters: required(layer, 'filters', layer.filters),
        kernelSize: pair(layer.kernelSize, 1),
        strides: pair(layer.strides, 1),
        padding: layer.padding ?? 'valid',
      });
    case 'conv1d':
      return tf.layers.conv1d({
        ...common,
        filters: required(layer, 'filters', layer.filters),
        kernelSize: layer.kernelSize?.[0] ?? 1,
        strides: layer.strides?.[0] ?? 1,
        padding: layer.padding ?? 'valid',
      });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dropout':
      return tf.layers.dropout({ rate: layer.rate ?? 0.5, seed: layerSeed(seed, layer.index, 3), name });
    case 'batchNorm':
      return tf.layers.batchNormalization({ name, epsilon: layer.epsilon ?? 1e-3, momentum: layer.momentum ?? 0.99 });
    case 'maxPool2d':
      return tf.layers.maxPooling2d({ name, poolSize: pair(layer.poolSize, 2), strides: layer.strides ? pair(layer.strides, 2) : undefined, padding: layer.padding ?? 'valid' });
    case 'avgPool2d':
      return tf.layers.averagePooling2d({ name, poolSize: pair(layer.poolSize, 2), strides: layer.strides ? pair(layer.strides, 2) : undefined, padding: layer.padding ?? 'valid' });
    case 'maxPool1d':
      return tf.layers.maxPooling1d({ name, poolSize: layer.poolSize?.[0] ?? 2, strides: layer.strides?.[0], padding: layer.padding ?? 'valid' });
    case 'avgPool1d':
      return tf.layers.averagePooling1d({ name, poolSize: layer.poolSize?.[0] ?? 2, strides: layer.strides?.[0], padding: layer.padding ?? 'valid' });
    case 'globalAvgPool2d':
      return tf.layers.globalAveragePooling2d({ name });
    case 'globalMaxPool2d':
      return tf.layers.globalMaxPooling2d({ name });
    case 'globalAvgPool1d':
      return tf.layers.globalAveragePooling1d({ name });
    case 'activation':
      return undefined;
  }
}

function required(layer: LayerSpec, field: string, value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) {
    throw new UnsupportedModelError(`Layer ${layer.index} (${layer.name}) has no valid ${field}`);
  }
  return value;
}

function findKernel(layer: tf.layers.Layer): tf.Variable | undefined {
  const weight = layer.trainableWeights.find((w) => w.originalName.endsWith('/kernel'));
  return weight?.read() as tf.Variable | undefined;
}

// [issue 3: saved models]
/**
 * Sets a built layer's variables from LayerSpec.weights, in tfjs's variable order (Dense/Conv:
 * kernel, bias; BatchNormalization: gamma, beta, moving mean, moving variance). A missing
 * gamma/beta (saved with scale/center off) is ones/zeros. Throws UnsupportedModelError when a
 * saved tensor's shape or size does not match the variable.
 */
function setTrainedWeights(core: tf.layers.Layer, layer: LayerSpec): void {
  const saved = layer.weights;
  if (!saved) return;
  const byRole: Record<string, WeightTensor | undefined> = {
    kernel: saved.kernel,
    bias: saved.bias,
    gamma: saved.gamma,
    beta: saved.beta,
    moving_mean: saved.movingMean,
    moving_variance: saved.movingVariance,
  };
  const fill: Record<string, number> = { gamma: 1, beta: 0 };
  const values = core.weights.map((variable) => {
    const role = /(kernel|bias|gamma|beta|moving_mean|moving_variance)$/.exec(variable.originalName)?.[1] ?? variable.originalName;
    const tensor = byRole[role];
    const shape = variable.shape as number[];
    if (!tensor) {
      if (role in fill) return tf.fill(shape, fill[role]);
      // A kernel or bias a suggested initializer replaced: keep the initializer's fresh values.
      if (role === 'kernel' || role === 'bias') return (variable.read() as tf.Tensor).clone();
      throw new UnsupportedModelError(`Layer ${layer.index} (${layer.name}): the saved weights have no ${role} (expected shape [${shape.join(', ')}])`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const sameShape = tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
    if (!sameShape || tensor.values.length !== size) {
      throw new UnsupportedModelError(
        `Layer ${layer.index} (${layer.name}): the saved ${role} has shape [${tensor.shape.join(', ')}] (${tensor.values.length} values) but the layer needs [${shape.join(', ')}]`,
      );
    }
    return tf.tensor(tensor.values instanceof Float32Array ? tensor.values : Float32Array.from(tensor.values), shape, 'float32');
  });
  try {
    core.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}

/** Builds the train and probe models. Throws UnsupportedModelError for specs it cannot build. */
export function buildModel(spec: ModelSpec, seed: number): BuiltModel {
  if (spec.layers.length === 0) throw new UnsupportedModelError(`Model "${spec.name}" has no layers to train`);
  const input = tf.input({ shape: [...spec.inputShape] });
  let x: tf.SymbolicTensor = input;
  const probeOutputs: tf.SymbolicTensor[] = [];
  const probeLayout: { pre: number; post: number }[] = [];
  // A model may not list one tensor twice as outputs (pre = post for linear layers).
  const probeIndex = (t: tf.SymbolicTensor): number => {
    const at = probeOutputs.indexOf(t);
    return at >= 0 ? at : probeOutputs.push(t) - 1;
  };
  const kernels: (tf.Variable | undefined)[] = [];
  let lastPre: tf.SymbolicTensor = input;
  for (const layer of spec.layers) {
    const inputShape = x.shape.slice(1) as number[];
    let core: tf.layers.Layer | undefined;
    try {
      core = createCoreLayer(layer, inputShape, seed);
    } catch (error) {
      if (error instanceof UnsupportedModelError) throw error;
      // TensorFlow.js's own words name its internals; the person gets the layer and its settings.
      throw new UnsupportedModelError(`Layer ${layer.index} (${layer.name}, ${layer.kind}) cannot be built with its settings (${layerSettings(layer)})`);
    }
    let pre: tf.SymbolicTensor;
    try {
      pre = core ? (core.apply(x) as tf.SymbolicTensor) : x;
    } catch {
      throw new UnsupportedModelError(
        `Layer ${layer.index} (${layer.name}) does not fit its input of shape [${inputShape.join(', ')}]: ${misfit(layer, inputShape)}`,
      );
    }
    // [issue 3: saved models] Start from the trained weights when the loader found them.
    if (core && layer.weights) setTrainedWeights(core, layer);
    // A frozen layer's weights leave trainableWeights, so the optimiser never sees them and
    // findKernel finds no kernel to measure, as in the frameworks that froze it.
    if (core && layer.frozen) core.trainable = false;
    kernels.push(core ? findKernel(core) : undefined);
    if (layer.batchNormBeforeActivation) {
      pre = tf.layers.batchNormalization({ name: `L${layer.index}_bn` }).apply(pre) as tf.SymbolicTensor;
    }
    const isHead = layer.index === spec.layers.length - 1;
    const activationLayer = createActivationLayer(layer.activation, `L${layer.index}_act`, layerSeed(seed, layer.index, 4), pre.shape.length);
    const post = activationLayer ? (activationLayer.apply(pre) as tf.SymbolicTensor) : pre;
    probeLayout.push({ pre: probeIndex(pre), post: probeIndex(post) });
    lastPre = isHead ? pre : lastPre;
    x = post;
  }
  const head = spec.layers[spec.layers.length - 1];
  const loss = lossPlan(spec);
  const trainOutput = loss.onHeadLogits ? lastPre : x;
  const trainModel = tf.model({ inputs: input, outputs: trainOutput });
  if (spec.layers.some((l) => l.frozen) && trainModel.trainableWeights.length === 0) {
    trainModel.dispose();
    throw new UnsupportedModelError(`Every layer of model "${spec.name}" that has weights is frozen, so nothing trains and there are no gradients to diagnose`);
  }
  return {
    trainModel,
    probeModel: tf.model({ inputs: input, outputs: probeOutputs }),
    probeLayout,
    kernels,
    head,
    loss,
    hasBatchNorm: spec.layers.some((l) => l.kind === 'batchNorm' || l.batchNormBeforeActivation),
  };
}
