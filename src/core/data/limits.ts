/**
 * Budgets of the data readers, in bytes and counts (never in time, so a result does not depend
 * on the machine), with the helpers every reader shares: quoting a cell without echoing the file,
 * yielding to the event loop and stopping when the read is cancelled.
 */
import type { DataError } from './dataset';

const MiB = 2 ** 20;

/**
 * Bytes read or inflated from a binary (.npy/.npz) file's data, x and y together: 256 MiB.
 * The trainer samples at most `maxRows` rows and holds them as float32 next to their tensors
 * (about three copies), so 256 MiB of data keeps a diagnosis under ~1 GiB; it is 10,000 rows of
 * 6,700 float32 features, more than the brief training can use.
 */
export const MAX_UNPACKED_BYTES = 256 * MiB;
/** Text read from a CSV/TSV: 64 MiB (about 4 s of parsing here); a longer file is sampled like the row cap. */
export const MAX_CSV_BYTES = 64 * MiB;
/** Characters in one CSV row, quoted newlines included: 16 MiB. A quote left open ends here. */
export const MAX_CSV_ROW_CHARS = 16 * MiB;
/** Columns of a CSV row: 100,000 (a 316 × 316 image flattened), far wider than a model input that trains in seconds. */
export const MAX_COLUMNS = 100_000;
/** A JSON data file is parsed whole: 64 MiB (checked with stat before reading; about 0.5 GiB parsed). */
export const MAX_JSON_BYTES = 64 * MiB;
/** Nesting of one JSON row ([[[…]]]): 32 levels; an image row needs 3. */
export const MAX_JSON_DEPTH = 32;
/** A cell quoted in a message: its first 12 characters, so a message never carries the file's contents. */
export const SNIPPET_CHARS = 12;
/** Work between two yields to the event loop: 16 ms, well inside the 64 ms a responsive reader needs. */
const YIELD_EVERY_MS = 16;

export const CANCELLED: DataError = { error: 'reading the data was cancelled', cancelled: true };

/** A value from the file, shortened for a message: at most SNIPPET_CHARS characters, then "…". */
export function snippet(value: string): string {
  const chars = Array.from(value.slice(0, SNIPPET_CHARS * 2));
  // Control characters (a terminal escape, a newline) are shown as '?'.
  const shown = chars.slice(0, SNIPPET_CHARS).map((c) => (c.charCodeAt(0) < 0x20 || c === '\u007f' ? '?' : c)).join('');
  return chars.length > SNIPPET_CHARS || value.length > SNIPPET_CHARS * 2 ? `${shown}…` : shown;
}

/** Bytes as MiB for a message: "3072 MiB", "0.5 MiB". */
export function mib(bytes: number): string {
  const m = bytes / MiB;
  return `${m >= 10 ? m.toFixed(0) : m >= 1 ? m.toFixed(1) : m.toPrecision(2)} MiB`;
}

/** A failure that ends the read: thrown inside a reader, returned by readDataset. */
export class DataFailure extends Error {
  constructor(readonly failure: DataError) {
    super(failure.error);
  }
}

/** Throws a DataFailure (for readers whose helpers are deep in a loop). */
export function failWith(failure: DataError): never {
  throw new DataFailure(failure);
}

/**
 * Paces a reader: `pause()` yields to the event loop once YIELD_EVERY_MS of work has passed and
 * throws the cancelled failure once the signal is aborted. Call it between chunks.
 */
export class Pacer {
  private last = Date.now();

  constructor(private readonly signal: AbortSignal | undefined) {}

  get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  check(): void {
    if (this.aborted) throw new DataFailure(CANCELLED);
  }

  async pause(): Promise<void> {
    this.check();
    if (Date.now() - this.last < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = Date.now();
    this.check();
  }
}

/** A float32 buffer that grows by doubling (a number[] of the same values takes twice the memory and more). */
export class FloatBuffer {
  private data = new Float32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  /** The values, in a buffer of their own length. */
  take(): Float32Array {
    return this.data.slice(0, this.length);
  }
}
