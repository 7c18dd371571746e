// Bundles the extension host entry, the trainer worker and the CLI, and copies the runtime
// binaries they load (tfjs wasm kernels, tree-sitter grammars) into dist/.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const production = process.argv.includes('--production');
const quiet = process.argv.includes('--quiet');
const dist = 'dist';

/**
 * Optional native backends are resolved at run time, never bundled. The WebGPU kernels
 * (@tensorflow/tfjs-backend-webgpu, plain JS) are bundled, so that they register with the same
 * tfjs-core as the trainer; only Dawn (`webgpu`, a native addon) is optional.
 */
const optionalBackends = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu'];

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
  for (const file of ['tree-sitter-python.wasm', 'tree-sitter-javascript.wasm', 'tree-sitter-typescript.wasm', 'tree-sitter-tsx.wasm']) {
    fs.copyFileSync(path.join(grammarDir, file), path.join(dist, 'grammars', file));
  }
  fs.copyFileSync('node_modules/web-tree-sitter/tree-sitter.wasm', path.join(dist, 'grammars', 'tree-sitter.wasm'));
}

const entries = [
  { entryPoints: ['src/vscode/extension.ts'], outfile: `${dist}/extension.js` },
  { entryPoints: ['src/train/worker.ts'], outfile: `${dist}/worker.js` },
  { entryPoints: ['src/cli/main.ts'], outfile: `${dist}/cli.js` },
  { entryPoints: ['src/engine/loaderWorker.ts'], outfile: `${dist}/loader.js` },
  { entryPoints: ['scripts/bench.ts'], outfile: `${dist}/bench.js` },
  // Integration tests run inside the extension host: one bundle per file in out/integration
  // (mocha stays external and is resolved from node_modules next to out/).
  ...(production ? [] : [{
    entryPoints: ['test/integration/index.ts', ...(fs.existsSync('test/integration') ? fs.readdirSync('test/integration').filter((f) => f.endsWith('.test.ts')).map((f) => `test/integration/${f}`) : [])],
    outdir: 'out/integration',
    external: [...common.external, 'mocha'],
  }]),
].filter((e) => fs.existsSync(e.entryPoints[0]));

/** The report webview runs in a browser context: an IIFE bundling Chart.js, no Node built-ins. */
const webview = {
  entryPoints: ['webview/main.ts'],
  outfile: `${dist}/webview.js`,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: false,
  minify: true,
  logLevel: quiet ? 'error' : 'info',
};

await Promise.all([...entries.map((e) => esbuild.build({ ...common, ...e })), esbuild.build(webview)]);
copyRuntimeFiles();
