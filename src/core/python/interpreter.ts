/**
 * Statements of the shared static Python evaluator (issue 12): assignments (unpacking,
 * augmented, attributes, subscripts), if/elif/else on known conditions, for/while over known
 * iterables, def, class, return, with, try, and the file's own functions called with the
 * arguments of their call sites. Workspace modules imported by the file (`from config import
 * HIDDEN`, `import config; config.HIDDEN`) are read with the same interpreter, statically, once,
 * cycle-safe and within the same budget. Loops that cannot change a model are not stepped
 * through (host.mayChangeModel). Never runs the user's code; no clock.
 */
import type { Node, Parser, Tree } from 'web-tree-sitter';
import type { LoadContext } from '../model';
import { MAX_PYTHON_NESTING, MAX_PYTHON_STEPS } from '../parse/limits';
import { dictSet } from './dicts';
import { PythonEvaluator, codeChildren, isExtra, namesIn, MAX_SEQUENCE } from './evaluator';
import { numeric } from './formatting';
import type { CallArguments, PythonHost } from './host';
import { collectImports, type ImportTable } from './imports';
import { Env } from './scope';
import { Budget, PythonBudgetExceeded, position, shorten, unknown, type ClassValue, type FunctionValue, type Value } from './values';

/** How a block ended: ran through, returned, broke out of / continued a loop, raised, or reached `stopAt`. */
export type Completion = 'normal' | 'return' | 'break' | 'continue' | 'raise' | 'stop';

export interface InterpreterOptions<H> {
  readonly host?: PythonHost<H>;
  /** Workspace modules (`readPythonModule`) for imported constants. */
  readonly context?: LoadContext;
  /** Parses an imported workspace module (the loader's tree-sitter Python parser). */
  readonly parser?: Parser;
  /** The file's one budget; a new one of MAX_PYTHON_STEPS when absent. */
  readonly budget?: Budget;
  /** The import table when the caller already has it (else collected from the root). */
  readonly imports?: ImportTable;
  /** Conventional aliases for snippets without imports (`nn` → torch.nn). */
  readonly aliases?: ReadonlyMap<string, readonly string[]>;
  /**
   * The evaluator to run expressions with, when the framework has one of its own (a subclass with
   * the same budget, imports and host); its `invoke` and `moduleAttribute` are set to this interpreter's.
   */
  readonly evaluator?: PythonEvaluator<H>;
}

/** Imported workspace modules of one file, shared by the interpreters that read them. */
interface ModuleCache {
  readonly envs: Map<string, Env<never> | null>;
  readonly loading: Set<string>;
  readonly trees: Tree[];
}

/** The binding a `return` leaves in a function's environment. */
const RETURN = '\u0000return';

export class PythonInterpreter<H> {
  readonly evaluator: PythonEvaluator<H>;
  readonly host: PythonHost<H>;
  readonly imports: ImportTable;
  /** Module-level names, as `runModule` leaves them. */
  readonly moduleEnv: Env<H>;
  private callDepth = 0;
  private modelNames: Set<string> | undefined;
  private readonly modules: ModuleCache;

  constructor(
    readonly root: Node,
    readonly options: InterpreterOptions<H> = {},
    modules?: ModuleCache,
  ) {
    this.host = options.host ?? {};
    this.imports = options.imports ?? collectImports(root);
    this.modules = modules ?? { envs: new Map(), loading: new Set(), trees: [] };
    this.evaluator = options.evaluator ?? new PythonEvaluator<H>({
      imports: this.imports,
      budget: options.budget ?? new Budget(MAX_PYTHON_STEPS),
      maxNesting: MAX_PYTHON_NESTING,
      host: this.host,
      aliases: options.aliases,
    });
    this.evaluator.invoke = (fn, args, call) => this.callFunction(fn, args, call);
    this.evaluator.moduleAttribute = (path, name) => this.moduleAttribute(path, name);
    this.moduleEnv = new Env<H>();
  }

  get budget(): Budget {
    return this.evaluator.budget;
  }

