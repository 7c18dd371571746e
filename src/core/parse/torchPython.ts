/**
 * PyTorch (Python) loader: reads `nn.Sequential(...)` models and `nn.Module` subclasses
 * statically from a tree-sitter syntax tree. It never runs the user's code. It interprets just
 * enough Python to know the architecture: literals and constants, arithmetic, `range`, lists
 * built with `append` / `+=` / comprehensions, `__init__` (sub-modules assigned to `self`,
 * `nn.init.*_` calls, `for m in self.modules(): if isinstance(...)` loops, `self.apply(fn)`, and
 * the helper methods and functions it calls), initialisations after `model = Net()`, factory
 * functions returning an `nn.Sequential` (read where they are called) and `forward` (the order in
 * which sub-modules and functional ops are applied to the input).
 *
 * Soundness policy (the same as the Keras loader's):
 *  - Anything that changes what would be trained and cannot be resolved (an unknown module or
 *    call applied to the data, a width only known at run time, branches or residual sums in
 *    `forward`, an input size that cannot be determined) drops the model; a LoadProblem at the
 *    offending node goes to `LoadResult.problems`.
 *  - Anything that keeps the architecture (an unknown shape-preserving module such as
 *    LayerNorm, an unknown activation treated as linear, an unreadable initialiser) becomes a
 *    problem in `ModelSpec.problems` and the model is returned.
 *
 * Layout: PyTorch tensors are channels-first (N, C, H, W); the IR is channels-last ([H, W, C]
 * per sample). Input shapes are converted. A Flatten after convolutions therefore orders the
 * features differently from PyTorch (H, W, C instead of C, H, W): the following Linear sees the
 * same features permuted. The diagnosis (gradient norms per layer, saturated / dead fractions,
 * activation statistics) is invariant under a fixed permutation of a layer's inputs with freshly
 * drawn i.i.d. weights, so no weight re-mapping is needed.
 */
import type { Node, Parser } from 'web-tree-sitter';
import {
  PositionIndex,
  type LayerSpec,
  type LoadProblem,
  type LoadResult,
  type ModelSpec,
  type SourceSpan,
  type LoadContext,
} from '../model';
import { collectImports, dottedParts, type ImportTable } from '../python/imports';
import { findDictMutations } from '../python/dictMutations';
import {
  FUNCTIONAL_ACTIVATIONS,
  NEUTRAL_METHODS,
  SHAPE_PRESERVING_FUNCTIONS,
  SAME_MODULE_METHODS,
} from '../frameworks/torch/vocabulary';
import {
  type Op,
  type Value,
  type Scope,
  Env,
  ModuleScope,
  unknown,
  UnsoundModel,
  MAX_STEPS,
  Evaluator,
  callArguments,
  firstCode,
  statementsOf,
  ancestorOfType,
  shorten,
  describeValue,
} from '../frameworks/torch/values';
import {
  type RawLayer,
  type InitRecord,
  type ModelContext,
  ModuleReader,
  checkShapes,
  shapeProblem,
} from '../frameworks/torch/layers';
import { type InputShapeHost, InputShapeReader } from '../frameworks/torch/inputShape';
import { InitializerReader } from '../frameworks/torch/initializers';
import { type StatementHost, StatementRunner, parameterNames } from '../frameworks/torch/statements';
import { ModuleClassIndex } from '../frameworks/torch/moduleClasses';
import { type ModelOrigin, type TrainingHost, TrainingSetupReader } from '../frameworks/torch/training';
import { getParser } from './treeSitter';
import { readSourceFile } from './sourceFile';
import { syntaxErrorProblem } from './syntaxErrors';
import { formatCount, MAX_MODELS_PER_FILE } from './limits';
import { pythonTruthiness } from '../python/bindings';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// #region Public entry point

/** Loads every PyTorch model (nn.Sequential values and nn.Module classes) of a Python file. Never throws. */
export async function loadTorchPython(text: string, fileName: string, context: LoadContext = {}): Promise<LoadResult> {
  // The parser also reads the workspace modules the file imports constants from (`from config import HIDDEN`).
  const parser = context.readPythonModule ? await getParser('python') : undefined;
  return readSourceFile(text, fileName, 'python', 'pytorch-python', (tree, positions) => new TorchFileLoader(text, positions, tree.rootNode, context, parser).load());
}

