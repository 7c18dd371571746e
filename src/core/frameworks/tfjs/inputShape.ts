/**
 * The input shape a TF.js file leaves to run time: the `// activation-lens: input_shape=[…]`
 * comment that stands in for it (the grammar every loader reads and the Quick Fix writes).
 */
import type { Node } from 'web-tree-sitter';
import { Unsound } from './values';

/** How a refusal for an unknown input shape says the comment the Quick Fix writes (it keys on `activation-lens: input_shape=`). */
export const INPUT_SHAPE_HINT = 'or add a comment `// activation-lens: input_shape=[…]` above the model';

/** The stand-in for an input shape the file leaves to run time, noted with `unknown` at `at`; undefined when there is none. */
export type RunTimeShape = (unknown: string, at: Node) => number[] | undefined;

/**
 * The first layer's (or `tf.input`'s) own input shape; where it cannot be read statically the
 * stand-in is used, and without one the refusal also names the comment that would answer it.
 */
export function readInputShape(read: () => number[] | undefined, runTimeShape: RunTimeShape): number[] | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof Unsound)) throw error;
    const message = error.message.replace(/\.$/, '');
    const shape = runTimeShape(`${message.charAt(0).toUpperCase()}${message.slice(1)}`, error.node);
    if (shape) return shape;
    throw new Unsound('unknown-input-shape', `${message}; write fixed numbers there, ${INPUT_SHAPE_HINT}.`, error.node);
  }
}

export function formatShape(shape: readonly number[]): string {
  return `\`[${shape.join(', ')}]\``;
}

/**
 * Reads `= [28, 28, 1]` / `: (784)` after `input_shape` in a comment: 1 to 3 positive integers
 * (the grammar every loader reads and the Quick Fix writes).
 */
export function parseInputShapeComment(text: string): number[] | undefined {
  const match = /^\s*[=:]\s*(?:\(([^()]*)\)|\[([^[\]]*)\])/.exec(text);
  if (!match) return undefined;
  const parts = (match[1] ?? match[2]).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (dims.length === 0 || dims.length > 3 || dims.some((d) => !Number.isInteger(d) || d <= 0 || d > 1_000_000)) return undefined;
  return dims;
}

export const SHAPE_COMMENT = /(?:\/\/|\/\*)\s*activation-lens:[^\n]*?\binput_shape\b/g;

/** The statements holding `node`, innermost first (a statement is a child of a block, the program or a class body). */
export function enclosingStatements(node: Node): Node[] {
  const found: Node[] = [];
  for (let current: Node | null = node; current?.parent; current = current.parent) {
    const parentType = current.parent.type;
    if (parentType === 'program' || parentType === 'statement_block' || parentType === 'class_body') found.push(current);
  }
  return found;
}

/** The shape of an input_shape comment on the comment lines directly above `offset`'s line, nearest first. */
export function commentShapeAbove(text: string, offset: number): { shape: number[]; offset: number } | undefined {
  let lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  while (lineStart > 0) {
    const previousStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    const line = text.slice(previousStart, lineStart - 1);
    if (!/^\s*(\/\/|\/\*|\*)/.test(line)) return undefined;
    for (const match of line.matchAll(SHAPE_COMMENT)) {
      const shape = parseInputShapeComment(line.slice(match.index + match[0].length));
      if (shape) return { shape, offset: previousStart + match.index };
    }
    lineStart = previousStart;
  }
  return undefined;
}
