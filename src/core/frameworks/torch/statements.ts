/**
 * The statement runner of the PyTorch reader: interprets `__init__`, the helpers and functions it
 * calls, factory functions and module-level code, statement by statement, to know what modules
 * are built and how they are initialised (assignments, list and container mutation, known `for` /
 * `if` / `while`, `apply`, followed helper calls). Issue 12: split out of parse/torchPython.ts.
 */
import type { Node } from 'web-tree-sitter';
import type { SourceSpan } from '../../model';
import { pythonTruthiness } from '../../python/bindings';
import {
  type Value,
  type Scope,
  Env,
  type ModuleScope,
  unknown,
  UnsoundModel,
  MAX_SEQUENCE,
  listCost,
  RETURN,
  type Evaluator,
  callArguments,
  isExtra,
  firstCode,
  statementsOf,
  ancestorOfType,
  shorten,
  because,
} from './values';
import type { ModelContext } from './layers';
import type { ModuleClassIndex } from './moduleClasses';
import type { InitializerReader } from './initializers';
import { type FreezeTarget, freezesOneParameter, freezingCall, freezingLoop } from './freezing';

/** What the statement runner uses of the file loader. */
export interface StatementHost {
  readonly evaluator: Evaluator;
  readonly moduleScope: ModuleScope;
  readonly classes: ModuleClassIndex;
  readonly inits: InitializerReader;
  span(node: Node): SourceSpan;
}

/** Runs the statements of one file (one per file: it caches which helpers matter). */
export class StatementRunner {
  private readonly evaluator: Evaluator;
  private readonly moduleScope: ModuleScope;
  private readonly classes: ModuleClassIndex;
  private readonly inits: InitializerReader;

  constructor(private readonly host: StatementHost) {
    this.evaluator = host.evaluator;
    this.moduleScope = host.moduleScope;
    this.classes = host.classes;
    this.inits = host.inits;
  }

  /** How deeply followed helper calls and evaluated defs are nested (both are capped at 8). */
  private callDepth = 0;

  /**
   * Interprets a def of the file called with known arguments (a bound method too); its `return`
   * value, if any. What it initialises or reports goes to `ctx`.
   */
  callFunction(fn: Node, call: Node, scope: Scope, self: Value | undefined, ctx: ModelContext): Value | undefined {
    if (this.callDepth > 8 || fn.hasError) return undefined;
    this.callDepth++;
    try {
      const env = this.bindCall(fn, call, scope, self);
      this.runBlock(statementsOf(fn.childForFieldName('body')), env, ctx);
      return env.vars.get(RETURN);
    } finally {
      this.callDepth--;
    }
  }

  /** A def's parameters bound from a call: self for a method, then arguments, defaults, else unknown. */
  private bindCall(fn: Node, call: Node, callerScope: Scope, self?: Value): Env {
    const args = callArguments(call);
    const env = new Env(this.moduleScope);
    const fnName = fn.childForFieldName('name')?.text ?? 'the function';
    parameterNames(fn).forEach((p, i) => {
      if (self && i === 0) {
        env.set(p.name, self);
        return;
      }
      const position = self ? i - 1 : i;
      const given = args.keyword.get(p.name)?.value ?? (p.splat ? undefined : args.positional[position]);
      env.set(
        p.name,
        given && given.type !== 'list_splat' && given.type !== 'dictionary_splat'
          ? this.evaluator.evaluate(given, callerScope)
          : p.default
            ? this.evaluator.evaluate(p.default, this.moduleScope)
            : unknown(p.node, `\`${p.name}\` of \`${fnName}\` has no value known statically at \`${shorten(call.text)}\``),
      );
    });
    return env;
  }

