/**
 * Python's text formatting and `math` functions over constant values, for the shared evaluator
 * (evaluator.ts): f-string format specs, `%`-formatting, `str()` of constants.
 */
import type { Value } from './values';
import { num, pythonStr } from './values';

/** A number's value; bools are 0 and 1 as in Python's arithmetic. */
export function numeric<H>(value: Value<H>): number | undefined {
  if (value.kind === 'number') return value.value;
  if (value.kind === 'bool') return value.value ? 1 : 0;
  return undefined;
}

export function unescape(text: string): string {
  const map: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"', r: '\r', '0': '\0' };
  return text.length === 2 && map[text[1]] !== undefined ? map[text[1]] : text;
}

/** str() of a constant value; undefined when it has no static text. */
export function constantText<H>(value: Value<H>): string | undefined {
  if (value.kind === 'unknown' || value.kind === 'host' || value.kind === 'function' || value.kind === 'class' || value.kind === 'object' || value.kind === 'reference' || value.kind === 'dict') return undefined;
  return pythonStr(value);
}

/** The common format specs (`.2f`, `d`, `03d`, `>5`, `,`); undefined for others. */
export function formatSpec<H>(value: Value<H>, spec: string): string | undefined {
  const match = /^([<>^]?)(0?)(\d*)(,?)(?:\.(\d+))?([dfegs%]?)$/.exec(spec);
  if (!match) return undefined;
  const [, align, zero, width, comma, precision, type] = match;
  let text: string | undefined;
  const n = numeric(value);
  if (type === 'f' || type === '%') {
    if (n === undefined) return undefined;
    text = (type === '%' ? n * 100 : n).toFixed(precision ? Number(precision) : 6) + (type === '%' ? '%' : '');
  } else if (type === 'e') {
    if (n === undefined) return undefined;
    text = n.toExponential(precision ? Number(precision) : 6).replace(/e([+-])(\d)$/, 'e$10$2');
  } else if (type === 'd') {
    if (n === undefined || !Number.isInteger(n)) return undefined;
    text = String(n);
  } else text = constantText(value);
  if (text === undefined) return undefined;
  if (comma) text = text.replace(/^(-?\d+)/, (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','));
  const w = width ? Number(width) : 0;
  if (text.length < w) {
    const pad = w - text.length;
    if (zero && !align) text = text.startsWith('-') ? `-${'0'.repeat(pad)}${text.slice(1)}` : '0'.repeat(pad) + text;
    else if (align === '<' || (!align && value.kind === 'string')) text = text + ' '.repeat(pad);
    else if (align === '^') text = ' '.repeat(Math.floor(pad / 2)) + text + ' '.repeat(Math.ceil(pad / 2));
    else text = ' '.repeat(pad) + text;
  }
  return text;
}

/** `"%d units" % n`, `"%s_%d" % (a, b)`; undefined for other conversions. */
export function percentFormat<H>(template: string, args: readonly Value<H>[]): string | undefined {
  let i = 0;
  let failed = false;
  const text = template.replace(/%(%|[-0-9.]*[sdifr])/g, (all, conversion: string) => {
    if (conversion === '%') return '%';
    const value = args[i++];
    if (!value) {
      failed = true;
      return '';
    }
    const formatted = conversion.endsWith('s') || conversion.endsWith('r') ? constantText(value) : formatSpec(value, conversion.replace('i', 'd'));
    if (formatted === undefined) failed = true;
    return formatted ?? all;
  });
  return failed || i !== args.length ? undefined : text;
}

export function mathFunction<H>(name: string, args: readonly Value<H>[]): Value<H> | undefined {
  const ns = args.map(numeric);
  if (ns.some((n) => n === undefined)) return undefined;
  const [a, b] = ns as number[];
  switch (name) {
    case 'sqrt':
      return a >= 0 ? num(Math.sqrt(a), true) : undefined;
    case 'ceil':
      return num(Math.ceil(a));
    case 'floor':
      return num(Math.floor(a));
    case 'log':
      return a > 0 ? num(b === undefined ? Math.log(a) : Math.log(a) / Math.log(b), true) : undefined;
    case 'log2':
      return a > 0 ? num(Math.log2(a), true) : undefined;
    case 'prod':
      return undefined;
    case 'pow':
      return num(a ** b, true);
    default:
      return undefined;
  }
}

