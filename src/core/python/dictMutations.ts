/** Dicts a Python file changes in place: such a dict is not a constant the readers may use. */
import type { Node } from 'web-tree-sitter';
import { dottedParts } from './imports';

/**
 * Dicts changed in place somewhere in a file: the dotted text of each changed object (`cfg`,
 * `self.cfg`) → the first statement that changes it. A dict read by such a name is not a
 * constant (its contents depend on what runs first), so it is refused with that place. Found
 * syntactically: `x[k] = v`, `x[k] += v`, `del x[k]`, `x |= {...}`, `x.update(...)`,
 * `x.pop(...)`, `x.popitem()`, `x.setdefault(...)`, `x.clear()`; then names the changed dict may
 * be an alias of (`c = CONFIG`, `self.cfg = cfg`) and the arguments given to a function of the
 * file whose parameter is changed (`tweak(CONFIG)` with `def tweak(c): c['x'] = 1`).
 */
export function findDictMutations(root: Node): Map<string, Node> {
  const changed = new Map<string, Node>();
  const dotted = (node: Node | null | undefined): string | undefined => {
    const parts = node ? dottedParts(node) : undefined;
    return parts?.join('.');
  };
  const mark = (object: Node | null | undefined, at: Node): void => {
    const name = dotted(object);
    if (name && !changed.has(name)) changed.set(name, at);
  };
  const subscriptTargets = (target: Node | null, at: Node): void => {
    if (!target) return;
    if (target.type === 'subscript') mark(target.childForFieldName('value'), at);
    else if (target.type === 'pattern_list' || target.type === 'tuple_pattern' || target.type === 'list_pattern' || target.type === 'tuple' || target.type === 'list' || target.type === 'expression_list') {
      for (const child of target.namedChildren) if (child) subscriptTargets(child, at);
    }
  };
  const statementOf = (node: Node): Node => (node.parent?.type === 'expression_statement' ? node.parent : node);
  for (const node of root.descendantsOfType(['assignment', 'augmented_assignment', 'delete_statement', 'call'])) {
    if (!node) continue;
    if (node.type === 'assignment') subscriptTargets(node.childForFieldName('left'), statementOf(node));
    else if (node.type === 'augmented_assignment') {
      const left = node.childForFieldName('left');
      if (left?.type === 'subscript') mark(left.childForFieldName('value'), statementOf(node));
      else if (node.childForFieldName('operator')?.text === '|=') mark(left, statementOf(node));
    } else if (node.type === 'delete_statement') {
      for (const target of node.namedChildren) {
        if (target?.type === 'subscript') mark(target.childForFieldName('value'), node);
        else if (target?.type === 'expression_list') for (const inner of target.namedChildren) if (inner?.type === 'subscript') mark(inner.childForFieldName('value'), node);
      }
    } else {
      const callee = node.childForFieldName('function');
      const method = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : undefined;
      if (method && DICT_MUTATORS.has(method)) mark(callee?.childForFieldName('object'), statementOf(node));
    }
  }
  if (changed.size === 0) return changed;
  // Aliases and parameters, to a fixed point (each round adds a name or stops).
  const aliases: { left: string; right: string }[] = [];
  for (const assignment of root.descendantsOfType('assignment')) {
    const left = dotted(assignment?.childForFieldName('left'));
    const right = dotted(assignment?.childForFieldName('right'));
    if (left && right) aliases.push({ left, right });
  }
  const functions = root.descendantsOfType('function_definition').filter((fn): fn is Node => !!fn);
  for (let changedSomething = true; changedSomething; ) {
    changedSomething = false;
    for (const { left, right } of aliases) {
      const at = changed.get(left);
      if (at && !changed.has(right)) {
        changed.set(right, at);
        changedSomething = true;
      }
    }
    for (const fn of functions) {
      const fnName = fn.childForFieldName('name')?.text;
      const parameters = fn.childForFieldName('parameters')?.namedChildren ?? [];
      const at = parameters
        .map((parameter) => (parameter?.type === 'identifier' ? parameter.text : parameter?.childForFieldName('name')?.text))
        .map((name) => (name ? changed.get(name) : undefined))
        .find((node) => node !== undefined);
      if (!fnName || !at) continue;
      for (const call of root.descendantsOfType('call')) {
        const callee = call?.childForFieldName('function');
        const calledName = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.text;
        if (!call || calledName !== fnName) continue;
        for (const argument of call.childForFieldName('arguments')?.namedChildren ?? []) {
          const value = argument?.type === 'keyword_argument' ? argument.childForFieldName('value') : argument;
          const name = dotted(value);
          if (name && !changed.has(name)) {
            changed.set(name, at);
            changedSomething = true;
          }
        }
      }
    }
  }
  return changed;
}

/** Methods that change a dict in place. */
const DICT_MUTATORS = new Set(['update', 'pop', 'popitem', 'setdefault', 'clear']);
