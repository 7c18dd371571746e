/**
 * Python dict semantics the Python loaders' evaluators share: entries keep their first
 * insertion's position, the last write of a key wins, keys are constant strings or numbers
 * (Python compares 1 and 1.0 equal, as `===` does). Generic over each loader's value type.
 */

/** One `key: value` of a dict value. */
export interface DictEntry<V> {
  readonly key: string | number;
  readonly value: V;
}

/** The value of a dict for a constant key, or undefined (a KeyError when run). */
export function dictGet<V>(entries: readonly DictEntry<V>[], key: string | number): V | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i].key === key) return entries[i].value;
  return undefined;
}

/** Adds or replaces an entry, keeping the first insertion's position (Python dict order). */
export function dictSet<V>(entries: DictEntry<V>[], key: string | number, value: V): void {
  const index = entries.findIndex((entry) => entry.key === key);
  if (index >= 0) entries[index] = { key, value };
  else entries.push({ key, value });
}
