/**
 * The input shape the chosen data gives the static reader (LoadContext.inputShape), found before
 * the model file is read: the reader needs it for models whose input shape is known only at run
 * time (`input_shape=x_train.shape[1:]`, a convolution first with no comment). The data is
 * chosen per model, but the file is read once for all its models: the shape comes from the
 * person's own choice (--data, the editor's chosen data), else from the file's FIRST
 * `activation-lens: data=` comment (the one above its first model, or a file-level one).
 */
import type { Dataset } from '../core/data/dataset';
import { findDataDirective, type DataDirective } from '../core/data/directive';

/** One example's shape: a NumPy array's sample shape (rank > 2), else the feature count. */
export function dataInputShape(dataset: Pick<Dataset, 'features' | 'sampleShape'>): number[] {
  return dataset.sampleShape ? [...dataset.sampleShape] : [dataset.features];
}

/** The file's first `activation-lens: data=` comment, whatever model it stands above. */
export function firstDataComment(text: string): DataDirective | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].includes('activation-lens:')) continue;
    const directive = findDataDirective(text, i + 1);
    if (directive?.data !== undefined && directive.line === i + 1) return directive;
  }
  return undefined;
}
