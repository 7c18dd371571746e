/**
 * TensorFlow.js source loader (format 'tfjs-source'): reads `tf.sequential({layers: [...]})`,
 * `tf.sequential()` + `model.add(...)` (also on `this.model` in classes) and functional
 * `tf.model({inputs, outputs})` linear chains from JavaScript / TypeScript, statically, through
 * the tree-sitter javascript / typescript grammars. Same soundness policy as the Keras loader
 * (kerasPython.ts): anything that would change what is trained drops the model with a file-level
 * problem at its position; anything that does not is a model-level problem. Never throws.
 */
import type { Node } from 'web-tree-sitter';
import {
  PositionIndex,
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerKind,
  type LayerSource,
  type LayerSpec,
  type LoadProblem,
  type LoadProblemCode,
  type LoadNote,
  type LoadResult,
  type LossSpec,
  type ModelSpec,
  type OptimizerName,
  type OptimizerSpec,
  type SourceSpan,
  type TrainingSetup,
  type LoadContext,
} from '../model';
import { shapeError } from '../shapes';
import { loadFailure, readSourceFile, firstSyntaxError } from './sourceFile';
import { LayerNamer } from './layerNames';
import { formatCount, MAX_DECLARATIONS, MAX_LAYERS, MAX_MODELS_PER_FILE, tooManyLayers } from './limits';

const NESTED_ADD = 'layers are added inside a loop, condition or callback, which is only known at run time.';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Loads every TF.js sequential (and linear functional) model of a JS/TS file. Never throws. */
export async function loadTfjsSource(text: string, fileName: string, context: LoadContext = {}): Promise<LoadResult> {
  if (text.trim() === '') return loadFailure('tfjs-source', `${fileName}: the file is empty, so there is no model to read.`, new PositionIndex(text).span(0, 0));
  // JSX in .js/.jsx is part of the javascript grammar; .tsx needs TypeScript's TSX grammar.
  const grammar = /\.tsx$/i.test(fileName) ? 'tsx' : /\.(ts|mts|cts)$/i.test(fileName) ? 'typescript' : 'javascript';
  return readSourceFile(text, fileName, grammar, 'tfjs-source', (tree, positions) => {
    try {
      return new TfjsFileLoader(positions, tree.rootNode, fileName, context).load();
    } catch (error) {
      if (!(error instanceof LimitReached)) throw error;
      const span = positions.span(error.node.startIndex, error.node.endIndex);
      return loadFailure('tfjs-source', `${error.message} (the limit is reached at line ${span.start.line}, column ${span.start.column}); the file is not read.`, span);
    }
  });
}

/** How a refusal for an unknown input shape says the comment the Quick Fix writes (it keys on `activation-lens: input_shape=`). */
const INPUT_SHAPE_HINT = 'or add a comment `// activation-lens: input_shape=[…]` above the model';

/** The stand-in for an input shape the file leaves to run time, noted with `unknown` at `at`; undefined when there is none. */
type RunTimeShape = (unknown: string, at: Node) => number[] | undefined;

/**
 * The first layer's (or `tf.input`'s) own input shape; where it cannot be read statically the
 * stand-in is used, and without one the refusal also names the comment that would answer it.
 */
function readInputShape(read: () => number[] | undefined, runTimeShape: RunTimeShape): number[] | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof Unsound)) throw error;
    const message = error.message.replace(/\.$/, '');
    const shape = runTimeShape(`${message.charAt(0).toUpperCase()}${message.slice(1)}`, error.node);
    if (shape) return shape;
    throw new Unsound(error.code, `${message}; write fixed numbers there, ${INPUT_SHAPE_HINT}.`, error.node);
  }
}

function formatShape(shape: readonly number[]): string {
  return `\`[${shape.join(', ')}]\``;
}

/**
 * Reads `= [28, 28, 1]` / `: (784)` after `input_shape` in a comment: 1 to 3 positive integers
 * (the grammar every loader reads and the Quick Fix writes).
 */
export function parseInputShapeComment(text: string): number[] | undefined {
  const match = /^\s*[=:]\s*(?:\(([^()]*)\)|\[([^[\]]*)\])/.exec(text);
  if (!match) return undefined;
  const parts = (match[1] ?? match[2]).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (dims.length === 0 || dims.length > 3 || dims.some((d) => !Number.isInteger(d) || d <= 0 || d > 1_000_000)) return undefined;
  return dims;
}

const SHAPE_COMMENT = /(?:\/\/|\/\*)\s*activation-lens:[^\n]*?\binput_shape\b/g;

function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

