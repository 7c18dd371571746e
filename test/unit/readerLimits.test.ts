/**
 * Hostile inputs for every static reader (issue 19): each is generated here, read through
 * loadModelFile, and must end in a parse-error problem that names the limit of limits.ts, placed
 * where the limit is reached (not 1:1 where the input has a position), within a generous bound of
 * process CPU time — a guard against super-linear reading, not a speed claim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';
import { MAX_LAYERS, MAX_SOURCE_BYTES } from '../../src/core/parse/limits';
import { makeZip } from '../fixtures/saved/generate';

const CPU_BOUND_MS = 8000;

async function read(input: string | Uint8Array, fileName: string): Promise<{ result: LoadResult; cpuMs: number }> {
  const before = process.cpuUsage();
  const result = await loadModelFile(input, fileName);
  const used = process.cpuUsage(before);
  return { result, cpuMs: (used.user + used.system) / 1000 };
}

/** `modelsRead`: models still read before the limit (the models-per-file cap keeps the first 100). */
async function expectRefusal(input: string | Uint8Array, fileName: string, limit: RegExp, positioned = true, modelsRead = 0): Promise<void> {
  const { result, cpuMs } = await read(input, fileName);
  assert.ok(result.models.length <= modelsRead, `${fileName}: ${result.models.length} models read`);
  const problem = result.problems.find((p) => limit.test(p.message));
  assert.ok(problem, `${fileName}: expected a problem matching ${limit}, got ${JSON.stringify(result.problems.map((p) => p.message))}`);
  assert.equal(problem.code, 'parse-error');
  assert.doesNotMatch(problem.message, /Maximum call stack|Internal error|in time/);
  if (positioned) assert.ok(problem.span.start.line > 1 || problem.span.start.column > 1, `${fileName}: placed at 1:1: ${problem.message}`);
  assert.ok(cpuMs < CPU_BOUND_MS, `${fileName}: ${cpuMs.toFixed(0)} ms of CPU`);
}

const TFJS = "import * as tf from '@tensorflow/tfjs';\n";
const KERAS = 'from tensorflow import keras\nfrom tensorflow.keras import layers\n';
const TORCH = 'import torch\nfrom torch import nn\n';
const DENSE_JS = 'tf.layers.dense({units: 4})';

test('a file over the size limit is refused first, at the line where the limit falls', async () => {
  const padding = '# a comment line of padding\n'.repeat(Math.ceil((MAX_SOURCE_BYTES * 1.2) / 28));
  await expectRefusal(`${KERAS}${padding}model = keras.Sequential([layers.Dense(4, input_shape=(4,))])\n`, 'big.py', /larger than the 2 MiB/);
  await expectRefusal(new TextEncoder().encode(`${TFJS}${'// padding\n'.repeat(250_000)}`), 'big.js', /larger than the 2 MiB/);
});

test('TF.js: 10,000 repeated declarations read in linear time', async () => {
  let models = TFJS;
  for (let i = 0; i < 10_000; i++) models += `const a${i} = tf.sequential(); a${i}.add(tf.layers.dense({units: 4, inputShape: [4]}));\n`;
  await expectRefusal(models, 'models.js', /more than the 100 per file/, true, 100);
  const same = `${TFJS}${'const x = 1;\n'.repeat(30_000)}const m = tf.sequential({layers: [tf.layers.dense({units: x, inputShape: [4]})]});\n`;
  await expectRefusal(same, 'same.js', /declares more than 20,000 variables/);
  let chain = `${TFJS}let x0 = 1;\n`;
  for (let i = 1; i < 25_000; i++) chain += `let x${i} = x${i - 1};\n`;
  await expectRefusal(chain, 'chain.js', /declares more than 20,000 variables/);
  // 3,000 declarations on one 200 KB line.
  const line = TFJS + Array.from({ length: 3000 }, (_, i) => `const v${i} = tf.sequential(); v${i}.add(tf.layers.dense({units: 4}));`).join(' ');
  await expectRefusal(line, 'line.js', /more than the 100 per file/);
});

test('member chains of 16,000 links and 100,000 nested brackets are refused where the limit is reached', async () => {
  await expectRefusal(`${TFJS}const a = {};\nconst m = tf.sequential({layers: [tf.layers.dense({units: a${'.a'.repeat(16_000)}, inputShape: [4]})]});\n`, 'chain.js', /chain of more than 100 attribute accesses/);
  await expectRefusal(`${KERAS}x = a${'.a'.repeat(16_000)}\n`, 'chain.py', /chain of more than 100 attribute accesses/);
  await expectRefusal(`${TORCH}x = a${'.a'.repeat(16_000)}\nmodel = nn.Sequential(nn.Linear(4, 4))\n`, 'chain_torch.py', /chain of more than 100 attribute accesses/);
  const deep = 100_000;
  for (const [open, close] of [['(', ')'], ['[', ']']]) {
    await expectRefusal(`${KERAS}x = ${open.repeat(deep)}1${close.repeat(deep)}\n`, 'deep.py', /more than 120 levels deep/);
    await expectRefusal(`${TFJS}const x = ${open.repeat(deep)}1${close.repeat(deep)};\n`, 'deep.js', /more than 200 levels deep/);
  }
});