  /** The value of an expression. */
  evaluate(node: Node, scope: Env<H> | { lookup(name: string): Value<H> | undefined }): Value<H> {
    return this.evaluator.evaluate(node, scope);
  }

  /** Runs the module's top-level statements (up to the statement that starts at or after `stopAt`). */
  runModule(stopAt?: number): Completion {
    return this.runBlock(statementsOf(this.root), this.moduleEnv, stopAt);
  }

  /** Deletes the syntax trees of imported modules (values from them are not used after). */
  dispose(): void {
    for (const tree of this.modules.trees) tree.delete();
    this.modules.trees.length = 0;
  }

  runBlock(statements: readonly Node[], env: Env<H>, stopAt?: number): Completion {
    for (const statement of statements) {
      if (stopAt !== undefined && statement.startIndex >= stopAt) return 'stop';
      const completion = this.runStatement(statement, env, stopAt);
      if (completion !== 'normal') return completion;
    }
    return 'normal';
  }

  runStatement(statement: Node, env: Env<H>, stopAt?: number): Completion {
    this.budget.tick(statement);
    const inside = stopAt !== undefined && statement.startIndex < stopAt && stopAt < statement.endIndex ? stopAt : undefined;
    switch (statement.type) {
      case 'expression_statement': {
        for (const expression of codeChildren(statement)) this.expressionStatement(expression, env);
        return 'normal';
      }
      case 'if_statement':
        return this.runIf(statement, env, inside);
      case 'for_statement':
        return this.runFor(statement, env, inside);
      case 'while_statement':
        return this.runWhile(statement, env, inside);
      case 'function_definition':
      case 'class_definition':
      case 'decorated_definition':
        this.define(statement, env);
        return 'normal';
      case 'return_statement': {
        const value = codeChildren(statement)[0];
        env.set(RETURN, value ? this.evaluate(value, env) : { kind: 'none' });
        return 'return';
      }
      case 'with_statement': {
        for (const item of statement.descendantsOfType('with_item')) {
          const value = item?.childForFieldName('value');
          if (value?.type === 'as_pattern') {
            const target = value.childForFieldName('alias') ?? codeChildren(value)[1];
            const subject = codeChildren(value)[0];
            const result = subject ? this.evaluate(subject, env) : unknown(value, 'empty with');
            for (const name of target ? namesIn(codeChildren(target)[0] ?? target) : []) env.set(name, unknown(value, `\`${name}\` is what \`${shorten(subject?.text ?? '')}\` enters at run time (${position(value)})`));
            void result;
          } else if (value) this.evaluate(value, env);
        }
        return this.runBlock(statementsOf(statement.childForFieldName('body')), env, inside);
      }
      case 'try_statement': {
        // The body as if nothing raised; its `else` and `finally` too. Handlers run only on errors.
        const body = this.runBlock(statementsOf(statement.childForFieldName('body')), env, inside);
        if (body !== 'normal') return body;
        for (const clause of codeChildren(statement)) {
          if (clause.type === 'else_clause' || clause.type === 'finally_clause') {
            const completion = this.runBlock(statementsOf(clause.childForFieldName('body') ?? codeChildren(clause).find((c) => c.type === 'block') ?? null), env, inside);
            if (completion !== 'normal') return completion;
          } else if (clause.type === 'except_clause' || clause.type === 'except_group_clause') {
            this.forget(clause, env, `it is set in the \`except\` handler at ${position(clause)}, which runs only on an error`);
          }
        }
        return 'normal';
      }
      case 'raise_statement':
        return 'raise';
      case 'break_statement':
        return 'break';
      case 'continue_statement':
        return 'continue';
      case 'delete_statement':
        for (const target of codeChildren(statement)) for (const name of namesIn(target)) env.vars.delete(name);
        return 'normal';
      case 'match_statement':
        this.forget(statement, env, `it is set in the \`match\` at ${position(statement)}, which is not followed statically`);
        this.host.skipped?.(statement, `the \`match\` statement (${position(statement)}) is not followed statically`, env);
        return 'normal';
      default:
        // pass, import, global, nonlocal, assert, print-like statements: no bindings to follow.
        return 'normal';
    }
  }

