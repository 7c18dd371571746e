import type { Node } from 'web-tree-sitter';
import { shapeError, traceShapes } from '../../shapes';
import { LayerNamer } from '../../parse/layerNames';
import { callSource } from '../../parse/sourceFile';
import { MAX_LAYERS, tooManyLayers } from '../../parse/limits';
import { type ActivationSpec, type InitializerName, type InitializerSpec, type LayerSource, type LayerSpec, type LoadNote, type LoadProblem, type LoadProblemCode } from '../../model';
import { readKeras1Spellings, type LegacyNote } from './legacy';
import { ACTIVATION_IDENTIFIERS, KERAS1_DIM_ORDERING, INITIALIZER_DEFAULTS, INITIALIZER_IDENTIFIERS, LAYER_CLASSES, LayerClassKey, POSITIONAL_PARAMETERS, SHAPE_PRESERVING_LAYERS, normaliseInitializerName } from './vocabulary';
import { callOf, describeValue, sequence, shorten, unknownOf, type LayerCall, type Scope, type Value } from './pythonValues';
import { UnsoundModel, type Arguments, type KerasLoaderHost } from './pythonTypes';
import type { Mutable } from './pythonTypes';


export class LayerListBuilder {
  readonly layers: LayerSpec[] = [];
  /** `axis=` arguments to check against the input rank once the layers' shapes are known. */
  readonly axisChecks: AxisCheck[] = [];
  /** The call node of each layer, parallel to `layers`, for shape-check positions. */
  readonly layerNodes: Node[] = [];
  inputShape: number[] | undefined;
  /** Remarks for ModelSpec.notes: Keras 1 spellings read as their current names. */
  readonly notes: LoadNote[] = [];
  private readonly layerNames = new LayerNamer();

  constructor(
    private readonly loader: KerasLoaderHost,
    private readonly problems: LoadProblem[],
  ) {}

  add({ node, scope, activationOp }: LayerCall): void {
    if (this.layers.length >= MAX_LAYERS) throw new UnsoundModel('parse-error', tooManyLayers(), node);
    if (activationOp) {
      this.addActivationOp(node, activationOp.activation, activationOp.callee);
      return;
    }
    if (node.hasError) throw new UnsoundModel('parse-error', 'a layer definition contains a syntax error.', node);
    const layerClass = this.loader.layerClassOf(node);
    const known = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className) : undefined;
    // Only a call that is no Keras layer can be one of the file's own layer classes.
    const custom = known ? undefined : this.loader.customLayerCalls(node, scope);
    if (custom) {
      for (const inner of custom) this.add(inner);
      return;
    }

    if (!layerClass || !known) {
      const className = layerClass?.className ?? shorten(node.text);
      const callee = node.childForFieldName('function') ?? node;
      if (layerClass?.keras && SHAPE_PRESERVING_LAYERS.has(className)) {
        this.problems.push({
          code: 'unsupported-layer',
          message: `\`${className}\` is not supported; it keeps the shape of its input, so it is skipped and the rest of the model is diagnosed without it.`,
          span: this.loader.span(node),
        });
        return;
      }
      throw new UnsoundModel(
        'unsupported-layer',
        `\`${className}\` is not a supported layer and may change the shape of the data, so the model cannot be rebuilt soundly.`,
        callee,
      );
    }
    const args = bindLayerArguments(layerClass.className, known.key, this.loader.arguments(node), {
      note: (at, message) => this.notes.push({ message, span: this.loader.span(at) }),
      show: (at) => {
        const value = this.loader.evaluate(at, scope);
        return value.kind === 'number' || value.kind === 'string' || value.kind === 'bool' || value.kind === 'none' ? pythonLiteral(value) : shorten(at.text);
      },
    });
    const read = new ArgumentReader(this.loader, args, scope, node, this.problems);

    if (known.key === 'input') {
      if (this.layers.length > 0 || this.inputShape) {
        throw new UnsoundModel('parse-error', 'an input layer appears after other layers.', node);
      }
      const shapeArg = read.node('shape') ?? read.node('input_shape') ?? read.node('batch_shape') ?? read.node('batch_input_shape');
      if (!shapeArg) throw new UnsoundModel('parse-error', 'its input layer has no `shape=`.', node);
      const withBatch = shapeArg === read.node('batch_shape') || shapeArg === read.node('batch_input_shape');
      this.inputShape = this.loader.shapeFrom(this.loader.evaluate(shapeArg, scope), shapeArg, withBatch);
      return;
    }

