/** CLI renderings of a diagnosis: the JSON contract (architecture.md) and a readable text form. */
import type { ActivationSpec, InitializerSpec, NotebookCell, SourceSpan } from '../core/model';
import { cellSpan } from '../core/parse/notebook';
import { fmt, pct, summarize } from '../core/analysis/rules';
import { problemKey } from '../core/analysis/suggestions';
import { trainingLine } from '../core/trainingSetup';
import { SEVERITY_RANK, type Finding, type Suggestion } from '../core/analysis/types';
import type { FileDiagnosis, ModelDiagnosis } from '../engine/diagnose';

function activationJson(a: ActivationSpec | undefined): Record<string, unknown> {
  if (!a) return {};
  return { activation: a.name, ...(a.alpha !== undefined ? { alpha: a.alpha } : {}) };
}

function initializerName(i: InitializerSpec | undefined): string | undefined {
  return i?.name;
}

function suggestionJson(s: Suggestion): Record<string, unknown> {
  return {
    id: s.id,
    label: s.label,
    ...activationJson(s.activation),
    ...(s.initializer ? { initializer: initializerName(s.initializer) } : {}),
    ...(s.biasInitializer ? { biasInitializer: initializerName(s.biasInitializer) } : {}),
    rationale: s.rationale,
    layers: s.changes.map((c) => c.layerIndex),
    changes: s.changes.map((c) => ({
      layerIndex: c.layerIndex,
      ...(c.activation ? { activation: c.activation.name } : {}),
      ...(c.kernelInitializer ? { kernelInitializer: initializerName(c.kernelInitializer) } : {}),
      ...(c.biasInitializer ? { biasInitializer: initializerName(c.biasInitializer) } : {}),
      ...(c.batchNormBeforeActivation ? { batchNormBeforeActivation: true } : {}),
    })),
    ...(s.learningRateFactor !== undefined ? { learningRateFactor: s.learningRateFactor, learningRate: s.learningRate ?? null } : {}),
    ...(s.loss ? { loss: s.loss } : {}),
    ...(s.dataTransform ? { dataTransform: s.dataTransform } : {}),
    ...(s.verified
      ? {
          verified: {
            improved: s.verified.improved, before: s.verified.before, after: s.verified.after, summary: s.verified.summary,
            clears: s.verified.clears ?? null, finalLoss: s.verified.finalLoss ?? null, introduced: s.verified.introduced ?? [],
          },
        }
      : { verified: null }),
  };
}

// [issue 15] In a notebook, positions are within a cell: `cell` is its 1-based number among all
// the notebook's cells (as Jupyter shows them), line and column count from the cell's start.
type Cells = readonly NotebookCell[] | undefined;

function located(cells: Cells, span: SourceSpan): { line: number; column: number; endLine: number; endColumn: number; cell?: number } {
  if (!cells) return { line: span.start.line, column: span.start.column, endLine: span.end.line, endColumn: span.end.column };
  const inCell = cellSpan(cells, span);
  return { cell: inCell.cell.index + 1, line: inCell.span.start.line, column: inCell.span.start.column, endLine: inCell.span.end.line, endColumn: inCell.span.end.column };
}

/** `file:12:5`, or in a notebook `file cell 3:12:5`. */
export function at(file: string, cells: Cells, span: SourceSpan): string {
  const p = located(cells, span);
  return `${file}${p.cell !== undefined ? ` cell ${p.cell}` : ''}:${p.line}:${p.column}`;
}

/** A line number for tables and titles: `12`, or in a notebook `3:12` (cell 3, line 12). */
function lineOf(cells: Cells, span: SourceSpan): string {
  const p = located(cells, span);
  return p.cell !== undefined ? `${p.cell}:${p.line}` : String(p.line);
}

function findingJson(f: Finding, cells?: Cells): Record<string, unknown> {
  return {
    code: f.code,
    severity: f.severity,
    layerIndex: f.layerIndex,
    ...located(cells, f.span),
    message: f.message,
    metrics: f.metrics,
    suggestions: f.suggestions.map(suggestionJson),
  };
}

