/**
 * [issue 12] The Python fixers take what they need from the ModelSpec (`sourceFacts`, gathered
 * while the file was read), not from a parser: a model that went through JSON, as it does
 * across the worker boundary, yields the same edits, and a model without the facts cannot
 * borrow them from the text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../src/core/model';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';
import { batchNormEdits, mergeEdits } from '../../src/core/fixes/changes';
import { loadModelFile } from '../../src/core/parse/index';

/** What a model is after the trainer's worker boundary: JSON, no prototypes, no Maps. */
function throughJson(model: ModelSpec): ModelSpec {
  return JSON.parse(JSON.stringify(model)) as ModelSpec;
}

function withoutFacts(model: ModelSpec): ModelSpec {
  const { sourceFacts: _facts, ...rest } = model;
  return rest;
}

async function loadOne(text: string, fileName: string): Promise<ModelSpec> {
  const result = await loadModelFile(text, fileName);
  assert.deepEqual(result.problems, []);
  assert.equal(result.models.length, 1);
  return result.models[0];
}

const KERAS_BY_NAME = `from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

model = Sequential([
    Dense(64, activation="sigmoid", input_shape=(20,)),
    Dense(10, activation="softmax"),
])
`;

test('Keras: a class the file has no name for is imported next to the import the layers come from, from the facts alone', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  assert.ok(model.sourceFacts, 'the loader records the facts');
  const swap = { activation: { name: 'leakyRelu' as const, alpha: 0.01 } };
  const edits = activationSwapEdits(KERAS_BY_NAME, model, 0, swap);
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(KERAS_BY_NAME, edits);
  assert.ok(fixed.includes('from tensorflow.keras.layers import Dense\nfrom tensorflow.keras.layers import LeakyReLU\n'), fixed);
  assert.ok(fixed.includes('Dense(64, activation=LeakyReLU(0.01), input_shape=(20,))'), fixed);
  assert.deepEqual(activationSwapEdits(KERAS_BY_NAME, throughJson(model), 0, swap), edits);
  // Without the facts the fixer cannot tell how the file names Keras layers (bare `Dense`), and says so.
  assert.match(JSON.stringify(activationSwapEdits(KERAS_BY_NAME, withoutFacts(model), 0, swap)), /Cannot tell how this file refers to Keras layers/);
});

test('Keras: BatchNormalization edits are the same after JSON', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  const edits = batchNormEdits(KERAS_BY_NAME, model, [0]);
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  // Two import lines go after the same statement; the callers merge such insertions.
  const merged = mergeEdits(KERAS_BY_NAME, edits);
  assert.ok(Array.isArray(merged), JSON.stringify(merged));
  assert.ok(applyEdits(KERAS_BY_NAME, merged).includes('from tensorflow.keras.layers import BatchNormalization'));
  assert.deepEqual(batchNormEdits(KERAS_BY_NAME, throughJson(model), [0]), edits);
});

test('Keras: an import statement that changed since the read is not spliced at its old offsets', async () => {
  const model = await loadOne(KERAS_BY_NAME, 'by_name.py');
  const edited = KERAS_BY_NAME.replace('import Dense\n', 'import Dens\n\n');
  assert.match(JSON.stringify(activationSwapEdits(edited, model, 0, { activation: { name: 'leakyRelu', alpha: 0.01 } })), /changed since/);
});
