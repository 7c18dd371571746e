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
import type { Node, Parser } from 'web-tree-sitter';
import { readSourceFile } from '../../parse/sourceFile';
import { syntaxErrorProblem } from '../../parse/syntaxErrors';
import { bindingAt, collectBindings, optimizerNameOf, type FileBindings } from '../../python/bindings';
import { collectImports, dottedParts, type ImportTable } from '../../python/imports';
import { findDictMutations } from '../../python/dictMutations';
import { MAX_LAYERS, MAX_MODELS_PER_FILE, MAX_PYTHON_STEPS, tooManyLayers, tooManyModels } from '../../parse/limits';
import { getParser } from '../../parse/treeSitter';
import { Budget, PythonBudgetExceeded } from '../../python/values';
import { numeric } from '../../python/formatting';
import { PositionIndex, type LoadNote, type LoadProblem, type LoadResult, type LossSpec, type ModelSpec, type OptimizerSpec, type SourceSpan, type TrainingSetup, type LoadContext } from '../../model';
import { INITIALIZER_IDENTIFIERS, KERAS_LOSSES, KERAS_OPTIMIZERS, LAYERS_WITH_WEIGHTS, LAYER_CLASSES, SHAPE_PRESERVING_LAYERS, lossKey, normaliseInitializerName, resolvePath } from './vocabulary';
import { ancestorOfType, isExtra, namedStatements, returnsName, skipParentheses, skipParenthesesDown, uniqueName } from './pythonSyntax';
import { AssignmentScope, Evaluator, type CallHost, LayerCall, Scope, Value, ValueScope, callOf, callValue, describeValue, sequence, shorten, tensorOf, unknown } from './pythonValues';
import { UnsoundModel, type Arguments, type CollectedLayers, type KerasLoaderHost, type ModelSite, type Mutable } from './pythonTypes';
import { interpreterAt, type StatementInterpreter } from './pythonStatements';
import { LayerListBuilder, checkAxes, checkShapes } from './layers';
import { commentShapeOf, findFunctionalSites, findSubclassSites, isKerasModelReference, methodOf, readSubclass } from './functional';
import { isCompileCall } from './training';
import { kerasFreezes, type KerasFreezes } from './freezing';

/** Custom layers read inside custom layers at most this deep (each level is one class's `call`). */
const MAX_CUSTOM_LAYER_NESTING = 8;


// #region Public entry point

/** Loads every Keras `Sequential` model of a Python file. Never throws. */
export async function loadKerasPython(text: string, fileName: string, context: LoadContext = {}): Promise<LoadResult> {
  // The size, depth and attribute-chain limits are checked by readSourceFile (limits.ts).
  const parser = await getParser('python');
  return readSourceFile(text, fileName, 'python', 'keras-python', (tree, positions) => new KerasFileLoader(text, positions, tree.rootNode, context, parser).load());
}

// #endregion

/** One distinct call of a builder function: the scope its body runs in for that call. */
export interface Invocation {
  readonly scope: Scope;
  readonly error?: { readonly message: string; readonly node: Node };
  /** `small = build(16)` → small: names the model when the function is called several times. */
  readonly assignedTo?: string;
  /** The call of the builder function. */
  readonly call: Node;
}

/** Distinct calls of one builder function read at most (each is a model); the rest are ignored. */
export const MAX_INVOCATIONS = 16;
/** How many callers up (`main(64)` → `build(width)`) call-site arguments are followed. */
export const MAX_CALL_DEPTH = 3;

export interface FunctionParameter {
  readonly name: string;
  readonly node: Node;
  readonly defaultNode?: Node;
  readonly kind: 'positionalOnly' | 'positional' | 'keywordOnly' | 'varargs' | 'varkw';
}

