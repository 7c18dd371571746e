/**
 * Publishes findings to the Problems panel: one diagnostic per finding on the layer's span, with
 * a code that links to the finding's documentation page and related locations for the layers
 * involved. Stale results (the document changed) are taken off the panel at once.
 */
import * as vscode from 'vscode';
import type { ModelSpec } from '../core/model';
import type { Finding, Severity } from '../core/analysis/types';
import type { ModelDiagnosis } from '../engine/diagnose';
import type { AnalysisResult, AnalysisService } from './analysisService';
import { Disposable } from './dispose';
import { toRange } from './spans';

export const DIAGNOSTIC_SOURCE = 'Activation Lens';

/** A published diagnostic and the finding (and model) it shows. */
export interface DiagnosticEntry {
  readonly diagnostic: vscode.Diagnostic;
  readonly finding: Finding;
  /** Absent for file-level problems. */
  readonly model?: ModelDiagnosis;
}

export function toSeverity(severity: Severity): vscode.DiagnosticSeverity {
  switch (severity) {
    case 'error':
      return vscode.DiagnosticSeverity.Error;
    case 'warning':
      return vscode.DiagnosticSeverity.Warning;
    case 'info':
      return vscode.DiagnosticSeverity.Information;
  }
}

/** The best suggestion that retraining confirmed, if any. */
export function bestVerified(finding: Finding): Finding['suggestions'][number] | undefined {
  return finding.suggestions.find((s) => s.verified?.improved === true);
}

export class DiagnosticsManager extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('activationLens'));
  private readonly entries = new Map<string, DiagnosticEntry[]>();

  constructor(
    private readonly service: AnalysisService,
    private readonly extensionUri: vscode.Uri,
  ) {
    super();
    this._register(service.onDidChangeResults((uri) => this.update(uri)));
  }

  /** The documentation page of a finding code (shipped with the extension: docs/findings). */
  docsUri(code: string): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'docs', 'findings', `${code}.md`);
  }

  /** The entries published for a document, for the quick fixes. */
  entriesFor(uri: vscode.Uri): readonly DiagnosticEntry[] {
    return this.entries.get(uri.toString()) ?? [];
  }

  /** The entry a diagnostic (as the editor hands it back) was published from. */
  find(uri: vscode.Uri, diagnostic: vscode.Diagnostic): DiagnosticEntry | undefined {
    const code = typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
    return this.entriesFor(uri).find(
      (e) =>
        e.diagnostic.range.isEqual(diagnostic.range) &&
        e.diagnostic.message === diagnostic.message &&
        (typeof e.diagnostic.code === 'object' ? e.diagnostic.code.value : e.diagnostic.code) === code,
    );
  }

  private update(uri: vscode.Uri): void {
    const result = this.service.resultFor(uri);
    if (!result || result.stale) {
      this.entries.delete(uri.toString());
      this.collection.delete(uri);
      return;
    }
    const entries = this.createEntries(result);
    this.entries.set(uri.toString(), entries);
    this.collection.set(uri, [...entries.map((e) => e.diagnostic), ...this.noteDiagnostics(result)]);
  }

  /**
   * How the loader read what the file left open (an inferred input shape, a log-softmax head read
   * as softmax): Information entries, so the reading can be checked where it was made. They are
   * not findings and carry no fix.
   */
  private noteDiagnostics(result: AnalysisResult): vscode.Diagnostic[] {
    const several = result.diagnosis.models.length > 1;
    return result.diagnosis.models.flatMap((model) => (model.model.notes ?? []).map((note) => {
      const prefix = several ? `${model.model.name}: ` : '';
      const diagnostic = new vscode.Diagnostic(toRange(note.span), `${prefix}${note.message}`, vscode.DiagnosticSeverity.Information);
      diagnostic.source = DIAGNOSTIC_SOURCE;
      diagnostic.code = 'note';
      return diagnostic;
    }));
  }

  private createEntries(result: AnalysisResult): DiagnosticEntry[] {
    const entries: DiagnosticEntry[] = [];
    const several = result.diagnosis.models.length > 1;
    for (const finding of result.diagnosis.problems) {
      entries.push({ diagnostic: this.createDiagnostic(result.uri, finding, undefined, ''), finding });
    }
    for (const model of result.diagnosis.models) {
      const prefix = several ? `${model.model.name}: ` : '';
      for (const finding of model.findings) {
        entries.push({ diagnostic: this.createDiagnostic(result.uri, finding, model.model, prefix), finding, model });
      }
    }
    return entries;
  }

  private createDiagnostic(uri: vscode.Uri, finding: Finding, model: ModelSpec | undefined, prefix: string): vscode.Diagnostic {
    const best = bestVerified(finding);
    const hint = best ? ` Verified fix: ${best.label} (${best.verified?.summary}).` : '';
    const diagnostic = new vscode.Diagnostic(toRange(finding.span), `${prefix}${finding.message}${hint}`, toSeverity(finding.severity));
    diagnostic.source = DIAGNOSTIC_SOURCE;
    diagnostic.code = { value: finding.code, target: this.docsUri(finding.code) };
    if (model) diagnostic.relatedInformation = related(uri, finding, model);
    return diagnostic;
  }
}

/** The layers a finding involves: the reference layer of a gradient ratio, and the layers a fix changes. */
function related(uri: vscode.Uri, finding: Finding, model: ModelSpec): vscode.DiagnosticRelatedInformation[] {
  const out: vscode.DiagnosticRelatedInformation[] = [];
  const seen = new Set<string>();
  const own = finding.layerIndex === null ? undefined : model.layers[finding.layerIndex];
  const add = (layerIndex: number, message: string) => {
    const layer = model.layers[layerIndex];
    if (!layer || layer === own) return;
    const key = `${layer.source.span.start.offset}:${layer.source.span.end.offset}`;
    if (seen.has(key) || (own && key === `${own.source.span.start.offset}:${own.source.span.end.offset}`)) return;
    seen.add(key);
    out.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toRange(layer.source.span)), message));
  };
  if (finding.code === 'vanishing-gradient' || finding.code === 'exploding-gradient') {
    const last = [...model.layers].reverse().find((l) => l.kind === 'dense' || l.kind === 'conv1d' || l.kind === 'conv2d');
    if (last) add(last.index, `\`${last.name}\`: the last layer with weights, whose gradient the ratio compares against`);
  }
  const best = bestVerified(finding) ?? finding.suggestions[0];
  if (best) {
    for (const change of best.changes) add(change.layerIndex, `\`${model.layers[change.layerIndex]?.name}\` also changes with ${best.label}`);
  }
  if (out.length === 0 && finding.layerIndex !== null) {
    out.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toRange(model.span)), `in model \`${model.name}\``));
  }
  return out;
}
