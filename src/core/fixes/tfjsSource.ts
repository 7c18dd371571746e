/**
 * Activation-swap edits for TensorFlow.js source (format 'tfjs-source'), from the spans the
 * tfjsSource loader records: `activation: 'sigmoid'` values are replaced (keeping the quote
 * style), missing `activation` / `kernelInitializer` options are inserted into the layer's
 * options object, and standalone activation layers (`tf.layers.activation`, `leakyReLU`, `elu`,
 * `reLU`, `prelu`, `softmax`) are rewritten in place with the file's own `tf.layers.` prefix.
 * TF.js's `activation` option takes strings only, so Leaky ReLU / PReLU / ELU(α≠1) on a
 * Dense/Conv layer are refused with advice (add a layer after it).
 */
import { hasKernel, type ActivationSpec, type InitializerName, type LayerSpec, type ModelSpec, type SourceSpan, PositionIndex } from '../model';
import type { ActivationSwap, TextEdit } from '../fixes';

const TFJS_ACTIVATION_STRINGS: Partial<Record<ActivationSpec['name'], string>> = {
  linear: 'linear',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu: 'relu',
  relu6: 'relu6',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  hardSigmoid: 'hardSigmoid',
  softmax: 'softmax',
  swish: 'swish',
  mish: 'mish',
  gelu: 'gelu',
};

const TFJS_INITIALIZERS: Partial<Record<InitializerName, string>> = {
  glorotUniform: 'glorotUniform',
  glorotNormal: 'glorotNormal',
  heUniform: 'heUniform',
  heNormal: 'heNormal',
  lecunUniform: 'leCunUniform',
  lecunNormal: 'leCunNormal',
  zeros: 'zeros',
  ones: 'ones',
  orthogonal: 'orthogonal',
  randomNormal: 'randomNormal',
  randomUniform: 'randomUniform',
  truncatedNormal: 'truncatedNormal',
};

function activationString(a: ActivationSpec): string | undefined {
  if (a.name === 'elu') return (a.alpha ?? 1) === 1 ? 'elu' : undefined;
  return TFJS_ACTIVATION_STRINGS[a.name];
}

function slice(text: string, span: SourceSpan | undefined): string {
  return span ? text.slice(span.start.offset, span.end.offset) : '';
}

function number(value: number): string {
  return String(value);
}

/** The edits that switch layer `layerIndex` of a TF.js source model to `swap`. */
export function tfjsSwapEdits(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TextEdit[] | { error: string } {
  const layer = model.layers[layerIndex];
  if (!layer) return { error: `Model \`${model.name}\` has no layer ${layerIndex}.` };
  const positions = new PositionIndex(text);
  const stale = staleLayer(text, layer);
  if (stale) return { error: stale };
  const edits: TextEdit[] = [];
  const insertions = new Map<LayerSpec, string[]>();
  const insert = (owner: LayerSpec, option: string): void => {
    insertions.set(owner, [...(insertions.get(owner) ?? []), option]);
  };
  const quote = (span: SourceSpan | undefined): string => (slice(text, span).startsWith('"') ? '"' : "'");
  const target = activationString(swap.activation);

  if (layer.kind === 'activation') {
    const callee = slice(text, layer.source.calleeSpan);
    const prefix = callee.includes('.') ? callee.slice(0, callee.lastIndexOf('.') + 1) : '';
    if (target && callee.endsWith('activation') && layer.source.activationValueSpan) {
      edits.push({ span: layer.source.activationValueSpan, newText: `${quote(layer.source.activationValueSpan)}${target}${quote(layer.source.activationValueSpan)}` });
    } else {
      const a = swap.activation;
      const call =
        target ? `${prefix}activation({ activation: '${target}' })`
        : a.name === 'leakyRelu' ? `${prefix}leakyReLU({ alpha: ${number(a.alpha ?? 0.3)} })`
        : a.name === 'elu' ? `${prefix}elu({ alpha: ${number(a.alpha ?? 1)} })`
        : a.name === 'prelu' ? `${prefix}prelu()`
        : undefined;
      if (!call) return { error: `TensorFlow.js has no ${a.name} activation.` };
      edits.push({ span: layer.source.span, newText: call });
    }
  } else if (hasKernel(layer.kind)) {
    if (!target) {
      return { error: `TF.js's \`activation\` option takes a string, and ${swap.activation.name} has none here; add a \`tf.layers\` activation layer after \`${layer.name}\` instead.` };
    }
    const valueSpan = layer.source.activationValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: `${quote(valueSpan)}${target}${quote(valueSpan)}` });
    else insert(layer, `activation: '${target}'`);
  } else {
    return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation to change.` };
  }

  if (swap.kernelInitializer) {
    const initializer = TFJS_INITIALIZERS[swap.kernelInitializer];
    if (!initializer) return { error: `The initialiser ${swap.kernelInitializer} has no TF.js string name.` };
    const owner = hasKernel(layer.kind) ? layer : model.layers.slice(0, layerIndex).reverse().find((l) => hasKernel(l.kind));
    if (owner) {
      const ownerStale = staleLayer(text, owner);
      if (ownerStale) return { error: ownerStale };
      const valueSpan = owner.source.kernelInitializerValueSpan;
      if (valueSpan) edits.push({ span: valueSpan, newText: `'${initializer}'` });
      else insert(owner, `kernelInitializer: '${initializer}'`);
    }
  }

  for (const [owner, options] of insertions) {
    const edit = insertOptions(text, owner, options, positions);
    if ('error' in edit) return edit;
    edits.push(edit);
  }
  return edits;
}

function staleLayer(text: string, layer: LayerSpec): string | undefined {
  const { span, argumentsSpan } = layer.source;
  const stale = `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.`;
  if (span.end.offset > text.length || text[span.end.offset - 1] !== ')') return stale;
  if (argumentsSpan && (text[argumentsSpan.start.offset] !== '(' || text[argumentsSpan.end.offset - 1] !== ')')) return stale;
  return undefined;
}

/** Adds `key: value` options to the layer's options object (or creates one for `()`). */
function insertOptions(text: string, layer: LayerSpec, options: readonly string[], positions: PositionIndex): TextEdit | { error: string } {
  const args = layer.source.argumentsSpan;
  if (!args) return { error: `The options of layer \`${layer.name}\` were not recorded.` };
  const inner = text.slice(args.start.offset + 1, args.end.offset - 1);
  if (inner.trim() === '') return { span: positions.span(args.start.offset + 1, args.end.offset - 1), newText: `{ ${options.join(', ')} }` };
  const close = text.lastIndexOf('}', args.end.offset - 1);
  const open = text.indexOf('{', args.start.offset);
  if (open < 0 || close < open || close < args.start.offset || text.slice(args.start.offset + 1, open).trim() !== '') {
    return { error: `The options of layer \`${layer.name}\` are not an object literal; add ${options.join(', ')} by hand.` };
  }
  let last = close - 1;
  while (last > open && /\s/.test(text[last])) last--;
  if (last === open) return { span: positions.span(open + 1, close), newText: ` ${options.join(', ')} ` };
  const text2 = text[last] === ',' ? ` ${options.join(', ')},` : `, ${options.join(', ')}`;
  return { span: positions.span(last + 1, last + 1), newText: text2 };
}
