/**
 * Turns a suggested activation swap into exact text edits on Keras Python source, using the
 * spans the loader recorded. Pure and synchronous.
 *
 * Choices (Keras 2 / tf.keras and Keras 3 must both accept the result):
 *  - `activation=` arguments get a string where Keras has one for the activation ("relu",
 *    "elu" for α = 1, "selu", "gelu", "swish", …). Parameterised activations with no string
 *    (Leaky ReLU with a chosen slope, ELU with α ≠ 1, ReLU6) become a layer *instance* passed as
 *    the activation, e.g. `activation=layers.LeakyReLU(0.01)`: a layer is callable, and Keras
 *    accepts any callable there. The string "leaky_relu" is not used: it is Keras 3 only and its
 *    slope is fixed at 0.2.
 *  - LeakyReLU's slope is written positionally, `LeakyReLU(0.01)`: Keras 2 calls the parameter
 *    `alpha` and Keras 3 `negative_slope`, and only the positional form is valid in both.
 *  - PReLU has trainable weights, so it is only offered as a standalone layer, never as an
 *    `activation=` value; RReLU does not exist in Keras: both return `{ error }` where unusable.
 *  - A standalone activation layer (`Activation("sigmoid")`, `layers.ReLU()`) is rewritten in
 *    place: an `Activation(...)` keeps its call and only its value changes; another class is
 *    replaced by the whole new call (other arguments of the old call, such as `name=`, are not
 *    carried over).
 *  - The matching kernel initialiser goes on the layer that owns the kernel: the layer itself,
 *    or for a standalone activation layer the nearest preceding Dense/Conv layer (none → the
 *    initialiser part is skipped).
 *  - Layers repeated by a comprehension, `* n` or a loop share one call in the source; the edit
 *    changes that call and therefore every repetition. That is what the source can express, so
 *    the edits are returned as usual (callers may compare spans to tell the user).
 *  - Class names are written with the module prefix the file already uses (the layer's own
 *    callee prefix, else an imported name or alias); when the file has no usable name, an
 *    import line is added next to the import the layer's class came from.
 */
import type { Node } from 'web-tree-sitter';
import {
  hasKernel,
  type ActivationSpec,
  type InitializerName,
  type LayerSpec,
  type ModelFormat,
  type ModelSpec,
  type SourceSpan,
  PositionIndex,
} from './model';
import { collectImports, type ImportTable } from './python/imports';
import { getReadyParser } from './parse/treeSitter';
// [issue 3] per-format edit builders
import { jsonSwapEdits } from './fixes/json';
import { tfjsSwapEdits } from './fixes/tfjsSource';
// [issue 3: PyTorch]
import { activationSwapEditsTorch } from './fixes/torchPython';
import { quoteOf } from './fixes/layout';

export { quoteOf };

/** A replacement of `span` (end exclusive) by `newText`; an empty span is an insertion. */
export interface TextEdit {
  readonly span: SourceSpan;
  readonly newText: string;
}

/**
 * The activation to switch a layer to, and optionally the kernel initialiser to go with it; or
 * (activation absent) an initialiser change alone. The bias initialiser goes on the layer itself
 * (a Dense/Conv layer: an activation layer has no bias).
 */
export interface ActivationSwap {
  readonly activation?: ActivationSpec;
  readonly kernelInitializer?: InitializerName;
  readonly biasInitializer?: InitializerName;
}

// #region Display

/** How an activation is written in a format, for messages: 'relu', 'LeakyReLU(0.01)', 'nn.ELU(alpha=1.0)'. */
export function describeActivation(a: ActivationSpec, format: ModelFormat): string {
  switch (format) {
    case 'keras-python':
    case 'keras-json': {
      const keras = kerasActivation(a);
      return keras.string ?? keras.layer ?? a.name;
    }
    case 'pytorch-python':
      return torchActivation(a);
    case 'tfjs-source':
    case 'tfjs-json':
      return tfjsActivation(a);
  }
}

const KERAS_ACTIVATION_STRINGS: Partial<Record<ActivationSpec['name'], string>> = {
  linear: 'linear',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu: 'relu',
  selu: 'selu',
  gelu: 'gelu',
  swish: 'swish',
  mish: 'mish',
  softplus: 'softplus',
  softsign: 'softsign',
  hardSigmoid: 'hard_sigmoid',
  exponential: 'exponential',
  softmax: 'softmax',
};

