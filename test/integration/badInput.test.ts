/** Bad input and interruptions: unsupported files, syntax errors, cancel, restart, a killed trainer. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DiagnoseOutcome } from '../../src/vscode/analysisService';
import { api, codeOf, diagnose, diagnoseDone, open, ours, waitFor } from './helpers';

suite('Bad input and interruptions', () => {
  suiteSetup(async () => {
    await api();
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('an unsupported file type is declined without diagnostics', async () => {
    const { document } = await open('notes.txt');
    const outcome = await diagnose(document.uri);
    assert.equal(outcome.status, 'unsupported');
    assert.deepEqual(ours(document.uri), []);
  });

  test('a syntax error becomes a parse-error diagnostic at its position, nothing is trained', async () => {
    const { document } = await open('syntax_error.py');
    const outcome = await diagnoseDone(document.uri);
    assert.equal(outcome.result.trained, false);
    const diagnostics = await waitFor('parse errors', () => ours(document.uri), (d) => d.length > 0);
    assert.ok(diagnostics.every((d) => codeOf(d) === 'parse-error'));
    assert.ok(diagnostics.every((d) => d.severity === vscode.DiagnosticSeverity.Error));
    assert.ok(diagnostics.some((d) => d.range.start.line === 7), diagnostics.map((d) => `${d.range.start.line}: ${d.message}`).join('\n'));
  });

  async function waitUntilTraining(): Promise<void> {
    const { service } = await api();
    await waitFor('training to start', () => service.state.running?.detail ?? '', (d) => /step \d+/.test(d), 30_000);
  }

  test('a cancelled run reports cancelled and leaves the next run working', async () => {
    const { document } = await open('deep_sigmoid.py');
    const { service } = await api();
    // Cancelled from the run's own progress event: the cancel lands while it is training.
    let cancelling: Thenable<unknown> | undefined;
    const subscription = service.onDidChangeState((state) => {
      if (!cancelling && /step \d+/.test(state.running?.detail ?? '')) cancelling = vscode.commands.executeCommand('activationLens.cancel');
    });
    let outcome: DiagnoseOutcome;
    try {
      outcome = await diagnose(document.uri);
      assert.ok(cancelling, 'the run reported a training step');
      await cancelling;
    } finally {
      subscription.dispose();
    }
    assert.equal(outcome.status, 'cancelled');
    assert.equal((await api()).service.isRunning(), false);
    await diagnoseDone(document.uri);
  });

  test('a second diagnosis of the same file cancels the first: runs never interleave', async () => {
    const { document } = await open('healthy_relu.py');
    const { service } = await api();
    // The second request is made from the first run's own progress event, so it lands while the
    // first is certainly still training, however fast this machine trains the model.
    let second: Promise<DiagnoseOutcome> | undefined;
    const subscription = service.onDidChangeState((state) => {
      if (!second && /step \d+/.test(state.running?.detail ?? '')) second = service.diagnose(document);
    });
    let outcomes: [DiagnoseOutcome, DiagnoseOutcome];
    try {
      const a = await diagnose(document.uri);
      assert.ok(second, 'the first run reported a training step');
      outcomes = [a, await second];
    } finally {
      subscription.dispose();
    }
    const [a, b] = outcomes;
    assert.equal(a.status, 'cancelled');
    assert.equal(b.status, 'done');
  });

  test('a killed trainer is reported as a crash and the next run works', async () => {
    const { document } = await open('deep_sigmoid.py');
    const { service } = await api();
    const running = diagnose(document.uri);
    await waitUntilTraining();
    assert.ok(await service.killTrainerForTesting(), 'there was a worker to kill');
    const outcome = await running;
    assert.equal(outcome.status, 'failed');
    assert.ok(outcome.status === 'failed' && outcome.crashed, JSON.stringify(outcome));
    const next = await diagnoseDone(document.uri);
    assert.ok(next.result.trained);
  });
});
