/**
 * Entry point of the loaders: picks the format of a file and hands it to its loader.
 */
import { PositionIndex, type LoadContext, type LoadResult, type ModelFormat } from '../model';
import { loadKerasPython } from '../frameworks/keras/python';
// [issue 3] TF.js source, Keras / TF.js saved models.
import { loadKerasArchive, loadKerasH5, matchHdf5, matchZip } from './kerasArchive';
import { loadKerasJson, matchKerasJson, type SavedModelOptions } from './kerasJson';
import { loadTfjsJson, matchTfjsJson } from './tfjsJson';
import { loadTfjsSource } from './tfjsSource';
// [issue 3: PyTorch]
import { importsTorchOnly, loadTorchPython } from './torchPython';
import { checkTextSize, textFileLimit } from './limits';
import { isNotebookFile, readNotebook } from './notebook';

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
    case 'jsx':
    case 'ts':
    case 'mts':
    case 'cts':
    case 'tsx':
      return text.includes('@tensorflow/tfjs') || text.includes('tf.sequential') ? 'tfjs-source' : undefined;
    case 'json':
      if (text.includes('"modelTopology"')) return 'tfjs-json';
      if (text.includes('"class_name"') && text.includes('"config"')) return 'keras-json';
      if (matchKerasJson(text)) return 'keras-json';
      return undefined;
    default:
      // [issue 3] Detect saved-model JSON by content whatever the extension (style guide §10).
      if (matchTfjsJson(text)) return 'tfjs-json';
      if (matchKerasJson(text)) return 'keras-json';
      return undefined;
  }
}

/** Python: PyTorch when it imports torch and not Keras/TensorFlow (read from its imports), else Keras. */
async function loadPython(text: string, fileName: string, context: LoadContext): Promise<LoadResult> {
  const format = detectFormat(text, 'model.py');
  // (The import check parses the file, so it runs only where torch is mentioned at all.)
  if (format === 'pytorch-python' || (text.includes('torch') && (await importsTorchOnly(text)))) return loadTorchPython(text, fileName, context);
  return loadKerasPython(text, fileName, context);
}

/** The format an empty file was meant to have, from its extension alone. */
function emptyFileFormat(fileName: string): ModelFormat {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  if (['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx'].includes(extension)) return 'tfjs-source';
  if (extension === 'json') return 'tfjs-json';
  return 'keras-python';
}

// [issue 3]
/** Options of loadModelFile. */
export type LoadOptions = SavedModelOptions & LoadContext;

/**
 * Loads every model of a file. Never throws: problems come back typed, with positions.
 * `input` is the file's text, or its bytes ([issue 3]: needed for .keras / .h5, whose format is
 * detected from the bytes; text formats are decoded as UTF-8). `options.readSibling` reads TF.js
 * weight shards next to a model.json; `options.freshInit` ignores trained weights.
 */
export async function loadModelFile(input: string | Uint8Array, fileName: string, options: LoadOptions = {}): Promise<LoadResult> {
  if (typeof input !== 'string') {
    if (matchZip(input)) return loadKerasArchive(input, fileName, options);
    if (matchHdf5(input)) return loadKerasH5(input, fileName, options);
    // A text file over its size limit is refused before it is decoded (only the part up to the
    // limit is, for the position); each loader checks its own limit again for direct callers.
    const { limit, kind } = textFileLimit(fileName);
    if (input.length > limit) {
      const head = new TextDecoder().decode(input.subarray(0, limit + 4));
      return checkTextSize(head, fileName, detectFormat(head, fileName) ?? emptyFileFormat(fileName), limit, kind, input.length)!;
    }
    input = new TextDecoder().decode(input);
  }
  const text = input;
  const { limit, kind } = textFileLimit(fileName);
  const tooLarge = checkTextSize(text, fileName, 'keras-python', limit, kind);
  if (tooLarge) return { ...tooLarge, format: detectFormat(text.slice(0, limit), fileName) ?? emptyFileFormat(fileName) };
  // An empty file has no content to detect a format from: the extension says which reader it was meant for.
  if (text.trim() === '') {
    return { format: emptyFileFormat(fileName), models: [], problems: [{ code: 'parse-error', message: `${fileName}: the file is empty, so there is no model to read.`, span: new PositionIndex(text).span(0, 0) }] };
  }
  // [issue 15] A notebook: its code cells as one Python program, spans mapped back by `cells`.
  if (isNotebookFile(fileName)) {
    const notebook = readNotebook(text, fileName);
    if ('code' in notebook) return { format: 'keras-python', models: [], problems: [notebook] };
    const loaded = await loadPython(notebook.program, fileName, options);
    return { ...loaded, cells: notebook.cells };
  }
  const format = detectFormat(text, fileName);
  if (format === 'keras-python' || format === 'pytorch-python') return loadPython(text, fileName, options);
  // [issue 3: PyTorch] Python importing torch and not Keras/TensorFlow (read from its imports).
  // (The import check parses the file, so it runs only where torch is mentioned at all.)
  if (format === 'tfjs-source') return loadTfjsSource(text, fileName, options);
  if (format === 'tfjs-json') return loadTfjsJson(text, fileName, options);
  if (format === 'keras-json') return loadKerasJson(text, fileName);
  const span = new PositionIndex(text).span(0, 0);
  const message =
    format === undefined
      ? `${fileName} is not a model definition Activation Lens can read (Keras / PyTorch Python, TensorFlow.js JS/TS, Keras or TF.js saved models).`
      : `${format} files are not supported yet.`;
  return { format: format ?? 'keras-python', models: [], problems: [{ code: 'parse-error', message, span }] };
}
