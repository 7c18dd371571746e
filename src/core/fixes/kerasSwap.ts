/**
 * Keras Python activation swaps: turns a suggested activation swap into exact text edits on Keras Python source, using the
 * spans and the imports (`model.sourceFacts`) the loader recorded. Pure and synchronous; it never parses the file.
 *
 * Choices (Keras 2 / tf.keras and Keras 3 must both accept the result):
 *  - `activation=` arguments get a string where Keras has one for the activation ("relu",
 *    "elu" for α = 1, "selu", "gelu", "swish", …). Parameterised activations with no string
 *    (Leaky ReLU with a chosen slope, ELU with α ≠ 1, ReLU6) become a layer *instance* passed as
 *    the activation, e.g. `activation=layers.LeakyReLU(0.01)`: a layer is callable, and Keras
 *    accepts any callable there. The string "leaky_relu" is not used: it is Keras 3 only and its
 *    slope is fixed at 0.2.
 *  - LeakyReLU's slope is written positionally, `LeakyReLU(0.01)`: Keras 2 calls the parameter
 *    `alpha` and Keras 3 `negative_slope`, and only the positional form is valid in both.
 *  - PReLU has trainable weights, so it is only offered as a standalone layer, never as an
 *    `activation=` value; RReLU does not exist in Keras: both return `{ error }` where unusable.
 *  - A standalone activation layer (`Activation("sigmoid")`, `layers.ReLU()`) is rewritten in
 *    place: an `Activation(...)` keeps its call and only its value changes; another class is
 *    replaced by the whole new call (other arguments of the old call, such as `name=`, are not
 *    carried over).
 *  - The matching kernel initialiser goes on the layer that owns the kernel: the layer itself,
 *    or for a standalone activation layer the nearest preceding Dense/Conv layer (none → the
 *    initialiser part is skipped).
 *  - Layers repeated by a comprehension, `* n` or a loop share one call in the source; the edit
 *    changes that call and therefore every repetition. That is what the source can express, so
 *    the edits are returned as usual (callers may compare spans to tell the user).
 *  - Class names are written with the module prefix the file already uses (the layer's own
 *    callee prefix, else an imported name or alias); when the file has no usable name, an
 *    import line is added next to the import the layer's class came from.
 */
import { hasKernel, type ActivationSpec, type InitializerName, type LayerSpec, type ModelSpec, PositionIndex } from '../model';
import type { ImportTable } from '../python/imports';
import { importTableOf, stillHolds, type FromImport } from '../sourceFacts';
import { formatNumber, insertPythonArguments, kerasActivation, type ActivationSwap, type TextEdit } from './edits';
import { quoteOf } from './layout';

const KERAS_INITIALIZER_STRINGS: Partial<Record<InitializerName, string>> = {
  glorotUniform: 'glorot_uniform',
  glorotNormal: 'glorot_normal',
  heUniform: 'he_uniform',
  heNormal: 'he_normal',
  lecunUniform: 'lecun_uniform',
  lecunNormal: 'lecun_normal',
  zeros: 'zeros',
  ones: 'ones',
  orthogonal: 'orthogonal',
  randomNormal: 'random_normal',
  randomUniform: 'random_uniform',
  truncatedNormal: 'truncated_normal',
};


