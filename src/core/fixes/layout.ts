/**
 * Where a layer call sits in its source (a list of layers, a `model.add(...)` statement, a
 * functional call `Dense(...)(x)` / `tf.layers.dense(...).apply(x)`) and edits that add layers
 * next to it in the same layout: one layer per line stays one per line with the file's
 * indentation, an inline list stays inline. Shared by the Keras Python, TF.js source and
 * PyTorch fixers. Pure.
 */
import type { LayerSpec, PositionIndex, SourceSpan } from '../model';
import type { TextEdit } from './edits';

export type Syntax = 'python' | 'js';

/**
 * The quote character the layer's call (else the file) writes strings with, the first one found;
 * `fallback` where neither writes any (Python's repr uses "'", Black and Keras docs '"').
 */
export function quoteOf(text: string, layer: LayerSpec | undefined, fallback: '"' | "'" = '"'): '"' | "'" {
  const own = layer ? text.slice(layer.source.span.start.offset, layer.source.span.end.offset) : '';
  for (const source of [own, text]) {
    const single = source.indexOf("'");
    const double = source.indexOf('"');
    if (single >= 0 && (double < 0 || single < double)) return "'";
    if (double >= 0) return '"';
  }
  return fallback;
}

export type Placement =
  | { readonly kind: 'list'; readonly ownLine: boolean; readonly indent: string }
  | { readonly kind: 'add'; readonly indent: string; readonly receiver: string; readonly statementStart: number; readonly statementEnd: number; readonly semicolon: string }
  /** `open`..`close`: the parentheses of the call's input, `(x)` (Python) or `.apply(x)`'s (JS). */
  | { readonly kind: 'functional'; readonly open: number; readonly close: number };

const isSpace = (ch: string | undefined): boolean => ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';

