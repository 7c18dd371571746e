/**
 * Where a syntax error is reported: tree-sitter wraps what it cannot read in an ERROR node that
 * often starts far before the mistake (a whole class when a `def` lacks its colon), so the
 * message names the place Python or JavaScript would: the unclosed bracket, the end of a clause
 * header with no `:`, or the token that is missing — never the start of the ERROR.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelFile } from '../../src/core/parse/index';
import type { LoadProblem } from '../../src/core/model';

const TORCH_HEADER = ['import torch', 'import torch.nn as nn', ''];

async function firstSyntaxProblem(lines: readonly string[], fileName: string): Promise<LoadProblem> {
  const result = await loadModelFile(lines.join('\n'), fileName);
  const problem = result.problems.find((candidate) => /syntax error near line/i.test(candidate.message));
  assert.ok(problem, `a syntax error is reported; got: ${result.problems.map((p) => p.message).join(' | ')}`);
  assert.equal(problem.code, 'parse-error');
  return problem;
}

function at(problem: LoadProblem): string {
  return `${problem.span.start.line}:${problem.span.start.column}`;
}

test('a def without its colon is reported at the end of its header, not at the start of the class', async () => {
  const problem = await firstSyntaxProblem(
    [...TORCH_HEADER, 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc = nn.Linear(4, 2)', '', '    def forward(self, x)', '        return self.fc(x)', ''],
    'net.py',
  );
  assert.equal(at(problem), '9:25');
  assert.match(problem.message, /^Python syntax error near line 9, column 25: missing `:` at the end of this `def` line\.$/);
});

test('an if without its colon is reported on its own line even when the next line is indented', async () => {
  const problem = await firstSyntaxProblem(['from tensorflow import keras', 'if True', '    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])', ''], 'build.py');
  assert.equal(at(problem), '2:8');
  assert.match(problem.message, /missing `:` at the end of this `if` line/);
});

test('a header in brackets may span lines: the missing colon is after the closing bracket', async () => {
  const problem = await firstSyntaxProblem(
    [...TORCH_HEADER, 'class Net(nn.Module):', '    def __init__(self,', '                 hidden=8)', '        super().__init__()', '        self.fc = nn.Linear(4, hidden)', ''],
    'net.py',
  );
  assert.equal(at(problem), '6:27');
  assert.match(problem.message, /missing `:` at the end of this `def` line/);
});

test('a bracket never closed is reported where it opens', async () => {
  const problem = await firstSyntaxProblem(
    [...TORCH_HEADER, 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc = nn.Sequential(nn.Linear(4, 2), nn.ReLU()', '', '    def forward(self, x):', '        return self.fc(x)', ''],
    'net.py',
  );
  assert.equal(at(problem), '7:32');
  assert.match(problem.message, /`\(` is opened here and never closed/);
});

test('a JavaScript call missing its `)` names the `(` it should close', async () => {
  const problem = await firstSyntaxProblem(
    ["import * as tf from '@tensorflow/tfjs';", 'const model = tf.sequential();', 'model.add(tf.layers.dense({units: 4, inputShape: [3]});', 'model.add(tf.layers.dense({units: 1}));', ''],
    'model.js',
  );
  assert.match(problem.message, /^Syntax error near line 3, column \d+: missing `\)` to close the `\(` at line 3, column 10\.$/);
  assert.equal(problem.span.start.line, 3);
});
