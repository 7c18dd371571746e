/**
 * Hostile data files (issue 19): each must end in our own DataError, with a position where one
 * exists, within 1 GiB of RSS and 10 s, and a read must yield to the event loop and stop when
 * cancelled. Every file is generated here, in a temporary folder: the big ones sparse (a hole of
 * zeros costs no disk or time) or written in 1 MiB pieces and deleted afterwards. The readers run
 * in a child process where the memory matters, and report its peak RSS (maxRSS).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { dump } from 'npyjs';
import { zipSync } from 'fflate';
import { isDataError, readDataset, type Dataset, type DataError, type ReadOptions } from '../../src/core/data/dataset';
import { snippet } from '../../src/core/data/limits';
import { loadKerasArchive, readZip } from '../../src/core/parse/kerasArchive';

// In memory where the system has a tmpfs: writing the 410 MB file to a disk stalls the tests behind its write-back.
const DIR = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'al-limits-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));
const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Text that only an engine or a library writes: never in a message of ours. */
const INTERNAL = /Float32Array|DataView|typed array|should have \d+ values|is not valid JSON|Unexpected token|at position \d+|Maximum call stack|Cannot read propert|RangeError|TypeError|ERR_|invalid (block type|distance|length\/literal)|unexpected EOF/i;

function file(name: string, content: string | Uint8Array): string {
  const at = path.join(DIR, name);
  fs.writeFileSync(at, content);
  return at;
}

/** A file of `size` bytes: `prefix`, then a hole of zeros (sparse: no disk written). */
function sparse(name: string, prefix: string | Uint8Array, size: number): string {
  const at = file(name, prefix);
  fs.truncateSync(at, size);
  return at;
}

function npyHeader(descr: string, shape: number[], { fortran = false, pad = 64 } = {}): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // The header (after the 10-byte preamble) is padded with spaces and ends with \n so the data starts at a multiple of `pad`.
  const length = Math.ceil((10 + dict.length + 1) / pad) * pad - 10;
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(length, 8);
  return Buffer.concat([head, Buffer.from(dict.padEnd(length - 1, ' ') + '\n', 'latin1')]);
}

async function fails(at: string, options: Partial<ReadOptions> = {}): Promise<DataError> {
  const result = await readDataset(at, options);
  assert.ok(isDataError(result), `expected a data error, got ${result && (result as Dataset).rows} rows`);
  assert.doesNotMatch(result.error, INTERNAL);
  return result;
}

async function reads(at: string, options: Partial<ReadOptions> = {}): Promise<Dataset> {
  const result = await readDataset(at, options);
  if (isDataError(result)) assert.fail(JSON.stringify(result)); // (stringifying a Dataset's arrays would take seconds)
  return result;
}

interface Measured {
  result: DataError | { rows: number; features: number; truncated: boolean; first: number[] };
  maxRssMiB: number;
  ms: number;
}

/** Reads `at` in a fresh child process; its peak RSS and the read's time come back with the result. */
function measure(at: string, options: Partial<ReadOptions> = {}): Measured {
  const script = `
    const { readDataset } = require(${JSON.stringify(path.join(__dirname, '../../src/core/data/dataset.ts'))});
    const started = Date.now();
    readDataset(${JSON.stringify(at)}, ${JSON.stringify(options)}).then((r) => {
      const ms = Date.now() - started;
      const result = 'error' in r ? r : { rows: r.rows, features: r.features, truncated: r.truncated, first: Array.from(r.x.subarray(0, 3)) };
      // VmHWM: the peak RSS of this process alone (maxRSS on Linux keeps the parent's peak from before exec).
      const hwm = /VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
      process.stdout.write(JSON.stringify({ result, ms, maxRssMiB: (hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024 }));
    });`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Measured;
}

