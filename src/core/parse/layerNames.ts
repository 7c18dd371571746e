/**
 * Layer names as Keras and TF.js give them: a layer without `name=` is named after its class,
 * counted per class (dense, dense_1, dense_2, …); an explicit name is kept; either way a name
 * already taken in the model gets a `_N` suffix, so names stay unique.
 */
export class LayerNamer {
  private readonly countsPerBase = new Map<string, number>();
  private readonly taken = new Set<string>();

  /** `auto`: the name was not written in the file, so the per-class counter applies. */
  next(base: string, auto: boolean): string {
    let name = base;
    if (auto) {
      const count = this.countsPerBase.get(base) ?? 0;
      this.countsPerBase.set(base, count + 1);
      name = count === 0 ? base : `${base}_${count}`;
    }
    let candidate = name;
    for (let i = 1; this.taken.has(candidate); i++) candidate = `${name}_${i}`;
    this.taken.add(candidate);
    return candidate;
  }
}
