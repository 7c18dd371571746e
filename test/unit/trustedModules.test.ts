/**
 * Optional packages and grammars load only from the product's own folders and the user's chosen
 * ones, never from the current directory: a package planted in a workspace's node_modules must
 * not be found, whatever the cwd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { productModuleDirs, productRoot, resolveTrustedPackage } from '../../src/core/trustedModules';
import { locateWasmFile } from '../../src/core/parse/treeSitter';

function plant(root: string, name: string): string {
  const dir = path.join(root, 'node_modules', ...name.split('/'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), 'throw new Error("planted module executed")');
  return path.join(dir, 'index.js');
}

test('a package planted in the cwd is never resolved; a user-chosen folder is', () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'al-planted-'));
  const previous = process.cwd();
  try {
    plant(workspace, '@tensorflow/tfjs-node-gpu');
    plant(workspace, 'webgpu-planted-only');
    fs.mkdirSync(path.join(workspace, 'sub'));
    for (const cwd of [workspace, path.join(workspace, 'sub')]) {
      process.chdir(cwd);
      assert.equal(resolveTrustedPackage('@tensorflow/tfjs-node-gpu'), undefined);
      assert.equal(resolveTrustedPackage('webgpu-planted-only'), undefined);
    }
    // The extension's global storage is such a chosen folder.
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'al-storage-'));
    const entry = plant(storage, 'webgpu-planted-only');
    assert.equal(resolveTrustedPackage('webgpu-planted-only', [storage]), entry);
  } finally {
    process.chdir(previous);
  }
});

test('the product finds its own dependencies and grammars from its own folder only', () => {
  const root = productRoot();
  assert.ok(root && fs.existsSync(path.join(root, 'package.json')));
  assert.deepEqual(productModuleDirs(root).slice(0, 2), [path.join(root, 'dist', 'node_modules'), path.join(root, 'node_modules')]);
  const koffi = resolveTrustedPackage('koffi');
  assert.ok(koffi?.startsWith(root), `koffi resolved to ${koffi}`);
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'al-grammar-'));
  const previous = process.cwd();
  try {
    fs.mkdirSync(path.join(workspace, 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm', 'planted.wasm'), 'x');
    process.chdir(workspace);
    assert.equal(locateWasmFile('planted.wasm'), undefined);
    assert.ok(locateWasmFile('tree-sitter-python.wasm')?.startsWith(root));
  } finally {
    process.chdir(previous);
  }
});

test('a product installed as a dependency also looks in the node_modules it was installed into', () => {
  assert.deepEqual(productModuleDirs('/w/node_modules/activation-lens'), ['/w/node_modules/activation-lens/dist/node_modules', '/w/node_modules/activation-lens/node_modules', '/w/node_modules']);
  assert.deepEqual(productModuleDirs('/w/node_modules/@me/activation-lens').at(-1), '/w/node_modules');
  assert.deepEqual(productModuleDirs('/home/u/src/activation-lens'), ['/home/u/src/activation-lens/dist/node_modules', '/home/u/src/activation-lens/node_modules']);
});