    if (this.layers.length === 0 && !this.inputShape) this.inputShape = this.firstLayerInputShape(read, scope);

    const spec = this.buildLayer(known.key, read, layerClass.className);
    const explicitName = read.optionalString('name');
    const name = this.layerNames.next(explicitName ?? known.autoName, explicitName === undefined);
    // `trainable=False` (any layer accepts it): the weights stay as initialised (or loaded).
    const frozen = read.optionalBool('trainable') === false;
    this.layers.push({ index: this.layers.length, name, ...spec, ...(frozen ? { frozen } : {}), source: read.source() });
    this.layerNodes.push(node);
  }

  /**
   * An activation function applied in `call` (`tf.nn.relu(h)`): a standalone activation layer
   * whose span is the function reference (`tf.nn.relu`). Quick fixes do not rewrite these (the
   * span is not a layer call), so the fix engine refuses them; the diagnosis is unaffected.
   */
  private addActivationOp(node: Node, activation: ActivationSpec, callee: Node): void {
    const name = this.layerNames.next('activation', true);
    this.layers.push({
      index: this.layers.length,
      name,
      kind: 'activation',
      activation,
      source: { span: this.loader.span(callee), calleeSpan: this.loader.span(callee), activationValueSpan: this.loader.span(callee) },
    });
    this.layerNodes.push(node);
  }

  private firstLayerInputShape(read: ArgumentReader, scope: Scope): number[] | undefined {
    const shapeNode = read.node('input_shape');
    if (shapeNode) return this.loader.shapeFrom(this.loader.evaluate(shapeNode, scope), shapeNode, false);
    const batchNode = read.node('batch_input_shape');
    if (batchNode) return this.loader.shapeFrom(this.loader.evaluate(batchNode, scope), batchNode, true);
    const dimNode = read.node('input_dim');
    if (dimNode) return this.loader.shapeFrom(this.loader.evaluate(dimNode, scope), dimNode, false);
    return undefined;
  }

  private buildLayer(key: Exclude<LayerClassKey, 'input'>, read: ArgumentReader, className: string): Omit<LayerSpec, 'index' | 'name' | 'source'> {
    switch (key) {
      case 'dense':
        return {
          kind: 'dense',
          units: read.requiredPositiveInteger('units'),
          activation: read.activation('activation'),
          useBias: read.optionalBool('use_bias') ?? true,
          kernelInitializer: read.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: read.initializer('bias_initializer', 'zeros'),
        };
      case 'conv1d':
      case 'conv2d': {
        const rank = key === 'conv1d' ? 1 : 2;
        this.requireChannelsLast(read, className);
        read.refuseUnlessDefault('dilation_rate', (value) => allOnes(value), `dilation is not supported yet: Activation Lens builds \`${className}\` undilated, which would change what it computes and its output shape`);
        const groups = read.evaluated('groups');
        if (groups && (groups.value.kind === 'string' || groups.value.kind === 'reference')) {
          // Before TF 2.3 the 7th positional parameter was `activation`; it is `groups` since.
          throw new UnsoundModel('parse-error', `\`${shorten(groups.node.text)}\` is passed as the 7th positional argument of \`${className}\`, which is \`groups\` in Keras ≥ 2.3 and Keras 3 (it was \`activation\` in older Keras); pass it by keyword.`, groups.node);
        }
        read.refuseUnlessDefault('groups', (value) => (value.kind === 'number' ? value.value === 1 : undefined), `grouped convolutions are not supported yet: Activation Lens builds \`${className}\` with groups=1, which has a different number of weights per filter`);
        return {
          kind: key,
          filters: read.requiredPositiveInteger('filters'),
          kernelSize: read.requiredTuple('kernel_size', rank),
          strides: read.tuple('strides', rank) ?? new Array<number>(rank).fill(1),
          padding: read.padding(),
          activation: read.activation('activation'),
          useBias: read.optionalBool('use_bias') ?? true,
          kernelInitializer: read.initializer('kernel_initializer', 'glorotUniform'),
          biasInitializer: read.initializer('bias_initializer', 'zeros'),
        };
      }
      case 'maxPool1d':
      case 'maxPool2d':
      case 'avgPool1d':
      case 'avgPool2d': {
        const rank = key.endsWith('1d') ? 1 : 2;
        this.requireChannelsLast(read, className);
        const poolSize = read.tuple('pool_size', rank) ?? new Array<number>(rank).fill(2);
        return {
          kind: key,
          poolSize,
          // Keras: strides=None means strides = pool_size.
          strides: read.tuple('strides', rank) ?? poolSize,
          padding: read.padding(),
          activation: { name: 'linear' },
        };
      }
      case 'globalAvgPool1d':
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        this.requireChannelsLast(read, className);
        read.refuseUnlessDefault('keepdims', (value) => (value.kind === 'bool' ? !value.value : value.kind === 'none' ? true : undefined), `keeping the pooled axes is not supported yet: Activation Lens builds \`${className}\` dropping the pooled axes, so the layers after it would get a different shape`);
        return { kind: key, activation: { name: 'linear' } };
      case 'flatten':
        this.noteChannelsFirstFlatten(read, className);
        return { kind: key, activation: { name: 'linear' } };
      case 'dropout':
        read.noteUnlessDefault('noise_shape', (value) => value.kind === 'none', 'a `noise_shape` is not modelled: the layer is diagnosed as plain Dropout, with an independent mask per value');
        return { kind: 'dropout', rate: read.optionalNumber('rate') ?? 0.5, activation: { name: 'linear' } };
      case 'batchNorm':
        this.axisChecks.push(...read.axisCheck('axis', this.layers.length, className));
        read.noteUnlessDefault('center', (value) => value.kind === 'bool' && value.value, '`center=False` is not modelled: the layer is diagnosed with a trainable offset (beta), which starts at 0, so it computes the same at initialisation');
        read.noteUnlessDefault('scale', (value) => value.kind === 'bool' && value.value, '`scale=False` is not modelled: the layer is diagnosed with a trainable scale (gamma), which starts at 1, so it computes the same at initialisation');
        return {
          kind: 'batchNorm',
          momentum: read.optionalNumber('momentum') ?? 0.99,
          epsilon: read.optionalNumber('epsilon') ?? 0.001,
          activation: { name: 'linear' },
        };
      case 'activationLayer':
        return { kind: 'activation', activation: read.activation('activation') };
      case 'relu':
      case 'leakyRelu':
      case 'prelu':
      case 'elu':
      case 'softmax':
        if (key === 'softmax') this.axisChecks.push(...read.axisCheck('axis', this.layers.length, className));
        return { kind: 'activation', activation: read.activationLayer(key) };
    }
  }

  /**
   * Convolution and pooling layers are built channels-last (the IR's and the builder's only
   * layout), so a channels-first layer — by `data_format=` or by the file's
   * `set_image_data_format` — would get the wrong shape: it is refused at the setting.
   */
  private requireChannelsLast(read: ArgumentReader, className: string): void {
    const format = this.dataFormatOf(read);
    if (!format || format.value === 'channels_last') return;
    if (format.value === 'channels_first') {
      throw new UnsoundModel(
        'unsupported-layer',
        `${format.what} is not supported yet; Activation Lens builds convolution and pooling layers channels-last (…, channels), so \`${className}\` would be built with the wrong shape. Use data_format="channels_last" (the Keras default) to diagnose this model.`,
        format.node,
      );
    }
    throw new UnsoundModel('parse-error', `${format.what} must be "channels_last" or "channels_first" known before running the code.`, format.node);
  }

  /** Flatten only reorders its outputs when channels-first: the same values, so it is diagnosed as is. */
  private noteChannelsFirstFlatten(read: ArgumentReader, className: string): void {
    const format = this.dataFormatOf(read);
    if (!format || format.value === 'channels_last') return;
    this.problems.push({
      code: 'unsupported-layer',
      message: `${format.what} is not supported yet; \`${className}\` is diagnosed channels-last, which only changes the order of its outputs, not their values.`,
      span: this.loader.span(format.node),
    });
  }

  /** The layer's `data_format=`, or else the file's `set_image_data_format(...)` in effect; undefined when channels-last by default. */
  private dataFormatOf(read: ArgumentReader): { value: string | undefined; node: Node; what: string } | undefined {
    const given = read.evaluated('data_format');
    if (given && given.value.kind !== 'none') {
      const value = given.value.kind === 'string' ? given.value.value.toLowerCase() : undefined;
      return { value, node: given.node, what: `\`data_format=${shorten(given.node.text)}\`` };
    }
    // Keras 1's `dim_ordering='th'` / `'tf'` (Theano / TensorFlow order) is data_format's older
    // spelling; 'default' means the backend's setting, as when it is not given.
    const ordering = read.evaluated('dim_ordering');
    const orderingValue = ordering?.value.kind === 'string' ? ordering.value.value.toLowerCase() : undefined;
    if (ordering && orderingValue !== 'default') {
      const value = orderingValue === undefined ? undefined : KERAS1_DIM_ORDERING.get(orderingValue);
      const what = `\`dim_ordering=${shorten(ordering.node.text)}\` (Keras 1's data_format${value ? `="${value}"` : ''})`;
      if (value === 'channels_last') this.notes.push({ message: `\`dim_ordering\` is the Keras 1 name of \`data_format\`; read as data_format="channels_last".`, span: this.loader.span(ordering.node) });
      return { value: value ?? orderingValue ?? undefined, node: ordering.node, what };
    }
    const fileSetting = this.loader.imageDataFormatAt(read.callNode);
    if (!fileSetting) return undefined;
    const line = this.loader.span(fileSetting.node).start.line;
    return { value: fileSetting.value, node: fileSetting.node, what: `the file's \`${shorten(fileSetting.call.text)}\` (line ${line}), the default data_format of every layer after it,` };
  }

}

