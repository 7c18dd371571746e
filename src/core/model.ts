/**
 * ModelSpec: the framework-neutral intermediate representation every loader produces and the
 * trainer, rules and fixes consume. Pure data: no tfjs, no vscode.
 *
 * Positions are 1-based (line and column, column counted in UTF-16 code units as JS strings
 * and VS Code count them) and also carry the 0-based string offset so that fixes can splice
 * text without recomputing positions. `end` is exclusive.
 */
import type { SourceFacts } from './sourceFacts';

export interface SourcePosition {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
  /** 0-based offset into the source text, in UTF-16 code units. */
  readonly offset: number;
}

export interface SourceSpan {
  readonly start: SourcePosition;
  /** Exclusive. */
  readonly end: SourcePosition;
}

/** Every activation the product parses, trains and reports (activation-guide.md §3). */
export const ACTIVATION_NAMES = [
  'linear',
  'sigmoid',
  'tanh',
  'relu',
  'leakyRelu',
  'rrelu',
  'prelu',
  'elu',
  'selu',
  'gelu',
  'swish',
  'mish',
  'softplus',
  'softsign',
  'hardSigmoid',
  'relu6',
  'exponential',
  'softmax',
] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export interface ActivationSpec {
  readonly name: ActivationName;
  /** Negative-side slope (leakyRelu, prelu initial value) or ELU's saturation value α. */
  readonly alpha?: number;
  /** RReLU's slope interval [lower, upper]; the inference slope is their mean. */
  readonly lower?: number;
  readonly upper?: number;
  /**
   * PReLU's learned slopes: one per unit when absent (Keras' default), one per channel (the
   * last axis; PyTorch `nn.PReLU(num_parameters=C)`), or one for the whole layer (PyTorch's
   * default `nn.PReLU()`).
   */
  readonly slopes?: 'perChannel' | 'shared';
}

export const INITIALIZER_NAMES = [
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'lecunUniform',
  'lecunNormal',
  'zeros',
  'ones',
  'constant',
  'randomNormal',
  'randomUniform',
  'truncatedNormal',
  'orthogonal',
  'identity',
  'varianceScaling',
  /** PyTorch's Linear/Conv default: kaiming-uniform with a = √5, i.e. U(±1/√fanIn) for weights. */
  'torchDefaultKernel',
  /** PyTorch's default bias: U(±1/√fanIn). */
  'torchDefaultBias',
] as const;
export type InitializerName = (typeof INITIALIZER_NAMES)[number];

export interface InitializerSpec {
  readonly name: InitializerName;
  /** constant */
  readonly value?: number;
  /** randomNormal / truncatedNormal */
  readonly mean?: number;
  readonly stddev?: number;
  /** randomUniform */
  readonly minval?: number;
  readonly maxval?: number;
  /** varianceScaling / orthogonal gain */
  readonly scale?: number;
  readonly mode?: 'fanIn' | 'fanOut' | 'fanAvg';
  readonly distribution?: 'normal' | 'uniform' | 'truncatedNormal';
}

export type LayerKind =
  | 'dense'
  | 'conv1d'
  | 'conv2d'
  | 'flatten'
  | 'dropout'
  | 'batchNorm'
  | 'maxPool1d'
  | 'maxPool2d'
  | 'avgPool1d'
  | 'avgPool2d'
  | 'globalAvgPool1d'
  | 'globalAvgPool2d'
  | 'globalMaxPool2d'
  /** A standalone activation layer (`Activation("tanh")`, `ReLU()`, `nn.Sigmoid()`). */
  | 'activation';

/** Where a layer came from in the source, for diagnostics, CodeLens and exact text edits. */
export interface LayerSource {
  /** The whole layer expression, e.g. `Dense(64, activation="relu")`. */
  readonly span: SourceSpan;
  /** The callee, e.g. `layers.Dense` (so a standalone activation layer can be renamed). */
  readonly calleeSpan?: SourceSpan;
  /** The argument list including its parentheses, so a missing argument can be inserted. */
  readonly argumentsSpan?: SourceSpan;
  /** The whole `activation=...` keyword argument (or positional activation argument). */
  readonly activationArgumentSpan?: SourceSpan;
  /** Just the activation value, e.g. `"relu"` or `tf.nn.relu`. */
  readonly activationValueSpan?: SourceSpan;
  readonly kernelInitializerArgumentSpan?: SourceSpan;
  readonly kernelInitializerValueSpan?: SourceSpan;
  readonly biasInitializerArgumentSpan?: SourceSpan;
  readonly biasInitializerValueSpan?: SourceSpan;
}

