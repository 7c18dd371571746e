/**
 * Issue 19's fuzz suite at the CLI level: seeded mutations of every input family (Keras and
 * PyTorch Python, TF.js source, Keras JSON, TF.js model.json with its shard, .keras, .h5, and the
 * data files CSV, .npy, .npz and JSON next to a small valid model), each run through the built
 * CLI (`npm run build` first) as its own process with `--steps 2 --no-verify --batch-size 8`.
 *
 * Invariants, for every run:
 *  - the exit code is 0, 1 or 2 (no crash, abort, signal or hang);
 *  - no library-internal text (stack traces, typed-array and JSON.parse messages, …) in the output,
 *    nor a catch-all message ("an unexpected error") in place of a clear one;
 *  - exit 2: every model problem printed on stderr has a `file:line:column:` position, and the
 *    output holds a position at all unless the file simply has no model definition;
 *  - peak RSS ≤ MAX_RSS_BYTES and wall time ≤ MAX_WALL_MS.
 *
 * Bounded by a count, not by time: ITERATIONS mutations per family (FUZZ_CLI_ITERATIONS), run
 * CONCURRENCY at a time; FUZZ_CLI_SEED changes the seed. The CLI takes one file per process, and
 * each start costs 0.3 s (a parse error) to 1 s (a short training run), so the count is modest.
 * A failing input is kept under a temp folder whose path is printed with the seed and the family;
 * the counts per family are printed at the end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { describeRun, internalText, mib, vagueText, positions, runCliProcess, REPO_ROOT, type CliRun } from '../helpers/cliProcess';
import { kerasArchive, legacyH5, tfjsShard } from '../fixtures/saved/generate';
import { mulberry32 } from '../helpers/seededRandom';

const ITERATIONS = Number(process.env.FUZZ_CLI_ITERATIONS ?? 10);
const SEED = Number(process.env.FUZZ_CLI_SEED ?? 19);
const CONCURRENCY = Math.max(1, Math.min(2, os.cpus().length));
const MAX_RSS_BYTES = 1.5 * 2 ** 30;
const MAX_WALL_MS = 20_000;
/** Beyond the bounds (so already a failure): the helper kills the run, to keep CI alive. */
const KILL_MS = 30_000;
const KILL_RSS_BYTES = 2.5 * 2 ** 30;
const QUICK = ['--steps', '2', '--no-verify', '--batch-size', '8'];

let tmp = '';
let failuresDir = '';
const counts = new Map<string, { runs: number; exits: Record<string, number>; maxRss: number; maxMs: number; failures: number }>();

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-fuzz-cli-'));
  failuresDir = path.join(tmp, 'failures');
  fs.mkdirSync(failuresDir);
});

