import type { Node } from 'web-tree-sitter';
import { pythonArithmetic, pythonTruthiness, valueAtVersion } from '../../python/bindings';
import { dottedParts } from '../../python/imports';
import { dictGet, dictSet, type DictEntry as SharedDictEntry } from '../../python/dicts';
import { formatSpec } from '../../python/formatting';
import type { Value as PythonValue } from '../../python/values';
import { MAX_KERAS_EVALUATIONS } from '../../parse/limits';
import { type ActivationSpec, type LoadProblemCode } from '../../model';
import { firstCode, isExtra } from './pythonSyntax';

// #region Static evaluation of Python expressions

export type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'sequence'; readonly items: readonly Value[] }
  /** A dict with constant keys (a `{...}` literal or `dict(k=v, ...)`), in insertion order; never changed in the file. */
  | { readonly kind: 'dict'; readonly entries: readonly DictEntry[] }
  /** A dotted name that is not a known constant, e.g. `tf.nn.relu` or an imported function. */
  | { readonly kind: 'reference'; readonly path: readonly string[] }
  /** A call that is not evaluated (layers, initialisers), kept with the scope it appeared in. */
  | { readonly kind: 'call'; readonly node: Node; readonly scope: Scope }
  /** A functional-API tensor: the layers applied since its `keras.Input`, newest first. */
  | { readonly kind: 'tensor'; readonly chain: TensorChain }
  | {
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
    };

/** A dict's keys, as iterating it gives them. */
export function dictKeys(dict: Extract<Value, { kind: 'dict' }>): Value {
  return { kind: 'sequence', items: dict.entries.map((entry): Value => (typeof entry.key === 'string' ? { kind: 'string', value: entry.key } : { kind: 'number', value: entry.key })) };
}

/** One `key: value` of a dict value of this loader. */
export type DictEntry = SharedDictEntry<Value>;


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
    private readonly history: ReadonlyMap<string, readonly { version: number; value: Value }[]>,
    private readonly version: number,
  ) {}
  lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    const versions = this.history.get(name);
    const found = versions && valueAtVersion(versions, this.version);
    if (found) return found.value;
    return this.parent.lookup(name, atOffset);
  }
}

/**
 * Simple `NAME = expr` assignments of one block (module or function body), evaluated lazily.
 * The assignment in effect is the last one before the use; at module level, a use that precedes
 * every assignment (a function body that reads a constant defined further down) takes the last.
 */
export class AssignmentScope implements Scope {
  private readonly assignments = new Map<string, { offset: number; value: Node }[]>();
  private readonly evaluating = new Set<number>();
  private readonly layerObjects = new Map<number, Value>();

  constructor(
    private readonly evaluator: Evaluator,
    private readonly parent: Scope | undefined,
    block: Node,
    private readonly fallBackToLast: boolean,
  ) {
    for (const statement of block.namedChildren) {
      if (statement?.type !== 'expression_statement') continue;
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

  lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    const list = this.assignments.get(name);
    if (list) {
      const before = list.filter((entry) => entry.offset <= atOffset);
      const chosen = before.length > 0 ? before[before.length - 1] : this.fallBackToLast ? list[list.length - 1] : undefined;
      if (chosen) {
        if (this.evaluating.has(chosen.value.id)) {
          return { kind: 'unknown', node: chosen.value, reason: `\`${name}\` refers to itself` };
        }
        // One layer object per assignment: `d = Dense(8)` read twice is the same layer (shared weights).
        const cached = this.layerObjects.get(chosen.value.id);
        if (cached) return cached;
        this.evaluating.add(chosen.value.id);
        try {
          const value = this.evaluator.evaluate(chosen.value, this.parent ?? this, chosen.value.startIndex);
          if (value.kind === 'call') this.layerObjects.set(chosen.value.id, value);
          return value;
        } finally {
          this.evaluating.delete(chosen.value.id);
        }
      }
    }
    return this.parent ? this.parent.lookup(name, atOffset) : UNBOUND;
  }
}

export const MAX_SEQUENCE = 10_000;
/**
 * Expressions evaluated per file at most (MAX_KERAS_EVALUATIONS, limits.ts). Name lookups
 * re-evaluate their assignments, so pathological inputs (long chains of names built from names)
 * could otherwise take exponential time; past the budget every value is unknown and the models
 * needing it are refused with a position. Real model files use a few hundred.
 */
export const MAX_EVALUATIONS = MAX_KERAS_EVALUATIONS;

export class Evaluator {
  private depth = 0;
  private evaluations = 0;

