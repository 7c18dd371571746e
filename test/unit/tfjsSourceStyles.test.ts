/**
 * TF.js source loader against styles real users write: object spreads, reassigned variables,
 * TypeScript casts, class-held models, destructured namespaces, functional `tf.model` chains and
 * empty files. Each model either loads as the file defines it or is refused with a positioned problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadProblem, LoadResult, ModelSpec } from '../../src/core/model';
import { loadTfjsSource } from '../../src/core/frameworks/tfjs/source';
import { loadModelFile } from '../../src/core/parse/index';
import { activationSwapEdits, applyEdits } from '../../src/core/fixes';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'tfjs');

async function loadFixture(name: string): Promise<{ text: string; result: LoadResult }> {
  const text = fs.readFileSync(path.join(FIXTURES, name), 'utf8');
  return { text, result: await loadTfjsSource(text, name) };
}

function model(result: LoadResult, name: string): ModelSpec {
  const found = result.models.find((m) => m.name === name);
  assert.ok(found, `model ${name} missing; models: ${result.models.map((m) => m.name).join(', ')}; problems: ${JSON.stringify(result.problems.map((p) => p.message))}`);
  return found;
}

/** `kind units activation` per layer. */
const summary = (m: ModelSpec): string[] => m.layers.map((l) => [l.kind, l.units ?? l.filters, l.activation.name].filter((p) => p !== undefined).join(' '));

const where = (problem: LoadProblem): string => `${problem.span.start.line}:${problem.span.start.column}`;

/** The single file-level problem of a model that was refused. */
function refusal(result: LoadResult, name: string): LoadProblem {
  assert.equal(result.models.find((m) => m.name === name), undefined, `model ${name} should have been refused`);
  const found = result.problems.filter((p) => p.message.startsWith(`Model \`${name}\` cannot be diagnosed`));
  assert.equal(found.length, 1, JSON.stringify(result.problems.map((p) => p.message)));
  return found[0];
}

const TF = "const tf = require('@tensorflow/tfjs');\n";

test('1. object spreads of constant objects are merged into layer options; an unknown spread is refused at the spread', async () => {
  const { text, result } = await loadFixture('spread_options.js');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [10]);
  assert.deepEqual(summary(m), ['dense 40 relu', 'dense 64 tanh', 'dense 64 sigmoid', 'dense 3 relu']);
  assert.deepEqual(m.layers.map((l) => l.kernelInitializer?.name), ['heNormal', 'glorotNormal', 'glorotNormal', 'heNormal']);
  // Inherited settings are shared text: no span into `common`, so a fix overrides them in the layer itself.
  assert.equal(m.layers[0].source.activationValueSpan, undefined);
  assert.ok(m.layers[2].source.activationValueSpan);
  const edits = activationSwapEdits(text, m, 0, { activation: { name: 'elu', alpha: 1 } });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  const fixed = applyEdits(text, edits);
  assert.match(fixed, /const common = \{ activation: 'relu', kernelInitializer: 'heNormal' \};/);
  const reloaded = model(await loadTfjsSource(fixed, 'spread_options.js'), 'model');
  assert.deepEqual(summary(reloaded), ['dense 40 elu', 'dense 64 tanh', 'dense 64 sigmoid', 'dense 3 relu']);

  const unknown = await loadTfjsSource(
    `${TF}function build(opts) {\n  return tf.sequential({ layers: [tf.layers.dense({ ...opts, units: 3, inputShape: [2] })] });\n}\nconst other = tf.sequential({ layers: [tf.layers.dense({ units: 3, ...defaults(), inputShape: [2] })] });\n`,
    'spread.js',
  );
  const parameter = refusal(unknown, 'build');
  assert.equal(parameter.code, 'parse-error');
  assert.equal(where(parameter), '3:53');
  assert.match(parameter.message, /the options of `dense` cannot be read statically: in the spread `\.\.\.opts`, `opts` is a parameter of `build`/);
  const call = refusal(unknown, 'other');
  assert.equal(where(call), '5:68');
  assert.match(call.message, /in the spread `\.\.\.defaults\(\)`, `defaults\(\)` is not a constant object/);
});

