/**
 * The output head against its loss (issue 11): pairs that cannot train, or train on the wrong
 * quantity, found from the model and its loss alone (no training needed), each with the changes
 * that would make the pair right. Pure.
 */
import type { ActivationName, LayerSpec, ModelSpec } from '../model';
import { effectiveLoss } from '../trainingSetup';
import type { Candidate } from './suggestions';
import type { Finding, LossChange, Severity } from './types';

interface HeadProblem {
  readonly severity: Severity;
  readonly message: string;
  /** Changes that fix it, the preferred first. */
  readonly fixes: readonly { readonly id: string; readonly label: string; readonly rationale: string; readonly activation?: ActivationName; readonly loss?: LossChange }[];
}

const LOSS_WORDS: Record<string, string> = {
  categoricalCrossentropy: 'categorical cross-entropy',
  binaryCrossentropy: 'binary cross-entropy',
  meanSquaredError: 'mean squared error',
  meanAbsoluteError: 'mean absolute error',
  huber: 'Huber loss',
};

function units(model: ModelSpec, head: LayerSpec): number {
  return head.units ?? head.filters ?? model.layers.slice(0, head.index).reverse().find((l) => l.units ?? l.filters)?.units ?? 0;
}

function headProblem(model: ModelSpec): HeadProblem | undefined {
  const head = model.layers[model.layers.length - 1];
  if (!head) return undefined;
  const act = head.activation.name;
  const loss = effectiveLoss(model);
  const stated = model.training?.loss !== undefined;
  const width = units(model, head);
  const lossWords = `${LOSS_WORDS[loss.kind] ?? loss.kind}${loss.input === 'logits' ? ' on logits' : ''}`;
  const toSigmoidBce = { id: 'head:sigmoid+bce', label: 'Sigmoid output with binary cross-entropy', activation: 'sigmoid' as const,
    loss: { kind: 'binaryCrossentropy' as const, input: 'probabilities' as const },
    rationale: 'One output unit is a yes/no probability: a sigmoid gives it, and binary cross-entropy trains it.' };

  if (act === 'softmax' && width === 1) {
    return {
      severity: 'error',
      message: 'Softmax over a single unit: its output is always exactly 1, so the loss cannot change and every gradient is 0; nothing in the network learns.',
      fixes: [toSigmoidBce],
    };
  }
  if (!stated) return undefined;
  if (loss.kind === 'categoricalCrossentropy') {
    if (loss.input === 'logits' && act === 'softmax') {
      return {
        severity: 'warning',
        message: `Softmax applied twice: the loss (${model.training?.loss?.text}) applies its own softmax to the output, which is already a softmax. The probabilities are squashed towards uniform and the gradients shrink.`,
        fixes: [{ id: 'head:linear', label: 'Remove the output softmax (the loss applies it)', activation: 'linear',
          rationale: 'A loss on logits computes softmax and cross-entropy together, stably; the model should output the raw scores.' }],
      };
    }
    if (loss.input === 'logits' && act !== 'linear') {
      return {
        severity: 'warning',
        message: `The loss (${model.training?.loss?.text}) takes raw scores (logits) and applies its own softmax, but the model ends in a ${act}: ` +
          `the scores are squashed into the ${act}'s range before the softmax, so the predicted probabilities cannot get confident and the gradients shrink.`,
        fixes: [{ id: 'head:linear', label: `Remove the output ${act} (the loss applies the softmax)`, activation: 'linear',
          rationale: 'A loss on logits computes softmax and cross-entropy together, stably; the model should output the raw scores.' }],
      };
    }
    if (loss.input === 'probabilities' && act !== 'softmax') {
      const what = act === 'linear' ? 'a linear output (raw scores, which can be negative)' : act === 'sigmoid' ? `a sigmoid over ${width} classes (outputs that do not sum to 1)` : `a ${act} output`;
      return {
        severity: act === 'sigmoid' ? 'warning' : 'error',
        message: `The output head does not suit ${lossWords}: it expects class probabilities, but the model ends in ${what}. ` +
          (act === 'relu' ? 'A ReLU output is 0 for many classes, where the log of the clipped probability gives a huge loss and no gradient.' : 'The loss then trains on a quantity that is not a probability.'),
        fixes: [{ id: 'head:softmax', label: 'Softmax output for the cross-entropy', activation: 'softmax',
          rationale: 'Categorical cross-entropy expects probabilities over the classes, which a softmax output gives.' }],
      };
    }
    if (loss.input === 'logProbabilities' && act !== 'softmax') {
      return {
        severity: 'error',
        message: `The loss (${model.training?.loss?.text}) expects log-probabilities, but the model ends in a ${act} output: the loss is unbounded below and does not train a classifier.`,
        fixes: [{ id: 'head:softmax', label: 'log_softmax output for NLLLoss', activation: 'softmax',
          rationale: 'NLLLoss takes log-probabilities; log_softmax gives them (or use CrossEntropyLoss on the raw scores).' }],
      };
    }
  }
  if (loss.kind === 'binaryCrossentropy') {
    if (loss.input === 'logits' && act === 'sigmoid') {
      return {
        severity: 'warning',
        message: `Sigmoid applied twice: the loss (${model.training?.loss?.text}) applies its own sigmoid to the output, which is already a sigmoid, so every output probability lies between 0.5 and 0.73.`,
        fixes: [{ id: 'head:linear', label: 'Remove the output sigmoid (the loss applies it)', activation: 'linear',
          rationale: 'A loss on logits applies the sigmoid itself, stably; the model should output the raw score.' }],
      };
    }
    if (loss.input === 'probabilities' && act === 'softmax') {
      return {
        severity: 'warning',
        message: `A softmax output under ${lossWords}: the outputs compete to sum to 1, while binary cross-entropy treats each as an independent yes/no probability.`,
        fixes: [
          { ...toSigmoidBce, id: 'head:sigmoid', label: 'Sigmoid outputs (independent yes/no per output)', loss: undefined },
          { id: 'loss:categorical', label: 'Categorical cross-entropy (one class per sample)',
            loss: { kind: 'categoricalCrossentropy', input: 'probabilities' },
            rationale: 'One class per sample is what a softmax models, and categorical cross-entropy is its loss.' },
        ],
      };
    }
    if (loss.input === 'logits' && act !== 'linear') {
      return {
        severity: 'warning',
        message: `The loss (${model.training?.loss?.text}) takes raw scores (logits) and applies its own sigmoid, but the model ends in a ${act}: its outputs are squashed before the sigmoid.`,
        fixes: [{ id: 'head:linear', label: `Remove the output ${act} (the loss applies the sigmoid)`, activation: 'linear',
          rationale: 'A loss on logits applies the sigmoid itself, stably; the model should output the raw score.' }],
      };
    }
    if (loss.input === 'probabilities' && act !== 'sigmoid') {
      return {
        severity: 'error',
        message: `The output head does not suit ${lossWords}: it expects probabilities in (0, 1), but the model ends in a ${act} output.`,
        fixes: [{ ...toSigmoidBce, id: 'head:sigmoid', label: 'Sigmoid output for binary cross-entropy', loss: undefined }],
      };
    }
  }
  return undefined;
}

/** The head/loss finding of a model, if its pair is wrong. */
export function evaluateHead(model: ModelSpec): Finding[] {
  const problem = headProblem(model);
  const head = model.layers[model.layers.length - 1];
  if (!problem || !head) return [];
  return [{
    code: 'head-loss-mismatch', severity: problem.severity, layerIndex: head.index, span: head.source.span,
    message: problem.message, metrics: { mismatch: 1 }, suggestions: [],
  }];
}

/** The changes to retrain for a head/loss finding. */
export function proposeHeadCandidates(model: ModelSpec, findings: readonly Finding[]): Candidate[] {
  if (!findings.some((f) => f.code === 'head-loss-mismatch')) return [];
  const head = model.layers[model.layers.length - 1];
  return (headProblem(model)?.fixes ?? []).map((fix): Candidate => ({
    id: fix.id,
    label: fix.label,
    rationale: fix.rationale,
    targets: new Set(['head-loss-mismatch']),
    changes: fix.activation ? [{ layerIndex: head.index, activation: { name: fix.activation } }] : [],
    loss: fix.loss,
  }));
}