/**
 * True when a Python file imports torch and neither Keras nor TensorFlow (a mixed file stays
 * with the Keras loader, which ignores the PyTorch parts). Decided from the import statements.
 */
export async function importsTorchOnly(text: string): Promise<boolean> {
  if (text.includes('\u0000')) return false;
  try {
    const parser = await getParser('python');
    const tree = parser.parse(text);
    if (!tree) return false;
    try {
      let torch = false;
      let keras = false;
      for (const path of collectImports(tree.rootNode).values()) {
        if (path[0] === 'torch' || path[0] === 'pytorch_lightning' || path[0] === 'lightning') torch = true;
        if (path[0] === 'tensorflow' || path[0] === 'tf_keras' || path.includes('keras')) keras = true;
      }
      return torch && !keras;
    } finally {
      tree.delete();
    }
  } catch {
    return false;
  }
}

// #endregion


/**
 * torch.nn modules with weights that a file may train on their own (`model = nn.Linear(784, 10)`):
 * read as a one-layer model when the file has no other. Unsupported ones among them are refused
 * at their call, which says more than "no model found".
 */
const LONE_LAYERS = new Set([
  'Linear', 'Bilinear', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d',
  'RNN', 'LSTM', 'GRU', 'Embedding', 'Transformer', 'TransformerEncoder', 'MultiheadAttention',
]);



// #region Loading a file

/** Where a model is defined: the call that builds it and the node its span covers. */
interface ModelSite {
  readonly call: Node;
  readonly name: string;
  readonly spanNode: Node;
}

class TorchFileLoader implements TrainingHost, InputShapeHost, StatementHost {
  private readonly imports: ImportTable;
  readonly evaluator: Evaluator;
  readonly moduleScope: ModuleScope;
  private readonly fileProblems: LoadProblem[] = [];
  readonly classes: ModuleClassIndex;
  readonly inits: InitializerReader;
  private readonly statements: StatementRunner;
  private reportedBudget = false;
  private readonly shapes = new InputShapeReader(this);
  /** Per-file caches (each would otherwise be recomputed per model). */
  private callsByCallee: Map<string, Node[]> | undefined;
  private moduleEnvs: Map<number, Scope> | undefined;
  private callsByNameCache: Map<string, Node[]> | undefined;

  constructor(
    private readonly text: string,
    private readonly positions: PositionIndex,
    readonly root: Node,
    /** The chosen data's example shape stands in for an input shape the file does not fix. */
    readonly context: LoadContext = {},
    parser?: Parser,
  ) {
    this.imports = collectImports(root);
    this.evaluator = new Evaluator(root, this.imports, findDictMutations(root), context, parser);
    this.moduleScope = new ModuleScope(this.evaluator, root);
    this.classes = new ModuleClassIndex(root, this.evaluator);
    this.inits = new InitializerReader(this);
    this.statements = new StatementRunner(this);
    this.evaluator.isModuleClass = (node) => this.classes.ids.has(node.id);
    this.evaluator.isPlainPython = (node) => !this.classes.mentionsModuleConstructor(node) && !this.inits.initialises(node);
    this.evaluator.moduleScope = this.moduleScope;
    this.evaluator.callFunction = (fn, call, scope, self) => this.statements.callFunction(fn, call, scope, self, this.factoryContext());
  }

  /**
   * Initialisations made inside factory functions while their result is evaluated. They target
   * module values by identity, so they can be kept for the whole file and only ever match the
   * modules that call created.
   */
  private readonly factoryInits: InitRecord[] = [];
  /** The context of the model being built, for problems met inside evaluated factory functions. */
  private activeCtx: ModelContext | undefined;

  /** Where a def evaluated for its value reports: the model being built, with the file's factory initialisations. */
  private factoryContext(): ModelContext {
    return { problems: this.activeCtx?.problems ?? [], notes: this.activeCtx?.notes ?? [], inits: this.factoryInits };
  }

