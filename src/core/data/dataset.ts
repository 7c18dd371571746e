/**
 * The user's own data: CSV/TSV, NumPy .npy/.npz and JSON arrays, read within budgets in bytes and
 * counts (limits.ts) and sampling at most `maxRows` rows, so a huge or hostile file neither blocks
 * nor exhausts memory: sizes are checked against the real file before anything is allocated, text
 * and binary data are read in chunks with a yield to the event loop between them, and an aborted
 * `signal` stops the read. Returns a Dataset or a typed DataError (with a position where there is
 * one) in our own words; never throws and never quotes more of the file than a cell's first
 * SNIPPET_CHARS characters.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { tokenizeCsv } from './csv';
import { findJsonError, lineColumn } from './jsonPosition';
import { CANCELLED, DataFailure, failWith, FloatBuffer, MAX_COLUMNS, MAX_CSV_BYTES, MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_UNPACKED_BYTES, mib, Pacer, snippet } from './limits';
import { readNpyRows, type ByteSource, type NpyRows } from './npy';
import { entryProblem, entrySource, readZipDirectory, ZipError, type ZipEntry } from './zip';

export interface Dataset {
  readonly file: string;
  readonly format: 'csv' | 'npy' | 'npz' | 'json';
  /** Row-major features, rows × features. */
  readonly x: Float32Array;
  readonly rows: number;
  readonly features: number;
  /** The shape of one sample when the file has one (a NumPy array of rank > 2), e.g. [3, 32, 32]. */
  readonly sampleShape?: readonly number[];
  /** Feature names (CSV header or generated `f0, f1, …`). */
  readonly columns: readonly string[];
  /** Targets, rows × targetWidth, when the data has them. */
  readonly y?: Float32Array;
  readonly targetWidth: number;
  readonly targetColumn?: string;
  /** Class names when the target column held text labels (mapped to 0, 1, …). */
  readonly classNames?: readonly string[];
  /** True when the file has more rows than were read. */
  readonly truncated: boolean;
}

export interface DataError {
  readonly error: string;
  /** 1-based line (CSV/JSON) where the problem is, when there is one. */
  readonly line?: number;
  readonly column?: number;
  /** True when the read stopped because its signal was aborted. */
  readonly cancelled?: boolean;
}

export interface ReadOptions {
  /** The target column's name (CSV/JSON objects) — else `label`, `target`, `y`, `class`, else the last column. */
  readonly target?: string;
  /** Read at most this many rows (default 10,000). */
  readonly maxRows: number;
  /** Refuse NumPy files above this size (bytes); only the rows kept are read from them. */
  readonly maxBinaryBytes: number;
  /** Bytes read or inflated from a NumPy file's data, x and y together (default MAX_UNPACKED_BYTES, 256 MiB). */
  readonly maxUnpackedBytes?: number;
  /** Aborting it stops the read with a `cancelled` DataError. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_READ_OPTIONS: ReadOptions = { maxRows: 10_000, maxBinaryBytes: 512 * 2 ** 20 };
const TARGET_NAMES = ['label', 'labels', 'target', 'y', 'class'];

export function isDataError(value: Dataset | DataError): value is DataError {
  return 'error' in value;
}

/** Names from the file, shortened and at most `count` of them, for a message. */
function listNames(names: readonly string[], count = 8): string {
  return names.slice(0, count).map(snippet).join(', ') + (names.length > count ? ', …' : '');
}

/** A file-system error in our words (never the library's text). */
function fileProblem(file: string, error: unknown): DataError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : code === 'EMFILE' ? 'too many open files' : code ? `the system refused (${code})` : 'an unexpected error while reading it';
  return { error: `cannot read data file ${file}: ${why}` };
}

