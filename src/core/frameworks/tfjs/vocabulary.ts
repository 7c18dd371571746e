/** The TF.js names Activation Lens knows: activations, initialisers, layer factories, optimisers, losses. */
import {
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerKind,
  type LossSpec,
  type OptimizerName,
} from '../../model';

// #region Vocabulary

/** TF.js activation identifiers (tfjs-layers' `activation` strings, plus snake_case spellings). */
export const ACTIVATIONS: ReadonlyMap<string, ActivationSpec> = new Map<string, ActivationSpec>([
  ['linear', { name: 'linear' }],
  ['sigmoid', { name: 'sigmoid' }],
  ['tanh', { name: 'tanh' }],
  ['relu', { name: 'relu' }],
  ['relu6', { name: 'relu6' }],
  ['elu', { name: 'elu', alpha: 1 }],
  ['selu', { name: 'selu' }],
  ['softplus', { name: 'softplus' }],
  ['softsign', { name: 'softsign' }],
  ['hardsigmoid', { name: 'hardSigmoid' }],
  ['hard_sigmoid', { name: 'hardSigmoid' }],
  ['softmax', { name: 'softmax' }],
  ['swish', { name: 'swish' }],
  ['mish', { name: 'mish' }],
  ['gelu', { name: 'gelu' }],
  ['gelu_new', { name: 'gelu' }],
]);

export const INITIALIZERS: ReadonlyMap<string, InitializerName> = new Map<string, InitializerName>([
  ['glorotuniform', 'glorotUniform'],
  ['glorotnormal', 'glorotNormal'],
  ['heuniform', 'heUniform'],
  ['henormal', 'heNormal'],
  ['lecununiform', 'lecunUniform'],
  ['lecunnormal', 'lecunNormal'],
  ['zeros', 'zeros'],
  ['ones', 'ones'],
  ['constant', 'constant'],
  ['randomnormal', 'randomNormal'],
  ['randomuniform', 'randomUniform'],
  ['truncatednormal', 'truncatedNormal'],
  ['orthogonal', 'orthogonal'],
  ['identity', 'identity'],
  ['variancescaling', 'varianceScaling'],
]);

export const INITIALIZER_DEFAULTS: Partial<Record<InitializerName, Omit<InitializerSpec, 'name'>>> = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  orthogonal: { scale: 1 },
  identity: { scale: 1 },
};

export type Factory =
  | { readonly kind: Exclude<LayerKind, 'activation'>; readonly autoName: string }
  | { readonly kind: 'activation'; readonly autoName: string; readonly variant: 'activation' | 'leakyReLU' | 'prelu' | 'elu' | 'reLU' | 'softmax' };

