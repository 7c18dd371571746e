/**
 * Where a JSON text is invalid, in our own words: Node 20's JSON.parse gives no position for many
 * errors and quotes the text itself ("[1,}" is not valid JSON), so a failed parse is re-scanned
 * here. One linear pass with an explicit stack (no recursion, so any nesting depth is fine).
 */

export interface JsonProblem {
  readonly message: string;
  /** UTF-16 offset into the text. */
  readonly offset: number;
}

function describe(text: string, at: number): string {
  if (at >= text.length) return 'the end of the file';
  const code = text.charCodeAt(at);
  return code > 0x20 && code < 0x7f ? `'${text[at]}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonError(text: string): JsonProblem | undefined {
  const n = text.length;
  let i = 0;
  const stack: number[] = []; // '[' or '{' char codes
  type State = 'value' | 'after' | 'key';
  let state: State = 'value';
  const skip = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const problem = (message: string, offset = i): JsonProblem => ({ message, offset });
  const scanString = (): JsonProblem | undefined => {
    const start = i;
    i++;
    for (;;) {
      if (i >= n) return problem('the file ends inside a string that opens here', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return problem(`a control character (${describe(text, i)}) inside a string; write it escaped`);
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return problem('a \\u escape needs four hex digits');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return problem(i + 1 >= n ? 'the file ends inside a string escape' : `an invalid escape \\${describe(text, i + 1)} in a string`);
        continue;
      }
      i++;
    }
  };
  const digits = () => {
    const from = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i - from;
  };
  const scanNumber = (): JsonProblem | undefined => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (digits() === 0) return problem(`expected a digit, found ${describe(text, i)}`);
    if (text[i] === '.') {
      i++;
      if (digits() === 0) return problem(`expected a digit after the decimal point, found ${describe(text, i)}`);
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (digits() === 0) return problem(`expected a digit in the exponent, found ${describe(text, i)}`);
    }
    return undefined;
  };
  skip();
  for (;;) {
    if (state === 'value') {
      skip();
      if (i >= n) return problem('the file ends where a value is expected');
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(text.charCodeAt(i));
        i++;
        skip();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          state = 'after';
        } else state = c === '{' ? 'key' : 'value';
        continue;
      }
      let failed: JsonProblem | undefined;
      if (c === '"') failed = scanString();
      else if (c === '-' || (c >= '0' && c <= '9')) failed = scanNumber();
      else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
        if (!word) return problem(/^(NaN|-?Infinity)/.test(text.slice(i, i + 9)) ? 'NaN and Infinity are not JSON; write null or a number' : `unexpected ${describe(text, i)} where a value is expected`);
        i += word.length;
      }
      if (failed) return failed;
      state = 'after';
    } else if (state === 'key') {
      skip();
      if (text[i] !== '"') return problem(i >= n ? 'the file ends where a property name is expected' : `expected a quoted property name, found ${describe(text, i)}`);
      const failed = scanString();
      if (failed) return failed;
      skip();
      if (text[i] !== ':') return problem(`expected ':' after a property name, found ${describe(text, i)}`);
      i++;
      state = 'value';
    } else {
      skip();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? problem(`unexpected ${describe(text, i)} after the end of the JSON value`) : undefined;
      const close = top === 0x5b ? ']' : '}';
      const c = text[i];
      if (c === ',') {
        i++;
        skip();
        if (text[i] === close) return problem(`a trailing comma before '${close}'`);
        state = top === 0x5b ? 'value' : 'key';
      } else if (c === close) {
        stack.pop();
        i++;
      } else {
        return problem(top === 0x5b ? `expected ',' or ']' after an array element, found ${describe(text, i)}` : `expected ',' or '}' after a property value, found ${describe(text, i)}`);
      }
    }
  }
}

/** 1-based line and column (in UTF-16 units) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    start = at + 1;
  }
  return { line, column: offset - start + 1 };
}