/** Asserts the bounds of issue 19 (≤ 1 GiB, ≤ 10 s) and returns the error. */
function boundedError(at: string, options: Partial<ReadOptions> = {}): DataError & { maxRssMiB: number; ms: number } {
  const m = measure(at, options);
  assert.ok('error' in m.result, `expected an error, got ${JSON.stringify(m.result)}`);
  assert.doesNotMatch(m.result.error, INTERNAL);
  assert.ok(m.maxRssMiB < 1024, `peak RSS ${m.maxRssMiB.toFixed(0)} MiB`);
  assert.ok(m.ms < 10_000, `${m.ms} ms`);
  console.log(`  ${path.basename(at)}: ${m.result.error.slice(0, 90)} — ${m.maxRssMiB.toFixed(0)} MiB peak RSS, ${m.ms} ms`);
  return { ...m.result, maxRssMiB: m.maxRssMiB, ms: m.ms };
}

/**
 * Raw deflate data for `prefix` followed by `zeros` zero bytes, built from one compressed MiB of
 * zeros repeated (each piece ends with a full flush, so pieces join): 3 GiB costs ~3 MB and no time.
 */
function deflateBomb(prefix: Uint8Array, zeros: number): Buffer {
  const flush = (data: Uint8Array) => zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_FULL_FLUSH, level: 9 });
  const head = flush(prefix);
  const piece = flush(new Uint8Array(MiB));
  const rest = flush(new Uint8Array(zeros % MiB));
  const final = Buffer.from([0x03, 0x00]); // an empty final fixed-Huffman block
  return Buffer.concat([head, ...Array.from({ length: Math.floor(zeros / MiB) }, () => piece), rest, final]);
}

