/** [issue 15] A Jupyter notebook in VS Code's own notebook editor: diagnose → cell diagnostics → Quick Fix in the cell → save. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DiagnoseOutcome } from '../../src/vscode/analysisService';
import { api, codeActions, codeLensTitles, codeOf, fixtureUri, ours, waitFor } from './helpers';

const FIXTURE = 'keras_notebook.ipynb';

function denseCell(notebook: vscode.NotebookDocument): vscode.NotebookCell {
  const cell = notebook.getCells().find((c) => c.kind === vscode.NotebookCellKind.Code && c.document.getText().includes('layers.Dense(hidden'));
  assert.ok(cell, 'the notebook has a cell with the Dense layers');
  return cell;
}

/** The lenses of a cell (its text model exists once the notebook editor has rendered it: until then, none). */
async function cellLenses(uri: vscode.Uri): Promise<string[]> {
  try {
    return await codeLensTitles(uri);
  } catch {
    return [];
  }
}

suite('Notebook', () => {
  let original: Uint8Array;

  suiteSetup(async () => {
    await api();
    original = await vscode.workspace.fs.readFile(fixtureUri(FIXTURE));
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.writeFile(fixtureUri(FIXTURE), original);
  });

  test('notebook: diagnose from the notebook editor, fix in the cell, save valid nbformat', async () => {
    const notebook = await vscode.workspace.openNotebookDocument(fixtureUri(FIXTURE));
    assert.equal(notebook.notebookType, 'jupyter-notebook');
    await vscode.window.showNotebookDocument(notebook, { preview: false });
    const cell = denseCell(notebook);

    // Before a run, the Diagnose lens sits in the cell where the model starts.
    const modelCell = notebook.getCells().find((c) => c.document.getText().includes('keras.Sequential()'));
    assert.ok(modelCell);
    const before = await waitFor('the diagnose lens', () => cellLenses(modelCell.document.uri), (t) => t.length > 0);
    assert.ok(before.some((t) => t.includes('Diagnose activations')), JSON.stringify(before));

    // No argument: the command reads the active notebook editor (as from the palette or the toolbar).
    const outcome = await vscode.commands.executeCommand<DiagnoseOutcome | undefined>('activationLens.diagnose');
    assert.ok(outcome);
    assert.equal(outcome.status, 'done', JSON.stringify(outcome).slice(0, 500));

    const diagnostics = await waitFor('cell diagnostics', () => ours(cell.document.uri), (d) => d.some((x) => codeOf(x) === 'vanishing-gradient'));
    const target = diagnostics.find((d) => codeOf(d) === 'vanishing-gradient');
    assert.ok(target);
    assert.equal(cell.document.getText(target.range), 'layers.Dense(hidden, activation="sigmoid")');
    assert.equal(target.range.start.line, 1, 'the position is within the cell');
    assert.equal(ours(notebook.uri).length, 0, 'nothing on the notebook file itself');

    // The cell's text model exists once the editor has rendered the cell: reveal and select it.
    const editor = await vscode.window.showNotebookDocument(notebook, { preview: false, selections: [new vscode.NotebookRange(cell.index, cell.index + 1)] });
    editor.revealRange(new vscode.NotebookRange(cell.index, cell.index + 1), vscode.NotebookEditorRevealType.InCenter);
    await vscode.workspace.openTextDocument(cell.document.uri);
    const lenses = await waitFor('layer lenses', () => cellLenses(cell.document.uri), (t) => t.some((x) => x.includes('grad ')));
    assert.ok(lenses.every((t) => !t.includes('Diagnose activations')), JSON.stringify(lenses));

    const actions = await codeActions(cell.document.uri, target.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.isPreferred && a.edit) ?? actions.find((a) => a.edit && !a.disabled);
    assert.ok(fix?.edit, `a quick fix among ${JSON.stringify(actions.map((a) => a.title))}`);
    const uris = fix.edit.entries().map(([uri]) => uri);
    assert.ok(uris.length > 0 && uris.every((u) => u.scheme === 'vscode-notebook-cell'), `edits on cells: ${uris.map(String).join(', ')}`);
    const sourceBefore = cell.document.getText();
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const sourceAfter = cell.document.getText();
    assert.notEqual(sourceAfter, sourceBefore);
    assert.ok(!sourceAfter.includes('activation="sigmoid"'), sourceAfter);

    // The results are stale now: the diagnostics leave the cell.
    await waitFor('stale diagnostics cleared', () => ours(cell.document.uri), (d) => d.length === 0);

    assert.ok(await notebook.save(), 'the notebook saved');
    const saved = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(fixtureUri(FIXTURE)))) as { nbformat: number; cells: { cell_type: string; source: string | string[] }[] };
    assert.equal(saved.nbformat, 4);
    const originalJson = JSON.parse(new TextDecoder().decode(original)) as typeof saved;
    assert.equal(saved.cells.length, originalJson.cells.length);
    const join = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);
    assert.equal(join(saved.cells[cell.index].source), sourceAfter);
    assert.notEqual(join(saved.cells[cell.index].source), join(originalJson.cells[cell.index].source));
    assert.ok(saved.cells.every((c, i) => i === cell.index || c.cell_type !== 'code' || join(c.source) === join(originalJson.cells[i].source) || fix.edit?.has(notebook.cellAt(i).document.uri)), 'only the edited cells changed');
  });

  test('notebook: a PyTorch nn.Module with F.relu in forward, its loss and optimiser in a later cell', async () => {
    const notebook = await vscode.workspace.openNotebookDocument(fixtureUri('torch_notebook.ipynb'));
    await vscode.window.showNotebookDocument(notebook, { preview: false });
    const outcome = await vscode.commands.executeCommand<DiagnoseOutcome | undefined>('activationLens.diagnose');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome).slice(0, 500));
    const classCell = notebook.getCells().find((c) => c.document.getText().includes('class Net'));
    assert.ok(classCell);
    const diagnostics = await waitFor('cell diagnostics', () => ours(classCell.document.uri), (d) => d.some((x) => codeOf(x) === 'dead-relu'));
    const dead = diagnostics.find((d) => codeOf(d) === 'dead-relu');
    assert.ok(dead);
    // `x = F.relu(self.fc1(x))` is line 9 of the cell (0-based 8), F.relu at column 13.
    assert.deepEqual([dead.range.start.line, dead.range.start.character], [8, 12]);
    assert.ok(classCell.document.getText(dead.range).startsWith('F.relu'), classCell.document.getText(dead.range));
  });
});