/** A function's parameters in order, with how Python lets a call give them. */
export function parametersOf(fn: Node): FunctionParameter[] {
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
export function valueKey(value: Value): string {
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
    case 'host':
      return value.host.kind === 'call' ? `call:${value.host.node.id}` : `tensor:${value.host.chain.layer.node.id}`;
    case 'unknown':
      return `unknown:${value.node.id}:${value.reason}`;
    case 'function':
    case 'class':
      return `${value.kind}:${value.node.id}`;
    case 'object':
      return `object:${value.cls.node.id}:${[...value.attrs].map(([k, v]) => `${k}=${valueKey(v)}`).join(',')}`;
  }
}

/** `small = build(16)` → small. */
export function assignedName(call: Node): string | undefined {
  const parent = skipParentheses(call.parent);
  const left = parent?.type === 'assignment' ? parent.childForFieldName('left') : undefined;
  return left?.type === 'identifier' ? left.text : undefined;
}

class KerasFileLoader implements KerasLoaderHost {
  private readonly imports: ImportTable;
  readonly evaluator: Evaluator;
  private readonly moduleScope: Scope;
  /** Keyed by node id: tree-sitter returns a new wrapper object for every access. */
  private readonly functionScopes = new Map<number, Scope>();
  private readonly fileProblems: LoadProblem[] = [];
  private imageDataFormatCalls: { call: Node; node: Node; value: string | undefined }[] | undefined;
  /** Keyed by function node id: the distinct calls of each builder function. */
  private readonly invocationCache = new Map<number, Invocation[]>();
  /** The file's one work budget, in evaluation steps (MAX_PYTHON_STEPS), shared by every model read. */
  readonly budget = new Budget(MAX_PYTHON_STEPS);

  constructor(
    private readonly text: string,
    private readonly positions: PositionIndex,
    private readonly root: Node,
    private readonly context: LoadContext,
    parser: Parser,
  ) {
    this.imports = collectImports(root);
    this.evaluator = new Evaluator({
      root,
      imports: this.imports,
      budget: this.budget,
      context,
      parser,
      changedDicts: findDictMutations(root),
      backendCall: (call) => this.backendCall(call),
      isKerasCall: (call) => this.isFrameworkCall(call),
      isKerasClass: (cls) => (cls.childForFieldName('superclasses')?.namedChildren ?? []).some((base) => isKerasModelReference(this, base)),
    });
    this.moduleScope = new AssignmentScope(this.evaluator, undefined, root, true);
  }