test('20,000 literal layers are refused by the layer limit in every source reader', async () => {
  const n = 20_000;
  const tooMany = new RegExp(`more than the ${MAX_LAYERS.toLocaleString('en-US')} layers per model`);
  await expectRefusal(`${KERAS}model = keras.Sequential([layers.Input((4,)), ${Array(n).fill('layers.Dense(4)').join(', ')}])\n`, 'layers.py', tooMany);
  await expectRefusal(`${TORCH}model = nn.Sequential(${Array(n).fill('nn.Linear(4, 4)').join(', ')})\n`, 'layers_torch.py', tooMany);
  await expectRefusal(`${TFJS}const m = tf.sequential({layers: [tf.layers.dense({units: 4, inputShape: [4]}), ${Array(n).fill(DENSE_JS).join(',\n')}]});\n`, 'layers.js', tooMany);
  await expectRefusal(`${TFJS}const m = tf.sequential();\n${'m.add(tf.layers.dense({units: 4, inputShape: [4]}));\n'.repeat(5001)}`, 'adds.js', tooMany);
});

test('5,001-layer saved models are refused before they are built (Keras JSON, TF.js JSON, .keras)', async () => {
  const layer = (i: number) => `{"class_name":"Dense","config":{"name":"d${i}","units":4}}`;
  const layersJson = `[{"class_name":"InputLayer","config":{"batch_input_shape":[null,4],"name":"in"}},${Array.from({ length: 5001 }, (_, i) => layer(i)).join(',')}]`;
  const keras = `{"class_name":"Sequential","config":{"name":"s","layers":${layersJson}}}`;
  await expectRefusal(keras, 'model.json', /more than 2,000 layers/);
  await expectRefusal(`{"modelTopology":{"class_name":"Sequential","config":{"name":"s","layers":${layersJson}}},"weightsManifest":[]}`, 'tfjs.json', /more than 2,000 layers/);
  // A binary archive has no text position: the message names the place in its config.json.
  const archive = makeZip({ 'config.json': keras, 'metadata.json': '{"keras_version":"3.0.0"}' }, true);
  await expectRefusal(archive, 'model.keras', /more than 2,000 layers.*config\.json, line 1, column \d+/, false);
  // Many values, few layers: the JSON value limit.
  const wide = `{"class_name":"Sequential","config":{"name":"s","layers":[],"junk":[${Array(600_000).fill('0').join(',')}]}}`;
  await expectRefusal(wide, 'wide.json', /more than 500,000 values/);
});

test('the Python readers stay linear on thousands of models and assignments', async () => {
  let keras = KERAS;
  for (let i = 0; i < 10_000; i++) keras += `m${i} = keras.Sequential()\nm${i}.add(layers.Dense(4, input_shape=(4,)))\n`;
  await expectRefusal(keras, 'models.py', /more than the 100 per file/, true, 100);
  let torch = TORCH;
  for (let i = 0; i < 10_000; i++) torch += `m${i} = nn.Sequential(nn.Linear(4, 4))\n`;
  // Like Keras: the first 100 models are read, then the models-per-file cap (the one budget of
  // 100,000 steps is not spent re-reading statements that merely name a model like `m1` in `m10`).
  await expectRefusal(torch, 'models_torch.py', /more than the 100 per file/, true, 100);
  let lists = `${TORCH}x = [0] * 10000\n`;
  for (let i = 0; i < 10_000; i++) lists += `a${i} = x + x[:5000]\n`;
  const copies = (await read(`${lists}model = nn.Sequential(nn.Linear(4, 4))\n`, 'lists_torch.py')).result;
  assert.equal(copies.models.length, 1, 'the names the model does not use are never evaluated');
  assert.deepEqual(copies.problems, []);
  // A loop the model's width depends on is stepped through, and one million iterations spend the budget.
  const loop = `${TORCH}n = 0\nfor i in range(1000):\n    for j in range(1000):\n        n += 1\nmodel = nn.Sequential(nn.Linear(n, 4))\n`;
  await expectRefusal(loop, 'loop_torch.py', /work budget of 100,000 steps/);
  let chain = `${KERAS}x0 = 1\n`;
  for (let i = 1; i < 30_000; i++) chain += `x${i} = x${i - 1}\n`;
  await expectRefusal(`${chain}model = keras.Sequential([layers.Dense(x29999, input_shape=(4,))])\n`, 'chain.py', /more than 20000 statements/);
});
