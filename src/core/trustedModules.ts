/**
 * Where the product may load code and binaries from at run time: its own installation and the
 * folders the user chose (the extension's global storage, where "Install GPU Backend" puts
 * optional backends). Never the workspace: Node's usual resolution walks up from a base folder
 * and also honours NODE_PATH, so resolving from the current directory, or from the product's
 * folder when it sits inside a workspace, would let a package planted in a workspace's
 * node_modules run. Here each candidate is an explicit `<folder>/node_modules/<package>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const PRODUCT_NAME = 'activation-lens';

/** The product's own folder: the nearest folder above this module whose package.json is ours. */
export function productRoot(from: string = __dirname): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === PRODUCT_NAME) return dir;
    } catch {
      // no readable package.json here: keep going up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The node_modules folders the product's own dependencies live in, in order: the bundle's
 * `dist/node_modules` (the copies esbuild.mjs places there), `<product>/node_modules`, and, when
 * the product is itself installed as a package (`…/node_modules/activation-lens` or
 * `…/node_modules/@scope/activation-lens`), the node_modules folder npm installed it into,
 * where npm hoists its dependencies. Nothing above that.
 */
export function productModuleDirs(root: string | undefined = productRoot()): string[] {
  if (!root) return [];
  const dirs = [path.join(root, 'dist', 'node_modules'), path.join(root, 'node_modules')];
  const parent = path.dirname(root);
  if (path.basename(parent) === 'node_modules') dirs.push(parent);
  else if (path.basename(parent).startsWith('@') && path.basename(path.dirname(parent)) === 'node_modules') dirs.push(path.dirname(parent));
  return dirs;
}

/**
 * Resolves the entry file of package `name` (`koffi`, `@tensorflow/tfjs-node-gpu`) from
 * `<dir>/node_modules` for each of `extraDirs` (folders holding a node_modules, chosen by the
 * user), then from the product's own module folders. Undefined when it is in none of them.
 */
export function resolveTrustedPackage(name: string, extraDirs: readonly string[] = []): string | undefined {
  const moduleDirs = [...extraDirs.map((dir) => path.join(dir, 'node_modules')), ...productModuleDirs()];
  for (const moduleDir of moduleDirs) {
    const packageDir = path.join(moduleDir, ...name.split('/'));
    if (!fs.existsSync(path.join(packageDir, 'package.json'))) continue;
    try {
      // An absolute folder resolves through its own package.json ("main", else index.js) and
      // never walks up to other node_modules folders.
      return createRequire(path.join(packageDir, 'package.json')).resolve(packageDir);
    } catch {
      // a package.json without a loadable entry: try the next folder
    }
  }
  return undefined;
}

/** A file inside package `name` (`web-tree-sitter/tree-sitter.wasm`) from the product's own module folders. */
export function resolveTrustedFile(name: string, file: string): string | undefined {
  for (const moduleDir of productModuleDirs()) {
    const candidate = path.join(moduleDir, ...name.split('/'), ...file.split('/'));
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}