after(() => {
  const lines = [...counts].map(([family, c]) => {
    const exits = Object.entries(c.exits).sort().map(([k, v]) => `${k}:${v}`).join(' ');
    return `${family.padEnd(16)} runs ${String(c.runs).padStart(3)}  exits ${exits.padEnd(24)} max RSS ${mib(c.maxRss).padStart(10)}  max ${(c.maxMs / 1000).toFixed(2).padStart(5)} s  failures ${c.failures}`;
  });
  const failed = [...counts.values()].some((c) => c.failures > 0);
  console.log(`\nCLI fuzz, seed ${SEED}, ${ITERATIONS} mutations per family, ${CONCURRENCY} at a time (bounds: ≤ ${mib(MAX_RSS_BYTES)}, ≤ ${MAX_WALL_MS / 1000} s):\n${lines.join('\n')}`);
  if (failed) console.log(`failing inputs kept under ${failuresDir}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Mutations


type Random = () => number;
const pick = (random: Random, n: number) => Math.floor(random() * n);

const HUGE = ['1e309', '99999999999999999999', '-1', '0', 'NaN', '1e-320', '2147483648', '4294967296', '1.5', '"x"', 'null', '[]', '{}', '-0'];

/** One to three of: truncate, delete tokens, insert random characters, huge numbers, duplicate a chunk, delete characters. */
function mutateText(text: string, random: Random): string {
  let out = text;
  for (let r = 0, rounds = 1 + pick(random, 3); r < rounds; r++) {
    const at = pick(random, out.length + 1);
    switch (pick(random, 6)) {
      case 0:
        out = out.slice(0, at);
        break;
      case 1: {
        const tokens = out.split(/(\s+|[()[\]{},:;=.'"])/);
        tokens.splice(pick(random, tokens.length), 1 + pick(random, 3));
        out = tokens.join('');
        break;
      }
      case 2:
        out = out.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + pick(random, 8) }, () => pick(random, 0x3000))) + out.slice(at);
        break;
      case 3:
        out = out.replace(/\d+(\.\d+)?/g, (m) => (random() < 0.3 ? HUGE[pick(random, HUGE.length)] : m));
        break;
      case 4: {
        const len = 1 + pick(random, 400);
        const copies = 1 + pick(random, 20);
        out = out.slice(0, at) + out.slice(Math.max(0, at - len), at).repeat(copies) + out.slice(at);
        break;
      }
      default:
        out = out.slice(0, at) + out.slice(at + 1 + pick(random, 20));
    }
  }
  return out;
}

/** One of: truncate, flip random bytes, write a huge 32-bit value, delete bytes, duplicate a chunk. */
function mutateBytes(bytes: Uint8Array, random: Random): Uint8Array {
  switch (pick(random, 5)) {
    case 0:
      return bytes.slice(0, pick(random, bytes.length));
    case 1: {
      const out = bytes.slice();
      for (let i = 0, n = 1 + pick(random, 16); i < n; i++) out[pick(random, out.length)] ^= 1 + pick(random, 255);
      return out;
    }
    case 2: {
      const out = bytes.slice();
      const at = pick(random, Math.max(1, out.length - 4));
      new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(at, 0xffffffff - pick(random, 16), true);
      return out;
    }
    case 3: {
      const at = pick(random, bytes.length);
      const cut = Math.min(1 + pick(random, 64), bytes.length - at);
      const out = new Uint8Array(bytes.length - cut);
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(at + cut), at);
      return out;
    }
    default: {
      const at = pick(random, bytes.length);
      const chunk = bytes.subarray(at, at + 1 + pick(random, 256));
      const copies = 1 + pick(random, 8);
      const out = new Uint8Array(bytes.length + chunk.length * copies);
      out.set(bytes.subarray(0, at));
      for (let i = 0; i < copies; i++) out.set(chunk, at + i * chunk.length);
      out.set(bytes.subarray(at), at + chunk.length * copies);
      return out;
    }
  }
}

/** A zip's entries with one of them changed (text entries by mutateText), zipped again. */
function mutateZipEntry(zip: Uint8Array, random: Random, deflate: boolean): Uint8Array {
  const entries = unzipSync(zip);
  const names = Object.keys(entries);
  const name = names[pick(random, names.length)];
  const isText = /\.json$/.test(name) || /\.npy$/.test(name);
  if (/\.npy$/.test(name)) {
    // The header (text) and the data (bytes) of a NumPy array.
    const bytes = entries[name];
    const headerEnd = 10 + (bytes[8] | (bytes[9] << 8));
    entries[name] = random() < 0.6
      ? concat(bytes.subarray(0, 8), headerBytes(mutateText(Buffer.from(bytes.subarray(10, headerEnd)).toString('latin1'), random)), bytes.subarray(headerEnd))
      : mutateBytes(bytes, random);
  } else {
    entries[name] = isText ? strToU8(mutateText(Buffer.from(entries[name]).toString('utf8'), random)) : mutateBytes(entries[name], random);
  }
  return zipSync(entries, { level: deflate ? 6 : 0 });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** HEADER_LEN (uint16 LE) + the header text, as a NumPy v1 file has them after the magic. */
function headerBytes(text: string): Uint8Array {
  const body = Buffer.from(text, 'latin1').subarray(0, 0xffff);
  const len = Buffer.alloc(2);
  len.writeUInt16LE(body.length, 0);
  return concat(len, body);
}

/** A NumPy v1.0 float32 array (C order), header padded to 64 bytes. */
function npy(shape: readonly number[], values: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header[0] = 0x93;
  header.write('NUMPY', 1, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return concat(header, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** A NumPy file mutated in its header text (shape, dtype, order) or in its bytes. */
function mutateNpy(bytes: Uint8Array, random: Random): Uint8Array {
  if (random() < 0.5) return mutateBytes(bytes, random);
  const headerEnd = 10 + (bytes[8] | (bytes[9] << 8));
  const header = Buffer.from(bytes.subarray(10, headerEnd)).toString('latin1');
  return concat(bytes.subarray(0, 8), headerBytes(mutateText(header, random)), bytes.subarray(headerEnd));
}

// ---------------------------------------------------------------------------------------------
// Families

/** One mutated input: files to write into a fresh folder and the CLI arguments (relative to it). */
interface Case {
  readonly files: Record<string, string | Uint8Array>;
  readonly args: readonly string[];
  /** The file whose problems must be positioned (the model file). */
  readonly model: string;
}

const fixture = (...p: string[]) => fs.readFileSync(path.join(REPO_ROOT, ...p), 'utf8');
const fixtureDir = (...p: string[]) => fs.readdirSync(path.join(REPO_ROOT, ...p)).filter((f) => fs.statSync(path.join(REPO_ROOT, ...p, f)).isFile());

const KERAS_TINY = `import keras

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1),
])
`;

function rows(n: number, width: number): Float32Array {
  return Float32Array.from({ length: n * width }, (_, i) => Math.sin(i * 1.7) * ((i % 3) + 1));
}

const textFamily = (sources: { name: string; text: string }[], fileName: (source: string) => string) => (random: Random): Case => {
  const source = sources[pick(random, sources.length)];
  const file = fileName(source.name);
  return { files: { [file]: mutateText(source.text, random) }, args: ['diagnose', file], model: file };
};

interface Families {
  readonly mutate: Record<string, (random: Random) => Case>;
  /** The unmutated data inputs: each must be accepted, or the data families fuzz only the error paths. */
  readonly dataBases: Record<string, Case>;
}

async function families(): Promise<Families> {
  const py = (dir: string) => fixtureDir(...dir.split('/')).filter((f) => f.endsWith('.py')).map((f) => ({ name: f, text: fixture(...dir.split('/'), f) }));
  const examples = fixtureDir('examples').map((f) => ({ name: f, text: fixture('examples', f) }));
  const kerasSources = [...py('test/fixtures/keras'), ...py('test/fixtures/keras/broken'), ...examples.filter((e) => e.name.endsWith('.py') && !/torch/.test(e.name))];
  const torchSources = [...py('test/fixtures/torch'), ...py('test/fixtures/torch/broken'), ...examples.filter((e) => /torch/.test(e.name))];
  const tfjsSources = [...fixtureDir('test', 'fixtures', 'tfjs').map((f) => ({ name: f, text: fixture('test', 'fixtures', 'tfjs', f) })), ...examples.filter((e) => e.name.endsWith('.js'))];
  const kerasJson = ['keras2_sequential.json', 'keras3_sequential_cnn.json', 'keras2_functional.json', 'keras3_functional.json', 'keras_functional_add.json', 'malformed_units.json']
    .map((f) => ({ name: f, text: fixture('test', 'fixtures', 'saved', f) }));
  const tfjsJson = fixture('test', 'fixtures', 'saved', 'tfjs_layers_model.json');
  const shard = tfjsShard();
  const archives = [{ zip: await kerasArchive(false), deflate: false }, { zip: await kerasArchive(true), deflate: true }];
  const h5 = await legacyH5();
  const pixelsModel = fixture('test', 'fixtures', 'workspace', 'pixels_model.py').replace(/^# activation-lens:.*$/m, '');
  const pixels = fixture('test', 'fixtures', 'workspace', 'pixels.csv');
  const npyBase = npy([48, 4], rows(48, 4));
  const npzBase = zipSync({ 'x.npy': npy([48, 4], rows(48, 4)), 'y.npy': npy([48], rows(48, 1)) }, { level: 0 });
  const npzDeflated = zipSync({ 'x.npy': npy([48, 4], rows(48, 4)), 'y.npy': npy([48], rows(48, 1)) }, { level: 6 });
  const jsonVariants = [
    JSON.stringify(Array.from({ length: 40 }, (_, i) => [...rows(1, 4).map((v) => v * (i + 1) / 10)].map((v) => Number(v.toFixed(3))).concat(i % 2))),
    JSON.stringify({ x: Array.from({ length: 40 }, (_, i) => [0.1 * i, -0.2, 0.3, (i % 5) / 5]), y: Array.from({ length: 40 }, (_, i) => i % 2) }, null, 1),
    JSON.stringify(Array.from({ length: 40 }, (_, i) => ({ a: i / 40, b: -i / 40, c: (i % 7) / 7, d: 0.5, label: i % 3 })), null, 2),
  ];
  const withData = (file: string, content: string | Uint8Array, model = KERAS_TINY): Case => ({
    files: { 'model.py': model, [file]: content },
    args: ['diagnose', 'model.py', '--data', file],
    model: 'model.py',
  });
  const mutate: Families['mutate'] = {
    'keras-python': textFamily(kerasSources, () => 'model.py'),
    'torch-python': textFamily(torchSources, () => 'model.py'),
    'tfjs-source': textFamily(tfjsSources, (name) => (/\.tsx?$/.test(name) ? 'model.ts' : /\.cjs$/.test(name) ? 'model.cjs' : /\.mjs$/.test(name) ? 'model.mjs' : 'model.js')),
    'keras-json': textFamily(kerasJson, () => 'model.json'),
    'tfjs-model-json': (random) => {
      const mutateShard = random() < 0.4;
      return {
        files: { 'model.json': mutateShard && random() < 0.5 ? tfjsJson : mutateText(tfjsJson, random), 'group1-shard1of1.bin': mutateShard ? mutateBytes(shard, random) : shard },
        args: ['diagnose', 'model.json'],
        model: 'model.json',
      };
    },
    keras: (random) => {
      const { zip, deflate } = archives[pick(random, archives.length)];
      return { files: { 'model.keras': random() < 0.5 ? mutateBytes(zip, random) : mutateZipEntry(zip, random, deflate) }, args: ['diagnose', 'model.keras'], model: 'model.keras' };
    },
    h5: (random) => ({ files: { 'model.h5': mutateBytes(h5, random) }, args: ['diagnose', 'model.h5'], model: 'model.h5' }),
    'data-csv': (random) => withData('data.csv', mutateText(pixels, random), pixelsModel),
    'data-npy': (random) => withData('data.npy', mutateNpy(npyBase, random)),
    'data-npz': (random) => {
      const deflate = random() < 0.5;
      const base = deflate ? npzDeflated : npzBase;
      return withData('data.npz', random() < 0.5 ? mutateBytes(base, random) : mutateZipEntry(base, random, deflate));
    },
    'data-json': (random) => withData('data.json', (random() < 0.2 ? '\uFEFF' : '') + mutateText(jsonVariants[pick(random, jsonVariants.length)], random)),
  };
  const dataBases: Families['dataBases'] = {
    'data-csv': withData('data.csv', pixels, pixelsModel),
    'data-npy': withData('data.npy', npyBase),
    'data-npz (stored)': withData('data.npz', npzBase),
    'data-npz (deflated)': withData('data.npz', npzDeflated),
    ...Object.fromEntries(jsonVariants.map((v, i) => [`data-json ${i + 1}`, withData('data.json', v)])),
    'data-json with a BOM': withData('data.json', `\uFEFF${jsonVariants[0]}`),
  };
  return { mutate, dataBases };
}

// ---------------------------------------------------------------------------------------------
// Invariants

function violations(run: CliRun, model: string): string[] {
  const problems: string[] = [];
  if (run.exitCode === null || ![0, 1, 2].includes(run.exitCode)) {
    problems.push(`exit ${run.exitCode ?? `signal ${run.signal}`}${run.killedFor ? ` (killed by the test for ${run.killedFor})` : ''}, not 0, 1 or 2`);
  }
  if (!run.usageReported) problems.push('ended without its exit hook (killed, aborted or out of memory)');
  if (run.maxRssBytes > MAX_RSS_BYTES) problems.push(`peak RSS ${mib(run.maxRssBytes)} > ${mib(MAX_RSS_BYTES)}`);
  if (run.wallMs > MAX_WALL_MS) problems.push(`took ${(run.wallMs / 1000).toFixed(1)} s > ${MAX_WALL_MS / 1000} s`);
  for (const leak of internalText(run)) problems.push(`library-internal text: ${leak}`);
  for (const vague of vagueText(run)) problems.push(`a catch-all message instead of a clear one: ${vague}`);
  if (run.exitCode === 2) {
    // Model problems on stderr: "<model>:<line>:<column>: <code>: message", or "<model>: no model definition found".
    for (const line of run.stderr.split('\n')) {
      if (!line.startsWith(model)) continue;
      const rest = line.slice(model.length);
      if (!/^:\d+:\d+: /.test(rest) && rest !== ': no model definition found') problems.push(`stderr line without a position: ${line.slice(0, 160)}`);
    }
    const output = `${run.stdout}\n${run.stderr}`;
    if (positions(output).length === 0 && !output.includes(`${model}: no model definition found`)) {
      problems.push('exit 2 without any file:line:column: position in the output');
    }
  }
  return problems;
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

const familyNames = ['keras-python', 'torch-python', 'tfjs-source', 'keras-json', 'tfjs-model-json', 'keras', 'h5', 'data-csv', 'data-npy', 'data-npz', 'data-json'];
let made: Promise<Families> | undefined;

/** Writes a case's files into a fresh folder `dir`. */
function writeCase(dir: string, c: Case): void {
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(c.files)) fs.writeFileSync(path.join(dir, name), content);
}

test('CLI fuzz: the unmutated data inputs are accepted (exit 0 or 1)', async () => {
  made ??= families();
  const failures: string[] = [];
  for (const [name, c] of Object.entries((await made).dataBases)) {
    const dir = path.join(tmp, `base-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    writeCase(dir, c);
    const run = await runCliProcess([...c.args, ...QUICK], { cwd: dir, timeoutMs: KILL_MS, killAtRssBytes: KILL_RSS_BYTES });
    if (run.exitCode !== 0 && run.exitCode !== 1) failures.push(`${name}: ${describeRun(run, 300)}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});

familyNames.forEach((family, index) => {
  test(`CLI fuzz: ${family} (${ITERATIONS} mutations)`, async () => {
    made ??= families();
    const make = (await made).mutate[family];
    assert.ok(make, family);
    const seed = SEED * 1000 + index;
    const random = mulberry32(seed);
    // All cases are drawn first, in order, so a seed gives the same inputs whatever the concurrency.
    const cases = Array.from({ length: ITERATIONS }, (_, i) => ({ i, c: make(random) }));
    const stats = { runs: 0, exits: {} as Record<string, number>, maxRss: 0, maxMs: 0, failures: 0 };
    counts.set(family, stats);
    const failures: string[] = [];
    await pool(cases, CONCURRENCY, async ({ i, c }) => {
      const dir = path.join(tmp, `${family}-${i}`);
      writeCase(dir, c);
      const run = await runCliProcess([...c.args, ...QUICK], { cwd: dir, timeoutMs: KILL_MS, killAtRssBytes: KILL_RSS_BYTES });
      stats.runs++;
      const key = run.exitCode === null ? String(run.signal) : String(run.exitCode);
      stats.exits[key] = (stats.exits[key] ?? 0) + 1;
      stats.maxRss = Math.max(stats.maxRss, run.maxRssBytes);
      stats.maxMs = Math.max(stats.maxMs, run.wallMs);
      const problems = violations(run, c.model);
      if (problems.length === 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        return;
      }
      stats.failures++;
      const kept = path.join(failuresDir, `${family}-seed${seed}-iteration${i}`);
      fs.renameSync(dir, kept);
      fs.writeFileSync(path.join(kept, 'run.txt'), `cd ${kept} && node ${path.join(REPO_ROOT, 'bin', 'activation-lens.js')} ${[...c.args, ...QUICK].join(' ')}\n\n${problems.join('\n')}\n\n${describeRun(run, 4000)}\n`);
      failures.push(`${family}, seed ${seed}, iteration ${i}: ${kept}\n    ${problems.join('\n    ')}\n  ${describeRun(run, 300)}`);
    });
    assert.equal(stats.runs, ITERATIONS);
    assert.deepEqual(failures, [], `CLI fuzz ${family} (FUZZ_CLI_SEED=${SEED}): ${failures.length} of ${ITERATIONS} inputs broke an invariant:\n${failures.join('\n')}`);
  });
});