  /** True once the file's evaluation budget is spent. */
  get exhausted(): boolean {
    return this.evaluations > MAX_EVALUATIONS;
  }

  /** Charges work that is not an evaluation (walking the file for the training set-up) to the same budget. */
  charge(cost: number): void {
    this.evaluations += cost;
  }

  /** Dicts changed in place in the file (see findDictMutations): not constants. */
  constructor(
    private readonly changedDicts: ReadonlyMap<string, Node> = new Map(),
    /** The framework's calls with a static value (Keras' `K.image_data_format()`); undefined: not one. */
    private readonly hostCall?: (call: Node) => Value | undefined,
  ) {}

  /** Evaluates an expression; `atOffset` is where names are looked up (defaults to the node). */
  evaluate(node: Node, scope: Scope, atOffset = node.startIndex): Value {
    if (++this.evaluations > MAX_EVALUATIONS) return { kind: 'unknown', node, reason: 'the file is too complex to evaluate statically (the evaluation budget ran out)' };
    if (this.depth > 100) return { kind: 'unknown', node, reason: 'the expression is nested too deeply' };
    this.depth++;
    try {
      return this.evaluateNode(node, scope, atOffset);
    } finally {
      this.depth--;
    }
  }

  private evaluateNode(node: Node, scope: Scope, atOffset: number): Value {
    switch (node.type) {
      case 'integer':
      case 'float': {
        const value = Number(node.text.split('_').join(''));
        return Number.isFinite(value) ? { kind: 'number', value } : unknown(node, 'not a plain number');
      }
      case 'true':
        return { kind: 'bool', value: true };
      case 'false':
        return { kind: 'bool', value: false };
      case 'none':
        return { kind: 'none' };
      case 'string':
        return this.evaluateString(node, scope, atOffset);
      case 'concatenated_string': {
        let text = '';
        for (const part of node.namedChildren) {
          if (!part) continue;
          const value = this.evaluate(part, scope, atOffset);
          if (value.kind !== 'string') return value;
          text += value.value;
        }
        return { kind: 'string', value: text };
      }
      case 'parenthesized_expression': {
        const inner = node.namedChildren.find((child) => child && !isExtra(child));
        return inner ? this.evaluate(inner, scope, atOffset) : unknown(node, 'empty parentheses');
      }
      case 'unary_operator':
        return this.evaluateUnary(node, scope, atOffset);
      case 'binary_operator':
        return this.evaluateBinary(node, scope, atOffset);
      // `expression_list`: `28, 28` on the right of `img_rows, img_cols = 28, 28`, a tuple without parentheses.
      case 'list':
      case 'tuple':
      case 'expression_list':
        return this.evaluateItems(node, scope, atOffset);
      case 'list_comprehension':
      case 'generator_expression':
        return this.evaluateComprehension(node, scope, atOffset);
      case 'identifier': {
        const bound = scope.lookup(node.text, atOffset);
        if (bound !== UNBOUND && bound.kind === 'dict') {
          const changedAt = this.changedDicts.get(node.text);
          if (changedAt) return unknown(node, changedDictReason(node.text, changedAt));
        }
        return bound === UNBOUND ? { kind: 'reference', path: [node.text] } : bound;
      }
      case 'dictionary':
        return this.evaluateDictionary(node, scope, atOffset);
      case 'attribute': {
        const parts = dottedParts(node);
        return parts ? { kind: 'reference', path: parts } : unknown(node, 'not a plain dotted name');
      }
      case 'subscript':
        return this.evaluateSubscript(node, scope, atOffset);
      case 'call':
        return this.evaluateCall(node, scope, atOffset);
      // Conditions of `if` statements and loops in model-building code (`if i < depth - 1:`).
      case 'comparison_operator':
        return this.evaluateComparison(node, scope, atOffset);
      case 'not_operator': {
        const operand = node.childForFieldName('argument');
        const value = operand ? this.evaluate(operand, scope, atOffset) : unknown(node, 'incomplete expression');
        const truth = pythonTruthiness(value);
        return truth === undefined ? (value.kind === 'unknown' ? value : unknown(node, `\`${shorten(node.text)}\` is only known at run time`)) : { kind: 'bool', value: !truth };
      }
      case 'boolean_operator': {
        const leftNode = node.childForFieldName('left');
        const rightNode = node.childForFieldName('right');
        const operator = node.childForFieldName('operator')?.text;
        if (!leftNode || !rightNode) return unknown(node, 'incomplete expression');
        const left = this.evaluate(leftNode, scope, atOffset);
        const truth = pythonTruthiness(left);
        if (truth === undefined) return left.kind === 'unknown' ? left : unknown(node, `\`${shorten(node.text)}\` is only known at run time`);
        // Python returns the deciding operand itself, not a bool.
        if (operator === 'and') return truth ? this.evaluate(rightNode, scope, atOffset) : left;
        return truth ? left : this.evaluate(rightNode, scope, atOffset);
      }
      case 'conditional_expression': {
        const [whenTrue, condition, whenFalse] = node.namedChildren.filter((c): c is Node => !!c && !isExtra(c));
        if (!whenTrue || !condition || !whenFalse) return unknown(node, 'incomplete expression');
        const test = this.evaluate(condition, scope, atOffset);
        const truth = pythonTruthiness(test);
        if (truth === undefined) return test.kind === 'unknown' ? test : unknown(condition, `the condition \`${shorten(condition.text)}\` is only known at run time`);
        return this.evaluate(truth ? whenTrue : whenFalse, scope, atOffset);
      }
      default:
        return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
    }
  }

