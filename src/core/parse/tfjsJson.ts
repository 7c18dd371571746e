/**
 * TF.js `model.json` (format "layers-model"): the `modelTopology` is a Keras config (read by
 * kerasJson.ts); the trained weights come from the shard files named in `weightsManifest`,
 * read through `readSibling`. Detect by content: `modelTopology` + `"format": "layers-model"`.
 * Never throws.
 */
import { PositionIndex, type LoadProblem, type LoadResult, type WeightTensor } from '../model';
import { checkTextSize, MAX_JSON_BYTES } from './limits';
import { field, findModelConfig, JsonSyntaxError, modelsFromConfig, parseJsonWithPositions, type JsonNode, type SavedModelOptions } from './kerasJson';

/** True for a TF.js layers-model document. */
export function matchTfjsJson(text: string): boolean {
  return text.trimStart().startsWith('{') && text.includes('"modelTopology"');
}

const BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, uint8: 1, uint16: 2, bool: 1, float16: 2 };

/** Loads a TF.js model.json and, unless `freshInit`, its weights. Never throws. */
export function loadTfjsJson(text: string, fileName: string, options: SavedModelOptions = {}): LoadResult {
  const tooLarge = checkTextSize(text, fileName, 'tfjs-json', MAX_JSON_BYTES, 'a saved-model JSON file');
  if (tooLarge) return tooLarge;
  const positions = new PositionIndex(text);
  const at = (node: JsonNode | undefined) => (node ? positions.span(node.start, node.end) : positions.span(0, 0));
  let root: JsonNode;
  try {
    root = parseJsonWithPositions(text);
  } catch (error) {
    const offset = error instanceof JsonSyntaxError ? error.offset : 0;
    return { format: 'tfjs-json', models: [], problems: [{ code: 'parse-error', message: `${fileName}: ${(error as Error).message}`, span: positions.span(offset, Math.min(text.length, offset + 1)) }] };
  }
  const problems: LoadProblem[] = [];
  const format = field(root, 'format');
  if (format && !(format.kind === 'string' && format.value === 'layers-model')) {
    const value = format.kind === 'string' ? JSON.stringify(format.value) : 'not a string';
    return { format: 'tfjs-json', models: [], problems: [{ code: 'unsupported-layer', message: `${fileName} is a TF.js model of format ${value}; only "layers-model" files (tf.LayersModel.save) can be rebuilt.`, span: at(format) }] };
  }
  const config = findModelConfig(root);
  if (!config) {
    return { format: 'tfjs-json', models: [], problems: [{ code: 'parse-error', message: `${fileName} has no "modelTopology" with a Keras "class_name" and "config".`, span: at(field(root, 'modelTopology')) }] };
  }
  let weights: Map<string, { name: string; tensor: WeightTensor }[]> | undefined;
  if (!options.freshInit && field(root, 'weightsManifest')) {
    const read = readWeights(field(root, 'weightsManifest'), options.readSibling, at, fileName);
    problems.push(...read.problems);
    weights = read.weights;
  }
  try {
    const converted = modelsFromConfig(config, {
      format: 'tfjs-json',
      spanOf: at,
      fallbackName: 'model',
      weights: weights ? (layerName) => weights.get(layerName) : undefined,
      // tf.LayersModel.save writes `trainingConfig` beside the topology; the converter from Keras
      // keeps Keras's `training_config` inside `modelTopology`.
      training: field(root, 'trainingConfig') ?? field(field(root, 'modelTopology'), 'training_config'),
      textOf: (node) => text.slice(node.start, node.end),
    });
    return { format: 'tfjs-json', models: converted.models, problems: [...problems, ...converted.problems] };
  } catch (error) {
    return { format: 'tfjs-json', models: [], problems: [{ code: 'parse-error', message: `Internal error while reading ${fileName}: ${(error as Error).message}`, span: positions.span(0, 0) }] };
  }
}

/**
 * Reads the weight groups: each group's shard files concatenated hold its weights in order,
 * row-major; quantised uint8/uint16 values are dequantised as q·scale + min.
 */
