/**
 * Jupyter notebooks (nbformat 4): the code cells, in order, as one Python program for the
 * Python readers, and the map from that program's offsets back to cells. IPython magics and
 * shell lines (`%…`, `%%…`, `!…`) are blanked to spaces of the same length, so that every offset
 * inside a cell is the same in the program and in the cell; markdown and raw cells and outputs
 * are skipped. Nothing is executed. Pure.
 */
import { PositionIndex, type LoadProblem, type NotebookCell, type SourceSpan } from '../model';

export type { NotebookCell } from '../model';
import { MAX_JSON_BYTES, formatBytes } from './limits';

/** A position in a cell: 1-based line and column, and the 0-based offset, within the cell. */
export interface CellPosition {
  readonly cell: NotebookCell;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

export interface NotebookProgram {
  /** The code cells joined by one newline each, magics blanked. */
  readonly program: string;
  readonly cells: readonly NotebookCell[];
}

export function isNotebookFile(fileName: string): boolean {
  return fileName.toLowerCase().endsWith('.ipynb');
}

/** `%matplotlib inline`, `%%time`, `!pip install …`, and `?`-help lines: IPython, not Python. */
const IPYTHON_LINE = /^[ \t]*(%|!|\?)/;

/** A line of IPython syntax replaced by spaces (same length: offsets keep their place). */
function blankIPython(source: string): string {
  return source.split('\n').map((line) => (IPYTHON_LINE.test(line) ? ' '.repeat(line.length) : line)).join('\n');
}

function problem(message: string): LoadProblem {
  return { code: 'parse-error', message, span: new PositionIndex('').span(0, 0) };
}

/**
 * Reads a notebook's JSON into its program, or says why it cannot: not JSON, not nbformat 4,
 * a kernel language other than Python, no code cells.
 */
export function readNotebook(text: string, fileName: string): NotebookProgram | LoadProblem {
  if (text.length > MAX_JSON_BYTES) {
    return problem(`${fileName} is ${formatBytes(text.length)}, above the ${formatBytes(MAX_JSON_BYTES)} a notebook may have here (its outputs count: clearing them makes it smaller).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return problem(`${fileName} is not a readable notebook: its JSON is malformed.`);
  }
  const notebook = json as { nbformat?: unknown; cells?: unknown; metadata?: { kernelspec?: { language?: unknown }; language_info?: { name?: unknown } } };
  if (typeof notebook !== 'object' || notebook === null || notebook.nbformat !== 4 || !Array.isArray(notebook.cells)) {
    const version = typeof notebook === 'object' && notebook !== null && typeof notebook.nbformat === 'number' ? ` (it is nbformat ${notebook.nbformat})` : '';
    return problem(`${fileName} is not a Jupyter notebook in nbformat 4${version}; Activation Lens reads nbformat 4 notebooks (Jupyter saves that format since 2015).`);
  }
  const language = notebook.metadata?.kernelspec?.language ?? notebook.metadata?.language_info?.name;
  if (typeof language === 'string' && language.toLowerCase() !== 'python') {
    return problem(`${fileName} runs a ${language} kernel; Activation Lens reads the Python code of notebooks (Keras or PyTorch).`);
  }
  const cells: NotebookCell[] = [];
  const parts: string[] = [];
  let at = 0;
  notebook.cells.forEach((raw: unknown, index: number) => {
    const cell = raw as { cell_type?: unknown; source?: unknown };
    if (cell?.cell_type !== 'code') return;
    const source = Array.isArray(cell.source) ? cell.source.filter((s) => typeof s === 'string').join('') : typeof cell.source === 'string' ? cell.source : '';
    cells.push({ index, start: at, source });
    parts.push(blankIPython(source));
    at += source.length + 1;
  });
  if (cells.length === 0) return problem(`${fileName} has no code cells, so there is no model to read.`);
  return { program: parts.join('\n'), cells };
}

/** The cell an offset of the joined program lies in, and the position there. */
export function cellPosition(cells: readonly NotebookCell[], offset: number): CellPosition {
  let lo = 0;
  let hi = cells.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cells[mid].start <= offset) lo = mid;
    else hi = mid - 1;
  }
  const cell = cells[lo];
  const within = Math.max(0, Math.min(offset - cell.start, cell.source.length));
  const position = new PositionIndex(cell.source).position(within);
  return { cell, line: position.line, column: position.column, offset: within };
}

/** A program span as the cell it starts in and a span within that cell (ends past the cell are clamped to it). */
export function cellSpan(cells: readonly NotebookCell[], span: SourceSpan): { readonly cell: NotebookCell; readonly span: SourceSpan } {
  const start = cellPosition(cells, span.start.offset);
  const endOffset = Math.min(span.end.offset, start.cell.start + start.cell.source.length);
  const index = new PositionIndex(start.cell.source);
  return { cell: start.cell, span: index.span(start.offset, Math.max(start.offset, endOffset - start.cell.start)) };
}
