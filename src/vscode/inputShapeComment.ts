/**
 * The "set the input shape" Quick Fix's text work, free of vscode so it is unit-tested: which
 * problems it answers (a model whose input shape, or a width, is known only at run time), how
 * the person's answer is read, and the `activation-lens: input_shape=` comment it writes on its
 * own line directly above the model (`# …=(28, 28, 1)` in Python, `// …=[28, 28, 1]` in JS/TS),
 * replacing such a comment already there. Every loader reads that comment (the grammar is
 * parseShapeText's in the PyTorch loader: 1 to 3 positive integers, no batch axis).
 */
import { PositionIndex, type ModelFormat } from '../core/model';
import type { TextEdit } from '../core/fixes/edits';

/** The loaders' code for a value known only at run time (agreed in issue 12; older loaders say it in the message). */
export const UNKNOWN_INPUT_SHAPE = 'unknown-input-shape';
const MAX_DIMENSION = 1_000_000;
const MAX_RANK = 3;

/** Whether the fix applies: the loaders' code, or a message that asks for the comment. */
export function asksForInputShape(finding: { readonly code: string; readonly message: string }): boolean {
  return finding.code === UNKNOWN_INPUT_SHAPE || finding.message.includes('activation-lens: input_shape=') ||
    /\binput shape\b.*?\b(only known|known only) at run time/i.test(finding.message);
}

/**
 * Where the statement holding `offset` starts: the start of the last line before it that begins
 * outside every bracket (a problem inside `keras.Sequential([...])` gets its comment above
 * `model = keras.Sequential([`, where the loaders look). Strings and comments are skipped so
 * their brackets do not count.
 */
export function statementStart(text: string, offset: number): number {
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < offset && i < text.length) {
    const c = text[i];
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < text.length && !text.startsWith(quote, j)) {
        if (text[j] === '\\') j++;
        else if (text[j] === '\n' && quote.length === 1 && c !== '`') break;
        j++;
      }
      i = text.startsWith(quote, j) ? j + quote.length : j;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    else if (c === '\n' && depth === 0 && text[i - 1] !== '\\') start = i + 1;
    i++;
  }
  return start;
}

/** Whether the format's comments are JS/TS (`//`) rather than Python (`#`). */
function isScript(format: ModelFormat): boolean {
  return format === 'tfjs-source';
}

/** What the input box asks, in the framework's own layout. */
export function inputShapePrompt(format: ModelFormat): { readonly prompt: string; readonly placeHolder: string } {
  if (format === 'pytorch-python') {
    return { prompt: 'Input shape of one example, channels first, without the batch axis: (C, H, W) for images, (features,) for vectors', placeHolder: '1, 28, 28' };
  }
  return { prompt: 'Input shape of one example, channels last, without the batch axis: (H, W, C) for images, (features,) for vectors', placeHolder: '28, 28, 1' };
}

/**
 * Reads the person's answer: `28, 28, 1`, `(28, 28, 1)`, `[28,28,1]`, `784` or `28x28`. The
 * shape, or what is wrong with it (the input box shows that while they type).
 */
export function parseInputShape(answer: string): number[] | { readonly error: string } {
  let text = answer.trim();
  if (/^[([]/.test(text)) {
    const close = text[0] === '(' ? ')' : ']';
    if (!text.endsWith(close)) return { error: `Close the ${text[0]} with ${close}.` };
    text = text.slice(1, -1).trim();
  }
  const parts = text.split(/\s*[,x×]\s*|\s+/i).filter((p) => p.length > 0);
  if (parts.length === 0) return { error: 'Type the sizes of one example\'s axes, e.g. 28, 28, 1.' };
  if (parts.length > MAX_RANK) return { error: `At most ${MAX_RANK} axes (one example, without the batch axis).` };
  const dims = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  const bad = parts.find((_, i) => !Number.isInteger(dims[i]) || dims[i] <= 0 || dims[i] > MAX_DIMENSION);
  if (bad !== undefined) return { error: `\`${bad}\` is not a positive whole number of at most ${MAX_DIMENSION.toLocaleString('en-US')}.` };
  return dims;
}

/** The comment's text for `shape` in the format's syntax. */
export function inputShapeComment(format: ModelFormat, shape: readonly number[]): string {
  if (isScript(format)) return `// activation-lens: input_shape=[${shape.join(', ')}]`;
  return `# activation-lens: input_shape=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * The edit writing the comment above the statement where the model is (`offset` in `text`), with
 * that line's indentation; an input_shape comment directly above is replaced, not stacked.
 */
export function inputShapeEdit(text: string, offset: number, format: ModelFormat, shape: readonly number[]): TextEdit {
  const index = new PositionIndex(text);
  const lineStart = statementStart(text, offset);
  const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
  const comment = `${indent}${inputShapeComment(format, shape)}`;
  if (lineStart > 0) {
    const previousStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    const previous = text.slice(previousStart, lineStart - 1);
    if (/^\s*(#|\/\/)\s*activation-lens:.*\binput_shape\b/.test(previous) && !/\bdata\s*=/.test(previous)) {
      return { span: index.span(previousStart, lineStart - 1), newText: comment };
    }
  }
  return { span: index.span(lineStart, lineStart), newText: `${comment}\n` };
}