  private expressionStatement(expression: Node, env: Env<H>): void {
    switch (expression.type) {
      case 'assignment':
        this.assign(expression, env);
        return;
      case 'augmented_assignment':
        this.augment(expression, env);
        return;
      case 'call':
        if (this.host.effect?.(expression, env)) return;
        this.evaluate(expression, env);
        return;
      default:
        // A bare expression (a docstring, `model`): evaluated only when it may change a model.
        if (this.host.mayChangeModel?.(expression)) this.evaluate(expression, env);
    }
  }

  /** `a = b = value`, `x: int = 3`, `a, b = 1, 2`, `self.fc = nn.Linear(...)`, `d["k"] = v`. */
  assign(assignment: Node, env: Env<H>): Value<H> {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    if (!left) return unknown(assignment, 'incomplete assignment');
    if (!right) {
      // An annotation without a value (`x: int`): a dataclass field with no default.
      for (const name of namesIn(left)) if (!env.has(name)) env.set(name, unknown(left, `\`${name}\` has no default`));
      return unknown(left, 'no value');
    }
    const value = right.type === 'assignment' ? this.assign(right, env) : this.evaluate(right, env);
    this.assignTarget(left, value, env);
    return value;
  }

  assignTarget(target: Node, value: Value<H>, env: Env<H>): void {
    if (target.type === 'attribute') {
      const objectNode = target.childForFieldName('object');
      const name = target.childForFieldName('attribute')?.text;
      if (!objectNode || !name) return;
      const object = this.evaluate(objectNode, env);
      const recorded = this.host.assignAttribute?.(object, name, value, target) ?? false;
      if (object.kind === 'object') object.attrs.set(name, value);
      else if (object.kind === 'class') object.attrs.set(name, value);
      void recorded;
      return;
    }
    if (target.type === 'subscript') {
      const objectNode = target.childForFieldName('value');
      const indexNode = target.childForFieldName('subscript');
      if (!objectNode || !indexNode) return;
      const object = this.evaluate(objectNode, env);
      const index = this.evaluate(indexNode, env);
      if (object.kind === 'dict' && (index.kind === 'string' || index.kind === 'number')) dictSet(object.entries, index.value, value);
      else if (object.kind === 'sequence' && object.type === 'list' && index.kind === 'number') {
        const at = index.value < 0 ? object.items.length + index.value : index.value;
        if (at >= 0 && at < object.items.length) object.items[at] = value;
      } else if (object.kind === 'dict') {
        // A key only known at run time: the dict is no longer known.
        object.entries.length = 0;
        for (const name of namesIn(objectNode)) env.set(name, unknown(target, `\`${shorten(objectNode.text)}\` gets a key only known at run time at ${position(target)}`));
      }
      return;
    }
    if (target.type === 'list_splat_pattern' || target.type === 'list_splat') return;
    this.evaluator.bind(target, value, env);
  }

  /** `x += 1`, `layers += [nn.ReLU()]` (a list is extended in place, as Python does). */
  private augment(assignment: Node, env: Env<H>): void {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    const operator = assignment.childForFieldName('operator')?.text.replace(/=$/, '');
    if (!left || !right || !operator) return;
    const current = this.evaluate(left, env);
    const operand = this.evaluate(right, env);
    if (operator === '+' && current.kind === 'sequence' && current.type === 'list') {
      const items = this.evaluator.iterate(operand);
      if (items && current.items.length + items.length <= MAX_SEQUENCE) {
        current.items.push(...items);
        return;
      }
    }
    this.assignTarget(left, this.evaluator.binary(operator, current, operand, assignment), env);
  }

