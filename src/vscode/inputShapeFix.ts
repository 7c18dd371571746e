/**
 * The input-shape Quick Fix: a model the loaders could not read because its input shape is known
 * only at run time (`input_shape=x_train.shape[1:]`, a convolution first in a PyTorch module) gets
 * an action that asks for the shape (an input box that checks the answer as it is typed), writes
 * the `activation-lens: input_shape=` comment above the model, and diagnoses the file again.
 */
import * as vscode from 'vscode';
import type { AnalysisService, AnalysisResult, DiagnoseOutcome } from './analysisService';
import { CommandId } from './commands';
import type { DiagnosticEntry } from './diagnosticsManager';
import { asksForInputShape, inputShapeEdit, inputShapePrompt, parseInputShape } from './inputShapeComment';
import { resultEdit } from './notebooks';

/** The Quick Fix for a diagnostic whose finding asks for the input shape; undefined for any other. */
export function inputShapeAction(result: AnalysisResult, entry: DiagnosticEntry): vscode.CodeAction | undefined {
  if (!asksForInputShape(entry.finding) || entry.model?.model.binary) return undefined;
  const action = new vscode.CodeAction('Activation Lens: set the input shape (writes an `activation-lens: input_shape=` comment)', vscode.CodeActionKind.QuickFix);
  action.diagnostics = [entry.diagnostic];
  action.isPreferred = true;
  action.command = { command: CommandId.SetInputShape, title: 'Set the input shape', arguments: [result.uri, entry.finding.span.start.offset] };
  return action;
}

/**
 * The command: `offset` is where the problem is in the analysed text. `answer` stands in for the
 * input box (scripts and tests). Resolves to the new diagnosis, or undefined when nothing was written.
 */
export async function setInputShape(service: AnalysisService, uri: vscode.Uri, offset: number, answer?: string): Promise<DiagnoseOutcome | undefined> {
  const result = service.resultFor(uri);
  if (!result || !service.isCurrent(result)) {
    const choice = await vscode.window.showWarningMessage('Activation Lens: the file changed since it was diagnosed; diagnose it again before setting the input shape.', 'Diagnose Again');
    if (choice) void vscode.commands.executeCommand(CommandId.Diagnose, uri);
    return undefined;
  }
  const format = result.loaded.format;
  const validate = (value: string) => {
    const parsed = parseInputShape(value);
    return 'error' in parsed ? parsed.error : undefined;
  };
  const typed = answer ?? await vscode.window.showInputBox({ title: 'Activation Lens: input shape', ...inputShapePrompt(format), validateInput: validate, ignoreFocusOut: true });
  if (typed === undefined) return undefined;
  const shape = parseInputShape(typed);
  if ('error' in shape) {
    void vscode.window.showWarningMessage(`Activation Lens: ${shape.error}`);
    return undefined;
  }
  const edit = resultEdit(result, [inputShapeEdit(result.text, offset, format, shape)]);
  if ('error' in edit) {
    void vscode.window.showWarningMessage(`Activation Lens: ${edit.error}`);
    return undefined;
  }
  if (!await vscode.workspace.applyEdit(edit)) return undefined;
  return vscode.commands.executeCommand<DiagnoseOutcome | undefined>(CommandId.Diagnose, uri);
}
