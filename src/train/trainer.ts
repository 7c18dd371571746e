/**
 * The brief training run: seeded synthetic data, a custom training loop that reads every kernel's
 * gradient norm once per step, and probe-batch statistics every k steps. Returns plain numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { hasKernel, type ActivationName, type ModelSpec } from '../core/model';
import { countParameters } from '../core/shapes';
import type { BackendReport, Histogram, LayerStats, ProbeSample, RunStats, TrainingData, TrainingOptions } from '../core/stats';
import { buildModel, type BuiltModel } from './buildModel';
import { ReplicaFailedError, type GradientReplicas, type ReplicaRun } from './replicas';
import { activeNativeGemm } from './wasmKernels';
import { HostAdam } from './hostAdam';

export class CancelledError extends Error {
  constructor() {
    super('Training was cancelled');
  }
}
export class ModelTooLargeError extends Error {}
/** The user's data does not fit the model (shapes, class indices). */
export class DataMismatchError extends Error {}

export interface TrainHooks {
  onProgress?(step: number, steps: number, loss: number): void;
  isCancelled?(): boolean;
  /** Asked after each probe but the last, with the run so far: true ends training there. */
  shouldStop?(soFar: RunStats): boolean;
  /** Worker threads that take a share of each batch when options.threads > 1 (CPU backends). */
  replicas?: GradientReplicas;
}

/** Below this many rows per thread a batch is not split: the fixed cost per step would dominate. */
const MIN_ROWS_PER_THREAD = 8;
/**
 * Sharing a batch costs copies proportional to the weights (out to each replica, gradients back)
 * and saves compute proportional to multiply-adds; below this many multiply-adds per weight per
 * step it does not pay. A dense layer does `batch` per weight, a convolution `batch × output
 * positions`. Measured on the 2-core build machine (the reference 784→256×9 MLP, SGD): one
 * thread 24–26 ms/step against two 34–38 at batch 64, 41 against 48–58 at batch 128, 90–97
 * against 74–78 at batch 256; the small CNN (926 per weight at batch 32) gains most.
 */
const MIN_MACS_PER_WEIGHT = 200;
/**
 * The same with the products on a native BLAS (nativeBlas.ts), which does them 2–6× faster, so
 * the copies weigh that much more. Measured here (OpenBLAS, AVX-512 kernels): the small CNN at
 * batch 32 (926 per weight) went from 82.6 to 62.7 ms/step on two threads, while the 20×1024
 * MLP at batch 256 (256 per weight) went from 398 to 517. The BLAS itself stays on one thread
 * (nativeBlas.ts says why).
 */
const MIN_MACS_PER_WEIGHT_NATIVE = 600;

/** Two-sided saturating activations: saturation is measured on their pre-activation. */
const TWO_SIDED: ReadonlySet<ActivationName> = new Set(['sigmoid', 'tanh', 'hardSigmoid', 'softsign']);
/** One-sided activations whose units can die (gradient exactly 0 for x ≤ 0). */
const CAN_DIE: ReadonlySet<ActivationName> = new Set(['relu', 'relu6']);

/** Hidden units of the probe task's teacher network. */
const TEACHER_HIDDEN = 32;

/**
 * The probe task's targets: a fixed random teacher network over the same inputs, so that the
 * targets are a learnable function of x and brief training moves the weights the way real data
 * does (random targets leave nothing to learn: Adam then pushes units off, and healthy ReLU
 * networks look dead). Teacher: h = tanh(x·W₁), W₁ ~ N(0, 1/d) [d × 32] (so each h unit's input
 * has unit variance), z = h·W₂, W₂ ~ N(0, 1/32), each column of z standardised over the dataset.
 * Classes = argmax over the last output axis, bits = z > 0, values = z. Seeded.
 */
