/** One TF.js layer call's options read into a LayerSpec. */
import type { Node } from 'web-tree-sitter';
import { LayerNamer } from '../../parse/layerNames';
import { callSource } from '../../parse/sourceFile';
import {
  type ActivationSpec,
  type InitializerName,
  type InitializerSpec,
  type LayerSource,
  type LayerSpec,
  type LoadProblem,
  type LoadProblemCode,
} from '../../model';
import { Mutable, ObjectValue, TfjsEvaluator, Unsound, Value, allOnes, describe, literal, notStatic, shorten, withDefaults } from './values';
import { ACTIVATIONS, FACTORIES, Factory, INITIALIZERS, SHAPE_PRESERVING } from './vocabulary';
import { RunTimeShape, readInputShape } from './inputShape';

export class LayerBuilder {
  readonly layers: LayerSpec[] = [];
  inputShape: number[] | undefined;
  private readonly layerNames = new LayerNamer();

  constructor(
    private readonly loader: TfjsEvaluator,
    private readonly problems: LoadProblem[],
    private readonly runTimeShape: RunTimeShape,
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
    if (options.kind !== 'object' && options.kind !== 'null') throw notStatic(`the options of \`${factory?.name}\``, options, optionsNode ?? call);
    const read = new OptionReader(this.loader, options.kind === 'object' ? options : undefined, call, this.problems);
    if (this.layers.length === 0 && !this.inputShape) this.inputShape = readInputShape(() => read.inputShape(), this.runTimeShape);
    const spec = this.build(known, read);
    const explicit = read.optionalString('name');
    // `trainable: false` (every layer's option): the weights stay as initialised (or loaded).
    const frozen = read.optionalBool('trainable') === false;
    this.layers.push({ index: this.layers.length, name: this.layerNames.next(explicit ?? known.autoName, explicit === undefined), ...spec, ...(frozen ? { frozen } : {}), source: read.source() });
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
        read.requireChannelsLast();
        read.refuseUnlessDefault('dilationRate', allOnes, `dilation is not supported yet: Activation Lens builds \`${read.callee()}\` undilated, which would change what it computes and its output shape`);
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
        read.requireChannelsLast();
        const poolSize = read.tuple('poolSize', rank, false) ?? new Array<number>(rank).fill(2);
        return { kind: factory.kind, poolSize, strides: read.tuple('strides', rank, false) ?? poolSize, padding: read.padding(), activation: { name: 'linear' } };
      }
      case 'flatten':
        read.noteChannelsFirstFlatten();
        return { kind: factory.kind, activation: { name: 'linear' } };
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        read.requireChannelsLast();
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
            // `maxValue` caps the output: 6 is relu6; any other cap would compute something else.
            const capped = read.refuseUnlessDefault(
              'maxValue',
              (value) => (value.kind === 'null' || (value.kind === 'number' && value.value === 6) ? true : value.kind === 'number' ? false : undefined),
              'a ReLU capped at another value than 6 is not supported yet: Activation Lens would build it uncapped, which would change what it computes',
            );
            return { kind: 'activation', activation: capped?.kind === 'number' ? { name: 'relu6' } : { name: 'relu' } };
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

}