function modelJson(m: ModelDiagnosis, cells?: Cells): Record<string, unknown> {
  const where = located(cells, m.model.span);
  const base: Record<string, unknown> = { name: m.model.name, ...(where.cell !== undefined ? { cell: where.cell } : {}), line: where.line, inputShape: m.model.inputShape };
  if (m.error) base.error = m.error;
  if (m.data) {
    const d = m.data.dataset;
    base.data = {
      file: d.file, format: d.format, source: m.data.source, rows: d.rows, features: d.features, truncated: d.truncated,
      target: d.targetColumn ?? null, columns: d.columns.slice(0, 50),
    };
  } else {
    base.data = null;
  }
  if (m.input) base.input = m.input;
  if (m.stats) {
    const s = m.stats;
    base.backend = s.backend;
    base.training = {
      steps: s.stepsRun,
      stepsRequested: s.options.steps,
      batchSize: s.options.batchSize,
      seed: s.options.seed,
      optimizer: s.options.optimizer,
      learningRate: s.options.learningRate,
      msPerStep: round(s.msPerStep, 2),
      totalMs: Math.round(s.totalMs),
      threads: s.parallelism?.threads ?? 1,
      threadsNote: s.parallelism?.note ?? null,
      parameters: s.parameterCount,
      lossFirst: s.loss[0] ?? null,
      lossLast: s.loss[s.loss.length - 1] ?? null,
      stoppedEarly: s.stoppedEarly ?? false,
      stableFromStep: m.stability?.step ?? null,
      msToStable: m.stability?.ms !== undefined ? Math.round(m.stability.ms) : null,
      // Where the optimiser, rate and loss came from: the file (with its line), a setting, a default.
      setup: m.training ?? null,
      task: m.data?.dataset.y ? 'data' : m.data ? 'teacher-on-data' : 'teacher',
    };
    const reference = m.reference && summarize(m.reference.stats);
  base.reference = m.reference && reference
    ? {
        sameAsRun: m.reference.sameAsRun,
        learningRate: m.reference.stats.options.learningRate,
        deadFraction: reference.map((r) => r.deadFraction),
        saturatedFraction: reference.map((r) => r.saturatedFraction),
      }
    : null;
  }
  base.layers = m.model.layers.map((layer) => {
    const s = m.summaries?.[layer.index];
    return {
      index: layer.index,
      name: layer.name,
      kind: layer.kind,
      ...activationJson(layer.activation),
      ...(cells ? { cell: located(cells, layer.source.span).cell } : {}),
      line: located(cells, layer.source.span).line,
      ...(layer.frozen ? { frozen: true } : {}),
      ...(s
        ? {
            gradNorm: s.hasKernel ? s.gradNorm : null,
            gradNormStep0: s.hasKernel ? s.gradNormStep0 : null,
            gradRatioToLast: s.hasKernel ? s.gradRatioToLast : null,
            saturatedFraction: s.saturatedFraction,
            deadFraction: s.deadFraction,
            inactiveFraction: s.inactiveFraction,
            mean: s.mean,
            std: s.std,
          }
        : {}),
    };
  });
  base.findings = m.findings.map((f) => findingJson(f, cells));
  // How the loader read the model where the file left it open (an inferred input shape, a
  // log-softmax head read as softmax, …): not findings, but worth knowing.
  base.notes = (m.model.notes ?? []).map((n) => {
    const p = located(cells, n.span);
    return { message: n.message, ...(p.cell !== undefined ? { cell: p.cell } : {}), line: p.line, column: p.column };
  });
  base.whatIfs = m.whatIfs.map((w) => ({
    id: w.candidate.id,
    label: w.candidate.label,
    steps: w.stats.stepsRun,
    lossFirst: w.stats.loss[0] ?? null,
    lossLast: w.stats.loss[w.stats.loss.length - 1] ?? null,
    msPerStep: round(w.stats.msPerStep, 2),
    findings: w.findings.map((f) => ({ code: f.code, severity: f.severity, layerIndex: f.layerIndex })),
  }));
  return base;
}

function round(value: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(value * k) / k;
}

/** The JSON document of the CLI contract. */
export function toJson(d: FileDiagnosis): Record<string, unknown> {
  return {
    file: d.file, format: d.format, ...(d.cells ? { notebook: true } : {}),
    models: d.models.map((m) => modelJson(m, d.cells)), problems: d.problems.map((p) => findingJson(p, d.cells)),
  };
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function activationText(a: ActivationSpec): string {
  return a.alpha !== undefined && a.name !== 'elu' ? `${a.name}(${a.alpha})` : a.name;
}

/** Findings of one code on one source span (e.g. layers built by one comprehension), grouped. */
interface FindingGroup {
  readonly code: Finding['code'];
  readonly severity: Finding['severity'];
  readonly findings: readonly Finding[];
}

function groupFindings(findings: readonly Finding[]): FindingGroup[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.code}@${f.span.start.offset}-${f.span.end.offset}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].map((fs) => ({
    code: fs[0].code,
    severity: fs.reduce((w, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[w] ? f.severity : w), fs[0].severity),
    findings: fs,
  })).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.findings[0].span.start.offset - b.findings[0].span.start.offset);
}