function teacherTargets(built: BuiltModel, x: tf.Tensor, seed: number): tf.Tensor {
  const outShape = built.trainModel.outputs[0].shape.slice(1) as number[];
  const rows = x.shape[0];
  const width = outShape.reduce((a, b) => a * b, 1);
  const classes = outShape[outShape.length - 1] ?? 1;
  if (built.loss.targets === 'classes' && classes < 2) {
    // One class: every target is that class (a softmax on one unit is a head finding, not a crash).
    return tf.ones([rows, ...outShape]);
  }
  const features = x.size / rows;
  const w1 = tf.randomNormal([features, TEACHER_HIDDEN], 0, 1 / Math.sqrt(features), 'float32', seed);
  const w2 = tf.randomNormal([TEACHER_HIDDEN, width], 0, 1 / Math.sqrt(TEACHER_HIDDEN), 'float32', seed + 7);
  const z = tf.matMul(tf.tanh(tf.matMul(x.reshape([rows, features]), w1)), w2);
  const { mean, variance } = tf.moments(z, 0);
  const standard = z.sub(mean).div(tf.sqrt(variance.add(1e-12))).reshape([rows, ...outShape]);
  if (built.loss.targets === 'classes') return tf.oneHot(tf.argMax(standard, -1), classes).toFloat();
  if (built.loss.targets === 'bits') return tf.greater(standard, 0).toFloat();
  return standard;
}

/** The user's targets as the loss expects them; throws DataMismatchError naming both shapes. */
function userTargets(built: BuiltModel, data: TrainingData & { y: Float32Array }): tf.Tensor {
  const outShape = built.trainModel.outputs[0].shape.slice(1) as number[];
  const outWidth = outShape.reduce((a, b) => a * b, 1);
  if (built.loss.targets === 'classes' && data.targetWidth === 1 && outWidth > 1) {
    for (let i = 0; i < data.rows; i++) {
      const c = data.y[i];
      if (!Number.isInteger(c) || c < 0 || c >= outWidth) {
        throw new DataMismatchError(`Target of row ${i + 1} is ${c}, not a class index in 0…${outWidth - 1} for the ${outWidth}-way output`);
      }
    }
    return tf.oneHot(tf.tensor1d(data.y, 'int32'), outWidth).toFloat();
  }
  if (data.targetWidth !== outWidth) {
    throw new DataMismatchError(`The data has ${data.targetWidth} target value(s) per row but the model outputs [${outShape.join(', ')}] (${outWidth})`);
  }
  return tf.tensor(data.y, [data.rows, ...outShape]);
}

/**
 * Training data: the user's when given (inputs reshaped to the model's input shape; the teacher's
 * targets over them when the data has none), else synthetic x ~ N(0, 1) with the teacher's targets.
 */
function makeData(spec: ModelSpec, built: BuiltModel, samples: number, runSeed: number, data?: TrainingData): { x: tf.Tensor; y: tf.Tensor } {
  // tfjs treats a seed of 0 as "no seed" (Math.random), so derive a non-zero one.
  const seed = runSeed * 100_003 + 99_991;
  return tf.tidy(() => {
    if (data) {
      const perSample = spec.inputShape.reduce((a, b) => a * b, 1);
      if (data.features !== perSample) {
        throw new DataMismatchError(`The data has ${data.features} features per row but the model's input shape [${spec.inputShape.join(', ')}] needs ${perSample}`);
      }
      const x = tf.tensor(data.x, [data.rows, ...spec.inputShape]);
      const y = data.y ? userTargets(built, { ...data, y: data.y }) : teacherTargets(built, x, seed + 1);
      return { x, y };
    }
    const x = tf.randomNormal([samples, ...spec.inputShape], 0, 1, 'float32', seed);
    return { x, y: teacherTargets(built, x, seed + 1) };
  });
}

/** Keras' clip for probabilities in its cross-entropies (backend epsilon). */
const PROBABILITY_EPSILON = 1e-7;

/** The mean loss of a batch, as the model's loss (built.loss) defines it. */
export function lossFor(built: BuiltModel, yTrue: tf.Tensor, output: tf.Tensor): tf.Scalar {
  switch (built.loss.kind) {
    case 'softmaxCrossEntropy':
      return tf.losses.softmaxCrossEntropy(yTrue, output);
    case 'sigmoidCrossEntropy':
      return tf.losses.sigmoidCrossEntropy(yTrue, output);
    case 'categoricalOnProbabilities': {
      // Keras: p = output / Σ output over classes, clipped to [ε, 1 − ε]; loss = −Σ y log p.
      const sum = tf.maximum(tf.sum(output, -1, true), PROBABILITY_EPSILON);
      const p = tf.clipByValue(tf.div(output, sum), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
      return tf.mean(tf.neg(tf.sum(tf.mul(yTrue, tf.log(p)), -1)));
    }
    case 'binaryOnProbabilities': {
      // Keras: −[y log p + (1 − y) log(1 − p)] with p clipped to [ε, 1 − ε], mean over outputs.
      const p = tf.clipByValue(output, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
      return tf.mean(tf.neg(tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))))));
    }
    case 'negativeLogLikelihood':
      // PyTorch NLLLoss: −output[class], whatever the output is.
      return tf.mean(tf.neg(tf.sum(tf.mul(yTrue, output), -1)));
    case 'meanAbsoluteError':
      return tf.losses.absoluteDifference(yTrue, output);
    case 'huber':
      return tf.losses.huberLoss(yTrue, output);
    default:
      return tf.losses.meanSquaredError(yTrue, output);
  }
}

