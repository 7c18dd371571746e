/**
 * Issue 19's acceptance tests at the CLI level: every hostile input of its "Why" section,
 * generated at test time in a temp folder (nothing committed; each input is deleted after its
 * test; big files are written sparse or from one repeated chunk, zip bombs from one deflated
 * chunk repeated), run through the built CLI (`npm run build` first) as a child process.
 *
 * Each must end in a clear exit-2 message with a `file:line:column:` position, within ≤ 1 GiB
 * peak RSS and ≤ 10 s wall time, with no library-internal text in its output. The position must
 * name the model file for model inputs and the data file where the data file has a line to point
 * at (a CSV or JSON syntax error, a CSV cap); for binary data and whole-file refusals (a size cap)
 * a position of the model the data was for will do. Three inputs are valid data and are not to be
 * refused: a JSON file with a UTF-8 byte-order mark (must be accepted: exit 0 or 1), and a 500 MB
 * .npy under the size limit and a .npy with a misaligned data offset (which NumPy reads), either
 * refused with a position or read (the 500 MB one only up to the row cap). A data comment may not reach outside the model
 * file's project root, and nothing planted in a workspace's node_modules may run.
 *
 * A run that goes past KILL_MS or KILL_RSS_BYTES (beyond the bounds, so already a failure) is
 * killed by the helper, which keeps a hostile input from hanging or swamping CI; the summary table
 * printed at the end gives each input's exit, peak RSS and time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describeRun, internalText, mib, vagueText, positions, runCliProcess, type CliRun } from '../helpers/cliProcess';

const MAX_RSS_BYTES = 2 ** 30;
const MAX_WALL_MS = 10_000;
const KILL_MS = 15_000;
const KILL_RSS_BYTES = 2 * 2 ** 30;
/** Training, where it starts, is kept short: the bounds are about reading, not about training. */
const QUICK = ['--steps', '2', '--no-verify'];

let tmp = '';
const summary: { name: string; run: CliRun; ok: boolean }[] = [];

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-hostile-'));
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  const rows = summary.map(({ name, run, ok }) => {
    const how = run.exitCode !== null ? `exit ${run.exitCode}` : `${run.signal ?? 'signal'}${run.killedFor ? ` (killed: ${run.killedFor})` : ''}`;
    const lines = `${run.stderr}\n${run.stdout}`.split('\n').filter((l) => /\S/.test(l) && !/^\s*[{}]?\s*$/.test(l));
    const message = lines.find((l) => /\w+:\d+:\d+: |error|refus|outside/i.test(l)) ?? lines[0] ?? '';
    // The temp folders are left out of the paths, to keep the table readable.
    const short = message.trim().replace(/\/tmp\/al-hostile-\w+\/[a-z0-9-]+-\w{6}\//g, '');
    return `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(58)} ${how.padEnd(22)} ${mib(run.maxRssBytes).padStart(11)} ${(run.wallMs / 1000).toFixed(2).padStart(6)} s  ${short.slice(0, 240)}`;
  });
  console.log(`\nhostile inputs (bounds: ≤ ${mib(MAX_RSS_BYTES)}, ≤ ${MAX_WALL_MS / 1000} s):\n${rows.join('\n')}`);
});

// ---------------------------------------------------------------------------------------------
// Generators

/** A folder of its own for one test, removed by the caller's `finally`. */
function scratch(name: string): string {
  // A plain slug: the folder is part of every path the CLI prints, and positions are parsed from them.
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return fs.mkdtempSync(path.join(tmp, `${slug}-`));
}

