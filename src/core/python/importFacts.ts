/**
 * [issue 12] The import facts of a Python file (sourceFacts.ts), read from its syntax tree while
 * the file is loaded, for the fixers that write names and add import lines without parsing.
 */
import type { Node } from 'web-tree-sitter';
import { textDigest, type CheckedRange, type FromImport, type ImportBinding, type PythonImportFacts } from '../sourceFacts';
import { collectImports } from './imports';

/** A node's range and the digest of its text. */
export function checkedRange(node: Node): CheckedRange {
  return { start: node.startIndex, end: node.endIndex, digest: textDigest(node.text) };
}

/** The imports of the file whose syntax tree is `root`. */
export function pythonImportFacts(root: Node): PythonImportFacts {
  const bindings: ImportBinding[] = [...collectImports(root)].map(([local, path]) => ({ local, path: [...path] }));
  const fromImports: FromImport[] = [];
  for (const statement of root.descendantsOfType('import_from_statement')) {
    const moduleName = statement?.childForFieldName('module_name');
    if (!statement || moduleName?.type !== 'dotted_name') continue;
    fromImports.push({ module: moduleName.text.split('.'), ...checkedRange(statement) });
  }
  let lastTopLevelImport: CheckedRange | undefined;
  for (const statement of root.namedChildren) {
    if (statement && (statement.type === 'import_statement' || statement.type === 'import_from_statement')) lastTopLevelImport = checkedRange(statement);
  }
  return { bindings, fromImports, ...(lastTopLevelImport ? { lastTopLevelImport } : {}) };
}