function layerRange(findings: readonly Finding[]): string {
  const indices = findings.map((f) => f.layerIndex).filter((i): i is number => i !== null);
  if (indices.length === 0) return 'model';
  if (indices.length === 1) return `layer ${indices[0]}`;
  return `layers ${indices.join(', ')}`;
}

function suggestionLines(model: ModelDiagnosis): string[] {
  const lines: string[] = [];
  const byId = new Map<string, Suggestion[]>();
  for (const f of model.findings) for (const s of f.suggestions) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const order = [...byId.entries()].sort(([, a], [, b]) => {
    const failed = (list: Suggestion[]) => (list.some((s) => s.verified?.improved) ? 0 : list.some((s) => s.verified) ? 1 : 0);
    return failed(a) - failed(b);
  });
  for (const [id, suggestions] of order) {
    const first = suggestions[0];
    const verified = suggestions.filter((s) => s.verified);
    const improved = verified.filter((s) => s.verified?.improved);
    const whatIf = model.whatIfs.find((w) => w.candidate.id === id);
    const layers = [...new Set(first.changes.map((c) => c.layerIndex))].join(', ');
    let status: string;
    if (verified.length === 0) status = 'not verified (--no-verify)';
    else if (improved.length === 0) status = `tried, not offered: ${verified[0].verified?.summary}`;
    else {
      // Problems, not rows: one loop line's layers, or vanishing over many layers, count once.
      const problems = new Set(model.findings.filter((f) => f.suggestions.some((x) => x.id === id && x.verified)).map(problemKey));
      const fixed = new Set(model.findings.filter((f) => f.suggestions.some((x) => x.id === id && x.verified?.improved)).map(problemKey));
      status = `verified: fixes ${fixed.size} of ${problems.size} problem${problems.size === 1 ? '' : 's'} it targets; e.g. ${improved[0].verified?.summary}`;
    }
    const loss = whatIf && model.stats
      ? `; final loss ${fmt(model.stats.loss.at(-1) ?? NaN)} → ${fmt(whatIf.stats.loss.at(-1) ?? NaN)}`
      : '';
    const where = first.dataTransform ? 'the input data' : first.learningRateFactor !== undefined ? 'the training settings' : `layers ${layers}`;
    lines.push(`  ${improved.length > 0 ? '✓' : verified.length > 0 ? '✗' : '?'} ${first.label} (${where}): ${status}${loss}`);
    lines.push(`      ${first.rationale}`);
  }
  return lines;
}

