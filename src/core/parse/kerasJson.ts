/**
 * Keras model configs (`model.to_json()`, Keras 2 and 3 layouts; Sequential and linear
 * Functional models) → ModelSpec. The config reader here is shared by the TF.js `model.json`
 * loader (its `modelTopology` is a Keras config) and by the `.keras` / `.h5` loaders (which
 * embed one). Detect by content: `{"class_name": ..., "config": ...}`. Never throws.
 *
 * Spans: in a JSON text each layer's span is its object (`{"class_name": "Dense", ...}`), the
 * activation value span is the `"activation"` value and the arguments span the layer's
 * `"config"` object (so a fix can insert a key). Binary containers pass a `spanOf` that puts
 * everything at 1:1 and messages name the layer index.
 */
import {
  PositionIndex,
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerSource,
  type LayerSpec,
  type LayerWeights,
  type LoadNote,
  type LoadProblem,
  type LoadResult,
  type LossSpec,
  type ModelFormat,
  type ModelSpec,
  type OptimizerName,
  type OptimizerSpec,
  type SourceSpan,
  type TrainingSetup,
  type WeightTensor,
} from '../model';
import { shapeError } from '../shapes';
import { checkTextSize, formatCount, MAX_JSON_BYTES, MAX_JSON_VALUES, MAX_LAYERS, tooManyLayers } from './limits';

// #region JSON with positions

export type JsonNode =
  | { readonly kind: 'object'; readonly start: number; readonly end: number; readonly entries: ReadonlyMap<string, { readonly keyStart: number; readonly value: JsonNode }> }
  | { readonly kind: 'array'; readonly start: number; readonly end: number; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly start: number; readonly end: number; readonly value: string }
  | { readonly kind: 'number'; readonly start: number; readonly end: number; readonly value: number }
  | { readonly kind: 'bool'; readonly start: number; readonly end: number; readonly value: boolean }
  | { readonly kind: 'null'; readonly start: number; readonly end: number };

/** A JSON syntax error at a string offset; the message quotes what was found. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 400;

/** A saved-model JSON over a limit of limits.ts (its values); `offset` is where the limit is reached. */
export class JsonLimitError extends JsonSyntaxError {}

/** Parses JSON, keeping every value's [start, end) offsets. Throws only JsonSyntaxError. */
export function parseJsonWithPositions(text: string): JsonNode {
  let i = 0;
  const fail = (what: string): never => {
    const found = i >= text.length ? 'end of input' : `\`${text.slice(i, i + 12).split('\n')[0]}\``;
    throw new JsonSyntaxError(`Invalid JSON: expected ${what}, found ${found}.`, Math.min(i, text.length));
  };
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) i++;
      else break;
    }
  };
  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    let chunk = i;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(chunk, i);
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail('a valid escape sequence');
        }
        chunk = i;
        continue;
      }
      if (c < 32) fail('a closing quote');
      i++;
    }
    i = start;
    return fail('a closing quote for the string starting here');
  };
  let values = 0;
  const value = (depth: number, key?: string): JsonNode => {
    if (depth > MAX_DEPTH) fail(`at most ${MAX_DEPTH} levels of nesting`);
    if (++values > MAX_JSON_VALUES) {
      ws();
      throw new JsonLimitError(`the JSON holds more than ${formatCount(MAX_JSON_VALUES)} values, more than Activation Lens reads in a saved model (the limit is reached at value ${formatCount(MAX_JSON_VALUES + 1)}, here).`, Math.min(i, text.length));
    }
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = new Map<string, { keyStart: number; value: JsonNode }>();
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', start, end: i, entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a property name in double quotes');
        const keyStart = i;
        const key = string();
        ws();
        if (text[i] !== ':') fail('`:`');
        i++;
        entries.set(key, { keyStart, value: value(depth + 1, key) });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', start, end: i, entries };
        }
        fail('`,` or `}`');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', start, end: i, items };
      }
      for (;;) {
        // A model's layer list is refused while it is read, before the rest of it is built.
        if (key === 'layers' && items.length > MAX_LAYERS) {
          ws();
          throw new JsonLimitError(`the model config lists more than ${formatCount(MAX_LAYERS)} layers, more than the ${formatCount(MAX_LAYERS)} layers per model Activation Lens reads (the first entry over the limit is here).`, Math.min(i, text.length));
        }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', start, end: i, items };
        }
        fail('`,` or `]`');
      }
    }
    if (c === '"') return { kind: 'string', start, value: string(), end: i };
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|NaN|-?Infinity)/.exec(text.slice(i, i + 400));
    if (!literal) return fail('a JSON value');
    i += literal[0].length;
    const word = literal[0];
    if (word === 'true' || word === 'false') return { kind: 'bool', start, end: i, value: word === 'true' };
    if (word === 'null') return { kind: 'null', start, end: i };
    // Python's json writes NaN / Infinity; they parse, and a rule downstream rejects them where they matter.
    return { kind: 'number', start, end: i, value: Number(word) };
  };
  const root = value(0);
  ws();
  if (i < text.length) fail('the end of the JSON document');
  return root;
}

export function field(node: JsonNode | undefined, key: string): JsonNode | undefined {
  return node?.kind === 'object' ? node.entries.get(key)?.value : undefined;
}

function str(node: JsonNode | undefined): string | undefined {
  return node?.kind === 'string' ? node.value : undefined;
}

function bool(node: JsonNode | undefined): boolean | undefined {
  return node?.kind === 'bool' ? node.value : undefined;
}

function num(node: JsonNode | undefined): number | undefined {
  return node?.kind === 'number' && Number.isFinite(node.value) ? node.value : undefined;
}

// #endregion

// #region Keras config → ModelSpec

/** Raised while converting one model; the model is dropped with this problem. */
class Unsound extends Error {
  constructor(
    readonly code: LoadProblem['code'],
    message: string,
    readonly node: JsonNode | undefined,
  ) {
    super(message);
  }
}

