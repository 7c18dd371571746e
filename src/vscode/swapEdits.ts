/**
 * Turns a suggestion (its layer changes, learning rate and loss) into one set of text edits with
 * core/fixes/changes.ts, and into a WorkspaceEdit. Layers written once in the source but
 * repeated (a comprehension, `* n`) produce identical edits: those are merged.
 */
import * as vscode from 'vscode';
import type { ModelSpec } from '../core/model';
import type { TextEdit } from '../core/fixes';
import { layerChangeEdits, mergeEdits, suggestionEdits, type SuggestedChange } from '../core/fixes/changes';
import type { LayerChange } from '../core/analysis/types';
import { toRange } from './spans';

export { mergeEdits };

/** The edits for a set of layer changes on `text`, or why they cannot be made. */
export function editsForChanges(text: string, model: ModelSpec, changes: readonly LayerChange[]): TextEdit[] | { error: string } {
  return layerChangeEdits(text, model, changes);
}

/** The edits for a whole suggestion (layers, learning rate, loss), or why it stays advice. */
export function editsForSuggestion(text: string, model: ModelSpec, suggestion: SuggestedChange): TextEdit[] | { error: string } {
  return suggestionEdits(text, model, suggestion);
}

/** A WorkspaceEdit for core text edits on one document. */
export function toWorkspaceEdit(uri: vscode.Uri, edits: readonly TextEdit[]): vscode.WorkspaceEdit {
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) workspaceEdit.replace(uri, toRange(edit.span), edit.newText);
  return workspaceEdit;
}
