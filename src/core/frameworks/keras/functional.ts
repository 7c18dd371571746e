import type { Node } from 'web-tree-sitter';
import { dottedParts } from '../../python/imports';
import { ACTIVATION_IDENTIFIERS, MERGE_LAYERS, resolvePath } from './vocabulary';
import { ancestorOfType, firstCode, isExtra, namedStatements, skipParenthesesDown } from './pythonSyntax';
import { LayerCall, Scope, Value, callOf, describeValue, shorten } from './pythonValues';
import { UnsoundModel, type CollectedLayers, type KerasLoaderHost, type ModelSite } from './pythonTypes';
import { interpreterAt } from './pythonStatements';


export function isKerasModelReference(loader: KerasLoaderHost, node: Node | null): boolean {
  const parts = node && dottedParts(node);
  if (!parts || parts[parts.length - 1] !== 'Model') return false;
  const resolved = resolvePath(parts, loader.importTable);
  // A bare `Model` must come from Keras (a user class called Model is not one).
  return resolved.keras && (parts.length > 1 || loader.importTable.has(parts[0]));
}

/** `[x]` / `(x,)` → x; a single expression stays; several → a multi-input/-output model. */
export function singleTensor(node: Node, what: string): Node {
  const inner = skipParenthesesDown(node) ?? node;
  if (inner.type === 'list' || inner.type === 'tuple') {
    const items = inner.namedChildren.filter((c): c is Node => !!c && !isExtra(c));
    if (items.length === 1) return items[0];
    throw new UnsoundModel('unsupported-layer', `it has ${items.length} ${what}; only single-input, single-output linear chains are read.`, inner);
  }
  if (inner.type === 'dictionary') throw new UnsoundModel('unsupported-layer', `its ${what} are a dict; only single-input, single-output linear chains are read.`, inner);
  return inner;
}

