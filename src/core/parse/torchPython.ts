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
 *
 * This file finds the models of a file (module classes, Sequential sites, factory calls, lone
 * layers) and assembles each one; the reading itself is in frameworks/torch/ (issue 12):
 * values.ts (values, scopes, the bridge to the shared evaluator), moduleClasses.ts,
 * statements.ts (`__init__`, helpers, module-level code), initializers.ts, forward.ts (module
 * classes, forward, ops into layers), layers.ts (torch.nn constructors, shape checks),
 * inputShape.ts and training.ts (optimisers and losses).
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
import { SAME_MODULE_METHODS } from '../frameworks/torch/vocabulary';
import {
  type Value,
  type Scope,
  Env,
  ModuleScope,
  unknown,
  UnsoundModel,
  MAX_STEPS,
  Evaluator,
  firstCode,
  statementsOf,
  ancestorOfType,
  shorten,
} from '../frameworks/torch/values';
import { type RawLayer, type InitRecord, type FreezeRecord, type ModelContext, checkShapes, shapeProblem } from '../frameworks/torch/layers';
import { ModuleClassIndex } from '../frameworks/torch/moduleClasses';
import { InitializerReader } from '../frameworks/torch/initializers';
import { type StatementHost, StatementRunner, parameterNames } from '../frameworks/torch/statements';
import { type ForwardHost, ForwardReader } from '../frameworks/torch/forward';
import { type InputShapeHost, InputShapeReader } from '../frameworks/torch/inputShape';
import { type ModelOrigin, type TrainingHost, TrainingSetupReader } from '../frameworks/torch/training';
import { getParser } from './treeSitter';
import { readSourceFile } from './sourceFile';
import { syntaxErrorProblem } from './syntaxErrors';
import { formatCount, MAX_MODELS_PER_FILE, tooManyModels } from './limits';
import { mentionsName } from '../python/names';

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

/** Reads one file: owns its evaluator and the per-file parts of the reader, and is their host. */
class TorchFileLoader implements TrainingHost, InputShapeHost, StatementHost, ForwardHost {
  private readonly imports: ImportTable;
  readonly evaluator: Evaluator;
  readonly moduleScope: ModuleScope;
  private readonly fileProblems: LoadProblem[] = [];
  readonly classes: ModuleClassIndex;
  readonly inits: InitializerReader;
  readonly statements: StatementRunner;
  private readonly forward: ForwardReader;
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
    // Each part takes what it needs of the parts made before it, so the order matters.
    this.classes = new ModuleClassIndex(root, this.evaluator);
    this.inits = new InitializerReader(this);
    this.statements = new StatementRunner(this);
    this.forward = new ForwardReader(this);
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
  /** Modules frozen inside factory functions (`requires_grad_(False)` before `return`). */
  private readonly factoryFrozen: FreezeRecord[] = [];
  /** The context of the model being built, for problems met inside evaluated factory functions. */
  private activeCtx: ModelContext | undefined;

  /** Where a def evaluated for its value reports: the model being built, with the file's factory initialisations. */
  private factoryContext(): ModelContext {
    return { problems: this.activeCtx?.problems ?? [], notes: this.activeCtx?.notes ?? [], inits: this.factoryInits, frozen: this.factoryFrozen };
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
    const raw = this.forward.moduleLayers(value, '', ctx, 0, call);
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
        this.fileProblems.push(tooManyModels(undefined, this.span(at)));
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
    const ctx: ModelContext = { problems: [], notes: [], inits: [], frozen: [] };
    this.activeCtx = ctx;
    this.forward.startModel();
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

  // #region Module classes

  private buildClassModel(name: string, classNode: Node, ctx: ModelContext): ModelSpec {
    if (classNode.hasError) throw new UnsoundModel('parse-error', 'its definition contains a syntax error.', classNode);
    const args = this.instantiationArguments(classNode);
    const built = this.forward.buildClass(classNode, args, '', ctx, 0);
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
    this.statements.runBlock(statementsOf(fn.childForFieldName('body')), env, { problems: [], notes: [], inits: [], frozen: [] }, node.startIndex);
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
      const ctx: ModelContext = { problems: [], notes: [], inits: [], frozen: [] };
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
    this.statements.runBlock([holder], env, { problems: [], notes: [], inits: [], frozen: [] }, node.startIndex);
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
    const raw = this.forward.moduleLayers(value, '', ctx, 0, call);
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
    for (const { node: s, text, assigns } of this.blockStatements(block)) {
      if (s.startIndex < statement.endIndex) continue;
      // Stop at a reassignment of the model's name.
      if (assigns === target.text) break;
      if (!mentionsName(text, target.text)) continue;
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

  /** Per block, its statements with their text and the name each assigns, read once per file. */
  private readonly statementSummaries = new Map<number, readonly StatementSummary[]>();

  /**
   * The statements of `block`, summarised once: walking the tree again for every model made a
   * file of thousands of models quadratic in tree-sitter node reads.
   */
  private blockStatements(block: Node): readonly StatementSummary[] {
    let summaries = this.statementSummaries.get(block.id);
    if (!summaries) {
      summaries = statementsOf(block).map((node) => {
        const expression = node.type === 'expression_statement' ? firstCode(node) : undefined;
        const assigns = expression?.type === 'assignment' ? expression.childForFieldName('left')?.text : undefined;
        return { node, text: node.text, assigns };
      });
      this.statementSummaries.set(block.id, summaries);
    }
    return summaries;
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
      const frozen = [...this.factoryFrozen, ...ctx.frozen].some((record) => record.module === layer.moduleValue);
      layers.push({ index, name: uniqueName(layer.name || spec.kind, used), ...spec, ...(frozen ? { frozen } : {}), source: layer.source });
    });
    // A freezing statement of this model's code that reached none of its layers (a module not read statically).
    const reached = new Set(ctx.frozen.filter((record) => raw.some((layer) => layer.moduleValue === record.module)).map((record) => record.at.start.offset));
    for (const record of ctx.frozen) {
      if (reached.has(record.at.start.offset)) continue;
      reached.add(record.at.start.offset);
      ctx.problems.push({ code: 'unsupported-layer', message: `\`${record.text}\` freezes a module that is not one of the model's layers known statically; nothing is frozen in the diagnosis.`, span: record.at });
    }
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

interface StatementSummary {
  readonly node: Node;
  readonly text: string;
  /** The plain name an assignment statement binds (`model = ...`), if it is one. */
  readonly assigns: string | undefined;
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
