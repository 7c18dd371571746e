#!/usr/bin/env node
// The tests that need a real VS Code and a browser: the integration suite in code-server's
// extension host, then the end-to-end Playwright test. They need Debian's chromium, ripgrep and
// libkrb5-dev (code-server itself is installed into a cache by the runner). Where those are
// missing they are skipped with the reason — except in CI (CI=true), where a missing
// prerequisite fails the run, so CI can never pass without running them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { DEBIAN_PACKAGES } = require('./vscodeHost/host');

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const missing = [];
if (!fs.existsSync(chromium)) missing.push(`chromium (${chromium})`);
if (spawnSync('sh', ['-c', 'command -v rg']).status !== 0) missing.push('ripgrep (rg)');
if (!fs.existsSync('/usr/include/krb5.h') && !fs.existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev (krb5 headers)');

if (missing.length > 0) {
  const how = `apt-get install -y ${DEBIAN_PACKAGES}`;
  if (process.env.CI) {
    console.error(`ui tests: missing ${missing.join(', ')}; CI must install them (${how})`);
    process.exit(1);
  }
  console.log(`ui tests: SKIPPED (integration and end-to-end): missing ${missing.join(', ')}. Install with: ${how}`);
  process.exit(0);
}

const root = path.join(__dirname, '..');
for (const [name, args] of [
  ['integration', [path.join(__dirname, 'runIntegration.js')]],
  ['end-to-end', ['--import', 'tsx', path.join(root, 'test', 'e2e', 'diagnose.e2e.ts')]],
]) {
  console.log(`ui tests: ${name}`);
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`ui tests: ${name} failed (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}
