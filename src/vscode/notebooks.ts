/**
 * [issue 15] Jupyter notebooks in the editor's own notebook support (no kernel, nothing runs):
 * the one mapping layer between a notebook's results, whose spans are offsets into the code
 * cells joined by '\n' (src/core/parse/notebook.ts), and the cell documents the editor shows.
 * Text documents go through the same functions and keep their spans as they are.
 */
import * as vscode from 'vscode';
import type { NotebookCell, SourceSpan } from '../core/model';
import type { TextEdit } from '../core/fixes';
import { cellSpan } from '../core/parse/notebook';
import { toRange } from './spans';

/** The scheme of a notebook cell's text document. */
export const CELL_SCHEME = 'vscode-notebook-cell';

/** What a result needs for the mapping: its document and, for a notebook, its cells. */
export interface Mappable {
  readonly uri: vscode.Uri;
  /** Notebook results: the code cells of the program, as the reader saw them. */
  readonly cells?: readonly NotebookCell[];
  /** Notebook results: each notebook cell's document, by the cell's index in the notebook. */
  readonly cellUris?: readonly vscode.Uri[];
}

export interface Located {
  readonly uri: vscode.Uri;
  readonly range: vscode.Range;
}

export function isCellUri(uri: vscode.Uri): boolean {
  return uri.scheme === CELL_SCHEME;
}

/** The open notebook a cell document belongs to. */
export function notebookOfCell(uri: vscode.Uri): vscode.NotebookDocument | undefined {
  const key = uri.toString();
  return vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document.uri.toString() === key));
}

/** The open notebook with this file's URI. */
export function openNotebook(uri: vscode.Uri): vscode.NotebookDocument | undefined {
  const key = uri.toString();
  return vscode.workspace.notebookDocuments.find((n) => n.uri.toString() === key);
}

/** The cells the program is made of: Python code cells. */
function isProgramCell(cell: vscode.NotebookCell): boolean {
  return cell.kind === vscode.NotebookCellKind.Code && cell.document.languageId === 'python';
}

/** The code cells' text joined by '\n', in order: the text the results' spans are offsets into. */
export function notebookProgram(notebook: vscode.NotebookDocument): string {
  return notebook.getCells().filter(isProgramCell).map((c) => c.document.getText()).join('\n');
}

/**
 * The notebook as minimal nbformat 4 JSON, for the reader: every cell keeps its index (other
 * cells are markdown or raw, which the reader skips), code cells carry their current text.
 */
export function notebookJson(notebook: vscode.NotebookDocument): string {
  const cells = notebook.getCells().map((cell) => ({
    cell_type: isProgramCell(cell) ? 'code' : cell.kind === vscode.NotebookCellKind.Markup ? 'markdown' : 'raw',
    metadata: {},
    source: cell.document.getText(),
    ...(isProgramCell(cell) ? { outputs: [], execution_count: null } : {}),
  }));
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { language_info: { name: 'python' } }, cells });
}

/** The cell documents of a notebook, by cell index. */
export function cellUris(notebook: vscode.NotebookDocument): vscode.Uri[] {
  return notebook.getCells().map((c) => c.document.uri);
}

/** Where a span of a result lies in the editor: its cell document and the range there, or the document itself. */
export function locate(result: Mappable, span: SourceSpan): Located {
  if (!result.cells || !result.cellUris || result.cells.length === 0) return { uri: result.uri, range: toRange(span) };
  const mapped = cellSpan(result.cells, span);
  return { uri: result.cellUris[mapped.cell.index] ?? result.uri, range: toRange(mapped.span) };
}

/** A WorkspaceEdit for core text edits on the analysed text; in a notebook each edit must lie within one cell. */
export function resultEdit(result: Mappable, edits: readonly TextEdit[]): vscode.WorkspaceEdit | { error: string } {
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) {
    if (result.cells && result.cells.length > 0) {
      const mapped = cellSpan(result.cells, edit.span);
      if (edit.span.end.offset > mapped.cell.start + mapped.cell.source.length) {
        return { error: 'This change spans two notebook cells; make it by hand.' };
      }
      const uri = result.cellUris?.[mapped.cell.index];
      if (!uri) return { error: 'The notebook cell of this change is no longer open.' };
      workspaceEdit.replace(uri, toRange(mapped.span), edit.newText);
    } else {
      workspaceEdit.replace(result.uri, toRange(edit.span), edit.newText);
    }
  }
  return workspaceEdit;
}
