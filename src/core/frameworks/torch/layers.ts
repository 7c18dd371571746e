/**
 * Reading torch.nn module constructors and functional ops of `forward` into IR layers, and
 * checking that the layers' declared input sizes chain (issue 12: the PyTorch loader split by
 * responsibility; parse/torchPython.ts finds the models, statements.ts and forward.ts follow the
 * code that builds them).
 */
import type { Node } from 'web-tree-sitter';
import { callSource } from '../../parse/sourceFile';
import {
  type ActivationSpec,
  type InitializerSpec,
  type LayerSource,
  type LayerSpec,
  type LoadNote,
  type LoadProblem,
  type LoadProblemCode,
  type SourceSpan,
} from '../../model';
import {
  ACTIVATION_MODULES,
  SHAPE_PRESERVING_MODULES,
  LOG_SOFTMAX_NOTE,
} from './vocabulary';
import {
  type Op,
  type Value,
  type Scope,
  UnsoundModel,
  Evaluator,
  type Arguments,
  callArguments,
  isExtra,
  shorten,
  describeValue,
  readAt,
} from './values';


type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type Note = LoadNote;

/** A layer before indexing, with what its constructor declares about its input. */
export interface RawLayer {
  readonly spec: Omit<LayerSpec, 'index' | 'name' | 'source'>;
  readonly name: string;
  readonly source: LayerSource;
  readonly node: Node;
  readonly inFeatures?: number;
  readonly inChannels?: number;
  readonly numFeatures?: number;
  /** The module value (explicit initialisers target module objects, as in PyTorch). */
  readonly moduleValue?: Value;
}

/** An explicit initialiser applied to one module's weight or bias, in program order. */
export interface InitRecord {
  readonly module: Value;
  readonly param: 'weight' | 'bias';
  readonly spec: InitializerSpec;
}


export interface ModelContext {
  readonly problems: LoadProblem[];
  readonly notes: Note[];
  readonly inits: InitRecord[];
  /** Modules a freezing statement named (frameworks/torch/freezing.ts): their layers are not trained. */
  readonly frozen: FreezeRecord[];
}

/** One module a freezing statement named, and where (a statement that matches no layer is reported there). */
export interface FreezeRecord {
  readonly module: Value;
  readonly at: SourceSpan;
  /** The statement's text, shortened, for messages. */
  readonly text: string;
}

// #region Reading one module constructor or functional op


