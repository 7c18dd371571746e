/** The commands: diagnose, cancel, report, clear, choose a backend, and the internal lens targets. */
import * as vscode from 'vscode';
import { BACKEND_NAMES } from '../core/stats';
import type { AnalysisService, DiagnoseOutcome, DiagnoseTarget } from './analysisService';
import { CommandId } from './commands';
import { CONFIG_SECTION, type ConfigService } from './config';
import { showReport } from './report';
import { ReportPanel, type ReportActions } from './reportPanel';
import { editsForSuggestion } from './swapEdits';
import { chooseData, type DataChoices } from './dataResolver';
import { isCellUri, locate, notebookOfCell, openNotebook, resultEdit } from './notebooks';
import { PositionIndex } from '../core/model';
import { setInputShape } from './inputShapeFix';

/** The notebook a command's argument names: a notebook toolbar's `{ notebookEditor }`, a cell, a notebook. */
function notebookArg(arg: unknown): vscode.NotebookDocument | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const a = arg as { notebook?: unknown; notebookType?: unknown; notebookEditor?: { notebookUri?: unknown }; uri?: unknown };
  if (typeof a.notebookType === 'string' && a.uri instanceof vscode.Uri) return openNotebook(a.uri);
  if (a.notebook && typeof a.notebook === 'object' && 'notebookType' in a.notebook) return a.notebook as vscode.NotebookDocument;
  if (a.notebookEditor?.notebookUri instanceof vscode.Uri) return openNotebook(a.notebookEditor.notebookUri);
  return undefined;
}

/**
 * The document a command targets: its argument (Explorer, editor title, lens, notebook toolbar or
 * cell) or the active editor; a notebook (or one of its cells) targets the whole notebook.
 */
async function targetDocument(arg: unknown): Promise<DiagnoseTarget | undefined> {
  const fromArg = notebookArg(arg);
  if (fromArg) return fromArg;
  if (arg instanceof vscode.Uri && isCellUri(arg)) return notebookOfCell(arg);
  if (arg instanceof vscode.Uri && arg.path.toLowerCase().endsWith('.ipynb')) {
    const open = openNotebook(arg);
    if (open) return open;
    const notebook = await vscode.workspace.openNotebookDocument(arg);
    await vscode.window.showNotebookDocument(notebook, { preview: false, preserveFocus: true });
    return notebook;
  }
  if (arg instanceof vscode.Uri) {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === arg.toString());
    if (open) return open;
    const document = await vscode.workspace.openTextDocument(arg);
    await vscode.window.showTextDocument(document, { preview: false, preserveFocus: true });
    return document;
  }
  const active = vscode.window.activeTextEditor?.document;
  if (active && isCellUri(active.uri)) return notebookOfCell(active.uri);
  return active ?? vscode.window.activeNotebookEditor?.notebook;
}

/** The results a report command shows: its file's, else the active editor's, else any. */
function resultForCommand(service: AnalysisService, arg: unknown) {
  const uri = arg instanceof vscode.Uri ? arg : (vscode.window.activeTextEditor?.document.uri ?? vscode.window.activeNotebookEditor?.notebook.uri);
  const result = (uri && service.resultFor(uri)) ?? service.allResults()[0];
  if (!result) void vscode.window.showInformationMessage('Activation Lens: no results yet; run "Activation Lens: Diagnose Activations" first.');
  return result;
}

/** Shows what a finished diagnosis needs the person to know; never waits for the message. */
function announce(outcome: DiagnoseOutcome, rerun: () => void): void {
  switch (outcome.status) {
    case 'done': {
      const { result } = outcome;
      if (result.loaded.models.length === 0) {
        const detail = result.diagnosis.problems.length ? 'see the Problems panel' : 'no Sequential model definition was found';
        void vscode.window.showWarningMessage(`Activation Lens: nothing to diagnose in ${result.diagnosis.file} (${detail}).`);
      } else if (!result.trained) {
        void vscode.window.showInformationMessage('Activation Lens: only the static checks ran: training needs a trusted workspace.');
      } else {
        for (const model of result.diagnosis.models) {
          if (model.error) void vscode.window.showWarningMessage(`Activation Lens: \`${model.model.name}\` was not trained: ${model.error.message}`);
        }
      }
      break;
    }
    case 'cancelled':
      break;
    case 'unsupported':
      void vscode.window.showWarningMessage(`Activation Lens: ${outcome.message}`);
      break;
    case 'failed':
      void vscode.window.showErrorMessage(`Activation Lens: ${outcome.message}`, 'Diagnose Again').then((choice) => {
        if (choice) rerun();
      });
      break;
  }
}