  private runIf(statement: Node, env: Env<H>, stopAt: number | undefined): Completion {
    const condition = statement.childForFieldName('condition');
    const test = condition ? this.evaluate(condition, env) : unknown(statement, 'no condition');
    const truth = this.evaluator.truth(test);
    const branches: { block: Node | null; condition?: Node }[] = [{ block: statement.childForFieldName('consequence') }];
    for (const clause of statement.childrenForFieldName('alternative')) {
      if (!clause) continue;
      branches.push({ block: clause.childForFieldName('body') ?? clause.childForFieldName('consequence'), condition: clause.childForFieldName('condition') ?? undefined });
    }
    if (truth === undefined) return this.unknownBranches(statement, branches, env, condition);
    if (truth) return this.runBlock(statementsOf(branches[0].block), env, stopAt);
    for (let i = 1; i < branches.length; i++) {
      const branch = branches[i];
      if (!branch.condition) return this.runBlock(statementsOf(branch.block), env, stopAt);
      const value = this.evaluate(branch.condition, env);
      const t = this.evaluator.truth(value);
      if (t === undefined) return this.unknownBranches(statement, branches.slice(i), env, branch.condition);
      if (t) return this.runBlock(statementsOf(branch.block), env, stopAt);
    }
    return 'normal';
  }

  /** Branches under a condition only known at run time: none is run; the names they set become unknown. */
  private unknownBranches(statement: Node, branches: readonly { block: Node | null }[], env: Env<H>, condition: Node | null | undefined): Completion {
    const reason = `it is set under \`if ${shorten(condition?.text ?? '')}\` (${position(condition ?? statement)}), a condition only known at run time`;
    for (const branch of branches) {
      if (!branch.block) continue;
      this.forget(branch.block, env, reason);
      this.host.skipped?.(branch.block, `the condition \`${shorten(condition?.text ?? '')}\` (${position(condition ?? statement)}) is only known at run time`, env);
    }
    return 'normal';
  }

  private runFor(statement: Node, env: Env<H>, stopAt: number | undefined): Completion {
    const target = statement.childForFieldName('left');
    const iterableNode = statement.childForFieldName('right');
    const body = statement.childForFieldName('body');
    if (!target || !iterableNode || !body) return 'normal';
    if (stopAt === undefined && this.inert(statement)) {
      this.forget(statement, env, `it is set in the loop at ${position(statement)}, which builds no model and is not stepped through`);
      this.host.skipped?.(statement, `the loop at ${position(statement)} builds no model`, env);
      return 'normal';
    }
    const iterable = this.evaluate(iterableNode, env);
    const elements = this.evaluator.iterate(iterable);
    if (!elements) {
      const why = iterable.kind === 'unknown' ? iterable.reason : `\`${shorten(iterableNode.text)}\` is not a known sequence`;
      this.forget(statement, env, `it is set in the loop over \`${shorten(iterableNode.text)}\` (${position(iterableNode)}), only known at run time`);
      this.host.skipped?.(statement, `the loop over \`${shorten(iterableNode.text)}\` (${position(iterableNode)}) is only known at run time: ${why}`, env);
      return 'normal';
    }
    for (const element of [...elements]) {
      this.budget.tick(statement);
      this.evaluator.bind(target, element, env);
      const completion = this.runBlock(statementsOf(body), env, stopAt);
      if (completion === 'break') return 'normal';
      if (completion === 'return' || completion === 'raise' || completion === 'stop') return completion;
    }
    const orelse = statement.childForFieldName('alternative');
    return orelse ? this.runBlock(statementsOf(orelse.childForFieldName('body')), env, stopAt) : 'normal';
  }

