/**
 * Values, scopes and expression evaluation of the PyTorch loader (issue 12): plain Python is the
 * shared evaluator's (src/core/python); this file maps between its values and the loader's
 * (torch modules kept as deferred constructor calls, containers, `self`, the file's defs,
 * tensors of forward, all host values there) and answers the framework's hooks.
 */
import type { Node, Parser } from 'web-tree-sitter';
import type { LoadContext } from '../../model';
import { dottedParts, type ImportTable } from '../../python/imports';
import {
  torchGain,
} from './vocabulary';
import { formatCount, MAX_LAYERS, MAX_PYTHON_NESTING, MAX_PYTHON_STEPS, tooManyLayers } from '../../parse/limits';
import { VersionedBindings } from '../../python/bindings';
import type { DictEntry as SharedDictEntry } from '../../python/dicts';
import { PythonEvaluator, type EvaluatorOptions } from '../../python/evaluator';
import { PythonInterpreter } from '../../python/interpreter';
import { Env as SharedEnv } from '../../python/scope';
import type { HostCall } from '../../python/host';
import { Budget, describeValue as describePythonValue, PythonBudgetExceeded, shorten, UnsoundModel, type Scope as SharedScope, type Value as SharedValue } from '../../python/values';

// #region Values and scopes

/** One step of `forward` applied to the data. */
export type Op =
  | { readonly type: 'module'; readonly value: Value; readonly use: Node; readonly name: string }
  | { readonly type: 'functional'; readonly call: Node; readonly callee: Node; readonly name: string; readonly method: boolean; readonly scope: Scope };

export type Value =
  | { readonly kind: 'number'; readonly value: number; readonly float?: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'sequence'; readonly items: readonly Value[]; readonly type?: 'list' | 'tuple' | 'set' }
  /** A dict with constant keys (a `{...}` literal or `dict(k=v, ...)`), in insertion order; never changed in the file. */
  | { readonly kind: 'dict'; readonly entries: readonly DictEntry[] }
  /** A dotted name that is not bound in the file, e.g. `torch.relu` or `nn.Linear`. */
  | { readonly kind: 'reference'; readonly path: readonly string[] }
  /** A call not evaluated (a module constructor, …), kept with the scope it appeared in. */
  | { readonly kind: 'call'; readonly node: Node; readonly scope: Scope }
  /** nn.Sequential / nn.ModuleList / nn.ModuleDict with its (keyed) children. */
  | { readonly kind: 'container'; readonly type: ContainerType; readonly node: Node; readonly items: readonly ContainerItem[] }
  /** `self`, a class with constant attributes, a dataclass-like instance. */
  | { readonly kind: 'object'; readonly attrs: ReadonlyMap<string, Value>; readonly classNode?: Node; readonly isClass?: boolean }
  /** A def of the file (a method is bound to its object). */
  | { readonly kind: 'function'; readonly node: Node; readonly self?: Value }
  /** A tensor derived from forward's input: the ops applied so far. */
  | { readonly kind: 'tensor'; readonly ops: readonly Op[]; readonly origin: number }
  /** A lambda, or a def, class or object of the shared interpreter (src/core/python). */
  | { readonly kind: 'python'; readonly value: SharedValue<Value> }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

export type ContainerType = 'Sequential' | 'ModuleList' | 'ModuleDict';

/** One `key: value` of a dict value of this loader. */
export type DictEntry = SharedDictEntry<Value>;



/** Why a dict read by `name` is not a constant: it is changed at `at`. */
export function changedDictReason(name: string, at: Node): string {
  return `\`${name}\` is a dict that is changed at line ${at.startPosition.row + 1} (\`${shorten(at.text)}\`), so its contents are only known at run time`;
}
export interface ContainerItem {
  readonly key: string;
  readonly value: Value;
  /** The argument of `nn.Sequential(...)` that lists it, when written out. */
  readonly at?: Node;
}

export interface Scope {
  lookup(name: string, atOffset: number): Value | undefined;
  /** A scope that later assignments in the same block no longer change (for deferred calls). */
  freeze(): Scope;
}

