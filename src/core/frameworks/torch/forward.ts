/**
 * What a PyTorch module value contributes to a model, as layers in the order they are applied:
 * a module class is read by running its `__init__` (the statement runner) and then interpreting
 * `forward`, which follows the input tensor through sub-modules, helper methods and functional
 * ops; containers and torch.nn constructors become layers through ModuleReader. Issue 12: split
 * out of parse/torchPython.ts by responsibility.
 */
import type { Node } from 'web-tree-sitter';
import type { SourceSpan } from '../../model';
import { dottedParts } from '../../python/imports';
import { pythonTruthiness } from '../../python/bindings';
import { FUNCTIONAL_ACTIVATIONS, NEUTRAL_METHODS, SHAPE_PRESERVING_FUNCTIONS } from './vocabulary';
import {
  type Op,
  type Value,
  Env,
  type ModuleScope,
  unknown,
  UnsoundModel,
  type Evaluator,
  callArguments,
  firstCode,
  statementsOf,
  shorten,
  describeValue,
} from './values';
import { type ModelContext, type RawLayer, ModuleReader } from './layers';
import type { ModuleClassIndex } from './moduleClasses';
import { type StatementRunner, parameterNames } from './statements';

/** What reading module layers and forward uses of the file loader. */
export interface ForwardHost {
  readonly evaluator: Evaluator;
  readonly moduleScope: ModuleScope;
  readonly classes: ModuleClassIndex;
  readonly statements: StatementRunner;
  span(node: Node): SourceSpan;
}

/** Reads module values into layers for one file; startModel() before each model. */
export class ForwardReader {
  private readonly evaluator: Evaluator;
  private readonly moduleScope: ModuleScope;
  private readonly classes: ModuleClassIndex;
  private readonly statements: StatementRunner;

  constructor(private readonly host: ForwardHost) {
    this.evaluator = host.evaluator;
    this.moduleScope = host.moduleScope;
    this.classes = host.classes;
    this.statements = host.statements;
  }

  // #region Module classes: __init__, then forward

  /**
   * Runs __init__ and forward of a module class: its layers in forward order, and the instance
   * `self` that __init__ built (for initialisations made after construction).
   */
  buildClass(classNode: Node, call: Value | undefined, prefix: string, ctx: ModelContext, depth: number): { layers: RawLayer[]; self: Value } {
    if (depth > 8) throw new UnsoundModel('parse-error', 'modules are nested too deeply.', classNode);
    const classValue = this.evaluator.classValue(classNode, this.moduleScope);
    const self: Value = { kind: 'object', attrs: new Map(), classNode };
    const env = new Env(this.moduleScope);
    const init = this.classes.methodWithInheritance(classNode, '__init__');
    this.bindParameters(init, self, call, env);
    const selfName = init ? (parameterNames(init)[0]?.name ?? 'self') : 'self';
    if (!init) env.set(selfName, self);
    if (init) this.statements.runBlock(statementsOf(init.childForFieldName('body')), env, ctx);
    const built = env.lookup(selfName, Number.MAX_SAFE_INTEGER);
    const selfValue: Value = built?.kind === 'object' ? { ...built, attrs: new Map([...(classValue.kind === 'object' ? classValue.attrs : []), ...built.attrs]) } : self;
    const forward = this.classes.methodWithInheritance(classNode, 'forward');
    if (!forward) throw new UnsoundModel('parse-error', 'it has no `forward` method, so the order of its layers is unknown.', classNode);
    const tensor = this.runForward(forward, selfValue, ctx);
    return { layers: this.expandOps(tensor.ops, prefix, ctx, depth), self: selfValue };
  }

  /** buildClass's layers only. */
  private classLayers(classNode: Node, call: Value | undefined, prefix: string, ctx: ModelContext, depth: number): RawLayer[] {
    return this.buildClass(classNode, call, prefix, ctx, depth).layers;
  }

  /** Binds __init__'s parameters: call arguments, then defaults, else unknown. */
  private bindParameters(init: Node | undefined, self: Value, call: Value | undefined, env: Env): void {
    if (!init) return;
    const parameters = parameterNames(init);
    const callArgs = call?.kind === 'call' ? callArguments(call.node) : undefined;
    const callScope = call?.kind === 'call' ? call.scope : this.moduleScope;
    parameters.forEach((parameter, i) => {
      if (i === 0) {
        env.set(parameter.name, self);
        return;
      }
      const given = callArgs?.keyword.get(parameter.name)?.value ?? (parameter.splat ? undefined : callArgs?.positional[i - 1]);
      if (given) env.set(parameter.name, this.evaluator.evaluate(given, callScope));
      else if (parameter.default) env.set(parameter.name, this.evaluator.evaluate(parameter.default, this.moduleScope));
      else env.set(parameter.name, unknown(parameter.node, `\`${parameter.name}\` is a parameter of \`__init__\` with no default and no call that gives it`));
    });
  }

