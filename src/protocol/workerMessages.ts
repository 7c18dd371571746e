/**
 * The typed protocol between a trainer host (CLI or extension) and the trainer worker.
 * Discriminated unions only; no tensors, no behaviour.
 */
import type { ModelSpec } from '../core/model';
import type { BackendChoice, EarlyStop, RunStats, TrainingData, TrainingOptions } from '../core/stats';
import type { Thresholds } from '../core/analysis/types';
import type { ReplicaLayout } from './replicaLayout';

//#region to worker
export interface TrainRequest {
  readonly type: 'train';
  readonly requestId: number;
  readonly model: ModelSpec;
  readonly options: TrainingOptions;
  readonly backend: BackendChoice;
  /** Refuse models above this many trainable parameters before building them. */
  readonly parameterCap: number;
  /**
   * One Int32 set to 1 by the host to cancel. Shared memory, because a training loop on a
   * synchronous backend (wasm, cpu) does not yield to the worker's message queue between steps.
   */
  readonly cancelFlag: SharedArrayBuffer;
  /** The user's data; synthetic N(0, 1) inputs when absent. */
  readonly data?: TrainingData;
  /** Folders searched first for optional backends (e.g. the extension's global storage). */
  readonly backendSearchDirs?: readonly string[];
  /** End training once the findings (under these thresholds) stop changing. */
  readonly earlyStop?: EarlyStop & { readonly thresholds: Thresholds };
}
/**
 * Sent by a trainer worker to a gradient replica (another instance of the same worker): build
 * `model` and serve gradient steps through `shared` until the control word says the run ended.
 * Layout of `shared`: see replicaLayout.ts.
 */
export interface ReplicaRunRequest {
  readonly type: 'replica-run';
  readonly runId: number;
  readonly model: ModelSpec;
  readonly options: TrainingOptions;
  readonly layout: ReplicaLayout;
  readonly shared: SharedArrayBuffer;
}
/** Sent to a fresh replica once: select this backend (the one its trainer uses). */
export interface ReplicaInitRequest {
  readonly type: 'replica-init';
  readonly backend: BackendChoice;
  readonly backendSearchDirs: readonly string[];
}
export type ToWorker = TrainRequest | ReplicaInitRequest | ReplicaRunRequest;
//#endregion

//#region from worker
export interface ProgressMessage {
  readonly type: 'progress';
  readonly requestId: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
}
export interface ResultMessage {
  readonly type: 'result';
  readonly requestId: number;
  readonly stats: RunStats;
}
export type TrainErrorKind = 'cancelled' | 'too-large' | 'unsupported' | 'data' | 'backend' | 'internal';
export interface ErrorMessage {
  readonly type: 'error';
  readonly requestId: number;
  readonly kind: TrainErrorKind;
  readonly message: string;
}
export type FromWorker = ProgressMessage | ResultMessage | ErrorMessage;

/** From a gradient replica to its trainer. */
export type FromReplica =
  | { readonly type: 'replica-ready'; readonly backend: string }
  | { readonly type: 'replica-built'; readonly runId: number; readonly shapes: readonly (readonly number[])[] }
  | { readonly type: 'replica-failed'; readonly runId?: number; readonly message: string };
//#endregion
