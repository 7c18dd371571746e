/**
 * Frozen layers in Keras code written as statements after the model is built (issue 14,
 * training state): `model.trainable = False`, `model.layers[0].trainable = False`,
 * `model.get_layer("dense").trainable = False`, `dense.trainable = False` on a layer variable and
 * `for layer in model.layers[:k]: layer.trainable = False`. Recognised by syntax here; the loader
 * (python.ts) resolves the object to a model or layer and applies them in program order. A
 * `trainable` assignment of any other form is returned as unread so that it can be reported.
 */
import type { Node } from 'web-tree-sitter';
import { isExtra } from './pythonSyntax';

export type LayerSelection =
  | { readonly kind: 'object' }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'slice'; readonly start?: number; readonly end?: number }
  | { readonly kind: 'name'; readonly name: string };

export interface KerasFreeze {
  /** The statement, for positions and messages. */
  readonly at: Node;
  /** The model (or, for `object`, the model or a layer) the statement changes. */
  readonly owner: Node;
  readonly select: LayerSelection;
  readonly trainable: boolean;
}

export interface KerasFreezes {
  readonly freezes: readonly KerasFreeze[];
  /** `trainable` assignments of no form above (a computed flag, a loop with other statements), with the object they start from. */
  readonly unread: readonly { readonly at: Node; readonly owner: Node | undefined }[];
}

function flag(node: Node | null): boolean | undefined {
  return node?.type === 'true' ? true : node?.type === 'false' ? false : undefined;
}

/** An integer literal, negative ones included (`-1`). */
function integer(node: Node | null | undefined): number | undefined {
  if (!node) return undefined;
  if (node.type === 'integer') return Number(node.text);
  if (node.type === 'unary_operator' && node.text.startsWith('-')) {
    const inner = integer(node.childForFieldName('argument'));
    return inner === undefined ? undefined : -inner;
  }
  return undefined;
}

/** `O.layers` → O. */
function layersOwner(node: Node | null | undefined): Node | undefined {
  if (node?.type !== 'attribute' || node.childForFieldName('attribute')?.text !== 'layers') return undefined;
  return node.childForFieldName('object') ?? undefined;
}

/** `O.layers[i]`, `O.layers[a:b]`, `O.get_layer("n")`, or any other object: what it selects of which owner. */
function selection(node: Node): { owner: Node; select: LayerSelection } | undefined {
  if (node.type === 'subscript') {
    const owner = layersOwner(node.childForFieldName('value'));
    const subscripts = node.childrenForFieldName('subscript').filter((s): s is Node => !!s && !isExtra(s));
    if (!owner || subscripts.length !== 1) return undefined;
    const [subscript] = subscripts;
    if (subscript.type === 'slice') return sliceOf(owner, subscript);
    const index = integer(subscript);
    return index === undefined ? undefined : { owner, select: { kind: 'index', index } };
  }
  if (node.type === 'call') {
    const callee = node.childForFieldName('function');
    if (callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'get_layer') {
      const owner = callee.childForFieldName('object');
      const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a): a is Node => !!a && !isExtra(a));
      const keyword = args.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'name');
      const nameNode = keyword ? keyword.childForFieldName('value') : args.length === 1 ? args[0] : undefined;
      const name = nameNode?.type === 'string' ? stringText(nameNode) : undefined;
      return owner && name !== undefined ? { owner, select: { kind: 'name', name } } : undefined;
    }
    return undefined;
  }
  return { owner: node, select: { kind: 'object' } };
}

function sliceOf(owner: Node, slice: Node): { owner: Node; select: LayerSelection } | undefined {
  // `a:b` (no step): the children are [start] ':' [end]; a bound must be an integer literal.
  const parts: (Node | undefined)[] = [undefined, undefined];
  let side = 0;
  for (const child of slice.children) {
    if (!child) continue;
    if (child.type === ':') {
      side++;
      continue;
    }
    if (side > 1) return undefined;
    parts[side] = child;
  }
  if (side !== 1) return undefined;
  const [startNode, endNode] = parts;
  const start = startNode ? integer(startNode) : undefined;
  const end = endNode ? integer(endNode) : undefined;
  if ((startNode && start === undefined) || (endNode && end === undefined)) return undefined;
  return { owner, select: { kind: 'slice', ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) } };
}

/** A plain string literal's text (no f-strings or escapes that matter for layer names). */
function stringText(node: Node): string | undefined {
  const content = node.namedChildren.filter((c): c is Node => !!c && c.type === 'string_content');
  if (node.namedChildren.some((c) => c?.type === 'interpolation')) return undefined;
  return content.map((c) => c.text).join('');
}

/** `X.trainable = <flag>` → X and the flag. */
function trainableAssignment(statement: Node): { object: Node; value: boolean | undefined; assignment: Node } | undefined {
  const assignment = statement.type === 'expression_statement' ? statement.namedChildren.find((c): c is Node => !!c && !isExtra(c)) : undefined;
  if (assignment?.type !== 'assignment') return undefined;
  const left = assignment.childForFieldName('left');
  if (left?.type !== 'attribute' || left.childForFieldName('attribute')?.text !== 'trainable') return undefined;
  const object = left.childForFieldName('object');
  return object ? { object, value: flag(assignment.childForFieldName('right')), assignment } : undefined;
}

/** Every `trainable` statement of the file, in document order. */
export function kerasFreezes(root: Node): KerasFreezes {
  const freezes: KerasFreeze[] = [];
  const unread: { at: Node; owner: Node | undefined }[] = [];
  if (!root.text.includes('trainable')) return { freezes, unread };
  const loopBodies = new Set<number>();
  for (const loop of root.descendantsOfType('for_statement')) {
    if (!loop || !loop.text.includes('.trainable')) continue;
    const variable = loop.childForFieldName('left');
    const iterable = loop.childForFieldName('right');
    const body = (loop.childForFieldName('body')?.namedChildren ?? []).filter((s): s is Node => !!s && !isExtra(s));
    const owner = iterable?.type === 'subscript' ? layersOwner(iterable.childForFieldName('value')) : layersOwner(iterable);
    const only = body.length === 1 ? trainableAssignment(body[0]) : undefined;
    for (const statement of body) loopBodies.add(statement.id);
    if (owner && variable?.type === 'identifier' && only && only.object.text === variable.text && only.value !== undefined && iterable) {
      const selected = iterable.type === 'subscript' ? selection(iterable) : { owner, select: { kind: 'slice' } as LayerSelection };
      if (selected && selected.select.kind === 'slice') {
        freezes.push({ at: loop, owner: selected.owner, select: selected.select, trainable: only.value });
        continue;
      }
    }
    if (owner) unread.push({ at: loop, owner });
  }
  for (const statement of root.descendantsOfType('expression_statement')) {
    if (!statement || loopBodies.has(statement.id)) continue;
    const assignment = trainableAssignment(statement);
    if (!assignment) continue;
    const selected = selection(assignment.object);
    if (!selected || assignment.value === undefined) {
      unread.push({ at: statement, owner: selected?.owner ?? assignment.object });
      continue;
    }
    freezes.push({ at: statement, owner: selected.owner, select: selected.select, trainable: assignment.value });
  }
  freezes.sort((a, b) => a.at.startIndex - b.at.startIndex);
  return { freezes, unread };
}
