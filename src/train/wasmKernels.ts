/**
 * Kernel fixes for the tfjs 4.22 'wasm' backend.
 *
 * The stock wasm backend has several gaps that make *training* slow or
 * impossible:
 *  - BatchMatMul with transposeA/transposeB takes a slow path (~10x slower than
 *    the plain product), and every backward matmul of a Dense layer is
 *    transposed.
 *  - Conv2DBackpropFilter is not registered at all (Conv2D layers cannot train).
 *  - Conv2DBackpropInput exists but is a naive loop.
 *  - UnsortedSegmentSum (gradient of gather / embeddings) is not registered.
 *
 * `registerWasmKernelFixes()` re-registers these kernels for backendName
 * 'wasm'. The new kernels are composed from the backend's own fast kernels
 * (Transpose, plain BatchMatMul, Conv2D), called directly as kernel functions
 * on the backend, plus a few tight JS loops over the wasm heap (im2col, col2im,
 * filter flip, segment sum). Every intermediate buffer is released with
 * `backend.disposeData`, so the kernels leak no data ids.
 */
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  util,
} from '@tensorflow/tfjs-core';
import type {
  DataType,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import type { NativeGemm } from './nativeBlas';

const BACKEND = 'wasm';

/**
 * The machine's BLAS, when one was found (see nativeBlas.ts): matrix products and the
 * convolutions built on them run there instead of in XNNPACK-under-wasm. Undefined: wasm only.
 */
let nativeGemm: NativeGemm | undefined;

/** Routes the products of the kernels below to `gemm` (or back to wasm with undefined). */
export function setNativeGemm(gemm: NativeGemm | undefined): void {
  nativeGemm = gemm;
}

/** The native GEMM in use, if any. */
export function activeNativeGemm(): NativeGemm | undefined {
  return nativeGemm;
}

type KernelArgs = { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs?: NamedAttrMap };
type Conv4 = [number, number, number, number];
type ConvPad = 'same' | 'valid' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** Marker so that repeated registration can recognise our own configs. */
const FIX_MARK = Symbol.for('activation-lens.wasmKernelFix');

/** Default limit above which im2col/col2im buffers are processed in batch chunks. */
const DEFAULT_MAX_COL_FLOATS = 1 << 23; // 8M floats = 32 MiB
let MAX_COL_FLOATS = DEFAULT_MAX_COL_FLOATS;

/** Options of {@link registerWasmKernelFixes}. */
export interface WasmKernelFixOptions {
  /**
   * Largest im2col / col2im scratch matrix, in floats, before the conv
   * backprops split the batch into chunks (default 8M floats = 32 MiB; at
   * least one image is always processed at once).
   */
  maxColumnFloats?: number;
}

// Original kernel configs captured at registration time.
let origBatchMatMul: KernelConfig | undefined;
let origFusedMatMul: KernelConfig | undefined;
let origConv2DBackpropInput: KernelConfig | undefined;

// ---------------------------------------------------------------------------
// Helpers operating on backend-level TensorInfos.
// ---------------------------------------------------------------------------

function runWasm(name: string, backend: BackendWasm, inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(name, BACKEND);
  if (k == null) throw new Error(`wasmKernels: wasm kernel '${name}' is not registered`);
  const out = k.kernelFunc({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`wasmKernels: missing input '${name}'`);
  return t;
}

function dispose(backend: BackendWasm, ...infos: (TensorInfo | undefined)[]): void {
  for (const t of infos) if (t != null) backend.disposeData(t.dataId);
}

/** A new TensorInfo sharing `x`'s data (ref-counted, dispose it like any other). */
function reshapeInfo(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** Float32 view of the whole wasm heap (re-create after any allocation). */
function heapF32(backend: BackendWasm): Float32Array {
  return new Float32Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
}

function f32View(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function zeros(backend: BackendWasm, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32') as TensorInfo;
  f32View(backend, out).fill(0);
  return out;
}

/** A new float32 tensor holding `size(shape)` elements of `x` from element `start`. */
function copyRange(backend: BackendWasm, x: TensorInfo, start: number, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32') as TensorInfo;
  const heap = heapF32(backend);
  const src = backend.getMemoryOffset(x.dataId) / 4 + start;
  heap.copyWithin(backend.getMemoryOffset(out.dataId) / 4, src, src + util.sizeFromShape(shape));
  return out;
}

/** Materialise the transpose of the last two axes of `x` (always a new ref). */
function swapLastTwo(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const shape = x.shape.slice();
  const rows = shape[r - 2];
  const cols = shape[r - 1];
  shape[r - 2] = cols;
  shape[r - 1] = rows;
  if (rows === 1 || cols === 1) return reshapeInfo(backend, x, shape);
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return runWasm('Transpose', backend, { x }, { perm });
}

function toNHWC(backend: BackendWasm, x: TensorInfo): TensorInfo {
  return runWasm('Transpose', backend, { x }, { perm: [0, 2, 3, 1] });
}

function toNCHW(backend: BackendWasm, x: TensorInfo): TensorInfo {
  return runWasm('Transpose', backend, { x }, { perm: [0, 3, 1, 2] });
}

function convInfoFor(inShape: number[], filterShape: number[], strides: number | [number, number],
  pad: ConvPad, dimRoundingMode: Rounding, dataFormat: 'NHWC' | 'NCHW'): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inShape as Conv4, filterShape as Conv4, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
}

// ---------------------------------------------------------------------------
// Native products (when a BLAS was found): the operands are read in place on the wasm heap,
// transposes are the BLAS's own flags, and the result is written into the output tensor.
// ---------------------------------------------------------------------------

/** out[..., M, N] = op(a) · op(b) on the native GEMM; undefined when the shapes need the wasm path. */
function nativeMatMul(backend: BackendWasm, gemm: NativeGemm, a: TensorInfo, b: TensorInfo,
  transposeA: boolean, transposeB: boolean): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== kB) return undefined; // the original kernel reports the mismatch
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  let batchShape: number[];
  try {
    batchShape = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  if (util.sizeFromShape(batchShape) !== batch) return undefined;
  const out = backend.makeOutput([...batchShape, M, N], 'float32') as TensorInfo;
  if (K === 0 || M === 0 || N === 0) {
    f32View(backend, out).fill(0);
    return out;
  }
  const heap = heapF32(backend);
  const aBase = backend.getMemoryOffset(a.dataId) / 4;
  const bBase = backend.getMemoryOffset(b.dataId) / 4;
  const cBase = backend.getMemoryOffset(out.dataId) / 4;
  for (let i = 0; i < batch; i++) {
    const aAt = aBase + (batchA === 1 ? 0 : i) * M * K;
    const bAt = bBase + (batchB === 1 ? 0 : i) * K * N;
    const cAt = cBase + i * M * N;
    gemm.sgemm(transposeA, transposeB, M, N, K, 1,
      heap.subarray(aAt, aAt + M * K), transposeA ? M : K,
      heap.subarray(bAt, bAt + K * N), transposeB ? K : N,
      0, heap.subarray(cAt, cAt + M * N), N);
  }
  return out;
}

/** The bias of a fused kernel as a per-column vector of length `columns`, or undefined if it is shaped otherwise. */
function columnBias(backend: BackendWasm, bias: TensorInfo | undefined, columns: number): Float32Array | null | undefined {
  if (bias == null) return null;
  if (bias.dtype !== 'float32') return undefined;
  const size = util.sizeFromShape(bias.shape);
  const trailing = bias.shape.slice(0, -1).every((d) => d === 1);
  if (!trailing || (size !== columns && size !== 1)) return undefined;
  const values = f32View(backend, bias);
  return size === columns ? values.slice() : new Float32Array(columns).fill(values[0]);
}

/** rows × columns block of the heap from element `start`: adds `bias` to every row. */
function addRowBias(backend: BackendWasm, start: number, rows: number, columns: number, bias: Float32Array): void {
  const heap = heapF32(backend);
  for (let r = 0, o = start; r < rows; r++) {
    for (let c = 0; c < columns; c++, o++) heap[o] += bias[c];
  }
}

/** Fused kernels whose extras the native path applies itself: a bias, no activation. */
function linearActivation(attrs: NamedAttrMap): boolean {
  return attrs.activation == null || attrs.activation === 'linear';
}

/**
 * im2col for NHWC images n0 … n1-1 into the heap at `colsBase`: one row per output position,
 * K = KH·KW·CI columns in (kh, kw, ci) order, zeros where a filter tap falls into the padding.
 * For one output position and one filter row kh the taps kw are adjacent in the input, so each
 * (position, kh) is a single contiguous copy of up to KW·CI floats.
 */
function im2colRows(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo, n0: number, n1: number, colsBase: number): void {
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW,
    filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
  const padT = info.padInfo.top;
  const padL = info.padInfo.left;
  const K = KH * KW * CI;
  const heap = heapF32(backend);
  const xBase = backend.getMemoryOffset(x.dataId) / 4;
  let row = colsBase;
  for (let n = n0; n < n1; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * SH - padT;
      for (let ow = 0; ow < OW; ow++, row += K) {
        const iw0 = ow * SW - padL;
        // Taps kw with 0 <= iw0 + kw < W.
        const kwLo = Math.max(0, -iw0);
        const kwHi = Math.min(KW, W - iw0);
        for (let kh = 0; kh < KH; kh++) {
          const dst = row + kh * KW * CI;
          const ih = ih0 + kh;
          if (ih < 0 || ih >= H || kwHi <= kwLo) {
            heap.fill(0, dst, dst + KW * CI);
            continue;
          }
          if (kwLo > 0) heap.fill(0, dst, dst + kwLo * CI);
          if (kwHi < KW) heap.fill(0, dst + kwHi * CI, dst + KW * CI);
          const src = xBase + ((n * H + ih) * W + iw0 + kwLo) * CI;
          const count = (kwHi - kwLo) * CI;
          const to = dst + kwLo * CI;
          if (count > 16) {
            heap.copyWithin(to, src, src + count);
          } else {
            for (let i = 0; i < count; i++) heap[to + i] = heap[src + i];
          }
        }
      }
    }
  }
}

/**
 * Builds the im2col matrix of each chunk of images in turn (P rows × K columns on the heap) and
 * hands it to `product` with the heap view and the chunk's first image. Returns `result`, which
 * is disposed if anything throws; the column buffer is always released.
 */
function withIm2colChunks(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo, result: TensorInfo,
  product: (heap: Float32Array, cols: Float32Array, P: number, n0: number) => void): TensorInfo {
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rowsPerImage = info.outHeight * info.outWidth;
  const chunkN = imagesPerChunk(info);
  let cols: TensorInfo | undefined;
  try {
    cols = backend.makeOutput([chunkN * rowsPerImage, K], 'float32') as TensorInfo;
    for (let n0 = 0; n0 < info.batchSize; n0 += chunkN) {
      const n1 = Math.min(info.batchSize, n0 + chunkN);
      const P = (n1 - n0) * rowsPerImage;
      const colsBase = backend.getMemoryOffset(cols.dataId) / 4;
      im2colRows(backend, x, info, n0, n1, colsBase);
      const heap = heapF32(backend);
      product(heap, heap.subarray(colsBase, colsBase + P * K), P, n0);
    }
    return result;
  } catch (error) {
    dispose(backend, result);
    throw error;
  } finally {
    dispose(backend, cols);
  }
}

/** Images per im2col chunk so that the column matrix stays under MAX_COL_FLOATS. */
function imagesPerChunk(info: backend_util.Conv2DInfo): number {
  const perImage = info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return Math.max(1, Math.min(info.batchSize, Math.floor(MAX_COL_FLOATS / Math.max(1, perImage))));
}

function unitDilations(dilations: unknown): boolean {
  return dilations == null || dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1));
}