class Unsound extends Error {
  constructor(
    readonly code: LoadProblemCode,
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

// #region Static values

type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'array'; readonly items: readonly Value[] }
  | { readonly kind: 'object'; readonly node: Node; readonly entries: ReadonlyMap<string, ObjectEntry> }
  | { readonly kind: 'call'; readonly node: Node }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

interface ObjectEntry {
  /** The `key: value` pair (or the shorthand `key`) that defines the entry. */
  readonly pair: Node;
  readonly value: Node;
  /**
   * True when the entry comes from a spread (`{...common, units: 8}`): its text belongs to
   * another object, possibly shared by several layers, so quick fixes must not edit it in place.
   */
  readonly inherited: boolean;
}

type ObjectValue = Extract<Value, { kind: 'object' }>;

function describe(value: Value): string {
  switch (value.kind) {
    case 'number':
    case 'bool':
      return String(value.value);
    case 'string':
      return JSON.stringify(value.value);
    case 'null':
      return 'null';
    case 'array':
      return 'an array';
    case 'object':
    case 'call':
    case 'unknown':
      return `\`${shorten(value.node.text)}\``;
  }
}

/** Wrappers that do not change a value: `(x)`, `x as T`, `<T>x`, `x satisfies T`, `x!`. */
const TRANSPARENT_WRAPPERS = new Set(['parenthesized_expression', 'as_expression', 'satisfies_expression', 'non_null_expression', 'type_assertion']);

/**
 * The expression inside type casts and parentheses. `<T>x` keeps the expression last (its type
 * comes first); the others keep it first.
 */
function unwrap(node: Node | null): Node | null {
  let current = node;
  for (;;) {
    if (!current) return null;
    const cast = misparsedCast(current);
    if (cast) {
      current = cast;
      continue;
    }
    if (!TRANSPARENT_WRAPPERS.has(current.type)) return current;
    const parts = current.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
    current = (current.type === 'type_assertion' ? parts[parts.length - 1] : parts[0]) ?? null;
  }
}

/**
 * The typescript grammar reads `x as tf.layers.DenseLayerArgs` as `(x as tf).layers.DenseLayerArgs`
 * (a member access on the cast). A member access directly on an unparenthesised cast cannot be
 * written any other way, so such a chain is the cast itself.
 */
function misparsedCast(node: Node): Node | undefined {
  let current: Node | null = node;
  let steps = 0;
  while (current?.type === 'member_expression') {
    current = current.childForFieldName('object');
    steps++;
  }
  return steps > 0 && (current?.type === 'as_expression' || current?.type === 'satisfies_expression') ? current : undefined;
}

/** `a.b.c` as ['a','b','c'] (`this.model` as ['this','model']); undefined for anything else. */
function dottedParts(node: Node | null): string[] | undefined {
  const inner = unwrap(node);
  if (!inner) return undefined;
  if (inner.type === 'identifier' || inner.type === 'this') return [inner.text];
  if (inner.type === 'member_expression') {
    const head = dottedParts(inner.childForFieldName('object'));
    const property = inner.childForFieldName('property');
    return head && property ? [...head, property.text] : undefined;
  }
  return undefined;
}

function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

/** The named children that are not comments. */
function meaningfulChildren(node: Node | null | undefined): Node[] {
  return (node?.namedChildren ?? []).filter((c): c is Node => !!c && c.type !== 'comment');
}

// #endregion

// #region Vocabulary

/** TF.js activation identifiers (tfjs-layers' `activation` strings, plus snake_case spellings). */
const ACTIVATIONS: ReadonlyMap<string, ActivationSpec> = new Map<string, ActivationSpec>([
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

const INITIALIZERS: ReadonlyMap<string, InitializerName> = new Map<string, InitializerName>([
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

const INITIALIZER_DEFAULTS: Partial<Record<InitializerName, Omit<InitializerSpec, 'name'>>> = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  orthogonal: { scale: 1 },
  identity: { scale: 1 },
};

type Factory =
  | { readonly kind: Exclude<LayerKind, 'activation'>; readonly autoName: string }
  | { readonly kind: 'activation'; readonly autoName: string; readonly variant: 'activation' | 'leakyReLU' | 'prelu' | 'elu' | 'reLU' | 'softmax' };

/** `tf.layers.<factory>` → what it builds (auto names follow tfjs: dense_Dense1 is shortened to dense). */
const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
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
const SHAPE_PRESERVING = new Set(['layerNormalization', 'gaussianNoise', 'gaussianDropout', 'alphaDropout', 'spatialDropout1d', 'thresholdedReLU', 'masking']);

/** `compile({optimizer: '…'})` names tfjs-layers accepts (getOptimizer: each class name and its lower-case alias). */
const TFJS_OPTIMIZER_NAMES: ReadonlyMap<string, OptimizerName> = new Map<string, OptimizerName>([
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

interface TrainFactory {
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
const TRAIN_FACTORIES: ReadonlyMap<string, TrainFactory> = new Map<string, TrainFactory>([
  ['sgd', { name: 'sgd', rate: 'required' }],
  ['momentum', { name: 'sgd', rate: 'required', momentumAt: 1, momentumRequired: true, flag: { index: 2, what: 'Nesterov momentum (useNesterov)' } }],
  ['adam', { name: 'adam', rate: 'framework' }],
  ['rmsprop', { name: 'rmsprop', rate: 'required', momentumAt: 2, flag: { index: 4, what: 'centred RMSProp (centered)' } }],
  ['adadelta', { name: 'adadelta', rate: 0.001 }],
  ['adagrad', { name: 'adagrad', rate: 'required' }],
  ['adamax', { name: 'adamax', rate: 'framework' }],
]);

type LossKindOf = Pick<LossSpec, 'kind' | 'input' | 'sparse'>;

/** `compile({loss: '…'})` names of tfjs-layers (its lossesMap) the IR holds; tfjs-layers takes probabilities for cross-entropies. */
const TFJS_LOSS_NAMES: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['categoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['sparseCategoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities', sparse: true }],
  ['binaryCrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['meanAbsoluteError', { kind: 'meanAbsoluteError', input: 'values' }],
]);

/** The rest of tfjs-layers' lossesMap: valid TF.js, but not a loss the IR holds. */
const TFJS_OTHER_LOSS_NAMES = new Set([
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
const TF_LOSS_FUNCTIONS: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['softmaxCrossEntropy', { kind: 'categoricalCrossentropy', input: 'logits' }],
  ['sigmoidCrossEntropy', { kind: 'binaryCrossentropy', input: 'logits' }],
  ['logLoss', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['absoluteDifference', { kind: 'meanAbsoluteError', input: 'values' }],
  ['huberLoss', { kind: 'huber', input: 'values' }],
]);

/** `tf.metrics.<fn>` used as a loss (tfjs-layers: `(yTrue, yPred)`, probabilities for cross-entropies). */
const TF_METRIC_FUNCTIONS: ReadonlyMap<string, LossKindOf> = new Map<string, LossKindOf>([
  ['categoricalCrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['binaryCrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['meanSquaredError', { kind: 'meanSquaredError', input: 'values' }],
  ['MSE', { kind: 'meanSquaredError', input: 'values' }],
  ['mse', { kind: 'meanSquaredError', input: 'values' }],
  ['meanAbsoluteError', { kind: 'meanAbsoluteError', input: 'values' }],
]);

// #endregion

interface ModelSite {
  readonly call: Node;
  readonly name: string;
  readonly spanNode: Node;
  /** For `const model = tf.sequential()`: the statement and its block, to collect `model.add(...)`. */
  readonly addChain?: { readonly target: string; readonly statement: Node; readonly block: Node };
  /** For `this.model = tf.sequential()`: the class whose other methods may also add layers to `this.model`. */
  readonly classMember?: { readonly target: string; readonly classBody: Node };
  /** True for `tf.model({inputs, outputs})`, whose layers are found by following `.apply(...)` back. */
  readonly functional?: boolean;
  /** What `compile(...)` is called on for this model: the variable it is bound to, or `this.x` in its class. */
  readonly owner?: SiteOwner;
}

type SiteOwner = { readonly kind: 'binding'; readonly binding: Binding } | { readonly kind: 'member'; readonly target: string; readonly classBody: Node };

interface CompileIndex {
  readonly byBinding: ReadonlyMap<Binding, readonly Node[]>;
  /** `this.x.compile(...)` by `x` → calls (class membership is checked per site). */
  readonly byMember: ReadonlyMap<string, readonly Node[]>;
  /** `const m = createModel()` (or `await createModel()`) by the function name: the variables a returned model is bound to. */
  readonly byCallee: ReadonlyMap<string, readonly Binding[]>;
}

/** One declared variable (or parameter) of the file, with every later write to it. */
interface Binding {
  readonly name: string;
  /** The node whose text the variable is visible in (a block, a function, the program). */
  readonly scope: Node;
  /** The statement that declares it; the value is known to uses after its end. */
  readonly declaration: Node;
  /** The initial value; null for `let x;`. */
  readonly value: Node | null;
  /** Set when the variable has no static value at all (a parameter, a loop variable). */
  readonly opaque?: string;
  /** Assignments, `++`, `+=`, mutations (`obj.key = …`, `list.push(…)`) after the declaration. */
  readonly writes: Write[];
}

interface Write {
  readonly node: Node;
  readonly how: 'declared again' | 'assigned again' | 'changed';
}

/** Function-like nodes: they scope `var` declarations and parameters. */
const FUNCTION_SCOPES = new Set([
  'function_declaration',
  'function_expression',
  'function',
  'generator_function_declaration',
  'generator_function',
  'arrow_function',
  'method_definition',
  'class_static_block',
]);

/** Nodes that scope `let` / `const` declarations. */
const BLOCK_SCOPES = new Set(['program', 'statement_block', 'for_statement', 'for_in_statement', 'switch_body', ...FUNCTION_SCOPES]);

/** Array methods that change the array they are called on. */
const MUTATING_METHODS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'reverse', 'sort', 'fill', 'copyWithin']);

/** TF.js merge layers: they join branches of a graph, which a chain of layers cannot hold. */
const MERGE_LAYERS = new Set(['add', 'average', 'concatenate', 'dot', 'maximum', 'minimum', 'multiply', 'subtract']);

const MAX_CHAIN = 10_000;

/**
 * Steps of static evaluation per file (each expression evaluated is one step), for layers and
 * training set-ups together: a model of MAX_LAYERS layers needs ~10 steps per layer, so this is
 * far above real files, and it stops constants nested in each other (`const b = [a, a, a]`,
 * `const c = [b, b, b]`, …) from costing exponential time.
 */
export const MAX_TFJS_EVALUATIONS = 400_000;

/** Constants followed from a use to the expression they hold (`const opt = OPTIMIZER;`). */
const MAX_CONST_HOPS = 50;

class TfjsFileLoader {
  /** Local name → module path, e.g. tf → ['@tensorflow/tfjs'], layers → ['@tensorflow/tfjs', 'layers']. */
  private readonly imports = new Map<string, string[]>();
  private readonly bindings = new Map<string, Binding[]>();
  private readonly problems: LoadProblem[] = [];
  /** Per name, the scopes that declare it, for finding the one a use sees in O(log n + depth). */
  private readonly scopeIndexes = new Map<string, ScopeIndex>();
  private readonly blockIndexes = new Map<number, BlockIndex>();
  private declarations = 0;
  private depth = 0;
  private evaluations = 0;
  /** The values of loop variables while the layers of one unrolled iteration are read. */
  private loopValues: ReadonlyMap<Binding, Value> = NO_LOOP;
  /** `x.compile(...)` calls by the variable (or `this.x` in a class) they are made on; built on first use. */
  private compileIndex: CompileIndex | undefined;
  private sites: readonly ModelSite[] = [];

  constructor(
    private readonly positions: PositionIndex,
    private readonly root: Node,
    private readonly fileName: string,
    private readonly context: LoadContext = {},
  ) {
    this.collectImports();
    this.collectBindings();
  }

  load(): LoadResult {
    const syntaxError = firstSyntaxError(this.root);
    if (syntaxError) {
      const start = this.positions.position(syntaxError.startIndex);
      this.problems.push({
        code: 'parse-error',
        message: `Syntax error near line ${start.line}, column ${start.column}: ${syntaxError.isMissing ? `missing \`${syntaxError.type}\`` : `unexpected \`${shorten(syntaxError.text) || 'end of input'}\``}.`,
        span: this.span(syntaxError),
      });
    }
    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    const sites = this.findSites();
    this.sites = sites;
    if (sites.length > MAX_MODELS_PER_FILE) {
      const extra = sites[MAX_MODELS_PER_FILE];
      const at = this.span(extra.spanNode);
      this.problems.push({
        code: 'parse-error',
        message: `The file defines ${formatCount(sites.length)} models, more than the ${formatCount(MAX_MODELS_PER_FILE)} per file Activation Lens reads; the models from line ${at.start.line}, column ${at.start.column} on are not read.`,
        span: at,
      });
      sites.length = MAX_MODELS_PER_FILE;
    }
    for (const site of sites) {
      const count = usedNames.get(site.name) ?? 0;
      usedNames.set(site.name, count + 1);
      const name = count === 0 ? site.name : `${site.name}_${count + 1}`;
      try {
        models.push(this.buildModel(site, name));
      } catch (error) {
        if (!(error instanceof Unsound)) throw error;
        this.problems.push({ code: error.code, message: `Model \`${name}\` cannot be diagnosed: ${error.message}`, span: this.span(error.node) });
      }
    }
    if (models.length === 0 && this.problems.length === 0) {
      this.problems.push({
        code: 'parse-error',
        message:
          'No TensorFlow.js model found. Activation Lens reads `tf.sequential({layers: [...]})`, `tf.sequential()` + `model.add(...)` and functional `tf.model({inputs, outputs})` chains built with `layer.apply(tensor)`.',
        span: this.positions.span(0, 0),
      });
    }
    return { format: 'tfjs-source', models, problems: this.problems };
  }

  span(node: Node): SourceSpan {
    return this.positions.span(node.startIndex, node.endIndex);
  }

  /**
   * The shape standing in for one the file leaves to run time: an `activation-lens: input_shape=`
   * comment inside the statement of an anchor (the model's creation, its first layer) or on the
   * comment lines directly above it or a statement enclosing it (where the Quick Fix writes it),
   * else the shape of the data the user chose.
   */
  standInShape(anchors: readonly Node[]): { shape: number[]; source: string } | undefined {
    const text = this.root.text;
    for (const anchor of anchors) {
      const statements = enclosingStatements(anchor);
      const own = statements[0];
      if (own) {
        for (const match of text.slice(own.startIndex, own.endIndex).matchAll(SHAPE_COMMENT)) {
          const shape = parseInputShapeComment(text.slice(own.startIndex + match.index + match[0].length));
          if (shape) return { shape, source: `the \`activation-lens: input_shape=\` comment at line ${this.positions.position(own.startIndex + match.index).line}` };
        }
      }
      for (const statement of statements) {
        const above = commentShapeAbove(text, statement.startIndex);
        if (above) return { shape: above.shape, source: `the \`activation-lens: input_shape=\` comment at line ${this.positions.position(above.offset).line}` };
      }
    }
    const chosen = this.context.inputShape;
    if (chosen && chosen.length > 0 && chosen.every((d) => Number.isInteger(d) && d > 0)) return { shape: [...chosen], source: 'the chosen data' };
    return undefined;
  }

  private lineOf(node: Node): number {
    return this.positions.position(node.startIndex).line;
  }

  // #region Imports

  /**
   * ES imports, `require(...)` / `import(...)`, and names taken from the TF.js namespace after
   * the fact (`const { layers } = tf;`, `const L = tf.layers;`), in file order so that an alias
   * of an alias resolves.
   */
  private collectImports(): void {
    for (const statement of this.root.descendantsOfType('import_statement')) {
      const source = statement?.childForFieldName('source');
      const module = source ? stringContent(source) : undefined;
      if (!statement || !module) continue;
      for (const clause of statement.namedChildren) {
        if (clause?.type !== 'import_clause') continue;
        for (const part of clause.namedChildren) {
          if (!part) continue;
          if (part.type === 'identifier') this.imports.set(part.text, [module]);
          else if (part.type === 'namespace_import') {
            const local = part.namedChildren.find((c) => c?.type === 'identifier');
            if (local) this.imports.set(local.text, [module]);
          } else if (part.type === 'named_imports') {
            for (const specifier of part.namedChildren) {
              if (specifier?.type !== 'import_specifier') continue;
              const name = specifier.childForFieldName('name')?.text;
              const alias = specifier.childForFieldName('alias')?.text;
              if (name) this.imports.set(alias ?? name, [module, name]);
            }
          }
        }
      }
    }
    for (const declarator of this.root.descendantsOfType('variable_declarator')) {
      if (!declarator) continue;
      const nameNode = declarator.childForFieldName('name');
      const value = declarator.childForFieldName('value');
      const path = value ? this.modulePath(value) : undefined;
      // Only module references are aliases: `const model = tf.sequential()` is a value.
      if (!nameNode || !path) continue;
      if (nameNode.type === 'identifier') this.imports.set(nameNode.text, path);
      else if (nameNode.type === 'object_pattern') {
        for (const property of nameNode.namedChildren) {
          if (property?.type === 'shorthand_property_identifier_pattern') this.imports.set(property.text, [...path, property.text]);
          else if (property?.type === 'pair_pattern') {
            const key = property.childForFieldName('key')?.text;
            const local = property.childForFieldName('value');
            if (key && local?.type === 'identifier') this.imports.set(local.text, [...path, key]);
          }
        }
      }
    }
  }

  /**
   * The module path an expression stands for: `tf.layers` → ['@tensorflow/tfjs', 'layers'],
   * `require('@tensorflow/tfjs-node').layers` → ['@tensorflow/tfjs-node', 'layers'];
   * undefined for anything that is not a reference to a module (or for a module of no interest).
   */
  private modulePath(node: Node | null): string[] | undefined {
    let inner = unwrap(node);
    if (inner?.type === 'await_expression') inner = unwrap(inner.namedChildren[0] ?? null);
    if (!inner) return undefined;
    if (inner.type === 'identifier') {
      const imported = this.imports.get(inner.text);
      // Snippets (and <script> pages) use a global `tf` without importing it: accepted.
      return imported ?? (inner.text === 'tf' ? ['@tensorflow/tfjs'] : undefined);
    }
    if (inner.type === 'member_expression') {
      const head = this.modulePath(inner.childForFieldName('object'));
      const property = inner.childForFieldName('property');
      return head && property ? [...head, property.text] : undefined;
    }
    const required = this.requiredModule(inner);
    return required ? [required] : undefined;
  }

  /** `require('@tensorflow/tfjs')` or `import('@tensorflow/tfjs')` → the module name. */
  private requiredModule(node: Node): string | undefined {
    if (node.type !== 'call_expression') return undefined;
    const callee = node.childForFieldName('function');
    if (callee?.text !== 'require' && callee?.type !== 'import') return undefined;
    const argument = node.childForFieldName('arguments')?.namedChildren.find((c) => c?.type === 'string');
    return argument ? stringContent(argument) : undefined;
  }

  /** The module path a reference stands for, and whether it is TensorFlow.js. */
  private resolve(node: Node | null): { path: string[]; tfjs: boolean } | undefined {
    const path = this.modulePath(node) ?? dottedParts(node);
    if (!path) return undefined;
    return { path, tfjs: path[0].startsWith('@tensorflow/tfjs') };
  }

  // #endregion

  // #region Variables

  /**
   * Every declared variable with its scope, then every write to one (so that a variable assigned
   * more than once is never read as a constant).
   */
  private collectBindings(): void {
    for (const declarator of this.root.descendantsOfType('variable_declarator')) {
      const declaration = declarator?.parent;
      const nameNode = declarator?.childForFieldName('name');
      if (!declarator || !declaration || !nameNode) continue;
      const scope = declaration.type === 'variable_declaration' ? functionScopeOf(declaration) : blockScopeOf(declaration);
      if (nameNode.type === 'identifier') {
        this.declare({ name: nameNode.text, scope, declaration: declarator, value: declarator.childForFieldName('value'), writes: [] });
      } else {
        // `const { units } = config`: not followed, but it shadows outer variables of the same name.
        for (const name of patternNames(nameNode)) {
          this.declare({ name: name.text, scope, declaration: declarator, value: null, opaque: `\`${name.text}\` is destructured from \`${shorten(declarator.childForFieldName('value')?.text ?? '')}\``, writes: [] });
        }
      }
    }
    for (const kind of FUNCTION_SCOPES) {
      for (const fn of this.root.descendantsOfType(kind)) {
        if (!fn) continue;
        const parameters = fn.childForFieldName('parameters') ?? fn.childForFieldName('parameter');
        if (!parameters) continue;
        const owner = fn.childForFieldName('name')?.text ?? ancestorFunctionName(fn);
        for (const name of patternNames(parameters)) {
          this.declare({ name: name.text, scope: fn, declaration: name, value: null, opaque: `\`${name.text}\` is a parameter${owner ? ` of \`${owner}\`` : ''}`, writes: [] });
        }
      }
    }
    for (const loop of this.root.descendantsOfType('for_in_statement')) {
      const left = loop?.childForFieldName('left');
      if (!loop || !left) continue;
      // `for (const x of …)` declares x; `for (x of …)` writes an existing x.
      const declares = !!loop.childForFieldName('kind');
      for (const name of patternNames(left)) {
        if (declares) this.declare({ name: name.text, scope: loop, declaration: name, value: null, opaque: `\`${name.text}\` is a loop variable`, writes: [] });
        else this.recordWrite(name, { node: loop, how: 'assigned again' });
      }
    }
    // `var x = 1; var x = 2;` in one scope is one variable written twice: the declarations of a
    // name in one scope share one list of writes, holding each declaration once (linear, where a
    // list per declaration of every other one was quadratic: 30,000 `const x = 1;` took 4 GB).
    for (const list of this.bindings.values()) {
      const byScope = new Map<number, Binding[]>();
      for (const binding of list) {
        const group = byScope.get(binding.scope.id);
        if (group) group.push(binding);
        else byScope.set(binding.scope.id, [binding]);
      }
      for (const group of byScope.values()) {
        if (group.length < 2) continue;
        const shared: Write[] = group.map((binding): Write => ({ node: binding.declaration, how: 'declared again' }));
        for (const binding of group) (binding as { writes: Write[] }).writes = shared;
      }
    }
    this.collectWrites();
  }

  private declare(binding: Binding): void {
    if (++this.declarations > MAX_DECLARATIONS) {
      throw new LimitReached(`${this.fileName} declares more than ${formatCount(MAX_DECLARATIONS)} variables and parameters, more than Activation Lens reads statically`, binding.declaration);
    }
    const list = this.bindings.get(binding.name) ?? [];
    list.push(binding);
    this.bindings.set(binding.name, list);
    this.scopeIndexes.delete(binding.name);
  }

  private collectWrites(): void {
    for (const type of ['assignment_expression', 'augmented_assignment_expression']) {
      for (const assignment of this.root.descendantsOfType(type)) {
        const left = unwrap(assignment?.childForFieldName('left') ?? null);
        if (!assignment || !left) continue;
        if (left.type === 'identifier') this.recordWrite(left, { node: assignment, how: 'assigned again' });
        else if (left.type === 'object_pattern' || left.type === 'array_pattern') for (const name of patternNames(left)) this.recordWrite(name, { node: assignment, how: 'assigned again' });
        else this.recordMutation(left, assignment);
      }
    }
    for (const update of this.root.descendantsOfType('update_expression')) {
      const argument = unwrap(update?.childForFieldName('argument') ?? null);
      if (!update || !argument) continue;
      if (argument.type === 'identifier') this.recordWrite(argument, { node: update, how: 'assigned again' });
      else this.recordMutation(argument, update);
    }
    for (const unary of this.root.descendantsOfType('unary_expression')) {
      if (unary?.childForFieldName('operator')?.text === 'delete') this.recordMutation(unary.childForFieldName('argument'), unary);
    }
    for (const call of this.root.descendantsOfType('call_expression')) {
      const callee = unwrap(call?.childForFieldName('function') ?? null);
      if (!call || callee?.type !== 'member_expression') continue;
      const method = callee.childForFieldName('property')?.text ?? '';
      if (MUTATING_METHODS.has(method)) this.recordMutation(callee.childForFieldName('object'), call);
      else if (callee.text === 'Object.assign' || callee.text === 'Object.defineProperty') this.recordMutation(meaningfulChildren(call.childForFieldName('arguments'))[0] ?? null, call);
    }
  }

  /** A write to the variable `name` refers to at that position. */
  private recordWrite(name: Node, write: Write): void {
    this.bindingAt(name.text, name)?.writes.push(write);
  }

  /** `config.units = 8`, `sizes[0]++`, `sizes.push(8)`: a write to the root variable. */
  private recordMutation(target: Node | null, write: Node): void {
    let root = unwrap(target);
    while (root && (root.type === 'member_expression' || root.type === 'subscript_expression')) root = unwrap(root.childForFieldName('object'));
    if (root?.type === 'identifier') this.recordWrite(root, { node: write, how: 'changed' });
  }

  /** The variable `name` refers to at `use`: the innermost scope wins, as in JavaScript. */
  private bindingAt(name: string, use: Node): Binding | undefined {
    const list = this.bindings.get(name);
    if (!list) return undefined;
    let index = this.scopeIndexes.get(name);
    if (!index) {
      index = new ScopeIndex(list);
      this.scopeIndexes.set(name, index);
    }
    const sameScope = index.innermost(use.startIndex, use.endIndex);
    if (!sameScope) return undefined;
    // Before its declaration, a name can only be read by a function that runs later.
    return sameScope.lastDeclaredBy(use.startIndex) ?? sameScope.bindings[0];
  }

  /** Why a variable's value is not static, or undefined when it is a constant. */
  private notConstant(binding: Binding): string | undefined {
    if (binding.opaque) return `${binding.opaque}, so its value is only known at run time`;
    const write = binding.writes.find((w) => w.node.id !== binding.declaration.id);
    if (!write) return undefined;
    return `\`${binding.name}\` is ${write.how} at line ${this.lineOf(write.node)} (\`${shorten(write.node.text)}\`), so its value is only known at run time`;
  }

  // #endregion

  // #region Evaluation

  private evaluate(node: Node | null): Value {
    const inner = unwrap(node);
    if (!inner) return { kind: 'null' };
    if (this.depth > 60) return { kind: 'unknown', node: inner, reason: 'the expression is nested too deeply' };
    if (++this.evaluations > MAX_TFJS_EVALUATIONS) {
      throw new LimitReached(`${this.fileName} needs more than ${formatCount(MAX_TFJS_EVALUATIONS)} steps of static evaluation, more than Activation Lens spends on one file`, inner);
    }
    this.depth++;
    try {
      return this.evaluateNode(inner);
    } finally {
      this.depth--;
    }
  }

  private evaluateNode(node: Node): Value {
    switch (node.type) {
      case 'number': {
        const value = Number(node.text.split('_').join(''));
        return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'unknown', node, reason: `${shorten(node.text)} is not a finite number` };
      }
      case 'string':
        return { kind: 'string', value: stringContent(node) ?? '' };
      case 'template_string':
        return node.namedChildren.some((c) => c?.type === 'template_substitution')
          ? { kind: 'unknown', node, reason: 'the template string depends on run-time values' }
          : { kind: 'string', value: node.text.slice(1, -1) };
      case 'true':
        return { kind: 'bool', value: true };
      case 'false':
        return { kind: 'bool', value: false };
      case 'null':
      case 'undefined':
        return { kind: 'null' };
      case 'array': {
        const items: Value[] = [];
        for (const child of meaningfulChildren(node)) {
          if (child.type === 'spread_element') {
            const spread = this.evaluate(child.namedChildren[0] ?? null);
            if (spread.kind !== 'array') return spread.kind === 'unknown' ? spread : { kind: 'unknown', node: child, reason: `\`${shorten(child.text)}\` is not a known array` };
            items.push(...spread.items);
          } else items.push(this.evaluate(child));
          if (items.length > 10_000) return { kind: 'unknown', node, reason: 'the array is too long' };
        }
        return { kind: 'array', items };
      }
      case 'object':
        return this.evaluateObject(node);
      case 'unary_expression': {
        const operator = node.childForFieldName('operator')?.text;
        const value = this.evaluate(node.childForFieldName('argument'));
        if (value.kind === 'number' && (operator === '-' || operator === '+')) return { kind: 'number', value: operator === '-' ? -value.value : value.value };
        if (operator === 'void') return { kind: 'null' };
        return value.kind === 'unknown' ? value : { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` is not evaluated` };
      }
      case 'binary_expression': {
        const left = this.evaluate(node.childForFieldName('left'));
        const right = this.evaluate(node.childForFieldName('right'));
        const operator = node.childForFieldName('operator')?.text;
        if (left.kind === 'number' && right.kind === 'number') {
          const a = left.value;
          const b = right.value;
          const result = operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : operator === '/' ? a / b : operator === '**' ? a ** b : operator === '%' ? a % b : Number.NaN;
          if (Number.isFinite(result)) return { kind: 'number', value: result };
        }
        if (operator === '+' && left.kind === 'string' && right.kind === 'string') return { kind: 'string', value: left.value + right.value };
        // Comparisons of numbers or of strings (`j === 0 ? 'relu' : 'tanh'` in an unrolled loop).
        if ((left.kind === 'number' && right.kind === 'number') || (left.kind === 'string' && right.kind === 'string')) {
          const compared = compare(operator, left.value, right.value);
          if (compared !== undefined) return { kind: 'bool', value: compared };
        }
        // The operand that cannot be read explains (and locates) the problem better than the whole expression.
        if (left.kind === 'unknown') return left;
        if (right.kind === 'unknown') return right;
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` cannot be evaluated without running the code` };
      }
      case 'identifier':
      case 'shorthand_property_identifier': {
        if (node.text === 'undefined') return { kind: 'null' };
        const binding = this.bindingAt(node.text, node);
        if (!binding) return { kind: 'unknown', node, reason: `\`${node.text}\` is not a constant of this file` };
        const looped = this.loopValues.get(binding);
        if (looped) return looped;
        const notConstant = this.notConstant(binding);
        if (notConstant) return { kind: 'unknown', node, reason: notConstant };
        return this.evaluate(binding.value);
      }
      case 'member_expression':
      case 'subscript_expression':
        return this.evaluateMember(node);
      case 'call_expression':
        return { kind: 'call', node };
      case 'ternary_expression': {
        // `c ? a : b` on a constant condition is the branch JavaScript would take.
        const condition = this.evaluate(node.childForFieldName('condition'));
        const truth = truthiness(condition);
        if (truth === undefined) {
          const conditionNode = unwrap(node.childForFieldName('condition')) ?? node;
          const why = condition.kind === 'unknown' ? condition.reason : `the condition \`${shorten(conditionNode.text)}\` is only known at run time`;
          return { kind: 'unknown', node, reason: why };
        }
        return this.evaluate(node.childForFieldName(truth ? 'consequence' : 'alternative'));
      }
      case 'new_expression':
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` is only known at run time` };
      default:
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` cannot be evaluated without running the code` };
    }
  }

  /** An object literal; spreads of constant objects are merged in order, later keys winning as in JavaScript. */
  private evaluateObject(node: Node): Value {
    const entries = new Map<string, ObjectEntry>();
    for (const member of meaningfulChildren(node)) {
      if (member.type === 'spread_element') {
        const spread = this.evaluate(member.namedChildren[0] ?? null);
        if (spread.kind === 'null') continue;
        if (spread.kind !== 'object') {
          const why = spread.kind === 'unknown' ? spread.reason : `${describe(spread)} is not a constant object`;
          return { kind: 'unknown', node: member, reason: `in the spread \`${shorten(member.text)}\`, ${why}` };
        }
        for (const [key, entry] of spread.entries) entries.set(key, { ...entry, inherited: true });
        continue;
      }
      if (member.type === 'shorthand_property_identifier') {
        entries.set(member.text, { pair: member, value: member, inherited: false });
        continue;
      }
      const keyNode = member.childForFieldName(member.type === 'pair' ? 'key' : 'name');
      const value = member.type === 'pair' ? member.childForFieldName('value') : member;
      if (!keyNode || !value) continue;
      let key: string | undefined;
      if (keyNode.type === 'computed_property_name') {
        const computed = this.evaluate(keyNode.namedChildren[0] ?? null);
        if (computed.kind !== 'string' && computed.kind !== 'number') {
          return { kind: 'unknown', node: keyNode, reason: `the computed key \`${shorten(keyNode.text)}\` is only known at run time` };
        }
        key = String(computed.value);
      } else key = keyNode.type === 'string' ? stringContent(keyNode) : keyNode.text;
      if (key !== undefined) entries.set(key, { pair: member, value, inherited: false });
    }
    return { kind: 'object', node, entries };
  }

  /** `CONFIG.units`, `SIZES[0]`, `SIZES.length` on constants of the file. */
  private evaluateMember(node: Node): Value {
    const target = this.evaluate(node.childForFieldName('object'));
    // The whole expression is what the user sees; the reason is the part that cannot be read.
    if (target.kind === 'unknown') return { kind: 'unknown', node, reason: target.reason };
    let key: Value;
    if (node.type === 'member_expression') {
      const property = node.childForFieldName('property');
      key = { kind: 'string', value: property?.text ?? '' };
    } else key = this.evaluate(node.childForFieldName('index'));
    if (key.kind === 'unknown') return key;
    if (target.kind === 'object' && (key.kind === 'string' || key.kind === 'number')) {
      const entry = target.entries.get(String(key.value));
      if (entry) return this.evaluate(entry.value);
    }
    if (target.kind === 'array') {
      if (key.kind === 'string' && key.value === 'length') return { kind: 'number', value: target.items.length };
      const index = key.kind === 'number' ? key.value : key.kind === 'string' ? Number(key.value) : Number.NaN;
      const item = Number.isInteger(index) ? target.items[index] : undefined;
      if (item) return item;
    }
    return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` cannot be evaluated without running the code` };
  }

