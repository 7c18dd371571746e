/**
 * The pipeline for one file: load → train (in the worker) → rules → candidates → what-if
 * retraining → findings with verified suggestions. Shared by the CLI and the extension; no
 * tfjs and no vscode here.
 */
import * as os from 'node:os';
import type { LoadProblem, LoadResult, ModelFormat, ModelSpec } from '../core/model';
import type { BackendChoice, RunStats, TrainingOptions } from '../core/stats';
import { CALIBRATED_CODES, evaluate, summarize, type LayerSummary } from '../core/analysis/rules';
import {
  applyCandidate, candidateAddresses, judge, proposeCandidates, rankSuggestions, targetMetric, toSuggestion, type Candidate,
} from '../core/analysis/suggestions';
import { evaluateHead, proposeHeadCandidates } from '../core/analysis/headRules';
import { referencePlan } from '../core/analysis/reference';
import { resolveTraining, type ExplicitSettings, type TrainingUsed } from '../core/trainingSetup';
import { DEFAULT_THRESHOLDS, SEVERITY_RANK, type Finding, type Suggestion, type Thresholds } from '../core/analysis/types';
import { TrainingError, type CancellationSignal, type TrainerClient } from './trainerClient';
import { evaluateInput, featureStats, offness, summarizeInput, transformFeatures, type FeatureStats, type InputSummary } from '../core/analysis/inputStats';
import { sampleShapeMismatch, type Dataset } from '../core/data/dataset';
import { proposeDataCandidates } from '../core/analysis/suggestions';
import type { EarlyStop, TrainingData } from '../core/stats';
import { stableFrom, type Stability } from '../core/analysis/stability';

export interface DiagnoseOptions {
  readonly training: TrainingOptions;
  readonly thresholds: Thresholds;
  readonly backend: BackendChoice;
  /** Retrain each suggestion before offering it. */
  readonly verify: boolean;
  /**
   * End the baseline run once its findings have not changed for this many probes; what-if runs
   * then train the same number of steps. Absent: always train the full step count.
   */
  readonly earlyStop?: EarlyStop;
  readonly parameterCap: number;
  /** Training settings the user set (flags, settings): these win over the file's own optimiser and rate. */
  readonly explicit?: ExplicitSettings;
}

/**
 * Training threads by default: two where there are two cores or more. The trainer thread and a
 * replica then share each batch when the model does enough work per weight for that to pay (see
 * MIN_MACS_PER_WEIGHT in train/trainer.ts; convolutions and large batches); more replicas than
 * one are untested, so they are opt-in.
 */
export const DEFAULT_THREADS = Math.min(2, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));

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
  threads: DEFAULT_THREADS,
};

/** Findings unchanged over 3 probes (30 steps at the default probe interval), after ≥ 30 steps. */
export const DEFAULT_EARLY_STOP: EarlyStop = { patience: 3, minSteps: 30 };

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

/** The user's data a model was trained with, and where it was named. */
export interface ModelData {
  readonly dataset: Dataset;
  /** 'cli' (--data), 'comment' (# activation-lens: data=…), 'setting' (VS Code). */
  readonly source: 'cli' | 'comment' | 'setting';
}

/** Resolves the data for a model: undefined for synthetic data, an error message to report. */
export type DataResolver = (model: ModelSpec) => Promise<ModelData | { readonly error: string } | undefined>;

export interface ModelDiagnosis {
  readonly model: ModelSpec;
  readonly data?: ModelData;
  readonly input?: InputSummary;
  readonly stats?: RunStats;
  /** What the model was trained with, and where each setting came from. */
  readonly training?: TrainingUsed;
  /** The canonical reference run dead and saturated fractions were judged against, when one was needed. */
  readonly reference?: { readonly stats: RunStats; readonly sameAsRun: boolean };
  readonly summaries?: readonly LayerSummary[];
  readonly findings: readonly Finding[];
  readonly whatIfs: readonly WhatIf[];
  /** From which step the findings stopped changing (the time a person really had to wait). */
  readonly stability?: Stability;
  /** Set when the model could not be trained (too large, unsupported, backend unavailable). */
  readonly error?: { readonly kind: string; readonly message: string };
}

export interface FileDiagnosis {
  readonly file: string;
  readonly format: ModelFormat;
  readonly models: readonly ModelDiagnosis[];
  /** File-level findings: syntax errors, no model found. */
  readonly problems: readonly Finding[];
  /** A notebook's code cells: every span is then an offset of the joined program (LoadResult.cells). */
  readonly cells?: LoadResult['cells'];
}

export type DiagnoseEvent =
  | { readonly kind: 'model-start'; readonly model: string; readonly phase: 'baseline' | 'reference' | 'verify'; readonly label?: string }
  | { readonly kind: 'step'; readonly model: string; readonly step: number; readonly steps: number; readonly loss: number };

