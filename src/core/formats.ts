/**
 * The format registry: one entry per model format, each saying how a file of that format is
 * recognised, read and fixed. parse/index.ts (`detectFormat`, `loadModelFile`) and the fix
 * dispatchers (fixes.ts, fixes/changes.ts) go through it, so a format is added in one place.
 *
 * Order matters: the first entry whose `match` accepts a file reads it (PyTorch before Keras
 * Python, since a `.py` file that mentions neither framework is read as Keras; TF.js JSON before
 * Keras JSON, since a TF.js model.json embeds a Keras config).
 */
import type { LossChange } from './analysis/types';
import type { LoadContext, LoadResult, ModelFormat, ModelSpec } from './model';
import type { ActivationSwap, TextEdit } from './fixes/edits';
import { loadKerasPython } from './frameworks/keras/python';
import { importsTorchOnly, loadTorchPython } from './parse/torchPython';
import { loadTfjsSource } from './frameworks/tfjs/source';
import { loadKerasJson, matchKerasJson, type SavedModelOptions } from './parse/kerasJson';
import { loadTfjsJson, matchTfjsJson } from './parse/tfjsJson';
import { loadKerasArchive, loadKerasH5, matchHdf5, matchZip } from './parse/kerasArchive';
import { activationSwapEditsKeras } from './fixes/kerasSwap';
import { batchNormEditsKeras, learningRateEditsKeras, lossEditsKeras } from './fixes/kerasPython';
import { activationSwapEditsTorch, batchNormEditsTorch } from './fixes/torchPython';
import { learningRateEditsTorch, lossEditsTorch } from './fixes/torchTraining';
import { batchNormEditsTfjs, learningRateEditsTfjs, lossEditsTfjs, tfjsSwapEdits } from './fixes/tfjsSource';
import { batchNormEditsJson, jsonSwapEdits, learningRateEditsJson, lossEditsJson } from './fixes/json';

/** Options of loadModelFile: what the saved-model loaders take, and what may be known besides the file. */
export type LoadOptions = SavedModelOptions & LoadContext;

export type Edits = TextEdit[] | { error: string };

/** How a format's source is edited; each part returns `{ error }` with the reason where the format cannot express it. */
export interface FormatFixes {
  activationSwap(text: string, model: ModelSpec, layerIndex: number, swap: ActivationSwap): Edits;
  batchNorm(text: string, model: ModelSpec, layerIndices: readonly number[]): Edits;
  learningRate(text: string, model: ModelSpec, value: number): Edits;
  loss(text: string, model: ModelSpec, loss: LossChange): Edits;
}

/** Keras Python, PyTorch, TF.js source, Keras JSON, TF.js JSON, and the .keras / .h5 containers. */
export type FormatId = ModelFormat | 'keras-archive';

export interface FormatEntry {
  readonly id: FormatId;
  /** The format the loaded models and the result carry (.keras / .h5 hold a Keras config: keras-json). */
  readonly format: ModelFormat;
  /** Recognised by its bytes (asked only about files read as bytes), not by its text. */
  readonly binary?: boolean;
  /** Whether a file is of this format, from its name and its text, or its bytes for binary formats. */
  match(input: string | Uint8Array, fileName: string): boolean;
  /** Reads every model of the file. Never throws. */
  load(input: string | Uint8Array, fileName: string, options: LoadOptions): LoadResult | Promise<LoadResult>;
  /** How its models are edited; absent where the loaded models carry another entry's format. */
  readonly fixes?: FormatFixes;
}

/** The lower-cased extension, '' when the name has none. */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}

const PYTHON_EXTENSIONS = ['py', 'pyw'];
export const SCRIPT_EXTENSIONS = ['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx'];
/** Extensions whose reader is fixed by the extension; any other file is recognised by its content. */
const CLAIMED_EXTENSIONS = new Set([...PYTHON_EXTENSIONS, ...SCRIPT_EXTENSIONS, 'json']);

const textOf = (input: string | Uint8Array): string => (typeof input === 'string' ? input : new TextDecoder().decode(input));
const mentionsKeras = (text: string): boolean => text.includes('keras') || text.includes('tensorflow') || text.includes('Sequential');

/** A saved model's text format: `.json` by a key it must have, another unclaimed extension by content. */
function savedJson(fileName: string, text: string, inJsonFile: (text: string) => boolean, byContent: (text: string) => boolean): boolean {
  const extension = extensionOf(fileName);
  if (extension === 'json') return inJsonFile(text);
  return !CLAIMED_EXTENSIONS.has(extension) && byContent(text);
}

