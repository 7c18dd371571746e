import { type ImportTable } from '../../python/imports';
import { type ActivationSpec, type InitializerName, type InitializerSpec, type LayerKind, type LossSpec } from '../../model';

export const KERAS_ROOTS = new Set(['keras', 'tensorflow', 'tf_keras']);

/**
 * Resolves a callee/reference through the imports. `keras` is true when the path comes from
 * Keras / TensorFlow, or when its root is not imported at all (lenient: snippets often omit
 * imports). A name imported from another package (torch, a user module) is not Keras.
 */
export function resolvePath(parts: readonly string[], imports: ImportTable): { path: string[]; keras: boolean } {
  const imported = imports.get(parts[0]);
  const path = imported ? [...imported, ...parts.slice(1)] : [...parts];
  const keras = !imported || KERAS_ROOTS.has(path[0]) || path.includes('keras');
  return { path, keras };
}



/** The IR's layer kinds (but the generic activation), plus Keras-only classes mapped to them. */
export type LayerClassKey = 'input' | Exclude<LayerKind, 'activation'> | 'activationLayer' | 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'softmax';

/** Keras class name → what it is and its Keras auto-name base (snake_case of the class). */
export const LAYER_CLASSES: ReadonlyMap<string, { readonly key: LayerClassKey; readonly autoName: string }> = new Map([
  ['Input', { key: 'input', autoName: 'input' }],
  ['InputLayer', { key: 'input', autoName: 'input' }],
  ['Dense', { key: 'dense', autoName: 'dense' }],
  ['Conv1D', { key: 'conv1d', autoName: 'conv1d' }],
  ['Convolution1D', { key: 'conv1d', autoName: 'conv1d' }],
  ['Conv2D', { key: 'conv2d', autoName: 'conv2d' }],
  ['Convolution2D', { key: 'conv2d', autoName: 'conv2d' }],
  ['Flatten', { key: 'flatten', autoName: 'flatten' }],
  ['Dropout', { key: 'dropout', autoName: 'dropout' }],
  ['BatchNormalization', { key: 'batchNorm', autoName: 'batch_normalization' }],
  ['MaxPooling1D', { key: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['MaxPool1D', { key: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['MaxPooling2D', { key: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['MaxPool2D', { key: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['AveragePooling1D', { key: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['AvgPool1D', { key: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['AveragePooling2D', { key: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['AvgPool2D', { key: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['GlobalAveragePooling1D', { key: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['GlobalAvgPool1D', { key: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['GlobalAveragePooling2D', { key: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['GlobalAvgPool2D', { key: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['GlobalMaxPooling2D', { key: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['GlobalMaxPool2D', { key: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['Activation', { key: 'activationLayer', autoName: 'activation' }],
  ['ReLU', { key: 'relu', autoName: 're_lu' }],
  ['LeakyReLU', { key: 'leakyRelu', autoName: 'leaky_re_lu' }],
  ['PReLU', { key: 'prelu', autoName: 'p_re_lu' }],
  ['ELU', { key: 'elu', autoName: 'elu' }],
  ['Softmax', { key: 'softmax', autoName: 'softmax' }],
]);

/** Layer kinds with trainable weights: applying one object twice shares them. */
export const LAYERS_WITH_WEIGHTS: ReadonlySet<LayerClassKey> = new Set<LayerClassKey>(['dense', 'conv1d', 'conv2d', 'batchNorm', 'prelu']);

export const CONV_PARAMETERS = [
  'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
  // `groups` was added in TF 2.3 between `dilation_rate` and `activation`; Keras 3 kept it.
  'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
  'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
] as const;
export const POOLING_PARAMETERS = ['pool_size', 'strides', 'padding', 'data_format'] as const;
export const GLOBAL_POOLING_PARAMETERS = ['data_format', 'keepdims'] as const;

/**
 * The positional parameters of each layer class, in the order of the Keras 2.x (TF ≥ 2.3) and
 * Keras 3 signatures (they agree on these). Positional arguments are matched to these names, so
 * `Dense(64, "relu")` reads its activation; arguments past the end are refused, not ignored.
 */
export const POSITIONAL_PARAMETERS: Readonly<Record<LayerClassKey, readonly string[]>> = {
  // Keras 2 and 3 order Input's later parameters differently; those must be given by keyword.
  input: ['shape', 'batch_size'],
  dense: [
    'units', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
    'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
  ],
  conv1d: CONV_PARAMETERS,
  conv2d: CONV_PARAMETERS,
  flatten: ['data_format'],
  dropout: ['rate', 'noise_shape', 'seed'],
  batchNorm: [
    'axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer',
    'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer',
    'beta_constraint', 'gamma_constraint',
  ],
  maxPool1d: POOLING_PARAMETERS,
  maxPool2d: POOLING_PARAMETERS,
  avgPool1d: POOLING_PARAMETERS,
  avgPool2d: POOLING_PARAMETERS,
  globalAvgPool1d: GLOBAL_POOLING_PARAMETERS,
  globalAvgPool2d: GLOBAL_POOLING_PARAMETERS,
  globalMaxPool2d: GLOBAL_POOLING_PARAMETERS,
  activationLayer: ['activation'],
  relu: ['max_value', 'negative_slope', 'threshold'],
  // Keras 2 calls it `alpha`, Keras 3 `negative_slope`; it is the only positional one either way.
  leakyRelu: ['negative_slope'],
  prelu: ['alpha_initializer', 'alpha_regularizer', 'alpha_constraint', 'shared_axes'],
  elu: ['alpha'],
  softmax: ['axis'],
};

/**
 * Keras layers that keep the shape of their input: skipped (with a problem) without making the
 * rest of the model unsound. Everything else that is unknown may change shapes.
 */
export const SHAPE_PRESERVING_LAYERS = new Set([
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'ActivityRegularization',
  'LayerNormalization',
  'UnitNormalization',
  'GroupNormalization',
  'Normalization',
  'Rescaling',
  'Identity',
  'Masking',
  'ThresholdedReLU',
  'RandomFlip',
  'RandomRotation',
  'RandomTranslation',
  'RandomZoom',
  'RandomContrast',
  'RandomBrightness',
]);

/** Activation identifiers (strings, or the last part of `tf.nn.relu`-style references). */
export const ACTIVATION_IDENTIFIERS: ReadonlyMap<string, ActivationSpec> = new Map<string, ActivationSpec>([
  ['linear', { name: 'linear' }],
  ['sigmoid', { name: 'sigmoid' }],
  ['tanh', { name: 'tanh' }],
  ['relu', { name: 'relu' }],
  // Keras 3's `leaky_relu` and tf.nn.leaky_relu both default to a slope of 0.2.
  ['leaky_relu', { name: 'leakyRelu', alpha: 0.2 }],
  ['elu', { name: 'elu', alpha: 1 }],
  ['selu', { name: 'selu' }],
  ['gelu', { name: 'gelu' }],
  ['swish', { name: 'swish' }],
  ['silu', { name: 'swish' }],
  ['mish', { name: 'mish' }],
  ['softplus', { name: 'softplus' }],
  ['softsign', { name: 'softsign' }],
  ['hard_sigmoid', { name: 'hardSigmoid' }],
  ['relu6', { name: 'relu6' }],
  ['exponential', { name: 'exponential' }],
  ['exp', { name: 'exponential' }],
  ['softmax', { name: 'softmax' }],
]);

/** Keras / TF initialiser identifiers, normalised (lower case, no underscores, no "initializer"). */
export const INITIALIZER_IDENTIFIERS: ReadonlyMap<string, InitializerName> = new Map<string, InitializerName>([
  ['glorotuniform', 'glorotUniform'],
  ['xavieruniform', 'glorotUniform'],
  ['glorotnormal', 'glorotNormal'],
  ['xaviernormal', 'glorotNormal'],
  ['heuniform', 'heUniform'],
  ['henormal', 'heNormal'],
  ['lecununiform', 'lecunUniform'],
  ['lecunnormal', 'lecunNormal'],
  ['zeros', 'zeros'],
  ['zero', 'zeros'],
  ['ones', 'ones'],
  ['one', 'ones'],
  ['constant', 'constant'],
  ['randomnormal', 'randomNormal'],
  ['normal', 'randomNormal'],
  ['randomuniform', 'randomUniform'],
  ['uniform', 'randomUniform'],
  ['truncatednormal', 'truncatedNormal'],
  ['orthogonal', 'orthogonal'],
  ['identity', 'identity'],
  ['variancescaling', 'varianceScaling'],
]);

/** Keras defaults for parameterised initialisers given by name only. */
export const INITIALIZER_DEFAULTS: Partial<Record<InitializerName, Omit<InitializerSpec, 'name'>>> = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  orthogonal: { scale: 1 },
  identity: { scale: 1 },
};

export function normaliseInitializerName(name: string): string {
  const compact = name.toLowerCase().split('_').join('');
  return compact.endsWith('initializer') ? compact.slice(0, -'initializer'.length) : compact;
}


/** Keras layers that merge several tensors: a branching graph, which the IR (a chain) cannot hold. */
export const MERGE_LAYERS = new Set([
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate', 'dot',
]);

export const KERAS_OPTIMIZERS = "'adam', 'sgd', 'rmsprop', 'adadelta', 'adagrad', 'adamax', 'nadam', 'adamw' or `keras.optimizers.X(...)` of them";

/** `sparse_categorical_crossentropy`, `SparseCategoricalCrossentropy`, `sparseCategoricalCrossentropy` → one key. */
export function lossKey(name: string): string {
  return name.toLowerCase().split('_').join('');
}

/** Keras' loss strings, functions and classes (before `from_logits`) by lossKey. */
export const KERAS_LOSSES: ReadonlyMap<string, Omit<LossSpec, 'text' | 'span'>> = new Map<string, Omit<LossSpec, 'text' | 'span'>>([
  ['categoricalcrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['sparsecategoricalcrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities', sparse: true }],
  ['binarycrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['mse', { kind: 'meanSquaredError', input: 'values' }],
  ['meansquarederror', { kind: 'meanSquaredError', input: 'values' }],
  ['mae', { kind: 'meanAbsoluteError', input: 'values' }],
  ['meanabsoluteerror', { kind: 'meanAbsoluteError', input: 'values' }],
  ['huber', { kind: 'huber', input: 'values' }],
  ['huberloss', { kind: 'huber', input: 'values' }],
]);

// #region Keras 1 spellings

/** Keras 1 weight-argument names that Keras 2 renamed the same way in every layer with weights. */
const KERAS1_WEIGHT_KEYWORDS: Readonly<Record<string, string>> = {
  init: 'kernel_initializer',
  W_regularizer: 'kernel_regularizer',
  b_regularizer: 'bias_regularizer',
  W_constraint: 'kernel_constraint',
  b_constraint: 'bias_constraint',
  bias: 'use_bias',
};
const KERAS1_POOLING_2D: Readonly<Record<string, string>> = { border_mode: 'padding' };
const KERAS1_POOLING_1D: Readonly<Record<string, string>> = { pool_length: 'pool_size', stride: 'strides', border_mode: 'padding' };

/**
 * Keras 1 keyword → its Keras 2 / 3 name, per layer kind. Keras 1 code (and the questions people
 * still ask about it) spells them so; Keras 2.0–2.2 read them with a warning, later versions
 * refuse them. They are read as their current equivalents, with a note at the argument.
 * `nb_row` / `nb_col` (two numbers for one `kernel_size`) and `dim_ordering` (other values than
 * `data_format`) are not plain renames: see legacy.ts.
 */
export const KERAS1_KEYWORDS: Readonly<Partial<Record<LayerClassKey, Readonly<Record<string, string>>>>> = {
  dense: { output_dim: 'units', ...KERAS1_WEIGHT_KEYWORDS },
  conv1d: { nb_filter: 'filters', filter_length: 'kernel_size', border_mode: 'padding', subsample_length: 'strides', ...KERAS1_WEIGHT_KEYWORDS },
  conv2d: { nb_filter: 'filters', border_mode: 'padding', subsample: 'strides', ...KERAS1_WEIGHT_KEYWORDS },
  dropout: { p: 'rate' },
  batchNorm: { beta_init: 'beta_initializer', gamma_init: 'gamma_initializer' },
  maxPool1d: KERAS1_POOLING_1D,
  avgPool1d: KERAS1_POOLING_1D,
  maxPool2d: KERAS1_POOLING_2D,
  avgPool2d: KERAS1_POOLING_2D,
};

/** Keras 1 `dim_ordering` values → `data_format` ('default' means the backend's setting, like no argument). */
export const KERAS1_DIM_ORDERING: ReadonlyMap<string, string> = new Map([
  ['th', 'channels_first'],
  ['tf', 'channels_last'],
]);

/** Class names that exist only in Keras 1 spelling and so mark the Keras 1 positional signature. */
export const KERAS1_CONVOLUTION_CLASSES: ReadonlySet<string> = new Set(['Convolution2D']);

// #endregion
