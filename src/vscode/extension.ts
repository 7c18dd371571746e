/**
 * Extension entry point: wires the analysis service (engine + trainer worker), the Problems
 * panel, CodeLens, quick fixes, the status bar and the commands. TensorFlow.js never loads here:
 * training runs in dist/worker.js, started on the first diagnosis.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import { CodeLensProvider } from './codeLensProvider';
import { registerCommands, reportActions } from './commandHandlers';
import { ReportPanel } from './reportPanel';
import { DataChoices } from './dataResolver';
import { CommandId } from './commands';
import { installGpuBackend } from './installGpuBackend';
import { ConfigService } from './config';
import { DiagnosticsManager } from './diagnosticsManager';
import { QuickFixProvider } from './quickFixProvider';
import { StatusBar } from './statusBar';
import { CELL_SCHEME } from './notebooks';

/** What activate() returns: the services, for the integration tests. */
export interface ActivationLensApi {
  readonly service: AnalysisService;
  readonly diagnostics: DiagnosticsManager;
}

/** Languages whose files may hold a model: Keras/PyTorch, TF.js source, saved-model JSON. */
export const MODEL_LANGUAGES: readonly string[] = ['python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'json'];

const MODEL_FILES: vscode.DocumentSelector = [
  ...MODEL_LANGUAGES.flatMap((language) => ['file', 'untitled', 'vscode-remote'].map((scheme) => ({ language, scheme }))),
  // [issue 15] The Python cells of notebooks (lenses and fixes map through src/vscode/notebooks.ts).
  { language: 'python', scheme: CELL_SCHEME },
];

/**
 * Folders whose node_modules may hold optional backends: the global storage (Install GPU
 * Backend), then the folder named in *user* settings. Only the user-level value is read: a
 * workspace's settings never choose where code is loaded from.
 */
function optionalModuleFolders(context: vscode.ExtensionContext): string[] {
  const configured = vscode.workspace.getConfiguration('activationLens').inspect<string>('optionalModulesFolder')?.globalValue?.trim();
  return [context.globalStorageUri.fsPath, ...(configured && path.isAbsolute(configured) ? [configured] : [])];
}

export function activate(context: vscode.ExtensionContext): ActivationLensApi {
  const config = new ConfigService();
  const dataChoices = new DataChoices(context.workspaceState);
  const service = new AnalysisService(config, undefined, dataChoices, optionalModuleFolders(context));
  const diagnostics = new DiagnosticsManager(service, context.extensionUri);
  const codeLens = new CodeLensProvider(service, config);
  context.subscriptions.push(
    config,
    service,
    diagnostics,
    codeLens,
    new StatusBar(service),
    vscode.languages.registerCodeLensProvider(MODEL_FILES, codeLens),
    vscode.languages.registerCodeActionsProvider(MODEL_FILES, new QuickFixProvider(service, diagnostics), {
      providedCodeActionKinds: QuickFixProvider.providedCodeActionKinds,
    }),
    registerCommands(service, config, context.extensionUri, dataChoices),
    vscode.commands.registerCommand(CommandId.InstallGpuBackend, () => installGpuBackend(context.globalStorageUri)),
    vscode.window.registerWebviewPanelSerializer(ReportPanel.viewType, {
      deserializeWebviewPanel: async (panel) => ReportPanel.revive(panel, context.extensionUri, reportActions(service)),
    }),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (MODEL_LANGUAGES.includes(document.languageId) && config.get(document.uri).diagnoseOnSave) {
        void vscode.commands.executeCommand('activationLens.diagnose', document.uri);
      }
    }),
    vscode.workspace.onDidSaveNotebookDocument((notebook) => {
      if (notebook.notebookType === 'jupyter-notebook' && config.get(notebook.uri).diagnoseOnSave) {
        void vscode.commands.executeCommand('activationLens.diagnose', notebook.uri);
      }
    }),
  );
  return { service, diagnostics };
}

export function deactivate(): void {
  // The service (and its trainer worker) is disposed through context.subscriptions.
}
