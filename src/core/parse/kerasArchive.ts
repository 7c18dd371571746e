/**
 * Binary Keras model files, detected by content:
 *  - `.keras` (Keras 3 / 2.13+): a zip holding `config.json` and `model.weights.h5`
 *    (weights under `layers/<name>/vars/<i>`, or `_layer_checkpoint_dependencies/...` in 2.13);
 *  - legacy `.h5` (HDF5 whose root has a `model_config` attribute; weights under
 *    `model_weights/<layer>/` listed by its `weight_names` attribute).
 * The zip is read here (stored and deflated entries, inflated by fflate within a cap per entry); HDF5 with h5wasm, loaded
 * lazily (its wasm is embedded in its JS, so a bundle needs no extra file). Spans are at 1:1
 * and messages name the layer index. Never throws.
 *
 * Known gap: libhdf5 (inside h5wasm) can loop forever on some corrupted metadata (a reproducer
 * is test/fixtures/saved/hang_random_bytes.h5). It runs on the caller's thread, so callers that
 * must stay responsive should load binary files off their main thread until this is isolated
 * in a worker with a time limit.
 */
import { inflateEntry } from '../data/zip';
import { PositionIndex, type LoadNote, type LoadProblem, type LoadResult, type WeightTensor } from '../model';
import { findModelConfig, JsonLimitError, JsonSyntaxError, modelsFromConfig, parseJsonWithPositions, type JsonNode, type SavedModelOptions } from './kerasJson';
import { formatBytes, MAX_JSON_BYTES, utf8Length } from './limits';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True for a zip archive (local file header magic). */
export function matchZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** True for an HDF5 file (signature at offset 0). */
export function matchHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

const ORIGIN = new PositionIndex('').span(0, 0);

function fail(message: string): LoadResult {
  return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message, span: ORIGIN }] };
}

// #region Zip

/** A typed error for a malformed archive. */
export class ArchiveError extends Error {}

/**
 * Bytes an entry may unpack to, checked against its declared size before inflating and against
 * the bytes actually inflated while inflating (it stops at the declared size). config.json: 16 MiB,
 * a thousand times a large model's config (a 500-layer ResNet's is ~1 MiB). The weights and any
 * other entry: 256 MiB, 64 M float32 values, three times the default parameter cap (20 M), which
 * leaves room for HDF5's own overhead.
 */
const ENTRY_CAPS: Readonly<Record<string, number>> = { 'config.json': 16 * 2 ** 20, 'metadata.json': 16 * 2 ** 20 };
const MAX_ENTRY_BYTES = 256 * 2 ** 20;

function entryCap(name: string): { cap: number; capName: string } {
  const cap = ENTRY_CAPS[name] ?? MAX_ENTRY_BYTES;
  return { cap, capName: `${cap / 2 ** 20} MiB limit for ${name in ENTRY_CAPS ? `a .keras ${name}` : 'an entry of a .keras archive'}` };
}

/** Reads a zip's entries (stored or deflated). Throws ArchiveError on a malformed archive. */
export function readZip(bytes: Uint8Array): Map<string, () => Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveError('the zip archive has no end-of-central-directory record (truncated?)');
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const entries = new Map<string, () => Uint8Array>();
  const decoder = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) throw new ArchiveError(`zip central directory entry ${n} is damaged`);
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    if (p + 46 + nameLength > bytes.length) throw new ArchiveError(`zip central directory entry ${n} is truncated`);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
    const flags = view.getUint16(p + 8, true);
    p += 46 + nameLength + extraLength + commentLength;
    entries.set(name, () => {
      if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) throw new ArchiveError(`the zip entry ${JSON.stringify(name)} has a damaged local header`);
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (start + compressed > bytes.length) throw new ArchiveError(`the zip entry ${JSON.stringify(name)} is truncated`);
      const { cap, capName } = entryCap(name);
      // Streamed through fflate's Inflate in 16 KiB pieces, held to the declared size and the cap.
      const inflated = inflateEntry({ name, method, size, compressedSize: compressed, encrypted: (flags & 1) === 1 }, bytes.subarray(start, start + compressed), cap, capName);
      if ('problem' in inflated) throw new ArchiveError(inflated.problem);
      return inflated;
    });
  }
  return entries;
}

// #endregion

// #region HDF5 (h5wasm)

type H5Module = typeof import('h5wasm');
type H5File = InstanceType<H5Module['File']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;
type H5Group = InstanceType<H5Module['Group']>;