  load(): LoadResult {
    const syntaxError = syntaxErrorProblem(this.root, this.text, this.positions, 'Python');
    if (syntaxError) this.fileProblems.push(syntaxError);

    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    const origins: ModelOrigin[] = [];
    const blocks = this.buildingBlocks();
    for (const [className, classNode] of this.classes.withForward) {
      if (blocks.has(className)) continue;
      const name = uniqueName(className, usedNames);
      if (this.tryBuild(name, classNode, models, (ctx) => this.buildClassModel(name, classNode, ctx))) origins.push({ model: models.length - 1, classNode });
    }
    const { sites, uncalledFactories } = this.sequentialSites();
    for (const site of sites) {
      const name = uniqueName(site.name, usedNames);
      if (this.tryBuild(name, site.call, models, (ctx) => this.buildSequentialModel(name, site.call, site.spanNode, ctx))) origins.push({ model: models.length - 1, call: site.call });
    }
    if (models.length === 0 && this.fileProblems.length === 0) {
      // Only factories that nothing calls are left: read them with their defaults, so that the
      // parameter that blocks them is reported where it is used rather than "no model found".
      for (const site of uncalledFactories) {
        const name = uniqueName(site.name, usedNames);
        if (this.tryBuild(name, site.call, models, (ctx) => this.buildSequentialModel(name, site.call, site.spanNode, ctx))) origins.push({ model: models.length - 1, call: site.call });
      }
    }
    if (models.length === 0 && this.fileProblems.length === 0) {
      // No Sequential and no module class: a module-level layer (`model = nn.Linear(784, 10)`,
      // logistic regression) is a model of one layer.
      for (const site of this.loneLayerSites()) {
        const name = uniqueName(site.name, usedNames);
        if (this.tryBuild(name, site.call, models, (ctx) => this.buildLoneLayerModel(name, site.call, ctx))) origins.push({ model: models.length - 1, call: site.call });
      }
    }
    new TrainingSetupReader(this).attach(models, origins);
    if (models.length === 0 && this.fileProblems.length === 0) this.explainNoModel();
    if (models.length === 0 && this.fileProblems.length === 0) {
      this.fileProblems.push({
        code: 'parse-error',
        message:
          'No PyTorch model found. Activation Lens reads `nn.Sequential(...)` models and `nn.Module` subclasses with `__init__` and `forward`.',
        span: this.positions.span(0, 0),
      });
    }
    this.evaluator.interpreter.dispose();
    return { format: 'pytorch-python', models, problems: this.fileProblems };
  }

