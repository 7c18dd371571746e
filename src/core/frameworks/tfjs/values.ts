/**
 * The TF.js source reader's static evaluator: the value types a JS/TS expression reads as, the
 * scopes and bindings of a file, and the evaluation of constants, spreads and loop variables
 * that the model reader (source.ts) builds on.
 */
import type { Node } from 'web-tree-sitter';
import { formatCount, MAX_DECLARATIONS } from '../../parse/limits';
import { INITIALIZER_DEFAULTS } from './vocabulary';
import {
  PositionIndex,
  type InitializerName,
  type InitializerSpec,
  type LoadProblem,
  type LoadProblemCode,
  type SourceSpan,
  type LoadContext,
} from '../../model';

export const NESTED_ADD = 'layers are added inside a loop, condition or callback, which is only known at run time.';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

export class Unsound extends Error {
  constructor(
    readonly code: LoadProblemCode,
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

// #region Static values

export type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'array'; readonly items: readonly Value[] }
  | { readonly kind: 'object'; readonly node: Node; readonly entries: ReadonlyMap<string, ObjectEntry> }
  | { readonly kind: 'call'; readonly node: Node }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

export interface ObjectEntry {
  /** The `key: value` pair (or the shorthand `key`) that defines the entry. */
  readonly pair: Node;
  readonly value: Node;
  /**
   * True when the entry comes from a spread (`{...common, units: 8}`): its text belongs to
   * another object, possibly shared by several layers, so quick fixes must not edit it in place.
   */
  readonly inherited: boolean;
}

export type ObjectValue = Extract<Value, { kind: 'object' }>;

export function describe(value: Value): string {
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
export const TRANSPARENT_WRAPPERS = new Set(['parenthesized_expression', 'as_expression', 'satisfies_expression', 'non_null_expression', 'type_assertion']);

/**
 * The expression inside type casts and parentheses. `<T>x` keeps the expression last (its type
 * comes first); the others keep it first.
 */
export function unwrap(node: Node | null): Node | null {
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
export function misparsedCast(node: Node): Node | undefined {
  let current: Node | null = node;
  let steps = 0;
  while (current?.type === 'member_expression') {
    current = current.childForFieldName('object');
    steps++;
  }
  return steps > 0 && (current?.type === 'as_expression' || current?.type === 'satisfies_expression') ? current : undefined;
}

/** `a.b.c` as ['a','b','c'] (`this.model` as ['this','model']); undefined for anything else. */
export function dottedParts(node: Node | null): string[] | undefined {
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

export function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

/** The named children that are not comments. */
export function meaningfulChildren(node: Node | null | undefined): Node[] {
  return (node?.namedChildren ?? []).filter((c): c is Node => !!c && c.type !== 'comment');
}

// #endregion

export interface ModelSite {
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

export type SiteOwner = { readonly kind: 'binding'; readonly binding: Binding } | { readonly kind: 'member'; readonly target: string; readonly classBody: Node };

export interface CompileIndex {
  readonly byBinding: ReadonlyMap<Binding, readonly Node[]>;
  /** `this.x.compile(...)` by `x` → calls (class membership is checked per site). */
  readonly byMember: ReadonlyMap<string, readonly Node[]>;
  /** `const m = createModel()` (or `await createModel()`) by the function name: the variables a returned model is bound to. */
  readonly byCallee: ReadonlyMap<string, readonly Binding[]>;
}

/** One declared variable (or parameter) of the file, with every later write to it. */
export interface Binding {
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

export interface Write {
  readonly node: Node;
  readonly how: 'declared again' | 'assigned again' | 'changed';
}

/** Function-like nodes: they scope `var` declarations and parameters. */
export const FUNCTION_SCOPES = new Set([
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
export const BLOCK_SCOPES = new Set(['program', 'statement_block', 'for_statement', 'for_in_statement', 'switch_body', ...FUNCTION_SCOPES]);

/** Array methods that change the array they are called on. */
export const MUTATING_METHODS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'reverse', 'sort', 'fill', 'copyWithin']);

/** TF.js merge layers: they join branches of a graph, which a chain of layers cannot hold. */
export const MERGE_LAYERS = new Set(['add', 'average', 'concatenate', 'dot', 'maximum', 'minimum', 'multiply', 'subtract']);

export const MAX_CHAIN = 10_000;

/**
 * Steps of static evaluation per file (each expression evaluated is one step), for layers and
 * training set-ups together: a model of MAX_LAYERS layers needs ~10 steps per layer, so this is
 * far above real files, and it stops constants nested in each other (`const b = [a, a, a]`,
 * `const c = [b, b, b]`, …) from costing exponential time.
 */
export const MAX_TFJS_EVALUATIONS = 400_000;

/** Constants followed from a use to the expression they hold (`const opt = OPTIMIZER;`). */
export const MAX_CONST_HOPS = 50;

export class TfjsEvaluator {
  /** Local name → module path, e.g. tf → ['@tensorflow/tfjs'], layers → ['@tensorflow/tfjs', 'layers']. */
  protected readonly imports = new Map<string, string[]>();
  protected readonly bindings = new Map<string, Binding[]>();
  protected readonly problems: LoadProblem[] = [];
  /** Per name, the scopes that declare it, for finding the one a use sees in O(log n + depth). */
  protected readonly scopeIndexes = new Map<string, ScopeIndex>();
  protected readonly blockIndexes = new Map<number, BlockIndex>();
  protected declarations = 0;
  protected depth = 0;
  protected evaluations = 0;
  /** The values of loop variables while the layers of one unrolled iteration are read. */
  protected loopValues: ReadonlyMap<Binding, Value> = NO_LOOP;
  /** `x.compile(...)` calls by the variable (or `this.x` in a class) they are made on; built on first use. */
  protected compileIndex: CompileIndex | undefined;
  protected sites: readonly ModelSite[] = [];

  constructor(
    protected readonly positions: PositionIndex,
    protected readonly root: Node,
    protected readonly fileName: string,
    protected readonly context: LoadContext = {},
  ) {
    this.collectImports();
    this.collectBindings();
  }

  span(node: Node): SourceSpan {
    return this.positions.span(node.startIndex, node.endIndex);
  }

  protected lineOf(node: Node): number {
    return this.positions.position(node.startIndex).line;
  }

  // #region Imports

  /**
   * ES imports, `require(...)` / `import(...)`, and names taken from the TF.js namespace after
   * the fact (`const { layers } = tf;`, `const L = tf.layers;`), in file order so that an alias
   * of an alias resolves.
   */
  protected collectImports(): void {
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
  protected modulePath(node: Node | null): string[] | undefined {
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
  protected requiredModule(node: Node): string | undefined {
    if (node.type !== 'call_expression') return undefined;
    const callee = node.childForFieldName('function');
    if (callee?.text !== 'require' && callee?.type !== 'import') return undefined;
    const argument = node.childForFieldName('arguments')?.namedChildren.find((c) => c?.type === 'string');
    return argument ? stringContent(argument) : undefined;
  }

  /** The module path a reference stands for, and whether it is TensorFlow.js. */
  protected resolve(node: Node | null): { path: string[]; tfjs: boolean } | undefined {
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
  protected collectBindings(): void {
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

  protected declare(binding: Binding): void {
    if (++this.declarations > MAX_DECLARATIONS) {
      throw new LimitReached(`${this.fileName} declares more than ${formatCount(MAX_DECLARATIONS)} variables and parameters, more than Activation Lens reads statically`, binding.declaration);
    }
    const list = this.bindings.get(binding.name) ?? [];
    list.push(binding);
    this.bindings.set(binding.name, list);
    this.scopeIndexes.delete(binding.name);
  }

  protected collectWrites(): void {
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
  protected recordWrite(name: Node, write: Write): void {
    this.bindingAt(name.text, name)?.writes.push(write);
  }

  /** `config.units = 8`, `sizes[0]++`, `sizes.push(8)`: a write to the root variable. */
  protected recordMutation(target: Node | null, write: Node): void {
    let root = unwrap(target);
    while (root && (root.type === 'member_expression' || root.type === 'subscript_expression')) root = unwrap(root.childForFieldName('object'));
    if (root?.type === 'identifier') this.recordWrite(root, { node: write, how: 'changed' });
  }

  /** The variable `name` refers to at `use`: the innermost scope wins, as in JavaScript. */
  protected bindingAt(name: string, use: Node): Binding | undefined {
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
  protected notConstant(binding: Binding): string | undefined {
    if (binding.opaque) return `${binding.opaque}, so its value is only known at run time`;
    const write = binding.writes.find((w) => w.node.id !== binding.declaration.id);
    if (!write) return undefined;
    return `\`${binding.name}\` is ${write.how} at line ${this.lineOf(write.node)} (\`${shorten(write.node.text)}\`), so its value is only known at run time`;
  }

  // #endregion

  // #region Evaluation

  protected evaluate(node: Node | null): Value {
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

  protected evaluateNode(node: Node): Value {
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
  protected evaluateObject(node: Node): Value {
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
  protected evaluateMember(node: Node): Value {
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

export interface BlockEntry {
  readonly kind: 'error' | 'assign' | 'add' | 'nested';
  readonly statement: Node;
  readonly node: Node;
  /** For `add`: the layer expression passed to it. */
  readonly argument?: Node;
}

/** A layer call, with the values of loop variables in the iteration it was unrolled from. */
export interface LayerSite {
  readonly node: Node;
  readonly loop?: ReadonlyMap<Binding, Value>;
}

export const NO_LOOP: ReadonlyMap<Binding, Value> = new Map();

export interface StaticLoop {
  readonly variables: readonly Binding[];
  /** How many times the loop runs (possibly more than `iterations` holds: then it is not unrolled). */
  readonly trips: number;
  /** Per iteration, the value of each variable. */
  readonly iterations: readonly (readonly Value[])[];
  readonly body: readonly Node[];
  /** Where the loop's bound (or array) is written. */
  readonly header: Node;
}

export const JUMPS = new Set(['break_statement', 'continue_statement', 'return_statement', 'labeled_statement']);

export function compare<T extends number | string>(operator: string | undefined, a: T, b: T): boolean | undefined {
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
export function bodyStatements(body: Node | null): Node[] {
  if (!body) return [];
  return body.type === 'statement_block' ? body.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') : [body];
}

export interface BlockIndex {
  readonly byTarget: ReadonlyMap<string, readonly BlockEntry[]>;
}

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `model.add(x)` → 'model', `this.model.add(x)` → 'this.model'; undefined for other calls. */
export function addTarget(call: Node): string | undefined {
  const parts = dottedParts(call.childForFieldName('function'));
  return parts && parts.length >= 2 && parts[parts.length - 1] === 'add' ? parts.slice(0, -1).join('.') : undefined;
}

/** A limit of limits.ts reached while reading the file: the whole file is refused at `node`. */
export class LimitReached extends Error {
  constructor(
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

export interface ScopeGroup {
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
export class ScopeIndex {
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
export function truthiness(value: Value): boolean | undefined {
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
export function literal(value: Value): string {
  if (value.kind === 'string') return `'${value.value}'`;
  if (value.kind === 'array') return `[${value.items.map(literal).join(', ')}]`;
  return describe(value).replace(/^`|`$/g, '');
}

/** An Unsound error for a value that is not static: at the unreadable part when one is known. */
export function notStatic(subject: string, value: Value, fallback: Node): Unsound {
  if (value.kind === 'unknown') return new Unsound('parse-error', `${subject} cannot be read statically: ${value.reason}.`, value.node);
  return new Unsound('parse-error', `${subject} (${describe(value)}) are only known at run time.`, fallback);
}

/** `[x]` → x; a single expression stays; several tensors are a graph the IR cannot hold. */
export function singleTensor(node: Node, what: 'inputs' | 'outputs'): Node {
  const inner = unwrap(node) ?? node;
  if (inner.type !== 'array') return inner;
  const items = meaningfulChildren(inner);
  if (items.length === 1) return unwrap(items[0]) ?? items[0];
  throw new Unsound('unsupported-layer', `it has ${items.length} ${what}; only single-input, single-output chains of layers can be diagnosed.`, inner);
}

/** The block a declaration or assignment statement is a direct statement of. */
export function directBlockOf(node: Node): Node | undefined {
  const statement = node.type === 'variable_declarator' ? node.parent : node.parent?.type === 'expression_statement' ? node.parent : undefined;
  const block = statement?.parent;
  return block && (block.type === 'statement_block' || block.type === 'program') ? block : undefined;
}

export function enclosingStatementBlock(node: Node): Node | undefined {
  for (let current = node.parent; current; current = current.parent) if (current.type === 'statement_block' || current.type === 'program') return current;
  return undefined;
}

export function enclosingClass(node: Node): Node | undefined {
  for (let current = node.parent; current; current = current.parent) if (current.type === 'class_declaration' || current.type === 'class' || current.type === 'abstract_class_declaration') return current;
  return undefined;
}


/** True when a number or array option is all ones (dilationRate's default); undefined when not static. */
export function allOnes(value: Value): boolean | undefined {
  const items = value.kind === 'number' ? [value] : value.kind === 'array' ? value.items : undefined;
  if (!items || items.length === 0 || items.some((item) => item.kind !== 'number')) return undefined;
  return items.every((item) => item.kind === 'number' && item.value === 1);
}

export function withDefaults(name: InitializerName): InitializerSpec {
  return { name, ...INITIALIZER_DEFAULTS[name] };
}

export function stringContent(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  let text = '';
  for (const part of node.namedChildren) {
    if (part?.type === 'string_fragment') text += part.text;
    else if (part?.type === 'escape_sequence') text += part.text.length === 2 ? part.text.slice(1) : part.text;
  }
  return text;
}

export function ancestorFunctionName(node: Node): string | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_declaration' || current.type === 'method_definition') return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type?.includes('function')) return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type === 'arrow_function') return current.childForFieldName('name')?.text;
  }
  return undefined;
}

/** The innermost block (or function, or the program) a `let` / `const` declaration is visible in. */
export function blockScopeOf(node: Node): Node {
  let current = node;
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (BLOCK_SCOPES.has(parent.type)) return parent;
    current = parent;
  }
  return current;
}

/** The function (or the program) a `var` declaration is visible in. */
export function functionScopeOf(node: Node): Node {
  let current = node;
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (FUNCTION_SCOPES.has(parent.type) || parent.type === 'program') return parent;
    current = parent;
  }
  return current;
}

/** The names a binding pattern declares: `x`, `{a, b: c, ...rest}`, `[x = 1, y]`, TS parameters. */
export function patternNames(pattern: Node): Node[] {
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
