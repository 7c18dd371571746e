/**
 * Activation swaps as exact text edits on PyTorch Python source, from the spans the PyTorch
 * loader recorded. Pure and synchronous (it re-reads the file with the already-initialised
 * tree-sitter parser).
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
import type { Node, Tree } from 'web-tree-sitter';
import { hasKernel, PositionIndex, type ActivationSpec, type InitializerName, type LayerSpec, type ModelSpec, type SourceSpan } from '../model';
import type { ActivationSwap, TextEdit } from './edits';
import { collectImports, type ImportTable } from '../python/imports';
import { getReadyParser } from '../parse/treeSitter';
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
  const parser = getReadyParser('python');
  const tree = parser?.parse(text) ?? undefined;
  if (!tree) return { error: 'The Python parser is not ready; load the file first.' };
  try {
    const file = new TorchSource(text, tree);
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
    return dedupe(result);
  } finally {
    tree.delete();
  }
}

/** The edit that sets the kernel initialiser of a Dense/Conv layer of a PyTorch model (an `nn.init` statement). */
export function kernelInitializerEditsTorch(text: string, model: ModelSpec, layerIndex: number, initializer: InitializerName): TorchEdits | { error: string } {
  const layer = model.layers[layerIndex];
  if (!layer || !hasKernel(layer.kind)) return { error: `Layer ${layerIndex} of \`${model.name}\` has no kernel.` };
  const tree = getReadyParser('python')?.parse(text) ?? undefined;
  if (!tree) return { error: 'The Python parser is not ready; load the file first.' };
  try {
    const init = new TorchSource(text, tree).initializerEdits(model, layer, [{ layer, param: 'weight', initializer }]);
    if ('error' in init) return init;
    if ('note' in init) return Object.assign([] as TextEdit[], { note: init.note });
    return init.edits;
  } finally {
    tree.delete();
  }
}

/**
 * BatchNorm between each listed activation and the Linear/Conv before it: inside an
 * `nn.Sequential(...)` a `nn.BatchNorm1d(n),` (BatchNorm2d after a Conv2d) is inserted before the
 * activation module; in a class, `self.bnK = nn.BatchNorm1d(n)` goes into `__init__` after the
 * layer's definition and is applied in `forward` to the activation's input
 * (`torch.relu(self.bn1(self.fc1(x)))`). Names never clash with the class's attributes.
 */