  /**
   * Module-level `name = nn.X(...)` of a layer with weights (not a container, not a loss): read
   * only when the file has no other model. Top-level statements only: a layer made inside a def
   * or a class is a part of something else.
   */
  private loneLayerSites(): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const statement of this.root.namedChildren) {
      const assignment = statement?.type === 'expression_statement' ? statement.firstNamedChild : undefined;
      const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : undefined;
      const right = assignment?.childForFieldName('right');
      if (left?.type !== 'identifier' || right?.type !== 'call') continue;
      const callee = right.childForFieldName('function');
      const parts = callee ? dottedParts(callee) : undefined;
      const path = parts ? this.evaluator.resolve(parts) : [];
      const layer = path.length === 3 && path[0] === 'torch' && path[1] === 'nn' ? path[2] : undefined;
      if (!layer || !LONE_LAYERS.has(layer)) continue;
      sites.push({ call: right, name: left.text, spanNode: right });
    }
    return sites;
  }

  private buildLoneLayerModel(name: string, call: Node, ctx: ModelContext): ModelSpec {
    if (call.hasError) throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', call);
    const value = this.evaluator.evaluate(call, this.scopeAt(call));
    const raw = this.moduleLayers(value, '', ctx, 0, call);
    ctx.notes.push({ message: `\`${name}\` is a single \`${shorten(call.childForFieldName('function')?.text ?? call.text)}\` module, read as a model of that one layer.`, span: this.span(call) });
    this.initsAfterConstruction(call, value, ctx);
    return this.finishModel(name, call, raw, ctx);
  }

  /**
   * When nothing was read: an nn.Module subclass without `forward` (inherited ones count) is named
   * at its class, since the order its layers are applied in is what forward would say.
   */
  private explainNoModel(): void {
    for (const node of this.root.descendantsOfType('class_definition')) {
      if (!node || !this.classes.ids.has(node.id) || this.classes.methodWithInheritance(node, 'forward')) continue;
      const nameNode = node.childForFieldName('name') ?? node;
      const hasLayers = node.descendantsOfType('call').some((call) => {
        const callee = call?.childForFieldName('function');
        const parts = callee ? dottedParts(callee) : undefined;
        const path = parts ? this.evaluator.resolve(parts) : [];
        return path[0] === 'torch' && path[1] === 'nn' && path.length === 3;
      });
      if (!hasLayers) continue;
      this.fileProblems.push({
        code: 'parse-error',
        message: `No PyTorch model found: \`${nameNode.text}\` is an nn.Module subclass without a \`forward\` method, so the order its layers are applied in is unknown. Add \`def forward(self, x):\` that applies them.`,
        span: this.span(nameNode),
      });
      return;
    }
  }

  /** Models read or refused so far (MAX_MODELS_PER_FILE). */
  private modelsTried = 0;

  /** Builds one model into `models`; true when it was read. */
  private tryBuild(name: string, at: Node, models: ModelSpec[], build: (ctx: ModelContext) => ModelSpec): boolean {
    if (++this.modelsTried > MAX_MODELS_PER_FILE) {
      if (this.modelsTried === MAX_MODELS_PER_FILE + 1) {
        const span = this.span(at);
        this.fileProblems.push({
          code: 'parse-error',
          message: `The file defines more than ${formatCount(MAX_MODELS_PER_FILE)} models, more than Activation Lens reads per file; \`${name}\` (line ${span.start.line}, column ${span.start.column}) and the models after it are not read.`,
          span,
        });
      }
      return false;
    }
    if (this.evaluator.exhausted) {
      if (!this.reportedBudget) {
        this.reportedBudget = true;
        this.fileProblems.push({ code: 'parse-error', message: `Model \`${name}\` and the models after it were not read: the file is too large or too deeply nested to read statically (its work budget of ${formatCount(MAX_STEPS)} steps ran out).`, span: this.span(at) });
      }
      return false;
    }
    const ctx: ModelContext = { problems: [], notes: [], inits: [] };
    this.activeCtx = ctx;
    this.appliedModules = new Map();
    try {
      models.push(build(ctx));
      return true;
    } catch (error) {
      if (!(error instanceof UnsoundModel)) throw error;
      this.fileProblems.push({ code: error.code, message: `Model \`${name}\` cannot be diagnosed: ${error.message}`, span: this.span(error.node ?? at) });
      return false;
    } finally {
      this.activeCtx = undefined;
    }
  }

  span(node: Node): SourceSpan {
    return this.positions.span(node.startIndex, node.endIndex);
  }

  // #region Finding models

  /** Module classes instantiated inside another module class, or derived from by one: parts, not models of their own. */
  private buildingBlocks(): Set<string> {
    const blocks = new Set<string>();
    for (const [, classNode] of this.classes.withForward) {
      // A base class of another model class (`class Net(Base)`) is read through that subclass.
      for (const base of classNode.childForFieldName('superclasses')?.namedChildren ?? []) {
        if (base?.type === 'identifier' && this.classes.withForward.has(base.text)) blocks.add(base.text);
      }
      for (const call of classNode.descendantsOfType('call')) {
        const callee = call?.childForFieldName('function');
        if (callee?.type === 'identifier' && this.classes.withForward.has(callee.text) && callee.text !== classNode.childForFieldName('name')?.text) {
          blocks.add(callee.text);
        }
      }
    }
    return blocks;
  }

  /**
   * Where Sequential models are defined: outermost `nn.Sequential(...)` calls outside module
   * classes (found top-down, without parent walks: web-tree-sitter's `parent` costs O(depth),
   * which deep nesting turns quadratic), and calls of factory functions that return one
   * (`model = make_mlp([10, 64, 1])`), read with the call's arguments. `uncalledFactories` are
   * Sequentials in factories whose required parameters no call gives: read only when the file has
   * no other model, so that what blocks them is reported at its position.
   */
  private sequentialSites(): { sites: ModelSite[]; uncalledFactories: ModelSite[] } {
    const found: (ModelSite & { fn?: Node; returned: boolean })[] = [];
    const visit = (node: Node, fn: Node | undefined, parent: Node | undefined, grandParent: Node | undefined, depth: number): void => {
      if (depth > 400 || found.length > 200) return;
      if (node.type === 'class_definition') return;
      if (node.type === 'call' && this.isContainerCall(node, ['Sequential', 'ModuleList', 'ModuleDict'])) {
        if (!this.isContainerCall(node, ['Sequential'])) return;
        const fnName = fn?.childForFieldName('name')?.text;
        const holder = parent?.type === 'parenthesized_expression' ? grandParent : parent;
        let name = 'sequential';
        let returned = false;
        if (holder?.type === 'assignment' && holder.childForFieldName('left')?.type === 'identifier') {
          const target = holder.childForFieldName('left')?.text ?? 'model';
          returned = !!fn && returnsName(fn, target);
          name = fnName && returned ? fnName : target;
        } else if (holder?.type === 'return_statement' && fnName) {
          name = fnName;
          returned = true;
        }
        found.push({ call: node, name, spanNode: node, fn, returned });
        return;
      }
      const innerFn = node.type === 'function_definition' ? node : fn;
      for (const child of node.namedChildren) if (child) visit(child, innerFn, node, parent, depth + 1);
    };
    visit(this.root, undefined, undefined, undefined, 0);

    const factoryIds = new Set(found.filter((f) => f.fn && f.returned).map((f) => (f.fn as Node).id));
    const sites: ModelSite[] = [];
    const uncalledFactories: ModelSite[] = [];
    const readFactories = new Set<number>();
    for (const site of found) {
      if (!site.fn) {
        sites.push(site);
        continue;
      }
      const fnName = site.fn.childForFieldName('name')?.text ?? '';
      const calls = site.returned ? this.factoryModelCalls(fnName, factoryIds) : [];
      if (calls.length > 0) {
        // The factory is read where it is called, once per call (`actor = mlp(...)`, `critic = mlp(...)`).
        if (!readFactories.has(site.fn.id)) sites.push(...calls);
        readFactories.add(site.fn.id);
        continue;
      }
      const complete = parameterNames(site.fn).every((p) => p.default || p.splat);
      if (complete) sites.push(site);
      // A factory with required parameters called elsewhere (`block(n_in, n_out)` inside a model) is a part.
      else if (site.returned && !this.callsByName().has(fnName)) uncalledFactories.push(site);
    }
    sites.sort((a, b) => a.call.startIndex - b.call.startIndex);
    return { sites, uncalledFactories };
  }

  /** Every call whose callee is a plain name, by that name (computed once per file). */
  private callsByName(): Map<string, Node[]> {
    if (!this.callsByNameCache) {
      this.callsByNameCache = new Map();
      for (const call of this.root.descendantsOfType('call')) {
        const callee = call?.childForFieldName('function');
        if (!call || callee?.type !== 'identifier') continue;
        const list = this.callsByNameCache.get(callee.text) ?? [];
        list.push(call);
        this.callsByNameCache.set(callee.text, list);
      }
    }
    return this.callsByNameCache;
  }

  /**
   * Calls of a factory that define a model of their own: `name = factory(...)` (optionally
   * `.to(device)`), outside module classes (there the result is a part) and outside other factories.
   */
  private factoryModelCalls(fnName: string, factoryIds: ReadonlySet<number>): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const call of this.callsByName().get(fnName) ?? []) {
      const target = assignedName(call);
      if (!target || ancestorOfType(call, ['class_definition'])) continue;
      const enclosing = ancestorOfType(call, ['function_definition']);
      if (enclosing && factoryIds.has(enclosing.id)) continue;
      sites.push({ call, name: target, spanNode: call });
    }
    return sites;
  }

  private isContainerCall(call: Node, types: readonly string[]): boolean {
    const callee = call.childForFieldName('function');
    const parts = callee ? dottedParts(callee) : undefined;
    if (!parts) return false;
    const path = this.evaluator.resolve(parts);
    return path.length === 3 && path[0] === 'torch' && path[1] === 'nn' && types.includes(path[2]);
  }

  // #endregion

  // #region Interpreting statements

  // #endregion

  // #region Module classes

  private buildClassModel(name: string, classNode: Node, ctx: ModelContext): ModelSpec {
    if (classNode.hasError) throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', classNode);
    const args = this.instantiationArguments(classNode);
    const built = this.buildClass(classNode, args, '', ctx, 0);
    if (args?.kind === 'call') this.initsAfterConstruction(args.node, built.self, ctx);
    return this.finishModel(name, classNode, built.layers, ctx);
  }

  /** The arguments of the first `ClassName(...)` call of the file, for __init__ parameters without defaults. */
  private instantiationArguments(classNode: Node): Value | undefined {
    const className = classNode.childForFieldName('name')?.text ?? '';
    if (!this.callsByCallee) {
      this.callsByCallee = new Map();
      for (const call of this.root.descendantsOfType('call')) {
        const callee = call?.childForFieldName('function');
        if (!call || callee?.type !== 'identifier' || !this.classes.withForward.has(callee.text)) continue;
        const list = this.callsByCallee.get(callee.text) ?? [];
        list.push(call);
        this.callsByCallee.set(callee.text, list);
      }
    }
    const call = this.callsByCallee.get(className)?.[0];
    return call ? { kind: 'call', node: call, scope: this.scopeAt(call) } : undefined;
  }

  /** Names visible at a node outside module classes: the enclosing function's locals, then the module. */
  private scopeAt(node: Node): Scope {
    const fn = ancestorOfType(node, ['function_definition']);
    if (!fn || ancestorOfType(fn, ['class_definition'])) {
      if (!fn) return this.moduleEnvAt(node);
      return this.moduleScope;
    }
    const env = new Env(this.moduleScope);
    for (const parameter of parameterNames(fn)) {
      env.set(parameter.name, parameter.default ? this.evaluator.evaluate(parameter.default, this.moduleScope) : unknown(fn, `\`${parameter.name}\` is a parameter of \`${fn.childForFieldName('name')?.text ?? 'the function'}\`, known only at run time`));
    }
    this.statements.runBlock(statementsOf(fn.childForFieldName('body')), env, { problems: [], notes: [], inits: [] }, node.startIndex);
    return env.freeze();
  }

  /**
   * Module-level names in effect before the top-level statement holding `node`: the module body
   * is run once per file and a frozen environment kept before each statement. A node inside a
   * compound statement (`if __name__ == "__main__":`) gets its own run into that statement.
   */
  private moduleEnvAt(node: Node): Scope {
    const statements = statementsOf(this.root);
    if (!this.moduleEnvs) {
      this.moduleEnvs = new Map();
      const env = new Env(this.moduleScope);
      const ctx: ModelContext = { problems: [], notes: [], inits: [] };
      // Shared by every model of the file: problems met while computing it belong to none of them.
      const modelCtx = this.activeCtx;
      this.activeCtx = undefined;
      try {
        for (const statement of statements) {
          this.moduleEnvs.set(statement.startIndex, env.freeze());
          try {
            this.statements.runStatement(statement, env, ctx);
          } catch (error) {
            if (!(error instanceof UnsoundModel) || this.evaluator.exhausted) throw error;
            // Names the statement would have changed become unknown, so a model built from them
            // fails with this reason instead of silently missing layers.
            for (const name of this.namesChangedBy(statement)) env.set(name, unknown(error.node, error.message.endsWith('.') ? error.message.slice(0, -1) : error.message));
          }
        }
      } finally {
        this.activeCtx = modelCtx;
      }
    }
    const holder = statements.find((s) => s.startIndex <= node.startIndex && node.endIndex <= s.endIndex);
    const before = holder ? this.moduleEnvs.get(holder.startIndex) : undefined;
    if (!holder || !before) return this.moduleScope;
    if (holder.type === 'expression_statement' || holder.type === 'return_statement') return before;
    const env = new Env(before);
    this.statements.runBlock([holder], env, { problems: [], notes: [], inits: [] }, node.startIndex);
    return env.freeze();
  }

  /** Names assigned, augmented or appended to inside a statement. */
  private namesChangedBy(statement: Node): Set<string> {
    const names = new Set<string>();
    for (const assignment of statement.descendantsOfType(['assignment', 'augmented_assignment'])) {
      const left = assignment?.childForFieldName('left');
      if (left?.type === 'identifier') names.add(left.text);
    }
    for (const call of statement.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function');
      const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;
      if (object?.type === 'identifier') names.add(object.text);
    }
    return names;
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

  /** Runs __init__ and forward of a module class and returns its layers in forward order. */
  private classLayers(classNode: Node, call: Value | undefined, prefix: string, ctx: ModelContext, depth: number): RawLayer[] {
    return this.buildClass(classNode, call, prefix, ctx, depth).layers;
  }

  /** classLayers, with the instance `self` that __init__ built (for initialisations after construction). */
  private buildClass(classNode: Node, call: Value | undefined, prefix: string, ctx: ModelContext, depth: number): { layers: RawLayer[]; self: Value } {
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
      default:
        if (this.touchesTensor(node, env)) {
          throw new UnsoundModel('unsupported-layer', `\`${shorten(node.text)}\` in forward is not supported (Activation Lens reads a plain chain of layers: no sums, products, concatenations or indexing of the data).`, node);
        }
        return this.evaluator.evaluate(node, env);
    }
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
          ctx.problems.push({ code: 'unsupported-layer', message: `\`${calleeValue.path.join('.')}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`, span: this.span(call) });
          return input;
        }
      }
      throw new UnsoundModel('unsupported-layer', `\`${shorten(callee.text)}\` applied to the data is not supported, and it may change its shape, so the model cannot be rebuilt soundly.`, callee);
    }
    throw new UnsoundModel('unsupported-layer', `\`${shorten(callee.text)}\` applied to the data is not known statically, so the model cannot be rebuilt soundly.`, callee);
  }

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

  /**
   * Module objects applied so far in the model being built, with their layers. A module applied
   * twice (`self.shared(x)` twice in forward, `nn.Sequential(l, act, l)`) shares its weights
   * between the two places; the IR has one set of weights per layer, so such a model is refused
   * at the second use, unless the module has no weights (an activation, pooling, dropout…).
   */
  private appliedModules = new Map<Value, RawLayer[]>();

  /** The layers of a module value; refuses a module with weights applied a second time. */
  private moduleLayers(value: Value, name: string, ctx: ModelContext, depth: number, use: Node): RawLayer[] {
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
    const reader = new ModuleReader(this, this.evaluator, call, value.scope, ctx, value);
    const layer = reader.read(className, name);
    if (layer === 'skip') return [];
    return [layer];
  }

  private functionalLayer(op: Extract<Op, { type: 'functional' }>, ctx: ModelContext): RawLayer | undefined {
    const reader = new ModuleReader(this, this.evaluator, op.call, op.scope, ctx);
    return reader.readFunctional(op);
  }

  // #endregion

  // #region Sequential models

  private buildSequentialModel(name: string, call: Node, spanNode: Node, ctx: ModelContext): ModelSpec {
    if (call.hasError) throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', call);
    const scope = this.scopeAt(call);
    const value = this.evaluator.evaluate(call, scope);
    if (value.kind === 'call' && value.node.id === call.id && !this.isContainerCall(call, ['Sequential'])) {
      // A factory call whose result was not found: say so rather than calling the factory a layer.
      throw new UnsoundModel('parse-error', `\`${shorten(call.text)}\` does not return a model that can be read statically (the factory must return an \`nn.Sequential(...)\` on every path).`, call);
    }
    const raw = this.moduleLayers(value, '', ctx, 0, call);
    this.initsAfterConstruction(call, value, ctx);
    return this.finishModel(name, spanNode, raw, ctx);
  }

  /**
   * `nn.init.*(model[0].weight)`, `model.apply(fn)`, `init_weights(model)` and module loops after
   * `model = nn.Sequential(...)`, `model = make_mlp(...)` or `model = Net()`, in the same block.
   */
  private initsAfterConstruction(call: Node, value: Value, ctx: ModelContext): void {
    const assignment = assignmentOf(call);
    const target = assignment?.childForFieldName('left');
    const statement = assignment?.parent;
    const block = statement?.parent;
    if (target?.type !== 'identifier' || statement?.type !== 'expression_statement' || !block) return;
    const env = new Env(this.moduleScope);
    env.set(target.text, value);
    const after = statementsOf(block).filter((s) => s.startIndex >= statement.endIndex);
    for (const s of after) {
      // Stop at a reassignment of the model's name.
      const expression = s.type === 'expression_statement' ? firstCode(s) : undefined;
      if (expression?.type === 'assignment' && expression.childForFieldName('left')?.text === target.text) break;
      if (!s.text.includes(target.text)) continue;
      // Compound statements (a training loop) are run only when they initialise something: the
      // others cannot change the initialisers and would spend the file's work budget.
      if (s.type !== 'expression_statement' && !this.inits.initialises(s)) continue;
      try {
        this.statements.runStatement(s, env, ctx);
      } catch (error) {
        if (!(error instanceof UnsoundModel) || this.evaluator.exhausted) throw error;
      }
    }
  }

  // #endregion

  // #region Finishing a model: input shape (frameworks/torch/inputShape.ts), shape checks, initialisers

  private finishModel(name: string, spanNode: Node, raw: RawLayer[], ctx: ModelContext): ModelSpec {
    if (raw.length === 0) throw new UnsoundModel('parse-error', 'it has no layers that can be read statically.', spanNode);
    const inputShape = this.shapes.inputShape(raw, spanNode, ctx);
    checkShapes(inputShape, raw);
    // A flatten of data that is already flat (`x.view(-1, 784)` on a 784-vector) is a no-op that
    // the trainer's Flatten layer refuses (it needs rank ≥ 2): leave it out.
    const ranks: number[] = [];
    shapeProblem(inputShape, raw, ranks);
    raw = raw.filter((layer, i) => !(layer.spec.kind === 'flatten' && ranks[i] === 1));
    // Explicit initialisers, in program order (a later one wins).
    const layers: LayerSpec[] = [];
    const used = new Map<string, number>();
    raw.forEach((layer, index) => {
      let spec: Omit<LayerSpec, 'index' | 'name' | 'source'> = layer.spec;
      if (layer.moduleValue && (spec.kind === 'dense' || spec.kind === 'conv1d' || spec.kind === 'conv2d')) {
        // Inits inside factories happen when the module is created, before any made on the result.
        for (const init of [...this.factoryInits, ...ctx.inits]) {
          if (init.module !== layer.moduleValue) continue;
          spec = init.param === 'weight' ? { ...spec, kernelInitializer: init.spec } : { ...spec, biasInitializer: init.spec };
        }
      }
      layers.push({ index, name: uniqueName(layer.name || spec.kind, used), ...spec, source: layer.source });
    });
    const model: Mutable<ModelSpec> = {
      name,
      format: 'pytorch-python',
      inputShape,
      layers,
      span: this.span(spanNode),
      problems: uniqueProblems(ctx.problems),
    };
    if (ctx.notes.length > 0) model.notes = ctx.notes;
    return model;
  }

  // #endregion
}