  /**
   * Runs a block statement by statement: assignments (to names and `self.x`), list mutation,
   * `nn.init` calls, known `for` / `if`, `with`. `stopAt` ends the run before the statement that
   * contains that offset. Returns false when stopped.
   */
  runBlock(statements: readonly Node[], env: Env, ctx: ModelContext, stopAt?: number): boolean {
    for (const statement of statements) {
      this.evaluator.tick(statement);
      if (stopAt !== undefined && statement.startIndex <= stopAt && stopAt < statement.endIndex) {
        if (statement.type === 'for_statement' || statement.type === 'if_statement' || statement.type === 'with_statement') {
          // The site is inside: enter once with what is known, so its locals are visible.
          const body = statement.type === 'if_statement' ? statement.childForFieldName('consequence') : statement.childForFieldName('body');
          if (body) this.runBlock(statementsOf(body), env, ctx, stopAt);
        }
        return false;
      }
      if (!this.runStatement(statement, env, ctx, stopAt)) return false;
    }
    return true;
  }

  /** The `break` / `continue` that ended the body of the loop being run. */
  private loopJump: 'break' | 'continue' | undefined;

  /** Runs one statement; false when it ends the block (a `return`, `break` / `continue`, or `stopAt`). */
  runStatement(statement: Node, env: Env, ctx: ModelContext, stopAt?: number): boolean {
    switch (statement.type) {
      case 'expression_statement': {
        const expression = firstCode(statement);
        if (!expression) return true;
        if (expression.type === 'assignment' && freezesOneParameter(expression)) {
          ctx.problems.push({ code: 'unsupported-layer', message: `\`${shorten(expression.text)}\` freezes one tensor of a layer, which is not modelled: Activation Lens freezes whole layers (\`requires_grad_(False)\` on the module), so this one is trained in the diagnosis.`, span: this.host.span(expression) });
        } else if (expression.type === 'assignment') this.assign(expression, env);
        else if (expression.type === 'augmented_assignment') this.augment(expression, env);
        else if (expression.type === 'call') this.effect(expression, env, ctx);
        return true;
      }
      case 'for_statement': {
        const freezing = freezingLoop(statement);
        if (freezing) {
          this.freeze(freezing, env, ctx);
          return true;
        }
        const target = statement.childForFieldName('left');
        const iterableNode = statement.childForFieldName('right');
        const body = statement.childForFieldName('body');
        if (!target || !iterableNode || !body) return true;
        // `break` / `continue` are followed in a loop of plain values; a loop that builds layers with
        // one is read as one whose iterations are unknown, never unrolled wrongly.
        const jump = this.mutatesModules(body) ? loopJumpIn(body) : undefined;
        const elements = jump ? undefined : this.iterateForLoop(iterableNode, env);
        if (!elements) {
          const why = jump ? ` (its \`${jump.text}\` at line ${jump.startPosition.row + 1} is not followed statically)` : because(this.evaluator.evaluate(iterableNode, env));
          if (this.mutatesModules(body)) {
            throw new UnsoundModel('parse-error', `the loop over \`${shorten(iterableNode.text)}\` that builds layers is only known at run time${why}.`, iterableNode);
          }
          this.skipUnknownBlock(body, env, ctx, `the loop over \`${shorten(iterableNode.text)}\`${why}`, iterableNode);
          return true;
        }
        for (const element of elements) {
          const bindings = this.evaluator.bind(target, element);
          if (!bindings) throw new UnsoundModel('parse-error', 'only simple loop variables are read.', target);
          for (const [k, v] of bindings) env.set(k, v);
          this.loopJump = undefined;
          if (!this.runBlock(statementsOf(body), env, ctx, stopAt)) {
            const jumped = this.loopJump;
            this.loopJump = undefined;
            if (jumped === 'break') break;
            if (jumped !== 'continue') return false;
          }
        }
        return true;
      }
      case 'break_statement':
      case 'continue_statement':
        // Reached only in a loop of plain values (above): ends the body, the loop reads which.
        this.loopJump = statement.type === 'break_statement' ? 'break' : 'continue';
        return false;
      case 'while_statement': {
        const condition = statement.childForFieldName('condition') ?? statement;
        if (this.mutatesModules(statement)) {
          throw new UnsoundModel('parse-error', `layers are built in a \`while\` loop (\`${shorten(condition.text)}\`), which is not read statically.`, condition);
        }
        // A loop of plain values (`while width < 50: width *= 2`) runs while its condition is known,
        // at most MAX_SEQUENCE times; `break` / `continue` and `else` are not followed.
        const body = statement.childForFieldName('body');
        const plain = body && !loopJumpIn(body) && !statement.childForFieldName('alternative');
        for (let iteration = 0; plain && iteration < MAX_SEQUENCE; iteration++) {
          const truth = pythonTruthiness(this.evaluator.evaluate(condition, env));
          if (truth === false) return true;
          if (truth === undefined) break;
          if (!this.runBlock(statementsOf(body), env, ctx, stopAt)) return false;
        }
        this.skipUnknownBlock(statement, env, ctx, `the \`while\` loop (\`${shorten(condition.text)}\`)`, condition);
        return true;
      }
      case 'if_statement':
        return this.runIf(statement, env, ctx, stopAt);
      case 'return_statement': {
        const expression = firstCode(statement);
        env.set(RETURN, expression ? this.evaluator.evaluate(expression, env) : { kind: 'none' });
        return false;
      }
      case 'with_statement': {
        const body = statement.childForFieldName('body');
        return body ? this.runBlock(statementsOf(body), env, ctx, stopAt) : true;
      }
      default:
        return true;
    }
  }

