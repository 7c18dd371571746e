/** Python semantics of constant values that both Python loaders evaluate alike. */

/**
 * Python's arithmetic on two numbers, as the Python loaders evaluate constant expressions:
 * `//` floors and `%` takes the divisor's sign (a − b·⌊a/b⌋), unlike JavaScript's. NaN for an
 * operator it does not cover, so the caller reports the expression as having no value.
 */
export function pythonArithmetic(operator: string, a: number, b: number): number {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '//':
      return Math.floor(a / b);
    case '%':
      return a - b * Math.floor(a / b);
    case '**':
      return a ** b;
    default:
      return Number.NaN;
  }
}

/**
 * Python's truth value of a constant (`if CONFIG["bn"]:`): False, 0, "", None, [] and {} are
 * false. Undefined for values the evaluators cannot judge (references, calls, run-time values).
 * Typed structurally so that both Python loaders' value types fit.
 */
export function pythonTruthiness(value: {
  readonly kind: string;
  readonly value?: unknown;
  readonly items?: readonly unknown[];
  readonly entries?: readonly unknown[];
}): boolean | undefined {
  switch (value.kind) {
    case 'bool':
      return value.value === true;
    case 'number':
      return value.value !== 0;
    case 'string':
      return typeof value.value === 'string' && value.value.length > 0;
    case 'none':
      return false;
    case 'sequence':
      return (value.items?.length ?? 0) > 0;
    case 'dict':
      return (value.entries?.length ?? 0) > 0;
    default:
      return undefined;
  }
}

/**
 * The value a name had at `version`, from its history of writes in version order (binary search:
 * the versioned scopes of both Python readers look names up in O(log writes)).
 */
export function valueAtVersion<T>(versions: readonly { readonly version: number; readonly value: T }[], version: number): { value: T } | undefined {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (versions[mid].version <= version) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? { value: versions[lo - 1].value } : undefined;
}
