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
import type { Node, Tree } from 'web-tree-sitter';
import {
  PositionIndex,
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerKind,
  type LayerSource,
  type LayerSpec,
  type LoadProblem,
  type LoadProblemCode,
  type LoadResult,
  type ModelSpec,
  type SourceSpan,
} from '../model';
import { loadFailure, readSourceFile } from './sourceFile';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// #region Public entry point

/** Loads every Keras `Sequential` model of a Python file. Never throws. */
export async function loadKerasPython(text: string, fileName: string): Promise<LoadResult> {
  return readSourceFile(text, fileName, 'python', 'keras-python', (tree, positions) => {
    const deepest = deepestNode(tree);
    if (deepest.depth > MAX_TREE_DEPTH) {
      const at = positions.span(deepest.node.startIndex, deepest.node.startIndex);
      return failure(`${fileName} nests expressions ${deepest.depth} levels deep here, more than Activation Lens reads statically (${MAX_TREE_DEPTH}).`, at);
    }
    return new KerasFileLoader(text, positions, tree.rootNode).load();
  });
}

/**
 * Syntax trees deeper than this are refused. web-tree-sitter finds a node's parent by walking
 * down from the root, so analyses that look up enclosing functions cost O(depth²) per node;
 * real model files stay far below this (a deeply nested layer list is ~40 levels).
 */
const MAX_TREE_DEPTH = 120;

/** The deepest node of a tree, found with one cursor walk (O(nodes), no parent lookups). */
function deepestNode(tree: Tree): { depth: number; node: Node } {
  const cursor = tree.walk();
  let depth = 0;
  let best = { depth: 0, node: tree.rootNode };
  for (;;) {
    if (depth > best.depth) best = { depth, node: cursor.currentNode };
    if (cursor.gotoFirstChild()) {
      depth++;
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete();
        return best;
      }
      depth--;
    }
  }
}

function failure(message: string, span: SourceSpan): LoadResult {
  return loadFailure('keras-python', message, span);
}

// #endregion

// #region Imports

/**
 * Local names bound by import statements, mapped to the dotted path they stand for:
 * `import tensorflow as tf` → tf: tensorflow; `from keras.layers import Dense as D` →
 * D: keras.layers.Dense; `import tensorflow.keras` → tensorflow: tensorflow.
 */
export type ImportTable = ReadonlyMap<string, readonly string[]>;

/** Collects every import in the file (nested ones too: lenient on purpose). */
export function collectImports(root: Node): ImportTable {
  const imports = new Map<string, readonly string[]>();
  for (const statement of root.descendantsOfType(['import_statement', 'import_from_statement'])) {
    if (!statement) continue;
    const modulePath =
      statement.type === 'import_from_statement' ? dottedText(statement.childForFieldName('module_name')) : [];
    for (const imported of statement.childrenForFieldName('name')) {
      if (!imported) continue;
      if (imported.type === 'aliased_import') {
        const alias = imported.childForFieldName('alias')?.text;
        const name = dottedText(imported.childForFieldName('name'));
        if (alias && name.length > 0) imports.set(alias, [...modulePath, ...name]);
      } else if (imported.type === 'dotted_name') {
        const name = dottedText(imported);
        if (name.length === 0) continue;
        if (statement.type === 'import_statement') imports.set(name[0], [name[0]]);
        else imports.set(name[name.length - 1], [...modulePath, ...name]);
      }
    }
  }
  return imports;
}

function dottedText(node: Node | null): string[] {
  if (!node) return [];
  if (node.type === 'relative_import') return [];
  return node.text.split('.').map((part) => part.trim());
}

/** `a.b.c` as ['a','b','c'] for identifier/attribute chains; undefined for anything else. */
function dottedParts(node: Node): string[] | undefined {
  if (node.type === 'identifier') return [node.text];
  if (node.type === 'attribute') {
    const object = node.childForFieldName('object');
    const attribute = node.childForFieldName('attribute');
    if (!object || !attribute) return undefined;
    const head = dottedParts(object);
    return head ? [...head, attribute.text] : undefined;
  }
  return undefined;
}

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
  /** A dotted name that is not a known constant, e.g. `tf.nn.relu` or an imported function. */
  | { readonly kind: 'reference'; readonly path: readonly string[] }
  /** A call that is not evaluated (layers, initialisers), kept with the scope it appeared in. */
  | { readonly kind: 'call'; readonly node: Node; readonly scope: Scope }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

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

/**
 * Simple `NAME = expr` assignments of one block (module or function body), evaluated lazily.
 * The assignment in effect is the last one before the use; at module level, a use that precedes
 * every assignment (a function body that reads a constant defined further down) takes the last.
 */
