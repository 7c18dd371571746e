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
import { applyEdits } from '../../src/core/fixes/edits';
import { cliDataResolver, commentText, parseCli } from '../../src/cli/main';
import { asksForInputShape, inputShapeEdit, inputShapePrompt, parseInputShape, statementStart } from '../../src/vscode/inputShapeComment';

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

test('the input-shape Quick Fix answers the loaders\' run-time shape problems only, and reads the person\'s answer', () => {
  assert.equal(asksForInputShape({ code: 'unknown-input-shape', message: 'x' }), true);
  assert.equal(asksForInputShape({ code: 'parse-error', message: 'Model `model` cannot be diagnosed: its input shape `x_train.shape[1:]` is only known at run time.' }), true);
  assert.equal(asksForInputShape({ code: 'parse-error', message: 'Model `Net` cannot be diagnosed: its input\'s spatial size cannot be determined. Add a comment `# activation-lens: input_shape=(1, H, W)` above the model.' }), true);
  assert.equal(asksForInputShape({ code: 'parse-error', message: '`hidden_dim` is known only at run time' }), false);
  assert.equal(asksForInputShape({ code: 'dead-relu', message: '62% of units never fire' }), false);
  assert.deepEqual(parseInputShape('28, 28, 1'), [28, 28, 1]);
  assert.deepEqual(parseInputShape(' (1, 28, 28) '), [1, 28, 28]);
  assert.deepEqual(parseInputShape('[784]'), [784]);
  assert.deepEqual(parseInputShape('32x32x3'), [32, 32, 3]);
  assert.deepEqual(parseInputShape('(784,)'), [784]);
  assert.match((parseInputShape('') as { error: string }).error, /axes/);
  assert.match((parseInputShape('28, -1') as { error: string }).error, /`-1` is not a positive whole number/);
  assert.match((parseInputShape('28.5') as { error: string }).error, /`28\.5`/);
  assert.match((parseInputShape('1, 2, 3, 4') as { error: string }).error, /At most 3 axes/);
  assert.match((parseInputShape('(28, 28') as { error: string }).error, /Close the \(/);
  assert.match(inputShapePrompt('pytorch-python').prompt, /channels first/);
  assert.match(inputShapePrompt('keras-python').prompt, /channels last/);
});

test('the input-shape comment goes above the statement holding the model, in the format\'s syntax, replacing an old one', () => {
  const keras = 'import keras\nmodel = keras.Sequential([\n    keras.layers.Dense(64, input_shape=x.shape[1:]),  # "(" in a string\n])\n';
  const inside = keras.indexOf('input_shape');
  const edit = inputShapeEdit(keras, inside, 'keras-python', [28, 28, 1]);
  assert.equal(applyEdits(keras, [edit]), 'import keras\n# activation-lens: input_shape=(28, 28, 1)\nmodel = keras.Sequential([\n    keras.layers.Dense(64, input_shape=x.shape[1:]),  # "(" in a string\n])\n');
  const torch = 'import torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n';
  assert.equal(applyEdits(torch, [inputShapeEdit(torch, torch.indexOf('class'), 'pytorch-python', [784])]), 'import torch.nn as nn\n\n# activation-lens: input_shape=(784,)\nclass Net(nn.Module):\n    pass\n');
  const old = 'def build():\n    # activation-lens: input_shape=(3, 3)\n    return nn.Sequential(nn.Conv2d(1, 8, 3))\n';
  assert.equal(applyEdits(old, [inputShapeEdit(old, old.indexOf('nn.Sequential'), 'pytorch-python', [1, 28, 28])]), 'def build():\n    # activation-lens: input_shape=(1, 28, 28)\n    return nn.Sequential(nn.Conv2d(1, 8, 3))\n');
  const js = "const model = tf.sequential({\n  layers: [tf.layers.dense({ units: 4, inputShape: [n] })],\n});\n";
  assert.equal(applyEdits(js, [inputShapeEdit(js, js.indexOf('inputShape'), 'tfjs-source', [8])]), "// activation-lens: input_shape=[8]\n" + js);
  assert.equal(statementStart('x = f(\n  "a(",\n  b)\ny = 1\n', 'x = f(\n  "a(",\n  b)\ny = 1\n'.indexOf('b)')), 0);
});

test('CLI: the read takes its input shape from --data, else the file\'s first data comment inside the project root', async () => {
  const { root, models, outside } = workspace();
  fs.mkdirSync(path.join(root, '.git'));
  fs.writeFileSync(path.join(models, 'train.csv'), 'a,b,c,label\n1,2,3,0\n4,5,6,1\n');
  fs.writeFileSync(path.join(outside, 'far.csv'), 'a,b,label\n1,2,0\n');
  const model = path.join(models, 'net.py');
  const request = (extra: string[]) => {
    const parsed = parseCli(['diagnose', model, ...extra]);
    assert.notEqual(parsed, 'help');
    return parsed as Exclude<ReturnType<typeof parseCli>, 'help'>;
  };
  const signal = new AbortController().signal;
  const fromFlag = await cliDataResolver(request(['--data', path.join(outside, 'far.csv')]), signal).forRead('# activation-lens: data=train.csv\n');
  assert.deepEqual(fromFlag && dataInputShape(fromFlag.dataset), [2]);
  const fromComment = await cliDataResolver(request([]), signal).forRead('import keras\n# activation-lens: data=train.csv target=label\nmodel = keras.Sequential()\n');
  assert.deepEqual(fromComment && dataInputShape(fromComment.dataset), [3]);
  assert.equal(await cliDataResolver(request([]), signal).forRead('# activation-lens: data=../../elsewhere/far.csv\nmodel = 1\n'), undefined);
  assert.equal(await cliDataResolver(request([]), signal).forRead('# activation-lens: data=missing.csv\nmodel = 1\n'), undefined);
  const notebook = JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['# activation-lens: data=train.csv\n', 'model = 1\n'] }] });
  assert.match(commentText(new TextEncoder().encode(notebook), 'nb.ipynb') ?? '', /^# activation-lens: data=train\.csv\nmodel = 1/);
  assert.equal(commentText(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0]), 'm.keras'), undefined);
});

test('every reader gives a model whose input shape is known only at run time the unknown-input-shape code, so the Quick Fix answers it', async () => {
  const { loadModelFile } = await import('../../src/core/parse/index');
  const cases: [string, string][] = [
    ['keras_data.py', 'from tensorflow import keras\nfrom tensorflow.keras import layers\nx_train = load()\nmodel = keras.Sequential([layers.Dense(8, activation="relu", input_shape=x_train.shape[1:]), layers.Dense(1)])\n'],
    ['keras_subclass.py', 'from tensorflow import keras\nfrom tensorflow.keras import layers\nclass Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n        self.d = layers.Dense(4)\n    def call(self, x):\n        return self.d(x)\nmodel = Net()\n'],
    ['torch_conv.py', 'import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n        self.pool = nn.AdaptiveAvgPool2d(1)\n    def forward(self, x):\n        return self.pool(self.conv(x))\n'],
    ['tfjs_first.js', "const tf = require('@tensorflow/tfjs');\nconst model = tf.sequential();\nmodel.add(tf.layers.dense({ units: 4 }));\n"],
  ];
  for (const [name, text] of cases) {
    const result = await loadModelFile(text, name);
    const problem = result.problems.find((p) => p.code === 'unknown-input-shape');
    assert.ok(problem, `${name}: ${JSON.stringify(result.problems)}`);
    assert.ok(asksForInputShape(problem), name);
    assert.notEqual(`${problem.span.start.line}:${problem.span.start.column}`, '1:1', name);
  }
});
