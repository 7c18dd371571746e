/**
 * How a framework plugs into the shared Python evaluator. The evaluator knows Python; a host
 * knows what `nn.Linear(8, 4)`, `layers.Dense(64)(x)` or `model.add(...)` mean. Every hook is
 * optional: without a host the evaluator reads plain Python (what a config module holds).
 */
import type { Node } from 'web-tree-sitter';
import type { Env } from './scope';
import type { Scope, Value } from './values';

/** The arguments of a call, evaluated (splats expanded when their values are known). */
export interface CallArguments<H> {
  readonly positional: readonly Value<H>[];
  /** Keyword arguments in written order. */
  readonly keyword: ReadonlyMap<string, Value<H>>;
  /** The argument nodes, in the same order (`positional` / keyword value nodes), for positions in messages. */
  readonly positionalNodes: readonly Node[];
  readonly keywordNodes: ReadonlyMap<string, Node>;
  /** Set when an argument could not be expanded (`*xs` of an unknown list): the reason. */
  readonly unknownSplat?: Extract<Value<H>, { kind: 'unknown' }>;
}

/** A call the evaluator cannot evaluate as Python: offered to the host. */
export interface HostCall<H> {
  readonly node: Node;
  readonly callee: Node;
  /** The callee's value: a `reference` (`nn.Linear`, resolved through the imports), a `host` value (a layer called on a tensor), a `class` of the file, … */
  readonly calleeValue: Value<H>;
  /** The resolved dotted path when the callee is a reference (`['torch','nn','Linear']`). */
  readonly path?: readonly string[];
  readonly scope: Scope<H>;
  /** Evaluates the arguments (lazily: a host that refuses early never pays for them). */
  readonly args: () => CallArguments<H>;
}

export interface PythonHost<H> {
  /**
   * A call that is not a Python builtin nor a def of the file: a framework constructor or
   * function, a method of a host value, a call of a host value. undefined: not the framework's
   * (the evaluator answers `unknown` with the call and its position).
   */
  call?(call: HostCall<H>): Value<H> | undefined;
  /**
   * Instantiating a class of the file (`Net(hidden=64)`): a host value when it is a framework
   * class (an nn.Module subclass, a keras.Model subclass); undefined runs it as a plain Python
   * class (its `__init__` with `self` bound to a new object).
   */
  instantiate?(cls: Extract<Value<H>, { kind: 'class' }>, call: HostCall<H>): Value<H> | undefined;
  /** `value.name` on a host value; undefined: unknown. */
  attribute?(object: H, name: string, node: Node): Value<H> | undefined;
  /** `value[index]` on a host value; undefined: unknown. */
  subscript?(object: H, index: Value<H>, node: Node): Value<H> | undefined;
  /**
   * `isinstance(value, types)` for a host value (`isinstance(m, nn.Linear)` in an init loop):
   * the types as evaluated (references resolved through the imports); undefined: unknown.
   */
  isinstance?(object: H, types: readonly Value<H>[], node: Node): boolean | undefined;
  /** What `for x in value` visits, for a host value (an nn.ModuleList); also what a slice of it takes. */
  iterate?(object: H): readonly Value<H>[] | undefined;
  /**
   * The host value each further repetition of `[v] * n` holds. Python repeats the same object
   * (the default, without this hook); a host that reads repetitions as distinct objects (Keras
   * reads `[Dense(64)] * 3` as three layers, the user's evident intent) returns a copy.
   */
  repeat?(object: H): H;
  /** A binary operator with a host operand (`x + y` on tensors); undefined: unknown. */
  binary?(operator: string, left: Value<H>, right: Value<H>, node: Node): Value<H> | undefined;
  /** Text of a host value in messages (`nn.Linear(8, 4)`). */
  describe?(object: H): string;
  /**
   * An expression statement that is a call (`model.add(Dense(4))`, `nn.init.xavier_uniform_(w)`):
   * true when the host recorded its effect; false lets the interpreter evaluate it as Python
   * (`layers.append(...)` changes a list).
   */
  effect?(call: Node, env: Env<H>): boolean;
  /**
   * `obj.name = value` where obj is a host value or `self` of a framework class; true when the
   * host recorded it (the interpreter also sets the attribute of a plain `object`).
   */
  assignAttribute?(object: Value<H>, name: string, value: Value<H>, target: Node): boolean;
  /**
   * True when this syntax may construct or change a model (a framework constructor, `.add(`,
   * a layer call): a loop whose body has none and whose assigned names no model-building
   * statement reads is not stepped through (its names become unknown), so a 200-epoch training
   * loop costs its body's size, not epochs × body. Without this hook every loop is stepped.
   */
  mayChangeModel?(node: Node): boolean;
  /**
   * A block not run because its condition or iterable is unknown (or a `while`, or a loop skipped
   * as inert), with the reason; the host may refuse a model built inside it.
   */
  skipped?(block: Node, reason: string, env: Env<H>): void;
}
