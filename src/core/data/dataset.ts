/**
 * The user's own data: CSV/TSV, NumPy .npy/.npz and JSON arrays, read with maintained libraries
 * (csv-parse streaming, npyjs, fflate), sampling at most `maxRows` rows so a huge file neither
 * blocks nor exhausts memory. Returns a Dataset or a typed DataError with a position; never throws.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import { parse as parseNpy, type NpyArray } from 'npyjs';
import { unzipSync } from 'fflate';

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
}

export interface ReadOptions {
  /** The target column's name (CSV/JSON objects) — else `label`, `target`, `y`, `class`, else the last column. */
  readonly target?: string;
  /** Read at most this many rows (default 10,000). */
  readonly maxRows: number;
  /** Binary formats are read whole; refuse files above this size (bytes). */
  readonly maxBinaryBytes: number;
}

export const DEFAULT_READ_OPTIONS: ReadOptions = { maxRows: 10_000, maxBinaryBytes: 512 * 2 ** 20 };
const TARGET_NAMES = ['label', 'labels', 'target', 'y', 'class'];

export function isDataError(value: Dataset | DataError): value is DataError {
  return 'error' in value;
}

/** Reads a data file, choosing the format by content (NumPy magic, zip magic) then by extension. */
export async function readDataset(file: string, options: Partial<ReadOptions> = {}): Promise<Dataset | DataError> {
  const opts = { ...DEFAULT_READ_OPTIONS, ...options };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return { error: `cannot read data file ${file}: no such file` };
  }
  if (stat.isDirectory()) return { error: `cannot read data file ${file}: it is a directory` };
  if (stat.size === 0) return { error: `data file ${file} is empty` };
  const head = Buffer.alloc(Math.min(8, stat.size));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const isNpy = head[0] === 0x93 && head.toString('latin1', 1, 6) === 'NUMPY';
  const isZip = head[0] === 0x50 && head[1] === 0x4b;
  try {
    if (isNpy || isZip) {
      if (stat.size > opts.maxBinaryBytes) {
        return { error: `${path.basename(file)} is ${(stat.size / 2 ** 20).toFixed(0)} MiB, above the ${(opts.maxBinaryBytes / 2 ** 20).toFixed(0)} MiB limit for NumPy files (they are read whole); save a sample or use CSV, which is streamed` };
      }
      return isNpy ? fromNpy(file, opts) : fromNpz(file, opts);
    }
    if (file.toLowerCase().endsWith('.json')) return fromJson(file, stat.size, opts);
    return await fromCsv(file, opts);
  } catch (error) {
    return { error: `cannot read data file ${file}: ${(error as Error).message}` };
  }
}

function findTarget(columns: readonly string[], requested: string | undefined): number | DataError {
  if (requested !== undefined) {
    const at = columns.indexOf(requested);
    return at >= 0 ? at : { error: `target column "${requested}" not found (columns: ${columns.slice(0, 12).join(', ')}${columns.length > 12 ? ', …' : ''})`, line: 1 };
  }
  const lower = columns.map((c) => c.trim().toLowerCase());
  const named = TARGET_NAMES.map((n) => lower.indexOf(n)).find((i) => i >= 0);
  return named ?? columns.length - 1;
}

