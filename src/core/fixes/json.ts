/**
 * Activation-swap edits for saved-model JSON (Keras `to_json()` configs and TF.js model.json):
 * the layer's `"activation"` value becomes the new string, and `"kernel_initializer"` becomes
 * `{"class_name": "HeNormal", "config": {}}` (Keras) or the TF.js serialisation
 * `{"class_name": "VarianceScaling", "config": {"scale": 2, "mode": "fan_in", ...}}` (tfjs-json).
 * Keys missing from a layer's config are inserted after its `{`. Binary models (.keras, .h5)
 * have no text to edit and are refused. Parameterised activations without a string (Leaky
 * ReLU, PReLU, ELU α≠1) are refused with advice.
 */
import { hasKernel, type ActivationSpec, type InitializerName, type ModelSpec, PositionIndex } from '../model';
import type { ActivationSwap, TextEdit } from './edits';

const ACTIVATION_STRINGS: Partial<Record<ActivationSpec['name'], string>> = {
  linear: 'linear',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu: 'relu',
  relu6: 'relu6',
  selu: 'selu',
  gelu: 'gelu',
  swish: 'swish',
  mish: 'mish',
  softplus: 'softplus',
  softsign: 'softsign',
  hardSigmoid: 'hard_sigmoid',
  exponential: 'exponential',
  softmax: 'softmax',
};

const KERAS_CLASSES: Partial<Record<InitializerName, string>> = {
  glorotUniform: 'GlorotUniform',
  glorotNormal: 'GlorotNormal',
  heUniform: 'HeUniform',
  heNormal: 'HeNormal',
  lecunUniform: 'LecunUniform',
  lecunNormal: 'LecunNormal',
  zeros: 'Zeros',
  ones: 'Ones',
  orthogonal: 'Orthogonal',
};

/** TF.js serialises the He / Glorot / LeCun family as VarianceScaling. */
const TFJS_VARIANCE_SCALING: Partial<Record<InitializerName, { scale: number; mode: string; distribution: string }>> = {
  heNormal: { scale: 2, mode: 'fan_in', distribution: 'normal' },
  heUniform: { scale: 2, mode: 'fan_in', distribution: 'uniform' },
  glorotNormal: { scale: 1, mode: 'fan_avg', distribution: 'normal' },
  glorotUniform: { scale: 1, mode: 'fan_avg', distribution: 'uniform' },
  lecunNormal: { scale: 1, mode: 'fan_in', distribution: 'normal' },
  lecunUniform: { scale: 1, mode: 'fan_in', distribution: 'uniform' },
};

function initializerJson(name: InitializerName, format: ModelSpec['format']): string | undefined {
  if (format === 'tfjs-json') {
    const vs = TFJS_VARIANCE_SCALING[name];
    if (vs) return `{"class_name": "VarianceScaling", "config": {"scale": ${vs.scale}, "mode": "${vs.mode}", "distribution": "${vs.distribution}", "seed": null}}`;
  }
  const className = KERAS_CLASSES[name];
  return className ? `{"class_name": "${className}", "config": {}}` : undefined;
}

