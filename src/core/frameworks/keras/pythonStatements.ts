import type { Node } from 'web-tree-sitter';
import { dottedParts } from '../../python/imports';
import { MAX_SEQUENCE, namesIn } from '../../python/evaluator';
import { type ActivationSpec } from '../../model';
import { ACTIVATION_IDENTIFIERS, LAYER_CLASSES, MERGE_LAYERS } from './vocabulary';
import { ancestorOfType, namedStatements, skipParenthesesDown } from './pythonSyntax';
import { VersionedBindings } from '../../python/bindings';
import { LayerCall, Scope, TensorChain, UNBOUND, Value, VersionScope, callOf, chainToArray, changedDictReason, sequence, shorten, tensorOf, unknown, unknownOf } from './pythonValues';
import { MAX_CHAIN, UnsoundModel, type KerasLoaderHost } from './pythonTypes';


/** Why a run of statements stopped early; `unknown`: a break/continue under a run-time condition. */
export type Jump = 'break' | 'continue' | 'return' | 'stop' | 'unknown';

/** What an add-chain (`model = Sequential()` then `model.add(...)`) does with the calls on its variable. */
export interface AddChainHooks {
  readonly target: string;
  add(layer: Node, scope: Scope): void;
  build(shape: Node, scope: Scope): void;
  pop(call: Node): void;
}

/**
 * Statements executed per model at most (loop iterations count each time). Past it the model is
 * refused with a position rather than read for an unbounded time.
 */
export const MAX_INTERPRETED_STATEMENTS = 20_000;

/** List methods that change a list in a way that is not modelled (append and extend are). */
export const LIST_MUTATORS = new Set(['insert', 'pop', 'remove', 'clear', 'reverse', 'sort']);

/**
 * Runs the statements of a function body (or the module) that come before a model's definition,
 * statically: assignments, augmented assignments, `list.append(...)`, `for` loops over known
 * sequences (unrolled, with the loop variable bound), `if` on known conditions, `break` and
 * `continue`. Functional-API tensors (`x = layers.Dense(64)(x)`) become `tensor` values carrying
 * their layer chain. What cannot be run statically (a `while` loop, a loop over a run-time value,
 * an `if` on a run-time condition) makes every name it assigns unknown, with the reason at the
 * statement, so a model that uses them is refused there instead of being built shortened.
 */
export class StatementInterpreter {
  private readonly values = new Map<string, Value>();
  /** Every value each name has had, with the version (count of assignments) it was set at. */
  private readonly history = new VersionedBindings<Value>();
  private snapshot: Scope | undefined;
  private executed = 0;
  private chain: AddChainHooks | undefined;
  /** Set once the add-chain's variable is assigned again: the chain ends there. */
  private chainEnded = false;
  /** The condition behind the last `unknown` jump, for the enclosing loop's problem. */
  private unknownJump: { node: Node; reason: string } | undefined;

  constructor(
    private readonly loader: KerasLoaderHost,
    private readonly base: Scope,
  ) {}

  /** The names in effect now (a snapshot: layer calls keep the scope they were written in). */
  scope(): Scope {
    // O(1): a view of the history at the current version, not a copy of every name (copying made
    // a file of 30,000 assignments quadratic).
    this.snapshot ??= new VersionScope(this.base, this.history, this.history.version);
    return this.snapshot;
  }