  private evaluateString(node: Node, scope: Scope, atOffset: number): Value {
    let text = '';
    for (const part of node.namedChildren) {
      if (!part) continue;
      if (part.type === 'string_content') text += part.text;
      else if (part.type === 'escape_sequence') text += unescape(part.text);
      else if (part.type === 'interpolation') {
        const expression = part.childForFieldName('expression');
        const value = expression ? this.evaluate(expression, scope, atOffset) : undefined;
        if (!value || (value.kind !== 'number' && value.kind !== 'string')) {
          return unknown(node, `the f-string \`${shorten(node.text)}\` depends on a run-time value`);
        }
        const spec = part.namedChildren.find((child) => child?.type === 'format_specifier')?.text.replace(/^:/, '');
        const conversion = part.namedChildren.find((child) => child?.type === 'type_conversion')?.text;
        const constant: PythonValue<never> = value.kind === 'number' ? { kind: 'number', value: value.value } : { kind: 'string', value: value.value };
        const formatted = conversion && conversion !== '!s' ? undefined : formatSpec(constant, spec ?? '');
        if (formatted === undefined) return unknown(part, `the f-string part \`${shorten(part.text)}\` uses a format this reader does not evaluate`);
        text += formatted;
      }
    }
    return { kind: 'string', value: text };
  }