/** Weights by layer name, in the order the layer's weights were saved; names help to tell roles apart. */
export type WeightLookup = (layerName: string) => readonly { readonly name: string; readonly tensor: WeightTensor }[] | undefined;

export interface ConfigContext {
  readonly format: ModelFormat;
  /** Span of a node of the config (JSON text: its offsets; binary: 1:1). */
  readonly spanOf: (node: JsonNode | undefined) => SourceSpan;
  readonly binary?: boolean;
  /** Default model name when the config has none. */
  readonly fallbackName: string;
  readonly weights?: WeightLookup;
  /**
   * The model's training config when it is kept apart from the model config (TF.js
   * `trainingConfig` / `modelTopology.training_config`, the .h5 `training_config` attribute);
   * otherwise the config's own `compile_config` (Keras 3) or `training_config` is read.
   */
  readonly training?: JsonNode;
  /** Notes about that training config found before the model is read (an unreadable .h5 attribute). */
  readonly trainingNotes?: readonly LoadNote[];
  /** The text of a node as written, for JSON text files (binary ones re-serialise it). */
  readonly textOf?: (node: JsonNode) => string;
}

const LAYER_KINDS: Readonly<Record<string, string>> = {
  Dense: 'dense',
  Conv1D: 'conv1d',
  Convolution1D: 'conv1d',
  Conv2D: 'conv2d',
  Convolution2D: 'conv2d',
  Flatten: 'flatten',
  Dropout: 'dropout',
  BatchNormalization: 'batchNorm',
  MaxPooling1D: 'maxPool1d',
  MaxPool1D: 'maxPool1d',
  MaxPooling2D: 'maxPool2d',
  MaxPool2D: 'maxPool2d',
  AveragePooling1D: 'avgPool1d',
  AvgPool1D: 'avgPool1d',
  AveragePooling2D: 'avgPool2d',
  AvgPool2D: 'avgPool2d',
  GlobalAveragePooling1D: 'globalAvgPool1d',
  GlobalAveragePooling2D: 'globalAvgPool2d',
  GlobalMaxPooling2D: 'globalMaxPool2d',
  Activation: 'activation',
  ReLU: 'activation',
  LeakyReLU: 'activation',
  PReLU: 'activation',
  ELU: 'activation',
  Softmax: 'activation',
};

const SHAPE_PRESERVING = new Set([
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D', 'SpatialDropout2D', 'ActivityRegularization',
  'LayerNormalization', 'UnitNormalization', 'GroupNormalization', 'Normalization', 'Rescaling', 'Identity', 'Masking', 'ThresholdedReLU',
]);

const ACTIVATIONS: Readonly<Record<string, ActivationSpec>> = {
  linear: { name: 'linear' },
  sigmoid: { name: 'sigmoid' },
  tanh: { name: 'tanh' },
  relu: { name: 'relu' },
  relu6: { name: 'relu6' },
  leaky_relu: { name: 'leakyRelu', alpha: 0.2 },
  elu: { name: 'elu', alpha: 1 },
  selu: { name: 'selu' },
  gelu: { name: 'gelu' },
  swish: { name: 'swish' },
  silu: { name: 'swish' },
  mish: { name: 'mish' },
  softplus: { name: 'softplus' },
  softsign: { name: 'softsign' },
  hard_sigmoid: { name: 'hardSigmoid' },
  hardsigmoid: { name: 'hardSigmoid' },
  hardSigmoid: { name: 'hardSigmoid' },
  exponential: { name: 'exponential' },
  softmax: { name: 'softmax' },
};

const INITIALIZERS: Readonly<Record<string, InitializerName>> = {
  glorotuniform: 'glorotUniform',
  glorotnormal: 'glorotNormal',
  heuniform: 'heUniform',
  henormal: 'heNormal',
  lecununiform: 'lecunUniform',
  lecunnormal: 'lecunNormal',
  zeros: 'zeros',
  ones: 'ones',
  constant: 'constant',
  randomnormal: 'randomNormal',
  randomuniform: 'randomUniform',
  truncatednormal: 'truncatedNormal',
  orthogonal: 'orthogonal',
  identity: 'identity',
  variancescaling: 'varianceScaling',
};

function normaliseInitializer(name: string): string {
  const compact = name.toLowerCase().split('_').join('');
  return compact.endsWith('initializer') ? compact.slice(0, -'initializer'.length) : compact;
}

/**
 * The model config inside a document: `{class_name, config}` itself, or TF.js's
 * `modelTopology` (`{class_name, config}` or `{model_config: {...}}`).
 */
export function findModelConfig(root: JsonNode): JsonNode | undefined {
  if (str(field(root, 'class_name')) && field(root, 'config')) return root;
  const topology = field(root, 'modelTopology') ?? field(root, 'model_config');
  if (topology) return findModelConfig(topology);
  return undefined;
}

/** Converts a model config to ModelSpecs (one, or none with problems). */
export function modelsFromConfig(config: JsonNode, ctx: ConfigContext): { models: ModelSpec[]; problems: LoadProblem[] } {
  const className = str(field(config, 'class_name')) ?? '';
  const body = field(config, 'config');
  const name = str(field(body, 'name')) ?? ctx.fallbackName;
  try {
    let entries: readonly JsonNode[];
    if (className === 'Sequential') {
      const list = body?.kind === 'array' ? body : field(body, 'layers');
      if (list?.kind !== 'array') throw new Unsound('parse-error', 'its `config.layers` is not a list.', body ?? config);
      checkLayerCount(list);
      entries = list.items;
    } else if (className === 'Functional' || className === 'Model') {
      entries = functionalChain(body);
    } else {
      throw new Unsound('unsupported-layer', `a top-level \`${className || '(no class_name)'}\` is not a Sequential or Functional model.`, field(config, 'class_name') ?? config);
    }
    const model = buildModel(entries, name, config, ctx);
    const notes: LoadNote[] = [...(ctx.trainingNotes ?? [])];
    const training = trainingFromConfig(ctx.training ?? field(config, 'compile_config') ?? field(config, 'training_config'), ctx, notes);
    return { models: [{ ...model, ...(training ? { training } : {}), ...(notes.length > 0 ? { notes } : {}) }], problems: [] };
  } catch (error) {
    if (!(error instanceof Unsound)) throw error;
    return { models: [], problems: [{ code: error.code, message: `Model \`${name}\` cannot be diagnosed: ${error.message}`, span: ctx.spanOf(error.node) }] };
  }
}