/**
 * One forward/backward pass: the loss and every trainable gradient, plus a readout tensor
 * [loss, ‖∇W₀‖, ‖∇W₁‖, …] with ‖∇W‖ = √Σ g² per kernel, stacked so a step costs one
 * device→host read. Call inside tf.tidy.
 */
export function gradientReadout(
  built: BuiltModel,
  trainable: tf.Variable[],
  kernelVars: readonly tf.Variable[],
  xb: tf.Tensor,
  yb: tf.Tensor,
): { readout: tf.Tensor1D; grads: tf.NamedTensorMap } {
  const { value, grads } = lossAndGradients(built, trainable, xb, yb);
  return { readout: readoutOf(value, grads, kernelVars), grads };
}

/** The mean loss over the rows of xb and its gradient for every trainable variable. */
function lossAndGradients(built: BuiltModel, trainable: tf.Variable[], xb: tf.Tensor, yb: tf.Tensor): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  return tf.variableGrads(
    () => lossFor(built, yb, built.trainModel.apply(xb, { training: true }) as tf.Tensor),
    trainable,
  );
}

/** [loss, ‖∇W₀‖, ‖∇W₁‖, …] with ‖∇W‖ = √Σ g² per kernel, for one device→host read. */
function readoutOf(value: tf.Scalar, grads: tf.NamedTensorMap, kernelVars: readonly tf.Variable[]): tf.Tensor1D {
  const norms = kernelVars.map((v) => tf.sqrt(tf.sum(tf.square(grads[v.name]))));
  return tf.stack([value, ...norms]) as tf.Tensor1D;
}

/** Splits `rows` into `parts` shares that differ by at most one row, the largest first. */
export function shareRows(rows: number, parts: number): number[] {
  const base = Math.floor(rows / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < rows % parts ? 1 : 0));
}

/** What the training loop needs of an optimiser. */
type StepOptimizer = Pick<tf.Optimizer, 'applyGradients' | 'dispose'>;

/** CPU backends, where reading weights and gradients on the host is cheap. */
const HOST_MEMORY_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

function makeOptimizer(options: TrainingOptions, backend: BackendReport): StepOptimizer {
  // Adam's dozen kernels per variable are mostly dispatch cost on a CPU backend (hostAdam.ts).
  if ((options.optimizer === 'adam' || options.optimizer === 'adamw' || options.optimizer === 'nadam') && HOST_MEMORY_BACKENDS.has(backend.name)) return new HostAdam(options.learningRate);
  const lr = options.learningRate;
  switch (options.optimizer) {
    case 'sgd':
      return options.momentum ? tf.train.momentum(lr, options.momentum) : tf.train.sgd(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.9, options.momentum ?? 0);
    // TF.js has no AdamW or Nadam: their Adam core is trained (weight decay and Nesterov
    // momentum change little in a hundred steps); the report names the optimiser that ran.
    case 'adam':
    case 'adamw':
    case 'nadam':
      return tf.train.adam(lr);
    case 'adadelta':
      // PyTorch and TF.js: ρ = 0.9 / 0.95, ε = 1e-6 / 1e-7; the rate multiplies the update.
      return tf.train.adadelta(lr);
    case 'adagrad':
      return tf.train.adagrad(lr);
    case 'adamax':
      return tf.train.adamax(lr);
  }
}

/** Values read per layer per probe, in this order (one device→host read per probe). */
const PROBE_FIELDS = 9;

