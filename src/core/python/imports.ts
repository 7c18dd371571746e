/** Python import statements and dotted names, as every Python reader resolves them. */
import type { Node } from 'web-tree-sitter';

/**
 * Local names bound by import statements, mapped to the dotted path they stand for:
 * `import tensorflow as tf` → tf: tensorflow; `from keras.layers import Dense as D` →
 * D: keras.layers.Dense; `import tensorflow.keras` → tensorflow: tensorflow.
 */
export type ImportTable = ReadonlyMap<string, readonly string[]>;

/** Collects every import in the file (nested ones too: lenient on purpose). */
export function collectImports(root: Node): ImportTable {
  const imports = new Map<string, readonly string[]>();
  for (const statement of root.descendantsOfType(['import_statement', 'import_from_statement'])) {
    if (!statement) continue;
    const modulePath =
      statement.type === 'import_from_statement' ? dottedText(statement.childForFieldName('module_name')) : [];
    for (const imported of statement.childrenForFieldName('name')) {
      if (!imported) continue;
      if (imported.type === 'aliased_import') {
        const alias = imported.childForFieldName('alias')?.text;
        const name = dottedText(imported.childForFieldName('name'));
        if (alias && name.length > 0) imports.set(alias, [...modulePath, ...name]);
      } else if (imported.type === 'dotted_name') {
        const name = dottedText(imported);
        if (name.length === 0) continue;
        if (statement.type === 'import_statement') imports.set(name[0], [name[0]]);
        else imports.set(name[name.length - 1], [...modulePath, ...name]);
      }
    }
  }
  return imports;
}

export function dottedText(node: Node | null): string[] {
  if (!node) return [];
  if (node.type === 'relative_import') return [];
  return node.text.split('.').map((part) => part.trim());
}

/** `a.b.c` as ['a','b','c'] for identifier/attribute chains; undefined for anything else. */
export function dottedParts(node: Node): string[] | undefined {
  if (node.type === 'identifier') return [node.text];
  if (node.type === 'attribute') {
    const object = node.childForFieldName('object');
    const attribute = node.childForFieldName('attribute');
    if (!object || !attribute) return undefined;
    const head = dottedParts(object);
    return head ? [...head, attribute.text] : undefined;
  }
  return undefined;
}
