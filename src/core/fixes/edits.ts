/**
 * What every format's fixer shares: the edit and swap types, how an activation is written in each
 * format (for messages), applying edits, and inserting Python arguments following the call's
 * layout. Pure and synchronous; imports no fixer, so each fixer and the format registry can use it.
 */
import type { ActivationSpec, InitializerName, ModelFormat, PositionIndex, SourceSpan } from '../model';

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
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

// #endregion

// #region Edits

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
