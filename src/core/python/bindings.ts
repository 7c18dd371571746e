/** Python semantics of constant values that both Python loaders evaluate alike. */
import type { Node } from 'web-tree-sitter';
import { OPTIMIZER_NAMES, type OptimizerName } from '../model';

/**
 * Python's arithmetic on two numbers, as the Python loaders evaluate constant expressions:
 * `//` floors and `%` takes the divisor's sign (a − b·⌊a/b⌋), unlike JavaScript's. NaN for an
 * operator it does not cover, so the caller reports the expression as having no value.
 */
export function pythonArithmetic(operator: string, a: number, b: number): number {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '//':
      return Math.floor(a / b);
    case '%':
      return a - b * Math.floor(a / b);
    case '**':
      return a ** b;
    default:
      return Number.NaN;
  }
}

/**
 * Python's truth value of a constant (`if CONFIG["bn"]:`): False, 0, "", None, [] and {} are
 * false. Undefined for values the evaluators cannot judge (references, calls, run-time values).
 * Typed structurally so that both Python loaders' value types fit.
 */
export function pythonTruthiness(value: {
  readonly kind: string;
  readonly value?: unknown;
  readonly items?: readonly unknown[];
  readonly entries?: readonly unknown[];
}): boolean | undefined {
  switch (value.kind) {
    case 'bool':
      return value.value === true;
    case 'number':
      return value.value !== 0;
    case 'string':
      return typeof value.value === 'string' && value.value.length > 0;
    case 'none':
      return false;
    case 'sequence':
      return (value.items?.length ?? 0) > 0;
    case 'dict':
      return (value.entries?.length ?? 0) > 0;
    default:
      return undefined;
  }
}

/**
 * The value a name had at `version`, from its history of writes in version order (binary search:
 * the versioned scopes of both Python readers look names up in O(log writes)).
 */
export function valueAtVersion<T>(versions: readonly { readonly version: number; readonly value: T }[], version: number): { value: T } | undefined {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (versions[mid].version <= version) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? { value: versions[lo - 1].value } : undefined;
}

/**
 * Every value each name has had, with the version (the count of assignments so far) it was set
 * at. A scope "as it was" is then this history plus one version number: O(1) to take, where a
 * copy of every name at every statement made files of 10,000 assignments quadratic.
 */
export class VersionedBindings<T> {
  private readonly history = new Map<string, { version: number; value: T }[]>();
  private current = 0;

  constructor(initial: Iterable<readonly [string, T]> = []) {
    for (const [name, value] of initial) this.history.set(name, [{ version: 0, value }]);
  }

  /** The version after the last assignment. */
  get version(): number {
    return this.current;
  }

  set(name: string, value: T): void {
    this.current++;
    const versions = this.history.get(name);
    if (versions) versions.push({ version: this.current, value });
    else this.history.set(name, [{ version: this.current, value }]);
  }

  /** The value `name` had at `version`: the last one set at or before it; undefined when it was not yet set. */
  at(name: string, version: number): { value: T } | undefined {
    const versions = this.history.get(name);
    return versions && valueAtVersion(versions, version);
  }
}

// [issue 11: the file's own training set-up] What both Python readers share to read it.

/** The IR's optimiser for a class or string name of any framework (`Adam`, `'rmsprop'`, `NAdam`, `SGD`), any case. */
export function optimizerNameOf(name: string): OptimizerName | undefined {
  const lower = name.toLowerCase();
  return (OPTIMIZER_NAMES as readonly string[]).includes(lower) ? (lower as OptimizerName) : undefined;
}

/** One simple `name = value` assignment of a file, with the def it is in (undefined: the module). */
export interface NameBinding {
  readonly value: Node;
  /** The innermost enclosing function definition; undefined at module (or class body) level. */
  readonly scope: Node | undefined;
  /** Where the assignment ends: it is in effect from there on. */
  readonly offset: number;
}

/** The file's simple assignments by def and name and, for the calls a reader asks for, the def each is in. */
export interface FileBindings {
  /** Keyed by `bindingKey(scope, name)`, in offset order. */
  readonly byScope: ReadonlyMap<string, readonly NameBinding[]>;
  /** The calls `wanted` accepted, in document order, each with its enclosing def and class. */
  readonly calls: readonly { readonly call: Node; readonly scope: Node | undefined; readonly cls: Node | undefined }[];
}

function bindingKey(scope: Node | undefined, name: string): string {
  return `${scope?.id ?? -1}\u0000${name}`;
}

