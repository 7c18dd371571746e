/**
 * Adam in one pass per variable on the host, for the CPU backends (wasm, cpu). TensorFlow.js's
 * Adam runs ~12 kernels per variable per step (moment updates, bias corrections, the square
 * root, the update); on a CPU backend each costs 15–20 µs of dispatch whatever its size, so on
 * the reference 9×256 MLP (20 variables) the optimiser alone took ~10 ms of a 21 ms step. Here
 * each variable is one read, one loop and one write.
 *
 * The arithmetic is TensorFlow.js's (tfjs-core adam_optimizer.ts), so a run is the same run:
 *   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
 *   w ← w − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 * with ε the backend's (1e-7 for float32), m and v kept as float32 like the tensors they replace.
 * Not for GPU backends: reading every weight back each step would cost more than it saves.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * One Adam update over a variable, in place: a separate monomorphic function over typed arrays
 * so V8 optimises the loop once (11 ns per weight inline in the method, ~2 here).
 * lrOverC1 = lr / (1 − β₁ᵗ), invC2 = 1 / (1 − β₂ᵗ).
 */
function adamPass(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  beta1: number, beta2: number, lrOverC1: number, invC2: number, epsilon: number): void {
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= (lrOverC1 * mi) / (Math.sqrt(vi * invC2) + epsilon);
  }
}

export class HostAdam {
  private readonly firstMoments = new Map<string, Float32Array>();
  private readonly secondMoments = new Map<string, Float32Array>();
  /** β₁ᵗ and β₂ᵗ for the step being taken (t counted from 1). */
  private accBeta1: number;
  private accBeta2: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = tf.backend().epsilon(),
  ) {
    // TensorFlow.js keeps β₁ᵗ and β₂ᵗ as float32 scalars, and 1 − 0.999 in float32 is off by
    // 1.3e-5 relative: rounded the same way here, so both take the same steps.
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
  }

  /** One Adam step for every variable that has a gradient in `grads` (keyed by variable name). */
  applyGradients(grads: Record<string, tf.Tensor>): void {
    const correction1 = Math.fround(1 - this.accBeta1);
    const correction2 = Math.fround(1 - this.accBeta2);
    const { beta1, beta2, epsilon, learningRate } = this;
    for (const [name, gradient] of Object.entries(grads)) {
      const variable = tf.engine().registeredVariables[name];
      if (!variable || gradient == null) continue;
      if (variable.dtype !== 'float32' || gradient.size !== variable.size) {
        throw new Error(`HostAdam: ${name} is ${variable.dtype} ${variable.shape.join('×')}, its gradient ${gradient.dtype} ${gradient.shape.join('×')}`);
      }
      let m = this.firstMoments.get(name);
      let v = this.secondMoments.get(name);
      if (!m || !v) {
        m = new Float32Array(variable.size);
        v = new Float32Array(variable.size);
        this.firstMoments.set(name, m);
        this.secondMoments.set(name, v);
      }
      // A new buffer each step, never the old one written in place: the wasm backend caches
      // XNNPACK operators with packed weights by tensor id, and an in-place change went unseen
      // by them (the next forward pass used the old weights).
      // wasm's dataSync is already a copy of the heap; the cpu backend's is its own storage.
      const current = variable.dataSync() as Float32Array;
      const w = tf.getBackend() === 'wasm' ? current : Float32Array.from(current);
      adamPass(w, gradient.dataSync() as Float32Array, m, v, beta1, beta2, learningRate / correction1, 1 / correction2, epsilon);
      const updated = tf.tensor(w, variable.shape, 'float32');
      variable.assign(updated);
      updated.dispose();
    }
    this.accBeta1 = Math.fround(this.accBeta1 * beta1);
    this.accBeta2 = Math.fround(this.accBeta2 * beta2);
  }

  dispose(): void {
    this.firstMoments.clear();
    this.secondMoments.clear();
  }
}