/** Reads a data file, choosing the format by content (NumPy magic, zip magic) then by extension. */
export async function readDataset(file: string, options: Partial<ReadOptions> = {}): Promise<Dataset | DataError> {
  const opts = { ...DEFAULT_READ_OPTIONS, ...options };
  const pacer = new Pacer(opts.signal);
  if (pacer.aborted) return CANCELLED;
  let stat: fs.Stats;
  try {
    stat = await fsp.stat(file);
  } catch (error) {
    return fileProblem(file, error);
  }
  if (stat.isDirectory()) return { error: `cannot read data file ${file}: it is a directory` };
  if (!stat.isFile()) return { error: `cannot read data file ${file}: it is not a regular file` };
  if (stat.size === 0) return { error: `data file ${file} is empty` };
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, 'r');
    const head = Buffer.alloc(Math.min(8, stat.size));
    await handle.read(head, 0, head.length, 0);
    const isNpy = head[0] === 0x93 && head.toString('latin1', 1, 6) === 'NUMPY';
    const isZip = head[0] === 0x50 && head[1] === 0x4b;
    if (isNpy || isZip) {
      if (stat.size > opts.maxBinaryBytes) {
        return { error: `${path.basename(file)} is ${mib(stat.size)}, above the ${mib(opts.maxBinaryBytes)} limit for NumPy files; save a sample or use CSV, which is streamed` };
      }
      return isNpy ? await fromNpy(file, handle, stat.size, opts, pacer) : await fromNpz(file, handle, stat.size, opts, pacer);
    }
    if (file.toLowerCase().endsWith('.json')) return await fromJson(file, handle, stat.size, opts, pacer);
    return await fromCsv(file, handle, stat.size, opts, pacer);
  } catch (error) {
    if (error instanceof DataFailure) return error.failure;
    if (error instanceof ZipError) return { error: `${path.basename(file)}: ${error.message}` };
    return fileProblem(file, error);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function findTarget(columns: readonly string[], requested: string | undefined): number | DataError {
  if (requested !== undefined) {
    const at = columns.indexOf(requested);
    return at >= 0 ? at : { error: `target column "${requested}" not found (columns: ${listNames(columns, 12)})`, line: 1 };
  }
  const lower = columns.map((c) => c.trim().toLowerCase());
  const named = TARGET_NAMES.map((n) => lower.indexOf(n)).find((i) => i >= 0);
  return named ?? columns.length - 1;
}

/** Streams a CSV/TSV, stopping after maxRows data rows or MAX_CSV_BYTES (nothing beyond is read). */
async function fromCsv(file: string, handle: fsp.FileHandle, size: number, opts: ReadOptions, pacer: Pacer): Promise<Dataset | DataError> {
  const delimiter = file.toLowerCase().endsWith('.tsv') ? '\t' : detectDelimiter(await firstLine(handle));
  // A semicolon-separated file is usually a European spreadsheet export, with decimal commas.
  const toNumber = delimiter === ';' ? (cell: string) => Number(DECIMAL_COMMA.test(cell) ? cell.replace(',', '.') : cell) : Number;
  let columns: string[] | undefined;
  let targetIndex = -1;
  const xs = new FloatBuffer();
  const ys = new FloatBuffer();
  const labels = new Map<string, number>();
  let rows = 0;
  let truncated = false;
  const cut = await tokenizeCsv(handle, size, delimiter, pacer, (cells, line) => {
    if (!columns) {
      const header = cells.some((c) => c !== '' && !Number.isFinite(toNumber(c)));
      columns = header ? cells : cells.map((_, i) => `f${i}`);
      const t = findTarget(columns, opts.target);
      if (typeof t !== 'number') failWith(t);
      targetIndex = t;
      if (header) return true;
    }
    if (rows >= opts.maxRows) {
      truncated = true;
      return false;
    }
    if (cells.length !== columns.length) failWith({ error: `row has ${cells.length} cells but the header has ${columns.length} (ragged rows)`, line, column: 1 });
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      const v = toNumber(cell);
      if (c === targetIndex) {
        if (cell !== '' && Number.isFinite(v)) ys.push(v);
        else if (cell !== '' && !/^nan$/i.test(cell)) {
          if (!labels.has(cell)) labels.set(cell, labels.size);
          ys.push(labels.get(cell)!);
        } else failWith({ error: `missing or NaN target "${snippet(cell)}" in column "${snippet(columns[c])}"`, line, column: c + 1 });
        continue;
      }
      if (cell === '' || !Number.isFinite(v)) {
        failWith({
          error: cell === '' || /^nan$/i.test(cell) ? `missing or NaN value in column "${snippet(columns[c])}"` : `non-numeric value "${snippet(cell)}" in column "${snippet(columns[c])}"`,
          line,
          column: c + 1,
        });
      }
      xs.push(v);
    }
    rows++;
    return true;
  });
  // The byte budget ended the read before the row cap: the rows read are a sample, as with the cap.
  if (cut) truncated = true;
  if (!columns || rows === 0) {
    return cut ? { error: `data file ${path.basename(file)} has no whole data row within its first ${mib(MAX_CSV_BYTES)}` } : { error: `data file ${path.basename(file)} has no data rows` };
  }
  const names: string[] = columns;
  const y = ys.take();
  if (labels.size > 0 && labels.size !== new Set(y).size) {
    return { error: `target column "${snippet(names[targetIndex])}" mixes numbers and text labels` };
  }
  return {
    file,
    format: 'csv',
    x: xs.take(),
    rows,
    features: names.length - 1,
    columns: names.filter((_, i) => i !== targetIndex),
    y,
    targetWidth: 1,
    targetColumn: names[targetIndex],
    classNames: labels.size ? [...labels.keys()] : undefined,
    truncated,
  };
}