class AssignmentScope implements Scope {
  private readonly assignments = new Map<string, { offset: number; value: Node }[]>();
  private readonly evaluating = new Set<number>();

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
        this.evaluating.add(chosen.value.id);
        try {
          return this.evaluator.evaluate(chosen.value, this.parent ?? this, chosen.value.startIndex);
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
 * Expressions evaluated per file at most. Name lookups re-evaluate their assignments, so
 * pathological inputs (long chains of names built from names) could otherwise take exponential
 * time; past the budget every value is unknown and the models needing it are refused with a
 * position. Real model files use a few hundred.
 */
const MAX_EVALUATIONS = 50_000;

class Evaluator {
  private depth = 0;
  private evaluations = 0;

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
        const inner = node.namedChildren.find((child) => child && child.type !== 'comment');
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
        return bound === UNBOUND ? { kind: 'reference', path: [node.text] } : bound;
      }
      case 'attribute': {
        const parts = dottedParts(node);
        return parts ? { kind: 'reference', path: parts } : unknown(node, 'not a plain dotted name');
      }
      case 'subscript':
        return this.evaluateSubscript(node, scope, atOffset);
      case 'call':
        return this.evaluateCall(node, scope, atOffset);
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
    if (left.kind === 'number' && right.kind === 'number') {
      const a = left.value;
      const b = right.value;
      const result =
        operator === '+' ? a + b
        : operator === '-' ? a - b
        : operator === '*' ? a * b
        : operator === '/' ? a / b
        : operator === '//' ? Math.floor(a / b)
        : operator === '%' ? a - b * Math.floor(a / b)
        : operator === '**' ? a ** b
        : Number.NaN;
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
        for (let i = 0; i < count.value; i++) items.push(...sequence.items);
        return { kind: 'sequence', items };
      }
    }
    return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
  }

  private evaluateItems(node: Node, scope: Scope, atOffset: number): Value {
    const items: Value[] = [];
    for (const child of node.namedChildren) {
      if (!child || child.type === 'comment') continue;
      if (child.type === 'list_splat') {
        const inner = child.namedChildren.find((c) => c && c.type !== 'comment');
        const value = inner ? this.evaluate(inner, scope, atOffset) : unknown(child, 'empty splat');
        if (value.kind !== 'sequence') return value.kind === 'unknown' ? value : unknown(child, `\`${shorten(child.text)}\` is not a known list`);
        items.push(...value.items);
      } else {
        items.push(this.evaluate(child, scope, atOffset));
      }
    }
    return { kind: 'sequence', items };
  }

  private evaluateComprehension(node: Node, scope: Scope, atOffset: number): Value {
    const body = node.childForFieldName('body');
    const clauses = node.namedChildren.filter((child) => child && child.type !== 'comment' && child.id !== body?.id);
    if (!body || clauses.length !== 1 || clauses[0]?.type !== 'for_in_clause') {
      return unknown(node, 'only comprehensions with a single `for … in …` and no condition are read');
    }
    const clause = clauses[0];
    const target = clause.childForFieldName('left');
    const iterableNode = clause.childForFieldName('right');
    if (!target || !iterableNode) return unknown(node, 'incomplete comprehension');
    const iterable = this.evaluate(iterableNode, scope, atOffset);
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
    if (sequence.kind === 'sequence' && index.kind === 'number' && Number.isInteger(index.value)) {
      const i = index.value < 0 ? sequence.items.length + index.value : index.value;
      if (i >= 0 && i < sequence.items.length) return sequence.items[i];
    }
    return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
  }

  private evaluateCall(node: Node, scope: Scope, atOffset: number): Value {
    const callee = node.childForFieldName('function');
    const builtin = callee?.type === 'identifier' ? callee.text : undefined;
    // Python built-ins are only evaluated when the name is not rebound in the file.
    if (builtin && scope.lookup(builtin, atOffset) === UNBOUND) {
      const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter(
        (a): a is Node => !!a && a.type !== 'comment',
      );
      const values = args.map((arg) => (arg.type === 'keyword_argument' ? undefined : this.evaluate(arg, scope, atOffset)));
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
      if ((builtin === 'min' || builtin === 'max') && numbers.length >= 2 && numbers.every((n) => n !== undefined)) {
        const list = numbers as number[];
        return { kind: 'number', value: builtin === 'min' ? Math.min(...list) : Math.max(...list) };
      }
    }
    return { kind: 'call', node, scope };
  }
}

function unknown(node: Node, reason: string): Value {
  return { kind: 'unknown', node, reason };
}