  private evaluateUnary(node: Node, scope: Scope, atOffset: number): Value {
    const operand = node.childForFieldName('argument');
    const operator = node.childForFieldName('operator')?.text;
    if (!operand) return unknown(node, 'incomplete expression');
    const value = this.evaluate(operand, scope, atOffset);
    if (value.kind !== 'number') return value.kind === 'unknown' ? value : unknown(node, 'not a number');
    if (operator === '-') return { kind: 'number', value: -value.value };
    if (operator === '+') return value;
    return unknown(node, `operator ${operator ?? '?'} is not evaluated`);
  }

  private evaluateBinary(node: Node, scope: Scope, atOffset: number): Value {
    const leftNode = node.childForFieldName('left');
    const rightNode = node.childForFieldName('right');
    const operator = node.childForFieldName('operator')?.text;
    if (!leftNode || !rightNode || !operator) return unknown(node, 'incomplete expression');
    const left = this.evaluate(leftNode, scope, atOffset);
    if (left.kind === 'unknown') return left;
    const right = this.evaluate(rightNode, scope, atOffset);
    if (right.kind === 'unknown') return right;
    return applyOperator(operator, left, right, node);
  }

  /** `a < b`, `a == b`, `x in (1, 2)`, chained `0 < i < n`, on numbers, strings, bools and None. */
  private evaluateComparison(node: Node, scope: Scope, atOffset: number): Value {
    const operands = node.namedChildren.filter((c): c is Node => !!c && !isExtra(c));
    const operators = node.children.filter((c): c is Node => !!c && !c.isNamed).map((c) => c.text);
    // `not in` and `is not` are two anonymous tokens each.
    const merged: string[] = [];
    for (const token of operators) {
      const last = merged[merged.length - 1];
      if ((token === 'in' && last === 'not') || (token === 'not' && last === 'is')) merged[merged.length - 1] = `${last} ${token}`;
      else merged.push(token);
    }
    if (merged.length !== operands.length - 1) return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
    let left = this.evaluate(operands[0], scope, atOffset);
    for (let i = 0; i < merged.length; i++) {
      const right = this.evaluate(operands[i + 1], scope, atOffset);
      const result = compareValues(merged[i], left, right);
      if (result === undefined) {
        const culprit = left.kind === 'unknown' ? left : right.kind === 'unknown' ? right : undefined;
        return culprit ?? unknown(node, `\`${shorten(node.text)}\` is only known at run time`);
      }
      if (!result) return { kind: 'bool', value: false };
      left = right;
    }
    return { kind: 'bool', value: true };
  }

  private evaluateItems(node: Node, scope: Scope, atOffset: number): Value {
    const items: Value[] = [];
    for (const child of node.namedChildren) {
      if (!child || isExtra(child)) continue;
      if (child.type === 'list_splat') {
        const inner = child.namedChildren.find((c) => c && !isExtra(c));
        const value = inner ? this.evaluate(inner, scope, atOffset) : unknown(child, 'empty splat');
        if (value.kind !== 'sequence') return value.kind === 'unknown' ? value : unknown(child, `\`${shorten(child.text)}\` is not a known list`);
        items.push(...value.items);
      } else {
        items.push(this.evaluate(child, scope, atOffset));
      }
    }
    return { kind: 'sequence', items };
  }

  /** `{"a": 1, 2: x, **base}` with constant string / number keys. */
  private evaluateDictionary(node: Node, scope: Scope, atOffset: number): Value {
    const entries: DictEntry[] = [];
    for (const child of node.namedChildren) {
      if (!child || isExtra(child)) continue;
      if (child.type === 'dictionary_splat') {
        const inner = firstCode(child);
        const value = inner ? this.evaluate(inner, scope, atOffset) : unknown(child, 'empty splat');
        if (value.kind !== 'dict') return value.kind === 'unknown' ? value : unknown(child, `\`${shorten(child.text)}\` is not a known dict`);
        for (const entry of value.entries) dictSet(entries, entry.key, entry.value);
        continue;
      }
      const keyNode = child.type === 'pair' ? child.childForFieldName('key') : null;
      const valueNode = child.type === 'pair' ? child.childForFieldName('value') : null;
      if (!keyNode || !valueNode) return unknown(child, `\`${shorten(child.text)}\` is not a \`key: value\` pair that can be read statically`);
      const key = this.evaluate(keyNode, scope, atOffset);
      if (key.kind !== 'string' && key.kind !== 'number') {
        return key.kind === 'unknown' ? key : unknown(keyNode, `the dict key \`${shorten(keyNode.text)}\` is not a constant string or number`);
      }
      dictSet(entries, key.value, this.evaluate(valueNode, scope, atOffset));
      if (entries.length > MAX_SEQUENCE) return unknown(node, 'the dict is too long');
    }
    return { kind: 'dict', entries };
  }