  // #endregion

  // #region forward

  /** Interprets forward: follows the input tensor through sub-modules and functional ops. */
  private runForward(forward: Node, self: Value, ctx: ModelContext): { ops: readonly Op[] } {
    const parameters = parameterNames(forward);
    if (parameters.length < 2) throw new UnsoundModel('parse-error', '`forward` takes no input.', forward);
    const env = new Env(this.moduleScope);
    env.set(parameters[0].name, self);
    env.set(parameters[1].name, { kind: 'tensor', ops: [], origin: 0 });
    for (const extra of parameters.slice(2)) {
      env.set(extra.name, extra.default ? this.evaluator.evaluate(extra.default, this.moduleScope) : unknown(extra.node, `\`${extra.name}\` is an extra input of forward`));
    }
    const result = this.runForwardBlock(statementsOf(forward.childForFieldName('body')), env, ctx, 0);
    if (!result) throw new UnsoundModel('parse-error', '`forward` does not return the transformed input.', forward);
    return result;
  }

  /** Returns the returned tensor, or undefined when the block falls through. */
  private runForwardBlock(statements: readonly Node[], env: Env, ctx: ModelContext, depth: number): { ops: readonly Op[] } | undefined {
    for (const statement of statements) {
      this.evaluator.tick(statement);
      switch (statement.type) {
        case 'expression_statement': {
          const expression = firstCode(statement);
          if (!expression) break;
          if (expression.type === 'assignment') {
            const left = expression.childForFieldName('left');
            const right = expression.childForFieldName('right');
            if (!left || !right) break;
            const value = this.forwardValue(right, env, ctx, depth);
            if (left.type === 'identifier') env.set(left.text, value);
            else if (value.kind === 'tensor') throw new UnsoundModel('unsupported-layer', `\`${shorten(statement.text)}\` is not supported in forward (only assignments to plain names are followed).`, statement);
            else this.statements.assignTo(left, value, env);
          } else if (expression.type === 'augmented_assignment') {
            if (this.touchesTensor(expression, env)) {
              throw new UnsoundModel('unsupported-layer', `\`${shorten(expression.text)}\` (a residual or in-place sum) is not supported: the model is read as a plain chain of layers.`, expression);
            }
          } else if (expression.type === 'call') {
            // An in-place op used as a statement: `x.relu_()`, `F.relu(x, inplace=True)`.
            const value = this.forwardValue(expression, env, ctx, depth);
            if (value.kind === 'tensor') {
              const target = this.inPlaceTarget(expression);
              if (target) env.set(target, value);
            }
          }
          break;
        }
        case 'return_statement': {
          const expression = firstCode(statement);
          if (!expression) throw new UnsoundModel('parse-error', '`forward` returns nothing.', statement);
          const value = this.forwardValue(expression, env, ctx, depth);
          if (value.kind !== 'tensor') {
            throw new UnsoundModel('unsupported-layer', `\`forward\` returns \`${shorten(expression.text)}\`, which is not read as the transformed input (tuples and dicts are not supported).`, expression);
          }
          return value;
        }
        case 'for_statement': {
          const target = statement.childForFieldName('left');
          const iterableNode = statement.childForFieldName('right');
          const body = statement.childForFieldName('body');
          if (!target || !iterableNode || !body) break;
          const elements = this.statements.iterateForLoop(iterableNode, env);
          if (!elements) {
            if (this.touchesTensor(body, env)) throw new UnsoundModel('parse-error', `the loop over \`${shorten(iterableNode.text)}\` in forward is only known at run time.`, iterableNode);
            break;
          }
          for (const element of elements) {
            const bindings = this.evaluator.bind(target, element);
            if (!bindings) throw new UnsoundModel('parse-error', 'only simple loop variables are read.', target);
            for (const [k, v] of bindings) env.set(k, v);
            const returned = this.runForwardBlock(statementsOf(body), env, ctx, depth);
            if (returned) return returned;
          }
          break;
        }
        case 'if_statement': {
          const condition = statement.childForFieldName('condition');
          const truth = condition ? pythonTruthiness(this.evaluator.evaluate(condition, env)) : undefined;
          if (truth === undefined) {
            if (this.touchesTensor(statement, env)) {
              throw new UnsoundModel('unsupported-layer', `forward branches on \`${shorten(condition?.text ?? '')}\`, which is only known at run time.`, statement);
            }
            break;
          }
          let chosen: Node | null | undefined = truth ? statement.childForFieldName('consequence') : undefined;
          if (!truth) {
            for (const alternative of statement.childrenForFieldName('alternative')) {
              if (!alternative) continue;
              if (alternative.type === 'else_clause') {
                chosen = alternative.childForFieldName('body');
                break;
              }
              const c = alternative.childForFieldName('condition');
              const t = c ? pythonTruthiness(this.evaluator.evaluate(c, env)) : undefined;
              if (t === undefined) throw new UnsoundModel('unsupported-layer', 'forward branches on a condition only known at run time.', alternative);
              if (t) {
                chosen = alternative.childForFieldName('consequence');
                break;
              }
            }
          }
          if (chosen) {
            const returned = this.runForwardBlock(statementsOf(chosen), env, ctx, depth);
            if (returned) return returned;
          }
          break;
        }
        case 'with_statement': {
          const returned = this.runForwardBlock(statementsOf(statement.childForFieldName('body')), env, ctx, depth);
          if (returned) return returned;
          break;
        }
        default:
          if (this.touchesTensor(statement, env)) {
            throw new UnsoundModel('unsupported-layer', `\`${shorten(statement.text)}\` in forward is not supported.`, statement);
          }
      }
    }
    return undefined;
  }

