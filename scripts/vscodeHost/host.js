// A real VS Code (code-server 4.100.3 = VS Code 1.100.3) for the integration and e2e tests:
// installs it once into a cache folder, starts it on 127.0.0.1 with throw-away HOME, user-data
// and extensions folders, and stops its whole process group. Used by runIntegration.js and
// runE2e.js; @vscode/test-electron cannot download VS Code on these machines.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const VERSION = process.env.CODE_SERVER_VERSION || '4.100.3';
const CACHE_DIR = process.env.ACTIVATION_LENS_CODE_SERVER_DIR ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'activation-lens', `code-server-${VERSION}`);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DEBIAN_PACKAGES = 'chromium ripgrep libkrb5-dev';

/** Returns the code-server binary, installing it into the cache on first use (~2 min). */
function ensureCodeServer() {
  const bin = path.join(CACHE_DIR, 'node_modules', '.bin', 'code-server');
  if (fs.existsSync(path.join(CACHE_DIR, `.ready-${VERSION}`)) && fs.existsSync(bin)) return bin;
  for (const tool of ['rg']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} not found: apt-get install -y ${DEBIAN_PACKAGES}`);
    }
  }
  console.log(`Installing code-server ${VERSION} into ${CACHE_DIR} (once)…`);
  const setupHome = fs.mkdtempSync(path.join(os.tmpdir(), 'al-setup-home-'));
  const setup = spawnSync('bash', [path.join(__dirname, 'setup.sh'), CACHE_DIR], {
    stdio: 'inherit',
    env: { ...process.env, CODE_SERVER_VERSION: VERSION, HOME: setupHome, XDG_CONFIG_HOME: path.join(setupHome, '.config') },
  });
  fs.rmSync(setupHome, { recursive: true, force: true });
  if (setup.status !== 0) throw new Error(`code-server setup failed (exit ${setup.status}); see the output above`);
  return bin;
}

function checkChromium() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y ${DEBIAN_PACKAGES} (or set CHROMIUM_PATH)`);
  return CHROMIUM;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function httpOk(url) {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.setTimeout(2000, () => request.destroy());
  });
}

/**
 * Starts code-server on a free port in its own process group, with every folder it writes
 * under a fresh temporary directory. `workspace` is copied there (tests may edit it).
 * Returns { url, port, root, workspace, stop() }.
 */
async function startCodeServer({ workspace, env = {}, settings = {}, label = 'vscode' }) {
  const bin = ensureCodeServer();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `al-${label}-`));
  const dirs = { home: path.join(root, 'home'), data: path.join(root, 'data'), extensions: path.join(root, 'extensions'), ws: path.join(root, 'ws') };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(workspace, dirs.ws, { recursive: true });
  fs.mkdirSync(path.join(dirs.data, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.data, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'workbench.enableExperiments': false,
    'chat.disableAIFeatures': true,
    ...settings,
  }, null, 1));
  const port = await freePort();
  const logFile = path.join(root, 'code-server.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn(bin, [
    '--config', '/dev/null', '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', dirs.data, '--extensions-dir', dirs.extensions, dirs.ws,
  ], {
    detached: true, // its own process group: stop() ends the file watcher and extension host too
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      HOME: dirs.home,
      XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
      XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
      ...env,
    },
  });
  fs.closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));

  const stop = async () => {
    if (exited) return;
    const signal = (s) => {
      try {
        process.kill(-child.pid, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    signal('SIGKILL');
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await httpOk(`${url}/healthz`))) {
    if (exited || Date.now() > deadline) {
      await stop();
      const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-3000) : '';
      throw new Error(`code-server did not start (${exited ? 'it exited' : 'timeout'}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, root, workspace: dirs.ws, logFile, pid: child.pid, stop };
}

/** Chromium flags that keep a headless run quiet and offline. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

module.exports = { CACHE_DIR, CHROMIUM_ARGS, DEBIAN_PACKAGES, VERSION, checkChromium, ensureCodeServer, startCodeServer };