/** Refuses a `config.layers` list of more than MAX_LAYERS entries before anything is built from it, at the first entry over the limit. */
function checkLayerCount(list: Extract<JsonNode, { kind: 'array' }>): void {
  // One InputLayer entry is allowed on top of the layers (the parser stops a `layers` list there too).
  if (list.items.length > MAX_LAYERS + 1) throw new Unsound('parse-error', tooManyLayers(list.items.length), list.items[MAX_LAYERS + 1]);
}

/** The layer name a Keras 2 / Keras 3 inbound node entry points at. */
function inboundNames(layer: JsonNode): { names: string[]; node: JsonNode | undefined } {
  const inbound = field(layer, 'inbound_nodes');
  if (inbound?.kind !== 'array' || inbound.items.length === 0) return { names: [], node: inbound };
  if (inbound.items.length > 1) throw new Unsound('unsupported-layer', `layer \`${str(field(layer, 'name')) ?? '?'}\` is called more than once (shared layer); only linear chains are read.`, inbound);
  const call = inbound.items[0];
  const names: string[] = [];
  if (call.kind === 'array') {
    // Keras 2: [[name, nodeIndex, tensorIndex, kwargs], ...]
    for (const tensor of call.items) {
      const n = tensor.kind === 'array' ? str(tensor.items[0]) : undefined;
      if (n) names.push(n);
    }
  } else if (call.kind === 'object') {
    // Keras 3: {args: [{class_name: "__keras_tensor__", config: {keras_history: [name, i, j]}}], kwargs}
    const collect = (node: JsonNode | undefined): void => {
      if (!node) return;
      if (node.kind === 'array') node.items.forEach(collect);
      if (node.kind !== 'object') return;
      const history = field(field(node, 'config'), 'keras_history');
      if (str(field(node, 'class_name')) === '__keras_tensor__' && history?.kind === 'array') {
        const n = str(history.items[0]);
        if (n) names.push(n);
      }
    };
    collect(field(call, 'args'));
  }
  return { names, node: call };
}

/** Orders a Functional config's layers as the chain from its input to its output. */
function functionalChain(body: JsonNode | undefined): JsonNode[] {
  const list = field(body, 'layers');
  if (list?.kind !== 'array') throw new Unsound('parse-error', 'its `config.layers` is not a list.', body);
  checkLayerCount(list);
  const byName = new Map<string, JsonNode>();
  for (const layer of list.items) {
    const n = str(field(layer, 'name')) ?? str(field(field(layer, 'config'), 'name'));
    if (n) byName.set(n, layer);
  }
  const outputs = field(body, 'output_layers');
  const outputList = outputs?.kind === 'array' ? (outputs.items[0]?.kind === 'array' ? outputs.items : [outputs]) : [];
  if (outputList.length !== 1) throw new Unsound('unsupported-layer', `it has ${outputList.length} outputs; only single-output linear chains are read.`, outputs ?? body);
  const first = outputList[0];
  let current = first.kind === 'array' ? str(first.items[0]) : undefined;
  const chain: JsonNode[] = [];
  const seen = new Set<string>();
  while (current) {
    const layer = byName.get(current);
    if (!layer || seen.has(current)) throw new Unsound('parse-error', `the output chain refers to an unknown layer \`${current}\`.`, list);
    seen.add(current);
    chain.push(layer);
    const { names, node } = inboundNames(layer);
    if (names.length > 1) {
      throw new Unsound('unsupported-layer', `\`${str(field(layer, 'class_name')) ?? '?'}\` layer \`${current}\` merges ${names.length} branches; only linear chains are read.`, node ?? layer);
    }
    current = names[0];
  }
  return chain.reverse();
}

