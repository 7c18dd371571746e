/**
 * `# activation-lens: data=path/to/file.csv target=label` (or `// activation-lens: …` in JS/TS)
 * in the comment block directly above a model, or at the end of its first line.
 */
export interface DataDirective {
  readonly data?: string;
  readonly target?: string;
  /** 1-based line of the directive. */
  readonly line: number;
}

const COMMENT = /^\s*(#|\/\/)/;

function parseDirective(line: string, lineNumber: number): DataDirective | undefined {
  const at = line.indexOf('activation-lens:');
  if (at < 0) return undefined;
  const fields: Record<string, string> = {};
  // key=value pairs; values may be quoted to hold spaces.
  const pairs = line.slice(at + 'activation-lens:'.length).matchAll(/([A-Za-z_]+)\s*=\s*("([^"]*)"|'([^']*)'|(\S+))/g);
  for (const m of pairs) fields[m[1]] = m[3] ?? m[4] ?? m[5] ?? '';
  if (fields.data === undefined && fields.target === undefined) return undefined;
  return { data: fields.data, target: fields.target, line: lineNumber };
}

/** The directive for a model starting at `modelLine` (1-based), if any. */
export function findDataDirective(text: string, modelLine: number): DataDirective | undefined {
  const lines = text.split('\n');
  const own = lines[modelLine - 1];
  const hash = own?.search(/(#|\/\/)\s*activation-lens:/);
  if (own !== undefined && hash !== undefined && hash >= 0) {
    const found = parseDirective(own.slice(hash), modelLine);
    if (found) return found;
  }
  for (let i = modelLine - 2; i >= 0 && COMMENT.test(lines[i]); i--) {
    const found = parseDirective(lines[i], i + 1);
    if (found) return found;
  }
  return undefined;
}