  /** The variable an in-place op used as a statement changes: `x` of `x.relu_()` or `F.relu(x, inplace=True)`. */
  private inPlaceTarget(call: Node): string | undefined {
    const callee = call.childForFieldName('function');
    if (callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text.endsWith('_')) {
      const object = callee.childForFieldName('object');
      return object?.type === 'identifier' ? object.text : undefined;
    }
    const first = callArguments(call).positional[0];
    return first?.type === 'identifier' ? first.text : undefined;
  }

  /** True when an expression or statement reads a tensor variable. */
  private touchesTensor(node: Node, env: Env): boolean {
    const identifiers = node.type === 'identifier' ? [node] : node.descendantsOfType('identifier');
    return identifiers.some((id) => !!id && env.lookup(id.text, id.startIndex)?.kind === 'tensor');
  }

  /** Evaluates an expression of forward: a tensor (with its ops) or any other value. */
  private forwardValue(node: Node, env: Env, ctx: ModelContext, depth: number): Value {
    this.evaluator.tick(node);
    if (++this.forwardDepth > 200) {
      this.forwardDepth = 0;
      throw new UnsoundModel('parse-error', 'forward nests calls too deeply to read.', node);
    }
    try {
      return this.forwardValueNode(node, env, ctx, depth);
    } finally {
      this.forwardDepth = Math.max(0, this.forwardDepth - 1);
    }
  }

  /** How deeply forwardValue calls are nested, against a forward that nests calls past any real model. */
  private forwardDepth = 0;

  private forwardValueNode(node: Node, env: Env, ctx: ModelContext, depth: number): Value {
    switch (node.type) {
      case 'identifier':
        return env.lookup(node.text, node.startIndex) ?? { kind: 'reference', path: [node.text] };
      case 'parenthesized_expression': {
        const inner = firstCode(node);
        return inner ? this.forwardValue(inner, env, ctx, depth) : unknown(node, 'empty parentheses');
      }
      case 'call':
        return this.forwardCall(node, env, ctx, depth);
      default: {
        const gated = this.selfGated(node, env, ctx, depth);
        if (gated) return gated;
        if (this.touchesTensor(node, env)) {
          throw new UnsoundModel('unsupported-layer', `\`${shorten(node.text)}\` in forward is not supported (Activation Lens reads a plain chain of layers: no sums, products, concatenations or indexing of the data).`, node);
        }
        return this.evaluator.evaluate(node, env);
      }
    }
  }

