/**
 * The Keras loader's values and scopes over the shared static Python evaluator (issue 12):
 * plain Python (numbers, strings, lists, dicts, comprehensions, the file's functions and
 * classes, workspace modules) is evaluated by python/evaluator.ts and python/interpreter.ts;
 * Keras objects are its `host` values: a layer or initialiser call kept with the scope it was
 * written in (its arguments are read by the layer builder), and a functional-API tensor with
 * the layers applied to it. This file maps between the loader's offset-aware scopes (the
 * assignment in effect at a use site) and the evaluator's scopes.
 */
import type { Node, Parser } from 'web-tree-sitter';
import type { VersionedBindings } from '../../python/bindings';
import type { HostCall, PythonHost } from '../../python/host';
import type { ImportTable } from '../../python/imports';
import { PythonInterpreter } from '../../python/interpreter';
import { Env } from '../../python/scope';
import { describeValue as describePythonValue, list, shorten, type Budget, type ClassValue, type Scope as PythonScope, type Value as PythonValue } from '../../python/values';
import { type ActivationSpec, type LoadContext, type LoadProblemCode } from '../../model';

// #region Values

/** A Keras call that is not evaluated (a layer, an initialiser, a model), kept with the scope it appeared in. */
export interface CallHost {
  readonly kind: 'call';
  readonly node: Node;
  readonly scope: Scope;
}

/** A functional-API tensor: the layers applied since its `keras.Input`, newest first. */
export interface TensorHost {
  readonly kind: 'tensor';
  readonly chain: TensorChain;
}

export type KerasHost = CallHost | TensorHost;

/** A value of the loader: a Python value of the shared evaluator, with Keras objects as host values. */
export type Value = PythonValue<KerasHost>;

/** An unknown value, with what the loader adds to it. */
export interface KerasUnknown {
  readonly kind: 'unknown';
  readonly node: Node;
  readonly reason: string;
  /** The problem code when the value is refused for an unsupported layer (a merge) rather than a run-time value. */
  readonly code?: LoadProblemCode;
  /**
   * Set when `node` is an argument at the call of a builder function: problems are then
   * reported there, where the user wrote the value, instead of where the parameter is used.
   */
  readonly atCallSite?: boolean;
  /** Set when `node` is not where the problem is (a dict's change elsewhere): problems are reported where the value is used. */
  readonly atUse?: boolean;
}

export function unknown(node: Node, reason: string, extra: { code?: LoadProblemCode; atCallSite?: boolean; atUse?: boolean } = {}): Value {
  const value: KerasUnknown = { kind: 'unknown', node, reason, ...extra };
  return value;
}

/** The loader's details of an unknown value (undefined for other values). */
export function unknownOf(value: Value): KerasUnknown | undefined {
  return value.kind === 'unknown' ? value : undefined;
}

export function callValue(node: Node, scope: Scope): Value {
  return { kind: 'host', host: { kind: 'call', node, scope } };
}

/** The Keras call a value is, if it is one. */
export function callOf(value: Value | undefined): CallHost | undefined {
  return value?.kind === 'host' && value.host.kind === 'call' ? value.host : undefined;
}

/** The functional tensor a value is, if it is one. */
export function tensorOf(value: Value | undefined): TensorHost | undefined {
  return value?.kind === 'host' && value.host.kind === 'tensor' ? value.host : undefined;
}

export function sequence(items: Value[]): Value {
  return list(items);
}

/** Why a dict read by `name` is not a constant: it is changed at `at`. */
export function changedDictReason(name: string, at: Node): string {
  return `\`${name}\` is a dict that is changed at line ${at.startPosition.row + 1} (\`${shorten(at.text)}\`), so its contents are only known at run time`;
}

/** A persistent list of the layers applied to a functional tensor (cheap to extend in loops). */
export interface TensorChain {
  readonly layer: LayerCall;
  readonly previous: TensorChain | undefined;
  readonly length: number;
}

export function chainToArray(chain: TensorChain): LayerCall[] {
  const calls: LayerCall[] = [];
  for (let link: TensorChain | undefined = chain; link; link = link.previous) calls.push(link.layer);
  return calls.reverse();
}

// #endregion

// #region Scopes

export const UNBOUND = Symbol('unbound');

/** Name lookup for static evaluation. `atOffset` picks the assignment in effect at a use site. */
export interface Scope {
  lookup(name: string, atOffset: number): Value | typeof UNBOUND;
}

/** Fixed bindings: comprehension / loop variables, function parameters. */
export class ValueScope implements Scope {
  constructor(
    private readonly parent: Scope,
    private readonly values: ReadonlyMap<string, Value>,
  ) {}
  lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    const value = this.values.get(name);
    return value !== undefined ? value : this.parent.lookup(name, atOffset);
  }
}