/** Writes `head`, then `chunk` `times` times, then `tail`, without building the whole file in memory. */
function writeRepeated(file: string, head: string, chunk: string, times: number, tail: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    const buffer = Buffer.from(chunk);
    for (let i = 0; i < times; i++) fs.writeSync(fd, buffer);
    fs.writeSync(fd, tail);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A NumPy v1.0 header for a little-endian float32 array of `shape`. `total` (default: the next
 * multiple of 64) is the header's whole length, so the data offset can be made misaligned.
 */
function npyHeader(shape: readonly number[], total?: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const length = total ?? Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(length, 0x20);
  header[0] = 0x93;
  header.write('NUMPY', 1, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(length - 10, 8);
  header.write(dict, 10, 'latin1');
  header[length - 1] = 0x0a;
  return header;
}

interface ZipPart {
  readonly data: Buffer;
  readonly times: number;
}

/**
 * Writes a zip of deflated entries, each given as parts repeated in sequence. Each part is
 * deflated once with a full flush (so its compressed bytes depend on nothing before them) and
 * those bytes are written `times` times: a 3 GiB entry costs one 1 MiB deflate and 3 MB of disk.
 * Sizes and CRCs are the real ones (zip32: every size under 4 GiB).
 */
function writeZip(file: string, entries: Record<string, readonly ZipPart[] | string>): void {
  const fd = fs.openSync(file, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const write = (b: Buffer) => {
    fs.writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (const [name, content] of Object.entries(entries)) {
      const parts = typeof content === 'string' ? [{ data: Buffer.from(content), times: 1 }] : content;
      let crc = 0;
      let size = 0;
      const blocks: { bytes: Buffer; times: number }[] = [];
      for (const part of parts) {
        for (let i = 0; i < part.times; i++) crc = zlib.crc32(part.data, crc);
        size += part.data.length * part.times;
        blocks.push({ bytes: zlib.deflateRawSync(part.data, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH }), times: part.times });
      }
      blocks.push({ bytes: Buffer.from([0x03, 0x00]), times: 1 }); // an empty final block ends the stream
      const compressed = blocks.reduce((n, b) => n + b.bytes.length * b.times, 0);
      assert.ok(size < 2 ** 32 && compressed < 2 ** 32, 'zip32 sizes');
      const nameBytes = Buffer.from(name);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(8, 8);
      local.writeUInt32LE(crc >>> 0, 14);
      local.writeUInt32LE(compressed, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(nameBytes.length, 26);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4);
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(8, 10);
      header.writeUInt32LE(crc >>> 0, 16);
      header.writeUInt32LE(compressed, 20);
      header.writeUInt32LE(size, 24);
      header.writeUInt16LE(nameBytes.length, 28);
      header.writeUInt32LE(offset, 42);
      central.push(header, nameBytes);
      write(local);
      write(nameBytes);
      for (const block of blocks) {
        // Batches of repeated blocks, so a 3,000-fold repeat is a few writes.
        const per = Math.max(1, Math.floor((4 * 2 ** 20) / block.bytes.length));
        const batch = Buffer.concat(Array.from({ length: Math.min(per, block.times) }, () => block.bytes));
        let left = block.times;
        while (left > 0) {
          const n = Math.min(per, left);
          write(n === Math.min(per, block.times) ? batch : batch.subarray(0, n * block.bytes.length));
          left -= n;
        }
      }
    }
    const centralBytes = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Object.keys(entries).length, 8);
    end.writeUInt16LE(Object.keys(entries).length, 10);
    end.writeUInt32LE(centralBytes.length, 12);
    end.writeUInt32LE(offset, 16);
    write(centralBytes);
    write(end);
  } finally {
    fs.closeSync(fd);
  }
}

/** A small valid Keras model with 4 inputs, for the data-file inputs (4 features + a target). */
const KERAS_TINY = `import keras

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(1),
])
`;

const TFJS_TINY = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential();
model.add(tf.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }));
model.add(tf.layers.dense({ units: 1 }));
`;

const MIB = Buffer.alloc(2 ** 20);

// ---------------------------------------------------------------------------------------------
// Checks

interface Expectation {
  /**
   * 2 (the default); 'accepted' (exit 0 or 1); 'refused-or-read', for inputs that are valid data:
   * exit 2 with a position, or exit 0 or 1 with the output saying `read` (what was read).
   */
  readonly exit?: 2 | 'accepted' | 'refused-or-read';
  /** With 'refused-or-read': what an accepting run's output must say it read. */
  readonly read?: RegExp;
  /** The file (base name) a `name:line:column:` position must name; any file when undefined. */
  readonly positionIn?: string;
  /**
   * --json output: instead of a printed position, stdout must be one JSON document (its models
   * carry their lines as fields).
   */
  readonly json?: boolean;
  /** The line that position must be at. */
  readonly line?: number;
  /** Text that must appear in the output (stdout + stderr). */
  readonly says?: RegExp;
  /** Text that must never appear in the output. */
  readonly never?: readonly string[];
}

/** The issue's bounds for one run; every violated one is listed in the assertion's message. */
function violations(run: CliRun, expect: Expectation): string[] {
  const problems: string[] = [];
  const output = `${run.stdout}\n${run.stderr}`;
  const sampled = expect.exit === 'refused-or-read' && (run.exitCode === 0 || run.exitCode === 1);
  if (sampled) {
    if (expect.read && !expect.read.test(output)) problems.push(`exit ${run.exitCode}, but the output does not say ${expect.read}`);
  } else if (expect.exit === 'accepted') {
    if (run.exitCode !== 0 && run.exitCode !== 1) problems.push(`expected to be accepted (exit 0 or 1), got ${run.exitCode ?? run.signal}`);
  } else {
    if (run.exitCode !== 2) problems.push(`expected exit 2, got ${run.exitCode ?? `signal ${run.signal}`}`);
  }
  if (expect.json) {
    try {
      JSON.parse(run.stdout);
    } catch {
      problems.push('--json: stdout is not one JSON document');
    }
  } else if (expect.exit !== 'accepted' && !sampled) {
    const found = positions(output, expect.positionIn);
    const at = expect.line === undefined ? found : found.filter((p) => p.line === expect.line);
    if (at.length === 0) {
      const where = `${expect.positionIn ?? 'file'}:${expect.line ?? 'line'}:column:`;
      const seen = positions(output).map((p) => `${p.file}:${p.line}:${p.column}`);
      problems.push(`no ${where} position in the output${seen.length ? ` (positions seen: ${seen.slice(0, 4).join(', ')})` : ''}`);
    }
  }
  if (!run.usageReported) problems.push('the process ended without its exit hook (killed, aborted or out of memory)');
  if (run.killedFor) problems.push(`killed by the test for ${run.killedFor === 'time' ? `running past ${KILL_MS / 1000} s` : `RSS past ${mib(KILL_RSS_BYTES)}`}`);
  if (run.maxRssBytes > MAX_RSS_BYTES) problems.push(`peak RSS ${mib(run.maxRssBytes)} > ${mib(MAX_RSS_BYTES)}`);
  if (run.wallMs > MAX_WALL_MS) problems.push(`took ${(run.wallMs / 1000).toFixed(1)} s > ${MAX_WALL_MS / 1000} s`);
  for (const leak of internalText(run)) problems.push(`library-internal text: ${leak}`);
  for (const vague of vagueText(run)) problems.push(`a catch-all message instead of a clear one: ${vague}`);
  if (expect.says && !expect.says.test(output)) problems.push(`output does not say ${expect.says}`);
  for (const secret of expect.never ?? []) if (output.includes(secret)) problems.push(`output contains "${secret}"`);
  return problems;
}

async function check(name: string, args: readonly string[], expect: Expectation, cwd?: string): Promise<CliRun> {
  const run = await runCliProcess(args, { cwd, timeoutMs: KILL_MS, killAtRssBytes: KILL_RSS_BYTES });
  const problems = violations(run, expect);
  summary.push({ name, run, ok: problems.length === 0 });
  assert.deepEqual(problems, [], `${name}: ${args.join(' ')}\n  ${describeRun(run)}`);
  return run;
}

/** A model file in a fresh folder, run with the quick options; the folder is removed after. */
async function modelInput(name: string, fileName: string, write: (file: string) => void, extra: readonly string[] = []): Promise<void> {
  const dir = scratch(name);
  try {
    const file = path.join(dir, fileName);
    write(file);
    await check(name, ['diagnose', file, ...QUICK, ...extra], { positionIn: fileName });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A data file named by --data for the tiny Keras model, in a fresh folder removed after. */
async function dataInput(name: string, fileName: string, write: (file: string) => void, expect: Expectation = {}): Promise<void> {
  const dir = scratch(name);
  try {
    const model = path.join(dir, 'model.py');
    fs.writeFileSync(model, KERAS_TINY);
    const data = path.join(dir, fileName);
    write(data);
    await check(name, ['diagnose', model, '--data', data, ...QUICK], expect);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Static model readers

test('TF.js source with 10,000 declarations (~970 KB)', async () => {
  await modelInput('tfjs: 10,000 declarations', 'declarations.js', (file) => {
    const lines = ["import * as tf from '@tensorflow/tfjs';", 'const h0 = tf.input({ shape: [4] });'];
    for (let i = 1; i <= 10_000; i++) {
      lines.push(`const h${i} = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: 'heNormal' }).apply(h${i - 1});`);
    }
    lines.push('const model = tf.model({ inputs: h0, outputs: h10000 });');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    assert.ok(fs.statSync(file).size > 900_000);
  });
});

test('TF.js source with an a.a.a… member chain of 16,000 links', async () => {
  await modelInput('tfjs: 16,000-link member chain', 'chain.js', (file) => {
    fs.writeFileSync(file, `import * as tf from '@tensorflow/tfjs';
