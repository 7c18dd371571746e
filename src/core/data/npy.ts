/**
 * NumPy .npy arrays, read row by row from a byte source (a file read at positions, or a zip
 * entry inflated as it streams), so only the rows kept are ever held. The header (magic, version,
 * header length, dtype, fortran_order, shape) is checked here against the bytes that really
 * exist before anything the size of the data is allocated: npyjs reads a whole buffer and turns
 * a damaged one into engine errors ("Invalid typed array length", "start offset of Float32Array
 * should be a multiple of 4"), so it is not used for reading.
 */
import type { DataError } from './dataset';
import { failWith, mib, type Pacer, snippet } from './limits';

/** A sequential source of bytes: up to `max` bytes (at least one), or undefined at its end. */
export interface ByteSource {
  read(max: number): Promise<Uint8Array | undefined>;
}

export interface NpyHeader {
  readonly descr: string;
  readonly kind: 'b' | 'i' | 'u' | 'f';
  readonly itemSize: number;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Bytes from the start of the array to its data. */
  readonly dataOffset: number;
  /** shape × itemSize. */
  readonly dataBytes: number;
}

export interface NpyRows {
  readonly header: NpyHeader;
  readonly values: Float32Array;
  /** Rows read (at most maxRows). */
  readonly rows: number;
  /** All the rows the array has. */
  readonly totalRows: number;
  /** Values per row (the product of the shape after the first axis). */
  readonly width: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy itself refuses headers above 10,000 bytes (max_header_size); a numeric array's is ~128 bytes. */
const MAX_HEADER_BYTES = 10_000;
/** Bytes asked of the source at a time: 4 MiB, a few milliseconds of decoding between yields. */
const CHUNK_BYTES = 4 * 2 ** 20;
const DTYPE = /^([<>|=]?)([biuf])(\d+)$/;
const SIZES: Record<string, readonly number[]> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [2, 4, 8] };

/**
 * Parses the header from the first bytes of an array (`prefix` holds at least its first 12
 * bytes, or all there are). Returns the number of bytes needed when the prefix is too short.
 */
export function parseNpyHeader(prefix: Uint8Array, what: string, available: number): NpyHeader | DataError | number {
  if (available < 10 || !MAGIC.every((b, i) => prefix[i] === b)) return { error: `${what} is not a NumPy array (no \\x93NUMPY magic at its start)` };
  const major = prefix[6];
  if (major < 1 || major > 3) return { error: `${what} is a NumPy array of format version ${major}.${prefix[7]}; versions 1.0 to 3.0 are read` };
  const lengthBytes = major === 1 ? 2 : 4;
  if (available < 8 + lengthBytes) return { error: `${what} ends inside its NumPy header` };
  if (prefix.length < 8 + lengthBytes) return 8 + lengthBytes;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) return { error: `${what} has a NumPy header of ${headerLength} bytes, above the ${MAX_HEADER_BYTES}-byte limit (numpy's own)` };
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > available) return { error: `${what} ends inside its NumPy header (it declares ${headerLength} bytes, ${available - 8 - lengthBytes} are present)` };
  if (prefix.length < dataOffset) return dataOffset;
  const headerBytes = prefix.subarray(8 + lengthBytes, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: false }).decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');
  return parseDictionary(text.trim(), what, dataOffset);
}

/** The header's Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }. */
function parseDictionary(text: string, what: string, dataOffset: number): NpyHeader | DataError {
  const bad = (why: string): DataError => ({ error: `${what} has a malformed NumPy header: ${why}` });
  if (!text.startsWith('{') || !text.endsWith('}')) return bad('it is not a {…} dictionary');
  const descrList = /['"]descr['"]\s*:\s*\[/.test(text);
  if (descrList) return { error: `${what} is a structured (record) NumPy array; only plain numeric arrays are read` };
  const descrMatch = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  if (!descrMatch) return bad('no \'descr\' (dtype)');
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)\b/.exec(text);
  if (!fortranMatch) return bad('no \'fortran_order\' True/False');
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^()]*)\)/.exec(text);
  if (!shapeMatch) return bad('no \'shape\' tuple');
  const dtype = DTYPE.exec(descrMatch[1]);
  if (!dtype) return { error: `${what} has dtype '${snippet(descrMatch[1])}'; only bool, integer and float arrays are read (not text, object, complex or date arrays)` };
  const [, order, kind, sizeText] = dtype;
  const itemSize = Number(sizeText);
  if (!SIZES[kind].includes(itemSize)) return { error: `${what} has dtype '${snippet(descrMatch[1])}', which is not a NumPy numeric type` };
  const dims = shapeMatch[1].split(',').map((d) => d.trim()).filter((d) => d !== '');
  const shape: number[] = [];
  for (const d of dims) {
    if (!/^\d{1,15}L?$/.test(d)) return bad(`the shape holds '${snippet(d)}', not a size`);
    shape.push(Number.parseInt(d, 10));
  }
  let count = 1;
  for (const d of shape) count *= d;
  const dataBytes = count * itemSize;
  if (!Number.isSafeInteger(dataBytes)) return { error: `${what} declares shape (${shape.join(', ')}), too large to be an array` };
  return { descr: descrMatch[1], kind: kind as NpyHeader['kind'], itemSize, littleEndian: order !== '>', fortranOrder: fortranMatch[1] === 'True', shape, dataOffset, dataBytes };
}