/** Mutable bindings of a block that is interpreted statement by statement. */
export class Env implements Scope {
  /** Every value of each name, with the version (count of sets) it was set at, for O(1) freezes. */
  private readonly history: VersionedBindings<Value>;
  private frozen: Scope | undefined;

  constructor(
    private readonly parent: Scope | undefined,
    readonly vars: Map<string, Value> = new Map(),
  ) {
    this.history = new VersionedBindings(vars);
  }
  lookup(name: string, atOffset: number): Value | undefined {
    return this.vars.has(name) ? this.vars.get(name) : this.parent?.lookup(name, atOffset);
  }
  set(name: string, value: Value): void {
    this.vars.set(name, value);
    this.history.set(name, value);
    this.frozen = undefined;
  }
  child(bindings?: ReadonlyMap<string, Value>): Env {
    return new Env(this, new Map(bindings ?? []));
  }
  /**
   * The bindings as they are now. A view of the history at this version, not a copy of every
   * name: copying before each module statement made a file of 10,000 assignments take 2 GB.
   */
  freeze(): Scope {
    this.frozen ??= new FrozenEnv(this.parent?.freeze(), this.history, this.history.version);
    return this.frozen;
  }
}

/** An Env as it was at one version: the last value of each name set at or before it. */
export class FrozenEnv implements Scope {
  constructor(
    private readonly parent: Scope | undefined,
    private readonly history: VersionedBindings<Value>,
    private readonly version: number,
  ) {}
  lookup(name: string, atOffset: number): Value | undefined {
    const found = this.history.at(name, this.version);
    if (found) return found.value;
    return this.parent?.lookup(name, atOffset);
  }
  freeze(): Scope {
    return this;
  }
}

/**
 * Module-level `NAME = expr` assignments, classes and defs, evaluated lazily: the assignment in
 * effect is the last one before the use, or the last one for uses above every assignment (a
 * method reading a constant defined further down).
 */
export class ModuleScope implements Scope {
  private readonly assignments = new Map<string, { offset: number; value: Node }[]>();
  private readonly definitions = new Map<string, Node>();
  private readonly evaluating = new Set<number>();
  private readonly moduleObjects = new Map<number, Value>();

  constructor(
    private readonly evaluator: Evaluator,
    root: Node,
  ) {
    for (const statement of root.namedChildren) {
      if (!statement) continue;
      const definition = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
      if (definition?.type === 'class_definition' || definition?.type === 'function_definition') {
        const name = definition.childForFieldName('name')?.text;
        if (name) this.definitions.set(name, definition);
        continue;
      }
      if (statement.type !== 'expression_statement') continue;
      const assignment = statement.firstNamedChild;
      if (assignment?.type !== 'assignment') continue;
      const left = assignment.childForFieldName('left');
      const right = assignment.childForFieldName('right');
      if (left?.type !== 'identifier' || !right) continue;
      const list = this.assignments.get(left.text) ?? [];
      list.push({ offset: assignment.endIndex, value: right });
      this.assignments.set(left.text, list);
    }
  }

  lookup(name: string, atOffset: number): Value | undefined {
    if (name === '__name__') return { kind: 'string', value: '__main__' };
    const list = this.assignments.get(name);
    if (list) {
      const before = list.filter((entry) => entry.offset <= atOffset);
      const chosen = before.length > 0 ? before[before.length - 1] : list[list.length - 1];
      if (this.evaluating.has(chosen.value.id)) return unknown(chosen.value, `\`${name}\` refers to itself`);
      // One module object per assignment: `shared = nn.Linear(8, 8)` read twice is the same module.
      const cached = this.moduleObjects.get(chosen.value.id);
      if (cached) return cached;
      this.evaluating.add(chosen.value.id);
      try {
        const value = this.evaluator.evaluate(chosen.value, this, chosen.value.startIndex);
        if (value.kind === 'call' || value.kind === 'container') this.moduleObjects.set(chosen.value.id, value);
        return value;
      } finally {
        this.evaluating.delete(chosen.value.id);
      }
    }
    const definition = this.definitions.get(name);
    if (definition?.type === 'function_definition') return { kind: 'function', node: definition };
    if (definition?.type === 'class_definition') return this.evaluator.classValue(definition, this);
    return undefined;
  }

