/**
 * The decision guide (activation-guide.md §4) as code: which model-wide changes to try for the
 * findings of a run, how to apply one to a ModelSpec, and how to judge its retrained result.
 */
import { hasKernel, type ActivationName, type ActivationSpec, type InitializerSpec, type LayerSpec, type ModelSpec } from '../model';
import { countParameters } from '../shapes';
import { fmt, isHead, pct, RELU_FAMILY_THAT_DIES, TWO_SIDED_SATURATING, type LayerSummary } from './rules';
import { SEVERITY_RANK, type Finding, type FindingCode, type LayerChange, type LossChange, type Suggestion, type Thresholds, type Verification } from './types';
import type { DataTransform } from './inputStats';

/** A model-wide change to retrain and, if it helps, offer. */
export interface Candidate {
  readonly id: string;
  readonly label: string;
  readonly rationale: string;
  /** The finding codes this change is meant to fix. */
  readonly targets: ReadonlySet<FindingCode>;
  readonly changes: readonly LayerChange[];
  /** A change to the input data instead of (or besides) the layers. */
  readonly dataTransform?: DataTransform;
  /** Multiplies the learning rate (a training setting, not the model). */
  readonly learningRateFactor?: number;
  /** Trains with this loss instead (a head/loss fix). */
  readonly loss?: LossChange;
}

/** Input normalisation candidates, offered when the user's data is off-centre or badly scaled. */
export function proposeDataCandidates(): Candidate[] {
  const targets = new Set<FindingCode>(['input-not-normalized', 'saturated-activation', 'vanishing-gradient', 'dead-relu']);
  return [
    {
      id: 'standardize-inputs',
      label: 'Standardise the inputs (x − mean) / std per feature',
      rationale: 'Zero-centred, unit-variance inputs keep the first layers\' pre-activations where activations have slope.',
      targets,
      changes: [],
      dataTransform: 'standardize',
    },
    {
      id: 'scale-inputs',
      label: 'Scale the inputs to [−1, 1] per feature',
      rationale: 'A fixed range centred on 0 (e.g. pixels / 127.5 − 1) removes the offset and the large scale.',
      targets,
      changes: [],
      dataTransform: 'scaleToUnitRange',
    },
  ];
}

/** Above this many parameters a network counts as large: prefer Leaky ReLU to ELU (exp cost). */
export const LARGE_NETWORK_PARAMETERS = 1_000_000;

const HE_NORMAL: InitializerSpec = { name: 'heNormal' };
const GLOROT_UNIFORM: InitializerSpec = { name: 'glorotUniform' };
const LECUN_NORMAL: InitializerSpec = { name: 'lecunNormal' };
const ZEROS: InitializerSpec = { name: 'zeros' };

/** The initializer that keeps activations' variance steady for an activation (He, Glorot, LeCun). */
export function matchingInitializer(activation: ActivationName): InitializerSpec {
  if (activation === 'selu') return LECUN_NORMAL;
  if (TWO_SIDED_SATURATING.has(activation) || activation === 'linear' || activation === 'softmax') return GLOROT_UNIFORM;
  return HE_NORMAL;
}

/** The dense/conv layer whose kernel feeds this layer's activation (itself, or the nearest above). */
export function kernelOwner(model: ModelSpec, layer: LayerSpec): LayerSpec | undefined {
  for (let i = layer.index; i >= 0; i--) {
    const candidate = model.layers[i];
    if (hasKernel(candidate.kind)) return candidate;
  }
  return undefined;
}

function swapChanges(model: ModelSpec, layers: readonly LayerSpec[], activation: ActivationSpec): LayerChange[] {
  const changes = new Map<number, LayerChange>();
  const init = matchingInitializer(activation.name);
  for (const layer of layers) {
    changes.set(layer.index, { ...changes.get(layer.index), layerIndex: layer.index, activation });
    const owner = kernelOwner(model, layer);
    if (owner) changes.set(owner.index, { ...changes.get(owner.index), layerIndex: owner.index, kernelInitializer: init });
  }
  return [...changes.values()].sort((a, b) => a.layerIndex - b.layerIndex);
}