/** The same problem met twice (a factory evaluated once per use) is reported once. */
function uniqueProblems(problems: readonly LoadProblem[]): LoadProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.span.start.offset}:${p.span.end.offset}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A layer with trainable weights (applying its module twice would share them). */
function hasWeights(layer: RawLayer): boolean {
  const kind = layer.spec.kind;
  return kind === 'dense' || kind === 'conv1d' || kind === 'conv2d' || kind === 'batchNorm' || (kind === 'activation' && layer.spec.activation.name === 'prelu');
}

function joinName(prefix: string, name: string): string {
  if (!prefix) return name;
  if (!name) return prefix;
  return `${prefix}.${name}`;
}


/**
 * The plain name a call's result is assigned to (`model = f(...)`, `model = f(...).to(device)`),
 * and the assignment statement; undefined when the result is used otherwise.
 */
function assignedName(call: Node): string | undefined {
  return assignmentOf(call)?.childForFieldName('left')?.text;
}

function assignmentOf(call: Node): Node | undefined {
  let node = call;
  for (;;) {
    const parent = node.parent;
    if (parent?.type === 'parenthesized_expression') {
      node = parent;
      continue;
    }
    const method = parent?.type === 'attribute' ? parent.childForFieldName('attribute')?.text : undefined;
    const chained = parent?.parent;
    if (method && SAME_MODULE_METHODS.has(method) && chained?.type === 'call' && chained.childForFieldName('function')?.id === parent?.id) {
      node = chained;
      continue;
    }
    if (parent?.type === 'assignment' && parent.childForFieldName('left')?.type === 'identifier' && parent.childForFieldName('right')?.id === node.id) return parent;
    return undefined;
  }
}

function returnsName(fn: Node, name: string): boolean {
  return fn.descendantsOfType('return_statement').some((s) => !!s && firstCode(s)?.text === name);
}

function uniqueName(base: string, used: Map<string, number>): string {
  const count = used.get(base) ?? 0;
  used.set(base, count + 1);
  if (count === 0) return base;
  let candidate = `${base}_${count}`;
  while (used.has(candidate)) candidate = `${candidate}_`;
  used.set(candidate, 1);
  return candidate;
}

// #endregion