/** The names an interpreter had set at one version: the last value of each at or before it. */
export class VersionScope implements Scope {
  constructor(
    private readonly parent: Scope,
    private readonly history: VersionedBindings<Value>,
    private readonly version: number,
  ) {}
  lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    const found = this.history.at(name, this.version);
    if (found) return found.value;
    return this.parent.lookup(name, atOffset);
  }
}

/** A loader scope seen from the shared evaluator at one offset (its names as Python has them there). */
class OffsetView implements PythonScope<KerasHost> {
  constructor(
    readonly scope: Scope,
    readonly offset: number,
    private readonly changedDicts: ReadonlyMap<string, Node>,
  ) {}
  lookup(name: string): Value | undefined {
    const value = this.scope.lookup(name, this.offset);
    if (value === UNBOUND) return undefined;
    if (value.kind === 'dict') {
      const changedAt = this.changedDicts.get(name);
      if (changedAt) return unknown(changedAt, changedDictReason(name, changedAt), { atUse: true });
    }
    return value;
  }
}

/** A scope of the shared evaluator (a function's or comprehension's) seen as a loader scope. */
class SharedView implements Scope {
  constructor(readonly scope: PythonScope<KerasHost>) {}
  lookup(name: string): Value | typeof UNBOUND {
    return this.scope.lookup(name) ?? UNBOUND;
  }
}

function loaderScope(scope: PythonScope<KerasHost>): Scope {
  return scope instanceof OffsetView ? scope.scope : new SharedView(scope);
}

/**
 * Simple `NAME = expr` assignments, `def`s and `class`es of one block (module or function body),
 * evaluated lazily, each once. The binding in effect is the last one before the use; at module
 * level, a use that precedes every binding (a function body that reads a constant defined
 * further down) takes the last.
 */
export class AssignmentScope implements Scope {
  private readonly bindings = new Map<string, { offset: number; value: Node }[]>();
  private readonly evaluating = new Set<number>();
  /** One value per binding: `d = Dense(8)` read twice is the same layer (shared weights). */
  private readonly values = new Map<number, Value>();

  constructor(
    private readonly evaluator: Evaluator,
    private readonly parent: Scope | undefined,
    block: Node,
    private readonly fallBackToLast: boolean,
  ) {
    for (const statement of block.namedChildren) {
      let name: string | undefined;
      let value: Node | null = null;
      let offset = statement?.endIndex ?? 0;
      if (statement?.type === 'expression_statement') {
        const assignment = statement.firstNamedChild;
        if (assignment?.type !== 'assignment') continue;
        const left = assignment.childForFieldName('left');
        value = assignment.childForFieldName('right');
        if (left?.type !== 'identifier') continue;
        name = left.text;
        offset = assignment.endIndex;
      } else if (statement?.type === 'function_definition' || statement?.type === 'class_definition' || statement?.type === 'decorated_definition') {
        value = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
        name = value?.childForFieldName('name')?.text;
      }
      if (!name || !value) continue;
      const list_ = this.bindings.get(name) ?? [];
      list_.push({ offset, value });
      this.bindings.set(name, list_);
    }
  }

  lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    const list_ = this.bindings.get(name);
    if (list_) {
      const before = list_.filter((entry) => entry.offset <= atOffset);
      const chosen = before.length > 0 ? before[before.length - 1] : this.fallBackToLast ? list_[list_.length - 1] : undefined;
      if (chosen) return this.valueOf(name, chosen.value);
    }
    return this.parent ? this.parent.lookup(name, atOffset) : UNBOUND;
  }

  private valueOf(name: string, node: Node): Value {
    const cached = this.values.get(node.id);
    if (cached) return cached;
    if (this.evaluating.has(node.id)) return unknown(node, `\`${name}\` refers to itself`);
    this.evaluating.add(node.id);
    try {
      // A def closes over this block (its globals are read when it is called); a class body runs once.
      const scope = this.parent ?? this;
      const value: Value =
        node.type === 'function_definition' ? { kind: 'function', node, scope: this.evaluator.view(this, node.endIndex) }
        : node.type === 'class_definition' ? this.evaluator.classValue(node, this.evaluator.view(this, node.startIndex))
        : this.evaluator.evaluate(node, scope, node.startIndex);
      this.values.set(node.id, value);
      return value;
    } finally {
      this.evaluating.delete(node.id);
    }
  }
}

// #endregion

// #region The evaluator

/** What the loader tells the evaluator about Keras. */
export interface KerasEvaluatorOptions {
  readonly root: Node;
  readonly imports: ImportTable;
  readonly budget: Budget;
  readonly context: LoadContext;
  readonly parser: Parser;
  /** Dicts changed in place in the file (see findDictMutations): not constants. */
  readonly changedDicts: ReadonlyMap<string, Node>;
  /** The framework's calls with a static value (Keras' `K.image_data_format()`); undefined: not one. */
  readonly backendCall: (call: Node) => Value | undefined;
  /** True when a call builds a Keras object (a layer, an initialiser, an optimiser). */
  readonly isKerasCall: (call: Node) => boolean;
  /** True when a class of the file is a Keras model or layer subclass. */
  readonly isKerasClass: (cls: Node) => boolean;
}