/** A Keras string for the activation, or a layer expression (class name + arguments), or neither. */
export function kerasActivation(a: ActivationSpec): { string?: string; layer?: string; layerClass?: string; needsConstant?: number } {
  if (a.name === 'elu') {
    const alpha = a.alpha ?? 1;
    return alpha === 1 ? { string: 'elu' } : { layer: `ELU(alpha=${formatNumber(alpha)})`, layerClass: 'ELU' };
  }
  if (a.name === 'leakyRelu') {
    return { layer: a.alpha === undefined ? 'LeakyReLU()' : `LeakyReLU(${formatNumber(a.alpha)})`, layerClass: 'LeakyReLU' };
  }
  if (a.name === 'relu6') return { layer: 'ReLU(max_value=6.0)', layerClass: 'ReLU' };
  if (a.name === 'prelu') {
    return a.alpha ? { layer: 'PReLU(…)', layerClass: 'PReLU', needsConstant: a.alpha } : { layer: 'PReLU()', layerClass: 'PReLU' };
  }
  const string = KERAS_ACTIVATION_STRINGS[a.name];
  return string ? { string } : {};
}

function torchActivation(a: ActivationSpec): string {
  switch (a.name) {
    case 'linear':
      return 'nn.Identity()';
    case 'sigmoid':
      return 'nn.Sigmoid()';
    case 'tanh':
      return 'nn.Tanh()';
    case 'relu':
      return 'nn.ReLU()';
    case 'leakyRelu':
      return `nn.LeakyReLU(${formatNumber(a.alpha ?? 0.01)})`;
    case 'rrelu':
      return `nn.RReLU(${formatNumber(a.lower ?? 1 / 8)}, ${formatNumber(a.upper ?? 1 / 3)})`;
    case 'prelu':
      return a.alpha === undefined ? 'nn.PReLU()' : `nn.PReLU(init=${formatNumber(a.alpha)})`;
    case 'elu':
      return `nn.ELU(alpha=${formatNumber(a.alpha ?? 1)})`;
    case 'selu':
      return 'nn.SELU()';
    case 'gelu':
      return 'nn.GELU()';
    case 'swish':
      return 'nn.SiLU()';
    case 'mish':
      return 'nn.Mish()';
    case 'softplus':
      return 'nn.Softplus()';
    case 'softsign':
      return 'nn.Softsign()';
    case 'hardSigmoid':
      return 'nn.Hardsigmoid()';
    case 'relu6':
      return 'nn.ReLU6()';
    case 'exponential':
      return 'torch.exp';
    case 'softmax':
      return 'nn.Softmax(dim=-1)';
  }
}

function tfjsActivation(a: ActivationSpec): string {
  switch (a.name) {
    case 'leakyRelu':
      return `tf.layers.leakyReLU({alpha: ${formatNumber(a.alpha ?? 0.3)}})`;
    case 'prelu':
      return 'tf.layers.prelu()';
    case 'rrelu':
      return `RReLU(${formatNumber(a.lower ?? 1 / 8)}, ${formatNumber(a.upper ?? 1 / 3)})`;
    case 'elu':
      return (a.alpha ?? 1) === 1 ? "'elu'" : `tf.layers.elu({alpha: ${formatNumber(a.alpha ?? 1)}})`;
    case 'exponential':
      return 'tf.exp';
    default:
      return `'${a.name}'`;
  }
}

/** Python-style number: always a decimal point for floats-to-be (1 → 1.0), otherwise shortest form. */
function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

// #endregion

// #region Edits

const KERAS_INITIALIZER_STRINGS: Partial<Record<InitializerName, string>> = {
  glorotUniform: 'glorot_uniform',
  glorotNormal: 'glorot_normal',
  heUniform: 'he_uniform',
  heNormal: 'he_normal',
  lecunUniform: 'lecun_uniform',
  lecunNormal: 'lecun_normal',
  zeros: 'zeros',
  ones: 'ones',
  orthogonal: 'orthogonal',
  randomNormal: 'random_normal',
  randomUniform: 'random_uniform',
  truncatedNormal: 'truncated_normal',
};

