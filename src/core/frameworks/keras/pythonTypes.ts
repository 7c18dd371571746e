import type { Node } from 'web-tree-sitter';
import type { ImportTable } from '../../python/imports';
import type { SourceSpan } from '../../model';
import type { Budget } from '../../python/values';
import type { Evaluator, LayerCall, Scope, Value } from './pythonValues';

export interface Arguments {
  readonly positional: readonly Node[];
  readonly keyword: ReadonlyMap<string, { readonly argument: Node; readonly value: Node }>;
  /** `*args` / `**kwargs` arguments: what they pass is only known at run time. */
  readonly splats: readonly Node[];
  /**
   * An argument given as several nodes that form one tuple: Keras 1's `nb_row`, `nb_col` (or
   * the positional `Convolution2D(32, 3, 3)`) read as `kernel_size`.
   */
  readonly composed?: ReadonlyMap<string, readonly Node[]>;
}

/** Raised while building a model when it cannot be trained soundly (shared by the Python loaders). */
export { UnsoundModel } from '../../python/values';

/** What a functional or subclassed model site yields: its layer calls in order, and where its input shape may come from. */
export interface CollectedLayers {
  readonly calls: readonly LayerCall[];
  readonly buildShape?: { readonly value: Value; readonly node: Node };
  /** From a `# activation-lens: input_shape=(…)` comment. */
  readonly commentShape?: { readonly shape: number[] } | { readonly error: string; readonly node: Node };
}

/** A `Sequential` call found in the file, before its layers are read. */
export interface ModelSite {
  readonly call: Node;
  readonly name: string;
  /** The model's span: the call, or the `model = Sequential()` statement for add-chains. */
  readonly spanNode: Node;
  /** The block and the statement after which `<target>.add(...)` calls are collected. */
  readonly addChain?: { readonly target: string; readonly statement: Node; readonly block: Node };
  readonly scope: Scope;
  /** A call of the builder function the site is in that Python would reject (a missing argument…). */
  readonly invocationError?: { readonly message: string; readonly node: Node };
  /** Functional (`keras.Model(inputs, outputs)`) and subclassed models collect their layers themselves, given the site's scope. */
  readonly collect?: (scope: Scope) => CollectedLayers;
  /** The call of the builder function the site is in that this model is read for (`model = build(16)`). */
  readonly invocationCall?: Node;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Layers one functional tensor chain is followed through at most. */
export const MAX_CHAIN = 10_000;

/**
 * What the statement interpreter, the layer builder and the functional / subclass tracing use of
 * the file loader (python.ts): declared here so that they do not import the loader itself.
 */
export interface KerasLoaderHost {
  readonly rootNode: Node;
  readonly importTable: ImportTable;
  /** The file's one work budget, in evaluation steps (statements are charged to it too). */
  readonly budget: Budget;
  /** The shared Python evaluator with the Keras host. */
  readonly evaluator: Evaluator;
  arguments(call: Node): Arguments;
  evaluate(node: Node, scope: Scope): Value;
  functionAddsLayers(name: string): boolean;
  layerClassOf(call: Node): { className: string; keras: boolean } | undefined;
  /**
   * The layers of an instance of the file's own Keras layer (or model) class (`Block(64)` with
   * `class Block(layers.Layer)`), read from its `__init__` and `call` with the call's arguments;
   * undefined when `call` builds no such instance.
   */
  customLayerCalls(call: Node, scope: Scope): readonly LayerCall[] | undefined;
  imageDataFormatAt(layer: Node): { call: Node; node: Node; value: string | undefined } | undefined;
  shapeFrom(value: Value, node: Node, withBatch: boolean): number[];
  span(node: Node): SourceSpan;
  scopeFor(node: Node): Scope;
  siteFor(call: Node, collect: (scope: Scope) => CollectedLayers, spanNode?: Node, name?: string): ModelSite;
}