export function batchNormEditsTorch(text: string, model: ModelSpec, layerIndices: readonly number[]): TextEdit[] | { error: string } {
  const tree = getReadyParser('python')?.parse(text) ?? undefined;
  if (!tree) return { error: 'The Python parser is not ready; load the file first.' };
  try {
    const file = new TorchSource(text, tree);
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
    return edits;
  } finally {
    tree.delete();
  }
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

class TorchSource {
  private readonly positions: PositionIndex;
  private readonly imports: ImportTable;
  private readonly root: Node;

  constructor(
    private readonly text: string,
    tree: Tree,
  ) {
    this.positions = new PositionIndex(text);
    this.root = tree.rootNode;
    this.imports = collectImports(this.root);
  }

  private nodeAt(span: SourceSpan): Node | undefined {
    const node = this.root.descendantForIndex(span.start.offset, Math.max(span.start.offset, span.end.offset - 1));
    for (let current: Node | null = node; current; current = current.parent) {
      if (current.startIndex === span.start.offset && current.endIndex === span.end.offset) return current;
      if (current.startIndex < span.start.offset) break;
    }
    return undefined;
  }

  private span(start: number, end: number): SourceSpan {
    return this.positions.span(start, end);
  }

  /** Local name bound to a dotted torch path, e.g. 'nn' for torch.nn, 'F' for torch.nn.functional. */
  private localFor(path: string): string | undefined {
    for (const [local, target] of this.imports) if (target.join('.') === path) return local;
    return undefined;
  }

  private resolve(parts: readonly string[]): string[] {
    const imported = this.imports.get(parts[0]);
    if (imported) return [...imported, ...parts.slice(1)];
    if (parts[0] === 'nn') return ['torch', 'nn', ...parts.slice(1)];
    if (parts[0] === 'F') return ['torch', 'nn', 'functional', ...parts.slice(1)];
    return [...parts];
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
    let end = -1;
    for (const statement of this.root.namedChildren) {
      if (statement && (statement.type === 'import_statement' || statement.type === 'import_from_statement')) end = statement.endIndex;
    }
    return end >= 0 ? [{ span: this.span(end, end), newText: `\n${line}` }] : [{ span: this.span(0, 0), newText: `${line}\n` }];
  }

  activationEdits(layer: LayerSpec, activation: ActivationSpec): TextEdit[] | { error: string } {
    const stale = { error: `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.` };
    const node = this.nodeAt(layer.source.span);
    if (!node) return stale;
    if (node.type === 'call') {
      const callee = node.childForFieldName('function');
      if (!callee) return stale;
      // A tensor method, `x.sigmoid()`.
      const calleeSpan = layer.source.calleeSpan;
      if (callee.type === 'attribute' && calleeSpan && callee.childForFieldName('attribute')?.startIndex === calleeSpan.start.offset && !this.isModuleClass(callee)) {
        return this.methodEdits(node, callee, activation);
      }
      return this.moduleEdits(node, callee, activation);
    }
    if (node.type === 'attribute' || node.type === 'identifier') {
      const call = node.parent;
      if (call?.type !== 'call' || call.childForFieldName('function')?.id !== node.id) return stale;
      return this.functionalEdits(call, node, activation);
    }
    return stale;
  }

  private isModuleClass(callee: Node): boolean {
    const parts = callee.text.split('.').map((p) => p.trim());
    const path = this.resolve(parts);
    return path[0] === 'torch' && path[1] === 'nn' && path.length === 3;
  }

  private moduleEdits(call: Node, callee: Node, activation: ActivationSpec): TextEdit[] | { error: string } {
    const target = moduleCall(activation);
    if (!target) return { error: `PyTorch has no activation module for ${activation.name}; use torch.exp in forward.` };
    const calleeText = callee.text;
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
      if (cls) return [{ span: this.span(call.startIndex, call.endIndex), newText: `${cls}(${target.args})` }];
      if (nn) prefix = `${nn}.`;
      else if (torch) prefix = `${torch}.nn.`;
      else {
        prefix = '';
        edits.push(...this.importLine(`from torch.nn import ${target.cls}`));
      }
    }
    edits.push({ span: this.span(call.startIndex, call.endIndex), newText: `${prefix}${target.cls}(${target.args})` });
    return edits;
  }

  private functionalEdits(call: Node, callee: Node, activation: ActivationSpec): TextEdit[] | { error: string } {
    const args = call.childForFieldName('arguments');
    const input = args?.namedChildren.find((a): a is Node => !!a && a.type !== 'comment' && a.type !== 'keyword_argument');
    if (!args || !input) return { error: `Could not read the arguments of \`${callee.text}\`.` };
    if (activation.name === 'linear') {
      // No activation: the call becomes its input.
      return [{ span: this.span(call.startIndex, call.endIndex), newText: input.text }];
    }
    const target = functionalCall(activation);
    if (!target) return { error: `${activation.name} has no functional form in PyTorch; use the nn.${moduleCall(activation)?.cls ?? 'Module'} module.` };
    const parts = callee.text.split('.').map((p) => p.trim());
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
    edits.push({ span: this.span(callee.startIndex, callee.endIndex), newText: newCallee });
    // Everything after the input argument is rewritten for the new function.
    const tailStart = input.endIndex;
    const tailEnd = args.endIndex - 1;
    const tail = this.text.slice(tailStart, tailEnd);
    const wanted = target.extra ? `, ${target.extra}` : '';
    const sameSoftmax = target.fn === 'softmax' && tail.includes('dim');
    if (!sameSoftmax && tail.trim() !== wanted.trim() && !(wanted === '' && (tail.trim() === '' || tail.trim() === ','))) {
      edits.push({ span: this.span(tailStart, tailEnd), newText: wanted });
    }
    return edits;
  }

  private methodEdits(call: Node, callee: Node, activation: ActivationSpec): TextEdit[] | { error: string } {
    const object = callee.childForFieldName('object');
    const method = callee.childForFieldName('attribute');
    const args = call.childForFieldName('arguments');
    if (!object || !method || !args) return { error: `Could not read \`${call.text}\`.` };
    if (activation.name === 'linear') return [{ span: this.span(call.startIndex, call.endIndex), newText: object.text }];
    const target = functionalCall(activation);
    if (!target) return { error: `${activation.name} has no functional form in PyTorch; use the nn.${moduleCall(activation)?.cls ?? 'Module'} module.` };
    if (TENSOR_METHODS.has(target.fn) && target.extra === '') {
      return [{ span: this.span(method.startIndex, args.endIndex), newText: `${target.fn}()` }];
    }
    const functional = this.functionalPrefix();
    const extra = target.extra ? `, ${target.extra}` : '';
    return [...functional.edits, { span: this.span(call.startIndex, call.endIndex), newText: `${functional.prefix}${target.fn}(${object.text}${extra})` }];
  }

  /** An `nn.init` statement for the owner's weight, or a note when the layer has no reachable path. */
  initializerEdits(model: ModelSpec, owner: LayerSpec, targets: readonly InitTarget[]): { edits: TextEdit[] } | { note: string } | { error: string } {
    for (const t of targets) {
      if (!INIT_CALLS[t.initializer]) return { error: `The initialiser ${t.initializer} has no torch.nn.init equivalent here.` };
    }
    const modelNode = this.nodeAt(model.span);
    if (!modelNode) return { error: `The source of model \`${model.name}\` changed since it was analysed; run the diagnosis again.` };
    const segments = owner.name.split('.');
    if (segments.some((s) => !isIdentifierOrIndex(s))) {
      return { note: `Layer \`${owner.name}\` has no module path to initialise; add the initialisation by hand.` };
    }
    const access = (base: string) => base + segments.map((s) => (isIndex(s) ? `[${s}]` : `.${s}`)).join('');
    const init = this.initPrefix();
    let anchor: Node | undefined;
    let base: string;
    if (modelNode.type === 'class_definition') {
      const initFn = this.findInit(modelNode);
      if (!initFn) return { note: `Class \`${model.name}\` has no \`__init__\` to add the initialisation to.` };
      const self = initFn.childForFieldName('parameters')?.namedChildren.find((p): p is Node => !!p)?.text ?? 'self';
      base = self;
      const body = initFn.childForFieldName('body');
      const statements = (body?.namedChildren ?? []).filter((s): s is Node => !!s && s.type !== 'comment');
      anchor = this.lastRelevant(statements, (s) => this.assignsAttribute(s, `${self}.${segments[0]}`));
      anchor ??= statements[statements.length - 1];
    } else {
      let parent = modelNode.parent;
      while (parent?.type === 'parenthesized_expression') parent = parent.parent;
      const target = parent?.type === 'assignment' ? parent.childForFieldName('left') : undefined;
      const statement = parent?.parent;
      const block = statement?.parent;
      if (target?.type !== 'identifier' || statement?.type !== 'expression_statement' || !block) {
        return { note: `Layer \`${owner.name}\` belongs to an nn.Sequential that is not bound to a name, so its initialisation cannot be added automatically; only the activation was changed.` };
      }
      base = target.text;
      const statements = block.namedChildren.filter((s): s is Node => !!s && s.type !== 'comment' && s.startIndex >= statement.startIndex);
      anchor = this.lastRelevant(statements, (s) => s.id === statement.id, base);
    }
    if (!anchor) return { note: 'No place to add the initialisation was found.' };
    const lineStart = this.text.lastIndexOf('\n', anchor.startIndex - 1) + 1;
    const indent = this.text.slice(lineStart, anchor.startIndex);
    const lines = targets.map((t) => `\n${indent}${init.prefix}${INIT_CALLS[t.initializer]!(`${access(base)}.${t.param}`)}`).join('');
    return { edits: [...init.edits, { span: this.span(anchor.endIndex, anchor.endIndex), newText: lines }] };
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
    const node = this.nodeAt(layer.source.span);
    if (!node) return stale;
    const calleeText = this.text.slice(layer.source.calleeSpan?.start.offset ?? 0, layer.source.calleeSpan?.end.offset ?? 0);
    // 1. A module inside nn.Sequential(...): a new item before it.
    if (node.type === 'call' && node.parent?.type === 'argument_list') {
      const container = node.parent.parent;
      const callee = container?.type === 'call' ? container.childForFieldName('function')?.text ?? '' : '';
      if (!/(^|\.)Sequential$/.test(callee.replace(/\s/g, ''))) return { error: `\`${layer.name}\` is not an item of nn.Sequential(...); add the BatchNorm by hand.` };
      const nn = this.nnPrefix(calleeText);
      const placement = placementOf(this.text, layer.source.span, 'python');
      if ('error' in placement) return placement;
      return [...nn.edits, ...layersBefore(this.text, layer.source.span, [`${nn.prefix}${cls}(${features})`], placement, 'python', this.positions)];
    }
    // 2. In a class: the activation's input in forward gets wrapped.
    const modelNode = this.nodeAt(model.span);
    if (modelNode?.type !== 'class_definition') return { error: `Model \`${model.name}\` is not a class or an nn.Sequential; add the BatchNorm by hand.` };
    let input: Node | undefined;
    if (node.type === 'attribute' || node.type === 'identifier') {
      const call = node.parent;
      if (call?.type !== 'call' || call.childForFieldName('function')?.id !== node.id) return stale;
      const calleeParts = node.text.split('.');
      const object = node.type === 'attribute' ? node.childForFieldName('object') : undefined;
      const isMethod = object !== undefined && object !== null && !this.isModuleClass(node) && !['torch', 'F', 'nn'].includes(calleeParts[0]) && this.resolve(calleeParts)[0] !== 'torch';
      input = isMethod ? object ?? undefined : call.childForFieldName('arguments')?.namedChildren.find((a): a is Node => !!a && a.type !== 'comment' && a.type !== 'keyword_argument');
    } else if (node.type === 'call' && node.childForFieldName('function')?.type === 'attribute' && node.childForFieldName('function')?.childForFieldName('attribute')?.startIndex === layer.source.calleeSpan?.start.offset && !this.isModuleClass(node.childForFieldName('function')!)) {
      // A tensor method, `x.sigmoid()`: its object is the input.
      input = node.childForFieldName('function')?.childForFieldName('object') ?? undefined;
    } else if (node.type === 'call') {
      // A module attribute, `self.act = nn.ReLU()`, called once in forward.
      const assignment = node.parent;
      const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left')?.text.replace(/\s/g, '') : undefined;
      const forward = this.findMethod(modelNode, 'forward');
      const uses = target && forward ? forward.descendantsOfType('call').filter((c): c is Node => !!c && c.childForFieldName('function')?.text.replace(/\s/g, '') === target) : [];
      if (uses.length !== 1) return { error: `The activation module of \`${layer.name}\` is not called exactly once in forward; add the BatchNorm by hand.` };
      input = uses[0].childForFieldName('arguments')?.namedChildren.find((a): a is Node => !!a && a.type !== 'comment' && a.type !== 'keyword_argument');
    }
    if (!input) return { error: `Could not find the input of \`${layer.name}\` in forward.` };
    const initFn = this.findInit(modelNode);
    if (!initFn) return { error: `Class \`${model.name}\` has no \`__init__\` to define the BatchNorm in.` };
    const self = initFn.childForFieldName('parameters')?.namedChildren.find((p): p is Node => !!p)?.text ?? 'self';
    const forward = this.findMethod(modelNode, 'forward');
    const forwardSelf = forward?.childForFieldName('parameters')?.namedChildren.find((p): p is Node => !!p)?.text ?? 'self';
    const top = owner.name.split('.')[0];
    const statements = (initFn.childForFieldName('body')?.namedChildren ?? []).filter((s): s is Node => !!s && s.type !== 'comment');
    const anchor = [...statements].reverse().find((s) => this.assignsAttribute(s, `${self}.${top}`));
    if (!anchor) return { error: `\`${self}.${top} = ...\` was not found in \`__init__\`; add the BatchNorm by hand.` };
    const classText = modelNode.text;
    let k = 1;
    while (taken.has(`bn${k}`) || new RegExp(`\\.bn${k}\\b`).test(classText)) k++;
    const name = `bn${k}`;
    taken.add(name);
    const lineStart = this.text.lastIndexOf('\n', anchor.startIndex - 1) + 1;
    const indent = this.text.slice(lineStart, anchor.startIndex);
    const nn = this.nnPrefix();
    return [
      ...nn.edits,
      { span: this.span(anchor.endIndex, anchor.endIndex), newText: `\n${indent}${self}.${name} = ${nn.prefix}${cls}(${features})` },
      { span: this.span(input.startIndex, input.startIndex), newText: `${forwardSelf}.${name}(` },
      { span: this.span(input.endIndex, input.endIndex), newText: ')' },
    ];
  }

  private findMethod(classNode: Node, name: string): Node | undefined {
    for (const statement of classNode.childForFieldName('body')?.namedChildren ?? []) {
      const definition = statement?.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
      if (definition?.type === 'function_definition' && definition.childForFieldName('name')?.text === name) return definition;
    }
    return undefined;
  }

  /** The last statement that defines the layer or initialises weights (later ones would override ours). */
  private lastRelevant(statements: readonly Node[], defines: (s: Node) => boolean, mentions?: string): Node | undefined {
    let anchor: Node | undefined;
    for (const statement of statements) {
      if (defines(statement)) anchor = statement;
      else if (anchor && this.initialises(statement) && (mentions === undefined || statement.text.includes(mentions))) anchor = statement;
    }
    return anchor;
  }

  private assignsAttribute(statement: Node, target: string): boolean {
    if (statement.type !== 'expression_statement') return false;
    const expression = statement.firstNamedChild;
    if (expression?.type !== 'assignment') return false;
    return expression.childForFieldName('left')?.text.split(' ').join('') === target;
  }

  /** True for statements that (may) initialise weights: nn.init calls, `.apply(...)`, `.normal_()`-style calls, module loops. */
  private initialises(statement: Node): boolean {
    for (const call of statement.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function');
      if (!callee) continue;
      const parts = callee.text.split('.').map((p) => p.trim());
      const path = this.resolve(parts);
      if (path[0] === 'torch' && path[1] === 'nn' && path[2] === 'init') return true;
      const last = parts[parts.length - 1];
      if (['apply', 'normal_', 'uniform_', 'fill_', 'zero_', 'modules'].includes(last)) return true;
    }
    return false;
  }

  private findInit(classNode: Node): Node | undefined {
    for (const statement of classNode.childForFieldName('body')?.namedChildren ?? []) {
      const definition = statement?.type === 'decorated_definition' ? statement.childForFieldName('definition') : statement;
      if (definition?.type === 'function_definition' && definition.childForFieldName('name')?.text === '__init__') return definition;
    }
    return undefined;
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
