/**
 * The webgpu backend (TensorFlow.js WebGPU kernels over Dawn, the optional `webgpu` package),
 * run through the CLI because Dawn's headless OpenGL ES adapter needs EGL_PLATFORM in the
 * environment the process starts with.
 *
 * Machines without a GPU (CI, these 2-core machines) have no Vulkan adapter, so by name the
 * backend runs on Dawn's OpenGL ES compatibility adapter over Mesa's llvmpipe: a software GPU,
 * but the same WGSL kernels, buffer reads and adapter plumbing a real GPU uses. Its figures must
 * match wasm's run with the same seed, which makes it a test of the whole GPU path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'activation-lens.js');

function dawnInstalled(): boolean {
  try {
    createRequire(path.join(ROOT, 'noop.js')).resolve('webgpu');
    return true;
  } catch {
    return false;
  }
}

/** A small network that reaches dense, convolution, pooling and every kind of read. */
const SMALL_MODEL = `from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(12, 12, 1)),
    layers.Conv2D(8, 3, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(32, activation="tanh"),
    layers.Dense(16, activation="sigmoid"),
    layers.Dense(4, activation="softmax"),
])
`;

function modelFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-webgpu-'));
  const file = path.join(dir, 'small.py');
  fs.writeFileSync(file, SMALL_MODEL);
  return file;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function diagnose(file: string, backend: string, env: NodeJS.ProcessEnv): Run {
  const r = spawnSync(process.execPath, [BIN, 'diagnose', file, '--json', '--no-verify', '--steps', '20', '--fail-on', 'none', '--backend', backend], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The environment without any display, as on a server or in CI. */
function headless(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  if (!('EGL_PLATFORM' in extra)) delete env.EGL_PLATFORM;
  return env;
}

const dawnMissing = dawnInstalled() ? false : 'the optional `webgpu` package (Dawn) is not installed: npm ci installs it on linux-x64, darwin, win32';

test('by name, webgpu trains and its figures match wasm with the same seed', { skip: dawnMissing }, (t) => {
  const file = modelFile();
  const gpu = diagnose(file, 'webgpu', headless({ EGL_PLATFORM: 'surfaceless' }));
  if (gpu.code === 2 && /no OpenGL ES adapter/.test(gpu.stdout + gpu.stderr) && !process.env.CI) {
    // CI installs Mesa's EGL and llvmpipe (.ci/run), so there this must not happen.
    t.skip('no GPU and no OpenGL ES adapter here (Mesa EGL / llvmpipe not installed)');
    return;
  }
  assert.equal(gpu.code, 0, gpu.stdout + gpu.stderr);
  const cpuSide = diagnose(file, 'wasm', headless());
  assert.equal(cpuSide.code, 0, cpuSide.stderr);
  const onGpu = JSON.parse(gpu.stdout).models[0];
  const onWasm = JSON.parse(cpuSide.stdout).models[0];
  assert.equal(onGpu.backend.name, 'webgpu');
  assert.ok(typeof onGpu.backend.device === 'string' && onGpu.backend.device.length > 0, 'the adapter is named');
  assert.equal(onGpu.training.steps, 20);

  // float32 on both sides, different kernels and summation orders: agreement to 1e-3 relative.
  const close = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) <= 1e-3 * Math.max(Math.abs(a), Math.abs(b), 1e-6), `${what}: webgpu ${a} vs wasm ${b}`);
  close(onGpu.training.lossFirst, onWasm.training.lossFirst, 'first loss');
  close(onGpu.training.lossLast, onWasm.training.lossLast, 'last loss');
  assert.equal(onGpu.layers.length, onWasm.layers.length);
  for (let i = 0; i < onGpu.layers.length; i++) {
    const g = onGpu.layers[i];
    const w = onWasm.layers[i];
    if (w.gradNorm !== null) close(g.gradNorm, w.gradNorm, `layer ${i} ‖∇W‖`);
    close(g.mean, w.mean, `layer ${i} mean`);
    close(g.std, w.std, `layer ${i} std`);
  }
});

test('auto never settles on a software adapter and says why webgpu was not used', { skip: dawnMissing }, () => {
  const file = modelFile();
  // EGL is available here, yet auto must not pick Dawn's software OpenGL ES adapter.
  const r = diagnose(file, 'auto', headless({ EGL_PLATFORM: 'surfaceless' }));
  assert.equal(r.code, 0, r.stderr);
  const backend = JSON.parse(r.stdout).models[0].backend;
  if (backend.name === 'webgpu') {
    // A machine with a real GPU: it must be one.
    assert.doesNotMatch(backend.device, /software|compatibility/, backend.device);
    return;
  }
  const webgpu = backend.skipped.find((s: { name: string }) => s.name === 'webgpu');
  assert.ok(webgpu, 'webgpu is listed among the skipped backends');
  assert.doesNotMatch(webgpu.reason, /not installed/, 'Dawn is installed, so the reason is about the adapter');
  assert.match(webgpu.reason, /adapter|Vulkan/);
});

test('by name with no adapter at all, webgpu is an input error that says how to get one', { skip: dawnMissing }, () => {
  const r = diagnose(modelFile(), 'webgpu', headless());
  if (r.code === 0) {
    // A machine with a GPU (or a display for OpenGL ES): nothing to refuse.
    assert.equal(JSON.parse(r.stdout).models[0].backend.name, 'webgpu');
    return;
  }
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const model = JSON.parse(r.stdout).models[0];
  assert.equal(model.error.kind, 'backend');
  assert.match(model.error.message, /Backend "webgpu" is unavailable/);
  assert.match(model.error.message, /EGL_PLATFORM=surfaceless/);
  assert.equal(model.line, 4, 'the model it could not train is located');
});
