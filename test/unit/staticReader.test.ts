/**
 * The reader worker (loadFile.ts) is what keeps a hostile model file from taking the editor
 * down: a read that runs out of memory, never answers or is cancelled ends its worker with a
 * message in our words, and the next read gets a fresh worker. A stand-in worker plays the
 * misbehaving loader; the real bundle reads a real file, and (issue 12) the quick fixes of a
 * model read there are computed on this thread from the facts it carries, with no parser here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { READER_HEAP_LIMIT_MB, StaticReader } from '../../src/engine/loadFile';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';

const STAND_IN = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (request) => {
  if (request.fileName.endsWith('oom.py')) {
    const hoard = [];
    for (;;) hoard.push(new Array(1e6).fill(hoard.length));
  }
  if (request.fileName.endsWith('hang.py')) for (;;);
  if (request.fileName.endsWith('throws.py')) {
    parentPort.postMessage({ id: request.id, errorName: 'TypeError' });
    return;
  }
  parentPort.postMessage({ id: request.id, result: { format: 'keras-python', models: [], problems: [{ code: 'parse-error', message: 'read ' + request.fileName, span: { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } } }] } });
});
`;

function standIn(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-reader-')), 'standIn.js');
  fs.writeFileSync(file, STAND_IN);
  return file;
}

test('a read that exhausts the heap limit fails in our words, and the next read gets a fresh worker', async () => {
  const reader = new StaticReader(standIn());
  try {
    const oom = await reader.read('x', '/w/oom.py');
    assert.ok(oom !== 'cancelled');
    assert.equal(oom.models.length, 0);
    assert.match(oom.problems[0].message, new RegExp(`oom\\.py could not be read: reading it needed more than the static reader's ${READER_HEAP_LIMIT_MB} MiB`));
    const next = await reader.read('x', '/w/fine.py');
    assert.ok(next !== 'cancelled');
    assert.equal(next.problems[0].message, 'read /w/fine.py');
    const threw = await reader.read('x', '/w/throws.py');
    assert.ok(threw !== 'cancelled');
    assert.match(threw.problems[0].message, /throws\.py could not be read: the static reader failed on it; please report the file/);
    assert.doesNotMatch(threw.problems[0].message, /TypeError/);
  } finally {
    await reader.dispose();
  }
});

test('a read that never answers is cancelled by its signal; reads queued behind it go on', async () => {
  const reader = new StaticReader(standIn());
  try {
    const abort = new AbortController();
    const hanging = reader.read('x', '/w/hang.py', { signal: abort.signal });
    const queued = reader.read('x', '/w/after.py');
    setTimeout(() => abort.abort(), 200);
    assert.equal(await hanging, 'cancelled');
    const after = await queued;
    assert.ok(after !== 'cancelled');
    assert.equal(after.problems[0].message, 'read /w/after.py');
    assert.equal(await reader.read('x', '/w/never.py', { signal: AbortSignal.abort() }), 'cancelled');
  } finally {
    await reader.dispose();
  }
});

test('a binary file that never resolves is given up at its time limit', async () => {
  const reader = new StaticReader(standIn());
  try {
    const zipHeader = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0]);
    const result = await reader.read(zipHeader, '/w/hang.py', { binaryTimeoutMs: 300 });
    assert.ok(result !== 'cancelled');
    assert.match(result.problems[0].message, /hang\.py could not be read within 0\.3 s/);
  } finally {
    await reader.dispose();
  }
});

test('the real reader bundle reads a model file', async (t) => {
  const bundle = path.join(__dirname, '..', '..', 'dist', 'loader.js');
  assert.ok(fs.existsSync(bundle), `${bundle} is missing: run "npm run build" first (npm test does)`);
  const reader = new StaticReader(bundle);
  t.after(() => reader.dispose());
  const file = path.join(__dirname, '..', '..', 'examples', 'deep_sigmoid.py');
  const result = await reader.read(fs.readFileSync(file, 'utf8'), file);
  assert.ok(result !== 'cancelled');
  assert.equal(result.format, 'keras-python');
  assert.equal(result.models.length, 1);
  assert.ok(result.models[0].layers.length >= 10);
});

test('a PyTorch model read in the reader worker is fixed on this thread from the facts it carries (issue 12)', async (t) => {
  const bundle = path.join(__dirname, '..', '..', 'dist', 'loader.js');
  assert.ok(fs.existsSync(bundle), `${bundle} is missing: run "npm run build" first (npm test does)`);
  const reader = new StaticReader(bundle);
  t.after(() => reader.dispose());
  const file = path.join(__dirname, '..', '..', 'examples', 'torch_mlp.py');
  const text = fs.readFileSync(file, 'utf8');
  const result = await reader.read(text, file);
  assert.ok(result !== 'cancelled');
  const model = result.models[0];
  assert.ok(model?.sourceFacts?.torch, 'the worker sends the facts with the model');
  // This thread never loaded a file, so no parser exists here: the edits come from the facts alone.
  const first = model.layers.findIndex((l) => l.kind === 'activation');
  const edits = activationSwapEdits(text, model, first, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(text, edits);
  assert.ok(fixed.includes('x = torch.relu(self.fc_in(x))'), fixed);
  assert.ok(fixed.includes('nn.init.kaiming_normal_(self.fc_in.weight, nonlinearity="relu")'), fixed);
});