  /**
   * `x * torch.sigmoid(x)` (either order, `F.sigmoid`, `x.sigmoid()`): SiLU written out, as custom
   * activation modules often do; read as F.silu on `x`. Undefined for any other expression.
   */
  private selfGated(node: Node, env: Env, ctx: ModelContext, depth: number): Value | undefined {
    if (node.type !== 'binary_operator' || node.childForFieldName('operator')?.text !== '*') return undefined;
    const sides = [node.childForFieldName('left'), node.childForFieldName('right')].map((side) => (side?.type === 'parenthesized_expression' ? firstCode(side) : side));
    for (const [tensorNode, gateNode] of [[sides[0], sides[1]], [sides[1], sides[0]]]) {
      if (tensorNode?.type !== 'identifier' || gateNode?.type !== 'call') continue;
      const tensor = env.lookup(tensorNode.text, tensorNode.startIndex);
      if (tensor?.kind !== 'tensor') continue;
      const gate = this.forwardValue(gateNode, env, ctx, depth);
      // The gate must be exactly `x` followed by one sigmoid.
      const last = gate.kind === 'tensor' && gate.ops.length === tensor.ops.length + 1 ? gate.ops[gate.ops.length - 1] : undefined;
      const gatesSameTensor = last !== undefined && tensor.ops.every((op, i) => gate.kind === 'tensor' && gate.ops[i] === op);
      if (!last || !gatesSameTensor || last.type !== 'functional' || !/^sigmoid_?$/.test(last.name)) continue;
      return { kind: 'tensor', ops: [...tensor.ops, { ...last, name: 'silu' }], origin: 0 };
    }
    return undefined;
  }

  private forwardCall(call: Node, env: Env, ctx: ModelContext, depth: number): Value {
    const callee = call.childForFieldName('function');
    if (!callee) return unknown(call, 'incomplete call');
    const args = callArguments(call);
    // Method on a tensor: x.view(...), x.relu(), x.size(0), …
    if (callee.type === 'attribute') {
      const objectNode = callee.childForFieldName('object');
      const method = callee.childForFieldName('attribute');
      if (objectNode && method && this.touchesTensor(objectNode, env)) {
        const object = this.forwardValue(objectNode, env, ctx, depth);
        if (object.kind === 'tensor') return this.tensorMethod(object, call, method, env);
      }
    }
    const calleeValue = this.evaluator.evaluate(callee, env);
    const first = args.positional[0] ?? args.keyword.get('input')?.value;
    const input = first ? this.forwardValue(first, env, ctx, depth) : undefined;
    const otherArgsTouch = [...args.positional.slice(1), ...[...args.keyword.values()].map((k) => k.value)].some((a) => a !== first && this.touchesTensor(a, env));
    if (input?.kind !== 'tensor') {
      if (otherArgsTouch) throw new UnsoundModel('unsupported-layer', `\`${shorten(call.text)}\` in forward is not supported.`, call);
      return this.evaluator.evaluate(call, env);
    }
    if (otherArgsTouch || args.positional.filter((a) => this.touchesTensor(a, env)).length > 1) {
      throw new UnsoundModel('unsupported-layer', `\`${shorten(call.text)}\` combines several tensors, which is not supported (a plain chain of layers is read).`, call);
    }
    // A sub-module: self.fc1(x), self.layers[i](x), layer(x) over a ModuleList.
    if (calleeValue.kind === 'call' || calleeValue.kind === 'container') {
      return { kind: 'tensor', ops: [...input.ops, { type: 'module', value: calleeValue, use: call, name: this.moduleName(callee, calleeValue, env) }], origin: 0 };
    }
    // A helper method of the class: inline it.
    if (calleeValue.kind === 'function' && calleeValue.self) {
      if (depth > 8) throw new UnsoundModel('parse-error', 'helper methods call each other too deeply.', call);
      const parameters = parameterNames(calleeValue.node);
      const inner = new Env(this.moduleScope);
      inner.set(parameters[0]?.name ?? 'self', calleeValue.self);
      parameters.slice(1).forEach((p, i) => {
        const given = args.keyword.get(p.name)?.value ?? args.positional[i];
        inner.set(p.name, given ? this.forwardValue(given, env, ctx, depth) : p.default ? this.evaluator.evaluate(p.default, this.moduleScope) : unknown(p.node, 'no value'));
      });
      const returned = this.runForwardBlock(statementsOf(calleeValue.node.childForFieldName('body')), inner, ctx, depth + 1);
      if (!returned) throw new UnsoundModel('parse-error', `\`${shorten(callee.text)}\` does not return the transformed input.`, call);
      return { kind: 'tensor', ops: returned.ops, origin: 0 };
    }
    if (calleeValue.kind === 'reference') {
      const path = this.evaluator.resolve(calleeValue.path);
      const fname = path[path.length - 1];
      const torchFunction = path[0] === 'torch' && (path.length === 2 || (path[1] === 'nn' && path[2] === 'functional' && path.length === 4));
      if (torchFunction) {
        if (FUNCTIONAL_ACTIVATIONS.has(fname) || ['flatten', 'max_pool2d', 'avg_pool2d', 'max_pool1d', 'avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_max_pool2d', 'dropout', 'reshape'].includes(fname)) {
          return { kind: 'tensor', ops: [...input.ops, { type: 'functional', call, callee, name: fname, method: false, scope: env.freeze() }], origin: 0 };
        }
        if (SHAPE_PRESERVING_FUNCTIONS.has(fname)) {
          ctx.problems.push({ code: 'unsupported-layer', message: `\`${calleeValue.path.join('.')}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`, span: this.host.span(call) });
          return input;
        }
      }
      throw new UnsoundModel('unsupported-layer', `\`${shorten(callee.text)}\` applied to the data is not supported, and it may change its shape, so the model cannot be rebuilt soundly.`, callee);
    }
    throw new UnsoundModel('unsupported-layer', `\`${shorten(callee.text)}\` applied to the data is not known statically, so the model cannot be rebuilt soundly.`, callee);
  }

