/**
 * Host side of the trainer protocol: starts the worker lazily, sends typed requests, streams
 * progress, cancels, and turns a crashed or killed worker into a clear error. No tfjs here.
 */
import { Worker } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelSpec } from '../core/model';
import type { BackendChoice, RunStats, TrainingData, TrainingOptions } from '../core/stats';
import type { TrainRequest } from '../protocol/workerMessages';
import type { FromWorker, ToWorker, TrainErrorKind } from '../protocol/workerMessages';

export class TrainingError extends Error {
  constructor(
    readonly kind: TrainErrorKind | 'crashed',
    message: string,
  ) {
    super(message);
  }
}

/** A cancellation signal shared by the CLI (Ctrl-C) and the extension (progress Cancel). */
export interface CancellationSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

interface Pending {
  resolve(stats: RunStats): void;
  reject(error: Error): void;
  onProgress?: (step: number, steps: number, loss: number) => void;
}

/** Finds dist/worker.js next to the running bundle, or in the repository's dist/ under tsx. */
export function defaultWorkerPath(): string {
  const candidates = [path.join(__dirname, 'worker.js'), path.join(__dirname, '..', '..', 'dist', 'worker.js')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`Trainer bundle not found (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

/** How long a cancelled run may take to stop by itself before the worker is terminated. */
const CANCEL_GRACE_MS = 3000;

export class TrainerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  /** Native matrix products on the wasm backend (nativeBlas.ts) for workers started from now. */
  private nativeProducts = true;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly workerPath: string = defaultWorkerPath(),
    /** Folders searched first for optional backends (the extension passes its global storage). */
    private readonly backendSearchDirs: readonly string[] = [],
  ) {}

  /**
   * Turns the wasm backend's native matrix products on or off. The worker reads it from its
   * environment (ACTIVATION_LENS_BLAS, which its replicas inherit) when it selects a backend, so
   * an idle worker is replaced; a busy one finishes its run and is replaced before the next.
   */
  setNativeProducts(enabled: boolean): void {
    if (enabled === this.nativeProducts) return;
    this.nativeProducts = enabled;
    const worker = this.worker;
    if (worker && this.pending.size === 0) {
      this.worker = undefined;
      void worker.terminate();
    } else if (worker) {
      this.replaceWorkerWhenIdle = true;
    }
  }

  private replaceWorkerWhenIdle = false;

  private ensureWorker(): Worker {
    if (this.worker && this.replaceWorkerWhenIdle && this.pending.size === 0) {
      const old = this.worker;
      this.worker = undefined;
      this.replaceWorkerWhenIdle = false;
      void old.terminate();
    }
    if (this.worker) return this.worker;
    const env = this.nativeProducts ? process.env : { ...process.env, ACTIVATION_LENS_BLAS: 'off' };
    const worker = new Worker(this.workerPath, { env });
    worker.on('message', (message: FromWorker) => this.onMessage(message));
    // Only the current worker's end fails the runs in flight: a worker retired on purpose
    // (dispose, a settings change) may exit after its successor has taken new runs.
    worker.on('error', (error) => {
      if (this.worker === worker) this.failAll(new TrainingError('crashed', `The trainer crashed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new TrainingError('crashed', `The trainer stopped unexpectedly (exit code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(message: FromWorker): void {
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    switch (message.type) {
      case 'progress':
        pending.onProgress?.(message.step, message.steps, message.loss);
        break;
      case 'result':
        this.pending.delete(message.requestId);
        pending.resolve(message.stats);
        break;
      case 'error':
        this.pending.delete(message.requestId);
        pending.reject(new TrainingError(message.kind, message.message));
        break;
    }
  }

  private failAll(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }

  /** Trains one model in the worker. Rejects with TrainingError (kind 'cancelled' on cancel). */
  train(
    model: ModelSpec,
    options: TrainingOptions,
    backend: BackendChoice,
    parameterCap: number,
    onProgress?: (step: number, steps: number, loss: number) => void,
    signal?: CancellationSignal,
    data?: TrainingData,
    earlyStop?: TrainRequest['earlyStop'],
  ): Promise<RunStats> {
    if (signal?.isCancellationRequested) return Promise.reject(new TrainingError('cancelled', 'Training was cancelled'));
    const worker = this.ensureWorker();
    const requestId = this.nextId++;
    const cancelFlag = new SharedArrayBuffer(4);
    return new Promise<RunStats>((resolve, reject) => {
      let hardStop: NodeJS.Timeout | undefined;
      const subscription = signal?.onCancellationRequested(() => {
        Atomics.store(new Int32Array(cancelFlag), 0, 1);
        // A step of a huge model can take long; if the worker does not stop soon, end it.
        hardStop = setTimeout(() => void this.dispose(), CANCEL_GRACE_MS);
      });
      const settle = <T>(fn: (v: T) => void) => (v: T) => {
        subscription?.dispose();
        if (hardStop) clearTimeout(hardStop);
        fn(v);
      };
      this.pending.set(requestId, { resolve: settle(resolve), reject: settle(reject), onProgress });
      worker.postMessage({ type: 'train', requestId, model, options, backend, parameterCap, cancelFlag, data, earlyStop, backendSearchDirs: this.backendSearchDirs } satisfies ToWorker);
    });
  }

  /** Stops the worker at once (also what a hard cancel or closing the window does). */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new TrainingError('cancelled', 'The trainer was stopped'));
    if (worker) await worker.terminate();
  }
}