function bindTarget(target: Node, value: Value): Map<string, Value> | undefined {
  if (target.type === 'identifier') return new Map([[target.text, value]]);
  if ((target.type === 'pattern_list' || target.type === 'tuple_pattern') && value.kind === 'sequence') {
    const names = target.namedChildren.filter((n): n is Node => !!n);
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
    case 'reference':
      return `\`${value.path.join('.')}\``;
    case 'call':
      return `\`${shorten(value.node.text)}\``;
    case 'unknown':
      return `\`${shorten(value.node.text)}\``;
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
  /** Functional (`keras.Model(inputs, outputs)`) and subclassed models collect their layers themselves. */
  readonly collect?: () => CollectedLayers;
}

class KerasFileLoader {
  private readonly imports: ImportTable;
  private readonly evaluator = new Evaluator();
  private readonly moduleScope: Scope;
  /** Keyed by node id: tree-sitter returns a new wrapper object for every access. */
  private readonly functionScopes = new Map<number, Scope>();
  private readonly fileProblems: LoadProblem[] = [];

  constructor(
    private readonly text: string,
    private readonly positions: PositionIndex,
    private readonly root: Node,
  ) {
    this.imports = collectImports(root);
    this.moduleScope = new AssignmentScope(this.evaluator, undefined, root, true);
  }

  load(): LoadResult {
    const syntaxError = firstSyntaxError(this.root);
    if (syntaxError) this.fileProblems.push(this.syntaxProblem(syntaxError));

    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    for (const site of this.findModelSites()) {
      const name = uniqueName(site.name, usedNames);
      try {
        models.push(this.buildModel(site, name));
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
    return sites.sort((a, b) => a.spanNode.startIndex - b.spanNode.startIndex);
  }

  /** Exposed to the functional / subclassed readers (kerasFunctional section below). */
  get rootNode(): Node {
    return this.root;
  }

  get importTable(): ImportTable {
    return this.imports;
  }

  siteFor(call: Node, collect: () => CollectedLayers, spanNode?: Node, name?: string): ModelSite {
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
      for (const parameter of fn.childForFieldName('parameters')?.namedChildren ?? []) {
        if (!parameter) continue;
        const nameNode =
          parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? parameter.firstNamedChild);
        if (!nameNode || nameNode.type !== 'identifier') continue;
        const defaultNode = parameter.childForFieldName('value');
        // A parameter's default is what the function builds when called without it: read it.
        parameters.set(
          nameNode.text,
          defaultNode
            ? this.evaluator.evaluate(defaultNode, this.moduleScope)
            : unknown(nameNode, `\`${nameNode.text}\` is a parameter of \`${fnName}\`, known only at run time`),
        );
      }
      const body = fn.childForFieldName('body');
      const withParameters = new ValueScope(this.scopeAt(fn), parameters);
      scope = body ? new AssignmentScope(this.evaluator, withParameters, body, false) : withParameters;
      this.functionScopes.set(fn.id, scope);
    }
    return scope;
  }

  // #endregion

  // #region Building one model

  private buildModel(site: ModelSite, name: string): ModelSpec {
    if (site.call.hasError || site.spanNode.hasError) {
      throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', site.call);
    }
    const problems: LoadProblem[] = [];
    const calls: LayerCall[] = [];
    let buildShape: { value: Value; node: Node } | undefined;

    let commentShape: CollectedLayers['commentShape'];
    const listNode = site.collect ? undefined : this.layerListArgument(site.call);
    if (listNode) calls.push(...this.layerCallsOf(listNode, site.scope));
    if (site.collect) {
      const collected = site.collect();
      calls.push(...collected.calls);
      buildShape = collected.buildShape;
      commentShape = collected.commentShape;
    } else if (site.addChain) {
      const chain = this.collectAddChain(site.addChain, site.scope);
      calls.push(...chain.calls);
      buildShape = chain.buildShape;
    }

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
    return {
      name,
      format: 'keras-python',
      inputShape: builder.inputShape,
      layers: builder.layers,
      span: this.span(site.spanNode),
      problems,
    };
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
    return value.items.map((item) => this.asLayerCall(item, listNode));
  }

  private asLayerCall(item: Value, fallbackNode: Node): LayerCall {
    if (item.kind === 'call') return { node: item.node, scope: item.scope };
    const node = item.kind === 'unknown' ? item.node : fallbackNode;
    const reason = item.kind === 'unknown' ? item.reason : `${describeValue(item)} is not a layer call`;
    throw new UnsoundModel('parse-error', `a layer cannot be read statically: ${reason}.`, node);
  }

  /** Follows `<target>.add(...)`, `for` loops over known sequences and `<target>.build(...)`. */
  private collectAddChain(
    chain: { target: string; statement: Node; block: Node },
    scope: Scope,
  ): { calls: LayerCall[]; buildShape?: { value: Value; node: Node } } {
    const calls: LayerCall[] = [];
    let buildShape: { value: Value; node: Node } | undefined;
    let reassigned = false;

    const visit = (statements: readonly Node[], currentScope: Scope): void => {
      for (const statement of statements) {
        if (reassigned) return;
        if (statement.type === 'expression_statement') {
          const expression = statement.firstNamedChild;
          if (expression?.type === 'assignment' && expression.childForFieldName('left')?.text === chain.target) {
            reassigned = true;
            return;
          }
          const method = expression?.type === 'call' ? this.methodCallOn(expression, chain.target) : undefined;
          if (!method || !expression) continue;
          if (statement.hasError) throw new UnsoundModel('parse-error', 'a layer added to it contains a syntax error.', statement);
          const args = this.arguments(expression);
          if (method === 'add') {
            const layerNode = args.keyword.get('layer')?.value ?? args.positional[0];
            if (!layerNode) continue;
            calls.push(this.asLayerCall(this.evaluator.evaluate(layerNode, currentScope), layerNode));
          } else if (method === 'build') {
            const shapeNode = args.keyword.get('input_shape')?.value ?? args.positional[0];
            if (shapeNode) buildShape = { value: this.evaluator.evaluate(shapeNode, currentScope), node: shapeNode };
          }
        } else if (statement.type === 'for_statement' && this.mentionsAdd(statement, chain.target)) {
          const target = statement.childForFieldName('left');
          const iterableNode = statement.childForFieldName('right');
          const body = statement.childForFieldName('body');
          if (!target || !iterableNode || !body) continue;
          const iterable = this.evaluator.evaluate(iterableNode, currentScope);
          if (iterable.kind !== 'sequence') {
            throw new UnsoundModel('parse-error', `the loop over \`${shorten(iterableNode.text)}\` that adds layers is only known at run time.`, iterableNode);
          }
          for (const element of iterable.items) {
            const bindings = bindTarget(target, element);
            if (!bindings) throw new UnsoundModel('parse-error', 'only simple loop variables are read.', target);
            visit(namedStatements(body), new ValueScope(currentScope, bindings));
          }
        } else if (statement.type === 'if_statement' && this.mentionsAdd(statement, chain.target)) {
          const condition = statement.childForFieldName('condition');
          const value = condition ? this.evaluator.evaluate(condition, currentScope) : undefined;
          const truth = value && truthiness(value);
          if (truth === undefined) {
            throw new UnsoundModel('parse-error', `layers are added under a condition (\`${shorten(condition?.text ?? '')}\`) that is only known at run time.`, statement);
          }
          if (truth) {
            const body = statement.childForFieldName('consequence');
            if (body) visit(namedStatements(body), currentScope);
          } else {
            const alternative = statement.childForFieldName('alternative');
            const body = alternative?.type === 'else_clause' ? alternative.childForFieldName('body') : undefined;
            if (alternative && !body) {
              throw new UnsoundModel('parse-error', '`elif` chains that add layers are not read.', alternative);
            }
            if (body) visit(namedStatements(body), currentScope);
          }
        } else if (statement.type === 'with_statement') {
          const body = statement.childForFieldName('body');
          if (body) visit(namedStatements(body), currentScope);
        }
      }
    };

    const siblings = namedStatements(chain.block);
    const start = siblings.findIndex((statement) => statement.startIndex >= chain.statement.endIndex);
    if (start >= 0) visit(siblings.slice(start), scope);
    return { calls, buildShape };
  }

  private methodCallOn(call: Node, target: string): string | undefined {
    const callee = call.childForFieldName('function');
    if (callee?.type !== 'attribute') return undefined;
    if (callee.childForFieldName('object')?.text !== target) return undefined;
    return callee.childForFieldName('attribute')?.text;
  }

  private mentionsAdd(statement: Node, target: string): boolean {
    return statement.descendantsOfType('call').some((call) => !!call && this.methodCallOn(call, target) === 'add');
  }

  // #endregion

  // #region Helpers used by the layer builder

  arguments(call: Node): Arguments {
    const positional: Node[] = [];
    const keyword = new Map<string, { argument: Node; value: Node }>();
    for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
      if (!argument || argument.type === 'comment') continue;
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

// #region Turning layer calls into LayerSpecs

class LayerListBuilder {
  readonly layers: LayerSpec[] = [];
  /** The call node of each layer, parallel to `layers`, for shape-check positions. */
  readonly layerNodes: Node[] = [];
  inputShape: number[] | undefined;
  private readonly nameCounts = new Map<string, number>();
  private readonly usedNames = new Set<string>();

  constructor(
    private readonly loader: KerasFileLoader,
    private readonly problems: LoadProblem[],
  ) {}

  add({ node, scope, activationOp }: LayerCall): void {
    if (activationOp) {
      this.addActivationOp(node, activationOp.activation, activationOp.callee);
      return;
    }
    if (node.hasError) throw new UnsoundModel('parse-error', 'a layer definition contains a syntax error.', node);
    const layerClass = this.loader.layerClassOf(node);
    const known = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className) : undefined;
    const args = this.loader.arguments(node);
    const read = new ArgumentReader(this.loader, args, scope, node, this.problems);

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

    if (known.key === 'input') {
      if (this.layers.length > 0 || this.inputShape) {
        throw new UnsoundModel('parse-error', 'an input layer appears after other layers.', node);
      }
      const shapeArg =
        read.node('shape', 0) ?? read.node('input_shape') ?? read.node('batch_shape') ?? read.node('batch_input_shape');
      if (!shapeArg) throw new UnsoundModel('parse-error', 'its input layer has no `shape=`.', node);
      const withBatch = shapeArg === read.node('batch_shape') || shapeArg === read.node('batch_input_shape');
      this.inputShape = this.loader.shapeFrom(this.loader.evaluate(shapeArg, scope), shapeArg, withBatch);
      return;
    }

    if (this.layers.length === 0 && !this.inputShape) this.inputShape = this.firstLayerInputShape(read, scope);

    const spec = this.buildLayer(known.key, read);
    const explicitName = read.optionalString('name');
    const name = this.uniqueLayerName(explicitName ?? known.autoName, explicitName === undefined);
    this.layers.push({ index: this.layers.length, name, ...spec, source: read.source() });
    this.layerNodes.push(node);
  }

  /**
   * An activation function applied in `call` (`tf.nn.relu(h)`): a standalone activation layer
   * whose span is the function reference (`tf.nn.relu`). Quick fixes do not rewrite these (the
   * span is not a layer call), so the fix engine refuses them; the diagnosis is unaffected.
   */
  private addActivationOp(node: Node, activation: ActivationSpec, callee: Node): void {
    const name = this.uniqueLayerName('activation', true);
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

  private buildLayer(key: Exclude<LayerClassKey, 'input'>, read: ArgumentReader): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    switch (key) {
      case 'dense':
        return {
          kind: 'dense',
          units: read.requiredPositiveInteger('units', 0),
          activation: read.activation('activation', undefined),
          useBias: read.optionalBool('use_bias') ?? true,
          kernelInitializer: read.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: read.initializer('bias_initializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = key === 'conv1d' ? 1 : 2;
        return {
          kind: key,
          filters: read.requiredPositiveInteger('filters', 0),
          kernelSize: read.requiredTuple('kernel_size', 1, rank),
          strides: read.tuple('strides', 2, rank) ?? new Array<number>(rank).fill(1),
          padding: read.padding(),
          activation: read.activation('activation', undefined),
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
        const poolSize = read.tuple('pool_size', 0, rank) ?? new Array<number>(rank).fill(2);
        return {
          kind: key,
          poolSize,
          // Keras: strides=None means strides = pool_size.
          strides: read.tuple('strides', 1, rank) ?? poolSize,
          padding: read.padding(2),
          activation: { name: 'linear' },
        };
      }
      case 'flatten':
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        return { kind: key, activation: { name: 'linear' } };
      case 'dropout':
        return { kind: 'dropout', rate: read.optionalNumber('rate', 0) ?? 0.5, activation: { name: 'linear' } };
      case 'batchNorm':
        return {
          kind: 'batchNorm',
          momentum: read.optionalNumber('momentum', 1) ?? 0.99,
          epsilon: read.optionalNumber('epsilon', 2) ?? 0.001,
          activation: { name: 'linear' },
        };
      case 'activationLayer':
        return { kind: 'activation', activation: read.activation('activation', 0) };
      case 'relu':
      case 'leakyRelu':
      case 'prelu':
      case 'elu':
      case 'softmax':
        return { kind: 'activation', activation: read.activationLayer(key) };
    }
  }

  private uniqueLayerName(base: string, auto: boolean): string {
    // Keras auto-names: dense, dense_1, dense_2, …
    let name = base;
    if (auto) {
      const count = this.nameCounts.get(base) ?? 0;
      this.nameCounts.set(base, count + 1);
      name = count === 0 ? base : `${base}_${count}`;
    }
    let candidate = name;
    for (let i = 1; this.usedNames.has(candidate); i++) candidate = `${name}_${i}`;
    this.usedNames.add(candidate);
    return candidate;
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

  private note(node: Node, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node) });
  }

  requiredPositiveInteger(keyword: string, position: number): number {
    const arg = this.value(keyword, position);
    if (!arg) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    if (arg.value.kind !== 'number' || !Number.isInteger(arg.value.value) || arg.value.value <= 0) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'a positive integer')}.`, arg.node);
    }
    return arg.value.value;
  }

  requiredTuple(keyword: string, position: number, rank: number): number[] {
    const tuple = this.tuple(keyword, position, rank);
    if (!tuple) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    return tuple;
  }

  /** An int (repeated `rank` times) or a tuple of `rank` positive ints; undefined when absent or None. */
  tuple(keyword: string, position: number, rank: number): number[] | undefined {
    const arg = this.value(keyword, position);
    if (!arg || arg.value.kind === 'none') return undefined;
    const items = arg.value.kind === 'number' ? new Array<Value>(rank).fill(arg.value) : arg.value.kind === 'sequence' ? arg.value.items : [];
    const numbers = items.map((item) => (item.kind === 'number' && Number.isInteger(item.value) && item.value > 0 ? item.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, rank === 1 ? 'a positive integer' : `${rank} positive integers`)}.`, arg.node);
    }
    return numbers as number[];
  }

  padding(position = 3): 'valid' | 'same' {
    const arg = this.value('padding', position);
    if (!arg) return 'valid';
    if (arg.value.kind === 'string' && (arg.value.value.toLowerCase() === 'valid' || arg.value.value.toLowerCase() === 'same')) {
      return arg.value.value.toLowerCase() as 'valid' | 'same';
    }
    throw new UnsoundModel('parse-error', `${this.unresolvedMessage('padding', arg.value, '"valid" or "same"')}.`, arg.node);
  }

  optionalNumber(keyword: string, position?: number): number | undefined {
    const arg = this.value(keyword, position);
    if (!arg) return undefined;
    if (arg.value.kind === 'number') return arg.value.value;
    this.note(arg.node, `${this.unresolvedMessage(keyword, arg.value, 'a number')}; the Keras default is used.`);
    return undefined;
  }

  optionalBool(keyword: string): boolean | undefined {
    const arg = this.value(keyword);
    if (!arg) return undefined;
    if (arg.value.kind === 'bool') return arg.value.value;
    this.note(arg.node, `${this.unresolvedMessage(keyword, arg.value, 'True or False')}; the Keras default is used.`);
    return undefined;
  }

  optionalString(keyword: string): string | undefined {
    const arg = this.value(keyword);
    if (!arg || arg.value.kind === 'none') return undefined;
    if (arg.value.kind === 'string') return arg.value.value;
    this.note(arg.node, `${this.unresolvedMessage(keyword, arg.value, 'a string')}; an automatic name is used.`);
    return undefined;
  }

  /** The `activation` argument of Dense/Conv/Activation; records its spans. Absent → linear. */
  activation(keyword: string, position: number | undefined): ActivationSpec {
    const arg = this.value(keyword, position);
    if (!arg) return { name: 'linear' };
    const argumentNode = this.argumentNode(keyword, position) ?? arg.node;
    this.spans.activationArgumentSpan = this.loader.span(argumentNode);
    this.spans.activationValueSpan = this.loader.span(arg.node);
    const activation = this.activationFromValue(arg.value);
    if (activation) return activation;
    this.note(arg.node, `The activation ${describeValue(arg.value)} is not recognised; the layer is diagnosed as linear.`, 'unsupported-layer');
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
      if (key === 'relu' || key === 'leakyRelu' || key === 'prelu' || key === 'elu' || key === 'softmax') {
        const nested = new ArgumentReader(this.loader, this.loader.arguments(value.node), value.scope, value.node, this.problems);
        return nested.activationLayer(key);
      }
    }
    return undefined;
  }

  /** The activation of a standalone ReLU / LeakyReLU / PReLU / ELU / Softmax layer. */
  activationLayer(key: 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'softmax'): ActivationSpec {
    switch (key) {
      case 'relu': {
        const maxValue = this.optionalNumber('max_value', 0);
        const slope = this.optionalNumber('negative_slope', 1) ?? 0;
        const threshold = this.optionalNumber('threshold', 2) ?? 0;
        if (threshold !== 0) this.note(this.node('threshold', 2) ?? this.call, `ReLU(threshold=${threshold}) is diagnosed as a plain ReLU.`, 'unsupported-layer');
        if (slope > 0) {
          if (maxValue !== undefined) this.note(this.call, 'ReLU with both max_value and negative_slope is diagnosed as a leaky ReLU without the cap.', 'unsupported-layer');
          return { name: 'leakyRelu', alpha: slope };
        }
        if (maxValue === 6) return { name: 'relu6' };
        if (maxValue !== undefined) this.note(this.node('max_value', 0) ?? this.call, `ReLU(max_value=${maxValue}) is diagnosed as a plain ReLU (only 6 is modelled).`, 'unsupported-layer');
        return { name: 'relu' };
      }
      case 'leakyRelu': {
        // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
        const slope = this.args.keyword.has('negative_slope')
          ? this.optionalNumber('negative_slope')
          : this.optionalNumber('alpha', 0);
        return { name: 'leakyRelu', alpha: slope ?? 0.3 };
      }
      case 'elu':
        return { name: 'elu', alpha: this.optionalNumber('alpha', 0) ?? 1 };
      case 'prelu': {
        // The learned slope starts at alpha_initializer (Keras default: zeros).
        const init = this.node('alpha_initializer', 0);
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

/**
 * Checks that each layer gets an input of the rank it needs and that no spatial dimension
 * shrinks below 1, so a returned model can always be built.
 */
function checkShapes(inputShape: readonly number[], layers: readonly LayerSpec[], nodes: readonly Node[]): void {
  const error = shapeError(inputShape, layers);
  if (error) throw new UnsoundModel('parse-error', error.message, nodes[error.index]);
}

/**
 * The first layer that cannot take its input (wrong rank, a dimension shrunk below 1), or
 * undefined when the chain can be built. Shared by every loader (issue 3).
 */
export function shapeError(inputShape: readonly number[], layers: readonly LayerSpec[]): { index: number; message: string } | undefined {
  let shape = [...inputShape];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const rankError = (rank: number, what: string): string | undefined =>
      shape.length !== rank
        ? `layer \`${layer.name}\` (${what}) needs an input of rank ${rank} (excluding the batch), but gets shape (${shape.join(', ')}).`
        : undefined;
    let message: string | undefined;
    const spatial = (sizes: readonly number[], strides: readonly number[], padding: 'valid' | 'same' | undefined): number[] =>
      sizes.map((size, d) => {
        const input = shape[d];
        const out = padding === 'same' ? Math.ceil(input / (strides[d] ?? 1)) : Math.floor((input - size) / (strides[d] ?? 1)) + 1;
        if (!(out >= 1)) message ??= `layer \`${layer.name}\` shrinks dimension ${d + 1} (size ${input}) below 1.`;
        return out;
      });
    switch (layer.kind) {
      case 'dense':
        shape = [...shape.slice(0, -1), layer.units ?? 0];
        break;
      case 'conv1d':
      case 'conv2d': {
        message = rankError(layer.kind === 'conv1d' ? 2 : 3, layer.kind);
        if (!message) shape = [...spatial(layer.kernelSize ?? [], layer.strides ?? [], layer.padding), layer.filters ?? 0];
        break;
      }
      case 'maxPool1d':
      case 'avgPool1d':
      case 'maxPool2d':
      case 'avgPool2d': {
        message = rankError(layer.kind.endsWith('1d') ? 2 : 3, layer.kind);
        if (!message) shape = [...spatial(layer.poolSize ?? [], layer.strides ?? [], layer.padding), shape[shape.length - 1]];
        break;
      }
      case 'globalAvgPool1d':
        message = rankError(2, layer.kind);
        shape = [shape[shape.length - 1]];
        break;
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        message = rankError(3, layer.kind);
        shape = [shape[shape.length - 1]];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      default:
        break;
    }
    if (message) return { index: i, message };
  }
  return undefined;
}

// #endregion

// #region Small tree helpers

function firstSyntaxError(node: Node): Node | undefined {
  if (node.isError || node.isMissing) return node;
  if (!node.hasError) return undefined;
  for (const child of node.children) {
    if (!child) continue;
    const found = firstSyntaxError(child);
    if (found) return found;
  }
  return undefined;
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
  while (current?.type === 'parenthesized_expression') current = current.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
  return current;
}

function namedStatements(block: Node): Node[] {
  return block.namedChildren.filter((child): child is Node => !!child && child.type !== 'comment');
}

function returnsName(fn: Node, name: string): boolean {
  return fn
    .descendantsOfType('return_statement')
    .some((statement) => statement?.firstNamedChild?.text === name && ancestorOfType(statement, 'function_definition')?.id === fn.id);
}

function truthiness(value: Value): boolean | undefined {
  switch (value.kind) {
    case 'bool':
      return value.value;
    case 'number':
      return value.value !== 0;
    case 'string':
      return value.value.length > 0;
    case 'none':
      return false;
    case 'sequence':
      return value.items.length > 0;
    default:
      return undefined;
  }
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

/** The statement block (module or function body) a node's statement belongs to. */
function enclosingBlock(node: Node): Node | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'block' || current.type === 'module') return current;
  }
  return undefined;
}