  freeze(): Scope {
    return this;
  }
}

export function unknown(node: Node, reason: string): Value {
  return { kind: 'unknown', node, reason };
}

/** Raised while building a model when it cannot be trained soundly (shared by the Python loaders). */
export { UnsoundModel };

/** Shared work budget: statements, loop iterations and list items per file (keeps huge inputs fast). */
export const MAX_SEQUENCE = 10_000;
/** The steps a list of n items costs to build: one per 16 items, so copies of long lists are bounded too. */
export function listCost(n: number): number {
  return Math.ceil(n / 16);
}
/** Counted in steps, never in time, so that a file reads the same on every machine (limits.ts). */
export const MAX_STEPS = MAX_PYTHON_STEPS;
/** The binding a `return` statement leaves in an interpreted function's environment. */
export const RETURN = '\u0000return';

// #endregion

// #region Static evaluation: plain Python through the shared evaluator

/** A value of the shared evaluator whose framework values (modules, `self`, the file's defs, tensors) are this loader's. */
export type PyValue = SharedValue<Value>;

/** Conventional aliases for snippets without imports. */
export const TORCH_ALIASES: ReadonlyMap<string, readonly string[]> = new Map([
  ['nn', ['torch', 'nn']],
  ['F', ['torch', 'nn', 'functional']],
]);

/** Loader values are immutable, so one conversion per list or dict is enough. */
export const sharedOf = new WeakMap<object, PyValue>();

/** A loader value as the shared evaluator sees it: plain kinds 1:1, framework kinds as host values. */
export function toShared(value: Value): PyValue {
  switch (value.kind) {
    case 'number':
    case 'string':
    case 'bool':
    case 'none':
    case 'reference':
    case 'unknown':
      return value;
    case 'python':
      return value.value;
    case 'sequence':
    case 'dict': {
      const cached = sharedOf.get(value);
      if (cached) return cached;
      const converted: PyValue =
        value.kind === 'sequence'
          ? { kind: 'sequence', items: value.items.map(toShared), type: value.type ?? 'list' }
          : { kind: 'dict', entries: value.entries.map((entry) => ({ key: entry.key, value: toShared(entry.value) })) };
      sharedOf.set(value, converted);
      return converted;
    }
    default:
      return { kind: 'host', host: value };
  }
}

/** A value of the shared evaluator as this loader's. */
export function fromShared(value: PyValue): Value {
  switch (value.kind) {
    case 'number':
    case 'string':
    case 'bool':
    case 'none':
    case 'reference':
    case 'unknown':
      return value;
    case 'sequence':
      return { kind: 'sequence', items: value.items.map(fromShared), type: value.type };
    case 'dict':
      return { kind: 'dict', entries: value.entries.map((entry) => ({ key: entry.key, value: fromShared(entry.value) })) };
    case 'host':
      return value.host;
    default:
      // A lambda, or a def, class or object of the shared interpreter: carried as it is.
      return { kind: 'python', value };
  }
}

/** A loader scope as the shared evaluator sees it, at one offset (ModuleScope picks the assignment in effect there). */
export class SharedView implements SharedScope<Value> {
  constructor(
    readonly scope: Scope,
    readonly at: number,
  ) {}
  lookup(name: string): PyValue | undefined {
    const value = this.scope.lookup(name, this.at);
    return value && toShared(value);
  }
}

/** A scope of the shared evaluator (a comprehension's) as the loader sees it; never changed after it is made. */
export class LoaderView implements Scope {
  constructor(private readonly scope: SharedScope<Value>) {}
  lookup(name: string): Value | undefined {
    const value = this.scope.lookup(name);
    return value && fromShared(value);
  }
  freeze(): Scope {
    return this;
  }
}

/** The shared evaluator with this loader's rule for dicts the file changes in place. */
export class TorchPython extends PythonEvaluator<Value> {
  constructor(
    options: EvaluatorOptions<Value>,
    /** Dicts changed in place in the file (see findDictMutations), which are not constants. */
    private readonly changedDicts: ReadonlyMap<string, Node>,
  ) {
    super(options);
  }

