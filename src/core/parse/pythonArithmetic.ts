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