/** Reads one layer call's arguments (Keras signatures: positional index or keyword). */
export class ArgumentReader {
  private readonly spans: Mutable<LayerSource>;

  constructor(
    private readonly loader: KerasLoaderHost,
    private readonly args: Arguments,
    private readonly scope: Scope,
    private readonly call: Node,
    private readonly problems: LoadProblem[],
  ) {
    this.spans = callSource(call, (node) => loader.span(node));
  }

  source(): LayerSource {
    return this.spans;
  }

  /** The value node of an argument given by keyword or at a positional index. */
  node(keyword: string, position?: number): Node | undefined {
    return this.args.keyword.get(keyword)?.value ?? this.args.composed?.get(keyword)?.[0] ?? (position !== undefined ? this.args.positional[position] : undefined);
  }

  private argumentNode(keyword: string, position?: number): Node | undefined {
    return this.args.keyword.get(keyword)?.argument ?? (position !== undefined ? this.args.positional[position] : undefined);
  }

  private value(keyword: string, position?: number): { value: Value; node: Node } | undefined {
    const parts = this.args.composed?.get(keyword);
    if (parts) return { value: sequence(parts.map((part) => this.loader.evaluate(part, this.scope))), node: parts[0] };
    const node = this.node(keyword, position);
    return node ? { value: this.loader.evaluate(node, this.scope), node } : undefined;
  }