  private runWhile(statement: Node, env: Env<H>, stopAt: number | undefined): Completion {
    const condition = statement.childForFieldName('condition');
    const body = statement.childForFieldName('body');
    if (!condition || !body) return 'normal';
    if (stopAt === undefined && this.inert(statement)) {
      this.forget(statement, env, `it is set in the loop at ${position(statement)}, which builds no model and is not stepped through`);
      return 'normal';
    }
    for (let iteration = 0; iteration <= MAX_SEQUENCE; iteration++) {
      const truth = this.evaluator.truth(this.evaluate(condition, env));
      if (truth === undefined) {
        this.forget(statement, env, `it is set in \`while ${shorten(condition.text)}\` (${position(condition)}), a condition only known at run time`);
        this.host.skipped?.(statement, `the condition \`${shorten(condition.text)}\` (${position(condition)}) is only known at run time`, env);
        return 'normal';
      }
      if (!truth) return 'normal';
      const completion = this.runBlock(statementsOf(body), env, stopAt);
      if (completion === 'break') return 'normal';
      if (completion === 'return' || completion === 'raise' || completion === 'stop') return completion;
    }
    throw new PythonBudgetExceeded(statement, `the loop \`while ${shorten(condition.text)}\` (${position(statement)}) runs more than ${MAX_SEQUENCE.toLocaleString('en-US')} times to read statically.`);
  }

  /**
   * A loop that cannot change a model: its body constructs nothing of the framework's
   * (host.mayChangeModel) and no model-building statement reads a name it sets. Without the
   * host's hook no loop is inert.
   */
  inert(loop: Node): boolean {
    if (!this.host.mayChangeModel) return false;
    const body = loop.childForFieldName('body');
    if (!body || this.host.mayChangeModel(body)) return false;
    const names = this.modelDependencies();
    return !assignedNames(loop).some((name) => names.has(name));
  }