  private evaluateComprehension(node: Node, scope: Scope, atOffset: number): Value {
    const body = node.childForFieldName('body');
    const clauses = node.namedChildren.filter((child) => child && !isExtra(child) && child.id !== body?.id);
    if (!body || clauses.length !== 1 || clauses[0]?.type !== 'for_in_clause') {
      return unknown(node, 'only comprehensions with a single `for … in …` and no condition are read');
    }
    const clause = clauses[0];
    const target = clause.childForFieldName('left');
    const iterableNode = clause.childForFieldName('right');
    if (!target || !iterableNode) return unknown(node, 'incomplete comprehension');
    const evaluated = this.evaluate(iterableNode, scope, atOffset);
    const iterable = evaluated.kind === 'dict' ? dictKeys(evaluated) : evaluated;
    if (iterable.kind !== 'sequence') {
      return iterable.kind === 'unknown' ? iterable : unknown(iterableNode, `\`${shorten(iterableNode.text)}\` is not a known sequence`);
    }
    const items: Value[] = [];
    for (const element of iterable.items) {
      const bindings = bindTarget(target, element);
      if (!bindings) return unknown(target, 'only simple loop variables are read');
      items.push(this.evaluate(body, new ValueScope(scope, bindings), atOffset));
    }
    return { kind: 'sequence', items };
  }

  private evaluateSubscript(node: Node, scope: Scope, atOffset: number): Value {
    const valueNode = node.childForFieldName('value');
    const indexNode = node.childForFieldName('subscript');
    if (!valueNode || !indexNode) return unknown(node, 'incomplete subscript');
    const sequence = this.evaluate(valueNode, scope, atOffset);
    const index = this.evaluate(indexNode, scope, atOffset);
    if (sequence.kind === 'dict') {
      if (index.kind === 'unknown') return index;
      const found = index.kind === 'string' || index.kind === 'number' ? dictGet(sequence.entries, index.value) : undefined;
      return found ?? unknown(indexNode, `\`${shorten(valueNode.text)}\` has no key ${describeValue(index)} (a KeyError when run)`);
    }
    // A dict that is changed somewhere: say so rather than "cannot be evaluated".
    if (sequence.kind === 'unknown' && sequence.reason.includes('is a dict that is changed')) return sequence;
    if (sequence.kind === 'sequence' && index.kind === 'number' && Number.isInteger(index.value)) {
      const i = index.value < 0 ? sequence.items.length + index.value : index.value;
      if (i >= 0 && i < sequence.items.length) return sequence.items[i];
    }
    return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
  }