let h5: Promise<{ lib: H5Module; fs: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void } }> | undefined;
let fileCounter = 0;

async function loadH5(): Promise<NonNullable<Awaited<typeof h5>>> {
  h5 ??= import('h5wasm').then(async (mod) => {
    const lib = ((mod as unknown as { default?: H5Module }).default ?? mod) as H5Module;
    const module = (await lib.ready) as unknown as { FS: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void } };
    return { lib, fs: module.FS };
  });
  return h5;
}

/** Opens HDF5 bytes in h5wasm's in-memory file system, runs `use`, and cleans up. */
async function withHdf5<T>(bytes: Uint8Array, use: (file: H5File, lib: H5Module) => T): Promise<T> {
  const { lib, fs } = await loadH5();
  const path = `/activation-lens-${process.pid}-${++fileCounter}.h5`;
  fs.writeFile(path, bytes);
  let file: H5File | undefined;
  // libhdf5 prints an error stack (HDF5-DIAG) to stderr for every damaged object; the failure
  // reaches the user as a typed problem instead. This section is synchronous, so only its own
  // output is dropped.
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    file = new lib.File(path, 'r');
    return use(file, lib);
  } finally {
    try {
      process.stderr.write = (() => true) as typeof process.stderr.write;
      file?.close();
    } catch {
      // A file that failed half-way may not close cleanly; the in-memory copy is removed below.
    } finally {
      process.stderr.write = write;
    }
    try {
      fs.unlink(path);
    } catch {
      // Already gone.
    }
  }
}

function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function tensorOf(dataset: H5Dataset): WeightTensor | undefined {
  const value = dataset.value as unknown;
  const shape = (dataset.shape ?? []) as number[];
  if (value instanceof Float32Array) return { shape, values: value };
  if (value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint8Array || value instanceof Int16Array) return { shape, values: Float32Array.from(value) };
  if (typeof value === 'number') return { shape, values: new Float32Array([value]) };
  return undefined;
}

// #endregion

type WeightMap = Map<string, { name: string; tensor: WeightTensor }[]>;

/**
 * A legacy .h5's `training_config` attribute (JSON text), parsed under the saved-model JSON
 * limits; one that cannot be read is a note, and the model is read without it.
 */
function parseTrainingText(trainingText: string | undefined, fileName: string): { training?: JsonNode; notes: LoadNote[] } {
  if (trainingText === undefined) return { notes: [] };
  const unread = (why: string) => ({ notes: [{ message: `${fileName}: its \`training_config\` ${why}; the default optimiser and loss are used.`, span: ORIGIN }] });
  if (trainingText.length > MAX_JSON_BYTES || utf8Length(trainingText) > MAX_JSON_BYTES) return unread(`is larger than the ${formatBytes(MAX_JSON_BYTES)} Activation Lens reads in a saved-model JSON`);
  try {
    return { training: parseJsonWithPositions(trainingText), notes: [] };
  } catch (error) {
    return unread(`is not readable JSON (${(error as Error).message.replace(/\.$/, '')})`);
  }
}

function fromConfigText(configText: string, fileName: string, weights: WeightMap | undefined, extraProblems: LoadProblem[], trainingText?: string): LoadResult {
  let root: JsonNode;
  try {
    root = parseJsonWithPositions(configText);
  } catch (error) {
    if (error instanceof JsonLimitError) {
      // A limit of limits.ts (layers, values): named, with its place in the embedded config.json.
      const at = new PositionIndex(configText.slice(0, error.offset + 1)).position(error.offset);
      return fail(`${fileName}: ${error.message.replace(/\.$/, '')} (config.json, line ${at.line}, column ${at.column}); the model is not read.`);
    }
    const where = error instanceof JsonSyntaxError ? ` (at character ${error.offset} of the embedded config)` : '';
    return fail(`${fileName}: the embedded model config is not valid JSON${where}: ${(error as Error).message}`);
  }
  const config = findModelConfig(root);
  if (!config) return fail(`${fileName}: the embedded model config has no "class_name" and "config".`);
  const parsed = parseTrainingText(trainingText, fileName);
  const converted = modelsFromConfig(config, {
    format: 'keras-json',
    spanOf: () => ORIGIN,
    binary: true,
    fallbackName: 'model',
    weights: weights ? (name) => weights.get(name) : undefined,
    // A .keras config.json holds its own `compile_config`; a legacy .h5 keeps `training_config` in an attribute.
    training: parsed.training,
    trainingNotes: parsed.notes,
  });
  return { format: 'keras-json', models: converted.models, problems: [...extraProblems, ...converted.problems] };
}

