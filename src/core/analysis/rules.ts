/**
 * The rules: from per-layer numbers to findings. Deterministic and pure; every threshold comes
 * from `Thresholds`. Messages are written for the person reading them in the Problems panel.
 */
import type { ActivationName, LayerSpec, ModelSpec } from '../model';
import type { LayerStats, RunStats } from '../stats';
import type { Finding, Severity, Thresholds } from './types';

/** One number per layer per metric, the summary the rules, CLI table and JSON use. */
export interface LayerSummary {
  readonly index: number;
  readonly hasKernel: boolean;
  /** Geometric mean over the steps of ‖∇W‖₂ (0 when every step was exactly 0). */
  readonly gradNorm: number;
  /** ‖∇W‖ at step 0, before any update. */
  readonly gradNormStep0: number;
  /** gradNorm / gradNorm of the last layer with a kernel. */
  readonly gradRatioToLast: number;
  /** Mean over the probes of the saturated fraction. */
  readonly saturatedFraction: number;
  /** At the last probe (dead units do not recover). */
  readonly deadFraction: number;
  readonly inactiveFraction: number;
  /** The same three at step 0, before any update (initialisation alone). */
  readonly saturatedFractionStep0: number;
  readonly deadFractionStep0: number;
  readonly inactiveFractionStep0: number;
  /** Post-activation mean and std at the last probe. */
  readonly mean: number;
  readonly std: number;
  readonly min: number;
}

export const TWO_SIDED_SATURATING: ReadonlySet<ActivationName> = new Set(['sigmoid', 'tanh', 'hardSigmoid', 'softsign']);
export const RELU_FAMILY_THAT_DIES: ReadonlySet<ActivationName> = new Set(['relu', 'relu6']);

/** exp(mean(log x)): the typical magnitude of a quantity that varies over orders of magnitude. */
export function geometricMean(values: readonly number[]): number {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return 0;
  return Math.exp(positive.reduce((s, v) => s + Math.log(v), 0) / positive.length);
}

export function summarize(stats: RunStats): LayerSummary[] {
  const lastKernel = [...stats.layers].reverse().find((l) => l.hasKernel && l.gradNorms.length > 0);
  const lastNorm = lastKernel ? geometricMean(lastKernel.gradNorms) : 0;
  return stats.layers.map((layer: LayerStats): LayerSummary => {
    const gradNorm = layer.hasKernel ? geometricMean(layer.gradNorms) : 0;
    const lastProbe = layer.probes[layer.probes.length - 1];
    const saturated = layer.probes.length
      ? layer.probes.reduce((s, p) => s + p.saturatedFraction, 0) / layer.probes.length
      : 0;
    return {
      index: layer.index,
      hasKernel: layer.hasKernel,
      gradNorm,
      gradNormStep0: layer.gradNorms[0] ?? 0,
      gradRatioToLast: layer.hasKernel && lastNorm > 0 ? gradNorm / lastNorm : 0,
      saturatedFraction: saturated,
      deadFraction: lastProbe?.deadFraction ?? 0,
      inactiveFraction: lastProbe?.inactiveFraction ?? 0,
      saturatedFractionStep0: layer.probes[0]?.saturatedFraction ?? 0,
      deadFractionStep0: layer.probes[0]?.deadFraction ?? 0,
      inactiveFractionStep0: layer.probes[0]?.inactiveFraction ?? 0,
      mean: lastProbe?.mean ?? 0,
      std: lastProbe?.std ?? 0,
      min: lastProbe?.min ?? 0,
    };
  });
}

/** Compact number for messages: 3.1e-6, 0.42, 1.9. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e4) return value.toExponential(1).replace('e+', 'e');
  return Number(value.toPrecision(2)).toString();
}

/** Percent for messages; near 0 % and 100 % one decimal is kept so "100 %" always means all. */
export function pct(fraction: number): string {
  const p = fraction * 100;
  if ((p > 99.5 && p < 100) || (p > 0 && p < 0.5)) return `${p.toFixed(1)}%`;
  return `${Math.round(p)}%`;
}

/** The output head: its activation is the task's (softmax, a final sigmoid) and never a finding. */
export function isHead(model: ModelSpec, layer: LayerSpec): boolean {
  return layer.index === model.layers.length - 1;
}

