/**
 * The training set-up a diagnosis uses: the file's own optimiser, learning rate and loss when it
 * states them (ModelSpec.training), the product's defaults otherwise, and the user's explicit
 * settings over both. Pure data; the trainer reads the resolved options.
 */
import type { ActivationName, LossSpec, ModelFormat, ModelSpec, OptimizerName } from './model';

/**
 * Each framework's default learning rate per optimiser, used when a file names an optimiser
 * without a rate. Keras 3 / tf.keras (`keras.optimizers.X()` and the strings in `compile`);
 * TF.js (`compile({optimizer: 'adam'})` and `tf.train.X`, whose string defaults differ from
 * Keras for adagrad, adadelta and adamax); PyTorch (`torch.optim.X`, SGD has none: 0.01 is what
 * the Keras SGD default and most tutorials use).
 */
const DEFAULT_LEARNING_RATES: Readonly<Record<'keras' | 'tfjs' | 'torch', Readonly<Record<OptimizerName, number>>>> = {
  keras: { sgd: 0.01, adam: 0.001, adamw: 0.001, rmsprop: 0.001, adadelta: 0.001, adagrad: 0.001, adamax: 0.001, nadam: 0.001 },
  tfjs: { sgd: 0.01, adam: 0.001, adamw: 0.001, rmsprop: 0.001, adadelta: 1.0, adagrad: 0.01, adamax: 0.002, nadam: 0.001 },
  torch: { sgd: 0.01, adam: 0.001, adamw: 0.001, rmsprop: 0.01, adadelta: 1.0, adagrad: 0.01, adamax: 0.002, nadam: 0.002 },
};

export function frameworkOf(format: ModelFormat): 'keras' | 'tfjs' | 'torch' {
  if (format === 'pytorch-python') return 'torch';
  if (format === 'tfjs-source' || format === 'tfjs-json') return 'tfjs';
  return 'keras';
}

export function defaultLearningRate(format: ModelFormat, optimizer: OptimizerName): number {
  return DEFAULT_LEARNING_RATES[frameworkOf(format)][optimizer];
}

/** The loss a model is trained with: the file's, else the one its head implies (softmax → CE, sigmoid → BCE, else MSE). */
export function effectiveLoss(model: ModelSpec): Pick<LossSpec, 'kind' | 'input' | 'sparse'> {
  if (model.training?.loss) return model.training.loss;
  const head: ActivationName | undefined = model.layers[model.layers.length - 1]?.activation.name;
  if (head === 'softmax') return { kind: 'categoricalCrossentropy', input: 'probabilities' };
  if (head === 'sigmoid') return { kind: 'binaryCrossentropy', input: 'probabilities' };
  return { kind: 'meanSquaredError', input: 'values' };
}
