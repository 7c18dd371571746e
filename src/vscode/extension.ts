/**
 * Extension entry point: wires the analysis service (engine + trainer worker), the Problems
 * panel, CodeLens, quick fixes, the status bar and the commands. TensorFlow.js never loads here:
 * training runs in dist/worker.js, started on the first diagnosis.
 */
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import { CodeLensProvider } from './codeLensProvider';
import { registerCommands, reportActions } from './commandHandlers';
import { ReportPanel } from './reportPanel';
import { ConfigService } from './config';
import { DiagnosticsManager } from './diagnosticsManager';
import { QuickFixProvider } from './quickFixProvider';
import { StatusBar } from './statusBar';

/** What activate() returns: the services, for the integration tests. */
export interface ActivationLensApi {
  readonly service: AnalysisService;
  readonly diagnostics: DiagnosticsManager;
}

const MODEL_FILES: vscode.DocumentSelector = [
  { language: 'python', scheme: 'file' },
  { language: 'python', scheme: 'untitled' },
  { language: 'python', scheme: 'vscode-remote' },
];

export function activate(context: vscode.ExtensionContext): ActivationLensApi {
  const config = new ConfigService();
  const service = new AnalysisService(config);
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
    registerCommands(service, config, context.extensionUri),
    vscode.window.registerWebviewPanelSerializer(ReportPanel.viewType, {
      deserializeWebviewPanel: async (panel) => ReportPanel.revive(panel, context.extensionUri, reportActions(service)),
    }),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (document.languageId === 'python' && config.get(document.uri).diagnoseOnSave) {
        void vscode.commands.executeCommand('activationLens.diagnose', document.uri);
      }
    }),
  );
  return { service, diagnostics };
}

export function deactivate(): void {
  // The service (and its trainer worker) is disposed through context.subscriptions.
}
