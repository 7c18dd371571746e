/**
 * Quick fixes for Activation Lens diagnostics: apply a verified suggestion (an activation swap
 * with its matching initialiser, an initialiser alone, BatchNorm before activations, a learning
 * rate, a head/loss change, on every layer the change touches) as one WorkspaceEdit, and a
 * source action that applies every verified layer change of a model. A suggestion the file's
 * format cannot express (a data transform, a learning rate without a stated optimiser) is shown
 * disabled with the reason: advice, never a broken edit. A model whose input shape is known only
 * at run time gets an action that asks for it (inputShapeFix.ts). Results computed from another
 * version of the document are refused, with an offer to diagnose again.
 */
import * as vscode from 'vscode';
import type { Finding, LayerChange, Suggestion } from '../core/analysis/types';
import { SEVERITY_RANK } from '../core/analysis/types';
import type { ModelDiagnosis } from '../engine/diagnose';
import type { AnalysisService } from './analysisService';
import { CommandId } from './commands';
import { DIAGNOSTIC_SOURCE, type DiagnosticsManager } from './diagnosticsManager';
import { editsForChanges, editsForSuggestion } from './swapEdits';
import { locate, resultEdit } from './notebooks';
import type { AnalysisResult } from './analysisService';
import type { ModelSpec } from '../core/model';
import { suggestedLearningRate } from '../core/fixes/changes';
import { inputShapeAction } from './inputShapeFix';

/** The kind of the "apply all verified swaps" source action. */
export const APPLY_ALL_KIND = vscode.CodeActionKind.Source.append('activationLens').append('applyAllSwaps');

function isOffered(s: Suggestion): boolean {
  // Verified improvements only; when verification is off, unverified suggestions are offered too.
  return s.verified ? s.verified.improved : true;
}

/** What a suggestion changes, in words, for the action's title. */
export function describe(s: Suggestion, model?: ModelSpec): string {
  const layers = new Set(s.changes.map((c) => c.layerIndex)).size;
  const on = layers > 1 ? ` on ${layers} layers` : '';
  const status = s.verified ? `verified: ${s.verified.summary}` : 'not verified';
  let what: string;
  if (s.dataTransform) what = `${s.label} (a data change: apply it where the data is loaded)`;
  else if (s.learningRateFactor !== undefined || s.learningRate !== undefined) {
    const rate = model ? suggestedLearningRate(model, s) : s.learningRate;
    what = rate !== undefined ? `set the learning rate to ${rate}` : s.label;
  } else if (s.loss) what = `${s.label} (head and loss)`;
  else if (s.changes.some((c) => c.batchNormBeforeActivation)) what = `insert BatchNorm before the activation${on}`;
  else if (s.changes.every((c) => !c.activation) && s.changes.some((c) => c.biasInitializer)) what = `set the bias initialiser to ${s.changes.find((c) => c.biasInitializer)?.biasInitializer?.name}${on}`;
  else what = `switch to ${s.label}${on}`;
  return `Activation Lens: ${what} (${status})`;
}