  /** An argument's node and evaluated value, or undefined when it is not given. */
  evaluated(keyword: string): { value: Value; node: Node } | undefined {
    return this.value(keyword);
  }

  /** The layer call being read. */
  get callNode(): Node {
    return this.call;
  }

  private note(node: Node, message: string, code: LoadProblemCode = 'parse-error'): void {
    this.problems.push({ code, message, span: this.loader.span(node) });
  }

  requiredPositiveInteger(keyword: string, position?: number): number {
    const arg = this.value(keyword, position);
    if (!arg) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    if (arg.value.kind !== 'number' || !Number.isInteger(arg.value.value) || arg.value.value <= 0) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'a positive integer')}.`, problemNode(arg));
    }
    return arg.value.value;
  }

  requiredTuple(keyword: string, rank: number): number[] {
    const tuple = this.tuple(keyword, rank);
    if (!tuple) throw new UnsoundModel('parse-error', `\`${keyword}\` is missing.`, this.call);
    return tuple;
  }

  /** An int (repeated `rank` times) or a tuple of `rank` positive ints; undefined when absent or None. */
  tuple(keyword: string, rank: number): number[] | undefined {
    const arg = this.value(keyword);
    if (!arg || arg.value.kind === 'none') return undefined;
    const items = arg.value.kind === 'number' ? new Array<Value>(rank).fill(arg.value) : arg.value.kind === 'sequence' ? arg.value.items : [];
    const numbers = items.map((item) => (item.kind === 'number' && Number.isInteger(item.value) && item.value > 0 ? item.value : undefined));
    if (numbers.length !== rank || numbers.some((n) => n === undefined)) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, rank === 1 ? 'a positive integer' : `${rank} positive integers`)}.`, problemNode(arg));
    }
    return numbers as number[];
  }

  padding(): 'valid' | 'same' {
    const arg = this.value('padding');
    if (!arg) return 'valid';
    if (arg.value.kind === 'string' && (arg.value.value.toLowerCase() === 'valid' || arg.value.value.toLowerCase() === 'same')) {
      return arg.value.value.toLowerCase() as 'valid' | 'same';
    }
    throw new UnsoundModel('parse-error', `${this.unresolvedMessage('padding', arg.value, '"valid" or "same"')}.`, problemNode(arg));
  }

  /**
   * Refuses the model when a parameter the IR cannot represent has a non-default value
   * (`isDefault` false), or a value only known at run time (`isDefault` undefined).
   */
  refuseUnlessDefault(keyword: string, isDefault: (value: Value) => boolean | undefined, unsupported: string): void {
    const arg = this.value(keyword);
    if (!arg) return;
    const verdict = isDefault(arg.value);
    if (verdict === true) return;
    if (verdict === false) throw new UnsoundModel('unsupported-layer', `\`${keyword}=${shorten(arg.node.text)}\`: ${unsupported}.`, problemNode(arg));
    throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'its default')}, and a non-default value is not supported.`, problemNode(arg));
  }

  /** Records a model problem when a parameter that does not change shapes has a value that is not modelled. */
  noteUnlessDefault(keyword: string, isDefault: (value: Value) => boolean, notModelled: string): void {
    const arg = this.value(keyword);
    if (!arg || isDefault(arg.value)) return;
    this.note(problemNode(arg), `\`${keyword}=${shorten(arg.node.text)}\`: ${notModelled}.`, 'unsupported-layer');
  }

  /** The axes an `axis=` argument names, to be checked against the input rank (absent → the last axis). */
  axisCheck(keyword: string, layerIndex: number, className: string): AxisCheck[] {
    const arg = this.value(keyword);
    if (!arg) return [];
    const items = arg.value.kind === 'number' ? [arg.value] : arg.value.kind === 'sequence' ? arg.value.items : [];
    const axes = items.map((item) => (item.kind === 'number' && Number.isInteger(item.value) ? item.value : undefined));
    if (axes.length === 0 || axes.some((axis) => axis === undefined)) {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'an integer axis')}.`, problemNode(arg));
    }
    return [{ layerIndex, axes: axes as number[], node: problemNode(arg), className, keyword }];
  }

  optionalNumber(keyword: string, position?: number): number | undefined {
    const arg = this.value(keyword, position);
    if (!arg) return undefined;
    if (arg.value.kind === 'number') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'a number')}; the Keras default is used.`);
    return undefined;
  }

  optionalBool(keyword: string): boolean | undefined {
    const arg = this.value(keyword);
    if (!arg) return undefined;
    if (arg.value.kind === 'bool') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'True or False')}; the Keras default is used.`);
    return undefined;
  }

  optionalString(keyword: string): string | undefined {
    const arg = this.value(keyword);
    if (!arg || arg.value.kind === 'none') return undefined;
    if (arg.value.kind === 'string') return arg.value.value;
    this.note(problemNode(arg), `${this.unresolvedMessage(keyword, arg.value, 'a string')}; an automatic name is used.`);
    return undefined;
  }

  /** The `activation` argument of Dense/Conv/Activation; records its spans. Absent → linear. */
  activation(keyword: string, position?: number): ActivationSpec {
    const arg = this.value(keyword, position);
    if (!arg) return { name: 'linear' };
    const argumentNode = this.argumentNode(keyword, position) ?? arg.node;
    this.spans.activationArgumentSpan = this.loader.span(argumentNode);
    this.spans.activationValueSpan = this.loader.span(arg.node);
    const activation = this.activationFromValue(arg.value);
    if (activation) return activation;
    // A value only known at run time could be any activation: diagnosing the layer as linear
    // would be a different network, so the model is refused (as for units), in every loader.
    if (arg.value.kind === 'unknown') {
      throw new UnsoundModel('parse-error', `${this.unresolvedMessage(keyword, arg.value, 'an activation name')}.`, problemNode(arg));
    }
    const what = arg.value.kind === 'string' ? `name "${arg.value.value}" is unknown (not a Keras activation)` : `${describeValue(arg.value)} is not recognised`;
    this.note(problemNode(arg), `The activation ${what}; the layer is diagnosed as linear.`, 'unsupported-layer');
    return { name: 'linear' };
  }

  private activationFromValue(value: Value): ActivationSpec | undefined {
    if (value.kind === 'none') return { name: 'linear' };
    if (value.kind === 'string') return ACTIVATION_IDENTIFIERS.get(value.value.toLowerCase());
    if (value.kind === 'reference') return ACTIVATION_IDENTIFIERS.get(value.path[value.path.length - 1]);
    const call = callOf(value);
    if (call) {
      // A layer instance is callable, so `activation=layers.LeakyReLU(0.1)` is valid Keras.
      const layerClass = this.loader.layerClassOf(call.node);
      const key = layerClass?.keras ? LAYER_CLASSES.get(layerClass.className)?.key : undefined;
      if (layerClass && (key === 'relu' || key === 'leakyRelu' || key === 'prelu' || key === 'elu' || key === 'softmax')) {
        const args = bindLayerArguments(layerClass.className, key, this.loader.arguments(call.node));
        const nested = new ArgumentReader(this.loader, args, call.scope, call.node, this.problems);
        return nested.activationLayer(key);
      }
    }
    return undefined;
  }

  /** The activation of a standalone ReLU / LeakyReLU / PReLU / ELU / Softmax layer. */
  activationLayer(key: 'relu' | 'leakyRelu' | 'prelu' | 'elu' | 'softmax'): ActivationSpec {
    switch (key) {
      case 'relu': {
        const maxValue = this.optionalNumber('max_value');
        const slope = this.optionalNumber('negative_slope') ?? 0;
        const threshold = this.optionalNumber('threshold') ?? 0;
        // Only the shapes the IR has (relu, relu6, leaky ReLU) are rebuilt; others are refused,
        // as the JSON and TF.js loaders do, rather than trained as a different activation.
        if (threshold !== 0) {
          throw new UnsoundModel('unsupported-layer', `\`ReLU(threshold=${threshold})\` is not supported: only a threshold of 0 is rebuilt.`, this.node('threshold') ?? this.call);
        }
        if (slope > 0 && maxValue !== undefined) {
          throw new UnsoundModel('unsupported-layer', '`ReLU` with both `max_value` and `negative_slope` is not supported: a capped leaky ReLU cannot be rebuilt.', this.node('max_value') ?? this.call);
        }
        if (slope > 0) return { name: 'leakyRelu', alpha: slope };
        if (maxValue === 6) return { name: 'relu6' };
        if (maxValue !== undefined) {
          throw new UnsoundModel('unsupported-layer', `\`ReLU(max_value=${maxValue})\` is not supported: only a cap of 6 (ReLU6) is rebuilt.`, this.node('max_value') ?? this.call);
        }
        return { name: 'relu' };
      }
      case 'leakyRelu': {
        // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
        const slope = this.args.keyword.has('negative_slope')
          ? this.optionalNumber('negative_slope')
          : this.optionalNumber('alpha');
        return { name: 'leakyRelu', alpha: slope ?? 0.3 };
      }
      case 'elu':
        return { name: 'elu', alpha: this.optionalNumber('alpha') ?? 1 };
      case 'prelu': {
        // The learned slope starts at alpha_initializer (Keras default: zeros).
        const init = this.node('alpha_initializer');
        const initial = init ? this.initializerFromNode(init) : undefined;
        const alpha = initial?.name === 'constant' ? (initial.value ?? 0) : initial?.name === 'ones' ? 1 : 0;
        if (initial && initial.name !== 'constant' && initial.name !== 'zeros' && initial.name !== 'ones') {
          this.note(init ?? this.call, 'PReLU with a random alpha_initializer is diagnosed with a starting slope of 0.', 'unsupported-layer');
        }
        return { name: 'prelu', alpha };
      }
      case 'softmax':
        return { name: 'softmax' };
    }
  }

  /** kernel_initializer / bias_initializer; records spans; absent → the Keras default. */
  initializer(keyword: 'kernel_initializer' | 'bias_initializer', fallback: InitializerName): InitializerSpec {
    const entry = this.args.keyword.get(keyword);
    if (!entry) return withDefaults(fallback);
    if (keyword === 'kernel_initializer') {
      this.spans.kernelInitializerArgumentSpan = this.loader.span(entry.argument);
      this.spans.kernelInitializerValueSpan = this.loader.span(entry.value);
    } else {
      this.spans.biasInitializerArgumentSpan = this.loader.span(entry.argument);
      this.spans.biasInitializerValueSpan = this.loader.span(entry.value);
    }
    const spec = this.initializerFromNode(entry.value);
    if (spec) return spec;
    this.note(entry.value, `The initialiser \`${shorten(entry.value.text)}\` is not recognised; the Keras default (${fallback}) is used.`, 'unsupported-layer');
    return withDefaults(fallback);
  }

  private initializerFromNode(node: Node): InitializerSpec | undefined {
    const value = this.loader.evaluate(node, this.scope);
    if (value.kind === 'string') {
      const name = INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(value.value));
      return name ? withDefaults(name) : undefined;
    }
    if (value.kind === 'number') return { name: 'constant', value: value.value };
    if (value.kind === 'reference') {
      // An initialiser class passed without calling it, e.g. `initializers.HeNormal`.
      const name = INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(value.path[value.path.length - 1]));
      return name ? withDefaults(name) : undefined;
    }
    const call = callOf(value);
    if (!call) return undefined;
    const layerClass = this.loader.layerClassOf(call.node);
    const name = layerClass && INITIALIZER_IDENTIFIERS.get(normaliseInitializerName(layerClass.className));
    if (!name) return undefined;
    const reader = new ArgumentReader(this.loader, this.loader.arguments(call.node), call.scope, call.node, this.problems);
    return reader.initializerParameters(name);
  }

  /** Parameters of an initialiser call, in Keras's positional order. */
  private initializerParameters(name: InitializerName): InitializerSpec {
    const defaults = withDefaults(name);
    switch (name) {
      case 'constant':
        return { name, value: this.optionalNumber('value', 0) ?? 0 };
      case 'randomNormal':
      case 'truncatedNormal':
        return { name, mean: this.optionalNumber('mean', 0) ?? 0, stddev: this.optionalNumber('stddev', 1) ?? defaults.stddev };
      case 'randomUniform':
        return { name, minval: this.optionalNumber('minval', 0) ?? -0.05, maxval: this.optionalNumber('maxval', 1) ?? 0.05 };
      case 'orthogonal':
      case 'identity':
        return { name, scale: this.optionalNumber('gain', 0) ?? 1 };
      case 'varianceScaling': {
        const modeNode = this.node('mode', 1);
        const distributionNode = this.node('distribution', 2);
        const mode = modeNode ? this.loader.evaluate(modeNode, this.scope) : undefined;
        const distribution = distributionNode ? this.loader.evaluate(distributionNode, this.scope) : undefined;
        const modes: Record<string, InitializerSpec['mode']> = { fan_in: 'fanIn', fan_out: 'fanOut', fan_avg: 'fanAvg' };
        const distributions: Record<string, InitializerSpec['distribution']> = {
          normal: 'truncatedNormal',
          truncated_normal: 'truncatedNormal',
          untruncated_normal: 'normal',
          uniform: 'uniform',
        };
        const modeName = mode?.kind === 'string' ? modes[mode.value] : undefined;
        const distributionName = distribution?.kind === 'string' ? distributions[distribution.value] : undefined;
        if (modeNode && !modeName) this.note(modeNode, `VarianceScaling mode \`${shorten(modeNode.text)}\` is not recognised; fan_in is used.`);
        if (distributionNode && !distributionName) this.note(distributionNode, `VarianceScaling distribution \`${shorten(distributionNode.text)}\` is not recognised; truncated_normal is used.`);
        return {
          name,
          scale: this.optionalNumber('scale', 0) ?? 1,
          mode: modeName ?? 'fanIn',
          distribution: distributionName ?? 'truncatedNormal',
        };
      }
      default:
        return defaults;
    }
  }

  private unresolvedMessage(keyword: string, value: Value, expected: string): string {
    const reason = value.kind === 'unknown' ? value.reason : `it is ${describeValue(value)}`;
    return `\`${keyword}\` must be ${expected} known before running the code, but ${reason}`;
  }
}

