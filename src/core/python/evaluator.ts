/**
 * Expressions of the shared static Python evaluator (issue 12): constants, arithmetic with
 * Python semantics, chained comparisons, and/or/not, conditional expressions, f-strings,
 * list/tuple/set/dict literals and comprehensions, subscripts and slices, attributes, the
 * builtins that compute constants, and calls of the file's own functions and classes. Anything
 * else is offered to the framework's host (host.ts) or becomes an `unknown` value with the node
 * and the reason. Never runs the user's code; one step budget (values.ts Budget), no clock.
 */
import type { Node } from 'web-tree-sitter';
import { pythonArithmetic, pythonTruthiness } from './bindings';
import { dictGet, dictSet, type DictEntry } from './dicts';
import type { ImportTable } from './imports';
import type { CallArguments, HostCall, PythonHost } from './host';
import { Env } from './scope';
import { constantText, formatSpec, mathFunction, numeric, percentFormat, unescape } from './formatting';
import {
  Budget,
  PythonBudgetExceeded,
  list,
  num,
  position,
  shorten,
  str,
  unknown,
  type ClassValue,
  type FunctionValue,
  type ObjectValue,
  type Scope,
  type Value,
} from './values';

/** Longest list, string or dict the evaluator builds (a bigger one is unknown, not a stall). */
export const MAX_SEQUENCE = 10_000;

/** Builtins computed from their arguments' values (when the name is not bound in the file). */
export const VALUE_BUILTINS = new Set([
  'range', 'len', 'int', 'float', 'str', 'bool', 'min', 'max', 'abs', 'round', 'sum', 'list', 'tuple', 'set',
  'sorted', 'reversed', 'enumerate', 'zip', 'dict', 'isinstance', 'getattr', 'hasattr', 'divmod',
]);

export interface EvaluatorOptions<H> {
  readonly imports: ImportTable;
  readonly budget: Budget;
  /** Deepest expression nesting followed (MAX_PYTHON_NESTING). */
  readonly maxNesting: number;
  readonly host?: PythonHost<H>;
  /** Conventional aliases for files without imports (`nn` → torch.nn). */
  readonly aliases?: ReadonlyMap<string, readonly string[]>;
}

/** Runs a function of the file with bound arguments and returns what it returns (the interpreter). */
export type Invoke<H> = (fn: FunctionValue<H>, args: CallArguments<H>, call: Node) => Value<H>;

export class PythonEvaluator<H> {
  private depth = 0;
  readonly host: PythonHost<H>;
  /** Set by the interpreter: runs a def's body. */
  invoke: Invoke<H> | undefined;
  /** Set by the interpreter: a module-level name of a workspace module (`config.HIDDEN`), or undefined. */
  moduleAttribute: ((modulePath: readonly string[], name: string, node: Node) => Value<H> | undefined) | undefined;

  constructor(readonly options: EvaluatorOptions<H>) {
    this.host = options.host ?? {};
  }

  get budget(): Budget {
    return this.options.budget;
  }

  /** The value of an expression in a scope. Throws PythonBudgetExceeded when the budget or the nesting limit runs out. */
  evaluate(node: Node, scope: Scope<H>): Value<H> {
    if (this.depth >= this.options.maxNesting) {
      throw new PythonBudgetExceeded(node, `\`${shorten(node.text)}\` (${position(node)}) is nested more than ${this.options.maxNesting} levels deep to read statically.`);
    }
    this.depth++;
    try {
      this.budget.tick(node);
      return this.evaluateNode(node, scope);
    } finally {
      this.depth--;
    }
  }

  /** Resolves a dotted path through the imports: `nn.Linear` with `from torch import nn` → torch.nn.Linear. */
  resolve(path: readonly string[]): string[] {
    const imported = this.options.imports.get(path[0]) ?? this.options.aliases?.get(path[0]);
    return imported ? [...imported, ...path.slice(1)] : [...path];
  }

  /** The elements `for x in value` visits, when known (a dict visits its keys, a string its characters). */
  iterate(value: Value<H>): readonly Value<H>[] | undefined {
    switch (value.kind) {
      case 'sequence':
        return value.items;
      case 'dict':
        return value.entries.map((entry) => keyValue<H>(entry.key));
      case 'string':
        return value.value.length <= MAX_SEQUENCE ? [...value.value].map((c) => str(c)) : undefined;
      case 'host':
        return this.host.iterate?.(value.host);
      default:
        return undefined;
    }
  }

  truth(value: Value<H>): boolean | undefined {
    if (value.kind === 'sequence') return value.items.length > 0;
    if (value.kind === 'function' || value.kind === 'class' || value.kind === 'object') return true;
    return pythonTruthiness(value as { kind: string });
  }