function buildModel(entries: readonly JsonNode[], name: string, config: JsonNode, ctx: ConfigContext): ModelSpec {
  const problems: LoadProblem[] = [];
  const layers: LayerSpec[] = [];
  const nodes: JsonNode[] = [];
  let inputShape: number[] | undefined;
  const where = (i: number): string => (ctx.binary ? ` (layer ${i})` : '');
  entries.forEach((entry, position) => {
    const className = str(field(entry, 'class_name')) ?? '';
    const layerConfig = field(entry, 'config');
    if (entry.kind !== 'object' || layerConfig?.kind !== 'object') throw new Unsound('parse-error', `layer ${position} is not a \`{class_name, config}\` object.`, entry);
    const shapeFrom = (node: JsonNode | undefined, withBatch: boolean): number[] | undefined => {
      if (node?.kind !== 'array') return undefined;
      const dims = (withBatch ? node.items.slice(1) : node.items).map(num);
      if (dims.length === 0 || dims.some((d) => d === undefined || !Number.isInteger(d) || d <= 0)) {
        throw new Unsound('parse-error', `the input shape ${JSON.stringify(dims.map((d) => d ?? null))}${where(position)} has a dimension that is not a fixed positive integer.`, node);
      }
      return dims as number[];
    };
    if (className === 'InputLayer') {
      inputShape ??=
        shapeFrom(field(layerConfig, 'batch_input_shape'), true) ?? shapeFrom(field(layerConfig, 'batch_shape'), true) ?? shapeFrom(field(layerConfig, 'input_shape'), false);
      return;
    }
    if (layers.length === 0 && !inputShape) {
      inputShape =
        shapeFrom(field(layerConfig, 'batch_input_shape'), true) ??
        shapeFrom(field(layerConfig, 'batch_shape'), true) ??
        shapeFrom(field(field(entry, 'build_config'), 'input_shape'), true);
    }
    const kind = LAYER_KINDS[className];
    if (!kind) {
      if (SHAPE_PRESERVING.has(className)) {
        problems.push({ code: 'unsupported-layer', message: `\`${className}\`${where(position)} is not supported; it keeps the shape of its input, so it is skipped.`, span: ctx.spanOf(entry) });
        return;
      }
      throw new Unsound('unsupported-layer', `\`${className || '(no class_name)'}\`${where(position)} is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`, field(entry, 'class_name') ?? entry);
    }
    if (str(field(layerConfig, 'data_format')) === 'channels_first') {
      throw new Unsound('unsupported-layer', `\`${className}\`${where(position)} uses data_format "channels_first"; only channels_last is rebuilt.`, field(layerConfig, 'data_format'));
    }
    const reader = new ConfigReader(entry, layerConfig, ctx, problems, position);
    const spec = reader.layer(className, kind);
    const layerName = str(field(layerConfig, 'name')) ?? `${kind}_${layers.length}`;
    const weights = ctx.weights ? reader.weights(layerName, spec.kind, layerConfig) : undefined;
    if (layers.length >= MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), entry);
    // Saved configs state `"trainable": true` on every layer; false is a layer the file froze.
    const frozen = bool(field(layerConfig, 'trainable')) === false;
    layers.push({ index: layers.length, name: layerName, ...spec, ...(weights ? { weights } : {}), ...(frozen ? { frozen } : {}), source: reader.source() });
    nodes.push(entry);
  });
  if (layers.length === 0) throw new Unsound('parse-error', 'it has no layers.', config);
  if (!inputShape) throw new Unsound('parse-error', 'its input shape is unknown (no InputLayer, `batch_input_shape` or `build_config`).', config);
  const error = shapeError(inputShape, layers);
  if (error) throw new Unsound('parse-error', `${error.message}${where(error.index)}`, nodes[error.index]);
  return { name, format: ctx.format, inputShape, layers, span: ctx.spanOf(config), problems, ...(ctx.binary ? { binary: true } : {}) };
}

class ConfigReader {
  private readonly spans: { -readonly [K in keyof LayerSource]: LayerSource[K] };

  constructor(
    private readonly entry: JsonNode,
    private readonly config: JsonNode,
    private readonly ctx: ConfigContext,
    private readonly problems: LoadProblem[],
    private readonly position: number,
  ) {
    this.spans = { span: ctx.spanOf(entry), calleeSpan: ctx.spanOf(field(entry, 'class_name')), argumentsSpan: ctx.spanOf(config) };
  }

  source(): LayerSource {
    return this.spans;
  }

  private where(): string {
    return this.ctx.binary ? ` (layer ${this.position})` : '';
  }

  private note(node: JsonNode | undefined, message: string, code: LoadProblem['code'] = 'parse-error'): void {
    this.problems.push({ code, message: `${message}${this.where()}`, span: this.ctx.spanOf(node ?? this.entry) });
  }

  private positive(key: string): number {
    const node = field(this.config, key);
    const value = num(node);
    if (value === undefined || !Number.isInteger(value) || value <= 0) {
      throw new Unsound('parse-error', `\`${key}\` must be a positive integer, but it is ${node ? JSON.stringify(nodeValue(node)) : 'missing'}${this.where()}.`, node ?? this.entry);
    }
    return value;
  }

  private tuple(key: string, rank: number, fallback: number[] | undefined): number[] | undefined {
    const node = field(this.config, key);
    if (!node || node.kind === 'null') return fallback;
    const items = node.kind === 'number' ? new Array<JsonNode>(rank).fill(node) : node.kind === 'array' ? node.items : [];
    const values = items.map(num);
    if (values.length !== rank || values.some((v) => v === undefined || !Number.isInteger(v) || v <= 0)) {
      throw new Unsound('parse-error', `\`${key}\` must be ${rank} positive integers, but it is ${JSON.stringify(nodeValue(node))}${this.where()}.`, node);
    }
    return values as number[];
  }

  private padding(): 'valid' | 'same' {
    const node = field(this.config, 'padding');
    const value = str(node) ?? 'valid';
    if (value === 'valid' || value === 'same') return value;
    throw new Unsound('parse-error', `\`padding\` must be "valid" or "same", but it is ${JSON.stringify(nodeValue(node))}${this.where()}.`, node);
  }

  /**
   * Refuses the model when a key the IR cannot represent has a non-default value (`isDefault`
   * false) or a value of the wrong type (`isDefault` undefined), at the value; null is the default.
   */
  private refuseUnlessDefault(key: string, isDefault: (node: JsonNode) => boolean | undefined, unsupported: string): void {
    const node = field(this.config, key);
    if (!node || node.kind === 'null') return;
    const verdict = isDefault(node);
    if (verdict === true) return;
    const shown = `"${key}": ${JSON.stringify(nodeValue(node))}`;
    if (verdict === false) throw new Unsound('unsupported-layer', `\`${shown}\`${this.where()}: ${unsupported}.`, node);
    throw new Unsound('parse-error', `\`${key}\` must be its default, but it is ${JSON.stringify(nodeValue(node))}${this.where()}, and a non-default value is not supported.`, node);
  }

  /** A number key that changes what the layer computes: absent or null → undefined; anything but a finite number refuses the model. */
  private exactNumber(key: string): number | undefined {
    const node = field(this.config, key);
    if (!node || node.kind === 'null') return undefined;
    const value = num(node);
    if (value === undefined) throw new Unsound('parse-error', `\`${key}\` must be a finite number, but it is ${JSON.stringify(nodeValue(node))}${this.where()}.`, node);
    return value;
  }