/** `1,5` or `-0,25e3`: a number written with a decimal comma. */
const DECIMAL_COMMA = /^[+-]?\d*,\d+(?:e[+-]?\d+)?$/i;

/** The separator of a delimited text file: whichever of tab, semicolon and comma its first line has most of. */
export function detectDelimiter(line: string): '\t' | ';' | ',' {
  const count = (c: string) => line.split(c).length - 1;
  const candidates: ('\t' | ';' | ',')[] = ['\t', ';', ','];
  const best = candidates.reduce((a, b) => (count(b) > count(a) ? b : a));
  return count(best) > 0 ? best : ',';
}

async function firstLine(handle: fsp.FileHandle): Promise<string> {
  const buffer = Buffer.alloc(4096);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  return buffer.toString('utf8', 0, bytesRead).split('\n')[0];
}

/** The bytes of a file from `start`, read at positions as they are asked for. */
function fileSource(handle: fsp.FileHandle, start: number): ByteSource {
  let position = start;
  return {
    async read(max) {
      const buffer = Buffer.alloc(max);
      const { bytesRead } = await handle.read(buffer, 0, max, position);
      position += bytesRead;
      return bytesRead ? buffer.subarray(0, bytesRead) : undefined;
    },
  };
}

function unpackedCap(opts: ReadOptions): { cap: number; name: string } {
  const cap = Math.min(opts.maxBinaryBytes, opts.maxUnpackedBytes ?? MAX_UNPACKED_BYTES);
  return { cap, name: `${mib(cap)} limit on unpacked NumPy data (what the brief training can use)` };
}

function assemble(file: string, format: Dataset['format'], x: NpyRows, y: NpyRows | undefined, targetName?: string): Dataset | DataError {
  const { values, width } = x;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      return { error: `x holds NaN or Inf at row ${Math.floor(i / width) + 1}, feature ${(i % width) + 1}` };
    }
  }
  if (y && y.totalRows !== x.totalRows) return { error: `x has ${x.totalRows} rows but y has ${y.totalRows}` };
  const shape = x.header.shape;
  return {
    file, format, x: values, rows: x.rows, features: width,
    ...(shape.length > 2 ? { sampleShape: shape.slice(1) } : {}),
    columns: Array.from({ length: width }, (_, i) => `f${i}`),
    y: y?.values, targetWidth: y?.width ?? 0, targetColumn: y ? targetName : undefined, truncated: x.totalRows > x.rows,
  };
}

/** Reads the header and only the first maxRows rows, at positions in the file. */
async function fromNpy(file: string, handle: fsp.FileHandle, size: number, opts: ReadOptions, pacer: Pacer): Promise<Dataset | DataError> {
  const { cap, name } = unpackedCap(opts);
  const x = await readNpyRows(fileSource(handle, 0), size, path.basename(file), { maxRows: opts.maxRows, budget: cap, budgetName: name, pacer });
  return assemble(file, 'npy', x, undefined);
}