/** The edits that switch layer `layerIndex` of a JSON model to `swap`. */
export function jsonSwapEdits(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TextEdit[] | { error: string } {
  if (model.binary) return { error: `Model \`${model.name}\` comes from a binary file (.keras / .h5); change the Python that saved it and save it again.` };
  const layer = model.layers[layerIndex];
  if (!layer) return { error: `Model \`${model.name}\` has no layer ${layerIndex}.` };
  const positions = new PositionIndex(text);
  const { span, argumentsSpan } = layer.source;
  if (span.end.offset > text.length || text[span.start.offset] !== '{' || text[span.end.offset - 1] !== '}' || !argumentsSpan || text[argumentsSpan.start.offset] !== '{') {
    return { error: `The JSON of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.` };
  }
  const activation = swap.activation;
  const target = activation && (activation.name === 'elu' && (activation.alpha ?? 1) === 1 ? 'elu' : ACTIVATION_STRINGS[activation.name]);
  // A config saved with `json.dump(model.to_json(), f)` is the content of a JSON string: its
  // spans cover escaped text (`\"relu\"`), so what is read is unescaped once and what is written escaped.
  const encodedTwice = text.trimStart().startsWith('"');
  const calleeText = text.slice(layer.source.calleeSpan?.start.offset ?? 0, layer.source.calleeSpan?.end.offset ?? 0);
  const className = JSON.parse((encodedTwice && calleeText ? (JSON.parse(`"${calleeText}"`) as string) : calleeText) || '""') as string;
  const edits: TextEdit[] = [];
  const inserts: string[] = [];
  if (!activation) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no weights to initialise.` };
  } else {
    if (!target) return { error: `A saved config has no activation string for ${activation.name}; add a ${activation.name} layer in the Python that builds the model.` };
    if (layer.kind === 'activation' && className !== 'Activation') {
      return { error: `Layer \`${layer.name}\` is a ${className} layer; replace it with {"class_name": "Activation", "config": {"activation": "${target}"}} by hand.` };
    }
    if (layer.kind !== 'activation' && !hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation to change.` };
    const valueSpan = layer.source.activationValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: `"${target}"` });
    else inserts.push(`"activation": "${target}"`);
  }

  if (swap.biasInitializer) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no bias.` };
    if (layer.useBias === false) return { error: `Layer \`${layer.name}\` has no bias ("use_bias": false).` };
    const json = initializerJson(swap.biasInitializer, model.format);
    if (!json) return { error: `The initialiser ${swap.biasInitializer} has no saved-config form here.` };
    if (layer.weights?.bias) return { error: `Model \`${model.name}\` carries trained weights: a new bias initialiser has no effect on a loaded bias; change it in the Python that builds the model.` };
    const valueSpan = layer.source.biasInitializerValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: json });
    else inserts.push(`"bias_initializer": ${json}`);
  }

  if (swap.kernelInitializer) {
    const owner = hasKernel(layer.kind) ? layer : model.layers.slice(0, layerIndex).reverse().find((l) => hasKernel(l.kind));
    const json = initializerJson(swap.kernelInitializer, model.format);
    if (!json) return { error: `The initialiser ${swap.kernelInitializer} has no saved-config form here.` };
    if (owner) {
      const ownerValue = owner.source.kernelInitializerValueSpan;
      if (ownerValue) edits.push({ span: ownerValue, newText: json });
      else if (owner === layer) inserts.push(`"kernel_initializer": ${json}`);
      else if (owner.source.argumentsSpan) {
        const at = owner.source.argumentsSpan.start.offset + 1;
        edits.push({ span: positions.span(at, at), newText: `"kernel_initializer": ${json}, ` });
      }
    }
  }
  if (inserts.length > 0) {
    const at = argumentsSpan.start.offset + 1;
    const empty = text.slice(at, argumentsSpan.end.offset - 1).trim() === '';
    edits.push({ span: positions.span(at, at), newText: empty ? inserts.join(', ') : `${inserts.join(', ')}, ` });
  }
  return encodedTwice ? edits.map((edit) => ({ ...edit, newText: JSON.stringify(edit.newText).slice(1, -1) })) : edits;
}

/** A saved model cannot take a BatchNormalization layer as an edit: why, for every layer list. */
export function batchNormEditsJson(): { error: string } {
  return {
    error: 'A saved model lists its layers with their names, connections and weights; a BatchNormalization layer cannot be inserted into it soundly: add it in the code that builds the model and save again.',
  };
}

/** A saved model holds no learning rate to edit. */
export function learningRateEditsJson(): { error: string } {
  return { error: 'A saved model file does not hold the learning rate the model is trained with; change it in the training code.' };
}

/** A saved model holds no loss to edit. */
export function lossEditsJson(): { error: string } {
  return { error: 'A saved model file does not hold the loss the model is trained with; change it in the training code.' };
}
