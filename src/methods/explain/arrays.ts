// Light elementwise work for attribution methods, in typed arrays: resampling, blurring,
// channel reductions, batch slicing. Everything heavy runs in ONNX Runtime.
import { ConvLensError, describeValue } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { TokenGrid } from '../../models/token-grid.js';

/** [N, C, H, W] dims of a 4-D tensor (throws on anything else: a programming error). */
export function nchw(t: Tensor): [number, number, number, number] {
  if (t.dims.length !== 4) throw new Error(`expected a 4-D tensor, got [${t.dims.join(', ')}]`);
  return t.dims as [number, number, number, number];
}

/**
 * A layer's values as [N, C, h, w] maps: a map as it is; a channels-last map [N, h, w, C]
 * transposed; a vision transformer's tokens
 * [N, tokens, C] or [N, C, tokens] as the map of their patch grid, the leading tokens (a class
 * token) dropped - pytorch-grad-cam's reshape_transform, applied to activations and gradients alike.
 */
export function layerMaps(t: Tensor, layer: { label: string; tokens?: TokenGrid | undefined; channelsLast?: boolean | undefined }): Tensor {
  if (layer.channelsLast) {
    const [n, h, w, c] = t.dims as [number, number, number, number];
    const src = t.data as Float32Array;
    const out = new Float32Array(src.length);
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) out[(i * c + ch) * h * w + p] = src[(i * h * w + p) * c + ch]!;
    return f32([n, c, h, w], out);
  }
  const g = layer.tokens;
  if (!g) return t;
  const [n, a, b] = t.dims as [number, number, number];
  const count = g.tokenAxis === 1 ? a : b;
  const hw = g.height * g.width;
  if (t.dims.length !== 3 || count !== g.prefix + hw || (g.tokenAxis === 1 ? b : a) !== g.channels) {
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `Layer "${layer.label}" holds [${t.dims.join(', ')}] here, not the ${g.prefix ? `${g.prefix} + ` : ''}${g.height}x${g.width} tokens of ${g.channels} channels its patch grid had at the model's preprocessing size.`,
      'Explain images at the preprocessing size the model was described with (resize them, or set the size in the model\'s preprocessing).',
    );
  }
  const src = t.data as Float32Array;
  const out = new Float32Array(n * g.channels * hw);
  const c = g.channels;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const o = (i * c + ch) * hw;
      if (g.tokenAxis === 2) out.set(src.subarray((i * c + ch) * count + g.prefix, (i * c + ch) * count + g.prefix + hw), o);
      else for (let p = 0; p < hw; p++) out[o + p] = src[(i * count + g.prefix + p) * c + ch]!;
    }
  }
  return f32([n, c, g.height, g.width], out);
}

export function f32(dims: readonly number[], data?: Float32Array): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', dims: [...dims], data: data ?? new Float32Array(n) };
}

/** Samples [start, end) of a batch, as a copy the caller may change. */
export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const per = t.data.length / t.dims[0]!;
  return f32([end - start, ...t.dims.slice(1)], (t.data as Float32Array).slice(start * per, end * per));
}

/** Samples [start, end) of a batch as a view of the same memory, for reading only. */
export function batchView(t: Tensor, start: number, end: number): Tensor {
  const per = t.data.length / t.dims[0]!;
  return { dtype: t.dtype, dims: [end - start, ...t.dims.slice(1)], data: (t.data as Float32Array).subarray(start * per, end * per) };
}

/**
 * Bilinear resampling of one plane. `alignCorners` false is the half-pixel convention of
 * cv2.resize (INTER_LINEAR) and torch interpolate(align_corners=False), which pytorch-grad-cam
 * and Captum use to upsample CAMs; true is torch.nn.UpsamplingBilinear2d (Score-CAM masks).
 */
export function resizeBilinear(src: Float32Array | Float64Array, h: number, w: number, H: number, W: number, alignCorners = false, out = new Float32Array(H * W), outOffset = 0): Float32Array {
  const r = new BilinearResampler(h, w, H, W, alignCorners).load(src);
  for (let y = 0; y < H; y++) r.rowInto(y, out, outOffset + y * W);
  return out;
}

