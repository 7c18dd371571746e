/**
 * Activation-swap edits for TensorFlow.js source (format 'tfjs-source'), from the spans the
 * tfjsSource loader records: `activation: 'sigmoid'` values are replaced (keeping the quote
 * style), missing `activation` / `kernelInitializer` options are inserted into the layer's
 * options object, and standalone activation layers (`tf.layers.activation`, `leakyReLU`, `elu`,
 * `reLU`, `prelu`, `softmax`) are rewritten in place with the file's own `tf.layers.` prefix.
 * TF.js's `activation` option takes strings only, so Leaky ReLU / PReLU / ELU(α≠1) on a
 * Dense/Conv layer are refused with advice (add a layer after it).
 */
import { hasKernel, type ActivationSpec, type InitializerName, type LayerSpec, type LossKind, type ModelSpec, type OptimizerName, type SourceSpan, PositionIndex } from '../model';
import type { ActivationSwap, TextEdit } from './edits';
import type { LossChange } from '../analysis/types';
import { layersAfter, layersBefore, placementOf, quoteOf, rateLiteral, removeArgument } from './layout';

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

/** The quote the layer's call (else the file) writes strings with; "'" where none is written (JS style guides). */
export function fileQuote(text: string, layer: LayerSpec | undefined): '"' | "'" {
  return quoteOf(text, layer, "'");
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
  const activation = swap.activation;
  const target = activation && activationString(activation);

  if (!activation) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no weights to initialise.` };
  } else if (layer.kind === 'activation') {
    const callee = slice(text, layer.source.calleeSpan);
    const prefix = callee.includes('.') ? callee.slice(0, callee.lastIndexOf('.') + 1) : '';
    if (target && callee.endsWith('activation') && layer.source.activationValueSpan) {
      edits.push({ span: layer.source.activationValueSpan, newText: `${quote(layer.source.activationValueSpan)}${target}${quote(layer.source.activationValueSpan)}` });
    } else {
      const a = activation;
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
      return { error: `TF.js's \`activation\` option takes a string, and ${activation.name} has none here; add a \`tf.layers\` activation layer after \`${layer.name}\` instead.` };
    }
    const valueSpan = layer.source.activationValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: `${quote(valueSpan)}${target}${quote(valueSpan)}` });
    else insert(layer, `activation: '${target}'`);
  } else {
    return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation to change.` };
  }

  if (swap.biasInitializer) {
    const initializer = TFJS_INITIALIZERS[swap.biasInitializer];
    if (!initializer) return { error: `The initialiser ${swap.biasInitializer} has no TF.js string name.` };
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no bias.` };
    if (layer.useBias === false) return { error: `Layer \`${layer.name}\` has no bias (useBias: false).` };
    const q = fileQuote(text, layer);
    const valueSpan = layer.source.biasInitializerValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: `${q}${initializer}${q}` });
    else insert(layer, `biasInitializer: ${q}${initializer}${q}`);
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

// #region BatchNorm, learning rate, loss

const TFJS_OPTIMIZERS: Partial<Record<OptimizerName, string>> = {
  sgd: 'sgd',
  adam: 'adam',
  rmsprop: 'rmsprop',
  adadelta: 'adadelta',
  adagrad: 'adagrad',
  adamax: 'adamax',
};

/**
 * `tf.layers.batchNormalization()` between each listed layer's linear part and its activation:
 * a Dense/Conv layer's `activation` option moves to a new `tf.layers.activation(...)` after the
 * BatchNorm; before a standalone activation layer one BatchNorm is inserted. New list items go
 * on their own lines (or inline, as the list is written), `model.add(...)` gets new statements,
 * `.apply(x)` chains are nested.
 */
export function batchNormEditsTfjs(text: string, model: ModelSpec, layerIndices: readonly number[]): TextEdit[] | { error: string } {
  const positions = new PositionIndex(text);
  const edits: TextEdit[] = [];
  for (const index of layerIndices) {
    const layer = model.layers[index];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${index}.` };
    const stale = staleLayer(text, layer);
    if (stale) return { error: stale };
    const callee = slice(text, layer.source.calleeSpan);
    if (!callee.includes('.')) return { error: `Layer \`${layer.name}\` is called without its \`tf.layers.\` namespace; add \`batchNormalization()\` by hand.` };
    const prefix = callee.slice(0, callee.lastIndexOf('.') + 1);
    const placement = placementOf(text, layer.source.span, 'js');
    if ('error' in placement) return { error: `Layer \`${layer.name}\`: ${placement.error}` };
    const batchNorm = `${prefix}batchNormalization()`;
    if (layer.kind === 'activation') {
      edits.push(...layersBefore(text, layer.source.span, [batchNorm], placement, 'js', positions));
      continue;
    }
    if (!hasKernel(layer.kind) || layer.activation.name === 'linear') return { error: `Layer \`${layer.name}\` has no activation to put BatchNormalization before.` };
    const argument = layer.source.activationArgumentSpan;
    const target = activationString(layer.activation);
    if (!argument || !target) return { error: `The activation of layer \`${layer.name}\` was not recorded as an option; split the layer by hand.` };
    const q = fileQuote(text, layer);
    edits.push(removeArgument(text, argument, 'js', positions));
    edits.push(...layersAfter(text, layer.source.span, [batchNorm, `${prefix}activation({ activation: ${q}${target}${q} })`], placement, 'js', positions));
  }
  return edits;
}

