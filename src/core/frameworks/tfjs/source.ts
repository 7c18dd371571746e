/**
 * TensorFlow.js source loader (format 'tfjs-source'): reads `tf.sequential({layers: [...]})`,
 * `tf.sequential()` + `model.add(...)` (also on `this.model` in classes) and functional
 * `tf.model({inputs, outputs})` linear chains from JavaScript / TypeScript, statically, through
 * the tree-sitter javascript / typescript grammars. Same soundness policy as the Keras loader
 * (kerasPython.ts): anything that would change what is trained drops the model with a file-level
 * problem at its position; anything that does not is a model-level problem. Never throws.
 */
import type { Node } from 'web-tree-sitter';
import { shapeError } from '../../shapes';
import { loadFailure, readSourceFile } from '../../parse/sourceFile';
import { syntaxErrorProblem, type SourceLanguage } from '../../parse/syntaxErrors';
import { formatCount, MAX_LAYERS, MAX_MODELS_PER_FILE, tooManyLayers, tooManyModels } from '../../parse/limits';
import {
  PositionIndex,
  type LoadProblem,
  type LoadNote,
  type LoadResult,
  type LossSpec,
  type ModelSpec,
  type OptimizerSpec,
  type TrainingSetup,
  type LoadContext,
} from '../../model';
import { Binding, BlockEntry, BlockIndex, CompileIndex, FUNCTION_SCOPES, JUMPS, LayerSite, LimitReached, MAX_CHAIN, MAX_CONST_HOPS, MAX_TFJS_EVALUATIONS, MERGE_LAYERS, ModelSite, NESTED_ADD, NO_LOOP, ObjectEntry, SiteOwner, StaticLoop, TRANSPARENT_WRAPPERS, TfjsEvaluator, Unsound, Value, addTarget, ancestorFunctionName, bodyStatements, contains, describe, directBlockOf, dottedParts, enclosingClass, enclosingStatementBlock, meaningfulChildren, misparsedCast, notStatic, push, shorten, singleTensor, unwrap } from './values';
import { TFJS_LOSS_NAMES, TFJS_OPTIMIZER_NAMES, TFJS_OTHER_LOSS_NAMES, TF_LOSS_FUNCTIONS, TF_METRIC_FUNCTIONS, TRAIN_FACTORIES } from './vocabulary';
import { INPUT_SHAPE_HINT, RunTimeShape, SHAPE_COMMENT, commentShapeAbove, enclosingStatements, formatShape, parseInputShapeComment, readInputShape } from './inputShape';
import { LayerBuilder, OptionReader } from './layers';

/** The evaluation budget, for callers that size inputs against it. */
export { MAX_TFJS_EVALUATIONS };

/** Loads every TF.js sequential (and linear functional) model of a JS/TS file. Never throws. */
export async function loadTfjsSource(text: string, fileName: string, context: LoadContext = {}): Promise<LoadResult> {
  if (text.trim() === '') return loadFailure('tfjs-source', `${fileName}: the file is empty, so there is no model to read.`, new PositionIndex(text).span(0, 0));
  // JSX in .js/.jsx is part of the javascript grammar; .tsx needs TypeScript's TSX grammar.
  const grammar = /\.tsx$/i.test(fileName) ? 'tsx' : /\.(ts|mts|cts)$/i.test(fileName) ? 'typescript' : 'javascript';
  return readSourceFile(text, fileName, grammar, 'tfjs-source', (tree, positions) => {
    try {
      return new TfjsFileLoader(positions, tree.rootNode, fileName, context).load(text, grammar === 'tsx' ? 'TypeScript (TSX)' : grammar === 'typescript' ? 'TypeScript' : 'JavaScript');
    } catch (error) {
      if (!(error instanceof LimitReached)) throw error;
      const span = positions.span(error.node.startIndex, error.node.endIndex);
      return loadFailure('tfjs-source', `${error.message} (the limit is reached at line ${span.start.line}, column ${span.start.column}); the file is not read.`, span);
    }
  });
}