  // #endregion

  // #region Models

  private findSites(): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const call of this.root.descendantsOfType('call_expression')) {
      if (!call) continue;
      const resolved = this.resolve(call.childForFieldName('function'));
      if (!resolved?.tfjs) continue;
      const factory = resolved.path[resolved.path.length - 1];
      if (factory === 'sequential') sites.push(this.describeSite(call));
      // `tf.model(...)`, not `tf.something.model(...)`.
      else if (factory === 'model' && resolved.path.length === 2) {
        const described = this.describeSite(call);
        sites.push({ call, name: described.name, spanNode: call, functional: true, owner: described.owner });
      }
    }
    return sites;
  }

  private describeSite(call: Node): ModelSite {
    let parent = call.parent;
    while (parent && (TRANSPARENT_WRAPPERS.has(parent.type) || (parent.type === 'member_expression' && misparsedCast(parent)))) parent = parent.parent;
    let target: string | undefined;
    let statement: Node | null | undefined;
    let binding: Binding | undefined;
    if (parent?.type === 'variable_declarator' && parent.childForFieldName('name')?.type === 'identifier') {
      target = parent.childForFieldName('name')?.text;
      statement = parent.parent;
      const declarator = parent;
      binding = target !== undefined ? this.bindings.get(target)?.find((b) => b.declaration.id === declarator.id) : undefined;
    } else if (parent?.type === 'assignment_expression') {
      target = dottedParts(parent.childForFieldName('left'))?.join('.');
      statement = parent.parent;
      const left = unwrap(parent.childForFieldName('left'));
      if (left?.type === 'identifier') binding = this.bindingAt(left.text, left);
    } else if (parent?.type === 'public_field_definition' || parent?.type === 'field_definition') {
      // `class A { model = tf.sequential(); }`: layers can only be added from methods.
      const property = parent.childForFieldName('name') ?? parent.childForFieldName('property');
      if (property) target = `this.${property.text}`;
    }
    // `export const model = …`: the adds follow the export statement, in the module's block.
    if (statement?.parent?.type === 'export_statement') statement = statement.parent;
    const hasOptions = meaningfulChildren(call.childForFieldName('arguments')).length > 0;
    if (!target) {
      const fn = ancestorFunctionName(call);
      return { call, name: fn ?? 'sequential', spanNode: call };
    }
    const member = target.startsWith('this.') ? target.slice('this.'.length) : undefined;
    const classNode = member !== undefined ? enclosingClass(call) : undefined;
    const className = classNode?.childForFieldName('name')?.text;
    const classBody = classNode?.childForFieldName('body');
    const block = statement?.parent;
    const owner: SiteOwner | undefined = binding ? { kind: 'binding', binding } : classBody && member !== undefined ? { kind: 'member', target, classBody } : undefined;
    return {
      call,
      // `this.model` is named after its class, so that several classes' models stay apart.
      name: member === undefined ? target : className ? `${className}.${member}` : member,
      spanNode: hasOptions || !statement ? call : statement,
      addChain: statement && block ? { target, statement, block } : undefined,
      classMember: classBody && member !== undefined ? { target, classBody } : undefined,
      owner,
    };
  }

  private buildModel(site: ModelSite, name: string): ModelSpec {
    if (site.call.hasError) throw new Unsound('parse-error', 'its definition contains a syntax error.', site.call);
    const modelProblems: LoadProblem[] = [];
    const notes: LoadNote[] = [];
    let layerSites: LayerSite[] = [];
    // Where the file's own input shape is missing or known only at run time (`inputShape:
    // [numFeatures]`), the user's comment at the model, else the shape of the chosen data, stands in.
    const runTimeShape = (unknown: string, at: Node): number[] | undefined => {
      const anchors = [site.call, ...(layerSites[0] ? [layerSites[0].node] : [])];
      const stand = this.standInShape(anchors);
      if (!stand) return undefined;
      notes.push({ message: `${unknown}; ${formatShape(stand.shape)} from ${stand.source} is used.`, span: this.span(at) });
      return stand.shape;
    };
    const builder = new LayerBuilder(this, modelProblems, runTimeShape);
    if (site.functional) {
      const chain = this.traceFunctional(site.call, modelProblems, runTimeShape);
      layerSites = chain.layers.map((node) => ({ node }));
      builder.inputShape = chain.inputShape;
    } else layerSites = this.sequentialLayers(site);

    const keptNodes: Node[] = [];
    for (const layer of layerSites) if (this.withLoopValues(layer.loop, () => builder.add(layer.node))) keptNodes.push(layer.node);
    if (builder.layers.length === 0) throw new Unsound('parse-error', 'it has no layers that can be read statically.', site.spanNode);
    builder.inputShape ??= runTimeShape(`The first layer of \`${name}\` states no input shape`, site.spanNode);
    if (!builder.inputShape) {
      throw new Unsound('parse-error', `its input shape is unknown. Add \`inputShape: [...]\` (or \`batchInputShape\`) to the first layer, ${INPUT_SHAPE_HINT}.`, site.spanNode);
    }
    const error = shapeError(builder.inputShape, builder.layers);
    if (error) throw new Unsound('parse-error', error.message, keptNodes[error.index] ?? site.spanNode);
    const training = this.trainingOf(site, name, notes);
    return {
      name,
      format: 'tfjs-source',
      inputShape: builder.inputShape,
      layers: builder.layers,
      span: this.span(site.spanNode),
      problems: modelProblems,
      ...(notes.length > 0 ? { notes } : {}),
      ...(training ? { training } : {}),
    };
  }

  /** The layer calls of a sequential model: its `layers` option, then its `.add(...)` calls. */
  private sequentialLayers(site: ModelSite): LayerSite[] {
    const layerNodes: LayerSite[] = [];
    const { value: options, node: optionsNode } = this.optionsOf(site.call);
    if (options.kind === 'object') {
      const layersEntry = options.entries.get('layers');
      if (layersEntry) {
        // A literal list longer than the layer limit is refused before its items are evaluated.
        const literal = unwrap(layersEntry.value);
        const written = literal?.type === 'array' ? meaningfulChildren(literal) : [];
        if (written.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(written.length), written[MAX_LAYERS]);
        const list = this.evaluate(layersEntry.value);
        if (list.kind !== 'array') throw notStatic('its `layers`', list, layersEntry.value);
        for (const item of list.items) layerNodes.push({ node: this.asLayerCall(item, layersEntry.value) });
      }
    } else if (options.kind !== 'null') {
      throw notStatic('the options of `sequential`', options, optionsNode ?? site.call);
    }
    if (site.addChain) layerNodes.push(...this.collectAdds(site.addChain, layerNodes.length));
    if (site.classMember) this.refuseAddsElsewhere(site.classMember, site.addChain?.block);
    if (layerNodes.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(layerNodes.length), layerNodes[MAX_LAYERS].node);
    return layerNodes;
  }

  asLayerCall(item: Value, fallback: Node): Node {
    if (item.kind === 'call') return item.node;
    throw new Unsound('parse-error', `a layer cannot be read statically: ${item.kind === 'unknown' ? item.reason : `${describe(item)} is not a layer`}.`, item.kind === 'unknown' ? item.node : fallback);
  }

  /**
   * `<target>.add(layer)` statements after the declaration, in the same block, up to the first
   * reassignment of the target; `already` layers come from the `layers` option. Read from the
   * block's index (blockIndex), so a block of 10,000 models costs one pass, not one per model.
   */
  private collectAdds(chain: { target: string; statement: Node; block: Node }, already = 0): LayerSite[] {
    const index = this.blockIndex(chain.block);
    const entries = index.byTarget.get(chain.target) ?? [];
    const from = chain.statement.endIndex;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].statement.startIndex < from) lo = mid + 1;
      else hi = mid;
    }
    const nodes: LayerSite[] = [];
    for (let i = lo; i < entries.length; i++) {
      const entry = entries[i];
      // A broken `.add(...)` statement (tree-sitter recovers around it) would silently drop or
      // misread a layer: refuse the model, as the Python loaders do.
      if (entry.kind === 'error') throw new Unsound('parse-error', 'a layer added to it contains a syntax error.', entry.statement);
      if (entry.kind === 'assign') break;
      if (entry.kind === 'nested') {
        // A loop whose trip count is known statically is unrolled; anything else is refused.
        if (!this.isLoop(entry.statement)) throw new Unsound('parse-error', NESTED_ADD, entry.node);
        this.unroll(entry.statement, chain.target, NO_LOOP, already, nodes);
        continue;
      }
      if (!entry.argument) continue;
      if (already + nodes.length >= MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), entry.argument);
      nodes.push({ node: this.asLayerCall(this.evaluate(entry.argument), entry.argument) });
    }
    return nodes;
  }

  private withLoopValues<T>(values: ReadonlyMap<Binding, Value> | undefined, read: () => T): T {
    if (!values) return read();
    const before = this.loopValues;
    this.loopValues = values;
    try {
      return read();
    } finally {
      this.loopValues = before;
    }
  }

  /** `for (…)`, `for (… of …)` or `<array>.forEach(…)`: the statements unroll() may unroll. */
  private isLoop(statement: Node): boolean {
    return statement.type === 'for_statement' || statement.type === 'for_in_statement' || this.forEachCall(statement) !== undefined;
  }

  private forEachCall(statement: Node): Node | undefined {
    const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : null;
    if (expression?.type !== 'call_expression') return undefined;
    const callee = unwrap(expression.childForFieldName('function'));
    return callee?.type === 'member_expression' && callee.childForFieldName('property')?.text === 'forEach' ? expression : undefined;
  }

  /**
   * Unrolls a loop adding layers to `target` whose iterations are known statically: its layers,
   * each with the values of the loop variables (`outer` holds those of enclosing loops), are
   * appended to `into`. Each iteration costs one step of the file's evaluation budget, so a loop
   * too long to unroll is refused before it runs; `already` layers precede the loop.
   */
  private unroll(statement: Node, target: string, outer: ReadonlyMap<Binding, Value>, already: number, into: LayerSite[]): void {
    const firstAdd = this.firstAddOn(statement, target) ?? statement;
    const loop = this.withLoopValues(outer, () => this.staticLoop(statement));
    if (!loop) throw new Unsound('parse-error', NESTED_ADD, firstAdd);
    const jump = loop.body.flatMap((s) => [s, ...s.descendantsOfType(['break_statement', 'continue_statement', 'return_statement', 'labeled_statement'])]).find((s) => s && JUMPS.has(s.type));
    // `break`, `continue` or `return` decide at run time how many layers an iteration adds.
    if (jump) throw new Unsound('parse-error', NESTED_ADD, firstAdd);
    const trips = loop.trips;
    if (trips === Number.POSITIVE_INFINITY) throw new Unsound('parse-error', 'its layers are added in a loop whose condition never becomes false, so it cannot be unrolled.', loop.header);
    if (this.evaluations + trips > MAX_TFJS_EVALUATIONS) {
      throw new Unsound(
        'parse-error',
        `its layers are added in a loop that runs ${formatCount(trips)} times, more than the ${formatCount(MAX_TFJS_EVALUATIONS)} steps of static evaluation Activation Lens spends on one file, so the loop is not unrolled.`,
        loop.header,
      );
    }
    const direct = loop.body.filter((s) => this.directAdd(s, target) !== undefined).length;
    if (direct > 0 && already + into.length + trips * direct > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), firstAdd);
    this.evaluations += trips;
    for (const values of loop.iterations) {
      const env = new Map(outer);
      loop.variables.forEach((binding, k) => env.set(binding, values[k]));
      for (const inner of loop.body) {
        if (inner.hasError) throw new Unsound('parse-error', 'a layer added to it contains a syntax error.', inner);
        const add = this.directAdd(inner, target);
        if (add) {
          const argument = meaningfulChildren(add.childForFieldName('arguments'))[0];
          if (!argument) continue;
          if (already + into.length >= MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), argument);
          into.push({ node: this.withLoopValues(env, () => this.asLayerCall(this.evaluate(argument), argument)), loop: env });
          continue;
        }
        const reassigned = inner.descendantsOfType('assignment_expression').find((a) => a && dottedParts(a.childForFieldName('left'))?.join('.') === target);
        if (reassigned) throw new Unsound('parse-error', NESTED_ADD, reassigned);
        const nested = this.firstAddOn(inner, target);
        if (!nested) continue;
        if (!this.isLoop(inner)) throw new Unsound('parse-error', NESTED_ADD, nested);
        this.unroll(inner, target, env, already, into);
      }
    }
  }

  /** `<target>.add(x)` as a statement (or as the body of an arrow function), else undefined. */
  private directAdd(statement: Node, target: string): Node | undefined {
    const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : statement;
    return expression?.type === 'call_expression' && addTarget(expression) === target ? expression : undefined;
  }

  private firstAddOn(node: Node, target: string): Node | undefined {
    if (node.type === 'call_expression' && addTarget(node) === target) return node;
    return node.descendantsOfType('call_expression').find((call) => call && addTarget(call) === target) ?? undefined;
  }

  /**
   * The iterations of a loop known statically: `for (let i = a; i < b; i++)` (also `<=`, `>`,
   * `>=`, `--`, `+= k`, `-= k`), `for (const x of <constant array>)` and
   * `<constant array>.forEach((x, i) => …)`; the loop variables, their values per iteration, the
   * statements of the body, and the node holding the bound. Undefined for any other loop.
   */
  private staticLoop(statement: Node): StaticLoop | undefined {
    if (statement.type === 'for_statement') return this.countedLoop(statement);
    if (statement.type === 'for_in_statement') {
      const left = statement.childForFieldName('left');
      const right = statement.childForFieldName('right');
      const of = statement.children.some((c) => c?.type === 'of');
      if (!of || !statement.childForFieldName('kind') || left?.type !== 'identifier' || !right) return undefined;
      const binding = this.bindings.get(left.text)?.find((b) => b.declaration.id === left.id);
      const list = this.evaluate(right);
      if (!binding || binding.writes.length > 0 || list.kind !== 'array') return undefined;
      return { variables: [binding], trips: list.items.length, iterations: list.items.map((item) => [item]), body: bodyStatements(statement.childForFieldName('body')), header: right };
    }
    const call = this.forEachCall(statement);
    const callee = unwrap(call?.childForFieldName('function') ?? null);
    const args = meaningfulChildren(call?.childForFieldName('arguments'));
    const fn = unwrap(args[0] ?? null);
    if (!call || !callee || args.length !== 1 || !fn || (fn.type !== 'arrow_function' && fn.type !== 'function_expression' && fn.type !== 'function')) return undefined;
    if (fn.children.some((c) => c?.type === 'async') || fn.childForFieldName('name')) return undefined;
    const parameters = fn.childForFieldName('parameters') ?? fn.childForFieldName('parameter');
    const names = parameters ? (parameters.type === 'identifier' ? [parameters] : meaningfulChildren(parameters)) : [];
    if (names.length > 3 || names.some((n) => n.type !== 'identifier')) return undefined;
    const variables: Binding[] = [];
    for (const name of names) {
      const binding = this.bindings.get(name.text)?.find((b) => b.declaration.id === name.id);
      if (!binding || binding.writes.length > 0) return undefined;
      variables.push(binding);
    }
    const arrayNode = callee.childForFieldName('object');
    const list = this.evaluate(arrayNode);
    const body = fn.childForFieldName('body');
    if (list.kind !== 'array' || !body || !arrayNode) return undefined;
    return {
      variables,
      trips: list.items.length,
      iterations: list.items.map((item, index): Value[] => [item, { kind: 'number' as const, value: index }, list].slice(0, variables.length)),
      body: body.type === 'statement_block' ? bodyStatements(body) : [body],
      header: arrayNode,
    };
  }

  private countedLoop(statement: Node): StaticLoop | undefined {
    const initializer = statement.childForFieldName('initializer');
    const condition = unwrap(statement.childrenForFieldName('condition').find((c) => c?.isNamed && c.type !== 'empty_statement') ?? null);
    const increment = unwrap(statement.childForFieldName('increment'));
    if (!initializer || !condition || !increment) return undefined;
    if (initializer.type !== 'lexical_declaration' && initializer.type !== 'variable_declaration') return undefined;
    const declarators = meaningfulChildren(initializer).filter((c) => c.type === 'variable_declarator');
    const declarator = declarators[0];
    const nameNode = declarator?.childForFieldName('name');
    if (declarators.length !== 1 || nameNode?.type !== 'identifier') return undefined;
    const name = nameNode.text;
    const binding = this.bindings.get(name)?.find((b) => b.declaration.id === declarator.id);
    // Only the increment may change the loop variable.
    if (!binding || binding.writes.some((w) => w.node.id !== declarator.id && !contains(increment, w.node))) return undefined;
    const start = this.evaluate(declarator.childForFieldName('value'));
    let step: number | undefined;
    if (increment.type === 'update_expression' && unwrap(increment.childForFieldName('argument'))?.text === name) {
      step = increment.text.includes('++') ? 1 : -1;
    } else if (increment.type === 'augmented_assignment_expression' && unwrap(increment.childForFieldName('left'))?.text === name) {
      const operator = increment.childForFieldName('operator')?.text;
      const by = this.evaluate(increment.childForFieldName('right'));
      if (by.kind === 'number' && (operator === '+=' || operator === '-=')) step = operator === '+=' ? by.value : -by.value;
    }
    const operator = condition.type === 'binary_expression' ? condition.childForFieldName('operator')?.text : undefined;
    if (step === undefined || start.kind !== 'number' || !operator || !['<', '<=', '>', '>='].includes(operator)) return undefined;
    if (unwrap(condition.childForFieldName('left'))?.text !== name) return undefined;
    const boundNode = condition.childForFieldName('right');
    const bound = this.evaluate(boundNode);
    if (bound.kind !== 'number' || !boundNode) return undefined;
    const holds = (v: number): boolean => (operator === '<' ? v < bound.value : operator === '<=' ? v <= bound.value : operator === '>' ? v > bound.value : v >= bound.value);
    const upward = operator === '<' || operator === '<=';
    // The trip count, from the bound (so that a huge one is refused without running it).
    let trips = 0;
    if (holds(start.value)) {
      if (step === 0 || upward !== step > 0) trips = Number.POSITIVE_INFINITY;
      else {
        const span = (bound.value - start.value) / step;
        trips = Math.floor(span) + (operator === '<' || operator === '>' ? (Number.isInteger(span) ? 0 : 1) : 1);
      }
    }
    const header = condition;
    if (trips > MAX_TFJS_EVALUATIONS) return { variables: [binding], trips, iterations: [], body: [], header };
    const iterations: Value[][] = [];
    for (let v = start.value; holds(v) && iterations.length <= trips; v += step) iterations.push([{ kind: 'number', value: v }]);
    return { variables: [binding], trips: iterations.length, iterations, body: bodyStatements(statement.childForFieldName('body')), header };
  }

  /**
   * For each statement of a block, what it does to each `<target>` it adds layers to: one pass
   * over the block, cached. Per target, in statement order, the first of: a syntax error in a
   * statement mentioning `<target>.add`, an assignment to the target (which ends its chain of
   * adds), a direct `<target>.add(x)` statement, or an add nested inside another statement.
   */
  private blockIndex(block: Node): BlockIndex {
    const cached = this.blockIndexes.get(block.id);
    if (cached) return cached;
    const byTarget = new Map<string, BlockEntry[]>();
    for (const statement of block.namedChildren) {
      if (!statement) continue;
      const seen = new Set<string>();
      const record = (target: string, entry: BlockEntry): void => {
        if (seen.has(target)) return;
        seen.add(target);
        const list = byTarget.get(target);
        if (list) list.push(entry);
        else byTarget.set(target, [entry]);
      };
      if (statement.hasError) {
        for (const match of statement.text.matchAll(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?=\.add\b)/g)) {
          const parts = match[0].split('.');
          for (let k = 0; k < parts.length; k++) record(parts.slice(k).join('.'), { kind: 'error', statement, node: statement });
        }
      }
      const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : null;
      if (expression?.type === 'assignment_expression') {
        const left = dottedParts(expression.childForFieldName('left'))?.join('.');
        if (left !== undefined) record(left, { kind: 'assign', statement, node: expression });
      }
      let direct: string | undefined;
      if (expression?.type === 'call_expression') {
        direct = addTarget(expression);
        if (direct !== undefined) record(direct, { kind: 'add', statement, node: expression, argument: meaningfulChildren(expression.childForFieldName('arguments'))[0] });
      }
      if (!statement.text.includes('add')) continue;
      for (const call of statement.descendantsOfType('call_expression')) {
        if (!call || call.id === expression?.id) continue;
        const target = addTarget(call);
        if (target !== undefined && target !== direct) record(target, { kind: 'nested', statement, node: call });
      }
    }
    const index: BlockIndex = { byTarget };
    this.blockIndexes.set(block.id, index);
    return index;
  }

  /**
   * `this.model.add(...)` in another method than the one creating the model: which methods run,
   * and in which order, is only known at run time, so the model is refused rather than guessed.
   */
  private refuseAddsElsewhere(member: { target: string; classBody: Node }, creatingBlock: Node | undefined): void {
    for (const call of member.classBody.descendantsOfType('call_expression')) {
      if (!call || !this.isAddOn(call, member.target)) continue;
      // Adds in the creating block were collected (or refused when nested) by collectAdds.
      if (creatingBlock && contains(creatingBlock, call)) continue;
      if (this.createsModelBefore(call, member.target)) continue;
      const method = ancestorFunctionName(call);
      throw new Unsound(
        'parse-error',
        `layers are also added to \`${member.target}\` in ${method ? `\`${method}\`` : 'another method'}, apart from where the model is created; which methods run, and in what order, is only known at run time.`,
        call,
      );
    }
  }

  /** True when the block holding `call` first sets `<target> = tf.sequential(...)` itself (another model's site). */
  private createsModelBefore(call: Node, target: string): boolean {
    let block: Node | null = call.parent;
    while (block && block.type !== 'statement_block') block = block.parent;
    return (block?.namedChildren ?? []).some((statement) => {
      if (!statement || statement.startIndex >= call.startIndex || statement.type !== 'expression_statement') return false;
      const assignment = unwrap(statement.namedChildren[0] ?? null);
      if (assignment?.type !== 'assignment_expression' || dottedParts(assignment.childForFieldName('left'))?.join('.') !== target) return false;
      const value = unwrap(assignment.childForFieldName('right'));
      const resolved = value?.type === 'call_expression' ? this.resolve(value.childForFieldName('function')) : undefined;
      return !!resolved?.tfjs && resolved.path[resolved.path.length - 1] === 'sequential';
    });
  }

  private isAddOn(call: Node, target: string): boolean {
    const parts = dottedParts(call.childForFieldName('function'));
    return !!parts && parts.length >= 2 && parts[parts.length - 1] === 'add' && parts.slice(0, -1).join('.') === target;
  }

  // #endregion

  // #region Training set-up

  /** Every `<x>.compile(...)` of the file by what it is called on: one pass, each callee resolved once. */
  private compiles(): CompileIndex {
    if (this.compileIndex) return this.compileIndex;
    const byBinding = new Map<Binding, Node[]>();
    const byMember = new Map<string, Node[]>();
    const byCallee = new Map<string, Binding[]>();
    for (const call of this.root.descendantsOfType('call_expression')) {
      const callee = unwrap(call?.childForFieldName('function') ?? null);
      if (call && callee?.type === 'identifier') {
        let parent = call.parent;
        while (parent && (TRANSPARENT_WRAPPERS.has(parent.type) || parent.type === 'await_expression')) parent = parent.parent;
        const nameNode = parent?.type === 'variable_declarator' ? parent.childForFieldName('name') : null;
        const declarator = parent;
        const binding = nameNode?.type === 'identifier' ? this.bindings.get(nameNode.text)?.find((b) => b.declaration.id === declarator?.id) : undefined;
        if (binding) push(byCallee, callee.text, binding);
      }
      if (!call || callee?.type !== 'member_expression' || callee.childForFieldName('property')?.text !== 'compile') continue;
      const object = unwrap(callee.childForFieldName('object'));
      if (object?.type === 'identifier') {
        const binding = this.bindingAt(object.text, object);
        if (binding) push(byBinding, binding, call);
      } else {
        const parts = dottedParts(object);
        if (parts?.length === 2 && parts[0] === 'this') push(byMember, parts[1], call);
      }
    }
    this.compileIndex = { byBinding, byMember, byCallee };
    return this.compileIndex;
  }

  /**
   * The `compile(...)` calls that configure this model: those on the variable (or `this.x` of
   * the class) it is bound to, after its creation when there are any, and before the next model
   * bound to the same variable.
   */
  private compileCallsOf(site: ModelSite): Node[] {
    const owner = site.owner;
    if (!owner) return [];
    const index = this.compiles();
    const sameOwner = (other: ModelSite): boolean =>
      owner.kind === 'binding'
        ? other.owner?.kind === 'binding' && other.owner.binding === owner.binding
        : other.owner?.kind === 'member' && other.owner.target === owner.target && other.owner.classBody.id === owner.classBody.id;
    let calls: readonly Node[] =
      owner.kind === 'binding' ? (index.byBinding.get(owner.binding) ?? []) : (index.byMember.get(owner.target.slice('this.'.length)) ?? []).filter((c) => contains(owner.classBody, c));
    if (calls.length === 0 && owner.kind === 'binding') {
      // `function createModel() { const model = …; return model; }` compiled by its caller: `const m = createModel(); m.compile(…)`.
      const fn = this.returningFunction(owner.binding);
      const callers = fn ? (index.byCallee.get(fn) ?? []) : [];
      if (callers.length === 1) return [...(index.byBinding.get(callers[0]) ?? [])];
    }
    const next = this.sites.filter((other) => other !== site && sameOwner(other) && other.call.startIndex > site.call.startIndex).map((other) => other.call.startIndex);
    const shared = next.length > 0 || this.sites.some((other) => other !== site && sameOwner(other) && other.call.startIndex < site.call.startIndex);
    if (shared) {
      const end = next.length > 0 ? Math.min(...next) : Number.POSITIVE_INFINITY;
      calls = calls.filter((c) => c.startIndex >= site.call.endIndex && c.startIndex < end);
    } else {
      const after = calls.filter((c) => c.startIndex >= site.call.endIndex);
      if (after.length > 0) calls = after;
    }
    return [...calls];
  }

  /** The name of the function whose `return <variable>;` hands this model's variable to its caller, if any. */
  private returningFunction(binding: Binding): string | undefined {
    const fn = binding.scope.type === 'statement_block' && binding.scope.parent && FUNCTION_SCOPES.has(binding.scope.parent.type) ? binding.scope.parent : binding.scope;
    if (!FUNCTION_SCOPES.has(fn.type)) return undefined;
    const name = fn.childForFieldName('name')?.text ?? ancestorFunctionName(fn);
    if (!name) return undefined;
    const returned = fn.descendantsOfType('return_statement').some((statement) => {
      const value = unwrap(statement?.namedChildren.find((c) => c?.type !== 'comment') ?? null);
      return value?.type === 'identifier' && value.text === binding.name && this.bindingAt(value.text, value) === binding;
    });
    return returned ? name : undefined;
  }

  /** The optimiser and loss of the model's `compile(...)`, when stated statically; what cannot be read is a note. */
  private trainingOf(site: ModelSite, name: string, notes: LoadNote[]): TrainingSetup | undefined {
    const calls = this.compileCallsOf(site);
    const call = calls[0];
    if (!call) return undefined;
    if (calls.length > 1) {
      notes.push({ message: `\`${name}\` is compiled more than once; the optimiser and loss of its first \`compile\` (line ${this.lineOf(call)}) are used.`, span: this.span(calls[1]) });
    }
    if (call.hasError) {
      notes.push({ message: `The \`compile\` call of \`${name}\` contains a syntax error; its optimiser and loss are not read.`, span: this.span(call) });
      return undefined;
    }
    const { value: options, node } = this.optionsOf(call);
    if (options.kind !== 'object') {
      const why = options.kind === 'unknown' ? options.reason : options.kind === 'null' ? 'it has no options' : `${describe(options)} is not an options object`;
      notes.push({ message: `The options of \`${shorten(call.text)}\` cannot be read statically (${why}); the default optimiser and loss are used.`, span: this.span(options.kind === 'unknown' ? options.node : (node ?? call)) });
      return undefined;
    }
    const optimizer = this.optimizerOf(options.entries.get('optimizer'), notes);
    const loss = this.lossOf(options.entries.get('loss'), notes);
    if (!optimizer && !loss) return undefined;
    return { ...(optimizer ? { optimizer } : {}), ...(loss ? { loss } : {}) };
  }

  /** The expression a use stands for, through constants of the file (`optimizer: OPTIMIZER`); imports are not followed. */
  private followConstant(node: Node): Node {
    let current = unwrap(node) ?? node;
    for (let hops = 0; hops < MAX_CONST_HOPS && current.type === 'identifier'; hops++) {
      if (++this.evaluations > MAX_TFJS_EVALUATIONS) {
        throw new LimitReached(`${this.fileName} needs more than ${formatCount(MAX_TFJS_EVALUATIONS)} steps of static evaluation, more than Activation Lens spends on one file`, current);
      }
      if (this.imports.has(current.text) || this.resolve(current)?.tfjs) break;
      const binding = this.bindingAt(current.text, current);
      if (!binding?.value || this.notConstant(binding)) break;
      current = unwrap(binding.value) ?? binding.value;
    }
    return current;
  }

  private optimizerOf(entry: ObjectEntry | undefined, notes: LoadNote[]): OptimizerSpec | undefined {
    if (!entry) return undefined;
    const node = this.followConstant(entry.value);
    const value = this.evaluate(node);
    const fallback = 'the default optimiser and learning rate are used';
    if (value.kind === 'null') return undefined;
    if (value.kind === 'string') {
      const name = TFJS_OPTIMIZER_NAMES.get(value.value);
      if (name) return { name, text: node.text, span: this.span(node) };
      notes.push({
        message: `The optimiser ${JSON.stringify(value.value)} is not a name TF.js accepts in \`compile\` (it takes 'sgd', 'adam', 'rmsprop', 'adadelta', 'adagrad' and 'adamax', or their class names); ${fallback}.`,
        span: this.span(node),
      });
      return undefined;
    }
    if (value.kind === 'call') return this.optimizerCall(value.node, notes);
    const why = value.kind === 'unknown' ? value.reason : `${describe(value)} is not an optimiser`;
    notes.push({ message: `The optimiser \`${shorten(node.text)}\` cannot be read statically (${why}); ${fallback}.`, span: this.span(value.kind === 'unknown' ? value.node : node) });
    return undefined;
  }

  /** `tf.train.adam(0.001)`, `tf.train.momentum(0.01, 0.9)`, …: the optimiser, its rate and momentum. */
  private optimizerCall(call: Node, notes: LoadNote[]): OptimizerSpec | undefined {
    const resolved = this.resolve(call.childForFieldName('function'));
    const path = resolved?.path ?? [];
    const factory = path[path.length - 1] ?? '';
    const known = resolved?.tfjs && path[path.length - 2] === 'train' ? TRAIN_FACTORIES.get(factory) : undefined;
    const shown = shorten(call.text);
    const fallback = 'the default optimiser and learning rate are used';
    if (!known) {
      notes.push({ message: `The optimiser \`${shown}\` is not one Activation Lens can run (tf.train.${[...TRAIN_FACTORIES.keys()].join(', tf.train.')}); ${fallback}.`, span: this.span(call) });
      return undefined;
    }
    const argumentsNode = call.childForFieldName('arguments');
    const args = meaningfulChildren(argumentsNode);
    if (args.some((a) => a.type === 'spread_element')) {
      notes.push({ message: `The arguments of \`${shown}\` are spread from a list, so they are only known at run time; ${fallback}.`, span: this.span(argumentsNode ?? call) });
      return undefined;
    }
    const numberAt = (index: number, what: string): { value?: number; failed?: true } => {
      const arg = args[index];
      if (!arg) return {};
      const value = this.evaluate(arg);
      if (value.kind === 'null') return {};
      if (value.kind === 'number') return { value: value.value };
      const why = value.kind === 'unknown' ? value.reason : `it is ${describe(value)}`;
      notes.push({ message: `The ${what} of \`${shown}\` must be a number known before running the code, but ${why}; ${fallback}.`, span: this.span(arg) });
      return { failed: true };
    };
    const rate = numberAt(0, 'learning rate');
    if (rate.failed) return undefined;
    if (rate.value === undefined && known.rate === 'required') {
      notes.push({ message: `\`${shown}\` has no learning rate, which \`tf.train.${factory}\` needs; ${fallback}.`, span: this.span(call) });
      return undefined;
    }
    let momentum: number | undefined;
    if (known.momentumAt !== undefined) {
      const read = numberAt(known.momentumAt, 'momentum');
      if (read.failed) return undefined;
      if (read.value === undefined && known.momentumRequired) {
        notes.push({ message: `\`${shown}\` has no momentum, which \`tf.train.${factory}\` needs; ${fallback}.`, span: this.span(call) });
        return undefined;
      }
      momentum = read.value;
    }
    if (known.flag) {
      const arg = args[known.flag.index];
      const flag = arg ? this.evaluate(arg) : undefined;
      if (arg && flag && flag.kind !== 'null' && !(flag.kind === 'bool' && !flag.value)) {
        const why = flag.kind === 'bool' ? `${known.flag.what} is not an optimiser Activation Lens can run` : `its ${known.flag.what} flag is only known at run time (${flag.kind === 'unknown' ? flag.reason : describe(flag)})`;
        notes.push({ message: `\`${shown}\`: ${why}; ${fallback}.`, span: this.span(arg) });
        return undefined;
      }
    }
    const rateNode = args[0] ? unwrap(args[0]) : null;
    const learningRate = rate.value ?? (typeof known.rate === 'number' ? known.rate : undefined);
    return {
      name: known.name,
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(momentum !== undefined ? { momentum } : {}),
      text: call.text,
      span: this.span(call),
      ...(argumentsNode ? { argumentsSpan: this.span(argumentsNode) } : {}),
      ...(rate.value !== undefined && rateNode?.type === 'number' ? { learningRateValueSpan: this.span(rateNode) } : {}),
    };
  }

  private lossOf(entry: ObjectEntry | undefined, notes: LoadNote[]): LossSpec | undefined {
    if (!entry) return undefined;
    const node = this.followConstant(entry.value);
    const fallback = 'the loss is chosen from the model\'s output layer';
    const shown = shorten(node.text);
    // `tf.losses.softmaxCrossEntropy`, `tf.metrics.categoricalCrossentropy`: a function of TF.js.
    if (node.type === 'member_expression' || node.type === 'identifier') {
      const resolved = this.resolve(node);
      const namespace = resolved?.path[resolved.path.length - 2];
      if (resolved?.tfjs && (namespace === 'losses' || namespace === 'metrics')) {
        const fn = resolved.path[resolved.path.length - 1];
        const known = (namespace === 'losses' ? TF_LOSS_FUNCTIONS : TF_METRIC_FUNCTIONS).get(fn);
        if (known) return { ...known, text: node.text, span: this.span(node) };
        notes.push({ message: `The loss \`tf.${namespace}.${fn}\` is not one Activation Lens models (cross-entropies, mean squared or absolute error, Huber); ${fallback}.`, span: this.span(node) });
        return undefined;
      }
    }
    const value = this.evaluate(node);
    if (value.kind === 'null') return undefined;
    if (value.kind === 'string') {
      const known = TFJS_LOSS_NAMES.get(value.value);
      if (known) return { ...known, text: node.text, span: this.span(node) };
      const message = TFJS_OTHER_LOSS_NAMES.has(value.value)
        ? `The loss ${JSON.stringify(value.value)} is not one Activation Lens models (cross-entropies, mean squared or absolute error, Huber); ${fallback}.`
        : `The loss ${JSON.stringify(value.value)} is not a name TF.js accepts in \`compile\` (tfjs-layers throws \`Unknown loss ${value.value}\`; its names are camelCase, e.g. 'meanSquaredError', 'categoricalCrossentropy'); ${fallback}.`;
      notes.push({ message, span: this.span(node) });
      return undefined;
    }
    let why: string;
    if (node.type === 'arrow_function' || node.type === 'function_expression' || node.type === 'function') why = 'it is a custom loss function';
    else if (value.kind === 'array' || value.kind === 'object') why = 'it gives a loss per output, and only single-output models are diagnosed';
    else if (value.kind === 'call') why = 'it is a call, whose result is only known at run time';
    else if (value.kind === 'unknown') why = value.reason;
    else why = `${describe(value)} is not a loss`;
    notes.push({ message: `The loss \`${shown}\` cannot be read statically (${why}); ${fallback}.`, span: this.span(node) });
    return undefined;
  }

  // #endregion

  // #region Functional models

  /**
   * Follows `outputs` of `tf.model({inputs, outputs})` back to `tf.input(...)` through
   * `layer.apply(tensor)` calls, and returns the layers in order with the input's shape: the
   * same IR as the equivalent sequential model. Anything but a single chain is refused.
   */
  private traceFunctional(modelCall: Node, problems: LoadProblem[], runTimeShape: RunTimeShape): { layers: Node[]; inputShape: number[] } {
    const { value: config, node: configNode } = this.optionsOf(modelCall);
    if (config.kind !== 'object') throw notStatic('the configuration of `tf.model`', config, configNode ?? modelCall);
    const inputsEntry = config.entries.get('inputs');
    const outputsEntry = config.entries.get('outputs');
    if (!inputsEntry || !outputsEntry) throw new Unsound('parse-error', '`tf.model(...)` needs both `inputs` and `outputs`.', modelCall);

    const layers: Node[] = [];
    const seen = new Set<number>();
    let current = singleTensor(outputsEntry.value, 'outputs');
    let inputCall: Node | undefined;
    for (let steps = 0; !inputCall; steps++) {
      if (steps > MAX_CHAIN) throw new Unsound('parse-error', 'its chain of layers is too long to follow.', modelCall);
      // Followed from the output back: the layer over the limit is the one `outputs` ends with
      // minus MAX_LAYERS, the place where the limit was hit.
      if (layers.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), layers[layers.length - 1]);
      if (current.type === 'identifier') {
        current = this.tensorValue(current);
        continue;
      }
      if (current.type === 'array') {
        throw new Unsound('unsupported-layer', `\`${shorten(current.text)}\` is a list of tensors; only single-input, single-output chains of layers can be diagnosed.`, current);
      }
      const callee = current.type === 'call_expression' ? unwrap(current.childForFieldName('function')) : null;
      const resolved = this.resolve(callee);
      if (resolved?.tfjs && resolved.path[resolved.path.length - 1] === 'input') {
        inputCall = current;
        break;
      }
      if (callee?.type !== 'member_expression' || callee.childForFieldName('property')?.text !== 'apply') {
        throw new Unsound('parse-error', `\`${shorten(current.text)}\` is not a layer applied to a tensor (\`layer.apply(x)\`) nor \`tf.input(...)\`, so the chain of layers cannot be followed.`, current);
      }
      const layerCall = this.layerInstance(callee.childForFieldName('object'), callee);
      const factory = this.factoryOf(layerCall);
      if (factory?.tfjs && MERGE_LAYERS.has(factory.name)) {
        throw new Unsound('unsupported-layer', `\`${factory.name}\` merges branches of the graph; only single chains of layers can be diagnosed, so the model is not diagnosed.`, layerCall);
      }
      if (seen.has(layerCall.id)) {
        throw new Unsound('unsupported-layer', `the layer \`${shorten(layerCall.text)}\` is applied more than once (its weights are shared); only chains of distinct layers can be diagnosed.`, current);
      }
      seen.add(layerCall.id);
      layers.push(layerCall);
      const applied = meaningfulChildren(current.childForFieldName('arguments'))[0];
      if (!applied) throw new Unsound('parse-error', `the layer \`${shorten(layerCall.text)}\` is applied to no tensor.`, current);
      const appliedInner = unwrap(applied) ?? applied;
      if (appliedInner.type === 'array' && meaningfulChildren(appliedInner).length !== 1) {
        throw new Unsound('unsupported-layer', `\`${shorten(layerCall.text)}\` is applied to several tensors; only single chains of layers can be diagnosed.`, appliedInner);
      }
      current = singleTensor(appliedInner, 'inputs');
    }
    layers.reverse();

    let declared = singleTensor(inputsEntry.value, 'inputs');
    for (let steps = 0; declared.type === 'identifier' && steps < MAX_CHAIN; steps++) declared = this.tensorValue(declared);
    if (declared.id !== inputCall.id) throw new Unsound('parse-error', '`outputs` does not come from `inputs` through a chain of layers.', inputsEntry.value);

    const { value: inputOptions, node: inputOptionsNode } = this.optionsOf(inputCall);
    if (inputOptions.kind !== 'object') throw notStatic('the options of `tf.input`', inputOptions, inputOptionsNode ?? inputCall);
    const reader = new OptionReader(this, inputOptions, inputCall, problems);
    const inputShape = readInputShape(() => reader.inputShape('shape', 'batchShape'), runTimeShape) ??
      runTimeShape('`tf.input(...)` has no `shape` (or `batchShape`)', inputCall);
    if (!inputShape) throw new Unsound('parse-error', `\`tf.input(...)\` has no \`shape\` (or \`batchShape\`); add one, ${INPUT_SHAPE_HINT}.`, inputCall);
    return { layers, inputShape };
  }

  /** The layer call a `layer.apply(…)` is made on: the call itself or a constant holding it. */
  private layerInstance(node: Node | null, fallback: Node): Node {
    const inner = unwrap(node);
    if (inner?.type === 'call_expression') return inner;
    const value = this.evaluate(inner);
    if (value.kind === 'call') return value.node;
    throw new Unsound(
      'parse-error',
      `the layer \`${shorten(inner?.text ?? fallback.text)}\` cannot be read statically: ${value.kind === 'unknown' ? value.reason : `${describe(value)} is not a layer`}.`,
      inner ?? fallback,
    );
  }

  /**
   * The expression a tensor variable holds where it is used. A variable assigned several times
   * (`x = layer.apply(x)`) is followed only through plain assignments in the block of the use,
   * where the last one before the use is certainly the one that reaches it.
   */
  private tensorValue(use: Node): Node {
    const binding = this.bindingAt(use.text, use);
    if (!binding) throw new Unsound('parse-error', `the tensor \`${use.text}\` is not defined in this file, so the chain of layers cannot be followed.`, use);
    if (binding.opaque) throw new Unsound('parse-error', `${binding.opaque}, so the chain of layers cannot be followed.`, use);
    const assignments = [binding.declaration, ...binding.writes.filter((w) => w.how !== 'changed' && w.node.id !== binding.declaration.id).map((w) => w.node)].sort((a, b) => a.startIndex - b.startIndex);
    const last = assignments.filter((a) => a.endIndex <= use.startIndex).pop();
    if (!last) throw new Unsound('parse-error', `the tensor \`${use.text}\` has no value yet where it is used.`, use);
    const value = last.type === 'variable_declarator' ? last.childForFieldName('value') : last.type === 'assignment_expression' && last.childForFieldName('left')?.type === 'identifier' ? last.childForFieldName('right') : null;
    if (!value) throw new Unsound('parse-error', `the tensor \`${use.text}\` is set by \`${shorten(last.text)}\`, which cannot be followed.`, use);
    if (assignments.length > 1 && directBlockOf(last)?.id !== enclosingStatementBlock(use)?.id) {
      throw new Unsound('parse-error', `the tensor \`${use.text}\` is assigned more than once, and its assignment at line ${this.lineOf(last)} is not in the same block as its use, so which value reaches it is only known at run time.`, use);
    }
    return unwrap(value) ?? value;
  }

  // #endregion

  /** What a layer call constructs: the tfjs factory name (`dense`), when it is TF.js. */
  factoryOf(call: Node): { name: string; tfjs: boolean } | undefined {
    const resolved = this.resolve(call.childForFieldName('function'));
    if (!resolved) return undefined;
    return { name: resolved.path[resolved.path.length - 1], tfjs: resolved.tfjs };
  }

  optionsOf(call: Node): { value: Value; node: Node | undefined } {
    const node = meaningfulChildren(call.childForFieldName('arguments'))[0];
    return { value: node ? this.evaluate(node) : { kind: 'null' }, node };
  }

  evaluateAt(node: Node): Value {
    return this.evaluate(node);
  }
}