/** The edits that switch layer `layerIndex` of `model` (loaded from `text`) to `swap`. */
export function activationSwapEditsKeras(
  text: string,
  model: ModelSpec,
  layerIndex: number,
  swap: ActivationSwap,
): TextEdit[] | { error: string } {
  const layer = model.layers[layerIndex];
  if (!layer) return { error: `Model \`${model.name}\` has no layer ${layerIndex}.` };
  const stale = staleSpans(text, layer);
  if (stale) return { error: stale };

  const activation = swap.activation;
  if (activation?.name === 'rrelu') return { error: 'Keras has no RReLU activation; LeakyReLU with a slope of 1/5.5 is the closest.' };

  const names = new KerasNames(text, model, layer);
  const positions = new PositionIndex(text);
  const edits: TextEdit[] = [];
  // Arguments to add per layer, so that `Dense(64)` gets one insertion with both new arguments.
  const insertions = new Map<LayerSpec, string[]>();
  const insert = (owner: LayerSpec, argument: string): void => {
    insertions.set(owner, [...(insertions.get(owner) ?? []), argument]);
  };

  if (!activation) {
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no weights to initialise.` };
  } else if (layer.kind === 'activation') {
    const replaced = replaceActivationLayer(text, layer, activation, names, positions);
    if ('error' in replaced) return replaced;
    edits.push(...replaced.edits);
  } else if (hasKernel(layer.kind)) {
    if (activation.name === 'prelu') {
      return { error: 'PReLU has trainable weights and cannot be passed as `activation=`; add a PReLU layer after this one instead.' };
    }
    const expression = activationExpression(activation, names);
    if ('error' in expression) return expression;
    edits.push(...expression.importEdits);
    const valueSpan = layer.source.activationValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: expression.text });
    else insert(layer, `activation=${expression.text}`);
  } else {
    return { error: `Layer \`${layer.name}\` (${layer.kind}) has no activation to change.` };
  }

  if (swap.biasInitializer) {
    const initializer = KERAS_INITIALIZER_STRINGS[swap.biasInitializer];
    if (!initializer) return { error: `The initialiser ${swap.biasInitializer} has no Keras string name.` };
    if (!hasKernel(layer.kind)) return { error: `Layer \`${layer.name}\` (${layer.kind}) has no bias.` };
    if (layer.useBias === false) return { error: `Layer \`${layer.name}\` has no bias (use_bias=False).` };
    const newValue = `${quoteOf(text, layer)}${initializer}${quoteOf(text, layer)}`;
    const valueSpan = layer.source.biasInitializerValueSpan;
    if (valueSpan) edits.push({ span: valueSpan, newText: newValue });
    else insert(layer, `bias_initializer=${newValue}`);
  }

  if (swap.kernelInitializer) {
    const initializer = KERAS_INITIALIZER_STRINGS[swap.kernelInitializer];
    if (!initializer) return { error: `The initialiser ${swap.kernelInitializer} has no Keras string name.` };
    const owner = hasKernel(layer.kind) ? layer : model.layers.slice(0, layerIndex).reverse().find((l) => hasKernel(l.kind));
    if (owner) {
      const ownerStale = staleSpans(text, owner);
      if (ownerStale) return { error: ownerStale };
      const newValue = `"${initializer}"`;
      const valueSpan = owner.source.kernelInitializerValueSpan;
      if (valueSpan) edits.push({ span: valueSpan, newText: newValue });
      else insert(owner, `kernel_initializer=${newValue}`);
    }
  }

  for (const [owner, newArguments] of insertions) {
    const insertion = insertArguments(text, owner, newArguments, positions);
    if ('error' in insertion) return insertion;
    edits.push(insertion);
  }
  return dedupe(edits);
}

/** The Python expression for an `activation=` value: a string, or a layer instance. */
export function activationExpression(activation: ActivationSpec, names: KerasNames): { text: string; importEdits: readonly TextEdit[] } | { error: string } {
  const target = kerasActivation(activation);
  if (target.string) return { text: `"${target.string}"`, importEdits: [] };
  if (target.layer && target.layerClass) {
    const reference = names.layerReference(target.layerClass);
    if ('error' in reference) return reference;
    return { text: reference.prefix + target.layer, importEdits: reference.importEdits };
  }
  return { error: `Keras has no equivalent of ${activation.name}.` };
}