/**
 * Conv2D / FusedConv2D (bias, no activation) on the native GEMM: out [P, CO] = cols [P, K] ·
 * filter [K, CO] per chunk of images, written straight into the output. Undefined when the
 * case needs the wasm kernel (channels-first, dilation, an activation, an odd bias).
 */
function nativeConv2D(args: KernelArgs): TensorInfo | undefined {
  const gemm = nativeGemm;
  if (!gemm) return undefined;
  const { inputs, backend, attrs = {} } = args;
  const x = input(inputs, 'x');
  const filter = input(inputs, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, dilations } = attrs as unknown as {
    strides: number | [number, number]; pad: ConvPad; dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode: Rounding; dilations?: number | [number, number];
  };
  if ((dataFormat ?? 'NHWC') !== 'NHWC' || !unitDilations(dilations) || !linearActivation(attrs)) return undefined;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const info = convInfoFor(x.shape, filter.shape, strides, pad, dimRoundingMode, 'NHWC');
  const bias = columnBias(backend, inputs.bias as TensorInfo | undefined, info.outChannels);
  if (bias === undefined) return undefined;
  const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO, filterHeight: KH, filterWidth: KW, inChannels: CI } = info;
  const out = backend.makeOutput([N, OH, OW, CO], 'float32') as TensorInfo;
  const K = KH * KW * CI;
  const rowsPerImage = OH * OW;
  if (util.sizeFromShape(out.shape) === 0) return out;
  if (K === 0) {
    f32View(backend, out).fill(0);
    return out;
  }
  // Shifted products have CI as their inner dimension: with few input channels (a first layer)
  // nine thin products lose to one im2col product with KH·KW·CI.
  if (shiftable(info) && CI >= 16) return shiftedConvForward(backend, gemm, x, filter, info, out, bias);
  return withIm2colChunks(backend, x, info, out, (heap, cols, P, n0) => {
    const fBase = backend.getMemoryOffset(filter.dataId) / 4;
    const oAt = backend.getMemoryOffset(out.dataId) / 4 + n0 * rowsPerImage * CO;
    gemm.sgemm(false, false, P, CO, K, 1, cols, K, heap.subarray(fBase, fBase + K * CO), CO, 0, heap.subarray(oAt, oAt + P * CO), CO);
    if (bias) addRowBias(backend, oAt, P, CO, bias);
  });
}