export class ModuleReader {
  private readonly args: Arguments;
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: { span(node: Node): SourceSpan },
    private readonly evaluator: Evaluator,
    private readonly call: Node,
    private readonly scope: Scope,
    private readonly ctx: ModelContext,
    private readonly moduleValue?: Value,
  ) {
    this.args = callArguments(call);
    this.spans = callSource(call, (node) => loader.span(node));
  }

  private node(keyword: string, position?: number): Node | undefined {
    return this.args.keyword.get(keyword)?.value ?? (position !== undefined ? this.args.positional[position] : undefined);
  }

  private value(keyword: string, position?: number): { value: Value; node: Node } | undefined {
    const node = this.node(keyword, position);
    return node ? { value: this.evaluator.evaluate(node, this.scope), node } : undefined;
  }

  private positiveInteger(keyword: string, position: number): number {
    const arg = this.value(keyword, position);
    if (!arg) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing in \`${shorten(this.call.text)}\`.`, this.call);
    if (arg.value.kind !== 'number' || !Number.isInteger(arg.value.value) || arg.value.value <= 0 || arg.value.value > 1e9) {
      throw new UnsoundModel('parse-error', `\`${keyword}\` must be a positive integer known before running the code, but it is ${describeValue(arg.value)}.`, readAt(arg));
    }
    return arg.value.value;
  }

  private optionalNumber(keyword: string, position: number | undefined, fallback: number): number {
    const arg = this.value(keyword, position);
    if (!arg || arg.value.kind === 'none') return fallback;
    if (arg.value.kind === 'number') return arg.value.value;
    if (arg.value.kind === 'bool') return arg.value.value ? 1 : 0;
    this.ctx.problems.push({ code: 'parse-error', message: `\`${keyword}\` must be a number known before running the code, but it is ${describeValue(arg.value)}; the PyTorch default ${fallback} is used.`, span: this.loader.span(readAt(arg)) });
    return fallback;
  }

  private optionalBool(keyword: string, position: number | undefined, fallback: boolean): boolean {
    const arg = this.value(keyword, position);
    if (!arg) return fallback;
    if (arg.value.kind === 'bool') return arg.value.value;
    if (arg.value.kind === 'number') return arg.value.value !== 0;
    this.ctx.problems.push({ code: 'parse-error', message: `\`${keyword}\` must be True or False, but it is ${describeValue(arg.value)}; the PyTorch default is used.`, span: this.loader.span(readAt(arg)) });
    return fallback;
  }

  /** An int or a tuple of `rank` ints; `undefined` when absent or None. */
  private tuple(keyword: string, position: number, rank: number, allowZero = false): number[] | undefined {
    const arg = this.value(keyword, position);
    if (!arg || arg.value.kind === 'none') return undefined;
    const items = arg.value.kind === 'number' ? new Array<Value>(rank).fill(arg.value) : arg.value.kind === 'sequence' ? arg.value.items : [];
    const numbers = items.map((i) => (i.kind === 'number' && Number.isInteger(i.value) && (i.value > 0 || (allowZero && i.value === 0)) && i.value < 1e9 ? i.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new UnsoundModel('parse-error', `\`${keyword}\` must be ${rank === 1 ? 'an integer' : `${rank} integers`} known before running the code, but it is ${describeValue(arg.value)}.`, readAt(arg));
    }
    return numbers as number[];
  }

  private note(node: Node, message: string, code: LoadProblemCode = 'unsupported-layer'): void {
    this.ctx.problems.push({ code, message, span: this.loader.span(node) });
  }

  private layer(name: string, spec: Omit<LayerSpec, 'index' | 'name' | 'source'>, extra: Partial<RawLayer> = {}): RawLayer {
    return { spec, name, source: this.spans, node: this.call, moduleValue: this.moduleValue, ...extra };
  }

  /** A torch.nn module constructor; 'skip' for shape-preserving modules that are not modelled. */
  read(className: string, name: string): RawLayer | 'skip' {
    if (ACTIVATION_MODULES.has(className)) {
      this.spans.activationValueSpan = this.spans.span;
      return this.layer(name, { kind: 'activation', activation: this.activationModule(className) });
    }
    switch (className) {
      case 'Linear':
      case 'LazyLinear': {
        if (className === 'LazyLinear') throw new UnsoundModel('parse-error', 'LazyLinear infers its input size at run time; use Linear.', this.call);
        const inFeatures = this.positiveInteger('in_features', 0);
        const useBias = this.optionalBool('bias', 2, true);
        return this.layer(name, {
          kind: 'dense',
          units: this.positiveInteger('out_features', 1),
          activation: { name: 'linear' },
          useBias,
          kernelInitializer: { name: 'torchDefaultKernel' },
          biasInitializer: { name: 'torchDefaultBias' },
        }, { inFeatures });
      }
      case 'Conv1d':
      case 'Conv2d': {
        const rank = className === 'Conv1d' ? 1 : 2;
        const inChannels = this.positiveInteger('in_channels', 0);
        const filters = this.positiveInteger('out_channels', 1);
        const kernelSize = this.tuple('kernel_size', 2, rank);
        if (!kernelSize) throw new UnsoundModel('parse-error', '`kernel_size` is missing.', this.call);
        const strides = this.tuple('stride', 3, rank) ?? new Array<number>(rank).fill(1);
        const padding = this.convPadding(kernelSize, strides, 4);
        const dilation = this.tuple('dilation', 5, rank);
        if (dilation && dilation.some((d) => d !== 1)) throw new UnsoundModel('unsupported-layer', 'dilated convolutions are not supported.', this.node('dilation', 5) ?? this.call);
        const groups = this.optionalNumber('groups', 6, 1);
        if (groups !== 1) throw new UnsoundModel('unsupported-layer', 'grouped / depthwise convolutions (groups ≠ 1) are not supported.', this.node('groups', 6) ?? this.call);
        const mode = this.value('padding_mode');
        if (mode && !(mode.value.kind === 'string' && mode.value.value === 'zeros')) this.note(mode.node, `padding_mode ${describeValue(mode.value)} is diagnosed as zero padding.`);
        return this.layer(name, {
          kind: className === 'Conv1d' ? 'conv1d' : 'conv2d',
          filters,
          kernelSize,
          strides,
          padding,
          activation: { name: 'linear' },
          useBias: this.optionalBool('bias', 7, true),
          kernelInitializer: { name: 'torchDefaultKernel' },
          biasInitializer: { name: 'torchDefaultBias' },
        }, { inChannels });
      }
      case 'BatchNorm1d':
      case 'BatchNorm2d': {
        const numFeatures = this.positiveInteger('num_features', 0);
        const eps = this.optionalNumber('eps', 1, 1e-5);
        const momentumArg = this.value('momentum', 2);
        let momentum = 0.1;
        if (momentumArg?.value.kind === 'none') this.note(momentumArg.node, 'momentum=None (a cumulative average) is diagnosed as momentum 0.1.');
        else if (momentumArg) momentum = this.optionalNumber('momentum', 2, 0.1);
        // PyTorch: running = (1 − m)·running + m·batch; Keras: running = k·running + (1 − k)·batch.
        return this.layer(name, { kind: 'batchNorm', epsilon: eps, momentum: 1 - momentum, activation: { name: 'linear' } }, { numFeatures });
      }
      case 'Dropout':
        return this.layer(name, { kind: 'dropout', rate: this.optionalNumber('p', 0, 0.5), activation: { name: 'linear' } });
      case 'Flatten': {
        const start = this.optionalNumber('start_dim', 0, 1);
        const end = this.optionalNumber('end_dim', 1, -1);
        if (start !== 1 || end !== -1) throw new UnsoundModel('unsupported-layer', `Flatten(${start}, ${end}) is not supported (only the default, which keeps the batch dimension).`, this.call);
        return this.layer(name, { kind: 'flatten', activation: { name: 'linear' } });
      }
      case 'MaxPool1d':
      case 'MaxPool2d':
      case 'AvgPool1d':
      case 'AvgPool2d': {
        const rank = className.endsWith('1d') ? 1 : 2;
        const poolSize = this.tuple('kernel_size', 0, rank);
        if (!poolSize) throw new UnsoundModel('parse-error', '`kernel_size` is missing.', this.call);
        const strides = this.tuple('stride', 1, rank) ?? poolSize;
        const padding = this.tuple('padding', 2, rank, true);
        if (padding && padding.some((p) => p !== 0)) throw new UnsoundModel('unsupported-layer', 'pooling with padding is not supported.', this.node('padding', 2) ?? this.call);
        if (className.startsWith('Max')) {
          const dilation = this.tuple('dilation', 3, rank);
          if (dilation && dilation.some((d) => d !== 1)) throw new UnsoundModel('unsupported-layer', 'dilated pooling is not supported.', this.call);
        }
        if (this.optionalBool('ceil_mode', className.startsWith('Max') ? 5 : 3, false)) throw new UnsoundModel('unsupported-layer', 'ceil_mode=True is not supported.', this.call);
        const kind = `${className.startsWith('Max') ? 'max' : 'avg'}Pool${rank}d` as 'maxPool1d' | 'maxPool2d' | 'avgPool1d' | 'avgPool2d';
        return this.layer(name, { kind, poolSize, strides, padding: 'valid', activation: { name: 'linear' } });
      }
      case 'AdaptiveAvgPool1d':
      case 'AdaptiveAvgPool2d':
      case 'AdaptiveMaxPool2d': {
        const rank = className.endsWith('1d') ? 1 : 2;
        const size = this.tuple('output_size', 0, rank);
        if (!size || size.some((s) => s !== 1)) {
          throw new UnsoundModel('unsupported-layer', `${className} with an output size other than 1 is not supported (only global pooling).`, this.call);
        }
        const kind = className === 'AdaptiveAvgPool1d' ? 'globalAvgPool1d' : className === 'AdaptiveAvgPool2d' ? 'globalAvgPool2d' : 'globalMaxPool2d';
        return this.layer(name, { kind, activation: { name: 'linear' } });
      }
      default:
        if (SHAPE_PRESERVING_MODULES.has(className)) {
          this.note(this.call, `\`${className}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`);
          return 'skip';
        }
        throw new UnsoundModel('unsupported-layer', `\`${className}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`, this.call.childForFieldName('function') ?? this.call);
    }
  }

  /** PyTorch padding → 'valid' (0) or 'same' (k//2 for odd k: the same output size as TF's 'same'). */
  private convPadding(kernelSize: readonly number[], strides: readonly number[], position: number): 'valid' | 'same' {
    const arg = this.value('padding', position);
    if (!arg) return 'valid';
    if (arg.value.kind === 'string') {
      if (arg.value.value === 'valid') return 'valid';
      if (arg.value.value === 'same') return 'same';
    }
    const pads = arg.value.kind === 'number' ? kernelSize.map(() => (arg.value as { value: number }).value) : arg.value.kind === 'sequence' ? arg.value.items.map((i) => (i.kind === 'number' ? i.value : Number.NaN)) : [];
    if (pads.length === kernelSize.length && pads.every((p) => p === 0)) return 'valid';
    // floor((H + 2p − k)/s) + 1 with p = (k − 1)/2 equals ceil(H/s), TF's 'same', for any stride.
    if (pads.length === kernelSize.length && pads.every((p, d) => kernelSize[d] % 2 === 1 && p === (kernelSize[d] - 1) / 2)) return 'same';
    void strides;
    throw new UnsoundModel('unsupported-layer', `padding ${describeValue(arg.value)} is not supported: only 0 ('valid') and kernel_size // 2 for odd kernels ('same') map onto the trainer's convolutions.`, arg.node);
  }

  private activationModule(className: string): ActivationSpec {
    switch (className) {
      case 'ReLU':
        return { name: 'relu' };
      case 'LeakyReLU':
        return { name: 'leakyRelu', alpha: this.optionalNumber('negative_slope', 0, 0.01) };
      case 'PReLU': {
        // num_parameters=1 (the default): one slope for the layer; otherwise one per channel
        // (PyTorch's dim 1, the IR's last axis; the trainer sizes them from the input).
        const count = this.optionalNumber('num_parameters', 0, 1);
        return { name: 'prelu', alpha: this.optionalNumber('init', 1, 0.25), slopes: count === 1 ? 'shared' : 'perChannel' };
      }
      case 'RReLU':
        return { name: 'rrelu', lower: this.optionalNumber('lower', 0, 1 / 8), upper: this.optionalNumber('upper', 1, 1 / 3) };
      case 'ELU':
        return { name: 'elu', alpha: this.optionalNumber('alpha', 0, 1) };
      case 'SELU':
        return { name: 'selu' };
      case 'GELU': {
        const approximate = this.value('approximate', 0);
        if (approximate && !(approximate.value.kind === 'string' && approximate.value.value === 'none')) this.note(approximate.node, 'GELU(approximate="tanh") is diagnosed as the exact GELU.');
        return { name: 'gelu' };
      }
      case 'SiLU':
        return { name: 'swish' };
      case 'Mish':
        return { name: 'mish' };
      case 'Softplus': {
        const beta = this.optionalNumber('beta', 0, 1);
        if (beta !== 1) this.note(this.call, `Softplus(beta=${beta}) is diagnosed as Softplus with beta 1.`);
        return { name: 'softplus' };
      }
      case 'Softsign':
        return { name: 'softsign' };
      case 'Sigmoid':
        return { name: 'sigmoid' };
      case 'Tanh':
        return { name: 'tanh' };
      case 'Hardsigmoid':
        this.note(this.call, 'Hardsigmoid is diagnosed with the Keras hard sigmoid (slope 0.2 instead of PyTorch\'s 1/6).');
        return { name: 'hardSigmoid' };
      case 'ReLU6':
        return { name: 'relu6' };
      case 'Softmax':
        return { name: 'softmax' };
      case 'LogSoftmax':
        this.ctx.notes.push({ message: LOG_SOFTMAX_NOTE('nn.LogSoftmax'), span: this.loader.span(this.call) });
        return { name: 'softmax' };
      default:
        return { name: 'linear' };
    }
  }

  /** A functional op of forward: an activation, flatten, pooling or dropout. */
  readFunctional(op: Extract<Op, { type: 'functional' }>): RawLayer | undefined {
    const base = op.name.endsWith('_') ? op.name.slice(0, -1) : op.name;
    // For methods the tensor is the object, so the arguments shift by one compared with F.*.
    const offset = op.method ? 0 : 1;
    const calleeSpan = this.loader.span(op.callee);
    const spans: Mutable<LayerSource> = { ...this.spans, span: calleeSpan, calleeSpan, activationValueSpan: calleeSpan };
    if (op.method) spans.span = this.loader.span(op.call);
    const layer = (spec: Omit<LayerSpec, 'index' | 'name' | 'source'>, name = base): RawLayer => ({ spec, name, source: spans, node: op.call });
    const number = (keyword: string, position: number, fallback: number) => this.optionalNumber(keyword, position + offset, fallback);
    switch (base) {
      case 'relu':
      case 'sigmoid':
      case 'tanh':
      case 'selu':
      case 'gelu':
      case 'mish':
      case 'softsign':
      case 'relu6':
        return layer({ kind: 'activation', activation: { name: base === 'relu6' ? 'relu6' : base } });
      case 'silu':
        return layer({ kind: 'activation', activation: { name: 'swish' } });
      case 'softplus':
        return layer({ kind: 'activation', activation: { name: 'softplus' } });
      case 'hardsigmoid':
        return layer({ kind: 'activation', activation: { name: 'hardSigmoid' } });
      case 'exp':
        return layer({ kind: 'activation', activation: { name: 'exponential' } });
      case 'softmax':
        return layer({ kind: 'activation', activation: { name: 'softmax' } });
      case 'log_softmax':
        this.ctx.notes.push({ message: LOG_SOFTMAX_NOTE(shorten(op.callee.text)), span: calleeSpan });
        return layer({ kind: 'activation', activation: { name: 'softmax' } });
      case 'elu':
        return layer({ kind: 'activation', activation: { name: 'elu', alpha: number('alpha', 0, 1) } });
      case 'leaky_relu':
        return layer({ kind: 'activation', activation: { name: 'leakyRelu', alpha: number('negative_slope', 0, 0.01) } });
      case 'rrelu':
        return layer({ kind: 'activation', activation: { name: 'rrelu', lower: number('lower', 0, 1 / 8), upper: number('upper', 1, 1 / 3) } });
      case 'dropout':
        return layer({ kind: 'dropout', rate: number('p', 0, 0.5), activation: { name: 'linear' } });
      case 'flatten': {
        const start = number('start_dim', 0, op.method ? 0 : 0);
        if (start !== 1) throw new UnsoundModel('unsupported-layer', `\`${shorten(op.call.text)}\` flattens the batch dimension too; only flatten(x, 1) is supported.`, op.call);
        return layer({ kind: 'flatten', activation: { name: 'linear' } });
      }
      case 'view':
      case 'reshape': {
        // x.view(x.size(0), -1), x.view(-1, N), x.reshape(batch, -1): a flatten keeping the batch.
        const shapeArgs = op.method ? this.args.positional : this.args.positional.slice(1);
        const items = shapeArgs.length === 1 && (shapeArgs[0].type === 'tuple' || shapeArgs[0].type === 'list') ? shapeArgs[0].namedChildren.filter((c): c is Node => !!c && !isExtra(c)) : shapeArgs;
        if (items.length === 2) {
          const values = items.map((n) => this.evaluator.evaluate(n, this.scope));
          if (values.some((v) => v.kind === 'number' && v.value === -1)) return layer({ kind: 'flatten', activation: { name: 'linear' } }, 'flatten');
        }
        throw new UnsoundModel('unsupported-layer', `\`${shorten(op.call.text)}\` reshapes the data in a way that is not supported (only flattening to (batch, -1) is).`, op.call);
      }
      case 'max_pool2d':
      case 'avg_pool2d':
      case 'max_pool1d':
      case 'avg_pool1d': {
        const rank = base.endsWith('1d') ? 1 : 2;
        const poolSize = this.tuple('kernel_size', 1, rank);
        if (!poolSize) throw new UnsoundModel('parse-error', '`kernel_size` is missing.', op.call);
        const strides = this.tuple('stride', 2, rank) ?? poolSize;
        const padding = this.tuple('padding', 3, rank, true);
        if (padding && padding.some((p) => p !== 0)) throw new UnsoundModel('unsupported-layer', 'pooling with padding is not supported.', op.call);
        const kind = `${base.startsWith('max') ? 'max' : 'avg'}Pool${rank}d` as 'maxPool1d' | 'maxPool2d' | 'avgPool1d' | 'avgPool2d';
        return layer({ kind, poolSize, strides, padding: 'valid', activation: { name: 'linear' } }, base);
      }
      case 'adaptive_avg_pool2d':
      case 'adaptive_avg_pool1d':
      case 'adaptive_max_pool2d': {
        const rank = base.endsWith('1d') ? 1 : 2;
        const size = this.tuple('output_size', 1, rank);
        if (!size || size.some((s) => s !== 1)) throw new UnsoundModel('unsupported-layer', `${base} with an output size other than 1 is not supported.`, op.call);
        const kind = base === 'adaptive_avg_pool1d' ? 'globalAvgPool1d' : base === 'adaptive_avg_pool2d' ? 'globalAvgPool2d' : 'globalMaxPool2d';
        return layer({ kind, activation: { name: 'linear' } }, base);
      }
      default:
        throw new UnsoundModel('unsupported-layer', `\`${shorten(op.call.text)}\` is not supported in forward.`, op.call);
    }
  }
}