/** Streams a CSV/TSV, stopping after maxRows data rows (nothing beyond is read). */
async function fromCsv(file: string, opts: ReadOptions): Promise<Dataset | DataError> {
  const delimiter = file.toLowerCase().endsWith('.tsv') ? '\t' : detectDelimiter(firstLine(file));
  // A semicolon-separated file is usually a European spreadsheet export, with decimal commas.
  const toNumber = delimiter === ';' ? (cell: string) => Number(DECIMAL_COMMA.test(cell) ? cell.replace(',', '.') : cell) : Number;
  const stream = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  // bom: a UTF-8 byte-order mark (Excel's "CSV UTF-8") must not become part of the first header.
  const parser = stream.pipe(parseCsv({ delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  let columns: string[] | undefined;
  let targetIndex = -1;
  const xs: number[] = [];
  const ys: number[] = [];
  const labels = new Map<string, number>();
  let rows = 0;
  let truncated = false;
  let failure: DataError | undefined;
  try {
    for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = record.record;
      const line = record.info.lines;
      if (!columns) {
        const header = cells.some((c) => c !== '' && !Number.isFinite(toNumber(c)));
        columns = header ? cells : cells.map((_, i) => `f${i}`);
        const t = findTarget(columns, opts.target);
        if (typeof t !== 'number') {
          failure = t;
          break;
        }
        targetIndex = t;
        if (header) continue;
      }
      if (rows >= opts.maxRows) {
        truncated = true;
        break;
      }
      if (cells.length !== columns.length) {
        failure = { error: `row has ${cells.length} cells but the header has ${columns.length} (ragged rows)`, line, column: 1 };
        break;
      }
      for (let c = 0; c < cells.length; c++) {
        const cell = cells[c];
        if (c === targetIndex) {
          const v = toNumber(cell);
          if (cell !== '' && Number.isFinite(v)) ys.push(v);
          else if (cell !== '' && !/^nan$/i.test(cell)) {
            if (!labels.has(cell)) labels.set(cell, labels.size);
            ys.push(labels.get(cell)!);
          } else {
            failure = { error: `missing or NaN target "${cell}" in column "${columns[c]}"`, line, column: c + 1 };
            break;
          }
          continue;
        }
        const v = toNumber(cell);
        if (cell === '' || !Number.isFinite(v)) {
          failure = {
            error: cell === '' || /^nan$/i.test(cell) ? `missing or NaN value in column "${columns[c]}"` : `non-numeric value "${cell.slice(0, 40)}" in column "${columns[c]}"`,
            line,
            column: c + 1,
          };
          break;
        }
        xs.push(v);
      }
      if (failure) break;
      rows++;
    }
  } finally {
    stream.destroy();
  }
  if (failure) return failure;
  if (!columns || rows === 0) return { error: `data file ${path.basename(file)} has no data rows` };
  if (labels.size > 0 && labels.size !== new Set(ys).size) {
    return { error: `target column "${columns[targetIndex]}" mixes numbers and text labels` };
  }
  return {
    file,
    format: 'csv',
    x: Float32Array.from(xs),
    rows,
    features: columns.length - 1,
    columns: columns.filter((_, i) => i !== targetIndex),
    y: Float32Array.from(ys),
    targetWidth: 1,
    targetColumn: columns[targetIndex],
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

function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const n = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, n).split('\n')[0];
  } finally {
    fs.closeSync(fd);
  }
}

function toFloat32(array: NpyArray): Float32Array {
  const data = array.data as unknown as ArrayLike<number | bigint>;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

function matrix(array: NpyArray, what: string, maxRows: number): { values: Float32Array; rows: number; width: number; truncated: boolean } | DataError {
  if (array.fortranOrder) return { error: `${what}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray` };
  if (array.shape.length === 0) return { error: `${what}: a scalar, expected rows of samples` };
  const rows = array.shape[0];
  const width = array.shape.slice(1).reduce((a, b) => a * b, 1);
  const kept = Math.min(rows, maxRows);
  const values = toFloat32(array).subarray(0, kept * width);
  return { values, rows: kept, width, truncated: rows > kept };
}

function assemble(file: string, format: Dataset['format'], x: NpyArray, y: NpyArray | undefined, opts: ReadOptions, targetName?: string): Dataset | DataError {
  const xm = matrix(x, 'x', opts.maxRows);
  if ('error' in xm) return xm;
  for (let i = 0; i < xm.values.length; i++) {
    if (!Number.isFinite(xm.values[i])) {
      return { error: `x holds NaN or Inf at row ${Math.floor(i / xm.width) + 1}, feature ${(i % xm.width) + 1}` };
    }
  }
  let ym: { values: Float32Array; width: number } | undefined;
  if (y) {
    const parsed = matrix(y, 'y', opts.maxRows);
    if ('error' in parsed) return parsed;
    if (y.shape[0] !== x.shape[0]) return { error: `x has ${x.shape[0]} rows but y has ${y.shape[0]}` };
    ym = parsed;
  }
  return {
    file, format, x: xm.values, rows: xm.rows, features: xm.width,
    ...(x.shape.length > 2 ? { sampleShape: x.shape.slice(1) } : {}),
    columns: Array.from({ length: xm.width }, (_, i) => `f${i}`),
    y: ym?.values, targetWidth: ym?.width ?? 0, targetColumn: ym ? targetName : undefined, truncated: xm.truncated,
  };
}

function fromNpy(file: string, opts: ReadOptions): Dataset | DataError {
  const bytes = fs.readFileSync(file);
  const array = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return assemble(file, 'npy', array, undefined, opts);
}

function fromNpz(file: string, opts: ReadOptions): Dataset | DataError {
  const entries = unzipSync(new Uint8Array(fs.readFileSync(file)));
  const names = Object.keys(entries);
  const pick = (candidates: string[]) => names.find((n) => candidates.includes(n.replace(/\.npy$/, '').toLowerCase()));
  const xName = pick(['x', 'x_train', 'features', 'inputs', 'data']) ?? (names.length === 1 ? names[0] : undefined);
  if (!xName) return { error: `${path.basename(file)} holds ${names.join(', ')}; expected arrays named x and y` };
  const yName = pick(opts.target ? [opts.target.toLowerCase()] : ['y', 'y_train', 'labels', 'label', 'targets', 'target']);
  if (opts.target && !yName) return { error: `${path.basename(file)} has no array named ${opts.target} (it holds ${names.map((n) => n.replace(/\.npy$/, '')).join(', ')})` };
  const load = (name: string) => {
    const b = entries[name];
    return parseNpy(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  };
  return assemble(file, 'npz', load(xName), yName ? load(yName) : undefined, opts, yName?.replace(/\.npy$/, ''));
}

/** JSON: [[…], …] (last column the target unless --target), {"x": [[…]], "y": […]}, or [{…}, …]. */
function fromJson(file: string, size: number, opts: ReadOptions): Dataset | DataError {
  if (size > opts.maxBinaryBytes) return { error: `${path.basename(file)} is too large to read as JSON; use CSV, which is streamed` };
  const text = fs.readFileSync(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message);
    const offset = at ? Number(at[1]) : 0;
    const before = text.slice(0, offset).split('\n');
    return { error: `invalid JSON: ${(error as Error).message}`, line: before.length, column: before[before.length - 1].length + 1 };
  }
  const numbers = (rows: unknown[], what: string): number[][] | DataError => {
    const out: number[][] = [];
    for (let r = 0; r < Math.min(rows.length, opts.maxRows); r++) {
      const row = rows[r];
      const cells = Array.isArray(row) ? row.flat(Infinity) : [row];
      if (!cells.every((c) => typeof c === 'number' && Number.isFinite(c))) return { error: `${what}[${r}] holds a non-numeric, NaN or missing value` };
      if (out.length && cells.length !== out[0].length) return { error: `${what}[${r}] has ${cells.length} values but ${what}[0] has ${out[0].length} (ragged rows)` };
      out.push(cells as number[]);
    }
    return out;
  };
  const build = (xRows: number[][], yRows: number[][] | undefined, columns: string[], targetColumn?: string, total = xRows.length): Dataset | DataError => {
    if (xRows.length === 0) return { error: `data file ${path.basename(file)} has no rows` };
    return {
      file, format: 'json', x: Float32Array.from(xRows.flat()), rows: xRows.length, features: xRows[0].length, columns,
      y: yRows ? Float32Array.from(yRows.flat()) : undefined, targetWidth: yRows?.[0]?.length ?? 0, targetColumn, truncated: total > xRows.length,
    };
  };
  if (Array.isArray(value) && value.length > 0 && value[0] !== null && typeof value[0] === 'object' && !Array.isArray(value[0])) {
    const columns = Object.keys(value[0] as object);
    const t = findTarget(columns, opts.target);
    if (typeof t !== 'number') return t;
    const rows = numbers(value.map((o) => columns.map((c) => (o as Record<string, unknown>)[c])), 'rows');
    if (!Array.isArray(rows)) return rows;
    return build(rows.map((r) => r.filter((_, i) => i !== t)), rows.map((r) => [r[t]]), columns.filter((_, i) => i !== t), columns[t], value.length);
  }
  if (Array.isArray(value)) {
    const rows = numbers(value, 'rows');
    if (!Array.isArray(rows)) return rows;
    if (rows.length === 0) return { error: `data file ${path.basename(file)} has no rows` };
    const width = rows[0].length;
    const t = opts.target !== undefined ? Number(opts.target) : width - 1;
    if (!Number.isInteger(t) || t < 0 || t >= width) return { error: `--target for a JSON array of arrays is a column index, got "${opts.target}"` };
    const columns = Array.from({ length: width }, (_, i) => `f${i}`);
    return build(rows.map((r) => r.filter((_, i) => i !== t)), rows.map((r) => [r[t]]), columns.filter((_, i) => i !== t), columns[t], value.length);
  }
  if (value && typeof value === 'object' && Array.isArray((value as Record<string, unknown>).x)) {
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
