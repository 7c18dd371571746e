/** Scopes of the shared Python evaluator: one per module, function call and comprehension. */
import type { Scope, Value } from './values';

/**
 * Mutable bindings of a block interpreted statement by statement, with its enclosing scope
 * (a function's scope encloses the module's: Python's LEGB without the builtins, which the
 * evaluator knows by name).
 */
export class Env<H> implements Scope<H> {
  readonly vars = new Map<string, Value<H>>();
  constructor(
    readonly parent?: Scope<H>,
    bindings?: Iterable<readonly [string, Value<H>]>,
  ) {
    for (const [name, value] of bindings ?? []) this.vars.set(name, value);
  }
  lookup(name: string): Value<H> | undefined {
    return this.vars.has(name) ? this.vars.get(name) : this.parent?.lookup(name);
  }
  set(name: string, value: Value<H>): void {
    this.vars.set(name, value);
  }
  has(name: string): boolean {
    return this.vars.has(name);
  }
  child(bindings?: Iterable<readonly [string, Value<H>]>): Env<H> {
    return new Env(this, bindings);
  }
}