  private number(key: string, fallback: number): number {
    const node = field(this.config, key);
    if (!node || node.kind === 'null') return fallback;
    const value = num(node);
    if (value !== undefined) return value;
    this.note(node, `\`${key}\` ${JSON.stringify(nodeValue(node))} is not a finite number; the default ${fallback} is used`);
    return fallback;
  }

  layer(className: string, kind: string): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    const useBias = bool(field(this.config, 'use_bias')) ?? true;
    switch (kind) {
      case 'dense':
        return {
          kind: 'dense',
          units: this.positive('units'),
          activation: this.activation(),
          useBias,
          kernelInitializer: this.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: this.initializer('bias_initializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = kind === 'conv1d' ? 1 : 2;
        this.refuseUnlessDefault('dilation_rate', (node) => allOnes(node), `dilation is not supported yet: Activation Lens builds \`${className}\` undilated, which would change what it computes and its output shape`);
        this.refuseUnlessDefault('groups', (node) => (node.kind === 'number' ? node.value === 1 : undefined), `grouped convolutions are not supported yet: Activation Lens builds \`${className}\` with groups=1, which has a different number of weights per filter`);
        return {
          kind,
          filters: this.positive('filters'),
          kernelSize: this.tuple('kernel_size', rank, undefined) ?? (() => { throw new Unsound('parse-error', `\`kernel_size\` is missing${this.where()}.`, this.entry); })(),
          strides: this.tuple('strides', rank, new Array<number>(rank).fill(1)),
          padding: this.padding(),
          activation: this.activation(),
          useBias,
          kernelInitializer: this.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: this.initializer('bias_initializer', 'zeros'),
        };
      }
      case 'maxPool1d':
      case 'maxPool2d':
      case 'avgPool1d':
      case 'avgPool2d': {
        const rank = kind.endsWith('1d') ? 1 : 2;
        const poolSize = this.tuple('pool_size', rank, new Array<number>(rank).fill(2)) ?? [2, 2];
        return { kind, poolSize, strides: this.tuple('strides', rank, poolSize), padding: this.padding(), activation: { name: 'linear' } };
      }
      case 'flatten':
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        return { kind, activation: { name: 'linear' } };
      case 'dropout':
        return { kind: 'dropout', rate: this.number('rate', 0.5), activation: { name: 'linear' } };
      case 'batchNorm':
        return { kind: 'batchNorm', momentum: this.number('momentum', 0.99), epsilon: this.number('epsilon', 0.001), activation: { name: 'linear' } };
      default:
        return { kind: 'activation', activation: this.activationLayer(className) };
    }
  }

  private activationLayer(className: string): ActivationSpec {
    switch (className) {
      case 'Activation':
        return this.activation();
      case 'ReLU': {
        // Keras ReLU: min(x, max_value) from `threshold` up, negative_slope·(x − threshold) below
        // it. The IR holds relu, relu6 (cap 6) and leakyRelu (slope); any other mix is refused.
        const maxValue = this.exactNumber('max_value');
        const slope = this.exactNumber('negative_slope') ?? 0;
        const threshold = this.exactNumber('threshold') ?? 0;
        const refuse = (key: string, value: number, why: string): never => {
          throw new Unsound('unsupported-layer', `\`"${key}": ${value}\` of \`ReLU\`${this.where()}: ${why}.`, field(this.config, key));
        };
        if (threshold !== 0) refuse('threshold', threshold, 'a thresholded ReLU is not supported yet: Activation Lens would build it with threshold 0, which would change what it computes');
        if (maxValue !== undefined && slope !== 0) refuse('max_value', maxValue, 'a ReLU with both a cap and a negative slope is not supported yet: Activation Lens builds either a leaky ReLU or a ReLU capped at 6, not both');
        if (maxValue !== undefined && maxValue !== 6) refuse('max_value', maxValue, 'a ReLU capped at another value than 6 is not supported yet: Activation Lens would build it uncapped, which would change what it computes');
        if (maxValue === 6) return { name: 'relu6' };
        return slope !== 0 ? { name: 'leakyRelu', alpha: slope } : { name: 'relu' };
      }
      case 'LeakyReLU':
        return { name: 'leakyRelu', alpha: field(this.config, 'negative_slope') ? this.number('negative_slope', 0.3) : this.number('alpha', 0.3) };
      case 'ELU':
        return { name: 'elu', alpha: this.number('alpha', 1) };
      case 'PReLU': {
        const init = this.initializer('alpha_initializer', 'zeros');
        return { name: 'prelu', alpha: init.name === 'constant' ? (init.value ?? 0) : init.name === 'ones' ? 1 : 0 };
      }
      default:
        return { name: 'softmax' };
    }
  }

  private activation(): ActivationSpec {
    const node = field(this.config, 'activation');
    if (!node || node.kind === 'null') return { name: 'linear' };
    const key = this.entry.kind === 'object' ? (this.config as Extract<JsonNode, { kind: 'object' }>).entries.get('activation')?.keyStart : undefined;
    this.spans.activationValueSpan = this.ctx.spanOf(node);
    this.spans.activationArgumentSpan = this.ctx.binary || key === undefined ? this.ctx.spanOf(node) : spanBetween(this.ctx, key, node.end);
    // Keras 3 may serialise a function as {"class_name": "function", "config": "relu"}.
    const name = str(node) ?? str(field(node, 'config')) ?? str(field(field(node, 'config'), 'name'));
    const known = name !== undefined ? ACTIVATIONS[name] : undefined;
    if (known) return known;
    this.note(node, `The activation ${JSON.stringify(nodeValue(node))} is not recognised; the layer is diagnosed as linear`, 'unsupported-layer');
    return { name: 'linear' };
  }

