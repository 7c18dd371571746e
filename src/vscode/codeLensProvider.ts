/**
 * CodeLens: above each model, "Diagnose activations" before a run and a summary after; above
 * each layer, its key numbers and the best verified suggestion. Refreshed when results change;
 * the `activationLens.codeLens.enabled` setting turns lenses off.
 */
import * as vscode from 'vscode';
import type { LayerSpec } from '../core/model';
import { fmt, pct, RELU_FAMILY_THAT_DIES, TWO_SIDED_SATURATING, type LayerSummary } from '../core/analysis/rules';
import type { ModelDiagnosis } from '../engine/diagnose';
import type { AnalysisResult, AnalysisService } from './analysisService';
import { CommandId } from './commands';
import type { ConfigService } from './config';
import { bestVerified } from './diagnosticsManager';
import { Disposable } from './dispose';
import { cellUris, isCellUri, locate, notebookOfCell, type Mappable } from './notebooks';

export class CodeLensProvider extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly service: AnalysisService,
    private readonly config: ConfigService,
  ) {
    super();
    this._register(service.onDidChangeResults(() => this.changed.fire()));
    this._register(config.onDidChange(() => this.changed.fire()));
  }

  async provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!this.config.get(document.uri).codeLensEnabled) return [];
    // A notebook cell shows the lenses of its notebook that lie in it.
    const notebook = isCellUri(document.uri) ? notebookOfCell(document.uri) : undefined;
    if (isCellUri(document.uri) && !notebook) return [];
    const here = (lenses: readonly { at: { uri: vscode.Uri }; lens: vscode.CodeLens }[]) =>
      lenses.filter((l) => l.at.uri.toString() === document.uri.toString()).map((l) => l.lens);
    const result = this.service.resultFor(document.uri);
    if (result && (notebook ? this.service.isCurrent(result) : !result.stale && result.version === document.version)) return here(resultLenses(result));
    // Before a run (or after an edit): one "Diagnose" lens per model the loader finds.
    const loaded = await this.service.readModels(notebook ?? document, token);
    if (loaded === 'cancelled' || token.isCancellationRequested) return [];
    const title = result ? '$(refresh) Diagnose activations again (the file changed)' : '$(beaker) Diagnose activations';
    const mappable: Mappable = notebook ? { uri: notebook.uri, cells: loaded.cells, cellUris: cellUris(notebook) } : { uri: document.uri };
    return here(loaded.models.map((m) => {
      const at = locate(mappable, m.span);
      return { at, lens: new vscode.CodeLens(at.range, { title, command: CommandId.Diagnose, arguments: [mappable.uri], tooltip: `Train \`${m.name}\` briefly and measure every layer` }) };
    }));
  }
}

function resultLenses(result: AnalysisResult): { at: { uri: vscode.Uri }; lens: vscode.CodeLens }[] {
  const lenses: { at: { uri: vscode.Uri }; lens: vscode.CodeLens }[] = [];
  for (const model of result.diagnosis.models) {
    const modelAt = locate(result, model.model.span);
    lenses.push({ at: modelAt, lens: new vscode.CodeLens(modelAt.range, { title: modelTitle(model, result), command: CommandId.ShowReport, arguments: [result.uri] }) });
    if (!model.summaries) continue;
    // Layers written once and repeated (comprehension, `* n`) share a span: one lens per span.
    const groups = new Map<number, LayerSpec[]>();
    for (const layer of model.model.layers) {
      const key = layer.source.span.start.offset;
      groups.set(key, [...(groups.get(key) ?? []), layer]);
    }
    for (const layers of groups.values()) {
      const title = layerTitle(model, layers);
      if (!title) continue;
      const at = locate(result, layers[0].source.span);
      lenses.push({ at, lens: new vscode.CodeLens(at.range, {
        title,
        command: CommandId.ShowReport,
        arguments: [result.uri, model.model.name, layers[0].index],
        tooltip: 'Open the report at this layer',
      }) });
    }
  }
  return lenses;
}

function modelTitle(model: ModelDiagnosis, result: AnalysisResult): string {
  const name = model.model.name;
  if (model.error) return `$(warning) ${name}: not trained — ${model.error.message}`;
  const errors = model.findings.filter((f) => f.severity === 'error').length;
  const count = model.findings.length;
  const findings = count === 0 ? 'no findings' : `${count} finding${count === 1 ? '' : 's'}${errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : ''}`;
  const backend = model.stats?.backend.name ?? '?';
  const seconds = model.stats ? (model.stats.totalMs / 1000).toFixed(1) : (result.durationMs / 1000).toFixed(1);
  return `${count === 0 ? '$(pass)' : '$(beaker)'} ${name}: ${findings} · ${backend} · ${seconds} s`;
}

function range(values: readonly number[], format: (n: number) => string): string {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return format(min) === format(max) ? format(min) : `${format(min)}–${format(max)}`;
}

/** e.g. `grad 3e-9 · saturated 98% → ReLU (verified)`; undefined when there is nothing to show. */
export function layerTitle(model: ModelDiagnosis, layers: readonly LayerSpec[]): string | undefined {
  const summaries = layers.map((l) => model.summaries?.[l.index]).filter((s): s is LayerSummary => !!s);
  if (summaries.length === 0) return undefined;
  const first = layers[0];
  const parts: string[] = [];
  if (layers.length > 1) parts.push(`×${layers.length}`);
  if (layers.every((l) => l.frozen)) parts.push('frozen (not trained)');
  const kernels = summaries.filter((s) => s.hasKernel);
  if (kernels.length) parts.push(`grad ${range(kernels.map((s) => s.gradNorm), fmt)}`);
  if (TWO_SIDED_SATURATING.has(first.activation.name)) parts.push(`saturated ${range(summaries.map((s) => s.saturatedFraction), pct)}`);
  else if (RELU_FAMILY_THAT_DIES.has(first.activation.name)) parts.push(`dead ${range(summaries.map((s) => s.deadFraction), pct)}`);
  else parts.push(`mean ${range(summaries.map((s) => s.mean), fmt)}`);
  const indices = new Set(layers.map((l) => l.index));
  const findings = model.findings.filter((f) => f.layerIndex !== null && indices.has(f.layerIndex));
  const best = findings.map(bestVerified).find((s) => s !== undefined);
  let text = parts.join(' · ');
  if (best) text += ` → ${best.label.split(' + ')[0]} (verified)`;
  else if (findings.length) text = `$(warning) ${text} · ${findings[0].code}`;
  return text;
}
