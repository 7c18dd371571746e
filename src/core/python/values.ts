/**
 * The values of the shared static Python evaluator (issue 12). Python's own values (numbers,
 * strings, lists, dicts, the file's functions, classes and their instances) are kinds of their
 * own; a framework's values (a torch module, a Keras layer call or tensor chain) are `host`
 * values of the framework's own type H, which the evaluator never looks into: it hands them to
 * the framework's hooks (host.ts). This file imports nothing from frameworks/.
 */
import type { Node } from 'web-tree-sitter';
import type { LoadProblemCode } from '../model';
import type { DictEntry } from './dicts';

/** A Python value known statically, or `unknown` with the node and reason it could not be known. */
export type Value<H = unknown> =
  | { readonly kind: 'number'; readonly value: number; /** Written or computed as a float (`1.0`, `/`): str() prints `1.0`. */ readonly float?: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  /**
   * A list, tuple or set. `items` of a list is changed in place by `append` / `extend` / `+=`
   * (Python aliasing: `b = a; b.append(1)` changes `a` too); tuples are never changed.
   */
  | { readonly kind: 'sequence'; readonly items: Value<H>[]; readonly type: 'list' | 'tuple' | 'set' }
  /** A dict with constant keys in insertion order; changed in place by `d[k] = v` / `update`. */
  | { readonly kind: 'dict'; readonly entries: DictEntry<Value<H>>[] }
  /** A dotted name not bound in the file, resolved through the imports: `nn.Linear` → torch.nn.Linear. */
  | { readonly kind: 'reference'; readonly path: readonly string[] }
  /** A def of the file (or a lambda), closed over the scope it was defined in; a method is bound to `self`. */
  | { readonly kind: 'function'; readonly node: Node; readonly scope: Scope<H>; readonly self?: Value<H> }
  /** A class of the file: its class-level attributes and its bases' values. */
  | { readonly kind: 'class'; readonly node: Node; readonly name: string; readonly attrs: Map<string, Value<H>>; readonly bases: readonly Value<H>[]; readonly scope: Scope<H> }
  /** An instance of a class of the file (`self` while its `__init__` runs, a config object). */
  | { readonly kind: 'object'; readonly cls: Extract<Value<H>, { kind: 'class' }>; readonly attrs: Map<string, Value<H>> }
  /** A framework value (host.ts decides what it is and how it behaves). */
  | { readonly kind: 'host'; readonly host: H }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

export type ClassValue<H> = Extract<Value<H>, { kind: 'class' }>;
export type ObjectValue<H> = Extract<Value<H>, { kind: 'object' }>;
export type FunctionValue<H> = Extract<Value<H>, { kind: 'function' }>;
export type SequenceValue<H> = Extract<Value<H>, { kind: 'sequence' }>;
export type UnknownValue = { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

/** Names bound to values; implemented by scope.ts. */
export interface Scope<H> {
  lookup(name: string): Value<H> | undefined;
}

export function unknown(node: Node, reason: string): UnknownValue {
  return { kind: 'unknown', node, reason };
}

export function num(value: number, float = false): Value<never> {
  return float ? { kind: 'number', value, float } : { kind: 'number', value };
}

export function str(value: string): Value<never> {
  return { kind: 'string', value };
}

export function list<H>(items: Value<H>[], type: 'list' | 'tuple' | 'set' = 'list'): Value<H> {
  return { kind: 'sequence', items, type };
}

/** `line:column` (1-based) of a node, as every message names a position. */
export function position(node: Node): string {
  return `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

/** A one-line excerpt of source text for messages. */
export function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/**
 * Thrown when the file's work budget (MAX_PYTHON_STEPS evaluation steps) or the nesting limit
 * runs out: the node it ran out at, and a message that names the construct and its position.
 * Deterministic: counted in steps, never in time.
 */
export class PythonBudgetExceeded extends Error {
  constructor(
    readonly node: Node,
    message: string,
  ) {
    super(message);
  }
}

/** The one work budget of a file, shared by the evaluator, the interpreter and every imported module read for it. */
export class Budget {
  steps = 0;
  constructor(readonly limit: number) {}
  /** Charges `cost` steps for `node`; throws PythonBudgetExceeded past the limit. */
  tick(node: Node, cost = 1): void {
    this.steps += cost;
    if (this.steps > this.limit) {
      throw new PythonBudgetExceeded(
        node,
        `the file needs more than ${this.limit.toLocaleString('en-US')} evaluation steps to read statically; the budget ran out at \`${shorten(node.text)}\` (${position(node)}).`,
      );
    }
  }
}

/** Raised while building a model when it cannot be trained soundly; the model is dropped and the problem is reported at `node`. */
export class UnsoundModel extends Error {
  constructor(
    readonly code: LoadProblemCode,
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

/** Python's `repr`-like text of a value for messages. */
export function describeValue<H>(value: Value<H>, describeHost?: (host: H) => string): string {
  switch (value.kind) {
    case 'number':
      return pythonStr(value);
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'string':
      return JSON.stringify(value.value);
    case 'none':
      return 'None';
    case 'sequence':
      return `a ${value.type} of ${value.items.length}`;
    case 'dict':
      return 'a dict';
    case 'reference':
      return `\`${value.path.join('.')}\``;
    case 'function':
      return `the function \`${value.node.childForFieldName('name')?.text ?? 'lambda'}\``;
    case 'class':
      return `the class \`${value.name}\``;
    case 'object':
      return `an instance of \`${value.cls.name}\``;
    case 'host':
      return describeHost ? describeHost(value.host) : 'a framework value';
    case 'unknown':
      return `\`${shorten(value.node.text)}\` (${value.reason})`;
  }
}

/** Python's str() of a constant, or undefined for values that have no static text. */
export function pythonStr<H>(value: Value<H>): string {
  switch (value.kind) {
    case 'number':
      if (value.float && Number.isInteger(value.value) && Math.abs(value.value) < 1e16) return `${value.value}.0`;
      return String(value.value);
    case 'string':
      return value.value;
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'sequence': {
      const inner = value.items.map((item) => (item.kind === 'string' ? `'${item.value}'` : pythonStr(item) ?? '?')).join(', ');
      if (value.type === 'tuple') return value.items.length === 1 ? `(${inner},)` : `(${inner})`;
      return value.type === 'set' ? `{${inner}}` : `[${inner}]`;
    }
    case 'dict':
      return `{${value.entries.map((e) => `${typeof e.key === 'string' ? `'${e.key}'` : e.key}: ${e.value.kind === 'string' ? `'${e.value.value}'` : pythonStr(e.value)}`).join(', ')}}`;
    default:
      return '?';
  }
}

/** ` (<reason>, line:col)` when a value is unknown, for messages that say what blocked something. */
export function because<H>(value: Value<H>): string {
  return value.kind === 'unknown' ? ` (${value.reason}, ${position(value.node)})` : '';
}