  /** `dict(units=64, act='tanh')`, `dict(base, k=v)`, `dict(**base)`, `dict([("a", 1)])`. */
  private evaluateDictCall(node: Node, scope: Scope, atOffset: number): Value {
    const entries: DictEntry[] = [];
    const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && !isExtra(a));
    for (const arg of args) {
      if (arg.type === 'keyword_argument') {
        const name = arg.childForFieldName('name')?.text;
        const valueNode = arg.childForFieldName('value');
        if (!name || !valueNode) return unknown(arg, 'incomplete keyword argument');
        dictSet(entries, name, this.evaluate(valueNode, scope, atOffset));
        continue;
      }
      const inner = arg.type === 'dictionary_splat' ? firstCode(arg) : arg.type === 'list_splat' ? undefined : arg;
      const value = inner ? this.evaluate(inner, scope, atOffset) : unknown(arg, `\`${shorten(arg.text)}\` cannot be evaluated without running the code`);
      if (value.kind === 'dict') {
        for (const entry of value.entries) dictSet(entries, entry.key, entry.value);
      } else if (arg.type !== 'dictionary_splat' && value.kind === 'sequence' && value.items.every((item) => item.kind === 'sequence' && item.items.length === 2 && (item.items[0].kind === 'string' || item.items[0].kind === 'number'))) {
        for (const item of value.items) {
          if (item.kind !== 'sequence') continue;
          const [key, entryValue] = item.items;
          if (key.kind === 'string' || key.kind === 'number') dictSet(entries, key.value, entryValue);
        }
      } else {
        return value.kind === 'unknown' ? value : unknown(arg, `\`${shorten(arg.text)}\` is not a known dict`);
      }
    }
    return { kind: 'dict', entries };
  }