/** The edits that switch layer `layerIndex` of `model` (loaded from `text`) to `swap`. */
export function activationSwapEdits(
  text: string,
  model: ModelSpec,
  layerIndex: number,
  swap: ActivationSwap,
): TextEdit[] | { error: string } {
  // [issue 3] TF.js source and saved-model JSON have their own edit builders.
  if (model.format === 'tfjs-source') return tfjsSwapEdits(text, model, layerIndex, swap);
  if (model.format === 'keras-json' || model.format === 'tfjs-json') return jsonSwapEdits(text, model, layerIndex, swap);
  // [issue 3: PyTorch]
  if (model.format === 'pytorch-python') return activationSwapEditsTorch(text, model, layerIndex, swap);
  if (model.format !== 'keras-python') return { error: `Activation swaps are not available for ${model.format} yet.` };
  const layer = model.layers[layerIndex];
  if (!layer) return { error: `Model \`${model.name}\` has no layer ${layerIndex}.` };
  const stale = staleSpans(text, layer);
  if (stale) return { error: stale };

  const activation = swap.activation;
  if (activation?.name === 'rrelu') return { error: 'Keras has no RReLU activation; LeakyReLU with a slope of 1/5.5 is the closest.' };

  const names = new KerasNames(text, model, layer);
  const positions = new PositionIndex(text);
  const edits: TextEdit[] = [];
  // Arguments to add per layer, so that `Dense(64)` gets one insertion with both new arguments.
  const insertions = new Map<LayerSpec, string[]>();
  const insert = (owner: LayerSpec, argument: string): void => {
    insertions.set(owner, [...(insertions.get(owner) ?? []), argument]);
  };

  if (!activation) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no weights to initialise.` };
  } else if (layer.kind === 'activation') {
    const replaced = replaceActivationLayer(text, layer, activation, names, positions);
    if ('error' in replaced) return replaced;
    edits.push(...replaced.edits);
  } else if (hasKernel(layer.kind)) {
    if (activation.name === 'prelu') {
      return { error: 'PReLU has trainable weights and cannot be passed as `activation=`; add a PReLU layer after this one instead.' };
    }
    const expression = activationExpression(activation, names);
    if ('error' in expression) return expression;
    edits.push(...expression.importEdits);
    const valueSpan = layer.source.activationValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: expression.text });
    else insert(layer, `activation=${expression.text}`);
  } else {
    return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation to change.` };
  }

  if (swap.biasInitializer) {
    const initializer = KERAS_INITIALIZER_STRINGS[swap.biasInitializer];
    if (!initializer) return { error: `The initialiser ${swap.biasInitializer} has no Keras string name.` };
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no bias.` };
    if (layer.useBias === false) return { error: `Layer \`${layer.name}\` has no bias (use_bias=False).` };
    const newValue = `${quoteOf(text, layer)}${initializer}${quoteOf(text, layer)}`;
    const valueSpan = layer.source.biasInitializerValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: newValue });
    else insert(layer, `bias_initializer=${newValue}`);
  }

  if (swap.kernelInitializer) {
    const initializer = KERAS_INITIALIZER_STRINGS[swap.kernelInitializer];
    if (!initializer) return { error: `The initialiser ${swap.kernelInitializer} has no Keras string name.` };
    const owner = hasKernel(layer.kind) ? layer : model.layers.slice(0, layerIndex).reverse().find((l) => hasKernel(l.kind));
    if (owner) {
      const ownerStale = staleSpans(text, owner);
      if (ownerStale) return { error: ownerStale };
      const newValue = `"${initializer}"`;
      const valueSpan = owner.source.kernelInitializerValueSpan;
      if (valueSpan) edits.push({ span: valueSpan, newText: newValue });
      else insert(owner, `kernel_initializer=${newValue}`);
    }
  }

  for (const [owner, newArguments] of insertions) {
    const insertion = insertArguments(text, owner, newArguments, positions);
    if ('error' in insertion) return insertion;
    edits.push(insertion);
  }
  return dedupe(edits);
}

/** The Python expression for an `activation=` value: a string, or a layer instance. */
export function activationExpression(activation: ActivationSpec, names: KerasNames): { text: string; importEdits: readonly TextEdit[] } | { error: string } {
  const target = kerasActivation(activation);
  if (target.string) return { text: `"${target.string}"`, importEdits: [] };
  if (target.layer && target.layerClass) {
    const reference = names.layerReference(target.layerClass);
    if ('error' in reference) return reference;
    return { text: reference.prefix + target.layer, importEdits: reference.importEdits };
  }
  return { error: `Keras has no equivalent of ${activation.name}.` };
}

