/** Source positions of the core (1-based, end exclusive) as VS Code ranges (0-based). */
import * as vscode from 'vscode';
import type { SourceSpan } from '../core/model';

export function toRange(span: SourceSpan): vscode.Range {
  return new vscode.Range(
    Math.max(0, span.start.line - 1),
    Math.max(0, span.start.column - 1),
    Math.max(0, span.end.line - 1),
    Math.max(0, span.end.column - 1),
  );
}
