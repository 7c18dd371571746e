/**
 * Which data a model in the editor trains with: the file chosen with "Choose Data for This
 * Model" (remembered per model file in the workspace state), else the `activation-lens:
 * data=…` comment above the model, else the `activationLens.dataFiles` setting. Paths resolve
 * relative to the model file; a comment or setting may not reach outside the workspace (only an
 * explicit choice in the dialog may).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isDataError, readDataset } from '../core/data/dataset';
import { findDataDirective } from '../core/data/directive';
import type { DataResolver, ModelData } from '../engine/diagnose';
import { isInsideFolder, realPathOfPossiblyMissing } from '../engine/dataLocation';

const CHOSEN_KEY = 'activationLens.chosenData';

interface Chosen {
  readonly file: string;
  readonly target?: string;
}

export class DataChoices {
  constructor(private readonly state: vscode.Memento) {}

  get(uri: vscode.Uri): Chosen | undefined {
    return this.state.get<Record<string, Chosen>>(CHOSEN_KEY, {})[uri.toString()];
  }

  async set(uri: vscode.Uri, chosen: Chosen | undefined): Promise<void> {
    const all = { ...this.state.get<Record<string, Chosen>>(CHOSEN_KEY, {}) };
    if (chosen) all[uri.toString()] = chosen;
    else delete all[uri.toString()];
    await this.state.update(CHOSEN_KEY, all);
  }
}

/** Whether `file` really lies in a workspace folder: real paths on both sides, so a symlink in the workspace pointing out of it is outside. */
function insideWorkspace(file: string): boolean {
  const real = realPathOfPossiblyMissing(file);
  return (vscode.workspace.workspaceFolders ?? []).some((folder) => isInsideFolder(realPathOfPossiblyMissing(folder.uri.fsPath), real));
}

/** The resolver for one document's diagnosis. */
export function dataResolverFor(document: Pick<vscode.TextDocument, 'uri'>, text: string, choices: DataChoices, maxRows: number): DataResolver {
  const modelFolder = path.dirname(document.uri.fsPath);
  const read = async (file: string, target: string | undefined, source: ModelData['source']): Promise<ModelData | { error: string }> => {
    const result = await readDataset(file, { target, maxRows });
    if (isDataError(result)) return { error: `${file}${result.line ? `:${result.line}:${result.column ?? 1}` : ''}: ${result.error}` };
    return { dataset: result, source };
  };
  return async (model) => {
    const chosen = choices.get(document.uri);
    if (chosen) return read(chosen.file, chosen.target, 'setting');
    const directive = findDataDirective(text, model.span.start.line);
    const mapping = vscode.workspace.getConfiguration('activationLens', document.uri).get<Record<string, string>>('dataFiles', {});
    const relativeModel = vscode.workspace.asRelativePath(document.uri, false);
    const fromSetting = mapping[relativeModel];
    const named = directive?.data ?? fromSetting;
    if (!named) return undefined;
    const base = directive?.data ? modelFolder : (vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath ?? modelFolder);
    const file = path.resolve(base, named);
    if (!insideWorkspace(file)) {
      return { error: `${named} is outside the workspace (symlinks resolved); choose it with "Activation Lens: Choose Data for This Model" to use it` };
    }
    return read(realPathOfPossiblyMissing(file), directive?.target, directive?.data ? 'comment' : 'setting');
  };
}

/** "Choose Data for This Model": a file dialog, remembered for this model file. */
export async function chooseData(document: Pick<vscode.TextDocument, 'uri'>, choices: DataChoices): Promise<boolean> {
  const picked = await vscode.window.showOpenDialog({
    title: `Data for ${path.basename(document.uri.fsPath)}`,
    canSelectMany: false,
    defaultUri: vscode.Uri.file(path.dirname(document.uri.fsPath)),
    filters: { 'Data files': ['csv', 'tsv', 'txt', 'npy', 'npz', 'json'], 'All files': ['*'] },
  });
  if (!picked?.[0]) return false;
  const target = await vscode.window.showInputBox({
    title: 'Target column (leave empty to use label, target, y or class, else the last column)',
    placeHolder: 'label',
  });
  await choices.set(document.uri, { file: picked[0].fsPath, target: target?.trim() || undefined });
  return true;
}