/** Applies non-overlapping edits (in any order) and returns the new text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.span.start.offset - b.span.start.offset || a.span.end.offset - b.span.end.offset);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1].span;
    const current = sorted[i].span;
    const bothInsertAtSamePoint =
      previous.start.offset === previous.end.offset && current.start.offset === current.end.offset && previous.start.offset === current.start.offset;
    if (current.start.offset < previous.end.offset || bothInsertAtSamePoint) {
      throw new Error(`Overlapping edits at offsets ${previous.start.offset} and ${current.start.offset}.`);
    }
  }
  let result = text;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const { span, newText } = sorted[i];
    result = result.slice(0, span.start.offset) + newText + result.slice(span.end.offset);
  }
  return result;
}

function dedupe(edits: TextEdit[]): TextEdit[] {
  const seen = new Set<string>();
  return edits.filter((edit) => {
    const key = `${edit.span.start.offset}:${edit.span.end.offset}:${edit.newText}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Refuses spans that no longer match the text (the file changed since it was loaded). */
function staleSpans(text: string, layer: LayerSpec): string | undefined {
  const { span, argumentsSpan } = layer.source;
  const stale = `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.`;
  if (span.end.offset > text.length || text[span.end.offset - 1] !== ')') return stale;
  if (argumentsSpan && (text[argumentsSpan.start.offset] !== '(' || text[argumentsSpan.end.offset - 1] !== ')')) return stale;
  return undefined;
}

function replaceActivationLayer(
  text: string,
  layer: LayerSpec,
  activation: ActivationSpec,
  names: KerasNames,
  positions: PositionIndex,
): { edits: TextEdit[] } | { error: string } {
  const target = kerasActivation(activation);
  const callee = layer.source.calleeSpan ? text.slice(layer.source.calleeSpan.start.offset, layer.source.calleeSpan.end.offset) : '';
  const isActivationCall = callee === 'Activation' || callee.endsWith('.Activation');
  if (target.string && isActivationCall && layer.source.activationValueSpan) {
    return { edits: [{ span: layer.source.activationValueSpan, newText: `"${target.string}"` }] };
  }
  const edits: TextEdit[] = [];
  let newCall: string;
  if (target.string) {
    const reference = names.layerReference('Activation');
    if ('error' in reference) return reference;
    edits.push(...reference.importEdits);
    newCall = `${reference.prefix}Activation("${target.string}")`;
  } else if (target.layerClass) {
    const reference = names.layerReference(target.layerClass);
    if ('error' in reference) return reference;
    edits.push(...reference.importEdits);
    let call = target.layer ?? `${target.layerClass}()`;
    if (target.needsConstant !== undefined) {
      const constant = names.initializerReference('Constant');
      if ('error' in constant) return constant;
      edits.push(...constant.importEdits);
      call = `PReLU(alpha_initializer=${constant.prefix}Constant(${formatNumber(target.needsConstant)}))`;
    }
    newCall = reference.prefix + call;
  } else {
    return { error: `Keras has no equivalent of ${activation.name}.` };
  }
  edits.push({ span: positions.span(layer.source.span.start.offset, layer.source.span.end.offset), newText: newCall });
  return { edits };
}

/**
 * Inserts keyword arguments before a call's closing parenthesis, following its layout: one
 * argument per line stays one per line (same indentation), a trailing comma stays trailing.
 */
function insertArguments(text: string, layer: LayerSpec, newArguments: readonly string[], positions: PositionIndex): TextEdit | { error: string } {
  const argumentsSpan = layer.source.argumentsSpan;
  if (!argumentsSpan) return { error: `The arguments of layer \`${layer.name}\` were not recorded.` };
  return insertPythonArguments(text, argumentsSpan, newArguments, positions, `layer \`${layer.name}\``);
}

