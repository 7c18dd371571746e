/** The main flow in a real VS Code: diagnose → Problems → CodeLens → Quick Fix → diagnose again. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, codeActions, codeLensTitles, codeOf, diagnoseDone, fixtureUri, open, ours, waitFor } from './helpers';

suite('Diagnose Activations', () => {
  suiteSetup(async () => {
    await api();
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('activates on Python and contributes its commands', async () => {
    await open('healthy_relu.py');
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['activationLens.diagnose', 'activationLens.showReport', 'activationLens.clearDiagnostics', 'activationLens.selectBackend', 'activationLens.cancel']) {
      assert.ok(commands.includes(id), `${id} is registered`);
    }
    const extension = vscode.extensions.getExtension('activation-lens.activation-lens');
    assert.ok(extension?.isActive);
    const events: string[] = extension.packageJSON.activationEvents;
    assert.ok(!events.includes('*'), 'never activates on *');
  });

  test('before a run, a "Diagnose activations" lens sits above the model', async () => {
    const { document } = await open('healthy_relu.py');
    await vscode.commands.executeCommand('activationLens.clearDiagnostics');
    const titles = await waitFor('the diagnose lens', () => codeLensTitles(document.uri), (t) => t.length > 0);
    assert.deepEqual(titles.map((t) => t.replace(/\$\([^)]*\)\s*/g, '')), ['Diagnose activations']);
  });

  test('deep_sigmoid: one diagnostic per finding on the layer, with code link and related layers', async () => {
    const { document } = await open('deep_sigmoid.py');
    const outcome = await diagnoseDone(document.uri);
    const findings = outcome.result.diagnosis.models.flatMap((m) => m.findings);
    assert.ok(findings.length > 0, 'deep_sigmoid has findings');
    const diagnostics = await waitFor('diagnostics', () => ours(document.uri), (d) => d.length === findings.length);
    const vanishing = diagnostics.filter((d) => codeOf(d) === 'vanishing-gradient');
    assert.ok(vanishing.length > 0, 'a vanishing-gradient diagnostic');
    const first = vanishing[0];
    // The comprehension `layers.Dense(HIDDEN_UNITS, activation="sigmoid")` is on line 11 (1-based).
    assert.equal(first.range.start.line, 10);
    assert.equal(document.getText(first.range), 'layers.Dense(HIDDEN_UNITS, activation="sigmoid")');
    assert.equal(first.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(first.source, 'Activation Lens');
    const code = first.code as { value: string; target: vscode.Uri };
    assert.ok(code.target.path.endsWith('/docs/findings/vanishing-gradient.md'), code.target.toString());
    assert.ok((first.relatedInformation ?? []).length > 0, 'related information points at the layers involved');
    const info = diagnostics.filter((d) => codeOf(d) === 'not-zero-centred');
    for (const d of info) assert.equal(d.severity, vscode.DiagnosticSeverity.Information);
  });

  test('CodeLens: model summary and per-layer numbers with the verified suggestion', async () => {
    const { document } = await open('deep_sigmoid.py');
    await diagnoseDone(document.uri);
    // The model is named after its variable, `model`.
    const titles = await waitFor('result lenses', () => codeLensTitles(document.uri), (t) => t.some((x) => x.includes('model:')));
    const model = titles.find((t) => t.includes('model:'));
    assert.match(model ?? '', /model: \d+ findings? .*· wasm · \d+\.\d s/);
    const layer = titles.find((t) => t.includes('grad '));
    assert.ok(layer, `a layer lens among ${JSON.stringify(titles)}`);
    assert.match(layer, /grad \S+ · saturated \d+%.* → (ReLU|ELU) \(verified\)/);

    await vscode.workspace.getConfiguration('activationLens').update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    try {
      await waitFor('no lenses', () => codeLensTitles(document.uri), (t) => t.length === 0);
    } finally {
      await vscode.workspace.getConfiguration('activationLens').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('Quick Fix applies the verified swap; diagnosing again clears the finding', async () => {
    const editor = await open('deep_sigmoid.py');
    const { document } = editor;
    await diagnoseDone(document.uri);
    const target = (await waitFor('diagnostics', () => ours(document.uri), (d) => d.length > 0)).find((d) => codeOf(d) === 'vanishing-gradient');
    assert.ok(target);
    const actions = await codeActions(document.uri, target.range);
    const fixes = actions.filter((a) => a.kind?.value === vscode.CodeActionKind.QuickFix.value && a.edit);
    assert.ok(fixes.length > 0, `quick fixes offered: ${actions.map((a) => a.title).join(' | ')}`);
    const preferred = fixes.filter((a) => a.isPreferred);
    assert.equal(preferred.length, 1, 'exactly one preferred fix');
    assert.match(preferred[0].title, /switch to (ReLU|ELU) \+ He normal init.*verified/);
    const source = actions.find((a) => a.kind?.value.startsWith('source.activationLens'));
    assert.ok(source, 'the "apply all verified swaps" source action is offered');

    const applied = await vscode.workspace.applyEdit(preferred[0].edit!);
    assert.ok(applied);
    const text = document.getText();
    assert.ok(!text.includes('activation="sigmoid"'), text);
    assert.match(text, /layers\.Dense\(HIDDEN_UNITS, activation="(relu|elu)", kernel_initializer="he_normal"\)/);
    // Results are stale now: the diagnostics leave the panel at once.
    await waitFor('stale diagnostics cleared', () => ours(document.uri), (d) => d.length === 0);

    const again = await diagnoseDone(document.uri);
    const codes = again.result.diagnosis.models.flatMap((m) => m.findings.map((f) => f.code));
    assert.ok(!codes.includes('vanishing-gradient'), `still vanishing after the fix: ${codes.join(', ')}`);
    const after = await waitFor('fresh diagnostics', () => ours(document.uri), (d) => d.length === codes.length);
    assert.ok(!after.some((d) => codeOf(d) === 'vanishing-gradient'));
  });

  test('an edit marks results stale: diagnostics cleared, fixes refused with an offer to re-run', async () => {
    const { document } = await open('deep_sigmoid.py');
    await diagnoseDone(document.uri);
    const diagnostics = await waitFor('diagnostics', () => ours(document.uri), (d) => d.length > 0);
    const range = diagnostics[0].range;
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(0, 0), '# edited\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor('stale diagnostics cleared', () => ours(document.uri), (d) => d.length === 0);
    const api_ = await api();
    const result = api_.service.resultFor(document.uri);
    assert.ok(result?.stale, 'the result is kept, marked stale');
    assert.notEqual(result.version, document.version);
    const actions = await codeActions(document.uri, range.with(range.start.translate(1), range.end.translate(1)), 'source.activationLens');
    assert.ok(actions.every((a) => !a.edit), 'no edit from stale results');
    assert.ok(actions.some((a) => /out of date/.test(a.title) && a.command?.command === 'activationLens.rerun'), actions.map((a) => a.title).join(' | '));
    const titles = await codeLensTitles(document.uri);
    assert.ok(titles.some((t) => /again/.test(t)), JSON.stringify(titles));
  });

  test('every model of a file is diagnosed under its own name', async () => {
    const { document } = await open('two_models.py');
    const outcome = await diagnoseDone(document.uri);
    assert.deepEqual(outcome.result.diagnosis.models.map((m) => m.model.name), ['sigmoid_net', 'relu_net']);
    const titles = await waitFor('lenses', () => codeLensTitles(document.uri), (t) => t.some((x) => x.includes('relu_net:')));
    assert.ok(titles.some((t) => t.includes('sigmoid_net:')));
    const diagnostics = await waitFor('diagnostics', () => ours(document.uri), (d) => d.length > 0);
    assert.ok(diagnostics.every((d) => /^(sigmoid_net|relu_net): /.test(d.message)), diagnostics.map((d) => d.message).join('\n'));
  });

  test('Show Report opens the charted report panel and the text report; Clear Diagnostics empties the panel', async () => {
    const { document } = await open('healthy_relu.py');
    const outcome = await diagnoseDone(document.uri);
    const errors = outcome.result.diagnosis.models.flatMap((m) => m.findings).filter((f) => f.severity === 'error');
    assert.deepEqual(errors.map((f) => f.code), [], 'the healthy ReLU model has no error finding');
    const panel = await vscode.commands.executeCommand<{ panel: vscode.WebviewPanel; currentReport?: { models: { name: string; backend: string; layers: unknown[] }[] } }>('activationLens.showReport', document.uri);
    assert.ok(panel?.panel, 'a webview panel');
    assert.equal(panel.panel.viewType, 'activationLens.report');
    assert.equal(panel.currentReport?.models[0].backend, 'wasm');
    assert.equal(panel.currentReport?.models[0].layers.length, 4);
    const report = await vscode.commands.executeCommand<vscode.TextEditor>('activationLens.showReportText', document.uri);
    assert.ok(report);
    assert.equal(report.document.languageId, 'markdown');
    assert.match(report.document.getText(), /Model "model"/);
    assert.match(report.document.getText(), /Backend wasm/);

    const { document: sigmoid } = await open('deep_sigmoid.py');
    await diagnoseDone(sigmoid.uri);
    await waitFor('diagnostics', () => ours(sigmoid.uri), (d) => d.length > 0);
    await vscode.commands.executeCommand('activationLens.clearDiagnostics');
    await waitFor('cleared', () => ours(sigmoid.uri), (d) => d.length === 0);
  });

  test('Select Backend writes the setting', async () => {
    const picked = vscode.commands.executeCommand<string | undefined>('activationLens.selectBackend');
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const value = await picked;
    assert.ok(value, 'a backend was picked');
    assert.equal(vscode.workspace.getConfiguration('activationLens').get('backend'), value);
    await vscode.workspace.getConfiguration('activationLens').update('backend', 'wasm', vscode.ConfigurationTarget.Workspace);
  });
});

void fixtureUri;

suite('Responsiveness', () => {
  test('the extension host event loop stays responsive while a model trains (p99 stall ≤ 50 ms, none ≥ 100 ms)', async () => {
    const { document } = await open('deep_sigmoid.py');
    await diagnoseDone(document.uri); // warm: worker started, parser loaded
    const gaps: number[] = [];
    const at: number[] = [];
    const start = performance.now();
    let last = start;
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      at.push(now - start);
      last = now;
    }, 5);
    let finished = 0;
    try {
      await diagnoseDone(document.uri);
      finished = performance.now() - start;
    } finally {
      clearInterval(timer);
    }
    const worst = gaps.map((g, i) => [g, at[i]]).sort((a, b) => b[0] - a[0]).slice(0, 5);
    console.log(`diagnosis finished at ${finished.toFixed(0)} ms; worst gaps (ms @ ms): ${worst.map(([g, t]) => `${g.toFixed(0)}@${t.toFixed(0)}`).join(' ')}`);
    // A gap is the time between two 5 ms ticks; the stall is what exceeds the interval.
    const stalls = gaps.map((g) => g - 5).sort((a, b) => b - a);
    console.log(`event loop: ${gaps.length} ticks, longest stall ${stalls[0].toFixed(1)} ms, next ${stalls.slice(1, 4).map((s) => s.toFixed(1)).join(', ')} ms`);
    assert.ok(gaps.length > 20, 'the timer ran during the diagnosis');
    // Wall-clock gaps also count time the OS gave the core to another process: here two cores are
    // shared with code-server, Chromium and the trainer. So: no stall may reach 100 ms (a real
    // block would), and 99 % of ticks must be within 50 ms of schedule.
    const detail = `longest stall ${stalls[0].toFixed(1)} ms, p99 ${stalls[Math.floor(stalls.length * 0.01)].toFixed(1)} ms; diagnosis finished at ${finished.toFixed(0)} ms; worst gaps (ms @ ms): ${worst.map(([g, t]) => `${g.toFixed(0)}@${t.toFixed(0)}`).join(' ')}`;
    assert.ok(stalls[0] <= 100, detail);
    assert.ok(stalls[Math.floor(stalls.length * 0.01)] <= 50, detail);
  });
});