  private initializer(key: string, fallback: InitializerName): InitializerSpec {
    const node = field(this.config, key);
    if (!node || node.kind === 'null') return { name: fallback };
    if (key === 'kernel_initializer') {
      this.spans.kernelInitializerValueSpan = this.ctx.spanOf(node);
      const keyStart = (this.config as Extract<JsonNode, { kind: 'object' }>).entries.get(key)?.keyStart;
      this.spans.kernelInitializerArgumentSpan = this.ctx.binary || keyStart === undefined ? this.ctx.spanOf(node) : spanBetween(this.ctx, keyStart, node.end);
    } else if (key === 'bias_initializer') {
      this.spans.biasInitializerValueSpan = this.ctx.spanOf(node);
    }
    const className = str(node) ?? str(field(node, 'class_name'));
    const name = className ? INITIALIZERS[normaliseInitializer(className)] : undefined;
    if (!name) {
      this.note(node, `The initialiser ${JSON.stringify(nodeValue(node)).slice(0, 80)} is not recognised; the default (${fallback}) is used`, 'unsupported-layer');
      return { name: fallback };
    }
    const c = field(node, 'config');
    const n = (k: string, d: number): number => num(field(c, k)) ?? d;
    switch (name) {
      case 'constant':
        return { name, value: n('value', 0) };
      case 'randomNormal':
      case 'truncatedNormal':
        return { name, mean: n('mean', 0), stddev: n('stddev', 0.05) };
      case 'randomUniform':
        return { name, minval: n('minval', -0.05), maxval: n('maxval', 0.05) };
      case 'orthogonal':
      case 'identity':
        return { name, scale: n('gain', 1) };
      case 'varianceScaling': {
        const mode = str(field(c, 'mode'));
        const distribution = str(field(c, 'distribution'));
        return {
          name,
          scale: n('scale', 1),
          mode: mode === 'fan_out' || mode === 'fanOut' ? 'fanOut' : mode === 'fan_avg' || mode === 'fanAvg' ? 'fanAvg' : 'fanIn',
          distribution: distribution === 'uniform' ? 'uniform' : distribution === 'untruncated_normal' ? 'normal' : 'truncatedNormal',
        };
      }
      default:
        return { name };
    }
  }

  /** Assigns saved tensors to roles, by name where the names say, else in Keras's order. */
  weights(layerName: string, kind: LayerSpec['kind'], config: JsonNode): LayerWeights | undefined {
    const saved = this.ctx.weights?.(layerName);
    if (!saved || saved.length === 0) return undefined;
    const roleOf = (n: string): string | undefined => /(kernel|bias|gamma|beta|moving_mean|moving_variance|alpha)(:\d+)?$/.exec(n)?.[1];
    const named = saved.every((w) => roleOf(w.name));
    let roles: string[];
    if (kind === 'dense' || kind === 'conv1d' || kind === 'conv2d') roles = ['kernel', 'bias'];
    else if (kind === 'batchNorm') {
      const flag = (k: string): boolean => field(config, k)?.kind !== 'bool' || (field(config, k) as { value: boolean }).value;
      roles = [...(flag('scale') ? ['gamma'] : []), ...(flag('center') ? ['beta'] : []), 'moving_mean', 'moving_variance'];
    } else {
      if (kind === 'activation') this.note(undefined, `The learned weights of \`${layerName}\` (e.g. PReLU slopes) are not loaded; it is diagnosed from its initial slope`, 'unsupported-layer');
      return undefined;
    }
    const result: Record<string, WeightTensor> = {};
    saved.forEach((w, i) => {
      const role = named ? roleOf(w.name) : roles[i];
      if (role) result[role] = w.tensor;
    });
    return {
      kernel: result.kernel,
      bias: result.bias,
      gamma: result.gamma,
      beta: result.beta,
      movingMean: result.moving_mean,
      movingVariance: result.moving_variance,
    };
  }
}

/** True when an int or list value is all ones (dilation_rate's default); undefined when it is neither. */
function allOnes(node: JsonNode): boolean | undefined {
  const items = node.kind === 'number' ? [node] : node.kind === 'array' ? node.items : undefined;
  const values = items?.map(num);
  if (!values || values.length === 0 || values.some((v) => v === undefined)) return undefined;
  return values.every((v) => v === 1);
}

function spanBetween(ctx: ConfigContext, start: number, end: number): SourceSpan {
  const a = ctx.spanOf({ kind: 'null', start, end: start });
  const b = ctx.spanOf({ kind: 'null', start: end, end });
  return { start: a.start, end: b.start };
}

function nodeValue(node: JsonNode | undefined): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case 'object':
      return Object.fromEntries([...node.entries].slice(0, 4).map(([k, v]) => [k, nodeValue(v.value)]));
    case 'array':
      return node.items.slice(0, 8).map(nodeValue);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

// #endregion

// #region Training config

/** Optimiser class names (Keras 2 / 3, `Custom>` prefix removed, lower-cased; TF.js `Momentum` is SGD with momentum). */
const OPTIMIZER_CLASSES: Readonly<Record<string, OptimizerName>> = {
  sgd: 'sgd',
  momentum: 'sgd',
  adam: 'adam',
  adamw: 'adamw',
  rmsprop: 'rmsprop',
  adadelta: 'adadelta',
  adagrad: 'adagrad',
  adamax: 'adamax',
  nadam: 'nadam',
};

/** Flags whose `true` makes an optimiser the trainer does not run. */
const UNSUPPORTED_FLAGS: Readonly<Record<string, string>> = {
  nesterov: 'Nesterov momentum',
  useNesterov: 'Nesterov momentum',
  amsgrad: 'AMSGrad',
  centered: 'centred RMSprop',
};

type LossKindOf = Pick<LossSpec, 'kind' | 'input' | 'sparse'>;

