/** Builds the report's plain data from a diagnosis (for the webview and the exported HTML). */
import type { RunStats } from '../core/stats';
import type { ReportData, ReportModel, ReportRun } from '../protocol/reportData';
import { trainingLine } from '../core/trainingSetup';
import type { FileDiagnosis, ModelDiagnosis } from './diagnose';
import type { Thresholds } from '../core/analysis/types';

/** JSON has no NaN/Infinity: non-finite numbers become null. */
function finite(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}

function runOf(id: string, label: string, stats: RunStats, improved?: boolean): ReportRun {
  return {
    id,
    label,
    improved,
    loss: stats.loss.map(finite),
    gradNormFirst: stats.layers.map((l) => (l.hasKernel ? finite(l.gradNorms[0]) : null)),
    gradNormLast: stats.layers.map((l) => (l.hasKernel ? finite(l.gradNorms[l.gradNorms.length - 1]) : null)),
  };
}

function modelReport(m: ModelDiagnosis, thresholds: Thresholds): ReportModel {
  const s = m.stats;
  const histograms = (s?.layers ?? []).flatMap((layer) =>
    layer.histograms.map((h) => ({
      layerIndex: layer.index,
      step: h.step,
      edges: h.edges,
      counts: h.counts,
      mean: layer.probes.find((p) => p.step === h.step)?.mean ?? 0,
    })),
  );
  const improvedById = new Map<string, boolean>();
  for (const f of m.findings) for (const sg of f.suggestions) if (sg.verified) improvedById.set(sg.id, (improvedById.get(sg.id) ?? false) || sg.verified.improved);
  return {
    name: m.model.name,
    line: m.model.span.start.line,
    backend: s?.backend.name ?? '',
    backendDevice: s?.backend.device,
    skippedBackends: (s?.backend.skipped ?? []).map((k) => `${k.name}: ${k.reason}`),
    steps: s?.stepsRun ?? 0,
    batchSize: s?.options.batchSize ?? 0,
    seed: s?.options.seed ?? 0,
    msPerStep: s?.msPerStep ?? 0,
    totalMs: s?.totalMs ?? 0,
    parameters: s?.parameterCount ?? 0,
    data: (m.data ? `${m.data.dataset.file} (${m.data.dataset.rows} rows)` : 'synthetic N(0, 1) inputs, targets from a fixed random teacher network') +
      (m.training ? ` · ${trainingLine(m.training)}` : ''),
    error: m.error?.message,
    layers: m.model.layers.map((layer) => {
      const sum = m.summaries?.[layer.index];
      return {
        index: layer.index,
        name: layer.name,
        kind: layer.kind,
        activation: layer.activation.name,
        line: layer.source.span.start.line,
        hasKernel: sum?.hasKernel ?? false,
        frozen: layer.frozen === true,
        gradNorm: sum?.hasKernel ? finite(sum.gradNorm) : null,
        gradRatioToLast: sum?.hasKernel ? finite(sum.gradRatioToLast) : null,
        saturatedFraction: sum?.saturatedFraction ?? 0,
        deadFraction: sum?.deadFraction ?? 0,
        inactiveFraction: sum?.inactiveFraction ?? 0,
        mean: sum?.mean ?? 0,
        std: sum?.std ?? 0,
      };
    }),
    gradNormsByStep: (s?.layers ?? []).map((l) => (l.hasKernel ? l.gradNorms.map(finite) : null)),
    histograms,
    runs: s ? [runOf('baseline', 'as written', s), ...m.whatIfs.map((w) => runOf(w.candidate.id, w.candidate.label, w.stats, improvedById.get(w.candidate.id)))] : [],
    findings: m.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      layerIndex: f.layerIndex,
      line: f.span.start.line,
      message: f.message,
      suggestions: f.suggestions.map((sg) => ({ id: sg.id, label: sg.label, improved: sg.verified ? sg.verified.improved : null, summary: sg.verified?.summary ?? 'not verified' })),
    })),
    thresholds: {
      saturatedWarnFraction: thresholds.saturatedWarnFraction,
      deadWarnFraction: thresholds.deadWarnFraction,
      vanishingErrorRatio: thresholds.vanishingErrorRatio,
    },
  };
}

export function toReportData(d: FileDiagnosis, thresholds: Thresholds, now: Date = new Date()): ReportData {
  return { file: d.file, format: d.format, createdAt: now.toISOString(), models: d.models.map((m) => modelReport(m, thresholds)) };
}
