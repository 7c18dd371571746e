/**
 * Keras (Python) loader: reads `Sequential` models statically from a tree-sitter syntax tree.
 * It never runs the user's code; it evaluates just enough Python (literals, module constants,
 * arithmetic, `range`, list concatenation / repetition / comprehensions) to know each layer's
 * arguments.
 *
 * Soundness policy (how unresolvable things are represented):
 *  - Something that changes what would be trained — an unknown layer that may change shapes
 *    (LSTM, Reshape, a custom class), a width / kernel size / stride / input shape that is only
 *    known at run time, a layer list built by an unknown function — makes the model unbuildable:
 *    the model is NOT returned, and a LoadProblem at the offending node goes to
 *    `LoadResult.problems` (file level), as model.ts specifies for "a model that cannot be trained
 *    soundly".
 *  - Something that does not change the architecture — an unknown shape-preserving layer
 *    (GaussianNoise, LayerNormalization, …, skipped), an unknown activation (treated as linear),
 *    an unknown initialiser (Keras default used), an unresolvable dropout rate or name — is
 *    recorded in `ModelSpec.problems` at its position and the model is returned.
 * So every returned ModelSpec can be built and trained as is.
 */
import type { Node } from 'web-tree-sitter';
import {
  PositionIndex,
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerKind,
  type LayerSource,
  type LayerSpec,
  type LoadNote,
  type LoadProblem,
  type LoadProblemCode,
  type LoadResult,
  type LossSpec,
  type ModelSpec,
  type OptimizerSpec,
  type SourceSpan,
  type TrainingSetup,
  type LoadContext,
} from '../model';
import { readSourceFile, firstSyntaxError } from './sourceFile';
import { bindingAt, collectBindings, optimizerNameOf, pythonArithmetic, pythonTruthiness, valueAtVersion, type FileBindings } from '../python/bindings';
import { collectImports, dottedParts, type ImportTable } from '../python/imports';
import { findDictMutations } from '../python/dictMutations';
import { shapeError, traceShapes } from '../shapes';
import { LayerNamer } from './layerNames';
import { dictGet, dictSet, type DictEntry as SharedDictEntry } from '../python/dicts';
import { formatCount, MAX_KERAS_EVALUATIONS, MAX_KERAS_STATEMENTS, MAX_LAYERS, MAX_MODELS_PER_FILE, tooManyLayers } from './limits';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// #region Public entry point

/** Loads every Keras `Sequential` model of a Python file. Never throws. */
export async function loadKerasPython(text: string, fileName: string, _context: LoadContext = {}): Promise<LoadResult> {
  // The size, depth and attribute-chain limits are checked by readSourceFile (limits.ts).
  return readSourceFile(text, fileName, 'python', 'keras-python', (tree, positions) => new KerasFileLoader(text, positions, tree.rootNode).load());
}

// #endregion

const KERAS_ROOTS = new Set(['keras', 'tensorflow', 'tf_keras']);

/**
 * Resolves a callee/reference through the imports. `keras` is true when the path comes from
 * Keras / TensorFlow, or when its root is not imported at all (lenient: snippets often omit
 * imports). A name imported from another package (torch, a user module) is not Keras.
 */
function resolvePath(parts: readonly string[], imports: ImportTable): { path: string[]; keras: boolean } {
  const imported = imports.get(parts[0]);
  const path = imported ? [...imported, ...parts.slice(1)] : [...parts];
  const keras = !imported || KERAS_ROOTS.has(path[0]) || path.includes('keras');
  return { path, keras };
}

// #endregion

// #region Static evaluation of Python expressions

type Value =
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
function dictKeys(dict: Extract<Value, { kind: 'dict' }>): Value {
  return { kind: 'sequence', items: dict.entries.map((entry): Value => (typeof entry.key === 'string' ? { kind: 'string', value: entry.key } : { kind: 'number', value: entry.key })) };
}

/** One `key: value` of a dict value of this loader. */
type DictEntry = SharedDictEntry<Value>;


/** Why a dict read by `name` is not a constant: it is changed at `at`. */
function changedDictReason(name: string, at: Node): string {
  return `\`${name}\` is a dict that is changed at line ${at.startPosition.row + 1} (\`${shorten(at.text)}\`), so its contents are only known at run time`;
}

/** A persistent list of the layers applied to a functional tensor (cheap to extend in loops). */
interface TensorChain {
  readonly layer: LayerCall;
  readonly previous: TensorChain | undefined;
  readonly length: number;
}

function chainToArray(chain: TensorChain): LayerCall[] {
  const calls: LayerCall[] = [];
  for (let link: TensorChain | undefined = chain; link; link = link.previous) calls.push(link.layer);
  return calls.reverse();
}

const UNBOUND = Symbol('unbound');

/** Name lookup for static evaluation. `atOffset` picks the assignment in effect at a use site. */
interface Scope {
  lookup(name: string, atOffset: number): Value | typeof UNBOUND;
}

