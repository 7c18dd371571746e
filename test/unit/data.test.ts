/**
 * The user's data: readers (CSV/TSV, .npy, .npz, JSON) with their bad-input messages and the
 * row cap, input statistics against hand-computed values, the data comment, and the scenario
 * end to end: pixel-like 0–255 inputs into a sigmoid MLP saturate it, and standardising (verified
 * by retraining) removes the finding.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dump } from 'npyjs';
import { zipSync } from 'fflate';
import { detectDelimiter, isDataError, readDataset, sampleShapeMismatch, type Dataset, type DataError } from '../../src/core/data/dataset';
import { findDataDirective } from '../../src/core/data/directive';
import { evaluateInput, featureStats, summarizeInput, transformFeatures } from '../../src/core/analysis/inputStats';
import { mlp } from '../helpers/specs';
import { DEFAULT_THRESHOLDS } from '../../src/core/analysis/types';

const ROOT = path.join(__dirname, '..', '..');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'al-data-'));
after(() => fs.rmSync(DIR, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = path.join(DIR, name);
  fs.writeFileSync(file, content);
  return file;
}

async function ok(file: string, options = {}): Promise<Dataset> {
  const result = await readDataset(file, options);
  assert.ok(!isDataError(result), JSON.stringify(result));
  return result;
}

async function fails(file: string, options = {}): Promise<DataError> {
  const result = await readDataset(file, options);
  assert.ok(isDataError(result), 'expected an error');
  return result;
}

/** Seeded LCG so fixtures are the same every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647);
}

test('CSV with a header: the target found by name, features in order', async () => {
  const d = await ok(write('a.csv', 'x1,label,x2\n1,0,2\n3,1,4\n5,2,6\n'));
  assert.equal(d.rows, 3);
  assert.equal(d.features, 2);
  assert.deepEqual(d.columns, ['x1', 'x2']);
  assert.equal(d.targetColumn, 'label');
  assert.deepEqual(Array.from(d.x), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(d.y ?? []), [0, 1, 2]);
});

test('CSV without a header uses the last column; --target picks another; TSV and text labels', async () => {
  const noHeader = await ok(write('b.csv', '1,2,0\n3,4,1\n'));
  assert.deepEqual(Array.from(noHeader.y ?? []), [0, 1]);
  assert.equal(noHeader.targetColumn, 'f2');
  const named = await ok(write('c.csv', 'a,b,c\n1,2,3\n4,5,6\n'), { target: 'a' });
  assert.deepEqual(Array.from(named.y ?? []), [1, 4]);
  assert.deepEqual(Array.from(named.x), [2, 3, 5, 6]);
  const tsv = await ok(write('d.tsv', 'f\tclass\n0.5\tcat\n1.5\tdog\n2.5\tcat\n'));
  assert.deepEqual(Array.from(tsv.y ?? []), [0, 1, 0]);
  assert.deepEqual(tsv.classNames, ['cat', 'dog']);
});

test('bad CSV input: a clear message with a position', async () => {
  assert.deepEqual(await fails(write('ragged.csv', 'a,b,label\n1,2,0\n3,0\n')), { error: 'row has 2 cells but the header has 3 (ragged rows)', line: 3, column: 1 });
  const nonNumeric = await fails(write('text.csv', 'a,b,label\n1,2,0\n3,oops,1\n'));
  assert.equal(nonNumeric.line, 3);
  assert.equal(nonNumeric.column, 2);
  assert.match(nonNumeric.error, /non-numeric value "oops" in column "b"/);
  const nan = await fails(write('nan.csv', 'a,b,label\n1,NaN,0\n'));
  assert.match(nan.error, /missing or NaN value in column "b"/);
  assert.equal(nan.line, 2);
  assert.match((await fails(write('empty.csv', ''))).error, /is empty/);
  assert.match((await fails(write('header-only.csv', 'a,b,label\n'))).error, /no data rows/);
  assert.match((await fails(path.join(DIR, 'missing.csv'))).error, /no such file/);
  assert.match((await fails(write('t.csv', 'a,b\n1,2\n'), { target: 'nope' })).error, /target column "nope" not found/);
});

test('the row cap: only the first rows are read, and nothing after them', async () => {
  // Rows after the cap are malformed: reading them would fail, so success shows they were not read.
  const lines = ['a,b,label', ...Array.from({ length: 10 }, (_, i) => `${i},${i},0`), 'this,row,is,ragged', 'x,y,z'];
  const d = await ok(write('capped.csv', lines.join('\n')), { maxRows: 10 });
  assert.equal(d.rows, 10);
  assert.equal(d.truncated, true);
  const big = ['a,b,label', ...Array.from({ length: 50_000 }, (_, i) => `${i % 7},${i % 5},${i % 3}`)].join('\n');
  const capped = await ok(write('big.csv', big), { maxRows: 1000 });
  assert.equal(capped.rows, 1000);
  assert.equal(capped.x.length, 2000);
});

test('NumPy .npy and .npz (x and y arrays) and JSON layouts', async () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const npy = write('x.npy', new Uint8Array(dump(x, [3, 2])));
  const d = await ok(npy);
  assert.deepEqual([d.rows, d.features, d.y], [3, 2, undefined]);
  const npz = write('xy.npz', zipSync({ 'x.npy': new Uint8Array(dump(x, [3, 2])), 'y.npy': new Uint8Array(dump(new Int32Array([0, 1, 1]), [3])) }));
  const z = await ok(npz);
  assert.deepEqual(Array.from(z.y ?? []), [0, 1, 1]);
  assert.equal(z.targetWidth, 1);
  assert.equal(z.targetColumn, 'y', 'the target array is named in the report');
  const missing = await readDataset(npz, { target: 'labels2' });
  assert.ok(isDataError(missing) && /xy\.npz has no array named labels2 \(it holds x, y\)/.test(missing.error), JSON.stringify(missing));
  const capped = await ok(npz, { maxRows: 2 });
  assert.deepEqual([capped.rows, capped.truncated, Array.from(capped.x)], [2, true, [1, 2, 3, 4]]);
  const arrays = await ok(write('rows.json', '[[1, 2, 0], [3, 4, 1]]'));
  assert.deepEqual([Array.from(arrays.x), Array.from(arrays.y ?? [])], [[1, 2, 3, 4], [0, 1]]);
  const objects = await ok(write('objs.json', '[{"a": 1, "target": 1, "b": 2}, {"a": 3, "target": 0, "b": 4}]'));
  assert.deepEqual([objects.columns, Array.from(objects.y ?? [])], [['a', 'b'], [1, 0]]);
  const xy = await ok(write('xy.json', '{"x": [[1, 2], [3, 4]], "y": [1, 0]}'));
  assert.deepEqual(Array.from(xy.y ?? []), [1, 0]);
  const bad = await fails(write('bad.json', '[[1, 2],\n [3, "x"]]'));
  assert.match(bad.error, /rows\[1\] holds a non-numeric/);
  const broken = await fails(write('broken.json', '[[1, 2],\n [3, 4'));
  assert.match(broken.error, /invalid JSON/);
  const ragged = await fails(write('ragged.json', '[[1, 2, 3], [3, 4]]'));
  assert.match(ragged.error, /ragged/);
});

test('input statistics match hand-computed moments; transforms standardise and scale', () => {
  // One feature: 1, 2, 3, 10 → mean 4, variance (9+4+1+36)/4 = 12.5.
  const x = new Float32Array([1, 2, 3, 10]);
  const [s] = featureStats(x, 4, 1, ['v']);
  assert.equal(s.mean, 4);
  assert.ok(Math.abs(s.std - Math.sqrt(12.5)) < 1e-9);
  // skewness = E[d³]/σ³ = ((-27 - 8 - 1 + 216)/4) / 12.5^1.5
  assert.ok(Math.abs(s.skewness - 45 / 12.5 ** 1.5) < 1e-9);
  // excess kurtosis = E[d⁴]/σ⁴ − 3 = ((81 + 16 + 1 + 1296)/4) / 156.25 − 3
  assert.ok(Math.abs(s.excessKurtosis - (348.5 / 156.25 - 3)) < 1e-9);
  const z = transformFeatures(x, 4, 1, [s], 'standardize');
  const [zs] = featureStats(z, 4, 1, ['z']);
  assert.ok(Math.abs(zs.mean) < 1e-6 && Math.abs(zs.std - 1) < 1e-6);
  const u = transformFeatures(x, 4, 1, [s], 'scaleToUnitRange');
  assert.deepEqual([Math.min(...u), Math.max(...u)], [-1, 1]);
  const summary = summarizeInput([s, { ...s, name: 'const', std: 0, mean: 0 }], 4, DEFAULT_THRESHOLDS);
  assert.equal(summary.constantFeatures, 1);
  assert.equal(summary.worst[0].name, 'v');
});

test('spreadsheet exports: a UTF-8 BOM, semicolons with decimal commas, and a tab-separated file with a .csv name', async () => {
  const bomSemicolon = await ok(write('excel.csv', '\ufefflabel;a;b\n1;1,5;-0,25\n0;2;3,0\n'), { target: 'label' });
  assert.deepEqual(bomSemicolon.columns, ['a', 'b']);
  assert.equal(bomSemicolon.targetColumn, 'label');
  assert.deepEqual(Array.from(bomSemicolon.x), [1.5, -0.25, 2, 3]);
  assert.deepEqual(Array.from(bomSemicolon.y ?? []), [1, 0]);
  const tabs = await ok(write('tabs.csv', 'a\tb\tlabel\n1\t2\t0\n'));
  assert.deepEqual([tabs.columns, Array.from(tabs.x)], [['a', 'b'], [1, 2]]);
  assert.equal(detectDelimiter('a,b,c'), ',');
  assert.equal(detectDelimiter('x'), ',');
});

test('image arrays: (N, 28, 28) feeds a (28, 28, 1) model; a channels-first (N, 3, 32, 32) array is refused for (32, 32, 3)', async () => {
  const grey = await ok(write('grey.npy', new Uint8Array(dump(new Float32Array(2 * 28 * 28), [2, 28, 28]))));
  assert.deepEqual(grey.sampleShape, [28, 28]);
  assert.equal(sampleShapeMismatch(grey.sampleShape, [28, 28, 1]), undefined);
  const chw = await ok(write('chw.npy', new Uint8Array(dump(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]))));
  assert.match(sampleShapeMismatch(chw.sampleShape, [32, 32, 3]) ?? '', /samples have shape \[3, 32, 32\] but the model's input shape is \[32, 32, 3\]: the array is channels-first/);
  assert.match(sampleShapeMismatch([4, 8], [8, 4]) ?? '', /reshape the array/);
  assert.equal(sampleShapeMismatch(undefined, [32, 32, 3]), undefined, 'flat rows (CSV) are reshaped as before');
});

test('a constant non-zero feature is an info finding; constant zeros (e.g. image borders) are not', () => {
  const model = mlp(3, [{ units: 4, activation: 'relu' }, { units: 2, activation: 'softmax' }]);
  const scaled = { name: 'a', mean: 0.1, std: 1, min: -2, max: 2, skewness: 0, excessKurtosis: 0 };
  const constantHalf = { ...scaled, name: 'f1', mean: 0.5, std: 0, min: 0.5, max: 0.5 };
  const constantZero = { ...scaled, name: 'border', mean: 0, std: 0, min: 0, max: 0 };
  const finding = evaluateInput(model, summarizeInput([scaled, constantHalf, constantZero], 10, DEFAULT_THRESHOLDS), DEFAULT_THRESHOLDS);
  assert.equal(finding?.code, 'input-not-normalized');
  assert.equal(finding?.severity, 'info');
  assert.match(finding?.message ?? '', /Constant input feature: f1 = 0\.5 \(2 constant features in all\)/);
  assert.equal(evaluateInput(model, summarizeInput([scaled, constantZero], 10, DEFAULT_THRESHOLDS), DEFAULT_THRESHOLDS), undefined);
});

test('the data comment above a model (or on its line) is found; others are not', () => {
  const text = 'import keras\n# A model\n# activation-lens: data="my data.csv" target=label\nmodel = keras.Sequential([])\n\nother = 1  # activation-lens: data=x.npz\n';
  assert.deepEqual(findDataDirective(text, 4), { data: 'my data.csv', target: 'label', line: 3 });
  assert.deepEqual(findDataDirective(text, 6), { data: 'x.npz', target: undefined, line: 6 });
  assert.equal(findDataDirective('x = 1\nmodel = 2\n', 2), undefined);
  assert.equal(findDataDirective('# activation-lens: data=a.csv\nx = 1\nmodel = 2\n', 3), undefined, 'only the block directly above');
});

function pixelCsv(rows: number, standardized: boolean): string {
  const r = rng(7);
  const header = ['label', ...Array.from({ length: 32 }, (_, i) => `p${i}`)].join(',');
  const body = Array.from({ length: rows }, () => {
    const pixels = Array.from({ length: 32 }, () => (standardized ? ((r() * 256 - 127.5) / 74).toFixed(4) : Math.floor(r() * 256)));
    return [Math.floor(r() * 10), ...pixels].join(',');
  });
  return [header, ...body].join('\n');
}

const MODEL = (data: string) => `from tensorflow import keras
# activation-lens: data=${data} target=label
model = keras.Sequential([
    keras.Input(shape=(32,)),
    keras.layers.Dense(32, activation="sigmoid"),
    keras.layers.Dense(32, activation="sigmoid"),
    keras.layers.Dense(10, activation="softmax"),
])
`;

// The CLI's JSON, read loosely: the contract test (cli.test.ts) checks its shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function diagnose(args: string[]): { code: number | null; json: { models: Json[] }; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/activation-lens.js'), 'diagnose', ...args, '--json', '--steps', '40'], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, json: r.stdout ? JSON.parse(r.stdout) : { models: [] }, stderr: r.stderr };
}

test('pixel-like 0–255 inputs into a sigmoid MLP: input and saturation findings; standardising fixes both, verified', () => {
  write('pixels.csv', pixelCsv(600, false));
  const model = write('pixels_model.py', MODEL('pixels.csv'));
  const { json } = diagnose([model]);
  const m = json.models[0];
  assert.equal(m.data.file, path.join(DIR, 'pixels.csv'));
  assert.equal(m.data.source, 'comment');
  assert.equal(m.data.rows, 600);
  const codes = m.findings.map((f: { code: string }) => f.code);
  assert.ok(codes.includes('input-not-normalized'), codes.join());
  const sat = m.findings.find((f: { code: string }) => f.code === 'saturated-activation');
  assert.ok(sat, codes.join());
  const standardize = sat.suggestions.find((s: { id: string }) => s.id === 'standardize-inputs');
  assert.equal(standardize?.verified?.improved, true, JSON.stringify(sat.suggestions));
  const input = m.findings.find((f: { code: string }) => f.code === 'input-not-normalized');
  assert.equal(input.suggestions[0].verified.improved, true);
  assert.ok(input.metrics.worstMean > 100);
});

test('standardised data: no input finding', () => {
  write('standard.csv', pixelCsv(600, true));
  const model = write('standard_model.py', MODEL('standard.csv'));
  const { json } = diagnose([model, '--no-verify']);
  const codes = json.models[0].findings.map((f: { code: string }) => f.code);
  assert.ok(!codes.includes('input-not-normalized'), codes.join());
});

test('a shape mismatch names both shapes; a bad data file is reported with its position; both exit 2', () => {
  const data = write('wide.csv', pixelCsv(50, true));
  const { code, json } = diagnose([path.join(ROOT, 'examples/healthy_relu.py'), '--data', data]);
  assert.equal(code, 2);
  assert.equal(json.models[0].error.kind, 'data');
  assert.match(json.models[0].error.message, /32 features per row but the model's input shape \[784\] needs 784/);
  const ragged = write('ragged2.csv', 'a,label\n1,0\n2\n');
  const r = diagnose([path.join(ROOT, 'examples/healthy_relu.py'), '--data', ragged]);
  assert.equal(r.code, 2);
  assert.match(r.json.models[0].error.message, /ragged2\.csv:3:1: row has 1 cells but the header has 2/);
  const labels = write('labels.csv', ['label,' + Array.from({ length: 784 }, (_, i) => `p${i}`).join(','), '12,' + Array(784).fill(0).join(',')].join('\n'));
  const l = diagnose([path.join(ROOT, 'examples/healthy_relu.py'), '--data', labels]);
  assert.match(l.json.models[0].error.message, /Target of row 1 is 12, not a class index in 0…9/);
});