/** Reads one layer's options object (`{units: 64, activation: 'relu'}`) and records spans. */
export class OptionReader {
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: TfjsEvaluator,
    private readonly options: ObjectValue | undefined,
    private readonly call: Node,
    private readonly problems: LoadProblem[],
  ) {
    this.spans = callSource(call, (node) => loader.span(node));
  }

  source(): LayerSource {
    return this.spans;
  }

  /** The layer factory as written, e.g. `tf.layers.conv2d`. */
  callee(): string {
    return shorten(this.call.childForFieldName('function')?.text ?? 'the layer');
  }

  note(node: Node | undefined, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node ?? this.call) });
  }

  private get(key: string): { value: Value; node: Node; pair: Node; inherited: boolean } | undefined {
    const entry = this.options?.entries.get(key);
    return entry ? { value: this.loader.evaluateAt(entry.value), node: entry.value, pair: entry.pair, inherited: entry.inherited } : undefined;
  }

  private unresolved(key: string, value: Value, expected: string): string {
    return `\`${key}\` must be ${expected} known before running the code, but ${value.kind === 'unknown' ? value.reason : `it is ${describe(value)}`}`;
  }

  /**
   * Refuses the model when an option the IR cannot represent has a non-default value
   * (`isDefault` false), or a value only known at run time (`isDefault` undefined), at the value.
   * Returns the value when it is accepted.
   */
  refuseUnlessDefault(key: string, isDefault: (value: Value) => boolean | undefined, unsupported: string): Value | undefined {
    const entry = this.get(key);
    if (!entry || entry.value.kind === 'null') return undefined;
    const verdict = isDefault(entry.value);
    if (verdict === true) return entry.value;
    if (verdict === false) throw new Unsound('unsupported-layer', `\`${key}: ${literal(entry.value)}\`: ${unsupported}.`, entry.node);
    throw new Unsound('parse-error', `${this.unresolved(key, entry.value, 'its default')}, and a non-default value is not supported.`, entry.node);
  }

  /**
   * Convolution and pooling layers are built channels-last (the IR's and the builder's only
   * layout), so a channels-first layer would get the wrong shape: it is refused at the option.
   */
  requireChannelsLast(): void {
    const entry = this.get('dataFormat');
    if (!entry || entry.value.kind === 'null' || (entry.value.kind === 'string' && entry.value.value === 'channelsLast')) return;
    if (entry.value.kind === 'string' && entry.value.value === 'channelsFirst') {
      throw new Unsound(
        'unsupported-layer',
        `\`dataFormat: 'channelsFirst'\` is not supported yet; Activation Lens builds convolution and pooling layers channels-last (…, channels), so \`${this.callee()}\` would be built with the wrong shape. Use dataFormat: 'channelsLast' (the TF.js default) to diagnose this model.`,
        entry.node,
      );
    }
    throw new Unsound('parse-error', `${this.unresolved('dataFormat', entry.value, "'channelsLast' or 'channelsFirst'")}.`, entry.node);
  }

  /** Flatten only reorders its outputs when channels-first: the same values, so it is diagnosed as is. */
  noteChannelsFirstFlatten(): void {
    const entry = this.get('dataFormat');
    if (!entry || entry.value.kind === 'null' || (entry.value.kind === 'string' && entry.value.value === 'channelsLast')) return;
    this.note(entry.node, `\`dataFormat: ${literal(entry.value)}\` is not supported yet; \`${this.callee()}\` is diagnosed channels-last, which only changes the order of its outputs, not their values.`, 'unsupported-layer');
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

  /** The per-sample input shape from `inputShape` / `batchInputShape` / `inputDim` (`tf.input`: `shape` / `batchShape`). */
  inputShape(shapeKey = 'inputShape', batchKey = 'batchInputShape'): number[] | undefined {
    const shape = this.get(shapeKey) ?? this.get(batchKey);
    const withBatch = !this.options?.entries.has(shapeKey) && this.options?.entries.has(batchKey);
    if (shape) {
      const dims = shape.value.kind === 'array' ? shape.value.items : shape.value.kind === 'number' ? [shape.value] : undefined;
      if (!dims) throw new Unsound('parse-error', `${this.unresolved(withBatch ? batchKey : shapeKey, shape.value, 'an array of positive integers')}.`, shape.node);
      const perSample = withBatch ? dims.slice(1) : dims;
      const numbers = perSample.map((d) => (d.kind === 'number' && Number.isInteger(d.value) && d.value > 0 ? d.value : undefined));
      if (numbers.length === 0 || numbers.some((n) => n === undefined)) {
        throw new Unsound('parse-error', `the input shape \`${shorten(shape.node.text)}\` has a dimension that is not a fixed positive integer.`, shape.node);
      }
      return numbers as number[];
    }
    const inputDim = shapeKey === 'inputShape' ? this.get('inputDim') : undefined;
    if (inputDim?.value.kind === 'number' && Number.isInteger(inputDim.value.value) && inputDim.value.value > 0) return [inputDim.value.value];
    if (inputDim) throw new Unsound('parse-error', `${this.unresolved('inputDim', inputDim.value, 'a positive integer')}.`, inputDim.node);
    return undefined;
  }

  activation(): ActivationSpec {
    const entry = this.get('activation');
    if (!entry) return { name: 'linear' };
    // An inherited entry's text is shared (`{...common}`): a fix adds `activation` to this layer instead.
    if (!entry.inherited) {
      this.spans.activationArgumentSpan = this.loader.span(entry.pair);
      this.spans.activationValueSpan = this.loader.span(entry.node);
    }
    const value = entry.value;
    if (value.kind === 'null') return { name: 'linear' };
    if (value.kind === 'string') {
      const known = ACTIVATIONS.get(value.value.toLowerCase()) ?? ACTIVATIONS.get(value.value);
      if (known) return known;
      this.note(entry.node, `The activation name ${describe(value)} is unknown: it is not a TF.js activation; the layer is diagnosed as linear.`, 'unsupported-layer');
      return { name: 'linear' };
    }
    // A value only known at run time (a parameter, a condition, a call) may be any activation:
    // guessing one would diagnose a different network, so the model is refused, as for `units`.
    if (value.kind === 'unknown' || value.kind === 'call') {
      const why = value.kind === 'call' ? `\`${shorten(value.node.text)}\` is a call, so its result is only known at run time` : value.reason;
      throw new Unsound('parse-error', `\`activation\` must be an activation name known before running the code, but ${why}.`, entry.node);
    }
    this.note(entry.node, `The activation ${describe(value)} is not an activation name; the layer is diagnosed as linear.`, 'unsupported-layer');
    return { name: 'linear' };
  }

  initializer(key: 'kernelInitializer' | 'biasInitializer' | 'alphaInitializer', fallback: InitializerName): InitializerSpec {
    const entry = this.get(key);
    if (!entry) return withDefaults(fallback);
    if (entry.inherited) {
      // Shared text (`{...common}`): not recorded, so a fix overrides it in this layer's own options.
    } else if (key === 'kernelInitializer') {
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