test('2. a variable assigned more than once is not a constant: refused at its use', async () => {
  const result = await loadTfjsSource(
    [
      "const tf = require('@tensorflow/tfjs');",
      'let UNITS = 8;',
      'UNITS = 64;',
      'const model = tf.sequential();',
      'model.add(tf.layers.dense({ units: UNITS, inputShape: [4] }));',
      'let width = 4;',
      'width++;',
      'const counted = tf.sequential({ layers: [tf.layers.dense({ units: width * 2, inputShape: [4] })] });',
      'const options = { units: 4, inputShape: [4] };',
      'options.units = 9;',
      'const mutated = tf.sequential({ layers: [tf.layers.dense(options)] });',
      'const KEPT = 5;',
      'const kept = tf.sequential({ layers: [tf.layers.dense({ units: KEPT, inputShape: [KEPT] })] });',
      '',
    ].join('\n'),
    'reassigned.js',
  );
  const assigned = refusal(result, 'model');
  assert.equal(assigned.code, 'parse-error');
  assert.equal(where(assigned), '5:36');
  assert.match(assigned.message, /`units` must be a positive integer known before running the code, but `UNITS` is assigned again at line 3 \(`UNITS = 64`\), so its value is only known at run time\./);
  const incremented = refusal(result, 'counted');
  assert.equal(where(incremented), '8:67');
  assert.match(incremented.message, /`width` is assigned again at line 7 \(`width\+\+`\)/);
  const changed = refusal(result, 'mutated');
  assert.equal(where(changed), '11:58');
  assert.match(changed.message, /`options` is changed at line 10 \(`options\.units = 9`\), so its value is only known at run time/);
  assert.deepEqual(summary(model(result, 'kept')), ['dense 5 linear']);
  assert.equal(result.problems.length, 3);
});

test('3. TypeScript casts, `as const`, `satisfies`, `!` and parentheses are looked through', async () => {
  const { result } = await loadFixture('typescript_casts.ts');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [6]);
  assert.deepEqual(summary(m), ['dense 32 relu', 'dense 16 sigmoid', 'dense 8 tanh', 'dense 1 linear']);
});

test('4. models held by a class (`this.model = tf.sequential()`) in the constructor or another method', async () => {
  const { result } = await loadFixture('class_model.js');
  assert.deepEqual(result.problems, []);
  const dqn = model(result, 'DQN.model');
  assert.deepEqual(dqn.inputShape, [4]);
  assert.deepEqual(summary(dqn), ['dense 24 relu', 'dense 2 linear']);
  const critic = model(result, 'Critic.network');
  assert.deepEqual(critic.inputShape, [3]);
  assert.deepEqual(summary(critic), ['dense 16 tanh', 'dense 1 linear']);

  // Layers added from another method: the order of method calls is only known at run time.
  const split = await loadTfjsSource(
    `${TF}class Split {\n  constructor() {\n    this.model = tf.sequential();\n    this.model.add(tf.layers.dense({ units: 8, inputShape: [3] }));\n  }\n  more() {\n    this.model.add(tf.layers.dense({ units: 1 }));\n  }\n}\n`,
    'split.js',
  );
  const problem = refusal(split, 'Split.model');
  assert.equal(problem.code, 'parse-error');
  assert.equal(where(problem), '8:5');
  assert.match(problem.message, /layers are also added to `this\.model` in `more`, apart from where the model is created/);
});

test('5. names destructured from the TF.js namespace or its require()', async () => {
  const { result } = await loadFixture('destructured_namespace.cjs');
  assert.deepEqual(result.problems, []);
  const m = model(result, 'model');
  assert.deepEqual(m.inputShape, [5]);
  assert.deepEqual(summary(m), ['dense 12 relu', 'dense 1 sigmoid']);

  const styles = [
    "import * as tf from '@tensorflow/tfjs';\nconst { layers } = tf;\nconst model = tf.sequential({ layers: [layers.dense({ units: 3, inputShape: [2], activation: 'relu' })] });\n",
    "const tf = require('@tensorflow/tfjs');\nconst { layers, sequential } = tf;\nconst model = sequential();\nmodel.add(layers.dense({ units: 3, inputShape: [2], activation: 'relu' }));\n",
    "const { layers } = require('@tensorflow/tfjs-node');\nconst tf = require('@tensorflow/tfjs-node');\nconst model = tf.sequential();\nmodel.add(layers.dense({ units: 3, inputShape: [2], activation: 'relu' }));\n",
    "const L = require('@tensorflow/tfjs').layers;\nconst model = require('@tensorflow/tfjs').sequential({ layers: [L.dense({ units: 3, inputShape: [2], activation: 'relu' })] });\n",
  ];
  for (const text of styles) {
    const loaded = await loadTfjsSource(text, 'style.js');
    assert.deepEqual(loaded.problems, [], text);
    assert.deepEqual(summary(model(loaded, 'model')), ['dense 3 relu'], text);
    assert.deepEqual(model(loaded, 'model').inputShape, [2], text);
  }
});

