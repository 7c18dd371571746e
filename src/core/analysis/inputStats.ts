/**
 * Input diagnostics: per-feature moments of the user's data and the `input-not-normalized`
 * finding. Pure functions over plain arrays.
 */
import type { ModelSpec } from '../model';
import { fmt } from './rules';
import type { Finding, Thresholds } from './types';

export interface FeatureStats {
  readonly name: string;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  /** Third standardised moment E[(x−μ)³]/σ³ (0 for a symmetric distribution). */
  readonly skewness: number;
  /** Fourth standardised moment minus 3 (0 for a normal distribution). */
  readonly excessKurtosis: number;
}

export interface InputSummary {
  readonly rows: number;
  readonly features: number;
  /** Mean over features of |mean| and of std, the dataset's overall centring and scale. */
  readonly meanAbsMean: number;
  readonly meanStd: number;
  /** The features furthest from zero-centred, unit scale (at most 5), worst first. */
  readonly worst: readonly FeatureStats[];
  readonly constantFeatures: number;
  /** Constant features whose value is not 0 (at most 5): no information, and a shift like a bias. */
  readonly constantNonZero?: readonly FeatureStats[];
}

/** One pass for the mean, a second for the central moments (numerically stabler than raw sums). */
export function featureStats(x: Float32Array, rows: number, features: number, names: readonly string[]): FeatureStats[] {
  const out: FeatureStats[] = [];
  for (let f = 0; f < features; f++) {
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < rows; r++) {
      const v = x[r * features + f];
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = sum / rows;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (let r = 0; r < rows; r++) {
      const d = x[r * features + f] - mean;
      const d2 = d * d;
      m2 += d2;
      m3 += d2 * d;
      m4 += d2 * d2;
    }
    m2 /= rows;
    m3 /= rows;
    m4 /= rows;
    const std = Math.sqrt(m2);
    out.push({
      name: names[f] ?? `f${f}`,
      mean,
      std,
      min,
      max,
      skewness: std > 0 ? m3 / std ** 3 : 0,
      excessKurtosis: std > 0 ? m4 / (m2 * m2) - 3 : 0,
    });
  }
  return out;
}

/** How far a feature is from zero-centred, unit-scaled, in multiples of the allowed limits (> 1 = off). */
export function offness(s: FeatureStats, t: Thresholds): number {
  if (s.std === 0) return Math.abs(s.mean) / t.inputMeanLimit;
  return Math.max(Math.abs(s.mean) / t.inputMeanLimit, s.std / t.inputStdMax, t.inputStdMin / s.std);
}

export function summarizeInput(stats: readonly FeatureStats[], rows: number, t: Thresholds): InputSummary {
  const varying = stats.filter((s) => s.std > 0);
  const n = Math.max(1, stats.length);
  return {
    rows,
    features: stats.length,
    meanAbsMean: stats.reduce((a, s) => a + Math.abs(s.mean), 0) / n,
    meanStd: stats.reduce((a, s) => a + s.std, 0) / n,
    worst: [...varying].sort((a, b) => offness(b, t) - offness(a, t)).slice(0, 5),
    constantFeatures: stats.length - varying.length,
    constantNonZero: stats.filter((s) => s.std === 0 && s.mean !== 0).slice(0, 5),
  };
}

/** The `input-not-normalized` finding, when the worst non-constant feature is off the limits. */
export function evaluateInput(model: ModelSpec, summary: InputSummary, t: Thresholds): Finding | undefined {
  const worst = summary.worst[0];
  const constants = summary.constantNonZero ?? [];
  if (!worst || offness(worst, t) <= 1) {
    if (constants.length === 0 || constants.length === summary.features) return undefined;
    // Every scaled feature is fine, but some never vary: worth knowing, not a training problem.
    const listed = constants.map((s) => `${s.name} = ${fmt(s.mean)}`).join(', ');
    return inputFinding(model, 'info',
      `Constant input feature${constants.length > 1 ? 's' : ''}: ${listed}${summary.constantFeatures > constants.length ? ` (${summary.constantFeatures} constant features in all)` : ''}. ` +
        `A feature that never varies tells the network nothing and only shifts the first layer's pre-activations, like an extra bias; dropping it loses nothing.`,
      { constantFeatures: summary.constantFeatures });
  }
  const off = summary.worst.filter((s) => offness(s, t) > 1).map((s) => `${s.name} (mean ${fmt(s.mean)}, std ${fmt(s.std)})`);
  return inputFinding(model, 'warning',
    `Inputs are not normalised: ${off.join(', ')}; across all ${summary.features} features the mean |mean| is ${fmt(summary.meanAbsMean)} and the mean std ${fmt(summary.meanStd)}. ` +
      `Large or off-centre inputs push the first layer's pre-activations far from 0, which saturates sigmoid/tanh and slows learning.`,
    { worstMean: worst.mean, worstStd: worst.std, meanAbsMean: summary.meanAbsMean, meanStd: summary.meanStd });
}

/** An `input-not-normalized` finding, placed at the first layer (where the inputs arrive). */
function inputFinding(model: ModelSpec, severity: Finding['severity'], message: string, metrics: Record<string, number>): Finding {
  return { code: 'input-not-normalized', severity, layerIndex: null, span: model.layers[0]?.source.span ?? model.span, message, metrics, suggestions: [] };
}

export type DataTransform = 'standardize' | 'scaleToUnitRange';

/** Applies a per-feature transform: z = (x − μ)/σ, or 2(x − min)/(max − min) − 1 into [−1, 1]. */
export function transformFeatures(x: Float32Array, rows: number, features: number, stats: readonly FeatureStats[], transform: DataTransform): Float32Array {
  const out = new Float32Array(x.length);
  for (let f = 0; f < features; f++) {
    const s = stats[f];
    const range = s.max - s.min;
    for (let r = 0; r < rows; r++) {
      const i = r * features + f;
      if (transform === 'standardize') out[i] = s.std > 0 ? (x[i] - s.mean) / s.std : 0;
      else out[i] = range > 0 ? (2 * (x[i] - s.min)) / range - 1 : 0;
    }
  }
  return out;
}
