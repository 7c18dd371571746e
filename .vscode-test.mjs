// @vscode/test-cli configuration, for machines where VS Code can be downloaded
// (`npx vscode-test`). Here, where it cannot, `npm run test:integration` runs the same bundles
// in code-server (scripts/runIntegration.js). Build first: `node esbuild.mjs`.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig([
  {
    label: 'integration',
    version: '1.100.3',
    files: 'out/integration/**/*.test.js',
    workspaceFolder: 'test/fixtures/workspace',
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
    mocha: { ui: 'tdd', timeout: 90000, color: true },
  },
]);