test('6. functional tf.model chains give the sequential IR; graphs are refused at their position', async () => {
  const { result } = await loadFixture('functional_chain.ts');
  assert.deepEqual(result.problems, []);
  const functional = model(result, 'model');
  const sequential = model(
    await loadTfjsSource(
      "const tf = require('@tensorflow/tfjs');\nconst model = tf.sequential({ layers: [tf.layers.dense({ units: 16, activation: 'relu', inputShape: [8] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });\n",
      'same.js',
    ),
    'model',
  );
  const strip = (m: ModelSpec): unknown => ({ inputShape: m.inputShape, layers: m.layers.map(({ source: _source, ...layer }) => layer) });
  assert.deepEqual(strip(functional), strip(sequential));
  assert.deepEqual(summary(functional), ['dense 16 relu', 'dense 3 softmax']);

  const styles = await loadTfjsSource(
    [
      "import * as tf from '@tensorflow/tfjs';",
      'export function chained() {',
      '  const x = tf.input({ batchShape: [null, 10] });',
      "  const d = tf.layers.dense({ units: 4, activation: 'tanh' });",
      '  let h = d.apply(x) as tf.SymbolicTensor;',
      '  h = tf.layers.dropout({ rate: 0.1 }).apply(h) as tf.SymbolicTensor;',
      '  const y = tf.layers.dense({ units: 1 }).apply(tf.layers.dense({ units: 2 }).apply(h));',
      '  return tf.model({ inputs: [x], outputs: y });',
      '}',
      'export function merged() {',
      '  const x = tf.input({ shape: [10] });',
      '  const a = tf.layers.dense({ units: 4 }).apply(x);',
      '  const b = tf.layers.dense({ units: 4 }).apply(x);',
      '  const y = tf.layers.concatenate().apply([a, b]);',
      '  return tf.model({ inputs: x, outputs: y });',
      '}',
      'export function twoOutputs() {',
      '  const x = tf.input({ shape: [10] });',
      '  const a = tf.layers.dense({ units: 4 }).apply(x);',
      '  const b = tf.layers.dense({ units: 2 }).apply(x);',
      '  return tf.model({ inputs: x, outputs: [a, b] });',
      '}',
      'export function conditional(deep: boolean) {',
      '  const x = tf.input({ shape: [4] });',
      '  let h = tf.layers.dense({ units: 4 }).apply(x);',
      '  if (deep) h = tf.layers.dense({ units: 4 }).apply(h);',
      '  return tf.model({ inputs: x, outputs: h });',
      '}',
      '',
    ].join('\n'),
    'functional.ts',
  );
  const chained = model(styles, 'chained');
  assert.deepEqual(chained.inputShape, [10]);
  assert.deepEqual(summary(chained), ['dense 4 tanh', 'dropout linear', 'dense 2 linear', 'dense 1 linear']);
  const merge = refusal(styles, 'merged');
  assert.equal(merge.code, 'unsupported-layer');
  assert.equal(where(merge), '14:13');
  assert.match(merge.message, /`concatenate` merges branches of the graph; only single chains of layers can be diagnosed/);
  const outputs = refusal(styles, 'twoOutputs');
  assert.equal(outputs.code, 'unsupported-layer');
  assert.equal(where(outputs), '21:41');
  assert.match(outputs.message, /it has 2 outputs; only single-input, single-output chains of layers can be diagnosed/);
  const branch = refusal(styles, 'conditional');
  assert.equal(branch.code, 'parse-error');
  assert.equal(where(branch), '27:41');
  assert.match(branch.message, /the tensor `h` is assigned more than once, and its assignment at line 26 is not in the same block as its use/);
});

