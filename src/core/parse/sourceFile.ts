/**
 * The part every source loader shares: refuse binary text, parse with tree-sitter, hand the tree
 * to the loader, turn a thrown bug into a typed problem, and always free the tree (it lives in
 * wasm memory, outside the garbage collector).
 */
import type { Node, Tree } from 'web-tree-sitter';
import { PositionIndex, type LoadResult, type ModelFormat, type SourceSpan } from '../model';
import { getParser, type GrammarName } from './treeSitter';

const LANGUAGE: Readonly<Record<GrammarName, string>> = { python: 'Python', javascript: 'JavaScript', typescript: 'TypeScript', tsx: 'TypeScript (TSX)' };

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A LoadResult holding one parse-error problem. */
export function loadFailure(format: ModelFormat, message: string, span: SourceSpan): LoadResult {
  return { format, models: [], problems: [{ code: 'parse-error', message, span }] };
}

/** Parses `text` and runs `read` on its tree. Never throws. */
export async function readSourceFile(
  text: string,
  fileName: string,
  grammar: GrammarName,
  format: ModelFormat,
  read: (tree: Tree, positions: PositionIndex) => LoadResult,
): Promise<LoadResult> {
  const positions = new PositionIndex(text);
  const fileStart = positions.span(0, 0);
  const language = LANGUAGE[grammar];
  if (text.includes('\u0000')) {
    return loadFailure(format, `${fileName} is not a text file (it contains NUL bytes), so it cannot be read as ${language}.`, fileStart);
  }
  let tree: Tree | null;
  try {
    tree = (await getParser(grammar)).parse(text);
  } catch (error) {
    return loadFailure(format, `Could not start the ${language} parser: ${errorMessage(error)}`, fileStart);
  }
  if (!tree) return loadFailure(format, `The ${language} parser returned no syntax tree.`, fileStart);
  try {
    if (grammar === 'python') {
      // tree-sitter accepts a misindented statement as a sibling of its block; Python refuses
      // the whole file (IndentationError), so no model in it would ever run.
      const misindented = unexpectedIndent(tree.rootNode);
      if (misindented) {
        const at = positions.span(misindented.startIndex, misindented.startIndex);
        return loadFailure(format, `Python indentation error at line ${at.start.line}, column ${at.start.column}: this statement is indented differently from the ones before it in the same block (Python raises IndentationError and runs none of the file).`, at);
      }
    }
    return read(tree, positions);
  } catch (error) {
    // Defensive: the loaders are written not to throw, but a bug must not reach the user as a crash.
    return loadFailure(format, `Internal error while reading ${fileName}: ${errorMessage(error)}`, fileStart);
  } finally {
    tree.delete();
  }
}

/**
 * The first statement that starts a line at another column than the first such statement of its
 * block (column 0 at module level). Statements after `;` on one line, and comments, do not count.
 */
export function unexpectedIndent(root: Node): Node | undefined {
  const pending: Node[] = [root];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.type === 'module' || node.type === 'block') {
      let column: number | undefined = node.type === 'module' ? 0 : undefined;
      let lastRow = -1;
      for (const statement of node.namedChildren) {
        if (!statement || statement.type === 'comment') continue;
        const row = statement.startPosition.row;
        const startsLine = row !== lastRow && !(node.type === 'block' && row === node.parent?.startPosition.row);
        lastRow = statement.endPosition.row;
        if (!startsLine) continue;
        column ??= statement.startPosition.column;
        if (statement.startPosition.column !== column) return statement;
      }
    }
    for (const child of node.namedChildren) if (child) pending.push(child);
  }
  return undefined;
}

/** The first ERROR or MISSING node under `node` in document order (tree-sitter's syntax errors). */
export function firstSyntaxError(node: Node): Node | undefined {
  if (node.isError || node.isMissing) return node;
  if (!node.hasError) return undefined;
  for (const child of node.children) {
    if (!child) continue;
    const found = firstSyntaxError(child);
    if (found) return found;
  }
  return undefined;
}