  load(): LoadResult {
    const syntaxError = syntaxErrorProblem(this.root, this.text, this.positions, 'Python');
    if (syntaxError) this.fileProblems.push(syntaxError);

    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    let sites: ModelSite[];
    try {
      sites = this.findModelSites();
    } catch (error) {
      if (!(error instanceof PythonBudgetExceeded)) throw error;
      this.fileProblems.push({ code: 'parse-error', message: `The models of the file were not read: ${error.message}`, span: this.span(error.node) });
      return { format: 'keras-python', models, problems: this.fileProblems };
    }
    if (sites.length > MAX_MODELS_PER_FILE) {
      this.fileProblems.push(tooManyModels(sites.length, this.span(sites[MAX_MODELS_PER_FILE].spanNode)));
      sites.length = MAX_MODELS_PER_FILE;
    }
    for (const site of sites) {
      const name = uniqueName(site.name, usedNames);
      try {
        this.assumptions = new Map();
        models.push(this.withAssumptions(this.withTraining(site, this.withFrozen(site, this.buildModel(site, name)))));
      } catch (error) {
        // Past the file's work budget the models left are not read (one problem, where it ran
        // out) rather than each refused for a misleading reason.
        if (error instanceof PythonBudgetExceeded) {
          this.fileProblems.push({ code: 'parse-error', message: `Model \`${name}\` and the models after it were not read: ${error.message}`, span: this.span(error.node) });
          break;
        }
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

  /** Per model being read: the values taken as Keras' defaults (by call node id), as notes. */
  private assumptions = new Map<number, LoadNote>();

  private withAssumptions(model: ModelSpec): ModelSpec {
    if (this.assumptions.size === 0) return model;
    return { ...model, notes: [...(model.notes ?? []), ...this.assumptions.values()] };
  }

  /**
   * `K.image_data_format()` (Keras 1: `K.image_dim_ordering()`) is the setting of the user's
   * `~/.keras/keras.json`, unknown statically. Tutorials branch on it to pick the input shape;
   * the file's own `set_image_data_format(...)` in effect decides it, else Keras' default
   * (channels_last, Keras 1 with TensorFlow: 'tf') is taken, with a note.
   */
  private backendCall(call: Node): Value | undefined {
    const callee = call.childForFieldName('function');
    const parts = callee && dottedParts(callee);
    const name = parts?.[parts.length - 1];
    if (!parts || parts.length < 2 || (name !== 'image_data_format' && name !== 'image_dim_ordering') || !resolvePath(parts, this.imports).keras) return undefined;
    if ((call.childForFieldName('arguments')?.namedChildren ?? []).some((a) => a && !isExtra(a))) return undefined;
    const setting = this.imageDataFormatAt(call);
    const format = setting ? setting.value : 'channels_last';
    if (format !== 'channels_last' && format !== 'channels_first') return undefined;
    const value = name === 'image_data_format' ? format : format === 'channels_last' ? 'tf' : 'th';
    if (!setting && !this.assumptions.has(call.id)) {
      this.assumptions.set(call.id, {
        message: `\`${shorten(call.text)}\` is read as ${JSON.stringify(value)}, Keras' default (the \`~/.keras/keras.json\` setting is not read statically).`,
        span: this.span(call),
      });
    }
    return { kind: 'string', value };
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
    if (bindings.calls.length === 0) return model;
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
    return receiver !== undefined && this.isSiteObject(receiver, site);
  }

  /** True when `node` (what a name stands for) is the model of `site`: its call, the class called, or the builder's call. */
  private isSiteObject(node: Node, site: ModelSite): boolean {
    if (node.id === site.call.id) return true;
    const callee = node.type === 'call' ? node.childForFieldName('function') : null;
    if (callee?.type !== 'identifier') return false;
    if (site.call.type === 'class_definition') return site.call.childForFieldName('name')?.text === callee.text;
    return site.invocationCall?.id === node.id;
  }

  /** The file's `trainable` statements (freezing.ts), found once per file. */
  private freezeStatements: KerasFreezes | undefined;

  /**
   * The model with the layers its `trainable = False` statements freeze, in program order (a
   * later `trainable = True` thaws), and a problem for each such statement about it that is not read.
   */
  private withFrozen(site: ModelSite, model: ModelSpec): ModelSpec {
    this.freezeStatements ??= kerasFreezes(this.root);
    const { freezes, unread } = this.freezeStatements;
    if (freezes.length === 0 && unread.length === 0) return model;
    const count = model.layers.length;
    const frozen = model.layers.map((layer) => layer.frozen === true);
    const problems: LoadProblem[] = [];
    const problem = (at: Node, why: string): void => {
      problems.push({ code: 'unsupported-layer', message: `\`${shorten(at.text)}\` ${why}; the layers it names are trained in the diagnosis.`, span: this.span(at) });
    };
    const resolve = (owner: Node, at: Node): Node | undefined => this.definition(owner, ancestorOfType(at, 'function_definition'), at.startIndex)?.node;
    /** The layer built by exactly this call (`dense = layers.Dense(...)`; `dense.trainable = False`). */
    const layerBuiltBy = (call: Node): number => model.layers.findIndex((l) => l.source.span.start.offset === call.startIndex && l.source.span.end.offset === call.endIndex);
    // `model.layers[i]` counts the model's Keras layers: the IR's only for a Sequential model with
    // every layer read (a functional model's list starts with its InputLayer).
    const positional = !site.collect && !model.problems.some((p) => p.code === 'unsupported-layer');
    for (const freeze of freezes) {
      const target = resolve(freeze.owner, freeze.at);
      if (!target) continue;
      const isModel = this.isSiteObject(target, site);
      let indices: number[] = [];
      const select = freeze.select;
      if (select.kind === 'object') {
        const layer = isModel ? -1 : layerBuiltBy(target);
        if (!isModel && layer < 0) continue;
        indices = isModel ? model.layers.map((l) => l.index) : [layer];
      } else if (!isModel) {
        continue;
      } else if (select.kind === 'name') {
        const layer = model.layers.findIndex((l) => l.name === select.name);
        if (layer < 0) {
          problem(freeze.at, `names a layer \`${select.name}\` that the model read statically does not have by that name`);
          continue;
        }
        indices = [layer];
      } else if (!positional) {
        problem(freeze.at, 'selects layers by position, which is read only for a Sequential model whose every layer is read');
        continue;
      } else if (select.kind === 'index') {
        const index = select.index < 0 ? count + select.index : select.index;
        if (index < 0 || index >= count) {
          problem(freeze.at, `selects layer ${select.index} of a model of ${count} layers`);
          continue;
        }
        indices = [index];
      } else {
        // Python slice bounds: negative from the end, clamped to [0, count].
        const bound = (value: number | undefined, fallback: number): number => Math.min(count, Math.max(0, value === undefined ? fallback : value < 0 ? count + value : value));
        const start = bound(select.start, 0);
        const end = bound(select.end, count);
        for (let i = start; i < end; i++) indices.push(i);
      }
      for (const index of indices) frozen[index] = !freeze.trainable;
    }
    for (const { at, owner } of unread) {
      const target = owner && resolve(owner, at);
      if (target && (this.isSiteObject(target, site) || layerBuiltBy(target) >= 0)) problem(at, 'changes which layers train in a way that is not read statically');
    }
    if (problems.length === 0 && frozen.every((f, i) => f === (model.layers[i].frozen === true))) return model;
    const layers = model.layers.map((layer, i) => {
      if (frozen[i] === (layer.frozen === true)) return layer;
      const { frozen: _was, ...rest } = layer;
      return frozen[i] ? { ...rest, frozen: true } : rest;
    });
    return { ...model, layers, problems: [...model.problems, ...problems] };
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
    if (target.type === 'call') return { node: target, value: callValue(target, scope) };
    const value = this.evaluator.evaluate(target, scope);
    const call = callOf(value);
    if (call) return { node: call.node, value };
    return { node: target, value };
  }

  /** A number argument (a literal, a constant, a name bound to one), else undefined. */
  private numberOf(node: Node, scope: Scope): number | undefined {
    return numeric(this.evaluator.evaluate(node, scope));
  }

  private readOptimizer(node: Node, fnScope: Node | undefined, scope: Scope, notes: LoadNote[]): OptimizerSpec | undefined {
    const { node: at, value } = this.expressionOf(node, fnScope, scope);
    if (value.kind === 'string') {
      const name = optimizerNameOf(value.value);
      if (name) return { name, text: at.text, span: this.span(at) };
    } else if (callOf(value)) {
      const call = callOf(value) as NonNullable<ReturnType<typeof callOf>>;
      const cls = this.layerClassOf(call.node);
      const name = cls?.keras ? optimizerNameOf(cls.className) : undefined;
      if (name) return this.optimizerCall(name, call.node, call.scope, notes);
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
    } else if (callOf(value)) {
      const call = callOf(value) as NonNullable<ReturnType<typeof callOf>>;
      const cls = this.layerClassOf(call.node);
      known = cls?.keras ? KERAS_LOSSES.get(lossKey(cls.className)) : undefined;
      if (known && known.kind !== 'meanSquaredError' && known.kind !== 'meanAbsoluteError' && known.kind !== 'huber') {
        const args = this.arguments(call.node);
        const logitsNode = args.keyword.get('from_logits')?.value ?? args.positional[0];
        const logits = logitsNode ? this.evaluator.evaluate(logitsNode, call.scope) : { kind: 'bool' as const, value: false };
        const truth = this.evaluator.truth(logits);
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
    if (site.call.type === 'class_definition') {
      // A subclassed model is read once per distinct instantiation (`MyModel(hidden_dim=256)`),
      // with the call's arguments bound to `__init__`; a class never instantiated keeps its defaults.
      const cls = site.call;
      const invocations = this.instantiationsOf(cls);
      if (invocations.length === 0) return [site];
      return invocations.map((invocation) => ({
        ...site,
        name: invocations.length > 1 ? (invocation.assignedTo ?? site.name) : site.name,
        collect: () => readSubclass(this, cls, site.name, invocation.scope),
        invocationError: invocation.error,
        invocationCall: invocation.call,
      }));
    }
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

  /** The distinct `ClassName(...)` calls of a subclassed model outside its own body, bound to its `__init__`. */
  private instantiationsOf(cls: Node): Invocation[] {
    const name = cls.childForFieldName('name')?.text;
    const init = methodOf(cls, '__init__');
    if (!name || !init) return [];
    const invocations: Invocation[] = [];
    const seen = new Set<string>();
    for (const call of this.root.descendantsOfType('call')) {
      if (!call || invocations.length >= MAX_INVOCATIONS) continue;
      const callee = call.childForFieldName('function');
      if (callee?.type !== 'identifier' || callee.text !== name) continue;
      if (cls.startIndex <= call.startIndex && call.endIndex <= cls.endIndex) continue;
      const bound = this.bindCall(init, name, call, this.interpreterAt(call, this.scopeAt(call)).scope(), true);
      const key = 'error' in bound ? `error:${call.id}` : [...bound.parameters.values()].map(valueKey).join('|');
      if (seen.has(key)) continue;
      seen.add(key);
      invocations.push({
        scope: this.functionScope(init, 'error' in bound ? new Map() : bound.parameters),
        error: 'error' in bound ? bound.error : undefined,
        assignedTo: assignedName(call),
        call,
      });
    }
    return invocations;
  }

  /** How deep custom layers are being read inside each other (a class that contains itself stops here). */
  private customLayerDepth = 0;

  customLayerCalls(call: Node, scope: Scope): readonly LayerCall[] | undefined {
    if (call.type !== 'call') return undefined;
    const callee = call.childForFieldName('function');
    if (!callee || (callee.type !== 'identifier' && callee.type !== 'attribute')) return undefined;
    const cls = this.evaluator.evaluate(callee, scope);
    if (cls.kind !== 'class') return undefined;
    const bases = cls.node.childForFieldName('superclasses')?.namedChildren ?? [];
    const isKerasLayer = bases.some((base) => {
      const parts = base && dottedParts(base);
      const last = parts?.[parts.length - 1];
      return !!parts && (last === 'Layer' || last === 'Model') && resolvePath(parts, this.imports).keras && (parts.length > 1 || this.imports.has(parts[0]));
    });
    if (!isKerasLayer) return undefined;
    const line = this.span(cls.node).start.line;
    if (this.customLayerDepth >= MAX_CUSTOM_LAYER_NESTING) {
      throw new UnsoundModel('parse-error', `the custom layer \`${cls.name}\` (class at line ${line}) is nested in itself or more than ${MAX_CUSTOM_LAYER_NESTING} deep.`, call);
    }
    const init = methodOf(cls.node, '__init__');
    let initScope: Scope | undefined;
    if (init) {
      const bound = this.bindCall(init, cls.name, call, scope, true);
      if ('error' in bound) throw new UnsoundModel('parse-error', bound.error.message, bound.error.node);
      initScope = this.functionScope(init, bound.parameters);
    }
    this.customLayerDepth++;
    try {
      return readSubclass(this, cls.node, cls.name, initScope).calls;
    } catch (error) {
      if (!(error instanceof UnsoundModel)) throw error;
      // Said of the class, which is where the person will look, at the construct that stopped it.
      throw new UnsoundModel(error.code, `the custom layer \`${cls.name}\` (class at line ${line}) cannot be read: ${error.message}`, error.node);
    } finally {
      this.customLayerDepth--;
    }
  }

  /** True when a reference's name comes from an import (`keras.activations.relu`), not a name bound at run time. */
  private isImported(path: readonly string[]): boolean {
    return this.imports.has(path[0]) || [...this.imports.values()].some((imported) => imported[0] === path[0]);
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

  /**
   * A call the evaluator keeps for the layer builder (a layer, an initialiser, an optimiser, a
   * name from nowhere such as a star import): not a call of a non-Keras module (`np.load`,
   * `random.randint`) nor of a Python builtin that reads the outside world (`input()`), whose
   * values are known only at run time.
   */
  private isFrameworkCall(call: Node): boolean {
    const callee = call.childForFieldName('function');
    const parts = callee && dottedParts(callee);
    if (!parts) return false;
    if (this.imports.has(parts[0])) return resolvePath(parts, this.imports).keras;
    return !(parts.length === 1 && RUN_TIME_BUILTINS.has(parts[0]));
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
  private bindCall(fn: Node, fnName: string, call: Node, callerScope: Scope, isConstructor = false): { parameters: Map<string, Value> } | { error: { message: string; node: Node } } {
    // A constructor call binds `__init__` without its `self`.
    const parameters = parametersOf(fn).slice(isConstructor ? 1 : 0);
    const args = this.arguments(call);
    const callText = `\`${shorten(call.text)}\` (line ${this.span(call).start.line})`;
    const bound = new Map<string, Value>();
    const fromArgument = (parameter: string, node: Node): Value => {
      const value = this.evaluator.evaluate(node, callerScope);
      const runTime =
        value.kind === 'unknown' ? value.reason
        // A plain name that is not an import (a loop variable, `args.width`) is a run-time value.
        : value.kind === 'reference' && !this.isImported(value.path) ? `\`${value.path.join('.')}\` is only known at run time`
        : callOf(value) && !this.isKerasObjectCall(callOf(value)?.node as Node) ? `\`${shorten(callOf(value)?.node.text ?? '')}\` is computed at run time`
        : undefined;
      if (runTime === undefined) return value;
      return unknown(node, `\`${parameter}\` is given \`${shorten(node.text)}\` by the call ${callText}, which cannot be evaluated statically: ${runTime}`, { atCallSite: true });
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
      bound.set(varargs.name, sequence(extraPositional));
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
        bound.set(parameter.name, unknown(splat, reason, { atCallSite: true }));
      } else if (parameter.defaultNode) {
        bound.set(parameter.name, this.evaluator.evaluate(parameter.defaultNode, this.moduleScope));
      } else if (parameter.kind === 'varargs') {
        bound.set(parameter.name, sequence([]));
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

    // Where the file's own input shape is known only at run time (`input_shape=x_train.shape[1:]`),
    // the user's comment above the model, else the shape of the data they chose, stands in.
    commentShape ??= commentShapeOf(this, site.spanNode);
    if (commentShape && 'error' in commentShape) throw new UnsoundModel('parse-error', commentShape.error, commentShape.node);
    this.runTimeShape = commentShape
      ? { shape: commentShape.shape, source: 'the `# activation-lens: input_shape=` comment' }
      : this.context.inputShape && this.context.inputShape.length > 0
        ? { shape: [...this.context.inputShape], source: 'the chosen data' }
        : undefined;

    // Refused before any layer is read (one Input entry is allowed on top of the layers).
    if (calls.length > MAX_LAYERS + 1) throw new UnsoundModel('parse-error', tooManyLayers(calls.length), calls[MAX_LAYERS + 1].node);
    this.refuseSharedLayers(calls);
    const builder = new LayerListBuilder(this, problems);
    for (const call of calls) builder.add(call);
    if (commentShape) builder.inputShape = commentShape.shape;
    if (!builder.inputShape && buildShape) {
      builder.inputShape = this.shapeFrom(buildShape.value, buildShape.node, true);
    }
    if (builder.layers.length === 0) {
      throw new UnsoundModel('parse-error', 'it has no layers that can be read statically.', site.spanNode);
    }
    if (!builder.inputShape) {
      throw new UnsoundModel(
        'unknown-input-shape',
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
      ...(builder.notes.length > 0 ? { notes: builder.notes } : {}),
    };
  }

  /**
   * A layer object applied (or listed) twice shares its weights between the two places; the IR
   * has one set of weights per layer, so the model cannot be rebuilt: refused at the second use.
   * Layers without weights (activations, pooling, dropout…) compute the same when repeated.
   */
  private refuseSharedLayers(calls: readonly LayerCall[]): void {
    const seen = new Set<CallHost>();
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
    // A written-out list longer than the layer limit is refused before it is evaluated.
    const inner = skipParenthesesDown(listNode) ?? listNode;
    const itemNodes = inner.type === 'list' || inner.type === 'tuple' ? inner.namedChildren.filter((c): c is Node => !!c && !isExtra(c)) : [];
    if (itemNodes.length > MAX_LAYERS + 1) throw new UnsoundModel('parse-error', tooManyLayers(itemNodes.length), itemNodes[MAX_LAYERS + 1]);
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
    const written = itemNodes.length === value.items.length && itemNodes.every((c) => c.type !== 'list_splat');
    return value.items.map((item, i) => this.asLayerCall(item, written ? itemNodes[i] : listNode, scope));
  }

  private asLayerCall(item: Value, fallbackNode: Node, scope: Scope): LayerCall {
    const call = callOf(item);
    if (call) return { node: call.node, scope: call.scope, instance: call, at: fallbackNode };
    // An instance of one of the file's classes written in the list (`Block(64)`): the layer
    // builder reads it when the class is a Keras layer (customLayerCalls).
    if (item.kind === 'object' && fallbackNode.type === 'call') return { node: fallbackNode, scope, at: fallbackNode };
    // `inp = keras.Input(...)` then `Sequential([inp, ...])`: the bare input tensor is the
    // list's input layer, as written inline.
    const tensor = tensorOf(item);
    if (tensor && tensor.chain.previous === undefined) return tensor.chain.layer;
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
        add: (layerNode, scope) => calls.push(this.asLayerCall(this.evaluator.evaluate(layerNode, scope), layerNode, scope)),
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
    return interpreterAt(this, node, scope);
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
    if (!dims) return this.runTimeInputShape(node, value);
    const perSample = withBatch ? dims.slice(1) : dims;
    const shape: number[] = [];
    for (const dim of perSample) {
      if (isRunTime(dim)) return this.runTimeInputShape(node, dim);
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

  /** Per model being read: the input shape that stands in for one known only at run time. */
  private runTimeShape: { readonly shape: readonly number[]; readonly source: string } | undefined;

  /** The stand-in for an input shape that comes from the data at run time, with a note; else the refusal that says how to give it. */
  private runTimeInputShape(node: Node, value: Value): number[] {
    const known = this.runTimeShape;
    const what = value.kind === 'unknown' ? value.reason : `${describeValue(value)} is only known at run time`;
    if (known) {
      this.assumptions.set(node.id, {
        message: `The input shape \`${shorten(node.text)}\` is known only at run time (${what}); (${known.shape.join(', ')}) from ${known.source} is used.`,
        span: this.span(node),
      });
      return [...known.shape];
    }
    throw new UnsoundModel(
      'unknown-input-shape',
      `its input shape \`${shorten(node.text)}\` comes from the data at run time (${what}). Choose the data (\`--data\`, or an \`# activation-lens: data=…\` comment), or write one example's shape (no batch axis) in a comment above the model: \`# activation-lens: input_shape=(28, 28, 1)\`.`,
      node,
    );
  }

  // #endregion
}


/** Python builtins whose result comes from outside the program or is an object of its own: known only at run time. */
const RUN_TIME_BUILTINS = new Set(['input', 'open', 'eval', 'exec', 'print', 'id', 'hash', 'iter', 'next', 'vars', 'globals', 'locals', 'type', 'object', 'super', 'map', 'filter', 'any', 'all', 'callable', '__import__', 'compile', 'memoryview', 'bytearray', 'bytes', 'frozenset', 'complex', 'property', 'staticmethod', 'classmethod']);

/** A value the file computes when it runs (data, a call), not a wrong constant. */
function isRunTime(value: Value): boolean {
  return value.kind === 'unknown' || value.kind === 'host' || value.kind === 'reference' || value.kind === 'object' || value.kind === 'function' || value.kind === 'class';
}