/** `tf.layers.<factory>` → what it builds (auto names follow tfjs: dense_Dense1 is shortened to dense). */
export const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['dense', { kind: 'dense', autoName: 'dense' }],
  ['conv1d', { kind: 'conv1d', autoName: 'conv1d' }],
  ['conv2d', { kind: 'conv2d', autoName: 'conv2d' }],
  ['flatten', { kind: 'flatten', autoName: 'flatten' }],
  ['dropout', { kind: 'dropout', autoName: 'dropout' }],
  ['batchNormalization', { kind: 'batchNorm', autoName: 'batch_normalization' }],
  ['maxPooling1d', { kind: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['maxPool1d', { kind: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['maxPooling2d', { kind: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['maxPool2d', { kind: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['averagePooling1d', { kind: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['avgPool1d', { kind: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['averagePooling2d', { kind: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['avgPool2d', { kind: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['globalAveragePooling1d', { kind: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['globalAveragePooling2d', { kind: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['globalMaxPooling2d', { kind: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['activation', { kind: 'activation', autoName: 'activation', variant: 'activation' }],
  ['leakyReLU', { kind: 'activation', autoName: 'leaky_re_lu', variant: 'leakyReLU' }],
  ['prelu', { kind: 'activation', autoName: 'p_re_lu', variant: 'prelu' }],
  ['elu', { kind: 'activation', autoName: 'elu', variant: 'elu' }],
  ['reLU', { kind: 'activation', autoName: 're_lu', variant: 'reLU' }],
  ['softmax', { kind: 'activation', autoName: 'softmax', variant: 'softmax' }],
]);

/** tfjs layers that keep their input's shape: skipped with a problem. */
export const SHAPE_PRESERVING = new Set(['layerNormalization', 'gaussianNoise', 'gaussianDropout', 'alphaDropout', 'spatialDropout1d', 'thresholdedReLU', 'masking']);

/** `compile({optimizer: '…'})` names tfjs-layers accepts (getOptimizer: each class name and its lower-case alias). */
export const TFJS_OPTIMIZER_NAMES: ReadonlyMap<string, OptimizerName> = new Map<string, OptimizerName>([
  ['sgd', 'sgd'],
  ['SGD', 'sgd'],
  ['adam', 'adam'],
  ['Adam', 'adam'],
  ['rmsprop', 'rmsprop'],
  ['RMSProp', 'rmsprop'],
  ['adadelta', 'adadelta'],
  ['Adadelta', 'adadelta'],
  ['adagrad', 'adagrad'],
  ['Adagrad', 'adagrad'],
  ['adamax', 'adamax'],
  ['Adamax', 'adamax'],
]);

export interface TrainFactory {
  readonly name: OptimizerName;
  /**
   * The learning rate when the call has none: 'required' (tf.train.sgd, momentum, rmsprop,
   * adagrad take no default), 'framework' (the same as the string name's, so left absent), or
   * tf.train's own default where it differs from the string name's (adadelta: 0.001, not 1).
   */
  readonly rate: 'required' | 'framework' | number;
  /** The position of the momentum argument. */
  readonly momentumAt?: number;
  readonly momentumRequired?: boolean;
  /** A flag whose `true` makes an optimiser the trainer does not run (Nesterov momentum, centred RMSProp). */
  readonly flag?: { readonly index: number; readonly what: string };
}

/** `tf.train.<factory>(…)`: arguments in tfjs-core's order (learningRate first). */
export const TRAIN_FACTORIES: ReadonlyMap<string, TrainFactory> = new Map<string, TrainFactory>([
  ['sgd', { name: 'sgd', rate: 'required' }],
  ['momentum', { name: 'sgd', rate: 'required', momentumAt: 1, momentumRequired: true, flag: { index: 2, what: 'Nesterov momentum (useNesterov)' } }],
  ['adam', { name: 'adam', rate: 'framework' }],
  ['rmsprop', { name: 'rmsprop', rate: 'required', momentumAt: 2, flag: { index: 4, what: 'centred RMSProp (centered)' } }],
  ['adadelta', { name: 'adadelta', rate: 0.001 }],
  ['adagrad', { name: 'adagrad', rate: 'required' }],
  ['adamax', { name: 'adamax', rate: 'framework' }],
]);

export type LossKindOf = Pick<LossSpec, 'kind' | 'input' | 'sparse'>;

/** `compile({loss: '…'})` names of tfjs-layers (its lossesMap) the IR holds; tfjs-layers takes probabilities for cross-entropies. */
export const TFJS_LOSS_NAMES: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['categoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['sparseCategoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities', sparse: true }],
  ['binaryCrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['meanAbsoluteError', { kind: 'meanAbsoluteError', input: 'values' }],
]);

/** The rest of tfjs-layers' lossesMap: valid TF.js, but not a loss the IR holds. */
export const TFJS_OTHER_LOSS_NAMES = new Set([
  'meanAbsolutePercentageError',
  'meanSquaredLogarithmicError',
  'squaredHinge',
  'hinge',
  'categoricalHinge',
  'logcosh',
  'kullbackLeiblerDivergence',
  'poisson',
  'cosineProximity',
]);

/** `tf.losses.<fn>` (tfjs-core: `(labels, predictions)`; the cross-entropies take logits). */
export const TF_LOSS_FUNCTIONS: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['softmaxCrossEntropy', { kind: 'categoricalCrossentropy', input: 'logits' }],
  ['sigmoidCrossEntropy', { kind: 'binaryCrossentropy', input: 'logits' }],
  ['logLoss', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['absoluteDifference', { kind: 'meanAbsoluteError', input: 'values' }],
  ['huberLoss', { kind: 'huber', input: 'values' }],
]);

/** `tf.metrics.<fn>` used as a loss (tfjs-layers: `(yTrue, yPred)`, probabilities for cross-entropies). */
export const TF_METRIC_FUNCTIONS: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['categoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['binaryCrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['MSE', { kind: 'meanSquaredError', input: 'values' }],
  ['mse', { kind: 'meanSquaredError', input: 'values' }],
  ['meanAbsoluteError', { kind: 'meanAbsoluteError', input: 'values' }],
]);

// #endregion
