/**
 * Whole-identifier tests on source text, for the readers' cheap pre-filters before a tree walk.
 */

/** Python identifier characters (ASCII; names outside it are rare in model files and only make the filter keep more). */
function isIdentifierChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_]/.test(ch);
}

/**
 * Whether `text` has `name` as a whole identifier (`m1` is not in `m10 = ...`): a substring test
 * made every model of a file of thousands re-read the statements of the models named like it.
 */
export function mentionsName(text: string, name: string): boolean {
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
    if (!isIdentifierChar(text[at - 1]) && !isIdentifierChar(text[at + name.length])) return true;
  }
  return false;
}