/**
 * One top-down walk of the file (no parent walks: those cost O(depth) each in web-tree-sitter):
 * the `NAME = expr` assignments (a tuple target's names are not bound to a value) and the calls
 * `wanted` keeps. `budget` is charged one step per 256 nodes visited.
 */
export function collectBindings(root: Node, wanted: (call: Node) => boolean, budget: (cost: number) => void): FileBindings {
  const byScope = new Map<string, NameBinding[]>();
  const calls: { call: Node; scope: Node | undefined; cls: Node | undefined }[] = [];
  const stack: { node: Node; scope: Node | undefined; cls: Node | undefined }[] = [{ node: root, scope: undefined, cls: undefined }];
  let visited = 0;
  while (stack.length > 0) {
    const { node, scope, cls } = stack.pop() as { node: Node; scope: Node | undefined; cls: Node | undefined };
    if (++visited % 256 === 0) budget(1);
    if (node.type === 'assignment') {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left?.type === 'identifier' && right) {
        const key = bindingKey(scope, left.text);
        const list = byScope.get(key) ?? [];
        list.push({ value: right, scope, offset: node.endIndex });
        byScope.set(key, list);
      }
    } else if (node.type === 'call' && wanted(node)) {
      calls.push({ call: node, scope, cls });
    }
    const innerScope = node.type === 'function_definition' ? node : scope;
    const innerClass = node.type === 'class_definition' ? node : cls;
    const children = node.namedChildren;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push({ node: child, scope: innerScope, cls: innerClass });
    }
  }
  calls.sort((a, b) => a.call.startIndex - b.call.startIndex);
  for (const list of byScope.values()) list.sort((a, b) => a.offset - b.offset);
  return { byScope, calls };
}

/** The last of `list` (in offset order) at or before `offset` (binary search). */
function lastBefore(list: readonly NameBinding[], offset: number): NameBinding | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? list[lo - 1] : undefined;
}

/**
 * The assignment of `name` in effect at `offset` inside def `scope`: the last one before it in
 * that def; for a name the def never assigns (a global), the module's last one before it, else
 * the module's last one. Undefined when the name is not assigned (a parameter, an import).
 */
export function bindingAt(bindings: FileBindings, name: string, scope: Node | undefined, offset: number): NameBinding | undefined {
  const local = bindings.byScope.get(bindingKey(scope, name));
  if (local || !scope) return local && lastBefore(local, offset);
  const module = bindings.byScope.get(bindingKey(undefined, name));
  return module && (lastBefore(module, offset) ?? module[module.length - 1]);
}

/**
 * argparse defaults by destination (`parser.add_argument('--lr', type=float, default=1.0)` →
 * lr: the `1.0` node), for `args.lr`; a destination added twice with different default texts
 * is left out (which one applies is decided at run time).
 */
export function argparseDefaults(calls: readonly Node[]): Map<string, Node> {
  const found = new Map<string, Node>();
  const conflicting = new Set<string>();
  for (const call of calls) {
    const callee = call.childForFieldName('function');
    if (callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== 'add_argument') continue;
    let dest: string | undefined;
    let defaultNode: Node | undefined;
    const options: string[] = [];
    for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
      if (!argument) continue;
      if (argument.type === 'keyword_argument') {
        const key = argument.childForFieldName('name')?.text;
        const value = argument.childForFieldName('value');
        if (key === 'default' && value) defaultNode = value;
        if (key === 'dest' && value?.type === 'string') dest = stringLiteral(value);
      } else if (argument.type === 'string') {
        const option = stringLiteral(argument);
        if (option !== undefined) options.push(option);
      }
    }
    // argparse: the first long option, else the first short one, dashes stripped, '-' → '_'.
    const option = options.find((o) => o.startsWith('--')) ?? options[0];
    dest ??= option?.replace(/^-+/, '').replace(/-/g, '_');
    if (!dest || !defaultNode) continue;
    const previous = found.get(dest);
    if (previous && previous.text !== defaultNode.text) conflicting.add(dest);
    found.set(dest, defaultNode);
  }
  for (const dest of conflicting) found.delete(dest);
  return found;
}

/** The text of a plain string literal (no interpolation, no escapes), else undefined. */
function stringLiteral(node: Node): string | undefined {
  const content = node.namedChildren.filter((c) => c?.type === 'string_content');
  if (node.namedChildren.some((c) => c?.type === 'interpolation' || c?.type === 'escape_sequence')) return undefined;
  return content.map((c) => c?.text ?? '').join('');
}
