/** Shape tracing over a layer chain, shared by every loader: each layer's per-sample input shape. */
import type { LayerSpec, ModelSpec } from './model';

/**
 * The first layer that cannot take its input (wrong rank, a dimension shrunk below 1), or
 * undefined when the chain can be built. Shared by every loader.
 */
export function shapeError(inputShape: readonly number[], layers: readonly LayerSpec[]): { index: number; message: string } | undefined {
  return traceShapes(inputShape, layers).error;
}

/** Each layer's input shape (per sample), up to the first layer that cannot take its input. */
export function traceShapes(
  inputShape: readonly number[],
  layers: readonly LayerSpec[],
): { inputs: (readonly number[])[]; error?: { index: number; message: string } } {
  const inputs: (readonly number[])[] = [];
  let shape = [...inputShape];
  for (let i = 0; i < layers.length; i++) {
    inputs.push(shape);
    const layer = layers[i];
    const rankError = (rank: number, what: string): string | undefined =>
      shape.length !== rank
        ? `layer \`${layer.name}\` (${what}) needs an input of rank ${rank} (excluding the batch), but gets shape (${shape.join(', ')}).`
        : undefined;
    let message: string | undefined;
    const spatial = (sizes: readonly number[], strides: readonly number[], padding: 'valid' | 'same' | undefined): number[] =>
      sizes.map((size, d) => {
        const input = shape[d];
        const out = padding === 'same' ? Math.ceil(input / (strides[d] ?? 1)) : Math.floor((input - size) / (strides[d] ?? 1)) + 1;
        if (!(out >= 1)) message ??= `layer \`${layer.name}\` shrinks dimension ${d + 1} (size ${input}) below 1.`;
        return out;
      });
    switch (layer.kind) {
      case 'dense':
        shape = [...shape.slice(0, -1), layer.units ?? 0];
        break;
      case 'conv1d':
      case 'conv2d': {
        message = rankError(layer.kind === 'conv1d' ? 2 : 3, layer.kind);
        if (!message) shape = [...spatial(layer.kernelSize ?? [], layer.strides ?? [], layer.padding), layer.filters ?? 0];
        break;
      }
      case 'maxPool1d':
      case 'avgPool1d':
      case 'maxPool2d':
      case 'avgPool2d': {
        message = rankError(layer.kind.endsWith('1d') ? 2 : 3, layer.kind);
        if (!message) shape = [...spatial(layer.poolSize ?? [], layer.strides ?? [], layer.padding), shape[shape.length - 1]];
        break;
      }
      case 'globalAvgPool1d':
        message = rankError(2, layer.kind);
        shape = [shape[shape.length - 1]];
        break;
      case 'globalAvgPool2d':
      case 'globalMaxPool2d':
        message = rankError(3, layer.kind);
        shape = [shape[shape.length - 1]];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      default:
        break;
    }
    if (message) return { inputs, error: { index: i, message } };
  }
  return { inputs };
}

/**
 * Trainable parameter count of a model, for the parameter cap (refused before the model is built).
 * Each layer's input comes from traceShapes, so padding, strides and pooling shrink what a Dense
 * after Flatten sees exactly as the frameworks compute it. Past a layer that cannot take its input
 * (the trainer refuses such a chain anyway), the last traced shape stands in.
 */
export function countParameters(model: ModelSpec): number {
  const { inputs } = traceShapes(model.inputShape, model.layers);
  let total = 0;
  let last: readonly number[] = model.inputShape;
  model.layers.forEach((layer, i) => {
    const shape = inputs[i] ?? last;
    last = shape;
    const channels = shape[shape.length - 1] ?? 1;
    switch (layer.kind) {
      case 'dense': {
        const units = layer.units ?? 0;
        total += channels * units + (layer.useBias === false ? 0 : units);
        break;
      }
      case 'conv1d':
      case 'conv2d': {
        const k = (layer.kernelSize ?? []).reduce((a, b) => a * b, 1);
        const filters = layer.filters ?? 0;
        total += k * channels * filters + (layer.useBias === false ? 0 : filters);
        break;
      }
      case 'batchNorm':
        // gamma and beta; the moving mean and variance are not trained.
        total += 2 * channels;
        break;
      default:
        break;
    }
  });
  return total;
}
