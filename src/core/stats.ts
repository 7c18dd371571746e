/**
 * RunStats: what one brief training run measured, as plain numbers (no tensors). Produced by the
 * trainer, consumed by the rules, the CLI and the report. Pure data.
 */
import type { ActivationName, LayerKind, OptimizerName } from './model';
export type { OptimizerName } from './model';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
export type BackendChoice = 'auto' | BackendName;

export interface BackendReport {
  /** The backend that actually ran (checked after setBackend, never assumed). */
  readonly name: BackendName;
  /** The device it computes on, where the backend names one (webgpu: the adapter). */
  readonly device?: string;
  /** Backends tried before it (or not tried) and why they were not used. */
  readonly skipped: readonly { readonly name: BackendName; readonly reason: string }[];
}


/** What the trainer is asked to do; the same options drive the baseline and every what-if run. */
export interface TrainingOptions {
  readonly steps: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly optimizer: OptimizerName;
  /** SGD / RMSprop momentum (0 or absent: none). */
  readonly momentum?: number;
  /** Probe-batch statistics every this many steps (and at step 0 and the last step). */
  readonly probeEvery: number;
  /** Samples in the fixed probe batch. */
  readonly probeSize: number;
  /** Pre-activation magnitude beyond which a two-sided unit counts as saturated, per activation. */
  readonly saturationThresholds: Readonly<Partial<Record<ActivationName, number>>>;
  /** Histogram bins of the probe activations (taken at the first and last probe). */
  readonly histogramBins: number;
  /**
   * Threads that share each batch (data-parallel gradients on the CPU backends: each computes
   * the gradient of its share of the rows, the trainer averages them). 1 or absent: one thread.
   */
  readonly threads?: number;
}

/** Statistics of one layer's output on the probe batch at one step. */
export interface ProbeSample {
  readonly step: number;
  /** Post-activation mean and standard deviation over all probe elements. */
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** Pre-activation mean and standard deviation. */
  readonly preMean: number;
  readonly preStd: number;
  /** Fraction of (sample, unit) entries whose |pre-activation| ≥ the saturation threshold. */
  readonly saturatedFraction: number;
  /** Fraction of units whose pre-activation is ≤ 0 for every probe sample (ReLU family: dead). */
  readonly deadFraction: number;
  /** Fraction of (sample, unit) entries with pre-activation ≤ 0. */
  readonly inactiveFraction: number;
}

export interface Histogram {
  readonly step: number;
  /** Bin edges, length bins + 1. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

export interface LayerStats {
  readonly index: number;
  readonly name: string;
  readonly kind: LayerKind;
  readonly activation: ActivationName;
  /** A kernel that trains: false for a frozen layer's (LayerSpec.frozen), whose gradient is not measured. */
  readonly hasKernel: boolean;
  /** The file freezes this layer: it is not trained (LayerSpec.frozen). */
  readonly frozen?: boolean;
  /** ‖∇W‖₂ (Frobenius norm of the kernel gradient) at every step; empty without a kernel. */
  readonly gradNorms: readonly number[];
  readonly probes: readonly ProbeSample[];
  readonly histograms: readonly Histogram[];
}

export interface RunStats {
  readonly backend: BackendReport;
  readonly options: TrainingOptions;
  /** Steps actually run (fewer than asked when a non-finite value or early stopping ended training). */
  readonly stepsRun: number;
  /** Training ended because the findings had stopped changing (see EarlyStop). */
  readonly stoppedEarly?: boolean;
  /** Mean wall time of a training step, ms, excluding the first (warm-up) step and the probes. */
  readonly msPerStep: number;
  /** Wall time of the whole run including model build and probes, ms. */
  readonly totalMs: number;
  readonly parameterCount: number;
  readonly loss: readonly number[];
  /** Wall time from the start of the run (model build included) to the end of each step, ms. */
  readonly elapsedMs?: readonly number[];
  readonly layers: readonly LayerStats[];
  /** The first step at which the loss or a gradient was NaN/Inf, if any. */
  readonly nonFinite?: { readonly step: number; readonly what: string };
  /** Threads that computed the gradients, and why fewer than asked when that happened. */
  readonly parallelism?: { readonly threads: number; readonly note?: string };
}

/** The user's samples for training instead of synthetic data (rows × features, row-major). */
export interface TrainingData {
  readonly x: Float32Array;
  readonly rows: number;
  readonly features: number;
  /** rows × targetWidth targets: class indices (width 1) or one-hot/values; absent → random targets. */
  readonly y?: Float32Array;
  readonly targetWidth: number;
}

/** Stop training once the findings have not changed for `patience` probes (and `minSteps` ran). */
export interface EarlyStop {
  readonly patience: number;
  readonly minSteps: number;
}
