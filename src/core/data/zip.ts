/**
 * Zip archives read with a budget: the central directory is read from the end of the file with
 * positioned reads, each entry's declared sizes are checked against the file and the caller's cap
 * before anything is inflated, and entries are inflated with fflate's streaming Inflate in small
 * pieces, stopping as soon as the bytes out pass the size the directory declared. A 3 MiB zip
 * bomb that unpacks to 3 GiB therefore costs at most the cap, never the 3 GiB.
 */
import type { FileHandle } from 'node:fs/promises';
import { Inflate } from 'fflate';
import { mib, snippet } from './limits';
import type { ByteSource } from './npy';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate. */
  readonly method: number;
  readonly compressedSize: number;
  /** As the central directory declares it; the inflated bytes are held to it. */
  readonly size: number;
  readonly localHeaderOffset: number;
  readonly encrypted: boolean;
}

/** Compressed bytes pushed to the inflater at a time: 16 KiB, so one push gives at most ~17 MiB (deflate's limit is ~1032:1). */
const PUSH_BYTES = 16 * 1024;
/** Entries listed in an archive at most: 65,535 (the classic zip's own limit); a .npz holds a few. */
const MAX_ENTRIES = 0xffff;

export class ZipError extends Error {}

const LIMIT32 = 0xffffffff;

function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('the zip archive declares a size beyond 2^53 bytes');
  return Number(value);
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** The central directory of the zip file open as `handle` (of `fileSize` bytes). Throws ZipError. */
export async function readZipDirectory(handle: FileHandle, fileSize: number): Promise<ZipEntry[]> {
  // The end record is in the last 22 + 65,535 (its comment) bytes.
  const tailStart = Math.max(0, fileSize - 22 - 0xffff);
  const tail = await readAt(handle, tailStart, fileSize - tailStart);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('the zip archive has no end-of-central-directory record (truncated?)');
  let count = tv.getUint16(eocd + 10, true);
  let directorySize = tv.getUint32(eocd + 12, true);
  let directoryOffset = tv.getUint32(eocd + 16, true);
  // Zip64: the 32-bit fields hold 0xFFFF…; the real ones are in the zip64 end record, found by its locator just before.
  if ((count === 0xffff || directorySize === LIMIT32 || directoryOffset === LIMIT32) && eocd >= 20 && tv.getUint32(eocd - 20, true) === 0x07064b50) {
    const recordOffset = u64(tv, eocd - 20 + 8);
    if (recordOffset + 56 > fileSize) throw new ZipError('the zip64 end record lies outside the file');
    const record = await readAt(handle, recordOffset, 56);
    const rv = new DataView(record.buffer, record.byteOffset, record.byteLength);
    if (record.length < 56 || rv.getUint32(0, true) !== 0x06064b50) throw new ZipError('the zip64 end record is damaged');
    count = u64(rv, 32);
    directorySize = u64(rv, 40);
    directoryOffset = u64(rv, 48);
  }
  if (count > MAX_ENTRIES) throw new ZipError(`the zip archive lists ${count} entries, above the ${MAX_ENTRIES} read`);
  if (directoryOffset + directorySize > fileSize) throw new ZipError('the zip central directory lies outside the file (truncated?)');
  const directory = await readAt(handle, directoryOffset, directorySize);
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > directory.length || view.getUint32(p, true) !== 0x02014b50) throw new ZipError(`zip central directory entry ${n + 1} is damaged`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    if (p + 46 + nameLength + extraLength > directory.length) throw new ZipError(`zip central directory entry ${n + 1} is truncated`);
    const name = decoder.decode(directory.subarray(p + 46, p + 46 + nameLength));
    // Zip64 extra field (id 1): the 64-bit values of those fields that hold 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + length) throw new ZipError(`the zip64 field of entry ${n + 1} is too short`);
          const v = u64(view, q);
          q += 8;
          return v;
        };
        if (size === LIMIT32) size = next();
        if (compressedSize === LIMIT32) compressedSize = next();
        if (localHeaderOffset === LIMIT32) localHeaderOffset = next();
      }
      e += 4 + length;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset, encrypted: (flags & 1) === 1 });
    p = extraEnd + commentLength;
  }
  return entries;
}

