/**
 * "Show Report", for now: the CLI's text rendering in an untitled Markdown document. The charted
 * webview report is a later issue and will replace this.
 */
import * as vscode from 'vscode';
import { renderText } from '../cli/output';
import type { AnalysisResult } from './analysisService';

export function reportMarkdown(result: AnalysisResult): string {
  const lines = [
    `# Activation Lens: ${result.diagnosis.file}`,
    '',
    `Document version ${result.version}${result.stale ? ' (the file has changed since; diagnose again for current numbers)' : ''}` +
      `${result.trained ? '' : ' · static checks only (training needs a trusted workspace)'} · ${(result.durationMs / 1000).toFixed(1)} s`,
    '',
    '```text',
    renderText(result.diagnosis).replace(/```/g, "'''").trimEnd(),
    '```',
    '',
    '_A charted report (gradient flow, curves, histograms) will replace this text view._',
    '',
  ];
  return lines.join('\n');
}

export async function showReport(result: AnalysisResult): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: reportMarkdown(result) });
  return vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}
