/**
 * Turns a suggestion's model-wide change (one activation and/or initialiser per layer) into one
 * set of text edits with core/fixes.ts, and into a WorkspaceEdit. Layers written once in the
 * source but repeated (a comprehension, `* n`) produce identical edits: those are merged.
 */
import * as vscode from 'vscode';
import type { ModelSpec, SourceSpan } from '../core/model';
import { activationSwapEdits, type TextEdit } from '../core/fixes';
import { kernelOwner } from '../core/analysis/suggestions';
import type { LayerChange } from '../core/analysis/types';
import { toRange } from './spans';

/** The edits for a set of layer changes on `text`, or why they cannot be made. */
export function editsForChanges(text: string, model: ModelSpec, changes: readonly LayerChange[]): TextEdit[] | { error: string } {
  const byLayer = new Map(changes.map((c) => [c.layerIndex, c]));
  const consumedInitializers = new Set<number>();
  const edits: TextEdit[] = [];
  const collect = (result: TextEdit[] | { error: string }): string | undefined => {
    if ('error' in result) return result.error;
    edits.push(...result);
    return undefined;
  };
  if (changes.some((c) => c.batchNormBeforeActivation)) {
    return { error: 'Inserting BatchNormalization layers is not available as a quick fix: add one between each listed layer and its activation.' };
  }
  for (const change of changes) {
    if (!change.activation) continue;
    const layer = model.layers[change.layerIndex];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${change.layerIndex}.` };
    const owner = kernelOwner(model, layer);
    const ownerInit = owner ? byLayer.get(owner.index)?.kernelInitializer : undefined;
    const init = change.kernelInitializer ?? ownerInit;
    if (owner && ownerInit) consumedInitializers.add(owner.index);
    const error = collect(activationSwapEdits(text, model, change.layerIndex, { activation: change.activation, kernelInitializer: init?.name }));
    if (error) return { error };
  }
  for (const change of changes) {
    if (change.biasInitializer) return { error: 'Changing a bias initialiser is not available as a quick fix yet.' };
    if (change.activation || !change.kernelInitializer || consumedInitializers.has(change.layerIndex)) continue;
    // Initialiser only: keep the layer's activation (the edit rewrites it to itself).
    const layer = model.layers[change.layerIndex];
    if (!layer) return { error: `Model \`${model.name}\` has no layer ${change.layerIndex}.` };
    const error = collect(activationSwapEdits(text, model, change.layerIndex, { activation: layer.activation, kernelInitializer: change.kernelInitializer.name }));
    if (error) return { error };
  }
  return mergeEdits(text, edits);
}

function sameSpan(a: SourceSpan, b: SourceSpan): boolean {
  return a.start.offset === b.start.offset && a.end.offset === b.end.offset;
}

/** Drops no-op and duplicate edits; refuses edits that overlap with different text. */
export function mergeEdits(text: string, edits: readonly TextEdit[]): TextEdit[] | { error: string } {
  const sorted = edits
    .filter((e) => !(e.span.end.offset > e.span.start.offset && text.slice(e.span.start.offset, e.span.end.offset) === e.newText))
    .sort((a, b) => a.span.start.offset - b.span.start.offset || a.span.end.offset - b.span.end.offset);
  const out: TextEdit[] = [];
  for (const edit of sorted) {
    const previous = out[out.length - 1];
    if (previous && sameSpan(previous.span, edit.span) && previous.newText === edit.newText) continue;
    if (previous && (edit.span.start.offset < previous.span.end.offset || (sameSpan(previous.span, edit.span) && edit.span.start.offset === edit.span.end.offset))) {
      return { error: 'The changes overlap in the source; apply them one at a time.' };
    }
    out.push(edit);
  }
  return out;
}

/** A WorkspaceEdit for core text edits on one document. */
export function toWorkspaceEdit(uri: vscode.Uri, edits: readonly TextEdit[]): vscode.WorkspaceEdit {
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) workspaceEdit.replace(uri, toRange(edit.span), edit.newText);
  return workspaceEdit;
}