/** Why an entry cannot be inflated within `cap` bytes (named `capName`), or undefined when it can. */
export function entryProblem(entry: Pick<ZipEntry, 'name' | 'method' | 'size' | 'compressedSize' | 'encrypted'>, cap: number, capName: string): string | undefined {
  const name = JSON.stringify(snippet(entry.name));
  if (entry.encrypted) return `the zip entry ${name} is encrypted`;
  if (entry.method !== 0 && entry.method !== 8) return `the zip entry ${name} uses compression method ${entry.method} (only stored and deflate are read)`;
  if (entry.size > cap) return `the zip entry ${name} unpacks to ${mib(entry.size)} (as its zip directory declares), above the ${capName}`;
  if (entry.method === 0 && entry.compressedSize !== entry.size) return `the stored zip entry ${name} declares ${entry.size} bytes but holds ${entry.compressedSize}`;
  return undefined;
}

/**
 * Streams an entry's inflated bytes from the file, holding them to its declared size: the
 * inflater is fed PUSH_BYTES at a time and stops as soon as its output passes that size.
 */
export async function entrySource(handle: FileHandle, fileSize: number, entry: ZipEntry): Promise<ByteSource> {
  const name = JSON.stringify(snippet(entry.name));
  const local = await readAt(handle, entry.localHeaderOffset, 30);
  const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || lv.getUint32(0, true) !== 0x04034b50) throw new ZipError(`the zip entry ${name} has a damaged local header`);
  const start = entry.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  if (start + entry.compressedSize > fileSize) throw new ZipError(`the zip entry ${name} is truncated: its data runs past the end of the file`);
  let position = start;
  const end = start + entry.compressedSize;
  if (entry.method === 0) {
    return {
      async read(max) {
        if (position >= end) return undefined;
        const chunk = await readAt(handle, position, Math.min(max, end - position));
        position += chunk.length;
        return chunk.length ? chunk : undefined;
      },
    };
  }
  const queue: Uint8Array[] = [];
  let produced = 0;
  let finished = false;
  const inflater = new Inflate((chunk) => {
    produced += chunk.length;
    if (produced > entry.size) throw new ZipError(`the zip entry ${name} inflates to more than the ${entry.size} bytes its zip directory declares (a zip bomb or a damaged archive)`);
    if (chunk.length) queue.push(chunk);
  });
  return {
    async read(max) {
      while (queue.length === 0 && !finished) {
        const piece = await readAt(handle, position, Math.min(PUSH_BYTES, end - position));
        position += piece.length;
        const final = position >= end || piece.length === 0;
        try {
          inflater.push(piece, final);
        } catch (error) {
          if (error instanceof ZipError) throw error;
          throw new ZipError(`the compressed data of the zip entry ${name} is damaged (it does not inflate)`);
        }
        if (final) finished = true;
      }
      const head = queue[0];
      if (!head) return undefined;
      if (head.length <= max) return queue.shift();
      queue[0] = head.subarray(max);
      return head.subarray(0, max);
    },
  };
}

/**
 * Inflates an entry held in memory (a `.keras` archive) with the same bounds: its declared size
 * at most `cap` bytes (named `capName` in the message), and its inflated bytes exactly that
 * size, stopping as soon as they pass it. Returns the bytes or the reason they cannot be had.
 */
export function inflateEntry(entry: Pick<ZipEntry, 'name' | 'method' | 'size' | 'compressedSize' | 'encrypted'>, data: Uint8Array, cap: number, capName: string): Uint8Array | { problem: string } {
  const problem = entryProblem(entry, cap, capName);
  if (problem) return { problem };
  if (entry.method === 0) return data;
  const name = JSON.stringify(snippet(entry.name));
  const out = new Uint8Array(entry.size);
  let produced = 0;
  let overflow = false;
  const inflater = new Inflate((chunk) => {
    if (produced + chunk.length > entry.size) {
      overflow = true;
      return;
    }
    out.set(chunk, produced);
    produced += chunk.length;
  });
  try {
    for (let at = 0; at < data.length && !overflow; at += PUSH_BYTES) inflater.push(data.subarray(at, at + PUSH_BYTES), at + PUSH_BYTES >= data.length);
    if (data.length === 0) inflater.push(data, true);
  } catch {
    return { problem: `the compressed data of the zip entry ${name} is damaged (it does not inflate)` };
  }
  if (overflow) return { problem: `the zip entry ${name} inflates to more than the ${entry.size} bytes its zip directory declares (a zip bomb or a damaged archive)` };
  if (produced !== entry.size) return { problem: `the zip entry ${name} inflates to ${produced} bytes, not the ${entry.size} its zip directory declares (damaged)` };
  return out;
}