/**
 * resizeBilinear in two steps, for callers that read single values or fuse their own work per
 * pixel: `load` interpolates every source row along x once (in double, as the 2-D formula
 * would), `rowInto` and `at` blend two of those rows along y. Values are bit-identical to
 * resizeBilinear's, at a third of the arithmetic of interpolating each pixel from four.
 */
export class BilinearResampler {
  private readonly yi0: Int32Array;
  private readonly yi1: Int32Array;
  private readonly yf: Float32Array;
  private readonly xi0: Int32Array;
  private readonly xi1: Int32Array;
  private readonly xf: Float32Array;
  private readonly rows: Float64Array;

  constructor(
    readonly h: number,
    readonly w: number,
    readonly H: number,
    readonly W: number,
    alignCorners: boolean,
  ) {
    const coords = (n: number, N: number): [Int32Array, Int32Array, Float32Array] => {
      const i0 = new Int32Array(N);
      const i1 = new Int32Array(N);
      const f = new Float32Array(N);
      for (let o = 0; o < N; o++) {
        let s = alignCorners ? (N > 1 ? (o * (n - 1)) / (N - 1) : 0) : ((o + 0.5) * n) / N - 0.5;
        if (s < 0) s = 0;
        if (s > n - 1) s = n - 1;
        const a = Math.floor(s);
        i0[o] = a;
        i1[o] = Math.min(a + 1, n - 1);
        f[o] = s - a;
      }
      return [i0, i1, f];
    };
    [this.yi0, this.yi1, this.yf] = coords(h, H);
    [this.xi0, this.xi1, this.xf] = coords(w, W);
    this.rows = new Float64Array(h * W);
  }

  /** Takes a new source plane [h, w]. */
  load(src: Float32Array | Float64Array): this {
    const { h, w, W, rows, xi0, xi1, xf } = this;
    for (let r = 0; r < h; r++) {
      const base = r * w;
      for (let x = 0; x < W; x++) {
        const a = src[base + xi0[x]!]!;
        rows[r * W + x] = a + (src[base + xi1[x]!]! - a) * xf[x]!;
      }
    }
    return this;
  }

  /** Output row y, rounded to float32, into `out` from `offset`. */
  rowInto(y: number, out: Float32Array, offset: number): void {
    const { W, rows } = this;
    const r0 = this.yi0[y]! * W;
    const r1 = this.yi1[y]! * W;
    const fy = this.yf[y]!;
    for (let x = 0; x < W; x++) {
      const top = rows[r0 + x]!;
      out[offset + x] = top + (rows[r1 + x]! - top) * fy;
    }
  }

  /** The output value at (y, x), as resizeBilinear stores it. */
  at(y: number, x: number): number {
    const top = this.rows[this.yi0[y]! * this.W + x]!;
    return Math.fround(top + (this.rows[this.yi1[y]! * this.W + x]! - top) * this.yf[y]!);
  }
}

/** Nearest-neighbour resampling of one plane (Captum's default for Guided Grad-CAM). */
export function resizeNearest(src: Float32Array, h: number, w: number, H: number, W: number, out = new Float32Array(H * W), outOffset = 0): Float32Array {
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / H));
    for (let x = 0; x < W; x++) out[outOffset + y * W + x] = src[sy * w + Math.min(w - 1, Math.floor((x * w) / W))]!;
  }
  return out;
}

/** Upsamples every plane of [N, 1, h, w] to [N, H, W]. */
export function upsampleMaps(t: Tensor, H: number, W: number, mode: 'bilinear' | 'nearest' = 'bilinear'): Float32Array {
  const [n, c, h, w] = nchw(t);
  if (c !== 1) throw new Error('upsampleMaps: expected one channel');
  const out = new Float32Array(n * H * W);
  const data = t.data as Float32Array;
  for (let i = 0; i < n; i++) {
    const plane = data.subarray(i * h * w, (i + 1) * h * w);
    if (h === H && w === W) out.set(plane, i * H * W);
    else if (mode === 'bilinear') resizeBilinear(plane, h, w, H, W, false, out, i * H * W);
    else resizeNearest(plane, h, w, H, W, out, i * H * W);
  }
  return out;
}