/** A zip of one deflated entry, with the sizes its directory declares (true ones unless told). */
function zipOf(name: string, deflated: Uint8Array, declaredSize: number): Buffer {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(declaredSize, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(declaredSize, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const directoryOffset = 30 + nameBytes.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(directoryOffset, 16);
  return Buffer.concat([local, nameBytes, deflated, central, nameBytes, end]);
}

test('a 3 MB .npz whose x.npy unpacks to 3 GiB: refused by its declared size, before inflating', () => {
  const rows = Math.floor((3 * GiB - 128) / (784 * 4));
  const header = npyHeader('<f4', [rows, 784]);
  const bomb = zipOf('x.npy', deflateBomb(header, rows * 784 * 4), header.length + rows * 784 * 4);
  assert.ok(bomb.length < 4 * MiB, `${bomb.length} bytes`);
  const error = boundedError(file('bomb.npz', bomb));
  assert.match(error.error, /bomb\.npz: the zip entry "x\.npy" unpacks to 3072 MiB \(as its zip directory declares\), above the 256 MiB limit on unpacked NumPy data/);
});

test('a zip directory that lies: x.npy declared as 1 MiB inflates to 3 GiB; the inflate stops past 1 MiB', () => {
  const header = npyHeader('<f4', [256, 1024 - 16]);
  const declared = header.length + 256 * (1024 - 16) * 4;
  const liar = zipOf('x.npy', deflateBomb(header, 3 * GiB), declared);
  const error = boundedError(file('liar.npz', liar));
  assert.match(error.error, /the zip entry "x\.npy" inflates to more than the \d+ bytes its zip directory declares/);
  assert.ok(error.ms < 2000, `${error.ms} ms: it must stop at once`);
});

test('a .npy whose header claims more data than the file holds is refused before allocating', async () => {
  const at = file('claims.npy', Buffer.concat([npyHeader('<f4', [1_000_000, 1000]), Buffer.alloc(400)]));
  const error = boundedError(at);
  assert.match(error.error, /declares shape \(1000000, 1000\) of <f4, 4000000000 bytes of data, but only 400 bytes follow its header/);
  assert.ok(error.maxRssMiB < 300, `${error.maxRssMiB} MiB`);
  const huge = await fails(file('huge.npy', Buffer.concat([npyHeader('<f8', [2 ** 40, 2 ** 20]), Buffer.alloc(8)])));
  assert.match(huge.error, /too large to be an array/);
});

test('a 500 MB .npy just under the 512 MiB limit: only the maxRows rows are read, at positions', () => {
  const rows = Math.floor((500 * 1e6) / (1000 * 4));
  const header = npyHeader('<f4', [rows, 1000]);
  const first = new Float32Array([1.5, -2, 3.25]);
  const at = sparse('big.npy', Buffer.concat([header, Buffer.from(first.buffer)]), header.length + rows * 1000 * 4);
  const m = measure(at);
  assert.ok(!('error' in m.result), JSON.stringify(m.result));
  assert.deepEqual(m.result, { rows: 10_000, features: 1000, truncated: true, first: [1.5, -2, 3.25] });
  // 10,000 rows × 1,000 float32 are 40 MB: far from the 2 GB of reading the file whole.
  assert.ok(m.maxRssMiB < 400, `peak RSS ${m.maxRssMiB} MiB`);
  assert.ok(m.ms < 10_000, `${m.ms} ms`);
  console.log(`  big.npy (500 MB): 10,000 rows read — ${m.maxRssMiB.toFixed(0)} MiB peak RSS, ${m.ms} ms`);
  const wide = boundedError(at, { maxRows: 100_000 });
  assert.match(wide.error, /100000 rows of 1000 values are 381 MiB, above the 256 MiB limit on unpacked NumPy data/);
});

test('a CSV with a million columns: refused at the 100,000th column of line 1', () => {
  const at = file('wide.csv', `${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(999_999)}1\n`);
  const error = boundedError(at);
  assert.equal(error.error, "row has more than 100,000 columns, the limit on a row's columns");
  assert.deepEqual([error.line, error.column], [1, 100_001]);
});

test('a 400 MB one-line CSV: refused at the 16 MiB row limit, without reading the rest', () => {
  const at = sparse('oneline.csv', '1'.repeat(1000), 400 * 1e6);
  const error = boundedError(at);
  assert.match(error.error, /row is longer than 16 MiB, the limit on a row's characters/);
  assert.deepEqual([error.line, error.column], [1, 1]);
});

test('an unclosed quote on line 2 of a 410 MB CSV: an error at line 2, found within the row limit', async () => {
  const at = path.join(DIR, 'quote.csv');
  const fd = fs.openSync(at, 'w');
  fs.writeSync(fd, 'a,b,label\n"1,2,0\n');
  const block = Buffer.from('1,2,0\n'.repeat(Math.floor(MiB / 6)));
  for (let written = 0; written < 410 * 1e6; written += block.length) fs.writeSync(fd, block);
  fs.closeSync(fd);
  try {
    const error = boundedError(at);
    assert.match(error.error, /a quote opened here is not closed within 16 MiB/);
    assert.deepEqual([error.line, error.column], [2, 1]);
    // The same file cut short ends inside the quote: still line 2, where it opened.
    fs.truncateSync(at, MiB);
    const short = await fails(at);
    assert.deepEqual([short.error, short.line, short.column], ['a quote opened here is not closed before the end of the file', 2, 1]);
  } finally {
    fs.rmSync(at, { force: true });
  }
});

test('a CSV longer than the 64 MiB byte budget is sampled, like the row cap: whole rows only', async () => {
  // A hole of zeros after the rows: the budget ends the read inside it, so it is never parsed.
  const lines = ['a,b,label', ...Array.from({ length: 100 }, (_, i) => `${i},${i * 2},${i % 2}`)].join('\n') + '\n';
  const at = sparse('long.csv', lines, 100 * MiB);
  let started = Date.now();
  const error = await fails(at);
  console.log(`  long.csv (100 MiB sparse): ${error.error} in ${Date.now() - started} ms`);
  // The NULs after the rows are a long row of text: the row limit ends it, at line 102.
  assert.equal(error.line, 102);
  // 100 columns a row, 70 MiB: the read stops at 64 MiB, after the last whole row before it.
  const row = Array.from({ length: 100 }, (_, i) => (i * 0.37).toFixed(3)).join(',') + '\n';
  const cut = file('cut.csv', row.repeat(Math.ceil((70 * MiB) / row.length)));
  started = Date.now();
  const d = await reads(cut, { maxRows: 100_000_000 });
  console.log(`  cut.csv (70 MiB): ${d.rows} rows in ${Date.now() - started} ms`);
  assert.equal(d.truncated, true);
  assert.equal(d.rows, Math.floor((64 * MiB) / row.length));
  assert.equal(d.x.length, d.rows * 99);
  fs.rmSync(cut);
});

test('a 450 MB JSON data file: refused by its size before reading', () => {
  const error = boundedError(sparse('big.json', '[[1, 2, 3]', 450 * 1e6));
  assert.match(error.error, /big\.json is 429 MiB, above the 64 MiB limit for JSON data \(JSON is parsed whole\)/);
  assert.ok(error.ms < 1000, `${error.ms} ms`);
});

test('JSON errors have a real line:column in our words; a BOM is accepted in JSON and CSV', async () => {
  const cases: [string, string, number, number][] = [
    ['[[1, 2],\n [3, 4', "expected ',' or ']' after an array element, found the end of the file", 2, 7],
    ['[1,}', "unexpected '}' where a value is expected", 1, 4],
    ['{"x": [[1, 2]],\n  "y": [1] , }', "a trailing comma before '}'", 2, 14],
    ['[[1, 2], [3, NaN]]', 'NaN and Infinity are not JSON; write null or a number', 1, 14],
    ['[\n\n  [1, 2]\n  [3, 4]]', "expected ',' or ']' after an array element, found '['", 4, 3],
    ['{"x": [[1, 2]], "y": [1], "note": "a\nb"}', 'a control character (U+000A) inside a string; write it escaped', 1, 37],
    ['[[1, 2]] x', "unexpected 'x' after the end of the JSON value", 1, 10],
    ['["secret-token-value-abcdef', 'the file ends inside a string that opens here', 1, 2],
  ];
  for (const [text, message, line, column] of cases) {
    const error = await fails(file('e.json', text));
    assert.deepEqual(error, { error: `invalid JSON: ${message}`, line, column }, text);
    assert.doesNotMatch(error.error, /secret/);
  }
  const json = await reads(file('bom.json', '\ufeff{"x": [[1, 2], [3, 4]], "y": [0, 1]}'));
  assert.deepEqual([Array.from(json.x), Array.from(json.y ?? [])], [[1, 2, 3, 4], [0, 1]]);
  const csv = await reads(file('bom.csv', '\ufeffx1,label\n1,0\n2,1\n'));
  assert.deepEqual([csv.columns, csv.targetColumn], [['x1'], 'label']);
  const deep = await fails(file('deep.json', `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`));
  assert.match(deep.error, /nested deeper than 32 levels/);
  const nulls = await fails(file('nulls.json', '[{"a": 1, "y": 0}, null]'));
  assert.equal(nulls.error, 'rows[1] is not an object like rows[0]');
});

test('.npy headers are validated in our words; a misaligned data offset, big-endian and other dtypes read right', async () => {
  const data = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
  const bad: [string, Uint8Array, RegExp][] = [
    ['version.npy', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 9, 0, 10, 0]), Buffer.alloc(20)]), /format version 9\.0; versions 1\.0 to 3\.0 are read/],
    ['headerlen.npy', Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0x0f]), Buffer.alloc(20)]), /ends inside its NumPy header \(it declares 4095 bytes, 20 are present\)/],
    ['dtype.npy', Buffer.concat([npyHeader('<U5', [2]), Buffer.alloc(40)]), /dtype '<U5'; only bool, integer and float arrays are read/],
    ['object.npy', Buffer.concat([npyHeader('|O', [2]), Buffer.alloc(16)]), /dtype '\|O'/],
    ['f3.npy', Buffer.concat([npyHeader('<f3', [2]), Buffer.alloc(16)]), /dtype '<f3', which is not a NumPy numeric type/],
    ['shape.npy', Buffer.concat([Buffer.from(npyHeader('<f4', [2]).toString('latin1').replace('(2,)', '(x,)'), 'latin1'), Buffer.alloc(8)]), /the shape holds 'x', not a size/],
    ['fortran.npy', Buffer.concat([npyHeader('<f4', [2, 2], { fortran: true }), data([1, 2, 3, 4])]), /Fortran-ordered arrays are not supported/],
    ['scalar.npy', Buffer.concat([npyHeader('<f4', []), data([1])]), /a scalar, expected rows of samples/],
    ['short.npy', Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1]), /not a NumPy array|ends inside its NumPy header/],
    ['truncated.npy', Buffer.concat([npyHeader('<f4', [3, 2]), data([1, 2, 3])]), /declares shape \(3, 2\) of <f4, 24 bytes of data, but only 12 bytes follow its header/],
    ['nan.npy', Buffer.concat([npyHeader('<f4', [2, 2]), data([1, 2, Number.NaN, 4])]), /x holds NaN or Inf at row 2, feature 1/],
    ['norows.npy', Buffer.concat([npyHeader('<f4', [0, 3])]), /has no rows/],
  ];
  for (const [name, bytes, expected] of bad) assert.match((await fails(file(name, bytes))).error, expected, name);
  // Data at offset 10 + 63 = 73, not a multiple of 4: read through an aligned copy.
  const misaligned = Buffer.concat([npyHeader('<f4', [2, 2], { pad: 1 }), data([1.5, 2.5, 3.5, 4.5])]);
  assert.notEqual(npyHeader('<f4', [2, 2], { pad: 1 }).length % 4, 0);
  assert.deepEqual(Array.from((await reads(file('misaligned.npy', misaligned))).x), [1.5, 2.5, 3.5, 4.5]);
  const big = Buffer.alloc(16);
  [1, -2].forEach((v, i) => big.writeDoubleBE(v, i * 8));
  assert.deepEqual(Array.from((await reads(file('be.npy', Buffer.concat([npyHeader('>f8', [2, 1]), big])))).x), [1, -2]);
  const i8 = Buffer.alloc(16);
  i8.writeBigInt64LE(-7n, 0);
  i8.writeBigInt64LE(9n, 8);
  assert.deepEqual(Array.from((await reads(file('i8.npy', Buffer.concat([npyHeader('<i8', [2]), i8])))).x), [-7, 9]);
  const f2 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1, -2 as float16
  assert.deepEqual(Array.from((await reads(file('f2.npy', Buffer.concat([npyHeader('<f2', [2]), f2])))).x), [1, -2]);
  // Inside a .npz the array starts wherever the zip put it: stored entries at odd offsets.
  const npz = zipSync({ 'x.npy': [new Uint8Array(misaligned), { level: 0 }], 'y.npy': [new Uint8Array(dump(new Float32Array([0, 1]), [2])), { level: 0 }] });
  const z = await reads(file('stored.npz', npz));
  assert.deepEqual([Array.from(z.x), Array.from(z.y ?? [])], [[1.5, 2.5, 3.5, 4.5], [0, 1]]);
  // y that disagrees with x in rows is a data error, not a library message.
  const rows = zipSync({ 'x.npy': new Uint8Array(dump(new Float32Array(6), [3, 2])), 'y.npy': new Uint8Array(dump(new Float32Array(2), [2])) });
  assert.match((await fails(file('rows.npz', rows))).error, /x has 3 rows but y has 2/);
  const broken = Buffer.from(zipSync({ 'x.npy': new Uint8Array(dump(new Float32Array(600).fill(3), [300, 2])) }));
  broken.fill(0xff, 60, 90); // damage the compressed data
  assert.match((await fails(file('broken.npz', broken))).error, /damaged|not a NumPy array|inflates to/);
});