  override evaluate(node: Node, scope: SharedScope<Value>): PyValue {
    const value = super.evaluate(node, scope);
    // `sys.argv`, `os.environ` read (a call of a run-time source is the host's: frameworkCall).
    if (value.kind === 'reference' && node.type === 'attribute' && node.parent?.childForFieldName('function')?.id !== node.id && runTimeSource(value.path)) return runTimeValue(node);
    if (value.kind !== 'dict' || (node.type !== 'identifier' && node.type !== 'attribute')) return value;
    const at = this.changedDicts.get(node.text);
    return at ? { kind: 'unknown', node, reason: changedDictReason(node.text, at) } : value;
  }
}

/**
 * Evaluates expressions: plain Python by the shared evaluator (src/core/python), torch calls
 * (module constructors kept as deferred `call` values, containers, `calculate_gain`), the
 * file's defs and configuration classes, and attributes of `self` by the hooks below.
 */
export class Evaluator {
  readonly python: TorchPython;
  exhausted = false;

  /** Runs the defs, lambdas and plain classes of the file and reads the workspace modules it imports. */
  readonly interpreter: PythonInterpreter<Value>;

  constructor(root: Node, imports: ImportTable, changedDicts: ReadonlyMap<string, Node>, context: LoadContext, parser: Parser | undefined) {
    this.python = new TorchPython(
      {
        imports,
        budget: new Budget(MAX_STEPS),
        maxNesting: MAX_PYTHON_NESTING,
        aliases: TORCH_ALIASES,
        host: {
          call: (site) => {
            const python = this.plainPythonCall(site);
            if (python) return python;
            const value = this.frameworkCall(site);
            return value && toShared(value);
          },
          attribute: (object, name, node) => {
            const value = this.attribute(object, name, node);
            return value && toShared(value);
          },
          subscript: (object, index) => {
            const value = this.subscript(object, fromShared(index));
            return value && toShared(value);
          },
          iterate: (object) => this.iterateModules(object)?.map(toShared),
          isinstance: (object, types) => this.isInstance(object, types.map(fromShared)),
          describe: (object) => describeValue(object),
        },
      },
      changedDicts,
    );
    this.interpreter = new PythonInterpreter<Value>(root, { host: this.python.host, context, parser, imports, aliases: TORCH_ALIASES, evaluator: this.python });
  }

  /** Counts work for the whole file (`cost` steps); past the budget the model is refused rather than the editor stalled. */
  tick(node: Node, cost = 1): void {
    try {
      this.python.budget.tick(node, cost);
    } catch (error) {
      throw this.refusal(error);
    }
  }

  /** The value of an expression, with names looked up as they are at `atOffset`. */
  evaluate(node: Node, scope: Scope, atOffset = node.startIndex): Value {
    try {
      return fromShared(this.python.evaluate(node, new SharedView(scope, atOffset)));
    } catch (error) {
      throw this.refusal(error);
    }
  }

  /** The shared evaluator's budget or nesting limit, as this loader's refusal of the model. */
  private refusal(error: unknown): unknown {
    if (!(error instanceof PythonBudgetExceeded)) return error;
    const budget = this.python.budget;
    if (budget.steps <= budget.limit) return new UnsoundModel('parse-error', error.message, error.node);
    this.exhausted = true;
    return new UnsoundModel('parse-error', `it is too large or too deeply nested to read statically: the file's work budget of ${formatCount(budget.limit)} steps ran out here.`, error.node);
  }

  /** Resolves a dotted path through the imports: `nn.Linear` → torch.nn.Linear. */
  resolve(path: readonly string[]): string[] {
    return this.python.resolve(path);
  }

  /**
   * Names an assignment or loop target binds, as Python unpacks (`a, b`, `first, *rest`, nested
   * tuples); undefined when the value does not unpack into the target.
   */
  bind(target: Node, value: Value): Map<string, Value> | undefined {
    const env = new SharedEnv<Value>();
    if (this.python.bind(target, toShared(value), env)) return undefined;
    return new Map([...env.vars].map(([name, bound]) => [name, fromShared(bound)]));
  }

