/**
 * The limits of the static model readers, in one place. Every limit is a size, a depth, a count or
 * a number of steps — never a time — so a file reads the same way on every machine, and a
 * hostile file (issue 19) is refused with a message that names the limit and where it was hit,
 * instead of taking the editor down. Each number is far above what real model files need and
 * low enough that a file at every limit at once still reads in well under a second of CPU time
 * and a few hundred MB of memory.
 */
import { PositionIndex, type LoadProblem, type LoadResult, type ModelFormat, type SourceSpan } from '../model';

/**
 * Largest Python / JavaScript / TypeScript model file read: 2 MiB. Hand-written model files are
 * a few KB to ~100 KB (the largest in the test corpus is under 40 KB); 2 MiB is ~20× the largest
 * real one, and parsing plus reading a file of that size stays under ~1 s and ~300 MB.
 */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/**
 * Largest saved-model JSON read (Keras `to_json()`, TF.js model.json, a .keras config.json):
 * 16 MiB. A verbose Keras 3 config takes ~1.5 KB per layer, so MAX_LAYERS layers are ~3 MB; TF.js
 * model.json adds a weights manifest of about the same size.
 */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Most JSON values (objects, arrays, strings, numbers…) in one saved-model JSON: 500,000. A
 * Keras 3 layer config holds ~60–100 values with its inbound nodes, so MAX_LAYERS layers are
 * ~200,000; the parser keeps every value with its position (~150 bytes each), so the cap also
 * bounds its memory to ~100 MB before any model is built.
 */
export const MAX_JSON_VALUES = 500_000;

/**
 * Most layers in one model: 2,000. The deepest models of keras.applications have 570
 * (ResNet-152), 709 (DenseNet-201), 813 (EfficientNet-B7) and ~1,040 (NASNetLarge) layers,
 * counting activations, normalisations and merges; 2,000 is about twice the largest. Beyond it a
 * brief training run (`--steps 2`) of even tiny layers takes minutes.
 */
export const MAX_LAYERS = 2_000;

/** Most models read from one file: 100. Tutorial files define a handful; each model is trained. */
export const MAX_MODELS_PER_FILE = 100;

/**
 * Deepest Python syntax tree read: 120 levels. A deeply nested layer list is ~40 levels; of 3,000
 * Python files of the standard library and common packages only generated polynomial tables go
 * deeper. web-tree-sitter finds a node's parent by walking down from the root, so analyses that
 * look up enclosing functions cost O(depth²) per node.
 */
export const MAX_PYTHON_DEPTH = 120;

/**
 * Deepest JavaScript / TypeScript syntax tree read: 200 levels. Of 2,500 files of node_modules,
 * minified bundles included, the deepest is 103 levels.
 */
export const MAX_SCRIPT_DEPTH = 200;

/**
 * Longest chain of attribute accesses (`a.b.c…`, method calls included, `x.f().g()`): 100 links.
 * Real code goes up to ~40 (long builder chains); the deepest seen in 3,000 Python files is 18.
 */
export const MAX_MEMBER_CHAIN = 100;

/**
 * Most variable declarations (and parameters) in one JavaScript / TypeScript file: 20,000. A large
 * hand-written model file has a few hundred; the largest bundles in node_modules stay under it.
 */
export const MAX_DECLARATIONS = 20_000;

/**
 * Steps of static evaluation per file in the shared Python evaluator (src/core/python): each
 * expression evaluated, statement run and loop iteration is a step, a list of n items costs
 * n / 16. The one budget of both Python readers (issue 12) and of the workspace modules a file
 * imports; counted in steps, never in time, so a file reads the same on every machine. Loops that
 * cannot change a model (training loops) are not stepped through, so they cost nothing here.
 */
export const MAX_PYTHON_STEPS = 100_000;

/** Deepest expression nesting and function-call depth the shared Python evaluator follows. */
export const MAX_PYTHON_NESTING = 100;

/** What a text model file is, for the size message, and its size limit, from its extension. */
export function textFileLimit(fileName: string): { limit: number; kind: string } {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  if (['py', 'pyw'].includes(extension)) return { limit: MAX_SOURCE_BYTES, kind: 'a Python model file' };
  if (['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx'].includes(extension)) return { limit: MAX_SOURCE_BYTES, kind: 'a JavaScript or TypeScript model file' };
  return { limit: MAX_JSON_BYTES, kind: 'a saved-model JSON file' };
}

/** `2 MiB`, `16 MiB`, `1,234 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** `2,000`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The UTF-8 size of a text, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The index of the character that holds byte `limit` of the text's UTF-8 encoding (the first byte past the cap). */
function offsetOfByte(text: string, limit: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? 4 : 3;
    if (bytes + size > limit) return i;
    bytes += size;
    if (size === 4) i++;
  }
  return text.length;
}

/**
 * A parse-error result when a text model file is larger than `limit` bytes, at the line and
 * column where the limit falls; undefined when it is within the limit. Cheap: the position is
 * computed on the text up to the limit only.
 */
export function checkTextSize(text: string, fileName: string, format: ModelFormat, limit: number, kind: string, knownBytes?: number): LoadResult | undefined {
  // Each UTF-16 unit is at least one UTF-8 byte, and at most three.
  if (knownBytes === undefined && text.length * 3 <= limit) return undefined;
  const size = knownBytes ?? (text.length <= limit * 4 ? utf8Length(text) : undefined);
  if (size !== undefined && size <= limit) return undefined;
  const at = offsetOfByte(text, limit);
  const span = new PositionIndex(text.slice(0, at + 1)).span(at, at + 1);
  const actual = size === undefined ? `over ${formatBytes(limit * 4)}` : formatBytes(size);
  const message = `${fileName} is ${actual}, larger than the ${formatBytes(limit)} Activation Lens reads for ${kind}; the limit is reached at line ${span.start.line}, column ${span.start.column}, and the file is not read.`;
  return { format, models: [], problems: [{ code: 'parse-error', message, span }] };
}

/**
 * The problem every source reader reports when a file defines more models than it reads:
 * `count` when the reader knows how many (undefined: it stops counting at the first one over),
 * placed at the first model not read.
 */
export function tooManyModels(count: number | undefined, firstNotRead: SourceSpan): LoadProblem {
  const defines = count === undefined ? `more than ${formatCount(MAX_MODELS_PER_FILE)}` : formatCount(count);
  const { line, column } = firstNotRead.start;
  const message = `The file defines ${defines} models, more than the ${formatCount(MAX_MODELS_PER_FILE)} per file Activation Lens reads; the models from line ${line}, column ${column} on are not read.`;
  return { code: 'parse-error', message, span: firstNotRead };
}

/**
 * Why a model of `count` layers (undefined: more than the limit, not counted further) is refused,
 * for the loaders' messages, which place it at layer MAX_LAYERS + 1.
 */
export function tooManyLayers(count?: number): string {
  const has = count === undefined ? `more than ${formatCount(MAX_LAYERS)}` : formatCount(count);
  return `it has ${has} layers, more than the ${formatCount(MAX_LAYERS)} layers per model Activation Lens reads (the limit is reached here, at layer ${formatCount(MAX_LAYERS + 1)}).`;
}

/** A parse-error result for a limit hit at `span`. */
export function limitFailure(format: ModelFormat, message: string, span: SourceSpan): LoadResult {
  return { format, models: [], problems: [{ code: 'parse-error', message, span }] };
}
