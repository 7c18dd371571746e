/**
 * Reads model files for the CLI and the extension in a worker thread with a memory limit, never
 * on the caller's thread: a hostile or huge file may fail to read, but it cannot take the
 * extension host (or the CLI's Ctrl-C) down with it. The loaders' own budgets (size, depth,
 * counts, steps: src/core/parse/limits.ts) refuse such files with a position; the worker's heap
 * limit is the backstop for anything they miss. TF.js weight shards are read from the model's own
 * folder only; imported Python modules from the model's folder and the project root only
 * (pythonModules.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PositionIndex, type LoadResult, type ModelFormat } from '../core/model';
import type { LoaderReply, LoaderRequest } from './loaderWorker';

export interface LoadFileOptions {
  /** Ignore trained weights in saved models: diagnose from a fresh initialisation. */
  readonly freshInit?: boolean;
  /**
   * Binary files (.keras, .h5) taking longer than this to read are given up (ms): libhdf5 can
   * loop forever on some damaged files, and no step budget reaches inside it.
   */
  readonly binaryTimeoutMs?: number;
  /** The loader bundle (dist/loader.js); found next to this bundle by default. */
  readonly loaderPath?: string;
  /** Stops the read: the worker is terminated and the result is `'cancelled'`. */
  readonly signal?: AbortSignal;
  /**
   * The project root (VS Code: the workspace folder; CLI: --root or the found project root):
   * Python modules the file imports are read from the model's folder and from here, never from
   * outside it. Absent: the model's folder only.
   */
  readonly projectRoot?: string;
  /** One example's shape (no batch axis) of the data chosen for the file: the loaders' input shape when the file leaves it open. */
  readonly inputShape?: readonly number[];
}

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * The reader worker's V8 heap limits (MiB). 512 MiB of old generation is ~100× what the largest
 * model file the loaders accept (a few MiB of source) needs, and keeps the whole process under
 * 1 GiB with the caller's own heap.
 */
export const READER_HEAP_LIMIT_MB = 512;
const READER_YOUNG_GENERATION_MB = 32;
/** Stack of the reader worker (MiB): room for the loaders' nesting caps, far below a crash. */
const READER_STACK_MB = 8;

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

function failure(message: string, format: ModelFormat = 'keras-json'): LoadResult {
  return { format, models: [], problems: [{ code: 'parse-error', message, span: new PositionIndex('').span(0, 0) }] };
}

interface Job {
  readonly request: LoaderRequest;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly resolve: (result: LoadResult | 'cancelled') => void;
  /** The binary time limit's timer, while the job runs. */
  timer?: NodeJS.Timeout;
}

/**
 * One reader worker, reused across reads (starting one costs the loaders' set-up), one read at a
 * time. A read that crashes the worker (out of memory), overruns a binary file's time limit or is
 * cancelled ends that worker; the next read starts a fresh one.
 */
export class StaticReader {
  private worker: Worker | undefined;
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private nextId = 1;
  private disposed = false;

  constructor(private readonly loaderPath: string = defaultLoaderPath()) {}

  /** Reads `input` (the file's text or bytes) as `fileName`; never rejects. */
  read(input: string | Uint8Array, fileName: string, options: Omit<LoadFileOptions, 'loaderPath'> = {}): Promise<LoadResult | 'cancelled'> {
    if (options.signal?.aborted) return Promise.resolve('cancelled');
    if (this.disposed) return Promise.resolve(failure(`${path.basename(fileName)} was not read: the reader was shut down`));
    const binary = typeof input !== 'string' && isBinaryModel(input);
    return new Promise((resolve) => {
      const request: LoaderRequest = {
        id: this.nextId++,
        input,
        fileName,
        freshInit: options.freshInit ?? false,
        siblingFolder: path.dirname(path.resolve(fileName)),
        ...(options.projectRoot ? { projectRoot: path.resolve(options.projectRoot) } : {}),
        ...(options.inputShape ? { inputShape: [...options.inputShape] } : {}),
      };
      const job: Job = { request, resolve, signal: options.signal, timeoutMs: binary ? options.binaryTimeoutMs ?? 20_000 : undefined };
      options.signal?.addEventListener('abort', () => this.cancel(job), { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Ends the worker; reads not yet answered resolve as cancelled. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.queue.splice(0)) job.resolve('cancelled');
    const worker = this.worker;
    this.worker = undefined;
    if (this.current) this.finish(this.current, 'cancelled');
    await worker?.terminate();
  }

  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.resolve('cancelled');
    } else if (this.current === job) {
      this.killWorker();
      this.finish(job, 'cancelled');
    }
  }

  private pump(): void {
    if (this.current || this.disposed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.current = job;
    const worker = this.ensureWorker();
    // Held while it works; an idle reader must not keep the CLI's process alive.
    worker.ref();
    if (job.timeoutMs !== undefined) {
      job.timer = setTimeout(() => {
        this.killWorker();
        this.finish(job, failure(`${path.basename(job.request.fileName)} could not be read within ${job.timeoutMs! / 1000} s: the file may be damaged (its HDF5 or zip structure does not resolve)`));
      }, job.timeoutMs);
    }
    worker.postMessage(job.request);
  }

  private finish(job: Job, result: LoadResult | 'cancelled'): void {
    if (this.current !== job) return;
    clearTimeout(job.timer);
    this.current = undefined;
    this.worker?.unref();
    job.resolve(result);
    this.pump();
  }

  private killWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    worker?.removeAllListeners();
    void worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.loaderPath, {
      resourceLimits: { maxOldGenerationSizeMb: READER_HEAP_LIMIT_MB, maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB, stackSizeMb: READER_STACK_MB },
      stdout: false,
      stderr: false,
    });
    worker.on('message', (reply: LoaderReply) => {
      const job = this.current;
      if (this.worker !== worker || !job || reply.id !== job.request.id) return;
      const name = path.basename(job.request.fileName);
      // The loaders never throw on purpose; an exception is the reader's own fault, and its text
      // (a library's internals) is no help to the person: say what happened instead.
      // (A RangeError is the stack or an array length running out: the file's size or nesting.)
      this.finish(job, reply.result ?? failure(reply.errorName === 'RangeError'
        ? `${name} could not be read: it is too large or too deeply nested to read statically`
        : `${name} could not be read: the static reader failed on it; please report the file`));
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      const job = this.current;
      this.worker = undefined;
      if (!job) return;
      const name = path.basename(job.request.fileName);
      this.finish(job, failure(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `${name} could not be read: reading it needed more than the static reader's ${READER_HEAP_LIMIT_MB} MiB of memory (the file is too large or too repetitive to read statically)`
        : `${name} could not be read: the static reader stopped on it; please report the file`));
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const job = this.current;
      if (job) this.finish(job, failure(`${path.basename(job.request.fileName)} could not be read: the static reader stopped on it; please report the file`));
    });
    this.worker = worker;
    return worker;
  }
}

/**
 * Loads the models of `file` given its bytes, in a one-off reader (the CLI's case; the extension
 * keeps a StaticReader). `'cancelled'` when `options.signal` aborted it.
 */
export async function loadModelBytes(bytes: Uint8Array, file: string, options: LoadFileOptions = {}): Promise<LoadResult | 'cancelled'> {
  const reader = new StaticReader(options.loaderPath);
  try {
    return await reader.read(bytes, file, options);
  } finally {
    await reader.dispose();
  }
}