export interface LayerSpec {
  /** 0-based position in the model. */
  readonly index: number;
  readonly kind: LayerKind;
  /** A readable, unique name within the model: the `name=` argument or kind + counter. */
  readonly name: string;
  /** dense */
  readonly units?: number;
  /** conv */
  readonly filters?: number;
  readonly kernelSize?: readonly number[];
  readonly strides?: readonly number[];
  readonly padding?: 'valid' | 'same';
  /** pooling */
  readonly poolSize?: readonly number[];
  /** dropout */
  readonly rate?: number;
  /** batchNorm */
  readonly epsilon?: number;
  readonly momentum?: number;
  /** The activation applied to this layer's output; `linear` when none. */
  readonly activation: ActivationSpec;
  readonly useBias?: boolean;
  /**
   * A what-if, never set by loaders: BatchNormalization between this layer's linear part and its
   * activation (the layer count, and so every index, stays the same).
   */
  readonly batchNormBeforeActivation?: boolean;
  readonly kernelInitializer?: InitializerSpec;
  readonly biasInitializer?: InitializerSpec;
  /**
   * The file freezes this layer (`trainable=False`, `requires_grad_(False)`): its weights are not
   * updated, so their gradient is neither measured nor judged; its activations still are.
   */
  readonly frozen?: boolean;
  readonly source: LayerSource;
  // [issue 3: saved models] Trained weights, present only when loaded from a saved model file
  // (.keras, .h5, TF.js model.json + shards) and the load did not ask for `freshInit`.
  /** Trained weights to start from instead of the initialisers; see LayerWeights. */
  readonly weights?: LayerWeights;
}

// [issue 3: saved models]
/**
 * One weight tensor: values in row-major (C) order, `shape` in the Keras / TF.js layout
 * (Dense kernel [in, out]; Conv1D [k, in, out]; Conv2D [kh, kw, in, out]). Plain data, so it
 * passes the trainer's structured-clone boundary unchanged.
 */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly values: Float32Array | readonly number[];
}

/**
 * Trained weights of one layer, by role. Dense / Conv: kernel (+ bias unless useBias is false).
 * BatchNormalization: gamma, beta, movingMean, movingVariance (gamma/beta absent when the saved
 * layer had scale/center off: the builder then uses ones/zeros, which is what such a layer computes).
 */
export interface LayerWeights {
  readonly kernel?: WeightTensor;
  readonly bias?: WeightTensor;
  readonly gamma?: WeightTensor;
  readonly beta?: WeightTensor;
  readonly movingMean?: WeightTensor;
  readonly movingVariance?: WeightTensor;
}

export type ModelFormat = 'keras-python' | 'pytorch-python' | 'tfjs-source' | 'keras-json' | 'tfjs-json';

