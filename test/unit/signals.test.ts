/**
 * Ctrl-C stops the CLI within a second in every phase: reading a model file (here one that hangs
 * libhdf5 in the reader worker), reading a large data file, and training. Exit 130, the
 * "cancelled" line, nothing left running (the process exits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'bin', 'activation-lens.js');

/** Starts the CLI, sends SIGINT once `ready(stderrSoFar, msSinceStart)` says so, and times the exit. */
function interrupt(args: string[], delayMs: number): Promise<{ code: number | null; afterSignalMs: number; stderr: string }> {
  assert.ok(fs.existsSync(path.join(repo, 'dist', 'cli.js')), 'dist/cli.js is missing: run "npm run build" first (npm test does)');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'diagnose', ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let signalledAt = 0;
    const timer = setTimeout(() => {
      signalledAt = performance.now();
      child.kill('SIGINT');
    }, delayMs);
    const guard = setTimeout(() => child.kill('SIGKILL'), delayMs + 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, afterSignalMs: signalledAt ? performance.now() - signalledAt : -1, stderr });
    });
  });
}

function assertInterrupted(result: { code: number | null; afterSignalMs: number; stderr: string }, phase: string): void {
  assert.ok(result.afterSignalMs >= 0, `${phase}: the CLI ended before the signal (exit ${result.code}): ${result.stderr}`);
  assert.equal(result.code, 130, `${phase}: ${result.stderr}`);
  assert.match(result.stderr, /activation-lens: cancelled/);
  assert.ok(result.afterSignalMs < 1000, `${phase}: exited ${result.afterSignalMs.toFixed(0)} ms after Ctrl-C`);
}

test('Ctrl-C while the model file is read (a .h5 that hangs libhdf5 in the reader worker)', async () => {
  const result = await interrupt([path.join(repo, 'test', 'fixtures', 'saved', 'hang_random_bytes.h5')], 2000);
  assertInterrupted(result, 'model read');
});

test('Ctrl-C while a large data file is read', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-signal-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const model = path.join(dir, 'model.py');
  fs.writeFileSync(model, 'from tensorflow import keras\nmodel = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])\n');
  // ~59 MB, 4.2 M rows: several seconds to read whole, under the CSV byte cap.
  const data = path.join(dir, 'big.csv');
  const fd = fs.openSync(data, 'w');
  fs.writeSync(fd, 'a,b,c,label\n');
  const block = '0.5,1.5,2.5,1\n'.repeat(10_000);
  for (let i = 0; i < 420; i++) fs.writeSync(fd, block);
  fs.closeSync(fd);
  const result = await interrupt([model, '--data', data, '--max-rows', '100000000', '--steps', '2', '--no-verify'], 1200);
  assertInterrupted(result, 'data read');
});

test('Ctrl-C while training', async () => {
  const result = await interrupt([path.join(repo, 'examples', 'deep_sigmoid.py'), '--steps', '100000', '--no-verify'], 4000);
  assertInterrupted(result, 'training');
});
