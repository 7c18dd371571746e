/**
 * Lazy web-tree-sitter set-up shared by the source loaders: one WebAssembly runtime per process
 * and one parser per grammar, created on first use.
 *
 * The wasm files are looked up in two places, in order:
 *  1. `<dir of this module>/grammars/` — the bundled build copies the grammars and
 *     web-tree-sitter's own `tree-sitter.wasm` there, next to `dist/*.js`;
 *  2. the product's own `node_modules` (`@vscode/tree-sitter-wasm/wasm/` for grammars,
 *     `web-tree-sitter/` for the runtime) — unit tests and the CLI run from source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { resolveTrustedFile } from '../trustedModules';

export type GrammarName = 'python' | 'javascript' | 'typescript' | 'tsx';

const GRAMMAR_FILES: Readonly<Record<GrammarName, string>> = {
  python: 'tree-sitter-python.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  // TypeScript with JSX (.tsx): the plain TypeScript grammar reads `<div>` as a type assertion.
  tsx: 'tree-sitter-tsx.wasm',
};

const RUNTIME_FILE = 'tree-sitter.wasm';

let runtimeReady: Promise<void> | undefined;
const parsers = new Map<GrammarName, Promise<Parser>>();

/**
 * The bundled copy, else the one in the product's own node_modules; never one from the current
 * directory or the workspace (a planted grammar would run as WebAssembly in the editor).
 */
export function locateWasmFile(file: string): string | undefined {
  const bundled = path.join(__dirname, 'grammars', file);
  if (fs.existsSync(bundled)) return bundled;
  return file === RUNTIME_FILE ? resolveTrustedFile('web-tree-sitter', file) : resolveTrustedFile('@vscode/tree-sitter-wasm', `wasm/${file}`);
}

function initRuntime(): Promise<void> {
  // Only locateFile is needed; the declared type is the whole Emscripten module interface.
  const moduleOptions = {
    locateFile: (file: string, scriptDirectory: string) => locateWasmFile(file) ?? path.join(scriptDirectory, file),
  } as unknown as Parameters<typeof Parser.init>[0];
  runtimeReady ??= Parser.init(moduleOptions).catch((error: unknown) => {
    // Let a later call retry instead of caching the failure forever.
    runtimeReady = undefined;
    throw error;
  });
  return runtimeReady;
}

async function createParser(grammar: GrammarName): Promise<Parser> {
  await initRuntime();
  const file = GRAMMAR_FILES[grammar];
  const wasmPath = locateWasmFile(file);
  if (!wasmPath) throw new Error(`Cannot find the ${grammar} grammar (${file}) in dist/grammars or node_modules.`);
  // Reading the bytes ourselves keeps Language.load off its dynamic `import('fs/promises')`.
  const language = await Language.load(new Uint8Array(fs.readFileSync(wasmPath)));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

/** The cached parser for a grammar; initialises web-tree-sitter on first call. */
export function getParser(grammar: GrammarName): Promise<Parser> {
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = createParser(grammar).catch((error: unknown) => {
      parsers.delete(grammar);
      throw error;
    });
    parsers.set(grammar, parser);
  }
  return parser;
}