  private evaluateNode(node: Node, scope: Scope<H>): Value<H> {
    switch (node.type) {
      case 'integer':
      case 'float':
        return numberLiteral(node);
      case 'true':
        return { kind: 'bool', value: true };
      case 'false':
        return { kind: 'bool', value: false };
      case 'none':
        return { kind: 'none' };
      case 'ellipsis':
        return { kind: 'reference', path: ['Ellipsis'] };
      case 'string':
        return this.string(node, scope);
      case 'concatenated_string': {
        let text = '';
        for (const part of codeChildren(node)) {
          const value = this.evaluate(part, scope);
          if (value.kind !== 'string') return value.kind === 'unknown' ? value : unknown(node, 'not a plain string');
          text += value.value;
        }
        return str(text);
      }
      case 'parenthesized_expression': {
        const inner = codeChildren(node)[0];
        return inner ? this.evaluate(inner, scope) : unknown(node, 'empty parentheses');
      }
      case 'unary_operator':
        return this.unary(node, scope);
      case 'not_operator': {
        const operand = node.childForFieldName('argument');
        const value = operand ? this.evaluate(operand, scope) : unknown(node, 'incomplete expression');
        const truth = this.truth(value);
        return truth === undefined ? unknownBecause(node, value) : { kind: 'bool', value: !truth };
      }
      case 'boolean_operator': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        const operator = node.childForFieldName('operator')?.text;
        if (!left || !right) return unknown(node, 'incomplete expression');
        const l = this.evaluate(left, scope);
        const truth = this.truth(l);
        if (truth === undefined) return unknownBecause(node, l);
        if (operator === 'and') return truth ? this.evaluate(right, scope) : l;
        return truth ? l : this.evaluate(right, scope);
      }
      case 'comparison_operator':
        return this.comparison(node, scope);
      case 'conditional_expression': {
        const [body, condition, alternative] = codeChildren(node);
        if (!body || !condition || !alternative) return unknown(node, 'incomplete expression');
        const test = this.evaluate(condition, scope);
        const truth = this.truth(test);
        if (truth === undefined) return unknown(node, `the condition \`${shorten(condition.text)}\` is only known at run time`);
        return this.evaluate(truth ? body : alternative, scope);
      }
      case 'binary_operator':
        return this.binaryNode(node, scope);
      case 'list':
        return this.items(node, scope, 'list');
      case 'tuple':
      case 'expression_list':
        return this.items(node, scope, 'tuple');
      case 'set':
        return this.items(node, scope, 'set');
      case 'dictionary':
        return this.dictionary(node, scope);
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension':
      case 'dictionary_comprehension':
        return this.comprehension(node, scope);
      case 'identifier':
        return this.identifier(node, scope);
      case 'attribute':
        return this.attributeNode(node, scope);
      case 'subscript':
        return this.subscriptNode(node, scope);
      case 'call':
        return this.call(node, scope);
      case 'lambda':
        return { kind: 'function', node, scope };
      case 'named_expression': {
        const value = node.childForFieldName('value');
        return value ? this.evaluate(value, scope) : unknown(node, 'incomplete expression');
      }
      case 'keyword_argument':
      case 'list_splat':
      case 'dictionary_splat':
      default:
        return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
    }
  }

  private identifier(node: Node, scope: Scope<H>): Value<H> {
    const bound = scope.lookup(node.text);
    if (bound) return bound;
    if (node.text === '__name__') return str('__main__');
    const imported = this.options.imports.get(node.text);
    if (imported && imported.length > 1) {
      // `from config import HIDDEN`: a module-level constant of a workspace module, when readable.
      const fromModule = this.moduleAttribute?.(imported.slice(0, -1), imported[imported.length - 1], node);
      if (fromModule) return fromModule;
    }
    return { kind: 'reference', path: this.resolve([node.text]) };
  }

  private string(node: Node, scope: Scope<H>): Value<H> {
    let text = '';
    for (const part of node.namedChildren) {
      if (!part) continue;
      if (part.type === 'string_content' || part.type === 'escape_sequence') text += part.type === 'escape_sequence' ? unescape(part.text) : part.text;
      else if (part.type === 'interpolation') {
        const expression = part.childForFieldName('expression') ?? codeChildren(part)[0];
        if (!expression) return unknown(part, 'an empty f-string field');
        const value = this.evaluate(expression, scope);
        if (value.kind === 'unknown') return unknown(node, `the f-string field \`${shorten(part.text)}\` is only known at run time`);
        const format = part.namedChildren.find((c) => c?.type === 'format_specifier');
        const formatted = format ? formatSpec(value, format.text.replace(/^:/, '')) : constantText(value);
        if (formatted === undefined) return unknown(part, `the f-string field \`${shorten(part.text)}\` cannot be formatted statically`);
        text += formatted;
      }
    }
    if (text.length > MAX_SEQUENCE * 10) return unknown(node, 'the string is too long');
    return str(text);
  }

  private unary(node: Node, scope: Scope<H>): Value<H> {
    const operand = node.childForFieldName('argument');
    const operator = node.childForFieldName('operator')?.text;
    const value = operand ? this.evaluate(operand, scope) : unknown(node, 'incomplete expression');
    const n = numeric(value);
    if (n === undefined) return value.kind === 'unknown' || value.kind === 'host' ? value : unknown(node, `\`${shorten(node.text)}\` is not a number`);
    const float = value.kind === 'number' && value.float;
    if (operator === '-') return num(-n, float);
    if (operator === '+') return num(n, float);
    if (operator === '~' && Number.isInteger(n)) return num(~n);
    return unknown(node, `operator ${operator ?? '?'} is not evaluated`);
  }

  /** `a < b < c` is `a < b and b < c` (b evaluated once), as Python defines it. */
  private comparison(node: Node, scope: Scope<H>): Value<H> {
    const operands = codeChildren(node);
    const operators: string[] = [];
    let pending: string[] = [];
    for (const child of node.children) {
      if (!child) continue;
      if (child.isNamed && !isExtra(child)) {
        if (pending.length > 0) operators.push(pending.join(' '));
        pending = [];
      } else if (!child.isNamed) pending.push(child.text);
    }
    if (operands.length < 2 || operators.length !== operands.length - 1) return unknown(node, 'incomplete comparison');
    let left = this.evaluate(operands[0], scope);
    for (let i = 0; i < operators.length; i++) {
      const right = this.evaluate(operands[i + 1], scope);
      const result = this.compare(operators[i], left, right);
      if (result === undefined) {
        const blocking = left.kind === 'unknown' ? left : right.kind === 'unknown' ? right : undefined;
        return blocking ? unknown(node, `\`${shorten(node.text)}\` depends on ${shorten(blocking.node.text)}, which ${blocking.reason.startsWith('`') ? `is unknown: ${blocking.reason}` : blocking.reason}`) : unknown(node, `\`${shorten(node.text)}\` is not known statically`);
      }
      if (!result) return { kind: 'bool', value: false };
      left = right;
    }
    return { kind: 'bool', value: true };
  }

  /** One comparison of two values; undefined when not known statically. */
  compare(operator: string, a: Value<H>, b: Value<H>): boolean | undefined {
    if (operator === 'in' || operator === 'not in') {
      const found = this.contains(b, a);
      return found === undefined ? undefined : operator === 'in' ? found : !found;
    }
    if (operator === 'is' || operator === 'is not') {
      let same: boolean | undefined;
      if (a.kind === 'none' || b.kind === 'none') same = a.kind === 'unknown' || b.kind === 'unknown' ? undefined : a.kind === b.kind;
      else if (a.kind === 'bool' && b.kind === 'bool') same = a.value === b.value;
      else if (a.kind === 'reference' && b.kind === 'reference') same = a.path.join('.') === b.path.join('.');
      else same = undefined;
      return same === undefined ? undefined : operator === 'is' ? same : !same;
    }
    if (operator === '==' || operator === '!=') {
      const same = this.equal(a, b);
      return same === undefined ? undefined : operator === '==' ? same : !same;
    }
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return orderNumbers(operator, x, y);
    if (a.kind === 'string' && b.kind === 'string') return orderNumbers(operator, a.value < b.value ? -1 : a.value > b.value ? 1 : 0, 0);
    return undefined;
  }

  /** Python `==` of constants; undefined when either side is not known. */
  equal(a: Value<H>, b: Value<H>): boolean | undefined {
    const x = numeric(a);
    const y = numeric(b);
    if (x !== undefined && y !== undefined) return x === y;
    if (a.kind === 'string' && b.kind === 'string') return a.value === b.value;
    if (a.kind === 'none' || b.kind === 'none') return a.kind === 'unknown' || b.kind === 'unknown' || a.kind === 'host' || b.kind === 'host' ? undefined : a.kind === b.kind;
    if (a.kind === 'reference' && b.kind === 'reference') return a.path.join('.') === b.path.join('.');
    if (a.kind === 'sequence' && b.kind === 'sequence') {
      if ((a.type === 'tuple') !== (b.type === 'tuple')) return false;
      if (a.items.length !== b.items.length) return false;
      for (let i = 0; i < a.items.length; i++) {
        const same = this.equal(a.items[i], b.items[i]);
        if (same !== true) return same;
      }
      return true;
    }
    const constant = (v: Value<H>): boolean => v.kind === 'string' || v.kind === 'number' || v.kind === 'bool' || v.kind === 'sequence' || v.kind === 'dict';
    if (constant(a) && constant(b)) return false;
    return undefined;
  }

  private contains(container: Value<H>, item: Value<H>): boolean | undefined {
    if (container.kind === 'string') return item.kind === 'string' ? container.value.includes(item.value) : undefined;
    if (container.kind === 'dict') {
      if (item.kind !== 'string' && item.kind !== 'number') return undefined;
      return container.entries.some((entry) => entry.key === item.value);
    }
    if (container.kind !== 'sequence') return undefined;
    let unsure = false;
    for (const element of container.items) {
      const same = this.equal(element, item);
      if (same) return true;
      if (same === undefined) unsure = true;
    }
    return unsure ? undefined : false;
  }

  private binaryNode(node: Node, scope: Scope<H>): Value<H> {
    const leftNode = node.childForFieldName('left');
    const rightNode = node.childForFieldName('right');
    const operator = node.childForFieldName('operator')?.text;
    if (!leftNode || !rightNode || !operator) return unknown(node, 'incomplete expression');
    const left = this.evaluate(leftNode, scope);
    const right = this.evaluate(rightNode, scope);
    return this.binary(operator, left, right, node);
  }

  /** Python's binary operators on constants (`+` of lists and strings, `*` repetition, `//`, `%`, `**`). */
  binary(operator: string, left: Value<H>, right: Value<H>, node: Node): Value<H> {
    if (left.kind === 'host' || right.kind === 'host') {
      return this.host.binary?.(operator, left, right, node) ?? unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
    }
    if (left.kind === 'unknown') return left;
    if (right.kind === 'unknown') return right;
    const a = numeric(left);
    const b = numeric(right);
    if (a !== undefined && b !== undefined) {
      if ((operator === '/' || operator === '//' || operator === '%') && b === 0) return unknown(node, `\`${shorten(node.text)}\` divides by zero`);
      const bitwise = bitwiseOperator(operator, a, b);
      const result = bitwise ?? pythonArithmetic(operator, a, b);
      const float = operator === '/' || (left.kind === 'number' && !!left.float) || (right.kind === 'number' && !!right.float) || (operator === '**' && b < 0);
      return Number.isFinite(result) ? num(result, float) : unknown(node, `\`${shorten(node.text)}\` has no finite value`);
    }
    if (operator === '+' && left.kind === 'sequence' && right.kind === 'sequence' && left.type === right.type) {
      if (left.items.length + right.items.length > MAX_SEQUENCE) return unknown(node, 'the list is too long');
      this.budget.tick(node, listCost(left.items.length + right.items.length));
      return list([...left.items, ...right.items], left.type);
    }
    if (operator === '+' && left.kind === 'string' && right.kind === 'string') return str(left.value + right.value);
    if (operator === '*') {
      const repeated = left.kind === 'sequence' || left.kind === 'string' ? left : right.kind === 'sequence' || right.kind === 'string' ? right : undefined;
      const count = repeated === left ? b : a;
      if (repeated && count !== undefined && Number.isInteger(count)) {
        const n = Math.max(0, count);
        const length = (repeated.kind === 'string' ? repeated.value.length : (repeated as { items: unknown[] }).items.length) * n;
        if (length > MAX_SEQUENCE) return unknown(node, 'the list is too long');
        this.budget.tick(node, listCost(length));
        if (repeated.kind === 'string') return str(repeated.value.repeat(n));
        if (repeated.kind === 'sequence') {
          const items: Value<H>[] = [];
          const repeat = this.host.repeat;
          for (let i = 0; i < n; i++) {
            items.push(...(i === 0 || !repeat ? repeated.items : repeated.items.map((item): Value<H> => (item.kind === 'host' ? { kind: 'host', host: repeat(item.host) } : item))));
          }
          return list(items, repeated.type);
        }
      }
    }
    if (operator === '|' && left.kind === 'dict' && right.kind === 'dict') {
      const entries = [...left.entries];
      for (const entry of right.entries) dictSet(entries, entry.key, entry.value);
      return { kind: 'dict', entries };
    }
    if (operator === '%' && left.kind === 'string') {
      const args = right.kind === 'sequence' && right.type === 'tuple' ? right.items : [right];
      const text = percentFormat(left.value, args);
      if (text !== undefined) return str(text);
    }
    return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
  }

  private items(node: Node, scope: Scope<H>, type: 'list' | 'tuple' | 'set'): Value<H> {
    const items: Value<H>[] = [];
    for (const child of codeChildren(node)) {
      if (child.type === 'list_splat' || child.type === 'parenthesized_list_splat') {
        const inner = codeChildren(child)[0];
        const value = inner ? this.evaluate(inner, scope) : unknown(child, 'empty splat');
        const spread = this.iterate(value);
        if (!spread) return value.kind === 'unknown' ? value : unknown(child, `\`${shorten(child.text)}\` is not a known list`);
        items.push(...spread);
      } else {
        items.push(this.evaluate(child, scope));
      }
      if (items.length > MAX_SEQUENCE) return unknown(node, 'the list is too long');
    }
    return list(type === 'set' ? this.distinct(items) : items, type);
  }

  private distinct(items: readonly Value<H>[]): Value<H>[] {
    const out: Value<H>[] = [];
    for (const item of items) if (!out.some((o) => this.equal(o, item) === true)) out.push(item);
    return out;
  }

  private dictionary(node: Node, scope: Scope<H>): Value<H> {
    const entries: DictEntry<Value<H>>[] = [];
    for (const pair of codeChildren(node)) {
      if (pair.type === 'dictionary_splat') {
        const inner = codeChildren(pair)[0];
        const base = inner ? this.evaluate(inner, scope) : unknown(pair, 'empty splat');
        if (base.kind !== 'dict') return base.kind === 'unknown' ? base : unknown(pair, `\`${shorten(pair.text)}\` is not a known dict`);
        for (const entry of base.entries) dictSet(entries, entry.key, entry.value);
        continue;
      }
      const key = pair.childForFieldName('key');
      const value = pair.childForFieldName('value');
      if (pair.type !== 'pair' || !key || !value) return unknown(pair, 'only key: value pairs are read');
      const k = this.evaluate(key, scope);
      if (k.kind !== 'string' && k.kind !== 'number') return k.kind === 'unknown' ? k : unknown(key, `the dict key \`${shorten(key.text)}\` is not a constant string or number`);
      dictSet(entries, k.value, this.evaluate(value, scope));
      if (entries.length > MAX_SEQUENCE) return unknown(node, 'the dict is too long');
    }
    return { kind: 'dict', entries };
  }

  /** `[f(x) for x in xs if c(x) for y in ys]`: every `for` and `if` clause, in order, in a scope of its own. */
  private comprehension(node: Node, scope: Scope<H>): Value<H> {
    const body = node.childForFieldName('body');
    if (!body) return unknown(node, 'incomplete comprehension');
    const clauses = codeChildren(node).filter((c) => c.id !== body.id);
    const items: Value<H>[] = [];
    const entries: DictEntry<Value<H>>[] = [];
    let failure: Value<H> | undefined;
    const run = (index: number, env: Env<H>): boolean => {
      if (index === clauses.length) {
        this.budget.tick(node);
        if (node.type === 'dictionary_comprehension') {
          const key = body.childForFieldName('key');
          const value = body.childForFieldName('value');
          const k = key ? this.evaluate(key, env) : unknown(body, 'incomplete pair');
          if (k.kind !== 'string' && k.kind !== 'number') {
            failure = k.kind === 'unknown' ? k : unknown(body, `the dict key \`${shorten(key?.text ?? body.text)}\` is not a constant`);
            return false;
          }
          dictSet(entries, k.value, value ? this.evaluate(value, env) : unknown(body, 'incomplete pair'));
        } else items.push(this.evaluate(body, env));
        if (items.length + entries.length > MAX_SEQUENCE) {
          failure = unknown(node, 'the comprehension is too long');
          return false;
        }
        return true;
      }
      const clause = clauses[index];
      if (clause.type === 'if_clause') {
        const condition = codeChildren(clause)[0];
        const test = condition ? this.evaluate(condition, env) : unknown(clause, 'empty condition');
        const truth = this.truth(test);
        if (truth === undefined) {
          failure = unknown(clause, `the condition \`${shorten(clause.text)}\` is only known at run time`);
          return false;
        }
        return truth ? run(index + 1, env) : true;
      }
      if (clause.type !== 'for_in_clause') {
        failure = unknown(clause, `\`${shorten(clause.text)}\` is not read`);
        return false;
      }
      const target = clause.childForFieldName('left');
      const iterableNode = clause.childForFieldName('right');
      if (!target || !iterableNode) {
        failure = unknown(clause, 'incomplete comprehension');
        return false;
      }
      const iterable = this.evaluate(iterableNode, env);
      const elements = this.iterate(iterable);
      if (!elements) {
        failure = iterable.kind === 'unknown' ? iterable : unknown(iterableNode, `\`${shorten(iterableNode.text)}\` is not a known sequence`);
        return false;
      }
      for (const element of elements) {
        const inner = env.child();
        const problem = this.bind(target, element, inner);
        if (problem) {
          failure = problem;
          return false;
        }
        if (!run(index + 1, inner)) return false;
      }
      return true;
    };
    if (!run(0, new Env(scope))) return failure ?? unknown(node, 'the comprehension is not known statically');
    if (node.type === 'dictionary_comprehension') return { kind: 'dict', entries };
    return list(node.type === 'set_comprehension' ? this.distinct(items) : items, node.type === 'generator_expression' ? 'tuple' : node.type === 'set_comprehension' ? 'set' : 'list');
  }

  /**
   * Binds an assignment or loop target (`x`, `a, b`, `(a, (b, c))`, `first, *rest`) in env.
   * Returns an unknown value saying why when the value does not unpack (each name is then unknown).
   * Attribute and subscript targets are the interpreter's (assignTarget).
   */
  bind(target: Node, value: Value<H>, env: Env<H>): Value<H> | undefined {
    if (target.type === 'identifier') {
      env.set(target.text, value);
      return undefined;
    }
    if (['pattern_list', 'tuple_pattern', 'list_pattern', 'tuple', 'list', 'expression_list', 'parenthesized_expression'].includes(target.type)) {
      const names = codeChildren(target);
      if (target.type === 'parenthesized_expression' && names.length === 1) return this.bind(names[0], value, env);
      const elements = this.iterate(value);
      const star = names.findIndex((n) => n.type === 'list_splat_pattern' || n.type === 'list_splat');
      const fits = elements && (star < 0 ? elements.length === names.length : elements.length >= names.length - 1);
      if (!elements || !fits) {
        const reason =
          value.kind === 'unknown' ? value : unknown(target, elements ? `\`${shorten(target.text)}\` unpacks ${names.length} names from ${elements.length} values` : `\`${shorten(target.text)}\` unpacks a value not known statically`);
        for (const name of namesIn(target)) env.set(name, reason);
        return reason;
      }
      for (let i = 0; i < names.length; i++) {
        if (i === star) {
          const rest = elements.slice(i, elements.length - (names.length - 1 - i));
          const inner = codeChildren(names[i])[0];
          if (inner) env.set(inner.text, list([...rest]));
          continue;
        }
        const index = star >= 0 && i > star ? elements.length - (names.length - i) : i;
        const problem = this.bind(names[i], elements[index], env);
        if (problem) return problem;
      }
      return undefined;
    }
    return unknown(target, `the target \`${shorten(target.text)}\` is not a name`);
  }

  private attributeNode(node: Node, scope: Scope<H>): Value<H> {
    const objectNode = node.childForFieldName('object');
    const name = node.childForFieldName('attribute')?.text;
    if (!objectNode || !name) return unknown(node, 'incomplete attribute');
    return this.attribute(this.evaluate(objectNode, scope), name, node);
  }

  /** `value.name`. */
  attribute(object: Value<H>, name: string, node: Node): Value<H> {
    switch (object.kind) {
      case 'reference': {
        const fromModule = this.moduleAttribute?.(object.path, name, node);
        return fromModule ?? { kind: 'reference', path: [...object.path, name] };
      }
      case 'object': {
        const own = object.attrs.get(name);
        if (own) return own;
        const fromClass = this.classAttribute(object.cls, name);
        if (fromClass?.kind === 'function') return { ...fromClass, self: object };
        return fromClass ?? unknown(node, `\`${shorten(node.text)}\` is not set before it is read`);
      }
      case 'class': {
        const value = this.classAttribute(object, name);
        return value ?? unknown(node, `the class \`${object.name}\` has no attribute \`${name}\` known statically`);
      }
      case 'host':
        return this.host.attribute?.(object.host, name, node) ?? unknown(node, `\`${shorten(node.text)}\` is not known statically`);
      case 'unknown':
        return object;
      default:
        return unknown(node, `\`${shorten(node.text)}\` is not known statically`);
    }
  }

  /** A class attribute or method, looked up through the file's base classes (left to right). */
  classAttribute(cls: ClassValue<H>, name: string, seen = new Set<number>()): Value<H> | undefined {
    if (seen.has(cls.node.id)) return undefined;
    seen.add(cls.node.id);
    const own = cls.attrs.get(name);
    if (own) return own;
    for (const base of cls.bases) {
      if (base.kind !== 'class') continue;
      const found = this.classAttribute(base, name, seen);
      if (found) return found;
    }
    return undefined;
  }

  private subscriptNode(node: Node, scope: Scope<H>): Value<H> {
    const valueNode = node.childForFieldName('value');
    const indexNodes = node.childrenForFieldName('subscript').filter((n): n is Node => !!n && !isExtra(n));
    if (!valueNode || indexNodes.length === 0) return unknown(node, 'incomplete subscript');
    const object = this.evaluate(valueNode, scope);
    if (indexNodes.length === 1 && indexNodes[0].type === 'slice') {
      if (object.kind === 'unknown') return object;
      const items = object.kind === 'sequence' ? object.items : object.kind === 'string' ? [...object.value].map((c) => str(c) as Value<H>) : object.kind === 'host' ? this.host.iterate?.(object.host) : undefined;
      const bounds = this.sliceBounds(indexNodes[0], scope);
      if (!items || !bounds) {
        if (object.kind === 'host') return this.host.subscript?.(object.host, unknown(indexNodes[0], 'a slice'), node) ?? unknown(node, `\`${shorten(node.text)}\` is not known statically`);
        return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
      }
      const sliced = pythonSlice(items, bounds);
      if (object.kind === 'string') return str(sliced.map((c) => (c as { value: string }).value).join(''));
      return list(sliced, object.kind === 'sequence' ? object.type : 'list');
    }
    const index = indexNodes.length === 1 ? this.evaluate(indexNodes[0], scope) : list(indexNodes.map((n) => this.evaluate(n, scope)), 'tuple');
    return this.subscript(object, index, node);
  }

  /** `object[index]`. */
  subscript(object: Value<H>, index: Value<H>, node: Node): Value<H> {
    if (object.kind === 'host') return this.host.subscript?.(object.host, index, node) ?? unknown(node, `\`${shorten(node.text)}\` is not known statically`);
    if (object.kind === 'unknown') return object;
    if (object.kind === 'dict') {
      if (index.kind === 'unknown') return index;
      const key = index.kind === 'bool' ? Number(index.value) : index.kind === 'string' || index.kind === 'number' ? index.value : undefined;
      if (key === undefined) return unknown(node, `the key \`${shorten(node.text)}\` is not a constant string or number`);
      return dictGet(object.entries, key) ?? unknown(node, `the dict has no key ${JSON.stringify(key)}`);
    }
    const i = numeric(index);
    if ((object.kind === 'sequence' || object.kind === 'string') && i !== undefined && Number.isInteger(i)) {
      const length = object.kind === 'sequence' ? object.items.length : object.value.length;
      const at = i < 0 ? length + i : i;
      if (at < 0 || at >= length) return unknown(node, `\`${shorten(node.text)}\` is out of range (length ${length})`);
      return object.kind === 'sequence' ? object.items[at] : str(object.value[at]);
    }
    if (index.kind === 'unknown') return index;
    return unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
  }

  private sliceBounds(slice: Node, scope: Scope<H>): (number | undefined)[] | undefined {
    // start:stop:step, any omitted: walk the children, a ':' moves to the next bound.
    const bounds: (number | undefined)[] = [undefined, undefined, undefined];
    let slot = 0;
    for (const child of slice.children) {
      if (!child || isExtra(child)) continue;
      if (!child.isNamed && child.text === ':') {
        slot++;
        continue;
      }
      if (!child.isNamed) continue;
      const value = this.evaluate(child, scope);
      const n = value.kind === 'none' ? undefined : numeric(value);
      if (value.kind !== 'none' && (n === undefined || !Number.isInteger(n))) return undefined;
      if (slot > 2) return undefined;
      bounds[slot] = n;
    }
    return bounds;
  }

  /** The arguments of a call, evaluated; `*xs` and `**kw` expanded when known. */
  arguments(call: Node, scope: Scope<H>): CallArguments<H> {
    const positional: Value<H>[] = [];
    const positionalNodes: Node[] = [];
    const keyword = new Map<string, Value<H>>();
    const keywordNodes = new Map<string, Node>();
    let unknownSplat: Extract<Value<H>, { kind: 'unknown' }> | undefined;
    for (const argument of callArgumentNodes(call)) {
      if (argument.type === 'keyword_argument') {
        const name = argument.childForFieldName('name')?.text;
        const value = argument.childForFieldName('value');
        if (name && value) {
          keyword.set(name, this.evaluate(value, scope));
          keywordNodes.set(name, value);
        }
      } else if (argument.type === 'list_splat') {
        const inner = codeChildren(argument)[0];
        const value = inner ? this.evaluate(inner, scope) : unknown(argument, 'empty splat');
        const spread = this.iterate(value);
        if (spread) {
          positional.push(...spread);
          for (let i = 0; i < spread.length; i++) positionalNodes.push(argument);
        } else unknownSplat ??= value.kind === 'unknown' ? value : unknown(argument, `\`${shorten(argument.text)}\` is not a known list`);
      } else if (argument.type === 'dictionary_splat') {
        const inner = codeChildren(argument)[0];
        const value = inner ? this.evaluate(inner, scope) : unknown(argument, 'empty splat');
        if (value.kind === 'dict') {
          for (const entry of value.entries) {
            keyword.set(String(entry.key), entry.value);
            keywordNodes.set(String(entry.key), argument);
          }
        } else unknownSplat ??= value.kind === 'unknown' ? value : unknown(argument, `\`${shorten(argument.text)}\` is not a known dict`);
      } else {
        positional.push(this.evaluate(argument, scope));
        positionalNodes.push(argument);
      }
    }
    return { positional, keyword, positionalNodes, keywordNodes, unknownSplat };
  }

  private call(node: Node, scope: Scope<H>): Value<H> {
    const callee = node.childForFieldName('function');
    if (!callee) return unknown(node, 'incomplete call');
    let cached: CallArguments<H> | undefined;
    const args = (): CallArguments<H> => (cached ??= this.arguments(node, scope));
    // Methods of Python's own values first: `d.get(k, 0)`, `cfg.items()`, `"x".upper()`.
    if (callee.type === 'attribute') {
      const objectNode = callee.childForFieldName('object');
      const method = callee.childForFieldName('attribute')?.text;
      if (objectNode && method) {
        const object = this.evaluate(objectNode, scope);
        const builtinMethod = this.method(object, method, node, args);
        if (builtinMethod) return builtinMethod;
        const calleeValue = this.attribute(object, method, callee);
        return this.apply(calleeValue, node, callee, scope, args);
      }
    }
    const calleeValue = this.evaluate(callee, scope);
    return this.apply(calleeValue, node, callee, scope, args);
  }

  /** Calls a value: a builtin, a def or class of the file, or the host's. */
  apply(calleeValue: Value<H>, node: Node, callee: Node, scope: Scope<H>, args: () => CallArguments<H>): Value<H> {
    const site = (path?: readonly string[]): HostCall<H> => ({ node, callee, calleeValue, path, scope, args });
    switch (calleeValue.kind) {
      case 'reference': {
        const path = calleeValue.path;
        if (path.length === 1 && VALUE_BUILTINS.has(path[0])) return this.builtin(path[0], node, args());
        if (path.length === 2 && path[0] === 'math') {
          const value = mathFunction(path[1], args().positional);
          if (value) return value;
        }
        if (path[path.length - 1] === 'OrderedDict' || (path[0] === 'types' && path[1] === 'SimpleNamespace')) {
          const host = this.host.call?.(site(path));
          if (host) return host;
          return this.builtin('dict', node, args());
        }
        return this.host.call?.(site(path)) ?? unknown(node, `\`${shorten(node.text)}\` (${position(node)}) is not known statically`);
      }
      case 'function': {
        if (!this.invoke) return unknown(node, `\`${shorten(node.text)}\` is not followed`);
        const a = args();
        if (a.unknownSplat) return a.unknownSplat;
        return this.invoke(calleeValue, a, node);
      }
      case 'class': {
        const hosted = this.host.instantiate?.(calleeValue, site());
        if (hosted) return hosted;
        return this.instantiate(calleeValue, node, args());
      }
      case 'host':
        return this.host.call?.(site()) ?? unknown(node, `\`${shorten(node.text)}\` is not known statically`);
      case 'unknown':
        return calleeValue;
      default:
        return unknown(node, `\`${shorten(callee.text)}\` is not callable`);
    }
  }

  /**
   * A plain class of the file called: a new object whose `__init__` runs with the call's
   * arguments; a class without `__init__` (a dataclass-like config) takes its annotated class
   * attributes as fields, in order, overridden by the arguments.
   */
  instantiate(cls: ClassValue<H>, node: Node, args: CallArguments<H>): Value<H> {
    const object: ObjectValue<H> = { kind: 'object', cls, attrs: new Map() };
    const init = this.classAttribute(cls, '__init__');
    if (init?.kind === 'function' && this.invoke) {
      if (args.unknownSplat) return args.unknownSplat;
      this.invoke({ ...init, self: object }, args, node);
      return object;
    }
    const fields = [...cls.attrs.entries()].filter(([, v]) => v.kind !== 'function').map(([k]) => k);
    args.positional.forEach((value, i) => {
      if (i < fields.length) object.attrs.set(fields[i], value);
    });
    for (const [name, value] of args.keyword) object.attrs.set(name, value);
    return object;
  }

  /** Methods of Python values that return a value without side effects on other names. */
  private method(object: Value<H>, name: string, node: Node, args: () => CallArguments<H>): Value<H> | undefined {
    if (object.kind === 'dict') {
      const a = args();
      if (name === 'keys') return list(object.entries.map((e) => keyValue<H>(e.key)));
      if (name === 'values') return list(object.entries.map((e) => e.value));
      if (name === 'items') return list(object.entries.map((e) => list([keyValue<H>(e.key), e.value], 'tuple')));
      if (name === 'copy') return { kind: 'dict', entries: [...object.entries] };
      if (name === 'get' || name === 'pop' || name === 'setdefault') {
        const key = a.positional[0];
        if (!key || (key.kind !== 'string' && key.kind !== 'number')) return key?.kind === 'unknown' ? key : unknown(node, `the key of \`${shorten(node.text)}\` is not a constant string or number`);
        const found = dictGet(object.entries, key.value);
        const fallback = a.positional[1] ?? (name === 'pop' ? unknown(node, `the dict has no key ${JSON.stringify(key.value)}`) : { kind: 'none' as const });
        if (name === 'setdefault' && !found) dictSet(object.entries, key.value, fallback);
        if (name === 'pop' && found) object.entries.splice(object.entries.findIndex((e) => e.key === key.value), 1);
        return found ?? fallback;
      }
      if (name === 'update') {
        for (const source of a.positional) {
          if (source.kind !== 'dict') return unknown(node, `\`${shorten(node.text)}\` updates from a value not known statically`);
          for (const entry of source.entries) dictSet(object.entries, entry.key, entry.value);
        }
        for (const [k, v] of a.keyword) dictSet(object.entries, k, v);
        return { kind: 'none' };
      }
      return undefined;
    }
    if (object.kind === 'sequence' && object.type === 'list') {
      const a = args();
      if (name === 'append') {
        if (object.items.length >= MAX_SEQUENCE) return unknown(node, 'the list is too long');
        object.items.push(a.positional[0] ?? unknown(node, 'append of nothing'));
        return { kind: 'none' };
      }
      if (name === 'extend' || name === 'insert') {
        const source = name === 'extend' ? a.positional[0] : a.positional[1];
        const items = source ? this.iterate(source) : undefined;
        if (!items) return unknown(node, `\`${shorten(node.text)}\` adds items not known statically`);
        if (object.items.length + items.length > MAX_SEQUENCE) return unknown(node, 'the list is too long');
        if (name === 'extend') object.items.push(...items);
        else {
          const at = numeric(a.positional[0] ?? { kind: 'none' });
          if (at === undefined) return unknown(node, `\`${shorten(node.text)}\` inserts at a position not known statically`);
          object.items.splice(at < 0 ? Math.max(0, object.items.length + at) : at, 0, source as Value<H>);
        }
        return { kind: 'none' };
      }
      if (name === 'pop') {
        const at = a.positional[0] ? numeric(a.positional[0]) : -1;
        if (at === undefined || object.items.length === 0) return unknown(node, `\`${shorten(node.text)}\` is not known statically`);
        return object.items.splice(at < 0 ? object.items.length + at : at, 1)[0] ?? unknown(node, 'pop out of range');
      }
      if (name === 'copy') return list([...object.items]);
      if (name === 'index' || name === 'count') {
        const item = a.positional[0];
        if (!item) return undefined;
        const matches = object.items.map((i) => this.equal(i, item));
        if (matches.some((m) => m === undefined)) return unknown(node, `\`${shorten(node.text)}\` is not known statically`);
        return name === 'count' ? num(matches.filter(Boolean).length) : matches.indexOf(true) >= 0 ? num(matches.indexOf(true)) : unknown(node, 'not in the list');
      }
      return undefined;
    }
    if (object.kind === 'string') {
      const a = args();
      const s = object.value;
      switch (name) {
        case 'upper':
          return str(s.toUpperCase());
        case 'lower':
          return str(s.toLowerCase());
        case 'strip':
          return str(s.trim());
        case 'format': {
          let i = 0;
          const text = s.replace(/\{([^{}]*)\}/g, (_, field: string) => {
            const [key, spec] = field.split(':');
            const value = key === '' ? a.positional[i++] : /^\d+$/.test(key) ? a.positional[Number(key)] : a.keyword.get(key);
            return (value && (spec ? formatSpec(value, spec) : constantText(value))) ?? '\u0000';
          });
          return text.includes('\u0000') ? unknown(node, `\`${shorten(node.text)}\` cannot be formatted statically`) : str(text);
        }
        case 'join': {
          const items = a.positional[0] ? this.iterate(a.positional[0]) : undefined;
          if (!items || !items.every((item) => item.kind === 'string')) return unknown(node, `\`${shorten(node.text)}\` joins values not known statically`);
          return str(items.map((item) => (item as { value: string }).value).join(s));
        }
        case 'split': {
          const sep = a.positional[0];
          const parts = sep?.kind === 'string' ? s.split(sep.value) : s.trim().split(/\s+/).filter((p) => p.length > 0);
          return list(parts.map((p) => str(p)));
        }
        case 'startswith':
        case 'endswith': {
          const affix = a.positional[0];
          if (affix?.kind !== 'string') return undefined;
          return { kind: 'bool', value: name === 'startswith' ? s.startsWith(affix.value) : s.endsWith(affix.value) };
        }
        default:
          return undefined;
      }
    }
    return undefined;
  }

  /** The builtins of VALUE_BUILTINS; an unknown argument makes the call unknown for the same reason. */
  private builtin(name: string, node: Node, args: CallArguments<H>): Value<H> {
    if (args.unknownSplat) return args.unknownSplat;
    const values = args.positional;
    const blocking = [...values, ...args.keyword.values()].find((v) => v.kind === 'unknown');
    if (blocking && name !== 'isinstance' && name !== 'getattr' && name !== 'hasattr') return blocking;
    const numbers = values.map(numeric);
    const allNumbers = numbers.every((n) => n !== undefined) ? (numbers as number[]) : undefined;
    const cannot = (): Value<H> => unknown(node, `\`${shorten(node.text)}\` cannot be evaluated without running the code`);
    switch (name) {
      case 'range': {
        if (!allNumbers || allNumbers.length < 1 || allNumbers.length > 3 || !allNumbers.every(Number.isInteger)) return cannot();
        const [start, stop, step] = allNumbers.length === 1 ? [0, allNumbers[0], 1] : [allNumbers[0], allNumbers[1], allNumbers[2] ?? 1];
        if (step === 0) return unknown(node, 'range() step must not be zero');
        const count = Math.max(0, Math.ceil((stop - start) / step));
        if (count > MAX_SEQUENCE) return unknown(node, `\`${shorten(node.text)}\` has ${count.toLocaleString('en-US')} items, more than are followed statically`);
        this.budget.tick(node, listCost(count));
        const items: Value<H>[] = [];
        for (let i = 0; i < count; i++) items.push(num(start + i * step));
        return list(items, 'tuple');
      }
      case 'len': {
        const v = values[0];
        if (!v) return cannot();
        if (v.kind === 'sequence') return num(v.items.length);
        if (v.kind === 'string') return num(v.value.length);
        if (v.kind === 'dict') return num(v.entries.length);
        if (v.kind === 'host') {
          const items = this.host.iterate?.(v.host);
          if (items) return num(items.length);
        }
        return cannot();
      }
      case 'int':
      case 'float': {
        const v = values[0];
        if (!v) return num(0, name === 'float');
        const n = v.kind === 'string' ? (v.value.trim() === '' ? Number.NaN : Number(v.value)) : numeric(v);
        if (n === undefined || Number.isNaN(n)) return cannot();
        return name === 'int' ? num(Math.trunc(n)) : num(n, true);
      }
      case 'str': {
        const v = values[0];
        const text = v ? constantText(v) : '';
        return text === undefined ? cannot() : str(text);
      }
      case 'bool': {
        const truth = values[0] ? this.truth(values[0]) : false;
        return truth === undefined ? cannot() : { kind: 'bool', value: truth };
      }
      case 'abs':
        return allNumbers?.length === 1 ? num(Math.abs(allNumbers[0]), values[0].kind === 'number' && values[0].float) : cannot();
      case 'divmod': {
        // (a // b, a % b) with Python's flooring, so divmod(-17, 5) is (-4, 3).
        if (allNumbers?.length !== 2 || allNumbers[1] === 0) return cannot();
        const float = values.some((v) => v.kind === 'number' && v.float);
        const [a, b] = allNumbers;
        return list([num(pythonArithmetic('//', a, b), float), num(pythonArithmetic('%', a, b), float)], 'tuple');
      }
      case 'round': {
        if (!allNumbers || allNumbers.length < 1) return cannot();
        const digits = allNumbers[1] ?? 0;
        const scaled = allNumbers[0] * 10 ** digits;
        const floor = Math.floor(scaled);
        const diff = scaled - floor;
        // Python rounds halves to even.
        const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
        return num(rounded / 10 ** digits, allNumbers.length > 1);
      }
      case 'min':
      case 'max':
      case 'sum': {
        const items = values.length === 1 ? this.iterate(values[0]) : values;
        const ns = items?.map(numeric);
        if (!items || !ns || ns.some((n) => n === undefined) || (name !== 'sum' && ns.length === 0)) return cannot();
        const list_ = ns as number[];
        const float = items.some((i) => i.kind === 'number' && i.float);
        if (name === 'sum') return num(list_.reduce((a, b) => a + b, numeric(values[1] ?? num(0)) ?? 0), float);
        const chosen = name === 'min' ? Math.min(...list_) : Math.max(...list_);
        return items[list_.indexOf(chosen)];
      }
      case 'list':
      case 'tuple':
      case 'set':
      case 'sorted':
      case 'reversed': {
        const items = values[0] ? this.iterate(values[0]) : [];
        if (!items) return cannot();
        if (name === 'sorted') {
          const ns = items.map(numeric);
          const strings = items.every((i) => i.kind === 'string');
          if (!strings && ns.some((n) => n === undefined)) return cannot();
          const sorted = [...items].sort((x, y) => (strings ? ((x as { value: string }).value < (y as { value: string }).value ? -1 : 1) : (numeric(x) as number) - (numeric(y) as number)));
          const reverse = args.keyword.get('reverse');
          return list(reverse && this.truth(reverse) ? sorted.reverse() : sorted);
        }
        if (name === 'reversed') return list([...items].reverse(), 'tuple');
        return list(name === 'set' ? this.distinct(items) : [...items], name === 'list' ? 'list' : name === 'set' ? 'set' : 'tuple');
      }
      case 'enumerate': {
        const items = values[0] ? this.iterate(values[0]) : undefined;
        const start = values[1] ? numeric(values[1]) : numeric(args.keyword.get('start') ?? num(0));
        if (!items || start === undefined) return values[0]?.kind === 'unknown' ? values[0] : cannot();
        return list(items.map((item, i) => list([num(start + i), item], 'tuple')), 'tuple');
      }
      case 'zip': {
        const lists = values.map((v) => this.iterate(v));
        if (lists.some((l) => !l)) return cannot();
        const length = Math.min(...lists.map((l) => (l as readonly Value<H>[]).length));
        const items: Value<H>[] = [];
        for (let i = 0; i < length; i++) items.push(list(lists.map((l) => (l as readonly Value<H>[])[i]), 'tuple'));
        return list(items, 'tuple');
      }
      case 'dict': {
        const entries: DictEntry<Value<H>>[] = [];
        for (const v of values) {
          if (v.kind === 'dict') {
            for (const entry of v.entries) dictSet(entries, entry.key, entry.value);
            continue;
          }
          const pairs = this.iterate(v);
          if (!pairs) return cannot();
          for (const pair of pairs) {
            const kv = this.iterate(pair);
            if (!kv || kv.length !== 2 || (kv[0].kind !== 'string' && kv[0].kind !== 'number')) return unknown(node, `\`${shorten(node.text)}\` is not a known dict`);
            dictSet(entries, (kv[0] as { value: string | number }).value, kv[1]);
          }
        }
        for (const [k, v] of args.keyword) dictSet(entries, k, v);
        return { kind: 'dict', entries };
      }
      case 'isinstance': {
        const [value, type] = values;
        if (!value || !type) return cannot();
        const types = type.kind === 'sequence' ? type.items : [type];
        if (value.kind === 'host') {
          const is = this.host.isinstance?.(value.host, types, node);
          return is === undefined ? cannot() : { kind: 'bool', value: is };
        }
        const names = types.map((t) => (t.kind === 'reference' && t.path.length === 1 ? t.path[0] : undefined));
        const kind = value.kind === 'number' ? (value.float ? 'float' : 'int') : value.kind === 'string' ? 'str' : value.kind === 'bool' ? 'bool' : value.kind === 'dict' ? 'dict' : value.kind === 'sequence' ? value.type : undefined;
        if (!kind || names.some((n) => n === undefined)) return cannot();
        return { kind: 'bool', value: names.includes(kind) || (kind === 'bool' && names.includes('int')) };
      }
      case 'getattr':
      case 'hasattr': {
        const [object, nameValue, fallback] = values;
        if (!object || nameValue?.kind !== 'string') return cannot();
        const found = this.attribute(object, nameValue.value, node);
        if (name === 'hasattr') return found.kind === 'unknown' ? cannot() : { kind: 'bool', value: true };
        return found.kind === 'unknown' && fallback ? fallback : found;
      }
      default:
        return cannot();
    }
  }
}