/** Loss names and classes, lower-cased without underscores (Keras `categorical_crossentropy`, `CategoricalCrossentropy`, TF.js `categoricalCrossentropy`). */
const LOSSES: Readonly<Record<string, LossKindOf>> = {
  categoricalcrossentropy: { kind: 'categoricalCrossentropy', input: 'probabilities' },
  sparsecategoricalcrossentropy: { kind: 'categoricalCrossentropy', input: 'probabilities', sparse: true },
  binarycrossentropy: { kind: 'binaryCrossentropy', input: 'probabilities' },
  meansquarederror: { kind: 'meanSquaredError', input: 'values' },
  mse: { kind: 'meanSquaredError', input: 'values' },
  meanabsoluteerror: { kind: 'meanAbsoluteError', input: 'values' },
  mae: { kind: 'meanAbsoluteError', input: 'values' },
  huber: { kind: 'huber', input: 'values' },
  huberloss: { kind: 'huber', input: 'values' },
};

const compact = (name: string): string => name.toLowerCase().split('_').join('');

/**
 * The optimiser and loss of a saved training config: Keras 3 `compile_config` (`optimizer`,
 * `loss`), Keras 2 / TF.js `training_config` / `trainingConfig` (`optimizer_config`, `loss`).
 * Spans follow the config's (JSON positions in a text file, the model's 1:1 span in a binary one,
 * where no argument or rate span is given). What the IR cannot express is a note.
 */
export function trainingFromConfig(node: JsonNode | undefined, ctx: ConfigContext, notes: LoadNote[]): TrainingSetup | undefined {
  if (node?.kind !== 'object') return undefined;
  const optimizerNode = field(node, 'optimizer') ?? field(node, 'optimizer_config');
  const lossNode = field(node, 'loss');
  const optimizer = optimizerNode && optimizerNode.kind !== 'null' ? savedOptimizer(optimizerNode, ctx, notes) : undefined;
  const loss = lossNode && lossNode.kind !== 'null' ? savedLoss(lossNode, ctx, notes) : undefined;
  if (!optimizer && !loss) return undefined;
  return { ...(optimizer ? { optimizer } : {}), ...(loss ? { loss } : {}) };
}