export function withDefaults(name: InitializerName): InitializerSpec {
  return { name, ...INITIALIZER_DEFAULTS[name] };
}

/** Where a problem with an argument is reported: at the builder call that gave the value, when it came from one. */
export function problemNode(arg: { value: Value; node: Node }): Node {
  const value = unknownOf(arg.value);
  if (!value) return arg.node;
  // Where the value is computed when that is elsewhere (`WIDTH = int(input())`, a builder's call
  // site): the run-time construct itself, not the layer that uses it.
  // A name without a value (a parameter) or a dict changed elsewhere is reported where it is used.
  const inside = value.node.startIndex >= arg.node.startIndex && value.node.endIndex <= arg.node.endIndex;
  const computed = !value.atUse && (value.node.type === 'call' || value.node.type === 'subscript' || value.node.type === 'attribute');
  return value.atCallSite || (!inside && computed) ? value.node : arg.node;
}

/** True when an int or tuple argument is all ones (dilation_rate's default). */
export function allOnes(value: Value): boolean | undefined {
  const items = value.kind === 'number' ? [value] : value.kind === 'sequence' ? value.items : undefined;
  if (!items || items.some((item) => item.kind !== 'number')) return undefined;
  return items.every((item) => item.kind === 'number' && item.value === 1);
}