// #region Helpers shared with the interpreter and the hosts

/** Comments and line continuations are extras among a node's named children, never code. */
export function isExtra(node: Node): boolean {
  return node.type === 'comment' || node.type === 'line_continuation';
}

export function codeChildren(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => !!c && !isExtra(c));
}

export function callArgumentNodes(call: Node): Node[] {
  const list_ = call.childForFieldName('arguments');
  if (!list_) return [];
  if (list_.type === 'generator_expression') return [list_];
  return codeChildren(list_);
}

/** The names a target binds (`a`, `(a, b)`, `a, *rest`). */
export function namesIn(target: Node): string[] {
  if (target.type === 'identifier') return [target.text];
  if (target.type === 'attribute' || target.type === 'subscript') return [];
  return codeChildren(target).flatMap(namesIn);
}

function numberLiteral(node: Node): Value<never> {
  const text = node.text.split('_').join('').toLowerCase();
  if (text.endsWith('j')) return unknown(node, 'complex numbers are not evaluated');
  const value = /^0[box]/.test(text) ? Number(text) : Number(text.replace(/l$/, ''));
  if (!Number.isFinite(value)) return unknown(node, 'not a plain number');
  return num(value, node.type === 'float');
}

function keyValue<H>(key: string | number): Value<H> {
  return typeof key === 'string' ? str(key) : num(key);
}

