/**
 * The typed protocol between a trainer host (CLI or extension) and the trainer worker.
 * Discriminated unions only; no tensors, no behaviour.
 */
import type { ModelSpec } from '../core/model';
import type { BackendChoice, EarlyStop, RunStats, TrainingData, TrainingOptions } from '../core/stats';
import type { Thresholds } from '../core/analysis/types';

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
export type ToWorker = TrainRequest;
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
//#endregion