function probeStatsTensor(spec: ModelSpec, built: BuiltModel, outputs: tf.Tensor[], options: TrainingOptions): tf.Tensor {
  return tf.tidy(() => {
    const rows = spec.layers.map((layer, i) => {
      const pre = outputs[built.probeLayout[i].pre];
      const post = outputs[built.probeLayout[i].post];
      const { mean, variance } = tf.moments(post);
      const preMoments = tf.moments(pre);
      const act = layer.activation.name;
      const threshold = options.saturationThresholds[act];
      const saturated = TWO_SIDED.has(act) && threshold !== undefined
        ? tf.mean(tf.greaterEqual(tf.abs(pre), threshold).toFloat())
        : tf.scalar(0);
      const units = pre.shape[pre.shape.length - 1] ?? 1;
      const perUnit = pre.reshape([-1, units]);
      // Dead unit (ReLU family): max over the probe batch (and positions) of its pre-activation ≤ 0.
      const dead = CAN_DIE.has(act) ? tf.mean(tf.lessEqual(tf.max(perUnit, 0), 0).toFloat()) : tf.scalar(0);
      const inactive = tf.mean(tf.lessEqual(pre, 0).toFloat());
      return tf.stack([
        mean, tf.sqrt(variance), tf.min(post), tf.max(post),
        preMoments.mean, tf.sqrt(preMoments.variance), saturated, dead, inactive,
      ]);
    });
    return tf.stack(rows);
  });
}

function histogram(values: Float32Array | Int32Array | Uint8Array, bins: number, step: number): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) return { step, edges: [], counts: [] };
  if (hi === lo) hi = lo + 1e-6;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  return { step, edges, counts };
}

/** At most this many activation values per layer go into a histogram (evenly strided sample). */
const HISTOGRAM_SAMPLE = 20_000;

async function probe(
  spec: ModelSpec,
  built: BuiltModel,
  probeX: tf.Tensor,
  options: TrainingOptions,
  step: number,
  withHistograms: boolean,
): Promise<{ samples: ProbeSample[]; histograms: Histogram[] }> {
  // BatchNorm's moving statistics start at mean 0 / variance 1 and move 1% a step, so early in a
  // brief run the inference-mode network is not the one being trained. Probe what training sees
  // (batch statistics) for models with BatchNorm; inference mode otherwise (dropout off).
  const predicted = built.probeModel.apply(probeX, { training: built.hasBatchNorm }) as tf.Tensor | tf.Tensor[];
  const outputs = Array.isArray(predicted) ? predicted : [predicted];
  try {
    const statsTensor = probeStatsTensor(spec, built, outputs, options);
    const flat = await statsTensor.data();
    statsTensor.dispose();
    const samples = spec.layers.map((_, i) => {
      const r = flat.subarray(i * PROBE_FIELDS, (i + 1) * PROBE_FIELDS);
      return {
        step, mean: r[0], std: r[1], min: r[2], max: r[3], preMean: r[4], preStd: r[5],
        saturatedFraction: r[6], deadFraction: r[7], inactiveFraction: r[8],
      };
    });
    const histograms: Histogram[] = [];
    if (withHistograms) {
      for (let i = 0; i < spec.layers.length; i++) {
        const values = await outputs[built.probeLayout[i].post].data();
        const stride = Math.max(1, Math.floor(values.length / HISTOGRAM_SAMPLE));
        const sample = stride === 1 ? values : values.filter((_, k) => k % stride === 0);
        histograms.push(histogram(sample, options.histogramBins, step));
      }
    }
    return { samples, histograms };
  } finally {
    tf.dispose(outputs);
  }
}

/** What one sample costs the built model: values it holds and multiply-adds it computes. */
export interface StepCost {
  /** Floats of the input and of every layer's output, per sample. */
  readonly elementsPerSample: number;
  /** The layer with the largest output, and its floats per sample. */
  readonly largest: { readonly name: string; readonly elements: number };
  /** Multiply-adds of the forward pass per sample (≈ weights × output positions per layer). */
  readonly macsPerSample: number;
}