/** dW [K, CO] = Σ over chunks colsᵀ [K, P] · dy [P, CO] on the native GEMM (accumulating, beta 1). */
function nativeBackpropFilter(backend: BackendWasm, gemm: NativeGemm, x: TensorInfo, dy: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo {
  const { outHeight: OH, outWidth: OW, outChannels: CO, filterHeight: KH, filterWidth: KW, inChannels: CI } = info;
  const K = KH * KW * CI;
  const rowsPerImage = OH * OW;
  const dw = zeros(backend, [KH, KW, CI, CO]);
  return withIm2colChunks(backend, x, info, dw, (heap, cols, P, n0) => {
    const dyAt = backend.getMemoryOffset(dy.dataId) / 4 + n0 * rowsPerImage * CO;
    const wAt = backend.getMemoryOffset(dw.dataId) / 4;
    gemm.sgemm(true, false, K, CO, P, 1, cols, K, heap.subarray(dyAt, dyAt + P * CO), CO, 1, heap.subarray(wAt, wAt + K * CO), CO);
  });
}

// ---------------------------------------------------------------------------
// Stride-1 convolutions as KH·KW shifted products (native GEMM only). Lay the images out with
// the padded width Wp as row pitch: then output position (a, b) and input position
// (a + kh, b + kw) are s = kh·Wp + kw rows apart, for every position at once, so one tap of
// the filter is one product over all rows shifted by s. Rows that wrap past the right edge or
// into the next image are positions outside the output, zero or cropped away. No im2col: on
// the small CNN's second layer the forward pass took 8.6 ms against 17.9 with im2col, and the
// input gradient 9.9 against 21 with the flipped convolution.
// ---------------------------------------------------------------------------

/** [N, h, w, C] placed at (top, left) in a zeroed [N, Hd, Wd, C]; `src` itself when they coincide. */
function embedImages(backend: BackendWasm, src: TensorInfo, n0: number, n1: number, h: number, w: number, C: number,
  Hd: number, Wd: number, top: number, left: number): TensorInfo {
  const count = n1 - n0;
  if (Hd === h && Wd === w && top === 0 && left === 0 && n0 === 0 && count === src.shape[0]) {
    return reshapeInfo(backend, src, [count * h * w, C]);
  }
  const out = zeros(backend, [count * Hd * Wd, C]);
  const heap = heapF32(backend);
  const sBase = backend.getMemoryOffset(src.dataId) / 4;
  const dBase = backend.getMemoryOffset(out.dataId) / 4;
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < h; i++) {
      const from = sBase + (((n0 + n) * h + i) * w) * C;
      heap.copyWithin(dBase + ((n * Hd + i + top) * Wd + left) * C, from, from + w * C);
    }
  }
  return out;
}

/** Copies the [h, w] window at (top, left) of each [Hs, Ws, C] image of `wide` into `out` from image n0. */
function cropImages(backend: BackendWasm, wide: TensorInfo, count: number, Hs: number, Ws: number, C: number,
  out: TensorInfo, n0: number, h: number, w: number, top: number, left: number): void {
  const heap = heapF32(backend);
  const sBase = backend.getMemoryOffset(wide.dataId) / 4;
  const dBase = backend.getMemoryOffset(out.dataId) / 4;
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < h; i++) {
      const from = sBase + ((n * Hs + i + top) * Ws + left) * C;
      heap.copyWithin(dBase + (((n0 + n) * h + i) * w) * C, from, from + w * C);
    }
  }
}