/** Reads the zip directory, checks the arrays' declared sizes, then inflates only the rows kept. */
async function fromNpz(file: string, handle: fsp.FileHandle, size: number, opts: ReadOptions, pacer: Pacer): Promise<Dataset | DataError> {
  const base = path.basename(file);
  const entries = (await readZipDirectory(handle, size)).filter((e) => !e.name.endsWith('/'));
  const names = entries.map((e) => e.name);
  const bare = (n: string) => n.replace(/\.npy$/, '');
  const pick = (candidates: string[]) => entries.find((e) => candidates.includes(bare(e.name).toLowerCase()));
  const xEntry = pick(['x', 'x_train', 'features', 'inputs', 'data']) ?? (entries.length === 1 ? entries[0] : undefined);
  if (!xEntry) return { error: `${base} holds ${names.length ? listNames(names) : 'no arrays'}; expected arrays named x and y` };
  const yEntry = pick(opts.target ? [opts.target.toLowerCase()] : ['y', 'y_train', 'labels', 'label', 'targets', 'target']);
  if (opts.target && !yEntry) return { error: `${base} has no array named ${opts.target} (it holds ${listNames(names.map(bare))})` };
  const { cap, name } = unpackedCap(opts);
  // Declared sizes first: a zip bomb is refused before a byte is inflated.
  for (const entry of [xEntry, yEntry]) {
    const problem = entry && entryProblem(entry, cap, name);
    if (problem) return { error: `${base}: ${problem}` };
  }
  const read = async (entry: ZipEntry, budget: number) =>
    readNpyRows(await entrySource(handle, size, entry), entry.size, `${snippet(entry.name)} in ${base}`, { maxRows: opts.maxRows, budget, budgetName: name, pacer });
  const x = await read(xEntry, cap);
  const used = Math.max(x.values.length * 4, x.values.length * x.header.itemSize);
  const y = yEntry ? await read(yEntry, cap - used) : undefined;
  return assemble(file, 'npz', x, y, yEntry ? bare(yEntry.name) : undefined);
}

/** Bytes of a text file, read in chunks (yielding between them), as a string without its BOM. */
async function readText(handle: fsp.FileHandle, size: number, pacer: Pacer): Promise<string> {
  const buffer = Buffer.alloc(size);
  let done = 0;
  while (done < size) {
    const { bytesRead } = await handle.read(buffer, done, Math.min(2 ** 20, size - done), done);
    if (bytesRead === 0) break;
    done += bytesRead;
    await pacer.pause();
  }
  return new TextDecoder('utf-8').decode(buffer.subarray(0, done)); // drops a leading BOM
}

/** The numbers of one JSON row ([…], nested up to MAX_JSON_DEPTH, or a single number), or undefined when one is not a finite number. */
function flatRow(row: unknown, what: string): number[] | undefined {
  const out: number[] = [];
  const walk = (value: unknown, depth: number): boolean => {
    if (typeof value === 'number') {
      out.push(value);
      return Number.isFinite(value);
    }
    if (!Array.isArray(value)) return false;
    if (depth >= MAX_JSON_DEPTH) failWith({ error: `${what} is nested deeper than ${MAX_JSON_DEPTH} levels, the limit for one row` });
    if (out.length + value.length > MAX_COLUMNS * 100) failWith({ error: `${what} holds more than ${(MAX_COLUMNS * 100).toLocaleString('en-US')} values, the limit for one row` });
    for (const v of value) if (!walk(v, depth + 1)) return false;
    return true;
  };
  return walk(row, 0) ? out : undefined;
}