export function stepCost(spec: ModelSpec, built: BuiltModel): StepCost {
  const perSample = (shape: readonly (number | null)[]): number => shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  // Values: the input and every distinct pre-/post-activation tensor the probe model exposes.
  const outputs = built.probeModel.outputs;
  let elements = perSample(built.trainModel.inputs[0].shape);
  const counted = new Set<number>();
  for (const { pre, post } of built.probeLayout) {
    for (const o of [pre, post]) {
      if (!counted.has(o)) elements += perSample(outputs[o].shape);
      counted.add(o);
    }
  }
  let largest = { name: 'the input', elements: perSample(built.trainModel.inputs[0].shape) };
  spec.layers.forEach((layer, i) => {
    const n = perSample(outputs[built.probeLayout[i].post].shape);
    if (n > largest.elements) largest = { name: layer.name, elements: n };
  });
  let macs = 0;
  for (const layer of built.trainModel.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    // A kernel is applied once per output position (all axes but batch and channels).
    for (const shape of shapes) macs += layer.countParams() * shape.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
  }
  return { elementsPerSample: elements, largest, macsPerSample: macs };
}

/**
 * Memory a run may take, in bytes, above which it is refused before any data is made. The wasm
 * heap is 32-bit (at most 4 GiB, shared with everything else), and a GPU's memory is no larger
 * in practice for a brief check.
 */
const MEMORY_CAP_BYTES = 2 * 2 ** 30;

/**
 * Refuses runs whose activations cannot fit: bytes ≈ 4 B × floats per sample × rows × 3 (the
 * forward values kept for backprop, their gradients, temporaries), for the larger of the batch
 * and the probe batch, plus the dataset's inputs (4 B × input floats × rows).
 */
function refuseIfTooLarge(spec: ModelSpec, cost: StepCost, datasetRows: number, rowsAtOnce: number): void {
  const inputFloats = spec.inputShape.reduce((a, b) => a * b, 1);
  const bytes = 4 * cost.elementsPerSample * rowsAtOnce * 3 + 4 * inputFloats * datasetRows;
  if (bytes <= MEMORY_CAP_BYTES) return;
  const gib = (b: number): string => (b / 2 ** 30).toFixed(b >= 10 * 2 ** 30 ? 0 : 1);
  throw new ModelTooLargeError(
    `Model "${spec.name}" would need about ${gib(bytes)} GiB to train on ${rowsAtOnce} samples at once (limit ${gib(MEMORY_CAP_BYTES)} GiB): ` +
      `every sample holds ${cost.elementsPerSample.toLocaleString('en-US')} values, the most in ${cost.largest.name} (${cost.largest.elements.toLocaleString('en-US')}). ` +
      `A smaller input shape or batch size (setting activationLens.batchSize / --batch-size) brings it down.`,
  );
}