/** Stride 1 and unit dilation: the shifted products apply. */
function shiftable(info: backend_util.Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.padInfo.top >= 0 && info.padInfo.left >= 0;
}

/** Images per chunk so that a [chunk, Hp, Wp, C] buffer stays under MAX_COL_FLOATS. */
function shiftedChunk(N: number, Hp: number, Wp: number, C: number): number {
  return Math.max(1, Math.min(N, Math.floor(MAX_COL_FLOATS / Math.max(1, Hp * Wp * C))));
}

/** Padded extent of a stride-1 convolution: Hp = OH + KH − 1 = H + pad top + pad bottom. */
function paddedExtent(info: backend_util.Conv2DInfo): { Hp: number; Wp: number } {
  return { Hp: info.outHeight + info.filterHeight - 1, Wp: info.outWidth + info.filterWidth - 1 };
}

/** What one tap's product is given: element offsets on the heap, its row shift and row count. */
interface TapProduct {
  readonly heap: Float32Array;
  /** Start of the embedded source, of the wide result, and of this tap's [CI, CO] filter block. */
  readonly sourceAt: number;
  readonly wideAt: number;
  readonly filterAt: number;
  /** Rows apart: kh·Wp + kw. */
  readonly shift: number;
  /** Rows in this chunk's padded layout. */
  readonly rows: number;
}

/**
 * The loop both shifted convolutions share. Per chunk of images: `source` is embedded in the
 * padded layout ([chunk·Hp·Wp, channels]), a wide result of [chunk·Hp·Wp, wideChannels] is made,
 * `product` runs once per filter tap (the unshifted tap first: it covers every row, so it must
 * initialise them with beta 0), and `crop` copies the wanted window out of the wide result.
 * Returns `result`, disposed instead if anything throws.
 */
function withShiftedTaps(backend: BackendWasm, info: backend_util.Conv2DInfo, filter: TensorInfo, result: TensorInfo,
  source: { readonly tensor: TensorInfo; readonly h: number; readonly w: number; readonly channels: number; readonly top: number; readonly left: number },
  wideChannels: number, product: (tap: TapProduct) => void, crop: (wide: TensorInfo, n0: number, count: number) => void): TensorInfo {
  const { batchSize: N, inChannels: CI, outChannels: CO, filterHeight: KH, filterWidth: KW } = info;
  const { Hp, Wp } = paddedExtent(info);
  const chunk = shiftedChunk(N, Hp, Wp, Math.max(source.channels, wideChannels));
  try {
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const n1 = Math.min(N, n0 + chunk);
      const rows = (n1 - n0) * Hp * Wp;
      const embedded = embedImages(backend, source.tensor, n0, n1, source.h, source.w, source.channels, Hp, Wp, source.top, source.left);
      let wide: TensorInfo | undefined;
      try {
        wide = backend.makeOutput([rows, wideChannels], 'float32') as TensorInfo;
        const heap = heapF32(backend);
        const sourceAt = backend.getMemoryOffset(embedded.dataId) / 4;
        const wideAt = backend.getMemoryOffset(wide.dataId) / 4;
        const filterBase = backend.getMemoryOffset(filter.dataId) / 4;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            product({ heap, sourceAt, wideAt, filterAt: filterBase + (kh * KW + kw) * CI * CO, shift: kh * Wp + kw, rows });
          }
        }
        crop(wide, n0, n1 - n0);
      } finally {
        dispose(backend, embedded, wide);
      }
    }
    return result;
  } catch (error) {
    dispose(backend, result);
    throw error;
  }
}

/** out [N, OH, OW, CO] = conv(x, filter) (+ bias), stride 1: wide[r] += x[r + s] · W[kh, kw]. */
function shiftedConvForward(backend: BackendWasm, gemm: NativeGemm, x: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo, out: TensorInfo, bias: Float32Array | null): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { Hp, Wp } = paddedExtent(info);
  withShiftedTaps(backend, info, filter, out, { tensor: x, h: H, w: W, channels: CI, top: info.padInfo.top, left: info.padInfo.left }, CO,
    ({ heap, sourceAt, wideAt, filterAt, shift, rows }) => {
      const M = rows - shift;
      gemm.sgemm(false, false, M, CO, CI, 1, heap.subarray(sourceAt + shift * CI, sourceAt + rows * CI), CI,
        heap.subarray(filterAt, filterAt + CI * CO), CO, shift === 0 ? 0 : 1, heap.subarray(wideAt, wideAt + M * CO), CO);
    },
    (wide, n0, count) => cropImages(backend, wide, count, Hp, Wp, CO, out, n0, OH, OW, 0, 0));
  if (bias) addRowBias(backend, backend.getMemoryOffset(out.dataId) / 4, N * OH * OW, CO, bias);
  return out;
}

/** dx [N, H, W, CI] for a stride-1 convolution: wide[r + s] += dy[r] · W[kh, kw]ᵀ, then cropped. */
function shiftedBackpropInput(backend: BackendWasm, gemm: NativeGemm, dy: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { Hp, Wp } = paddedExtent(info);
  const dx = backend.makeOutput([N, H, W, CI], 'float32') as TensorInfo;
  return withShiftedTaps(backend, info, filter, dx, { tensor: dy, h: OH, w: OW, channels: CO, top: 0, left: 0 }, CI,
    ({ heap, sourceAt, wideAt, filterAt, shift, rows }) => {
      const M = rows - shift;
      gemm.sgemm(false, true, M, CI, CO, 1, heap.subarray(sourceAt, sourceAt + M * CO), CO,
        heap.subarray(filterAt, filterAt + CI * CO), CO, shift === 0 ? 0 : 1, heap.subarray(wideAt + shift * CI, wideAt + rows * CI), CI);
    },
    (wide, n0, count) => cropImages(backend, wide, count, Hp, Wp, CI, dx, n0, H, W, info.padInfo.top, info.padInfo.left));
}