/** The offset of the previous code character before `offset` (skipping whitespace and, for Python, `#` comments), or -1. */
function previousCode(text: string, offset: number, syntax: Syntax): number {
  let i = offset - 1;
  for (;;) {
    while (i >= 0 && isSpace(text[i])) i--;
    if (i < 0) return -1;
    // A comment ending this line: skip back to its start when the line has one outside strings (approximation: last '#' / '//').
    const lineStart = text.lastIndexOf('\n', i) + 1;
    const line = text.slice(lineStart, i + 1);
    const marker = syntax === 'python' ? line.indexOf('#') : line.indexOf('//');
    if (marker >= 0 && !/["'`]/.test(line.slice(0, marker))) {
      i = lineStart + marker - 1;
      continue;
    }
    return i;
  }
}

function nextCode(text: string, offset: number, syntax: Syntax): number {
  let i = offset;
  for (;;) {
    while (i < text.length && isSpace(text[i])) i++;
    if (i >= text.length) return -1;
    if ((syntax === 'python' && text[i] === '#') || (syntax === 'js' && text.startsWith('//', i))) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    return i;
  }
}

/** The offset just after the bracket matching the one at `open` (strings skipped), or -1. */
export function matchingClose(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'" || ch === '`') {
      const quote = ch;
      for (i++; i < text.length && text[i] !== quote; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export function lineIndent(text: string, offset: number): { lineStart: number; indent: string; ownLine: boolean } {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let end = lineStart;
  while (end < offset && (text[end] === ' ' || text[end] === '\t')) end++;
  return { lineStart, indent: text.slice(lineStart, end), ownLine: end === offset };
}

/** How the layer call at `span` is placed, or why new layers cannot be put next to it. */
export function placementOf(text: string, span: SourceSpan, syntax: Syntax): Placement | { error: string } {
  const start = span.start.offset;
  const end = span.end.offset;
  const before = previousCode(text, start, syntax);
  const after = nextCode(text, end, syntax);
  const nextChar = after >= 0 ? text[after] : '';
  // Functional: `Dense(64)(x)` / `tf.layers.dense({...}).apply(x)`.
  if (syntax === 'python' && nextChar === '(') {
    const close = matchingClose(text, after);
    if (close > 0) return { kind: 'functional', open: after, close: close - 1 };
  }
  if (syntax === 'js' && text.startsWith('.apply', after)) {
    const open = nextCode(text, after + '.apply'.length, syntax);
    const close = open >= 0 && text[open] === '(' ? matchingClose(text, open) : -1;
    if (close > 0) return { kind: 'functional', open, close: close - 1 };
  }
  if (before >= 0 && text[before] === '(' && /\.add\s*$/.test(text.slice(Math.max(0, before - 40), before)) && nextChar === ')') {
    const { lineStart, indent } = lineIndent(text, before);
    const receiverEnd = text.lastIndexOf('.add', before);
    const receiver = text.slice(lineStart + indent.length, receiverEnd);
    if (!/^[\w$.[\]]+$/.test(receiver)) return { error: 'The `.add(...)` call does not start its line; add the layers by hand.' };
    const semicolon = text[after + 1] === ';' ? ';' : '';
    return { kind: 'add', indent, receiver, statementStart: lineStart + indent.length, statementEnd: after + 1 + semicolon.length, semicolon };
  }
  if (before >= 0 && (text[before] === '[' || text[before] === ',' || text[before] === '(') && (nextChar === ',' || nextChar === ']' || nextChar === ')')) {
    const { indent, ownLine } = lineIndent(text, start);
    return { kind: 'list', ownLine, indent };
  }
  if (syntax === 'python' && /^for\b/.test(text.slice(after, after + 4))) {
    return { error: 'The layer is built by a comprehension (one call for every repetition); write the loop out to add layers between.' };
  }
  return { error: 'The layer is not in a list of layers, a `.add(...)` call or a functional call; add the layers by hand.' };
}

/** Edits that put `layers` (expressions) right after the layer at `span`, in its placement. */
export function layersAfter(text: string, span: SourceSpan, layers: readonly string[], placement: Placement, syntax: Syntax, positions: PositionIndex): TextEdit[] {
  const at = (offset: number, newText: string): TextEdit => ({ span: positions.span(offset, offset), newText });
  switch (placement.kind) {
    case 'list':
      return [at(span.end.offset, placement.ownLine ? layers.map((l) => `,\n${placement.indent}${l}`).join('') : layers.map((l) => `, ${l}`).join(''))];
    case 'add':
      return [at(placement.statementEnd, layers.map((l) => `\n${placement.indent}${placement.receiver}.add(${l})${placement.semicolon}`).join(''))];
    case 'functional': {
      // L(x) → Ln(…L1(L(x))…); JS: L.apply(x) → Ln.apply(…L1.apply(L.apply(x))…).
      const apply = syntax === 'js' ? '.apply(' : '(';
      const opening = [...layers].reverse().map((l) => `${l}${apply}`).join('');
      return [at(span.start.offset, opening), at(placement.close + 1, ')'.repeat(layers.length))];
    }
  }
}

/** Edits that put `layers` right before the layer at `span` (between it and its input). */
export function layersBefore(text: string, span: SourceSpan, layers: readonly string[], placement: Placement, syntax: Syntax, positions: PositionIndex): TextEdit[] {
  const at = (offset: number, newText: string): TextEdit => ({ span: positions.span(offset, offset), newText });
  switch (placement.kind) {
    case 'list':
      return [at(span.start.offset, placement.ownLine ? layers.map((l) => `${l},\n${placement.indent}`).join('') : layers.map((l) => `${l}, `).join(''))];
    case 'add':
      return [at(placement.statementStart, layers.map((l) => `${placement.receiver}.add(${l})${placement.semicolon}\n${placement.indent}`).join(''))];
    case 'functional': {
      const apply = syntax === 'js' ? '.apply(' : '(';
      const opening = [...layers].reverse().map((l) => `${l}${apply}`).join('');
      return [at(placement.open + 1, opening), at(placement.close, ')'.repeat(layers.length))];
    }
  }
}

/** Removes one argument (or object property) at `span` with the comma that separates it from its neighbour. */
export function removeArgument(text: string, span: SourceSpan, syntax: Syntax, positions: PositionIndex): TextEdit {
  const before = previousCode(text, span.start.offset, syntax);
  if (before >= 0 && text[before] === ',') return { span: positions.span(before, span.end.offset), newText: '' };
  // The first argument: remove it, the comma after it and the space up to the next one.
  const after = nextCode(text, span.end.offset, syntax);
  if (after >= 0 && text[after] === ',') {
    let end = after + 1;
    while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
    return { span: positions.span(span.start.offset, end), newText: '' };
  }
  return { span: positions.span(span.start.offset, span.end.offset), newText: '' };
}

/** Python / JS number literal for a learning rate: rounded to 12 significant digits (0.001 × 0.1 → 0.0001). */
export function rateLiteral(value: number): string {
  const rounded = Number(value.toPrecision(12));
  return String(rounded);
}
