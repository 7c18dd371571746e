/**
 * A whole suggestion as one set of text edits: its layer changes (activation, kernel and bias
 * initialisers, BatchNorm before an activation), its learning rate and its loss, in the file's
 * own format. Where the format cannot express a part, the result is `{ error }` with the reason
 * (the suggestion then stays advice): never a partial or broken edit. Pure and synchronous.
 */
import type { LayerChange, Suggestion } from '../analysis/types';
import { kernelOwner } from '../analysis/suggestions';
import { activationSwapEdits, type TextEdit } from '../fixes';
import type { ModelSpec, SourceSpan } from '../model';
import { defaultLearningRate } from '../trainingSetup';
import { fixesFor } from '../formats';

/** The parts of a suggestion that change the source. */
export type SuggestedChange = Pick<Suggestion, 'changes'> & Partial<Pick<Suggestion, 'learningRate' | 'learningRateFactor' | 'loss' | 'dataTransform'>>;

type Edits = TextEdit[] | { error: string };

/** The learning rate a suggestion writes: its own, else the effective one × its factor; undefined when neither is known. */
export function suggestedLearningRate(model: ModelSpec, s: SuggestedChange): number | undefined {
  if (s.learningRate !== undefined) return s.learningRate;
  if (s.learningRateFactor === undefined) return undefined;
  const optimizer = model.training?.optimizer;
  if (!optimizer) return undefined;
  const effective = optimizer.learningRate ?? defaultLearningRate(model.format, optimizer.name);
  return Number((effective * s.learningRateFactor).toPrecision(12));
}

/** Every edit of a suggestion, or why it cannot be applied as an edit in this file. */
export function suggestionEdits(text: string, model: ModelSpec, s: SuggestedChange): Edits {
  if (s.dataTransform) return { error: 'This suggestion changes the input data, not the model source: apply it where the data is loaded.' };
  if (model.binary) return { error: `Model \`${model.name}\` comes from a binary file (.keras / .h5); change the Python that saved it and save it again.` };
  const edits: TextEdit[] = [];
  const add = (result: Edits): string | undefined => {
    if ('error' in result) return result.error;
    edits.push(...result);
    return undefined;
  };
  let error = add(layerChangeEdits(text, model, s.changes));
  if (error) return { error };
  if (s.learningRateFactor !== undefined || s.learningRate !== undefined) {
    if (!model.training?.optimizer) {
      return { error: 'The file states no optimiser for this model, so the learning rate cannot be edited here: lower it where the model is trained.' };
    }
    const value = suggestedLearningRate(model, s);
    if (value === undefined) return { error: 'The learning rate to write is unknown.' };
    error = add(learningRateEdits(text, model, value));
    if (error) return { error };
  }
  if (s.loss) {
    error = add(lossEdits(text, model, s.loss));
    if (error) return { error };
  }
  return mergeEdits(text, edits);
}

/** The edits for a set of layer changes (activation, initialisers, BatchNorm). */
export function layerChangeEdits(text: string, model: ModelSpec, changes: readonly LayerChange[]): Edits {
  const byLayer = new Map(changes.map((c) => [c.layerIndex, c]));
  const consumed = new Set<number>();
  const edits: TextEdit[] = [];
  const collect = (result: Edits): string | undefined => {
    if ('error' in result) return result.error;
    edits.push(...result);
    return undefined;
  };
  for (const change of changes) {
    if (!change.activation) continue;
    const layer = model.layers[change.layerIndex];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${change.layerIndex}.` };
    const owner = kernelOwner(model, layer);
    const ownerInit = owner && owner.index !== layer.index ? byLayer.get(owner.index)?.kernelInitializer : undefined;
    if (owner && ownerInit) consumed.add(owner.index);
    const error = collect(activationSwapEdits(text, model, change.layerIndex, {
      activation: change.activation,
      kernelInitializer: (change.kernelInitializer ?? ownerInit)?.name,
      biasInitializer: change.biasInitializer?.name,
    }));
    if (error) return { error };
  }
  for (const change of changes) {
    if (change.activation) continue;
    const kernel = consumed.has(change.layerIndex) ? undefined : change.kernelInitializer;
    if (!kernel && !change.biasInitializer) continue;
    const error = collect(activationSwapEdits(text, model, change.layerIndex, { kernelInitializer: kernel?.name, biasInitializer: change.biasInitializer?.name }));
    if (error) return { error };
  }
  const batchNorm = changes.filter((c) => c.batchNormBeforeActivation).map((c) => c.layerIndex);
  if (batchNorm.length > 0) {
    const error = collect(batchNormEdits(text, model, batchNorm));
    if (error) return { error };
  }
  return mergeEdits(text, edits);
}

export function batchNormEdits(text: string, model: ModelSpec, layerIndices: readonly number[]): Edits {
  return fixesFor(model.format).batchNorm(text, model, layerIndices);
}

export function learningRateEdits(text: string, model: ModelSpec, value: number): Edits {
  return fixesFor(model.format).learningRate(text, model, value);
}

export function lossEdits(text: string, model: ModelSpec, loss: NonNullable<Suggestion['loss']>): Edits {
  return fixesFor(model.format).loss(text, model, loss);
}

function sameSpan(a: SourceSpan, b: SourceSpan): boolean {
  return a.start.offset === b.start.offset && a.end.offset === b.end.offset;
}

/**
 * Drops no-op and duplicate edits (layers repeated from one call give identical edits), joins
 * different insertions at one point (two import lines, two new arguments) in the order they
 * were made, and refuses edits that overlap with different text.
 */
export function mergeEdits(text: string, edits: readonly TextEdit[]): Edits {
  const sorted = edits
    .map((edit, order) => ({ edit, order }))
    .filter(({ edit: e }) => !(e.span.end.offset > e.span.start.offset && text.slice(e.span.start.offset, e.span.end.offset) === e.newText))
    .sort((a, b) => a.edit.span.start.offset - b.edit.span.start.offset || a.edit.span.end.offset - b.edit.span.end.offset || a.order - b.order)
    .map(({ edit }) => edit);
  const out: TextEdit[] = [];
  const seen = new Set<string>();
  for (const edit of sorted) {
    const key = `${edit.span.start.offset}:${edit.span.end.offset}:${edit.newText}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const previous = out[out.length - 1];
    const insertion = edit.span.start.offset === edit.span.end.offset;
    if (previous && insertion && sameSpan(previous.span, edit.span)) {
      out[out.length - 1] = { span: previous.span, newText: previous.newText + edit.newText };
      continue;
    }
    if (previous && edit.span.start.offset < previous.span.end.offset) {
      return { error: 'The changes overlap in the source; apply them one at a time.' };
    }
    out.push(edit);
  }
  return out;
}
