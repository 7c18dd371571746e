/**
 * [issue 12] A model whose input shape is known only at run time: the problem gets a Quick Fix
 * that asks for the shape, writes the `activation-lens: input_shape=` comment above the model and
 * diagnoses again, and the model then trains.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DiagnoseOutcome } from '../../src/vscode/analysisService';
import { api, codeActions, diagnoseDone, fixtureUri, open, ours, waitFor } from './helpers';

const FIXTURE = 'torch_conv_shape.py';

suite('Input shape Quick Fix', () => {
  suiteSetup(async () => {
    await api();
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('input shape: the Quick Fix asks for it, writes the comment above the model, and the model then trains', async () => {
    const editor = await open(FIXTURE);
    const uri = fixtureUri(FIXTURE);
    const first = await diagnoseDone(uri);
    assert.equal(first.result.loaded.models.length, 0, 'without the comment the model cannot be read');
    const problem = await waitFor('the input-shape problem', () => ours(uri), (ds) => ds.some((d) => /input_shape=/.test(d.message)));
    const diagnostic = problem.find((d) => /input_shape=/.test(d.message))!;
    assert.equal(diagnostic.range.start.line, editor.document.getText().split('\n').findIndex((l) => l.startsWith('class SmallCNN')), 'the problem is on the class line');

    const actions = await codeActions(uri, diagnostic.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title.includes('set the input shape'));
    assert.ok(fix?.command, `no input-shape action among: ${actions.map((a) => a.title).join(' | ')}`);
    assert.equal(fix.command.command, 'activationLens.setInputShape');
    // The answer the input box would return (an answer the box would refuse is refused too).
    const refused = await vscode.commands.executeCommand<DiagnoseOutcome | undefined>(fix.command.command, ...(fix.command.arguments ?? []), '28, -1');
    assert.equal(refused, undefined);
    assert.doesNotMatch(editor.document.getText(), /input_shape=\(/);
    const outcome = await vscode.commands.executeCommand<DiagnoseOutcome | undefined>(fix.command.command, ...(fix.command.arguments ?? []), '(1, 28, 28)');

    const lines = editor.document.getText().split('\n');
    const classLine = lines.findIndex((l) => l.startsWith('class SmallCNN'));
    assert.equal(lines[classLine - 1], '# activation-lens: input_shape=(1, 28, 28)');
    assert.ok(outcome && outcome.status === 'done', `the second diagnosis did not finish: ${JSON.stringify(outcome).slice(0, 300)}`);
    assert.equal(outcome.result.loaded.models.length, 1);
    // The reader holds shapes channels last, as the trainer does: (C, H, W) = (1, 28, 28) is [28, 28, 1].
    assert.deepEqual(outcome.result.loaded.models[0].inputShape, [28, 28, 1]);
    assert.equal(outcome.result.trained, true);
    assert.ok(outcome.result.diagnosis.models[0].stats, 'the model trained');
    assert.equal(outcome.result.diagnosis.models[0].error, undefined);
    await waitFor('the problem to go', () => ours(uri), (ds) => !ds.some((d) => /input_shape=/.test(d.message)));
  });
});