  private runIf(statement: Node, env: Env, ctx: ModelContext, stopAt?: number): boolean {
    const condition = statement.childForFieldName('condition');
    const truth = condition ? pythonTruthiness(this.evaluator.evaluate(condition, env)) : undefined;
    if (truth === undefined) {
      if (this.mutatesModules(statement)) {
        throw new UnsoundModel('parse-error', `layers are defined under a condition (\`${shorten(condition?.text ?? '')}\`) that is only known at run time.`, statement);
      }
      if (statement.descendantsOfType('call').some((c) => !!c && this.inits.initCall(c))) {
        ctx.problems.push({ code: 'unsupported-layer', message: `An initialisation under the run-time condition \`${shorten(condition?.text ?? '')}\` is ignored; PyTorch's defaults are assumed.`, span: this.host.span(statement) });
      }
      this.forgetNamesChangedIn(statement, env, `is changed under the condition \`${shorten(condition?.text ?? '')}\`, which is only known at run time`);
      return true;
    }
    if (truth) return this.runBlock(statementsOf(statement.childForFieldName('consequence')), env, ctx, stopAt);
    for (const alternative of statement.childrenForFieldName('alternative')) {
      if (!alternative) continue;
      if (alternative.type === 'else_clause') return this.runBlock(statementsOf(alternative.childForFieldName('body')), env, ctx, stopAt);
      const c = alternative.childForFieldName('condition');
      const t = c ? pythonTruthiness(this.evaluator.evaluate(c, env)) : undefined;
      if (t === undefined) {
        if (this.mutatesModules(alternative)) throw new UnsoundModel('parse-error', 'layers are defined under an `elif` only known at run time.', alternative);
        this.forgetNamesChangedIn(alternative, env, `is changed under the condition \`${shorten(c?.text ?? '')}\`, which is only known at run time`);
        return true;
      }
      if (t) return this.runBlock(statementsOf(alternative.childForFieldName('consequence')), env, ctx, stopAt);
    }
    return true;
  }

  /**
   * A block that is not run (its loop or condition is only known at run time): an initialisation
   * in it is reported rather than ignored silently, and the plain values it changes become unknown.
   */
  private skipUnknownBlock(block: Node, env: Env, ctx: ModelContext, what: string, at: Node): void {
    if (this.inits.initialises(block)) {
      ctx.problems.push({ code: 'unsupported-layer', message: `The initialisation in ${what} cannot be followed statically; it is ignored and PyTorch's default initialisation is assumed.`, span: this.host.span(at) });
    }
    this.forgetNamesChangedIn(block, env, `is changed in ${what}, which is only known at run time`);
  }

