/**
 * Explicit initialisations in PyTorch code: `nn.init.X_(module.weight, ...)` and
 * `module.weight.data.normal_(...)`-style calls, read into the IR's initialisers and recorded for
 * the module they target (issue 12: split out of parse/torchPython.ts by responsibility).
 */
import type { Node } from 'web-tree-sitter';
import type { InitializerSpec, SourceSpan } from '../../model';
import { dottedParts } from '../../python/imports';
import { INIT_METHODS, torchGain } from './vocabulary';
import { type Arguments, type Env, type Evaluator, callArguments, shorten } from './values';
import type { ModelContext } from './layers';
import { mayFreeze } from './freezing';

/** What reading initialisations uses of the file loader. */
export interface InitializerHost {
  readonly evaluator: Evaluator;
  span(node: Node): SourceSpan;
}

/** Recognises and reads the initialisation calls of one file. */
export class InitializerReader {
  private readonly evaluator: Evaluator;

  constructor(private readonly host: InitializerHost) {
    this.evaluator = host.evaluator;
  }

  /**
   * True when a node contains an initialisation (nn.init.*, `.weight.normal_()`-style, `apply`,
   * `reset_parameters`) or may freeze weights (freezing.ts): either changes how the model trains.
   */
  initialises(node: Node): boolean {
    if (mayFreeze(node)) return true;
    const calls = node.type === 'call' ? [node] : node.descendantsOfType('call');
    return calls.some((call) => {
      if (!call) return false;
      if (this.initCall(call)) return true;
      const callee = call.childForFieldName('function');
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
      if (method === 'apply' || method === 'reset_parameters') return true;
      if (!method || !INIT_METHODS.has(method)) return false;
      // `.normal_()` on a weight or bias, not on any tensor.
      const object = callee?.childForFieldName('object');
      const parameter = object?.type === 'attribute' && object.childForFieldName('attribute')?.text === 'data' ? object.childForFieldName('object') : object;
      const parameterName = parameter?.type === 'attribute' ? parameter.childForFieldName('attribute')?.text : undefined;
      return parameterName === 'weight' || parameterName === 'bias';
    });
  }

  /** The `nn.init` function a call is (`xavier_uniform_` for `nn.init.xavier_uniform_(...)`), else undefined. */
  initCall(call: Node): string | undefined {
    const callee = call.childForFieldName('function');
    const parts = callee ? dottedParts(callee) : undefined;
    if (!parts) return undefined;
    const path = this.evaluator.resolve(parts);
    if (path[0] === 'torch' && path[1] === 'nn' && path[2] === 'init' && path.length === 4) return path[3];
    return undefined;
  }

  /**
   * `nn.init.X_(target.weight, …)` or `target.weight(.data).normal_(…)`-style calls: records the
   * initialiser for the module `target` evaluates to. Returns true when the call was one of them.
   */
  recordInit(call: Node, env: Env, ctx: ModelContext): boolean {
    const callee = call.childForFieldName('function');
    if (!callee) return false;
    const args = callArguments(call);
    let name = this.initCall(call);
    let targetNode: Node | undefined;
    let methodStyle = false;
    if (name) {
      targetNode = args.positional[0] ?? args.keyword.get('tensor')?.value;
    } else if (callee.type === 'attribute') {
      const method = callee.childForFieldName('attribute')?.text ?? '';
      if (!INIT_METHODS.has(method)) return false;
      name = method === 'fill_' ? 'constant_' : method === 'zero_' ? 'zeros_' : method;
      targetNode = callee.childForFieldName('object') ?? undefined;
      methodStyle = true;
    }
    if (!name || !targetNode) return false;
    // target: <module>.weight, <module>.bias, optionally followed by `.data`.
    let parameterNode = targetNode;
    if (parameterNode.type === 'attribute' && parameterNode.childForFieldName('attribute')?.text === 'data') {
      parameterNode = parameterNode.childForFieldName('object') ?? parameterNode;
    }
    const param = parameterNode.type === 'attribute' ? parameterNode.childForFieldName('attribute')?.text : undefined;
    const moduleNode = parameterNode.type === 'attribute' ? parameterNode.childForFieldName('object') : undefined;
    if ((param !== 'weight' && param !== 'bias') || !moduleNode) {
      if (!methodStyle) ctx.problems.push({ code: 'unsupported-layer', message: `\`${shorten(call.text)}\` does not initialise a layer's weight or bias that can be identified statically; it is ignored.`, span: this.host.span(call) });
      return !methodStyle;
    }
    const module = this.evaluator.evaluate(moduleNode, env);
    const targets = module.kind === 'call' ? [module] : [];
    if (targets.length === 0) {
      ctx.problems.push({ code: 'unsupported-layer', message: `The initialisation target \`${shorten(moduleNode.text)}\` is not known statically; it is ignored.`, span: this.host.span(call) });
      return true;
    }
    const spec = this.initializerFrom(name, call, args, methodStyle, env, ctx);
    if (!spec) return true;
    for (const target of targets) ctx.inits.push({ module: target, param, spec });
    return true;
  }

