/**
 * One description of a source file's first syntax error, for every tree-sitter loader (Python,
 * JavaScript, TypeScript). tree-sitter recovers from an error by wrapping what it could not fit
 * in an ERROR node, which often starts far before the mistake (a whole statement, or the whole
 * file when a `def` lacks its colon). Naming that node's start would send the person to line 1;
 * so the error is located as Python and JavaScript would report it where the tree allows:
 *  - a bracket opened inside the ERROR and never closed: the opening bracket;
 *  - a Python clause (`def`, `if`, `for`, …) whose header runs into the next line with no `:`:
 *    the end of the header;
 *  - a MISSING token (tree-sitter inserted it to recover): where it is missing, naming the
 *    bracket it would close;
 *  - otherwise the innermost ERROR, quoted.
 */
import type { Node } from 'web-tree-sitter';
import type { LoadProblem, PositionIndex } from '../model';
import { firstSyntaxError } from './sourceFile';

const CLOSING: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const OPENING: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };
/** Python keywords that start a clause whose header must end with `:`. */
const PYTHON_CLAUSES = new Set(['def', 'class', 'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'match', 'case']);
const QUOTE_LIMIT = 60;

export type SourceLanguage = 'Python' | 'JavaScript' | 'TypeScript' | 'TypeScript (TSX)';

/** The file's first syntax error as a parse-error problem, or undefined when the tree has none. */
export function syntaxErrorProblem(root: Node, text: string, positions: PositionIndex, language: SourceLanguage): LoadProblem | undefined {
  const error = firstSyntaxError(root);
  if (!error) return undefined;
  const { offset, end, what } = locate(error, text, language);
  const at = positions.position(offset);
  // "Python syntax error" tells a notebook or .py user which language was expected; JS/TS keep the plain wording.
  const prefix = language === 'Python' ? 'Python syntax error' : 'Syntax error';
  return { code: 'parse-error', message: `${prefix} near line ${at.line}, column ${at.column}: ${what}.`, span: positions.span(offset, end) };
}

function locate(error: Node, text: string, language: SourceLanguage): { offset: number; end: number; what: string } {
  if (error.isMissing) return missingToken(error);
  const innermost = innermostError(error);
  const unclosed = unclosedBracket(innermost) ?? unclosedBracket(error);
  if (unclosed) return { offset: unclosed.startIndex, end: unclosed.endIndex, what: `\`${unclosed.type}\` is opened here and never closed` };
  if (language === 'Python') {
    const header = headerWithoutColon(innermost, text) ?? headerWithoutColon(error, text);
    if (header) return { offset: header.endIndex, end: header.endIndex, what: `missing \`:\` at the end of this \`${header.keyword}\` line` };
  }
  if (innermost.endIndex <= innermost.startIndex) return { offset: innermost.startIndex, end: innermost.startIndex, what: 'unexpected end of input' };
  return { offset: innermost.startIndex, end: innermost.endIndex, what: `unexpected \`${quote(text.slice(innermost.startIndex, innermost.endIndex))}\`` };
}

/** A token tree-sitter inserted: `)` names the `(` it would close when the parent holds one. */
function missingToken(node: Node): { offset: number; end: number; what: string } {
  const opener = OPENING[node.type];
  const parent = node.parent;
  const open = opener && parent ? parent.children.find((child) => child?.type === opener && child.startIndex < node.startIndex) : undefined;
  if (open) {
    const row = open.startPosition.row + 1;
    const column = open.startPosition.column + 1;
    return { offset: node.startIndex, end: node.startIndex, what: `missing \`${node.type}\` to close the \`${opener}\` at line ${row}, column ${column}` };
  }
  return { offset: node.startIndex, end: node.startIndex, what: `missing \`${node.type}\`` };
}

/** The deepest ERROR on the path of first errors: the smallest region tree-sitter could not read. */
function innermostError(error: Node): Node {
  let current = error;
  for (;;) {
    const inner = current.children.find((child) => child !== null && child.hasError && !child.isMissing);
    const deeper = inner ? firstSyntaxError(inner) : undefined;
    if (!deeper || deeper.isMissing || deeper === current) return current;
    current = deeper;
  }
}

/** The last opening bracket among the ERROR's own tokens that no later token of it closes. */
function unclosedBracket(error: Node): Node | undefined {
  const open: Node[] = [];
  for (const child of error.children) {
    if (!child) continue;
    if (CLOSING[child.type]) open.push(child);
    else if (OPENING[child.type] && open.length > 0 && open[open.length - 1].type === OPENING[child.type]) open.pop();
  }
  return open[open.length - 1];
}

/**
 * A clause keyword that starts its line among the ERROR's tokens, whose header ends (a line break
 * outside brackets, or the ERROR's end) with no `:`. Headers in brackets may span lines, so the
 * walk is over the header's tokens (leaves) with a bracket depth. Starting the line keeps out
 * `a if b else c` and comprehensions' `for`.
 */
function headerWithoutColon(error: Node, text: string): { keyword: string; endIndex: number } | undefined {
  const children = error.children.filter((child): child is Node => child !== null);
  for (let i = 0; i < children.length; i++) {
    const keyword = children[i];
    if (!PYTHON_CLAUSES.has(keyword.type) || !startsLine(keyword, text)) continue;
    const tokens = children.slice(i + 1).flatMap(leaves);
    let last = keyword;
    let depth = 0;
    let colon = false;
    for (const token of tokens) {
      if (depth === 0 && token.startPosition.row > last.endPosition.row) break;
      if (depth === 0 && token.type === ':') {
        colon = true;
        break;
      }
      if (CLOSING[token.type]) depth++;
      else if (OPENING[token.type]) depth = Math.max(0, depth - 1);
      last = token;
    }
    if (!colon && last !== keyword) return { keyword: keyword.type, endIndex: last.endIndex };
  }
  return undefined;
}

/** The tokens of a subtree in source order (a node with no children is a token). */
function leaves(node: Node): Node[] {
  if (node.childCount === 0) return node.endIndex > node.startIndex ? [node] : [];
  return node.children.flatMap((child) => (child ? leaves(child) : []));
}

function startsLine(node: Node, text: string): boolean {
  const lineStart = text.lastIndexOf('\n', node.startIndex - 1) + 1;
  return text.slice(lineStart, node.startIndex).trim() === '';
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > QUOTE_LIMIT ? `${flat.slice(0, QUOTE_LIMIT - 1)}…` : flat;
}