test('7. empty and whitespace-only files say so, in the format of their extension', async () => {
  for (const [name, format] of [
    ['empty.js', 'tfjs-source'],
    ['blank.ts', 'tfjs-source'],
    ['empty.py', 'keras-python'],
    ['empty.json', 'tfjs-json'],
  ] as const) {
    for (const text of ['', '  \n\t\n']) {
      const result = await loadModelFile(text, name);
      assert.equal(result.format, format, name);
      assert.deepEqual(result.models, []);
      assert.equal(result.problems.length, 1);
      assert.equal(result.problems[0].code, 'parse-error');
      assert.match(result.problems[0].message, /the file is empty/);
      assert.equal(where(result.problems[0]), '1:1');
    }
  }
  const direct = await loadTfjsSource('\n\n', 'blank.js');
  assert.equal(direct.format, 'tfjs-source');
  assert.match(direct.problems[0].message, /the file is empty/);
});

test('a syntax error in an added layer refuses the model instead of training what error recovery left', async () => {
  const text = [
    "const tf = require('@tensorflow/tfjs');",
    'const model = tf.sequential();',
    "model.add(tf.layers.dense({units: 32, activation: 'relu', inputShape: [10]}));",
    "model.add(tf.layers.dense({units: 32, activation: 'relu'});",
    'model.add(tf.layers.dense({units: 1}));',
  ].join('\n');
  const result = await loadTfjsSource(text, 'broken.js');
  const problem = refusal(result, 'model');
  assert.equal(problem.code, 'parse-error');
  assert.match(problem.message, /a layer added to it contains a syntax error/);
  assert.equal(where(problem), '4:1');
  assert.ok(result.problems.some((p) => /missing `\)`/.test(p.message) && p.span.start.line === 4), JSON.stringify(result.problems));
});

test('React components: a model built in a .tsx or .jsx file next to JSX markup loads', async () => {
  const component = (typed: boolean) => [
    "import * as tf from '@tensorflow/tfjs';",
    "import { useEffect, useState } from 'react';",
    `export function Trainer(${typed ? 'props: { units: number }' : 'props'}) {`,
    `  const [status, setStatus] = useState${typed ? '<string>' : ''}('idle');`,
    '  useEffect(() => {',
    '    const model = tf.sequential();',
    "    model.add(tf.layers.dense({ units: 16, activation: 'tanh', inputShape: [4] }));",
    "    model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));",
    "    setStatus('built');",
    '  }, []);',
    '  return <div className="status">{status}</div>;',
    '}',
  ].join('\n');
  for (const [file, typed] of [['Trainer.tsx', true], ['Trainer.jsx', false]] as const) {
    const result = await loadModelFile(component(typed), file);
    assert.equal(result.format, 'tfjs-source', file);
    assert.deepEqual(result.problems, [], `${file}: ${JSON.stringify(result.problems.map((p) => p.message))}`);
    assert.deepEqual(summary(model(result, 'model')), ['dense 16 tanh', 'dense 3 softmax'], file);
  }
});