/** Loads a `.keras` archive. Never throws. */
export async function loadKerasArchive(bytes: Uint8Array, fileName: string, options: SavedModelOptions = {}): Promise<LoadResult> {
  try {
    const entries = readZip(bytes);
    const config = entries.get('config.json');
    if (!config) return fail(`${fileName} is a zip archive without config.json, so it is not a .keras model.`);
    const configText = new TextDecoder().decode(config());
    const problems: LoadProblem[] = [];
    let weights: WeightMap | undefined;
    const weightsEntry = entries.get('model.weights.h5');
    if (!options.freshInit && weightsEntry) {
      try {
        weights = await withHdf5(weightsEntry(), (file, lib) => kerasV3Weights(file, lib));
      } catch (error) {
        problems.push({ code: 'parse-error', message: `${fileName}: model.weights.h5 cannot be read (${(error as Error).message}); the model is diagnosed from a fresh initialisation.`, span: ORIGIN });
      }
    }
    return fromConfigText(configText, fileName, weights, problems);
  } catch (error) {
    return fail(`${fileName} is not a readable .keras archive: ${(error as Error).message}.`);
  }
}

/** `layers/<name>/vars/<i>` (Keras 3) or `_layer_checkpoint_dependencies/<name>/vars/<i>` (2.13). */
function kerasV3Weights(file: H5File, lib: H5Module): WeightMap {
  const weights: WeightMap = new Map();
  for (const top of ['layers', '_layer_checkpoint_dependencies']) {
    const group = file.get(top);
    if (!(group instanceof lib.Group)) continue;
    for (const layerName of group.keys()) {
      const vars = file.get(`${top}/${layerName}/vars`);
      if (!(vars instanceof lib.Group)) continue;
      const list: { name: string; tensor: WeightTensor }[] = [];
      const keys = vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
      for (const key of keys) {
        const dataset = vars.get(key);
        const tensor = dataset instanceof lib.Dataset ? tensorOf(dataset) : undefined;
        if (tensor) list.push({ name: key, tensor });
      }
      if (list.length > 0) weights.set(layerName, list);
    }
  }
  return weights;
}

/** Loads a legacy Keras `.h5` model (HDF5 with a `model_config` attribute). Never throws. */
export async function loadKerasH5(bytes: Uint8Array, fileName: string, options: SavedModelOptions = {}): Promise<LoadResult> {
  let found: { config?: string; weights?: WeightMap; training?: string } | undefined;
  try {
    found = await withHdf5(bytes, (file, lib) => {
      const config = attributeText(file.attrs.model_config?.value);
      const training = attributeText(file.attrs.training_config?.value);
      if (!config || options.freshInit) return { config, training };
      const root = file.get('model_weights');
      const weights: WeightMap = new Map();
      if (root instanceof lib.Group) {
        for (const layerName of root.keys()) {
          const group = root.get(layerName);
          if (!(group instanceof lib.Group)) continue;
          const listed = group.attrs.weight_names?.value;
          const names = Array.isArray(listed) ? listed.map((n) => attributeText(n) ?? String(n)) : typeof listed === 'string' ? [listed] : collectDatasets(group, lib, '');
          const list: { name: string; tensor: WeightTensor }[] = [];
          for (const name of names) {
            const dataset = group.get(name);
            const tensor = dataset instanceof lib.Dataset ? tensorOf(dataset) : undefined;
            if (tensor) list.push({ name, tensor });
          }
          if (list.length > 0) weights.set(layerName, list);
        }
      }
      return { config, weights, training };
    });
  } catch (error) {
    return fail(`${fileName} is not a readable HDF5 file: ${(error as Error).message}.`);
  }
  if (!found.config) return fail(`${fileName} is an HDF5 file without a \`model_config\` attribute (weights-only files cannot be rebuilt; save with model.save()).`);
  return fromConfigText(found.config, fileName, found.weights, [], found.training);
}

function collectDatasets(group: H5Group, lib: H5Module, prefix: string): string[] {
  const names: string[] = [];
  for (const key of group.keys()) {
    const child = group.get(key);
    if (child instanceof lib.Dataset) names.push(`${prefix}${key}`);
    else if (child instanceof lib.Group && names.length < 64) names.push(...collectDatasets(child, lib, `${prefix}${key}/`));
  }
  return names;
}
