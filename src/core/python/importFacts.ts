/**
 * [issue 12] The import facts of a Python file (sourceFacts.ts), read from its syntax tree while
 * the file is loaded, for the fixers that write names and add import lines without parsing.
 */
import type { Node } from 'web-tree-sitter';
import type { PositionIndex } from '../model';
import { textDigest, type CheckedSpan, type FromImport, type ImportBinding, type PythonImportFacts } from '../sourceFacts';
import { collectImports } from './imports';

/** A node's span and the digest of its text. */
export function checkedSpan(node: Node, positions: PositionIndex): CheckedSpan {
  return { span: positions.span(node.startIndex, node.endIndex), digest: textDigest(node.text) };
}

/** The imports of the file whose syntax tree is `root`. */
export function pythonImportFacts(root: Node, positions: PositionIndex): PythonImportFacts {
  const bindings: ImportBinding[] = [...collectImports(root)].map(([local, path]) => ({ local, path: [...path] }));
  const fromImports: FromImport[] = [];
  for (const statement of root.descendantsOfType('import_from_statement')) {
    const moduleName = statement?.childForFieldName('module_name');
    if (!statement || moduleName?.type !== 'dotted_name') continue;
    fromImports.push({ module: moduleName.text.split('.'), ...checkedSpan(statement, positions) });
  }
  let lastTopLevelImport: CheckedSpan | undefined;
  for (const statement of root.namedChildren) {
    if (statement && (statement.type === 'import_statement' || statement.type === 'import_from_statement')) lastTopLevelImport = checkedSpan(statement, positions);
  }
  return { bindings, fromImports, ...(lastTopLevelImport ? { lastTopLevelImport } : {}) };
}