/** Inserts arguments into the Python argument list `argumentsSpan` (with its parentheses), following its layout. */
export function insertPythonArguments(text: string, argumentsSpan: SourceSpan, newArguments: readonly string[], positions: PositionIndex, what: string): TextEdit | { error: string } {
  const scan = scanArgumentList(text, argumentsSpan.start.offset, argumentsSpan.end.offset - 1);
  if (!scan) return { error: `Could not read the arguments of ${what}.` };
  const insertAt = (offset: number, newText: string): TextEdit => ({ span: positions.span(offset, offset), newText });
  if (scan.lastArgumentStart === undefined || scan.lastSignificantEnd === undefined) {
    return insertAt(argumentsSpan.start.offset + 1, newArguments.join(', '));
  }
  const lastLineStart = text.lastIndexOf('\n', scan.lastArgumentStart - 1) + 1;
  const onOwnLine = text.lastIndexOf('\n', scan.lastArgumentStart - 1) > argumentsSpan.start.offset;
  if (onOwnLine) {
    let indent = '';
    for (let i = lastLineStart; i < text.length && (text[i] === ' ' || text[i] === '\t'); i++) indent += text[i];
    // A comment after the last argument stays on its line: the new arguments go below it.
    const lineEnd = text.indexOf('\n', scan.lastSignificantEnd);
    const rest = lineEnd < 0 ? '' : text.slice(scan.lastSignificantEnd, lineEnd);
    const restIsComment = lineEnd >= 0 && lineEnd < argumentsSpan.end.offset && rest.trim().startsWith('#');
    if (scan.trailingComma) {
      const at = restIsComment ? lineEnd : scan.lastSignificantEnd;
      return insertAt(at, newArguments.map((a) => `\n${indent}${a},`).join(''));
    }
    const added = newArguments.map((a) => `\n${indent}${a}`).join(',');
    if (restIsComment) {
      return { span: positions.span(scan.lastSignificantEnd, lineEnd), newText: `,${rest}${added}` };
    }
    return insertAt(scan.lastSignificantEnd, `,${added}`);
  }
  if (scan.trailingComma) return insertAt(scan.lastSignificantEnd, ` ${newArguments.join(', ')},`);
  return insertAt(scan.lastSignificantEnd, `, ${newArguments.join(', ')}`);
}

/**
 * Walks a Python argument list between `open` (the "(") and `close` (the ")"), skipping strings,
 * comments and nested brackets, and reports where its last top-level argument starts, where its
 * last code character ends, and whether that character is a trailing comma.
 */
