/** Issue 15: Jupyter notebooks read as their code cells, with positions in cells (core and CLI). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModelFile } from '../../src/core/parse';
import { cellPosition, cellSpan, readNotebook } from '../../src/core/parse/notebook';
import { REPO_ROOT, runCliProcess } from '../helpers/cliProcess';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'notebooks');
const read = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const notebook = (cells: { cell_type: string; source: string | string[] }[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { language: 'python' } }, cells: cells.map((c) => ({ metadata: {}, outputs: [], ...c })), ...extra });

test('code cells join in order as one program; magics and shell lines are blanked in place; markdown is skipped', () => {
  const text = notebook([
    { cell_type: 'code', source: ['%matplotlib inline\n', 'import keras\n'] },
    { cell_type: 'markdown', source: '# Title' },
    { cell_type: 'code', source: '!pip install x\nn = 3' },
  ]);
  const result = readNotebook(text, 'a.ipynb');
  assert.ok(!('code' in result));
  assert.equal(result.program, `${' '.repeat(18)}\nimport keras\n\n${' '.repeat(14)}\nn = 3`);
  assert.deepEqual(result.cells.map((c) => [c.index, c.start]), [[0, 0], [2, 33]]);
  // Offsets inside a cell are the same in the program and in the cell.
  const at = result.program.indexOf('n = 3');
  assert.deepEqual((({ line, column, offset }) => ({ cell: cellPosition(result.cells, at).cell.index, line, column, offset }))(cellPosition(result.cells, at)), { cell: 2, line: 2, column: 1, offset: 15 });
  const span = cellSpan(result.cells, { start: { line: 0, column: 0, offset: at }, end: { line: 0, column: 0, offset: at + 5 } });
  assert.equal(span.cell.source.slice(span.span.start.offset, span.span.end.offset), 'n = 3');
});

test('a notebook the product cannot read says why', () => {
  const why = (text: string) => {
    const r = readNotebook(text, 'n.ipynb');
    assert.ok('code' in r, 'expected a problem');
    return r.message;
  };
  assert.match(why('{ not json'), /JSON is malformed/);
  assert.match(why(JSON.stringify({ nbformat: 3, worksheets: [] })), /not a Jupyter notebook in nbformat 4 \(it is nbformat 3\)/);
  assert.match(why(notebook([{ cell_type: 'code', source: 'x <- 1' }], { metadata: { kernelspec: { language: 'R' } } })), /runs a R kernel; Activation Lens reads the Python code/);
  assert.match(why(notebook([{ cell_type: 'markdown', source: 'only text' }])), /no code cells/);
});

test('a Keras course notebook: Sequential built with add across cells, layer positions in their cells', async () => {
  const loaded = await loadModelFile(read('keras_course.ipynb'), 'keras_course.ipynb');
  assert.deepEqual(loaded.problems, []);
  assert.ok(loaded.cells);
  const [model] = loaded.models;
  assert.equal(model.format, 'keras-python');
  assert.deepEqual(model.layers.map((l) => l.units), [64, 64, 64, 64, 64, 64, 64, 64, 10]);
  const first = cellSpan(loaded.cells, model.layers[0].source.span);
  assert.equal(first.cell.index, 5);
  assert.equal(first.span.start.line, 2);
  assert.equal(first.cell.source.slice(first.span.start.offset, first.span.end.offset), 'layers.Dense(hidden, activation="sigmoid")');
  assert.equal(model.training?.optimizer?.name, 'sgd');
  assert.equal(cellSpan(loaded.cells, model.training!.optimizer!.span).cell.index, 6);
});

test('a PyTorch course notebook: nn.Module with F.relu in forward, its loss and optimiser from a later cell', async () => {
  const loaded = await loadModelFile(read('torch_course.ipynb'), 'torch_course.ipynb');
  const [model] = loaded.models;
  assert.equal(model.format, 'pytorch-python');
  assert.deepEqual(model.layers.map((l) => `${l.kind} ${l.activation.name}`), ['dense linear', 'activation relu', 'dense linear']);
  assert.deepEqual(model.layers[0].biasInitializer, { name: 'constant', value: -4 });
  assert.deepEqual([model.training?.loss?.kind, model.training?.loss?.input, model.training?.optimizer?.name], ['categoricalCrossentropy', 'logits', 'adam']);
  const relu = cellSpan(loaded.cells!, model.layers[1].source.span);
  assert.deepEqual([relu.cell.index, relu.span.start.line], [2, 9]);
});

test('the CLI diagnoses notebooks with positions as cell and line, in text and JSON, and refuses others with the reason', async () => {
  const file = path.join(FIXTURES, 'torch_course.ipynb');
  const json = await runCliProcess(['diagnose', file, '--json', '--no-verify', '--steps', '30'], { timeoutMs: 120_000 });
  assert.equal(json.exitCode, 1, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.notebook, true);
  const dead = doc.models[0].findings.find((f: { code: string }) => f.code === 'dead-relu');
  assert.ok(dead, json.stdout.slice(0, 2000));
  assert.deepEqual([dead.cell, dead.line, dead.column], [3, 9, 13]);
  assert.equal(doc.models[0].cell, 3);
  const text = await runCliProcess(['diagnose', file, '--no-verify', '--steps', '30'], { timeoutMs: 120_000 });
  assert.match(text.stdout, /torch_course\.ipynb cell 3:9:13: error dead-relu/);
  assert.match(text.stdout, /Trained with Adam lr 0\.001 \(the file, cell 4, line 4\)/);
  const refused = await runCliProcess(['diagnose', path.join(FIXTURES, 'nbformat3.ipynb')], { timeoutMs: 60_000 });
  assert.equal(refused.exitCode, 2);
  assert.match(refused.stderr, /nbformat3\.ipynb:1:1: parse-error: .*not a Jupyter notebook in nbformat 4/);
});