  /** Names read by statements that may change a model, closed over the simple assignments that feed them. */
  private modelDependencies(): Set<string> {
    if (this.modelNames) return this.modelNames;
    const names = new Set<string>();
    const assignments: { targets: string[]; reads: string[] }[] = [];
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop() as Node;
      if (node.type === 'expression_statement' || node.type === 'return_statement') {
        const reads = identifiers(node);
        if (this.host.mayChangeModel?.(node)) for (const name of reads) names.add(name);
        const assignment = codeChildren(node)[0];
        if (assignment?.type === 'assignment' || assignment?.type === 'augmented_assignment') {
          const left = assignment.childForFieldName('left');
          const right = assignment.childForFieldName('right');
          if (left && right) assignments.push({ targets: namesIn(left).concat(left.type === 'attribute' ? [left.text] : []), reads: identifiers(right) });
        }
        continue;
      }
      for (const child of node.namedChildren) if (child) stack.push(child);
    }
    for (let changed = true; changed; ) {
      changed = false;
      for (const { targets, reads } of assignments) {
        if (!targets.some((t) => names.has(t))) continue;
        for (const name of reads) {
          if (!names.has(name)) {
            names.add(name);
            changed = true;
          }
        }
      }
    }
    this.modelNames = names;
    return names;
  }

  /** The names a block sets become unknown, with why (a block not run). */
  forget(block: Node, env: Env<H>, reason: string): void {
    for (const name of assignedNames(block)) env.set(name, unknown(block, `\`${name}\` is only known at run time: ${reason}`));
  }

  /** `def f(...)`, `class C(Base):` bind their names; a class body runs once, its defs close over the enclosing scope. */
  define(statement: Node, env: Env<H>): void {
    const definition = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
    const name = definition?.childForFieldName('name')?.text;
    if (!definition || !name) return;
    if (definition.type === 'function_definition') {
      env.set(name, { kind: 'function', node: definition, scope: env });
      return;
    }
    env.set(name, this.classValue(definition, env));
  }

  classValue(definition: Node, env: Env<H>): ClassValue<H> {
    const name = definition.childForFieldName('name')?.text ?? '?';
    const bases = (definition.childForFieldName('superclasses') ? codeChildren(definition.childForFieldName('superclasses') as Node) : [])
      .filter((b) => b.type !== 'keyword_argument')
      .map((b) => this.evaluate(b, env));
    const attrs = new Map<string, Value<H>>();
    const cls: ClassValue<H> = { kind: 'class', node: definition, name, attrs, bases, scope: env };
    const classEnv = env.child();
    for (const statement of statementsOf(definition.childForFieldName('body'))) {
      const inner = statement.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
      if (inner?.type === 'function_definition') {
        const method = inner.childForFieldName('name')?.text;
        // Methods see the module's names, not the class body's (Python's scoping).
        if (method) classEnv.set(method, { kind: 'function', node: inner, scope: env });
        continue;
      }
      this.runStatement(statement, classEnv);
    }
    for (const [key, value] of classEnv.vars) if (key !== RETURN) attrs.set(key, value);
    return cls;
  }

  /** Calls a def of the file (or a lambda) with bound arguments; what it returns, or None. */
  callFunction(fn: FunctionValue<H>, args: CallArguments<H>, call: Node): Value<H> {
    if (this.callDepth >= MAX_PYTHON_NESTING) {
      throw new PythonBudgetExceeded(call, `\`${shorten(call.text)}\` (${position(call)}) calls functions more than ${MAX_PYTHON_NESTING} levels deep to read statically.`);
    }
    this.callDepth++;
    try {
      const env = this.bindParameters(fn, args, call);
      if (fn.node.type === 'lambda') {
        const body = fn.node.childForFieldName('body');
        return body ? this.evaluate(body, env) : { kind: 'none' };
      }
      const completion = this.runBlock(statementsOf(fn.node.childForFieldName('body')), env);
      if (completion === 'raise') return unknown(call, `\`${shorten(call.text)}\` raises an error`);
      return env.vars.get(RETURN) ?? { kind: 'none' };
    } finally {
      this.callDepth--;
    }
  }

  /**
   * Runs a function's body up to `stopAt` (the statement that starts at or after it) and returns
   * its environment: what a host needs to read names at a node inside a method.
   */
  runFunctionTo(fn: FunctionValue<H>, args: CallArguments<H>, call: Node, stopAt?: number): Env<H> {
    const env = this.bindParameters(fn, args, call);
    this.runBlock(statementsOf(fn.node.childForFieldName('body')), env, stopAt);
    return env;
  }

  /** Binds parameters from the call's arguments, then defaults; a parameter with neither is unknown, saying so. */
  bindParameters(fn: FunctionValue<H>, args: CallArguments<H>, call: Node): Env<H> {
    const env = new Env<H>(fn.scope);
    const positional = [...args.positional];
    const keyword = new Map(args.keyword);
    const parameters = fn.node.childForFieldName('parameters');
    let first = true;
    let keywordOnly = false;
    const fnName = fn.node.childForFieldName('name')?.text ?? 'lambda';
    for (const parameter of parameters ? codeChildren(parameters) : []) {
      if (parameter.type === 'keyword_separator') {
        keywordOnly = true;
        continue;
      }
      if (parameter.type === 'positional_separator') continue;
      if (parameter.type === 'list_splat_pattern') {
        const name = codeChildren(parameter)[0]?.text;
        if (name) env.set(name, { kind: 'sequence', items: positional.splice(0), type: 'tuple' });
        keywordOnly = true;
        continue;
      }
      if (parameter.type === 'dictionary_splat_pattern') {
        const name = codeChildren(parameter)[0]?.text;
        if (name) env.set(name, { kind: 'dict', entries: [...keyword].map(([key, value]) => ({ key, value })) });
        keyword.clear();
        continue;
      }
      const nameNode = parameter.type === 'identifier' ? parameter : (parameter.childForFieldName('name') ?? codeChildren(parameter).find((c) => c.type === 'identifier'));
      const name = nameNode?.text;
      if (!name) continue;
      if (first && fn.self) {
        first = false;
        env.set(name, fn.self);
        continue;
      }
      first = false;
      if (!keywordOnly && positional.length > 0) env.set(name, positional.shift() as Value<H>);
      else if (keyword.has(name)) {
        env.set(name, keyword.get(name) as Value<H>);
        keyword.delete(name);
      } else {
        const fallback = parameter.childForFieldName('value');
        env.set(name, fallback ? this.evaluate(fallback, fn.scope) : unknown(nameNode ?? parameter, `the parameter \`${name}\` of \`${fnName}\` is not given at \`${shorten(call.text)}\` (${position(call)}) and has no default`));
      }
    }
    return env;
  }

  /** `config.HIDDEN`: a module-level name of an imported workspace module, read statically. */
  private moduleAttribute(path: readonly string[], name: string): Value<H> | undefined {
    const env = this.workspaceModule(path.join('.'));
    return env?.lookup(name) as Value<H> | undefined;
  }

  private workspaceModule(dotted: string): Env<never> | undefined {
    const cached = this.modules.envs.get(dotted);
    if (cached !== undefined) return cached ?? undefined;
    const read = this.options.context?.readPythonModule;
    if (!read || !this.options.parser || this.modules.loading.has(dotted)) return undefined;
    const text = read(dotted);
    if (text === undefined) {
      this.modules.envs.set(dotted, null);
      return undefined;
    }
    const tree = this.options.parser.parse(text);
    if (!tree) {
      this.modules.envs.set(dotted, null);
      return undefined;
    }
    this.modules.trees.push(tree);
    this.modules.loading.add(dotted);
    try {
      // Module-level constants only: plain Python, no framework host, the same budget.
      const reader = new PythonInterpreter<never>(tree.rootNode, { context: this.options.context, parser: this.options.parser, budget: this.budget }, this.modules);
      reader.runModule();
      this.modules.envs.set(dotted, reader.moduleEnv);
      return reader.moduleEnv;
    } finally {
      this.modules.loading.delete(dotted);
    }
  }
}