/** True when an explicit kernel initializer is larger than the defaults (a common cause). */
function hasLargeInit(layer: LayerSpec): boolean {
  const init = layer.kernelInitializer;
  if (!init) return false;
  if (init.name === 'randomNormal' || init.name === 'truncatedNormal') return (init.stddev ?? 0.05) >= 0.2;
  if (init.name === 'randomUniform') return Math.max(Math.abs(init.minval ?? 0.05), Math.abs(init.maxval ?? 0.05)) >= 0.35;
  if (init.name === 'constant' || init.name === 'ones') return true;
  if (init.name === 'varianceScaling') return (init.scale ?? 1) > 4;
  return false;
}

const label = (activation: ActivationSpec): string => {
  switch (activation.name) {
    case 'relu': return 'ReLU';
    case 'leakyRelu': return `Leaky ReLU (α = ${activation.alpha ?? 0.01})`;
    case 'elu': return 'ELU';
    default: return activation.name;
  }
};
const initLabel = (init: InitializerSpec): string =>
  ({ heNormal: 'He normal', glorotUniform: 'Glorot uniform', lecunNormal: 'LeCun normal', zeros: 'zeros' } as Record<string, string>)[init.name] ?? init.name;

function activationCandidate(model: ModelSpec, layers: LayerSpec[], activation: ActivationSpec, targets: FindingCode[], rationale: string): Candidate {
  const init = matchingInitializer(activation.name);
  return {
    id: `${activation.name}${activation.alpha !== undefined ? `(${activation.alpha})` : ''}+${init.name}`,
    label: `${label(activation)} + ${initLabel(init)} init`,
    rationale,
    targets: new Set(targets),
    changes: swapChanges(model, layers, activation),
  };
}