  /**
   * Names of plain values (numbers, lists of layers, …) changed in a block that is not run become
   * unknown, so a layer later built from them is refused with this reason instead of being built
   * from the value before the block. Objects (`self`) keep their value: their layer attributes
   * are checked by mutatesModules.
   */
  private forgetNamesChangedIn(block: Node, env: Env, reason: string): void {
    for (const [name, change] of this.changesByName(block)) {
      const current = env.lookup(name, block.startIndex);
      if (current && current.kind !== 'object' && current.kind !== 'function' && current.kind !== 'unknown' && current.kind !== 'reference') {
        env.set(name, unknown(change, `\`${name}\` ${reason}`));
      }
    }
  }

  /** True when a statement assigns to `self.…` or appends/extends a list (it may build layers). */
  private mutatesModules(node: Node): boolean {
    return this.classes.mentionsModuleConstructor(node);
  }

  /** The elements a `for` loop runs over, sub-modules for `self.modules()` and the like; undefined when unknown. */
  iterateForLoop(iterableNode: Node, env: Env): readonly Value[] | undefined {
    // `self.modules()`, `self.children()`, `self.named_modules()`, `model.modules()`.
    if (iterableNode.type === 'call') {
      const callee = iterableNode.childForFieldName('function');
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
      const objectNode = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
      if (objectNode && (method === 'modules' || method === 'children' || method === 'named_modules' || method === 'named_children')) {
        const owner = this.evaluator.evaluate(objectNode, env);
        const modules = this.modulesOf(owner, method === 'modules' || method === 'named_modules');
        if (!modules) return undefined;
        return method.startsWith('named')
          ? modules.map((m) => ({ kind: 'sequence' as const, items: [{ kind: 'string' as const, value: m.name }, m.value] }))
          : modules.map((m) => m.value);
      }
    }
    return this.evaluator.iterate(this.evaluator.evaluate(iterableNode, env));
  }

  /** Records the layers of the module a freezing statement names as frozen; says so when it is not known. */
  private freeze({ target, at }: FreezeTarget, env: Env, ctx: ModelContext): void {
    const owner = this.evaluator.evaluate(target, env);
    const layers = owner.kind === 'call' ? [owner] : (this.modulesOf(owner, true) ?? []).map((m) => m.value).filter((v) => v.kind === 'call');
    if (layers.length === 0) {
      ctx.problems.push({ code: 'unsupported-layer', message: `\`${shorten(target.text)}\`, frozen by \`${shorten(at.text)}\`, is not a module known statically; it is trained in the diagnosis.`, span: this.host.span(at) });
      return;
    }
    const span = this.host.span(at);
    ctx.frozen.push(...layers.map((module) => ({ module, at: span, text: shorten(at.text) })));
  }

  /** Sub-modules of `self` (or of a container), in registration order; recursive for modules(). */
  private modulesOf(owner: Value, recursive: boolean): { name: string; value: Value }[] | undefined {
    const result: { name: string; value: Value }[] = [];
    const visit = (name: string, value: Value): void => {
      if (value.kind !== 'call' && value.kind !== 'container') return;
      result.push({ name, value });
      if (recursive && value.kind === 'container') for (const item of value.items) visit(name ? `${name}.${item.key}` : item.key, item.value);
    };
    if (owner.kind === 'object' && !owner.isClass) {
      for (const [name, value] of owner.attrs) visit(name, value);
      return result;
    }
    if (owner.kind === 'container') {
      if (recursive) result.push({ name: '', value: owner });
      for (const item of owner.items) visit(item.key, item.value);
      return result;
    }
    return undefined;
  }

  private assign(assignment: Node, env: Env): void {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    if (!left || !right) return;
    this.assignTo(left, this.evaluator.evaluate(right, env), env);
  }