/** What the report page may ask for: show a line, or apply a verified suggestion. */
export function reportActions(service: AnalysisService): ReportActions {
  return {
    revealLine: async (uri, line) => {
      // A notebook's lines are lines of its joined code cells: shown in their cell.
      const result = service.resultFor(uri);
      let target = uri;
      let position = new vscode.Position(Math.max(0, line - 1), 0);
      if (result?.cellUris) {
        const lines = result.text.split('\n').slice(0, Math.max(0, line - 1));
        const offset = lines.reduce((sum, l) => sum + l.length + 1, 0);
        const at = locate(result, new PositionIndex(result.text).span(offset, offset));
        target = at.uri;
        position = at.range.start;
      }
      const editor = await vscode.window.showTextDocument(target, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
      editor.selection = new vscode.Selection(position, position);
      editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    },
    applySuggestion: async (uri, modelName, layerIndex, suggestionId) => {
      const result = service.resultFor(uri);
      if (!result || !service.isCurrent(result)) {
        const choice = await vscode.window.showWarningMessage('Activation Lens: the file changed since it was diagnosed; diagnose it again before applying a change.', 'Diagnose Again');
        if (choice) void vscode.commands.executeCommand(CommandId.Diagnose, uri);
        return;
      }
      const model = result.diagnosis.models.find((m) => m.model.name === modelName);
      const suggestion = model?.findings.find((f) => f.layerIndex === layerIndex && f.suggestions.some((s) => s.id === suggestionId))
        ?.suggestions.find((s) => s.id === suggestionId);
      if (!model || !suggestion?.verified?.improved) return;
      const edits = editsForSuggestion(result.text, model.model, suggestion);
      const edit = 'error' in edits ? edits : resultEdit(result, edits);
      if ('error' in edit) {
        void vscode.window.showWarningMessage(`Activation Lens: ${edit.error}`);
        return;
      }
      await vscode.workspace.applyEdit(edit);
    },
  };
}

export function registerCommands(service: AnalysisService, config: ConfigService, extensionUri: vscode.Uri, dataChoices: DataChoices): vscode.Disposable {
  const diagnose = async (arg?: unknown): Promise<DiagnoseOutcome | undefined> => {
    const document = await targetDocument(arg);
    if (!document) {
      void vscode.window.showWarningMessage('Activation Lens: open a Python file with a Keras model first.');
      return undefined;
    }
    const outcome = await service.diagnose(document);
    announce(outcome, () => void vscode.commands.executeCommand(CommandId.Diagnose, document.uri));
    return outcome;
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand(CommandId.Diagnose, diagnose),
    vscode.commands.registerCommand(CommandId.Rerun, diagnose),
    vscode.commands.registerCommand(CommandId.SetInputShape, (uri: vscode.Uri, offset: number, answer?: string) => setInputShape(service, uri, offset, answer)),
    vscode.commands.registerCommand(CommandId.Cancel, (arg?: unknown) => service.cancel(arg instanceof vscode.Uri ? arg : undefined)),
    vscode.commands.registerCommand(CommandId.ShowReport, (arg?: unknown, modelName?: string, layerIndex?: number) => {
      const result = resultForCommand(service, arg);
      if (!result) return undefined;
      const focus = typeof modelName === 'string' && typeof layerIndex === 'number' ? { model: modelName, layerIndex } : undefined;
      return ReportPanel.show(extensionUri, result, config.get(result.uri).thresholds, reportActions(service), focus);
    }),
    vscode.commands.registerCommand(CommandId.ShowReportText, (arg?: unknown) => {
      const result = resultForCommand(service, arg);
      return result ? showReport(result) : undefined;
    }),
    vscode.commands.registerCommand(CommandId.ChooseData, async (arg?: unknown) => {
      const document = await targetDocument(arg);
      if (!document) return false;
      const chosen = await chooseData(document, dataChoices);
      if (chosen) {
        const run = await vscode.window.showInformationMessage('Activation Lens: data chosen. Diagnose with it now?', 'Diagnose');
        if (run) void vscode.commands.executeCommand(CommandId.Diagnose, document.uri);
      }
      return chosen;
    }),
    vscode.commands.registerCommand(CommandId.ClearDiagnostics, () => {
      service.cancel();
      service.clear();
    }),
    vscode.commands.registerCommand(CommandId.SelectBackend, async () => {
      const current = config.get().backend;
      const descriptions: Record<string, string> = {
        auto: 'The first available, in this order: tensorflow-gpu, webgpu, tensorflow, wasm, cpu',
        'tensorflow-gpu': 'CUDA through @tensorflow/tfjs-node-gpu (optional package)',
        webgpu: 'Any GPU through Dawn (@tensorflow/tfjs-backend-webgpu + webgpu, optional)',
        tensorflow: 'libtensorflow on the CPU through @tensorflow/tfjs-node (optional package)',
        wasm: 'WebAssembly with SIMD (bundled; the default without the above)',
        cpu: 'Plain JavaScript (bundled; slowest)',
      };
      const picked = await vscode.window.showQuickPick(
        ['auto', ...BACKEND_NAMES].map((name) => ({ label: name, description: name === current ? '(current)' : undefined, detail: descriptions[name] })),
        { title: 'Activation Lens: training backend', placeHolder: `Current: ${current}` },
      );
      if (!picked) return undefined;
      const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration(CONFIG_SECTION).update('backend', picked.label, target);
      return picked.label;
    }),
    vscode.commands.registerCommand(CommandId.RevealLayer, async (uri: vscode.Uri, modelName: string, layerIndex: number) => {
      const result = service.resultFor(uri);
      const layer = result?.diagnosis.models.find((m) => m.model.name === modelName)?.model.layers[layerIndex];
      if (!layer) return;
      const at = locate(result, layer.source.span);
      const editor = await vscode.window.showTextDocument(at.uri, { preserveFocus: false });
      editor.revealRange(at.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      editor.selection = new vscode.Selection(at.range.start, at.range.end);
      await vscode.commands.executeCommand('workbench.actions.view.problems');
    }),
  );
}
