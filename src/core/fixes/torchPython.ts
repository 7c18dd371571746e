/**
 * Activation swaps as exact text edits on PyTorch Python source, from the spans the PyTorch
 * loader recorded and the facts it gathered about the source (`model.sourceFacts`: the imports,
 * the class's `__init__` / `forward`, the call each layer is). Pure and synchronous; it never
 * parses the file.
 *
 * Choices:
 *  - An activation module (`nn.Sigmoid()`) is replaced by the whole new module call
 *    (`nn.ReLU()`, `nn.LeakyReLU(0.01)`, `nn.ELU(alpha=1.0)`), written with the prefix the old
 *    call uses (`nn.`, `torch.nn.`, or an imported class name; a `from torch.nn import X` line is
 *    added when the file has no name for the new class).
 *  - A functional activation keeps its call and its input expression: the callee is renamed
 *    (`torch.sigmoid` → `torch.relu`, `F.sigmoid` → `F.relu`) and the arguments after the input
 *    are replaced by what the new function needs (`F.leaky_relu(x, negative_slope=0.01)`). A
 *    function missing from the callee's namespace (`torch.leaky_relu` does not exist) is written
 *    through torch.nn.functional (`F.` when the file imports it so, else `nn.functional.` or
 *    `torch.nn.functional.`). A tensor method (`x.sigmoid()`) stays a method where one exists
 *    (relu, sigmoid, tanh) and becomes a functional call otherwise.
 *  - The matching initialiser is a new `nn.init.<fn>_(<path>.weight, …)` statement. `<path>` is
 *    the kernel layer's PyTorch module path, which the loader uses as the layer name
 *    (`self.fc1`, `self.features[0]`, `self.layers[2]`, `model[0]`, `model.fc1`). It goes into
 *    `__init__` after the statement that defines the top attribute, and after any later
 *    initialisation statement of the same block (an init loop or `self.apply(...)` would
 *    otherwise override it). Where the layer has no reachable path (a `nn.Sequential(...)`
 *    returned from a function, not bound to a name), only the activation edit is returned and
 *    the limitation is explained in the result's `note`.
 */
import { hasKernel, PositionIndex, type ActivationSpec, type InitializerName, type LayerSpec, type ModelSpec, type SourceSpan } from '../model';
import type { ActivationSwap, TextEdit } from './edits';
import type { ImportTable } from '../python/imports';
import { importTableOf, stillHolds, type CallFacts, type CheckedRange, type SourceFacts, type TextRange, type TorchLayerFacts, type TorchModelFacts, type TorchStatementFacts } from '../sourceFacts';
import { resolveTorchName } from '../frameworks/torch/sourceFacts';
import { layersBefore, placementOf } from './layout';

/** One parameter to initialise: a layer's weight or bias. */
interface InitTarget {
  readonly layer: LayerSpec;
  readonly param: 'weight' | 'bias';
  readonly initializer: InitializerName;
}

/** Edits, with an optional explanation of what could not be expressed (e.g. no initialiser path). */
export type TorchEdits = TextEdit[] & { note?: string };

/** The edits that switch layer `layerIndex` of a PyTorch model (loaded from `text`) to `swap`. */
export function activationSwapEditsTorch(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TorchEdits | { error: string } {
  const layer = model.layers[layerIndex];
  if (!layer) return { error: `Model \`${model.name}\` has no layer ${layerIndex}.` };
  const file = TorchSource.of(text, model);
  if ('error' in file) return file;
  const edits: TextEdit[] = [];
  if (!swap.activation) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no weights to initialise.` };
  } else if (layer.kind === 'activation') {
    const changed = file.activationEdits(layer, swap.activation);
    if ('error' in changed) return changed;
    edits.push(...changed);
  } else if (!hasKernel(layer.kind) || layer.activation.name !== swap.activation.name) {
    return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation of its own in PyTorch; change the activation that follows it.` };
  }
  const result: TorchEdits = edits;
  if (swap.biasInitializer && (!hasKernel(layer.kind) || layer.useBias === false)) return { error: `Layer \`${layer.name}\` has no bias.` };
  const owner = swap.kernelInitializer ? (hasKernel(layer.kind) ? layer : model.layers.slice(0, layerIndex).reverse().find((l) => hasKernel(l.kind))) : undefined;
  const parameters: InitTarget[] = [];
  if (swap.kernelInitializer && owner) parameters.push({ layer: owner, param: 'weight', initializer: swap.kernelInitializer });
  if (swap.biasInitializer) parameters.push({ layer, param: 'bias', initializer: swap.biasInitializer });
  // One statement block per layer (two insertions at one point would collide).
  for (const target of new Set(parameters.map((p) => p.layer))) {
    const init = file.initializerEdits(model, target, parameters.filter((p) => p.layer === target));
    if ('error' in init) return init;
    if ('note' in init) {
      if (!swap.activation) return { error: init.note };
      result.note = init.note;
    } else result.push(...init.edits);
  }
  return file.checked(dedupe(result));
}