  /** The elements a `for` loop visits, when known. */
  iterate(value: Value): readonly Value[] | undefined {
    return this.python.iterate(toShared(value))?.map(fromShared);
  }

  classValue(classNode: Node, scope: Scope): Value {
    const attrs = new Map<string, Value>();
    const body = classNode.childForFieldName('body');
    for (const statement of body?.namedChildren ?? []) {
      if (statement?.type !== 'expression_statement') continue;
      const assignment = statement.firstNamedChild;
      if (assignment?.type !== 'assignment') continue;
      const left = assignment.childForFieldName('left');
      const right = assignment.childForFieldName('right');
      if (left?.type === 'identifier' && right) attrs.set(left.text, this.evaluate(right, scope));
      else if (left?.type === 'identifier' && !right) attrs.set(left.text, unknown(left, `\`${left.text}\` has no default`));
    }
    return { kind: 'object', attrs, classNode, isClass: true };
  }

  /** The loader scope (and offset) a call of the shared evaluator was made in. */
  private loaderScope(scope: SharedScope<Value>, node: Node): { scope: Scope; at: number } {
    return scope instanceof SharedView ? { scope: scope.scope, at: scope.at } : { scope: new LoaderView(scope), at: node.startIndex };
  }

  /**
   * A def of the file that builds and initialises no module (`def hidden(base, factor=4)`,
   * `def total(*parts)`), or a plain class with an `__init__` (`HParams(scale=3)`): run by the
   * shared interpreter, with the module's names as they are at the call. undefined: the loader's.
   */
  private plainPythonCall(site: HostCall<Value>): PyValue | undefined {
    const callee = fromShared(site.calleeValue);
    if (!this.moduleScope) return undefined;
    const globals = new SharedView(this.moduleScope, site.node.startIndex);
    if (callee.kind === 'function' && !callee.self && this.isPlainPython(callee.node)) {
      const args = site.args();
      return args.unknownSplat ?? this.interpreter.callFunction({ kind: 'function', node: callee.node, scope: globals }, args, site.node);
    }
    const cls = callee.kind === 'object' && callee.isClass ? callee.classNode : undefined;
    if (cls && !this.isModuleClass(cls) && findMethod(cls, '__init__') && this.isPlainPython(cls)) {
      return this.python.instantiate(this.interpreter.classValue(cls, new SharedEnv<Value>(globals)), site.node, site.args());
    }
    return undefined;
  }

  /**
   * A call that is not plain Python: torch containers and `calculate_gain`, `type(module)`, the
   * file's defs (run by the loader, which records the layers and initialisations they make) and
   * configuration classes; any other call is kept unevaluated (a module constructor is read
   * when the model is built). undefined: `OrderedDict(...)`, which the shared evaluator reads as a dict.
   */
  private frameworkCall(site: HostCall<Value>): Value | undefined {
    const { node } = site;
    const { scope, at } = this.loaderScope(site.scope, node);
    const calleeValue = fromShared(site.calleeValue);
    const args = callArguments(node);
    if (calleeValue.kind === 'reference') {
      const path = this.resolve(calleeValue.path);
      const name = path.join('.');
      if (name === 'type') {
        const object = args.positional[0] ? this.evaluate(args.positional[0], scope, at) : undefined;
        const cls = object ? this.classOf(object) : undefined;
        return cls ? { kind: 'reference', path: cls.split('.') } : unknown(node, 'not known statically');
      }
      if (name === 'torch.nn.init.calculate_gain') {
        const [nonlinearity, param] = args.positional.map((a) => this.evaluate(a, scope, at));
        const p = args.keyword.get('param');
        const paramValue = p ? this.evaluate(p.value, scope, at) : param;
        if (nonlinearity?.kind !== 'string') return unknown(node, 'the nonlinearity is not known statically');
        const gain = torchGain(nonlinearity.value, paramValue?.kind === 'number' ? paramValue.value : undefined);
        return gain === undefined ? unknown(node, `unknown nonlinearity "${nonlinearity.value}"`) : { kind: 'number', value: gain };
      }
      if (path[0] === 'torch' && path[1] === 'nn' && (path[2] === 'Sequential' || path[2] === 'ModuleList' || path[2] === 'ModuleDict') && path.length === 3) {
        return this.container(path[2], node, scope, at);
      }
      if (path[path.length - 1] === 'OrderedDict') return undefined;
      if (runTimeSource(path)) return runTimeValue(node);
    }
    if (calleeValue.kind === 'function' && this.callFunction) {
      // A factory of the file, e.g. `def block(n_in, n_out): return nn.Sequential(...)`, or a
      // helper method of the class (`self.fc = self._make_layer(64, 32)`).
      const returned = this.callFunction(calleeValue.node, node, scope, calleeValue.self);
      if (returned) return returned;
    }
    if (calleeValue.kind === 'object' && calleeValue.isClass && calleeValue.classNode && !this.isModuleClass(calleeValue.classNode)) {
      // A dataclass-like configuration object: its class attributes, overridden by the arguments.
      const attrs = new Map(calleeValue.attrs);
      const fields = [...attrs.keys()];
      args.positional.forEach((a, i) => {
        if (i < fields.length) attrs.set(fields[i], this.evaluate(a, scope, at));
      });
      for (const [k, v] of args.keyword) attrs.set(k, this.evaluate(v.value, scope, at));
      return { kind: 'object', attrs, classNode: calleeValue.classNode };
    }
    return { kind: 'call', node, scope: scope.freeze() };
  }