  private set(name: string, value: Value): void {
    this.values.set(name, value);
    this.history.set(name, value);
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
      for (const name of target ? namesIn(target) : []) {
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
    this.loader.budget.tick(statement);
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
        return this.whileStatement(statement);
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
    if (this.chain && namesIn(target).includes(this.chain.target)) this.chainEnded = true;
    if (target.type === 'identifier') {
      this.set(target.text, value);
      return;
    }
    if (target.type === 'pattern_list' || target.type === 'tuple_pattern' || target.type === 'list_pattern') {
      const bindings = this.loader.evaluator.bind(target, value);
      for (const name of namesIn(target)) {
        this.set(name, bindings.get(name) ?? unknown(valueNode, `the unpacking \`${shorten(target.text)} = ${shorten(valueNode.text)}\` is not read statically`));
      }
      return;
    }
    if (target.type === 'subscript') {
      // `widths[0] = 8` changes a list in place.
      const object = target.childForFieldName('value');
      if (object?.type === 'identifier' && this.values.has(object.text)) {
        const changed = this.values.get(object.text)?.kind === 'dict' ? changedDictReason(object.text, target.parent ?? target) : undefined;
        this.set(object.text, unknown(target, changed ?? `\`${shorten(target.text)} = …\` changes \`${object.text}\` in a way that is not read statically`, { atUse: true }));
      }
    }
  }

  private augmentedAssignment(expression: Node): void {
    const left = expression.childForFieldName('left');
    const right = expression.childForFieldName('right');
    const operator = expression.childForFieldName('operator')?.text ?? '';
    if (!left || !right) return;
    if (this.chain && namesIn(left).includes(this.chain.target)) this.chainEnded = true;
    if (left.type !== 'identifier') return;
    const current = this.lookup(left.text, expression.startIndex);
    const operand = this.evaluateRight(right);
    if (current !== UNBOUND && (tensorOf(current) || tensorOf(operand))) {
      this.set(left.text, unknown(expression, `\`${shorten(expression.text)}\` combines tensors without a Keras layer (a residual connection?); only linear chains of layers are read`, { code: 'unsupported-layer' }));
      return;
    }
    const result =
      current === UNBOUND ? unknown(left, `\`${left.text}\` is not assigned before \`${shorten(expression.text)}\``)
      : current.kind === 'unknown' ? current
      : operand.kind === 'unknown' ? operand
      : this.loader.evaluator.binary(operator.slice(0, -1), current, operand, expression);
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
      if (method === 'append') this.set(object.text, sequence([...current.items, added]));
      else if (added.kind === 'sequence') this.set(object.text, sequence([...current.items, ...added.items]));
      else this.set(object.text, added.kind === 'unknown' ? added : unknown(argument, `\`${shorten(argument.text)}\` is not a known list`));
    } else if (method === 'append' || method === 'extend' || LIST_MUTATORS.has(method)) {
      this.set(object.text, unknown(call, `\`${shorten(call.text)}\` changes the list \`${object.text}\` in a way that is not read statically`, { atUse: true }));
    }
  }

