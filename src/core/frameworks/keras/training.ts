import type { Node } from 'web-tree-sitter';

export function isCompileCall(call: Node): boolean {
  const callee = call.childForFieldName('function');
  return callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'compile';
}