function unknownBecause<H>(node: Node, value: Value<H>): Value<H> {
  return value.kind === 'unknown' ? unknown(node, `\`${shorten(node.text)}\` depends on \`${shorten(value.node.text)}\` (${value.reason})`) : unknown(node, `\`${shorten(node.text)}\` is not known statically`);
}

function orderNumbers(operator: string, x: number, y: number): boolean | undefined {
  switch (operator) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    default:
      return undefined;
  }
}

function bitwiseOperator(operator: string, a: number, b: number): number | undefined {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return undefined;
  switch (operator) {
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '<<':
      return a * 2 ** b;
    case '>>':
      return Math.floor(a / 2 ** b);
    default:
      return undefined;
  }
}

function listCost(n: number): number {
  return Math.ceil(n / 16);
}

/** Python's slice of a list: negative bounds count from the end, a negative step walks back. */
function pythonSlice<T>(items: readonly T[], [start, stop, step = 1]: (number | undefined)[]): T[] {
  const n = items.length;
  const s = step ?? 1;
  if (s === 0) return [];
  const clamp = (i: number | undefined, fallback: number, lo: number, hi: number): number => (i === undefined ? fallback : i < 0 ? Math.max(lo, n + i) : Math.min(hi, i));
  const out: T[] = [];
  if (s > 0) {
    for (let i = clamp(start, 0, 0, n); i < clamp(stop, n, 0, n); i += s) out.push(items[i]);
  } else {
    for (let i = clamp(start, n - 1, -1, n - 1); i > clamp(stop, -1, -1, n - 1); i += s) out.push(items[i]);
  }
  return out;
}

// #endregion