/** Trains `spec` briefly on the active backend and returns what it measured. */
export async function trainAndMeasure(
  spec: ModelSpec,
  options: TrainingOptions,
  backend: BackendReport,
  parameterCap: number,
  hooks: TrainHooks = {},
  userData?: TrainingData,
): Promise<RunStats> {
  const started = performance.now();
  const estimated = countParameters(spec);
  if (estimated > parameterCap) {
    throw new ModelTooLargeError(
      `Model "${spec.name}" has about ${estimated.toLocaleString('en-US')} trainable parameters, above the cap of ${parameterCap.toLocaleString('en-US')} (setting activationLens.parameterCap / --parameter-cap)`,
    );
  }
  const startTensors = tf.memory().numTensors;
  const built = buildModel(spec, options.seed);
  const parameterCount = built.trainModel.countParams();
  const datasetSize = userData ? userData.rows : Math.max(options.batchSize * 8, options.probeSize);
  const batchSize = Math.min(options.batchSize, datasetSize);
  const cost = stepCost(spec, built);
  try {
    refuseIfTooLarge(spec, cost, datasetSize, Math.max(batchSize, Math.min(options.probeSize, datasetSize)));
  } catch (error) {
    built.trainModel.dispose();
    throw error;
  }
  const optimizer = makeOptimizer(options, backend);
  let data: { x: tf.Tensor; y: tf.Tensor };
  try {
    data = makeData(spec, built, datasetSize, options.seed, userData);
  } catch (error) {
    optimizer.dispose();
    built.trainModel.dispose();
    throw error;
  }
  const probeX = data.x.slice(0, Math.min(options.probeSize, datasetSize));
  const kernelIndices = built.kernels.flatMap((k, i) => (k ? [i] : []));
  const kernelVars = kernelIndices.map((i) => built.kernels[i] as tf.Variable);
  const trainable = built.trainModel.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss: number[] = [];
  const elapsedMs: number[] = [];
  const gradNorms: number[][] = spec.layers.map(() => []);
  const probes: ProbeSample[][] = spec.layers.map(() => []);
  const histograms: Histogram[][] = spec.layers.map(() => []);
  let nonFinite: RunStats['nonFinite'];
  let stepMs = 0;
  let timedSteps = 0;
  const batchesPerEpoch = Math.floor(datasetSize / batchSize);

  const recordProbe = async (step: number, withHistograms: boolean): Promise<void> => {
    const result = await probe(spec, built, probeX, options, step, withHistograms);
    result.samples.forEach((s, i) => probes[i].push(s));
    result.histograms.forEach((h, i) => histograms[i].push(h));
  };

  // Data-parallel gradients: replicas take shares of each batch (see replicas.ts).
  let run: ReplicaRun | undefined;
  let parallelism: RunStats['parallelism'];
  const threadsWanted = Math.max(1, Math.floor(options.threads ?? 1));
  const nativeGemm = backend.name === 'wasm' ? activeNativeGemm() : undefined;
  const minMacsPerWeight = nativeGemm ? MIN_MACS_PER_WEIGHT_NATIVE : MIN_MACS_PER_WEIGHT;
  if (threadsWanted > 1) {
    if (!hooks.replicas) {
      parallelism = { threads: 1, note: `no training threads were started on the ${backend.name} backend` };
    } else if (batchSize < 2 * MIN_ROWS_PER_THREAD) {
      parallelism = { threads: 1, note: `a batch of ${batchSize} rows is too small to share between threads` };
    } else if (batchSize * cost.macsPerSample < minMacsPerWeight * parameterCount) {
      parallelism = { threads: 1, note: `a batch of ${batchSize} is too little work per weight (${parameterCount.toLocaleString('en-US')}) to share between threads` };
    } else {
      const perRow = (t: tf.Tensor): number => t.shape.slice(1).reduce((a, b) => a * b, 1);
      const layout = { weightFloats: trainable.reduce((n, v) => n + v.size, 0), xFloatsPerRow: perRow(data.x), yFloatsPerRow: perRow(data.y), maxRows: batchSize };
      try {
        run = await hooks.replicas.start(spec, options, layout, trainable.map((v) => v.shape));
        parallelism = { threads: run.count + 1 };
      } catch (error) {
        parallelism = { threads: 1, note: `training threads unavailable (${error instanceof Error ? error.message : String(error)})` };
      }
    }
  }
  // Host copies of the data, from which each replica's rows are written (read once).
  const hostX = run ? (data.x.dataSync() as Float32Array) : undefined;
  const hostY = run ? (data.y.dataSync() as Float32Array) : undefined;

  /** One step with the batch shared between this thread and the replicas; returns the readout. */
  const parallelStep = async (active: ReplicaRun, offset: number): Promise<tf.Tensor1D> => {
    const shares = shareRows(batchSize, active.count + 1);
    // Weights out: the replicas compute with exactly this step's weights, so they cannot drift.
    let at = 0;
    for (const v of trainable) {
      const values = v.dataSync() as Float32Array;
      for (const r of active.regions) r.weights.set(values, at);
      at += v.size;
    }
    const xPerRow = hostX!.length / datasetSize;
    const yPerRow = hostY!.length / datasetSize;
    let row = offset + shares[0];
    active.regions.forEach((r, i) => {
      const rows = shares[i + 1];
      r.x.set(hostX!.subarray(row * xPerRow, (row + rows) * xPerRow));
      r.y.set(hostY!.subarray(row * yPerRow, (row + rows) * yPerRow));
      active.launch(i, rows);
      row += rows;
    });
    // This thread's share, computed while the replicas compute theirs.
    const own = tf.tidy(() => lossAndGradients(built, trainable, data.x.slice(offset, shares[0]), data.y.slice(offset, shares[0])));
    try {
      const losses: number[] = [];
      for (let i = 0; i < active.count; i++) losses.push(await active.collect(i));
      return tf.tidy(() => {
        // The batch mean = Σᵢ (rowsᵢ / batch) · the mean over share i, for the loss and every gradient.
        const weightOf = (i: number): number => shares[i] / batchSize;
        const grads: tf.NamedTensorMap = {};
        let offsetInBuffer = 0;
        for (const v of trainable) {
          let g = tf.mul(own.grads[v.name], weightOf(0));
          active.regions.forEach((r, i) => {
            g = tf.add(g, tf.mul(tf.tensor(r.grads.slice(offsetInBuffer, offsetInBuffer + v.size), v.shape), weightOf(i + 1)));
          });
          grads[v.name] = g;
          offsetInBuffer += v.size;
        }
        const replicaLoss = losses.reduce((sum, l, i) => sum + l * weightOf(i + 1), 0);
        const value = tf.add(tf.mul(own.value, weightOf(0)), replicaLoss) as tf.Scalar;
        optimizer.applyGradients(grads);
        return readoutOf(value, grads, kernelVars);
      });
    } finally {
      tf.dispose([own.value, ...Object.values(own.grads)]);
    }
  };

  let stoppedEarly = false;
  const snapshot = (stepsRun: number): RunStats => ({
    backend,
    options,
    stepsRun,
    stoppedEarly,
    msPerStep: timedSteps > 0 ? stepMs / timedSteps : 0,
    totalMs: performance.now() - started,
    parameterCount,
    loss,
    elapsedMs,
    nonFinite,
    parallelism,
    layers: spec.layers.map((layer, i): LayerStats => ({
      index: layer.index,
      name: layer.name,
      kind: layer.kind,
      activation: layer.activation.name,
      hasKernel: hasKernel(layer.kind) && !layer.frozen,
      ...(layer.frozen ? { frozen: true } : {}),
      gradNorms: gradNorms[i],
      probes: probes[i],
      histograms: histograms[i],
    })),
  });

  try {
    await recordProbe(0, true);
    let step = 0;
    for (; step < options.steps; step++) {
      if (hooks.isCancelled?.()) throw new CancelledError();
      const t0 = performance.now();
      const offset = (step % batchesPerEpoch) * batchSize;
      let readout: tf.Tensor1D | undefined;
      if (run) {
        try {
          readout = await parallelStep(run, offset);
        } catch (error) {
          if (!(error instanceof ReplicaFailedError)) throw error;
          // Said in the result (parallelism.note); this step is redone on one thread.
          run.end();
          run = undefined;
          parallelism = { threads: parallelism?.threads ?? 1, note: `${error.message} at step ${step + 1}; the rest of the run used one thread` };
        }
      }
      readout ??= tf.tidy(() => {
        const xb = data.x.slice(offset, batchSize);
        const yb = data.y.slice(offset, batchSize);
        const { readout: r, grads } = gradientReadout(built, trainable, kernelVars, xb, yb);
        optimizer.applyGradients(grads);
        return r;
      });
      const values = await readout.data();
      readout.dispose();
      if (step > 0) {
        stepMs += performance.now() - t0;
        timedSteps++;
      }
      loss.push(values[0]);
      elapsedMs.push(performance.now() - started);
      kernelIndices.forEach((layerIndex, k) => gradNorms[layerIndex].push(values[k + 1]));
      hooks.onProgress?.(step + 1, options.steps, values[0]);
      const bad = Array.from(values).findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        nonFinite = {
          step,
          what: bad === 0 ? 'loss' : `gradient of ${spec.layers[kernelIndices[bad - 1]].name}`,
        };
        step++;
        break;
      }
      const isLast = step === options.steps - 1;
      if ((step + 1) % options.probeEvery === 0 || isLast) {
        await recordProbe(step + 1, isLast);
        if (!isLast && hooks.shouldStop?.(snapshot(step + 1))) {
          // Retake this probe with histograms, as the last probe of a run has them.
          probes.forEach((p) => p.pop());
          await recordProbe(step + 1, true);
          stoppedEarly = true;
          step++;
          break;
        }
      }
    }
    return snapshot(step);
  } finally {
    run?.end();
    tf.dispose([data.x, data.y, probeX]);
    optimizer.dispose();
    built.trainModel.dispose();
    // The probe model shares the train model's layers; disposing it releases nothing more.
    const leaked = tf.memory().numTensors - startTensors;
    if (leaked > 0 && process.env.ACTIVATION_LENS_DEBUG) console.error(`[trainer] ${leaked} tensors still allocated after the run`);
  }
}
