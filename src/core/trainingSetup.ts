/**
 * The training set-up a diagnosis uses: the file's own optimiser, learning rate and loss when it
 * states them (ModelSpec.training), the product's defaults otherwise, and the user's explicit
 * settings over both. Pure data; the trainer reads the resolved options.
 */
import type { ActivationName, LossSpec, ModelFormat, ModelSpec, OptimizerName, SourceSpan } from './model';

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

/** Which training settings the user set explicitly (CLI flags, VS Code settings): those win over the file. */
export interface ExplicitSettings {
  readonly optimizer?: boolean;
  readonly learningRate?: boolean;
}

/** What a run was trained with and where each part came from, for the report. */
export interface TrainingUsed {
  readonly optimizer: OptimizerName;
  readonly learningRate: number;
  readonly momentum?: number;
  /** 'file': read from the model's file (line given); 'setting': a flag or setting; 'default': the product's. */
  readonly optimizerFrom: 'file' | 'setting' | 'default';
  readonly optimizerLine?: number;
  /** Where the optimiser and loss are written (for notebooks, whose lines count per cell). */
  readonly optimizerSpan?: SourceSpan;
  readonly lossSpan?: SourceSpan;
  readonly learningRateFrom: 'file' | 'framework-default' | 'setting' | 'default';
  readonly loss: Pick<LossSpec, 'kind' | 'input' | 'sparse'>;
  readonly lossFrom: 'file' | 'head';
  readonly lossLine?: number;
}

/**
 * The options a model trains with: the file's optimiser (with its stated rate, else its
 * framework's default rate) unless the user set optimiser or rate explicitly; the rest of `base`
 * as given. A stated rate goes with its optimiser: an explicit optimiser setting drops it.
 */
export function resolveTraining<T extends { readonly optimizer: OptimizerName; readonly learningRate: number; readonly momentum?: number }>(
  model: ModelSpec,
  base: T,
  explicit: ExplicitSettings = {},
): { readonly options: T; readonly used: TrainingUsed } {
  const stated = model.training?.optimizer;
  const loss = model.training?.loss;
  const lossPart = { loss: effectiveLoss(model), lossFrom: loss ? ('file' as const) : ('head' as const), lossLine: loss?.span.start.line, lossSpan: loss?.span };
  if (!stated || explicit.optimizer) {
    const options = base;
    return {
      options,
      used: {
        optimizer: options.optimizer, learningRate: options.learningRate, momentum: options.momentum,
        optimizerFrom: explicit.optimizer ? 'setting' : 'default',
        learningRateFrom: explicit.learningRate ? 'setting' : 'default',
        ...lossPart,
      },
    };
  }
  const learningRate = explicit.learningRate ? base.learningRate : stated.learningRate ?? defaultLearningRate(model.format, stated.name);
  const options = { ...base, optimizer: stated.name, learningRate, momentum: stated.momentum };
  return {
    options,
    used: {
      optimizer: stated.name, learningRate, momentum: stated.momentum,
      optimizerFrom: 'file', optimizerLine: stated.span.start.line, optimizerSpan: stated.span,
      learningRateFrom: explicit.learningRate ? 'setting' : stated.learningRate !== undefined ? 'file' : 'framework-default',
      ...lossPart,
    },
  };
}

const OPTIMIZER_WORDS: Record<string, string> = {
  sgd: 'SGD', adam: 'Adam', adamw: 'AdamW (trained as Adam: TensorFlow.js has no weight decay in it)', rmsprop: 'RMSprop',
  adadelta: 'Adadelta', adagrad: 'Adagrad', adamax: 'Adamax', nadam: 'Nadam (trained as Adam)',
};
const LOSS_WORDS: Record<string, string> = {
  categoricalCrossentropy: 'categorical cross-entropy', binaryCrossentropy: 'binary cross-entropy', meanSquaredError: 'mean squared error',
  meanAbsoluteError: 'mean absolute error', huber: 'Huber',
};

/** "Trained with Adadelta lr 1 (the file, line 88), loss categorical cross-entropy on logits (the file, line 92)". */
export function trainingLine(t: TrainingUsed, where: (span: SourceSpan) => string = (span) => `line ${span.start.line}`): string {
  const optimizerFrom = t.optimizerFrom === 'file' ? `the file, ${t.optimizerSpan ? where(t.optimizerSpan) : `line ${t.optimizerLine}`}` : t.optimizerFrom === 'setting' ? 'your setting' : 'the product default: the file states none';
  const rateFrom = t.learningRateFrom === 'framework-default' ? ', the framework\'s default rate' : t.learningRateFrom === 'setting' ? ', rate from your setting' : '';
  const momentum = t.momentum ? ` momentum ${t.momentum}` : '';
  const loss = `${LOSS_WORDS[t.loss.kind] ?? t.loss.kind}${t.loss.input === 'logits' ? ' on logits' : t.loss.input === 'logProbabilities' ? ' on log-probabilities' : ''}`;
  const lossFrom = t.lossFrom === 'file' ? `the file, ${t.lossSpan ? where(t.lossSpan) : `line ${t.lossLine}`}` : 'implied by the output layer';
  return `Trained with ${OPTIMIZER_WORDS[t.optimizer] ?? t.optimizer} lr ${t.learningRate}${momentum} (${optimizerFrom}${rateFrom}), loss ${loss} (${lossFrom})`;
}
