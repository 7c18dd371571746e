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
import { locate, type Mappable } from './notebooks';

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
  /** The documents each result published to (a notebook's: its cells). */
  private readonly published = new Map<string, vscode.Uri[]>();

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
    for (const target of this.published.get(uri.toString()) ?? [uri]) {
      this.entries.delete(target.toString());
      this.collection.delete(target);
    }
    this.published.delete(uri.toString());
    const result = this.service.resultFor(uri);
    if (!result || result.stale) return;
    // Grouped by the document each diagnostic lies in: the file, or a notebook's cells.
    const byTarget = new Map<string, { uri: vscode.Uri; entries: DiagnosticEntry[]; notes: vscode.Diagnostic[] }>();
    const group = (target: vscode.Uri) => {
      let g = byTarget.get(target.toString());
      if (!g) byTarget.set(target.toString(), (g = { uri: target, entries: [], notes: [] }));
      return g;
    };
    group(uri);
    for (const { target, entry } of this.createEntries(result)) group(target).entries.push(entry);
    for (const { target, diagnostic } of this.noteDiagnostics(result)) group(target).notes.push(diagnostic);
    for (const g of byTarget.values()) {
      this.entries.set(g.uri.toString(), g.entries);
      this.collection.set(g.uri, [...g.entries.map((e) => e.diagnostic), ...g.notes]);
    }
    this.published.set(uri.toString(), [...byTarget.values()].map((g) => g.uri));
  }

  /**
   * How the loader read what the file left open (an inferred input shape, a log-softmax head read
   * as softmax): Information entries, so the reading can be checked where it was made. They are
   * not findings and carry no fix.
   */
  private noteDiagnostics(result: AnalysisResult): { target: vscode.Uri; diagnostic: vscode.Diagnostic }[] {
    const several = result.diagnosis.models.length > 1;
    return result.diagnosis.models.flatMap((model) => (model.model.notes ?? []).map((note) => {
      const prefix = several ? `${model.model.name}: ` : '';
      const at = locate(result, note.span);
      const diagnostic = new vscode.Diagnostic(at.range, `${prefix}${note.message}`, vscode.DiagnosticSeverity.Information);
      diagnostic.source = DIAGNOSTIC_SOURCE;
      diagnostic.code = 'note';
      return { target: at.uri, diagnostic };
    }));
  }

  private createEntries(result: AnalysisResult): { target: vscode.Uri; entry: DiagnosticEntry }[] {
    const entries: { target: vscode.Uri; entry: DiagnosticEntry }[] = [];
    const several = result.diagnosis.models.length > 1;
    for (const finding of result.diagnosis.problems) {
      const { target, diagnostic } = this.createDiagnostic(result, finding, undefined, '');
      entries.push({ target, entry: { diagnostic, finding } });
    }
    for (const model of result.diagnosis.models) {
      const prefix = several ? `${model.model.name}: ` : '';
      for (const finding of model.findings) {
        const { target, diagnostic } = this.createDiagnostic(result, finding, model.model, prefix);
        entries.push({ target, entry: { diagnostic, finding, model } });
      }
    }
    return entries;
  }

  private createDiagnostic(result: Mappable, finding: Finding, model: ModelSpec | undefined, prefix: string): { target: vscode.Uri; diagnostic: vscode.Diagnostic } {
    const best = bestVerified(finding);
    const hint = best ? ` Verified fix: ${best.label} (${best.verified?.summary}).` : '';
    const at = locate(result, finding.span);
    const diagnostic = new vscode.Diagnostic(at.range, `${prefix}${finding.message}${hint}`, toSeverity(finding.severity));
    diagnostic.source = DIAGNOSTIC_SOURCE;
    diagnostic.code = { value: finding.code, target: this.docsUri(finding.code) };
    if (model) diagnostic.relatedInformation = related(result, finding, model);
    return { target: at.uri, diagnostic };
  }
}

/** The layers a finding involves: the reference layer of a gradient ratio, and the layers a fix changes. */
function related(result: Mappable, finding: Finding, model: ModelSpec): vscode.DiagnosticRelatedInformation[] {
  const out: vscode.DiagnosticRelatedInformation[] = [];
  const seen = new Set<string>();
  const own = finding.layerIndex === null ? undefined : model.layers[finding.layerIndex];
  const add = (layerIndex: number, message: string) => {
    const layer = model.layers[layerIndex];
    if (!layer || layer === own) return;
    const key = `${layer.source.span.start.offset}:${layer.source.span.end.offset}`;
    if (seen.has(key) || (own && key === `${own.source.span.start.offset}:${own.source.span.end.offset}`)) return;
    seen.add(key);
    const at = locate(result, layer.source.span);
    out.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(at.uri, at.range), message));
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
    const at = locate(result, model.span);
    out.push(new vscode.DiagnosticRelatedInformation(new vscode.Location(at.uri, at.range), `in model \`${model.name}\``));
  }
  return out;
}