// [issue 11: the file's own training set-up]
/** Optimisers the trainer can run; names are the frameworks' own, lower-cased. */
export const OPTIMIZER_NAMES = ['sgd', 'adam', 'adamw', 'rmsprop', 'adadelta', 'adagrad', 'adamax', 'nadam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** The optimiser a file states for a model (Keras `compile`, `torch.optim.X(...)`, TF.js `compile`). */
export interface OptimizerSpec {
  readonly name: OptimizerName;
  /** As written (`lr=1.0` / `learning_rate=...` / a positional value); absent: the framework's default. */
  readonly learningRate?: number;
  /** SGD / RMSprop momentum, when stated. */
  readonly momentum?: number;
  /** The optimiser expression as written, e.g. `optim.Adadelta(model.parameters(), lr=1.0)` or `"rmsprop"`. */
  readonly text: string;
  /** The whole optimiser expression (a string literal included), to replace it. */
  readonly span: SourceSpan;
  /** The argument list with its parentheses, to insert a learning rate (absent for a string). */
  readonly argumentsSpan?: SourceSpan;
  /** The learning-rate number itself, to replace it. */
  readonly learningRateValueSpan?: SourceSpan;
}

export type LossKind = 'categoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError' | 'meanAbsoluteError' | 'huber';

/** The loss a file trains a model with. */
export interface LossSpec {
  readonly kind: LossKind;
  /**
   * What the loss takes as the model's output: probabilities (Keras' default, `nn.BCELoss`),
   * logits (`from_logits=True`, `nn.CrossEntropyLoss`, `nn.BCEWithLogitsLoss`,
   * `tf.losses.softmaxCrossEntropy`), log-probabilities (`nn.NLLLoss`), or plain values (regression).
   */
  readonly input: 'probabilities' | 'logits' | 'logProbabilities' | 'values';
  /** Class targets as indices (sparse categorical cross-entropy, torch CrossEntropyLoss / NLLLoss). */
  readonly sparse?: boolean;
  /** As written, e.g. `"sparse_categorical_crossentropy"` or `nn.CrossEntropyLoss()`. */
  readonly text: string;
  /** The loss expression, to replace it. */
  readonly span: SourceSpan;
}

/** What a file states about how a model is trained; each part absent when not stated statically. */
export interface TrainingSetup {
  readonly optimizer?: OptimizerSpec;
  readonly loss?: LossSpec;
}

export interface ModelSpec {
  /** The variable or class the model is bound to, unique within the file. */
  readonly name: string;
  readonly format: ModelFormat;
  /** Per-sample input shape (no batch dimension), channels-last. */
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
  /** The model's definition (e.g. the `Sequential(...)` call or the class). */
  readonly span: SourceSpan;
  /**
   * Things the loader could not resolve statically but that do not stop the model from being
   * trained soundly (they are reported as findings at their positions).
   */
  readonly problems: readonly LoadProblem[];
  // [issue 3: saved models]
  /**
   * True when the model came from a binary file (.keras zip, .h5): its spans are all at 1:1
   * (the layer index is in messages) and no text edit (quick fix) applies to it.
   */
  readonly binary?: boolean;
  // [issue 3: PyTorch]
  /**
   * Assumptions the loader made that are not problems (an inferred input size, logits read
   * as the input of the file's cross-entropy loss): for hover text and reports, not findings.
   */
  readonly notes?: readonly LoadNote[];
  // [issue 11]
  /** The optimiser and loss the file trains this model with, when stated statically. */
  readonly training?: TrainingSetup;
  // [issue 12]
  /**
   * Python models: what the fixers need to know about the source besides the layer spans (the
   * imports, and for PyTorch the class's `__init__` / `forward` and each layer's call), gathered
   * while the file was read so that no fixer parses the file again (sourceFacts.ts).
   */
  readonly sourceFacts?: SourceFacts;
}

// [issue 3: PyTorch]
/** An informational remark of a loader, with the position it refers to. */
export interface LoadNote {
  readonly message: string;
  readonly span: SourceSpan;
}

/**
 * `unknown-input-shape`: the model's input shape (or a width it depends on) is known only at run
 * time; the message says how to give it (`--data`, an `activation-lens: input_shape=` comment),
 * and the editor offers a Quick Fix that asks for it and writes the comment.
 */
export type LoadProblemCode = 'unsupported-layer' | 'parse-error' | 'unknown-input-shape';

/** A typed loader error with a position. Loaders return these; they never throw. */
export interface LoadProblem {
  readonly code: LoadProblemCode;
  readonly message: string;
  readonly span: SourceSpan;
}

export interface LoadResult {
  readonly format: ModelFormat;
  readonly models: readonly ModelSpec[];
  /** File-level problems (syntax errors, a model that cannot be trained soundly). */
  readonly problems: readonly LoadProblem[];
  // [issue 15: notebooks]
  /**
   * Set for a Jupyter notebook: its code cells. Every span of the result is then an offset of the
   * cells joined into one program (parse/notebook.ts cellSpan maps it back to a cell).
   */
  readonly cells?: readonly NotebookCell[];
}

// [issue 15: notebooks]
/** One code cell of a notebook, where it sits in the joined program. */
export interface NotebookCell {
  /** 0-based index among all the notebook's cells (markdown included), as nbformat stores them. */
  readonly index: number;
  /** Offset of the cell's first character in the joined program. */
  readonly start: number;
  /** The cell's source as stored (magics not blanked): what an editor shows and edits. */
  readonly source: string;
}

/** Computes 1-based line/column positions for string offsets of one text. */
export class PositionIndex {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): SourcePosition {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - this.lineStarts[lo] + 1, offset: clamped };
  }

  span(startOffset: number, endOffset: number): SourceSpan {
    return { start: this.position(startOffset), end: this.position(endOffset) };
  }
}

/** True for layers that own a trainable kernel (and hence a weight-gradient norm). */
export function hasKernel(kind: LayerKind): boolean {
  return kind === 'dense' || kind === 'conv1d' || kind === 'conv2d';
}

/**
 * What a loader may know besides the file's text ([issue 12]): both come from outside the file
 * and are read statically, never run.
 */
export interface LoadContext {
  /**
   * The text of a Python module of the workspace that the file imports (`config` → config.py,
   * `pkg.mod` → pkg/mod.py or pkg/mod/__init__.py, next to the file); undefined when there is no
   * such module or it may not be read (outside the workspace, too large).
   */
  readonly readPythonModule?: (dottedName: string) => string | undefined;
  /** The shape of one input example (no batch axis) of the data the user chose, when known. */
  readonly inputShape?: readonly number[];
}