test('8. loops with a static trip count are unrolled: counted, for-of, nested and forEach; each layer keeps the span in the loop', async () => {
  const { text, result } = await loadFixture('loops.js');
  assert.deepEqual(result.problems, []);
  const deep = model(result, 'deep');
  assert.deepEqual(deep.inputShape, [64]);
  assert.deepEqual(summary(deep), ['dense 128 sigmoid', ...Array<string>(8).fill('dense 128 sigmoid'), 'dense 10 softmax']);
  assert.deepEqual(
    deep.layers.map((l) => l.source.span.start.line),
    [8, 10, 10, 10, 10, 10, 10, 10, 10, 12],
  );
  assert.equal(new Set(deep.layers.map((l) => l.name)).size, 10, 'unrolled layers get distinct names');

  assert.deepEqual(summary(model(result, 'tapered')), ['dense 512 relu', 'dense 256 relu', 'dense 128 relu', 'dense 64 relu', 'dense 1 linear']);
  // `16 * (block + j)` and `j === 0 ? 'relu' : 'tanh'` per iteration of both loops; `rate: 0.1 * block` in the outer one.
  const grown = model(result, 'grown');
  assert.deepEqual(summary(grown), ['dense 16 linear', 'dense 16 relu', 'dense 48 tanh', 'dropout linear', 'dense 32 relu', 'dense 64 tanh', 'dropout linear', 'dense 2 softmax']);
  assert.deepEqual(grown.layers.filter((l) => l.kind === 'dropout').map((l) => l.rate), [0.1, 0.2]);
  assert.deepEqual(summary(model(result, 'each')), ['dense 8 linear', 'dense 32 elu', 'dense 17 elu', 'dense 1 linear']);

  // A fix to one unrolled layer edits the call in the loop once, which changes all of them.
  const edits = activationSwapEdits(text, deep, 3, { activation: { name: 'relu' } });
  assert.ok(Array.isArray(edits), JSON.stringify(edits));
  assert.equal(edits.length, 1);
  const fixed = applyEdits(text, edits);
  assert.match(fixed, /for \(let i = 0; i < HIDDEN; i\+\+\) \{\n {2}deep\.add\(tf\.layers\.dense\(\{ units: 128, activation: 'relu' \}\)\);/);
  const reloaded = model(await loadTfjsSource(fixed, 'loops.js'), 'deep');
  assert.deepEqual(summary(reloaded), ['dense 128 sigmoid', ...Array<string>(8).fill('dense 128 relu'), 'dense 10 softmax']);
});

test('9. loops only known at run time stay refused at the add; loops beyond the budgets are refused at their bound, quickly', async () => {
  const started = Date.now();
  const { result } = await loadFixture('loops_refused.js');
  assert.ok(Date.now() - started < 5_000, 'a huge bound is refused without running the loop');
  assert.deepEqual(result.models, []);
  const runtime = /layers are added inside a loop, condition or callback, which is only known at run time\./;
  // The bound is a parameter of `build`.
  assert.match(refusal(result, 'byParameter').message, runtime);
  assert.equal(where(refusal(result, 'byParameter')), '6:35');
  assert.equal(where(refusal(result, 'whileLoop')), '14:3');
  assert.match(refusal(result, 'whileLoop').message, runtime);
  assert.equal(where(refusal(result, 'conditional')), '21:28');
  assert.match(refusal(result, 'conditional').message, runtime);
  // `break` decides at run time how many layers are added.
  assert.equal(where(refusal(result, 'stopped')), '27:3');
  assert.match(refusal(result, 'stopped').message, runtime);
  const huge = refusal(result, 'huge');
  assert.equal(huge.code, 'parse-error');
  assert.match(huge.message, /runs 1,000,000,000,000 times, more than the 400,000 steps of static evaluation/);
  assert.equal(where(huge), '33:17');
  assert.match(refusal(result, 'endless').message, /never becomes false/);
  assert.equal(where(refusal(result, 'endless')), '37:17');
  const tooDeep = refusal(result, 'tooDeep');
  assert.match(tooDeep.message, /more than the 2,000 layers per model/);
  assert.equal(where(tooDeep), '41:32');
});

test('10. a loop bound from a const counts down; a reassigned bound or a loop variable written in the body is refused', async () => {
  const loaded = await loadTfjsSource(
    `${TF}const DEPTH = 2 + 1;\nconst m = tf.sequential();\nm.add(tf.layers.dense({ units: 4, inputShape: [2] }));\nfor (let i = DEPTH; i > 0; i--) m.add(tf.layers.dense({ units: 4 * i }));\n` +
      `let depth = 3;\ndepth = 4;\nconst r = tf.sequential();\nr.add(tf.layers.dense({ units: 4, inputShape: [2] }));\nfor (let i = 0; i < depth; i++) r.add(tf.layers.dense({ units: 4 }));\n` +
      `const w = tf.sequential();\nw.add(tf.layers.dense({ units: 4, inputShape: [2] }));\nfor (let i = 0; i < 3; i++) { i++; w.add(tf.layers.dense({ units: 4 })); }\n`,
    'bound.js',
  );
  assert.deepEqual(summary(model(loaded, 'm')), ['dense 4 linear', 'dense 12 linear', 'dense 8 linear', 'dense 4 linear']);
  // `depth` is assigned again; `i` is written in the body: both only known at run time.
  assert.equal(where(refusal(loaded, 'r')), '10:33');
  assert.equal(where(refusal(loaded, 'w')), '13:36');
});
