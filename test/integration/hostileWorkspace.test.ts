/**
 * A hostile workspace in the real editor: packages planted in its node_modules never run, a data
 * comment cannot reach out of it through `..` or a symlink, and a huge hostile model file
 * fails to read without blocking the extension host's event loop.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, diagnoseDone, fixtureUri, open } from './helpers';

const PLANTED = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'webgpu', 'koffi'];

suite('Hostile workspace', () => {
  const markers = fs.mkdtempSync(path.join(os.tmpdir(), 'al-planted-markers-'));
  let workspace: string;

  suiteSetup(async () => {
    await api();
    workspace = fixtureUri('.').fsPath;
    for (const name of PLANTED) {
      const dir = path.join(workspace, 'node_modules', ...name.split('/'));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '99.0.0', main: 'index.js' }));
      const marker = path.join(markers, name.replace('/', '__'));
      fs.writeFileSync(path.join(dir, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'executed'); module.exports = {};\n`);
    }
    // Grammars planted where the old lookup also searched (the cwd's node_modules) stand in the workspace too.
    const grammars = path.join(workspace, 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm');
    fs.mkdirSync(grammars, { recursive: true });
    fs.writeFileSync(path.join(grammars, 'tree-sitter-python.wasm'), 'not a grammar');
  });

  teardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('packages planted in the workspace node_modules never run, with the automatic backend choice', async () => {
    const { document } = await open('healthy_relu.py');
    await vscode.workspace.getConfiguration('activationLens').update('backend', 'auto', vscode.ConfigurationTarget.Workspace);
    try {
      const outcome = await diagnoseDone(document.uri);
      assert.ok(outcome.result.trained, 'the model trained');
      const backend = outcome.result.diagnosis.models[0].stats?.backend;
      assert.ok(backend, 'a backend ran');
      const skippedGpu = backend.skipped.find((s) => s.name === 'tensorflow-gpu');
      assert.match(skippedGpu?.reason ?? '', /not installed/, JSON.stringify(backend));
    } finally {
      await vscode.workspace.getConfiguration('activationLens').update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    }
    assert.deepEqual(fs.readdirSync(markers), [], 'no planted package ran');
  });

  test('a data comment naming a file through a symlink out of the workspace is refused, its contents never shown', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'al-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.csv'), 'x,label\nTOKEN-8f3a1c,1\n');
    fs.symlinkSync(outside, path.join(workspace, 'elsewhere'));
    const file = path.join(workspace, 'reaches_out.py');
    fs.writeFileSync(file, [
      'from tensorflow import keras',
      '# activation-lens: data=elsewhere/secret.csv',
      'model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(2, activation="softmax")])',
      '',
    ].join('\n'));
    const { document } = await open('reaches_out.py');
    const outcome = await diagnoseDone(document.uri);
    const error = outcome.result.diagnosis.models[0].error;
    assert.equal(error?.kind, 'data');
    assert.match(error?.message ?? '', /outside the workspace/);
    assert.doesNotMatch(JSON.stringify(outcome.result.diagnosis), /TOKEN-8f3a1c/);
  });

  test('a huge hostile Python file fails to read in the reader worker; the event loop keeps ticking', async () => {
    // ~1 MB of 16,000-link attribute chains: quadratic to follow in the old readers, on this thread.
    const chain = `x = keras${'.a'.repeat(16_000)}`;
    const lines = ['from tensorflow import keras', ...Array.from({ length: 30 }, () => chain), 'model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(4)])'];
    fs.writeFileSync(path.join(workspace, 'huge_model.py'), `${lines.join('\n')}\n`);
    const { document } = await open('huge_model.py');
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 5);
    let outcome;
    try {
      outcome = await diagnoseDone(document.uri);
    } finally {
      clearInterval(timer);
    }
    const longest = Math.max(...gaps) - 5;
    console.log(`huge_model.py: ${outcome.result.loaded.models.length} models, ${outcome.result.loaded.problems.length} problems, longest event-loop stall ${longest.toFixed(0)} ms over ${gaps.length} ticks`);
    assert.ok(gaps.length > 5, 'the timer ran during the read');
    // A read on the host's thread stalled it for seconds to minutes; with the read in the worker
    // the host only sends the text (500 ms leaves room for GC on a loaded 2-core machine).
    assert.ok(longest < 500, `longest stall ${longest.toFixed(0)} ms`);
    assert.equal(outcome.result.trained, false);
    assert.ok(outcome.result.loaded.problems.length > 0, 'the refusal is reported');
    assert.match(outcome.result.loaded.problems[0].message, /chain of more than 100 attribute accesses/);
  });
});