/** The shared Python evaluator with the Keras host, evaluating in the loader's scopes. */
export class Evaluator {
  readonly interpreter: PythonInterpreter<KerasHost>;
  private readonly classes = new Map<number, ClassValue<KerasHost>>();

  constructor(private readonly options: KerasEvaluatorOptions) {
    const host: PythonHost<KerasHost> = {
      call: (call) => this.hostCall(call),
      instantiate: (cls, call) => (options.isKerasClass(cls.node) ? callValue(call.node, loaderScope(call.scope)) : undefined),
      // `[Dense(64)] * 3` is read as three layers (the user's evident intent), not one applied thrice.
      repeat: (object) => ({ ...object }),
      describe: (object) => (object.kind === 'call' ? `\`${shorten(object.node.text)}\`` : 'a tensor'),
    };
    this.interpreter = new PythonInterpreter<KerasHost>(options.root, { host, context: options.context, parser: options.parser, budget: options.budget, imports: options.imports });
  }

  get budget(): Budget {
    return this.options.budget;
  }

  /** Charges work that is not an evaluation (walking the file for the training set-up) to the same budget. */
  charge(cost: number): void {
    this.options.budget.tick(this.options.root, cost);
  }

  /** Evaluates an expression; `atOffset` is where names are looked up (defaults to the node). */
  evaluate(node: Node, scope: Scope, atOffset = node.startIndex): Value {
    return this.interpreter.evaluate(node, this.view(scope, atOffset));
  }

  /** The shared evaluator's scope for a loader scope at an offset. */
  view(scope: Scope, offset: number): PythonScope<KerasHost> {
    return scope instanceof SharedView ? scope.scope : new OffsetView(scope, offset, this.options.changedDicts);
  }

  /** A class of the file, its body run once. */
  classValue(node: Node, scope: PythonScope<KerasHost>): Value {
    let cls = this.classes.get(node.id);
    if (!cls) {
      cls = this.interpreter.classValue(node, new Env(scope));
      this.classes.set(node.id, cls);
    }
    return cls;
  }

  /** The elements a `for` visits (a dict's keys, a string's characters), when known. */
  iterate(value: Value): readonly Value[] | undefined {
    return this.interpreter.evaluator.iterate(value);
  }

  truth(value: Value): boolean | undefined {
    return this.interpreter.evaluator.truth(value);
  }

  binary(operator: string, left: Value, right: Value, node: Node): Value {
    return this.interpreter.evaluator.binary(operator, left, right, node);
  }

  /** Binds a loop or assignment target to a value: each name's value (unknown, saying why, when it does not unpack). */
  bind(target: Node, value: Value): Map<string, Value> {
    const env = new Env<KerasHost>();
    this.interpreter.evaluator.bind(target, value, env);
    return env.vars;
  }

  /**
   * A call that is not Python's: a Keras object (kept as a call for the layer builder), a layer
   * applied to a tensor, or a value only known at run time (`input()`, `np.load(...)`).
   */
  private hostCall(call: HostCall<KerasHost>): Value | undefined {
    const backend = this.options.backendCall(call.node);
    if (backend) return backend;
    if (call.calleeValue.kind === 'host' || this.options.isKerasCall(call.node)) return callValue(call.node, loaderScope(call.scope));
    return undefined;
  }
}

// #endregion

export { shorten };

/** A value's text for messages: Python's spelling of constants (shared), a Keras call or a tensor for framework values. */
export function describeValue(value: Value): string {
  return describePythonValue(value, (host) => (host.kind === 'call' ? `\`${shorten(host.node.text)}\`` : 'a tensor'));
}

/** One layer expression of a model, with the scope its arguments are evaluated in. */
export interface LayerCall {
  readonly node: Node;
  readonly scope: Scope;
  /**
   * Set for an activation *function* applied in a subclassed model's `call` (`tf.nn.relu(h)`):
   * `node` is that call and `callee` its function, and it becomes a standalone activation layer.
   */
  readonly activationOp?: { readonly activation: ActivationSpec; readonly callee: Node };
  /**
   * The layer object when the layer is an instance bound to a name (`d = Dense(8)` then `d(x)`,
   * `[d, d]`, `self.d`): the same object each time that instance is used, so a layer applied
   * twice (sharing its weights) is recognised. Fresh for every constructor call that is evaluated.
   */
  readonly instance?: CallHost;
  /** Where the layer is applied or listed (for the problem when it is applied twice). */
  readonly at?: Node;
}
