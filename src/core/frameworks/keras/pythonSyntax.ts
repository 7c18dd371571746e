import type { Node } from 'web-tree-sitter';
import { codeChildren, isExtra } from '../../python/evaluator';
import { statementsOf } from '../../python/interpreter';

/** Comments and line continuations are never code (the shared evaluator's definition). */
export { isExtra };

/** The first named child that is code (not a comment or a line continuation). */
export function firstCode(node: Node | null | undefined): Node | undefined {
  return node ? codeChildren(node)[0] : undefined;
}

export function ancestorOfType(node: Node, type: string): Node | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === type) return current;
  }
  return undefined;
}

export function skipParentheses(node: Node | null): Node | null {
  let current = node;
  while (current?.type === 'parenthesized_expression') current = current.parent;
  return current;
}

export function skipParenthesesDown(node: Node | null): Node | null {
  let current = node;
  while (current?.type === 'parenthesized_expression') current = current.namedChildren.find((c) => c && !isExtra(c)) ?? null;
  return current;
}

export const namedStatements = (block: Node): Node[] => statementsOf(block);

export function returnsName(fn: Node, name: string): boolean {
  return fn
    .descendantsOfType('return_statement')
    .some((statement) => !!statement && firstCode(statement)?.text === name && ancestorOfType(statement, 'function_definition')?.id === fn.id);
}


export function uniqueName(base: string, used: Map<string, number>): string {
  const count = used.get(base) ?? 0;
  used.set(base, count + 1);
  if (count === 0) return base;
  let candidate = `${base}_${count + 1}`;
  while (used.has(candidate)) candidate = `${candidate}_`;
  used.set(candidate, 1);
  return candidate;
}