  /** Binds a value to an assignment target: a name, `obj.attr` of an object, or a tuple of names. */
  assignTo(target: Node, value: Value, env: Env): void {
    if (target.type === 'identifier') {
      env.set(target.text, value);
      return;
    }
    if (target.type === 'attribute') {
      const objectNode = target.childForFieldName('object');
      const attribute = target.childForFieldName('attribute')?.text;
      if (objectNode?.type === 'identifier' && attribute) {
        const object = env.lookup(objectNode.text, target.startIndex);
        if (object?.kind === 'object' && !object.isClass) {
          const attrs = new Map(object.attrs);
          attrs.set(attribute, value);
          env.set(objectNode.text, { ...object, attrs });
        }
      }
      return;
    }
    const bindings = this.evaluator.bind(target, value);
    if (bindings) for (const [k, v] of bindings) env.set(k, v);
  }

  private augment(assignment: Node, env: Env): void {
    const left = assignment.childForFieldName('left');
    const right = assignment.childForFieldName('right');
    const operator = assignment.childForFieldName('operator')?.text;
    if (!left || !right || !operator) return;
    const current = this.evaluator.evaluate(left, env);
    const added = this.evaluator.evaluate(right, env);
    if (operator === '+=' && current.kind === 'sequence' && added.kind === 'sequence') {
      this.evaluator.tick(left, listCost(current.items.length + added.items.length));
      this.assignTo(left, { kind: 'sequence', items: [...current.items, ...added.items].slice(0, MAX_SEQUENCE) }, env);
    } else if (operator === '+=' && current.kind === 'container' && added.kind === 'sequence') {
      this.assignTo(left, appendItems(current, added.items), env);
    } else if (current.kind === 'number' && added.kind === 'number') {
      const a = current.value;
      const b = added.value;
      const result = operator === '+=' ? a + b : operator === '-=' ? a - b : operator === '*=' ? a * b : operator === '//=' ? Math.floor(a / b) : operator === '/=' ? a / b : Number.NaN;
      this.assignTo(left, Number.isFinite(result) ? { kind: 'number', value: result } : unknown(assignment, 'no finite value'), env);
    } else {
      this.assignTo(left, unknown(assignment, `\`${shorten(assignment.text)}\` is not known statically`), env);
    }
  }

  /** A call statement: list/container mutation, add_module, nn.init, apply. */
  private effect(call: Node, env: Env, ctx: ModelContext): void {
    const callee = call.childForFieldName('function');
    if (!callee) return;
    const freezing = freezingCall(call);
    if (freezing) {
      this.freeze(freezing, env, ctx);
      return;
    }
    if (this.inits.recordInit(call, env, ctx)) return;
    if (this.followHelper(call, callee, env, ctx)) return;
    if (callee.type !== 'attribute') return;
    const objectNode = callee.childForFieldName('object');
    const method = callee.childForFieldName('attribute')?.text;
    if (!objectNode || !method) return;
    const args = callArguments(call);
    if (method === 'append' || method === 'extend' || method === 'insert' || method === 'add_module' || method === 'register_module') {
      const current = this.evaluator.evaluate(objectNode, env);
      if (method === 'add_module' || method === 'register_module') {
        const [nameNode, moduleNode] = args.positional;
        if (!nameNode || !moduleNode) return;
        const name = this.evaluator.evaluate(nameNode, env);
        const module = this.evaluator.evaluate(moduleNode, env);
        if (name.kind !== 'string') throw new UnsoundModel('parse-error', `the module name \`${shorten(nameNode.text)}\` is only known at run time.`, nameNode);
        if (current.kind === 'container') this.assignTo(objectNode, { ...current, items: [...current.items, { key: name.value, value: module }] }, env);
        else if (current.kind === 'object' && !current.isClass) {
          const attrs = new Map(current.attrs);
          attrs.set(name.value, module);
          this.assignTo(objectNode, { ...current, attrs }, env);
        }
        return;
      }
      const argument = args.positional[method === 'insert' ? 1 : 0];
      if (!argument) return;
      const value = this.evaluator.evaluate(argument, env);
      const added = method === 'extend' ? this.evaluator.iterate(value) : [value];
      if (!added) throw new UnsoundModel('parse-error', `\`${shorten(argument.text)}\` is only known at run time.`, argument);
      if (method === 'insert') {
        const index = this.evaluator.evaluate(args.positional[0] ?? argument, env);
        const items = current.kind === 'sequence' ? [...current.items] : undefined;
        if (!items || index.kind !== 'number') throw new UnsoundModel('parse-error', `\`${shorten(call.text)}\` is only known at run time.`, call);
        items.splice(index.value, 0, value);
        this.assignTo(objectNode, { kind: 'sequence', items }, env);
        return;
      }
      if (current.kind === 'sequence') {
        if (current.items.length + added.length > MAX_SEQUENCE) throw new UnsoundModel('parse-error', 'it has too many layers to read.', call);
        this.assignTo(objectNode, { kind: 'sequence', items: [...current.items, ...added] }, env);
      } else if (current.kind === 'container') {
        this.assignTo(objectNode, appendItems(current, added), env);
      } else if (this.classes.mentionsModuleConstructor(call)) {
        throw new UnsoundModel('parse-error', `layers are appended to \`${shorten(objectNode.text)}\`, which is only known at run time.`, objectNode);
      }
      return;
    }
    if (method === 'apply') {
      const fnNode = args.positional[0];
      const fn = fnNode ? this.evaluator.evaluate(fnNode, env) : undefined;
      const owner = this.evaluator.evaluate(objectNode, env);
      const modules = this.modulesOf(owner, true);
      if (fn?.kind === 'function' && modules) {
        for (const module of modules) this.runFunction(fn, [module.value], ctx);
      } else if (fnNode) {
        ctx.problems.push({ code: 'unsupported-layer', message: `\`${shorten(call.text)}\` cannot be followed statically; PyTorch's default initialisation is assumed.`, span: this.host.span(call) });
      }
    }
  }