let origConv2D: KernelConfig | undefined;
let origFusedConv2D: KernelConfig | undefined;

function conv2DNativeOrWasm(args: KernelArgs): TensorInfo {
  return nativeConv2D(args) ?? (origConv2D!.kernelFunc as unknown as (a: KernelArgs) => TensorInfo)(args);
}

function fusedConv2DNativeOrWasm(args: KernelArgs): TensorInfo {
  return nativeConv2D(args) ?? (origFusedConv2D!.kernelFunc as unknown as (a: KernelArgs) => TensorInfo)(args);
}

// ---------------------------------------------------------------------------
// BatchMatMul / _FusedMatMul: materialise transposes, then the plain kernel.
// ---------------------------------------------------------------------------

/**
 * Wraps a matmul kernel so that transposed operands are materialised by the
 * wasm Transpose kernel and the original kernel only ever runs untransposed.
 *
 * With `allowSwap` (plain BatchMatMul only), the product may instead be
 * computed as out = (op(B)ᵀ · op(A)ᵀ)ᵀ when that moves fewer floats: the wasm
 * matmul re-packs its right operand for every new tensor, so e.g. for
 * dx = dy · Wᵀ (small dy, large W) it is cheaper to transpose dy and the
 * (small) result than to transpose and re-pack W.
 */
function withTransposesMaterialised(orig: () => KernelConfig | undefined, allowSwap: boolean) {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const original = orig();
    if (original == null) throw new Error('wasmKernels: original matmul kernel missing');
    const { inputs, backend, attrs = {} } = args;
    const a = input(inputs, 'a');
    const b = input(inputs, 'b');
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (nativeGemm) {
      const fused = !allowSwap;
      const bias = fused ? columnBias(backend, inputs.bias as TensorInfo | undefined, transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]) : null;
      if (!fused || (linearActivation(attrs) && bias !== undefined)) {
        const out = nativeMatMul(backend, nativeGemm, a, b, transposeA, transposeB);
        if (out) {
          if (bias) {
            const columns = out.shape[out.shape.length - 1];
            addRowBias(backend, backend.getMemoryOffset(out.dataId) / 4, util.sizeFromShape(out.shape) / columns, columns, bias);
          }
          return out;
        }
      }
    }
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' ||
      a.shape.length < 2 || b.shape.length < 2 ||
      util.sizeFromShape(a.shape) === 0 || util.sizeFromShape(b.shape) === 0) {
      return original.kernelFunc(args as never);
    }
    const plainAttrs = { ...attrs, transposeA: false, transposeB: false };
    if (allowSwap) {
      const ra = a.shape.length;
      const rb = b.shape.length;
      const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
      const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
      const sizeA = util.sizeFromShape(a.shape);
      const sizeB = util.sizeFromShape(b.shape);
      const batch = Math.max(util.sizeFromShape(a.shape.slice(0, -2)), util.sizeFromShape(b.shape.slice(0, -2)));
      // Floats moved by transposes plus right-operand packing, per formulation.
      const direct = (transposeA ? sizeA : 0) + (transposeB ? sizeB : 0) + sizeB;
      const swapped = (transposeB ? 0 : sizeB) + (transposeA ? 0 : sizeA) + sizeA + batch * M * N;
      if (swapped < direct) {
        // outᵀ = op(B)ᵀ · op(A)ᵀ; op(B)ᵀ is B itself when transposeB, and so on.
        const left = transposeB ? b : swapLastTwo(backend, b);
        let right: TensorInfo = a;
        let outT: TensorInfo | undefined;
        try {
          right = transposeA ? a : swapLastTwo(backend, a);
          outT = original.kernelFunc({ inputs: { a: left, b: right }, backend, attrs: plainAttrs }) as TensorInfo;
          return swapLastTwo(backend, outT);
        } finally {
          if (left !== b) dispose(backend, left);
          if (right !== a) dispose(backend, right);
          dispose(backend, outT);
        }
      }
    }
    const a2 = transposeA ? swapLastTwo(backend, a) : a;
    let b2: TensorInfo = b;
    try {
      b2 = transposeB ? swapLastTwo(backend, b) : b;
      return original.kernelFunc({ inputs: { ...inputs, a: a2, b: b2 }, backend, attrs: plainAttrs });
    } finally {
      if (a2 !== a) dispose(backend, a2);
      if (b2 !== b) dispose(backend, b2);
    }
  };
}

const batchMatMulFixed = withTransposesMaterialised(() => origBatchMatMul, true);
const fusedMatMulFixed = withTransposesMaterialised(() => origFusedMatMul, false);

// ---------------------------------------------------------------------------
// Conv2DBackpropFilter: transposed im2col (JS over the heap) + one plain matmul
// per batch chunk:  dW [K, CO] = colsT [K, P] · dy [P, CO],
// K = KH*KW*CI, P = N*OH*OW. The big operand (colsT) is the matmul's left
// input on purpose: the wasm matmul re-packs its right operand on every call
// for a new tensor, which costs several times the product itself when the
// right operand is the large im2col matrix.
// ---------------------------------------------------------------------------