function textOf(node: JsonNode, ctx: ConfigContext): string {
  if (ctx.textOf) return ctx.textOf(node);
  const text = JSON.stringify(nodeValue(node)) ?? '';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

function savedOptimizer(node: JsonNode, ctx: ConfigContext, notes: LoadNote[]): OptimizerSpec | undefined {
  const fallback = 'the default optimiser and learning rate are used';
  const note = (message: string, at: JsonNode = node): undefined => {
    notes.push({ message: `${message}; ${fallback}.`, span: ctx.spanOf(at) });
    return undefined;
  };
  const className = str(node) ?? str(field(node, 'class_name'));
  if (className === undefined) return note(`The saved optimiser ${JSON.stringify(nodeValue(node)).slice(0, 80)} has no class name`);
  const name = OPTIMIZER_CLASSES[compact(className.replace(/^Custom>/, ''))];
  if (!name) return note(`The saved optimiser \`${className}\` is not one Activation Lens can run (${Object.keys(OPTIMIZER_CLASSES).join(', ')})`, field(node, 'class_name') ?? node);
  const config = field(node, 'config');
  let learningRate: number | undefined;
  let rateNode: JsonNode | undefined;
  let momentum: number | undefined;
  if (config?.kind === 'object') {
    rateNode = field(config, 'learning_rate') ?? field(config, 'lr') ?? field(config, 'learningRate');
    if (rateNode && rateNode.kind !== 'null') {
      learningRate = num(rateNode);
      if (learningRate === undefined) {
        const schedule = str(field(rateNode, 'class_name'));
        return note(`The learning rate of the saved \`${className}\` is ${schedule ? `the schedule \`${schedule}\`, which is not modelled` : `${JSON.stringify(nodeValue(rateNode)).slice(0, 80)}, not a number`}`, rateNode);
      }
    }
    for (const [flag, what] of Object.entries(UNSUPPORTED_FLAGS)) {
      const value = field(config, flag);
      if (value?.kind === 'bool' && value.value) return note(`The saved \`${className}\` uses ${what} (\`"${flag}": true\`), which Activation Lens cannot run`, value);
    }
    const decay = num(field(config, 'weight_decay'));
    if (decay !== undefined && decay !== 0 && name !== 'adamw') return note(`The saved \`${className}\` has weight decay ${decay}, which Activation Lens cannot run with it`, field(config, 'weight_decay'));
    const momentumNode = field(config, 'momentum');
    if (name === 'sgd' || name === 'rmsprop') momentum = num(momentumNode);
  }
  return {
    name,
    ...(learningRate !== undefined ? { learningRate } : {}),
    ...(momentum !== undefined ? { momentum } : {}),
    text: textOf(node, ctx),
    span: ctx.spanOf(node),
    ...(!ctx.binary && config?.kind === 'object' ? { argumentsSpan: ctx.spanOf(config) } : {}),
    ...(!ctx.binary && learningRate !== undefined && rateNode ? { learningRateValueSpan: ctx.spanOf(rateNode) } : {}),
  };
}

function savedLoss(node: JsonNode, ctx: ConfigContext, notes: LoadNote[]): LossSpec | undefined {
  const fallback = "the loss is chosen from the model's output layer";
  const note = (message: string, at: JsonNode = node): undefined => {
    notes.push({ message: `${message}; ${fallback}.`, span: ctx.spanOf(at) });
    return undefined;
  };
  // One loss per output: a single output's is the model's.
  let single = node;
  if (node.kind === 'array') {
    if (node.items.length !== 1) return note(`The saved loss gives ${node.items.length} losses, one per output; only single-output models are diagnosed`);
    single = node.items[0];
  } else if (node.kind === 'object' && !field(node, 'class_name')) {
    const values = [...node.entries.values()];
    if (values.length !== 1) return note(`The saved loss gives ${values.length} losses, one per output; only single-output models are diagnosed`);
    single = values[0].value;
  }
  const config = field(single, 'config');
  // Keras 3 writes a loss function as {"class_name": "function", "config": "categorical_crossentropy"}.
  const className = str(single) ?? (str(field(single, 'class_name')) === 'function' ? str(config) : str(field(single, 'class_name')));
  if (className === undefined) return note(`The saved loss ${JSON.stringify(nodeValue(single)).slice(0, 80)} has no name`, single);
  const known = LOSSES[compact(className)];
  if (!known) return note(`The saved loss \`${className}\` is not one Activation Lens models (cross-entropies, mean squared or absolute error, Huber)`, single);
  const fromLogits = field(config, 'from_logits');
  const logits = fromLogits?.kind === 'bool' && fromLogits.value;
  return { ...known, ...(logits ? { input: 'logits' as const } : {}), text: textOf(single, ctx), span: ctx.spanOf(single) };
}

// #endregion

/** Options the saved-model loaders share. */
export interface SavedModelOptions {
  /** Ignore trained weights: diagnose from a fresh initialisation. */
  readonly freshInit?: boolean;
  /** Reads a file next to the model (TF.js weight shards); undefined when it is missing. */
  readonly readSibling?: (name: string) => Uint8Array | undefined;
}

/** True when a text looks like a Keras config (`class_name` + `config` at the top). */
export function matchKerasJson(text: string): boolean {
  const head = text.trimStart();
  if (head.startsWith('"')) return matchDoubleEncodedKerasJson(text);
  return head.startsWith('{') && text.includes('"class_name"') && text.includes('"config"') && !text.includes('"modelTopology"');
}

/**
 * True when a text is a JSON string literal holding a Keras config: what
 * `json.dump(model.to_json(), f)` writes (`to_json()` already returns JSON text, so it is encoded
 * twice and every quote inside is escaped).
 */
export function matchDoubleEncodedKerasJson(text: string): boolean {
  return /^\s*"\s*\{/.test(text) && text.includes('\\"class_name\\"') && text.includes('\\"config\\"');
}

/**
 * The content of a top-level JSON string literal, with each of its characters' offsets in the
 * file (`offsets[inner.length]` is the closing quote), so spans in the content are spans in the
 * file: an escape sequence `\"` stands for one character and covers both of its own.
 */
function decodeStringLiteral(text: string, node: Extract<JsonNode, { kind: 'string' }>): { inner: string; offsets: number[] } {
  const offsets: number[] = [];
  const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  let inner = '';
  // parseJsonWithPositions has validated the literal, so every escape here is well formed.
  for (let i = node.start + 1; i < node.end - 1; ) {
    offsets.push(i);
    if (text[i] === '\\') {
      const e = text[i + 1];
      if (e === 'u') {
        inner += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        inner += simple[e];
        i += 2;
      }
    } else {
      inner += text[i];
      i++;
    }
  }
  offsets.push(node.end - 1);
  return { inner, offsets };
}

/** Loads a Keras `model.to_json()` file (no weights). Never throws. */
export function loadKerasJson(text: string, fileName: string): LoadResult {
  const tooLarge = checkTextSize(text, fileName, 'keras-json', MAX_JSON_BYTES, 'a saved-model JSON file');
  if (tooLarge) return tooLarge;
  const positions = new PositionIndex(text);
  let root: JsonNode;
  try {
    root = parseJsonWithPositions(text);
  } catch (error) {
    const offset = error instanceof JsonSyntaxError ? error.offset : 0;
    return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message: `${fileName}: ${(error as Error).message}`, span: positions.span(offset, Math.min(text.length, offset + 1)) }] };
  }
  // `json.dump(model.to_json(), f)`: the file is one string whose content is the config. Its
  // content is read with every offset mapped back to the file, so positions (and fixes, which
  // escape what they write: fixes/json.ts) stay exact.
  let content = text;
  let toFile = (offset: number): number => offset;
  let encodedTwice: LoadNote | undefined;
  if (root.kind === 'string') {
    const literal = root;
    const { inner, offsets } = decodeStringLiteral(text, literal);
    try {
      root = parseJsonWithPositions(inner);
    } catch (error) {
      const offset = offsets[error instanceof JsonSyntaxError ? error.offset : 0] ?? literal.start;
      return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message: `${fileName} is a JSON string whose content is not valid JSON: ${(error as Error).message}`, span: positions.span(offset, Math.min(text.length, offset + 1)) }] };
    }
    content = inner;
    toFile = (offset) => offsets[offset] ?? literal.end;
    encodedTwice = {
      message: `${fileName} holds the model JSON as a JSON string (written by \`json.dump(model.to_json(), f)\`, which encodes it twice); its content is read as the model config. \`f.write(model.to_json())\` saves it once.`,
      span: positions.span(literal.start, literal.end),
    };
  }
  const config = findModelConfig(root);
  if (!config) {
    return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message: `${fileName} is JSON but not a Keras model config (no top-level "class_name" and "config").`, span: positions.span(0, 0) }] };
  }
  const ctx: ConfigContext = {
    format: 'keras-json',
    spanOf: (node) => (node ? positions.span(toFile(node.start), toFile(node.end)) : positions.span(0, 0)),
    fallbackName: 'model',
    textOf: (node) => content.slice(node.start, node.end),
    // `{"model_config": {...}, "training_config": {...}}` keeps the two apart.
    training: config !== root ? (field(root, 'training_config') ?? field(root, 'compile_config')) : undefined,
  };
  try {
    const { models, problems } = modelsFromConfig(config, ctx);
    const note = encodedTwice;
    return { format: 'keras-json', models: note ? models.map((m) => ({ ...m, notes: [note, ...(m.notes ?? [])] })) : models, problems };
  } catch (error) {
    return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message: `Internal error while reading ${fileName}: ${(error as Error).message}`, span: positions.span(0, 0) }] };
  }
}