  /**
   * A call statement of a def of the file: a method of the class (`self._init_weights()`,
   * `self.reset_parameters()`) or a module-level function (`init_weights(self)`). It is run in
   * place, in program order, and the objects it changed (`self`, a model passed to it) are written
   * back. `module.reset_parameters()` on a torch layer restores PyTorch's default initialisers. An
   * initialisation-like call that cannot be resolved is reported instead of silently ignored.
   * Returns true when the call was handled.
   */
  private followHelper(call: Node, callee: Node, env: Env, ctx: ModelContext): boolean {
    const method = callee.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
    const objectNode = callee.type === 'attribute' ? callee.childForFieldName('object') : undefined;
    const owner = objectNode ? this.evaluator.evaluate(objectNode, env) : undefined;
    if (method === 'reset_parameters' && owner?.kind === 'call' && this.evaluator.classOf(owner)?.startsWith('torch.nn.')) {
      ctx.inits.push({ module: owner, param: 'weight', spec: { name: 'torchDefaultKernel' } }, { module: owner, param: 'bias', spec: { name: 'torchDefaultBias' } });
      return true;
    }
    let target = this.evaluator.evaluate(callee, env);
    if (target.kind !== 'function' && method && owner?.kind === 'object' && !owner.isClass && owner.classNode) {
      const inherited = this.classes.methodWithInheritance(owner.classNode, method);
      if (inherited) target = { kind: 'function', node: inherited, self: owner };
    }
    if (target.kind === 'function') {
      if (!this.helperMatters(target.node)) return true;
      if (this.callDepth > 8) throw new UnsoundModel('parse-error', 'helper functions call each other too deeply to follow.', call);
      this.callDepth++;
      try {
        const inner = this.bindCall(target.node, call, env, target.self);
        this.runBlock(statementsOf(target.node.childForFieldName('body')), inner, ctx);
        this.writeBack(target.node, call, inner, env, target.self !== undefined);
      } finally {
        this.callDepth--;
      }
      return true;
    }
    if ((target.kind === 'unknown' || target.kind === 'reference') && this.looksLikeInitialisation(call, callee, env)) {
      ctx.problems.push({
        code: 'unsupported-layer',
        message: `\`${shorten(call.text)}\` cannot be followed statically (it is not a method or function defined in this file); if it initialises weights, that is ignored and PyTorch's default initialisation is assumed.`,
        span: this.host.span(call),
      });
      return true;
    }
    return false;
  }

