/**
 * Loads a model file from disk for the CLI and the extension: text formats in-process (a
 * tree-sitter parse takes milliseconds), binary ones (.keras, .h5) in a worker thread with a
 * time limit, and TF.js weight shards from the model's own folder only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PositionIndex, type LoadResult } from '../core/model';
import { loadModelFile } from '../core/parse/index';

export interface LoadFileOptions {
  /** Ignore trained weights in saved models: diagnose from a fresh initialisation. */
  readonly freshInit?: boolean;
  /** Binary files taking longer than this to read are given up (ms). */
  readonly binaryTimeoutMs?: number;
  /** The loader bundle (dist/loader.js); found next to this bundle by default. */
  readonly loaderPath?: string;
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

export function isBinaryModel(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP) || startsWith(bytes, HDF5);
}

function defaultLoaderPath(): string {
  const candidates = [path.join(__dirname, 'loader.js'), path.join(__dirname, '..', '..', 'dist', 'loader.js')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`Loader bundle not found (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

function failure(fileName: string, message: string): LoadResult {
  return { format: 'keras-json', models: [], problems: [{ code: 'parse-error', message, span: new PositionIndex('').span(0, 0) }] };
}

/** Reads a binary model in a worker; a worker that does not answer in time is terminated. */
function loadBinaryIsolated(bytes: Uint8Array, fileName: string, options: LoadFileOptions): Promise<LoadResult> {
  const timeoutMs = options.binaryTimeoutMs ?? 20_000;
  return new Promise((resolve) => {
    const worker = new Worker(options.loaderPath ?? defaultLoaderPath(), { workerData: { bytes, fileName, freshInit: options.freshInit ?? false } });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve(failure(fileName, `${path.basename(fileName)} could not be read within ${timeoutMs / 1000} s: the file may be damaged (its HDF5 or zip structure does not resolve)`));
    }, timeoutMs);
    worker.once('message', (message: { result?: LoadResult; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(message.result ?? failure(fileName, `${path.basename(fileName)} could not be read: ${message.error ?? 'unknown error'}`));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      resolve(failure(fileName, `${path.basename(fileName)} could not be read: ${error.message}`));
    });
  });
}

/**
 * Loads the models of `file` given its bytes. TF.js weight shards named in a model.json are read
 * from the model's own folder only (a manifest cannot reach files elsewhere).
 */
export async function loadModelBytes(bytes: Uint8Array, file: string, options: LoadFileOptions = {}): Promise<LoadResult> {
  if (isBinaryModel(bytes)) return loadBinaryIsolated(bytes, file, options);
  const folder = path.dirname(path.resolve(file));
  const readSibling = (name: string): Uint8Array | undefined => {
    const target = path.resolve(folder, name);
    if (path.dirname(target) !== folder) return undefined;
    try {
      return new Uint8Array(fs.readFileSync(target));
    } catch {
      return undefined;
    }
  };
  return loadModelFile(bytes, file, { freshInit: options.freshInit, readSibling });
}