/** Which model-wide changes to retrain for these findings, in the order the guide prefers them. */
export function proposeCandidates(model: ModelSpec, findings: readonly Finding[]): Candidate[] {
  const candidates: Candidate[] = [];
  const codesAt = (code: FindingCode) => new Set(findings.filter((f) => f.code === code && f.layerIndex !== null).map((f) => f.layerIndex as number));
  const hidden = model.layers.filter((l) => !isHead(model, l));
  const small = countParameters(model) <= LARGE_NETWORK_PARAMETERS;
  const secondChoice: ActivationSpec = small ? { name: 'elu', alpha: 1 } : { name: 'leakyRelu', alpha: 0.01 };
  const secondWhy = small
    ? 'ELU keeps a gradient for negative inputs and zero-centres its outputs; its exponentials are affordable in a network this size.'
    : 'Leaky ReLU keeps a small gradient for negative inputs and stays cheap in a large network.';

  // 1. Hidden sigmoid/tanh with vanishing gradients or saturation: ReLU first, then ELU / Leaky ReLU.
  const vanishing = findings.some((f) => f.code === 'vanishing-gradient');
  const saturated = codesAt('saturated-activation');
  const offCentre = codesAt('not-zero-centred');
  const twoSided = hidden.filter((l) => TWO_SIDED_SATURATING.has(l.activation.name));
  const twoSidedToSwap = twoSided.filter((l) => vanishing || saturated.has(l.index) || offCentre.has(l.index));
  if (twoSidedToSwap.length > 0) {
    const targets: FindingCode[] = ['vanishing-gradient', 'saturated-activation', 'not-zero-centred'];
    candidates.push(activationCandidate(model, twoSidedToSwap, { name: 'relu' }, targets,
      'ReLU passes gradients unchanged for positive inputs and cannot saturate on that side; He initialisation keeps the signal\'s scale through depth.'));
    candidates.push(activationCandidate(model, twoSidedToSwap, secondChoice, targets, secondWhy));
    // Saturation caused by an oversized initializer: keep the activation, fix the scale.
    const oversized = twoSided.filter((l) => saturated.has(l.index)).map((l) => kernelOwner(model, l)).filter((o): o is LayerSpec => !!o && hasLargeInit(o));
    if (oversized.length > 0) {
      candidates.push({
        id: 'glorotUniform',
        label: 'Glorot uniform init (keep the activation)',
        rationale: 'The explicit initializer makes pre-activations far too large; Glorot scaling keeps them where sigmoid/tanh still have slope.',
        targets: new Set(['saturated-activation', 'vanishing-gradient']),
        changes: oversized.map((o) => ({ layerIndex: o.index, kernelInitializer: GLOROT_UNIFORM })),
      });
    }
  }

  // 2. Dying ReLUs or off-centre ReLU outputs: Leaky ReLU / ELU; a negative constant bias: reset it.
  const dead = codesAt('dead-relu');
  const reluToSwap = hidden.filter((l) => RELU_FAMILY_THAT_DIES.has(l.activation.name) && (dead.has(l.index) || offCentre.has(l.index)));
  if (reluToSwap.length > 0) {
    const targets: FindingCode[] = ['dead-relu', 'not-zero-centred'];
    candidates.push(activationCandidate(model, reluToSwap, { name: 'leakyRelu', alpha: 0.01 }, targets,
      'Leaky ReLU keeps a small slope for negative inputs, so a unit that is off still learns and can come back.'));
    if (small) {
      candidates.push(activationCandidate(model, reluToSwap, { name: 'elu', alpha: 1 }, targets,
        'ELU keeps a gradient for negative inputs and pushes the mean output towards 0.'));
    }
    const negativeBias = reluToSwap.map((l) => kernelOwner(model, l)).filter((o): o is LayerSpec =>
      !!o && o.biasInitializer?.name === 'constant' && (o.biasInitializer.value ?? 0) < 0);
    if (negativeBias.length > 0) {
      candidates.push({
        id: 'bias-zeros',
        label: 'Zero bias init (keep ReLU)',
        rationale: 'A negative constant bias pushes most pre-activations below 0 before training starts; starting at 0 lets every unit fire on about half the inputs.',
        targets: new Set(['dead-relu']),
        changes: negativeBias.map((o) => ({ layerIndex: o.index, biasInitializer: ZEROS })),
      });
    }
  }

  // Beyond activations: BatchNorm before each hidden activation normalises what it sees, for
  // vanishing or exploding gradients and saturation, and where a swap is no fix (ReLU stacks).
  const unstable = findings.some((f) => f.code === 'vanishing-gradient' || f.code === 'saturated-activation' || (f.code === 'exploding-gradient' && f.layerIndex !== null));
  const normalizable = hidden.filter((l) =>
    l.activation.name !== 'linear' && (hasKernel(l.kind) || (l.kind === 'activation' && model.layers[l.index - 1]?.kind !== 'batchNorm')));
  if (unstable && normalizable.length > 0) {
    candidates.push({
      id: 'batchnorm',
      label: 'BatchNorm before each hidden activation',
      rationale: 'Normalising each layer\'s pre-activations to zero mean and unit variance keeps them where the activation has slope, whatever the weights do.',
      targets: new Set(['vanishing-gradient', 'saturated-activation', 'exploding-gradient', 'not-zero-centred']),
      changes: normalizable.map((l) => ({ layerIndex: l.index, batchNormBeforeActivation: true })),
    });
  }

  // 3. Exploding gradients or NaN with an oversized initializer: the activation's matching init.
  if (findings.some((f) => f.code === 'exploding-gradient' || f.code === 'non-finite')) {
    const oversized = model.layers.filter((l) => hasKernel(l.kind) && hasLargeInit(l));
    if (oversized.length > 0) {
      candidates.push({
        id: 'matching-init',
        label: 'Matching init (He / Glorot)',
        rationale: 'The explicit initializer is far larger than the variance-preserving scale, which makes activations and gradients grow layer by layer.',
        targets: new Set(['exploding-gradient', 'non-finite']),
        changes: oversized.map((l) => ({ layerIndex: l.index, kernelInitializer: matchingInitializer(nextActivation(model, l)) })),
      });
    }
  }
  // 4. Divergence (NaN, or the loss blowing up): the learning rate is the first suspect.
  if (findings.some((f) => f.code === 'non-finite' || (f.code === 'exploding-gradient' && f.layerIndex === null))) {
    candidates.push({
      id: 'learning-rate/10',
      label: 'Learning rate ÷ 10',
      rationale: 'When the loss diverges, updates are too large for the curvature of the loss; a smaller step keeps training stable.',
      targets: new Set(['non-finite', 'exploding-gradient']),
      changes: [],
      learningRateFactor: 0.1,
    });
  }
  return dedupe(candidates);
}