/** Fixed bindings: comprehension / loop variables, function parameters. */
class ValueScope implements Scope {
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
class VersionScope implements Scope {
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
class AssignmentScope implements Scope {
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

const MAX_SEQUENCE = 10_000;
/**
 * Expressions evaluated per file at most (MAX_KERAS_EVALUATIONS, limits.ts). Name lookups
 * re-evaluate their assignments, so pathological inputs (long chains of names built from names)
 * could otherwise take exponential time; past the budget every value is unknown and the models
 * needing it are refused with a position. Real model files use a few hundred.
 */
const MAX_EVALUATIONS = MAX_KERAS_EVALUATIONS;

class Evaluator {
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
  constructor(private readonly changedDicts: ReadonlyMap<string, Node> = new Map()) {}

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
      case 'list':
      case 'tuple':
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
        text += String(value.value);
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
function applyOperator(operator: string, left: Value, right: Value, node: Node): Value {
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
function compareValues(operator: string, left: Value, right: Value): boolean | undefined {
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

function unknown(node: Node, reason: string): Value {
  return { kind: 'unknown', node, reason };
}

function bindTarget(target: Node, value: Value): Map<string, Value> | undefined {
  if (target.type === 'identifier') return new Map([[target.text, value]]);
  if ((target.type === 'pattern_list' || target.type === 'tuple_pattern') && value.kind === 'sequence') {
    const names = target.namedChildren.filter((n): n is Node => !!n && !isExtra(n));
    if (names.length !== value.items.length || names.some((n) => n.type !== 'identifier')) return undefined;
    return new Map(names.map((n, i) => [n.text, value.items[i]]));
  }
  return undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

function unescape(sequence: string): string {
  return SIMPLE_ESCAPES[sequence.slice(1)] ?? sequence;
}

function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

function describeValue(value: Value): string {
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

// #endregion

// #region Keras vocabulary

/** The IR's layer kinds (but the generic activation), plus Keras-only classes mapped to them. */
type LayerClassKey = 'input' | Exclude<LayerKind, 'activation'> | 'activationLayer' | 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'softmax';

/** Keras class name → what it is and its Keras auto-name base (snake_case of the class). */
const LAYER_CLASSES: ReadonlyMap<string, { readonly key: LayerClassKey; readonly autoName: string }> = new Map([
  ['Input', { key: 'input', autoName: 'input' }],
  ['InputLayer', { key: 'input', autoName: 'input' }],
  ['Dense', { key: 'dense', autoName: 'dense' }],
  ['Conv1D', { key: 'conv1d', autoName: 'conv1d' }],
  ['Convolution1D', { key: 'conv1d', autoName: 'conv1d' }],
  ['Conv2D', { key: 'conv2d', autoName: 'conv2d' }],
  ['Convolution2D', { key: 'conv2d', autoName: 'conv2d' }],
  ['Flatten', { key: 'flatten', autoName: 'flatten' }],
  ['Dropout', { key: 'dropout', autoName: 'dropout' }],
  ['BatchNormalization', { key: 'batchNorm', autoName: 'batch_normalization' }],
  ['MaxPooling1D', { key: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['MaxPool1D', { key: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['MaxPooling2D', { key: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['MaxPool2D', { key: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['AveragePooling1D', { key: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['AvgPool1D', { key: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['AveragePooling2D', { key: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['AvgPool2D', { key: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['GlobalAveragePooling1D', { key: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['GlobalAvgPool1D', { key: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['GlobalAveragePooling2D', { key: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['GlobalAvgPool2D', { key: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['GlobalMaxPooling2D', { key: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['GlobalMaxPool2D', { key: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['Activation', { key: 'activationLayer', autoName: 'activation' }],
  ['ReLU', { key: 'relu', autoName: 're_lu' }],
  ['LeakyReLU', { key: 'leakyRelu', autoName: 'leaky_re_lu' }],
  ['PReLU', { key: 'prelu', autoName: 'p_re_lu' }],
  ['ELU', { key: 'elu', autoName: 'elu' }],
  ['Softmax', { key: 'softmax', autoName: 'softmax' }],
]);

/** Layer kinds with trainable weights: applying one object twice shares them. */
const LAYERS_WITH_WEIGHTS: ReadonlySet<LayerClassKey> = new Set<LayerClassKey>(['dense', 'conv1d', 'conv2d', 'batchNorm', 'prelu']);

const CONV_PARAMETERS = [
  'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
  // `groups` was added in TF 2.3 between `dilation_rate` and `activation`; Keras 3 kept it.
  'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
  'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
] as const;
const POOLING_PARAMETERS = ['pool_size', 'strides', 'padding', 'data_format'] as const;
const GLOBAL_POOLING_PARAMETERS = ['data_format', 'keepdims'] as const;

/**
 * The positional parameters of each layer class, in the order of the Keras 2.x (TF ≥ 2.3) and
 * Keras 3 signatures (they agree on these). Positional arguments are matched to these names, so
 * `Dense(64, "relu")` reads its activation; arguments past the end are refused, not ignored.
 */
const POSITIONAL_PARAMETERS: Readonly<Record<LayerClassKey, readonly string[]>> = {
  // Keras 2 and 3 order Input's later parameters differently; those must be given by keyword.
  input: ['shape', 'batch_size'],
  dense: [
    'units', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
    'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
  ],
  conv1d: CONV_PARAMETERS,
  conv2d: CONV_PARAMETERS,
  flatten: ['data_format'],
  dropout: ['rate', 'noise_shape', 'seed'],
  batchNorm: [
    'axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer',
    'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer',
    'beta_constraint', 'gamma_constraint',
  ],
  maxPool1d: POOLING_PARAMETERS,
  maxPool2d: POOLING_PARAMETERS,
  avgPool1d: POOLING_PARAMETERS,
  avgPool2d: POOLING_PARAMETERS,
  globalAvgPool1d: GLOBAL_POOLING_PARAMETERS,
  globalAvgPool2d: GLOBAL_POOLING_PARAMETERS,
  globalMaxPool2d: GLOBAL_POOLING_PARAMETERS,
  activationLayer: ['activation'],
  relu: ['max_value', 'negative_slope', 'threshold'],
  // Keras 2 calls it `alpha`, Keras 3 `negative_slope`; it is the only positional one either way.
  leakyRelu: ['negative_slope'],
  prelu: ['alpha_initializer', 'alpha_regularizer', 'alpha_constraint', 'shared_axes'],
  elu: ['alpha'],
  softmax: ['axis'],
};

/**
 * Keras layers that keep the shape of their input: skipped (with a problem) without making the
 * rest of the model unsound. Everything else that is unknown may change shapes.
 */
const SHAPE_PRESERVING_LAYERS = new Set([
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'ActivityRegularization',
  'LayerNormalization',
  'UnitNormalization',
  'GroupNormalization',
  'Normalization',
  'Rescaling',
  'Identity',
  'Masking',
  'ThresholdedReLU',
  'RandomFlip',
  'RandomRotation',
  'RandomTranslation',
  'RandomZoom',
  'RandomContrast',
  'RandomBrightness',
]);

/** Activation identifiers (strings, or the last part of `tf.nn.relu`-style references). */
const ACTIVATION_IDENTIFIERS: ReadonlyMap<string, ActivationSpec> = new Map<string, ActivationSpec>([
  ['linear', { name: 'linear' }],
  ['sigmoid', { name: 'sigmoid' }],
  ['tanh', { name: 'tanh' }],
  ['relu', { name: 'relu' }],
  // Keras 3's `leaky_relu` and tf.nn.leaky_relu both default to a slope of 0.2.
  ['leaky_relu', { name: 'leakyRelu', alpha: 0.2 }],
  ['elu', { name: 'elu', alpha: 1 }],
  ['selu', { name: 'selu' }],
  ['gelu', { name: 'gelu' }],
  ['swish', { name: 'swish' }],
  ['silu', { name: 'swish' }],
  ['mish', { name: 'mish' }],
  ['softplus', { name: 'softplus' }],
  ['softsign', { name: 'softsign' }],
  ['hard_sigmoid', { name: 'hardSigmoid' }],
  ['relu6', { name: 'relu6' }],
  ['exponential', { name: 'exponential' }],
  ['exp', { name: 'exponential' }],
  ['softmax', { name: 'softmax' }],
]);

/** Keras / TF initialiser identifiers, normalised (lower case, no underscores, no "initializer"). */
const INITIALIZER_IDENTIFIERS: ReadonlyMap<string, InitializerName> = new Map<string, InitializerName>([
  ['glorotuniform', 'glorotUniform'],
  ['xavieruniform', 'glorotUniform'],
  ['glorotnormal', 'glorotNormal'],
  ['xaviernormal', 'glorotNormal'],
  ['heuniform', 'heUniform'],
  ['henormal', 'heNormal'],
  ['lecununiform', 'lecunUniform'],
  ['lecunnormal', 'lecunNormal'],
  ['zeros', 'zeros'],
  ['zero', 'zeros'],
  ['ones', 'ones'],
  ['one', 'ones'],
  ['constant', 'constant'],
  ['randomnormal', 'randomNormal'],
  ['normal', 'randomNormal'],
  ['randomuniform', 'randomUniform'],
  ['uniform', 'randomUniform'],
  ['truncatednormal', 'truncatedNormal'],
  ['orthogonal', 'orthogonal'],
  ['identity', 'identity'],
  ['variancescaling', 'varianceScaling'],
]);

/** Keras defaults for parameterised initialisers given by name only. */
const INITIALIZER_DEFAULTS: Partial<Record<InitializerName, Omit<InitializerSpec, 'name'>>> = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  orthogonal: { scale: 1 },
  identity: { scale: 1 },
};

function normaliseInitializerName(name: string): string {
  const compact = name.toLowerCase().split('_').join('');
  return compact.endsWith('initializer') ? compact.slice(0, -'initializer'.length) : compact;
}

// #endregion

// #region Loading a file

interface Arguments {
  readonly positional: readonly Node[];
  readonly keyword: ReadonlyMap<string, { readonly argument: Node; readonly value: Node }>;
  /** `*args` / `**kwargs` arguments: what they pass is only known at run time. */
  readonly splats: readonly Node[];
}

/** Raised while building a model when it cannot be trained soundly; the model is dropped. */
class UnsoundModel extends Error {
  constructor(
    readonly code: LoadProblemCode,
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

/** One layer expression of a model, with the scope its arguments are evaluated in. */
interface LayerCall {
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

/** What a functional or subclassed model site yields: its layer calls in order, and where its input shape may come from. */
interface CollectedLayers {
  readonly calls: readonly LayerCall[];
  readonly buildShape?: { readonly value: Value; readonly node: Node };
  /** From a `# activation-lens: input_shape=(…)` comment. */
  readonly commentShape?: { readonly shape: number[] } | { readonly error: string; readonly node: Node };
}

/** A `Sequential` call found in the file, before its layers are read. */
interface ModelSite {
  readonly call: Node;
  readonly name: string;
  /** The model's span: the call, or the `model = Sequential()` statement for add-chains. */
  readonly spanNode: Node;
  /** The block and the statement after which `<target>.add(...)` calls are collected. */
  readonly addChain?: { readonly target: string; readonly statement: Node; readonly block: Node };
  readonly scope: Scope;
  /** A call of the builder function the site is in that Python would reject (a missing argument…). */
  readonly invocationError?: { readonly message: string; readonly node: Node };
  /** Functional (`keras.Model(inputs, outputs)`) and subclassed models collect their layers themselves, given the site's scope. */
  readonly collect?: (scope: Scope) => CollectedLayers;
  /** The call of the builder function the site is in that this model is read for (`model = build(16)`). */
  readonly invocationCall?: Node;
}

/** One distinct call of a builder function: the scope its body runs in for that call. */
interface Invocation {
  readonly scope: Scope;
  readonly error?: { readonly message: string; readonly node: Node };
  /** `small = build(16)` → small: names the model when the function is called several times. */
  readonly assignedTo?: string;
  /** The call of the builder function. */
  readonly call: Node;
}

/** Distinct calls of one builder function read at most (each is a model); the rest are ignored. */
const MAX_INVOCATIONS = 16;
/** How many callers up (`main(64)` → `build(width)`) call-site arguments are followed. */
const MAX_CALL_DEPTH = 3;

interface FunctionParameter {
  readonly name: string;
  readonly node: Node;
  readonly defaultNode?: Node;
  readonly kind: 'positionalOnly' | 'positional' | 'keywordOnly' | 'varargs' | 'varkw';
}

/** A function's parameters in order, with how Python lets a call give them. */
function parametersOf(fn: Node): FunctionParameter[] {
  const parameters: FunctionParameter[] = [];
  let keywordOnly = false;
  for (const parameter of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!parameter || isExtra(parameter)) continue;
    if (parameter.type === 'positional_separator') {
      // Everything before `/` can only be given by position.
      for (let i = 0; i < parameters.length; i++) if (parameters[i].kind === 'positional') parameters[i] = { ...parameters[i], kind: 'positionalOnly' };
      continue;
    }
    if (parameter.type === 'keyword_separator') {
      keywordOnly = true;
      continue;
    }
    if (parameter.type === 'list_splat_pattern' || parameter.type === 'dictionary_splat_pattern') {
      const nameNode = parameter.namedChildren.find((child) => child?.type === 'identifier');
      if (nameNode) parameters.push({ name: nameNode.text, node: parameter, kind: parameter.type === 'list_splat_pattern' ? 'varargs' : 'varkw' });
      if (parameter.type === 'list_splat_pattern') keywordOnly = true;
      continue;
    }
    const nameNode = parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? parameter.firstNamedChild);
    if (!nameNode || nameNode.type !== 'identifier') continue;
    parameters.push({ name: nameNode.text, node: nameNode, defaultNode: parameter.childForFieldName('value') ?? undefined, kind: keywordOnly ? 'keywordOnly' : 'positional' });
  }
  return parameters;
}

/** Identifies a bound value, so that calls with the same arguments give one model. */
function valueKey(value: Value): string {
  switch (value.kind) {
    case 'number':
    case 'string':
    case 'bool':
      return `${value.kind}:${JSON.stringify(value.value)}`;
    case 'none':
      return 'none';
    case 'sequence':
      return `[${value.items.map(valueKey).join(',')}]`;
    case 'dict':
      return `{${value.entries.map((entry) => `${JSON.stringify(entry.key)}:${valueKey(entry.value)}`).join(',')}}`;
    case 'reference':
      return `ref:${value.path.join('.')}`;
    case 'call':
      return `call:${value.node.id}`;
    case 'tensor':
      return `tensor:${value.chain.layer.node.id}`;
    case 'unknown':
      return `unknown:${value.node.id}:${value.reason}`;
  }
}

/** `small = build(16)` → small. */
function assignedName(call: Node): string | undefined {
  const parent = skipParentheses(call.parent);
  const left = parent?.type === 'assignment' ? parent.childForFieldName('left') : undefined;
  return left?.type === 'identifier' ? left.text : undefined;
}

class KerasFileLoader {
  private readonly imports: ImportTable;
  private readonly evaluator: Evaluator;
  private readonly moduleScope: Scope;
  /** Keyed by node id: tree-sitter returns a new wrapper object for every access. */
  private readonly functionScopes = new Map<number, Scope>();
  private readonly fileProblems: LoadProblem[] = [];
  private imageDataFormatCalls: { call: Node; node: Node; value: string | undefined }[] | undefined;
  /** Keyed by function node id: the distinct calls of each builder function. */
  private readonly invocationCache = new Map<number, Invocation[]>();
  /** Statements interpreted for all models of the file so far (MAX_KERAS_STATEMENTS). */
  statementsRun = 0;

  constructor(
    private readonly text: string,
    private readonly positions: PositionIndex,
    private readonly root: Node,
  ) {
    this.imports = collectImports(root);
    this.evaluator = new Evaluator(findDictMutations(root));
    this.moduleScope = new AssignmentScope(this.evaluator, undefined, root, true);
  }

  load(): LoadResult {
    const syntaxError = firstSyntaxError(this.root);
    if (syntaxError) this.fileProblems.push(this.syntaxProblem(syntaxError));

    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    const sites = this.findModelSites();
    if (sites.length > MAX_MODELS_PER_FILE) {
      const at = this.span(sites[MAX_MODELS_PER_FILE].spanNode);
      this.fileProblems.push({
        code: 'parse-error',
        message: `The file defines ${formatCount(sites.length)} models, more than the ${formatCount(MAX_MODELS_PER_FILE)} per file Activation Lens reads; the models from line ${at.start.line}, column ${at.start.column} on are not read.`,
        span: at,
      });
      sites.length = MAX_MODELS_PER_FILE;
    }
    for (const site of sites) {
      const name = uniqueName(site.name, usedNames);
      // Past the file's work budget every value is unknown: the models left are not read (one
      // problem, at the first of them) rather than each refused for a misleading reason.
      if (this.evaluator.exhausted || this.statementsRun > MAX_KERAS_STATEMENTS) {
        const at = this.span(site.spanNode);
        const budget = this.evaluator.exhausted ? `${formatCount(MAX_KERAS_EVALUATIONS)} expression evaluations` : `${formatCount(MAX_KERAS_STATEMENTS)} interpreted statements`;
        this.fileProblems.push({
          code: 'parse-error',
          message: `Model \`${name}\` and the models after it were not read: the file's work budget of ${budget} ran out before it (at line ${at.start.line}, column ${at.start.column}).`,
          span: at,
        });
        break;
      }
      try {
        models.push(this.withTraining(site, this.buildModel(site, name)));
      } catch (error) {
        if (!(error instanceof UnsoundModel)) throw error;
        this.fileProblems.push({
          code: error.code,
          message: `Model \`${name}\` cannot be diagnosed: ${error.message}`,
          span: this.span(error.node),
        });
      }
    }
    if (models.length === 0 && this.fileProblems.length === 0) {
      this.fileProblems.push({
        code: 'parse-error',
        message:
          'No Keras Sequential model (nor a functional or subclassed one) found. Activation Lens reads `keras.Sequential([...])` models, `Sequential()` + `model.add(...)` chains, functional `keras.Model(inputs, outputs)` chains and `keras.Model` subclasses.',
        span: this.positions.span(0, 0),
      });
    }
    return { format: 'keras-python', models, problems: this.fileProblems };
  }

  // #region The training set-up: `model.compile(...)` [issue 11]

  private trainingBindings: FileBindings | undefined;
  /** Per `compile(...)` call (by node id): the call that created its receiver, when one did. */
  private readonly compileReceivers = new Map<number, Node | undefined>();

  private bindings(): FileBindings {
    this.trainingBindings ??= collectBindings(this.root, isCompileCall, (cost) => this.evaluator.charge(cost));
    return this.trainingBindings;
  }

  /**
   * The model with the optimiser and loss of the last `compile(...)` called on it (through the
   * name it is bound to: `model = keras.Sequential(...)`, `model = build(...)`, `model = Net()`),
   * and notes on the parts that are not understood.
   */
  private withTraining(site: ModelSite, model: ModelSpec): ModelSpec {
    const bindings = this.bindings();
    if (bindings.calls.length === 0 || this.evaluator.exhausted) return model;
    let compile: FileBindings['calls'][number] | undefined;
    for (const entry of bindings.calls) if (this.compiles(entry, site)) compile = entry;
    if (!compile) return model;
    const siteFn = site.call.type === 'class_definition' ? undefined : ancestorOfType(site.call, 'function_definition');
    // A compile in the builder function itself sees that call's arguments.
    const scope = compile.scope && compile.scope.id === siteFn?.id ? site.scope : this.scopeAt(compile.call);
    const notes: LoadNote[] = [];
    const args = this.arguments(compile.call);
    const optimizerNode = args.keyword.get('optimizer')?.value ?? args.positional[0];
    const lossNode = args.keyword.get('loss')?.value ?? args.positional[1];
    const training: Mutable<TrainingSetup> = {};
    const optimizer = optimizerNode && this.readOptimizer(optimizerNode, compile.scope, scope, notes);
    if (optimizer) training.optimizer = optimizer;
    const loss = lossNode && this.readLoss(lossNode, compile.scope, scope, notes);
    if (loss) training.loss = loss;
    const result: Mutable<ModelSpec> = { ...model };
    if (optimizer || loss) result.training = training;
    if (notes.length > 0) result.notes = [...(model.notes ?? []), ...notes];
    return result;
  }

  /** True when `compile(...)` is called on the model of `site`. */
  private compiles(entry: FileBindings['calls'][number], site: ModelSite): boolean {
    let receiver = this.compileReceivers.get(entry.call.id);
    if (!this.compileReceivers.has(entry.call.id)) {
      receiver = this.receiverCall(entry.call, entry.scope);
      this.compileReceivers.set(entry.call.id, receiver);
    }
    if (!receiver) return false;
    if (receiver.id === site.call.id) return true;
    const callee = receiver.childForFieldName('function');
    if (callee?.type !== 'identifier') return false;
    if (site.call.type === 'class_definition') return site.call.childForFieldName('name')?.text === callee.text;
    return site.invocationCall?.id === receiver.id;
  }

  /** The call that created the object `compile` is called on, through the names it is bound to. */
  private receiverCall(call: Node, fnScope: Node | undefined): Node | undefined {
    const object = call.childForFieldName('function')?.childForFieldName('object') ?? null;
    const found = this.definition(object, fnScope, call.startIndex);
    return found?.node.type === 'call' ? found.node : undefined;
  }

  /**
   * What a name stands for: the right-hand side of the assignment in effect (followed through a
   * few aliases: `m = model`), the expression itself when it is not a bound name.
   */
  private definition(node: Node | null, fnScope: Node | undefined, offset: number): { node: Node; fnScope: Node | undefined } | undefined {
    let current = skipParenthesesDown(node);
    let scope = fnScope;
    let at = offset;
    for (let hops = 0; current?.type === 'identifier' && hops < 4; hops++) {
      this.evaluator.charge(1);
      const binding = bindingAt(this.bindings(), current.text, scope, at);
      if (!binding) break;
      current = skipParenthesesDown(binding.value);
      scope = binding.scope;
      at = binding.value.startIndex;
    }
    return current ? { node: current, fnScope: scope } : undefined;
  }

  /** An argument of `compile` as a value, with the node it is written at (a bound call or string literal for a name). */
  private expressionOf(node: Node, fnScope: Node | undefined, scope: Scope): { node: Node; value: Value } {
    const target = this.definition(node, fnScope, node.startIndex)?.node ?? node;
    if (target.type === 'call') return { node: target, value: { kind: 'call', node: target, scope } };
    const value = this.evaluator.evaluate(target, scope);
    if (value.kind === 'call') return { node: value.node, value };
    return { node: target, value };
  }

  /** A number argument (a literal, a constant, a name bound to one), else undefined. */
  private numberOf(node: Node, scope: Scope): number | undefined {
    const value = this.evaluator.evaluate(node, scope);
    if (value.kind === 'number') return value.value;
    if (value.kind === 'bool') return value.value ? 1 : 0;
    return undefined;
  }

  private readOptimizer(node: Node, fnScope: Node | undefined, scope: Scope, notes: LoadNote[]): OptimizerSpec | undefined {
    const { node: at, value } = this.expressionOf(node, fnScope, scope);
    if (value.kind === 'string') {
      const name = optimizerNameOf(value.value);
      if (name) return { name, text: at.text, span: this.span(at) };
    } else if (value.kind === 'call') {
      const cls = this.layerClassOf(value.node);
      const name = cls?.keras ? optimizerNameOf(cls.className) : undefined;
      if (name) return this.optimizerCall(name, value.node, value.scope, notes);
    }
    notes.push({
      message: `The optimiser \`${shorten(at.text)}\` is not one Activation Lens can read and run (${KERAS_OPTIMIZERS}): the diagnosis trains with its default optimiser instead.`,
      span: this.span(at),
    });
    return undefined;
  }

  /** `keras.optimizers.Adam(learning_rate=1e-3)`, `SGD(lr=0.01, momentum=0.9)`, `RMSprop(0.001)`. */
  private optimizerCall(name: OptimizerSpec['name'], call: Node, scope: Scope, notes: LoadNote[]): OptimizerSpec {
    const args = this.arguments(call);
    const argumentList = call.childForFieldName('arguments');
    const spec: Mutable<OptimizerSpec> = { name, text: call.text, span: this.span(call) };
    if (argumentList?.type === 'argument_list') spec.argumentsSpan = this.span(argumentList);
    const rateNode = args.keyword.get('learning_rate')?.value ?? args.keyword.get('lr')?.value ?? args.positional[0];
    if (rateNode) {
      const rate = this.numberOf(rateNode, scope);
      if (rate !== undefined) {
        spec.learningRate = rate;
        if (rateNode.type === 'float' || rateNode.type === 'integer') spec.learningRateValueSpan = this.span(rateNode);
      } else {
        notes.push({
          message: `The learning rate \`${shorten(rateNode.text)}\` of \`${shorten(call.text)}\` is not a constant that can be read statically (a schedule or a run-time value): the diagnosis uses Keras' default rate for ${name}.`,
          span: this.span(rateNode),
        });
      }
    }
    const momentumPosition = name === 'sgd' ? 1 : name === 'rmsprop' ? 2 : undefined;
    const momentumNode = momentumPosition === undefined ? undefined : (args.keyword.get('momentum')?.value ?? args.positional[momentumPosition]);
    const momentum = momentumNode ? this.numberOf(momentumNode, scope) : undefined;
    if (momentum !== undefined) spec.momentum = momentum;
    return spec;
  }

  private readLoss(node: Node, fnScope: Node | undefined, scope: Scope, notes: LoadNote[]): LossSpec | undefined {
    const { node: at, value } = this.expressionOf(node, fnScope, scope);
    const base = { text: at.text, span: this.span(at) };
    let known: Omit<LossSpec, 'text' | 'span'> | undefined;
    let why = '';
    if (value.kind === 'string') known = KERAS_LOSSES.get(lossKey(value.value));
    else if (value.kind === 'reference') {
      const resolved = resolvePath(value.path, this.imports);
      if (resolved.keras) known = KERAS_LOSSES.get(lossKey(resolved.path[resolved.path.length - 1]));
    } else if (value.kind === 'call') {
      const cls = this.layerClassOf(value.node);
      known = cls?.keras ? KERAS_LOSSES.get(lossKey(cls.className)) : undefined;
      if (known && known.kind !== 'meanSquaredError' && known.kind !== 'meanAbsoluteError' && known.kind !== 'huber') {
        const args = this.arguments(value.node);
        const logitsNode = args.keyword.get('from_logits')?.value ?? args.positional[0];
        const logits = logitsNode ? this.evaluator.evaluate(logitsNode, value.scope) : { kind: 'bool' as const, value: false };
        const truth = pythonTruthiness(logits);
        if (truth === undefined) {
          known = undefined;
          why = ` (\`from_logits\` is not known statically)`;
        } else if (truth) known = { ...known, input: 'logits' };
      }
    } else if (value.kind === 'dict' || at.type === 'dictionary') why = ' (a dict of losses, one per output)';
    else if (value.kind === 'sequence') why = ' (a list of losses, one per output)';
    if (known) return { ...known, ...base };
    notes.push({
      message: `The loss \`${shorten(at.text)}\`${why} is not one Activation Lens can read and train with (cross-entropy, mean squared or absolute error, Huber): the diagnosis uses the loss the model's head implies instead.`,
      span: this.span(at),
    });
    return undefined;
  }

  // #endregion

  // #region Finding models

  private findModelSites(): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const call of this.root.descendantsOfType('call')) {
      if (!call) continue;
      const callee = call.childForFieldName('function');
      const parts = callee && dottedParts(callee);
      if (!parts || parts[parts.length - 1] !== 'Sequential') continue;
      const resolved = resolvePath(parts, this.imports);
      if (!resolved.keras) continue;
      sites.push(this.describeSite(call));
    }
    sites.push(...findFunctionalSites(this), ...findSubclassSites(this));
    return sites.flatMap((site) => this.perInvocation(site)).sort((a, b) => a.spanNode.startIndex - b.spanNode.startIndex);
  }

  /** Exposed to the functional / subclassed readers (kerasFunctional section below). */
  get rootNode(): Node {
    return this.root;
  }

  get importTable(): ImportTable {
    return this.imports;
  }

  siteFor(call: Node, collect: (scope: Scope) => CollectedLayers, spanNode?: Node, name?: string): ModelSite {
    const site = this.describeSite(call);
    return { call, name: name ?? site.name, spanNode: spanNode ?? call, scope: site.scope, collect };
  }

  scopeFor(node: Node): Scope {
    return this.scopeAt(node);
  }

  private describeSite(call: Node): ModelSite {
    const scope = this.scopeAt(call);
    const parent = skipParentheses(call.parent);
    const enclosingFunction = ancestorOfType(call, 'function_definition');
    const functionName = enclosingFunction?.childForFieldName('name')?.text;
    if (parent?.type === 'assignment' && skipParenthesesDown(parent.childForFieldName('right'))?.id === call.id) {
      const target = parent.childForFieldName('left');
      const statement = parent.parent;
      const block = statement?.parent;
      const targetText = target?.text ?? 'model';
      // `def build(): model = Sequential(); ...; return model` is named after the function.
      const returned = enclosingFunction && returnsName(enclosingFunction, targetText);
      const name = returned && functionName ? functionName : targetText;
      const hasLayerList = this.layerListArgument(call) !== undefined;
      return {
        call,
        name,
        spanNode: hasLayerList ? call : parent,
        addChain: target && statement && block ? { target: targetText, statement, block } : undefined,
        scope,
      };
    }
    if (parent?.type === 'return_statement' && functionName) return { call, name: functionName, spanNode: call, scope };
    return { call, name: 'sequential', spanNode: call, scope };
  }

  /** Names in effect at a node: enclosing function's locals and parameters, then the module. */
  private scopeAt(node: Node): Scope {
    const fn = ancestorOfType(node, 'function_definition');
    if (!fn) return this.moduleScope;
    let scope = this.functionScopes.get(fn.id);
    if (!scope) {
      const parameters = new Map<string, Value>();
      const fnName = fn.childForFieldName('name')?.text ?? 'the function';
      for (const parameter of parametersOf(fn)) {
        // A parameter's default is what the function builds when called without it: read it.
        parameters.set(
          parameter.name,
          parameter.defaultNode
            ? this.evaluator.evaluate(parameter.defaultNode, this.moduleScope)
            : unknown(parameter.node, `\`${parameter.name}\` is a parameter of \`${fnName}\`, known only at run time`),
        );
      }
      scope = this.functionScope(fn, parameters);
      this.functionScopes.set(fn.id, scope);
    }
    return scope;
  }

  /** The names in effect in a function's body, given its parameters' values. */
  private functionScope(fn: Node, parameters: ReadonlyMap<string, Value>): Scope {
    const body = fn.childForFieldName('body');
    const withParameters = new ValueScope(this.scopeAt(fn), parameters);
    return body ? new AssignmentScope(this.evaluator, withParameters, body, false) : withParameters;
  }

  // #endregion

  // #region Builder functions called with arguments

  /**
   * One model per distinct call of the builder function a site is in (`model = build(7, width=16)`),
   * read with the call's arguments bound to the parameters; a function never called keeps its
   * defaults (the site as is). Classes and methods are not expanded.
   */
  private perInvocation(site: ModelSite): ModelSite[] {
    if (site.call.type === 'class_definition') return [site];
    const fn = ancestorOfType(site.call, 'function_definition');
    if (!fn) return [site];
    const invocations = this.invocationsOf(fn, 0);
    if (invocations.length === 0) return [site];
    return invocations.map((invocation) => ({
      ...site,
      scope: invocation.scope,
      name: invocations.length > 1 ? (invocation.assignedTo ?? site.name) : site.name,
      invocationError: invocation.error,
      invocationCall: invocation.call,
    }));
  }

  /** A call that builds a Keras object (a layer, an initialiser) rather than computing a run-time value (`int(sys.argv[1])`). */
  private isKerasObjectCall(call: Node): boolean {
    const callee = call.childForFieldName('function');
    const parts = callee && dottedParts(callee);
    if (!parts) return false;
    if (this.imports.has(parts[0])) return resolvePath(parts, this.imports).keras;
    const name = parts[parts.length - 1];
    return LAYER_CLASSES.has(name) || SHAPE_PRESERVING_LAYERS.has(name) || INITIALIZER_IDENTIFIERS.has(normaliseInitializerName(name));
  }

  /** The distinct calls of a module-level function in this file, each with the scope its body runs in. */
  private invocationsOf(fn: Node, depth: number): Invocation[] {
    const cached = depth === 0 ? this.invocationCache.get(fn.id) : undefined;
    if (cached) return cached;
    const name = fn.childForFieldName('name')?.text;
    // Methods are called through `self.` / an instance, with `self` shifting the positions: not followed.
    const isMethod = ancestorOfType(fn, 'class_definition') !== undefined;
    const invocations: Invocation[] = [];
    if (name && !isMethod) {
      const seen = new Set<string>();
      for (const call of this.root.descendantsOfType('call')) {
        if (!call || invocations.length >= MAX_INVOCATIONS) continue;
        const callee = call.childForFieldName('function');
        if (callee?.type !== 'identifier' || callee.text !== name) continue;
        // Recursive calls inside the function itself do not create the model.
        if (fn.startIndex <= call.startIndex && call.endIndex <= fn.endIndex) continue;
        const caller = ancestorOfType(call, 'function_definition');
        const callerInvocations = caller && depth < MAX_CALL_DEPTH ? this.invocationsOf(caller, depth + 1) : [];
        const callerScopes = callerInvocations.length > 0 ? callerInvocations.map((invocation) => invocation.scope) : [this.scopeAt(call)];
        for (const callerScope of callerScopes) {
          const bound = this.bindCall(fn, name, call, this.interpreterAt(call, callerScope).scope());
          const key = 'error' in bound ? `error:${call.id}` : [...bound.parameters.values()].map(valueKey).join('|');
          if (seen.has(key)) continue;
          seen.add(key);
          invocations.push({
            scope: this.functionScope(fn, 'error' in bound ? new Map() : bound.parameters),
            error: 'error' in bound ? bound.error : undefined,
            assignedTo: assignedName(call),
            call,
          });
        }
      }
    }
    if (depth === 0) this.invocationCache.set(fn.id, invocations);
    return invocations;
  }

  /**
   * Binds a call's arguments to a function's parameters as Python does: positional, then
   * keyword, then defaults. A call Python would reject (too many arguments, an unknown keyword,
   * a missing one) is an error at the call; a value only known at run time is bound as unknown
   * at the argument, so a model that needs it is refused there.
   */
  private bindCall(fn: Node, fnName: string, call: Node, callerScope: Scope): { parameters: Map<string, Value> } | { error: { message: string; node: Node } } {
    const parameters = parametersOf(fn);
    const args = this.arguments(call);
    const callText = `\`${shorten(call.text)}\` (line ${this.span(call).start.line})`;
    const bound = new Map<string, Value>();
    const fromArgument = (parameter: string, node: Node): Value => {
      const value = this.evaluator.evaluate(node, callerScope);
      const runTime =
        value.kind === 'unknown' ? value.reason
        // A plain name that is not an import (a loop variable, `args.width`) is a run-time value.
        : value.kind === 'reference' && !this.imports.has(value.path[0]) ? `\`${value.path.join('.')}\` is only known at run time`
        : value.kind === 'call' && !this.isKerasObjectCall(value.node) ? `\`${shorten(value.node.text)}\` is computed at run time`
        : undefined;
      if (runTime === undefined) return value;
      return { kind: 'unknown', node, reason: `\`${parameter}\` is given \`${shorten(node.text)}\` by the call ${callText}, which cannot be evaluated statically: ${runTime}`, atCallSite: true };
    };

    const positionalParameters = parameters.filter((p) => p.kind === 'positional' || p.kind === 'positionalOnly');
    const extraPositional: Value[] = [];
    args.positional.forEach((node, i) => {
      const parameter = positionalParameters[i];
      if (parameter) bound.set(parameter.name, fromArgument(parameter.name, node));
      else extraPositional.push(fromArgument('*args', node));
    });
    const varargs = parameters.find((p) => p.kind === 'varargs');
    if (extraPositional.length > 0) {
      if (!varargs) {
        return { error: { message: `the call ${callText} passes ${args.positional.length} positional arguments, but \`${fnName}\` takes ${positionalParameters.length}.`, node: args.positional[positionalParameters.length] } };
      }
      bound.set(varargs.name, { kind: 'sequence', items: extraPositional });
    }
    const varkw = parameters.find((p) => p.kind === 'varkw');
    for (const [keyword, { argument, value }] of args.keyword) {
      const parameter = parameters.find((p) => p.name === keyword && (p.kind === 'positional' || p.kind === 'keywordOnly'));
      if (!parameter) {
        if (varkw) continue;
        return { error: { message: `the call ${callText} passes \`${keyword}=\`, but \`${fnName}\` has no such parameter.`, node: argument } };
      }
      if (bound.has(keyword)) return { error: { message: `the call ${callText} gives \`${keyword}\` twice (by position and by keyword).`, node: argument } };
      bound.set(keyword, fromArgument(keyword, value));
    }
    const splat = args.splats[0];
    for (const parameter of parameters) {
      if (bound.has(parameter.name)) continue;
      if (splat) {
        const reason = `\`${parameter.name}\` may be given by \`${shorten(splat.text)}\` in the call ${callText}, which is only known at run time`;
        bound.set(parameter.name, { kind: 'unknown', node: splat, reason, atCallSite: true });
      } else if (parameter.defaultNode) {
        bound.set(parameter.name, this.evaluator.evaluate(parameter.defaultNode, this.moduleScope));
      } else if (parameter.kind === 'varargs') {
        bound.set(parameter.name, { kind: 'sequence', items: [] });
      } else if (parameter.kind === 'varkw') {
        bound.set(parameter.name, unknown(parameter.node, `\`**${parameter.name}\` holds keyword arguments that are not read`));
      } else {
        return { error: { message: `the call ${callText} does not give \`${parameter.name}\`, a parameter of \`${fnName}\` without a default.`, node: call } };
      }
    }
    return { parameters: bound };
  }

  // #endregion

  // #region Building one model

  private buildModel(site: ModelSite, name: string): ModelSpec {
    if (site.call.hasError || site.spanNode.hasError) {
      throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', site.call);
    }
    if (site.invocationError) throw new UnsoundModel('parse-error', site.invocationError.message, site.invocationError.node);
    const problems: LoadProblem[] = [];
    const calls: LayerCall[] = [];
    let buildShape: { value: Value; node: Node } | undefined;

    let commentShape: CollectedLayers['commentShape'];
    if (site.collect) {
      const collected = site.collect(site.scope);
      calls.push(...collected.calls);
      buildShape = collected.buildShape;
      commentShape = collected.commentShape;
    } else {
      // The layer list and the `.add` calls are read with the names in effect where they are written.
      const state = this.interpreterAt(site.call, site.scope);
      const listNode = this.layerListArgument(site.call);
      if (listNode) calls.push(...this.layerCallsOf(listNode, state.scope()));
      if (site.addChain) {
        const chain = this.collectAddChain(site.addChain, state);
        calls.push(...chain.calls);
        buildShape = chain.buildShape;
      }
    }

    // Refused before any layer is read (one Input entry is allowed on top of the layers).
    if (calls.length > MAX_LAYERS + 1) throw new UnsoundModel('parse-error', tooManyLayers(calls.length), calls[MAX_LAYERS + 1].node);
    this.refuseSharedLayers(calls);
    const builder = new LayerListBuilder(this, problems);
    for (const call of calls) builder.add(call);
    if (commentShape && 'error' in commentShape) throw new UnsoundModel('parse-error', commentShape.error, commentShape.node);
    if (commentShape) builder.inputShape = commentShape.shape;
    if (!builder.inputShape && buildShape) {
      builder.inputShape = this.shapeFrom(buildShape.value, buildShape.node, true);
    }
    if (builder.layers.length === 0) {
      throw new UnsoundModel('parse-error', 'it has no layers that can be read statically.', site.spanNode);
    }
    if (!builder.inputShape) {
      throw new UnsoundModel(
        'parse-error',
        site.collect && site.call.type === 'class_definition'
          ? 'its input shape is unknown. Add a `# activation-lens: input_shape=(...)` comment above the class, `self.build((None, ...))` in `__init__`, or `input_shape=` on the first layer.'
          : 'its input shape is unknown. Add `keras.Input(shape=(...))` as the first layer, or `input_shape=` on the first layer.',
        site.spanNode,
      );
    }
    checkShapes(builder.inputShape, builder.layers, builder.layerNodes);
    checkAxes(builder.inputShape, builder.layers, builder.axisChecks);
    return {
      name,
      format: 'keras-python',
      inputShape: builder.inputShape,
      layers: builder.layers,
      span: this.span(site.spanNode),
      problems,
    };
  }

  /**
   * A layer object applied (or listed) twice shares its weights between the two places; the IR
   * has one set of weights per layer, so the model cannot be rebuilt: refused at the second use.
   * Layers without weights (activations, pooling, dropout…) compute the same when repeated.
   */
  private refuseSharedLayers(calls: readonly LayerCall[]): void {
    const seen = new Set<Value>();
    for (const call of calls) {
      if (!call.instance) continue;
      if (seen.has(call.instance)) {
        const layerClass = this.layerClassOf(call.node);
        const key = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className)?.key : undefined;
        if (key && !LAYERS_WITH_WEIGHTS.has(key)) continue;
        throw new UnsoundModel(
          'unsupported-layer',
          `the layer \`${shorten(call.node.text)}\` is applied more than once (its weights are shared); only chains of distinct layers can be diagnosed.`,
          call.at ?? call.node,
        );
      }
      seen.add(call.instance);
    }
  }

  /** The `layers` argument of `Sequential(...)`: first positional or `layers=`. */
  private layerListArgument(call: Node): Node | undefined {
    const args = this.arguments(call);
    return args.keyword.get('layers')?.value ?? args.positional[0];
  }

  private layerCallsOf(listNode: Node, scope: Scope): LayerCall[] {
    const value = this.evaluator.evaluate(listNode, scope);
    if (value.kind === 'none') return [];
    if (value.kind !== 'sequence') {
      throw new UnsoundModel(
        'parse-error',
        `its layer list ${describeValue(value)} is only known at run time${value.kind === 'unknown' ? ` (${value.reason})` : ''}.`,
        value.kind === 'unknown' ? value.node : listNode,
      );
    }
    // Each item's own node when the list is written out (for where a layer is listed twice).
    const inner = skipParenthesesDown(listNode) ?? listNode;
    const itemNodes = inner.type === 'list' || inner.type === 'tuple' ? inner.namedChildren.filter((c): c is Node => !!c && !isExtra(c)) : [];
    const written = itemNodes.length === value.items.length && itemNodes.every((c) => c.type !== 'list_splat');
    return value.items.map((item, i) => this.asLayerCall(item, written ? itemNodes[i] : listNode));
  }

  private asLayerCall(item: Value, fallbackNode: Node): LayerCall {
    if (item.kind === 'call') return { node: item.node, scope: item.scope, instance: item, at: fallbackNode };
    // `inp = keras.Input(...)` then `Sequential([inp, ...])`: the bare input tensor is the
    // list's input layer, as written inline.
    if (item.kind === 'tensor' && item.chain.previous === undefined) return item.chain.layer;
    const node = item.kind === 'unknown' ? item.node : fallbackNode;
    const reason = item.kind === 'unknown' ? item.reason : `${describeValue(item)} is not a layer call`;
    throw new UnsoundModel('parse-error', `a layer cannot be read statically: ${reason}.`, node);
  }

  /** Follows `<target>.add(...)`, `<target>.pop()` and `<target>.build(...)` through the statements after the chain's start. */
  private collectAddChain(
    chain: { target: string; statement: Node; block: Node },
    state: StatementInterpreter,
  ): { calls: LayerCall[]; buildShape?: { value: Value; node: Node } } {
    const calls: LayerCall[] = [];
    let buildShape: { value: Value; node: Node } | undefined;
    const siblings = namedStatements(chain.block);
    const start = siblings.findIndex((statement) => statement.startIndex >= chain.statement.endIndex);
    if (start < 0) return { calls };
    state.followAddChain(
      {
        target: chain.target,
        add: (layerNode, scope) => calls.push(this.asLayerCall(this.evaluator.evaluate(layerNode, scope), layerNode)),
        build: (shapeNode, scope) => {
          buildShape = { value: this.evaluator.evaluate(shapeNode, scope), node: shapeNode };
        },
        pop: (call) => {
          if (!calls.pop()) throw new UnsoundModel('parse-error', '`pop()` removes a layer from an empty model.', call);
        },
      },
      siblings.slice(start),
    );
    return { calls, buildShape };
  }

  /** The statements before a model's definition, run: the names (and loop variables) in effect there. */
  interpreterAt(node: Node, scope: Scope): StatementInterpreter {
    const state = new StatementInterpreter(this, scope);
    state.runUntil(namedStatements(executionRoot(node, this.root)), node);
    return state;
  }

  /** True when a function of this file named `name` calls `.add(...)` on something (a helper that adds layers). */
  functionAddsLayers(name: string): boolean {
    return this.root.descendantsOfType('function_definition').some((fn) => {
      if (fn?.childForFieldName('name')?.text !== name) return false;
      return fn.descendantsOfType('call').some((call) => call?.childForFieldName('function')?.type === 'attribute' && call.childForFieldName('function')?.childForFieldName('attribute')?.text === 'add');
    });
  }

  // #endregion

  // #region Helpers used by the layer builder

  arguments(call: Node): Arguments {
    const positional: Node[] = [];
    const keyword = new Map<string, { argument: Node; value: Node }>();
    const splats: Node[] = [];
    for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
      if (!argument || isExtra(argument)) continue;
      if (argument.type === 'keyword_argument') {
        const name = argument.childForFieldName('name')?.text;
        const value = argument.childForFieldName('value');
        if (name && value) keyword.set(name, { argument, value });
      } else if (argument.type === 'list_splat' || argument.type === 'dictionary_splat') {
        splats.push(argument);
      } else {
        positional.push(argument);
      }
    }
    return { positional, keyword, splats };
  }

  /** The Keras class a call constructs, or what it is called when it is not a known layer. */
  layerClassOf(call: Node): { className: string; keras: boolean } | undefined {
    const callee = call.childForFieldName('function');
    const parts = callee && dottedParts(callee);
    if (!parts) return undefined;
    const resolved = resolvePath(parts, this.imports);
    return { className: resolved.path[resolved.path.length - 1], keras: resolved.keras };
  }

  evaluate(node: Node, scope: Scope): Value {
    return this.evaluator.evaluate(node, scope);
  }

  /**
   * The `set_image_data_format(...)` call in effect for a layer: the last one before it in the
   * file; when none precedes it (a builder function defined above a module-level call), any call
   * that does not set channels_last, since it may run before the function. Undefined when the
   * file never calls it.
   */
  imageDataFormatAt(layer: Node): { call: Node; node: Node; value: string | undefined } | undefined {
    this.imageDataFormatCalls ??= this.findImageDataFormatCalls();
    const before = this.imageDataFormatCalls.filter((entry) => entry.call.endIndex <= layer.startIndex);
    if (before.length > 0) return before[before.length - 1];
    return this.imageDataFormatCalls.find((entry) => entry.value !== 'channels_last');
  }

  private findImageDataFormatCalls(): { call: Node; node: Node; value: string | undefined }[] {
    const found: { call: Node; node: Node; value: string | undefined }[] = [];
    for (const call of this.root.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function');
      const parts = callee && dottedParts(callee);
      if (!call || !parts || parts[parts.length - 1] !== 'set_image_data_format' || !resolvePath(parts, this.imports).keras) continue;
      const args = this.arguments(call);
      const node = args.keyword.get('data_format')?.value ?? args.positional[0] ?? call;
      const value = this.evaluator.evaluate(node, this.scopeAt(call));
      found.push({ call, node, value: value.kind === 'string' ? value.value.toLowerCase() : undefined });
    }
    return found;
  }

  span(node: Node): SourceSpan {
    return this.positions.span(node.startIndex, node.endIndex);
  }

  /** A shape tuple; `withBatch` drops the leading batch dimension (`model.build((None, 784))`). */
  shapeFrom(value: Value, node: Node, withBatch: boolean): number[] {
    const dims = value.kind === 'number' ? [value] : value.kind === 'sequence' ? value.items : undefined;
    if (!dims) {
      throw new UnsoundModel('parse-error', `its input shape ${describeValue(value)} is only known at run time.`, node);
    }
    const perSample = withBatch ? dims.slice(1) : dims;
    const shape: number[] = [];
    for (const dim of perSample) {
      if (dim.kind !== 'number' || !Number.isInteger(dim.value) || dim.value <= 0) {
        throw new UnsoundModel(
          'parse-error',
          `its input shape \`${shorten(node.text)}\` has a dimension that is not a fixed positive integer (${describeValue(dim)}).`,
          node,
        );
      }
      shape.push(dim.value);
    }
    if (shape.length === 0) throw new UnsoundModel('parse-error', `its input shape \`${shorten(node.text)}\` is empty.`, node);
    return shape;
  }

  // #endregion

  private syntaxProblem(node: Node): LoadProblem {
    const start = this.positions.position(node.startIndex);
    const what = node.isMissing
      ? `missing \`${node.type}\``
      : node.endIndex > node.startIndex
        ? `unexpected \`${shorten(this.text.slice(node.startIndex, node.endIndex))}\``
        : 'unexpected end of input';
    return {
      code: 'parse-error',
      message: `Python syntax error near line ${start.line}, column ${start.column}: ${what}.`,
      span: this.span(node),
    };
  }
}

// #endregion

// #region Interpreting the statements that build a model

/** Why a run of statements stopped early; `unknown`: a break/continue under a run-time condition. */
type Jump = 'break' | 'continue' | 'return' | 'stop' | 'unknown';

/** What an add-chain (`model = Sequential()` then `model.add(...)`) does with the calls on its variable. */
interface AddChainHooks {
  readonly target: string;
  add(layer: Node, scope: Scope): void;
  build(shape: Node, scope: Scope): void;
  pop(call: Node): void;
}

/**
 * Statements executed per model at most (loop iterations count each time). Past it the model is
 * refused with a position rather than read for an unbounded time.
 */
const MAX_INTERPRETED_STATEMENTS = 20_000;

/** List methods that change a list in a way that is not modelled (append and extend are). */
const LIST_MUTATORS = new Set(['insert', 'pop', 'remove', 'clear', 'reverse', 'sort']);

/**
 * Runs the statements of a function body (or the module) that come before a model's definition,
 * statically: assignments, augmented assignments, `list.append(...)`, `for` loops over known
 * sequences (unrolled, with the loop variable bound), `if` on known conditions, `break` and
 * `continue`. Functional-API tensors (`x = layers.Dense(64)(x)`) become `tensor` values carrying
 * their layer chain. What cannot be run statically (a `while` loop, a loop over a run-time value,
 * an `if` on a run-time condition) makes every name it assigns unknown, with the reason at the
 * statement, so a model that uses them is refused there instead of being built shortened.
 */
class StatementInterpreter {
  private readonly values = new Map<string, Value>();
  /** Every value each name has had, with the version (count of assignments) it was set at. */
  private readonly history = new Map<string, { version: number; value: Value }[]>();
  private version = 0;
  private snapshot: Scope | undefined;
  private executed = 0;
  private chain: AddChainHooks | undefined;
  /** Set once the add-chain's variable is assigned again: the chain ends there. */
  private chainEnded = false;
  /** The condition behind the last `unknown` jump, for the enclosing loop's problem. */
  private unknownJump: { node: Node; reason: string } | undefined;

  constructor(
    private readonly loader: KerasFileLoader,
    private readonly base: Scope,
  ) {}

  /** The names in effect now (a snapshot: layer calls keep the scope they were written in). */
  scope(): Scope {
    // O(1): a view of the history at the current version, not a copy of every name (copying made
    // a file of 30,000 assignments quadratic).
    this.snapshot ??= new VersionScope(this.base, this.history, this.version);
    return this.snapshot;
  }

  private set(name: string, value: Value): void {
    this.values.set(name, value);
    this.version++;
    const versions = this.history.get(name);
    if (versions) versions.push({ version: this.version, value });
    else this.history.set(name, [{ version: this.version, value }]);
    this.snapshot = undefined;
  }

  private lookup(name: string, atOffset: number): Value | typeof UNBOUND {
    return this.scope().lookup(name, atOffset);
  }

  /** Runs the statements before `stopAt`, descending into the compound statements that contain it. */
  runUntil(statements: readonly Node[], stopAt: Node): void {
    for (const statement of statements) {
      if (statement.startIndex <= stopAt.startIndex && stopAt.endIndex <= statement.endIndex) {
        this.enter(statement, stopAt);
        return;
      }
      const jump = this.execute(statement);
      if (jump === 'return' || jump === 'stop') return;
    }
  }

  /** Runs the statements after an add-chain's `model = Sequential()`, calling the hooks on `model.add(...)`. */
  followAddChain(hooks: AddChainHooks, statements: readonly Node[]): void {
    this.chain = hooks;
    for (const statement of statements) {
      const jump = this.execute(statement);
      if (jump === 'return' || jump === 'stop' || this.chainEnded) return;
    }
  }

  private enter(statement: Node, stopAt: Node): void {
    if (statement.type === 'for_statement') {
      const target = statement.childForFieldName('left');
      const iterable = statement.childForFieldName('right');
      // Each iteration builds another model: the loop variable has no single value.
      for (const name of target ? targetNames(target) : []) {
        this.set(name, unknown(iterable ?? statement, `\`${name}\` is the variable of the loop over \`${shorten(iterable?.text ?? '')}\` that builds the model, so it has a value per iteration`));
      }
    }
    // The outermost block of the statement that holds `stopAt` (a loop or `if` body, a `with` body…).
    let block: Node | undefined;
    for (let node: Node | null = stopAt; node && node.id !== statement.id; node = node.parent) {
      if (node.type === 'block') block = node;
    }
    if (block) this.runUntil(namedStatements(block), stopAt);
  }

  private runBlock(block: Node | null): Jump | undefined {
    for (const statement of block ? namedStatements(block) : []) {
      const jump = this.execute(statement);
      if (jump) return jump;
      if (this.chainEnded) return 'stop';
    }
    return undefined;
  }

  private execute(statement: Node): Jump | undefined {
    if (++this.loader.statementsRun > MAX_KERAS_STATEMENTS) {
      throw new UnsoundModel('parse-error', `the file runs more than ${formatCount(MAX_KERAS_STATEMENTS)} statements in all to build its models, more than Activation Lens follows statically.`, statement);
    }
    if (++this.executed > MAX_INTERPRETED_STATEMENTS) {
      throw new UnsoundModel('parse-error', `the code that builds it runs more than ${MAX_INTERPRETED_STATEMENTS} statements, more than Activation Lens follows statically.`, statement);
    }
    switch (statement.type) {
      case 'expression_statement':
        this.expressionStatement(statement);
        return undefined;
      case 'for_statement':
        return this.forStatement(statement);
      case 'while_statement':
        this.cannotRun(statement, statement.childForFieldName('condition') ?? statement, 'a `while` loop is not unrolled (only `for` loops over lists, tuples and `range(...)` are), so what it builds is only known at run time');
        return undefined;
      case 'if_statement':
        return this.ifStatement(statement);
      case 'with_statement':
        return this.runBlock(statement.childForFieldName('body'));
      case 'try_statement': {
        // The path without an exception: the try body, then `else` and `finally`.
        const tryBody = statement.childForFieldName('body');
        const jump = this.runBlock(tryBody);
        if (jump) return jump;
        for (const clause of statement.namedChildren) {
          if (clause?.type !== 'else_clause' && clause?.type !== 'finally_clause') continue;
          const clauseJump = this.runBlock(clause.childForFieldName('body') ?? clause.namedChildren.find((c) => c?.type === 'block') ?? null);
          if (clauseJump) return clauseJump;
        }
        return undefined;
      }
      case 'break_statement':
        return 'break';
      case 'continue_statement':
        return 'continue';
      case 'return_statement':
        return 'return';
      default:
        return undefined;
    }
  }

  private expressionStatement(statement: Node): void {
    const expression = statement.firstNamedChild;
    if (!expression) return;
    if (expression.type === 'assignment') this.assignment(expression);
    else if (expression.type === 'augmented_assignment') this.augmentedAssignment(expression);
    else if (expression.type === 'call') this.callStatement(expression, statement);
  }

  private assignment(expression: Node): void {
    const targets: Node[] = [];
    let valueNode: Node | null = expression;
    // `a = b = value` nests the second assignment as the right side of the first.
    while (valueNode?.type === 'assignment') {
      const left = valueNode.childForFieldName('left');
      if (left) targets.push(left);
      valueNode = valueNode.childForFieldName('right');
    }
    if (!valueNode || targets.length === 0) return; // an annotation without a value: `x: int`
    const value = this.evaluateRight(valueNode);
    for (const target of targets) this.assignTarget(target, value, valueNode);
  }

  private assignTarget(target: Node, value: Value, valueNode: Node): void {
    if (this.chain && targetNames(target).includes(this.chain.target)) this.chainEnded = true;
    if (target.type === 'identifier') {
      this.set(target.text, value);
      return;
    }
    if (target.type === 'pattern_list' || target.type === 'tuple_pattern' || target.type === 'list_pattern') {
      const bindings = bindTarget(target, value);
      for (const name of targetNames(target)) {
        this.set(name, bindings?.get(name) ?? unknown(valueNode, `the unpacking \`${shorten(target.text)} = ${shorten(valueNode.text)}\` is not read statically`));
      }
      return;
    }
    if (target.type === 'subscript') {
      // `widths[0] = 8` changes a list in place.
      const object = target.childForFieldName('value');
      if (object?.type === 'identifier' && this.values.has(object.text)) {
        const changed = this.values.get(object.text)?.kind === 'dict' ? changedDictReason(object.text, target.parent ?? target) : undefined;
        this.set(object.text, unknown(target, changed ?? `\`${shorten(target.text)} = …\` changes \`${object.text}\` in a way that is not read statically`));
      }
    }
  }

  private augmentedAssignment(expression: Node): void {
    const left = expression.childForFieldName('left');
    const right = expression.childForFieldName('right');
    const operator = expression.childForFieldName('operator')?.text ?? '';
    if (!left || !right) return;
    if (this.chain && targetNames(left).includes(this.chain.target)) this.chainEnded = true;
    if (left.type !== 'identifier') return;
    const current = this.lookup(left.text, expression.startIndex);
    const operand = this.evaluateRight(right);
    if (current !== UNBOUND && (current.kind === 'tensor' || operand.kind === 'tensor')) {
      this.set(left.text, {
        kind: 'unknown',
        node: expression,
        reason: `\`${shorten(expression.text)}\` combines tensors without a Keras layer (a residual connection?); only linear chains of layers are read`,
        code: 'unsupported-layer',
      });
      return;
    }
    const result =
      current === UNBOUND ? unknown(left, `\`${left.text}\` is not assigned before \`${shorten(expression.text)}\``)
      : current.kind === 'unknown' ? current
      : operand.kind === 'unknown' ? operand
      : applyOperator(operator.slice(0, -1), current, operand, expression);
    this.set(left.text, result);
  }

  private callStatement(call: Node, statement: Node): void {
    const callee = call.childForFieldName('function');
    const args = this.loader.arguments(call);
    if (this.chain) {
      const method = methodCalledOn(call, this.chain.target);
      if (method === 'add' || method === 'build' || method === 'pop') {
        if (statement.hasError) throw new UnsoundModel('parse-error', 'a layer added to it contains a syntax error.', statement);
        if (method === 'add') {
          const layerNode = args.keyword.get('layer')?.value ?? args.positional[0];
          if (layerNode) this.chain.add(layerNode, this.scope());
        } else if (method === 'build') {
          const shapeNode = args.keyword.get('input_shape')?.value ?? args.positional[0];
          if (shapeNode) this.chain.build(shapeNode, this.scope());
        } else {
          this.chain.pop(call);
        }
        return;
      }
      // `add_block(model, 64)`: a helper of this file that adds layers to the model passed to it.
      const passesModel = [...args.positional, ...[...args.keyword.values()].map((entry) => entry.value)].some((arg) => arg.type === 'identifier' && arg.text === this.chain?.target);
      if (passesModel && callee?.type === 'identifier' && this.loader.functionAddsLayers(callee.text)) {
        throw new UnsoundModel(
          'parse-error',
          `layers are added to \`${this.chain.target}\` inside \`${callee.text}(...)\`, which Activation Lens does not follow; write the \`.add(...)\` calls where the model is built to diagnose it.`,
          call,
        );
      }
    }
    // Layer lists built step by step: `hidden.append(layers.Dense(64))`.
    const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
    const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
    if (object?.type !== 'identifier' || !method) return;
    const current = this.lookup(object.text, call.startIndex);
    if (current === UNBOUND || current.kind !== 'sequence') return;
    const argument = args.positional[0];
    if ((method === 'append' || method === 'extend') && argument && args.positional.length === 1) {
      const added = this.evaluateRight(argument);
      if (method === 'append') this.set(object.text, { kind: 'sequence', items: [...current.items, added] });
      else if (added.kind === 'sequence') this.set(object.text, { kind: 'sequence', items: [...current.items, ...added.items] });
      else this.set(object.text, added.kind === 'unknown' ? added : unknown(argument, `\`${shorten(argument.text)}\` is not a known list`));
    } else if (method === 'append' || method === 'extend' || LIST_MUTATORS.has(method)) {
      this.set(object.text, unknown(call, `\`${shorten(call.text)}\` changes the list \`${object.text}\` in a way that is not read statically`));
    }
  }

  private forStatement(statement: Node): Jump | undefined {
    const target = statement.childForFieldName('left');
    const iterableNode = statement.childForFieldName('right');
    const body = statement.childForFieldName('body');
    if (!target || !iterableNode || !body) return undefined;
    const evaluated = this.loader.evaluate(iterableNode, this.scope());
    // Iterating a dict visits its keys.
    const iterable = evaluated.kind === 'dict' ? dictKeys(evaluated) : evaluated;
    if (iterable.kind !== 'sequence') {
      const why = iterable.kind === 'unknown' ? ` (${iterable.reason})` : '';
      this.cannotRun(statement, iterableNode, `the \`for\` loop over \`${shorten(iterableNode.text)}\` is only known at run time${why}, so the layers it builds cannot be read; loop over a list, a tuple or \`range(...)\` of constants`);
      return undefined;
    }
    let completed = true;
    for (const element of iterable.items) {
      const bindings = bindTarget(target, element);
      if (!bindings) {
        this.cannotRun(statement, target, `only simple loop variables are read (\`for x in …\`, \`for i, x in …\`), not \`${shorten(target.text)}\``);
        return undefined;
      }
      for (const [name, value] of bindings) this.set(name, value);
      const jump = this.runBlock(body);
      if (jump === 'break') {
        completed = false;
        break;
      }
      if (jump === 'unknown') {
        const cause = this.unknownJump ?? { node: statement, reason: 'the loop stops or skips under a condition only known at run time' };
        this.cannotRun(statement, cause.node, cause.reason);
        return undefined;
      }
      if (jump === 'return' || jump === 'stop') return jump;
    }
    const alternative = statement.childForFieldName('alternative');
    if (completed && alternative) return this.runBlock(alternative.childForFieldName('body'));
    return undefined;
  }

  private ifStatement(statement: Node): Jump | undefined {
    const clauses: { condition: Node | null; body: Node | null }[] = [
      { condition: statement.childForFieldName('condition'), body: statement.childForFieldName('consequence') },
    ];
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (alternative?.type === 'elif_clause') clauses.push({ condition: alternative.childForFieldName('condition'), body: alternative.childForFieldName('consequence') });
      else if (alternative?.type === 'else_clause') clauses.push({ condition: null, body: alternative.childForFieldName('body') });
    }
    for (const clause of clauses) {
      if (clause.condition) {
        const test = this.loader.evaluate(clause.condition, this.scope());
        const truth = pythonTruthiness(test);
        if (truth === undefined) {
          const why = test.kind === 'unknown' ? ` (${test.reason})` : '';
          const reason = `what is built under \`if ${shorten(clause.condition.text)}:\` depends on a condition only known at run time${why}`;
          if (containsLoopJump(statement)) {
            this.unknownJump = { node: clause.condition, reason: `the loop stops or skips under \`${shorten(clause.condition.text)}\`, a condition only known at run time${why}` };
            return 'unknown';
          }
          this.cannotRun(statement, clause.condition, reason);
          return undefined;
        }
        if (!truth) continue;
      }
      return this.runBlock(clause.body);
    }
    return undefined;
  }

  /**
   * A statement that cannot be run statically: refuses an add-chain that adds layers in it, and
   * makes every name it assigns unknown (with the reason at `at`) for whatever uses them later.
   */
  private cannotRun(statement: Node, at: Node, reason: string): void {
    if (this.chain && statementAddsTo(statement, this.chain.target)) throw new UnsoundModel('parse-error', `${reason}.`, at);
    for (const name of assignedNames(statement)) this.set(name, unknown(at, reason));
  }

  // #region Functional-API tensors

  /** A right-hand side: a tensor when it applies layers to one, else its static value. */
  evaluateRight(node: Node): Value {
    return this.traceTensor(node) ?? this.loader.evaluate(node, this.scope());
  }

  /** The layer chain of a model's `inputs` / `outputs`; refuses anything that is not one tensor from `keras.Input`. */
  tensorChain(node: Node): LayerCall[] {
    const value = this.evaluateRight(node);
    if (value.kind === 'tensor') return chainToArray(value.chain);
    if (value.kind === 'unknown') throw new UnsoundModel(value.code ?? 'parse-error', `${value.reason}.`, value.node);
    if (node.type === 'identifier') {
      throw new UnsoundModel('parse-error', `the tensor \`${node.text}\` is not assigned before it is used, so the layer chain cannot be followed.`, node);
    }
    throw new UnsoundModel('parse-error', `\`${shorten(node.text)}\` is not a layer applied to a tensor.`, node);
  }

  /**
   * The tensor an expression computes (`keras.Input(...)`, `Layer(...)(t)`, `layer(t)`,
   * `tf.nn.relu(t)`), an unknown value when it does something else with a tensor, or undefined
   * when no tensor is involved.
   */
  private traceTensor(expression: Node): Value | undefined {
    const node = skipParenthesesDown(expression) ?? expression;
    if (node.type === 'identifier') {
      const value = this.values.get(node.text);
      return value?.kind === 'tensor' ? value : undefined;
    }
    if (node.type !== 'call') {
      return this.mentionsTensor(node) ? unknown(node, `\`${shorten(node.text)}\` is not a layer applied to a tensor`) : undefined;
    }
    const layerClass = this.loader.layerClassOf(node);
    if (layerClass?.keras && LAYER_CLASSES.get(layerClass.className)?.key === 'input') {
      return { kind: 'tensor', chain: { layer: { node, scope: this.scope() }, previous: undefined, length: 1 } };
    }
    const callee = skipParenthesesDown(node.childForFieldName('function'));
    const args = this.loader.arguments(node);
    const inputNode = args.keyword.get('inputs')?.value ?? args.positional[0];
    let constructor: LayerCall | undefined;
    if (callee?.type === 'call') {
      constructor = { node: callee, scope: this.scope(), at: node };
    } else if (callee?.type === 'identifier') {
      // A layer instance bound to a name: `dense = layers.Dense(64)` … `x = dense(x)`.
      const value = this.lookup(callee.text, node.startIndex);
      if (value !== UNBOUND && value.kind === 'call') constructor = { node: value.node, scope: value.scope, instance: value, at: node };
    }
    if (constructor) return this.applyLayer(constructor, node, inputNode);
    const parts = callee ? dottedParts(callee) : undefined;
    const activation = parts && parts.length > 1 ? ACTIVATION_IDENTIFIERS.get(parts[parts.length - 1]) : undefined;
    if (callee && activation && inputNode) {
      const input = this.traceTensor(inputNode);
      if (input?.kind === 'tensor') {
        const slopeNode = args.keyword.get('alpha')?.value ?? args.keyword.get('negative_slope')?.value;
        const slope = slopeNode ? this.loader.evaluate(slopeNode, this.scope()) : undefined;
        const op: ActivationSpec = activation.name === 'leakyRelu' && slope?.kind === 'number' ? { name: 'leakyRelu', alpha: slope.value } : activation;
        return this.extend(input.chain, { node, scope: this.scope(), activationOp: { activation: op, callee } }, node);
      }
      if (input) return input;
    }
    return this.mentionsTensor(node) ? unknown(node, `\`${shorten(node.text)}\` is not a Keras layer applied to a tensor, so the layer chain cannot be followed`) : undefined;
  }

  private applyLayer(constructor: LayerCall, application: Node, inputNode: Node | undefined): Value {
    const layerClass = this.loader.layerClassOf(constructor.node);
    if (layerClass?.keras && MERGE_LAYERS.has(layerClass.className)) {
      return {
        kind: 'unknown',
        node: constructor.node,
        reason: `\`${layerClass.className}\` merges branches; only linear chains of layers are read (the model is not diagnosed)`,
        code: 'unsupported-layer',
      };
    }
    if (!inputNode) return unknown(application, `the layer \`${shorten(constructor.node.text)}\` is applied to no tensor`);
    const inputInner = skipParenthesesDown(inputNode) ?? inputNode;
    if (inputInner.type === 'list' || inputInner.type === 'tuple') {
      return { kind: 'unknown', node: inputInner, reason: `\`${shorten(constructor.node.text)}\` takes several tensors; only linear chains are read`, code: 'unsupported-layer' };
    }
    const input = this.traceTensor(inputNode) ?? this.loader.evaluate(inputNode, this.scope());
    if (input.kind === 'tensor') return this.extend(input.chain, constructor, application);
    if (input.kind === 'unknown') return input;
    return unknown(inputNode, `\`${shorten(inputNode.text)}\` is not a tensor that comes from a \`keras.Input\`, so the layer chain cannot be followed`);
  }

  private extend(chain: TensorChain, layer: LayerCall, at: Node): Value {
    if (chain.length >= MAX_CHAIN) return unknown(at, 'its layer chain is too long to follow');
    return { kind: 'tensor', chain: { layer, previous: chain, length: chain.length + 1 } };
  }

  private mentionsTensor(node: Node): boolean {
    const identifiers = node.type === 'identifier' ? [node] : node.descendantsOfType('identifier');
    return identifiers.some((identifier) => !!identifier && this.values.get(identifier.text)?.kind === 'tensor');
  }

  // #endregion
}

/** The names a `for` / assignment target binds: `x`, `i, x`, `(a, b)`. */
function targetNames(target: Node): string[] {
  if (target.type === 'identifier') return [target.text];
  if (target.type === 'pattern_list' || target.type === 'tuple_pattern' || target.type === 'list_pattern' || target.type === 'parenthesized_expression') {
    return target.namedChildren.flatMap((child) => (child ? targetNames(child) : []));
  }
  return [];
}

/** Every name a statement may change: assignment and loop targets, and lists it appends to. */
function assignedNames(statement: Node): Set<string> {
  const names = new Set<string>();
  const nodes = [statement, ...statement.descendantsOfType(['assignment', 'augmented_assignment', 'for_statement', 'call'])];
  for (const node of nodes) {
    if (!node) continue;
    if (node.type === 'assignment' || node.type === 'augmented_assignment' || node.type === 'for_statement') {
      const left = node.childForFieldName('left');
      for (const name of left ? targetNames(left) : []) names.add(name);
    } else if (node.type === 'call') {
      const callee = node.childForFieldName('function');
      const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
      if (object?.type === 'identifier') names.add(object.text);
    }
  }
  return names;
}

/** A `break` / `continue` inside `statement` that belongs to the loop around it (not to a loop inside). */
function containsLoopJump(statement: Node): boolean {
  for (const jump of statement.descendantsOfType(['break_statement', 'continue_statement'])) {
    let inner = false;
    for (let node = jump?.parent ?? null; node && node.id !== statement.id; node = node.parent) {
      if (node.type === 'for_statement' || node.type === 'while_statement' || node.type === 'function_definition') inner = true;
    }
    if (!inner) return true;
  }
  return false;
}

/** `target.method(...)` → method. */
function methodCalledOn(call: Node, target: string): string | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute') return undefined;
  if (callee.childForFieldName('object')?.text !== target) return undefined;
  return callee.childForFieldName('attribute')?.text;
}

function statementAddsTo(statement: Node, target: string): boolean {
  return statement.descendantsOfType('call').some((call) => !!call && methodCalledOn(call, target) === 'add');
}

/** The statements a node's code runs in: the body of its function, or the module. */
function executionRoot(node: Node, root: Node): Node {
  return ancestorOfType(node, 'function_definition')?.childForFieldName('body') ?? root;
}

// #endregion

// #region Turning layer calls into LayerSpecs

class LayerListBuilder {
  readonly layers: LayerSpec[] = [];
  /** `axis=` arguments to check against the input rank once the layers' shapes are known. */
  readonly axisChecks: AxisCheck[] = [];
  /** The call node of each layer, parallel to `layers`, for shape-check positions. */
  readonly layerNodes: Node[] = [];
  inputShape: number[] | undefined;
  private readonly layerNames = new LayerNamer();

  constructor(
    private readonly loader: KerasFileLoader,
    private readonly problems: LoadProblem[],
  ) {}

  add({ node, scope, activationOp }: LayerCall): void {
    if (this.layers.length >= MAX_LAYERS) throw new UnsoundModel('parse-error', tooManyLayers(), node);
    if (activationOp) {
      this.addActivationOp(node, activationOp.activation, activationOp.callee);
      return;
    }
    if (node.hasError) throw new UnsoundModel('parse-error', 'a layer definition contains a syntax error.', node);
    const layerClass = this.loader.layerClassOf(node);
    const known = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className) : undefined;

    if (!layerClass || !known) {
      const className = layerClass?.className ?? shorten(node.text);
      const callee = node.childForFieldName('function') ?? node;
      if (layerClass?.keras && SHAPE_PRESERVING_LAYERS.has(className)) {
        this.problems.push({
          code: 'unsupported-layer',
          message: `\`${className}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`,
          span: this.loader.span(node),
        });
        return;
      }
      throw new UnsoundModel(
        'unsupported-layer',
        `\`${className}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`,
        callee,
      );
    }
    const args = bindLayerArguments(layerClass.className, known.key, this.loader.arguments(node));
    const read = new ArgumentReader(this.loader, args, scope, node, this.problems);

    if (known.key === 'input') {
      if (this.layers.length > 0 || this.inputShape) {
        throw new UnsoundModel('parse-error', 'an input layer appears after other layers.', node);
      }
      const shapeArg = read.node('shape') ?? read.node('input_shape') ?? read.node('batch_shape') ?? read.node('batch_input_shape');
      if (!shapeArg) throw new UnsoundModel('parse-error', 'its input layer has no `shape=`.', node);
      const withBatch = shapeArg === read.node('batch_shape') || shapeArg === read.node('batch_input_shape');
      this.inputShape = this.loader.shapeFrom(this.loader.evaluate(shapeArg, scope), shapeArg, withBatch);
      return;
    }

    if (this.layers.length === 0 && !this.inputShape) this.inputShape = this.firstLayerInputShape(read, scope);

    const spec = this.buildLayer(known.key, read, layerClass.className);
    const explicitName = read.optionalString('name');
    const name = this.layerNames.next(explicitName ?? known.autoName, explicitName === undefined);
    this.layers.push({ index: this.layers.length, name, ...spec, source: read.source() });
    this.layerNodes.push(node);
  }

  /**
   * An activation function applied in `call` (`tf.nn.relu(h)`): a standalone activation layer
   * whose span is the function reference (`tf.nn.relu`). Quick fixes do not rewrite these (the
   * span is not a layer call), so the fix engine refuses them; the diagnosis is unaffected.
   */
  private addActivationOp(node: Node, activation: ActivationSpec, callee: Node): void {
    const name = this.layerNames.next('activation', true);
    this.layers.push({
      index: this.layers.length,
      name,
      kind: 'activation',
      activation,
      source: { span: this.loader.span(callee), calleeSpan: this.loader.span(callee), activationValueSpan: this.loader.span(callee) },
    });
    this.layerNodes.push(node);
  }

  private firstLayerInputShape(read: ArgumentReader, scope: Scope): number[] | undefined {
    const shapeNode = read.node('input_shape');
    if (shapeNode) return this.loader.shapeFrom(this.loader.evaluate(shapeNode, scope), shapeNode, false);
    const batchNode = read.node('batch_input_shape');
    if (batchNode) return this.loader.shapeFrom(this.loader.evaluate(batchNode, scope), batchNode, true);
    const dimNode = read.node('input_dim');
    if (dimNode) return this.loader.shapeFrom(this.loader.evaluate(dimNode, scope), dimNode, false);
    return undefined;
  }

  private buildLayer(key: Exclude<LayerClassKey, 'input'>, read: ArgumentReader, className: string): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    switch (key) {
      case 'dense':
        return {
          kind: 'dense',
          units: read.requiredPositiveInteger('units'),
          activation: read.activation('activation'),
          useBias: read.optionalBool('use_bias') ?? true,
          kernelInitializer: read.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: read.initializer('bias_initializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = key === 'conv1d' ? 1 : 2;
        this.requireChannelsLast(read, className);
        read.refuseUnlessDefault('dilation_rate', (value) => allOnes(value), `dilation is not supported yet: Activation Lens builds \`${className}\` undilated, which would change what it computes and its output shape`);
        const groups = read.evaluated('groups');
        if (groups && (groups.value.kind === 'string' || groups.value.kind === 'reference')) {
          // Before TF 2.3 the 7th positional parameter was `activation`; it is `groups` since.
          throw new UnsoundModel('parse-error', `\`${shorten(groups.node.text)}\` is passed as the 7th positional argument of \`${className}\`, which is \`groups\` in Keras ≥ 2.3 and Keras 3 (it was \`activation\` in older Keras); pass it by keyword.`, groups.node);
        }
        read.refuseUnlessDefault('groups', (value) => (value.kind === 'number' ? value.value === 1 : undefined), `grouped convolutions are not supported yet: Activation Lens builds \`${className}\` with groups=1, which has a different number of weights per filter`);
        return {
          kind: key,
          filters: read.requiredPositiveInteger('filters'),
          kernelSize: read.requiredTuple('kernel_size', rank),
          strides: read.tuple('strides', rank) ?? new Array<number>(rank).fill(1),
          padding: read.padding(),
          activation: read.activation('activation'),
          useBias: read.optionalBool('use_bias') ?? true,
          kernelInitializer: read.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: read.initializer('bias_initializer', 'zeros'),
        };
      }
      case 'maxPool1d':
      case 'maxPool2d':
      case 'avgPool1d':
      case 'avgPool2d': {
        const rank = key.endsWith('1d') ? 1 : 2;
        this.requireChannelsLast(read, className);
        const poolSize = read.tuple('pool_size', rank) ?? new Array<number>(rank).fill(2);
        return {
          kind: key,
          poolSize,
          // Keras: strides=None means strides = pool_size.
          strides: read.tuple('strides', rank) ?? poolSize,
          padding: read.padding(),
          activation: { name: 'linear' },
        };
      }
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        this.requireChannelsLast(read, className);
        read.refuseUnlessDefault('keepdims', (value) => (value.kind === 'bool' ? !value.value : value.kind === 'none' ? true : undefined), `keeping the pooled axes is not supported yet: Activation Lens builds \`${className}\` dropping the pooled axes, so the layers after it would get a different shape`);
        return { kind: key, activation: { name: 'linear' } };
      case 'flatten':
        this.noteChannelsFirstFlatten(read, className);
        return { kind: key, activation: { name: 'linear' } };
      case 'dropout':
        read.noteUnlessDefault('noise_shape', (value) => value.kind === 'none', 'a `noise_shape` is not modelled: the layer is diagnosed as plain Dropout, with an independent mask per value');
        return { kind: 'dropout', rate: read.optionalNumber('rate') ?? 0.5, activation: { name: 'linear' } };
      case 'batchNorm':
        this.axisChecks.push(...read.axisCheck('axis', this.layers.length, className));
        read.noteUnlessDefault('center', (value) => value.kind === 'bool' && value.value, '`center=False` is not modelled: the layer is diagnosed with a trainable offset (beta), which starts at 0, so it computes the same at initialisation');
        read.noteUnlessDefault('scale', (value) => value.kind === 'bool' && value.value, '`scale=False` is not modelled: the layer is diagnosed with a trainable scale (gamma), which starts at 1, so it computes the same at initialisation');
        return {
          kind: 'batchNorm',
          momentum: read.optionalNumber('momentum') ?? 0.99,
          epsilon: read.optionalNumber('epsilon') ?? 0.001,
          activation: { name: 'linear' },
        };
      case 'activationLayer':
        return { kind: 'activation', activation: read.activation('activation') };
      case 'relu':
      case 'leakyRelu':
      case 'prelu':
      case 'elu':
      case 'softmax':
        if (key === 'softmax') this.axisChecks.push(...read.axisCheck('axis', this.layers.length, className));
        return { kind: 'activation', activation: read.activationLayer(key) };
    }
  }

  /**
   * Convolution and pooling layers are built channels-last (the IR's and the builder's only
   * layout), so a channels-first layer — by `data_format=` or by the file's
   * `set_image_data_format` — would get the wrong shape: it is refused at the setting.
   */
  private requireChannelsLast(read: ArgumentReader, className: string): void {
    const format = this.dataFormatOf(read);
    if (!format || format.value === 'channels_last') return;
    if (format.value === 'channels_first') {
      throw new UnsoundModel(
        'unsupported-layer',
        `${format.what} is not supported yet; Activation Lens builds convolution and pooling layers channels-last (…, channels), so \`${className}\` would be built with the wrong shape. Use data_format="channels_last" (the Keras default) to diagnose this model.`,
        format.node,
      );
    }
    throw new UnsoundModel('parse-error', `${format.what} must be "channels_last" or "channels_first" known before running the code.`, format.node);
  }

  /** Flatten only reorders its outputs when channels-first: the same values, so it is diagnosed as is. */
  private noteChannelsFirstFlatten(read: ArgumentReader, className: string): void {
    const format = this.dataFormatOf(read);
    if (!format || format.value === 'channels_last') return;
    this.problems.push({
      code: 'unsupported-layer',
      message: `${format.what} is not supported yet; \`${className}\` is diagnosed channels-last, which only changes the order of its outputs, not their values.`,
      span: this.loader.span(format.node),
    });
  }

  /** The layer's `data_format=`, or else the file's `set_image_data_format(...)` in effect; undefined when channels-last by default. */
  private dataFormatOf(read: ArgumentReader): { value: string | undefined; node: Node; what: string } | undefined {
    const given = read.evaluated('data_format');
    if (given && given.value.kind !== 'none') {
      const value = given.value.kind === 'string' ? given.value.value.toLowerCase() : undefined;
      return { value, node: given.node, what: `\`data_format=${shorten(given.node.text)}\`` };
    }
    const fileSetting = this.loader.imageDataFormatAt(read.callNode);
    if (!fileSetting) return undefined;
    const line = this.loader.span(fileSetting.node).start.line;
    return { value: fileSetting.value, node: fileSetting.node, what: `the file's \`${shorten(fileSetting.call.text)}\` (line ${line}), the default data_format of every layer after it,` };
  }

}

/** Reads one layer call's arguments (Keras signatures: positional index or keyword). */
class ArgumentReader {
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: KerasFileLoader,
    private readonly args: Arguments,
    private readonly scope: Scope,
    private readonly call: Node,
    private readonly problems: LoadProblem[],
  ) {
    const callee = call.childForFieldName('function');
    const argumentList = call.childForFieldName('arguments');
    this.spans = {
      span: loader.span(call),
      calleeSpan: callee ? loader.span(callee) : undefined,
      argumentsSpan: argumentList ? loader.span(argumentList) : undefined,
    };
  }

  source(): LayerSource {
    return this.spans;
  }

  /** The value node of an argument given by keyword or at a positional index. */
  node(keyword: string, position?: number): Node | undefined {
    return this.args.keyword.get(keyword)?.value ?? (position !== undefined ? this.args.positional[position] : undefined);
  }

  private argumentNode(keyword: string, position?: number): Node | undefined {
    return this.args.keyword.get(keyword)?.argument ?? (position !== undefined ? this.args.positional[position] : undefined);
  }

  private value(keyword: string, position?: number): { value: Value; node: Node } | undefined {
    const node = this.node(keyword, position);
    return node ? { value: this.loader.evaluate(node, this.scope), node } : undefined;
  }

  /** An argument's node and evaluated value, or undefined when it is not given. */
  evaluated(keyword: string): { value: Value; node: Node } | undefined {
    return this.value(keyword);
  }

  /** The layer call being read. */
  get callNode(): Node {
    return this.call;
  }

  private note(node: Node, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node) });
  }

  requiredPositiveInteger(keyword: string, position?: number): number {
    const arg = this.value(keyword, position);
    if (!arg) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    if (arg.value.kind !== 'number' || !Number.isInteger(arg.value.value) || arg.value.value <= 0) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'a positive integer')}.`, problemNode(arg));
    }
    return arg.value.value;
  }

  requiredTuple(keyword: string, rank: number): number[] {
    const tuple = this.tuple(keyword, rank);
    if (!tuple) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    return tuple;
  }

  /** An int (repeated `rank` times) or a tuple of `rank` positive ints; undefined when absent or None. */
  tuple(keyword: string, rank: number): number[] | undefined {
    const arg = this.value(keyword);
    if (!arg || arg.value.kind === 'none') return undefined;
    const items = arg.value.kind === 'number' ? new Array<Value>(rank).fill(arg.value) : arg.value.kind === 'sequence' ? arg.value.items : [];
    const numbers = items.map((item) => (item.kind === 'number' && Number.isInteger(item.value) && item.value > 0 ? item.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, rank === 1 ? 'a positive integer' : `${rank} positive integers`)}.`, problemNode(arg));
    }
    return numbers as number[];
  }

  padding(): 'valid' | 'same' {
    const arg = this.value('padding');
    if (!arg) return 'valid';
    if (arg.value.kind === 'string' && (arg.value.value.toLowerCase() === 'valid' || arg.value.value.toLowerCase() === 'same')) {
      return arg.value.value.toLowerCase() as 'valid' | 'same';
    }
    throw new UnsoundModel('parse-error', `${this.unresolvedMessage('padding', arg.value, '"valid" or "same"')}.`, problemNode(arg));
  }

  /**
   * Refuses the model when a parameter the IR cannot represent has a non-default value
   * (`isDefault` false), or a value only known at run time (`isDefault` undefined).
   */
  refuseUnlessDefault(keyword: string, isDefault: (value: Value) => boolean | undefined, unsupported: string): void {
    const arg = this.value(keyword);
    if (!arg) return;
    const verdict = isDefault(arg.value);
    if (verdict === true) return;
    if (verdict === false) throw new UnsoundModel('unsupported-layer', `\`${keyword}=${shorten(arg.node.text)}\`: ${unsupported}.`, problemNode(arg));
    throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'its default')}, and a non-default value is not supported.`, problemNode(arg));
  }

  /** Records a model problem when a parameter that does not change shapes has a value that is not modelled. */
  noteUnlessDefault(keyword: string, isDefault: (value: Value) => boolean, notModelled: string): void {
    const arg = this.value(keyword);
    if (!arg || isDefault(arg.value)) return;
    this.note(problemNode(arg), `\`${keyword}=${shorten(arg.node.text)}\`: ${notModelled}.`, 'unsupported-layer');
  }

  /** The axes an `axis=` argument names, to be checked against the input rank (absent → the last axis). */
  axisCheck(keyword: string, layerIndex: number, className: string): AxisCheck[] {
    const arg = this.value(keyword);
    if (!arg) return [];
    const items = arg.value.kind === 'number' ? [arg.value] : arg.value.kind === 'sequence' ? arg.value.items : [];
    const axes = items.map((item) => (item.kind === 'number' && Number.isInteger(item.value) ? item.value : undefined));
    if (axes.length === 0 || axes.some((axis) => axis === undefined)) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'an integer axis')}.`, problemNode(arg));
    }
    return [{ layerIndex, axes: axes as number[], node: problemNode(arg), className, keyword }];
  }

  optionalNumber(keyword: string, position?: number): number | undefined {
    const arg = this.value(keyword, position);
    if (!arg) return undefined;
    if (arg.value.kind === 'number') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'a number')}; the Keras default is used.`);
    return undefined;
  }

  optionalBool(keyword: string): boolean | undefined {
    const arg = this.value(keyword);
    if (!arg) return undefined;
    if (arg.value.kind === 'bool') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'True or False')}; the Keras default is used.`);
    return undefined;
  }

  optionalString(keyword: string): string | undefined {
    const arg = this.value(keyword);
    if (!arg || arg.value.kind === 'none') return undefined;
    if (arg.value.kind === 'string') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'a string')}; an automatic name is used.`);
    return undefined;
  }

  /** The `activation` argument of Dense/Conv/Activation; records its spans. Absent → linear. */
  activation(keyword: string, position?: number): ActivationSpec {
    const arg = this.value(keyword, position);
    if (!arg) return { name: 'linear' };
    const argumentNode = this.argumentNode(keyword, position) ?? arg.node;
    this.spans.activationArgumentSpan = this.loader.span(argumentNode);
    this.spans.activationValueSpan = this.loader.span(arg.node);
    const activation = this.activationFromValue(arg.value);
    if (activation) return activation;
    // A value only known at run time could be any activation: diagnosing the layer as linear
    // would be a different network, so the model is refused (as for units), in every loader.
    if (arg.value.kind === 'unknown') {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'an activation name')}.`, problemNode(arg));
    }
    const what = arg.value.kind === 'string' ? `name "${arg.value.value}" is unknown (not a Keras activation)` : `${describeValue(arg.value)} is not recognised`;
    this.note(problemNode(arg), `The activation ${what}; the layer is diagnosed as linear.`, 'unsupported-layer');
    return { name: 'linear' };
  }

  private activationFromValue(value: Value): ActivationSpec | undefined {
    if (value.kind === 'none') return { name: 'linear' };
    if (value.kind === 'string') return ACTIVATION_IDENTIFIERS.get(value.value.toLowerCase());
    if (value.kind === 'reference') return ACTIVATION_IDENTIFIERS.get(value.path[value.path.length - 1]);
    if (value.kind === 'call') {
      // A layer instance is callable, so `activation=layers.LeakyReLU(0.1)` is valid Keras.
      const layerClass = this.loader.layerClassOf(value.node);
      const key = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className)?.key : undefined;
      if (layerClass && (key === 'relu' || key === 'leakyRelu' || key === 'prelu' || key === 'elu' || key === 'softmax')) {
        const args = bindLayerArguments(layerClass.className, key, this.loader.arguments(value.node));
        const nested = new ArgumentReader(this.loader, args, value.scope, value.node, this.problems);
        return nested.activationLayer(key);
      }
    }
    return undefined;
  }

  /** The activation of a standalone ReLU / LeakyReLU / PReLU / ELU / Softmax layer. */
  activationLayer(key: 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'softmax'): ActivationSpec {
    switch (key) {
      case 'relu': {
        const maxValue = this.optionalNumber('max_value');
        const slope = this.optionalNumber('negative_slope') ?? 0;
        const threshold = this.optionalNumber('threshold') ?? 0;
        // Only the shapes the IR has (relu, relu6, leaky ReLU) are rebuilt; others are refused,
        // as the JSON and TF.js loaders do, rather than trained as a different activation.
        if (threshold !== 0) {
          throw new UnsoundModel('unsupported-layer', `\`ReLU(threshold=${threshold})\` is not supported: only a threshold of 0 is rebuilt.`, this.node('threshold') ?? this.call);
        }
        if (slope > 0 && maxValue !== undefined) {
          throw new UnsoundModel('unsupported-layer', '`ReLU` with both `max_value` and `negative_slope` is not supported: a capped leaky ReLU cannot be rebuilt.', this.node('max_value') ?? this.call);
        }
        if (slope > 0) return { name: 'leakyRelu', alpha: slope };
        if (maxValue === 6) return { name: 'relu6' };
        if (maxValue !== undefined) {
          throw new UnsoundModel('unsupported-layer', `\`ReLU(max_value=${maxValue})\` is not supported: only a cap of 6 (ReLU6) is rebuilt.`, this.node('max_value') ?? this.call);
        }
        return { name: 'relu' };
      }
      case 'leakyRelu': {
        // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
        const slope = this.args.keyword.has('negative_slope')
          ? this.optionalNumber('negative_slope')
          : this.optionalNumber('alpha');
        return { name: 'leakyRelu', alpha: slope ?? 0.3 };
      }
      case 'elu':
        return { name: 'elu', alpha: this.optionalNumber('alpha') ?? 1 };
      case 'prelu': {
        // The learned slope starts at alpha_initializer (Keras default: zeros).
        const init = this.node('alpha_initializer');
        const initial = init ? this.initializerFromNode(init) : undefined;
        const alpha = initial?.name === 'constant' ? (initial.value ?? 0) : initial?.name === 'ones' ? 1 : 0;
        if (initial && initial.name !== 'constant' && initial.name !== 'zeros' && initial.name !== 'ones') {
          this.note(init ?? this.call, 'PReLU with a random alpha_initializer is diagnosed with a starting slope of 0.', 'unsupported-layer');
        }
        return { name: 'prelu', alpha };
      }
      case 'softmax':
        return { name: 'softmax' };
    }
  }

  /** kernel_initializer / bias_initializer; records spans; absent → the Keras default. */
  initializer(keyword: 'kernel_initializer' | 'bias_initializer', fallback: InitializerName): InitializerSpec {
    const entry = this.args.keyword.get(keyword);
    if (!entry) return withDefaults(fallback);
    if (keyword === 'kernel_initializer') {
      this.spans.kernelInitializerArgumentSpan = this.loader.span(entry.argument);
      this.spans.kernelInitializerValueSpan = this.loader.span(entry.value);
    } else {
      this.spans.biasInitializerArgumentSpan = this.loader.span(entry.argument);
      this.spans.biasInitializerValueSpan = this.loader.span(entry.value);
    }
    const spec = this.initializerFromNode(entry.value);
    if (spec) return spec;
    this.note(entry.value, `The initialiser \`${shorten(entry.value.text)}\` is not recognised; the Keras default (${fallback}) is used.`, 'unsupported-layer');
    return withDefaults(fallback);
  }

  private initializerFromNode(node: Node): InitializerSpec | undefined {
    const value = this.loader.evaluate(node, this.scope);
    if (value.kind === 'string') {
      const name = INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(value.value));
      return name ? withDefaults(name) : undefined;
    }
    if (value.kind === 'number') return { name: 'constant', value: value.value };
    if (value.kind === 'reference') {
      // An initialiser class passed without calling it, e.g. `initializers.HeNormal`.
      const name = INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(value.path[value.path.length - 1]));
      return name ? withDefaults(name) : undefined;
    }
    if (value.kind !== 'call') return undefined;
    const layerClass = this.loader.layerClassOf(value.node);
    const name = layerClass && INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(layerClass.className));
    if (!name) return undefined;
    const reader = new ArgumentReader(this.loader, this.loader.arguments(value.node), value.scope, value.node, this.problems);
    return reader.initializerParameters(name);
  }

  /** Parameters of an initialiser call, in Keras's positional order. */
  private initializerParameters(name: InitializerName): InitializerSpec {
    const defaults = withDefaults(name);
    switch (name) {
      case 'constant':
        return { name, value: this.optionalNumber('value', 0) ?? 0 };
      case 'randomNormal':
      case 'truncatedNormal':
        return { name, mean: this.optionalNumber('mean', 0) ?? 0, stddev: this.optionalNumber('stddev', 1) ?? defaults.stddev };
      case 'randomUniform':
        return { name, minval: this.optionalNumber('minval', 0) ?? -0.05, maxval: this.optionalNumber('maxval', 1) ?? 0.05 };
      case 'orthogonal':
      case 'identity':
        return { name, scale: this.optionalNumber('gain', 0) ?? 1 };
      case 'varianceScaling': {
        const modeNode = this.node('mode', 1);
        const distributionNode = this.node('distribution', 2);
        const mode = modeNode ? this.loader.evaluate(modeNode, this.scope) : undefined;
        const distribution = distributionNode ? this.loader.evaluate(distributionNode, this.scope) : undefined;
        const modes: Record<string, InitializerSpec['mode']> = { fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' };
        const distributions: Record<string, InitializerSpec['distribution']> = {
          normal: 'truncatedNormal',
          truncated_normal: 'truncatedNormal',
          untruncated_normal: 'normal',
          uniform: 'uniform',
        };
        const modeName = mode?.kind === 'string' ? modes[mode.value] : undefined;
        const distributionName = distribution?.kind === 'string' ? distributions[distribution.value] : undefined;
        if (modeNode && !modeName) this.note(modeNode, `VarianceScaling mode \`${shorten(modeNode.text)}\` is not recognised; fan_in is used.`);
        if (distributionNode && !distributionName) this.note(distributionNode, `VarianceScaling distribution \`${shorten(distributionNode.text)}\` is not recognised; truncated_normal is used.`);
        return {
          name,
          scale: this.optionalNumber('scale', 0) ?? 1,
          mode: modeName ?? 'fanIn',
          distribution: distributionName ?? 'truncatedNormal',
        };
      }
      default:
        return defaults;
    }
  }

  private unresolvedMessage(keyword: string, value: Value, expected: string): string {
    const reason = value.kind === 'unknown' ? value.reason : `it is ${describeValue(value)}`;
    return `\`${keyword}\` must be ${expected} known before running the code, but ${reason}`;
  }
}

function withDefaults(name: InitializerName): InitializerSpec {
  return { name, ...INITIALIZER_DEFAULTS[name] };
}

/** Where a problem with an argument is reported: at the builder call that gave the value, when it came from one. */
function problemNode(arg: { value: Value; node: Node }): Node {
  return arg.value.kind === 'unknown' && arg.value.atCallSite ? arg.value.node : arg.node;
}

/** True when an int or tuple argument is all ones (dilation_rate's default). */
function allOnes(value: Value): boolean | undefined {
  const items = value.kind === 'number' ? [value] : value.kind === 'sequence' ? value.items : undefined;
  if (!items || items.some((item) => item.kind !== 'number')) return undefined;
  return items.every((item) => item.kind === 'number' && item.value === 1);
}

/** An `axis=` of BatchNormalization / Softmax, valid only when it names the last (channels) axis. */
interface AxisCheck {
  readonly layerIndex: number;
  readonly axes: readonly number[];
  readonly node: Node;
  readonly className: string;
  readonly keyword: string;
}

/**
 * Matches a layer call's positional arguments to the class's Keras parameter names, so every
 * argument is read by name. Refuses what cannot be matched: `*args` / `**kwargs`, more
 * positional arguments than the signature reads, and a parameter given twice.
 */
function bindLayerArguments(className: string, key: LayerClassKey, args: Arguments): Arguments {
  const splat = args.splats[0];
  if (splat) {
    throw new UnsoundModel('parse-error', `\`${shorten(splat.text)}\` passes arguments to \`${className}\` that are only known at run time; write them out to diagnose the model.`, splat);
  }
  const names = POSITIONAL_PARAMETERS[key];
  const keyword = new Map(args.keyword);
  args.positional.forEach((node, i) => {
    const name = names[i];
    if (name === undefined) {
      throw new UnsoundModel(
        'parse-error',
        `\`${className}\` is given ${args.positional.length} positional arguments, but only ${names.length} (${names.join(', ')}) are read by position; pass \`${shorten(node.text)}\` by keyword.`,
        node,
      );
    }
    // LeakyReLU's slope is `alpha` in Keras 2 and `negative_slope` in Keras 3.
    const alsoByKeyword = keyword.has(name) || (key === 'leakyRelu' && keyword.has('alpha'));
    if (alsoByKeyword) throw new UnsoundModel('parse-error', `\`${className}\` gets \`${name}\` twice: by position (\`${shorten(node.text)}\`) and by keyword.`, node);
    keyword.set(name, { argument: node, value: node });
  });
  return { positional: [], keyword, splats: [] };
}

/**
 * Checks that each layer gets an input of the rank it needs and that no spatial dimension
 * shrinks below 1, so a returned model can always be built.
 */
function checkShapes(inputShape: readonly number[], layers: readonly LayerSpec[], nodes: readonly Node[]): void {
  const error = shapeError(inputShape, layers);
  if (error) throw new UnsoundModel('parse-error', error.message, nodes[error.index]);
}

/**
 * Refuses BatchNormalization / Softmax over an axis other than the last: the builder always
 * normalises over the channels (last) axis, so another axis would build a different model.
 */
function checkAxes(inputShape: readonly number[], layers: readonly LayerSpec[], checks: readonly AxisCheck[]): void {
  if (checks.length === 0) return;
  const inputs = traceShapes(inputShape, layers).inputs;
  for (const check of checks) {
    // The rank Keras sees includes the batch axis, so the last axis is `rank` (or -1).
    const rank = inputs[check.layerIndex]?.length ?? 0;
    if (check.axes.length === 1 && (check.axes[0] === -1 || check.axes[0] === rank)) continue;
    throw new UnsoundModel(
      'unsupported-layer',
      `\`${check.keyword}=${shorten(check.node.text)}\` of \`${check.className}\` is not supported: Activation Lens builds it over the last axis only (axis=-1, here also axis=${rank}), so it would compute something else.`,
      check.node,
    );
  }
}

// #endregion

// #region Small tree helpers

/**
 * Comments and backslash line continuations: extras that tree-sitter puts among a node's named
 * children (inside argument lists, lists, dicts, subscripts, parameters…), never code.
 */
function isExtra(node: Node): boolean {
  return node.type === 'comment' || node.type === 'line_continuation';
}

/** The first named child that is code (not a comment or a line continuation). */
function firstCode(node: Node | null | undefined): Node | undefined {
  return node?.namedChildren.find((child): child is Node => !!child && !isExtra(child));
}

function ancestorOfType(node: Node, type: string): Node | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === type) return current;
  }
  return undefined;
}

function skipParentheses(node: Node | null): Node | null {
  let current = node;
  while (current?.type === 'parenthesized_expression') current = current.parent;
  return current;
}

function skipParenthesesDown(node: Node | null): Node | null {
  let current = node;
  while (current?.type === 'parenthesized_expression') current = current.namedChildren.find((c) => c && !isExtra(c)) ?? null;
  return current;
}

function namedStatements(block: Node): Node[] {
  return block.namedChildren.filter((child): child is Node => !!child && !isExtra(child));
}

function returnsName(fn: Node, name: string): boolean {
  return fn
    .descendantsOfType('return_statement')
    .some((statement) => !!statement && firstCode(statement)?.text === name && ancestorOfType(statement, 'function_definition')?.id === fn.id);
}


function uniqueName(base: string, used: Map<string, number>): string {
  const count = used.get(base) ?? 0;
  used.set(base, count + 1);
  if (count === 0) return base;
  let candidate = `${base}_${count + 1}`;
  while (used.has(candidate)) candidate = `${candidate}_`;
  used.set(candidate, 1);
  return candidate;
}

// #endregion

// #region Functional and subclassed models (issue 3)

/** Keras layers that merge several tensors: a branching graph, which the IR (a chain) cannot hold. */
const MERGE_LAYERS = new Set([
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate', 'dot',
]);

const MAX_CHAIN = 10_000;

function isKerasModelReference(loader: KerasFileLoader, node: Node | null): boolean {
  const parts = node && dottedParts(node);
  if (!parts || parts[parts.length - 1] !== 'Model') return false;
  const resolved = resolvePath(parts, loader.importTable);
  // A bare `Model` must come from Keras (a user class called Model is not one).
  return resolved.keras && (parts.length > 1 || loader.importTable.has(parts[0]));
}

/** `[x]` / `(x,)` → x; a single expression stays; several → a multi-input/-output model. */
function singleTensor(node: Node, what: string): Node {
  const inner = skipParenthesesDown(node) ?? node;
  if (inner.type === 'list' || inner.type === 'tuple') {
    const items = inner.namedChildren.filter((c): c is Node => !!c && !isExtra(c));
    if (items.length === 1) return items[0];
    throw new UnsoundModel('unsupported-layer', `it has ${items.length} ${what}; only single-input, single-output linear chains are read.`, inner);
  }
  if (inner.type === 'dictionary') throw new UnsoundModel('unsupported-layer', `its ${what} are a dict; only single-input, single-output linear chains are read.`, inner);
  return inner;
}

function findFunctionalSites(loader: KerasFileLoader): ModelSite[] {
  const sites: ModelSite[] = [];
  for (const call of loader.rootNode.descendantsOfType('call')) {
    if (!call || !isKerasModelReference(loader, call.childForFieldName('function'))) continue;
    const args = loader.arguments(call);
    // `super().__init__(inputs, outputs)` is not a call to Model; a bare `Model()` without
    // tensors is a subclass-style instantiation and not read here.
    if (!args.keyword.has('outputs') && args.positional.length < 2) continue;
    sites.push(loader.siteFor(call, (scope) => ({ calls: traceFunctional(loader, call, scope) })));
  }
  return sites;
}

/**
 * Runs the statements before the `keras.Model(inputs, outputs)` call (loops unrolled, see
 * StatementInterpreter) and reads the chain of layers from `inputs` to `outputs`.
 */
function traceFunctional(loader: KerasFileLoader, modelCall: Node, scope: Scope): LayerCall[] {
  const args = loader.arguments(modelCall);
  const inputsNode = args.keyword.get('inputs')?.value ?? args.positional[0];
  const outputsNode = args.keyword.get('outputs')?.value ?? args.positional[1];
  if (!inputsNode || !outputsNode) throw new UnsoundModel('parse-error', '`keras.Model(...)` needs both `inputs` and `outputs`.', modelCall);
  const state = loader.interpreterAt(modelCall, scope);
  const chain = state.tensorChain(singleTensor(outputsNode, 'outputs'));
  const declared = state.tensorChain(singleTensor(inputsNode, 'inputs'));
  if (declared.length !== 1 || declared[0].node.id !== chain[0].node.id) {
    throw new UnsoundModel('parse-error', '`outputs` does not come from `inputs` through a chain of layers.', inputsNode);
  }
  return chain;
}

function findSubclassSites(loader: KerasFileLoader): ModelSite[] {
  const sites: ModelSite[] = [];
  for (const cls of loader.rootNode.descendantsOfType('class_definition')) {
    if (!cls) continue;
    const bases = cls.childForFieldName('superclasses')?.namedChildren ?? [];
    if (!bases.some((base) => isKerasModelReference(loader, base))) continue;
    const name = cls.childForFieldName('name')?.text ?? 'model';
    sites.push(loader.siteFor(cls, () => readSubclass(loader, cls, name), cls, name));
  }
  return sites;
}

function methodOf(cls: Node, name: string): Node | undefined {
  const body = cls.childForFieldName('body');
  for (const child of body?.namedChildren ?? []) {
    const fn = child?.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
    if (fn?.type === 'function_definition' && fn.childForFieldName('name')?.text === name) return fn;
  }
  return undefined;
}

// [issue 11] The training set-up of `compile(...)`.

function isCompileCall(call: Node): boolean {
  const callee = call.childForFieldName('function');
  return callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'compile';
}

const KERAS_OPTIMIZERS = "'adam', 'sgd', 'rmsprop', 'adadelta', 'adagrad', 'adamax', 'nadam', 'adamw' or `keras.optimizers.X(...)` of them";

/** `sparse_categorical_crossentropy`, `SparseCategoricalCrossentropy`, `sparseCategoricalCrossentropy` → one key. */
function lossKey(name: string): string {
  return name.toLowerCase().split('_').join('');
}

/** Keras' loss strings, functions and classes (before `from_logits`) by lossKey. */
const KERAS_LOSSES: ReadonlyMap<string, Omit<LossSpec, 'text' | 'span'>> = new Map<string, Omit<LossSpec, 'text' | 'span'>>([
  ['categoricalcrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities' }],
  ['sparsecategoricalcrossentropy', { kind: 'categoricalCrossentropy', input: 'probabilities', sparse: true }],
  ['binarycrossentropy', { kind: 'binaryCrossentropy', input: 'probabilities' }],
  ['mse', { kind: 'meanSquaredError', input: 'values' }],
  ['meansquarederror', { kind: 'meanSquaredError', input: 'values' }],
  ['mae', { kind: 'meanAbsoluteError', input: 'values' }],
  ['meanabsoluteerror', { kind: 'meanAbsoluteError', input: 'values' }],
  ['huber', { kind: 'huber', input: 'values' }],
  ['huberloss', { kind: 'huber', input: 'values' }],
]);

const INPUT_SHAPE_COMMENT = /activation-lens:\s*input_shape\s*=\s*(\(.*\)|\[.*\])/;

/** The `# activation-lens: input_shape=(…)` comment inside the class or on the lines just above it. */
function commentShapeOf(loader: KerasFileLoader, cls: Node): CollectedLayers['commentShape'] {
  const comments = loader.rootNode.descendantsOfType('comment').filter((c): c is Node => !!c);
  let previous = cls.previousNamedSibling;
  while (previous?.type === 'comment') previous = previous.previousNamedSibling;
  const from = previous ? previous.endIndex : 0;
  const comment = comments.find((c) => c.startIndex >= from && c.endIndex <= cls.endIndex && INPUT_SHAPE_COMMENT.test(c.text));
  if (!comment) return undefined;
  const tuple = INPUT_SHAPE_COMMENT.exec(comment.text)?.[1] ?? '';
  const dims = tuple.slice(1, -1).split(',').map((d) => d.trim()).filter((d) => d.length > 0);
  const numbers = dims.map((d) => (/^\d+$/.test(d) ? Number(d) : Number.NaN));
  if (numbers.length === 0 || numbers.some((n) => !Number.isInteger(n) || n <= 0)) {
    return { error: `the input shape comment \`${shorten(comment.text)}\` must list positive integers, e.g. \`input_shape=(784,)\` (no batch dimension).`, node: comment };
  }
  return { shape: numbers };
}

/** Reads a `keras.Model` subclass: layers assigned in `__init__`, applied in `call`. */
function readSubclass(loader: KerasFileLoader, cls: Node, className: string): CollectedLayers {
  const init = methodOf(cls, '__init__');
  const call = methodOf(cls, 'call');
  if (!call) throw new UnsoundModel('parse-error', `the class \`${className}\` has no \`call\` method to read the layer order from.`, cls);
  const attributes = new Map<string, Value>();
  let buildShape: CollectedLayers['buildShape'];
  for (const statement of init?.childForFieldName('body')?.descendantsOfType('expression_statement') ?? []) {
    const expression = statement?.firstNamedChild;
    if (expression?.type === 'assignment') {
      const left = expression.childForFieldName('left');
      const right = expression.childForFieldName('right');
      if (left?.type === 'attribute' && left.childForFieldName('object')?.text === 'self' && right) {
        const attribute = left.childForFieldName('attribute')?.text;
        if (attribute) attributes.set(attribute, loader.evaluate(right, loader.scopeFor(right)));
      }
    } else if (expression?.type === 'call') {
      const callee = expression.childForFieldName('function');
      if (callee?.type === 'attribute' && callee.childForFieldName('object')?.text === 'self' && callee.childForFieldName('attribute')?.text === 'build') {
        const args = loader.arguments(expression);
        const shapeNode = args.keyword.get('input_shape')?.value ?? args.positional[0];
        if (shapeNode) buildShape = { value: loader.evaluate(shapeNode, loader.scopeFor(shapeNode)), node: shapeNode };
      }
    }
  }
  buildShape ??= moduleBuildShape(loader, className);

  const parameters = (call.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => !!p && !isExtra(p));
  const inputParameter = parameters[1];
  const inputName = inputParameter?.type === 'identifier' ? inputParameter.text : inputParameter?.childForFieldName('name')?.text;
  if (!inputName) throw new UnsoundModel('parse-error', '`call` has no input parameter.', call);

  type Chain = readonly LayerCall[];
  const tensors = new Map<string, Chain>([[inputName, []]]);
  const trace = (node: Node): Chain => {
    const inner = skipParenthesesDown(node) ?? node;
    if (inner.type === 'identifier') {
      const chain = tensors.get(inner.text);
      if (!chain) throw new UnsoundModel('parse-error', `the tensor \`${inner.text}\` in \`call\` is not derived from the input \`${inputName}\`.`, inner);
      return chain;
    }
    if (inner.type !== 'call') throw new UnsoundModel('parse-error', `\`${shorten(inner.text)}\` in \`call\` cannot be read statically.`, inner);
    const callee = inner.childForFieldName('function');
    const args = loader.arguments(inner);
    const input = args.keyword.get('inputs')?.value ?? args.keyword.get('x')?.value ?? args.keyword.get('features')?.value ?? args.positional[0];
    if (!callee || !input) throw new UnsoundModel('parse-error', `\`${shorten(inner.text)}\` in \`call\` is not a layer applied to one tensor.`, inner);
    if (callee.type === 'attribute' && callee.childForFieldName('object')?.text === 'self') {
      const attribute = callee.childForFieldName('attribute')?.text ?? '';
      const value = attributes.get(attribute);
      if (!value) throw new UnsoundModel('parse-error', `\`self.${attribute}\` is not assigned in \`__init__\`.`, callee);
      if (value.kind !== 'call') {
        throw new UnsoundModel('unsupported-layer', `\`self.${attribute}\` is ${describeValue(value)}, not a single layer; only layers assigned one by one are read.`, callee);
      }
      const layerClass = loader.layerClassOf(value.node);
      if (layerClass?.keras && MERGE_LAYERS.has(layerClass.className)) {
        throw new UnsoundModel('unsupported-layer', `\`${layerClass.className}\` merges branches; only linear chains of layers are read (the model is not diagnosed).`, value.node);
      }
      const inputInner = skipParenthesesDown(input) ?? input;
      if (inputInner.type === 'list' || inputInner.type === 'tuple') {
        throw new UnsoundModel('unsupported-layer', `\`self.${attribute}\` takes several tensors; only linear chains are read.`, inputInner);
      }
      return [...trace(input), { node: value.node, scope: value.scope, instance: value, at: inner }];
    }
    const parts = dottedParts(callee);
    const activation = parts && ACTIVATION_IDENTIFIERS.get(parts[parts.length - 1]);
    if (parts && activation && parts.length > 1) {
      const slope = args.keyword.get('alpha')?.value ?? args.keyword.get('negative_slope')?.value;
      const slopeValue = slope ? loader.evaluate(slope, loader.scopeFor(slope)) : undefined;
      const op = activation.name === 'leakyRelu' && slopeValue?.kind === 'number' ? { name: 'leakyRelu' as const, alpha: slopeValue.value } : activation;
      return [...trace(input), { node: inner, scope: loader.scopeFor(inner), activationOp: { activation: op, callee } }];
    }
    throw new UnsoundModel('parse-error', `\`${shorten(inner.text)}\` in \`call\` is neither a layer of \`__init__\` nor an activation function.`, inner);
  };

  let result: Chain | undefined;
  const body = call.childForFieldName('body');
  for (const statement of body ? namedStatements(body) : []) {
    if (statement.type === 'return_statement') {
      const value = firstCode(statement);
      if (!value) throw new UnsoundModel('parse-error', '`call` returns nothing.', statement);
      result = trace(value);
      break;
    }
    if (statement.type === 'expression_statement') {
      const expression = statement.firstNamedChild;
      if (expression?.type === 'string') continue; // docstring
      if (expression?.type !== 'assignment') continue;
      const left = expression.childForFieldName('left');
      const right = expression.childForFieldName('right');
      if (left?.type !== 'identifier' || !right) throw new UnsoundModel('parse-error', `the assignment \`${shorten(expression.text)}\` in \`call\` is not read.`, expression);
      tensors.set(left.text, trace(right));
      continue;
    }
    if (statement.type === 'pass_statement') continue;
    throw new UnsoundModel('parse-error', `\`call\` uses control flow (\`${shorten(statement.text)}\`), which is only known at run time.`, statement);
  }
  if (!result) throw new UnsoundModel('parse-error', '`call` has no `return`.', call);
  return { calls: result, buildShape, commentShape: commentShapeOf(loader, cls) };
}

/** `m = MyModel(); m.build((None, 784))` anywhere in the file. */
function moduleBuildShape(loader: KerasFileLoader, className: string): CollectedLayers['buildShape'] {
  const instances = new Set<string>();
  for (const assignment of loader.rootNode.descendantsOfType('assignment')) {
    const right = assignment?.childForFieldName('right');
    const left = assignment?.childForFieldName('left');
    if (right?.type === 'call' && right.childForFieldName('function')?.text === className && left?.type === 'identifier') instances.add(left.text);
  }
  for (const call of loader.rootNode.descendantsOfType('call')) {
    const callee = call?.childForFieldName('function');
    if (!call || callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== 'build') continue;
    if (!instances.has(callee.childForFieldName('object')?.text ?? '')) continue;
    const args = loader.arguments(call);
    const shapeNode = args.keyword.get('input_shape')?.value ?? args.positional[0];
    if (shapeNode) return { value: loader.evaluate(shapeNode, loader.scopeFor(shapeNode)), node: shapeNode };
  }
  return undefined;
}

// #endregion
