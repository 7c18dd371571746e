/**
 * Entry point of the loaders: picks the format of a file and hands it to its loader.
 */
import { PositionIndex, type LoadContext, type LoadResult, type ModelFormat } from '../model';
import { extensionOf, findBinaryFormat, findFormat, FORMATS, SCRIPT_EXTENSIONS, type LoadOptions } from '../formats';
import { checkTextSize, textFileLimit } from './limits';
import { isNotebookFile, readNotebook } from './notebook';

export type { LoadOptions };

/**
 * The model format of a file, from its extension and content (formats.ts, in its order): Python
 * files that mention Keras or TensorFlow are Keras, Python files that mention torch are PyTorch,
 * JSON with `modelTopology` is a TF.js model, JSON with `class_name` + `config` a Keras model
 * (also as a JSON string, as `json.dump(model.to_json(), f)` writes it). Undefined when nothing matches.
 */
export function detectFormat(text: string, fileName: string): ModelFormat | undefined {
  return findFormat(text, fileName)?.format;
}

/** Python (a notebook's program): the registry's entry for a `.py` file of this text. */
function loadPython(text: string, fileName: string, context: LoadContext): LoadResult | Promise<LoadResult> {
  const entry = findFormat(text, 'model.py') ?? FORMATS.find((e) => e.id === 'keras-python')!;
  return entry.load(text, fileName, context);
}

/** The format an empty file was meant to have, from its extension alone. */
function emptyFileFormat(fileName: string): ModelFormat {
  const extension = extensionOf(fileName);
  if (SCRIPT_EXTENSIONS.includes(extension)) return 'tfjs-source';
  if (extension === 'json') return 'tfjs-json';
  return 'keras-python';
}

/**
 * Loads every model of a file. Never throws: problems come back typed, with positions.
 * `input` is the file's text, or its bytes ([issue 3]: needed for .keras / .h5, whose format is
 * detected from the bytes; text formats are decoded as UTF-8). `options.readSibling` reads TF.js
 * weight shards next to a model.json; `options.freshInit` ignores trained weights.
 */
export async function loadModelFile(input: string | Uint8Array, fileName: string, options: LoadOptions = {}): Promise<LoadResult> {
  if (typeof input !== 'string') {
    const binary = findBinaryFormat(input, fileName);
    if (binary) return binary.load(input, fileName, options);
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
  const entry = findFormat(text, fileName);
  if (entry) return entry.load(text, fileName, options);
  const span = new PositionIndex(text).span(0, 0);
  const message = `${fileName} is not a model definition Activation Lens can read (Keras / PyTorch Python, TensorFlow.js JS/TS, Keras or TF.js saved models).`;
  return { format: 'keras-python', models: [], problems: [{ code: 'parse-error', message, span }] };
}
