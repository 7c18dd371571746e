/**
 * The fix entry points callers use: an activation swap as exact text edits, in the model's own
 * format (dispatched through the format registry, formats.ts), and the shared edit helpers.
 * Each format's edit builder lives in fixes/ (Keras Python: fixes/kerasSwap.ts, fixes/kerasPython.ts).
 * Pure and synchronous.
 */
import type { ModelSpec } from './model';
import { fixesFor } from './formats';
import type { ActivationSwap, TextEdit } from './fixes/edits';

export { applyEdits, describeActivation, insertPythonArguments, kerasActivation, type ActivationSwap, type TextEdit } from './fixes/edits';
export { activationExpression, KerasNames } from './fixes/kerasSwap';
export { quoteOf } from './fixes/layout';

/** The edits that switch layer `layerIndex` of `model` (loaded from `text`) to `swap`. */
export function activationSwapEdits(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): TextEdit[] | { error: string } {
  return fixesFor(model.format).activationSwap(text, model, layerIndex, swap);
}