  /** `d.get(key, default)`, `d.keys()`, `d.values()`, `d.items()` on a constant dict; undefined for other calls. */
  private evaluateDictMethod(node: Node, callee: Node, scope: Scope, atOffset: number): Value | undefined {
    const method = callee.childForFieldName('attribute')?.text;
    const objectNode = callee.childForFieldName('object');
    if (!objectNode || (method !== 'get' && method !== 'keys' && method !== 'values' && method !== 'items')) return undefined;
    const object = this.evaluate(objectNode, scope, atOffset);
    if (object.kind === 'unknown' && object.reason.includes('is a dict that is changed')) return object;
    if (object.kind !== 'dict') return undefined;
    const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && !isExtra(a));
    if (method !== 'get') {
      if (args.length > 0) return unknown(node, `\`${shorten(node.text)}\` takes no arguments`);
      return {
        kind: 'sequence',
        items: object.entries.map((entry): Value => {
          const key: Value = typeof entry.key === 'string' ? { kind: 'string', value: entry.key } : { kind: 'number', value: entry.key };
          return method === 'keys' ? key : method === 'values' ? entry.value : { kind: 'sequence', items: [key, entry.value] };
        }),
      };
    }
    if (args.length < 1 || args.length > 2 || args.some((a) => a.type === 'keyword_argument' || a.type === 'list_splat' || a.type === 'dictionary_splat')) {
      return unknown(node, `\`${shorten(node.text)}\` is not a \`.get(key, default)\` call that can be read statically`);
    }
    const key = this.evaluate(args[0], scope, atOffset);
    if (key.kind !== 'string' && key.kind !== 'number') return key.kind === 'unknown' ? key : unknown(args[0], `the key \`${shorten(args[0].text)}\` is not a constant string or number`);
    return dictGet(object.entries, key.value) ?? (args[1] ? this.evaluate(args[1], scope, atOffset) : { kind: 'none' });
  }

  private evaluateCall(node: Node, scope: Scope, atOffset: number): Value {
    const hosted = this.hostCall?.(node);
    if (hosted) return hosted;
    const callee = node.childForFieldName('function');
    const dictMethod = callee?.type === 'attribute' ? this.evaluateDictMethod(node, callee, scope, atOffset) : undefined;
    if (dictMethod) return dictMethod;
    const builtin = callee?.type === 'identifier' ? callee.text : undefined;
    if (builtin === 'dict' && scope.lookup(builtin, atOffset) === UNBOUND) return this.evaluateDictCall(node, scope, atOffset);
    // Python built-ins are only evaluated when the name is not rebound in the file.
    if (builtin && scope.lookup(builtin, atOffset) === UNBOUND) {
      const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter(
        (a): a is Node => !!a && !isExtra(a),
      );
      // Built-ins that iterate see a dict's keys.
      const values = args.map((arg) => (arg.type === 'keyword_argument' ? undefined : this.evaluate(arg, scope, atOffset))).map((v) => (v?.kind === 'dict' ? dictKeys(v) : v));
      const numbers = values.map((v) => (v?.kind === 'number' ? v.value : undefined));
      if (builtin === 'range' && numbers.length >= 1 && numbers.length <= 3 && numbers.every((n) => n !== undefined && Number.isInteger(n))) {
        const [start, stop, step] = numbers.length === 1 ? [0, numbers[0] as number, 1] : [numbers[0] as number, numbers[1] as number, (numbers[2] ?? 1) as number];
        if (step === 0) return unknown(node, 'range() step is zero');
        const count = Math.max(0, Math.ceil((stop - start) / step));
        if (count > MAX_SEQUENCE) return unknown(node, `range() of ${count} items is too long`);
        return { kind: 'sequence', items: Array.from({ length: count }, (_, i) => ({ kind: 'number' as const, value: start + i * step })) };
      }
      if ((builtin === 'int' || builtin === 'float') && numbers.length === 1 && numbers[0] !== undefined) {
        return { kind: 'number', value: builtin === 'int' ? Math.trunc(numbers[0]) : numbers[0] };
      }
      if ((builtin === 'list' || builtin === 'tuple') && values.length === 1 && values[0]?.kind === 'sequence') return values[0];
      // The helpers model-building loops iterate with: `for i, units in enumerate(WIDTHS)`.
      if (builtin === 'len' && values.length === 1 && (values[0]?.kind === 'sequence' || values[0]?.kind === 'string')) {
        const measured = values[0];
        return { kind: 'number', value: measured.kind === 'sequence' ? measured.items.length : measured.value.length };
      }
      if (builtin === 'reversed' && values.length === 1 && values[0]?.kind === 'sequence') return { kind: 'sequence', items: [...values[0].items].reverse() };
      if (builtin === 'enumerate' && values.length >= 1 && values.length <= 2 && values[0]?.kind === 'sequence' && (values.length === 1 || numbers[1] !== undefined)) {
        const first = numbers[1] ?? 0;
        return { kind: 'sequence', items: values[0].items.map((item, i) => ({ kind: 'sequence' as const, items: [{ kind: 'number' as const, value: first + i }, item] })) };
      }
      if (builtin === 'zip' && values.length >= 1 && values.every((v) => v?.kind === 'sequence')) {
        const lists = values.map((v) => (v?.kind === 'sequence' ? v.items : []));
        const length = Math.min(...lists.map((list) => list.length));
        return { kind: 'sequence', items: Array.from({ length }, (_, i) => ({ kind: 'sequence' as const, items: lists.map((list) => list[i]) })) };
      }
      if ((builtin === 'min' || builtin === 'max') && numbers.length >= 2 && numbers.every((n) => n !== undefined)) {
        const list = numbers as number[];
        return { kind: 'number', value: builtin === 'min' ? Math.min(...list) : Math.max(...list) };
      }
    }
    return { kind: 'call', node, scope };
  }
}