  /** `self.fc1`, `Config.HIDDEN`, `self.helper` (a bound method), `self.blocks.conv` (a ModuleDict entry). */
  private attribute(object: Value, name: string, node: Node): Value | undefined {
    if (object.kind === 'object') {
      const value = object.attrs.get(name);
      if (value) return value;
      const method = object.classNode && findMethod(object.classNode, name);
      if (method) return { kind: 'function', node: method, self: object };
    }
    if (object.kind === 'container') {
      const item = object.items.find((i) => i.key === name);
      if (item) return item.value;
    }
    // A method of a module this loader does not follow (`self.named_parameters()`, `self.fc.to(device)`):
    // the call is kept unevaluated, as every call the loader does not know is.
    const called = node.parent?.type === 'call' && node.parent.childForFieldName('function')?.id === node.id;
    return called ? { kind: 'reference', path: dottedParts(node) ?? [node.text] } : undefined;
  }

  /** `self.layers[0]`, `self.heads['cls']`. */
  private subscript(object: Value, index: Value): Value | undefined {
    if (object.kind !== 'container') return undefined;
    if (index.kind === 'string') return object.items.find((i) => i.key === index.value)?.value;
    if (index.kind !== 'number' || !Number.isInteger(index.value)) return undefined;
    return object.items[index.value < 0 ? object.items.length + index.value : index.value]?.value;
  }

  /** What a loop over a container visits: its modules (a ModuleDict: its keys). */
  private iterateModules(object: Value): Value[] | undefined {
    if (object.kind !== 'container') return undefined;
    return object.type === 'ModuleDict' ? object.items.map((i) => ({ kind: 'string' as const, value: i.key })) : object.items.map((i) => i.value);
  }

  /** `isinstance(m, nn.Linear)` for a module (its torch class), `self` or a configuration object (never a torch module). */
  private isInstance(object: Value, types: readonly Value[]): boolean | undefined {
    const wanted = types.map((c) => (c.kind === 'reference' ? this.resolve(c.path).join('.') : undefined));
    if (wanted.some((w) => w === undefined)) return undefined;
    if (object.kind === 'object' && !object.isClass) return false;
    const cls = this.classOf(object);
    return cls ? wanted.includes(cls) : undefined;
  }

  /** Runs a def of the file with a call's arguments and returns what it returns (set by the loader). */
  callFunction: ((fn: Node, call: Node, scope: Scope, self?: Value) => Value | undefined) | undefined;

  /** Module classes of the file are decided by the loader; set before loading. */
  isModuleClass: (classNode: Node) => boolean = () => false;

  /** True for a def or class that constructs and initialises no module (decided by the loader). */
  isPlainPython: (node: Node) => boolean = () => false;

