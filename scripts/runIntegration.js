#!/usr/bin/env node
// Runs the integration suite (out/integration, built by esbuild.mjs) inside a real VS Code
// extension host: code-server 4.100.3 with this repository as the extension under development,
// opened in headless Chromium through playwright-core. The workbench calls
// window.codeAutomationExit(code) when the suite settles. Exit code 0 only if every test passed.
//   env: ACTIVATION_LENS_TEST_GREP=pattern   run matching tests only
//        ACTIVATION_LENS_TIMEOUT_S=600       overall limit
//        KEEP_TEMP=1                         keep the temporary folders (logs) for inspection
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { CHROMIUM_ARGS, checkChromium, startCodeServer } = require('./vscodeHost/host');

const repo = path.resolve(__dirname, '..');
const suiteDir = path.join(repo, 'out', 'integration');
const timeoutMs = Number(process.env.ACTIVATION_LENS_TIMEOUT_S || 600) * 1000;

async function main() {
  if (!fs.existsSync(path.join(suiteDir, 'index.js'))) throw new Error(`${suiteDir}/index.js is missing: run "node esbuild.mjs" first`);
  if (!fs.existsSync(path.join(repo, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run "node esbuild.mjs" first');
  const chromiumPath = checkChromium();
  const t0 = Date.now();
  const resultsFile = path.join(require('node:os').tmpdir(), `al-integration-${process.pid}.json`);
  fs.rmSync(resultsFile, { force: true });
  const host = await startCodeServer({
    workspace: path.join(repo, 'test', 'fixtures', 'workspace'),
    label: 'integration',
    env: { ACTIVATION_LENS_TEST_RESULTS: resultsFile, ...(process.env.ACTIVATION_LENS_TEST_GREP ? { ACTIVATION_LENS_TEST_GREP: process.env.ACTIVATION_LENS_TEST_GREP } : {}) },
  });
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    await host.stop();
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code = 'not run';
  try {
    console.log(`code-server ready at ${host.url} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const authority = `127.0.0.1:${host.port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${repo}`],
      ['extensionTestsPath', `vscode-remote://${authority}${suiteDir}`],
    ];
    const url = `${host.url}/?folder=${encodeURIComponent(host.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    let settle;
    const exited = new Promise((resolve) => (settle = resolve));
    await page.exposeFunction('codeAutomationExit', (exitCode) => settle(exitCode));
    await page.goto(url);
    code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs))]);
  } finally {
    await cleanup();
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  let passed = false;
  if (fs.existsSync(resultsFile)) {
    const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    for (const t of results.tests) {
      const mark = t.state === 'passed' ? '✔' : t.state === 'pending' ? '-' : '✖';
      console.log(`  ${mark} ${t.title}${t.ms !== undefined ? ` (${t.ms} ms)` : ''}`);
      if (t.error) console.log(`      ${t.error.split('\n').slice(0, 8).join('\n      ')}`);
    }
    console.log(results.summary);
    passed = code === 0 && results.tests.every((t) => t.state !== 'failed') && results.tests.length > 0;
    fs.rmSync(resultsFile, { force: true });
  } else {
    console.log('No results were written: the suite did not run (see the code-server log below).');
  }
  if (!passed) {
    console.log(`--- code-server log (${host.logFile}) ---\n${fs.existsSync(host.logFile) ? fs.readFileSync(host.logFile, 'utf8').slice(-4000) : ''}`);
  }
  if (!process.env.KEEP_TEMP) fs.rmSync(host.root, { recursive: true, force: true });
  console.log(`integration: exit code ${code}, ${seconds} s`);
  return passed ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`runIntegration: ${error.stack || error.message}`);
  process.exit(1);
});
