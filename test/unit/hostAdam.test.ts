/**
 * HostAdam (the CPU backends' one-pass Adam) must take TensorFlow.js's Adam steps: same
 * weights after several steps from the same start, on wasm (in place on the heap, and through
 * a copy when the weights' buffer is shared) and on cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { HostAdam } from '../../src/train/hostAdam';

function weightsAfterSteps(makeOptimizer: () => Pick<tf.Optimizer, 'applyGradients' | 'dispose'>, prefix: string, shareFirst: boolean): number[][] {
  const initial = [tf.tensor2d([[0.5, -1.5, 2], [0.25, 0, -0.75]]), tf.tensor1d([0.1, -0.2, 0.3])];
  const vars = initial.map((t, i) => tf.variable(t.clone(), true, `${prefix}_${i}`));
  // A live tensor sharing the first variable's buffer: the weights must not change under it.
  const shared = shareFirst ? tf.clone(vars[0]) : undefined;
  vars[0].assign(shared ?? vars[0].clone());
  const before = shared ? Array.from(shared.dataSync()) : [];
  const optimizer = makeOptimizer();
  const x = tf.tensor2d([[1, -2], [0.5, 3], [-1, 1]]);
  for (let step = 0; step < 7; step++) {
    tf.tidy(() => {
      // Far from its minimum for these steps, so no gradient changes sign: Adam's g / √v would
      // turn rounding differences into different steps there, whichever side is right.
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(tf.add(tf.matMul(x, vars[0]), vars[1]), 10))) as tf.Scalar, vars);
      optimizer.applyGradients(grads);
    });
  }
  if (shared) assert.deepEqual(Array.from(shared.dataSync()), before, 'a tensor sharing the weights was left as it was');
  const out = vars.map((v) => Array.from(v.dataSync()));
  optimizer.dispose();
  tf.dispose([...vars, ...initial, x, ...(shared ? [shared] : [])]);
  return out;
}

for (const backend of ['wasm', 'cpu'] as const) {
  for (const shareFirst of [false, true]) {
    test(`HostAdam takes TensorFlow.js's Adam steps on ${backend}${shareFirst ? ', weights buffer shared' : ''}`, async () => {
      assert.equal(await tf.setBackend(backend), true);
      const reference = weightsAfterSteps(() => tf.train.adam(0.02), `ref_${backend}_${shareFirst}`, shareFirst);
      const ours = weightsAfterSteps(() => new HostAdam(0.02), `host_${backend}_${shareFirst}`, shareFirst);
      reference.forEach((values, v) => values.forEach((want, i) => {
        assert.ok(Math.abs(ours[v][i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `variable ${v}[${i}]: ${ours[v][i]} against ${want}`);
      }));
      // The steps moved the weights (else agreement would prove nothing).
      assert.ok(Math.abs(reference[0][0] - 0.5) > 0.05, `moved from 0.5 to ${reference[0][0]}`);
    });
  }
}