export function findFunctionalSites(loader: KerasLoaderHost): ModelSite[] {
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
export function traceFunctional(loader: KerasLoaderHost, modelCall: Node, scope: Scope): LayerCall[] {
  const args = loader.arguments(modelCall);
  const inputsNode = args.keyword.get('inputs')?.value ?? args.positional[0];
  const outputsNode = args.keyword.get('outputs')?.value ?? args.positional[1];
  if (!inputsNode || !outputsNode) throw new UnsoundModel('parse-error', '`keras.Model(...)` needs both `inputs` and `outputs`.', modelCall);
  const state = interpreterAt(loader, modelCall, scope);
  const chain = state.tensorChain(singleTensor(outputsNode, 'outputs'));
  const declared = state.tensorChain(singleTensor(inputsNode, 'inputs'));
  if (declared.length !== 1 || declared[0].node.id !== chain[0].node.id) {
    throw new UnsoundModel('parse-error', '`outputs` does not come from `inputs` through a chain of layers.', inputsNode);
  }
  return chain;
}

export function findSubclassSites(loader: KerasLoaderHost): ModelSite[] {
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

export function methodOf(cls: Node, name: string): Node | undefined {
  const body = cls.childForFieldName('body');
  for (const child of body?.namedChildren ?? []) {
    const fn = child?.type === 'decorated_definition' ? child.childForFieldName('definition') : child;
    if (fn?.type === 'function_definition' && fn.childForFieldName('name')?.text === name) return fn;
  }
  return undefined;
}

// [issue 11] The training set-up of `compile(...)`.

export const INPUT_SHAPE_COMMENT = /activation-lens:\s*input_shape\s*=\s*(\(.*\)|\[.*\])/;

/** The `# activation-lens: input_shape=(…)` comment inside the class or on the lines just above it. */
export function commentShapeOf(loader: KerasLoaderHost, site: Node): CollectedLayers['commentShape'] {
  // The statement the model is defined in (`model = Sequential([...])`, the class).
  let cls = site;
  while (cls.parent && cls.parent.type !== 'module' && cls.parent.type !== 'block') cls = cls.parent;
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
export function readSubclass(loader: KerasLoaderHost, cls: Node, className: string, initScope?: Scope): CollectedLayers {
  const init = methodOf(cls, '__init__');
  // `__init__`'s own statements see the instantiation's arguments when there is one (`MyModel(hidden_dim=256)`).
  const scopeOf = (node: Node): Scope => (initScope && init && ancestorOfType(node, 'function_definition')?.id === init.id ? initScope : loader.scopeFor(node));
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
        if (attribute) attributes.set(attribute, loader.evaluate(right, scopeOf(right)));
      }
    } else if (expression?.type === 'call') {
      const callee = expression.childForFieldName('function');
      if (callee?.type === 'attribute' && callee.childForFieldName('object')?.text === 'self' && callee.childForFieldName('attribute')?.text === 'build') {
        const args = loader.arguments(expression);
        const shapeNode = args.keyword.get('input_shape')?.value ?? args.positional[0];
        if (shapeNode) buildShape = { value: loader.evaluate(shapeNode, scopeOf(shapeNode)), node: shapeNode };
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
    const gated = selfGated(inner);
    if (gated) return [...trace(gated), { node: inner, scope: loader.scopeFor(inner), activationOp: { activation: { name: 'swish' }, callee: inner } }];
    if (inner.type !== 'call') throw new UnsoundModel('parse-error', `\`${shorten(inner.text)}\` in \`call\` cannot be read statically.`, inner);
    const callee = inner.childForFieldName('function');
    const args = loader.arguments(inner);
    const input = args.keyword.get('inputs')?.value ?? args.keyword.get('x')?.value ?? args.keyword.get('features')?.value ?? args.positional[0];
    if (!callee || !input) throw new UnsoundModel('parse-error', `\`${shorten(inner.text)}\` in \`call\` is not a layer applied to one tensor.`, inner);
    if (callee.type === 'attribute' && callee.childForFieldName('object')?.text === 'self') {
      const attribute = callee.childForFieldName('attribute')?.text ?? '';
      const value = attributes.get(attribute);
      if (!value) throw new UnsoundModel('parse-error', `\`self.${attribute}\` is not assigned in \`__init__\`.`, callee);
      const layer = callOf(value);
      if (!layer) {
        throw new UnsoundModel('unsupported-layer', `\`self.${attribute}\` is ${describeValue(value)}, not a single layer; only layers assigned one by one are read.`, callee);
      }
      const layerClass = loader.layerClassOf(layer.node);
      if (layerClass?.keras && MERGE_LAYERS.has(layerClass.className)) {
        throw new UnsoundModel('unsupported-layer', `\`${layerClass.className}\` merges branches; only linear chains of layers are read (the model is not diagnosed).`, layer.node);
      }
      const inputInner = skipParenthesesDown(input) ?? input;
      if (inputInner.type === 'list' || inputInner.type === 'tuple') {
        throw new UnsoundModel('unsupported-layer', `\`self.${attribute}\` takes several tensors; only linear chains are read.`, inputInner);
      }
      return [...trace(input), { node: layer.node, scope: layer.scope, instance: layer, at: inner }];
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

/**
 * `x * tf.sigmoid(x)` (either order; `tf.nn.sigmoid`, `keras.activations.sigmoid`): swish written
 * out, as custom layers often do. Returns the tensor `x` it gates.
 */
function selfGated(node: Node): Node | undefined {
  if (node.type !== 'binary_operator' || node.childForFieldName('operator')?.text !== '*') return undefined;
  const left = skipParenthesesDown(node.childForFieldName('left'));
  const right = skipParenthesesDown(node.childForFieldName('right'));
  if (!left || !right) return undefined;
  const gate = (tensor: Node, call: Node): boolean => {
    const callee = call.type === 'call' ? call.childForFieldName('function') : null;
    if (tensor.type !== 'identifier' || !callee) return false;
    const parts = dottedParts(callee);
    const args = (call.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && !isExtra(a));
    return ACTIVATION_IDENTIFIERS.get(parts?.[parts.length - 1] ?? '')?.name === 'sigmoid' && (parts?.length ?? 0) > 1 && args.length === 1 && args[0].text === tensor.text;
  };
  if (gate(left, right)) return left;
  if (gate(right, left)) return right;
  return undefined;
}

/** `m = MyModel(); m.build((None, 784))` anywhere in the file. */
export function moduleBuildShape(loader: KerasLoaderHost, className: string): CollectedLayers['buildShape'] {
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