interface BlockEntry {
  readonly kind: 'error' | 'assign' | 'add' | 'nested';
  readonly statement: Node;
  readonly node: Node;
  /** For `add`: the layer expression passed to it. */
  readonly argument?: Node;
}

/** A layer call, with the values of loop variables in the iteration it was unrolled from. */
interface LayerSite {
  readonly node: Node;
  readonly loop?: ReadonlyMap<Binding, Value>;
}

const NO_LOOP: ReadonlyMap<Binding, Value> = new Map();

interface StaticLoop {
  readonly variables: readonly Binding[];
  /** How many times the loop runs (possibly more than `iterations` holds: then it is not unrolled). */
  readonly trips: number;
  /** Per iteration, the value of each variable. */
  readonly iterations: readonly (readonly Value[])[];
  readonly body: readonly Node[];
  /** Where the loop's bound (or array) is written. */
  readonly header: Node;
}

const JUMPS = new Set(['break_statement', 'continue_statement', 'return_statement', 'labeled_statement']);

function compare<T extends number | string>(operator: string | undefined, a: T, b: T): boolean | undefined {
  switch (operator) {
    case '===':
    case '==':
      return a === b;
    case '!==':
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return undefined;
  }
}

/** The statements of a loop's body: a block's, or the single statement. */
function bodyStatements(body: Node | null): Node[] {
  if (!body) return [];
  return body.type === 'statement_block' ? body.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') : [body];
}