const a = { a: 8 };
const units = a${'.a'.repeat(16_000)};
const model = tf.sequential();
model.add(tf.layers.dense({ units, activation: 'relu', inputShape: [4] }));
`);
  });
});

test('TF.js source with a 100 KB line (50,000 nested parentheses)', async () => {
  await modelInput('tfjs: 100 KB line', 'long_line.js', (file) => {
    const units = `${'('.repeat(50_000)}8${')'.repeat(50_000)}`;
    fs.writeFileSync(file, `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.dense({ units: ${units}, activation: 'relu', inputShape: [4] }));
`);
  });
});

test('Keras Python Sequential list of 20,000 literal layers', async () => {
  await modelInput('keras-python: 20,000 literal layers', 'many_layers.py', (file) => {
    writeRepeated(file, 'import keras\n\nmodel = keras.Sequential([\n    keras.Input(shape=(4,)),\n', '    keras.layers.Dense(4, activation="relu"),\n', 20_000, '])\n');
  });
});

test('TF.js Sequential list of 20,000 literal layers', async () => {
  await modelInput('tfjs: 20,000 literal layers', 'many_layers.js', (file) => {
    writeRepeated(file, "import * as tf from '@tensorflow/tfjs';\n\nconst model = tf.sequential({ layers: [\n  tf.layers.dense({ units: 4, inputShape: [4] }),\n",
      "  tf.layers.dense({ units: 4, activation: 'relu' }),\n", 20_000, ']});\n');
  });
});

test('.keras whose config.json declares a million layers', async () => {
  await modelInput('.keras: a million layers', 'million.keras', (file) => {
    const layer = ',{"class_name": "Dense", "config": {"units": 2, "activation": "relu"}}';
    writeZip(file, {
      'metadata.json': '{"keras_version": "3.6.0"}',
      'config.json': [
        { data: Buffer.from('{"class_name": "Sequential", "config": {"name": "huge", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}}'), times: 1 },
        { data: Buffer.from(layer.repeat(1000)), times: 1000 },
        { data: Buffer.from(']}}'), times: 1 },
      ],
    });
    assert.ok(fs.statSync(file).size < 1_000_000);
  });
});

test('.keras whose config.json unpacks to 500 MiB', async () => {
  await modelInput('.keras: 500 MiB config.json', 'padded.keras', (file) => {
    const config = '{"class_name": "Sequential", "config": {"name": "padded", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}}, {"class_name": "Dense", "config": {"units": 2}}]}}';
    writeZip(file, {
      'metadata.json': '{"keras_version": "3.6.0"}',
      'config.json': [{ data: Buffer.alloc(2 ** 20, 0x20), times: 500 }, { data: Buffer.from(config), times: 1 }],
    });
  });
});

test('TF.js model of 5,001 layers, --steps 2', async () => {
  await modelInput('tfjs: 5,001 layers, --steps 2', 'deep.js', (file) => {
    writeRepeated(file, "import * as tf from '@tensorflow/tfjs';\n\nconst model = tf.sequential();\nmodel.add(tf.layers.dense({ units: 4, activation: 'relu', inputShape: [4] }));\n",
      "model.add(tf.layers.dense({ units: 4, activation: 'relu' }));\n", 5_000, '');
  });
});

// ---------------------------------------------------------------------------------------------
// Data readers (--data, for a 4-input model)

test('a 3.1 MB .npz that unpacks to 3 GiB', async () => {
  await dataInput('npz: 3 GiB bomb', 'bomb.npz', (file) => {
    const total = 3 * 2 ** 30;
    const header = npyHeader([(total - 128) / 16, 4]);
    assert.equal(header.length, 128);
    const first = Buffer.concat([header, Buffer.alloc(2 ** 20 - header.length)]);
    writeZip(file, { 'x.npy': [{ data: first, times: 1 }, { data: MIB, times: total / 2 ** 20 - 1 }] });
    assert.ok(fs.statSync(file).size < 3.5e6);
  });
});

// A valid array under the size limit is legitimate data: the reader may refuse it (exit 2) or read
// only the row cap's worth of rows (exit 0 or 1, and the output says 10,000 rows), within the bounds.
test('a ~500 MB .npy just under the 512 MiB limit (sparse): read within the bounds', async () => {
  await dataInput('npy: 500 MB under the limit', 'big.npy', (file) => {
    const rows = Math.floor((500_000_000 - 128) / 16);
    const header = npyHeader([rows, 4]);
    fs.writeFileSync(file, header);
    fs.truncateSync(file, header.length + rows * 16);
    assert.ok(fs.statSync(file).size < 512 * 2 ** 20);
  }, { exit: 'refused-or-read', read: /\b10,000 rows\b/ });
});

test('a CSV with a million columns', async () => {
  await dataInput('csv: a million columns', 'wide.csv', (file) => {
    const n = 1_000_000;
    const header = Array.from({ length: n }, (_, i) => `f${i}`).join(',');
    fs.writeFileSync(file, `${header}\n${'0,'.repeat(n - 1)}0\n`);
  }, { positionIn: 'wide.csv' });
});

test('a 400 MB one-line CSV', async () => {
  await dataInput('csv: 400 MB on one line', 'one_line.csv', (file) => {
    writeRepeated(file, '', '1,'.repeat(2 * 2 ** 20), 96, '1');
  }, { positionIn: 'one_line.csv' });
});

test('a 450 MB JSON data file', async () => {
  await dataInput('json: 450 MB', 'big.json', (file) => {
    const chunk = '[0,0,0,0,0],'.repeat(349_525);
    writeRepeated(file, '[', chunk, 108, '[0,0,0,0,0]]');
    assert.ok(fs.statSync(file).size > 450_000_000);
  });
});

test('a big CSV with a quote left open on line 2 is reported at line 2', async () => {
  await dataInput('csv: unclosed quote on line 2 of 420 MB', 'open_quote.csv', (file) => {
    const line = '0.5000000,0.1000000,0.2000000,0.3000000,1\n';
    writeRepeated(file, `a,b,c,d,label\n"${line}`, line.repeat(100_000), 100, '');
  }, { positionIn: 'open_quote.csv', line: 2 });
});