export function problemToFinding(problem: LoadProblem, layerIndex: number | null = null): Finding {
  return {
    code: problem.code,
    severity: problem.code === 'unsupported-layer' ? 'warning' : 'error',
    layerIndex,
    span: problem.span,
    message: problem.message,
    metrics: {},
    suggestions: [],
  };
}

function toTrainingData(dataset: Dataset, x: Float32Array = dataset.x): TrainingData {
  return { x, rows: dataset.rows, features: dataset.features, y: dataset.y, targetWidth: dataset.targetWidth };
}

async function diagnoseModel(
  model: ModelSpec,
  client: TrainerClient,
  options: DiagnoseOptions,
  onEvent: ((event: DiagnoseEvent) => void) | undefined,
  signal: CancellationSignal | undefined,
  resolveData: DataResolver | undefined,
): Promise<ModelDiagnosis> {
  const loadFindings = model.problems.map((p) => problemToFinding(p));
  const resolved = await resolveData?.(model);
  if (resolved && 'error' in resolved) {
    return { model, findings: loadFindings, whatIfs: [], error: { kind: 'data', message: resolved.error } };
  }
  const data = resolved;
  const shapeMismatch = data ? sampleShapeMismatch(data.dataset.sampleShape, model.inputShape) : undefined;
  if (data && shapeMismatch) {
    return { model, data, findings: loadFindings, whatIfs: [], error: { kind: 'data', message: shapeMismatch } };
  }
  let features: FeatureStats[] | undefined;
  let input: InputSummary | undefined;
  if (data) {
    features = featureStats(data.dataset.x, data.dataset.rows, data.dataset.features, data.dataset.columns);
    input = summarizeInput(features, data.dataset.rows, options.thresholds);
  }
  const inputOffness = (summary: InputSummary | undefined) => (summary?.worst[0] ? offness(summary.worst[0], options.thresholds) : 0);
  const { options: training, used } = resolveTraining(model, options.training, options.explicit);
  // What-if runs train exactly as many steps as the baseline did (same seed, data and steps).
  let steps = training.steps;
  const train = (spec: ModelSpec, trainingData?: TrainingData, learningRate = training.learningRate, earlyStop?: EarlyStop) =>
    client.train(spec, { ...training, steps, learningRate }, options.backend, options.parameterCap,
      (step, total, loss) => onEvent?.({ kind: 'step', model: model.name, step, steps: total, loss }), signal, trainingData,
      earlyStop ? { ...earlyStop, thresholds: options.thresholds } : undefined);

  onEvent?.({ kind: 'model-start', model: model.name, phase: 'baseline' });
  let stats: RunStats;
  const baseData = data ? toTrainingData(data.dataset) : undefined;
  try {
    stats = await train(model, baseData, training.learningRate, options.earlyStop);
    if (stats.stoppedEarly) steps = stats.stepsRun;
  } catch (error) {
    if (error instanceof TrainingError && error.kind !== 'cancelled' && error.kind !== 'crashed') {
      return { model, data, input, training: used, findings: loadFindings, whatIfs: [], error: { kind: error.kind, message: error.message } };
    }
    throw error;
  }

  // Calibration: a reference run of the canonical network, made only when a dead or saturated
  // figure is above its absolute threshold (else there is nothing to calibrate), shared by every
  // run with the same canonical network and rate.
  const references = new Map<string, Promise<RunStats>>();
  // The reference sees the data as a healthy set-up would: standardised per feature (badly
  // scaled inputs are a finding of their own, and must not make the reference look saturated).
  // Made on the first reference actually trained: most runs need none.
  let referenceData: TrainingData | undefined;
  const referenceDataOf = (): TrainingData | undefined => {
    if (data && features && !referenceData) {
      referenceData = toTrainingData(data.dataset, transformFeatures(data.dataset.x, data.dataset.rows, data.dataset.features, features, 'standardize'));
    }
    return referenceData;
  };
  let baselineReference: ModelDiagnosis['reference'];
  const findingsOf = async (spec: ModelSpec, run: RunStats, learningRate: number): Promise<Finding[]> => {
    const uncalibrated = evaluate(spec, run, options.thresholds);
    if (!uncalibrated.some((f) => CALIBRATED_CODES.has(f.code))) return uncalibrated;
    const plan = referencePlan(spec, training.optimizer, learningRate);
    // With the user's data the reference differs from the run (it standardises the inputs).
    if (plan.sameAsRun && !data) {
      if (spec === model) baselineReference = { stats: run, sameAsRun: true };
      return evaluate(spec, run, options.thresholds, { summaries: summarize(run) });
    }
    const key = plan.key;
    let reference = references.get(key);
    if (!reference) {
      onEvent?.({ kind: 'model-start', model: model.name, phase: 'reference' });
      reference = train(plan.model, referenceDataOf(), plan.learningRate);
      references.set(key, reference);
    }
    const referenceStats = await reference;
    if (spec === model) baselineReference = { stats: referenceStats, sameAsRun: false };
    return evaluate(spec, run, options.thresholds, { summaries: summarize(referenceStats) });
  };

  const summaries = summarize(stats);
  const inputFinding = input ? evaluateInput(model, input, options.thresholds) : undefined;
  const headFindings = evaluateHead(model);
  const findings = [...(inputFinding ? [inputFinding] : []), ...headFindings, ...await findingsOf(model, stats, training.learningRate)];
  const candidates = [...proposeHeadCandidates(model, headFindings), ...proposeCandidates(model, findings), ...(inputFinding ? proposeDataCandidates() : [])];
  const maxLoss = (s: RunStats) => Math.max(0, ...s.loss.filter(Number.isFinite));

  const whatIfs: WhatIf[] = [];
  const whatIfInput = new Map<string, InputSummary>();
  if (options.verify) {
    for (const candidate of candidates) {
      onEvent?.({ kind: 'model-start', model: model.name, phase: 'verify', label: candidate.label });
      const changed = applyCandidate(model, candidate);
      let trainingData = baseData;
      let changedInput = input;
      if (data && features && candidate.dataTransform) {
        const x = transformFeatures(data.dataset.x, data.dataset.rows, data.dataset.features, features, candidate.dataTransform);
        trainingData = toTrainingData(data.dataset, x);
        changedInput = summarizeInput(featureStats(x, data.dataset.rows, data.dataset.features, data.dataset.columns), data.dataset.rows, options.thresholds);
        whatIfInput.set(candidate.id, changedInput);
      }
      const learningRate = training.learningRate * (candidate.learningRateFactor ?? 1);
      const whatIfStats = await train(changed, trainingData, learningRate);
      const changedInputFinding = changedInput ? evaluateInput(changed, changedInput, options.thresholds) : undefined;
      whatIfs.push({
        candidate,
        stats: whatIfStats,
        findings: [
          ...(changedInputFinding ? [changedInputFinding] : []),
          ...evaluateHead(changed),
          ...await findingsOf(changed, whatIfStats, learningRate),
        ],
      });
    }
  }

  const withSuggestions = findings.map((finding): Finding => {
    const suggestions: Suggestion[] = [];
    for (const candidate of candidates) {
      if (!candidateAddresses(model, candidate, finding)) continue;
      const whatIf = whatIfs.find((w) => w.candidate.id === candidate.id);
      let verified;
      if (whatIf) {
        const before = targetMetric(finding, summaries, maxLoss(stats), !!stats.nonFinite, inputOffness(input));
        const after = finding.code === 'head-loss-mismatch'
          ? { mismatch: whatIf.findings.some((f) => f.code === 'head-loss-mismatch') ? 1 : 0 }
          : targetMetric(finding, summarize(whatIf.stats), maxLoss(whatIf.stats), !!whatIf.stats.nonFinite, inputOffness(whatIfInput.get(candidate.id) ?? input));
        verified = judge(finding, before, after, whatIf.findings, options.thresholds, {
          initial: stats.loss[0] ?? NaN,
          before: stats.loss.at(-1) ?? NaN,
          after: whatIf.stats.loss.at(-1) ?? NaN,
        }, findings, model);
      }
      const suggestion = toSuggestion(model, candidate, finding, verified);
      suggestions.push(candidate.learningRateFactor !== undefined ? { ...suggestion, learningRate: training.learningRate * candidate.learningRateFactor } : suggestion);
    }
    return { ...finding, suggestions: rankSuggestions(suggestions) };
  });
  const stability = stableFrom(model, stats, options.thresholds);
  return { model, data, input, stats, training: used, reference: baselineReference, summaries, stability, findings: [...loadFindings, ...withSuggestions], whatIfs };
}

/** Diagnoses every model of a loaded file, one after another, in the shared trainer worker. */
export async function diagnoseLoaded(
  file: string,
  loaded: LoadResult,
  client: TrainerClient,
  options: DiagnoseOptions = DEFAULT_DIAGNOSE_OPTIONS,
  onEvent?: (event: DiagnoseEvent) => void,
  signal?: CancellationSignal,
  resolveData?: DataResolver,
): Promise<FileDiagnosis> {
  const models: ModelDiagnosis[] = [];
  for (const model of loaded.models) {
    models.push(await diagnoseModel(model, client, options, onEvent, signal, resolveData));
  }
  return { file, format: loaded.format, models, problems: loaded.problems.map((p) => problemToFinding(p)), ...(loaded.cells ? { cells: loaded.cells } : {}) };
}

/** The most severe finding of a diagnosis, for exit codes and summaries. */
export function worstSeverity(diagnosis: FileDiagnosis): Finding['severity'] | undefined {
  const all = [...diagnosis.problems, ...diagnosis.models.flatMap((m) => m.findings)];
  return all.reduce<Finding['severity'] | undefined>(
    (worst, f) => (worst === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst] ? f.severity : worst),
    undefined,
  );
}
