import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult, ModelSpec } from '../../src/core/model';
import { loadModelFile } from '../../src/core/parse/index';
import { applyEdits } from '../../src/core/fixes/edits';
import { inputShapeEdit, asksForInputShape } from '../../src/vscode/inputShapeComment';

// A tutorial-style model whose width comes from the data: `inputShape: [numFeatures]`.
const FROM_DATA = `import * as tf from '@tensorflow/tfjs';

const data = await loadCsv('houses.csv');
const numFeatures = data.columnNames.length - 1;

const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [numFeatures], units: 16, activation: 'relu' }));
model.add(tf.layers.dense({ units: 1 }));
`;

function only(result: LoadResult): ModelSpec {
  assert.equal(result.models.length, 1, `problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return result.models[0];
}

test('a run-time input shape without a stand-in is refused at the shape, naming the comment the Quick Fix writes', async () => {
  const result = await loadModelFile(FROM_DATA, 'model.js');
  assert.equal(result.models.length, 0);
  const problem = result.problems.find((p) => p.message.includes('[numFeatures]'));
  assert.ok(problem, JSON.stringify(result.problems.map((p) => p.message)));
  assert.match(problem.message, /activation-lens: input_shape=\[…\]` above the model/);
  assert.ok(asksForInputShape({ code: problem.code, message: problem.message }));
  assert.equal(FROM_DATA.slice(problem.span.start.offset, problem.span.end.offset), '[numFeatures]');
  assert.equal(problem.span.start.line, 7);
});

test('the Quick Fix comment answers the refusal: the model loads with the written shape and a note', async () => {
  const refused = await loadModelFile(FROM_DATA, 'model.js');
  const problem = refused.problems.find((p) => p.message.includes('activation-lens: input_shape='));
  assert.ok(problem);
  const fixed = applyEdits(FROM_DATA, [inputShapeEdit(FROM_DATA, problem.span.start.offset, 'tfjs-source', [13])]);
  assert.match(fixed, /\/\/ activation-lens: input_shape=\[13\]\nmodel\.add\(tf\.layers\.dense\(\{ inputShape: \[numFeatures\]/);
  const model = only(await loadModelFile(fixed, 'model.js'));
  assert.deepEqual(model.inputShape, [13]);
  assert.deepEqual(model.layers.map((l) => l.units), [16, 1]);
  const note = model.notes?.find((n) => n.message.includes('[numFeatures]'));
  assert.ok(note, JSON.stringify(model.notes));
  assert.match(note.message, /`\[13\]` from the `activation-lens: input_shape=` comment at line 7 is used/);
});

test('a comment directly above the statement creating the model supplies the shape; the chosen data does not override it', async () => {
  const text = FROM_DATA.replace('const model = tf.sequential();', '// House prices: 13 features per row.\n// activation-lens: input_shape: (13)\nconst model = tf.sequential();');
  const model = only(await loadModelFile(text, 'model.js', { inputShape: [8] }));
  assert.deepEqual(model.inputShape, [13]);
  assert.match(model.notes?.[0]?.message ?? '', /comment at line 7 is used/);
});

test('a comment inside the model statement supplies the shape of a model with no input shape at all', async () => {
  const text = `import * as tf from '@tensorflow/tfjs';
export function build() {
  return tf.sequential({
    // activation-lens: input_shape=[28, 28, 1]
    layers: [tf.layers.flatten(), tf.layers.dense({ units: 10, activation: 'softmax' })],
  });
}
`;
  const model = only(await loadModelFile(text, 'model.ts'));
  assert.deepEqual(model.inputShape, [28, 28, 1]);
  assert.equal(model.layers.at(-1)?.units, 10);
  assert.match(model.notes?.[0]?.message ?? '', /states no input shape; `\[28, 28, 1\]` from the `activation-lens: input_shape=` comment at line 4 is used/);
});

test('without a comment, the chosen data\'s example shape stands in, with a note at the shape', async () => {
  const model = only(await loadModelFile(FROM_DATA, 'model.js', { inputShape: [8] }));
  assert.deepEqual(model.inputShape, [8]);
  const note = model.notes?.find((n) => n.message.includes('the chosen data'));
  assert.ok(note, JSON.stringify(model.notes));
  assert.equal(FROM_DATA.slice(note.span.start.offset, note.span.end.offset), '[numFeatures]');
  assert.match(note.message, /^The input shape `\[numFeatures\]` has a dimension that is not a fixed positive integer; `\[8\]` from the chosen data is used\.$/);
});

test('a fixed input shape in the file wins over the chosen data, and no note is made', async () => {
  const text = FROM_DATA.replace('[numFeatures]', '[4]');
  const model = only(await loadModelFile(text, 'model.js', { inputShape: [8] }));
  assert.deepEqual(model.inputShape, [4]);
  assert.equal(model.notes, undefined);
});

test('a malformed comment (four axes, a zero) is not read, and a model without a shape is refused naming the comment', async () => {
  for (const shape of ['[1, 28, 28, 1]', '[0]', '[n]']) {
    const text = `import * as tf from '@tensorflow/tfjs';
// activation-lens: input_shape=${shape}
const model = tf.sequential({ layers: [tf.layers.dense({ units: 3 })] });
`;
    const result = await loadModelFile(text, 'model.js');
    assert.equal(result.models.length, 0, shape);
    const problem = result.problems[0];
    assert.match(problem.message, /its input shape is unknown\. Add `inputShape: \[\.\.\.\]` \(or `batchInputShape`\) to the first layer, or add a comment `\/\/ activation-lens: input_shape=\[…\]` above the model/);
    assert.equal(problem.span.start.line, 3);
  }
});

test('a functional model whose tf.input shape comes from the data takes the chosen data\'s shape', async () => {
  const text = `import * as tf from '@tensorflow/tfjs';
const input = tf.input({ shape: [xs.shape[1]] });
const hidden = tf.layers.dense({ units: 8, activation: 'relu' }).apply(input);
const output = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(hidden);
const model = tf.model({ inputs: input, outputs: output });
`;
  const refused = await loadModelFile(text, 'model.js');
  assert.equal(refused.models.length, 0);
  assert.ok(refused.problems.some((p) => p.message.includes('activation-lens: input_shape=')), JSON.stringify(refused.problems.map((p) => p.message)));
  const model = only(await loadModelFile(text, 'model.js', { inputShape: [5] }));
  assert.deepEqual(model.inputShape, [5]);
  assert.deepEqual(model.layers.map((l) => l.units), [8, 2]);
});