// NumPy itself reads a header of any length (np.load copies unaligned data), so the reader may
// read this one too; what it may not do is fail with typed-array text.
test('a .npy whose data offset is misaligned', async () => {
  await dataInput('npy: misaligned data offset', 'misaligned.npy', (file) => {
    fs.writeFileSync(file, Buffer.concat([npyHeader([3, 4], 129), Buffer.alloc(48)]));
  }, { exit: 'refused-or-read', read: /\b3 rows\b/ });
});

test('a .npy whose data is truncated', async () => {
  await dataInput('npy: truncated data', 'truncated.npy', (file) => {
    fs.writeFileSync(file, Buffer.concat([npyHeader([100, 4]), Buffer.alloc(40)]));
  });
});

test('a .npy whose shape is bigger than the file', async () => {
  await dataInput('npy: shape bigger than the file', 'huge_shape.npy', (file) => {
    fs.writeFileSync(file, Buffer.concat([npyHeader([4_000_000_000, 4]), Buffer.alloc(64)]));
  });
});

test('a JSON data file with a syntax error on line 3 is reported at 3:column', async () => {
  await dataInput('json: syntax error on line 3', 'broken.json', (file) => {
    fs.writeFileSync(file, '[\n  [0.1, 0.2, 0.3, 0.4, 1],\n  [0.1, 0.2,, 0.3, 0.4, 1]\n]\n');
  }, { positionIn: 'broken.json', line: 3 });
});