/** A binary operator on two evaluated operands (also used for augmented assignments `x //= 2`). */
export function applyOperator(operator: string, left: Value, right: Value, node: Node): Value {
  if (left.kind === 'number' && right.kind === 'number') {
    const a = left.value;
    const b = right.value;
    const result = pythonArithmetic(operator, a, b);
    return Number.isFinite(result) ? { kind: 'number', value: result } : unknown(node, `\`${shorten(node.text)}\` has no finite value`);
  }
  if (operator === '+' && left.kind === 'sequence' && right.kind === 'sequence') {
    return { kind: 'sequence', items: [...left.items, ...right.items] };
  }
  if (operator === '+' && left.kind === 'string' && right.kind === 'string') {
    return { kind: 'string', value: left.value + right.value };
  }
  if (operator === '*') {
    // `[Dense(256)] * 3` repeats the same layer object in Python; the model is read as three
    // layers (the user's evident intent), all sharing the one call's source span.
    const sequence = left.kind === 'sequence' ? left : right.kind === 'sequence' ? right : undefined;
    const count = left.kind === 'number' ? left : right.kind === 'number' ? right : undefined;
    if (sequence && count && Number.isInteger(count.value) && sequence.items.length * count.value <= MAX_SEQUENCE) {
      const items: Value[] = [];
      // Copies of layer calls, so that the repetitions are not taken for one layer applied twice.
      for (let i = 0; i < count.value; i++) items.push(...(i === 0 ? sequence.items : sequence.items.map((item) => (item.kind === 'call' ? { ...item } : item))));
      return { kind: 'sequence', items };
    }
  }
  return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
}

/** A comparison on constants; undefined when either side is not a constant that can be compared. */
export function compareValues(operator: string, left: Value, right: Value): boolean | undefined {
  const scalar = (value: Value): number | string | boolean | null | undefined =>
    value.kind === 'number' || value.kind === 'string' || value.kind === 'bool' ? value.value : value.kind === 'none' ? null : undefined;
  if (operator === 'in' || operator === 'not in') {
    const needle = scalar(left);
    if (needle === undefined) return undefined;
    let found: boolean | undefined;
    if (right.kind === 'dict') {
      found = right.entries.some((entry) => entry.key === needle);
    } else if (right.kind === 'sequence') {
      const items = right.items.map(scalar);
      if (items.some((item) => item === undefined)) return undefined;
      found = items.includes(needle);
    } else if (right.kind === 'string' && typeof needle === 'string') {
      found = right.value.includes(needle);
    }
    if (found === undefined) return undefined;
    return operator === 'in' ? found : !found;
  }
  const a = scalar(left);
  const b = scalar(right);
  if (a === undefined || b === undefined) return undefined;
  switch (operator) {
    case '==':
    case 'is':
      return a === b;
    case '!=':
    case 'is not':
      return a !== b;
  }
  if (typeof a !== typeof b || a === null || b === null) return undefined;
  switch (operator) {
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

export function unknown(node: Node, reason: string): Value {
  return { kind: 'unknown', node, reason };
}

export function bindTarget(target: Node, value: Value): Map<string, Value> | undefined {
  if (target.type === 'identifier') return new Map([[target.text, value]]);
  if ((target.type === 'pattern_list' || target.type === 'tuple_pattern') && value.kind === 'sequence') {
    const names = target.namedChildren.filter((n): n is Node => !!n && !isExtra(n));
    if (names.length !== value.items.length || names.some((n) => n.type !== 'identifier')) return undefined;
    return new Map(names.map((n, i) => [n.text, value.items[i]]));
  }
  return undefined;
}

export const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

export function unescape(sequence: string): string {
  return SIMPLE_ESCAPES[sequence.slice(1)] ?? sequence;
}

export function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'number':
    case 'bool':
      return String(value.value);
    case 'string':
      return JSON.stringify(value.value);
    case 'none':
      return 'None';
    case 'sequence':
      return 'a list';
    case 'dict':
      return 'a dict';
    case 'reference':
      return `\`${value.path.join('.')}\``;
    case 'call':
      return `\`${shorten(value.node.text)}\``;
    case 'unknown':
      return `\`${shorten(value.node.text)}\``;
    case 'tensor':
      return 'a tensor';
  }
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
   * `[d, d]`, `self.d`): the same Value object each time that instance is used, so a layer applied
   * twice (sharing its weights) is recognised. Fresh for every constructor call that is evaluated.
   */
  readonly instance?: Value;
  /** Where the layer is applied or listed (for the problem when it is applied twice). */
  readonly at?: Node;
}
