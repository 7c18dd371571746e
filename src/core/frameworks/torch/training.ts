/**
 * The training set-up of a PyTorch file: the optimiser (`torch.optim.X(...)`) and the loss
 * (`nn.XLoss()` modules, `F.x_loss(...)` calls) each model is trained with, tied to the models
 * the loader read (issue 11; issue 12: split out of parse/torchPython.ts by responsibility).
 */
import type { Node } from 'web-tree-sitter';
import type { LoadNote, LossSpec, ModelSpec, OptimizerSpec, SourceSpan, TrainingSetup } from '../../model';
import { dottedParts } from '../../python/imports';
import { argparseDefaults, bindingAt, collectBindings, optimizerNameOf, type FileBindings } from '../../python/bindings';
import { TORCH_LOSSES, TORCH_FUNCTIONAL_LOSSES, SAME_MODULE_METHODS } from './vocabulary';
import { type Evaluator, type ModuleScope, UnsoundModel, callArguments, isExtra, shorten } from './values';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Where a model of the file was read from: the class it is, or the call that builds it. */
export interface ModelOrigin {
  readonly model: number;
  readonly classNode?: Node;
  readonly call?: Node;
}

/** What the training set-up reader uses of the file loader. */
export interface TrainingHost {
  readonly root: Node;
  readonly evaluator: Evaluator;
  readonly moduleScope: ModuleScope;
  span(node: Node): SourceSpan;
}

/** Reads the optimisers and losses of one file and records them on the models they train. */
export class TrainingSetupReader {
  private readonly root: Node;
  private readonly evaluator: Evaluator;
  private readonly moduleScope: ModuleScope;

  constructor(private readonly host: TrainingHost) {
    this.root = host.root;
    this.evaluator = host.evaluator;
    this.moduleScope = host.moduleScope;
  }

  private span(node: Node): SourceSpan {
    return this.host.span(node);
  }

  /**
   * Ties the file's `torch.optim.X(...)` calls and losses (`nn.XLoss()` modules, `F.x_loss(...)`
   * calls) to the models they train and records them as each model's `training`. An optimiser
   * is tied through the `.parameters()` it is given (`model = Net()` … `optim.SGD(model.parameters())`,
   * `self.parameters()` in a model's own method); a loss by being in a model's class, or in the
   * def where exactly one model is bound. What cannot be tied goes to the file's only model; with
   * several models it is left out, with a note.
   */
  attach(models: ModelSpec[], origins: readonly ModelOrigin[]): void {
    if (models.length === 0 || this.evaluator.exhausted) return;
    try {
      this.readTraining(models, origins);
    } catch (error) {
      if (!(error instanceof UnsoundModel)) throw error;
      // The file's work budget ran out: the models stay as read, without a training set-up.
    }
  }