interface BlockIndex {
  readonly byTarget: ReadonlyMap<string, readonly BlockEntry[]>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `model.add(x)` → 'model', `this.model.add(x)` → 'this.model'; undefined for other calls. */
function addTarget(call: Node): string | undefined {
  const parts = dottedParts(call.childForFieldName('function'));
  return parts && parts.length >= 2 && parts[parts.length - 1] === 'add' ? parts.slice(0, -1).join('.') : undefined;
}

/** A limit of limits.ts reached while reading the file: the whole file is refused at `node`. */
class LimitReached extends Error {
  constructor(
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

interface ScopeGroup {
  readonly start: number;
  readonly end: number;
  /** The innermost group whose scope contains this one's. */
  parent?: ScopeGroup;
  /** The bindings of the name in this scope, in the order they were declared. */
  readonly bindings: Binding[];
  /** Their declarations' end offsets, ascending, with the binding of each. */
  readonly byEnd: { end: number; binding: Binding }[];
  lastDeclaredBy(offset: number): Binding | undefined;
}

/**
 * The scopes declaring one name, sorted by start (outer first on ties). Scopes nest or are
 * disjoint, so the innermost scope containing a use is the last one starting at or before it, or
 * one of that scope's ancestors: a binary search and a walk of at most the nesting depth.
 */
class ScopeIndex {
  private readonly groups: ScopeGroup[] = [];

  constructor(bindings: readonly Binding[]) {
    const byId = new Map<number, ScopeGroup>();
    for (const binding of bindings) {
      let group = byId.get(binding.scope.id);
      if (!group) {
        const byEnd: { end: number; binding: Binding }[] = [];
        group = {
          start: binding.scope.startIndex,
          end: binding.scope.endIndex,
          bindings: [],
          byEnd,
          lastDeclaredBy(offset: number): Binding | undefined {
            let lo = 0;
            let hi = byEnd.length;
            while (lo < hi) {
              const mid = (lo + hi) >> 1;
              if (byEnd[mid].end <= offset) lo = mid + 1;
              else hi = mid;
            }
            return lo > 0 ? byEnd[lo - 1].binding : undefined;
          },
        };
        byId.set(binding.scope.id, group);
        this.groups.push(group);
      }
      group.bindings.push(binding);
      group.byEnd.push({ end: binding.declaration.endIndex, binding });
    }
    for (const group of this.groups) group.byEnd.sort((a, b) => a.end - b.end);
    this.groups.sort((a, b) => a.start - b.start || b.end - a.end);
    const open: ScopeGroup[] = [];
    for (const group of this.groups) {
      while (open.length > 0 && !(open[open.length - 1].start <= group.start && group.end <= open[open.length - 1].end)) open.pop();
      group.parent = open[open.length - 1];
      open.push(group);
    }
  }

  /** The innermost scope containing [start, end), or undefined. */
  innermost(start: number, end: number): ScopeGroup | undefined {
    let lo = 0;
    let hi = this.groups.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.groups[mid].start <= start) lo = mid + 1;
      else hi = mid;
    }
    for (let group: ScopeGroup | undefined = this.groups[lo - 1]; group; group = group.parent) {
      if (group.start <= start && end <= group.end) return group;
    }
    return undefined;
  }
}

/** JavaScript truthiness of a static value; undefined when it is only known at run time. */
function truthiness(value: Value): boolean | undefined {
  switch (value.kind) {
    case 'number':
      return value.value !== 0 && !Number.isNaN(value.value);
    case 'string':
      return value.value !== '';
    case 'bool':
      return value.value;
    case 'null':
      return false;
    case 'array':
    case 'object':
      return true;
    default:
      return undefined;
  }
}

/** A static value as it would be written in the source, for messages: `4`, `[4, 4]`, `'channelsFirst'`. */
function literal(value: Value): string {
  if (value.kind === 'string') return `'${value.value}'`;
  if (value.kind === 'array') return `[${value.items.map(literal).join(', ')}]`;
  return describe(value).replace(/^`|`$/g, '');
}

/** An Unsound error for a value that is not static: at the unreadable part when one is known. */
function notStatic(subject: string, value: Value, fallback: Node): Unsound {
  if (value.kind === 'unknown') return new Unsound('parse-error', `${subject} cannot be read statically: ${value.reason}.`, value.node);
  return new Unsound('parse-error', `${subject} (${describe(value)}) are only known at run time.`, fallback);
}

/** `[x]` → x; a single expression stays; several tensors are a graph the IR cannot hold. */
function singleTensor(node: Node, what: 'inputs' | 'outputs'): Node {
  const inner = unwrap(node) ?? node;
  if (inner.type !== 'array') return inner;
  const items = meaningfulChildren(inner);
  if (items.length === 1) return unwrap(items[0]) ?? items[0];
  throw new Unsound('unsupported-layer', `it has ${items.length} ${what}; only single-input, single-output chains of layers can be diagnosed.`, inner);
}

/** The block a declaration or assignment statement is a direct statement of. */
function directBlockOf(node: Node): Node | undefined {
  const statement = node.type === 'variable_declarator' ? node.parent : node.parent?.type === 'expression_statement' ? node.parent : undefined;
  const block = statement?.parent;
  return block && (block.type === 'statement_block' || block.type === 'program') ? block : undefined;
}

function enclosingStatementBlock(node: Node): Node | undefined {
  for (let current = node.parent; current; current = current.parent) if (current.type === 'statement_block' || current.type === 'program') return current;
  return undefined;
}

/** The statements holding `node`, innermost first (a statement is a child of a block, the program or a class body). */
function enclosingStatements(node: Node): Node[] {
  const found: Node[] = [];
  for (let current: Node | null = node; current?.parent; current = current.parent) {
    const parentType = current.parent.type;
    if (parentType === 'program' || parentType === 'statement_block' || parentType === 'class_body') found.push(current);
  }
  return found;
}

/** The shape of an input_shape comment on the comment lines directly above `offset`'s line, nearest first. */
function commentShapeAbove(text: string, offset: number): { shape: number[]; offset: number } | undefined {
  let lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  while (lineStart > 0) {
    const previousStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    const line = text.slice(previousStart, lineStart - 1);
    if (!/^\s*(\/\/|\/\*|\*)/.test(line)) return undefined;
    for (const match of line.matchAll(SHAPE_COMMENT)) {
      const shape = parseInputShapeComment(line.slice(match.index + match[0].length));
      if (shape) return { shape, offset: previousStart + match.index };
    }
    lineStart = previousStart;
  }
  return undefined;
}

function enclosingClass(node: Node): Node | undefined {
  for (let current = node.parent; current; current = current.parent) if (current.type === 'class_declaration' || current.type === 'class' || current.type === 'abstract_class_declaration') return current;
  return undefined;
}

class LayerBuilder {
  readonly layers: LayerSpec[] = [];
  inputShape: number[] | undefined;
  private readonly layerNames = new LayerNamer();

