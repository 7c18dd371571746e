/**
 * Keras Python edits beyond activation / initialiser swaps (which live in ../fixes.ts):
 * BatchNormalization before an activation, the optimiser's learning rate and the loss.
 *
 * Choices:
 *  - BatchNorm before a Dense/Conv layer's own activation splits the call: `Dense(64,
 *    activation="relu")` becomes `Dense(64)`, `BatchNormalization()`, `Activation("relu")` (a
 *    parameterised activation becomes its layer, `LeakyReLU(0.01)`), each a new list item on its
 *    own line with the file's indentation, new `model.add(...)` lines, or nested calls in the
 *    functional API (`Activation("relu")(BatchNormalization()(Dense(64)(x)))`). Before a
 *    standalone activation layer, one `BatchNormalization()` is inserted the same way.
 *  - The learning rate replaces the stated number, or is added as `learning_rate=` to the
 *    optimiser's call; a string optimiser (`optimizer="adam"`) becomes the class,
 *    `keras.optimizers.Adam(learning_rate=0.0001)`, written with the names the file imports.
 *  - The loss is written as Keras' string when the loss takes probabilities, as the class with
 *    `from_logits=True` when it takes logits.
 */
import { hasKernel, PositionIndex, type ModelSpec, type OptimizerName } from '../model';
import { insertPythonArguments, kerasActivation, type TextEdit } from './edits';
import { activationExpression, KerasNames } from './kerasSwap';
import type { LossChange } from '../analysis/types';
import { layersAfter, layersBefore, placementOf, quoteOf, rateLiteral, removeArgument } from './layout';

const KERAS_OPTIMIZER_CLASSES: Readonly<Record<OptimizerName, string>> = {
  sgd: 'SGD',
  adam: 'Adam',
  adamw: 'AdamW',
  rmsprop: 'RMSprop',
  adadelta: 'Adadelta',
  adagrad: 'Adagrad',
  adamax: 'Adamax',
  nadam: 'Nadam',
};

/** BatchNormalization between each listed layer's linear part and its activation. */
export function batchNormEditsKeras(text: string, model: ModelSpec, layerIndices: readonly number[]): TextEdit[] | { error: string } {
  const positions = new PositionIndex(text);
  const edits: TextEdit[] = [];
  for (const index of layerIndices) {
    const layer = model.layers[index];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${index}.` };
    const { span } = layer.source;
    if (span.end.offset > text.length || text[span.end.offset - 1] !== ')') {
      return { error: `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.` };
    }
    const placement = placementOf(text, span, 'python');
    if ('error' in placement) return { error: `Layer \`${layer.name}\`: ${placement.error}` };
    const names = new KerasNames(text, model, layer);
    const bn = names.layerReference('BatchNormalization');
    if ('error' in bn) return bn;
    edits.push(...bn.importEdits);
    const batchNorm = `${bn.prefix}BatchNormalization()`;
    if (layer.kind === 'activation') {
      edits.push(...layersBefore(text, span, [batchNorm], placement, 'python', positions));
      continue;
    }
    if (!hasKernel(layer.kind) || layer.activation.name === 'linear') return { error: `Layer \`${layer.name}\` has no activation to put BatchNormalization before.` };
    const argument = layer.source.activationArgumentSpan;
    if (!argument) return { error: `The activation argument of layer \`${layer.name}\` was not recorded; split the layer by hand.` };
    const target = kerasActivation(layer.activation);
    let activationLayer: string;
    if (target.string) {
      const reference = names.layerReference('Activation');
      if ('error' in reference) return reference;
      edits.push(...reference.importEdits);
      const q = quoteOf(text, layer);
      activationLayer = `${reference.prefix}Activation(${q}${target.string}${q})`;
    } else {
      if (target.needsConstant !== undefined) return { error: `Layer \`${layer.name}\`'s activation cannot be written as a layer here; split it by hand.` };
      const expression = activationExpression(layer.activation, names);
      if ('error' in expression) return expression;
      edits.push(...expression.importEdits);
      activationLayer = expression.text;
    }
    edits.push(removeArgument(text, argument, 'python', positions));
    edits.push(...layersAfter(text, span, [batchNorm, activationLayer], placement, 'python', positions));
  }
  return edits;
}

