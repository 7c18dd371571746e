/**
 * From report data to chart series: pure functions (no DOM, no Chart.js), unit-tested. The
 * charts module only styles and draws what these return.
 */
import type { ReportModel } from '../src/protocol/reportData';

export interface Series {
  readonly label: string;
  /** One value per label; null leaves a gap (e.g. 0 on a log axis). */
  readonly values: readonly (number | null)[];
  /** 'solid' for measured runs, 'dashed' for suggestions that did not help, 'threshold' for limits. */
  readonly style: 'solid' | 'dashed' | 'threshold';
  /** Index into the palette, stable per run. */
  readonly colour: number;
}

export interface ChartSeries {
  readonly labels: readonly string[];
  readonly series: readonly Series[];
}

/** Values a log axis can draw: positive and finite, else a gap. */
export function logSafe(v: number | null | undefined): number | null {
  return v !== null && v !== undefined && Number.isFinite(v) && v > 0 ? v : null;
}

function kernelLayers(model: ReportModel) {
  return model.layers.filter((l) => l.hasKernel);
}

/** Chart 1: ‖∇W‖ by depth at step 0 and the last step, with every suggestion's step-0 profile. */
export function gradientFlow(model: ReportModel): ChartSeries {
  const layers = kernelLayers(model);
  const baseline = model.runs.find((r) => r.id === 'baseline');
  const series: Series[] = [];
  if (baseline) {
    series.push({ label: 'as written, step 0', values: layers.map((l) => logSafe(baseline.gradNormFirst[l.index])), style: 'solid', colour: 0 });
    series.push({ label: `as written, step ${model.steps}`, values: layers.map((l) => logSafe(baseline.gradNormLast[l.index])), style: 'dashed', colour: 0 });
  }
  model.runs.filter((r) => r.id !== 'baseline').forEach((run, i) => {
    series.push({
      label: `${run.label}${run.improved === false ? ' (no improvement)' : ''}, step 0`,
      values: layers.map((l) => logSafe(run.gradNormFirst[l.index])),
      style: run.improved === false ? 'dashed' : 'solid',
      colour: i + 1,
    });
  });
  return { labels: layers.map((l) => `${l.index} ${l.name}`), series };
}

/** Chart 2: ‖∇W‖ of each kernel layer over the training steps (baseline). */
export function gradientsOverSteps(model: ReportModel): ChartSeries {
  const layers = kernelLayers(model);
  const steps = Math.max(0, ...layers.map((l) => model.gradNormsByStep[l.index]?.length ?? 0));
  return {
    labels: Array.from({ length: steps }, (_, i) => String(i + 1)),
    series: layers.map((l, i) => ({ label: `${l.index} ${l.name}`, values: (model.gradNormsByStep[l.index] ?? []).map(logSafe), style: 'solid' as const, colour: i })),
  };
}

/** Chart 3: saturated and dead fractions per layer (percent), with the warning thresholds. */
export function fractions(model: ReportModel): ChartSeries {
  const labels = model.layers.map((l) => `${l.index} ${l.name} (${l.activation})`);
  const pct = (v: number) => Math.round(v * 1000) / 10;
  return {
    labels,
    series: [
      { label: 'saturated %', values: model.layers.map((l) => pct(l.saturatedFraction)), style: 'solid', colour: 1 },
      { label: 'dead units %', values: model.layers.map((l) => pct(l.deadFraction)), style: 'solid', colour: 2 },
      { label: 'saturation threshold', values: model.layers.map(() => pct(model.thresholds.saturatedWarnFraction)), style: 'threshold', colour: 1 },
      { label: 'dead-unit threshold', values: model.layers.map(() => pct(model.thresholds.deadWarnFraction)), style: 'threshold', colour: 2 },
    ],
  };
}

export interface HistogramPanel {
  readonly layerIndex: number;
  readonly title: string;
  readonly binCentres: readonly number[];
  readonly counts: readonly number[];
  readonly mean: number;
  /** Index of the bin holding the mean, for the marker. */
  readonly meanBin: number;
}

/** Chart 4: activation histograms at the last probe, one panel per layer, with the mean marked. */
export function histograms(model: ReportModel): HistogramPanel[] {
  const lastStep = Math.max(0, ...model.histograms.map((h) => h.step));
  return model.histograms
    .filter((h) => h.step === lastStep && h.counts.length > 0)
    .map((h) => {
      const layer = model.layers[h.layerIndex];
      const centres = h.counts.map((_, i) => (h.edges[i] + h.edges[i + 1]) / 2);
      const width = h.edges[1] - h.edges[0];
      const meanBin = Math.min(h.counts.length - 1, Math.max(0, Math.floor((h.mean - h.edges[0]) / (width || 1))));
      return { layerIndex: h.layerIndex, title: `${h.layerIndex} ${layer?.name ?? ''} (${layer?.activation ?? ''}), mean ${formatNumber(h.mean)}`, binCentres: centres, counts: h.counts, mean: h.mean, meanBin };
    });
}

/** Chart 5: loss over steps as written and for every suggestion. */
export function losses(model: ReportModel): ChartSeries {
  const steps = Math.max(0, ...model.runs.map((r) => r.loss.length));
  return {
    labels: Array.from({ length: steps }, (_, i) => String(i + 1)),
    series: model.runs.map((run, i) => ({
      label: run.id === 'baseline' ? 'as written' : `${run.label}${run.improved === false ? ' (no improvement)' : ''}`,
      values: run.loss,
      style: run.improved === false ? 'dashed' : 'solid',
      colour: i,
    })),
  };
}

/** Full-precision text for the table (what the CLI's JSON holds, so the two can be compared). */
export function formatNumber(v: number | null): string {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  return abs < 1e-3 || abs >= 1e5 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

export const TABLE_COLUMNS = ['#', 'layer', 'line', 'activation', '‖∇W‖', '÷ last', 'saturated', 'dead', 'inactive', 'mean', 'std'] as const;

/** Chart 6: every number, one row per layer. */
export function tableRows(model: ReportModel): string[][] {
  return model.layers.map((l) => [
    String(l.index), l.name, String(l.line), l.activation,
    // A frozen layer is not trained: say so where its gradient would be.
    l.frozen ? 'frozen' : formatNumber(l.gradNorm), l.frozen ? 'frozen' : formatNumber(l.gradRatioToLast),
    formatNumber(l.saturatedFraction), formatNumber(l.deadFraction), formatNumber(l.inactiveFraction),
    formatNumber(l.mean), formatNumber(l.std),
  ]);
}

export interface FindingGroup {
  readonly code: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly line: number;
  readonly layers: readonly number[];
  /** The first finding of the group (its message and suggestions are shown). */
  readonly first: ReportModel['findings'][number];
}

const RANK = { info: 0, warning: 1, error: 2 } as const;

/** Findings of one code on one line (layers built by one comprehension) shown once, worst first. */
export function groupFindings(model: ReportModel): FindingGroup[] {
  const groups = new Map<string, ReportModel['findings'][number][]>();
  for (const f of model.findings) {
    const key = `${f.code}@${f.line}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()]
    .map((fs) => ({
      code: fs[0].code,
      severity: fs.reduce<FindingGroup['severity']>((w, f) => (RANK[f.severity] > RANK[w] ? f.severity : w), fs[0].severity),
      line: fs[0].line,
      layers: fs.map((f) => f.layerIndex).filter((i): i is number => i !== null),
      first: fs[0],
    }))
    .sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.line - b.line);
}
