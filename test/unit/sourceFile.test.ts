/**
 * The parse step every source loader shares: Python files that Python itself would refuse for
 * their indentation are refused with the position, and legal layouts (one-line blocks, `;`,
 * comments at any indentation, continuation lines) are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelFile } from '../../src/core/parse/index';

const TORCH = (body: string) => ['import torch.nn as nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', body, '', '    def forward(self, x):', '        return self.fc2(self.fc1(x))', ''].join('\n');

test('an unexpected indent refuses the file with its position (Python raises IndentationError)', async () => {
  const text = TORCH('        self.fc1 = nn.Linear(10, 20)\n          self.fc2 = nn.Linear(20, 1)');
  const result = await loadModelFile(text, 'net.py');
  assert.equal(result.models.length, 0);
  assert.equal(result.problems.length, 1);
  const [problem] = result.problems;
  assert.equal(problem.code, 'parse-error');
  assert.deepEqual([problem.span.start.line, problem.span.start.column], [7, 11]);
  assert.match(problem.message, /Python indentation error at line 7, column 11/);
});

test('legal Python layouts are not mistaken for indentation errors', async () => {
  const body = [
    '        self.fc1 = nn.Linear(10,',
    '                             20)  # a continuation line',
    '  # a comment at another indentation',
    '        self.fc2 = nn.Linear(20, 1); self.scale = 2',
    '        if True: self.extra = 1',
  ].join('\n');
  const result = await loadModelFile(TORCH(body), 'net.py');
  assert.deepEqual(result.problems.filter((p) => /indentation/.test(p.message)), []);
  assert.equal(result.models.length, 1, JSON.stringify(result.problems));
});