/** Sets the learning rate of the model's stated optimiser to `value`. */
export function learningRateEditsKeras(text: string, model: ModelSpec, value: number): TextEdit[] | { error: string } {
  const optimizer = model.training?.optimizer;
  if (!optimizer) return { error: 'The file states no optimiser for this model; set the learning rate where it is trained.' };
  const positions = new PositionIndex(text);
  const stated = text.slice(optimizer.span.start.offset, optimizer.span.end.offset);
  if (stated !== optimizer.text) return { error: 'The optimiser changed since it was analysed; run the diagnosis again.' };
  const literal = rateLiteral(value);
  if (optimizer.learningRateValueSpan) return [{ span: optimizer.learningRateValueSpan, newText: literal }];
  if (optimizer.argumentsSpan) {
    const edit = insertPythonArguments(text, optimizer.argumentsSpan, [`learning_rate=${literal}`], positions, 'the optimiser');
    return 'error' in edit ? edit : [edit];
  }
  // A string: `optimizer="adam"` becomes the class with the rate.
  const className = KERAS_OPTIMIZER_CLASSES[optimizer.name];
  const names = new KerasNames(text, model, model.layers[0]);
  const reference = names.moduleReference('optimizers', className);
  if ('error' in reference) return reference;
  return [...reference.importEdits, { span: optimizer.span, newText: `${reference.prefix}${className}(learning_rate=${literal})` }];
}

const KERAS_LOSS_STRINGS: Readonly<Record<LossChange['kind'], string>> = {
  categoricalCrossentropy: 'categorical_crossentropy',
  binaryCrossentropy: 'binary_crossentropy',
  meanSquaredError: 'mean_squared_error',
  meanAbsoluteError: 'mean_absolute_error',
  huber: 'huber',
};

const KERAS_LOSS_CLASSES: Readonly<Record<LossChange['kind'], string>> = {
  categoricalCrossentropy: 'CategoricalCrossentropy',
  binaryCrossentropy: 'BinaryCrossentropy',
  meanSquaredError: 'MeanSquaredError',
  meanAbsoluteError: 'MeanAbsoluteError',
  huber: 'Huber',
};

/** Rewrites the model's stated loss as `loss`. */
export function lossEditsKeras(text: string, model: ModelSpec, loss: LossChange): TextEdit[] | { error: string } {
  const stated = model.training?.loss;
  if (!stated) return { error: 'The file states no loss for this model; change it where the model is compiled.' };
  if (text.slice(stated.span.start.offset, stated.span.end.offset) !== stated.text) return { error: 'The loss changed since it was analysed; run the diagnosis again.' };
  const sparse = loss.sparse && loss.kind === 'categoricalCrossentropy';
  if (loss.input === 'logits' || loss.input === 'logProbabilities') {
    if (loss.input === 'logProbabilities') return { error: 'Keras has no loss on log-probabilities; use logits (from_logits=True) instead.' };
    const className = sparse ? 'SparseCategoricalCrossentropy' : KERAS_LOSS_CLASSES[loss.kind];
    const reference = new KerasNames(text, model, model.layers[0]).moduleReference('losses', className);
    if ('error' in reference) return reference;
    return [...reference.importEdits, { span: stated.span, newText: `${reference.prefix}${className}(from_logits=True)` }];
  }
  const name = sparse ? 'sparse_categorical_crossentropy' : KERAS_LOSS_STRINGS[loss.kind];
  const q = stated.text.startsWith("'") ? "'" : stated.text.startsWith('"') ? '"' : quoteOf(text, undefined);
  return [{ span: stated.span, newText: `${q}${name}${q}` }];
}