/** An `axis=` of BatchNormalization / Softmax, valid only when it names the last (channels) axis. */
export interface AxisCheck {
  readonly layerIndex: number;
  readonly axes: readonly number[];
  readonly node: Node;
  readonly className: string;
  readonly keyword: string;
}

/**
 * Matches a layer call's positional arguments to the class's Keras parameter names, so every
 * argument is read by name. Refuses what cannot be matched: `*args` / `**kwargs`, more
 * positional arguments than the signature reads, and a parameter given twice.
 */
export function bindLayerArguments(className: string, key: LayerClassKey, given: Arguments, note?: LegacyNote): Arguments {
  const args = readKeras1Spellings(className, key, given, note);
  const splat = args.splats[0];
  if (splat) {
    throw new UnsoundModel('parse-error', `\`${shorten(splat.text)}\` passes arguments to \`${className}\` that are only known at run time; write them out to diagnose the model.`, splat);
  }
  const names = POSITIONAL_PARAMETERS[key];
  const keyword = new Map(args.keyword);
  args.positional.forEach((node, i) => {
    const name = names[i];
    if (name === undefined) {
      throw new UnsoundModel(
        'parse-error',
        `\`${className}\` is given ${args.positional.length} positional arguments, but only ${names.length} (${names.join(', ')}) are read by position; pass \`${shorten(node.text)}\` by keyword.`,
        node,
      );
    }
    // LeakyReLU's slope is `alpha` in Keras 2 and `negative_slope` in Keras 3.
    const alsoByKeyword = keyword.has(name) || args.composed?.has(name) || (key === 'leakyRelu' && keyword.has('alpha'));
    if (alsoByKeyword) throw new UnsoundModel('parse-error', `\`${className}\` gets \`${name}\` twice: by position (\`${shorten(node.text)}\`) and by keyword.`, node);
    keyword.set(name, { argument: node, value: node });
  });
  return { positional: [], keyword, splats: [], composed: args.composed };
}