/** Does a kernel layer come after this one (so its outputs feed more weights)? */
function feedsWeights(model: ModelSpec, layer: LayerSpec): boolean {
  return model.layers.slice(layer.index + 1).some((l) => l.kind === 'dense' || l.kind === 'conv1d' || l.kind === 'conv2d');
}

/**
 * What healthy networks of the same shape show under the same probe: the run of the same
 * architecture with each activation's canonical initialiser, zero biases and a learning rate no
 * larger than the optimiser's default (engine/diagnose.ts makes it). Dead and saturated fractions
 * are judged by how far they exceed it, since a brief probe leaves some units of even a textbook
 * network off (a dense layer after convolutions: 50–70 % in PyTorch too).
 */
export interface Calibration {
  readonly summaries: readonly LayerSummary[];
}

/** Codes whose rules are calibrated against the reference run. */
export const CALIBRATED_CODES: ReadonlySet<Finding['code']> = new Set(['dead-relu', 'saturated-activation']);

/**
 * Applies every rule to one trained model. Suggestions are attached later. Without a calibration
 * the dead and saturated rules use the absolute thresholds alone (what needs a reference run).
 */
export function evaluate(model: ModelSpec, stats: RunStats, thresholds: Thresholds, calibration?: Calibration): Finding[] {
  const findings: Finding[] = [];
  const summaries = summarize(stats);
  const reference = (index: number): LayerSummary | undefined => calibration?.summaries[index];
  const sinceInit = (now: number, atInit: number, what: string): string =>
    atInit >= 0.8 * now && atInit > 0
      ? `already ${pct(atInit)} at initialisation, before any update, so the cause is the starting weights or biases`
      : `${pct(atInit)} at initialisation: they became ${what} while training`;
  const add = (layer: LayerSpec | null, code: Finding['code'], severity: Severity, message: string, metrics: Record<string, number>) =>
    findings.push({ code, severity, layerIndex: layer ? layer.index : null, span: layer ? layer.source.span : model.span, message, metrics, suggestions: [] });

  if (stats.nonFinite) {
    const where = stats.nonFinite.what;
    add(null, 'non-finite', 'error',
      `Training produced NaN/Inf in the ${where} at step ${stats.nonFinite.step + 1}: the weights or the learning rate are too large for this network to train.`,
      { step: stats.nonFinite.step + 1 });
  }

  const finiteLoss = stats.loss.filter(Number.isFinite);
  const maxLoss = finiteLoss.length ? Math.max(...finiteLoss) : 0;
  if (maxLoss >= thresholds.explodingLoss) {
    add(null, 'exploding-gradient', 'error',
      `The loss reached ${fmt(maxLoss)} (threshold ${fmt(thresholds.explodingLoss)}): updates are large enough to throw the weights far off; training diverges.`,
      { maxLoss });
  }

  for (const layer of model.layers) {
    const s = summaries[layer.index];
    const act = layer.activation.name;
    const head = isHead(model, layer);

    if (s.hasKernel && !head && s.gradRatioToLast > 0) {
      if (s.gradRatioToLast < thresholds.vanishingWarnRatio) {
        const severity: Severity = s.gradRatioToLast < thresholds.vanishingErrorRatio ? 'error' : 'warning';
        add(layer, 'vanishing-gradient', severity,
          `Vanishing gradient: this layer's weights get a gradient ${fmt(s.gradRatioToLast)} times the size of the last layer's (‖∇W‖ = ${fmt(s.gradNorm)}). ` +
            `Each layer above multiplies the gradient by its activation's slope, so this layer will barely learn.`,
          { gradNorm: s.gradNorm, gradRatioToLast: s.gradRatioToLast });
      } else if (s.gradRatioToLast > thresholds.explodingRatio) {
        add(layer, 'exploding-gradient', 'warning',
          `Exploding gradient: this layer's weights get a gradient ${fmt(s.gradRatioToLast)} times the last layer's (‖∇W‖ = ${fmt(s.gradNorm)}); ` +
            `gradients grow on their way back, so a learning rate that suits the last layer is too large here.`,
          { gradNorm: s.gradNorm, gradRatioToLast: s.gradRatioToLast });
      }
    }

    const ref = reference(layer.index);
    if (!head && TWO_SIDED_SATURATING.has(act) && s.saturatedFraction > thresholds.saturatedWarnFraction) {
      const excess = s.saturatedFraction - (ref?.saturatedFraction ?? 0);
      const severity: Severity | undefined = !ref
        ? (s.saturatedFraction > thresholds.saturatedErrorFraction ? 'error' : 'warning')
        : excess >= thresholds.saturatedExcessError && s.saturatedFraction > thresholds.saturatedErrorFraction ? 'error'
          : excess >= thresholds.saturatedExcessWarn ? 'warning' : undefined;
      const threshold = stats.options.saturationThresholds[act];
      if (severity) {
        add(layer, 'saturated-activation', severity,
          `Saturated ${act}: ${pct(s.saturatedFraction)} of its inputs are beyond ±${threshold ?? '?'}, where its slope is almost 0, ` +
            `so almost no gradient passes through these units (${sinceInit(s.saturatedFraction, s.saturatedFractionStep0, 'saturated')}` +
            `${ref ? `; ${pct(ref.saturatedFraction)} with canonical initialisation` : ''}).`,
          {
            saturatedFraction: s.saturatedFraction, saturatedFractionStep0: s.saturatedFractionStep0,
            preStd: stats.layers[layer.index].probes.at(-1)?.preStd ?? 0,
            ...(ref ? { referenceSaturatedFraction: ref.saturatedFraction } : {}),
          });
      }
    }

    if (RELU_FAMILY_THAT_DIES.has(act)) {
      const dead = s.deadFraction >= thresholds.deadWarnFraction;
      const inactive = s.inactiveFraction >= thresholds.inactiveWarnFraction;
      const deadExcess = s.deadFraction - (ref?.deadFraction ?? 0);
      const inactiveExcess = s.inactiveFraction - (ref?.inactiveFraction ?? 0);
      const severity: Severity | undefined = !ref
        ? (dead || inactive ? (s.deadFraction >= thresholds.deadErrorFraction ? 'error' : 'warning') : undefined)
        : s.deadFraction >= thresholds.deadErrorFraction && deadExcess >= thresholds.deadExcessError ? 'error'
          : (dead && deadExcess >= thresholds.deadExcessWarn) || (inactive && inactiveExcess >= thresholds.deadExcessWarn) ? 'warning' : undefined;
      if (severity) {
        // Say when it happened of whichever figure stands out more: units that never fire, or
        // outputs that are almost all 0 (a negative bias leaves units barely alive).
        const byOutputs = inactiveExcess > deadExcess && inactive;
        const when = byOutputs
          ? `${pct(s.inactiveFraction)} of all outputs are 0 (${sinceInit(s.inactiveFraction, s.inactiveFractionStep0, 'inactive')})`
          : `${pct(s.inactiveFraction)} of all outputs are 0`;
        const units = byOutputs
          ? `${pct(s.deadFraction)} of the units never fire on the probe batch`
          : `${pct(s.deadFraction)} of the units never fire on the probe batch (${sinceInit(s.deadFraction, s.deadFractionStep0, 'dead')})`;
        const reference = ref ? `; with canonical initialisation ${pct(ref.deadFraction)} of the units are dead and ${pct(ref.inactiveFraction)} of the outputs 0` : '';
        add(layer, 'dead-relu', severity,
          `Dead ReLUs: ${units} and ${when}${reference}. ` +
            `A unit whose input stays below 0 gets exactly zero gradient and never recovers.`,
          {
            deadFraction: s.deadFraction, deadFractionStep0: s.deadFractionStep0, inactiveFraction: s.inactiveFraction,
            inactiveFractionStep0: s.inactiveFractionStep0,
            ...(ref ? { referenceDeadFraction: ref.deadFraction } : {}),
          });
      }
    }

    // Only layers that apply a nonlinearity: a pooling, flatten or dropout layer after a ReLU
    // passes on outputs that are ≥ 0 too, but the cause (and any fix) is the activation before it.
    if (!head && act !== 'linear' && feedsWeights(model, layer) && s.min >= 0 && s.std > 0 && s.mean / s.std >= thresholds.offCentreRatio) {
      add(layer, 'not-zero-centred', 'info',
        `Not zero-centred: every output is ≥ 0 with mean ${fmt(s.mean)} against a spread of ${fmt(s.std)}. ` +
          `The next layer's weight updates then all share one sign per unit, so training zig-zags and slows.`,
        { mean: s.mean, std: s.std, meanToStd: s.mean / s.std });
    }
  }
  return findings;
}
