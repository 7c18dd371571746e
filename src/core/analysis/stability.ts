/**
 * When did the diagnosis stop changing? Re-evaluates the rules on every prefix of a run (up to
 * each probe) and finds the first step from which the set of findings (code, layer, severity)
 * stays the same as at the end. The time to that step is what a person waits for a diagnosis
 * that more training would not change.
 */
import type { ModelSpec } from '../model';
import type { RunStats } from '../stats';
import { evaluate } from './rules';
import type { Thresholds } from './types';

function prefix(stats: RunStats, step: number): RunStats {
  return {
    ...stats,
    stepsRun: step,
    loss: stats.loss.slice(0, step),
    nonFinite: stats.nonFinite && stats.nonFinite.step < step ? stats.nonFinite : undefined,
    layers: stats.layers.map((l) => ({ ...l, gradNorms: l.gradNorms.slice(0, step), probes: l.probes.filter((p) => p.step <= step) })),
  };
}

/** The set of findings (code, layer, severity) of a run, as one comparable string. */
export function findingSignature(model: ModelSpec, stats: RunStats, thresholds: Thresholds): string {
  return evaluate(model, stats, thresholds)
    .map((f) => `${f.code}@${f.layerIndex ?? '-'}:${f.severity}`)
    .sort()
    .join(',');
}

export interface Stability {
  /** First step from which the findings no longer changed. */
  readonly step: number;
  /** Wall time from the start of training to that step, ms (undefined without step timings). */
  readonly ms?: number;
}

/** The step (a probe step) from which the findings equal the final ones; undefined for an empty run. */
export function stableFrom(model: ModelSpec, stats: RunStats, thresholds: Thresholds): Stability | undefined {
  if (stats.stepsRun === 0) return undefined;
  const probeSteps = [...new Set((stats.layers[0]?.probes ?? []).map((p) => p.step).filter((s) => s > 0 && s <= stats.stepsRun))].sort((a, b) => a - b);
  if (!probeSteps.includes(stats.stepsRun)) probeSteps.push(stats.stepsRun);
  const final = findingSignature(model, stats, thresholds);
  let stable = stats.stepsRun;
  for (let i = probeSteps.length - 1; i >= 0; i--) {
    if (findingSignature(model, prefix(stats, probeSteps[i]), thresholds) !== final) break;
    stable = probeSteps[i];
  }
  return { step: stable, ms: stats.elapsedMs?.[stable - 1] };
}

/** A stateful check for the trainer: true once the findings held still for `patience` probes. */
export function stabilityStopper(model: ModelSpec, thresholds: Thresholds, patience: number, minSteps: number): (soFar: RunStats) => boolean {
  let previous: string | undefined;
  let unchanged = 0;
  return (soFar) => {
    const current = findingSignature(model, soFar, thresholds);
    unchanged = current === previous ? unchanged + 1 : 0;
    previous = current;
    return unchanged >= patience && soFar.stepsRun >= minSteps;
  };
}