// #endregion

// #region Shapes

/** Checks a layer list against an input shape; throws UnsoundModel at the first mismatch. */
export function checkShapes(inputShape: readonly number[], layers: readonly RawLayer[]): void {
  const problem = shapeProblem(inputShape, layers);
  if (problem) throw new UnsoundModel('parse-error', problem.message, problem.node);
}

export function shapesFit(inputShape: readonly number[], layers: readonly RawLayer[]): boolean {
  return shapeProblem(inputShape, layers) === undefined;
}

/**
 * Propagates a channels-last shape through the layers, checking what each PyTorch constructor
 * declares (Linear in_features, Conv in_channels, BatchNorm num_features) and that no spatial
 * dimension shrinks below 1.
 */
export function shapeProblem(inputShape: readonly number[], layers: readonly RawLayer[], inputRanks?: number[]): { message: string; node: Node } | undefined {
  let shape = [...inputShape];
  for (const layer of layers) {
    inputRanks?.push(shape.length);
    const spec = layer.spec;
    const channels = shape[shape.length - 1];
    const fail = (message: string) => ({ message: `layer \`${layer.name}\` ${message}`, node: layer.node });
    const spatial = (sizes: readonly number[], strides: readonly number[], padding: 'valid' | 'same' | undefined): number[] | undefined => {
      const out = sizes.map((size, d) => (padding === 'same' ? Math.ceil(shape[d] / strides[d]) : Math.floor((shape[d] - size) / strides[d]) + 1));
      return out.every((o) => o >= 1) ? out : undefined;
    };
    switch (spec.kind) {
      case 'dense':
        if (shape.length !== 1) return fail(`(Linear) gets data of shape (${shape.join(', ')}) that is not flat; add a Flatten before it.`);
        if (layer.inFeatures !== undefined && layer.inFeatures !== channels) return fail(`expects ${layer.inFeatures} input features but gets ${channels}.`);
        shape = [spec.units ?? 0];
        break;
      case 'conv1d':
      case 'conv2d': {
        const rank = spec.kind === 'conv1d' ? 2 : 3;
        if (shape.length !== rank) return fail(`(${spec.kind}) needs an input of rank ${rank} per sample, but gets (${shape.join(', ')}).`);
        if (layer.inChannels !== undefined && layer.inChannels !== channels) return fail(`expects ${layer.inChannels} input channels but gets ${channels}.`);
        const out = spatial(spec.kernelSize ?? [], spec.strides ?? [], spec.padding);
        if (!out) return fail('shrinks the data below one pixel.');
        shape = [...out, spec.filters ?? 0];
        break;
      }
      case 'maxPool1d':
      case 'avgPool1d':
      case 'maxPool2d':
      case 'avgPool2d': {
        const rank = spec.kind.endsWith('1d') ? 2 : 3;
        if (shape.length !== rank) return fail(`(${spec.kind}) needs an input of rank ${rank} per sample, but gets (${shape.join(', ')}).`);
        const out = spatial(spec.poolSize ?? [], spec.strides ?? [], spec.padding);
        if (!out) return fail('shrinks the data below one pixel.');
        shape = [...out, channels];
        break;
      }
      case 'globalAvgPool1d':
        if (shape.length !== 2) return fail(`needs an input of rank 2 per sample, but gets (${shape.join(', ')}).`);
        shape = [channels];
        break;
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        if (shape.length !== 3) return fail(`needs an input of rank 3 per sample, but gets (${shape.join(', ')}).`);
        // PyTorch keeps (C, 1, 1); a following Flatten makes it (C) either way.
        shape = [channels];
        break;
      case 'batchNorm':
        if (layer.numFeatures !== undefined && layer.numFeatures !== channels) return fail(`expects ${layer.numFeatures} features/channels but gets ${channels}.`);
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        if (shape[0] > 1e9) return fail('produces too many features.');
        break;
      default:
        break;
    }
  }
  return undefined;
}

// #endregion