function conv2DBackpropFilterFixed(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x0 = input(inputs, 'x');
  const dy0 = input(inputs, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number]; pad: ConvPad; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: Rounding; filterShape: number[];
  };
  const fmt = dataFormat ?? 'NHWC';
  if (x0.dtype !== 'float32' || dy0.dtype !== 'float32') {
    throw new Error('wasmKernels: Conv2DBackpropFilter supports float32 only');
  }
  const info = convInfoFor(x0.shape, filterShape, strides, pad, dimRoundingMode, fmt);
  if (util.sizeFromShape(x0.shape) === 0 || util.sizeFromShape(dy0.shape) === 0) {
    return zeros(backend, filterShape);
  }
  const channelsFirst = info.dataFormat === 'channelsFirst';
  const x = channelsFirst ? toNHWC(backend, x0) : x0;
  const dy = channelsFirst ? toNHWC(backend, dy0) : dy0;
  try {
    const dilated = !unitDilations((attrs as { dilations?: unknown }).dilations);
    // im2col here, not shifted products: those reduce over every row nine times into a small
    // CI × CO block, which measured slower (12.4 against 9.6 ms on the small CNN).
    if (nativeGemm && !dilated) return nativeBackpropFilter(backend, nativeGemm, x, dy, info);
    return backpropFilterNHWC(backend, x, dy, info);
  } finally {
    if (channelsFirst) dispose(backend, x, dy);
  }
}

function backpropFilterNHWC(backend: BackendWasm, x: TensorInfo, dy: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW,
    outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = info;
  const padT = info.padInfo.top;
  const padL = info.padInfo.left;
  const K = KH * KW * CI;
  const rowsPerImage = OH * OW;
  const chunkN = Math.max(1, Math.min(N, Math.floor(MAX_COL_FLOATS / Math.max(1, rowsPerImage * K))));
  // Does any filter tap fall into the padding? Then colsT needs zeros there.
  const needsZeros = padT > 0 || padL > 0 ||
    (OH - 1) * SH - padT + KH > H || (OW - 1) * SW - padL + KW > W;

  let acc: TensorInfo | undefined; // [K, CO]
  try {
    for (let n0 = 0; n0 < N; n0 += chunkN) {
      const n1 = Math.min(N, n0 + chunkN);
      const P = (n1 - n0) * rowsPerImage;
      const dyChunk = (n0 === 0 && n1 === N)
        ? reshapeInfo(backend, dy, [P, CO])
        : copyRange(backend, dy, n0 * rowsPerImage * CO, [P, CO]);
      const colsT = backend.makeOutput([K, P], 'float32') as TensorInfo;
      {
        const heap = heapF32(backend);
        const xBase = backend.getMemoryOffset(x.dataId) / 4;
        const cBase = backend.getMemoryOffset(colsT.dataId) / 4;
        if (needsZeros) heap.fill(0, cBase, cBase + K * P);
        // One output row (n, oh) at a time: for each filter tap (kh, kw) the
        // [OW, CI] input tile is written transposed into CI rows of colsT,
        // OW consecutive floats each (the tile stays in L1).
        const xStep = SW * CI;
        let p0 = cBase;
        for (let n = n0; n < n1; n++) {
          const xn = n * H;
          for (let oh = 0; oh < OH; oh++, p0 += OW) {
            const ih0 = oh * SH - padT;
            for (let kh = 0; kh < KH; kh++) {
              const ih = ih0 + kh;
              if (ih < 0 || ih >= H) continue;
              const xRow = xBase + (xn + ih) * W * CI;
              for (let kw = 0; kw < KW; kw++) {
                // ow range with 0 <= ow*SW - padL + kw < W
                const owLo = Math.max(0, Math.ceil((padL - kw) / SW));
                const owHi = Math.min(OW, Math.floor((W - 1 + padL - kw) / SW) + 1);
                if (owHi <= owLo) continue;
                const srcBase = xRow + (owLo * SW - padL + kw) * CI;
                let dstBase = p0 + (kh * KW + kw) * CI * P;
                for (let ci = 0; ci < CI; ci++, dstBase += P) {
                  let src = srcBase + ci;
                  for (let ow = owLo; ow < owHi; ow++, src += xStep) heap[dstBase + ow] = heap[src];
                }
              }
            }
          }
        }
      }
      let part: TensorInfo;
      try {
        part = runWasm('BatchMatMul', backend, { a: colsT, b: dyChunk },
          { transposeA: false, transposeB: false }); // [K, CO]
      } finally {
        dispose(backend, colsT, dyChunk);
      }
      if (acc == null) {
        acc = part;
      } else {
        const av = f32View(backend, acc);
        const pv = f32View(backend, part);
        for (let i = 0; i < av.length; i++) av[i] += pv[i];
        dispose(backend, part);
      }
    }
    const out = reshapeInfo(backend, acc!, [KH, KW, CI, CO]);
    return out;
  } finally {
    dispose(backend, acc);
  }
}

// ---------------------------------------------------------------------------
// Conv2DBackpropInput.
//   stride 1: dx = conv2d(pad(dy), flip_hw(W) with in/out swapped)  (fast XNNPACK conv)
//   otherwise: cols [P, K] = dy [P, CO] · W^T [CO, K], then col2im (JS scatter-add).
// ---------------------------------------------------------------------------

function conv2DBackpropInputFixed(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const dy0 = input(inputs, 'dy');
  const filter = input(inputs, 'filter');
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: number | [number, number]; pad: ConvPad; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode: Rounding; inputShape: number[];
  };
  const fmt = dataFormat ?? 'NHWC';
  if (dy0.dtype !== 'float32' || filter.dtype !== 'float32') {
    throw new Error('wasmKernels: Conv2DBackpropInput supports float32 only');
  }
  const info = convInfoFor(inputShape, filter.shape, strides, pad, dimRoundingMode, fmt);
  if (util.sizeFromShape(dy0.shape) === 0 || util.sizeFromShape(filter.shape) === 0) {
    return zeros(backend, inputShape);
  }
  const channelsFirst = info.dataFormat === 'channelsFirst';
  const dy = channelsFirst ? toNHWC(backend, dy0) : dy0;
  let dx: TensorInfo | undefined;
  try {
    dx = backpropInputNHWC(backend, dy, filter, info);
    if (!channelsFirst) return dx;
    const r = toNCHW(backend, dx);
    return r;
  } finally {
    if (channelsFirst) dispose(backend, dy, dx);
  }
}

