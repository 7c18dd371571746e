// Lint rules, including the layer boundaries of architecture.md: only src/train imports
// TensorFlow.js, only src/vscode imports vscode.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const noVscode = { name: 'vscode', message: 'Only src/vscode may import vscode.' };
const noTfjs = { group: ['@tensorflow/*'], message: 'Only src/train may import TensorFlow.js.' };
// The core is the innermost layer (architecture.md): it imports no adapter, trainer, engine or
// protocol module (the protocol and everything else import the core, so this also keeps circles out).
const noOuterLayers = {
  group: ['**/engine', '**/engine/*', '**/train', '**/train/*', '**/vscode/*', '**/cli', '**/cli/*', '**/protocol', '**/protocol/*'],
  message: 'src/core imports only src/core (and libraries): no engine, train, vscode, cli or protocol module.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test/fixtures/**', 'examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/engine/**/*.ts', 'src/cli/**/*.ts', 'src/protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noTfjs] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noTfjs, noOuterLayers] }] },
  },
  {
    // The webview runs in the page: it shares only the protocol's types with the extension.
    files: ['webview/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            noTfjs,
            { group: ['**/src/protocol/*'], allowTypeImports: true, message: 'The webview imports only types from src/protocol.' },
            { group: ['**/src/core/*', '**/src/core/**', '**/src/engine/*', '**/src/train/*', '**/src/vscode/*', '**/src/cli/*'], message: 'The webview imports only src/protocol (types).' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/train/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['src/vscode/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noTfjs] }] },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
);
