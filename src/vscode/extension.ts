/**
 * Extension entry point. The editor integration (commands, diagnostics, CodeLens, quick fixes)
 * is being built on the engine shared with the CLI; this entry only registers what is done.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('activationLens.diagnose', async () => {
      await vscode.window.showInformationMessage(
        'Activation Lens: in-editor diagnosis is not available in this version yet; run `npx activation-lens diagnose FILE` in a terminal.',
      );
    }),
  );
}

export function deactivate(): void {
  // Nothing to release: no worker is started by this entry.
}