const KERAS_PYTHON_FIXES: FormatFixes = { activationSwap: activationSwapEditsKeras, batchNorm: batchNormEditsKeras, learningRate: learningRateEditsKeras, loss: lossEditsKeras };
const SAVED_JSON_FIXES: FormatFixes = { activationSwap: jsonSwapEdits, batchNorm: batchNormEditsJson, learningRate: learningRateEditsJson, loss: lossEditsJson };

export const FORMATS: readonly FormatEntry[] = [
  {
    id: 'keras-archive',
    format: 'keras-json',
    binary: true,
    // Binary containers are recognised by their magic bytes whatever the file is called.
    match: (input) => typeof input !== 'string' && (matchZip(input) || matchHdf5(input)),
    load: (input, fileName, options) => {
      const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
      return matchZip(bytes) ? loadKerasArchive(bytes, fileName, options) : loadKerasH5(bytes, fileName, options);
    },
  },
  {
    id: 'pytorch-python',
    format: 'pytorch-python',
    match: (input, fileName) => {
      if (!PYTHON_EXTENSIONS.includes(extensionOf(fileName))) return false;
      const text = textOf(input);
      return !mentionsKeras(text) && text.includes('torch');
    },
    load: (input, fileName, options) => loadTorchPython(textOf(input), fileName, options),
    fixes: {
      activationSwap: activationSwapEditsTorch,
      batchNorm: batchNormEditsTorch,
      learningRate: learningRateEditsTorch,
      loss: lossEditsTorch,
    },
  },
  {
    id: 'keras-python',
    format: 'keras-python',
    // Every other Python file: Keras is what a `.py` file without torch is read as.
    match: (_input, fileName) => PYTHON_EXTENSIONS.includes(extensionOf(fileName)),
    load: async (input, fileName, options) => {
      const text = textOf(input);
      // A file that mentions Keras or TensorFlow somewhere (a comment, a string) but imports only
      // torch is PyTorch: read from its imports, so the parse runs only where torch is mentioned at all.
      if (text.includes('torch') && (await importsTorchOnly(text))) return loadTorchPython(text, fileName, options);
      return loadKerasPython(text, fileName, options);
    },
    fixes: KERAS_PYTHON_FIXES,
  },
  {
    id: 'tfjs-source',
    format: 'tfjs-source',
    match: (input, fileName) => {
      if (!SCRIPT_EXTENSIONS.includes(extensionOf(fileName))) return false;
      const text = textOf(input);
      return text.includes('@tensorflow/tfjs') || text.includes('tf.sequential');
    },
    load: (input, fileName, options) => loadTfjsSource(textOf(input), fileName, options),
    fixes: { activationSwap: tfjsSwapEdits, batchNorm: batchNormEditsTfjs, learningRate: learningRateEditsTfjs, loss: lossEditsTfjs },
  },
  {
    id: 'tfjs-json',
    format: 'tfjs-json',
    match: (input, fileName) => savedJson(fileName, textOf(input), (text) => text.includes('"modelTopology"'), matchTfjsJson),
    load: (input, fileName, options) => loadTfjsJson(textOf(input), fileName, options),
    fixes: SAVED_JSON_FIXES,
  },
  {
    id: 'keras-json',
    format: 'keras-json',
    match: (input, fileName) =>
      savedJson(fileName, textOf(input), (text) => (text.includes('"class_name"') && text.includes('"config"')) || matchKerasJson(text), matchKerasJson),
    load: (input, fileName) => loadKerasJson(textOf(input), fileName),
    fixes: SAVED_JSON_FIXES,
  },
];

/** The first text format that recognises a file, or undefined. */
export function findFormat(text: string, fileName: string): FormatEntry | undefined {
  return FORMATS.find((entry) => !entry.binary && entry.match(text, fileName));
}

/** The binary format whose magic bytes a file starts with, or undefined (then it is read as text). */
export function findBinaryFormat(bytes: Uint8Array, fileName: string): FormatEntry | undefined {
  return FORMATS.find((entry) => entry.binary && entry.match(bytes, fileName));
}

/** The entry whose models carry `format` and that edits them. */
export function fixesFor(format: ModelFormat): FormatFixes {
  const entry = FORMATS.find((e) => e.id === format && e.fixes);
  // Every ModelFormat has an entry with fixes (the list above); the type cannot say so.
  if (!entry?.fixes) throw new Error(`No fixer registered for ${format}.`);
  return entry.fixes;
}