  constructor(
    private readonly loader: TfjsFileLoader,
    private readonly problems: LoadProblem[],
    private readonly runTimeShape: RunTimeShape,
  ) {}

  /** Adds one layer call; false when it was skipped (shape-preserving unknown layer). */
  add(call: Node): boolean {
    if (call.hasError) throw new Unsound('parse-error', 'a layer definition contains a syntax error.', call);
    const factory = this.loader.factoryOf(call);
    const known = factory?.tfjs ? FACTORIES.get(factory.name) : undefined;
    const callee = call.childForFieldName('function') ?? call;
    if (!known) {
      const what = factory?.name ?? shorten(call.text);
      if (factory?.tfjs && SHAPE_PRESERVING.has(factory.name)) {
        this.problems.push({
          code: 'unsupported-layer',
          message: `\`${what}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`,
          span: this.loader.span(call),
        });
        return false;
      }
      throw new Unsound('unsupported-layer', `\`${what}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`, callee);
    }
    const { value: options, node: optionsNode } = this.loader.optionsOf(call);
    if (options.kind !== 'object' && options.kind !== 'null') throw notStatic(`the options of \`${factory?.name}\``, options, optionsNode ?? call);
    const read = new OptionReader(this.loader, options.kind === 'object' ? options : undefined, call, this.problems);
    if (this.layers.length === 0 && !this.inputShape) this.inputShape = readInputShape(() => read.inputShape(), this.runTimeShape);
    const spec = this.build(known, read);
    const explicit = read.optionalString('name');
    this.layers.push({ index: this.layers.length, name: this.layerNames.next(explicit ?? known.autoName, explicit === undefined), ...spec, source: read.source() });
    return true;
  }

