/**
 * PyTorch training-setting edits: the optimiser's `lr=` (the stated number replaced, or `lr=`
 * added to `torch.optim.X(model.parameters(), ...)`) and the loss module (`nn.CrossEntropyLoss()`
 * for logits with class indices, `nn.NLLLoss()` for log-probabilities, `nn.BCEWithLogitsLoss()` /
 * `nn.BCELoss()`, `nn.MSELoss()`, `nn.L1Loss()`, `nn.HuberLoss()`), written with the namespace the
 * stated loss uses. Pure.
 */
import { PositionIndex, type ModelSpec } from '../model';
import { insertPythonArguments, type TextEdit } from './edits';
import type { LossChange } from '../analysis/types';
import { rateLiteral } from './layout';

export function learningRateEditsTorch(text: string, model: ModelSpec, value: number): TextEdit[] | { error: string } {
  const optimizer = model.training?.optimizer;
  if (!optimizer) return { error: 'The file states no optimiser for this model; set the learning rate where it is trained.' };
  if (text.slice(optimizer.span.start.offset, optimizer.span.end.offset) !== optimizer.text) return { error: 'The optimiser changed since it was analysed; run the diagnosis again.' };
  const literal = rateLiteral(value);
  if (optimizer.learningRateValueSpan) return [{ span: optimizer.learningRateValueSpan, newText: literal }];
  if (!optimizer.argumentsSpan) return { error: 'The optimiser\'s arguments were not recorded; set `lr=` by hand.' };
  const edit = insertPythonArguments(text, optimizer.argumentsSpan, [`lr=${literal}`], new PositionIndex(text), 'the optimiser');
  return 'error' in edit ? edit : [edit];
}

function torchLossClass(loss: LossChange): string | undefined {
  switch (loss.kind) {
    case 'categoricalCrossentropy':
      if (loss.input === 'logits') return 'CrossEntropyLoss';
      if (loss.input === 'logProbabilities') return 'NLLLoss';
      return undefined;
    case 'binaryCrossentropy':
      return loss.input === 'logits' ? 'BCEWithLogitsLoss' : loss.input === 'probabilities' ? 'BCELoss' : undefined;
    case 'meanSquaredError':
      return 'MSELoss';
    case 'meanAbsoluteError':
      return 'L1Loss';
    case 'huber':
      return 'HuberLoss';
  }
}

export function lossEditsTorch(text: string, model: ModelSpec, loss: LossChange): TextEdit[] | { error: string } {
  const stated = model.training?.loss;
  if (!stated) return { error: 'The file states no loss for this model; change it where the model is trained.' };
  if (text.slice(stated.span.start.offset, stated.span.end.offset) !== stated.text) return { error: 'The loss changed since it was analysed; run the diagnosis again.' };
  const className = torchLossClass(loss);
  if (!className) return { error: 'PyTorch has no loss module on probabilities for classes; give the loss logits (remove the softmax) instead.' };
  const match = /^([\w.]*?)(\w+)\s*\(/.exec(stated.text);
  if (!match || !match[2].endsWith('Loss')) return { error: `The loss \`${stated.text}\` is not a loss module call; change it by hand to ${className}.` };
  if (match[2] === className) return [];
  if (match[1] === '') return { error: `The loss class is imported by name; change it by hand to ${className}.` };
  return [{ span: stated.span, newText: `${match[1]}${className}()` }];
}
