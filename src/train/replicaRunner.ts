/**
 * The replica side of data-parallel training: a second trainer worker that builds the same
 * model and, each step, computes the gradient of the mean loss over the rows it was given, with
 * the weights the trainer wrote. It never updates weights itself, so it cannot drift from the
 * trainer. The shared-memory contract is in protocol/replicaLayout.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { FromReplica, ReplicaRunRequest } from '../protocol/workerMessages';
import { DONE, GENERATION, ROWS, RUN_ENDED, STATUS, STATUS_FAILED, STATUS_OK, replicaRegions, waitWhileEqual } from '../protocol/replicaLayout';
import { buildModel, type BuiltModel } from './buildModel';
import { lossFor } from './trainer';


/** Builds the run's model and serves gradient steps until the trainer ends the run. */
export async function serveReplicaRun(request: ReplicaRunRequest, post: (message: FromReplica) => void): Promise<void> {
  const regions = replicaRegions(request.shared, request.layout);
  const { control } = regions;
  const fail = (message: string): void => {
    Atomics.store(control, STATUS, STATUS_FAILED);
    post({ type: 'replica-failed', runId: request.runId, message });
  };
  let built: BuiltModel;
  try {
    built = buildModel(request.model, request.options.seed);
  } catch {
    fail('could not build the model in a training thread');
    return;
  }
  try {
    const trainable = built.trainModel.trainableWeights.map((w) => w.read() as tf.Variable);
    post({ type: 'replica-built', runId: request.runId, shapes: trainable.map((v) => v.shape) });
    const inputShape = request.model.inputShape;
    const targetShape = built.trainModel.outputs[0].shape.slice(1) as number[];
    const { xFloatsPerRow, yFloatsPerRow } = request.layout;
    let served = 0;
    for (;;) {
      await waitWhileEqual(control, GENERATION, served);
      const generation = Atomics.load(control, GENERATION);
      if (generation === RUN_ENDED) return;
      served = generation;
      try {
        const rows = Atomics.load(control, ROWS);
        tf.tidy(() => {
          // .slice() copies out of shared memory: the cpu backend keeps the array it is given.
          let offset = 0;
          for (const v of trainable) {
            v.assign(tf.tensor(regions.weights.slice(offset, offset + v.size), v.shape));
            offset += v.size;
          }
          const xb = tf.tensor(regions.x.slice(0, rows * xFloatsPerRow), [rows, ...inputShape]);
          const yb = tf.tensor(regions.y.slice(0, rows * yFloatsPerRow), [rows, ...targetShape]);
          const { value, grads } = tf.variableGrads(
            () => lossFor(built, yb, built.trainModel.apply(xb, { training: true }) as tf.Tensor),
            trainable,
          );
          offset = 0;
          for (const v of trainable) {
            regions.grads.set(grads[v.name].dataSync() as Float32Array, offset);
            offset += v.size;
          }
          regions.loss[0] = value.dataSync()[0];
        });
        Atomics.store(control, STATUS, STATUS_OK);
      } catch {
        fail('a training step failed in a training thread');
      }
      Atomics.store(control, DONE, generation);
      Atomics.notify(control, DONE);
      if (Atomics.load(control, STATUS) === STATUS_FAILED) return;
    }
  } finally {
    built.trainModel.dispose();
  }
}