test('a JSON data file with a UTF-8 byte-order mark is accepted', async () => {
  await dataInput('json: UTF-8 BOM (accepted)', 'bom.json', (file) => {
    const rows = Array.from({ length: 32 }, (_, i) => `[${[0.1, -0.2, 0.3, -0.4].map((v) => (v * ((i % 5) + 1)).toFixed(2)).join(', ')}, ${i % 2}]`);
    fs.writeFileSync(file, `\uFEFF[\n${rows.join(',\n')}\n]\n`);
  }, { exit: 'accepted' });
});

// ---------------------------------------------------------------------------------------------
// A data comment may not reach outside the model's project root

/** `<dir>/proj/model.py` with a data comment, a project marker, and `<dir>/secret.csv` holding a token. */
function projectWithComment(name: string, data: string, marker: '.git' | 'package.json'): { dir: string; model: string; token: string } {
  const dir = scratch(name);
  const token = `SECRET_${crypto.randomBytes(8).toString('hex')}`;
  // A text cell where a number belongs: a reader that reads it echoes the cell in its message.
  fs.writeFileSync(path.join(dir, 'secret.csv'), `a,b,c,d,label\n${token},${token},0,0,1\n${token},1,1,1,0\n`);
  const proj = path.join(dir, 'proj');
  fs.mkdirSync(path.join(proj, 'data'), { recursive: true });
  if (marker === '.git') fs.mkdirSync(path.join(proj, '.git'));
  else fs.writeFileSync(path.join(proj, 'package.json'), '{"name": "proj", "private": true}\n');
  fs.symlinkSync(path.join(dir, 'secret.csv'), path.join(proj, 'data', 'link.csv'));
  const model = path.join(proj, 'model.py');
  fs.writeFileSync(model, KERAS_TINY.replace('model = keras.Sequential', `# activation-lens: data=${data}\nmodel = keras.Sequential`));
  return { dir, model, token };
}