/** The `tf.` namespace the file uses (from a layer's callee, `tf.layers.dense` → `tf.`), or undefined. */
function tfNamespace(text: string, model: ModelSpec): string | undefined {
  for (const layer of model.layers) {
    const callee = slice(text, layer.source.calleeSpan);
    const at = callee.lastIndexOf('.layers.');
    if (at >= 0) return callee.slice(0, at + 1);
  }
  return undefined;
}

/** Sets the stated optimiser's learning rate: the number, the first argument of `tf.train.X(...)`, or `'adam'` → `tf.train.adam(rate)`. */
export function learningRateEditsTfjs(text: string, model: ModelSpec, value: number): TextEdit[] | { error: string } {
  const optimizer = model.training?.optimizer;
  if (!optimizer) return { error: 'The file states no optimiser for this model; set the learning rate where it is trained.' };
  if (slice(text, optimizer.span) !== optimizer.text) return { error: 'The optimiser changed since it was analysed; run the diagnosis again.' };
  const positions = new PositionIndex(text);
  const literal = rateLiteral(value);
  if (optimizer.learningRateValueSpan) return [{ span: optimizer.learningRateValueSpan, newText: literal }];
  if (optimizer.argumentsSpan) {
    const inner = text.slice(optimizer.argumentsSpan.start.offset + 1, optimizer.argumentsSpan.end.offset - 1);
    if (inner.trim() !== '') return { error: 'The optimiser\'s arguments do not start with its learning rate; set it by hand.' };
    return [{ span: positions.span(optimizer.argumentsSpan.start.offset + 1, optimizer.argumentsSpan.end.offset - 1), newText: literal }];
  }
  const factory = TFJS_OPTIMIZERS[optimizer.name];
  if (!factory) return { error: `TensorFlow.js has no tf.train.${optimizer.name}; set the learning rate by hand.` };
  const tf = tfNamespace(text, model);
  if (!tf) return { error: 'Cannot tell how this file refers to the tf namespace; write `tf.train.' + factory + '(' + literal + ')` by hand.' };
  return [{ span: optimizer.span, newText: `${tf}train.${factory}(${literal})` }];
}

const TFJS_LOSSES: Readonly<Record<LossKind, string>> = {
  categoricalCrossentropy: 'categoricalCrossentropy',
  binaryCrossentropy: 'binaryCrossentropy',
  meanSquaredError: 'meanSquaredError',
  meanAbsoluteError: 'meanAbsoluteError',
  huber: 'huberLoss',
};

/** Rewrites the stated loss: a string of `compile`'s loss names, or `tf.losses.*CrossEntropy` for logits. */
export function lossEditsTfjs(text: string, model: ModelSpec, loss: LossChange): TextEdit[] | { error: string } {
  const stated = model.training?.loss;
  if (!stated) return { error: 'The file states no loss for this model; change it where the model is compiled.' };
  if (slice(text, stated.span) !== stated.text) return { error: 'The loss changed since it was analysed; run the diagnosis again.' };
  const sparse = loss.sparse && loss.kind === 'categoricalCrossentropy';
  if (loss.input === 'logits') {
    const tf = tfNamespace(text, model);
    if (!tf || sparse || (loss.kind !== 'categoricalCrossentropy' && loss.kind !== 'binaryCrossentropy')) {
      return { error: 'TensorFlow.js has no such loss on logits for compile(); change the loss by hand.' };
    }
    return [{ span: stated.span, newText: `${tf}losses.${loss.kind === 'binaryCrossentropy' ? 'sigmoidCrossEntropy' : 'softmaxCrossEntropy'}` }];
  }
  if (loss.input === 'logProbabilities') return { error: 'TensorFlow.js has no loss on log-probabilities.' };
  if (loss.kind === 'huber') return { error: 'TensorFlow.js compile() has no Huber loss string; change the loss by hand.' };
  const q = stated.text.startsWith('"') ? '"' : stated.text.startsWith("'") ? "'" : fileQuote(text, undefined);
  return [{ span: stated.span, newText: `${q}${sparse ? 'sparseCategoricalCrossentropy' : TFJS_LOSSES[loss.kind]}${q}` }];
}

// #endregion