  /** The file's module-level names (the globals of the defs the shared interpreter runs); set by the loader. */
  moduleScope: Scope | undefined;

  /** The dotted torch class a module value is an instance of, e.g. 'torch.nn.Linear'. */
  classOf(value: Value): string | undefined {
    if (value.kind === 'container') return `torch.nn.${value.type}`;
    if (value.kind !== 'call') return undefined;
    return this.calleePath(value)?.join('.');
  }

  /**
   * The resolved dotted path of a constructor call's callee, following names bound in the call's
   * scope: `act()` with `act=nn.Tanh` (a factory parameter) is torch.nn.Tanh.
   */
  calleePath(value: Extract<Value, { kind: 'call' }>): string[] | undefined {
    const callee = value.node.childForFieldName('function');
    const parts = callee ? dottedParts(callee) : undefined;
    if (!callee || !parts) return undefined;
    const path = this.resolve(parts);
    if (path[0] === 'torch') return path;
    const bound = this.evaluate(callee, value.scope, callee.startIndex);
    return bound.kind === 'reference' ? this.resolve(bound.path) : path;
  }

  private container(type: ContainerType, node: Node, scope: Scope, atOffset: number): Value {
    const args = callArguments(node);
    const items: ContainerItem[] = [];
    const addKeyed = (list: Value, at: Node): Value | undefined => {
      if (list.kind === 'dict') {
        for (const entry of list.entries) items.push({ key: String(entry.key), value: entry.value });
        return undefined;
      }
      const entries = this.iterate(list);
      if (!entries) return list.kind === 'unknown' ? list : unknown(at, `\`${shorten(at.text)}\` is not known statically`);
      for (const entry of entries) {
        if (entry.kind === 'sequence' && entry.items.length === 2 && entry.items[0].kind === 'string') {
          items.push({ key: entry.items[0].value, value: entry.items[1] });
        } else if (type === 'ModuleDict') {
          return unknown(at, 'ModuleDict entries must be (name, module) pairs');
        } else {
          items.push({ key: String(items.length), value: entry });
        }
      }
      return undefined;
    };
    if (type === 'Sequential') {
      // A literal list longer than the layer limit is refused before its items are evaluated.
      const written = callArgumentNodes(node).filter((arg) => arg.type !== 'keyword_argument');
      if (written.length > MAX_LAYERS) throw new UnsoundModel('parse-error', tooManyLayers(written.length), written[MAX_LAYERS]);
      for (const arg of callArgumentNodes(node)) {
        if (arg.type === 'keyword_argument') continue;
        if (arg.type === 'list_splat') {
          const inner = firstCode(arg);
          const value = inner ? this.evaluate(inner, scope, atOffset) : unknown(arg, 'empty splat');
          const problem = addKeyed(value, arg);
          // Reported at `*layers` in the nn.Sequential call, with the reason the list is unknown.
          if (problem) return unknown(arg, `the layers \`${shorten(arg.text)}\` are only known at run time${because(problem)}`);
          continue;
        }
        const value = this.evaluate(arg, scope, atOffset);
        // `OrderedDict([...])` / `dict(...)` evaluate to (name, module) pairs.
        if ((value.kind === 'sequence' || value.kind === 'dict') && arg.type === 'call' && isOrderedDictCall(arg)) {
          const problem = addKeyed(value, arg);
          if (problem) return problem;
        } else {
          items.push({ key: String(items.length), value, at: arg });
        }
      }
    } else {
      const list = args.positional[0] ?? args.keyword.get('modules')?.value;
      if (list) {
        const problem = addKeyed(this.evaluate(list, scope, atOffset), list);
        if (problem) return problem;
      }
    }
    return { kind: 'container', type, node, items };
  }
}

/**
 * PyTorch Lightning's LightningModule (`pl.LightningModule`, `L.LightningModule`,
 * `lightning.pytorch.LightningModule`, …) is an nn.Module: read through `__init__` and `forward`
 * (training_step and the other hooks are not part of the architecture).
 */