function scanArgumentList(
  text: string,
  open: number,
  close: number,
): { lastArgumentStart?: number; lastSignificantEnd?: number; trailingComma: boolean } | undefined {
  if (text[open] !== '(' || text[close] !== ')') return undefined;
  let depth = 0;
  let lastArgumentStart: number | undefined;
  let lastSignificantEnd: number | undefined;
  let trailingComma = false;
  let expectArgument = true;
  let i = open + 1;
  while (i < close) {
    const ch = text[i];
    if (ch === '#') {
      while (i < close && text[i] !== '\n') i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\\') {
      i++;
      continue;
    }
    if (depth === 0 && expectArgument) {
      lastArgumentStart = i;
      expectArgument = false;
    }
    if (ch === '"' || ch === "'") {
      i = skipString(text, i, close);
      lastSignificantEnd = i;
      trailingComma = false;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (depth === 0 && ch === ',') {
      expectArgument = true;
      trailingComma = true;
    } else {
      trailingComma = false;
    }
    i++;
    lastSignificantEnd = i;
  }
  return { lastArgumentStart, lastSignificantEnd, trailingComma };
}

/** Returns the offset just after the string literal starting at `start` (single or triple quoted). */
function skipString(text: string, start: number, limit: number): number {
  const quote = text[start];
  const triple = text.startsWith(quote.repeat(3), start);
  const delimiter = triple ? quote.repeat(3) : quote;
  let i = start + delimiter.length;
  while (i < limit) {
    if (text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(delimiter, i)) return i + delimiter.length;
    i++;
  }
  return limit;
}

// #endregion

// #region Names available in the file

interface Reference {
  /** What to write before the class name: '', 'layers.', 'tf.keras.layers.' … */
  readonly prefix: string;
  /** An import line to add when the file has no usable name for the class. */
  readonly importEdits: readonly TextEdit[];
}

interface ImportStatementInfo {
  readonly module: readonly string[];
  readonly names: readonly string[];
  readonly start: number;
  readonly end: number;
}

/** How the file can refer to Keras layer and initialiser classes. */
export class KerasNames {
  private readonly imports: ImportTable | undefined;
  private readonly importStatements: readonly ImportStatementInfo[];
  private readonly positions: PositionIndex;

  constructor(
    private readonly text: string,
    private readonly model: ModelSpec,
    private readonly layer: LayerSpec,
  ) {
    this.positions = new PositionIndex(text);
    const parser = getReadyParser('python');
    const tree = parser?.parse(text) ?? undefined;
    try {
      this.imports = tree ? collectImports(tree.rootNode) : undefined;
      this.importStatements = tree ? collectImportStatements(tree.rootNode) : [];
    } finally {
      tree?.delete();
    }
  }

  layerReference(className: string): Reference | { error: string } {
    // 1. The prefix the layer itself is written with, e.g. `layers.` in `layers.ReLU()`.
    const ownPrefix = this.calleePrefix(this.layer);
    if (ownPrefix) return { prefix: ownPrefix, importEdits: [] };
    return this.moduleReference('layers', className);
  }

  initializerReference(className: string): Reference | { error: string } {
    return this.moduleReference('initializers', className);
  }

  moduleReference(module: 'layers' | 'initializers' | 'optimizers' | 'losses', className: string): Reference | { error: string } {
    if (this.imports) {
      const entries = [...this.imports.entries()];
      const fromKeras = (path: readonly string[]): boolean => path.includes('keras');
      // In order of preference: the class imported by name, its module, keras, tensorflow.
      const candidates: [(path: readonly string[], local: string) => boolean, (local: string) => string][] = [
        [(path, local) => local === className && path[path.length - 1] === className && fromKeras(path), () => ''],
        [(path) => path[path.length - 1] === module && fromKeras(path), (local) => `${local}.`],
        [(path) => path[path.length - 1] === 'keras', (local) => `${local}.${module}.`],
        [(path) => path.length === 1 && path[0] === 'tensorflow', (local) => `${local}.keras.${module}.`],
      ];
      for (const [matches, prefix] of candidates) {
        const entry = entries.find(([local, path]) => matches(path, local));
        if (entry) return { prefix: prefix(entry[0]), importEdits: [] };
      }
      // A class imported by name (`from keras.layers import Dense`): import the new one the same way.
      const source = this.importStatements.find((s) => s.module.includes('keras') && s.module[s.module.length - 1] === module);
      const kerasRoot = this.importStatements.find((s) => s.module.includes('keras'))?.module;
      const line = source
        ? `from ${source.module.join('.')} import ${className}`
        : kerasRoot
          ? `from ${[...kerasRoot.slice(0, kerasRoot.indexOf('keras') + 1), module].join('.')} import ${className}`
          : undefined;
      const anchor = source ?? this.importStatements.find((s) => s.module.includes('keras'));
      if (line && anchor) {
        return { prefix: '', importEdits: [{ span: this.positions.span(anchor.end, anchor.end), newText: `\n${line}` }] };
      }
    }
    // Without the syntax tree: reuse a qualified prefix another layer of the model is written with.
    if (module === 'layers') {
      for (const other of this.model.layers) {
        const prefix = this.calleePrefix(other);
        if (prefix) return { prefix, importEdits: [] };
      }
    }
    return { error: `Cannot tell how this file refers to Keras ${module}; write \`${className}\` by hand.` };
  }

  /** `tf.keras.layers.` for `tf.keras.layers.Dense`, '' for bare `Dense`. */
  private calleePrefix(layer: LayerSpec): string {
    const span = layer.source.calleeSpan;
    if (!span) return '';
    const callee = this.text.slice(span.start.offset, span.end.offset);
    const dot = callee.lastIndexOf('.');
    return dot >= 0 ? callee.slice(0, dot + 1) : '';
  }
}

function collectImportStatements(root: Node): ImportStatementInfo[] {
  const statements: ImportStatementInfo[] = [];
  for (const statement of root.descendantsOfType('import_from_statement')) {
    if (!statement) continue;
    const moduleName = statement.childForFieldName('module_name');
    if (!moduleName || moduleName.type !== 'dotted_name') continue;
    statements.push({
      module: moduleName.text.split('.'),
      names: statement.childrenForFieldName('name').map((n) => n?.text ?? ''),
      start: statement.startIndex,
      end: statement.endIndex,
    });
  }
  return statements;
}

// #endregion