  /** A method called on the data (`x.view(...)`, `x.relu()`): an op, the same tensor, or refused. */
  private tensorMethod(object: Extract<Value, { kind: 'tensor' }>, call: Node, method: Node, env: Env): Value {
    const name = method.text;
    if (['size', 'dim', 'numel', 'shape', 'nelement'].includes(name)) return unknown(call, 'a run-time size');
    if (NEUTRAL_METHODS.has(name)) return object;
    if (FUNCTIONAL_ACTIVATIONS.has(name) || name === 'view' || name === 'reshape' || name === 'flatten') {
      return { kind: 'tensor', ops: [...object.ops, { type: 'functional', call, callee: method, name, method: true, scope: env.freeze() }], origin: 0 };
    }
    throw new UnsoundModel('unsupported-layer', `the tensor method \`${name}\` is not supported in forward, and it may change the data's shape.`, call);
  }

  /** A readable name for a sub-module use: `fc1`, `layers.2`, `features`. */
  private moduleName(callee: Node, value: Value, env: Env): string {
    if (callee.type === 'attribute') {
      const object = callee.childForFieldName('object');
      if (object && env.lookup(object.text, object.startIndex)?.kind === 'object') return callee.childForFieldName('attribute')?.text ?? callee.text;
    }
    if (callee.type === 'subscript') {
      const base = callee.childForFieldName('value');
      const container = base ? this.evaluator.evaluate(base, env) : undefined;
      if (container?.kind === 'container') {
        const index = container.items.findIndex((i) => i.value === value);
        const baseName = base?.type === 'attribute' ? (base.childForFieldName('attribute')?.text ?? base.text) : (base?.text ?? '');
        if (index >= 0) return `${baseName}.${container.items[index].key}`;
      }
    }
    // A loop variable over a container: find its position among self's containers.
    const self = env.lookup('self', callee.startIndex);
    if (self?.kind === 'object') {
      for (const [attr, v] of self.attrs) {
        if (v.kind !== 'container') continue;
        const item = v.items.find((i) => i.value === value);
        if (item) return `${attr}.${item.key}`;
      }
    }
    return callee.text;
  }

  // #endregion

  // #region Turning ops and modules into layers

  /**
   * Module objects applied so far in the model being built, with their layers. A module applied
   * twice (`self.shared(x)` twice in forward, `nn.Sequential(l, act, l)`) shares its weights
   * between the two places; the IR has one set of weights per layer, so such a model is refused
   * at the second use, unless the module has no weights (an activation, pooling, dropout…).
   */
  private appliedModules = new Map<Value, RawLayer[]>();

  /** Starts reading a new model of the file: no module of it has been applied yet. */
  startModel(): void {
    this.appliedModules = new Map();
  }

  /** The layers of a module value; refuses a module with weights applied a second time. */
  moduleLayers(value: Value, name: string, ctx: ModelContext, depth: number, use: Node): RawLayer[] {
    const previous = this.appliedModules.get(value);
    if (previous?.some(hasWeights) && (value.kind === 'call' || value.kind === 'container')) {
      throw new UnsoundModel(
        'unsupported-layer',
        `the layer \`${shorten(value.node.text)}\` is applied more than once (its weights are shared); only chains of distinct layers can be diagnosed.`,
        use,
      );
    }
    const layers = this.moduleLayersOf(value, name, ctx, depth, use);
    if (value.kind === 'call' || value.kind === 'container') this.appliedModules.set(value, layers);
    return layers;
  }

