/**
 * TensorFlow.js source loader (format 'tfjs-source'): reads `tf.sequential({layers: [...]})` and
 * `tf.sequential()` + `model.add(...)` models from JavaScript / TypeScript, statically, through
 * the tree-sitter javascript / typescript grammars. Same soundness policy as the Keras loader
 * (kerasPython.ts): anything that would change what is trained drops the model with a file-level
 * problem at its position; anything that does not is a model-level problem. Never throws.
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
  type LoadProblem,
  type LoadProblemCode,
  type LoadResult,
  type ModelSpec,
  type SourceSpan,
} from '../model';
import { shapeError } from './kerasPython';
import { readSourceFile } from './sourceFile';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Loads every TF.js sequential model of a JS/TS file. Never throws. */
export async function loadTfjsSource(text: string, fileName: string): Promise<LoadResult> {
  const grammar = /\.(ts|mts|cts)$/i.test(fileName) ? 'typescript' : 'javascript';
  return readSourceFile(text, fileName, grammar, 'tfjs-source', (tree, positions) => new TfjsFileLoader(positions, tree.rootNode).load());
}

function shorten(text: string): string {
  const oneLine = text.split('\n').map((line) => line.trim()).join(' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

class Unsound extends Error {
  constructor(
    readonly code: LoadProblemCode,
    message: string,
    readonly node: Node,
  ) {
    super(message);
  }
}

// #region Static values

type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'array'; readonly items: readonly Value[] }
  | { readonly kind: 'object'; readonly node: Node; readonly entries: ReadonlyMap<string, { readonly pair: Node; readonly value: Node }> }
  | { readonly kind: 'call'; readonly node: Node }
  | { readonly kind: 'unknown'; readonly node: Node; readonly reason: string };

function describe(value: Value): string {
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

function unwrap(node: Node | null): Node | null {
  let current = node;
  while (
    current &&
    (current.type === 'parenthesized_expression' || current.type === 'as_expression' || current.type === 'non_null_expression' || current.type === 'satisfies_expression')
  ) {
    current = current.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
  }
  return current;
}

/** `a.b.c` as ['a','b','c']; undefined for anything else. */
function dottedParts(node: Node | null): string[] | undefined {
  const inner = unwrap(node);
  if (!inner) return undefined;
  if (inner.type === 'identifier') return [inner.text];
  if (inner.type === 'member_expression') {
    const head = dottedParts(inner.childForFieldName('object'));
    const property = inner.childForFieldName('property');
    return head && property ? [...head, property.text] : undefined;
  }
  return undefined;
}

// #endregion

// #region Vocabulary

/** TF.js activation identifiers (tfjs-layers' `activation` strings, plus snake_case spellings). */
const ACTIVATIONS: ReadonlyMap<string, ActivationSpec> = new Map<string, ActivationSpec>([
  ['linear', { name: 'linear' }],
  ['sigmoid', { name: 'sigmoid' }],
  ['tanh', { name: 'tanh' }],
  ['relu', { name: 'relu' }],
  ['relu6', { name: 'relu6' }],
  ['elu', { name: 'elu', alpha: 1 }],
  ['selu', { name: 'selu' }],
  ['softplus', { name: 'softplus' }],
  ['softsign', { name: 'softsign' }],
  ['hardsigmoid', { name: 'hardSigmoid' }],
  ['hard_sigmoid', { name: 'hardSigmoid' }],
  ['softmax', { name: 'softmax' }],
  ['swish', { name: 'swish' }],
  ['mish', { name: 'mish' }],
  ['gelu', { name: 'gelu' }],
  ['gelu_new', { name: 'gelu' }],
]);

const INITIALIZERS: ReadonlyMap<string, InitializerName> = new Map<string, InitializerName>([
  ['glorotuniform', 'glorotUniform'],
  ['glorotnormal', 'glorotNormal'],
  ['heuniform', 'heUniform'],
  ['henormal', 'heNormal'],
  ['lecununiform', 'lecunUniform'],
  ['lecunnormal', 'lecunNormal'],
  ['zeros', 'zeros'],
  ['ones', 'ones'],
  ['constant', 'constant'],
  ['randomnormal', 'randomNormal'],
  ['randomuniform', 'randomUniform'],
  ['truncatednormal', 'truncatedNormal'],
  ['orthogonal', 'orthogonal'],
  ['identity', 'identity'],
  ['variancescaling', 'varianceScaling'],
]);

const INITIALIZER_DEFAULTS: Partial<Record<InitializerName, Omit<InitializerSpec, 'name'>>> = {
  constant: { value: 0 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  varianceScaling: { scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  orthogonal: { scale: 1 },
  identity: { scale: 1 },
};

type Factory =
  | { readonly kind: Exclude<LayerKind, 'activation'>; readonly autoName: string }
  | { readonly kind: 'activation'; readonly autoName: string; readonly variant: 'activation' | 'leakyReLU' | 'prelu' | 'elu' | 'reLU' | 'softmax' };

/** `tf.layers.<factory>` → what it builds (auto names follow tfjs: dense_Dense1 is shortened to dense). */
const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['dense', { kind: 'dense', autoName: 'dense' }],
  ['conv1d', { kind: 'conv1d', autoName: 'conv1d' }],
  ['conv2d', { kind: 'conv2d', autoName: 'conv2d' }],
  ['flatten', { kind: 'flatten', autoName: 'flatten' }],
  ['dropout', { kind: 'dropout', autoName: 'dropout' }],
  ['batchNormalization', { kind: 'batchNorm', autoName: 'batch_normalization' }],
  ['maxPooling1d', { kind: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['maxPool1d', { kind: 'maxPool1d', autoName: 'max_pooling1d' }],
  ['maxPooling2d', { kind: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['maxPool2d', { kind: 'maxPool2d', autoName: 'max_pooling2d' }],
  ['averagePooling1d', { kind: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['avgPool1d', { kind: 'avgPool1d', autoName: 'average_pooling1d' }],
  ['averagePooling2d', { kind: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['avgPool2d', { kind: 'avgPool2d', autoName: 'average_pooling2d' }],
  ['globalAveragePooling1d', { kind: 'globalAvgPool1d', autoName: 'global_average_pooling1d' }],
  ['globalAveragePooling2d', { kind: 'globalAvgPool2d', autoName: 'global_average_pooling2d' }],
  ['globalMaxPooling2d', { kind: 'globalMaxPool2d', autoName: 'global_max_pooling2d' }],
  ['activation', { kind: 'activation', autoName: 'activation', variant: 'activation' }],
  ['leakyReLU', { kind: 'activation', autoName: 'leaky_re_lu', variant: 'leakyReLU' }],
  ['prelu', { kind: 'activation', autoName: 'p_re_lu', variant: 'prelu' }],
  ['elu', { kind: 'activation', autoName: 'elu', variant: 'elu' }],
  ['reLU', { kind: 'activation', autoName: 're_lu', variant: 'reLU' }],
  ['softmax', { kind: 'activation', autoName: 'softmax', variant: 'softmax' }],
]);

/** tfjs layers that keep their input's shape: skipped with a problem. */
const SHAPE_PRESERVING = new Set(['layerNormalization', 'gaussianNoise', 'gaussianDropout', 'alphaDropout', 'spatialDropout1d', 'thresholdedReLU', 'masking']);

// #endregion

interface ModelSite {
  readonly call: Node;
  readonly name: string;
  readonly spanNode: Node;
  /** For `const model = tf.sequential()`: the statement and its block, to collect `model.add(...)`. */
  readonly addChain?: { readonly target: string; readonly statement: Node; readonly block: Node };
}

class TfjsFileLoader {
  /** Local name → module path, e.g. tf → ['@tensorflow/tfjs'], layers → ['@tensorflow/tfjs', 'layers']. */
  private readonly imports = new Map<string, string[]>();
  private readonly declarations = new Map<string, { end: number; value: Node }[]>();
  private readonly problems: LoadProblem[] = [];
  private depth = 0;

  constructor(
    private readonly positions: PositionIndex,
    private readonly root: Node,
  ) {
    this.collectImportsAndConstants();
  }

  load(): LoadResult {
    const syntaxError = firstSyntaxError(this.root);
    if (syntaxError) {
      const start = this.positions.position(syntaxError.startIndex);
      this.problems.push({
        code: 'parse-error',
        message: `Syntax error near line ${start.line}, column ${start.column}: ${syntaxError.isMissing ? `missing \`${syntaxError.type}\`` : `unexpected \`${shorten(syntaxError.text) || 'end of input'}\``}.`,
        span: this.span(syntaxError),
      });
    }
    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    for (const site of this.findSites()) {
      const count = usedNames.get(site.name) ?? 0;
      usedNames.set(site.name, count + 1);
      const name = count === 0 ? site.name : `${site.name}_${count + 1}`;
      try {
        models.push(this.buildModel(site, name));
      } catch (error) {
        if (!(error instanceof Unsound)) throw error;
        this.problems.push({ code: error.code, message: `Model \`${name}\` cannot be diagnosed: ${error.message}`, span: this.span(error.node) });
      }
    }
    if (models.length === 0 && this.problems.length === 0) {
      this.problems.push({
        code: 'parse-error',
        message: 'No TensorFlow.js model found. Activation Lens reads `tf.sequential({layers: [...]})` and `tf.sequential()` + `model.add(...)`.',
        span: this.positions.span(0, 0),
      });
    }
    return { format: 'tfjs-source', models, problems: this.problems };
  }

  span(node: Node): SourceSpan {
    return this.positions.span(node.startIndex, node.endIndex);
  }

  // #region Imports and constants

  private collectImportsAndConstants(): void {
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
      const value = unwrap(declarator.childForFieldName('value'));
      if (!nameNode || !value) continue;
      const awaited = value.type === 'await_expression' ? unwrap(value.namedChildren[0] ?? null) : value;
      const requiredModule = awaited ? this.requiredModule(awaited) : undefined;
      if (requiredModule) {
        if (nameNode.type === 'identifier') this.imports.set(nameNode.text, [requiredModule]);
        else if (nameNode.type === 'object_pattern') {
          for (const property of nameNode.namedChildren) {
            if (property?.type === 'shorthand_property_identifier_pattern') this.imports.set(property.text, [requiredModule, property.text]);
            else if (property?.type === 'pair_pattern') {
              const key = property.childForFieldName('key')?.text;
              const local = property.childForFieldName('value');
              if (key && local?.type === 'identifier') this.imports.set(local.text, [requiredModule, key]);
            }
          }
        }
        continue;
      }
      if (nameNode.type === 'identifier') {
        const list = this.declarations.get(nameNode.text) ?? [];
        list.push({ end: declarator.endIndex, value });
        this.declarations.set(nameNode.text, list);
      }
    }
  }

  /** `require('@tensorflow/tfjs')` or `import('@tensorflow/tfjs')` → the module name. */
  private requiredModule(node: Node): string | undefined {
    if (node.type !== 'call_expression') return undefined;
    const callee = node.childForFieldName('function');
    if (callee?.text !== 'require' && callee?.type !== 'import') return undefined;
    const argument = node.childForFieldName('arguments')?.namedChildren.find((c) => c?.type === 'string');
    return argument ? stringContent(argument) : undefined;
  }

  /** The module path a reference stands for, and whether it is TensorFlow.js. */
  private resolve(node: Node | null): { path: string[]; tfjs: boolean } | undefined {
    const parts = dottedParts(node);
    if (!parts) return undefined;
    const imported = this.imports.get(parts[0]);
    // Snippets (and <script> pages) use a global `tf` without importing it: accepted.
    const path = imported ? [...imported, ...parts.slice(1)] : parts[0] === 'tf' ? ['@tensorflow/tfjs', ...parts.slice(1)] : parts;
    return { path, tfjs: path[0].startsWith('@tensorflow/tfjs') };
  }

  // #endregion

  // #region Evaluation

  private evaluate(node: Node | null, at: number): Value {
    const inner = unwrap(node);
    if (!inner) return { kind: 'null' };
    if (this.depth > 60) return { kind: 'unknown', node: inner, reason: 'the expression is nested too deeply' };
    this.depth++;
    try {
      return this.evaluateNode(inner, at);
    } finally {
      this.depth--;
    }
  }

  private evaluateNode(node: Node, at: number): Value {
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
        for (const child of node.namedChildren) {
          if (!child || child.type === 'comment') continue;
          if (child.type === 'spread_element') {
            const spread = this.evaluate(child.namedChildren[0] ?? null, at);
            if (spread.kind !== 'array') return spread.kind === 'unknown' ? spread : { kind: 'unknown', node: child, reason: `\`${shorten(child.text)}\` is not a known array` };
            items.push(...spread.items);
          } else items.push(this.evaluate(child, at));
          if (items.length > 10_000) return { kind: 'unknown', node, reason: 'the array is too long' };
        }
        return { kind: 'array', items };
      }
      case 'object': {
        const entries = new Map<string, { pair: Node; value: Node }>();
        for (const pair of node.namedChildren) {
          if (pair?.type !== 'pair') continue;
          const key = pair.childForFieldName('key');
          const value = pair.childForFieldName('value');
          if (!key || !value) continue;
          const name = key.type === 'string' ? stringContent(key) : key.text;
          if (name !== undefined) entries.set(name, { pair, value });
        }
        return { kind: 'object', node, entries };
      }
      case 'unary_expression': {
        const operator = node.childForFieldName('operator')?.text;
        const value = this.evaluate(node.childForFieldName('argument'), at);
        if (value.kind === 'number' && (operator === '-' || operator === '+')) return { kind: 'number', value: operator === '-' ? -value.value : value.value };
        if (operator === 'void') return { kind: 'null' };
        return value.kind === 'unknown' ? value : { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` is not evaluated` };
      }
      case 'binary_expression': {
        const left = this.evaluate(node.childForFieldName('left'), at);
        const right = this.evaluate(node.childForFieldName('right'), at);
        const operator = node.childForFieldName('operator')?.text;
        if (left.kind === 'number' && right.kind === 'number') {
          const a = left.value;
          const b = right.value;
          const result = operator === '+' ? a + b : operator === '-' ? a - b : operator === '*' ? a * b : operator === '/' ? a / b : operator === '**' ? a ** b : operator === '%' ? a % b : Number.NaN;
          if (Number.isFinite(result)) return { kind: 'number', value: result };
        }
        if (operator === '+' && left.kind === 'string' && right.kind === 'string') return { kind: 'string', value: left.value + right.value };
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` cannot be evaluated without running the code` };
      }
      case 'identifier': {
        if (node.text === 'undefined') return { kind: 'null' };
        const list = this.declarations.get(node.text);
        const declaration = list?.filter((d) => d.end <= at).pop() ?? list?.[list.length - 1];
        if (!declaration) return { kind: 'unknown', node, reason: `\`${node.text}\` is not a constant of this file` };
        return this.evaluate(declaration.value, declaration.value.startIndex);
      }
      case 'call_expression':
        return { kind: 'call', node };
      case 'new_expression':
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` is only known at run time` };
      default:
        return { kind: 'unknown', node, reason: `\`${shorten(node.text)}\` cannot be evaluated without running the code` };
    }
  }

  // #endregion

  // #region Models

  private findSites(): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const call of this.root.descendantsOfType('call_expression')) {
      if (!call) continue;
      const resolved = this.resolve(call.childForFieldName('function'));
      if (!resolved?.tfjs || resolved.path[resolved.path.length - 1] !== 'sequential') continue;
      sites.push(this.describeSite(call));
    }
    return sites;
  }

  private describeSite(call: Node): ModelSite {
    let parent = call.parent;
    while (parent && (parent.type === 'parenthesized_expression' || parent.type === 'as_expression')) parent = parent.parent;
    let target: string | undefined;
    let statement: Node | null | undefined;
    if (parent?.type === 'variable_declarator' && parent.childForFieldName('name')?.type === 'identifier') {
      target = parent.childForFieldName('name')?.text;
      statement = parent.parent;
    } else if (parent?.type === 'assignment_expression') {
      target = dottedParts(parent.childForFieldName('left'))?.join('.');
      statement = parent.parent;
    }
    const hasOptions = (call.childForFieldName('arguments')?.namedChildren ?? []).some((c) => c && c.type !== 'comment');
    if (!target) {
      const fn = ancestorFunctionName(call);
      return { call, name: fn ?? 'sequential', spanNode: call };
    }
    const block = statement?.parent;
    return {
      call,
      name: target,
      spanNode: hasOptions || !statement ? call : statement,
      addChain: statement && block ? { target, statement, block } : undefined,
    };
  }

  private buildModel(site: ModelSite, name: string): ModelSpec {
    if (site.call.hasError) throw new Unsound('parse-error', 'its definition contains a syntax error.', site.call);
    const layerNodes: Node[] = [];
    const options = this.evaluate(site.call.childForFieldName('arguments')?.namedChildren.find((c) => c && c.type !== 'comment') ?? null, site.call.startIndex);
    if (options.kind === 'object') {
      const layersEntry = options.entries.get('layers');
      if (layersEntry) {
        const list = this.evaluate(layersEntry.value, site.call.startIndex);
        if (list.kind !== 'array') {
          throw new Unsound('parse-error', `its \`layers\` ${describe(list)} are only known at run time${list.kind === 'unknown' ? ` (${list.reason})` : ''}.`, layersEntry.value);
        }
        for (const item of list.items) layerNodes.push(this.asLayerCall(item, layersEntry.value));
      }
    } else if (options.kind !== 'null') {
      throw new Unsound('parse-error', `the options ${describe(options)} of \`sequential\` are only known at run time.`, site.call);
    }
    if (site.addChain) layerNodes.push(...this.collectAdds(site.addChain));

    const modelProblems: LoadProblem[] = [];
    const builder = new LayerBuilder(this, modelProblems);
    const keptNodes: Node[] = [];
    for (const node of layerNodes) if (builder.add(node)) keptNodes.push(node);
    if (builder.layers.length === 0) throw new Unsound('parse-error', 'it has no layers that can be read statically.', site.spanNode);
    if (!builder.inputShape) {
      throw new Unsound('parse-error', 'its input shape is unknown. Add `inputShape: [...]` (or `batchInputShape`) to the first layer.', site.spanNode);
    }
    const error = shapeError(builder.inputShape, builder.layers);
    if (error) throw new Unsound('parse-error', error.message, keptNodes[error.index] ?? site.spanNode);
    return { name, format: 'tfjs-source', inputShape: builder.inputShape, layers: builder.layers, span: this.span(site.spanNode), problems: modelProblems };
  }

  asLayerCall(item: Value, fallback: Node): Node {
    if (item.kind === 'call') return item.node;
    throw new Unsound('parse-error', `a layer cannot be read statically: ${item.kind === 'unknown' ? item.reason : `${describe(item)} is not a layer`}.`, item.kind === 'unknown' ? item.node : fallback);
  }

  /** `<target>.add(layer)` statements after the declaration, in the same block. */
  private collectAdds(chain: { target: string; statement: Node; block: Node }): Node[] {
    const nodes: Node[] = [];
    for (const statement of chain.block.namedChildren) {
      if (!statement || statement.startIndex < chain.statement.endIndex) continue;
      const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : null;
      if (expression?.type === 'assignment_expression' && dottedParts(expression.childForFieldName('left'))?.join('.') === chain.target) break;
      if (expression?.type === 'call_expression' && this.isAddOn(expression, chain.target)) {
        const argument = expression.childForFieldName('arguments')?.namedChildren.find((c) => c && c.type !== 'comment') ?? null;
        if (!argument) continue;
        nodes.push(this.asLayerCall(this.evaluate(argument, argument.startIndex), argument));
        continue;
      }
      const nested = statement.descendantsOfType('call_expression').find((c) => !!c && this.isAddOn(c, chain.target));
      if (nested) throw new Unsound('parse-error', 'layers are added inside a loop, condition or callback, which is only known at run time.', nested);
    }
    return nodes;
  }

  private isAddOn(call: Node, target: string): boolean {
    const parts = dottedParts(call.childForFieldName('function'));
    return !!parts && parts.length >= 2 && parts[parts.length - 1] === 'add' && parts.slice(0, -1).join('.') === target;
  }

  // #endregion

  /** What a layer call constructs: the tfjs factory name (`dense`), when it is TF.js. */
  factoryOf(call: Node): { name: string; tfjs: boolean } | undefined {
    const resolved = this.resolve(call.childForFieldName('function'));
    if (!resolved) return undefined;
    return { name: resolved.path[resolved.path.length - 1], tfjs: resolved.tfjs };
  }

  optionsOf(call: Node): { value: Value; node: Node | undefined } {
    const node = call.childForFieldName('arguments')?.namedChildren.find((c) => c && c.type !== 'comment') ?? undefined;
    return { value: node ? this.evaluate(node, call.startIndex) : { kind: 'null' }, node };
  }

  evaluateAt(node: Node): Value {
    return this.evaluate(node, node.startIndex);
  }
}

class LayerBuilder {
  readonly layers: LayerSpec[] = [];
  inputShape: number[] | undefined;
  private readonly nameCounts = new Map<string, number>();
  private readonly used = new Set<string>();

  constructor(
    private readonly loader: TfjsFileLoader,
    private readonly problems: LoadProblem[],
  ) {}

  /** Adds one layer call; false when it was skipped (shape-preserving unknown layer). */
  add(call: Node): boolean {
    if (call.hasError) throw new Unsound('parse-error', 'a layer definition contains a syntax error.', call);
    const factory = this.loader.factoryOf(call);
    const known = factory?.tfjs ? FACTORIES.get(factory.name) : undefined;
    const callee = call.childForFieldName('function') ?? call;
    if (!known) {
      const what = factory?.name ?? shorten(call.text);
      if (factory?.tfjs && SHAPE_PRESERVING.has(factory.name)) {
        this.problems.push({
          code: 'unsupported-layer',
          message: `\`${what}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`,
          span: this.loader.span(call),
        });
        return false;
      }
      throw new Unsound('unsupported-layer', `\`${what}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`, callee);
    }
    const { value: options, node: optionsNode } = this.loader.optionsOf(call);
    if (options.kind !== 'object' && options.kind !== 'null') {
      throw new Unsound('parse-error', `the options ${describe(options)} of \`${factory?.name}\` are only known at run time.`, optionsNode ?? call);
    }
    const read = new OptionReader(this.loader, options.kind === 'object' ? options : undefined, call, this.problems);
    if (this.layers.length === 0 && !this.inputShape) this.inputShape = read.inputShape();
    const spec = this.build(known, read);
    const explicit = read.optionalString('name');
    this.layers.push({ index: this.layers.length, name: this.uniqueName(explicit ?? known.autoName, explicit === undefined), ...spec, source: read.source() });
    return true;
  }

  private build(factory: Factory, read: OptionReader): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    switch (factory.kind) {
      case 'dense':
        return {
          kind: 'dense',
          units: read.positiveInteger('units'),
          activation: read.activation(),
          useBias: read.optionalBool('useBias') ?? true,
          kernelInitializer: read.initializer('kernelInitializer', 'glorotNormal'),
          biasInitializer: read.initializer('biasInitializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = factory.kind === 'conv1d' ? 1 : 2;
        return {
          kind: factory.kind,
          filters: read.positiveInteger('filters'),
          kernelSize: read.tuple('kernelSize', rank, true) ?? [],
          strides: read.tuple('strides', rank, false) ?? new Array<number>(rank).fill(1),
          padding: read.padding(),
          activation: read.activation(),
          useBias: read.optionalBool('useBias') ?? true,
          kernelInitializer: read.initializer('kernelInitializer', 'glorotNormal'),
          biasInitializer: read.initializer('biasInitializer', 'zeros'),
        };
      }
      case 'maxPool1d':
      case 'maxPool2d':
      case 'avgPool1d':
      case 'avgPool2d': {
        const rank = factory.kind.endsWith('1d') ? 1 : 2;
        const poolSize = read.tuple('poolSize', rank, false) ?? new Array<number>(rank).fill(2);
        return { kind: factory.kind, poolSize, strides: read.tuple('strides', rank, false) ?? poolSize, padding: read.padding(), activation: { name: 'linear' } };
      }
      case 'flatten':
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        return { kind: factory.kind, activation: { name: 'linear' } };
      case 'dropout':
        return { kind: 'dropout', rate: read.optionalNumber('rate') ?? 0.5, activation: { name: 'linear' } };
      case 'batchNorm':
        return { kind: 'batchNorm', momentum: read.optionalNumber('momentum') ?? 0.99, epsilon: read.optionalNumber('epsilon') ?? 0.001, activation: { name: 'linear' } };
      case 'activation':
        switch (factory.variant) {
          case 'activation':
            return { kind: 'activation', activation: read.activation() };
          case 'leakyReLU':
            return { kind: 'activation', activation: { name: 'leakyRelu', alpha: read.optionalNumber('alpha') ?? 0.3 } };
          case 'elu':
            return { kind: 'activation', activation: { name: 'elu', alpha: read.optionalNumber('alpha') ?? 1 } };
          case 'reLU': {
            const maxValue = read.optionalNumber('maxValue');
            if (maxValue !== undefined && maxValue !== 6) read.note(undefined, `reLU({maxValue: ${maxValue}}) is diagnosed as a plain ReLU (only 6 is modelled).`, 'unsupported-layer');
            return { kind: 'activation', activation: maxValue === 6 ? { name: 'relu6' } : { name: 'relu' } };
          }
          case 'prelu': {
            const initial = read.initializer('alphaInitializer', 'zeros');
            const alpha = initial.name === 'constant' ? (initial.value ?? 0) : initial.name === 'ones' ? 1 : 0;
            return { kind: 'activation', activation: { name: 'prelu', alpha } };
          }
          case 'softmax':
            return { kind: 'activation', activation: { name: 'softmax' } };
        }
    }
  }

  private uniqueName(base: string, auto: boolean): string {
    let name = base;
    if (auto) {
      const count = this.nameCounts.get(base) ?? 0;
      this.nameCounts.set(base, count + 1);
      name = count === 0 ? base : `${base}_${count}`;
    }
    let candidate = name;
    for (let i = 1; this.used.has(candidate); i++) candidate = `${name}_${i}`;
    this.used.add(candidate);
    return candidate;
  }
}

/** Reads one layer's options object (`{units: 64, activation: 'relu'}`) and records spans. */
class OptionReader {
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: TfjsFileLoader,
    private readonly options: Extract<Value, { kind: 'object' }> | undefined,
    private readonly call: Node,
    private readonly problems: LoadProblem[],
  ) {
    const callee = call.childForFieldName('function');
    const args = call.childForFieldName('arguments');
    this.spans = { span: loader.span(call), calleeSpan: callee ? loader.span(callee) : undefined, argumentsSpan: args ? loader.span(args) : undefined };
  }

  source(): LayerSource {
    return this.spans;
  }

  note(node: Node | undefined, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node ?? this.call) });
  }

  private get(key: string): { value: Value; node: Node; pair: Node } | undefined {
    const entry = this.options?.entries.get(key);
    return entry ? { value: this.loader.evaluateAt(entry.value), node: entry.value, pair: entry.pair } : undefined;
  }

  private unresolved(key: string, value: Value, expected: string): string {
    return `\`${key}\` must be ${expected} known before running the code, but ${value.kind === 'unknown' ? value.reason : `it is ${describe(value)}`}`;
  }

  positiveInteger(key: string): number {
    const entry = this.get(key);
    if (!entry) throw new Unsound('parse-error', `\`${key}\` is missing.`, this.call);
    if (entry.value.kind !== 'number' || !Number.isInteger(entry.value.value) || entry.value.value <= 0) {
      throw new Unsound('parse-error', `${this.unresolved(key, entry.value, 'a positive integer')}.`, entry.node);
    }
    return entry.value.value;
  }

  tuple(key: string, rank: number, required: boolean): number[] | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') {
      if (required) throw new Unsound('parse-error', `\`${key}\` is missing.`, this.call);
      return undefined;
    }
    const items = entry.value.kind === 'number' ? new Array<Value>(rank).fill(entry.value) : entry.value.kind === 'array' ? entry.value.items : [];
    const numbers = items.map((v) => (v.kind === 'number' && Number.isInteger(v.value) && v.value > 0 ? v.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new Unsound('parse-error', `${this.unresolved(key, entry.value, rank === 1 ? 'a positive integer' : `${rank} positive integers`)}.`, entry.node);
    }
    return numbers as number[];
  }

  padding(): 'valid' | 'same' {
    const entry = this.get('padding');
    if (!entry) return 'valid';
    if (entry.value.kind === 'string' && (entry.value.value === 'valid' || entry.value.value === 'same')) return entry.value.value;
    throw new Unsound('parse-error', `${this.unresolved('padding', entry.value, "'valid' or 'same'")}.`, entry.node);
  }

  optionalNumber(key: string): number | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'number') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'a number')}; the TF.js default is used.`);
    return undefined;
  }

  optionalBool(key: string): boolean | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'bool') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'true or false')}; the TF.js default is used.`);
    return undefined;
  }

  optionalString(key: string): string | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    if (entry.value.kind === 'string') return entry.value.value;
    this.note(entry.node, `${this.unresolved(key, entry.value, 'a string')}; an automatic name is used.`);
    return undefined;
  }

  inputShape(): number[] | undefined {
    const shape = this.get('inputShape') ?? this.get('batchInputShape');
    const withBatch = !this.options?.entries.has('inputShape') && this.options?.entries.has('batchInputShape');
    if (shape) {
      const dims = shape.value.kind === 'array' ? shape.value.items : shape.value.kind === 'number' ? [shape.value] : undefined;
      if (!dims) throw new Unsound('parse-error', `${this.unresolved('inputShape', shape.value, 'an array of positive integers')}.`, shape.node);
      const perSample = withBatch ? dims.slice(1) : dims;
      const numbers = perSample.map((d) => (d.kind === 'number' && Number.isInteger(d.value) && d.value > 0 ? d.value : undefined));
      if (numbers.length === 0 || numbers.some((n) => n === undefined)) {
        throw new Unsound('parse-error', `the input shape \`${shorten(shape.node.text)}\` has a dimension that is not a fixed positive integer.`, shape.node);
      }
      return numbers as number[];
    }
    const inputDim = this.get('inputDim');
    if (inputDim?.value.kind === 'number' && Number.isInteger(inputDim.value.value) && inputDim.value.value > 0) return [inputDim.value.value];
    if (inputDim) throw new Unsound('parse-error', `${this.unresolved('inputDim', inputDim.value, 'a positive integer')}.`, inputDim.node);
    return undefined;
  }

  activation(): ActivationSpec {
    const entry = this.get('activation');
    if (!entry) return { name: 'linear' };
    this.spans.activationArgumentSpan = this.loader.span(entry.pair);
    this.spans.activationValueSpan = this.loader.span(entry.node);
    if (entry.value.kind === 'null') return { name: 'linear' };
    const known = entry.value.kind === 'string' ? ACTIVATIONS.get(entry.value.value.toLowerCase()) ?? ACTIVATIONS.get(entry.value.value) : undefined;
    if (known) return known;
    this.note(entry.node, `The activation ${describe(entry.value)} is not recognised; the layer is diagnosed as linear.`, 'unsupported-layer');
    return { name: 'linear' };
  }

  initializer(key: 'kernelInitializer' | 'biasInitializer' | 'alphaInitializer', fallback: InitializerName): InitializerSpec {
    const entry = this.get(key);
    if (!entry) return withDefaults(fallback);
    if (key === 'kernelInitializer') {
      this.spans.kernelInitializerArgumentSpan = this.loader.span(entry.pair);
      this.spans.kernelInitializerValueSpan = this.loader.span(entry.node);
    } else if (key === 'biasInitializer') {
      this.spans.biasInitializerArgumentSpan = this.loader.span(entry.pair);
      this.spans.biasInitializerValueSpan = this.loader.span(entry.node);
    }
    const spec = this.initializerFrom(entry.value);
    if (spec) return spec;
    this.note(entry.node, `The initialiser \`${shorten(entry.node.text)}\` is not recognised; the TF.js default (${fallback}) is used.`, 'unsupported-layer');
    return withDefaults(fallback);
  }

  private initializerFrom(value: Value): InitializerSpec | undefined {
    if (value.kind === 'string') {
      const name = INITIALIZERS.get(value.value.toLowerCase().split('_').join(''));
      return name ? withDefaults(name) : undefined;
    }
    if (value.kind !== 'call') return undefined;
    const factory = this.loader.factoryOf(value.node);
    const name = factory?.tfjs ? INITIALIZERS.get(factory.name.toLowerCase()) : undefined;
    if (!name) return undefined;
    const options = this.loader.optionsOf(value.node).value;
    const nested = new OptionReader(this.loader, options.kind === 'object' ? options : undefined, value.node, this.problems);
    const defaults = withDefaults(name);
    switch (name) {
      case 'constant':
        return { name, value: nested.optionalNumber('value') ?? 0 };
      case 'randomNormal':
      case 'truncatedNormal':
        return { name, mean: nested.optionalNumber('mean') ?? 0, stddev: nested.optionalNumber('stddev') ?? defaults.stddev };
      case 'randomUniform':
        return { name, minval: nested.optionalNumber('minval') ?? -0.05, maxval: nested.optionalNumber('maxval') ?? 0.05 };
      case 'orthogonal':
      case 'identity':
        return { name, scale: nested.optionalNumber('gain') ?? 1 };
      case 'varianceScaling': {
        const mode = nested.optionalString('mode');
        const distribution = nested.optionalString('distribution');
        return {
          name,
          scale: nested.optionalNumber('scale') ?? 1,
          mode: mode === 'fanOut' || mode === 'fanAvg' ? mode : 'fanIn',
          distribution: distribution === 'uniform' ? 'uniform' : 'truncatedNormal',
        };
      }
      default:
        return defaults;
    }
  }
}

function withDefaults(name: InitializerName): InitializerSpec {
  return { name, ...INITIALIZER_DEFAULTS[name] };
}

function stringContent(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  let text = '';
  for (const part of node.namedChildren) {
    if (part?.type === 'string_fragment') text += part.text;
    else if (part?.type === 'escape_sequence') text += part.text.length === 2 ? part.text.slice(1) : part.text;
  }
  return text;
}

function ancestorFunctionName(node: Node): string | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === 'function_declaration' || current.type === 'method_definition') return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type?.includes('function')) return current.childForFieldName('name')?.text;
    if (current.type === 'variable_declarator' && current.childForFieldName('value')?.type === 'arrow_function') return current.childForFieldName('name')?.text;
  }
  return undefined;
}

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
