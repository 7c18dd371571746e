/**
 * The PyTorch vocabulary the PyTorch loader reads: torch.nn modules and functions by what they
 * mean for the IR (activations, shape-preserving modules, initialisers, losses) and the gains of
 * torch.nn.init.calculate_gain (issue 12: one vocabulary per framework, out of the loader).
 */
import type { LossSpec } from '../../model';

export const ACTIVATION_MODULES = new Set([
  'ReLU', 'LeakyReLU', 'PReLU', 'RReLU', 'ELU', 'SELU', 'GELU', 'SiLU', 'Mish', 'Softplus', 'Softsign',
  'Sigmoid', 'Tanh', 'Hardsigmoid', 'ReLU6', 'Softmax', 'LogSoftmax', 'Identity',
]);

/** torch.nn modules that keep the shape of their input: skipped (with a problem) when met. */
export const SHAPE_PRESERVING_MODULES = new Set([
  'LayerNorm', 'GroupNorm', 'InstanceNorm1d', 'InstanceNorm2d', 'LocalResponseNorm', 'Hardswish', 'Hardtanh',
  'CELU', 'LogSigmoid', 'Tanhshrink', 'Softshrink', 'Hardshrink', 'Threshold', 'Softmin', 'Softmax2d',
  'AlphaDropout', 'FeatureAlphaDropout', 'Dropout1d', 'Dropout2d', 'Dropout3d',
]);

/** Functional activations (torch.X, torch.nn.functional.X, tensor methods) by name. */
export const FUNCTIONAL_ACTIVATIONS = new Set([
  'relu', 'relu_', 'sigmoid', 'sigmoid_', 'tanh', 'tanh_', 'elu', 'elu_', 'selu', 'selu_', 'gelu', 'silu', 'mish',
  'softplus', 'softsign', 'hardsigmoid', 'relu6', 'leaky_relu', 'leaky_relu_', 'rrelu', 'rrelu_', 'softmax', 'log_softmax', 'exp', 'exp_',
]);

/** In-place tensor methods that initialise a weight or bias (`self.fc.weight.data.normal_(0, 0.02)`). */
export const INIT_METHODS = new Set(['normal_', 'uniform_', 'fill_', 'zero_', 'constant_']);

/** Tensor methods that return the same tensor for the purpose of the diagnosis. */
export const NEUTRAL_METHODS = new Set(['contiguous', 'float', 'double', 'to', 'cuda', 'cpu', 'clone', 'detach', 'requires_grad_', 'type']);

/**
 * The IR has no log-softmax activation. A log-softmax head trained with NLLLoss minimises the
 * same cross-entropy as a softmax head, so it is diagnosed as softmax, and a note says so.
 */
export const LOG_SOFTMAX_NOTE = (callee: string): string =>
  `\`${callee}\` is diagnosed as a softmax (there is no log-softmax activation): as the output with NLLLoss it trains exactly like a softmax with cross-entropy, and the same gradients reach the layers before it.`;

// [issue 11] Losses of torch.nn and torch.nn.functional, by the name of the class or function.

type LossReading = Omit<LossSpec, 'text' | 'span'>;

/** PyTorch losses the IR expresses: each torch.nn class with its torch.nn.functional twin. */
const LOSS_CLASSES_AND_FUNCTIONS: readonly (readonly [className: string, functionName: string, reading: LossReading])[] = [
  ['CrossEntropyLoss', 'cross_entropy', { kind: 'categoricalCrossentropy', input: 'logits', sparse: true }],
  ['NLLLoss', 'nll_loss', { kind: 'categoricalCrossentropy', input: 'logProbabilities', sparse: true }],
  ['BCELoss', 'binary_cross_entropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['BCEWithLogitsLoss', 'binary_cross_entropy_with_logits', { kind: 'binaryCrossentropy', input: 'logits' }],
  ['MSELoss', 'mse_loss', { kind: 'meanSquaredError', input: 'values' }],
  ['L1Loss', 'l1_loss', { kind: 'meanAbsoluteError', input: 'values' }],
  ['SmoothL1Loss', 'smooth_l1_loss', { kind: 'huber', input: 'values' }],
  ['HuberLoss', 'huber_loss', { kind: 'huber', input: 'values' }],
];

/** The IR's reading of a PyTorch loss, by the name of its class or function. */
export const TORCH_LOSSES: ReadonlyMap<string, LossReading> = new Map(
  LOSS_CLASSES_AND_FUNCTIONS.flatMap(([className, functionName, reading]) => [
    [className, reading],
    [functionName, reading],
  ]),
);

/** Functional losses whose names do not end in `_loss` (the others are recognised by the suffix). */
export const TORCH_FUNCTIONAL_LOSSES = new Set(['cross_entropy', 'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'kl_div']);

/** Functional calls that keep the shape and are skipped with a problem. */
export const SHAPE_PRESERVING_FUNCTIONS = new Set(['layer_norm', 'group_norm', 'normalize', 'instance_norm', 'hardtanh', 'hardswish', 'celu', 'logsigmoid', 'dropout2d', 'dropout1d', 'alpha_dropout', 'clamp', 'clip']);


/** Tensor-like methods that return the module they are called on (`Net().to(device)`). */
export const SAME_MODULE_METHODS = new Set([...NEUTRAL_METHODS, 'train', 'eval', 'half']);

/** Gains of torch.nn.init.calculate_gain. */
export function torchGain(nonlinearity: string, param: number | undefined): number | undefined {
  switch (nonlinearity) {
    case 'linear':
    case 'identity':
    case 'sigmoid':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return undefined;
  }
}
