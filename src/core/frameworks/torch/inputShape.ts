/**
 * The per-sample input shape of a PyTorch model, channels-last: from what its first layers
 * declare, an `# activation-lens: input_shape=(C, H, W)` comment, the chosen data's shape, or
 * solved from the Linear after a Flatten (issue 12: split out of parse/torchPython.ts).
 */
import type { Node } from 'web-tree-sitter';
import type { LoadContext, SourceSpan } from '../../model';
import { UnsoundModel } from './values';
import { type ModelContext, type RawLayer, shapesFit } from './layers';

/** What input-shape inference uses of the file loader. */
export interface InputShapeHost {
  readonly root: Node;
  /** The chosen data's example shape stands in for an input shape the file does not fix. */
  readonly context: LoadContext;
  span(node: Node): SourceSpan;
}

/** Infers models' input shapes for one file (its shape comments are collected once). */
export class InputShapeReader {
  private commentNodes: Node[] | undefined;

  constructor(private readonly host: InputShapeHost) {}

  /**
   * The per-sample input shape, channels-last. From the first layer's declared size (Linear
   * in_features, Conv in_channels + a spatial size), the spatial size from an
   * `# activation-lens: input_shape=(C, H, W)` comment, else solved (square) from a Linear
   * after Flatten.
   */
  inputShape(raw: readonly RawLayer[], spanNode: Node, ctx: ModelContext): number[] {
    const comment = this.shapeComment(spanNode);
    const first = raw.find((l) => l.inFeatures !== undefined || l.inChannels !== undefined || l.numFeatures !== undefined);
    const spatialRank = first?.spec.kind === 'conv2d' ? 2 : first?.spec.kind === 'conv1d' ? 1 : 0;
    const before = first ? raw.slice(0, raw.indexOf(first)) : raw;
    const spatialBefore = before.some((l) => ['maxPool1d', 'maxPool2d', 'avgPool1d', 'avgPool2d', 'globalAvgPool1d', 'globalAvgPool2d', 'globalMaxPool2d'].includes(l.spec.kind));
    if (comment) {
      // PyTorch layout in the comment: (C, H, W) / (C, L) / (features,).
      const shape = comment.shape.length > 1 ? [...comment.shape.slice(1), comment.shape[0]] : comment.shape;
      return shape;
    }
    if (!first) throw new UnsoundModel('unknown-input-shape', 'its input size is unknown (no Linear or Conv layer declares it). Add a comment `# activation-lens: input_shape=(C, H, W)` above the model.', spanNode);
    if (spatialRank === 0 && !spatialBefore && first.spec.kind === 'dense' && first.inFeatures !== undefined) {
      if (before.some((l) => l.spec.kind === 'flatten')) {
        ctx.notes.push({ message: `The input is read as a flat vector of ${first.inFeatures} features (the flattened size \`${first.name}\` expects).`, span: this.host.span(first.node) });
      }
      return [first.inFeatures];
    }
    if (spatialRank === 0 && first.spec.kind === 'batchNorm' && first.numFeatures !== undefined && !before.some((l) => l.spec.kind === 'flatten')) {
      return [first.numFeatures];
    }
    const channels = first.inChannels ?? first.numFeatures;
    const fromData = this.dataShape(channels, spatialRank, spanNode, ctx);
    if (fromData) return fromData;
    if (spatialRank === 0 || channels === undefined) {
      throw new UnsoundModel('unknown-input-shape', 'its input shape cannot be determined. Add a comment `# activation-lens: input_shape=(C, H, W)` above the model.', spanNode);
    }
    // Solve for a square (or 1-D) spatial size that makes every later Linear fit.
    const fits: number[] = [];
    for (let size = 1; size <= 1024 && fits.length < 2; size++) {
      const shape = [...new Array<number>(spatialRank).fill(size), channels];
      if (shapesFit(shape, raw)) fits.push(size);
    }
    const constrained = raw.some((l, i) => l.spec.kind === 'dense' && raw.slice(0, i).some((p) => p.spec.kind === 'flatten') && !raw.slice(0, i).some((p) => p.spec.kind.startsWith('global')));
    if (fits.length === 0 || !constrained) {
      throw new UnsoundModel(
        'unknown-input-shape',
        `its input's spatial size cannot be determined${fits.length === 0 ? ' (no square size fits its Linear layers)' : ''}. Add a comment \`# activation-lens: input_shape=(${channels}, H, W)\` above the model.`,
        spanNode,
      );
    }
    const size = fits[0];
    const shape = [...new Array<number>(spatialRank).fill(size), channels];
    ctx.notes.push({
      message: `The input size is inferred as (${[channels, ...new Array<number>(spatialRank).fill(size)].join(', ')}) (channels first) from the Linear layer after Flatten; add \`# activation-lens: input_shape=(…)\` to set it.`,
      span: this.host.span(spanNode),
    });
    return shape;
  }

