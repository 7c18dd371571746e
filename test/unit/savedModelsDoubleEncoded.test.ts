import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult, ModelSpec } from '../../src/core/model';
import { detectFormat, loadModelFile } from '../../src/core/parse/index';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';

// What `model.to_json()` returns (a Keras 2 Sequential config), written by hand.
const CONFIG = JSON.stringify({
  class_name: 'Sequential',
  config: {
    name: 'mlp',
    layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 20], dtype: 'float32', name: 'input_1' } },
      { class_name: 'Dense', config: { name: 'hidden', units: 32, activation: 'sigmoid', use_bias: true } },
      { class_name: 'Dense', config: { name: 'out', units: 1, activation: 'linear', use_bias: true } },
    ],
  },
  keras_version: '2.15.0',
  backend: 'tensorflow',
});
// `json.dump(model.to_json(), f)`: the config text itself becomes one JSON string literal.
const ENCODED_TWICE = JSON.stringify(CONFIG) + '\n';

function only(result: LoadResult): ModelSpec {
  assert.equal(result.models.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return result.models[0];
}

test('a Keras config saved with json.dump(model.to_json(), f) is detected and read as the config, with a note', async () => {
  assert.equal(detectFormat(ENCODED_TWICE, 'model.json'), 'keras-json');
  assert.equal(detectFormat(ENCODED_TWICE, 'model_config'), 'keras-json');
  const result = await loadModelFile(ENCODED_TWICE, 'model.json');
  assert.equal(result.format, 'keras-json');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  const once = only(await loadModelFile(CONFIG, 'once.json'));
  assert.deepEqual(m.inputShape, [20]);
  assert.deepEqual(m.layers.map((l) => [l.kind, l.units, l.activation.name]), once.layers.map((l) => [l.kind, l.units, l.activation.name]));
  assert.match(m.notes?.[0]?.message ?? '', /json\.dump\(model\.to_json\(\), f\).*encodes it twice/);
  // Spans are positions in the file: the escaped layer object, which decodes to the layer's JSON.
  const span = m.layers[0].source.span;
  const escaped = ENCODED_TWICE.slice(span.start.offset, span.end.offset);
  assert.ok(escaped.startsWith('{\\"class_name\\": \\"Dense\\"') || escaped.startsWith('{\\"class_name\\":\\"Dense\\"'), escaped);
  assert.deepEqual(JSON.parse(JSON.parse(`"${escaped}"`) as string), JSON.parse(CONFIG).config.layers[1]);
  assert.equal(span.start.line, 1);
  assert.ok(span.start.column > 1);
});

test('a fix on a twice-encoded config writes escaped JSON, so the file still decodes to a config', async () => {
  const m = only(await loadModelFile(ENCODED_TWICE, 'model.json'));
  const edits = activationSwapEdits(ENCODED_TWICE, m, 0, { activation: { name: 'relu' }, kernelInitializer: 'heNormal' });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(ENCODED_TWICE, edits);
  const config = JSON.parse(JSON.parse(fixed) as string);
  assert.equal(config.config.layers[1].config.activation, 'relu');
  assert.deepEqual(config.config.layers[1].config.kernel_initializer, { class_name: 'HeNormal', config: {} });
  assert.equal(only(await loadModelFile(fixed, 'model.json')).layers[0].activation.name, 'relu');
});

test('a JSON string that is not a model config, or whose content is broken JSON, is refused at its position', async () => {
  const plain = await loadModelFile('"hello"', 'notes.json');
  assert.equal(plain.models.length, 0);
  const broken = JSON.stringify(CONFIG.slice(0, 80));
  const result = await loadModelFile(broken, 'model.json');
  assert.equal(result.models.length, 0);
  assert.match(result.problems[0].message, /JSON string whose content is not valid JSON/);
  assert.ok(result.problems[0].span.start.column > 1);
});
