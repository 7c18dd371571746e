/**
 * Frozen layers in PyTorch code (issue 14, training state): `module.requires_grad_(False)` and
 * `for p in module.parameters(): p.requires_grad = False` stop a module's weights from training.
 * The statements are recognised by their syntax here; statements.ts evaluates the module they
 * name and records its layers in the model's context, and the loader marks them `frozen`.
 */
import type { Node } from 'web-tree-sitter';
import { callArguments, firstCode, statementsOf } from './values';

/** A statement or call that freezes the module `target` evaluates to. */
export interface FreezeTarget {
  readonly target: Node;
  /** The statement or call that freezes it, for messages. */
  readonly at: Node;
}

/** Cheap pre-filter for the statement runner: only such text can freeze anything. */
export function mayFreeze(node: Node): boolean {
  return node.text.includes('requires_grad');
}

/** `False` as written (a constant `False`; anything else is not read as freezing). */
function isFalse(node: Node | undefined): boolean {
  return node?.type === 'false';
}

/** `target.requires_grad_(False)` / `target.requires_grad_(requires_grad=False)`. */
export function freezingCall(call: Node): FreezeTarget | undefined {
  const callee = call.childForFieldName('function');
  if (callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== 'requires_grad_') return undefined;
  const target = callee.childForFieldName('object');
  const args = callArguments(call);
  const flag = args.positional[0] ?? args.keyword.get('requires_grad')?.value;
  return target && isFalse(flag) ? { target, at: call } : undefined;
}

/**
 * `for p in target.parameters(): p.requires_grad = False` (or `p.requires_grad_(False)`), the
 * loop's body being that one statement: any other body may freeze only some parameters.
 */
export function freezingLoop(statement: Node): FreezeTarget | undefined {
  if (statement.type !== 'for_statement') return undefined;
  const variable = statement.childForFieldName('left');
  const iterable = statement.childForFieldName('right');
  const body = statementsOf(statement.childForFieldName('body'));
  if (variable?.type !== 'identifier' || iterable?.type !== 'call' || body.length !== 1) return undefined;
  const method = iterable.childForFieldName('function');
  if (method?.type !== 'attribute' || method.childForFieldName('attribute')?.text !== 'parameters') return undefined;
  const target = method.childForFieldName('object');
  const expression = body[0].type === 'expression_statement' ? firstCode(body[0]) : undefined;
  if (!target || !expression) return undefined;
  const onVariable = (node: Node | null | undefined, name: string): boolean =>
    node?.type === 'attribute' && node.childForFieldName('object')?.text === variable.text && node.childForFieldName('attribute')?.text === name;
  if (expression.type === 'assignment' && onVariable(expression.childForFieldName('left'), 'requires_grad') && isFalse(expression.childForFieldName('right') ?? undefined)) {
    return { target, at: statement };
  }
  if (expression.type === 'call' && onVariable(expression.childForFieldName('function'), 'requires_grad_')) {
    const args = callArguments(expression);
    if (isFalse(args.positional[0] ?? args.keyword.get('requires_grad')?.value)) return { target, at: statement };
  }
  return undefined;
}

/**
 * `module.weight.requires_grad = False` (or `.bias`): one tensor of a layer frozen, which the IR
 * cannot say (it freezes whole layers); the loader reports it rather than ignore it.
 */
export function freezesOneParameter(node: Node): boolean {
  const assignment = node.type === 'assignment' ? node : undefined;
  const left = assignment?.childForFieldName('left');
  if (left?.type !== 'attribute' || left.childForFieldName('attribute')?.text !== 'requires_grad') return false;
  const parameter = left.childForFieldName('object');
  const name = parameter?.type === 'attribute' ? parameter.childForFieldName('attribute')?.text : undefined;
  return (name === 'weight' || name === 'bias') && isFalse(assignment?.childForFieldName('right') ?? undefined);
}