export class QuickFixProvider implements vscode.CodeActionProvider {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix, APPLY_ALL_KIND];

  constructor(
    private readonly service: AnalysisService,
    private readonly diagnostics: DiagnosticsManager,
  ) {}

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const result = this.service.resultFor(document.uri);
    if (!result) return [];
    const ours = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    const wantsQuickFix = !context.only || context.only.contains(vscode.CodeActionKind.QuickFix);
    const wantsSource = !!context.only && (APPLY_ALL_KIND.contains(context.only) || context.only.contains(APPLY_ALL_KIND));
    if (!this.service.isCurrent(result)) {
      if (ours.length === 0 && !wantsSource) return [];
      const rerun = new vscode.CodeAction('Activation Lens: results are out of date — diagnose again', wantsSource ? APPLY_ALL_KIND : vscode.CodeActionKind.QuickFix);
      rerun.command = { command: CommandId.Rerun, title: 'Diagnose again', arguments: [document.uri] };
      return [rerun];
    }
    const actions: vscode.CodeAction[] = [];
    if (wantsQuickFix) {
      // One action per suggestion: findings on one span (layers repeated by a comprehension)
      // share the same model-wide change, so their fixes are one edit.
      const bySuggestion = new Map<string, { action: vscode.CodeAction; suggestion: Suggestion }>();
      for (const diagnostic of ours) {
        const entry = this.diagnostics.find(document.uri, diagnostic);
        const askShape = entry && inputShapeAction(result, entry);
        if (askShape) actions.push(askShape);
        if (!entry?.model) continue;
        for (const suggestion of entry.finding.suggestions.filter(isOffered)) {
          const key = `${entry.model.model.name}/${suggestion.id}`;
          const existing = bySuggestion.get(key);
          if (existing) {
            existing.action.diagnostics = [...(existing.action.diagnostics ?? []), diagnostic];
            continue;
          }
          const action = this.suggestionAction(result, entry.model, suggestion, describe(suggestion, entry.model.model), vscode.CodeActionKind.QuickFix);
          action.diagnostics = [diagnostic];
          bySuggestion.set(key, { action, suggestion });
        }
      }
      const preferred = [...bySuggestion.values()].find(({ action, suggestion }) => !action.disabled && suggestion.verified?.improved);
      if (preferred) preferred.action.isPreferred = true;
      actions.push(...[...bySuggestion.values()].map(({ action }) => action));
    }
    if (wantsSource || (!context.only && context.triggerKind === vscode.CodeActionTriggerKind.Invoke)) {
      const model = modelAt(result, document.uri, range) ?? (result.diagnosis.models.length === 1 ? result.diagnosis.models[0] : undefined);
      if (model) {
        const changes = allVerifiedChanges(model);
        if (changes.length > 0) {
          actions.push(this.swapAction(result, model, changes, `Activation Lens: apply all verified swaps in model \`${model.model.name}\``, APPLY_ALL_KIND));
        }
      }
    }
    return actions;
  }

  // Edits are computed on the analysed text (a notebook: its code cells joined) and mapped to the documents.
  private suggestionAction(result: AnalysisResult, model: ModelDiagnosis, suggestion: Suggestion, title: string, kind: vscode.CodeActionKind): vscode.CodeAction {
    return editAction(result, editsForSuggestion(result.text, model.model, suggestion), title, kind);
  }

  private swapAction(result: AnalysisResult, model: ModelDiagnosis, changes: readonly LayerChange[], title: string, kind: vscode.CodeActionKind): vscode.CodeAction {
    return editAction(result, editsForChanges(result.text, model.model, changes), title, kind);
  }
}

function editAction(result: AnalysisResult, edits: ReturnType<typeof editsForChanges>, title: string, kind: vscode.CodeActionKind): vscode.CodeAction {
  const action = new vscode.CodeAction(title, kind);
  const edit = 'error' in edits ? edits : resultEdit(result, edits);
  if ('error' in edit) action.disabled = { reason: edit.error };
  else action.edit = edit;
  return action;
}

/** The model whose definition (where it starts, in a notebook) contains the range of this document. */
function modelAt(result: AnalysisResult, uri: vscode.Uri, range: vscode.Range): ModelDiagnosis | undefined {
  return result.diagnosis.models.find((m) => {
    const at = locate(result, m.model.span);
    return at.uri.toString() === uri.toString() && at.range.contains(range);
  });
}

/**
 * The best verified layer-change suggestion of each finding, most severe findings first; a layer changed by
 * an earlier suggestion keeps that change (two swaps of one layer cannot both apply).
 */
export function allVerifiedChanges(model: ModelDiagnosis): LayerChange[] {
  const findings = [...model.findings].sort((a: Finding, b: Finding) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const byLayer = new Map<number, LayerChange>();
  const used = new Set<string>();
  for (const finding of findings) {
    // Layer changes only: a head change without its loss (or a training setting) is not applied half-way here.
    const best = finding.suggestions.find((s) => s.verified?.improved && !s.loss && s.learningRateFactor === undefined && s.learningRate === undefined && !s.dataTransform);
    if (!best || used.has(best.id)) continue;
    used.add(best.id);
    if (best.changes.some((c) => byLayer.has(c.layerIndex))) continue;
    for (const change of best.changes) byLayer.set(change.layerIndex, change);
  }
  return [...byLayer.values()].sort((a, b) => a.layerIndex - b.layerIndex);
}