/** JSON: [[…], …] (last column the target unless --target), {"x": [[…]], "y": […]}, or [{…}, …]. */
async function fromJson(file: string, handle: fsp.FileHandle, size: number, opts: ReadOptions, pacer: Pacer): Promise<Dataset | DataError> {
  const limit = Math.min(MAX_JSON_BYTES, opts.maxBinaryBytes);
  if (size > limit) return { error: `${path.basename(file)} is ${mib(size)}, above the ${mib(limit)} limit for JSON data (JSON is parsed whole); use CSV, which is streamed` };
  const text = await readText(handle, size, pacer);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Node's message has no position for many errors and quotes the text: locate it ourselves.
    const problem = findJsonError(text);
    if (!problem) return { error: 'invalid JSON (the parser and the position scan disagree)' };
    return { error: `invalid JSON: ${problem.message}`, ...lineColumn(text, problem.offset) };
  }
  await pacer.pause();
  const numbers = (rows: unknown[], what: string): number[][] | DataError => {
    const out: number[][] = [];
    for (let r = 0; r < Math.min(rows.length, opts.maxRows); r++) {
      const cells = flatRow(rows[r], `${what}[${r}]`);
      if (!cells) return { error: `${what}[${r}] holds a non-numeric, NaN or missing value` };
      if (out.length && cells.length !== out[0].length) return { error: `${what}[${r}] has ${cells.length} values but ${what}[0] has ${out[0].length} (ragged rows)` };
      out.push(cells);
    }
    return out;
  };
  const build = (xRows: number[][], yRows: number[][] | undefined, columns: string[], targetColumn?: string, total = xRows.length): Dataset | DataError => {
    if (xRows.length === 0) return { error: `data file ${path.basename(file)} has no rows` };
    const x = new Float32Array(xRows.length * xRows[0].length);
    xRows.forEach((r, i) => x.set(r, i * xRows[0].length));
    return {
      file, format: 'json', x, rows: xRows.length, features: xRows[0].length, columns,
      y: yRows ? Float32Array.from(yRows.flat()) : undefined, targetWidth: yRows?.[0]?.length ?? 0, targetColumn, truncated: total > xRows.length,
    };
  };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(value) && value.length > 0 && isObject(value[0])) {
    const columns = Object.keys(value[0]);
    if (columns.length > MAX_COLUMNS) return { error: `rows[0] has ${columns.length} keys, above the limit of ${MAX_COLUMNS.toLocaleString('en-US')} columns` };
    const t = findTarget(columns, opts.target);
    if (typeof t !== 'number') return { error: t.error };
    const kept = value.slice(0, opts.maxRows);
    const notObject = kept.findIndex((o) => !isObject(o));
    if (notObject >= 0) return { error: `rows[${notObject}] is not an object like rows[0]` };
    const rows = numbers(kept.map((o) => columns.map((c) => (o as Record<string, unknown>)[c])), 'rows');
    if (!Array.isArray(rows)) return rows;
    return build(rows.map((r) => r.filter((_, i) => i !== t)), rows.map((r) => [r[t]]), columns.filter((_, i) => i !== t), columns[t], value.length);
  }
  if (Array.isArray(value)) {
    const rows = numbers(value, 'rows');
    if (!Array.isArray(rows)) return rows;
    if (rows.length === 0) return { error: `data file ${path.basename(file)} has no rows` };
    const width = rows[0].length;
    const t = opts.target !== undefined ? Number(opts.target) : width - 1;
    if (!Number.isInteger(t) || t < 0 || t >= width) return { error: `--target for a JSON array of arrays is a column index, got "${snippet(opts.target ?? '')}"` };
    const columns = Array.from({ length: width }, (_, i) => `f${i}`);
    return build(rows.map((r) => r.filter((_, i) => i !== t)), rows.map((r) => [r[t]]), columns.filter((_, i) => i !== t), columns[t], value.length);
  }
  if (isObject(value) && Array.isArray(value.x)) {
    const obj = value as { x: unknown[]; y?: unknown[] };
    const xRows = numbers(obj.x, 'x');
    if (!Array.isArray(xRows)) return xRows;
    let yRows: number[][] | undefined;
    if (Array.isArray(obj.y)) {
      const parsed = numbers(obj.y, 'y');
      if (!Array.isArray(parsed)) return parsed;
      if (obj.y.length !== obj.x.length) return { error: `x has ${obj.x.length} rows but y has ${obj.y.length}` };
      yRows = parsed;
    }
    return build(xRows, yRows, xRows[0] ? xRows[0].map((_, i) => `f${i}`) : [], yRows ? 'y' : undefined, obj.x.length);
  }
  return { error: 'expected a JSON array of rows, an array of objects, or {"x": [...], "y": [...]}', line: 1, column: 1 };
}

/**
 * Why samples of shape `sampleShape` cannot feed a model with input `inputShape` although they
 * hold as many values, or undefined when they can: axes of size 1 aside, the shapes must agree,
 * so a channels-first array (PyTorch's layout) is not silently read as channels-last.
 */
export function sampleShapeMismatch(sampleShape: readonly number[] | undefined, inputShape: readonly number[]): string | undefined {
  if (!sampleShape) return undefined;
  const squeeze = (shape: readonly number[]) => shape.filter((d) => d !== 1);
  const a = squeeze(sampleShape);
  const b = squeeze(inputShape);
  if (a.length === b.length && a.every((d, i) => d === b[i])) return undefined;
  const product = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
  if (product(sampleShape) !== product(inputShape)) return undefined; // the trainer names the count mismatch
  const channelsFirst = sampleShape.length === 3 && inputShape.length === 3 && sampleShape[0] === inputShape[2] && sampleShape[1] === inputShape[0] && sampleShape[2] === inputShape[1];
  return `The data's samples have shape [${sampleShape.join(', ')}] but the model's input shape is [${inputShape.join(', ')}]` +
    (channelsFirst ? ': the array is channels-first (PyTorch\'s layout) and the model channels-last; save it transposed, e.g. np.transpose(x, (0, 2, 3, 1))' : '; reshape the array to the model\'s input shape');
}