export function nextActivation(model: ModelSpec, layer: LayerSpec): ActivationName {
  if (layer.activation.name !== 'linear') return layer.activation.name;
  const after = model.layers.slice(layer.index + 1).find((l) => l.kind === 'activation' || hasKernel(l.kind));
  return after?.kind === 'activation' ? after.activation.name : layer.activation.name;
}

function dedupe(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
}

/** The model with a candidate's changes applied (same spans: the source is not edited here). */
export function applyCandidate(model: ModelSpec, candidate: Candidate): ModelSpec {
  const byLayer = new Map(candidate.changes.map((c) => [c.layerIndex, c]));
  const loss = candidate.loss && { ...candidate.loss, text: candidate.loss.kind, span: model.training?.loss?.span ?? model.span };
  return {
    ...model,
    ...(loss ? { training: { ...model.training, loss } } : {}),
    layers: model.layers.map((layer) => {
      const change = byLayer.get(layer.index);
      if (!change) return layer;
      // A trained weight whose initializer the change replaces is dropped, so the new
      // initializer takes effect; an activation swap alone keeps the trained weights.
      const weights = layer.weights && {
        ...layer.weights,
        ...(change.kernelInitializer ? { kernel: undefined } : {}),
        ...(change.biasInitializer ? { bias: undefined } : {}),
      };
      return {
        ...layer,
        activation: change.activation ?? layer.activation,
        kernelInitializer: change.kernelInitializer ?? layer.kernelInitializer,
        biasInitializer: change.biasInitializer ?? layer.biasInitializer,
        batchNormBeforeActivation: change.batchNormBeforeActivation ?? layer.batchNormBeforeActivation,
        weights,
      };
    }),
  };
}

/** Does this candidate address this finding? */
export function candidateAddresses(model: ModelSpec, candidate: Candidate, finding: Finding): boolean {
  if (!candidate.targets.has(finding.code)) return false;
  if (candidate.dataTransform || candidate.learningRateFactor !== undefined || finding.code === 'head-loss-mismatch') return true;
  if (finding.layerIndex === null || finding.code === 'vanishing-gradient' || finding.code === 'exploding-gradient') return true;
  const layer = model.layers[finding.layerIndex];
  const owner = kernelOwner(model, layer);
  // A change of the kernel or bias that feeds this layer's activation addresses it too.
  return candidate.changes.some((c) => c.layerIndex === layer.index ||
    (owner !== undefined && c.layerIndex === owner.index && (c.biasInitializer !== undefined || c.kernelInitializer !== undefined)));
}

/** The suggestion a finding shows for a candidate, with that layer's own change. */
export function toSuggestion(model: ModelSpec, candidate: Candidate, finding: Finding, verified?: Verification): Suggestion {
  const layer = finding.layerIndex === null ? undefined : model.layers[finding.layerIndex];
  const own = layer ? candidate.changes.find((c) => c.layerIndex === layer.index) : undefined;
  const owner = layer ? kernelOwner(model, layer) : undefined;
  const ownerChange = owner ? candidate.changes.find((c) => c.layerIndex === owner.index) : undefined;
  const first = candidate.changes[0];
  // PyTorch-style models keep the activation as its own layer after the Linear/Conv: a finding
  // on the Linear shows the activation its kernel now feeds.
  const fed = layer ? candidate.changes.find((c) => c.activation && c.layerIndex > layer.index && kernelOwner(model, model.layers[c.layerIndex])?.index === layer.index) : undefined;
  const activation = own?.activation ?? fed?.activation ?? (own ? undefined : first?.activation);
  return {
    id: candidate.id,
    label: candidate.label,
    rationale: candidate.rationale,
    activation,
    initializer: ownerChange?.kernelInitializer ?? own?.kernelInitializer ?? first?.kernelInitializer,
    biasInitializer: ownerChange?.biasInitializer ?? own?.biasInitializer,
    changes: candidate.changes,
    dataTransform: candidate.dataTransform,
    learningRateFactor: candidate.learningRateFactor,
    loss: candidate.loss,
    verified,
  };
}

