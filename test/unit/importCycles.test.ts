/**
 * The layering of issue 12: no import circles among the extension's modules. Only imports that
 * exist at run time count (`import type` and `export type` are erased by the compiler, so a
 * circle through them cannot leave a module half-initialised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The project modules `file` imports at run time, as absolute paths. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const targets: string[] = [];
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (!clause.name && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) specifier = statement.moduleSpecifier;
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) {
      specifier = statement.moduleSpecifier;
    }
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), specifier.text);
    const resolved = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
    if (resolved) targets.push(resolved);
  }
  return targets;
}

/** Every circle of run-time imports, each as the list of files around it (depth-first search). */
function importCircles(files: readonly string[]): string[][] {
  const graph = new Map(files.map((file) => [file, runtimeImports(file)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (file: string): void => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'visiting') circles.push([...stack.slice(stack.indexOf(next)), next].map((f) => path.relative(SRC, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return circles;
}

test('the import graph of src has no circles (run-time imports)', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 50, `read ${files.length} files`);
  assert.deepEqual(importCircles(files), []);
});

test('the circle finder finds a circle when there is one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-cycle-'));
  fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
  fs.writeFileSync(path.join(dir, 'b.ts'), "import { c } from './c';\nexport const b = c;\n");
  fs.writeFileSync(path.join(dir, 'c.ts'), "import { a } from './a';\nimport type { T } from './d';\nexport const c = a;\n");
  fs.writeFileSync(path.join(dir, 'd.ts'), "import { c } from './c';\nexport type T = typeof c;\n");
  const circles = importCircles(['a.ts', 'b.ts', 'c.ts', 'd.ts'].map((f) => path.join(dir, f)));
  assert.equal(circles.length, 1);
  assert.deepEqual(circles[0].map((f) => path.basename(f)), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
});