/** The edit that sets the kernel initialiser of a Dense/Conv layer of a PyTorch model (an `nn.init` statement). */
export function kernelInitializerEditsTorch(text: string, model: ModelSpec, layerIndex: number, initializer: InitializerName): TorchEdits | { error: string } {
  const layer = model.layers[layerIndex];
  if (!layer || !hasKernel(layer.kind)) return { error: `Layer ${layerIndex} of \`${model.name}\` has no kernel.` };
  const file = TorchSource.of(text, model);
  if ('error' in file) return file;
  const init = file.initializerEdits(model, layer, [{ layer, param: 'weight', initializer }]);
  if ('error' in init) return init;
  if ('note' in init) return Object.assign([] as TextEdit[], { note: init.note });
  return file.checked(init.edits);
}

/**
 * BatchNorm between each listed activation and the Linear/Conv before it: inside an
 * `nn.Sequential(...)` a `nn.BatchNorm1d(n),` (BatchNorm2d after a Conv2d) is inserted before the
 * activation module; in a class, `self.bnK = nn.BatchNorm1d(n)` goes into `__init__` after the
 * layer's definition and is applied in `forward` to the activation's input
 * (`torch.relu(self.bn1(self.fc1(x)))`). Names never clash with the class's attributes.
 */
export function batchNormEditsTorch(text: string, model: ModelSpec, layerIndices: readonly number[]): TextEdit[] | { error: string } {
  const file = TorchSource.of(text, model);
  if ('error' in file) return file;
  const taken = new Set<string>();
  const edits: TextEdit[] = [];
  for (const index of layerIndices) {
    const layer = model.layers[index];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${index}.` };
    const owner = model.layers[index - 1];
    if (layer.kind !== 'activation' || !owner || !hasKernel(owner.kind)) {
      return { error: `Layer \`${layer.name}\` does not directly follow a Linear/Conv layer; add the BatchNorm by hand.` };
    }
    const shared = model.layers.some((l) => l.index !== index && l.source.span.start.offset === layer.source.span.start.offset);
    if (shared) return { error: `The activation of \`${layer.name}\` is one call or module used for several layers; give each layer its own BatchNorm by hand.` };
    const made = file.batchNormEdits(model, layer, owner, taken);
    if ('error' in made) return made;
    edits.push(...made);
  }
  return file.checked(edits);
}