/** The number a finding is about, read from a run's summaries (used before and after a change). */
export function targetMetric(finding: Finding, summaries: readonly LayerSummary[], maxLoss: number, nonFinite: boolean, inputOffness = 0): Record<string, number> {
  const s = finding.layerIndex === null ? undefined : summaries[finding.layerIndex];
  switch (finding.code) {
    case 'vanishing-gradient':
      return { gradRatioToLast: s?.gradRatioToLast ?? 0 };
    case 'exploding-gradient':
      return s ? { gradRatioToLast: s.gradRatioToLast } : { maxLoss };
    case 'saturated-activation':
      return { saturatedFraction: s?.saturatedFraction ?? 0 };
    case 'dead-relu':
      return { deadFraction: s?.deadFraction ?? 0 };
    case 'not-zero-centred':
      return { meanToStd: s && s.std > 0 && s.min >= 0 ? s.mean / s.std : 0 };
    case 'non-finite':
      return { nonFinite: nonFinite ? 1 : 0 };
    case 'input-not-normalized':
      return { inputOffness };
    case 'head-loss-mismatch':
      return { mismatch: s ? 1 : 0 };
    default:
      return {};
  }
}

/** A problem the person sees once: a code at one source position (a loop line building many layers), and gradient flow once per model. */
export function problemKey(finding: Finding): string {
  if (finding.code === 'vanishing-gradient' || finding.code === 'exploding-gradient') return `${finding.code}@${finding.layerIndex === null ? 'model' : 'layers'}`;
  return `${finding.code}@${finding.span.start.offset}-${finding.span.end.offset}`;
}

/** Warnings and errors of a what-if run that the original run did not have at that layer (or had less severe). */
export function introducedFindings(baseline: readonly Finding[], after: readonly Finding[]): Finding[] {
  return after.filter((a) => SEVERITY_RANK[a.severity] >= SEVERITY_RANK.warning &&
    !baseline.some((b) => b.code === a.code && b.layerIndex === a.layerIndex && SEVERITY_RANK[b.severity] >= SEVERITY_RANK[a.severity]));
}