  /**
   * An unresolved call that probably initialises the model: `self.init_params()`,
   * `weights_init(model)`, or an initialiser-like name given the model or one of its layers
   * (`weight_init.c2_xavier_fill(self.fc1)`).
   */
  private looksLikeInitialisation(call: Node, callee: Node, env: Env): boolean {
    const name = callee.type === 'attribute' ? (callee.childForFieldName('attribute')?.text ?? '') : callee.text;
    if (name === '__init__') return false;
    if (/init|reset/i.test(name)) return true;
    if (!/xavier|kaiming|glorot|orthogonal|normal|uniform|fill|zero|constant|weight/i.test(name)) return false;
    return callArguments(call).positional.some((argument) => {
      const value = this.evaluator.evaluate(argument, env);
      return value.kind === 'call' || value.kind === 'container' || (value.kind === 'object' && !value.isClass && !!value.classNode);
    });
  }

  /** After a followed call: the objects the callee changed (its `self`, a model argument) replace the caller's. */
  private writeBack(fn: Node, call: Node, inner: Env, outer: Env, bound: boolean): void {
    const parameters = parameterNames(fn);
    const args = callArguments(call);
    const callee = call.childForFieldName('function');
    const pairs: [Node | undefined, string | undefined][] = [];
    if (bound) pairs.push([callee?.childForFieldName('object') ?? undefined, parameters[0]?.name]);
    const offset = bound ? 1 : 0;
    args.positional.forEach((argument, i) => pairs.push([argument, parameters[i + offset]?.splat ? undefined : parameters[i + offset]?.name]));
    for (const [argument, parameter] of pairs) {
      if (!argument || !parameter || (argument.type !== 'identifier' && argument.type !== 'attribute')) continue;
      const changed = inner.vars.get(parameter);
      if (changed?.kind === 'object' && !changed.isClass) this.assignTo(argument, changed, outer);
    }
  }

  /**
   * Whether a call statement of a def of the file can change the model, so that it is followed:
   * it initialises (nn.init, `.normal_()`, `apply`, `reset_parameters`), changes the sub-modules
   * of its first parameter (`self.fc = …`, `self.layers.append(…)`), constructs modules in a method
   * of a class, or calls a def of the file that does. Others (logging, a training loop) are not
   * run: they cannot change the architecture or the initialisers, and would spend the work budget.
   */
  private helperMatters(fn: Node, visiting = new Set<number>()): boolean {
    const cached = this.helperRelevance.get(fn.id);
    if (cached !== undefined) return cached;
    if (visiting.has(fn.id)) return false;
    visiting.add(fn.id);
    const first = parameterNames(fn)[0]?.name;
    const classNode = ancestorOfType(fn, ['class_definition']);
    const ofFirst = (node: Node | null | undefined): boolean => {
      while (node?.type === 'attribute') node = node.childForFieldName('object');
      return !!first && node?.type === 'identifier' && node.text === first;
    };
    let matters = this.inits.initialises(fn) || (!!classNode && this.classes.mentionsModuleConstructor(fn));
    if (!matters) {
      matters = fn.descendantsOfType(['assignment', 'augmented_assignment']).some((a) => {
        const left = a?.childForFieldName('left');
        return left?.type === 'attribute' && ofFirst(left);
      });
    }
    if (!matters) {
      matters = fn.descendantsOfType('call').some((call) => {
        const callee = call?.childForFieldName('function');
        if (callee?.type === 'identifier') {
          const value = this.moduleScope.lookup(callee.text, callee.startIndex);
          return value?.kind === 'function' && this.helperMatters(value.node, visiting);
        }
        if (callee?.type !== 'attribute' || !ofFirst(callee)) return false;
        const method = callee.childForFieldName('attribute')?.text ?? '';
        if (['append', 'extend', 'insert', 'add_module', 'register_module'].includes(method)) return true;
        const definition = classNode && callee.childForFieldName('object')?.text === first ? this.classes.methodWithInheritance(classNode, method) : undefined;
        return !!definition && this.helperMatters(definition, visiting);
      });
    }
    this.helperRelevance.set(fn.id, matters);
    return matters;
  }