suite('Other model formats', () => {
  test('a TensorFlow.js model in JavaScript and a PyTorch module get diagnostics on their layers', async () => {
    for (const [name, format] of [['tfjs_model.js', 'tfjs-source'], ['torch_mlp.py', 'pytorch-python']] as const) {
      const { document } = await open(name);
      const outcome = await diagnoseDone(document.uri);
      assert.equal(outcome.result.loaded.format, format);
      assert.ok(outcome.result.diagnosis.models.length > 0, `${name}: a model`);
      const diagnostics = await waitFor(`${name} diagnostics`, () => ours(document.uri), (d) => d.length > 0);
      assert.ok(diagnostics.some((d) => codeOf(d) === 'vanishing-gradient'), `${name}: ${diagnostics.map((d) => codeOf(d)).join(', ')}`);
      // The loader's notes (PyTorch: the input read as a flat vector of the first Linear's size)
      // are Information entries at their positions.
      const notes = outcome.result.diagnosis.models.flatMap((m) => m.model.notes ?? []);
      const shown = diagnostics.filter((d) => codeOf(d) === 'note');
      assert.equal(shown.length, notes.length, `${name}: notes ${JSON.stringify(notes)}`);
      for (const d of shown) assert.equal(d.severity, vscode.DiagnosticSeverity.Information);
      if (format === 'pytorch-python') assert.ok(notes.length > 0 && shown.some((d) => /read as a flat vector/.test(d.message)), `${name}: no input note`);
    }
  });
});

suite('User data', () => {
  test('the data comment above a model trains it on that file and reports the input distribution', async () => {
    const { document } = await open('pixels_model.py');
    const outcome = await diagnoseDone(document.uri);
    const model = outcome.result.diagnosis.models[0];
    assert.equal(model.data?.source, 'comment');
    assert.equal(model.data?.dataset.rows, 200);
    const diagnostics = await waitFor('input diagnostics', () => ours(document.uri), (d) => d.some((x) => codeOf(x) === 'input-not-normalized'));
    assert.ok(diagnostics.some((d) => codeOf(d) === 'input-not-normalized'));
  });
});