  private forStatement(statement: Node): Jump | undefined {
    const target = statement.childForFieldName('left');
    const iterableNode = statement.childForFieldName('right');
    const body = statement.childForFieldName('body');
    if (!target || !iterableNode || !body) return undefined;
    const iterable = this.loader.evaluate(iterableNode, this.scope());
    // Iterating a dict visits its keys, a string its characters.
    const elements = this.loader.evaluator.iterate(iterable);
    if (!elements) {
      const why = iterable.kind === 'unknown' ? ` (${iterable.reason})` : '';
      this.cannotRun(statement, iterableNode, `the \`for\` loop over \`${shorten(iterableNode.text)}\` is only known at run time, so the layers it builds cannot be read${why}; loop over a list, a tuple or \`range(...)\` of constants`);
      return undefined;
    }
    let completed = true;
    for (const element of [...elements]) {
      for (const [name, value] of this.loader.evaluator.bind(target, element)) this.set(name, value);
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

  /** `while` on a condition known at each iteration is run like Python runs it; one only known at run time is not. */
  private whileStatement(statement: Node): Jump | undefined {
    const condition = statement.childForFieldName('condition');
    const body = statement.childForFieldName('body');
    if (!condition || !body) return undefined;
    for (let iteration = 0; ; iteration++) {
      const test = this.loader.evaluate(condition, this.scope());
      const truth = this.loader.evaluator.truth(test);
      if (truth === undefined) {
        const why = test.kind === 'unknown' ? ` (${test.reason})` : '';
        this.cannotRun(statement, condition, `a \`while\` loop is not unrolled when its condition is only known at run time${why}, so what it builds is only known at run time`);
        return undefined;
      }
      if (!truth) break;
      if (iteration >= MAX_SEQUENCE) {
        throw new UnsoundModel('parse-error', `the loop \`while ${shorten(condition.text)}\` runs more than ${MAX_SEQUENCE} times, more than Activation Lens follows statically.`, condition);
      }
      const jump = this.runBlock(body);
      if (jump === 'break') return undefined;
      if (jump === 'unknown') {
        const cause = this.unknownJump ?? { node: statement, reason: 'the loop stops or skips under a condition only known at run time' };
        this.cannotRun(statement, cause.node, cause.reason);
        return undefined;
      }
      if (jump === 'return' || jump === 'stop') return jump;
    }
    const alternative = statement.childForFieldName('alternative');
    return alternative ? this.runBlock(alternative.childForFieldName('body')) : undefined;
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
        const truth = this.loader.evaluator.truth(test);
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
    const tensor = tensorOf(value);
    if (tensor) return chainToArray(tensor.chain);
    if (value.kind === 'unknown') throw new UnsoundModel(unknownOf(value)?.code ?? 'parse-error', `${value.reason}.`, value.node);
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
      return tensorOf(value) ? value : undefined;
    }
    if (node.type !== 'call') {
      return this.mentionsTensor(node) ? unknown(node, `\`${shorten(node.text)}\` is not a layer applied to a tensor`) : undefined;
    }
    const layerClass = this.loader.layerClassOf(node);
    if (layerClass?.keras && LAYER_CLASSES.get(layerClass.className)?.key === 'input') {
      return { kind: 'host', host: { kind: 'tensor', chain: { layer: { node, scope: this.scope() }, previous: undefined, length: 1 } } };
    }
    const callee = skipParenthesesDown(node.childForFieldName('function'));
    const args = this.loader.arguments(node);
    const inputNode = args.keyword.get('inputs')?.value ?? args.positional[0];
    let constructor: LayerCall | undefined;
    if (callee?.type === 'call' && !this.callsFunction(callee)) {
      constructor = { node: callee, scope: this.scope(), at: node };
    } else if (callee?.type === 'identifier') {
      // A layer instance bound to a name: `dense = layers.Dense(64)` … `x = dense(x)`.
      const value = this.lookup(callee.text, node.startIndex);
      const layer = value !== UNBOUND ? callOf(value) : undefined;
      if (layer) constructor = { node: layer.node, scope: layer.scope, instance: layer, at: node };
    }
    if (constructor) return this.applyLayer(constructor, node, inputNode);
    const parts = callee ? dottedParts(callee) : undefined;
    const activation = parts && parts.length > 1 ? ACTIVATION_IDENTIFIERS.get(parts[parts.length - 1]) : undefined;
    if (callee && activation && inputNode) {
      const input = this.traceTensor(inputNode);
      const tensor = tensorOf(input);
      if (tensor) {
        const slopeNode = args.keyword.get('alpha')?.value ?? args.keyword.get('negative_slope')?.value;
        const slope = slopeNode ? this.loader.evaluate(slopeNode, this.scope()) : undefined;
        const op: ActivationSpec = activation.name === 'leakyRelu' && slope?.kind === 'number' ? { name: 'leakyRelu', alpha: slope.value } : activation;
        return this.extend(tensor.chain, { node, scope: this.scope(), activationOp: { activation: op, callee } }, node);
      }
      if (input) return input;
    }
    return this.mentionsTensor(node) ? unknown(node, `\`${shorten(node.text)}\` is not a Keras layer applied to a tensor, so the layer chain cannot be followed`) : undefined;
  }

  /** True when a call calls a def of the file (`scaled(4)(11)` calls what it returns, not a layer). */
  private callsFunction(call: Node): boolean {
    const callee = call.childForFieldName('function');
    if (callee?.type !== 'identifier') return false;
    const value = this.lookup(callee.text, call.startIndex);
    return value !== UNBOUND && value.kind === 'function';
  }

  private applyLayer(constructor: LayerCall, application: Node, inputNode: Node | undefined): Value {
    const layerClass = this.loader.layerClassOf(constructor.node);
    if (layerClass?.keras && MERGE_LAYERS.has(layerClass.className)) {
      return unknown(constructor.node, `\`${layerClass.className}\` merges branches; only linear chains of layers are read (the model is not diagnosed)`, { code: 'unsupported-layer' });
    }
    if (!inputNode) return unknown(application, `the layer \`${shorten(constructor.node.text)}\` is applied to no tensor`);
    const inputInner = skipParenthesesDown(inputNode) ?? inputNode;
    if (inputInner.type === 'list' || inputInner.type === 'tuple') {
      return unknown(inputInner, `\`${shorten(constructor.node.text)}\` takes several tensors; only linear chains are read`, { code: 'unsupported-layer' });
    }
    const input = this.traceTensor(inputNode) ?? this.loader.evaluate(inputNode, this.scope());
    const tensor = tensorOf(input);
    if (tensor) return this.extend(tensor.chain, constructor, application);
    if (input.kind === 'unknown') return input;
    return unknown(inputNode, `\`${shorten(inputNode.text)}\` is not a tensor that comes from a \`keras.Input\`, so the layer chain cannot be followed`);
  }

  private extend(chain: TensorChain, layer: LayerCall, at: Node): Value {
    if (chain.length >= MAX_CHAIN) return unknown(at, 'its layer chain is too long to follow');
    return { kind: 'host', host: { kind: 'tensor', chain: { layer, previous: chain, length: chain.length + 1 } } };
  }

  private mentionsTensor(node: Node): boolean {
    const identifiers = node.type === 'identifier' ? [node] : node.descendantsOfType('identifier');
    return identifiers.some((identifier) => !!identifier && tensorOf(this.values.get(identifier.text)) !== undefined);
  }

  // #endregion
}

/** Every name a statement may change: assignment and loop targets, and lists it appends to. */
export function assignedNames(statement: Node): Set<string> {
  const names = new Set<string>();
  const nodes = [statement, ...statement.descendantsOfType(['assignment', 'augmented_assignment', 'for_statement', 'call'])];
  for (const node of nodes) {
    if (!node) continue;
    if (node.type === 'assignment' || node.type === 'augmented_assignment' || node.type === 'for_statement') {
      const left = node.childForFieldName('left');
      for (const name of left ? namesIn(left) : []) names.add(name);
    } else if (node.type === 'call') {
      const callee = node.childForFieldName('function');
      const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
      if (object?.type === 'identifier') names.add(object.text);
    }
  }
  return names;
}

/** A `break` / `continue` inside `statement` that belongs to the loop around it (not to a loop inside). */
export function containsLoopJump(statement: Node): boolean {
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
export function methodCalledOn(call: Node, target: string): string | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute') return undefined;
  if (callee.childForFieldName('object')?.text !== target) return undefined;
  return callee.childForFieldName('attribute')?.text;
}

export function statementAddsTo(statement: Node, target: string): boolean {
  return statement.descendantsOfType('call').some((call) => !!call && methodCalledOn(call, target) === 'add');
}

/** The statements a node's code runs in: the body of its function, or the module. */
export function executionRoot(node: Node, root: Node): Node {
  return ancestorOfType(node, 'function_definition')?.childForFieldName('body') ?? root;
}


/** The statements before a model's definition, run: the names (and loop variables) in effect there. */
export function interpreterAt(loader: KerasLoaderHost, node: Node, scope: Scope): StatementInterpreter {
  const state = new StatementInterpreter(loader, scope);
  state.runUntil(namedStatements(executionRoot(node, loader.rootNode)), node);
  return state;
}
