/** Shared helpers of the integration tests (real VS Code API, fixture workspace). */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DiagnoseOutcome } from '../../src/vscode/analysisService';
import type { ActivationLensApi } from '../../src/vscode/extension';

export const EXTENSION_ID = 'activation-lens.activation-lens';

export async function api(): Promise<ActivationLensApi> {
  const extension = vscode.extensions.getExtension<ActivationLensApi>(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not installed in this host`);
  return extension.isActive ? extension.exports : extension.activate();
}

export function fixtureUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need the fixture workspace open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Opens a fixture in an editor, discarding unsaved changes a previous test left. */
export async function open(name: string): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(fixtureUri(name));
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  if (document.isDirty) {
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  return editor;
}

export async function diagnose(uri: vscode.Uri): Promise<DiagnoseOutcome> {
  const outcome = await vscode.commands.executeCommand<DiagnoseOutcome | undefined>('activationLens.diagnose', uri);
  assert.ok(outcome, 'the diagnose command returned nothing');
  return outcome;
}

export async function diagnoseDone(uri: vscode.Uri): Promise<Extract<DiagnoseOutcome, { status: 'done' }>> {
  const outcome = await diagnose(uri);
  assert.equal(outcome.status, 'done', `diagnosis did not finish: ${JSON.stringify(outcome).slice(0, 500)}`);
  return outcome as Extract<DiagnoseOutcome, { status: 'done' }>;
}

export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'Activation Lens');
}

export function codeOf(d: vscode.Diagnostic): string | number | undefined {
  return typeof d.code === 'object' ? d.code.value : d.code;
}

/** Polls until `predicate` holds (diagnostics reach the API asynchronously). */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, predicate: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await probe();
  while (!predicate(value)) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last value: ${JSON.stringify(value)?.slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

export async function codeLensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return lenses.map((l) => l.command?.title ?? '').filter((t) => t !== '');
}

export async function codeActions(uri: vscode.Uri, range: vscode.Range, kind?: string): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>('vscode.executeCodeActionProvider', uri, range, kind);
  return (actions ?? []).filter((a): a is vscode.CodeAction => 'kind' in a || 'edit' in a || 'isPreferred' in a || 'diagnostics' in a);
}