/** float16 bits → number. */
function half(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Decodes whole elements of `bytes` into `out` from `at`. A DataView needs no alignment, so any data offset is read. */
function decode(header: NpyHeader, bytes: Uint8Array, out: Float32Array, at: number): void {
  const n = bytes.length / header.itemSize;
  const le = header.littleEndian;
  if (header.kind === 'f' && header.itemSize === 4 && le) {
    // The fast path: a float32 view needs 4-byte alignment, so a misaligned chunk is copied first.
    // (A Buffer's slice() is a view, not a copy: the Uint8Array constructor copies to offset 0.)
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
    out.set(new Float32Array(aligned.buffer, aligned.byteOffset, n), at);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = header.itemSize;
  const get: (offset: number) => number =
    header.kind === 'f' ? (size === 8 ? (o) => view.getFloat64(o, le) : size === 4 ? (o) => view.getFloat32(o, le) : (o) => half(view.getUint16(o, le)))
      : header.kind === 'b' ? (o) => (view.getUint8(o) ? 1 : 0)
        : header.kind === 'i' ? (size === 1 ? (o) => view.getInt8(o) : size === 2 ? (o) => view.getInt16(o, le) : size === 4 ? (o) => view.getInt32(o, le) : (o) => Number(view.getBigInt64(o, le)))
          : size === 1 ? (o) => view.getUint8(o) : size === 2 ? (o) => view.getUint16(o, le) : size === 4 ? (o) => view.getUint32(o, le) : (o) => Number(view.getBigUint64(o, le));
  for (let i = 0; i < n; i++) out[at + i] = get(i * size);
}

/** Reads from `source` until `buffer` holds `length` bytes; fewer means the source ended. */
async function fill(source: ByteSource, parts: Uint8Array[], have: number, length: number): Promise<number> {
  while (have < length) {
    const chunk = await source.read(Math.max(length - have, 64 * 1024));
    if (!chunk) break;
    parts.push(chunk);
    have += chunk.length;
  }
  return have;
}

export interface RowLimits {
  readonly maxRows: number;
  /** Bytes this array may still read (the unpacked-bytes budget left): checked before allocating. */
  readonly budget: number;
  readonly budgetName: string;
  readonly pacer: Pacer;
}

/**
 * Reads the header and the first `maxRows` rows of an array of `size` bytes from `source`
 * (which starts at the array's first byte). Throws a DataFailure with our own words.
 */
export async function readNpyRows(source: ByteSource, size: number, what: string, limits: RowLimits): Promise<NpyRows> {
  const parts: Uint8Array[] = [];
  let have = 0;
  let needed = 12;
  let header: NpyHeader | DataError;
  for (;;) {
    have = await fill(source, parts, have, needed);
    const prefix = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    parts.splice(0, parts.length, prefix);
    const parsed = parseNpyHeader(prefix, what, size);
    if (typeof parsed !== 'number') {
      header = parsed;
      break;
    }
    // More bytes are needed than the source gave: it ended inside the header.
    if (parsed <= needed) failWith({ error: `${what} ends inside its NumPy header` });
    needed = parsed;
  }
  if ('error' in header) failWith(header);
  if (header.fortranOrder) failWith({ error: `${what}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray` });
  if (header.shape.length === 0) failWith({ error: `${what}: a scalar, expected rows of samples` });
  const present = size - header.dataOffset;
  if (header.dataBytes > present) {
    failWith({ error: `${what} declares shape (${header.shape.join(', ')}) of ${header.descr}, ${header.dataBytes} bytes of data, but only ${present} bytes follow its header (the file is truncated or the header is wrong)` });
  }
  const totalRows = header.shape[0];
  const width = header.shape.slice(1).reduce((a, b) => a * b, 1);
  if (totalRows === 0) failWith({ error: `${what} has no rows (shape (${header.shape.join(', ')}))` });
  const rows = Math.min(totalRows, limits.maxRows);
  const values = rows * width;
  // Both the bytes read and the float32 copy count against the budget, before either is allocated.
  const cost = Math.max(values * header.itemSize, values * 4);
  if (cost > limits.budget) {
    failWith({ error: `${what}: ${rows} rows of ${width} values are ${mib(cost)}, above the ${limits.budgetName}; save fewer rows or smaller samples` });
  }
  const out = new Float32Array(values);
  const wanted = values * header.itemSize;
  // Bytes of the data already read with the header.
  let pending = parts[0].subarray(header.dataOffset);
  let done = 0; // data bytes decoded
  while (done < wanted) {
    if (pending.length === 0) {
      const chunk = await source.read(Math.min(CHUNK_BYTES, wanted - done));
      if (!chunk) failWith({ error: `${what} ends after ${done} of its ${header.dataBytes} data bytes` });
      pending = chunk;
    }
    const take = Math.min(pending.length, wanted - done);
    const whole = take - (take % header.itemSize);
    if (whole === 0) {
      // An element split between two chunks: join it with the next chunk.
      const next = await source.read(CHUNK_BYTES);
      if (!next) failWith({ error: `${what} ends after ${done} of its ${header.dataBytes} data bytes` });
      pending = Buffer.concat([pending, next]);
      continue;
    }
    decode(header, pending.subarray(0, whole), out, done / header.itemSize);
    done += whole;
    pending = pending.subarray(whole);
    await limits.pacer.pause();
  }
  return { header, values: out, rows, totalRows, width };
}