test('messages quote at most 12 characters of a cell', async () => {
  const secret = 'sk-live-0123456789abcdefghijklmnopqrstuvwxyz';
  const error = await fails(file('secret.csv', `a,label\n${secret},1\n`));
  assert.equal(error.error, 'non-numeric value "sk-live-0123…" in column "a"');
  assert.deepEqual([error.line, error.column], [2, 1]);
  const header = await fails(file('target.csv', `${secret},b\n1,2\n`), { target: 'nope' });
  assert.doesNotMatch(header.error, /abcdef/);
  const npz = await fails(file('names.npz', zipSync({ [`${secret}.npy`]: new Uint8Array(1), 'b.npy': new Uint8Array(1) })));
  assert.doesNotMatch(npz.error, /abcdef/);
  assert.equal(snippet('0123456789abcdef'), '0123456789ab…');
  assert.equal(snippet('short'), 'short');
  assert.equal(snippet('a\u001b[31mb'), 'a?[31mb');
});

test('.keras: a config.json that unpacks to 500 MiB is refused by its declared size; a lying one stops at the declared size', async () => {
  const bomb = zipOf('config.json', deflateBomb(Buffer.from('{"class_name": "Sequential", "config": {"layers": [], "pad": "'), 500 * MiB), 500 * MiB + 63);
  const before = process.memoryUsage().rss;
  const result = await loadKerasArchive(bomb, 'model.keras');
  assert.match(result.problems[0]?.message ?? '', /model\.keras is not a readable \.keras archive: the zip entry "config\.json" unpacks to 500 MiB \(as its zip directory declares\), above the 16 MiB limit for a \.keras config\.json/);
  const liar = zipOf('config.json', deflateBomb(Buffer.from('{"a": "'), 500 * MiB), 1000);
  const lied = await loadKerasArchive(liar, 'liar.keras');
  assert.match(lied.problems[0]?.message ?? '', /the zip entry "config\.json" inflates to more than the 1000 bytes its zip directory declares/);
  const grown = (process.memoryUsage().rss - before) / MiB;
  assert.ok(grown < 200, `RSS grew ${grown.toFixed(0)} MiB`);
  console.log(`  config.json bomb (500 MiB): refused; RSS grew ${grown.toFixed(0)} MiB`);
  const weights = zipOf('model.weights.h5', deflateBomb(new Uint8Array(8), 300 * MiB), 300 * MiB + 8);
  assert.throws(() => readZip(weights).get('model.weights.h5')!(), /unpacks to 300 MiB \(as its zip directory declares\), above the 256 MiB limit for an entry of a \.keras archive/);
  const fine = zipSync({ 'config.json': new TextEncoder().encode('{"a": 1}') });
  assert.equal(new TextDecoder().decode(readZip(fine).get('config.json')!()), '{"a": 1}');
});

