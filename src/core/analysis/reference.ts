/**
 * The reference run a diagnosis calibrates against (issue 11): the same architecture, activations
 * and training task, with every explicit kernel initialiser replaced by its activation's canonical
 * one (He for the ReLU family, Glorot for sigmoid/tanh, LeCun for SELU) and every explicit bias
 * initialiser by 0 (the framework's defaults stay), no trained weights, and a
 * learning rate no larger than the optimiser's default in the file's framework. What a brief
 * probe shows there is what a healthy network of this shape shows; dead and saturated fractions
 * above it are the network's own. Pure.
 */
import { hasKernel, type InitializerSpec, type ModelSpec, type OptimizerName } from '../model';
import { defaultLearningRate } from '../trainingSetup';
import { matchingInitializer, nextActivation } from './suggestions';

export interface ReferencePlan {
  readonly model: ModelSpec;
  readonly learningRate: number;
  /** Identical to the run it calibrates (same initialisers, biases, rate): that run is its own reference. */
  readonly sameAsRun: boolean;
  /** Runs with equal keys share one reference. */
  readonly key: string;
}

/**
 * The framework's own default initialisers count as canonical: textbook networks use them and
 * train well (PyTorch's default leaves more ReLU units off at step 0 than He does: a LeNet's
 * fc2 24 % against 7 %, which is not a bug of the network).
 */
function isFrameworkDefault(format: ModelSpec['format'], init: InitializerSpec | undefined, role: 'kernel' | 'bias'): boolean {
  if (init === undefined) return true;
  if (format === 'pytorch-python') return init.name === (role === 'kernel' ? 'torchDefaultKernel' : 'torchDefaultBias');
  return init.name === (role === 'kernel' ? 'glorotUniform' : 'zeros');
}

export function referencePlan(model: ModelSpec, optimizer: OptimizerName, learningRate: number): ReferencePlan {
  const canonical: ModelSpec = {
    ...model,
    layers: model.layers.map((layer) => {
      if (!hasKernel(layer.kind)) return layer.weights ? { ...layer, weights: undefined } : layer;
      return {
        ...layer,
        kernelInitializer: isFrameworkDefault(model.format, layer.kernelInitializer, 'kernel')
          ? layer.kernelInitializer : matchingInitializer(nextActivation(model, layer)),
        biasInitializer: isFrameworkDefault(model.format, layer.biasInitializer, 'bias') ? layer.biasInitializer : { name: 'zeros' as const },
        weights: undefined,
      };
    }),
  };
  const referenceRate = Math.min(learningRate, defaultLearningRate(model.format, optimizer));
  const signature = (spec: ModelSpec) => JSON.stringify(spec.layers.map((l) => [
    l.kind, l.units, l.filters, l.kernelSize, l.strides, l.padding, l.poolSize, l.rate, l.activation, l.useBias, l.batchNormBeforeActivation,
    // An initialiser left out is the framework's default (what the trainer builds then).
    l.kernelInitializer ?? { name: 'glorotUniform' }, hasKernel(l.kind) && l.useBias !== false ? l.biasInitializer ?? { name: 'zeros' } : null, l.weights ? 1 : 0,
  ]));
  const key = `${signature(canonical)}|${optimizer}|${referenceRate}`;
  return { model: canonical, learningRate: referenceRate, sameAsRun: signature(model) === signature(canonical) && referenceRate === learningRate, key };
}
