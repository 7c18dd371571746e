/**
 * The shared-memory contract between a trainer and one gradient replica (data-parallel
 * training). One SharedArrayBuffer per replica and run:
 *
 *   bytes 0–15   Int32 control words (below)
 *   then Float32 regions: weights | x rows | y rows | gradients | loss
 *
 * A step: the trainer writes the weights and the replica's rows, stores Rows, increments
 * Generation and notifies; the replica computes the gradient of the mean loss over its rows,
 * writes gradients and loss, stores Generation into Done and notifies. Generation = RUN_ENDED
 * tells the replica that the run is over. No tfjs here: both sides only read and write floats.
 */

/** Index of the Int32 control words. */
export const GENERATION = 0;
export const DONE = 1;
export const STATUS = 2;
export const ROWS = 3;
const CONTROL_BYTES = 16;

export const RUN_ENDED = -1;
export const STATUS_OK = 0;
export const STATUS_FAILED = 1;

export interface ReplicaLayout {
  /** Total floats of all trainable weights, in the model's trainableWeights order. */
  readonly weightFloats: number;
  /** Floats per input row and per target row. */
  readonly xFloatsPerRow: number;
  readonly yFloatsPerRow: number;
  /** Most rows a replica is given in one step. */
  readonly maxRows: number;
}

export interface ReplicaRegions {
  readonly control: Int32Array;
  readonly weights: Float32Array;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly grads: Float32Array;
  readonly loss: Float32Array;
}

function floatsOf(layout: ReplicaLayout): number {
  return 2 * layout.weightFloats + layout.maxRows * (layout.xFloatsPerRow + layout.yFloatsPerRow) + 1;
}

export function replicaBufferBytes(layout: ReplicaLayout): number {
  return CONTROL_BYTES + 4 * floatsOf(layout);
}

export function replicaRegions(buffer: SharedArrayBuffer, layout: ReplicaLayout): ReplicaRegions {
  if (buffer.byteLength < replicaBufferBytes(layout)) throw new Error(`replica buffer of ${buffer.byteLength} bytes is smaller than its layout needs`);
  let offset = CONTROL_BYTES;
  const take = (floats: number): Float32Array => {
    const view = new Float32Array(buffer, offset, floats);
    offset += 4 * floats;
    return view;
  };
  return {
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    weights: take(layout.weightFloats),
    x: take(layout.maxRows * layout.xFloatsPerRow),
    y: take(layout.maxRows * layout.yFloatsPerRow),
    grads: take(layout.weightFloats),
    loss: take(1),
  };
}

/** Resolves once control[index] no longer holds `value` (at once when it already differs). */
export async function waitWhileEqual(control: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.load(control, index) === value) {
    const waited = Atomics.waitAsync(control, index, value);
    if (waited.async) await waited.value;
  }
}