/** Reads with an AbortSignal aborted `afterMs` into the read; returns the result and how long after the abort it came. */
async function abortDuring(at: string, options: Partial<ReadOptions>, afterMs: number): Promise<{ result: Dataset | DataError; lateMs: number; maxGapMs: number }> {
  const controller = new AbortController();
  let abortedAt = 0;
  let last = Date.now();
  let maxGapMs = 0;
  // A timer every 5 ms: the largest gap between its ticks is the longest the read held the thread.
  const ticker = setInterval(() => {
    const now = Date.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const timer = setTimeout(() => {
    abortedAt = Date.now();
    controller.abort();
  }, afterMs);
  try {
    const result = await readDataset(at, { ...options, signal: controller.signal });
    return { result, lateMs: Date.now() - abortedAt, maxGapMs };
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
}

test('cancelling: an aborted signal stops a CSV and a .npy read at once, and reads yield to the event loop', async () => {
  const csv = file('many.csv', 'a,b,c,label\n' + '0.5,1.25,-3,1\n'.repeat(MiB)); // 14 MiB
  const c = await abortDuring(csv, { maxRows: 100_000_000 }, 150);
  assert.deepEqual(c.result, { error: 'reading the data was cancelled', cancelled: true });
  assert.ok(c.lateMs < 200, `${c.lateMs} ms after the abort`);
  assert.ok(c.maxGapMs < 100, `the read held the thread for ${c.maxGapMs} ms`);
  const rows = Math.floor((500 * 1e6) / 4000);
  const header = npyHeader('<f4', [rows, 1000]);
  const npy = sparse('cancel.npy', header, header.length + rows * 4000);
  const n = await abortDuring(npy, { maxRows: 60_000 }, 50);
  assert.deepEqual(n.result, { error: 'reading the data was cancelled', cancelled: true });
  assert.ok(n.lateMs < 200, `${n.lateMs} ms after the abort`);
  assert.ok(n.maxGapMs < 100, `the read held the thread for ${n.maxGapMs} ms`);
  const aborted = new AbortController();
  aborted.abort();
  assert.deepEqual(await readDataset(csv, { signal: aborted.signal }), { error: 'reading the data was cancelled', cancelled: true });
  // Unhindered, the same reads finish, and every read yields: no gap near the 64 ms bound.
  const whole = await abortDuring(csv, { maxRows: 100_000_000 }, 60_000);
  if (isDataError(whole.result)) assert.fail(JSON.stringify(whole.result));
  assert.equal(whole.result.rows, MiB);
  assert.ok(whole.maxGapMs < 100, `the read held the thread for ${whole.maxGapMs} ms`);
});