  private build(factory: Factory, read: OptionReader): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    switch (factory.kind) {
      case 'dense':
        return {
          kind: 'dense',
          units: read.positiveInteger('units'),
          activation: read.activation(),
          useBias: read.optionalBool('useBias') ?? true,
          kernelInitializer: read.initializer('kernelInitializer', 'glorotNormal'),
          biasInitializer: read.initializer('biasInitializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = factory.kind === 'conv1d' ? 1 : 2;
        read.requireChannelsLast();
        read.refuseUnlessDefault('dilationRate', allOnes, `dilation is not supported yet: Activation Lens builds \`${read.callee()}\` undilated, which would change what it computes and its output shape`);
        return {
          kind: factory.kind,
          filters: read.positiveInteger('filters'),
          kernelSize: read.tuple('kernelSize', rank, true) ?? [],
          strides: read.tuple('strides', rank, false) ?? new Array<number>(rank).fill(1),
          padding: read.padding(),
          activation: read.activation(),
          useBias: read.optionalBool('useBias') ?? true,
          kernelInitializer: read.initializer('kernelInitializer', 'glorotNormal'),
          biasInitializer: read.initializer('biasInitializer', 'zeros'),
        };
      }
      case 'maxPool1d':
      case 'maxPool2d':
      case 'avgPool1d':
      case 'avgPool2d': {
        const rank = factory.kind.endsWith('1d') ? 1 : 2;
        read.requireChannelsLast();
        const poolSize = read.tuple('poolSize', rank, false) ?? new Array<number>(rank).fill(2);
        return { kind: factory.kind, poolSize, strides: read.tuple('strides', rank, false) ?? poolSize, padding: read.padding(), activation: { name: 'linear' } };
      }
      case 'flatten':
        read.noteChannelsFirstFlatten();
        return { kind: factory.kind, activation: { name: 'linear' } };
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        read.requireChannelsLast();
        return { kind: factory.kind, activation: { name: 'linear' } };
      case 'dropout':
        return { kind: 'dropout', rate: read.optionalNumber('rate') ?? 0.5, activation: { name: 'linear' } };
      case 'batchNorm':
        return { kind: 'batchNorm', momentum: read.optionalNumber('momentum') ?? 0.99, epsilon: read.optionalNumber('epsilon') ?? 0.001, activation: { name: 'linear' } };
      case 'activation':
        switch (factory.variant) {
          case 'activation':
            return { kind: 'activation', activation: read.activation() };
          case 'leakyReLU':
            return { kind: 'activation', activation: { name: 'leakyRelu', alpha: read.optionalNumber('alpha') ?? 0.3 } };
          case 'elu':
            return { kind: 'activation', activation: { name: 'elu', alpha: read.optionalNumber('alpha') ?? 1 } };
          case 'reLU': {
            // `maxValue` caps the output: 6 is relu6; any other cap would compute something else.
            const capped = read.refuseUnlessDefault(
              'maxValue',
              (value) => (value.kind === 'null' || (value.kind === 'number' && value.value === 6) ? true : value.kind === 'number' ? false : undefined),
              'a ReLU capped at another value than 6 is not supported yet: Activation Lens would build it uncapped, which would change what it computes',
            );
            return { kind: 'activation', activation: capped?.kind === 'number' ? { name: 'relu6' } : { name: 'relu' } };
          }
          case 'prelu': {
            const initial = read.initializer('alphaInitializer', 'zeros');
            const alpha = initial.name === 'constant' ? (initial.value ?? 0) : initial.name === 'ones' ? 1 : 0;
            return { kind: 'activation', activation: { name: 'prelu', alpha } };
          }
          case 'softmax':
            return { kind: 'activation', activation: { name: 'softmax' } };
        }
    }
  }

}

/** Reads one layer's options object (`{units: 64, activation: 'relu'}`) and records spans. */
class OptionReader {
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: TfjsFileLoader,
    private readonly options: ObjectValue | undefined,
    private readonly call: Node,
    private readonly problems: LoadProblem[],
  ) {
    const callee = call.childForFieldName('function');
    const args = call.childForFieldName('arguments');
    this.spans = { span: loader.span(call), calleeSpan: callee ? loader.span(callee) : undefined, argumentsSpan: args ? loader.span(args) : undefined };
  }

