/**
 * Backend resolution: tries each TensorFlow.js backend in the order of architecture.md, checks
 * that `setBackend` really succeeded (it resolves false and silently keeps the old backend on
 * failure), and reports the backend that ran and why the others were skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { resolveTrustedPackage } from '../core/trustedModules';
import { BACKEND_NAMES, type BackendChoice, type BackendName, type BackendReport } from '../core/stats';
import { registerWasmKernelFixes, setNativeGemm } from './wasmKernels';
import { loadNativeGemm } from './nativeBlas';
import { startWebGpu } from './webgpu';

interface Skipped {
  name: BackendName;
  reason: string;
}

/** Where optional native backends may be installed (e.g. the extension's global storage). */
export interface BackendSearch {
  /** Extra folders holding a node_modules with optional backends, searched first. */
  readonly extraModuleDirs: readonly string[];
}

/**
 * Resolves an optional package at run time, never at build time (esbuild leaves it alone, so the
 * project builds and runs without the package), and only from the user's chosen folders and the
 * product's own installation: never from the current directory or the workspace, whose
 * node_modules could hold a planted package (trustedModules.ts).
 */
function resolveOptional(name: string, search: BackendSearch): string | undefined {
  return resolveTrustedPackage(name, search.extraModuleDirs);
}

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function tryNative(pkg: string, backendName: 'tensorflow', search: BackendSearch): Promise<string | undefined> {
  const resolved = resolveOptional(pkg, search);
  if (!resolved) return `${pkg} is not installed (optional; see the README, "Backends")`;
  try {
    createRequire(resolved)(resolved);
  } catch (error) {
    return `${pkg} failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
  // The package registers into the @tensorflow/tfjs-core it resolves itself; if that is not the
  // instance bundled here, our engine never sees the backend.
  if (!tf.findBackendFactory(backendName)) {
    return `${pkg} loaded but registered its backend with a different @tensorflow/tfjs-core instance`;
  }
  return (await activate(backendName)) ? undefined : `${pkg} is installed but its backend failed to initialise`;
}

async function tryWasm(search: BackendSearch): Promise<Attempt> {
  // In the bundle the .wasm binaries are copied next to this file (dist/); under tsx they are
  // found by the package itself.
  const bundled = path.join(__dirname, 'tfjs-backend-wasm-simd.wasm');
  if (fs.existsSync(bundled)) setWasmPaths(__dirname + path.sep);
  registerWasmKernelFixes();
  if (!(await activate('wasm'))) return { reason: 'the WebAssembly backend failed to initialise' };
  // Matrix products and convolutions on the machine's BLAS where there is one (nativeBlas.ts);
  // the report says which, and why not.
  const { gemm, reason } = loadNativeGemm(resolveOptional('koffi', search));
  setNativeGemm(gemm);
  return { device: gemm ? `CPU; matrix products in ${gemm.description}` : `CPU; matrix products in WebAssembly (${reason})` };
}

/** Why a backend cannot run (reason), or the device it runs on when it can. */
interface Attempt {
  readonly reason?: string;
  readonly device?: string;
}

async function tryBackend(name: BackendName, search: BackendSearch, named: boolean): Promise<Attempt> {
  const reasonOnly = (reason: string | undefined): Attempt => ({ reason });
  switch (name) {
    case 'tensorflow-gpu': {
      const resolved = resolveOptional('@tensorflow/tfjs-node-gpu', search);
      if (!resolved) return reasonOnly('@tensorflow/tfjs-node-gpu is not installed (optional; needs CUDA)');
      return reasonOnly(await tryNative('@tensorflow/tfjs-node-gpu', 'tensorflow', search));
    }
    case 'webgpu': {
      // The WebGPU kernels are bundled; Dawn (native, per platform) is the optional part.
      const dawn = resolveOptional('webgpu', search);
      if (!dawn) return reasonOnly('the webgpu package (Dawn) is not installed (optional; see the README, "Backends")');
      return startWebGpu(dawn, named, activate);
    }
    case 'tensorflow':
      return reasonOnly(await tryNative('@tensorflow/tfjs-node', 'tensorflow', search));
    case 'wasm':
      return tryWasm(search);
    case 'cpu':
      return reasonOnly((await activate('cpu')) ? undefined : 'the pure-JS backend failed to initialise');
  }
}

export class BackendUnavailableError extends Error {}

/**
 * Activates the requested backend (or the first available one for `auto`) and says which ran.
 * An explicitly requested backend that is unavailable is an error, never a silent fallback.
 */
export async function selectBackend(choice: BackendChoice, search: BackendSearch = { extraModuleDirs: [] }): Promise<BackendReport> {
  const skipped: Skipped[] = [];
  const order = choice === 'auto' ? BACKEND_NAMES : [choice];
  for (const name of order) {
    const { reason, device } = await tryBackend(name, search, choice !== 'auto');
    if (reason === undefined) return device ? { name, device, skipped } : { name, skipped };
    skipped.push({ name, reason });
  }
  const detail = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new BackendUnavailableError(
    choice === 'auto' ? `No TensorFlow.js backend could start (${detail})` : `Backend "${choice}" is unavailable: ${detail}`,
  );
}