  /** The layers of a module value (a constructor call, a container or a module class of the file). */
  private moduleLayersOf(value: Value, name: string, ctx: ModelContext, depth: number, use: Node): RawLayer[] {
    this.evaluator.tick(use);
    if (value.kind === 'container') {
      if (value.type !== 'Sequential') throw new UnsoundModel('unsupported-layer', `\`${name}\` is an nn.${value.type}, which cannot be called on the data.`, use);
      if (value.node.hasError) throw new UnsoundModel('parse-error', 'a layer definition contains a syntax error.', value.node);
      const layers: RawLayer[] = [];
      for (const item of value.items) layers.push(...this.moduleLayers(item.value, joinName(name, item.key), ctx, depth, item.at ?? value.node));
      return layers;
    }
    if (value.kind !== 'call') {
      const node = value.kind === 'unknown' ? value.node : use;
      if (!name && value.kind === 'unknown') throw new UnsoundModel('parse-error', `${value.reason}.`, node);
      throw new UnsoundModel('parse-error', `the module \`${name}\` is ${describeValue(value)}, which cannot be read statically.`, node);
    }
    const call = value.node;
    if (call.hasError) throw new UnsoundModel('parse-error', 'a layer definition contains a syntax error.', call);
    const callee = call.childForFieldName('function');
    const parts = callee ? dottedParts(callee) : undefined;
    if (parts && parts.length === 1 && this.classes.withForward.has(parts[0])) {
      const classNode = this.classes.withForward.get(parts[0]) as Node;
      return this.classLayers(classNode, value, name, ctx, depth + 1);
    }
    // A module class passed under another name (`block=Block`, then `block(n_in, n_out)`).
    const aliased = callee && parts?.length === 1 ? this.evaluator.evaluate(callee, value.scope, callee.startIndex) : undefined;
    const aliasedClass = aliased?.kind === 'object' && aliased.isClass && aliased.classNode ? aliased.classNode : undefined;
    if (aliasedClass && this.classes.ids.has(aliasedClass.id) && this.classes.methodWithInheritance(aliasedClass, 'forward')) {
      return this.classLayers(aliasedClass, value, name, ctx, depth + 1);
    }
    const path = this.evaluator.calleePath(value) ?? [];
    const className = path[path.length - 1] ?? shorten(call.text);
    const isTorch = path[0] === 'torch' && path.includes('nn');
    if (!isTorch) {
      throw new UnsoundModel('unsupported-layer', `\`${shorten(callee?.text ?? call.text)}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`, callee ?? call);
    }
    const reader = new ModuleReader(this.host, this.evaluator, call, value.scope, ctx, value);
    const layer = reader.read(className, name);
    if (layer === 'skip') return [];
    return [layer];
  }

  /** The layers of forward's ops in order, named under `prefix`. */
  private expandOps(ops: readonly Op[], prefix: string, ctx: ModelContext, depth: number): RawLayer[] {
    const layers: RawLayer[] = [];
    for (const op of ops) {
      if (op.type === 'module') layers.push(...this.moduleLayers(op.value, joinName(prefix, op.name), ctx, depth, op.use));
      else {
        const layer = this.functionalLayer(op, ctx);
        if (layer) layers.push({ ...layer, name: joinName(prefix, layer.name) });
      }
    }
    return layers;
  }

  /** The layer a functional op of forward reads as (`F.relu(x)`, `x.view(...)`). */
  private functionalLayer(op: Extract<Op, { type: 'functional' }>, ctx: ModelContext): RawLayer | undefined {
    const reader = new ModuleReader(this.host, this.evaluator, op.call, op.scope, ctx);
    return reader.readFunctional(op);
  }

  // #endregion
}

/** A layer with trainable weights (applying its module twice would share them). */
function hasWeights(layer: RawLayer): boolean {
  const kind = layer.spec.kind;
  return kind === 'dense' || kind === 'conv1d' || kind === 'conv2d' || kind === 'batchNorm' || (kind === 'activation' && layer.spec.activation.name === 'prelu');
}

/** A layer name under its parent module's: `features.0`. */
function joinName(prefix: string, name: string): string {
  if (!prefix) return name;
  if (!name) return prefix;
  return `${prefix}.${name}`;
}