/**
 * Checks that each layer gets an input of the rank it needs and that no spatial dimension
 * shrinks below 1, so a returned model can always be built.
 */
export function checkShapes(inputShape: readonly number[], layers: readonly LayerSpec[], nodes: readonly Node[]): void {
  const error = shapeError(inputShape, layers);
  if (error) throw new UnsoundModel('parse-error', error.message, nodes[error.index]);
}

/**
 * Refuses BatchNormalization / Softmax over an axis other than the last: the builder always
 * normalises over the channels (last) axis, so another axis would build a different model.
 */
export function checkAxes(inputShape: readonly number[], layers: readonly LayerSpec[], checks: readonly AxisCheck[]): void {
  if (checks.length === 0) return;
  const inputs = traceShapes(inputShape, layers).inputs;
  for (const check of checks) {
    // The rank Keras sees includes the batch axis, so the last axis is `rank` (or -1).
    const rank = inputs[check.layerIndex]?.length ?? 0;
    if (check.axes.length === 1 && (check.axes[0] === -1 || check.axes[0] === rank)) continue;
    throw new UnsoundModel(
      'unsupported-layer',
      `\`${check.keyword}=${shorten(check.node.text)}\` of \`${check.className}\` is not supported: Activation Lens builds it over the last axis only (axis=-1, here also axis=${rank}), so it would compute something else.`,
      check.node,
    );
  }
}


/** A constant as Python writes it (`10`, `'same'`, `True`, `None`), for notes. */
function pythonLiteral(value: Extract<Value, { kind: 'number' | 'string' | 'bool' | 'none' }>): string {
  if (value.kind === 'none') return 'None';
  if (value.kind === 'bool') return value.value ? 'True' : 'False';
  return value.kind === 'string' ? `'${value.value}'` : String(value.value);
}
