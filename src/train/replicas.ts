/**
 * The trainer side of data-parallel training on the CPU backends. WebAssembly threads are off
 * under Node, so a wasm backend computes on one core; this runs extra copies of the trainer
 * worker ("replicas"), each with its own wasm instance, and splits every batch between the
 * trainer and them. Weights go out and gradients come back through one SharedArrayBuffer per
 * replica (protocol/replicaLayout.ts); the trainer averages the gradients, weighted by rows,
 * and applies its optimizer, so the result is the full-batch gradient step up to rounding.
 *
 * Replicas are started once per trainer worker and kept for later runs (the baseline and every
 * what-if), because starting one (a wasm compile) costs a few hundred milliseconds.
 */
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../core/model';
import type { BackendChoice, TrainingOptions } from '../core/stats';
import type { FromReplica, ToWorker } from '../protocol/workerMessages';
import {
  DONE, GENERATION, ROWS, RUN_ENDED, STATUS, STATUS_FAILED, replicaBufferBytes, replicaRegions, waitWhileEqual,
  type ReplicaLayout, type ReplicaRegions,
} from '../protocol/replicaLayout';

/** A replica failed or exited; the trainer goes on alone and says so. */
export class ReplicaFailedError extends Error {}


interface ReplicaHandle {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Why it can no longer be used, once it cannot. */
  failure?: string;
  /** The regions of the run it serves, to wake a waiting trainer when the replica dies. */
  regions?: ReplicaRegions;
  builtWaiters: Map<number, { resolve(shapes: readonly (readonly number[])[]): void; reject(error: Error): void }>;
}

let nextRunId = 1;

/** One run's use of the replicas: launch a step on each, then collect their gradients. */
export class ReplicaRun {
  private generation = 0;

  constructor(
    private readonly handles: readonly ReplicaHandle[],
    readonly regions: readonly ReplicaRegions[],
  ) {}

  get count(): number {
    return this.regions.length;
  }

  /** Starts replica `i` on `rows` rows; its weights, x and y regions must be written first. */
  launch(i: number, rows: number): void {
    const { control } = this.regions[i];
    if (i === 0) this.generation++;
    Atomics.store(control, ROWS, rows);
    Atomics.store(control, GENERATION, this.generation);
    Atomics.notify(control, GENERATION);
  }

  /** Waits for replica `i`'s step; returns its mean loss (its gradients are in regions[i].grads). */
  async collect(i: number): Promise<number> {
    const { control, loss } = this.regions[i];
    await waitWhileEqual(control, DONE, this.generation - 1);
    const handle = this.handles[i];
    if (handle.failure !== undefined) throw new ReplicaFailedError(handle.failure);
    if (Atomics.load(control, STATUS) === STATUS_FAILED) throw new ReplicaFailedError(`training thread ${i + 2} failed`);
    return loss[0];
  }

  /** Tells every replica the run is over (they dispose their model and wait for the next). */
  end(): void {
    for (const { control } of this.regions) {
      Atomics.store(control, GENERATION, RUN_ENDED);
      Atomics.notify(control, GENERATION);
    }
    this.handles.forEach((h) => (h.regions = undefined));
  }
}

export class GradientReplicas {
  private readonly handles: ReplicaHandle[];

  /** Starts `count` copies of the trainer worker at `workerPath`, each selecting `backend`. */
  constructor(
    count: number,
    workerPath: string,
    readonly backend: BackendChoice,
    backendSearchDirs: readonly string[] = [],
  ) {
    this.handles = Array.from({ length: count }, () => this.spawn(workerPath, backendSearchDirs));
  }

  get count(): number {
    return this.handles.length;
  }

  private spawn(workerPath: string, backendSearchDirs: readonly string[]): ReplicaHandle {
    const worker = new Worker(workerPath);
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    ready.catch(() => undefined); // observed by start(); never an unhandled rejection
    const handle: ReplicaHandle = { worker, ready, builtWaiters: new Map() };
    const markFailed = (why: string): void => {
      if (handle.failure !== undefined) return;
      handle.failure = why;
      readyReject(new ReplicaFailedError(why));
      handle.builtWaiters.forEach((w) => w.reject(new ReplicaFailedError(why)));
      handle.builtWaiters.clear();
      if (handle.regions) {
        // Wake a trainer waiting for this replica's step.
        Atomics.store(handle.regions.control, STATUS, STATUS_FAILED);
        Atomics.store(handle.regions.control, DONE, RUN_ENDED);
        Atomics.notify(handle.regions.control, DONE);
      }
    };
    worker.on('message', (message: FromReplica) => {
      switch (message.type) {
        case 'replica-ready':
          readyResolve();
          break;
        case 'replica-built':
          handle.builtWaiters.get(message.runId)?.resolve(message.shapes);
          handle.builtWaiters.delete(message.runId);
          break;
        case 'replica-failed':
          if (message.runId === undefined) {
            markFailed(message.message);
          } else {
            handle.builtWaiters.get(message.runId)?.reject(new ReplicaFailedError(message.message));
            handle.builtWaiters.delete(message.runId);
          }
          break;
      }
    });
    worker.on('error', () => markFailed('a training thread crashed'));
    worker.on('exit', (code) => markFailed(`a training thread exited (code ${code})`));
    // Kept referenced: Atomics.waitAsync alone does not keep an event loop alive. Replicas end
    // with dispose() or with the trainer worker that started them.
    const init: ToWorker = { type: 'replica-init', backend: this.backend, backendSearchDirs: [...backendSearchDirs] };
    worker.postMessage(init);
    return handle;
  }

  /** True while no replica has failed. */
  get healthy(): boolean {
    return this.handles.every((h) => h.failure === undefined);
  }

  /**
   * Waits for the replicas, has each build `spec`, and checks that their trainable weights have
   * the trainer's shapes (so flat weight and gradient buffers line up).
   */
  async start(spec: ModelSpec, options: TrainingOptions, layout: ReplicaLayout, shapes: readonly (readonly number[])[]): Promise<ReplicaRun> {
    const runId = nextRunId++;
    const regions = this.handles.map(() => replicaRegions(new SharedArrayBuffer(replicaBufferBytes(layout)), layout));
    await Promise.all(this.handles.map((h) => h.ready));
    const built = await Promise.all(this.handles.map((handle, i) => new Promise<readonly (readonly number[])[]>((resolve, reject) => {
      if (handle.failure !== undefined) {
        reject(new ReplicaFailedError(handle.failure));
        return;
      }
      handle.builtWaiters.set(runId, { resolve, reject });
      handle.regions = regions[i];
      const message: ToWorker = { type: 'replica-run', runId, model: spec, options, layout, shared: regions[i].control.buffer as SharedArrayBuffer };
      handle.worker.postMessage(message);
    })));
    const run = new ReplicaRun(this.handles, regions);
    const expected = JSON.stringify(shapes);
    if (built.some((s) => JSON.stringify(s) !== expected)) {
      run.end();
      throw new ReplicaFailedError(`a training thread built weights of other shapes (${JSON.stringify(built[0])} against ${expected})`);
    }
    return run;
  }

  /** Stops every replica. */
  async dispose(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}