  source(): LayerSource {
    return this.spans;
  }

  /** The layer factory as written, e.g. `tf.layers.conv2d`. */
  callee(): string {
    return shorten(this.call.childForFieldName('function')?.text ?? 'the layer');
  }

  note(node: Node | undefined, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node ?? this.call) });
  }

  private get(key: string): { value: Value; node: Node; pair: Node; inherited: boolean } | undefined {
    const entry = this.options?.entries.get(key);
    return entry ? { value: this.loader.evaluateAt(entry.value), node: entry.value, pair: entry.pair, inherited: entry.inherited } : undefined;
  }

  private unresolved(key: string, value: Value, expected: string): string {
    return `\`${key}\` must be ${expected} known before running the code, but ${value.kind === 'unknown' ? value.reason : `it is ${describe(value)}`}`;
  }

  /**
   * Refuses the model when an option the IR cannot represent has a non-default value
   * (`isDefault` false), or a value only known at run time (`isDefault` undefined), at the value.
   * Returns the value when it is accepted.
   */
  refuseUnlessDefault(key: string, isDefault: (value: Value) => boolean | undefined, unsupported: string): Value | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    const verdict = isDefault(entry.value);
    if (verdict === true) return entry.value;
    if (verdict === false) throw new Unsound('unsupported-layer', `\`${key}: ${literal(entry.value)}\`: ${unsupported}.`, entry.node);
    throw new Unsound('parse-error', `${this.unresolved(key, entry.value, 'its default')}, and a non-default value is not supported.`, entry.node);
  }

  /**
   * Convolution and pooling layers are built channels-last (the IR's and the builder's only
   * layout), so a channels-first layer would get the wrong shape: it is refused at the option.
   */
  requireChannelsLast(): void {
    const entry = this.get('dataFormat');
    if (!entry || entry.value.kind === 'null' || (entry.value.kind === 'string' && entry.value.value === 'channelsLast')) return;
    if (entry.value.kind === 'string' && entry.value.value === 'channelsFirst') {
      throw new Unsound(
        'unsupported-layer',
        `\`dataFormat: 'channelsFirst'\` is not supported yet; Activation Lens builds convolution and pooling layers channels-last (…, channels), so \`${this.callee()}\` would be built with the wrong shape. Use dataFormat: 'channelsLast' (the TF.js default) to diagnose this model.`,
        entry.node,
      );
    }
    throw new Unsound('parse-error', `${this.unresolved('dataFormat', entry.value, "'channelsLast' or 'channelsFirst'")}.`, entry.node);
  }

  /** Flatten only reorders its outputs when channels-first: the same values, so it is diagnosed as is. */
  noteChannelsFirstFlatten(): void {
    const entry = this.get('dataFormat');
    if (!entry || entry.value.kind === 'null' || (entry.value.kind === 'string' && entry.value.value === 'channelsLast')) return;
    this.note(entry.node, `\`dataFormat: ${literal(entry.value)}\` is not supported yet; \`${this.callee()}\` is diagnosed channels-last, which only changes the order of its outputs, not their values.`, 'unsupported-layer');
  }

  positiveInteger(key: string): number {
    const entry = this.get(key);
    if (!entry) throw new Unsound('parse-error', `\`${key}\` is missing.`, this.call);
    if (entry.value.kind !== 'number' || !Number.isInteger(entry.value.value) || entry.value.value <= 0) {
      throw new Unsound('parse-error', `${this.unresolved(key, entry.value, 'a positive integer')}.`, entry.node);
    }
    return entry.value.value;
  }

  tuple(key: string, rank: number, required: boolean): number[] | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') {
      if (required) throw new Unsound('parse-error', `\`${key}\` is missing.`, this.call);
      return undefined;
    }
    const items = entry.value.kind === 'number' ? new Array<Value>(rank).fill(entry.value) : entry.value.kind === 'array' ? entry.value.items : [];
    const numbers = items.map((v) => (v.kind === 'number' && Number.isInteger(v.value) && v.value > 0 ? v.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new Unsound('parse-error', `${this.unresolved(key, entry.value, rank === 1 ? 'a positive integer' : `${rank} positive integers`)}.`, entry.node);
    }
    return numbers as number[];
  }

  padding(): 'valid' | 'same' {
    const entry = this.get('padding');
    if (!entry) return 'valid';
    if (entry.value.kind === 'string' && (entry.value.value === 'valid' || entry.value.value === 'same')) return entry.value.value;
    throw new Unsound('parse-error', `${this.unresolved('padding', entry.value, "'valid' or 'same'")}.`, entry.node);
  }

  optionalNumber(key: string): number | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'number') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'a number')}; the TF.js default is used.`);
    return undefined;
  }

  optionalBool(key: string): boolean | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'bool') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'true or false')}; the TF.js default is used.`);
    return undefined;
  }

  optionalString(key: string): string | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'string') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'a string')}; an automatic name is used.`);
    return undefined;
  }

  /** The per-sample input shape from `inputShape` / `batchInputShape` / `inputDim` (`tf.input`: `shape` / `batchShape`). */
  inputShape(shapeKey = 'inputShape', batchKey = 'batchInputShape'): number[] | undefined {
    const shape = this.get(shapeKey) ?? this.get(batchKey);
    const withBatch = !this.options?.entries.has(shapeKey) && this.options?.entries.has(batchKey);
    if (shape) {
      const dims = shape.value.kind === 'array' ? shape.value.items : shape.value.kind === 'number' ? [shape.value] : undefined;
      if (!dims) throw new Unsound('parse-error', `${this.unresolved(withBatch ? batchKey : shapeKey, shape.value, 'an array of positive integers')}.`, shape.node);
      const perSample = withBatch ? dims.slice(1) : dims;
      const numbers = perSample.map((d) => (d.kind === 'number' && Number.isInteger(d.value) && d.value > 0 ? d.value : undefined));
      if (numbers.length === 0 || numbers.some((n) => n === undefined)) {
        throw new Unsound('parse-error', `the input shape \`${shorten(shape.node.text)}\` has a dimension that is not a fixed positive integer.`, shape.node);
      }
      return numbers as number[];
    }
    const inputDim = shapeKey === 'inputShape' ? this.get('inputDim') : undefined;
    if (inputDim?.value.kind === 'number' && Number.isInteger(inputDim.value.value) && inputDim.value.value > 0) return [inputDim.value.value];
    if (inputDim) throw new Unsound('parse-error', `${this.unresolved('inputDim', inputDim.value, 'a positive integer')}.`, inputDim.node);
    return undefined;
  }

  activation(): ActivationSpec {
    const entry = this.get('activation');
    if (!entry) return { name: 'linear' };
    // An inherited entry's text is shared (`{...common}`): a fix adds `activation` to this layer instead.
    if (!entry.inherited) {
      this.spans.activationArgumentSpan = this.loader.span(entry.pair);
      this.spans.activationValueSpan = this.loader.span(entry.node);
    }
    const value = entry.value;
    if (value.kind === 'null') return { name: 'linear' };
    if (value.kind === 'string') {
      const known = ACTIVATIONS.get(value.value.toLowerCase()) ?? ACTIVATIONS.get(value.value);
      if (known) return known;
      this.note(entry.node, `The activation name ${describe(value)} is unknown: it is not a TF.js activation; the layer is diagnosed as linear.`, 'unsupported-layer');
      return { name: 'linear' };
    }
    // A value only known at run time (a parameter, a condition, a call) may be any activation:
    // guessing one would diagnose a different network, so the model is refused, as for `units`.
    if (value.kind === 'unknown' || value.kind === 'call') {
      const why = value.kind === 'call' ? `\`${shorten(value.node.text)}\` is a call, so its result is only known at run time` : value.reason;
      throw new Unsound('parse-error', `\`activation\` must be an activation name known before running the code, but ${why}.`, entry.node);
    }
    this.note(entry.node, `The activation ${describe(value)} is not an activation name; the layer is diagnosed as linear.`, 'unsupported-layer');
    return { name: 'linear' };
  }

  initializer(key: 'kernelInitializer' | 'biasInitializer' | 'alphaInitializer', fallback: InitializerName): InitializerSpec {
    const entry = this.get(key);
    if (!entry) return withDefaults(fallback);
    if (entry.inherited) {
      // Shared text (`{...common}`): not recorded, so a fix overrides it in this layer's own options.
    } else if (key === 'kernelInitializer') {
      this.spans.kernelInitializerArgumentSpan = this.loader.span(entry.pair);
      this.spans.kernelInitializerValueSpan = this.loader.span(entry.node);
    } else if (key === 'biasInitializer') {
      this.spans.biasInitializerArgumentSpan = this.loader.span(entry.pair);
      this.spans.biasInitializerValueSpan = this.loader.span(entry.node);
    }
    const spec = this.initializerFrom(entry.value);
    if (spec) return spec;
    this.note(entry.node, `The initialiser \`${shorten(entry.node.text)}\` is not recognised; the TF.js default (${fallback}) is used.`, 'unsupported-layer');
    return withDefaults(fallback);
  }

  private initializerFrom(value: Value): InitializerSpec | undefined {
    if (value.kind === 'string') {
      const name = INITIALIZERS.get(value.value.toLowerCase().split('_').join(''));
      return name ? withDefaults(name) : undefined;
    }
    if (value.kind !== 'call') return undefined;
    const factory = this.loader.factoryOf(value.node);
    const name = factory?.tfjs ? INITIALIZERS.get(factory.name.toLowerCase()) : undefined;
    if (!name) return undefined;
    const options = this.loader.optionsOf(value.node).value;
    const nested = new OptionReader(this.loader, options.kind === 'object' ? options : undefined, value.node, this.problems);
    const defaults = withDefaults(name);
    switch (name) {
      case 'constant':
        return { name, value: nested.optionalNumber('value') ?? 0 };
      case 'randomNormal':
      case 'truncatedNormal':
        return { name, mean: nested.optionalNumber('mean') ?? 0, stddev: nested.optionalNumber('stddev') ?? defaults.stddev };
      case 'randomUniform':
        return { name, minval: nested.optionalNumber('minval') ?? -0.05, maxval: nested.optionalNumber('maxval') ?? 0.05 };
      case 'orthogonal':
      case 'identity':
        return { name, scale: nested.optionalNumber('gain') ?? 1 };
      case 'varianceScaling': {
        const mode = nested.optionalString('mode');
        const distribution = nested.optionalString('distribution');
        return {
          name,
          scale: nested.optionalNumber('scale') ?? 1,
          mode: mode === 'fanOut' || mode === 'fanAvg' ? mode : 'fanIn',
          distribution: distribution === 'uniform' ? 'uniform' : 'truncatedNormal',
        };
      }
      default:
        return defaults;
    }
  }
}

/** True when a number or array option is all ones (dilationRate's default); undefined when not static. */
function allOnes(value: Value): boolean | undefined {
  const items = value.kind === 'number' ? [value] : value.kind === 'array' ? value.items : undefined;
  if (!items || items.length === 0 || items.some((item) => item.kind !== 'number')) return undefined;
  return items.every((item) => item.kind === 'number' && item.value === 1);
}

function withDefaults(name: InitializerName): InitializerSpec {
  return { name, ...INITIALIZER_DEFAULTS[name] };
}

function stringContent(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  let text = '';
  for (const part of node.namedChildren) {
    if (part?.type === 'string_fragment') text += part.text;
    else if (part?.type === 'escape_sequence') text += part.text.length === 2 ? part.text.slice(1) : part.text;
  }
  return text;
}

function ancestorFunctionName(node: Node): string | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_declaration' || current.type === 'method_definition') return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type?.includes('function')) return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type === 'arrow_function') return current.childForFieldName('name')?.text;
  }
  return undefined;
}

/** The innermost block (or function, or the program) a `let` / `const` declaration is visible in. */
function blockScopeOf(node: Node): Node {
  let current = node;
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (BLOCK_SCOPES.has(parent.type)) return parent;
    current = parent;
  }
  return current;
}

/** The function (or the program) a `var` declaration is visible in. */
function functionScopeOf(node: Node): Node {
  let current = node;
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (FUNCTION_SCOPES.has(parent.type) || parent.type === 'program') return parent;
    current = parent;
  }
  return current;
}

/** The names a binding pattern declares: `x`, `{a, b: c, ...rest}`, `[x = 1, y]`, TS parameters. */
function patternNames(pattern: Node): Node[] {
  switch (pattern.type) {
    case 'identifier':
    case 'shorthand_property_identifier_pattern':
      return [pattern];
    case 'required_parameter':
    case 'optional_parameter': {
      const inner = pattern.childForFieldName('pattern');
      return inner ? patternNames(inner) : [];
    }
    case 'pair_pattern': {
      const value = pattern.childForFieldName('value');
      return value ? patternNames(value) : [];
    }
    case 'assignment_pattern':
    case 'object_assignment_pattern': {
      const left = pattern.childForFieldName('left');
      return left ? patternNames(left) : [];
    }
    case 'formal_parameters':
    case 'object_pattern':
    case 'array_pattern':
    case 'rest_pattern':
      return meaningfulChildren(pattern).flatMap(patternNames);
    default:
      return [];
  }
}