  /**
   * The chosen data's example shape (LoadContext.inputShape, channels-last as the trainer feeds
   * it) when it fits the first layer: rank spatialRank + 1 and the channels the layer expects,
   * last (channels-last) or first (PyTorch's (C, H, W), turned channels-last with a note; the
   * data itself must then be given channels-last, which the trainer says). Else undefined.
   */
  private dataShape(channels: number | undefined, spatialRank: number, spanNode: Node, ctx: ModelContext): number[] | undefined {
    const shape = this.host.context.inputShape;
    if (!shape || channels === undefined || spatialRank === 0 || shape.length !== spatialRank + 1) return undefined;
    if (shape[shape.length - 1] === channels) {
      ctx.notes.push({ message: `The input shape (${shape.join(', ')}) (channels last) is the chosen data's; the file does not fix its spatial size.`, span: this.host.span(spanNode) });
      return [...shape];
    }
    if (shape[0] === channels) {
      ctx.notes.push({ message: `The input shape (${shape.join(', ')}) (channels first) is the chosen data's; the file does not fix its spatial size.`, span: this.host.span(spanNode) });
      return [...shape.slice(1), shape[0]];
    }
    return undefined;
  }

  /** `# activation-lens: input_shape=(1, 28, 28)` inside the model, else the closest one above it. */
  private shapeComment(spanNode: Node): { shape: number[] } | undefined {
    let best: { shape: number[]; inside: boolean; offset: number } | undefined;
    this.commentNodes ??= this.host.root.descendantsOfType('comment').filter((c): c is Node => !!c && c.text.includes('activation-lens:'));
    for (const comment of this.commentNodes) {
      const text = comment.text;
      const marker = text.indexOf('activation-lens:');
      if (marker < 0) continue;
      const key = text.indexOf('input_shape', marker);
      if (key < 0) continue;
      const shape = parseShapeText(text.slice(key + 'input_shape'.length));
      if (!shape) continue;
      const inside = comment.startIndex >= spanNode.startIndex && comment.endIndex <= spanNode.endIndex;
      const above = comment.endIndex <= spanNode.startIndex;
      if (!inside && !above) continue;
      if (!best || (inside && !best.inside) || (inside === best.inside && comment.startIndex > best.offset)) {
        best = { shape, inside, offset: comment.startIndex };
      }
    }
    return best ? { shape: best.shape } : undefined;
  }
}

/** Reads `= (1, 28, 28)` / `=(784,)` / `=[3, 32, 32]` from a comment's text: positive integers. */
function parseShapeText(text: string): number[] | undefined {
  let i = 0;
  const skip = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  skip();
  if (text[i] !== '=' && text[i] !== ':') return undefined;
  i++;
  skip();
  const open = text[i];
  if (open !== '(' && open !== '[') return undefined;
  const close = open === '(' ? ')' : ']';
  const end = text.indexOf(close, i);
  if (end < 0) return undefined;
  const parts = text.slice(i + 1, end).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const dims = parts.map((p) => Number(p));
  if (dims.length === 0 || dims.length > 3 || dims.some((d) => !Number.isInteger(d) || d <= 0 || d > 1_000_000)) return undefined;
  return dims;
}