function dedupe(edits: TextEdit[]): TextEdit[] {
  const seen = new Set<string>();
  return edits.filter((edit) => {
    const key = `${edit.span.start.offset}:${edit.span.end.offset}:${edit.newText}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Refuses spans that no longer match the text (the file changed since it was loaded). */
function staleSpans(text: string, layer: LayerSpec): string | undefined {
  const { span, argumentsSpan } = layer.source;
  const stale = `The source of layer \`${layer.name}\` changed since it was analysed; run the diagnosis again.`;
  if (span.end.offset > text.length || text[span.end.offset - 1] !== ')') return stale;
  if (argumentsSpan && (text[argumentsSpan.start.offset] !== '(' || text[argumentsSpan.end.offset - 1] !== ')')) return stale;
  return undefined;
}

function replaceActivationLayer(
  text: string,
  layer: LayerSpec,
  activation: ActivationSpec,
  names: KerasNames,
  positions: PositionIndex,
): { edits: TextEdit[] } | { error: string } {
  const target = kerasActivation(activation);
  const callee = layer.source.calleeSpan ? text.slice(layer.source.calleeSpan.start.offset, layer.source.calleeSpan.end.offset) : '';
  const isActivationCall = callee === 'Activation' || callee.endsWith('.Activation');
  if (target.string && isActivationCall && layer.source.activationValueSpan) {
    return { edits: [{ span: layer.source.activationValueSpan, newText: `"${target.string}"` }] };
  }
  const edits: TextEdit[] = [];
  let newCall: string;
  if (target.string) {
    const reference = names.layerReference('Activation');
    if ('error' in reference) return reference;
    edits.push(...reference.importEdits);
    newCall = `${reference.prefix}Activation("${target.string}")`;
  } else if (target.layerClass) {
    const reference = names.layerReference(target.layerClass);
    if ('error' in reference) return reference;
    edits.push(...reference.importEdits);
    let call = target.layer ?? `${target.layerClass}()`;
    if (target.needsConstant !== undefined) {
      const constant = names.initializerReference('Constant');
      if ('error' in constant) return constant;
      edits.push(...constant.importEdits);
      call = `PReLU(alpha_initializer=${constant.prefix}Constant(${formatNumber(target.needsConstant)}))`;
    }
    newCall = reference.prefix + call;
  } else {
    return { error: `Keras has no equivalent of ${activation.name}.` };
  }
  edits.push({ span: positions.span(layer.source.span.start.offset, layer.source.span.end.offset), newText: newCall });
  return { edits };
}

/**
 * Inserts keyword arguments before a call's closing parenthesis, following its layout: one
 * argument per line stays one per line (same indentation), a trailing comma stays trailing.
 */
function insertArguments(text: string, layer: LayerSpec, newArguments: readonly string[], positions: PositionIndex): TextEdit | { error: string } {
  const argumentsSpan = layer.source.argumentsSpan;
  if (!argumentsSpan) return { error: `The arguments of layer \`${layer.name}\` were not recorded.` };
  return insertPythonArguments(text, argumentsSpan, newArguments, positions, `layer \`${layer.name}\``);
}


// #region Names available in the file

interface Reference {
  /** What to write before the class name: '', 'layers.', 'tf.keras.layers.' … */
  readonly prefix: string;
  /** An import line to add when the file has no usable name for the class. */
  readonly importEdits: readonly TextEdit[];
}

/**
 * How the file can refer to Keras layer and initialiser classes, from the imports the loader
 * recorded in `model.sourceFacts` (a model without them, e.g. one built by hand, gets only the
 * prefixes its own layers are written with).
 */
export class KerasNames {
  private readonly imports: ImportTable | undefined;
  private readonly fromImports: readonly FromImport[];
  private readonly positions: PositionIndex;

  constructor(
    private readonly text: string,
    private readonly model: ModelSpec,
    private readonly layer: LayerSpec,
  ) {
    this.positions = new PositionIndex(text);
    const facts = model.sourceFacts?.imports;
    this.imports = facts ? importTableOf(facts) : undefined;
    this.fromImports = facts?.fromImports ?? [];
  }

  layerReference(className: string): Reference | { error: string } {
    // 1. The prefix the layer itself is written with, e.g. `layers.` in `layers.ReLU()`.
    const ownPrefix = this.calleePrefix(this.layer);
    if (ownPrefix) return { prefix: ownPrefix, importEdits: [] };
    return this.moduleReference('layers', className);
  }

  initializerReference(className: string): Reference | { error: string } {
    return this.moduleReference('initializers', className);
  }

  moduleReference(module: 'layers' | 'initializers' | 'optimizers' | 'losses', className: string): Reference | { error: string } {
    if (this.imports) {
      const entries = [...this.imports.entries()];
      const fromKeras = (path: readonly string[]): boolean => path.includes('keras');
      // In order of preference: the class imported by name, its module, keras, tensorflow.
      const candidates: [(path: readonly string[], local: string) => boolean, (local: string) => string][] = [
        [(path, local) => local === className && path[path.length - 1] === className && fromKeras(path), () => ''],
        [(path) => path[path.length - 1] === module && fromKeras(path), (local) => `${local}.`],
        [(path) => path[path.length - 1] === 'keras', (local) => `${local}.${module}.`],
        [(path) => path.length === 1 && path[0] === 'tensorflow', (local) => `${local}.keras.${module}.`],
      ];
      for (const [matches, prefix] of candidates) {
        const entry = entries.find(([local, path]) => matches(path, local));
        if (entry) return { prefix: prefix(entry[0]), importEdits: [] };
      }
      // A class imported by name (`from keras.layers import Dense`): import the new one the same way.
      const source = this.fromImports.find((s) => s.module.includes('keras') && s.module[s.module.length - 1] === module);
      const kerasRoot = this.fromImports.find((s) => s.module.includes('keras'))?.module;
      const line = source
        ? `from ${source.module.join('.')} import ${className}`
        : kerasRoot
          ? `from ${[...kerasRoot.slice(0, kerasRoot.indexOf('keras') + 1), module].join('.')} import ${className}`
          : undefined;
      const anchor = source ?? this.fromImports.find((s) => s.module.includes('keras'));
      if (line && anchor) {
        if (!stillHolds(this.text, anchor)) return { error: 'The imports changed since the file was analysed; run the diagnosis again.' };
        const end = anchor.end;
        return { prefix: '', importEdits: [{ span: this.positions.span(end, end), newText: `\n${line}` }] };
      }
    }
    // No recorded import names Keras here: reuse a qualified prefix another layer of the model is written with.
    if (module === 'layers') {
      for (const other of this.model.layers) {
        const prefix = this.calleePrefix(other);
        if (prefix) return { prefix, importEdits: [] };
      }
    }
    return { error: `Cannot tell how this file refers to Keras ${module}; write \`${className}\` by hand.` };
  }

  /** `tf.keras.layers.` for `tf.keras.layers.Dense`, '' for bare `Dense`. */
  private calleePrefix(layer: LayerSpec): string {
    const span = layer.source.calleeSpan;
    if (!span) return '';
    const callee = this.text.slice(span.start.offset, span.end.offset);
    const dot = callee.lastIndexOf('.');
    return dot >= 0 ? callee.slice(0, dot + 1) : '';
  }
}

// #endregion
