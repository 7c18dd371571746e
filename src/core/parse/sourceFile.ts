/**
 * The part every source loader shares: refuse binary text, parse with tree-sitter, hand the tree
 * to the loader, add to Python models the facts the fixers need from the same tree
 * (sourceFacts.ts), turn a thrown bug into a typed problem, and always free the tree (it lives in
 * wasm memory, outside the garbage collector).
 */
import type { Node, Tree } from 'web-tree-sitter';
import { PositionIndex, type LoadResult, type ModelFormat, type SourceSpan } from '../model';
import { getParser, type GrammarName } from './treeSitter';
import { checkTextSize, MAX_MEMBER_CHAIN, MAX_PYTHON_DEPTH, MAX_SCRIPT_DEPTH, MAX_SOURCE_BYTES } from './limits';
import { withSourceFacts } from './sourceFacts';

const LANGUAGE: Readonly<Record<GrammarName, string>> = { python: 'Python', javascript: 'JavaScript', typescript: 'TypeScript', tsx: 'TypeScript (TSX)' };

/**
 * Where a layer-constructing call stands, in the spans every source format records: the whole
 * call, its callee (`nn.Linear`, `layers.Dense`, `tf.layers.dense`) and its argument list. Python
 * and JS call nodes name both fields alike in tree-sitter.
 */
export function callSource(call: Node, span: (node: Node) => SourceSpan): { span: SourceSpan; calleeSpan?: SourceSpan; argumentsSpan?: SourceSpan } {
  const callee = call.childForFieldName('function');
  const argumentList = call.childForFieldName('arguments');
  return { span: span(call), calleeSpan: callee ? span(callee) : undefined, argumentsSpan: argumentList ? span(argumentList) : undefined };
}

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
  const language = LANGUAGE[grammar];
  // The size first: nothing else (not even the line index) is built for a file over the limit.
  const tooLarge = checkTextSize(text, fileName, format, MAX_SOURCE_BYTES, `a ${language} model file`);
  if (tooLarge) return tooLarge;
  const positions = new PositionIndex(text);
  const fileStart = positions.span(0, 0);
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
    const limit = treeLimit(tree, grammar);
    if (limit) {
      const at = positions.span(limit.offset, limit.offset);
      const where = `line ${at.start.line}, column ${at.start.column}`;
      const message =
        limit.kind === 'depth'
          ? `${fileName} nests expressions more than ${limit.max} levels deep (the limit is reached at ${where}), more than Activation Lens reads statically; the file is not read.`
          : `${fileName} has a chain of more than ${limit.max} attribute accesses (\`a.b.c…\`; link ${limit.max + 1} is at ${where}), more than Activation Lens reads statically; the file is not read.`;
      return loadFailure(format, message, at);
    }
    if (grammar === 'python') {
      // tree-sitter accepts a misindented statement as a sibling of its block; Python refuses
      // the whole file (IndentationError), so no model in it would ever run.
      const misindented = unexpectedIndent(tree.rootNode);
      if (misindented) {
        const at = positions.span(misindented.startIndex, misindented.startIndex);
        return loadFailure(format, `Python indentation error at line ${at.start.line}, column ${at.start.column}: this statement is indented differently from the ones before it in the same block (Python raises IndentationError and runs none of the file).`, at);
      }
    }
    // [issue 12] The fixers' facts come from this same tree, so they never parse the file again.
    return grammar === 'python' ? withSourceFacts(read(tree, positions), tree.rootNode) : read(tree, positions);
  } catch (error) {
    // Defensive: the loaders are written not to throw, but a bug must not reach the user as a crash.
    return loadFailure(format, `Internal error while reading ${fileName}: ${errorMessage(error)}`, fileStart);
  } finally {
    tree.delete();
  }
}

/** Nodes that are one link of an attribute chain (`a.b`), and nodes a chain continues through (`a.f().g`, `a[0].b`). */
const CHAIN_LINKS = new Set(['member_expression', 'attribute']);
const CHAIN_PARTS = new Set(['call_expression', 'call', 'subscript_expression', 'subscript', 'non_null_expression', 'parenthesized_expression']);

/**
 * The first place where a syntax tree is deeper than the grammar's limit, or has an attribute
 * chain longer than MAX_MEMBER_CHAIN, with its offset in the text: one cursor walk that stops
 * there (O(nodes) at most, no parent lookups, no recursion, so 100,000 nested brackets are fine).
 * Undefined when the tree is within the limits.
 */
export function treeLimit(tree: Tree, grammar: GrammarName): { kind: 'depth' | 'chain'; max: number; offset: number } | undefined {
  const maxDepth = grammar === 'python' ? MAX_PYTHON_DEPTH : MAX_SCRIPT_DEPTH;
  const cursor = tree.walk();
  const chains: number[] = [0];
  try {
    for (;;) {
      const type = cursor.nodeType;
      const chain = CHAIN_LINKS.has(type) ? chains[chains.length - 1] + 1 : CHAIN_PARTS.has(type) ? chains[chains.length - 1] : 0;
      if (chain > MAX_MEMBER_CHAIN) return { kind: 'chain', max: MAX_MEMBER_CHAIN, offset: chainLinkOffset(cursor.currentNode, MAX_MEMBER_CHAIN + 1) };
      if (chains.length - 1 > maxDepth) return { kind: 'depth', max: maxDepth, offset: cursor.startIndex };
      if (cursor.gotoFirstChild()) {
        chains.push(chain);
        continue;
      }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) return undefined;
        chains.pop();
      }
    }
  } finally {
    cursor.delete();
  }
}

/** The offset of the `n`-th link (from the start) of the attribute chain `outer` ends: where `.name` of that link starts. */
function chainLinkOffset(outer: Node, n: number): number {
  const links: Node[] = [];
  let current: Node | null = outer;
  while (current && (CHAIN_LINKS.has(current.type) || CHAIN_PARTS.has(current.type))) {
    if (CHAIN_LINKS.has(current.type)) links.push(current);
    current = current.namedChild(0);
  }
  const link = links[links.length - n] ?? links[0];
  const name = link?.childForFieldName('property') ?? link?.childForFieldName('attribute');
  return name?.startIndex ?? outer.startIndex;
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
