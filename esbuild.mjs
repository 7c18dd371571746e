// Bundles the extension host entry, the trainer worker and the CLI, and copies the runtime
// binaries they load (tfjs wasm kernels, tree-sitter grammars) into dist/.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const quiet = process.argv.includes('--quiet');
const dist = 'dist';

/** Optional native/GPU backends are resolved at run time, never bundled. */
const optionalBackends = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-webgpu', 'webgpu'];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'error' : 'info',
  external: ['vscode', ...optionalBackends],
  // web-tree-sitter is an ES module that reads import.meta.url; in a CommonJS bundle that is
  // undefined, so give it this file's URL.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

function copyRuntimeFiles() {
  fs.mkdirSync(path.join(dist, 'grammars'), { recursive: true });
  const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
    fs.copyFileSync(path.join(wasmDir, file), path.join(dist, file));
  }
  const grammarDir = 'node_modules/@vscode/tree-sitter-wasm/wasm';
  for (const file of ['tree-sitter-python.wasm', 'tree-sitter-javascript.wasm', 'tree-sitter-typescript.wasm']) {
    fs.copyFileSync(path.join(grammarDir, file), path.join(dist, 'grammars', file));
  }
  fs.copyFileSync('node_modules/web-tree-sitter/tree-sitter.wasm', path.join(dist, 'grammars', 'tree-sitter.wasm'));
}

const entries = [
  { entryPoints: ['src/vscode/extension.ts'], outfile: `${dist}/extension.js` },
  { entryPoints: ['src/train/worker.ts'], outfile: `${dist}/worker.js` },
  { entryPoints: ['src/cli/main.ts'], outfile: `${dist}/cli.js` },
  { entryPoints: ['scripts/bench.ts'], outfile: `${dist}/bench.js` },
].filter((e) => fs.existsSync(e.entryPoints[0]));

await Promise.all(entries.map((e) => esbuild.build({ ...common, ...e })));
copyRuntimeFiles();