export class TfjsFileLoader extends TfjsEvaluator {
  /** text: the whole file (the tree's offsets index it); language: the grammar's, for syntax messages. */
  load(text: string, language: SourceLanguage): LoadResult {
    const syntaxError = syntaxErrorProblem(this.root, text, this.positions, language);
    if (syntaxError) this.problems.push(syntaxError);
    const models: ModelSpec[] = [];
    const usedNames = new Map<string, number>();
    const sites = this.findSites();
    this.sites = sites;
    if (sites.length > MAX_MODELS_PER_FILE) {
      this.problems.push(tooManyModels(sites.length, this.span(sites[MAX_MODELS_PER_FILE].spanNode)));
      sites.length = MAX_MODELS_PER_FILE;
    }
    for (const site of sites) {
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
        message:
          'No TensorFlow.js model found. Activation Lens reads `tf.sequential({layers: [...]})`, `tf.sequential()` + `model.add(...)` and functional `tf.model({inputs, outputs})` chains built with `layer.apply(tensor)`.',
        span: this.positions.span(0, 0),
      });
    }
    return { format: 'tfjs-source', models, problems: this.problems };
  }

  /**
   * The shape standing in for one the file leaves to run time: an `activation-lens: input_shape=`
   * comment inside the statement of an anchor (the model's creation, its first layer) or on the
   * comment lines directly above it or a statement enclosing it (where the Quick Fix writes it),
   * else the shape of the data the user chose.
   */
  standInShape(anchors: readonly Node[]): { shape: number[]; source: string } | undefined {
    const text = this.root.text;
    for (const anchor of anchors) {
      const statements = enclosingStatements(anchor);
      const own = statements[0];
      if (own) {
        for (const match of text.slice(own.startIndex, own.endIndex).matchAll(SHAPE_COMMENT)) {
          const shape = parseInputShapeComment(text.slice(own.startIndex + match.index + match[0].length));
          if (shape) return { shape, source: `the \`activation-lens: input_shape=\` comment at line ${this.positions.position(own.startIndex + match.index).line}` };
        }
      }
      for (const statement of statements) {
        const above = commentShapeAbove(text, statement.startIndex);
        if (above) return { shape: above.shape, source: `the \`activation-lens: input_shape=\` comment at line ${this.positions.position(above.offset).line}` };
      }
    }
    const chosen = this.context.inputShape;
    if (chosen && chosen.length > 0 && chosen.every((d) => Number.isInteger(d) && d > 0)) return { shape: [...chosen], source: 'the chosen data' };
    return undefined;
  }

  // #region Models

  private findSites(): ModelSite[] {
    const sites: ModelSite[] = [];
    for (const call of this.root.descendantsOfType('call_expression')) {
      if (!call) continue;
      const resolved = this.resolve(call.childForFieldName('function'));
      if (!resolved?.tfjs) continue;
      const factory = resolved.path[resolved.path.length - 1];
      if (factory === 'sequential') sites.push(this.describeSite(call));
      // `tf.model(...)`, not `tf.something.model(...)`.
      else if (factory === 'model' && resolved.path.length === 2) {
        const described = this.describeSite(call);
        sites.push({ call, name: described.name, spanNode: call, functional: true, owner: described.owner });
      }
    }
    return sites;
  }

  private describeSite(call: Node): ModelSite {
    let parent = call.parent;
    while (parent && (TRANSPARENT_WRAPPERS.has(parent.type) || (parent.type === 'member_expression' && misparsedCast(parent)))) parent = parent.parent;
    let target: string | undefined;
    let statement: Node | null | undefined;
    let binding: Binding | undefined;
    if (parent?.type === 'variable_declarator' && parent.childForFieldName('name')?.type === 'identifier') {
      target = parent.childForFieldName('name')?.text;
      statement = parent.parent;
      const declarator = parent;
      binding = target !== undefined ? this.bindings.get(target)?.find((b) => b.declaration.id === declarator.id) : undefined;
    } else if (parent?.type === 'assignment_expression') {
      target = dottedParts(parent.childForFieldName('left'))?.join('.');
      statement = parent.parent;
      const left = unwrap(parent.childForFieldName('left'));
      if (left?.type === 'identifier') binding = this.bindingAt(left.text, left);
    } else if (parent?.type === 'public_field_definition' || parent?.type === 'field_definition') {
      // `class A { model = tf.sequential(); }`: layers can only be added from methods.
      const property = parent.childForFieldName('name') ?? parent.childForFieldName('property');
      if (property) target = `this.${property.text}`;
    }
    // `export const model = …`: the adds follow the export statement, in the module's block.
    if (statement?.parent?.type === 'export_statement') statement = statement.parent;
    const hasOptions = meaningfulChildren(call.childForFieldName('arguments')).length > 0;
    if (!target) {
      const fn = ancestorFunctionName(call);
      return { call, name: fn ?? 'sequential', spanNode: call };
    }
    const member = target.startsWith('this.') ? target.slice('this.'.length) : undefined;
    const classNode = member !== undefined ? enclosingClass(call) : undefined;
    const className = classNode?.childForFieldName('name')?.text;
    const classBody = classNode?.childForFieldName('body');
    const block = statement?.parent;
    const owner: SiteOwner | undefined = binding ? { kind: 'binding', binding } : classBody && member !== undefined ? { kind: 'member', target, classBody } : undefined;
    return {
      call,
      // `this.model` is named after its class, so that several classes' models stay apart.
      name: member === undefined ? target : className ? `${className}.${member}` : member,
      spanNode: hasOptions || !statement ? call : statement,
      addChain: statement && block ? { target, statement, block } : undefined,
      classMember: classBody && member !== undefined ? { target, classBody } : undefined,
      owner,
    };
  }

  private buildModel(site: ModelSite, name: string): ModelSpec {
    if (site.call.hasError) throw new Unsound('parse-error', 'its definition contains a syntax error.', site.call);
    const modelProblems: LoadProblem[] = [];
    const notes: LoadNote[] = [];
    let layerSites: LayerSite[] = [];
    // Where the file's own input shape is missing or known only at run time (`inputShape:
    // [numFeatures]`), the user's comment at the model, else the shape of the chosen data, stands in.
    const runTimeShape = (unknown: string, at: Node): number[] | undefined => {
      const anchors = [site.call, ...(layerSites[0] ? [layerSites[0].node] : [])];
      const stand = this.standInShape(anchors);
      if (!stand) return undefined;
      notes.push({ message: `${unknown}; ${formatShape(stand.shape)} from ${stand.source} is used.`, span: this.span(at) });
      return stand.shape;
    };
    const builder = new LayerBuilder(this, modelProblems, runTimeShape);
    if (site.functional) {
      const chain = this.traceFunctional(site.call, modelProblems, runTimeShape);
      layerSites = chain.layers.map((node) => ({ node }));
      builder.inputShape = chain.inputShape;
    } else layerSites = this.sequentialLayers(site);

    const keptNodes: Node[] = [];
    for (const layer of layerSites) if (this.withLoopValues(layer.loop, () => builder.add(layer.node))) keptNodes.push(layer.node);
    if (builder.layers.length === 0) throw new Unsound('parse-error', 'it has no layers that can be read statically.', site.spanNode);
    builder.inputShape ??= runTimeShape(`The first layer of \`${name}\` states no input shape`, site.spanNode);
    if (!builder.inputShape) {
      throw new Unsound('unknown-input-shape', `its input shape is unknown. Add \`inputShape: [...]\` (or \`batchInputShape\`) to the first layer, ${INPUT_SHAPE_HINT}.`, site.spanNode);
    }
    const error = shapeError(builder.inputShape, builder.layers);
    if (error) throw new Unsound('parse-error', error.message, keptNodes[error.index] ?? site.spanNode);
    const training = this.trainingOf(site, name, notes);
    return {
      name,
      format: 'tfjs-source',
      inputShape: builder.inputShape,
      layers: builder.layers,
      span: this.span(site.spanNode),
      problems: modelProblems,
      ...(notes.length > 0 ? { notes } : {}),
      ...(training ? { training } : {}),
    };
  }

  /** The layer calls of a sequential model: its `layers` option, then its `.add(...)` calls. */
  private sequentialLayers(site: ModelSite): LayerSite[] {
    const layerNodes: LayerSite[] = [];
    const { value: options, node: optionsNode } = this.optionsOf(site.call);
    if (options.kind === 'object') {
      const layersEntry = options.entries.get('layers');
      if (layersEntry) {
        // A literal list longer than the layer limit is refused before its items are evaluated.
        const literal = unwrap(layersEntry.value);
        const written = literal?.type === 'array' ? meaningfulChildren(literal) : [];
        if (written.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(written.length), written[MAX_LAYERS]);
        const list = this.evaluate(layersEntry.value);
        if (list.kind !== 'array') throw notStatic('its `layers`', list, layersEntry.value);
        for (const item of list.items) layerNodes.push({ node: this.asLayerCall(item, layersEntry.value) });
      }
    } else if (options.kind !== 'null') {
      throw notStatic('the options of `sequential`', options, optionsNode ?? site.call);
    }
    if (site.addChain) layerNodes.push(...this.collectAdds(site.addChain, layerNodes.length));
    if (site.classMember) this.refuseAddsElsewhere(site.classMember, site.addChain?.block);
    if (layerNodes.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(layerNodes.length), layerNodes[MAX_LAYERS].node);
    return layerNodes;
  }

  asLayerCall(item: Value, fallback: Node): Node {
    if (item.kind === 'call') return item.node;
    throw new Unsound('parse-error', `a layer cannot be read statically: ${item.kind === 'unknown' ? item.reason : `${describe(item)} is not a layer`}.`, item.kind === 'unknown' ? item.node : fallback);
  }

  /**
   * `<target>.add(layer)` statements after the declaration, in the same block, up to the first
   * reassignment of the target; `already` layers come from the `layers` option. Read from the
   * block's index (blockIndex), so a block of 10,000 models costs one pass, not one per model.
   */
  private collectAdds(chain: { target: string; statement: Node; block: Node }, already = 0): LayerSite[] {
    const index = this.blockIndex(chain.block);
    const entries = index.byTarget.get(chain.target) ?? [];
    const from = chain.statement.endIndex;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].statement.startIndex < from) lo = mid + 1;
      else hi = mid;
    }
    const nodes: LayerSite[] = [];
    for (let i = lo; i < entries.length; i++) {
      const entry = entries[i];
      // A broken `.add(...)` statement (tree-sitter recovers around it) would silently drop or
      // misread a layer: refuse the model, as the Python loaders do.
      if (entry.kind === 'error') throw new Unsound('parse-error', 'a layer added to it contains a syntax error.', entry.statement);
      if (entry.kind === 'assign') break;
      if (entry.kind === 'nested') {
        // A loop whose trip count is known statically is unrolled; anything else is refused.
        if (!this.isLoop(entry.statement)) throw new Unsound('parse-error', NESTED_ADD, entry.node);
        this.unroll(entry.statement, chain.target, NO_LOOP, already, nodes);
        continue;
      }
      if (!entry.argument) continue;
      if (already + nodes.length >= MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), entry.argument);
      nodes.push({ node: this.asLayerCall(this.evaluate(entry.argument), entry.argument) });
    }
    return nodes;
  }

  private withLoopValues<T>(values: ReadonlyMap<Binding, Value> | undefined, read: () => T): T {
    if (!values) return read();
    const before = this.loopValues;
    this.loopValues = values;
    try {
      return read();
    } finally {
      this.loopValues = before;
    }
  }

  /** `for (…)`, `for (… of …)` or `<array>.forEach(…)`: the statements unroll() may unroll. */
  private isLoop(statement: Node): boolean {
    return statement.type === 'for_statement' || statement.type === 'for_in_statement' || this.forEachCall(statement) !== undefined;
  }

  private forEachCall(statement: Node): Node | undefined {
    const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : null;
    if (expression?.type !== 'call_expression') return undefined;
    const callee = unwrap(expression.childForFieldName('function'));
    return callee?.type === 'member_expression' && callee.childForFieldName('property')?.text === 'forEach' ? expression : undefined;
  }

  /**
   * Unrolls a loop adding layers to `target` whose iterations are known statically: its layers,
   * each with the values of the loop variables (`outer` holds those of enclosing loops), are
   * appended to `into`. Each iteration costs one step of the file's evaluation budget, so a loop
   * too long to unroll is refused before it runs; `already` layers precede the loop.
   */
  private unroll(statement: Node, target: string, outer: ReadonlyMap<Binding, Value>, already: number, into: LayerSite[]): void {
    const firstAdd = this.firstAddOn(statement, target) ?? statement;
    const loop = this.withLoopValues(outer, () => this.staticLoop(statement));
    if (!loop) throw new Unsound('parse-error', NESTED_ADD, firstAdd);
    const jump = loop.body.flatMap((s) => [s, ...s.descendantsOfType(['break_statement', 'continue_statement', 'return_statement', 'labeled_statement'])]).find((s) => s && JUMPS.has(s.type));
    // `break`, `continue` or `return` decide at run time how many layers an iteration adds.
    if (jump) throw new Unsound('parse-error', NESTED_ADD, firstAdd);
    const trips = loop.trips;
    if (trips === Number.POSITIVE_INFINITY) throw new Unsound('parse-error', 'its layers are added in a loop whose condition never becomes false, so it cannot be unrolled.', loop.header);
    if (this.evaluations + trips > MAX_TFJS_EVALUATIONS) {
      throw new Unsound(
        'parse-error',
        `its layers are added in a loop that runs ${formatCount(trips)} times, more than the ${formatCount(MAX_TFJS_EVALUATIONS)} steps of static evaluation Activation Lens spends on one file, so the loop is not unrolled.`,
        loop.header,
      );
    }
    const direct = loop.body.filter((s) => this.directAdd(s, target) !== undefined).length;
    if (direct > 0 && already + into.length + trips * direct > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), firstAdd);
    this.evaluations += trips;
    for (const values of loop.iterations) {
      const env = new Map(outer);
      loop.variables.forEach((binding, k) => env.set(binding, values[k]));
      for (const inner of loop.body) {
        if (inner.hasError) throw new Unsound('parse-error', 'a layer added to it contains a syntax error.', inner);
        const add = this.directAdd(inner, target);
        if (add) {
          const argument = meaningfulChildren(add.childForFieldName('arguments'))[0];
          if (!argument) continue;
          if (already + into.length >= MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), argument);
          into.push({ node: this.withLoopValues(env, () => this.asLayerCall(this.evaluate(argument), argument)), loop: env });
          continue;
        }
        const reassigned = inner.descendantsOfType('assignment_expression').find((a) => a && dottedParts(a.childForFieldName('left'))?.join('.') === target);
        if (reassigned) throw new Unsound('parse-error', NESTED_ADD, reassigned);
        const nested = this.firstAddOn(inner, target);
        if (!nested) continue;
        if (!this.isLoop(inner)) throw new Unsound('parse-error', NESTED_ADD, nested);
        this.unroll(inner, target, env, already, into);
      }
    }
  }

  /** `<target>.add(x)` as a statement (or as the body of an arrow function), else undefined. */
  private directAdd(statement: Node, target: string): Node | undefined {
    const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : statement;
    return expression?.type === 'call_expression' && addTarget(expression) === target ? expression : undefined;
  }

  private firstAddOn(node: Node, target: string): Node | undefined {
    if (node.type === 'call_expression' && addTarget(node) === target) return node;
    return node.descendantsOfType('call_expression').find((call) => call && addTarget(call) === target) ?? undefined;
  }

  /**
   * The iterations of a loop known statically: `for (let i = a; i < b; i++)` (also `<=`, `>`,
   * `>=`, `--`, `+= k`, `-= k`), `for (const x of <constant array>)` and
   * `<constant array>.forEach((x, i) => …)`; the loop variables, their values per iteration, the
   * statements of the body, and the node holding the bound. Undefined for any other loop.
   */
  private staticLoop(statement: Node): StaticLoop | undefined {
    if (statement.type === 'for_statement') return this.countedLoop(statement);
    if (statement.type === 'for_in_statement') {
      const left = statement.childForFieldName('left');
      const right = statement.childForFieldName('right');
      const of = statement.children.some((c) => c?.type === 'of');
      if (!of || !statement.childForFieldName('kind') || left?.type !== 'identifier' || !right) return undefined;
      const binding = this.bindings.get(left.text)?.find((b) => b.declaration.id === left.id);
      const list = this.evaluate(right);
      if (!binding || binding.writes.length > 0 || list.kind !== 'array') return undefined;
      return { variables: [binding], trips: list.items.length, iterations: list.items.map((item) => [item]), body: bodyStatements(statement.childForFieldName('body')), header: right };
    }
    const call = this.forEachCall(statement);
    const callee = unwrap(call?.childForFieldName('function') ?? null);
    const args = meaningfulChildren(call?.childForFieldName('arguments'));
    const fn = unwrap(args[0] ?? null);
    if (!call || !callee || args.length !== 1 || !fn || (fn.type !== 'arrow_function' && fn.type !== 'function_expression' && fn.type !== 'function')) return undefined;
    if (fn.children.some((c) => c?.type === 'async') || fn.childForFieldName('name')) return undefined;
    const parameters = fn.childForFieldName('parameters') ?? fn.childForFieldName('parameter');
    const names = parameters ? (parameters.type === 'identifier' ? [parameters] : meaningfulChildren(parameters)) : [];
    if (names.length > 3 || names.some((n) => n.type !== 'identifier')) return undefined;
    const variables: Binding[] = [];
    for (const name of names) {
      const binding = this.bindings.get(name.text)?.find((b) => b.declaration.id === name.id);
      if (!binding || binding.writes.length > 0) return undefined;
      variables.push(binding);
    }
    const arrayNode = callee.childForFieldName('object');
    const list = this.evaluate(arrayNode);
    const body = fn.childForFieldName('body');
    if (list.kind !== 'array' || !body || !arrayNode) return undefined;
    return {
      variables,
      trips: list.items.length,
      iterations: list.items.map((item, index): Value[] => [item, { kind: 'number' as const, value: index }, list].slice(0, variables.length)),
      body: body.type === 'statement_block' ? bodyStatements(body) : [body],
      header: arrayNode,
    };
  }

  private countedLoop(statement: Node): StaticLoop | undefined {
    const initializer = statement.childForFieldName('initializer');
    const condition = unwrap(statement.childrenForFieldName('condition').find((c) => c?.isNamed && c.type !== 'empty_statement') ?? null);
    const increment = unwrap(statement.childForFieldName('increment'));
    if (!initializer || !condition || !increment) return undefined;
    if (initializer.type !== 'lexical_declaration' && initializer.type !== 'variable_declaration') return undefined;
    const declarators = meaningfulChildren(initializer).filter((c) => c.type === 'variable_declarator');
    const declarator = declarators[0];
    const nameNode = declarator?.childForFieldName('name');
    if (declarators.length !== 1 || nameNode?.type !== 'identifier') return undefined;
    const name = nameNode.text;
    const binding = this.bindings.get(name)?.find((b) => b.declaration.id === declarator.id);
    // Only the increment may change the loop variable.
    if (!binding || binding.writes.some((w) => w.node.id !== declarator.id && !contains(increment, w.node))) return undefined;
    const start = this.evaluate(declarator.childForFieldName('value'));
    let step: number | undefined;
    if (increment.type === 'update_expression' && unwrap(increment.childForFieldName('argument'))?.text === name) {
      step = increment.text.includes('++') ? 1 : -1;
    } else if (increment.type === 'augmented_assignment_expression' && unwrap(increment.childForFieldName('left'))?.text === name) {
      const operator = increment.childForFieldName('operator')?.text;
      const by = this.evaluate(increment.childForFieldName('right'));
      if (by.kind === 'number' && (operator === '+=' || operator === '-=')) step = operator === '+=' ? by.value : -by.value;
    }
    const operator = condition.type === 'binary_expression' ? condition.childForFieldName('operator')?.text : undefined;
    if (step === undefined || start.kind !== 'number' || !operator || !['<', '<=', '>', '>='].includes(operator)) return undefined;
    if (unwrap(condition.childForFieldName('left'))?.text !== name) return undefined;
    const boundNode = condition.childForFieldName('right');
    const bound = this.evaluate(boundNode);
    if (bound.kind !== 'number' || !boundNode) return undefined;
    const holds = (v: number): boolean => (operator === '<' ? v < bound.value : operator === '<=' ? v <= bound.value : operator === '>' ? v > bound.value : v >= bound.value);
    const upward = operator === '<' || operator === '<=';
    // The trip count, from the bound (so that a huge one is refused without running it).
    let trips = 0;
    if (holds(start.value)) {
      if (step === 0 || upward !== step > 0) trips = Number.POSITIVE_INFINITY;
      else {
        const span = (bound.value - start.value) / step;
        trips = Math.floor(span) + (operator === '<' || operator === '>' ? (Number.isInteger(span) ? 0 : 1) : 1);
      }
    }
    const header = condition;
    if (trips > MAX_TFJS_EVALUATIONS) return { variables: [binding], trips, iterations: [], body: [], header };
    const iterations: Value[][] = [];
    for (let v = start.value; holds(v) && iterations.length <= trips; v += step) iterations.push([{ kind: 'number', value: v }]);
    return { variables: [binding], trips: iterations.length, iterations, body: bodyStatements(statement.childForFieldName('body')), header };
  }

  /**
   * For each statement of a block, what it does to each `<target>` it adds layers to: one pass
   * over the block, cached. Per target, in statement order, the first of: a syntax error in a
   * statement mentioning `<target>.add`, an assignment to the target (which ends its chain of
   * adds), a direct `<target>.add(x)` statement, or an add nested inside another statement.
   */
  private blockIndex(block: Node): BlockIndex {
    const cached = this.blockIndexes.get(block.id);
    if (cached) return cached;
    const byTarget = new Map<string, BlockEntry[]>();
    for (const statement of block.namedChildren) {
      if (!statement) continue;
      const seen = new Set<string>();
      const record = (target: string, entry: BlockEntry): void => {
        if (seen.has(target)) return;
        seen.add(target);
        const list = byTarget.get(target);
        if (list) list.push(entry);
        else byTarget.set(target, [entry]);
      };
      if (statement.hasError) {
        for (const match of statement.text.matchAll(/[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*(?=\.add\b)/g)) {
          const parts = match[0].split('.');
          for (let k = 0; k < parts.length; k++) record(parts.slice(k).join('.'), { kind: 'error', statement, node: statement });
        }
      }
      const expression = statement.type === 'expression_statement' ? unwrap(statement.namedChildren[0] ?? null) : null;
      if (expression?.type === 'assignment_expression') {
        const left = dottedParts(expression.childForFieldName('left'))?.join('.');
        if (left !== undefined) record(left, { kind: 'assign', statement, node: expression });
      }
      let direct: string | undefined;
      if (expression?.type === 'call_expression') {
        direct = addTarget(expression);
        if (direct !== undefined) record(direct, { kind: 'add', statement, node: expression, argument: meaningfulChildren(expression.childForFieldName('arguments'))[0] });
      }
      if (!statement.text.includes('add')) continue;
      for (const call of statement.descendantsOfType('call_expression')) {
        if (!call || call.id === expression?.id) continue;
        const target = addTarget(call);
        if (target !== undefined && target !== direct) record(target, { kind: 'nested', statement, node: call });
      }
    }
    const index: BlockIndex = { byTarget };
    this.blockIndexes.set(block.id, index);
    return index;
  }

  /**
   * `this.model.add(...)` in another method than the one creating the model: which methods run,
   * and in which order, is only known at run time, so the model is refused rather than guessed.
   */
  private refuseAddsElsewhere(member: { target: string; classBody: Node }, creatingBlock: Node | undefined): void {
    for (const call of member.classBody.descendantsOfType('call_expression')) {
      if (!call || !this.isAddOn(call, member.target)) continue;
      // Adds in the creating block were collected (or refused when nested) by collectAdds.
      if (creatingBlock && contains(creatingBlock, call)) continue;
      if (this.createsModelBefore(call, member.target)) continue;
      const method = ancestorFunctionName(call);
      throw new Unsound(
        'parse-error',
        `layers are also added to \`${member.target}\` in ${method ? `\`${method}\`` : 'another method'}, apart from where the model is created; which methods run, and in what order, is only known at run time.`,
        call,
      );
    }
  }

  /** True when the block holding `call` first sets `<target> = tf.sequential(...)` itself (another model's site). */
  private createsModelBefore(call: Node, target: string): boolean {
    let block: Node | null = call.parent;
    while (block && block.type !== 'statement_block') block = block.parent;
    return (block?.namedChildren ?? []).some((statement) => {
      if (!statement || statement.startIndex >= call.startIndex || statement.type !== 'expression_statement') return false;
      const assignment = unwrap(statement.namedChildren[0] ?? null);
      if (assignment?.type !== 'assignment_expression' || dottedParts(assignment.childForFieldName('left'))?.join('.') !== target) return false;
      const value = unwrap(assignment.childForFieldName('right'));
      const resolved = value?.type === 'call_expression' ? this.resolve(value.childForFieldName('function')) : undefined;
      return !!resolved?.tfjs && resolved.path[resolved.path.length - 1] === 'sequential';
    });
  }

  private isAddOn(call: Node, target: string): boolean {
    const parts = dottedParts(call.childForFieldName('function'));
    return !!parts && parts.length >= 2 && parts[parts.length - 1] === 'add' && parts.slice(0, -1).join('.') === target;
  }

  // #endregion

  // #region Training set-up

  /** Every `<x>.compile(...)` of the file by what it is called on: one pass, each callee resolved once. */
  private compiles(): CompileIndex {
    if (this.compileIndex) return this.compileIndex;
    const byBinding = new Map<Binding, Node[]>();
    const byMember = new Map<string, Node[]>();
    const byCallee = new Map<string, Binding[]>();
    for (const call of this.root.descendantsOfType('call_expression')) {
      const callee = unwrap(call?.childForFieldName('function') ?? null);
      if (call && callee?.type === 'identifier') {
        let parent = call.parent;
        while (parent && (TRANSPARENT_WRAPPERS.has(parent.type) || parent.type === 'await_expression')) parent = parent.parent;
        const nameNode = parent?.type === 'variable_declarator' ? parent.childForFieldName('name') : null;
        const declarator = parent;
        const binding = nameNode?.type === 'identifier' ? this.bindings.get(nameNode.text)?.find((b) => b.declaration.id === declarator?.id) : undefined;
        if (binding) push(byCallee, callee.text, binding);
      }
      if (!call || callee?.type !== 'member_expression' || callee.childForFieldName('property')?.text !== 'compile') continue;
      const object = unwrap(callee.childForFieldName('object'));
      if (object?.type === 'identifier') {
        const binding = this.bindingAt(object.text, object);
        if (binding) push(byBinding, binding, call);
      } else {
        const parts = dottedParts(object);
        if (parts?.length === 2 && parts[0] === 'this') push(byMember, parts[1], call);
      }
    }
    this.compileIndex = { byBinding, byMember, byCallee };
    return this.compileIndex;
  }

  /**
   * The `compile(...)` calls that configure this model: those on the variable (or `this.x` of
   * the class) it is bound to, after its creation when there are any, and before the next model
   * bound to the same variable.
   */
  private compileCallsOf(site: ModelSite): Node[] {
    const owner = site.owner;
    if (!owner) return [];
    const index = this.compiles();
    const sameOwner = (other: ModelSite): boolean =>
      owner.kind === 'binding'
        ? other.owner?.kind === 'binding' && other.owner.binding === owner.binding
        : other.owner?.kind === 'member' && other.owner.target === owner.target && other.owner.classBody.id === owner.classBody.id;
    let calls: readonly Node[] =
      owner.kind === 'binding' ? (index.byBinding.get(owner.binding) ?? []) : (index.byMember.get(owner.target.slice('this.'.length)) ?? []).filter((c) => contains(owner.classBody, c));
    if (calls.length === 0 && owner.kind === 'binding') {
      // `function createModel() { const model = …; return model; }` compiled by its caller: `const m = createModel(); m.compile(…)`.
      const fn = this.returningFunction(owner.binding);
      const callers = fn ? (index.byCallee.get(fn) ?? []) : [];
      if (callers.length === 1) return [...(index.byBinding.get(callers[0]) ?? [])];
    }
    const next = this.sites.filter((other) => other !== site && sameOwner(other) && other.call.startIndex > site.call.startIndex).map((other) => other.call.startIndex);
    const shared = next.length > 0 || this.sites.some((other) => other !== site && sameOwner(other) && other.call.startIndex < site.call.startIndex);
    if (shared) {
      const end = next.length > 0 ? Math.min(...next) : Number.POSITIVE_INFINITY;
      calls = calls.filter((c) => c.startIndex >= site.call.endIndex && c.startIndex < end);
    } else {
      const after = calls.filter((c) => c.startIndex >= site.call.endIndex);
      if (after.length > 0) calls = after;
    }
    return [...calls];
  }

  /** The name of the function whose `return <variable>;` hands this model's variable to its caller, if any. */
  private returningFunction(binding: Binding): string | undefined {
    const fn = binding.scope.type === 'statement_block' && binding.scope.parent && FUNCTION_SCOPES.has(binding.scope.parent.type) ? binding.scope.parent : binding.scope;
    if (!FUNCTION_SCOPES.has(fn.type)) return undefined;
    const name = fn.childForFieldName('name')?.text ?? ancestorFunctionName(fn);
    if (!name) return undefined;
    const returned = fn.descendantsOfType('return_statement').some((statement) => {
      const value = unwrap(statement?.namedChildren.find((c) => c?.type !== 'comment') ?? null);
      return value?.type === 'identifier' && value.text === binding.name && this.bindingAt(value.text, value) === binding;
    });
    return returned ? name : undefined;
  }

  /** The optimiser and loss of the model's `compile(...)`, when stated statically; what cannot be read is a note. */
  private trainingOf(site: ModelSite, name: string, notes: LoadNote[]): TrainingSetup | undefined {
    const calls = this.compileCallsOf(site);
    const call = calls[0];
    if (!call) return undefined;
    if (calls.length > 1) {
      notes.push({ message: `\`${name}\` is compiled more than once; the optimiser and loss of its first \`compile\` (line ${this.lineOf(call)}) are used.`, span: this.span(calls[1]) });
    }
    if (call.hasError) {
      notes.push({ message: `The \`compile\` call of \`${name}\` contains a syntax error; its optimiser and loss are not read.`, span: this.span(call) });
      return undefined;
    }
    const { value: options, node } = this.optionsOf(call);
    if (options.kind !== 'object') {
      const why = options.kind === 'unknown' ? options.reason : options.kind === 'null' ? 'it has no options' : `${describe(options)} is not an options object`;
      notes.push({ message: `The options of \`${shorten(call.text)}\` cannot be read statically (${why}); the default optimiser and loss are used.`, span: this.span(options.kind === 'unknown' ? options.node : (node ?? call)) });
      return undefined;
    }
    const optimizer = this.optimizerOf(options.entries.get('optimizer'), notes);
    const loss = this.lossOf(options.entries.get('loss'), notes);
    if (!optimizer && !loss) return undefined;
    return { ...(optimizer ? { optimizer } : {}), ...(loss ? { loss } : {}) };
  }

  /** The expression a use stands for, through constants of the file (`optimizer: OPTIMIZER`); imports are not followed. */
  private followConstant(node: Node): Node {
    let current = unwrap(node) ?? node;
    for (let hops = 0; hops < MAX_CONST_HOPS && current.type === 'identifier'; hops++) {
      if (++this.evaluations > MAX_TFJS_EVALUATIONS) {
        throw new LimitReached(`${this.fileName} needs more than ${formatCount(MAX_TFJS_EVALUATIONS)} steps of static evaluation, more than Activation Lens spends on one file`, current);
      }
      if (this.imports.has(current.text) || this.resolve(current)?.tfjs) break;
      const binding = this.bindingAt(current.text, current);
      if (!binding?.value || this.notConstant(binding)) break;
      current = unwrap(binding.value) ?? binding.value;
    }
    return current;
  }

  private optimizerOf(entry: ObjectEntry | undefined, notes: LoadNote[]): OptimizerSpec | undefined {
    if (!entry) return undefined;
    const node = this.followConstant(entry.value);
    const value = this.evaluate(node);
    const fallback = 'the default optimiser and learning rate are used';
    if (value.kind === 'null') return undefined;
    if (value.kind === 'string') {
      const name = TFJS_OPTIMIZER_NAMES.get(value.value);
      if (name) return { name, text: node.text, span: this.span(node) };
      notes.push({
        message: `The optimiser ${JSON.stringify(value.value)} is not a name TF.js accepts in \`compile\` (it takes 'sgd', 'adam', 'rmsprop', 'adadelta', 'adagrad' and 'adamax', or their class names); ${fallback}.`,
        span: this.span(node),
      });
      return undefined;
    }
    if (value.kind === 'call') return this.optimizerCall(value.node, notes);
    const why = value.kind === 'unknown' ? value.reason : `${describe(value)} is not an optimiser`;
    notes.push({ message: `The optimiser \`${shorten(node.text)}\` cannot be read statically (${why}); ${fallback}.`, span: this.span(value.kind === 'unknown' ? value.node : node) });
    return undefined;
  }

  /** `tf.train.adam(0.001)`, `tf.train.momentum(0.01, 0.9)`, …: the optimiser, its rate and momentum. */
  private optimizerCall(call: Node, notes: LoadNote[]): OptimizerSpec | undefined {
    const resolved = this.resolve(call.childForFieldName('function'));
    const path = resolved?.path ?? [];
    const factory = path[path.length - 1] ?? '';
    const known = resolved?.tfjs && path[path.length - 2] === 'train' ? TRAIN_FACTORIES.get(factory) : undefined;
    const shown = shorten(call.text);
    const fallback = 'the default optimiser and learning rate are used';
    if (!known) {
      notes.push({ message: `The optimiser \`${shown}\` is not one Activation Lens can run (tf.train.${[...TRAIN_FACTORIES.keys()].join(', tf.train.')}); ${fallback}.`, span: this.span(call) });
      return undefined;
    }
    const argumentsNode = call.childForFieldName('arguments');
    const args = meaningfulChildren(argumentsNode);
    if (args.some((a) => a.type === 'spread_element')) {
      notes.push({ message: `The arguments of \`${shown}\` are spread from a list, so they are only known at run time; ${fallback}.`, span: this.span(argumentsNode ?? call) });
      return undefined;
    }
    const numberAt = (index: number, what: string): { value?: number; failed?: true } => {
      const arg = args[index];
      if (!arg) return {};
      const value = this.evaluate(arg);
      if (value.kind === 'null') return {};
      if (value.kind === 'number') return { value: value.value };
      const why = value.kind === 'unknown' ? value.reason : `it is ${describe(value)}`;
      notes.push({ message: `The ${what} of \`${shown}\` must be a number known before running the code, but ${why}; ${fallback}.`, span: this.span(arg) });
      return { failed: true };
    };
    const rate = numberAt(0, 'learning rate');
    if (rate.failed) return undefined;
    if (rate.value === undefined && known.rate === 'required') {
      notes.push({ message: `\`${shown}\` has no learning rate, which \`tf.train.${factory}\` needs; ${fallback}.`, span: this.span(call) });
      return undefined;
    }
    let momentum: number | undefined;
    if (known.momentumAt !== undefined) {
      const read = numberAt(known.momentumAt, 'momentum');
      if (read.failed) return undefined;
      if (read.value === undefined && known.momentumRequired) {
        notes.push({ message: `\`${shown}\` has no momentum, which \`tf.train.${factory}\` needs; ${fallback}.`, span: this.span(call) });
        return undefined;
      }
      momentum = read.value;
    }
    if (known.flag) {
      const arg = args[known.flag.index];
      const flag = arg ? this.evaluate(arg) : undefined;
      if (arg && flag && flag.kind !== 'null' && !(flag.kind === 'bool' && !flag.value)) {
        const why = flag.kind === 'bool' ? `${known.flag.what} is not an optimiser Activation Lens can run` : `its ${known.flag.what} flag is only known at run time (${flag.kind === 'unknown' ? flag.reason : describe(flag)})`;
        notes.push({ message: `\`${shown}\`: ${why}; ${fallback}.`, span: this.span(arg) });
        return undefined;
      }
    }
    const rateNode = args[0] ? unwrap(args[0]) : null;
    const learningRate = rate.value ?? (typeof known.rate === 'number' ? known.rate : undefined);
    return {
      name: known.name,
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(momentum !== undefined ? { momentum } : {}),
      text: call.text,
      span: this.span(call),
      ...(argumentsNode ? { argumentsSpan: this.span(argumentsNode) } : {}),
      ...(rate.value !== undefined && rateNode?.type === 'number' ? { learningRateValueSpan: this.span(rateNode) } : {}),
    };
  }

  private lossOf(entry: ObjectEntry | undefined, notes: LoadNote[]): LossSpec | undefined {
    if (!entry) return undefined;
    const node = this.followConstant(entry.value);
    const fallback = 'the loss is chosen from the model\'s output layer';
    const shown = shorten(node.text);
    // `tf.losses.softmaxCrossEntropy`, `tf.metrics.categoricalCrossentropy`: a function of TF.js.
    if (node.type === 'member_expression' || node.type === 'identifier') {
      const resolved = this.resolve(node);
      const namespace = resolved?.path[resolved.path.length - 2];
      if (resolved?.tfjs && (namespace === 'losses' || namespace === 'metrics')) {
        const fn = resolved.path[resolved.path.length - 1];
        const known = (namespace === 'losses' ? TF_LOSS_FUNCTIONS : TF_METRIC_FUNCTIONS).get(fn);
        if (known) return { ...known, text: node.text, span: this.span(node) };
        notes.push({ message: `The loss \`tf.${namespace}.${fn}\` is not one Activation Lens models (cross-entropies, mean squared or absolute error, Huber); ${fallback}.`, span: this.span(node) });
        return undefined;
      }
    }
    const value = this.evaluate(node);
    if (value.kind === 'null') return undefined;
    if (value.kind === 'string') {
      const known = TFJS_LOSS_NAMES.get(value.value);
      if (known) return { ...known, text: node.text, span: this.span(node) };
      const message = TFJS_OTHER_LOSS_NAMES.has(value.value)
        ? `The loss ${JSON.stringify(value.value)} is not one Activation Lens models (cross-entropies, mean squared or absolute error, Huber); ${fallback}.`
        : `The loss ${JSON.stringify(value.value)} is not a name TF.js accepts in \`compile\` (tfjs-layers throws \`Unknown loss ${value.value}\`; its names are camelCase, e.g. 'meanSquaredError', 'categoricalCrossentropy'); ${fallback}.`;
      notes.push({ message, span: this.span(node) });
      return undefined;
    }
    let why: string;
    if (node.type === 'arrow_function' || node.type === 'function_expression' || node.type === 'function') why = 'it is a custom loss function';
    else if (value.kind === 'array' || value.kind === 'object') why = 'it gives a loss per output, and only single-output models are diagnosed';
    else if (value.kind === 'call') why = 'it is a call, whose result is only known at run time';
    else if (value.kind === 'unknown') why = value.reason;
    else why = `${describe(value)} is not a loss`;
    notes.push({ message: `The loss \`${shown}\` cannot be read statically (${why}); ${fallback}.`, span: this.span(node) });
    return undefined;
  }

  // #endregion

  // #region Functional models

  /**
   * Follows `outputs` of `tf.model({inputs, outputs})` back to `tf.input(...)` through
   * `layer.apply(tensor)` calls, and returns the layers in order with the input's shape: the
   * same IR as the equivalent sequential model. Anything but a single chain is refused.
   */
  private traceFunctional(modelCall: Node, problems: LoadProblem[], runTimeShape: RunTimeShape): { layers: Node[]; inputShape: number[] } {
    const { value: config, node: configNode } = this.optionsOf(modelCall);
    if (config.kind !== 'object') throw notStatic('the configuration of `tf.model`', config, configNode ?? modelCall);
    const inputsEntry = config.entries.get('inputs');
    const outputsEntry = config.entries.get('outputs');
    if (!inputsEntry || !outputsEntry) throw new Unsound('parse-error', '`tf.model(...)` needs both `inputs` and `outputs`.', modelCall);

    const layers: Node[] = [];
    const seen = new Set<number>();
    let current = singleTensor(outputsEntry.value, 'outputs');
    let inputCall: Node | undefined;
    for (let steps = 0; !inputCall; steps++) {
      if (steps > MAX_CHAIN) throw new Unsound('parse-error', 'its chain of layers is too long to follow.', modelCall);
      // Followed from the output back: the layer over the limit is the one `outputs` ends with
      // minus MAX_LAYERS, the place where the limit was hit.
      if (layers.length > MAX_LAYERS) throw new Unsound('parse-error', tooManyLayers(), layers[layers.length - 1]);
      if (current.type === 'identifier') {
        current = this.tensorValue(current);
        continue;
      }
      if (current.type === 'array') {
        throw new Unsound('unsupported-layer', `\`${shorten(current.text)}\` is a list of tensors; only single-input, single-output chains of layers can be diagnosed.`, current);
      }
      const callee = current.type === 'call_expression' ? unwrap(current.childForFieldName('function')) : null;
      const resolved = this.resolve(callee);
      if (resolved?.tfjs && resolved.path[resolved.path.length - 1] === 'input') {
        inputCall = current;
        break;
      }
      if (callee?.type !== 'member_expression' || callee.childForFieldName('property')?.text !== 'apply') {
        throw new Unsound('parse-error', `\`${shorten(current.text)}\` is not a layer applied to a tensor (\`layer.apply(x)\`) nor \`tf.input(...)\`, so the chain of layers cannot be followed.`, current);
      }
      const layerCall = this.layerInstance(callee.childForFieldName('object'), callee);
      const factory = this.factoryOf(layerCall);
      if (factory?.tfjs && MERGE_LAYERS.has(factory.name)) {
        throw new Unsound('unsupported-layer', `\`${factory.name}\` merges branches of the graph; only single chains of layers can be diagnosed, so the model is not diagnosed.`, layerCall);
      }
      if (seen.has(layerCall.id)) {
        throw new Unsound('unsupported-layer', `the layer \`${shorten(layerCall.text)}\` is applied more than once (its weights are shared); only chains of distinct layers can be diagnosed.`, current);
      }
      seen.add(layerCall.id);
      layers.push(layerCall);
      const applied = meaningfulChildren(current.childForFieldName('arguments'))[0];
      if (!applied) throw new Unsound('parse-error', `the layer \`${shorten(layerCall.text)}\` is applied to no tensor.`, current);
      const appliedInner = unwrap(applied) ?? applied;
      if (appliedInner.type === 'array' && meaningfulChildren(appliedInner).length !== 1) {
        throw new Unsound('unsupported-layer', `\`${shorten(layerCall.text)}\` is applied to several tensors; only single chains of layers can be diagnosed.`, appliedInner);
      }
      current = singleTensor(appliedInner, 'inputs');
    }
    layers.reverse();

    let declared = singleTensor(inputsEntry.value, 'inputs');
    for (let steps = 0; declared.type === 'identifier' && steps < MAX_CHAIN; steps++) declared = this.tensorValue(declared);
    if (declared.id !== inputCall.id) throw new Unsound('parse-error', '`outputs` does not come from `inputs` through a chain of layers.', inputsEntry.value);

    const { value: inputOptions, node: inputOptionsNode } = this.optionsOf(inputCall);
    if (inputOptions.kind !== 'object') throw notStatic('the options of `tf.input`', inputOptions, inputOptionsNode ?? inputCall);
    const reader = new OptionReader(this, inputOptions, inputCall, problems);
    const inputShape = readInputShape(() => reader.inputShape('shape', 'batchShape'), runTimeShape) ??
      runTimeShape('`tf.input(...)` has no `shape` (or `batchShape`)', inputCall);
    if (!inputShape) throw new Unsound('unknown-input-shape', `\`tf.input(...)\` has no \`shape\` (or \`batchShape\`); add one, ${INPUT_SHAPE_HINT}.`, inputCall);
    return { layers, inputShape };
  }

  /** The layer call a `layer.apply(…)` is made on: the call itself or a constant holding it. */
  private layerInstance(node: Node | null, fallback: Node): Node {
    const inner = unwrap(node);
    if (inner?.type === 'call_expression') return inner;
    const value = this.evaluate(inner);
    if (value.kind === 'call') return value.node;
    throw new Unsound(
      'parse-error',
      `the layer \`${shorten(inner?.text ?? fallback.text)}\` cannot be read statically: ${value.kind === 'unknown' ? value.reason : `${describe(value)} is not a layer`}.`,
      inner ?? fallback,
    );
  }

  /**
   * The expression a tensor variable holds where it is used. A variable assigned several times
   * (`x = layer.apply(x)`) is followed only through plain assignments in the block of the use,
   * where the last one before the use is certainly the one that reaches it.
   */
  private tensorValue(use: Node): Node {
    const binding = this.bindingAt(use.text, use);
    if (!binding) throw new Unsound('parse-error', `the tensor \`${use.text}\` is not defined in this file, so the chain of layers cannot be followed.`, use);
    if (binding.opaque) throw new Unsound('parse-error', `${binding.opaque}, so the chain of layers cannot be followed.`, use);
    const assignments = [binding.declaration, ...binding.writes.filter((w) => w.how !== 'changed' && w.node.id !== binding.declaration.id).map((w) => w.node)].sort((a, b) => a.startIndex - b.startIndex);
    const last = assignments.filter((a) => a.endIndex <= use.startIndex).pop();
    if (!last) throw new Unsound('parse-error', `the tensor \`${use.text}\` has no value yet where it is used.`, use);
    const value = last.type === 'variable_declarator' ? last.childForFieldName('value') : last.type === 'assignment_expression' && last.childForFieldName('left')?.type === 'identifier' ? last.childForFieldName('right') : null;
    if (!value) throw new Unsound('parse-error', `the tensor \`${use.text}\` is set by \`${shorten(last.text)}\`, which cannot be followed.`, use);
    if (assignments.length > 1 && directBlockOf(last)?.id !== enclosingStatementBlock(use)?.id) {
      throw new Unsound('parse-error', `the tensor \`${use.text}\` is assigned more than once, and its assignment at line ${this.lineOf(last)} is not in the same block as its use, so which value reaches it is only known at run time.`, use);
    }
    return unwrap(value) ?? value;
  }

  // #endregion

}