function describe(finding: Finding, model?: ModelSpec): string {
  if (finding.layerIndex === null) return finding.code;
  const name = model?.layers[finding.layerIndex]?.name;
  return `${finding.code} at ${name ? `\`${name}\`` : `layer ${finding.layerIndex}`}`;
}

/**
 * Judges a retrained candidate for one finding, over the whole network: verified only when the
 * finding no longer fires at its layer, the change brought no new warning or error anywhere
 * (judged against every finding of the original run), and training did not get worse.
 */
export function judge(
  finding: Finding,
  before: Record<string, number>,
  after: Record<string, number>,
  afterFindings: readonly Finding[],
  thresholds: Thresholds,
  loss?: { readonly initial: number; readonly before: number; readonly after: number },
  baselineFindings: readonly Finding[] = [finding],
  model?: ModelSpec,
): Verification {
  const [key] = Object.keys(before);
  const b = before[key] ?? 0;
  const a = after[key] ?? 0;
  const stillFires = afterFindings.some((f) => f.code === finding.code && f.layerIndex === finding.layerIndex);
  const introduced = introducedFindings(baselineFindings, afterFindings).map((f) => describe(f, model));
  // A change that fixes its number but makes training diverge is no fix: the final loss must not
  // end both 1.5× above the original run's and above where training started.
  const lossRegressed = loss !== undefined && (!Number.isFinite(loss.after) || (loss.after > 1.5 * loss.before && loss.after > loss.initial));
  const improved = !stillFires && introduced.length === 0 && !lossRegressed;
  const lossNote = (): string => {
    if (lossRegressed) {
      return Number.isFinite(loss.after) ? ` but the final loss rose from ${fmt(loss.before)} to ${fmt(loss.after)}` : ' but training still diverges (the loss became NaN/Inf)';
    }
    if (introduced.length > 0) return ` but it brings ${introduced.slice(0, 3).join(', ')}${introduced.length > 3 ? ` and ${introduced.length - 3} more` : ''}`;
    if (stillFires) return ' (the finding remains)';
    return '';
  };
  const show = (v: number) => (key.endsWith('Fraction') ? pct(v) : fmt(v));
  const names: Record<string, string> = {
    gradRatioToLast: 'gradient ratio to last layer', saturatedFraction: 'saturated', deadFraction: 'dead units',
    meanToStd: 'mean/std', maxLoss: 'max loss', nonFinite: 'NaN/Inf', inputOffness: 'input scale (× the limits)', mismatch: 'head/loss mismatch',
  };
  void thresholds;
  return {
    improved,
    before,
    after,
    summary: key === 'mismatch' ? `head/loss pair ${a === 0 ? 'fixed' : 'still mismatched'}${lossNote()}` : `${names[key] ?? key} ${show(b)} → ${show(a)}${lossNote()}`,
    clears: !stillFires,
    finalLoss: loss?.after,
    finalLossBefore: loss?.before,
    introduced,
  };
}

/** A change of a bias or an initialiser (or the learning rate) only: it removes a cause instead of swapping the activation. */
export function removesCause(suggestion: Suggestion): boolean {
  return !suggestion.dataTransform && !suggestion.loss && suggestion.changes.length > 0 &&
    suggestion.changes.every((c) => !c.activation && !c.batchNormBeforeActivation);
}

/**
 * Orders a finding's suggestions: verified ones first, by outcome (the final loss of the what-if;
 * a change that adds layers needs half the loss of a simpler one to go ahead of it), except that a change of the cause (a bias, an initialiser) goes first when it does at least as
 * well as the others: it fixes the finding too, and training ends no worse than as written or
 * within 10 % of the best outcome (it keeps the person's activation and fixes why it failed);
 * unverified (--no-verify) next in the decision guide's order; those that did not verify last.
 */
export function rankSuggestions(suggestions: readonly Suggestion[]): Suggestion[] {
  const group = (s: Suggestion) => (s.verified === undefined ? 1 : s.verified.improved ? 0 : 2);
  const verifiedLosses = suggestions.filter((s) => s.verified?.improved).map((s) => finiteOr(s.verified?.finalLoss, Infinity));
  const best = Math.min(Infinity, ...verifiedLosses);
  const causeFirst = (s: Suggestion): number => {
    if (!s.verified?.improved || !removesCause(s)) return 1;
    const after = finiteOr(s.verified.finalLoss, Infinity);
    return after <= 1.1 * best + 1e-9 || after <= finiteOr(s.verified.finalLossBefore, -Infinity) ? 0 : 1;
  };
  // A change that adds layers (BatchNorm) costs compute and parameters: it goes ahead of a
  // simpler verified change only when its final loss is less than half the simpler one's.
  const structural = (s: Suggestion) => s.changes.some((c) => c.batchNormBeforeActivation);
  const outcome = (s: Suggestion) => (s.verified?.improved ? finiteOr(s.verified.finalLoss, Infinity) * (structural(s) ? 2 : 1) : 0);
  return suggestions.map((s, order) => ({ s, order }))
    .sort((x, y) => group(x.s) - group(y.s) || causeFirst(x.s) - causeFirst(y.s) || outcome(x.s) - outcome(y.s) || x.order - y.order)
    .map(({ s }) => s);
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}