  private readTraining(models: ModelSpec[], origins: readonly ModelOrigin[]): void {
    const bindings = collectBindings(this.root, (call) => this.trainingCallKind(call) !== undefined, (cost) => this.evaluator.tick(this.root, cost));
    if (bindings.calls.length === 0) return;
    const byCall = new Map<number, number>();
    const byClass = new Map<number, number>();
    const byClassName = new Map<string, number>();
    for (const origin of origins) {
      if (origin.call) byCall.set(origin.call.id, origin.model);
      if (origin.classNode) {
        byClass.set(origin.classNode.id, origin.model);
        const className = origin.classNode.childForFieldName('name')?.text;
        if (className) byClassName.set(className, origin.model);
      }
    }
    /** The model an expression's value is (`Net()`, `Net().to(device)`, a name bound to one), followed through a few names. */
    const modelOf = (node: Node | null, fnScope: Node | undefined, cls: Node | undefined, offset: number): number | undefined => {
      let current = node;
      let scope = fnScope;
      let at = offset;
      for (let hops = 0; current && hops < 8; hops++) {
        this.evaluator.tick(current);
        if (current.type === 'parenthesized_expression') current = current.namedChildren.find((c) => c && !isExtra(c)) ?? null;
        else if (current.type === 'identifier') {
          if (current.text === 'self' && cls) return byClass.get(cls.id);
          const binding = bindingAt(bindings, current.text, scope, at);
          if (!binding) return undefined;
          current = binding.value;
          scope = binding.scope;
          at = binding.value.startIndex;
        } else if (current.type === 'call') {
          const direct = byCall.get(current.id);
          if (direct !== undefined) return direct;
          const callee = current.childForFieldName('function');
          if (callee?.type === 'identifier') return byClassName.get(callee.text);
          const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
          if (!method || !SAME_MODULE_METHODS.has(method)) return undefined;
          current = callee?.childForFieldName('object') ?? null;
        } else if (current.type === 'attribute') {
          // `model.fc.parameters()`: the sub-module of a model trains with it.
          current = current.childForFieldName('object');
        } else return undefined;
      }
      return undefined;
    };

    const optimizers: { model: number | undefined; spec: OptimizerSpec | undefined; call: Node; rateNote?: LoadNote }[] = [];
    const losses: { model: number | undefined; spec: Omit<LossSpec, 'text' | 'span'> | undefined; call: Node; key: string; preferred: boolean }[] = [];
    const notesFor = new Map<number, LoadNote[]>();
    const note = (model: number, message: string, node: Node): void => {
      const list = notesFor.get(model) ?? [];
      if (!list.some((n) => n.message === message)) list.push({ message, span: this.span(node) });
      notesFor.set(model, list);
    };
    let argparse: Map<string, Node> | undefined;
    const argparseDefault = (dest: string): Node | undefined => {
      argparse ??= argparseDefaults(bindings.calls.filter((c) => this.trainingCallKind(c.call) === 'argument').map((c) => c.call));
      return argparse.get(dest);
    };
    // Models bound in each def (by the def's id; -1: the module), for tying losses; computed for the defs that hold a loss.
    const modelsByScope = new Map<number, Set<number>>();
    const modelsIn = (fn: Node | undefined): Set<number> => {
      const id = fn?.id ?? -1;
      let found = modelsByScope.get(id);
      if (!found) {
        found = new Set<number>();
        const prefix = `${id}\u0000`;
        for (const [key, list] of bindings.byScope) {
          if (!key.startsWith(prefix)) continue;
          for (const binding of list) {
            const bound = modelOf(binding.value, binding.scope, undefined, binding.value.startIndex);
            if (bound !== undefined) found.add(bound);
          }
        }
        modelsByScope.set(id, found);
      }
      return found;
    };

    for (const { call, scope, cls } of bindings.calls) {
      const kind = this.trainingCallKind(call);
      if (kind === 'optimizer') {
        const args = callArguments(call);
        const params = args.keyword.get('params')?.value ?? args.positional[0];
        const tied = new Set<number>();
        let untied = false;
        const paramsAt = params && (params.type === 'identifier' ? (bindingAt(bindings, params.text, scope, call.startIndex)?.value ?? params) : params);
        for (const use of paramsAt ? [paramsAt, ...paramsAt.descendantsOfType('call')] : []) {
          this.evaluator.tick(call);
          const callee = use?.type === 'call' ? use.childForFieldName('function') : undefined;
          const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
          if (!use || (method !== 'parameters' && method !== 'named_parameters')) continue;
          const owner = modelOf(callee?.childForFieldName('object') ?? null, scope, cls, call.startIndex);
          if (owner === undefined) untied = true;
          else tied.add(owner);
        }
        const model = tied.size === 1 && !untied ? [...tied][0] : undefined;
        const rateNotes: LoadNote[] = [];
        optimizers.push({ model, spec: this.optimizerSpec(call, scope, bindings, argparseDefault, rateNotes), call, rateNote: rateNotes[0] });
      } else if (kind === 'loss') {
        const spec = this.lossSpec(call);
        let model = cls ? byClass.get(cls.id) : undefined;
        if (model === undefined) {
          const inScope = modelsIn(scope);
          if (inScope.size === 1) model = [...inScope][0];
        }
        const fnName = scope?.childForFieldName('name')?.text ?? '';
        const key = spec ? `${spec.kind}/${spec.input}/${spec.sparse ?? false}` : `unsupported:${this.calleePathText(call)}`;
        losses.push({ model, spec, call, key, preferred: !/test|eval|valid/i.test(fnName) });
      }
    }

    const single = models.length === 1;
    const untiedLossKeys = new Set(losses.filter((l) => l.model === undefined).map((l) => l.key));
    models.forEach((model, index) => {
      const training: Mutable<TrainingSetup> = {};
      const own = optimizers.filter((o) => o.model === index);
      const candidates = own.length > 0 ? own : single ? optimizers.filter((o) => o.model === undefined) : [];
      const names = new Set(candidates.map((o) => o.spec?.name ?? `unsupported:${this.calleePathText(o.call)}`));
      if (names.size === 1) {
        const chosen = candidates[0];
        if (chosen.spec) training.optimizer = chosen.spec;
        if (chosen.rateNote) notesFor.set(index, [...(notesFor.get(index) ?? []), chosen.rateNote]);
        if (!chosen.spec) note(index, `The optimiser \`${shorten(chosen.call.text)}\` is not one Activation Lens can run (SGD, Adam, AdamW, RMSprop, Adadelta, Adagrad, Adamax, NAdam): the diagnosis trains with its default optimiser instead.`, chosen.call);
      } else if (names.size > 1) {
        note(index, `The file creates several different optimisers (${candidates.map((o) => `\`${shorten(o.call.text)}\``).join(', ')}) that cannot be told apart statically for this model: the diagnosis trains with its default optimiser.`, candidates[0].call);
      }

      const ownLosses = losses.filter((l) => l.model === index);
      const untiedLosses = losses.filter((l) => l.model === undefined);
      const lossCandidates = ownLosses.length > 0 ? ownLosses : single && untiedLossKeys.size === 1 ? untiedLosses : [];
      const keys = new Set(lossCandidates.map((l) => l.key));
      if (ownLosses.length === 0 && !single && untiedLossKeys.size === 1) {
        note(index, `The file's loss \`${shorten(untiedLosses[0].call.text)}\` is not tied to this model (the file defines several models, and the loss is neither in this model's class nor in the def that creates only this model): the diagnosis uses the loss the model's head implies.`, untiedLosses[0].call);
      } else if (keys.size === 1) {
        const chosen = lossCandidates.find((l) => l.preferred) ?? lossCandidates[0];
        if (chosen.spec) training.loss = { ...chosen.spec, text: chosen.call.text, span: this.span(chosen.call) };
        else note(index, `The loss \`${shorten(chosen.call.text)}\` is not one Activation Lens can train with (cross-entropy, NLL, BCE, MSE, L1, Huber): the diagnosis uses the loss the model's head implies instead.`, chosen.call);
      } else if (keys.size > 1 || (ownLosses.length === 0 && untiedLossKeys.size > 1)) {
        const shown = (keys.size > 1 ? lossCandidates : losses.filter((l) => l.model === undefined)).filter((l, i, all) => all.findIndex((o) => o.key === l.key) === i);
        note(index, `The file uses several losses (${shown.map((l) => `\`${shorten(l.call.text)}\``).join(', ')}) and which one trains this model cannot be told statically: the diagnosis uses the loss the model's head implies.`, shown[0].call);
      }

      const last = model.layers[model.layers.length - 1];
      const notes = [...(model.notes ?? [])];
      if (training.loss?.input === 'logits' && last && (last.kind === 'dense' || last.kind === 'conv1d' || last.kind === 'conv2d') && last.activation.name === 'linear') {
        const applies = training.loss.kind === 'binaryCrossentropy' ? 'sigmoid' : 'softmax';
        notes.push({ message: `The output of \`${last.name}\` is read as logits for the file's loss \`${shorten(training.loss.text)}\`, which applies the ${applies} itself.`, span: model.span });
      }
      notes.push(...(notesFor.get(index) ?? []));
      if (!training.optimizer && !training.loss && notes.length === (model.notes?.length ?? 0)) return;
      const updated: Mutable<ModelSpec> = { ...model };
      if (training.optimizer || training.loss) updated.training = training;
      if (notes.length > 0) updated.notes = notes;
      models[index] = updated;
    });
  }

  /** What a call is for the training set-up: an optimiser, a loss, an argparse argument. */
  private trainingCallKind(call: Node): 'optimizer' | 'loss' | 'argument' | undefined {
    const callee = call.childForFieldName('function');
    if (callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'add_argument') return 'argument';
    const parts = callee ? dottedParts(callee) : undefined;
    if (!parts) return undefined;
    const path = this.evaluator.resolve(parts);
    const last = path[path.length - 1];
    if (path[0] !== 'torch') return undefined;
    if (path[1] === 'optim' && path.length <= 4 && /^[A-Z]/.test(last) && !path.includes('lr_scheduler') && !path.includes('swa_utils')) return 'optimizer';
    if (path[1] === 'nn' && path.length === 3 && /Loss$/.test(last)) return 'loss';
    if (path[1] === 'nn' && path[2] === 'functional' && path.length === 4 && (TORCH_FUNCTIONAL_LOSSES.has(last) || /_loss$/.test(last) || last === 'kl_div')) return 'loss';
    return undefined;
  }

  private calleePathText(call: Node): string {
    const callee = call.childForFieldName('function');
    const parts = callee ? dottedParts(callee) : undefined;
    return parts ? this.evaluator.resolve(parts).join('.') : (callee?.text ?? '');
  }

  /** `optim.Adadelta(model.parameters(), lr=args.lr)`, `optim.SGD(params, 0.01, 0.9)`: name, rate, momentum and spans. */
  private optimizerSpec(call: Node, fnScope: Node | undefined, bindings: FileBindings, argparseDefault: (dest: string) => Node | undefined, notes: LoadNote[]): OptimizerSpec | undefined {
    const path = this.calleePathText(call).split('.');
    const name = optimizerNameOf(path[path.length - 1]);
    if (!name) return undefined;
    const args = callArguments(call);
    const spec: Mutable<OptimizerSpec> = { name, text: call.text, span: this.span(call) };
    const argumentList = call.childForFieldName('arguments');
    if (argumentList?.type === 'argument_list') spec.argumentsSpan = this.span(argumentList);
    const rateNode = args.keyword.get('lr')?.value ?? args.positional[1];
    const rate = rateNode && this.numberArgument(rateNode, call, fnScope, bindings, argparseDefault);
    if (rateNode && rate !== undefined) {
      spec.learningRate = rate;
      if (rateNode.type === 'float' || rateNode.type === 'integer') spec.learningRateValueSpan = this.span(rateNode);
    } else if (rateNode) {
      notes.push({
        message: `The learning rate \`${shorten(rateNode.text)}\` of \`${shorten(call.text)}\` is not a constant that can be read statically (nor an argparse option with a literal default): the diagnosis uses PyTorch's default rate for ${name}.`,
        span: this.span(rateNode),
      });
    }
    const momentumPosition = name === 'sgd' ? 2 : name === 'rmsprop' ? 5 : undefined;
    const momentumNode = momentumPosition === undefined ? undefined : (args.keyword.get('momentum')?.value ?? args.positional[momentumPosition]);
    const momentum = momentumNode && this.numberArgument(momentumNode, call, fnScope, bindings, argparseDefault);
    if (typeof momentum === 'number') spec.momentum = momentum;
    return spec;
  }

  /**
   * A number argument of an optimiser: a literal, a constant or name the reader can evaluate
   * (names bound in the def first), else an argparse option's literal default (`args.lr` with
   * `parser.add_argument('--lr', type=float, default=1.0)`).
   */
  private numberArgument(node: Node, call: Node, fnScope: Node | undefined, bindings: FileBindings, argparseDefault: (dest: string) => Node | undefined): number | undefined {
    if (node.type === 'float' || node.type === 'integer') {
      const value = this.evaluator.evaluate(node, this.moduleScope);
      return value.kind === 'number' ? value.value : undefined;
    }
    let target = node;
    let scope = fnScope;
    for (let hops = 0; target.type === 'identifier' && hops < 4; hops++) {
      const binding = bindingAt(bindings, target.text, scope, target === node ? call.startIndex : target.startIndex);
      if (!binding) break;
      target = binding.value;
      scope = binding.scope;
    }
    const value = this.evaluator.evaluate(target, this.moduleScope);
    if (value.kind === 'number') return value.value;
    const object = target.type === 'attribute' ? target.childForFieldName('object') : undefined;
    const attribute = target.type === 'attribute' ? target.childForFieldName('attribute')?.text : undefined;
    if (object?.type === 'identifier' && attribute) {
      // The namespace argparse returns: bound to `parser.parse_args()`, or a parameter (`def main(args)`).
      const bound = bindingAt(bindings, object.text, scope, target.startIndex);
      if (bound && !/\.parse_(known_)?args\s*\(/.test(bound.value.text)) return undefined;
      const defaultNode = argparseDefault(attribute);
      const parsed = defaultNode && this.evaluator.evaluate(defaultNode, this.moduleScope);
      if (parsed?.kind === 'number') return parsed.value;
    }
    return undefined;
  }

  /** The IR's loss for `nn.CrossEntropyLoss()`, `F.nll_loss(...)`…; undefined for one it cannot express. */
  private lossSpec(call: Node): Omit<LossSpec, 'text' | 'span'> | undefined {
    const path = this.calleePathText(call).split('.');
    return TORCH_LOSSES.get(path[path.length - 1]);
  }

}