  /** helperMatters by def node id, computed once per def. */
  private readonly helperRelevance = new Map<number, boolean>();

  /** Interprets a def of the file with positional arguments (init functions given to apply). */
  private runFunction(fn: Extract<Value, { kind: 'function' }>, args: readonly Value[], ctx: ModelContext): void {
    const parameters = parameterNames(fn.node);
    const env = new Env(this.moduleScope);
    const values = fn.self ? [fn.self, ...args] : args;
    parameters.forEach((p, i) => env.set(p.name, values[i] ?? (p.default ? this.evaluator.evaluate(p.default, this.moduleScope) : unknown(fn.node, `\`${p.name}\` has no value`))));
    this.runBlock(statementsOf(fn.node.childForFieldName('body')), env, ctx);
  }

  /** Names assigned, augmented or appended to inside a block, each with the first statement that changes it. */
  private changesByName(block: Node): Map<string, Node> {
    const changes = new Map<string, Node>();
    for (const node of block.descendantsOfType(['assignment', 'augmented_assignment', 'call'])) {
      const named = node?.type === 'call' ? node.childForFieldName('function')?.childForFieldName('object') : node?.childForFieldName('left');
      if (node && named?.type === 'identifier' && (node.type !== 'call' || node.childForFieldName('function')?.type === 'attribute') && !changes.has(named.text)) {
        changes.set(named.text, node);
      }
    }
    return changes;
  }
}

/** The first `break` / `continue` of a loop body that belongs to this loop (not to a nested loop or function). */
function loopJumpIn(body: Node): Node | undefined {
  for (const child of body.namedChildren) {
    if (!child) continue;
    if (child.type === 'break_statement' || child.type === 'continue_statement') return child;
    if (['for_statement', 'while_statement', 'function_definition', 'class_definition'].includes(child.type)) {
      const orElse = child.type === 'for_statement' || child.type === 'while_statement' ? child.childForFieldName('alternative') : null;
      const inElse = orElse ? loopJumpIn(orElse) : undefined;
      if (inElse) return inElse;
      continue;
    }
    const inner = loopJumpIn(child);
    if (inner) return inner;
  }
  return undefined;
}

/** A container with values appended, keyed by position as nn.ModuleList / nn.Sequential number them. */
function appendItems(container: Extract<Value, { kind: 'container' }>, values: readonly Value[]): Value {
  const items = [...container.items];
  for (const value of values) items.push({ key: String(items.length), value });
  return { ...container, items };
}

/** The parameters of a def: name, default, node, and whether it is `*args` / `**kwargs`. */
export function parameterNames(fn: Node): { name: string; default?: Node; node: Node; splat: boolean }[] {
  const result: { name: string; default?: Node; node: Node; splat: boolean }[] = [];
  for (const parameter of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!parameter || isExtra(parameter)) continue;
    if (parameter.type === 'identifier') {
      result.push({ name: parameter.text, node: parameter, splat: false });
      continue;
    }
    if (parameter.type === 'list_splat_pattern' || parameter.type === 'dictionary_splat_pattern' || parameter.type === 'keyword_separator' || parameter.type === 'positional_separator') {
      if (parameter.type === 'list_splat_pattern' || parameter.type === 'dictionary_splat_pattern') {
        const id = firstCode(parameter);
        if (id) result.push({ name: id.text, node: parameter, splat: true });
      }
      continue;
    }
    const nameNode = parameter.childForFieldName('name') ?? firstCode(parameter);
    if (!nameNode || nameNode.type !== 'identifier') continue;
    result.push({ name: nameNode.text, default: parameter.childForFieldName('value') ?? undefined, node: parameter, splat: false });
  }
  return result;
}