export function isLightningModule(path: readonly string[]): boolean {
  return (path[0] === 'pytorch_lightning' || path[0] === 'lightning') && path[path.length - 1] === 'LightningModule';
}

export function isOrderedDictCall(node: Node): boolean {
  const callee = node.childForFieldName('function');
  return !!callee && (callee.text.endsWith('OrderedDict') || callee.text === 'dict');
}



// #endregion

// #region Syntax helpers

export interface Arguments {
  readonly positional: readonly Node[];
  readonly keyword: ReadonlyMap<string, { readonly argument: Node; readonly value: Node }>;
}

export function callArgumentNodes(call: Node): Node[] {
  const list = call.childForFieldName('arguments');
  if (!list) return [];
  if (list.type === 'generator_expression') return [list];
  return list.namedChildren.filter((a): a is Node => !!a && !isExtra(a));
}

export function callArguments(call: Node): Arguments {
  const positional: Node[] = [];
  const keyword = new Map<string, { argument: Node; value: Node }>();
  for (const argument of callArgumentNodes(call)) {
    if (argument.type === 'keyword_argument') {
      const name = argument.childForFieldName('name')?.text;
      const value = argument.childForFieldName('value');
      if (name && value) keyword.set(name, { argument, value });
    } else {
      positional.push(argument);
    }
  }
  return { positional, keyword };
}

/**
 * Comments and backslash line continuations: extras that tree-sitter puts among a node's named
 * children (inside argument lists, lists, dicts, subscripts, parameters…), never code.
 */
export function isExtra(node: Node): boolean {
  return node.type === 'comment' || node.type === 'line_continuation';
}

export function firstCode(node: Node): Node | undefined {
  return node.namedChildren.find((c): c is Node => !!c && !isExtra(c));
}

export function findMethod(classNode: Node, name: string): Node | undefined {
  for (const statement of classNode.childForFieldName('body')?.namedChildren ?? []) {
    const definition = statement?.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    if (definition?.type === 'function_definition' && definition.childForFieldName('name')?.text === name) return definition;
  }
  return undefined;
}

export function statementsOf(block: Node | null): Node[] {
  return (block?.namedChildren ?? []).filter((c): c is Node => !!c && !isExtra(c));
}


export function ancestorOfType(node: Node, types: readonly string[]): Node | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (types.includes(current.type)) return current;
  }
  return undefined;
}


/** ` (<reason>, line N)` when a value is unknown, for messages that say what blocked a loop or a layer. */
export function because(value: Value): string {
  return value.kind === 'unknown' ? ` (${value.reason}, line ${value.node.startPosition.row + 1})` : '';
}

export { shorten };

/** A value's text for messages: Python's spelling of plain values (shared), the source text of a module or container call. */
export function describeValue(value: Value): string {
  return describePythonValue(toShared(value), (host) => (host.kind === 'call' || host.kind === 'container' ? `\`${shorten(host.node.text)}\`` : 'a run-time value'));
}

// #endregion

/**
 * Values read from the running script (`input()`, `random.*`, `sys.argv`, `os.environ`, the
 * clock): unknown, and a layer that needs one is refused where the script reads it.
 */
export const RUN_TIME_SOURCES = ['input', 'random', 'sys.argv', 'sys.stdin', 'os.environ', 'os.getenv', 'time', 'datetime', 'numpy.random', 'secrets', 'uuid'];
export const runTimeValues = new WeakSet<object>();

export function runTimeSource(path: readonly string[]): boolean {
  const dotted = path.join('.');
  return RUN_TIME_SOURCES.some((source) => dotted === source || dotted.startsWith(`${source}.`));
}

/** The unknown value of a run-time read at `node`. */
export function runTimeValue(node: Node): Extract<Value, { kind: 'unknown' }> {
  const value = { kind: 'unknown' as const, node, reason: `\`${shorten(node.text)}\` is known only at run time` };
  runTimeValues.add(value);
  return value;
}

/** Where a layer argument is refused: at the run-time read it comes from, else at the argument. */
export function readAt(arg: { readonly value: Value; readonly node: Node }): Node {
  return arg.value.kind === 'unknown' && runTimeValues.has(arg.value) ? arg.value.node : arg.node;
}
