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
 * tfjs-core as the trainer; only Dawn (`webgpu`, a native addon) is optional. koffi (the FFI to
 * the machine's BLAS, native too) is resolved at run time in the same way.
 */
const optionalBackends = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu', 'koffi'];

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
  copyKoffi();
}

/**
 * koffi (the FFI to the machine's BLAS, src/train/nativeBlas.ts) ships a prebuilt binary per
 * platform; the trainer resolves it at run time from dist/node_modules first. Only the desktop
 * platforms VS Code runs on are copied, so the VSIX carries ~8 MB of them, not all 18 (27 MB).
 * It is optional: without it the products stay in WebAssembly, and the report says so.
 */
function copyKoffi() {
  const from = 'node_modules/koffi';
  if (!fs.existsSync(path.join(from, 'index.js'))) return;
  const to = path.join(dist, 'node_modules', 'koffi');
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const file of ['index.js', 'package.json', 'LICENSE.txt']) fs.copyFileSync(path.join(from, file), path.join(to, file));
  for (const platform of ['linux_x64', 'linux_arm64', 'darwin_x64', 'darwin_arm64', 'win32_x64']) {
    const binary = path.join(from, 'build', 'koffi', platform, 'koffi.node');
    if (!fs.existsSync(binary)) continue;
    fs.mkdirSync(path.join(to, 'build', 'koffi', platform), { recursive: true });
    fs.copyFileSync(binary, path.join(to, 'build', 'koffi', platform, 'koffi.node'));
  }
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
