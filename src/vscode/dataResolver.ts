/**
 * Which data a model in the editor trains with: the file chosen with "Choose Data for This
 * Model" (remembered per model file in the workspace state), else the `activation-lens:
 * data=…` comment above the model, else the `activationLens.dataFiles` setting. Paths resolve
 * relative to the model file; a comment or setting may not reach outside the workspace (only an
 * explicit choice in the dialog may). The same data, read before the file, gives the static
 * reader the input shape of a model whose file knows it only at run time (readInputShape).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isDataError, readDataset } from '../core/data/dataset';
import { findDataDirective, type DataDirective } from '../core/data/directive';
import { dataInputShape, firstDataComment } from '../engine/dataShape';
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

/** A data file to read, with its target column and where it was named; or why it may not be read. */
type NamedData = { readonly file: string; readonly target?: string; readonly source: ModelData['source'] } | { readonly error: string };

/** The data named for the model whose data comment is `directive` (chosen data first, then the comment, then the setting). */
function namedData(document: Pick<vscode.TextDocument, 'uri'>, choices: DataChoices, directive: DataDirective | undefined): NamedData | undefined {
  const chosen = choices.get(document.uri);
  if (chosen) return { file: chosen.file, target: chosen.target, source: 'setting' };
  const modelFolder = path.dirname(document.uri.fsPath);
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
  return { file: realPathOfPossiblyMissing(file), target: directive?.target, source: directive?.data ? 'comment' : 'setting' };
}

/** The resolver for one document's diagnosis. */
export function dataResolverFor(document: Pick<vscode.TextDocument, 'uri'>, text: string, choices: DataChoices, maxRows: number): DataResolver {
  return async (model) => {
    const named = namedData(document, choices, findDataDirective(text, model.span.start.line));
    if (!named || 'error' in named) return named;
    const result = await readDataset(named.file, { target: named.target, maxRows });
    if (isDataError(result)) return { error: `${named.file}${result.line ? `:${result.line}:${result.column ?? 1}` : ''}: ${result.error}` };
    return { dataset: result, source: named.source };
  };
}

/**
 * The data a document's static read takes its input shape from (dataShape.ts): the chosen data,
 * else the file's first data comment, else the dataFiles setting. `key` names it (a read is
 * redone when it changes); `shape` reads only the data's first row (a NumPy header, a CSV's
 * first record), undefined when the data cannot be read (its model reports why when it trains).
 */
export function readInputShape(document: Pick<vscode.TextDocument, 'uri'>, text: string, choices: DataChoices | undefined): { readonly key: string; readonly shape: () => Promise<number[] | undefined> } {
  if (document.uri.scheme !== 'file' || !choices) return { key: '', shape: async () => undefined };
  const named = namedData(document, choices, firstDataComment(text));
  if (!named || 'error' in named) return { key: '', shape: async () => undefined };
  return {
    key: `${named.file}\0${named.target ?? ''}`,
    shape: async () => {
      const result = await readDataset(named.file, { target: named.target, maxRows: 1 });
      return isDataError(result) ? undefined : dataInputShape(result);
    },
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