export function statementsOf(block: Node | null | undefined): Node[] {
  return (block?.namedChildren ?? []).filter((c): c is Node => !!c && !isExtra(c));
}

/** Names a block binds anywhere inside it (not inside nested defs or classes), loop targets included. */
export function assignedNames(block: Node): string[] {
  const names = new Set<string>();
  const stack: Node[] = [block];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node !== block && (node.type === 'function_definition' || node.type === 'class_definition')) {
      const name = node.childForFieldName('name')?.text;
      if (name) names.add(name);
      continue;
    }
    if (node.type === 'assignment' || node.type === 'augmented_assignment') {
      const left = node.childForFieldName('left');
      if (left) for (const name of namesIn(left)) names.add(name);
    } else if (node.type === 'for_statement' || node.type === 'for_in_clause') {
      const left = node.childForFieldName('left');
      if (left && node.type === 'for_statement') for (const name of namesIn(left)) names.add(name);
    } else if (node.type === 'as_pattern' && node.parent?.type === 'with_item') {
      const alias = node.childForFieldName('alias');
      if (alias) for (const name of namesIn(codeChildren(alias)[0] ?? alias)) names.add(name);
    } else if (node.type === 'named_expression') {
      const name = node.childForFieldName('name')?.text;
      if (name) names.add(name);
    } else if (node.type === 'call') {
      // `xs.append(v)` changes the list `xs` names.
      const callee = node.childForFieldName('function');
      const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
      const method = callee?.childForFieldName('attribute')?.text;
      if (object?.type === 'identifier' && method && MUTATING_METHODS.has(method)) names.add(object.text);
    } else if (node.type === 'subscript' && node.parent?.type === 'assignment' && node.parent.childForFieldName('left')?.id === node.id) {
      const object = node.childForFieldName('value');
      if (object?.type === 'identifier') names.add(object.text);
    }
    for (const child of node.namedChildren) if (child) stack.push(child);
  }
  return [...names];
}

const MUTATING_METHODS = new Set(['append', 'extend', 'insert', 'pop', 'update', 'setdefault', 'clear', 'remove', 'add']);

function identifiers(node: Node): string[] {
  const out: string[] = [];
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const current = stack.pop() as Node;
    if (current.type === 'identifier') out.push(current.text);
    else if (current.type === 'attribute') {
      out.push(current.text);
      const object = current.childForFieldName('object');
      if (object) stack.push(object);
      continue;
    }
    for (const child of current.namedChildren) if (child) stack.push(child);
  }
  return out;
}

export { numeric };
