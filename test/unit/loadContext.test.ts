/**
 * Values from outside the model file: the workspace Python modules it imports (read, never run,
 * and only plain project sources: pythonModules.ts) and the chosen data's input shape, both
 * handed to the reader worker with the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_SOURCE_BYTES } from '../../src/core/parse/limits';
import { MAX_MODULES_READ, pythonModuleReader } from '../../src/engine/pythonModules';
import { StaticReader } from '../../src/engine/loadFile';
import { dataInputShape, firstDataComment } from '../../src/engine/dataShape';

function workspace(): { root: string; models: string; outside: string } {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'al-modules-')));
  const root = path.join(base, 'project');
  const models = path.join(root, 'models');
  const outside = path.join(base, 'elsewhere');
  fs.mkdirSync(models, { recursive: true });
  fs.mkdirSync(outside);
  return { root, models, outside };
}

test('a module next to the model, a package module and a package __init__ are read; the model folder wins over the root', () => {
  const { root, models } = workspace();
  fs.writeFileSync(path.join(models, 'config.py'), 'HIDDEN = 64\n');
  fs.writeFileSync(path.join(root, 'config.py'), 'HIDDEN = 1\n');
  fs.mkdirSync(path.join(root, 'pkg', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'pkg', 'layers.py'), 'WIDTH = 32\n');
  fs.writeFileSync(path.join(root, 'pkg', 'sub', '__init__.py'), 'DEPTH = 3\n');
  fs.writeFileSync(path.join(models, 'shared.py'), 'RATE = 0.1\n');
  const read = pythonModuleReader({ modelFolder: models, projectRoot: root });
  assert.equal(read('config'), 'HIDDEN = 64\n');
  assert.equal(read('pkg.layers'), 'WIDTH = 32\n');
  assert.equal(read('pkg.sub'), 'DEPTH = 3\n');
  assert.equal(read('.shared'), 'RATE = 0.1\n');
  assert.equal(read('..config'), 'HIDDEN = 1\n');
  assert.equal(read('torch'), undefined);
  assert.equal(read('pkg.missing'), undefined);
});

test('a symlink out of the root, a non-.py target, names that are not identifiers and installed packages are refused', () => {
  const { root, models, outside } = workspace();
  fs.writeFileSync(path.join(outside, 'secret.py'), 'TOKEN = 1\n');
  fs.symlinkSync(path.join(outside, 'secret.py'), path.join(models, 'escape.py'));
  fs.symlinkSync(outside, path.join(models, 'linkdir'));
  fs.writeFileSync(path.join(models, 'notes.txt'), 'X = 1\n');
  fs.symlinkSync(path.join(models, 'notes.txt'), path.join(models, 'notes.py'));
  fs.mkdirSync(path.join(root, 'node_modules', 'lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'node_modules', 'lib', 'x.py'), 'A = 1\n');
  fs.mkdirSync(path.join(root, '.venv', 'lib', 'site-packages', 'keras'), { recursive: true });
  fs.writeFileSync(path.join(root, '.venv', 'lib', 'site-packages', 'keras', '__init__.py'), 'B = 1\n');
  fs.mkdirSync(path.join(models, 'site-packages'));
  fs.writeFileSync(path.join(models, 'site-packages', 'six.py'), 'C = 1\n');
  fs.writeFileSync(path.join(models, 'ok.py'), 'OK = 1\n');
  const read = pythonModuleReader({ modelFolder: models, projectRoot: root });
  assert.equal(read('escape'), undefined);
  assert.equal(read('linkdir.secret'), undefined);
  assert.equal(read('notes'), undefined);
  assert.equal(read('node_modules.lib.x'), undefined);
  assert.equal(read('.venv.lib.site-packages.keras'), undefined);
  assert.equal(read('site-packages.six'), undefined);
  assert.equal(read('../../elsewhere/secret'), undefined);
  assert.equal(read('...elsewhere.secret'), undefined);
  assert.equal(read('ok'), 'OK = 1\n');
});

test('a module above MAX_SOURCE_BYTES is refused; at most MAX_MODULES_READ modules are read per file', () => {
  const { root, models } = workspace();
  fs.writeFileSync(path.join(models, 'huge.py'), `X = 1\n${'#'.repeat(MAX_SOURCE_BYTES)}\n`);
  fs.writeFileSync(path.join(models, 'small.py'), 'X = 1\n');
  for (let i = 0; i <= MAX_MODULES_READ; i++) fs.writeFileSync(path.join(models, `m${i}.py`), `V = ${i}\n`);
  const read = pythonModuleReader({ modelFolder: models, projectRoot: root });
  assert.equal(read('huge'), undefined);
  assert.equal(read('small'), 'X = 1\n');
  // Asked again, a module already read costs nothing and is still answered.
  for (let i = 0; i < MAX_MODULES_READ - 1; i++) assert.equal(read(`m${i}`), `V = ${i}\n`);
  assert.equal(read('small'), 'X = 1\n');
  assert.equal(read(`m${MAX_MODULES_READ - 1}`), undefined);
  // A fresh reader (the next file) reads again.
  assert.equal(pythonModuleReader({ modelFolder: models, projectRoot: root })(`m${MAX_MODULES_READ}`), `V = ${MAX_MODULES_READ}\n`);
});

test('without a project root the model folder is the fence: its parent is out of reach', () => {
  const { root, models } = workspace();
  fs.writeFileSync(path.join(root, 'config.py'), 'HIDDEN = 1\n');
  const read = pythonModuleReader({ modelFolder: models });
  assert.equal(read('config'), undefined);
  assert.equal(read('..config'), undefined);
});

test('the reader worker receives the project root and the input shape with the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-context-'));
  const standIn = path.join(dir, 'standIn.js');
  fs.writeFileSync(standIn, `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (request) => {
  const message = JSON.stringify({ projectRoot: request.projectRoot ?? null, inputShape: request.inputShape ?? null });
  parentPort.postMessage({ id: request.id, result: { format: 'keras-python', models: [], problems: [{ code: 'parse-error', message, span: { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } } }] } });
});
`);
  const reader = new StaticReader(standIn);
  try {
    const withContext = await reader.read('x', path.join(dir, 'm.py'), { projectRoot: dir, inputShape: [28, 28, 1] });
    assert.ok(withContext !== 'cancelled');
    assert.deepEqual(JSON.parse(withContext.problems[0].message), { projectRoot: path.resolve(dir), inputShape: [28, 28, 1] });
    const without = await reader.read('x', path.join(dir, 'm.py'));
    assert.ok(without !== 'cancelled');
    assert.deepEqual(JSON.parse(without.problems[0].message), { projectRoot: null, inputShape: null });
  } finally {
    await reader.dispose();
  }
});

test('the data\'s input shape: a NumPy sample shape, else the feature count; the first data comment of a file', () => {
  assert.deepEqual(dataInputShape({ features: 784, sampleShape: [28, 28, 1] }), [28, 28, 1]);
  assert.deepEqual(dataInputShape({ features: 12 }), [12]);
  const text = 'import keras\n\nx = 1\n# activation-lens: data=train.csv target=label\nmodel = keras.Sequential()\n# activation-lens: data=other.npy\nm2 = keras.Sequential()\n';
  assert.deepEqual(firstDataComment(text), { data: 'train.csv', target: 'label', line: 4 });
  assert.deepEqual(firstDataComment('const m = tf.sequential(); // activation-lens: data=x.json\n'), { data: 'x.json', target: undefined, line: 1 });
  assert.equal(firstDataComment('# activation-lens: input_shape=(28, 28, 1)\nmodel = 1\n'), undefined);
});