/** Gaussian blur of one plane, separable, reflected borders (scipy.ndimage.gaussian_filter, truncate 4). */
export function gaussianBlur(src: Float32Array, h: number, w: number, sigma: number): Float32Array {
  if (!(sigma > 0)) return src.slice();
  // Past a few periods of the reflected image a wider kernel only averages the same values again
  // (and a sigma of 1e9 would ask for an 8e9-tap kernel): the cap leaves scipy's result for any
  // sigma up to the image side, and near the image mean beyond.
  const radius = Math.max(1, Math.min(Math.ceil(4 * sigma), 4 * Math.max(h, w)));
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k]! /= total;
  const reflect = (i: number, n: number): number => {
    // scipy 'reflect' (d c b a | a b c d | d c b a), periodic for radii beyond the size
    const period = 2 * n;
    let j = ((i % period) + period) % period;
    if (j >= n) j = period - 1 - j;
    return j;
  };
  const tmp = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * src[y * w + reflect(x + k, w)]!;
      tmp[y * w + x] = s;
    }
  }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * tmp[reflect(y + k, h) * w + x]!;
      out[y * w + x] = s;
    }
  }
  return out;
}

/**
 * Blurs every channel of every image of an [N, C, H, W] batch. A user's blurSigma arrives here:
 * NaN, 0 or a negative sigma would hand back the image itself, and a baseline or canvas equal
 * to the input makes every attribution and curve silently zero.
 */
export function blurBatch(t: Tensor, sigma: number): Tensor {
  if (!(Number.isFinite(sigma) && sigma > 0)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The blur sigma must be a positive number of pixels, got ${sigma}.`, 'Use a blurSigma above 0, or leave it out for the default.');
  }
  const [n, c, h, w] = nchw(t);
  const data = t.data as Float32Array;
  const out = new Float32Array(data.length);
  for (let p = 0; p < n * c; p++) out.set(gaussianBlur(data.subarray(p * h * w, (p + 1) * h * w), h, w, sigma), p * h * w);
  return f32(t.dims, out);
}

export type ChannelReduction = 'sum' | 'abs-sum' | 'abs-max' | 'square-sum';

/** [N, C, H, W] -> [N, H, W] by reducing channels (Captum's visualization sums them). */
export function reduceChannels(t: Tensor, how: ChannelReduction): Float32Array {
  const [n, c, h, w] = nchw(t);
  const hw = h * w;
  const data = t.data as Float32Array;
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * hw;
      const o = i * hw;
      for (let p = 0; p < hw; p++) {
        const v = data[base + p]!;
        if (how === 'sum') out[o + p]! += v;
        else if (how === 'abs-sum') out[o + p]! += Math.abs(v);
        else if (how === 'square-sum') out[o + p]! += v * v;
        else if (ch === 0 || Math.abs(v) > out[o + p]!) out[o + p] = Math.abs(v);
      }
    }
  }
  return out;
}

/** pytorch-grad-cam's scale_cam_image on one plane, in place: v - min, then / (1e-7 + max). */
export function scaleCamPlane(plane: Float32Array): Float32Array {
  let lo = Infinity;
  for (const v of plane) lo = Math.min(lo, v);
  let hi = -Infinity;
  for (let i = 0; i < plane.length; i++) hi = Math.max(hi, (plane[i] = plane[i]! - lo));
  const inv = 1 / (1e-7 + hi);
  for (let i = 0; i < plane.length; i++) plane[i]! *= inv;
  return plane;
}

/** Elementwise product of two equally shaped float32 arrays. */
export function multiply(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * b[i]!;
  return out;
}

export { normalSource, seededRandom as uniformSource } from '../../util/random.js';

/**
 * A seed option: an integer from 0 to 2^32 - 1 (the generators keep 32 bits), 0 when left out.
 * NaN or 'abc' ran as seed 0 and 1.5 as a stream of its own, so two "seeds" gave one map.
 */
export function seedOf(value: unknown, what: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ConvLensError('INVALID_ARGUMENT', `${what} must be an integer from 0 to 4294967295, got ${describeValue(value)}.`, 'Give a whole number (the generators keep 32 bits), or leave it out for 0.');
  }
  return value;
}
