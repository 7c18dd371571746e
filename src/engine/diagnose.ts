/**
 * The pipeline for one file: load → train (in the worker) → rules → candidates → what-if
 * retraining → findings with verified suggestions. Shared by the CLI and the extension; no
 * tfjs and no vscode here.
 */
import type { LoadProblem, LoadResult, ModelFormat, ModelSpec } from '../core/model';
import type { BackendChoice, RunStats, TrainingOptions } from '../core/stats';
import { evaluate, summarize, type LayerSummary } from '../core/analysis/rules';
import {
  applyCandidate, candidateAddresses, judge, proposeCandidates, targetMetric, toSuggestion, type Candidate,
} from '../core/analysis/suggestions';
import { DEFAULT_THRESHOLDS, SEVERITY_RANK, type Finding, type Suggestion, type Thresholds } from '../core/analysis/types';
import { TrainingError, type CancellationSignal, type TrainerClient } from './trainerClient';

export interface DiagnoseOptions {
  readonly training: TrainingOptions;
  readonly thresholds: Thresholds;
  readonly backend: BackendChoice;
  /** Retrain each suggestion before offering it. */
  readonly verify: boolean;
  readonly parameterCap: number;
}

export const DEFAULT_TRAINING: TrainingOptions = {
  steps: 100,
  batchSize: 64,
  seed: 0,
  learningRate: 1e-3,
  optimizer: 'adam',
  probeEvery: 10,
  probeSize: 256,
  // |x| beyond which the slope is under ~3% of its peak: sigmoid'(5) = 0.0066 = 2.7% of 0.25,
  // tanh'(2.5) = 0.027 = 2.7% of 1, hard sigmoid is flat beyond ±2.5.
  saturationThresholds: { sigmoid: 5, tanh: 2.5, hardSigmoid: 2.5, softsign: 30 },
  histogramBins: 30,
};

export const DEFAULT_DIAGNOSE_OPTIONS: DiagnoseOptions = {
  training: DEFAULT_TRAINING,
  thresholds: DEFAULT_THRESHOLDS,
  backend: 'auto',
  verify: true,
  parameterCap: 20_000_000,
};

/** A what-if run: the candidate, and what its retraining measured. */
export interface WhatIf {
  readonly candidate: Candidate;
  readonly stats: RunStats;
  readonly findings: readonly Finding[];
}

export interface ModelDiagnosis {
  readonly model: ModelSpec;
  readonly stats?: RunStats;
  readonly summaries?: readonly LayerSummary[];
  readonly findings: readonly Finding[];
  readonly whatIfs: readonly WhatIf[];
  /** Set when the model could not be trained (too large, unsupported, backend unavailable). */
  readonly error?: { readonly kind: string; readonly message: string };
}

export interface FileDiagnosis {
  readonly file: string;
  readonly format: ModelFormat;
  readonly models: readonly ModelDiagnosis[];
  /** File-level findings: syntax errors, no model found. */
  readonly problems: readonly Finding[];
}

export type DiagnoseEvent =
  | { readonly kind: 'model-start'; readonly model: string; readonly phase: 'baseline' | 'verify'; readonly label?: string }
  | { readonly kind: 'step'; readonly model: string; readonly step: number; readonly steps: number; readonly loss: number };

export function problemToFinding(problem: LoadProblem, layerIndex: number | null = null): Finding {
  return {
    code: problem.code,
    severity: problem.code === 'parse-error' ? 'error' : 'warning',
    layerIndex,
    span: problem.span,
    message: problem.message,
    metrics: {},
    suggestions: [],
  };
}

/**
 * Verified improvements first, in the decision guide's order (the simplest change first); those
 * that did not improve what they target last.
 */
function rankSuggestions(suggestions: Suggestion[]): Suggestion[] {
  const failed = (s: Suggestion) => (s.verified?.improved === false ? 1 : 0);
  return suggestions.map((s, order) => ({ s, order })).sort((x, y) => failed(x.s) - failed(y.s) || x.order - y.order).map(({ s }) => s);
}

async function diagnoseModel(
  model: ModelSpec,
  client: TrainerClient,
  options: DiagnoseOptions,
  onEvent: ((event: DiagnoseEvent) => void) | undefined,
  signal: CancellationSignal | undefined,
): Promise<ModelDiagnosis> {
  const loadFindings = model.problems.map((p) => problemToFinding(p));
  const train = (spec: ModelSpec) =>
    client.train(spec, options.training, options.backend, options.parameterCap,
      (step, steps, loss) => onEvent?.({ kind: 'step', model: model.name, step, steps, loss }), signal);

  onEvent?.({ kind: 'model-start', model: model.name, phase: 'baseline' });
  let stats: RunStats;
  try {
    stats = await train(model);
  } catch (error) {
    if (error instanceof TrainingError && error.kind !== 'cancelled' && error.kind !== 'crashed') {
      return { model, findings: loadFindings, whatIfs: [], error: { kind: error.kind, message: error.message } };
    }
    throw error;
  }
  const summaries = summarize(stats);
  const findings = evaluate(model, stats, options.thresholds);
  const candidates = proposeCandidates(model, findings);
  const maxLoss = (s: RunStats) => Math.max(0, ...s.loss.filter(Number.isFinite));

  const whatIfs: WhatIf[] = [];
  if (options.verify) {
    for (const candidate of candidates) {
      onEvent?.({ kind: 'model-start', model: model.name, phase: 'verify', label: candidate.label });
      const changed = applyCandidate(model, candidate);
      const whatIfStats = await train(changed);
      whatIfs.push({ candidate, stats: whatIfStats, findings: evaluate(changed, whatIfStats, options.thresholds) });
    }
  }

  const withSuggestions = findings.map((finding): Finding => {
    const suggestions: Suggestion[] = [];
    for (const candidate of candidates) {
      if (!candidateAddresses(model, candidate, finding)) continue;
      const whatIf = whatIfs.find((w) => w.candidate.id === candidate.id);
      let verified;
      if (whatIf) {
        const before = targetMetric(finding, summaries, maxLoss(stats), !!stats.nonFinite);
        const after = targetMetric(finding, summarize(whatIf.stats), maxLoss(whatIf.stats), !!whatIf.stats.nonFinite);
        verified = judge(finding, before, after, whatIf.findings, options.thresholds);
      }
      suggestions.push(toSuggestion(model, candidate, finding, verified));
    }
    return { ...finding, suggestions: rankSuggestions(suggestions) };
  });
  return { model, stats, summaries, findings: [...loadFindings, ...withSuggestions], whatIfs };
}

/** Diagnoses every model of a loaded file, one after another, in the shared trainer worker. */
export async function diagnoseLoaded(
  file: string,
  loaded: LoadResult,
  client: TrainerClient,
  options: DiagnoseOptions = DEFAULT_DIAGNOSE_OPTIONS,
  onEvent?: (event: DiagnoseEvent) => void,
  signal?: CancellationSignal,
): Promise<FileDiagnosis> {
  const models: ModelDiagnosis[] = [];
  for (const model of loaded.models) {
    models.push(await diagnoseModel(model, client, options, onEvent, signal));
  }
  return { file, format: loaded.format, models, problems: loaded.problems.map((p) => problemToFinding(p)) };
}

/** The most severe finding of a diagnosis, for exit codes and summaries. */
export function worstSeverity(diagnosis: FileDiagnosis): Finding['severity'] | undefined {
  const all = [...diagnosis.problems, ...diagnosis.models.flatMap((m) => m.findings)];
  return all.reduce<Finding['severity'] | undefined>(
    (worst, f) => (worst === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst] ? f.severity : worst),
    undefined,
  );
}