const OUTSIDE = /outside the project root/i;

for (const [label, data, marker] of [
  ['data=../secret.csv (.git root)', '../secret.csv', '.git'],
  ['data=/etc/passwd (package.json root)', '/etc/passwd', 'package.json'],
  ['data=data/link.csv, a symlink to ../secret.csv', 'data/link.csv', '.git'],
] as const) {
  test(`a data comment outside the project is refused: ${label}`, async () => {
    const { dir, model, token } = projectWithComment('outside', data, marker);
    try {
      const never = [token, 'root:x:0:0', '/bin/bash', '/usr/sbin/nologin'];
      for (const json of [false, true]) {
        await check(`comment ${label}${json ? ' --json' : ''}`, ['diagnose', model, ...QUICK, ...(json ? ['--json'] : [])],
          { says: OUTSIDE, never, positionIn: 'model.py', json }, path.join(dir, 'proj'));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Nothing planted in a workspace runs

/** Packages the product might look for at run time, with the files a loader could pick. */
const PLANTED: Readonly<Record<string, readonly string[]>> = {
  '@tensorflow/tfjs-node-gpu': ['index.js'],
  '@tensorflow/tfjs-node': ['index.js'],
  '@tensorflow/tfjs-backend-webgpu': ['index.js'],
  '@tensorflow/tfjs-backend-wasm': ['index.js'],
  '@tensorflow/tfjs': ['index.js'],
  '@tensorflow/tfjs-core': ['index.js'],
  webgpu: ['index.js', 'index.mjs', 'dist/index.js'],
  koffi: ['index.js', 'indirect.js'],
  '@vscode/tree-sitter-wasm': ['index.js', 'wasm/index.js'],
  'web-tree-sitter': ['index.js', 'tree-sitter.js', 'web-tree-sitter.js', 'web-tree-sitter.cjs'],
  h5wasm: ['index.js', 'dist/node/hdf5_hl.js'],
  fflate: ['index.js'],
  npyjs: ['index.js'],
  'csv-parse': ['index.js'],
};

/** Grammar and runtime files of tree-sitter: planted as garbage, so loading one breaks parsing. */
const PLANTED_WASM = [
  '@vscode/tree-sitter-wasm/wasm/tree-sitter-python.wasm',
  '@vscode/tree-sitter-wasm/wasm/tree-sitter-javascript.wasm',
  '@vscode/tree-sitter-wasm/wasm/tree-sitter-typescript.wasm',
  '@vscode/tree-sitter-wasm/wasm/tree-sitter-tsx.wasm',
  'web-tree-sitter/tree-sitter.wasm',
  'web-tree-sitter/web-tree-sitter.wasm',
];

function plantWorkspace(markers: string): string {
  const ws = scratch('workspace');
  fs.writeFileSync(path.join(ws, 'package.json'), '{"name": "hostile-workspace", "private": true}\n');
  fs.mkdirSync(path.join(ws, '.git'));
  for (const [pkg, files] of Object.entries(PLANTED)) {
    const dir = path.join(ws, 'node_modules', ...pkg.split('/'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '99.0.0', main: 'index.js', module: 'index.js' }));
    for (const f of files) {
      const code = `require('node:fs').writeFileSync(${JSON.stringify(path.join(markers, pkg.replace(/\//g, '__')))} + '-' + process.pid + '-' + ${JSON.stringify(f.replace(/\//g, '_'))}, __filename);\n`;
      const esm = `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(path.join(markers, pkg.replace(/\//g, '__')))} + '-' + process.pid + '-mjs', import.meta.url);\n`;
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), f.endsWith('.mjs') ? esm : code);
    }
  }
  for (const f of PLANTED_WASM) fs.writeFileSync(path.join(ws, 'node_modules', f), 'planted: not WebAssembly');
  fs.writeFileSync(path.join(ws, 'model.py'), KERAS_TINY);
  fs.writeFileSync(path.join(ws, 'model.js'), TFJS_TINY);
  fs.mkdirSync(path.join(ws, 'sub'));
  return ws;
}

test('nothing planted in the workspace node_modules runs (cwd = workspace and a subfolder, every backend choice)', async () => {
  const markers = scratch('markers');
  const ws = plantWorkspace(markers);
  try {
    const runs: [string, string, string[], boolean][] = [
      // [label, cwd, args, whether the run must succeed (a planted grammar would break it)]
      ['planted: model.py, --backend auto', ws, ['diagnose', 'model.py', ...QUICK, '--backend', 'auto'], true],
      ['planted: model.py, default backend', ws, ['diagnose', 'model.py', ...QUICK], true],
      ['planted: ../model.py from sub/', path.join(ws, 'sub'), ['diagnose', '../model.py', ...QUICK, '--backend', 'auto'], true],
      ['planted: model.js, --backend auto', ws, ['diagnose', 'model.js', ...QUICK, '--backend', 'auto'], true],
      ['planted: model.py, --backend wasm', ws, ['diagnose', 'model.py', ...QUICK, '--backend', 'wasm'], true],
      ['planted: --backend tensorflow-gpu', ws, ['diagnose', 'model.py', ...QUICK, '--backend', 'tensorflow-gpu'], false],
      ['planted: --backend tensorflow', ws, ['diagnose', 'model.py', ...QUICK, '--backend', 'tensorflow'], false],
      ['planted: --backend webgpu', path.join(ws, 'sub'), ['diagnose', '../model.py', ...QUICK, '--backend', 'webgpu'], false],
    ];
    const problems: string[] = [];
    for (const [label, cwd, args, mustSucceed] of runs) {
      const run = await runCliProcess(args, { cwd, timeoutMs: KILL_MS, killAtRssBytes: KILL_RSS_BYTES });
      const ran = fs.readdirSync(markers);
      const own: string[] = [];
      if (ran.length) own.push(`planted code ran: ${ran.join(', ')}`);
      if (mustSucceed ? run.exitCode !== 0 && run.exitCode !== 1 : ![0, 1, 2].includes(run.exitCode ?? -1)) {
        own.push(`expected exit ${mustSucceed ? '0 or 1' : '0, 1 or 2'}, got ${run.exitCode ?? run.signal}`);
      }
      if (run.wallMs > MAX_WALL_MS) own.push(`took ${(run.wallMs / 1000).toFixed(1)} s`);
      for (const leak of internalText(run)) own.push(`library-internal text: ${leak}`);
      summary.push({ name: label, run, ok: own.length === 0 });
      problems.push(...own.map((p) => `${label}: ${p}\n  ${describeRun(run, 300)}`));
      for (const f of ran) fs.rmSync(path.join(markers, f), { force: true });
    }
    assert.deepEqual(problems, []);
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(markers, { recursive: true, force: true });
  }
});