function backpropInputNHWC(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO,
    inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: SH, strideWidth: SW } = info;
  const { top, bottom, left, right } = info.padInfo;
  const pt = KH - 1 - top;
  const pb = KH - 1 - bottom;
  const pl = KW - 1 - left;
  const pr = KW - 1 - right;
  // With native products the flipped convolution is an im2col of the padded dy (H·W rows of
  // KH·KW·CO floats) and one product; the alternative is one product and a scatter-add of
  // OH·OW rows of KH·KW·CI floats, each add ~3× a copy. Few input channels (a first layer on
  // grey-scale or RGB images) favour the scatter by an order of magnitude.
  const scatterCheaper = nativeGemm != null && 3 * CI * OH * OW < CO * H * W;
  if (nativeGemm && !scatterCheaper && shiftable(info)) return shiftedBackpropInput(backend, nativeGemm, dy, filter, info);
  if (!scatterCheaper && SH === 1 && SW === 1 && pt >= 0 && pb >= 0 && pl >= 0 && pr >= 0 &&
    OH + pt + pb - KH + 1 === H && OW + pl + pr - KW + 1 === W) {
    // Flipped, in/out-swapped filter: wf[kh][kw][co][ci] = w[KH-1-kh][KW-1-kw][ci][co].
    const wf = backend.makeOutput([KH, KW, CO, CI], 'float32') as TensorInfo;
    try {
      const wv = f32View(backend, filter);
      const fv = f32View(backend, wf);
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CI * CO;
          const dst = (kh * KW + kw) * CO * CI;
          for (let ci = 0; ci < CI; ci++) {
            for (let co = 0; co < CO; co++) fv[dst + co * CI + ci] = wv[src + ci * CO + co];
          }
        }
      }
      return runWasm('Conv2D', backend, { x: dy, filter: wf }, {
        strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined,
        pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]],
      } as unknown as NamedAttrMap);
    } finally {
      dispose(backend, wf);
    }
  }
  return backpropInputCol2Im(backend, dy, filter, info);
}

function backpropInputCol2Im(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo,
  info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: N, filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO,
    inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: SH, strideWidth: SW } = info;
  const padT = info.padInfo.top;
  const padL = info.padInfo.left;
  const K = KH * KW * CI;
  const rowsPerImage = OH * OW;
  const chunkN = Math.max(1, Math.min(N, Math.floor(MAX_COL_FLOATS / Math.max(1, rowsPerImage * K))));

  const w2 = reshapeInfo(backend, filter, [K, CO]);
  // The native GEMM takes W transposed as a flag; the wasm product needs it materialised.
  const wT = nativeGemm ? w2 : swapLastTwo(backend, w2); // [CO, K] as the product sees it
  if (wT !== w2) dispose(backend, w2);
  const dx = backend.makeOutput([N, H, W, CI], 'float32') as TensorInfo;
  try {
    f32View(backend, dx).fill(0);
    for (let n0 = 0; n0 < N; n0 += chunkN) {
      const n1 = Math.min(N, n0 + chunkN);
      const P = (n1 - n0) * rowsPerImage;
      const dyChunk = (n0 === 0 && n1 === N)
        ? reshapeInfo(backend, dy, [P, CO])
        : copyRange(backend, dy, n0 * rowsPerImage * CO, [P, CO]);
      let cols: TensorInfo;
      try {
        cols = runWasm('BatchMatMul', backend, { a: dyChunk, b: wT },
          { transposeA: false, transposeB: wT === w2 }); // [P, K]
      } finally {
        dispose(backend, dyChunk);
      }
      try {
        const cv = f32View(backend, cols);
        const xv = f32View(backend, dx);
        let c = 0;
        for (let n = n0; n < n1; n++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih0 = oh * SH - padT;
            for (let ow = 0; ow < OW; ow++) {
              const iw0 = ow * SW - padL;
              for (let kh = 0; kh < KH; kh++) {
                const ih = ih0 + kh;
                if (ih < 0 || ih >= H) { c += KW * CI; continue; }
                const rowBase = (n * H + ih) * W;
                for (let kw = 0; kw < KW; kw++) {
                  const iw = iw0 + kw;
                  if (iw < 0 || iw >= W) { c += CI; continue; }
                  let xo = (rowBase + iw) * CI;
                  for (let ci = 0; ci < CI; ci++) xv[xo++] += cv[c++];
                }
              }
            }
          }
        }
      } finally {
        dispose(backend, cols);
      }
    }
    return dx;
  } catch (e) {
    dispose(backend, dx);
    throw e;
  } finally {
    dispose(backend, wT);
  }
}

// ---------------------------------------------------------------------------
// UnsortedSegmentSum: JS scatter-add over the heap. Ids outside
// [0, numSegments) are dropped (as in TensorFlow and the cpu backend).
// ---------------------------------------------------------------------------

