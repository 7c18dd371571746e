/**
 * Options the IR cannot express are refused at their value (never silently dropped): dilation,
 * channels-first, grouped convolutions, capped / thresholded ReLUs, and activations only known at
 * run time. The ones it can express (relu6, leaky ReLU) are mapped exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadProblem, LoadResult, ModelSpec } from '../../src/core/model';
import { loadTfjsSource } from '../../src/core/frameworks/tfjs/source';
import { loadKerasJson } from '../../src/core/parse/kerasJson';
import { loadTfjsJson } from '../../src/core/parse/tfjsJson';

const lineColumn = (p: LoadProblem): string => `${p.span.start.line}:${p.span.start.column}`;

/** The single problem of a refused model: no model, one problem, its code, position and text. */
function refusal(text: string, result: LoadResult): { code: string; at: string; text: string; message: string } {
  assert.equal(result.models.length, 0, 'the model must be refused');
  assert.equal(result.problems.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  const [problem] = result.problems;
  return { code: problem.code, at: lineColumn(problem), text: text.slice(problem.span.start.offset, problem.span.end.offset), message: problem.message };
}

function only(result: LoadResult): ModelSpec {
  assert.equal(result.models.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return result.models[0];
}

const TF = "import * as tf from '@tensorflow/tfjs';\n";

// #region TF.js source

test('tfjs source: conv2d / conv1d dilationRate other than 1 (number or array) is refused at the value', async () => {
  const conv2d = `${TF}const m = tf.sequential({layers: [\n  tf.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [28, 28, 1], dilationRate: 4}),\n]});\n`;
  const r2 = refusal(conv2d, await loadTfjsSource(conv2d, 'm.js'));
  assert.deepEqual([r2.code, r2.at, r2.text], ['unsupported-layer', '3:87', '4']);
  assert.match(r2.message, /`dilationRate: 4`: dilation is not supported yet: Activation Lens builds `tf\.layers\.conv2d` undilated/);

  const conv1d = `${TF}const m = tf.sequential({layers: [\n  tf.layers.conv1d({filters: 8, kernelSize: 3, inputShape: [64, 1], dilationRate: [8]}),\n]});\n`;
  const r1 = refusal(conv1d, await loadTfjsSource(conv1d, 'm.js'));
  assert.deepEqual([r1.code, r1.at, r1.text], ['unsupported-layer', '3:83', '[8]']);
  assert.match(r1.message, /`dilationRate: \[8\]`: dilation is not supported yet/);

  const plain = `${TF}const m = tf.sequential({layers: [tf.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [28, 28, 1], dilationRate: [1, 1]})]});\n`;
  assert.equal(only(await loadTfjsSource(plain, 'm.js')).layers[0].kind, 'conv2d');
});

test("tfjs source: dataFormat 'channelsFirst' on conv / pooling is refused at the value; 'channelsLast' loads; flatten only gets a note", async () => {
  const conv = `${TF}const m = tf.sequential({layers: [\n  tf.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [1, 28, 28], dataFormat: 'channelsFirst'}),\n]});\n`;
  const rc = refusal(conv, await loadTfjsSource(conv, 'm.js'));
  assert.deepEqual([rc.code, rc.at, rc.text], ['unsupported-layer', '3:85', "'channelsFirst'"]);
  assert.match(rc.message, /`dataFormat: 'channelsFirst'` is not supported yet; .*`tf\.layers\.conv2d` would be built with the wrong shape/);

  const pool = `${TF}const m = tf.sequential({layers: [\n  tf.layers.maxPooling2d({poolSize: 2, inputShape: [1, 28, 28], dataFormat: 'channelsFirst'}),\n]});\n`;
  const rp = refusal(pool, await loadTfjsSource(pool, 'm.js'));
  assert.deepEqual([rp.code, rp.at, rp.text], ['unsupported-layer', '3:77', "'channelsFirst'"]);
  assert.match(rp.message, /`tf\.layers\.maxPooling2d` would be built with the wrong shape/);

  const last = `${TF}const m = tf.sequential({layers: [tf.layers.conv2d({filters: 8, kernelSize: 3, inputShape: [28, 28, 1], dataFormat: 'channelsLast'})]});\n`;
  const loaded = await loadTfjsSource(last, 'm.js');
  assert.deepEqual(loaded.problems, []);
  assert.deepEqual(only(loaded).problems, []);

  const flat = `${TF}const m = tf.sequential({layers: [tf.layers.flatten({inputShape: [2, 3, 3], dataFormat: 'channelsFirst'}), tf.layers.dense({units: 2})]});\n`;
  const flattened = only(await loadTfjsSource(flat, 'm.js'));
  assert.deepEqual(flattened.problems.map((p) => [p.code, lineColumn(p)]), [['unsupported-layer', '2:89']]);
  assert.match(flattened.problems[0].message, /`tf\.layers\.flatten` is diagnosed channels-last, which only changes the order of its outputs/);
});

test('tfjs source: reLU({maxValue: 6}) is relu6; another cap, or one only known at run time, is refused at the value', async () => {
  const six = `${TF}const m = tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4]}), tf.layers.reLU({maxValue: 6}), tf.layers.reLU()]});\n`;
  const loaded = await loadTfjsSource(six, 'm.js');
  assert.deepEqual(loaded.problems, []);
  const m = only(loaded);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.layers.map((l) => l.activation.name), ['linear', 'relu6', 'relu']);

  const four = `${TF}const m = tf.sequential({layers: [\n  tf.layers.dense({units: 8, inputShape: [4]}),\n  tf.layers.reLU({maxValue: 4}),\n]});\n`;
  const r = refusal(four, await loadTfjsSource(four, 'm.js'));
  assert.deepEqual([r.code, r.at, r.text], ['unsupported-layer', '4:29', '4']);
  assert.match(r.message, /`maxValue: 4`: a ReLU capped at another value than 6 is not supported yet/);

  const param = `${TF}function build(cap) {\n  return tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4]}), tf.layers.reLU({maxValue: cap})]});\n}\n`;
  const rp = refusal(param, await loadTfjsSource(param, 'm.js'));
  assert.deepEqual([rp.code, rp.at, rp.text], ['parse-error', '3:106', 'cap']);
  assert.match(rp.message, /`cap` is a parameter of `build`, so its value is only known at run time/);
});

test('tfjs source: an activation only known at run time (parameter, condition, call) refuses the model at the value', async () => {
  const text = [
    "import * as tf from '@tensorflow/tfjs';",
    'function mlp(activation) {',
    '  return tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4], activation})]});',
    '}',
    'function branchy(useRelu) {',
    "  return tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4], activation: useRelu ? 'relu' : 'tanh'})]});",
    '}',
    'const called = tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4], activation: pick()})]});',
    'const RELU = true;',
    "const constant = tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4], activation: RELU ? 'relu' : 'tanh'})]});",
    '',
  ].join('\n');
  const result = await loadTfjsSource(text, 'm.js');
  const seen = result.problems.map((p) => [p.code, lineColumn(p), text.slice(p.span.start.offset, p.span.end.offset)]);
  assert.deepEqual(seen, [
    ['parse-error', '3:78', 'activation'],
    ['parse-error', '6:90', "useRelu ? 'relu' : 'tanh'"],
    ['parse-error', '8:96', 'pick()'],
  ]);
  assert.match(result.problems[0].message, /^Model `mlp` cannot be diagnosed: `activation` must be an activation name known before running the code, but `activation` is a parameter of `mlp`, so its value is only known at run time\.$/);
  assert.match(result.problems[1].message, /`useRelu` is a parameter of `branchy`, so its value is only known at run time/);
  assert.match(result.problems[2].message, /`pick\(\)` is a call, so its result is only known at run time/);
  // A condition on a constant is the branch JavaScript takes.
  const constant = result.models.find((m) => m.name === 'constant');
  assert.equal(constant?.layers[0].activation.name, 'relu');
  assert.equal(result.models.length, 1);
});

test('tfjs source: an unknown activation name (a typo) stays a warning that says the name is unknown', async () => {
  const text = `${TF}const m = tf.sequential({layers: [tf.layers.dense({units: 8, inputShape: [4], activation: 'reluu'})]});\n`;
  const result = await loadTfjsSource(text, 'm.js');
  assert.deepEqual(result.problems, []);
  const m = only(result);
  assert.equal(m.layers[0].activation.name, 'linear');
  assert.deepEqual(m.problems.map((p) => [p.code, lineColumn(p)]), [['unsupported-layer', '2:91']]);
  assert.match(m.problems[0].message, /^The activation name "reluu" is unknown: it is not a TF\.js activation; the layer is diagnosed as linear\.$/);
});

// #endregion

// #region Keras JSON / TF.js model.json

/** A Keras 2 to_json Sequential with one Conv2D whose config gets `extra` (JSON text, one key per line). */
function kerasConv(extra: string, className = 'Conv2D', kernel = '[3, 3]', shape = '[null, 28, 28, 1]'): string {
  return [
    '{"class_name": "Sequential", "config": {"name": "cnn", "layers": [',
    `  {"class_name": "InputLayer", "config": {"batch_input_shape": ${shape}, "name": "input"}},`,
    `  {"class_name": "${className}", "config": {"name": "conv", "filters": 8, "kernel_size": ${kernel},`,
    `    ${extra}}}`,
    ']}}',
  ].join('\n');
}

test('Keras JSON: Conv dilation_rate other than 1 is refused at the value; [1, 1] and 1 load', () => {
  const text = kerasConv('"dilation_rate": [4, 4], "activation": "relu"');
  const r = refusal(text, loadKerasJson(text, 'm.json'));
  assert.deepEqual([r.code, r.at, r.text], ['unsupported-layer', '4:22', '[4, 4]']);
  assert.match(r.message, /`"dilation_rate": \[4,4\]`: dilation is not supported yet: Activation Lens builds `Conv2D` undilated/);

  const conv1d = kerasConv('"dilation_rate": 8', 'Conv1D', '[3]', '[null, 64, 1]');
  const r1 = refusal(conv1d, loadKerasJson(conv1d, 'm.json'));
  assert.deepEqual([r1.code, r1.at, r1.text], ['unsupported-layer', '4:22', '8']);

  for (const ok of ['"dilation_rate": [1, 1]', '"dilation_rate": 1', '"groups": 1']) {
    const loaded = loadKerasJson(kerasConv(ok), 'm.json');
    assert.equal(only(loaded).layers[0].kind, 'conv2d', ok);
  }
});

test('Keras JSON: Conv groups other than 1 is refused at the value', () => {
  const text = kerasConv('"groups": 4');
  const r = refusal(text, loadKerasJson(text, 'm.json'));
  assert.deepEqual([r.code, r.at, r.text], ['unsupported-layer', '4:15', '4']);
  assert.match(r.message, /`"groups": 4`: grouped convolutions are not supported yet: Activation Lens builds `Conv2D` with groups=1/);
});

test('TF.js model.json: the same layer-config check refuses dilation_rate (shared config reader)', () => {
  const text = [
    '{"format": "layers-model", "modelTopology": {"class_name": "Sequential", "config": {"name": "cnn", "layers": [',
    '  {"class_name": "Conv2D", "config": {"name": "conv", "filters": 8, "kernel_size": [3, 3], "batch_input_shape": [null, 28, 28, 1],',
    '    "data_format": "channels_last", "dilation_rate": [2, 2]}}',
    ']}}}',
  ].join('\n');
  const r = refusal(text, loadTfjsJson(text, 'model.json', { freshInit: true }));
  assert.deepEqual([r.code, r.at, r.text], ['unsupported-layer', '3:54', '[2, 2]']);
  assert.match(r.message, /dilation is not supported yet/);
});

/** A Keras JSON Dense → ReLU model with the ReLU config's extra keys. */
function kerasRelu(extra: string): string {
  return [
    '{"class_name": "Sequential", "config": {"name": "mlp", "layers": [',
    '  {"class_name": "Dense", "config": {"name": "dense", "units": 8, "batch_input_shape": [null, 4]}},',
    '  {"class_name": "ReLU", "config": {"name": "relu",',
    `    ${extra}}}`,
    ']}}',
  ].join('\n');
}

test('Keras JSON ReLU: max_value 6 → relu6, negative_slope → leakyRelu; other caps, thresholds or both are refused at the key', () => {
  const mapped: [string, string, number | undefined][] = [
    ['"max_value": null, "negative_slope": 0.0, "threshold": 0.0', 'relu', undefined],
    ['"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0', 'relu6', undefined],
    ['"max_value": null, "negative_slope": 0.1, "threshold": 0.0', 'leakyRelu', 0.1],
  ];
  for (const [extra, name, alpha] of mapped) {
    const result = loadKerasJson(kerasRelu(extra), 'm.json');
    const m = only(result);
    assert.deepEqual(m.problems, [], extra);
    assert.deepEqual(m.layers[1].activation, alpha === undefined ? { name } : { name, alpha }, extra);
  }
  const refused: [string, string, string, RegExp][] = [
    ['"max_value": 4.0, "negative_slope": 0.0, "threshold": 0.0', '4:18', '4.0', /`"max_value": 4` of `ReLU`: a ReLU capped at another value than 6 is not supported yet/],
    ['"max_value": null, "negative_slope": 0.0, "threshold": 0.5', '4:60', '0.5', /`"threshold": 0\.5` of `ReLU`: a thresholded ReLU is not supported yet/],
    ['"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.0', '4:18', '6.0', /`"max_value": 6` of `ReLU`: a ReLU with both a cap and a negative slope is not supported yet/],
  ];
  for (const [extra, position, value, message] of refused) {
    const text = kerasRelu(extra);
    const r = refusal(text, loadKerasJson(text, 'm.json'));
    assert.deepEqual([r.code, r.at, r.text], ['unsupported-layer', position, value], extra);
    assert.match(r.message, message);
  }
});

// #endregion
