/**
 * Entry point of the loaders: picks the format of a file and hands it to its loader.
 * Only Keras Python is implemented so far; the other formats answer with a typed problem.
 */
import { PositionIndex, type LoadResult, type ModelFormat } from '../model';
import { loadKerasPython } from './kerasPython';

/**
 * The model format of a file, from its extension and content: Python files that mention Keras
 * or TensorFlow are Keras, Python files that mention torch are PyTorch, JSON with
 * `modelTopology` is a TF.js model, JSON with `class_name` + `config` a Keras model.
 * Undefined when nothing matches.
 */
export function detectFormat(text: string, fileName: string): ModelFormat | undefined {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  switch (extension) {
    case 'py':
    case 'pyw':
      if (text.includes('keras') || text.includes('tensorflow') || text.includes('Sequential')) return 'keras-python';
      if (text.includes('torch')) return 'pytorch-python';
      return 'keras-python';
    case 'js':
    case 'mjs':
    case 'cjs':
    case 'ts':
    case 'mts':
    case 'cts':
      return text.includes('@tensorflow/tfjs') || text.includes('tf.sequential') ? 'tfjs-source' : undefined;
    case 'json':
      if (text.includes('"modelTopology"')) return 'tfjs-json';
      if (text.includes('"class_name"') && text.includes('"config"')) return 'keras-json';
      return undefined;
    default:
      return undefined;
  }
}

/** Loads every model of a file. Never throws: problems come back typed, with positions. */
export async function loadModelFile(text: string, fileName: string): Promise<LoadResult> {
  const format = detectFormat(text, fileName);
  if (format === 'keras-python') return loadKerasPython(text, fileName);
  const span = new PositionIndex(text).span(0, 0);
  const message =
    format === undefined
      ? `${fileName} is not a model definition Activation Lens can read (Keras Python files are supported).`
      : `${format} files are not supported yet; Keras Python files are.`;
  return { format: format ?? 'keras-python', models: [], problems: [{ code: 'parse-error', message, span }] };
}
