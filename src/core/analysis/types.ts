/** Findings and suggestions: what the rules conclude from RunStats. Pure data. */
import type { ActivationSpec, InitializerSpec, LossSpec, SourceSpan } from '../model';

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, error: 2 };

export type FindingCode =
  | 'vanishing-gradient'
  | 'exploding-gradient'
  | 'saturated-activation'
  | 'dead-relu'
  | 'not-zero-centred'
  | 'input-not-normalized'
  | 'non-finite'
  /** The output head's activation does not suit the loss it is trained with (issue 11). */
  | 'head-loss-mismatch'
  | 'unsupported-layer'
  | 'parse-error'
  /** The input shape is known only at run time; a Quick Fix asks for it (model.ts LoadProblemCode). */
  | 'unknown-input-shape';

/** One change to one layer, as a suggestion applies it. */
export interface LayerChange {
  readonly layerIndex: number;
  readonly activation?: ActivationSpec;
  readonly kernelInitializer?: InitializerSpec;
  readonly biasInitializer?: InitializerSpec;
  /** Insert BatchNormalization before this layer's activation. */
  readonly batchNormBeforeActivation?: boolean;
}

/** Before/after numbers of a suggestion, from retraining with the same seed, data and steps. */
export interface Verification {
  readonly improved: boolean;
  /** The metric the suggestion targets at this finding's layer, before and after. */
  readonly before: Readonly<Record<string, number>>;
  readonly after: Readonly<Record<string, number>>;
  /** Plain-words summary, e.g. "first/last gradient ratio 3e-6 → 1.9". */
  readonly summary: string;
  /** The finding no longer fires at its layer after the change. */
  readonly clears?: boolean;
  /** The what-if run's final loss (for ranking by outcome)… */
  readonly finalLoss?: number;
  /** …and the original run's. */
  readonly finalLossBefore?: number;
  /** Warnings or errors the change brought that the original run did not have ("dead-relu at layer 3"). */
  readonly introduced?: readonly string[];
}

export interface Suggestion {
  /** Stable id of the model-wide change this suggestion belongs to (e.g. "relu+heNormal"). */
  readonly id: string;
  /** Short label, e.g. "ReLU + He normal". */
  readonly label: string;
  /** Why, in one sentence. */
  readonly rationale: string;
  /** The activation this finding's layer gets (absent for initializer-only suggestions). */
  readonly activation?: ActivationSpec;
  /** The matching kernel initializer for this finding's layer (or its owning dense/conv layer). */
  readonly initializer?: InitializerSpec;
  readonly biasInitializer?: InitializerSpec;
  /** Every layer the model-wide change touches (the fix edits apply to all of them). */
  readonly changes: readonly LayerChange[];
  /** A change to the input data (standardise, scale) rather than to the source. */
  readonly dataTransform?: 'standardize' | 'scaleToUnitRange';
  /** A training-setting change: multiply the learning rate by this. */
  readonly learningRateFactor?: number;
  /** With learningRateFactor: the learning rate to write into the optimiser's line (the effective one × the factor). */
  readonly learningRate?: number;
  /** A change of the loss the model is trained with (a head/loss mismatch fix), in framework-neutral terms. */
  readonly loss?: LossChange;
  /** Present once the suggestion has been retrained; absent with --no-verify. */
  readonly verified?: Verification;
}

/** The loss a fix switches to; fixes spell it in the file's framework. */
export type LossChange = Pick<LossSpec, 'kind' | 'input' | 'sparse'>;

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** null for model- or file-level findings. */
  readonly layerIndex: number | null;
  readonly span: SourceSpan;
  readonly message: string;
  /** The numbers that triggered the finding. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly suggestions: readonly Suggestion[];
}

/** Every threshold the rules use; each can be overridden (CLI flags, VS Code settings). */
export interface Thresholds {
  /** Vanishing: a layer's ‖∇W‖ / last layer's below this is a warning… */
  readonly vanishingWarnRatio: number;
  /** …and below this an error (AUTOTRAINER uses 1e-3). */
  readonly vanishingErrorRatio: number;
  /** Exploding: ratio above this (AUTOTRAINER: 70). */
  readonly explodingRatio: number;
  /** Exploding: loss at or above this (AUTOTRAINER: 1e3). */
  readonly explodingLoss: number;
  /** Saturation: fraction of saturated entries above this is a warning (DeepDiagnosis: 0.5)… */
  readonly saturatedWarnFraction: number;
  /** …and above this an error. */
  readonly saturatedErrorFraction: number;
  /** Dead ReLU: fraction of units never active over the probe batch, warning… */
  readonly deadWarnFraction: number;
  /** …and error. */
  readonly deadErrorFraction: number;
  /**
   * Calibration (issue 11): dead and saturated fractions count only by how far they exceed those
   * of the same network with canonical initialisers (the reference run): a warning from this
   * excess (absolute fraction of units or entries)…
   */
  readonly deadExcessWarn: number;
  /** …and an error from this one. */
  readonly deadExcessError: number;
  readonly saturatedExcessWarn: number;
  readonly saturatedExcessError: number;
  /** Dead ReLU: fraction of outputs that are zero, above which a layer is "mostly inactive" (DeepDiagnosis: 0.7). */
  readonly inactiveWarnFraction: number;
  /** Not zero-centred: non-negative outputs with mean / std at or above this. */
  readonly offCentreRatio: number;
  /** Input data: a feature's |mean| above this is off-centre… */
  readonly inputMeanLimit: number;
  /** …its standard deviation above this or below the next is badly scaled. */
  readonly inputStdMax: number;
  readonly inputStdMin: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  vanishingWarnRatio: 1e-2,
  vanishingErrorRatio: 1e-3,
  explodingRatio: 70,
  explodingLoss: 1e3,
  saturatedWarnFraction: 0.5,
  saturatedErrorFraction: 0.8,
  deadWarnFraction: 0.1,
  deadErrorFraction: 0.5,
  // Seeds alone move a 64-unit layer's dead fraction by ±0.1 after 100 Adam steps (PyTorch,
  // test/unit/probeTask.test.ts), so the excess must clear twice that before it is a warning.
  deadExcessWarn: 0.2,
  deadExcessError: 0.4,
  saturatedExcessWarn: 0.25,
  saturatedExcessError: 0.4,
  inactiveWarnFraction: 0.9,
  offCentreRatio: 1,
  inputMeanLimit: 1,
  inputStdMax: 5,
  inputStdMin: 0.05,
};