function unsortedSegmentSumFixed(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = input(inputs, 'x');
  const segmentIds = input(inputs, 'segmentIds');
  const numSegments = attrs.numSegments as number;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasmKernels: UnsortedSegmentSum does not support dtype ${x.dtype}`);
  }
  const idsRank = segmentIds.shape.length;
  const inner = util.sizeFromShape(x.shape.slice(idsRank));
  const numIds = util.sizeFromShape(segmentIds.shape);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idsRank)], x.dtype as DataType) as TensorInfo;
  const ids = segmentIds.dtype === 'int32'
    ? (backend.typedArrayFromHeap(segmentIds) as Int32Array)
    : backend.readSync(segmentIds.dataId) as ArrayLike<number>;
  const xv = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  ov.fill(0);
  for (let i = 0; i < numIds; i++) {
    const s = Math.trunc(ids[i]);
    if (s < 0 || s >= numSegments) continue;
    let xo = i * inner;
    let oo = s * inner;
    for (let j = 0; j < inner; j++) ov[oo++] += xv[xo++];
  }
  return out;
}

// ---------------------------------------------------------------------------
// Sum over leading axes (the bias gradient of every Dense and Conv layer:
// dy [batch, (positions,) channels] summed to [channels]). The stock kernel
// transposes the reduced axes to the end first, ~5x slower than one JS pass
// over the rows. Other reductions go to the original kernel.
// ---------------------------------------------------------------------------

let origSum: KernelConfig | undefined;

function sumFixed(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = input(inputs, 'x');
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) {
    return (origSum!.kernelFunc as unknown as (a: KernelArgs) => TensorInfo)(args);
  }
  const keepDims = attrs.keepDims === true;
  const kept = x.shape.slice(axes.length);
  const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
  const width = util.sizeFromShape(kept);
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32') as TensorInfo;
  const xv = f32View(backend, x);
  // Float64 accumulators: a float32 running sum over many rows loses digits.
  const acc = new Float64Array(width);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let c = 0; c < width; c++, o++) acc[c] += xv[o];
  }
  f32View(backend, out).set(acc);
  return out;
}

// ---------------------------------------------------------------------------
// Registration.
// ---------------------------------------------------------------------------

function isOurs(k: KernelConfig | undefined): boolean {
  return k != null && (k as unknown as Record<symbol, unknown>)[FIX_MARK] === true;
}

function install(kernelName: string, kernelFunc: (a: KernelArgs) => TensorInfo | TensorInfo[],
  original: KernelConfig | undefined): void {
  const existing = getKernel(kernelName, BACKEND);
  if (isOurs(existing)) return;
  if (existing != null) unregisterKernel(kernelName, BACKEND);
  const config: KernelConfig = {
    kernelName,
    backendName: BACKEND,
    kernelFunc: kernelFunc as unknown as KernelFunc,
    // Keep the original's setup (e.g. cwrap of the C++ entry point) so the
    // delegated original kernel works when the backend is (re)initialised.
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    ...(original?.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
  };
  (config as unknown as Record<symbol, unknown>)[FIX_MARK] = true;
  registerKernel(config);
}

/**
 * Registers faster / missing training kernels for the 'wasm' backend:
 * BatchMatMul and _FusedMatMul (transposed operands), Conv2DBackpropFilter,
 * Conv2DBackpropInput and UnsortedSegmentSum. Idempotent; safe to call
 * before or after `tf.setBackend('wasm')`.
 */
export function registerWasmKernelFixes(options: WasmKernelFixOptions = {}): void {
  MAX_COL_FLOATS = Math.max(1, Math.floor(options.maxColumnFloats ?? DEFAULT_MAX_COL_FLOATS));
  const bmm = getKernel('BatchMatMul', BACKEND);
  if (bmm == null) throw new Error('wasmKernels: the wasm backend kernels are not registered');
  if (!isOurs(bmm)) origBatchMatMul = bmm;
  install('BatchMatMul', batchMatMulFixed, origBatchMatMul);

  const fmm = getKernel('_FusedMatMul', BACKEND);
  if (fmm != null && !isOurs(fmm)) origFusedMatMul = fmm;
  if (origFusedMatMul != null) install('_FusedMatMul', fusedMatMulFixed, origFusedMatMul);

  const cbi = getKernel('Conv2DBackpropInput', BACKEND);
  if (cbi != null && !isOurs(cbi)) origConv2DBackpropInput = cbi;
  install('Conv2DBackpropInput', conv2DBackpropInputFixed, origConv2DBackpropInput);

  install('Conv2DBackpropFilter', conv2DBackpropFilterFixed, undefined);
  install('UnsortedSegmentSum', unsortedSegmentSumFixed, undefined);

  const sum = getKernel('Sum', BACKEND);
  if (sum != null && !isOurs(sum)) origSum = sum;
  if (origSum != null) install('Sum', sumFixed, origSum);

  // Convolutions go to the native GEMM when one is set (setNativeGemm), else to these originals.
  const conv = getKernel('Conv2D', BACKEND);
  if (conv != null && !isOurs(conv)) origConv2D = conv;
  if (origConv2D != null) install('Conv2D', conv2DNativeOrWasm, origConv2D);
  const fusedConv = getKernel('FusedConv2D', BACKEND);
  if (fusedConv != null && !isOurs(fusedConv)) origFusedConv2D = fusedConv;
  if (origFusedConv2D != null) install('FusedConv2D', fusedConv2DNativeOrWasm, origFusedConv2D);
}

/** True when `registerWasmKernelFixes()` is in effect for BatchMatMul. */
export function wasmKernelFixesRegistered(): boolean {
  return isOurs(getKernel('BatchMatMul', BACKEND));
}

/**
 * Restores the original wasm kernels (and removes the added ones). Mainly for
 * benchmarks comparing "with" and "without" the fixes in one process.
 */
export function unregisterWasmKernelFixes(): void {
  const restore: [string, KernelConfig | undefined][] = [
    ['BatchMatMul', origBatchMatMul],
    ['_FusedMatMul', origFusedMatMul],
    ['Conv2DBackpropInput', origConv2DBackpropInput],
    ['Conv2DBackpropFilter', undefined],
    ['UnsortedSegmentSum', undefined],
    ['Sum', origSum],
    ['Conv2D', origConv2D],
    ['FusedConv2D', origFusedConv2D],
  ];
  for (const [name, orig] of restore) {
    if (!isOurs(getKernel(name, BACKEND))) continue;
    unregisterKernel(name, BACKEND);
    if (orig != null) registerKernel(orig);
  }
}
