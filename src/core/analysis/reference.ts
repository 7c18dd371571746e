/**
 * The reference run a diagnosis calibrates against (issue 11): the same architecture, activations
 * and training task, with every kernel at its activation's canonical initialiser (He for the ReLU
 * family, Glorot for sigmoid/tanh, LeCun for SELU), every bias at 0, no trained weights, and a
 * learning rate no larger than the optimiser's default in the file's framework. What a brief
 * probe shows there is what a healthy network of this shape shows; dead and saturated fractions
 * above it are the network's own. Pure.
 */
import { hasKernel, type ModelSpec, type OptimizerName } from '../model';
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

export function referencePlan(model: ModelSpec, optimizer: OptimizerName, learningRate: number): ReferencePlan {
  const canonical: ModelSpec = {
    ...model,
    layers: model.layers.map((layer) => {
      if (!hasKernel(layer.kind)) return layer.weights ? { ...layer, weights: undefined } : layer;
      return {
        ...layer,
        kernelInitializer: matchingInitializer(nextActivation(model, layer)),
        biasInitializer: { name: 'zeros' as const },
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