function readWeights(
  manifest: JsonNode | undefined,
  readSibling: SavedModelOptions['readSibling'],
  at: (node: JsonNode | undefined) => LoadProblem['span'],
  fileName: string,
): { weights?: Map<string, { name: string; tensor: WeightTensor }[]>; problems: LoadProblem[] } {
  const fresh = 'the model is diagnosed from a fresh initialisation';
  if (manifest?.kind !== 'array') return { problems: [{ code: 'parse-error', message: `"weightsManifest" is not a list; ${fresh}.`, span: at(manifest) }] };
  if (!readSibling) return { problems: [{ code: 'parse-error', message: `The weight files of ${fileName} cannot be read here; ${fresh}.`, span: at(manifest) }] };
  const weights = new Map<string, { name: string; tensor: WeightTensor }[]>();
  for (const group of manifest.items) {
    const paths = field(group, 'paths');
    const specs = field(group, 'weights');
    if (paths?.kind !== 'array' || specs?.kind !== 'array') return { problems: [{ code: 'parse-error', message: `A weight group has no "paths" / "weights" lists; ${fresh}.`, span: at(group) }] };
    const chunks: Uint8Array[] = [];
    for (const pathNode of paths.items) {
      const name = pathNode.kind === 'string' ? pathNode.value : undefined;
      const bytes = name !== undefined && !name.includes('..') ? readSibling(name) : undefined;
      if (!bytes) return { problems: [{ code: 'parse-error', message: `The weight shard ${JSON.stringify(name ?? null)} is missing next to ${fileName}; ${fresh}.`, span: at(pathNode) }] };
      chunks.push(bytes);
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const buffer = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.length;
    }
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let position = 0;
    for (const spec of specs.items) {
      const name = field(spec, 'name');
      const shapeNode = field(spec, 'shape');
      const dtype = field(spec, 'dtype');
      const quantization = field(spec, 'quantization');
      const shape = shapeNode?.kind === 'array' ? shapeNode.items.map((d) => (d.kind === 'number' && Number.isInteger(d.value) && d.value >= 0 ? d.value : -1)) : undefined;
      if (name?.kind !== 'string' || !shape || shape.some((d) => d < 0) || dtype?.kind !== 'string') {
        return { problems: [{ code: 'parse-error', message: `A weight entry has no valid name, shape or dtype; ${fresh}.`, span: at(spec) }] };
      }
      const count = shape.reduce((a, b) => a * b, 1);
      const qType = field(quantization, 'dtype');
      const storedType = qType?.kind === 'string' ? qType.value : dtype.value;
      const width = BYTES[storedType];
      if (!width || storedType === 'float16' || count > 1e8) {
        return { problems: [{ code: 'unsupported-layer', message: `The weight ${JSON.stringify(name.value)} is stored as ${storedType}, which is not read; ${fresh}.`, span: at(spec) }] };
      }
      if (position + count * width > buffer.length) {
        return { problems: [{ code: 'parse-error', message: `The weight files hold ${buffer.length} bytes, fewer than the manifest needs (weight ${JSON.stringify(name.value)}); ${fresh}.`, span: at(spec) }] };
      }
      const values = new Float32Array(count);
      const scaleNode = field(quantization, 'scale');
      const minNode = field(quantization, 'min');
      const scale = scaleNode?.kind === 'number' ? scaleNode.value : 1;
      const min = minNode?.kind === 'number' ? minNode.value : 0;
      for (let k = 0; k < count; k++) {
        const p = position + k * width;
        const raw =
          storedType === 'float32' ? view.getFloat32(p, true)
          : storedType === 'int32' ? view.getInt32(p, true)
          : storedType === 'uint16' ? view.getUint16(p, true)
          : view.getUint8(p);
        values[k] = qType ? raw * scale + min : raw;
      }
      position += count * width;
      const slash = name.value.lastIndexOf('/');
      const layer = slash >= 0 ? name.value.slice(0, slash) : name.value;
      // "sequential_1/dense_Dense1/kernel" and "dense_Dense1/kernel" both belong to dense_Dense1.
      for (const key of new Set([layer, layer.slice(layer.lastIndexOf('/') + 1)])) {
        weights.set(key, [...(weights.get(key) ?? []), { name: name.value, tensor: { shape, values } }]);
      }
    }
  }
  return { weights, problems: [] };
}