function dedupe<T extends TextEdit[]>(edits: T): T {
  const seen = new Set<string>();
  const kept = edits.filter((edit) => {
    const key = `${edit.span.start.offset}:${edit.span.end.offset}:${edit.newText}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  edits.length = 0;
  edits.push(...kept);
  return edits;
}

/** A module path segment: a Python identifier or a container index. */
function isIdentifierOrIndex(segment: string): boolean {
  if (segment.length === 0) return false;
  for (const ch of segment) {
    const ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch === '_';
    if (!ok) return false;
  }
  return isIndex(segment) || !(segment[0] >= '0' && segment[0] <= '9');
}

function isIndex(segment: string): boolean {
  return segment.length > 0 && [...segment].every((ch) => ch >= '0' && ch <= '9');
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** torch.nn module class and arguments for an activation; undefined where none exists. */
function moduleCall(a: ActivationSpec): { cls: string; args: string } | undefined {
  switch (a.name) {
    case 'linear':
      return { cls: 'Identity', args: '' };
    case 'sigmoid':
      return { cls: 'Sigmoid', args: '' };
    case 'tanh':
      return { cls: 'Tanh', args: '' };
    case 'relu':
      return { cls: 'ReLU', args: '' };
    case 'leakyRelu':
      return { cls: 'LeakyReLU', args: formatNumber(a.alpha ?? 0.01) };
    case 'rrelu':
      return { cls: 'RReLU', args: `${formatNumber(a.lower ?? 1 / 8)}, ${formatNumber(a.upper ?? 1 / 3)}` };
    case 'prelu':
      return { cls: 'PReLU', args: a.alpha === undefined || a.alpha === 0.25 ? '' : `init=${formatNumber(a.alpha)}` };
    case 'elu':
      return { cls: 'ELU', args: (a.alpha ?? 1) === 1 ? '' : `alpha=${formatNumber(a.alpha ?? 1)}` };
    case 'selu':
      return { cls: 'SELU', args: '' };
    case 'gelu':
      return { cls: 'GELU', args: '' };
    case 'swish':
      return { cls: 'SiLU', args: '' };
    case 'mish':
      return { cls: 'Mish', args: '' };
    case 'softplus':
      return { cls: 'Softplus', args: '' };
    case 'softsign':
      return { cls: 'Softsign', args: '' };
    case 'hardSigmoid':
      return { cls: 'Hardsigmoid', args: '' };
    case 'relu6':
      return { cls: 'ReLU6', args: '' };
    case 'softmax':
      return { cls: 'Softmax', args: 'dim=-1' };
    case 'exponential':
      return undefined;
  }
}

/** Functional name and the arguments after the input; undefined where none exists. */
function functionalCall(a: ActivationSpec): { fn: string; extra: string } | undefined {
  switch (a.name) {
    case 'leakyRelu':
      return { fn: 'leaky_relu', extra: `negative_slope=${formatNumber(a.alpha ?? 0.01)}` };
    case 'elu':
      return { fn: 'elu', extra: (a.alpha ?? 1) === 1 ? '' : `alpha=${formatNumber(a.alpha ?? 1)}` };
    case 'rrelu':
      return { fn: 'rrelu', extra: `lower=${formatNumber(a.lower ?? 1 / 8)}, upper=${formatNumber(a.upper ?? 1 / 3)}` };
    case 'swish':
      return { fn: 'silu', extra: '' };
    case 'hardSigmoid':
      return { fn: 'hardsigmoid', extra: '' };
    case 'softmax':
      return { fn: 'softmax', extra: 'dim=-1' };
    case 'exponential':
      return { fn: 'exp', extra: '' };
    case 'prelu':
    case 'linear':
      return undefined;
    default:
      return { fn: a.name, extra: '' };
  }
}

/** Functions of the `torch` namespace itself (the rest live in torch.nn.functional). */
const TORCH_FUNCTIONS = new Set(['relu', 'sigmoid', 'tanh', 'selu', 'rrelu', 'softmax', 'exp']);
/** Tensor methods usable as activations without arguments. */
const TENSOR_METHODS = new Set(['relu', 'sigmoid', 'tanh', 'exp']);

const INIT_CALLS: Partial<Record<InitializerName, (w: string) => string>> = {
  heNormal: (w) => `kaiming_normal_(${w}, nonlinearity="relu")`,
  heUniform: (w) => `kaiming_uniform_(${w}, nonlinearity="relu")`,
  glorotUniform: (w) => `xavier_uniform_(${w})`,
  glorotNormal: (w) => `xavier_normal_(${w})`,
  lecunNormal: (w) => `kaiming_normal_(${w}, nonlinearity="linear")`,
  lecunUniform: (w) => `kaiming_uniform_(${w}, nonlinearity="linear")`,
  zeros: (w) => `zeros_(${w})`,
  ones: (w) => `ones_(${w})`,
  orthogonal: (w) => `orthogonal_(${w})`,
  torchDefaultKernel: (w) => `kaiming_uniform_(${w}, a=5 ** 0.5)`,
};

/** A model's source as its facts describe it, checked against the text the edits are for. */
class TorchSource {
  private readonly positions: PositionIndex;
  private readonly imports: ImportTable;
  /** Set when an import line was placed after an import statement the text no longer holds as read. */
  private importAnchorStale = false;

  private constructor(
    private readonly text: string,
    private readonly model: ModelSpec,
    private readonly facts: SourceFacts,
    private readonly torch: TorchModelFacts,
  ) {
    this.positions = new PositionIndex(text);
    this.imports = importTableOf(facts.imports);
  }

  /** The source of `model` in `text`, or why its facts cannot be used there. */
  static of(text: string, model: ModelSpec): TorchSource | { error: string } {
    const facts = model.sourceFacts;
    if (!facts?.torch) return { error: `Model \`${model.name}\` carries no facts about its source (it was not read from a file); load the file first.` };
    return new TorchSource(text, model, facts, facts.torch);
  }

  /** `edits`, unless one of them adds an import line after an import statement that changed since the read. */
  checked<T extends object>(edits: T): T | { error: string } {
    return this.importAnchorStale ? { error: 'The imports changed since the file was analysed; run the diagnosis again.' } : edits;
  }

  private span(start: number, end: number): SourceSpan {
    return this.positions.span(start, end);
  }

  private spanOf(range: TextRange): SourceSpan {
    return this.positions.span(range.start, range.end);
  }

  private textOf(range: TextRange): string {
    return this.text.slice(range.start, range.end);
  }

  /** The call a layer is, when the text still holds it as it was read. */
  private site(layer: LayerSpec): TorchLayerFacts | undefined {
    const site = this.torch.layers[this.model.layers.indexOf(layer)];
    return site && stillHolds(this.text, site.call) ? site : undefined;
  }

  /** Local name bound to a dotted torch path, e.g. 'nn' for torch.nn, 'F' for torch.nn.functional. */
  private localFor(path: string): string | undefined {
    for (const [local, target] of this.imports) if (target.join('.') === path) return local;
    return undefined;
  }

  private resolve(parts: readonly string[]): string[] {
    return resolveTorchName(this.imports, parts);
  }

  /** A prefix under which torch.nn.functional's functions can be written, with any import to add. */
  private functionalPrefix(): { prefix: string; edits: TextEdit[] } {
    const f = this.localFor('torch.nn.functional');
    if (f) return { prefix: `${f}.`, edits: [] };
    const nn = this.localFor('torch.nn');
    if (nn) return { prefix: `${nn}.functional.`, edits: [] };
    const torch = this.localFor('torch');
    if (torch) return { prefix: `${torch}.nn.functional.`, edits: [] };
    return { prefix: 'F.', edits: this.importLine('import torch.nn.functional as F') };
  }

  /** A line inserted after the last top-level import (or at the top). */
  private importLine(line: string): TextEdit[] {
    const last = this.facts.imports.lastTopLevelImport;
    if (!last) return [{ span: this.span(0, 0), newText: `${line}\n` }];
    // A statement that moved would receive the line at the wrong place: the entry points refuse then (checked).
    if (!stillHolds(this.text, last)) this.importAnchorStale = true;
    return [{ span: this.span(last.end, last.end), newText: `\n${line}` }];
  }

  activationEdits(layer: LayerSpec, activation: ActivationSpec): TextEdit[] | { error: string } {
    const stale = { error: `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.` };
    const site = this.site(layer);
    if (!site) return stale;
    const call = site.call;
    if (site.site === 'call') {
      // A tensor method, `x.sigmoid()`.
      const calleeSpan = layer.source.calleeSpan;
      if (call.calleeAttribute && calleeSpan && call.calleeAttribute.start === calleeSpan.start.offset && !this.isModuleClass(call.callee)) {
        return this.methodEdits(call, activation);
      }
      return this.moduleEdits(call, activation);
    }
    return this.functionalEdits(call, activation);
  }

  private isModuleClass(callee: TextRange): boolean {
    const parts = this.textOf(callee).split('.').map((p) => p.trim());
    const path = this.resolve(parts);
    return path[0] === 'torch' && path[1] === 'nn' && path.length === 3;
  }

  private moduleEdits(call: CallFacts, activation: ActivationSpec): TextEdit[] | { error: string } {
    const target = moduleCall(activation);
    if (!target) return { error: `PyTorch has no activation module for ${activation.name}; use torch.exp in forward.` };
    const calleeText = this.textOf(call.callee);
    const dot = calleeText.lastIndexOf('.');
    const edits: TextEdit[] = [];
    let prefix: string;
    if (dot >= 0) {
      prefix = calleeText.slice(0, dot + 1);
    } else {
      // The old class was imported by name: reuse a torch.nn alias, an imported class name, or import it.
      const cls = this.localFor(`torch.nn.${target.cls}`);
      const nn = this.localFor('torch.nn');
      const torch = this.localFor('torch');
      if (cls) return [{ span: this.spanOf(call), newText: `${cls}(${target.args})` }];
      if (nn) prefix = `${nn}.`;
      else if (torch) prefix = `${torch}.nn.`;
      else {
        prefix = '';
        edits.push(...this.importLine(`from torch.nn import ${target.cls}`));
      }
    }
    edits.push({ span: this.spanOf(call), newText: `${prefix}${target.cls}(${target.args})` });
    return edits;
  }

  private functionalEdits(call: CallFacts, activation: ActivationSpec): TextEdit[] | { error: string } {
    const args = call.arguments;
    const input = call.firstPositional;
    const calleeText = this.textOf(call.callee);
    if (!args || !input) return { error: `Could not read the arguments of \`${calleeText}\`.` };
    if (activation.name === 'linear') {
      // No activation: the call becomes its input.
      return [{ span: this.spanOf(call), newText: this.textOf(input) }];
    }
    const target = functionalCall(activation);
    if (!target) return { error: `${activation.name} has no functional form in PyTorch; use the nn.${moduleCall(activation)?.cls ?? 'Module'} module.` };
    const parts = calleeText.split('.').map((p) => p.trim());
    const path = this.resolve(parts);
    const inTorch = path.length === 2 && path[0] === 'torch';
    const edits: TextEdit[] = [];
    let newCallee: string;
    if (inTorch && TORCH_FUNCTIONS.has(target.fn)) {
      newCallee = `${parts.slice(0, -1).join('.')}.${target.fn}`;
    } else if (!inTorch && parts.length > 1 && target.fn !== 'exp') {
      newCallee = `${parts.slice(0, -1).join('.')}.${target.fn}`;
    } else if (target.fn === 'exp') {
      const torch = this.localFor('torch');
      if (!torch) edits.push(...this.importLine('import torch'));
      newCallee = `${torch ?? 'torch'}.exp`;
    } else {
      const functional = this.functionalPrefix();
      edits.push(...functional.edits);
      newCallee = `${functional.prefix}${target.fn}`;
    }
    edits.push({ span: this.spanOf(call.callee), newText: newCallee });
    // Everything after the input argument is rewritten for the new function.
    const tailStart = input.end;
    const tailEnd = args.end - 1;
    const tail = this.text.slice(tailStart, tailEnd);
    const wanted = target.extra ? `, ${target.extra}` : '';
    const sameSoftmax = target.fn === 'softmax' && tail.includes('dim');
    if (!sameSoftmax && tail.trim() !== wanted.trim() && !(wanted === '' && (tail.trim() === '' || tail.trim() === ','))) {
      edits.push({ span: this.span(tailStart, tailEnd), newText: wanted });
    }
    return edits;
  }

  private methodEdits(call: CallFacts, activation: ActivationSpec): TextEdit[] | { error: string } {
    const object = call.calleeObject;
    const method = call.calleeAttribute;
    const args = call.arguments;
    if (!object || !method || !args) return { error: `Could not read \`${this.textOf(call)}\`.` };
    if (activation.name === 'linear') return [{ span: this.spanOf(call), newText: this.textOf(object) }];
    const target = functionalCall(activation);
    if (!target) return { error: `${activation.name} has no functional form in PyTorch; use the nn.${moduleCall(activation)?.cls ?? 'Module'} module.` };
    if (TENSOR_METHODS.has(target.fn) && target.extra === '') {
      return [{ span: this.span(method.start, args.end), newText: `${target.fn}()` }];
    }
    const functional = this.functionalPrefix();
    const extra = target.extra ? `, ${target.extra}` : '';
    return [...functional.edits, { span: this.spanOf(call), newText: `${functional.prefix}${target.fn}(${this.textOf(object)}${extra})` }];
  }

  /** An `nn.init` statement for the owner's weight, or a note when the layer has no reachable path. */
  initializerEdits(model: ModelSpec, owner: LayerSpec, targets: readonly InitTarget[]): { edits: TextEdit[] } | { note: string } | { error: string } {
    for (const t of targets) {
      if (!INIT_CALLS[t.initializer]) return { error: `The initialiser ${t.initializer} has no torch.nn.init equivalent here.` };
    }
    const definition = this.torch.definition;
    const staleModel = { error: `The source of model \`${model.name}\` changed since it was analysed; run the diagnosis again.` };
    if (!definition || !stillHolds(this.text, definition.source)) return staleModel;
    const segments = owner.name.split('.');
    if (segments.some((s) => !isIdentifierOrIndex(s))) {
      return { note: `Layer \`${owner.name}\` has no module path to initialise; add the initialisation by hand.` };
    }
    const access = (base: string) => base + segments.map((s) => (isIndex(s) ? `[${s}]` : `.${s}`)).join('');
    const init = this.initPrefix();
    let anchor: CheckedRange | undefined;
    let base: string;
    if (definition.kind === 'class') {
      const initFn = definition.init;
      if (!initFn) return { note: `Class \`${model.name}\` has no \`__init__\` to add the initialisation to.` };
      base = initFn.self;
      const statements = initFn.statements;
      anchor = lastRelevant(statements, (s) => s.assigns === `${initFn.self}.${segments[0]}`);
      anchor ??= statements[statements.length - 1];
    } else {
      const binding = definition.binding;
      if (!binding) {
        return { note: `Layer \`${owner.name}\` belongs to an nn.Sequential that is not bound to a name, so its initialisation cannot be added automatically; only the activation was changed.` };
      }
      if (!binding.statements.every((s) => stillHolds(this.text, s))) return staleModel;
      base = binding.name;
      anchor = lastRelevant(binding.statements, (_s, i) => i === 0);
    }
    if (!anchor) return { note: 'No place to add the initialisation was found.' };
    const { start, end } = anchor;
    const lineStart = this.text.lastIndexOf('\n', start - 1) + 1;
    const indent = this.text.slice(lineStart, start);
    const lines = targets.map((t) => `\n${indent}${init.prefix}${INIT_CALLS[t.initializer]!(`${access(base)}.${t.param}`)}`).join('');
    return { edits: [...init.edits, { span: this.span(end, end), newText: lines }] };
  }

  /** How torch.nn classes are written here (`nn.`, `torch.nn.`), with an import when the file has no name for them. */
  private nnPrefix(like?: string): { prefix: string; edits: TextEdit[] } {
    if (like && like.includes('.')) {
      const prefix = like.slice(0, like.lastIndexOf('.') + 1);
      if (this.resolve(prefix.slice(0, -1).split('.')).join('.') === 'torch.nn') return { prefix, edits: [] };
    }
    const nn = this.localFor('torch.nn');
    if (nn) return { prefix: `${nn}.`, edits: [] };
    const torch = this.localFor('torch');
    if (torch) return { prefix: `${torch}.nn.`, edits: [] };
    return { prefix: 'nn.', edits: this.importLine('import torch.nn as nn') };
  }

  batchNormEdits(model: ModelSpec, layer: LayerSpec, owner: LayerSpec, taken: Set<string>): TextEdit[] | { error: string } {
    const stale = { error: `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.` };
    const features = owner.kind === 'dense' ? owner.units : owner.filters;
    if (features === undefined) return { error: `The width of \`${owner.name}\` is unknown.` };
    const cls = owner.kind === 'conv2d' ? 'BatchNorm2d' : 'BatchNorm1d';
    const site = this.site(layer);
    if (!site) return stale;
    const call = site.call;
    const calleeText = this.text.slice(layer.source.calleeSpan?.start.offset ?? 0, layer.source.calleeSpan?.end.offset ?? 0);
    // 1. A module inside nn.Sequential(...): a new item before it.
    if (site.site === 'call' && site.argumentOf !== undefined) {
      if (!/(^|\.)Sequential$/.test(site.argumentOf.replace(/\s/g, ''))) return { error: `\`${layer.name}\` is not an item of nn.Sequential(...); add the BatchNorm by hand.` };
      const nn = this.nnPrefix(calleeText);
      const placement = placementOf(this.text, layer.source.span, 'python');
      if ('error' in placement) return placement;
      return [...nn.edits, ...layersBefore(this.text, layer.source.span, [`${nn.prefix}${cls}(${features})`], placement, 'python', this.positions)];
    }
    // 2. In a class: the activation's input in forward gets wrapped.
    const definition = this.torch.definition;
    if (definition?.kind !== 'class') return { error: `Model \`${model.name}\` is not a class or an nn.Sequential; add the BatchNorm by hand.` };
    if (!stillHolds(this.text, definition.source)) return { error: `The source of model \`${model.name}\` changed since it was analysed; run the diagnosis again.` };
    let input: TextRange | undefined;
    if (site.site === 'callee') {
      const calleeParts = this.textOf(call.callee).split('.');
      const object = call.calleeObject;
      const isMethod = object !== undefined && !this.isModuleClass(call.callee) && !['torch', 'F', 'nn'].includes(calleeParts[0]) && this.resolve(calleeParts)[0] !== 'torch';
      input = isMethod ? object : call.firstPositional;
    } else if (call.calleeAttribute !== undefined && call.calleeAttribute.start === layer.source.calleeSpan?.start.offset && !this.isModuleClass(call.callee)) {
      // A tensor method, `x.sigmoid()`: its object is the input.
      input = call.calleeObject;
    } else {
      // A module attribute, `self.act = nn.ReLU()`, called once in forward.
      const uses = site.forwardUses ?? [];
      if (uses.length !== 1) return { error: `The activation module of \`${layer.name}\` is not called exactly once in forward; add the BatchNorm by hand.` };
      if (!stillHolds(this.text, uses[0])) return stale;
      input = uses[0].firstPositional;
    }
    if (!input) return { error: `Could not find the input of \`${layer.name}\` in forward.` };
    const initFn = definition.init;
    if (!initFn) return { error: `Class \`${model.name}\` has no \`__init__\` to define the BatchNorm in.` };
    const self = initFn.self;
    const forwardSelf = definition.forwardSelf ?? 'self';
    const top = owner.name.split('.')[0];
    const anchor = [...initFn.statements].reverse().find((s) => s.assigns === `${self}.${top}`);
    if (!anchor) return { error: `\`${self}.${top} = ...\` was not found in \`__init__\`; add the BatchNorm by hand.` };
    const members = new Set(definition.memberNames);
    let k = 1;
    while (taken.has(`bn${k}`) || members.has(`bn${k}`)) k++;
    const name = `bn${k}`;
    taken.add(name);
    const lineStart = this.text.lastIndexOf('\n', anchor.start - 1) + 1;
    const indent = this.text.slice(lineStart, anchor.start);
    const nn = this.nnPrefix();
    const end = anchor.end;
    return [
      ...nn.edits,
      { span: this.span(end, end), newText: `\n${indent}${self}.${name} = ${nn.prefix}${cls}(${features})` },
      { span: this.span(input.start, input.start), newText: `${forwardSelf}.${name}(` },
      { span: this.span(input.end, input.end), newText: ')' },
    ];
  }

  private initPrefix(): { prefix: string; edits: TextEdit[] } {
    const init = this.localFor('torch.nn.init');
    if (init) return { prefix: `${init}.`, edits: [] };
    const nn = this.localFor('torch.nn');
    if (nn) return { prefix: `${nn}.init.`, edits: [] };
    const torch = this.localFor('torch');
    if (torch) return { prefix: `${torch}.nn.init.`, edits: [] };
    return { prefix: 'nn.init.', edits: this.importLine('import torch.nn as nn') };
  }
}

/** The last statement that defines the layer or initialises weights (later ones would override ours). */
function lastRelevant(statements: readonly TorchStatementFacts[], defines: (s: TorchStatementFacts, index: number) => boolean): TorchStatementFacts | undefined {
  let anchor: TorchStatementFacts | undefined;
  statements.forEach((statement, index) => {
    if (defines(statement, index)) anchor = statement;
    else if (anchor && statement.initialises) anchor = statement;
  });
  return anchor;
}
