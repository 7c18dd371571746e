/**
 * The webgpu backend in Node: TensorFlow.js's WebGPU kernels (bundled) over Dawn, Google's
 * WebGPU implementation, which the optional npm package `webgpu` ships as a native addon
 * (dawn.node, prebuilt per platform, resolved at run time and never bundled).
 *
 * In a browser the backend finds `navigator.gpu`; Node has none, so before the backend module is
 * first evaluated this puts a `navigator.gpu` on globalThis that hands out the adapter chosen
 * here. The backend checks for `navigator.gpu` once, when its module is evaluated, which is why
 * the module is imported lazily below and not at the top of the file.
 *
 * Adapter choice:
 * - a full (core) WebGPU adapter through Vulkan, Metal or D3D12, high-performance first: a real
 *   GPU. `auto` uses only this, and not a software one, since a software GPU is slower than wasm.
 * - only when webgpu is asked for by name: Dawn's OpenGL ES backend in compatibility mode. On a
 *   machine without a GPU this is Mesa's llvmpipe (software), which runs the same kernels; it
 *   exists to check the GPU code path on such machines, and headless it needs
 *   EGL_PLATFORM=surfaceless in the environment the process started with.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The subset of the `webgpu` package's exports used here. */
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}
interface DawnAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}
interface DawnAdapter {
  readonly info?: DawnAdapterInfo;
}
interface DawnGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
  getPreferredCanvasFormat?(): string;
  readonly wgslLanguageFeatures?: unknown;
}

export interface WebGpuStart {
  /** Why the backend cannot run here; undefined when it is active. */
  readonly reason?: string;
  /** The adapter it runs on, in words, e.g. "NVIDIA H100 (core)". */
  readonly device?: string;
}

/** Names Mesa, SwiftShader and WARP give their software rasterisers. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|warp|software/i;

function describe(info: DawnAdapterInfo | undefined, mode: 'core' | 'compatibility'): string {
  const name = [info?.vendor, info?.device || info?.architecture].filter(Boolean).join(' ') || info?.description || 'unnamed adapter';
  const software = isSoftware(info) ? ', software' : '';
  return `${name.trim()} (${mode === 'core' ? 'core' : 'OpenGL ES compatibility mode'}${software})`;
}

function isSoftware(info: DawnAdapterInfo | undefined): boolean {
  if (!info) return false;
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${info.device ?? ''} ${info.description ?? ''} ${info.architecture ?? ''}`);
}

/**
 * Whether the Vulkan loader can be found (Linux): Dawn's core adapters there go through it, and
 * without it Dawn only prints a warning to stderr, so it is looked for first, the way ld.so does:
 * LD_LIBRARY_PATH, then the linker cache. Other platforms: assumed present (Metal, D3D12).
 */
export function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((dir) => fs.existsSync(path.join(dir, 'libvulkan.so.1')))) return true;
  try {
    return fs.readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

/** Installs `navigator.gpu` (keeping any other navigator fields); returns how to undo it. */
function installNavigator(gpu: DawnGpu): () => void {
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const existing = (globalThis as { navigator?: object }).navigator;
  const shim = Object.create(existing ?? null) as Record<string, unknown>;
  shim.gpu = gpu;
  Object.defineProperty(globalThis, 'navigator', { value: shim, configurable: true, writable: true, enumerable: true });
  return () => {
    if (before) Object.defineProperty(globalThis, 'navigator', before);
    else delete (globalThis as { navigator?: object }).navigator;
  };
}

/** The chosen adapter, offered to the backend as the only one (whatever options it passes). */
function singleAdapterGpu(gpu: DawnGpu, adapter: DawnAdapter): DawnGpu {
  return {
    requestAdapter: () => Promise.resolve(adapter),
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.() ?? 'rgba8unorm',
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
}

async function requestOrNull(gpu: DawnGpu, options: Record<string, unknown>): Promise<DawnAdapter | null> {
  try {
    return await gpu.requestAdapter(options);
  } catch {
    return null;
  }
}

/**
 * Starts the webgpu backend on Dawn loaded from `dawnEntry` (the resolved `webgpu` package).
 * `named`: the user asked for webgpu by name, so a compatibility or software adapter will do.
 */
export async function startWebGpu(dawnEntry: string, named: boolean, activate: (name: string) => Promise<boolean>): Promise<WebGpuStart> {
  let dawn: DawnModule;
  try {
    dawn = (await import(pathToFileURL(dawnEntry).href)) as DawnModule;
  } catch (error) {
    return { reason: `the webgpu package (Dawn) failed to load: ${(error as Error).message.split('\n')[0]}` };
  }
  // GPUBufferUsage, GPUMapMode, …: the constants the backend reads as globals in a browser.
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }

  const vulkan = hasVulkanLoader();
  let gpu = dawn.create([]);
  let adapter = vulkan ? ((await requestOrNull(gpu, { powerPreference: 'high-performance' })) ?? (await requestOrNull(gpu, {}))) : null;
  let mode: 'core' | 'compatibility' = 'core';
  if (adapter && isSoftware(adapter.info) && !named) {
    return { reason: `Dawn found only a software adapter (${describe(adapter.info, 'core')}), slower than wasm; ask for webgpu by name to use it anyway` };
  }
  if (!adapter) {
    const none = vulkan ? 'Dawn found no GPU adapter (Vulkan, Metal or D3D12)' : 'no Vulkan loader (libvulkan.so.1), through which Dawn reaches a GPU on Linux';
    if (!named) return { reason: none };
    gpu = dawn.create(['backend=opengles']);
    adapter = await requestOrNull(gpu, { featureLevel: 'compatibility' });
    mode = 'compatibility';
    if (!adapter) {
      const egl = process.platform === 'linux' && !process.env.EGL_PLATFORM && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY
        ? '; with no display, start with EGL_PLATFORM=surfaceless for a headless OpenGL ES adapter'
        : '';
      return { reason: `${none}, and no OpenGL ES adapter either${egl}` };
    }
  }

  const restoreNavigator = installNavigator(singleAdapterGpu(gpu, adapter));
  try {
    if (!tf.findBackendFactory('webgpu')) await import('@tensorflow/tfjs-backend-webgpu');
    if (!tf.findBackendFactory('webgpu')) {
      restoreNavigator();
      return { reason: '@tensorflow/tfjs-backend-webgpu did not register (it saw no navigator.gpu)' };
    }
    if (!(await activate('webgpu'))) {
      restoreNavigator();
      return { reason: `the webgpu backend failed to initialise on ${describe(adapter.info, mode)}` };
    }
  } catch (error) {
    restoreNavigator();
    return { reason: `the webgpu backend failed to load: ${(error as Error).message.split('\n')[0]}` };
  }
  return { device: describe(adapter.info, mode) };
}