/** `NAME = expr` statements of one block, in order. */
function blockAssignments(block: Node): { name: string; start: number; end: number; value: Node }[] {
  const list: { name: string; start: number; end: number; value: Node }[] = [];
  for (const statement of block.namedChildren) {
    if (statement?.type !== 'expression_statement') continue;
    const assignment = statement.firstNamedChild;
    const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : null;
    const right = assignment?.childForFieldName('right');
    if (left?.type === 'identifier' && right) list.push({ name: left.text, start: assignment!.startIndex, end: assignment!.endIndex, value: right });
  }
  return list;
}

/** `[x]` / `(x,)` → x; a single expression stays; several → a multi-input/-output model. */
function singleTensor(node: Node, what: string): Node {
  const inner = skipParenthesesDown(node) ?? node;
  if (inner.type === 'list' || inner.type === 'tuple') {
    const items = inner.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment');
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
    sites.push(loader.siteFor(call, () => ({ calls: traceFunctional(loader, call) })));
  }
  return sites;
}

/**
 * Follows `outputs` back to `keras.Input(...)` through `x = Layer(...)(x)` assignments of the
 * block the Model call is in (and nested applications `Dense(10)(Dense(64)(x))`).
 */
function traceFunctional(loader: KerasFileLoader, modelCall: Node): LayerCall[] {
  const args = loader.arguments(modelCall);
  const inputsNode = args.keyword.get('inputs')?.value ?? args.positional[0];
  const outputsNode = args.keyword.get('outputs')?.value ?? args.positional[1];
  if (!inputsNode || !outputsNode) throw new UnsoundModel('parse-error', '`keras.Model(...)` needs both `inputs` and `outputs`.', modelCall);
  const block = enclosingBlock(modelCall);
  const assignments = block ? blockAssignments(block) : [];
  const assignedBefore = (name: string, offset: number) => assignments.filter((a) => a.name === name && a.end <= offset).pop();

  const resolveInputCall = (node: Node): Node | undefined => {
    let current: Node | undefined = skipParenthesesDown(singleTensor(node, 'inputs')) ?? undefined;
    for (let i = 0; current?.type === 'identifier' && i < 100; i++) current = skipParenthesesDown(assignedBefore(current.text, modelCall.startIndex)?.value ?? null) ?? undefined;
    return current?.type === 'call' ? current : undefined;
  };

  const chain: LayerCall[] = [];
  let current: Node = singleTensor(outputsNode, 'outputs');
  let at = modelCall.startIndex;
  for (let steps = 0; ; steps++) {
    if (steps > MAX_CHAIN) throw new UnsoundModel('parse-error', 'its layer chain is too long to follow.', modelCall);
    current = skipParenthesesDown(current) ?? current;
    if (current.type === 'identifier') {
      const assignment = assignedBefore(current.text, at);
      if (!assignment) {
        throw new UnsoundModel('parse-error', `the tensor \`${current.text}\` is not assigned in the same block before it is used, so the layer chain cannot be followed.`, current);
      }
      at = assignment.start;
      current = assignment.value;
      continue;
    }
    if (current.type !== 'call') {
      throw new UnsoundModel('parse-error', `\`${shorten(current.text)}\` is not a layer applied to a tensor.`, current);
    }
    const callee = skipParenthesesDown(current.childForFieldName('function'));
    const applied = loader.arguments(current);
    let constructor: { node: Node; scope: Scope } | undefined;
    if (callee?.type === 'call') {
      constructor = { node: callee, scope: loader.scopeFor(callee) };
    } else if (callee?.type === 'identifier') {
      // A layer instance bound to a name: `dense = layers.Dense(64)` … `x = dense(x)`.
      const value = loader.evaluate(callee, loader.scopeFor(current));
      if (value.kind === 'call') constructor = { node: value.node, scope: value.scope };
    }
    const layerClass = loader.layerClassOf(constructor?.node ?? current);
    if (layerClass?.keras && MERGE_LAYERS.has(layerClass.className)) {
      throw new UnsoundModel(
        'unsupported-layer',
        `\`${layerClass.className}\` merges branches; only linear chains of layers are read (the model is not diagnosed).`,
        constructor?.node ?? current,
      );
    }
    if (!constructor) {
      const key = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className)?.key : undefined;
      if (key === 'input') {
        chain.push({ node: current, scope: loader.scopeFor(current) });
        break;
      }
      throw new UnsoundModel('parse-error', `\`${shorten(current.text)}\` is not a Keras layer applied to a tensor.`, current);
    }
    const input = applied.keyword.get('inputs')?.value ?? applied.positional[0];
    if (!input) throw new UnsoundModel('parse-error', `the layer \`${shorten(constructor.node.text)}\` is applied to no tensor.`, current);
    const inputInner = skipParenthesesDown(input) ?? input;
    if (inputInner.type === 'list' || inputInner.type === 'tuple') {
      throw new UnsoundModel('unsupported-layer', `\`${shorten(constructor.node.text)}\` takes several tensors; only linear chains are read.`, inputInner);
    }
    chain.push(constructor);
    current = input;
  }
  chain.reverse();
  const declaredInput = resolveInputCall(inputsNode);
  if (declaredInput && declaredInput.id !== chain[0].node.id) {
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

  const parameters = (call.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => !!p);
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
      return [...trace(input), { node: value.node, scope: value.scope }];
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
      const value = statement.firstNamedChild;
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