/** A readable report: a per-layer table with the numbers, then findings and suggestions. */
export function renderText(d: FileDiagnosis): string {
  const out: string[] = [];
  for (const p of d.problems) out.push(`${at(d.file, d.cells, p.span)}: ${p.severity} ${p.code}: ${p.message}`);
  for (const m of d.models) {
    out.push('');
    const title = d.cells ? `notebook, cell ${located(d.cells, m.model.span).cell}, line ${located(d.cells, m.model.span).line}` : `line ${m.model.span.start.line}`;
    out.push(`Model "${m.model.name}" (${d.format}, ${title}, input [${m.model.inputShape.join(', ')}])`);
    for (const note of m.model.notes ?? []) out.push(`  Note (${at(d.file, d.cells, note.span)}): ${note.message}`);
    if (m.data) {
      const ds = m.data.dataset;
      const from = m.data.source === 'cli' ? '--data' : m.data.source === 'comment' ? 'the activation-lens comment' : 'settings';
      out.push(`  Data: ${ds.file} (${ds.format}, ${ds.rows.toLocaleString('en-US')} rows${ds.truncated ? ' — the first rows only, the row cap was reached' : ''}, ${ds.features} features${ds.targetColumn ? `, target "${ds.targetColumn}"` : ''}; from ${from})`);
    } else if (m.stats) {
      out.push('  Data: synthetic, inputs ~ N(0, 1) with targets from a fixed random teacher network (a task that can be learned)');
    }
    if (m.error) {
      out.push(`  ${at(d.file, d.cells, m.model.span)}: Not trained: ${m.error.message}`);
    }
    if (m.stats) {
      const s = m.stats;
      const skipped = s.backend.skipped.length ? ` (skipped: ${s.backend.skipped.map((k) => `${k.name} — ${k.reason}`).join('; ')})` : '';
      const threads = s.parallelism ? `, ${s.parallelism.threads} training thread${s.parallelism.threads === 1 ? '' : 's'}${s.parallelism.note ? ` (${s.parallelism.note})` : ''}` : '';
      out.push(`  Backend ${s.backend.name}${s.backend.device ? ` on ${s.backend.device}` : ''}${threads}${skipped}`);
      out.push(`  ${s.stepsRun} steps × batch ${s.options.batchSize}, ${s.options.optimizer} lr ${s.options.learningRate}, seed ${s.options.seed}: ` +
        `${s.msPerStep.toFixed(1)} ms/step, ${(s.totalMs / 1000).toFixed(1)} s; loss ${fmt(s.loss[0] ?? NaN)} → ${fmt(s.loss[s.loss.length - 1] ?? NaN)}; ${s.parameterCount.toLocaleString('en-US')} parameters`);
      if (m.training) {
        out.push(`  ${trainingLine(m.training, (span) => (d.cells ? `cell ${located(d.cells, span).cell}, line ${located(d.cells, span).line}` : `line ${span.start.line}`))}`);
      }
      if (m.reference) {
        out.push(m.reference.sameAsRun
          ? '  Dead and saturated units judged against this run itself: its initialisers and biases are its framework\'s defaults or canonical, and its learning rate is no larger than the optimiser\'s default'
          : `  Dead and saturated units judged against the same network with canonical initialisers and zero biases (lr ${m.reference.stats.options.learningRate}), trained the same way`);
      }
      if (s.stoppedEarly) {
        out.push(`  Stopped early at step ${s.stepsRun} of ${s.options.steps}: the findings had stopped changing`);
      } else if (m.stability) {
        out.push(`  Findings stable from step ${m.stability.step} of ${s.stepsRun}${m.stability.ms !== undefined ? ` (${(m.stability.ms / 1000).toFixed(1)} s into training)` : ''}`);
      }
      out.push('');
      const header = [pad('#', 3, true), pad('layer', 18), pad('line', 5, true), pad('activation', 14), pad('‖∇W‖', 9, true), pad('÷ last', 9, true), pad('saturated', 10, true), pad('dead', 6, true), pad('mean', 8, true), pad('std', 8, true)];
      out.push(`  ${header.join(' ')}`);
      for (const layer of m.model.layers) {
        const s2 = m.summaries?.[layer.index];
        if (!s2) continue;
        out.push('  ' + [
          pad(String(layer.index), 3, true),
          pad(`${layer.name}`.slice(0, 18), 18),
          pad(lineOf(d.cells, layer.source.span), 5, true),
          pad(activationText(layer.activation), 14),
          pad(s2.hasKernel ? fmt(s2.gradNorm) : layer.frozen ? 'frozen' : '–', 9, true),
          pad(s2.hasKernel ? fmt(s2.gradRatioToLast) : layer.frozen ? 'frozen' : '–', 9, true),
          pad(pct(s2.saturatedFraction), 10, true),
          pad(pct(s2.deadFraction), 6, true),
          pad(fmt(s2.mean), 8, true),
          pad(fmt(s2.std), 8, true),
        ].join(' '));
      }
    }
    out.push('');
    if (m.findings.length === 0 && m.stats) out.push('  No findings: gradients flow and activations look healthy.');
    for (const group of groupFindings(m.findings)) {
      const f = group.findings[0];
      const more = group.findings.length > 1 ? ` (${layerRange(group.findings)}; the first shown)` : ` (${layerRange(group.findings)})`;
      out.push(`  ${at(d.file, d.cells, f.span)}: ${group.severity} ${group.code}${more}: ${f.message}`);
    }
    const suggestions = suggestionLines(m);
    if (suggestions.length) {
      out.push('');
      out.push('  Suggested changes (each retrained with the same seed, data and steps):');
      out.push(...suggestions);
    }
  }
  out.push('');
  return out.join('\n');
}