  private initializerFrom(name: string, call: Node, args: Arguments, methodStyle: boolean, env: Env, ctx: ModelContext): InitializerSpec | undefined {
    // In nn.init the tensor is the first positional argument; in the method style it is the object.
    const offset = methodStyle ? 0 : 1;
    const number = (keyword: string, position: number, fallback: number): number => {
      const node = args.keyword.get(keyword)?.value ?? args.positional[position + offset];
      if (!node) return fallback;
      const value = this.evaluator.evaluate(node, env);
      if (value.kind === 'number') return value.value;
      ctx.problems.push({ code: 'unsupported-layer', message: `\`${keyword}\` = \`${shorten(node.text)}\` is not known statically; ${fallback} is assumed.`, span: this.host.span(node) });
      return fallback;
    };
    const string = (keyword: string, position: number, fallback: string): string => {
      const node = args.keyword.get(keyword)?.value ?? args.positional[position + offset];
      const value = node ? this.evaluator.evaluate(node, env) : undefined;
      return value?.kind === 'string' ? value.value : fallback;
    };
    const base = name.endsWith('_') ? name.slice(0, -1) : name;
    switch (base) {
      case 'xavier_uniform':
      case 'xavier_normal': {
        const gain = number('gain', 0, 1);
        const uniform = base === 'xavier_uniform';
        if (gain === 1) return { name: uniform ? 'glorotUniform' : 'glorotNormal' };
        return { name: 'varianceScaling', scale: gain * gain, mode: 'fanAvg', distribution: uniform ? 'uniform' : 'normal' };
      }
      case 'kaiming_uniform':
      case 'kaiming_normal': {
        const a = number('a', 0, 0);
        const modeText = string('mode', 1, 'fan_in');
        const nonlinearity = string('nonlinearity', 2, 'leaky_relu');
        const gain = torchGain(nonlinearity, a);
        if (gain === undefined) {
          ctx.problems.push({ code: 'unsupported-layer', message: `Unknown nonlinearity "${nonlinearity}"; \`${base}_\` is read with the ReLU gain.`, span: this.host.span(call) });
        }
        const scale = (gain ?? Math.SQRT2) ** 2;
        const mode = modeText === 'fan_out' ? 'fanOut' : 'fanIn';
        const uniform = base === 'kaiming_uniform';
        if (Math.abs(scale - 2) < 1e-12 && mode === 'fanIn') return { name: uniform ? 'heUniform' : 'heNormal' };
        if (uniform && Math.abs(scale - 1 / 3) < 1e-9 && mode === 'fanIn') return { name: 'torchDefaultKernel' };
        if (Math.abs(scale - 1) < 1e-12 && mode === 'fanIn') return { name: uniform ? 'lecunUniform' : 'lecunNormal' };
        return { name: 'varianceScaling', scale, mode, distribution: uniform ? 'uniform' : 'normal' };
      }
      case 'normal':
        return { name: 'randomNormal', mean: number('mean', 0, 0), stddev: number('std', 1, 1) };
      case 'trunc_normal':
        // PyTorch cuts at absolute bounds a, b (default ±2); the IR's truncated normal cuts at 2σ.
        return { name: 'truncatedNormal', mean: number('mean', 0, 0), stddev: number('std', 1, 1) };
      case 'uniform':
        return { name: 'randomUniform', minval: number(methodStyle ? 'from' : 'a', 0, 0), maxval: number(methodStyle ? 'to' : 'b', 1, 1) };
      case 'constant':
        return { name: 'constant', value: number(methodStyle ? 'value' : 'val', 0, 0) };
      case 'zeros':
        return { name: 'zeros' };
      case 'ones':
        return { name: 'ones' };
      case 'orthogonal':
        return { name: 'orthogonal', scale: number('gain', 0, 1) };
      case 'eye':
        return { name: 'identity', scale: 1 };
      default:
        ctx.problems.push({ code: 'unsupported-layer', message: `\`${name}\` is not a supported initialiser; PyTorch's default is assumed.`, span: this.host.span(call) });
        return undefined;
    }
  }
}
