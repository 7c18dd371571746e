/** Hand-built ModelSpecs for tests that do not go through a loader. */
import type { ActivationSpec, InitializerSpec, LayerSpec, ModelSpec, SourceSpan } from '../../src/core/model';

export function spanAtLine(line: number): SourceSpan {
  return { start: { line, column: 1, offset: 0 }, end: { line, column: 2, offset: 1 } };
}

export interface DenseDef {
  readonly units: number;
  readonly activation: ActivationSpec['name'];
  readonly alpha?: number;
  readonly kernelInitializer?: InitializerSpec;
  readonly biasInitializer?: InitializerSpec;
}

/** An MLP of Dense layers with Keras defaults (Glorot uniform kernels, zero biases). */
export function mlp(inputDim: number, defs: readonly DenseDef[], name = 'model'): ModelSpec {
  const layers: LayerSpec[] = defs.map((d, index) => ({
    index,
    kind: 'dense',
    name: index === 0 ? 'dense' : `dense_${index}`,
    units: d.units,
    activation: { name: d.activation, ...(d.alpha !== undefined ? { alpha: d.alpha } : {}) },
    useBias: true,
    kernelInitializer: d.kernelInitializer ?? { name: 'glorotUniform' },
    biasInitializer: d.biasInitializer ?? { name: 'zeros' },
    source: { span: spanAtLine(index + 2) },
  }));
  return { name, format: 'keras-python', inputShape: [inputDim], layers, span: spanAtLine(1), problems: [] };
}

/** `depth` hidden layers of `width` units with one activation, then a softmax head of 10. */
export function stack(activation: ActivationSpec['name'], depth: number, width: number, inputDim = 784, extra: Partial<DenseDef> = {}): ModelSpec {
  return mlp(inputDim, [
    ...Array.from({ length: depth }, () => ({ units: width, activation, ...extra })),
    { units: 10, activation: 'softmax' as const },
  ]);
}
