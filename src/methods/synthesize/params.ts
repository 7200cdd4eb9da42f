// Parameterizations: how the optimized numbers (theta) become an image in [0, 1]. As in Lucid,
// the choice changes what gradient ascent finds: pixels give high-frequency patterns that
// fool the network; a Fourier basis scaled by 1/frequency with decorrelated colour
// (Olah et al., "Feature Visualization", Distill 2017) makes every frequency equally easy to
// change and gives natural-looking images. The mapping is part of the ONNX graph, so its
// gradient comes from the same backward pass.
import { ConvLensError } from '../../engine/errors.js';
import type { GraphBuilder } from '../../engine/graph/builder.js';
import { gaussian } from '../../models/init.js';
import type { ImageShape } from './graph.js';
import { mapFloat32 } from '../../engine/tensor.js';

export interface Parameterization {
  /** identifies the structure (part of the session cache key) */
  key: string;
  kind: 'pixel' | 'fourier';
  /** dims of theta for images of this shape */
  shape(s: ImageShape): number[];
  /** initial theta: random (seeded) or fitted to a start image (pixel parameterizations) */
  init(s: ImageShape, rand: () => number, start?: Float32Array): Float32Array;
  /** appends theta -> image ([N, C, H, W] in [0, 1]) and returns the image's name */
  build(b: GraphBuilder, theta: string, s: ImageShape): string;
  /** the image computed in JS, where that is cheap (pixel parameterizations) */
  toImage?(theta: Float32Array): Float32Array;
  /** clamp theta to [0, 1] after every update (pixel values optimized directly) */
  clip?: boolean;
  /** Gaussian blur of the image by sigma pixels, applied to theta (a regularizer, Yosinski et al.) */
  blur?(theta: Float32Array, s: ImageShape, sigma: number): void;
}

// Lucid's colour correlation of ImageNet (square root of the covariance, by SVD), normalized
// so the largest column has unit norm.
const COLOR_SVD_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];
const MAX_NORM = Math.max(...[0, 1, 2].map((j) => Math.hypot(...COLOR_SVD_SQRT.map((r) => r[j]!))));
export const COLOR_CORRELATION = COLOR_SVD_SQRT.map((r) => r.map((v) => v / MAX_NORM));

function decorrelate(b: GraphBuilder, x: string): string {
  const w = Float32Array.from(COLOR_CORRELATION.flat());
  return b.op('Conv', [x, b.constant({ dtype: 'float32', dims: [3, 3, 1, 1], data: w }, 'color_corr')], { kernel_shape: [1, 1] });
}

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

export interface PixelOptions {
  /** 'clip': theta is the image, clamped to [0, 1] after each step; 'sigmoid': image = sigmoid(theta) */
  range?: 'clip' | 'sigmoid';
  /** sigmoid range only: mix colour channels with the decorrelation matrix first */
  decorrelate?: boolean;
  /** standard deviation of the random start (image units for 'clip', logits for 'sigmoid') */
  sd?: number;
}

/** Pixels: the image itself (or its logits). */
export function pixelParam(o: PixelOptions = {}): Parameterization {
  const range = o.range ?? 'clip';
  const decor = range === 'sigmoid' && (o.decorrelate ?? false);
  const sd = o.sd ?? (range === 'clip' ? 0.05 : 0.1);
  const size = (s: ImageShape): number => s.batch * s.channels * s.height * s.width;
  const p: Parameterization = {
    key: `pixel-${range}${decor ? '-decorrelated' : ''}`,
    kind: 'pixel',
    shape: (s) => [s.batch, s.channels, s.height, s.width],
    init(s, rand, start) {
      const n = size(s);
      if (start) {
        if (start.length !== n) throw new ConvLensError('SHAPE_MISMATCH', `The start image has ${start.length} values; ${n} are needed.`, `Pass a start image of ${n} values: batch x channels x height x width of the synthesis.`);
        if (range === 'clip') return Float32Array.from(start);
        const logits = Float32Array.from(start, (v) => {
          const c = Math.min(0.999, Math.max(0.001, v));
          return Math.log(c / (1 - c));
        });
        if (!decor || s.channels !== 3) return logits;
        const inv = invert3(COLOR_CORRELATION);
        const plane = s.height * s.width;
        const out = new Float32Array(n);
        for (let i = 0; i < s.batch; i++)
          for (let c = 0; c < 3; c++)
            for (let q = 0; q < plane; q++) {
              let v = 0;
              for (let j = 0; j < 3; j++) v += inv[c]![j]! * logits[(i * 3 + j) * plane + q]!;
              out[(i * 3 + c) * plane + q] = v;
            }
        return out;
      }
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (range === 'clip' ? 0.5 : 0) + sd * gaussian(rand);
      if (range === 'clip') for (let i = 0; i < n; i++) out[i] = Math.min(1, Math.max(0, out[i]!));
      return out;
    },
    build(b, theta, s) {
      if (range === 'clip') return b.op('Identity', [theta]);
      return b.op('Sigmoid', [decor && s.channels === 3 ? decorrelate(b, theta) : theta]);
    },
    clip: range === 'clip',
    blur(theta, s, sigma) {
      gaussianBlurPlanes(theta, s.batch * s.channels, s.height, s.width, sigma);
    },
  };
  if (!decor) p.toImage = range === 'clip' ? (t) => t : (t) => mapFloat32(t, (v) => 1 / (1 + Math.exp(-v)));
  return p;
}

export interface FourierOptions {
  /** spectrum scale 1 / f^decay (Lucid: 1) */
  decay?: number;
  /** mix colours with the decorrelation matrix (Lucid: true) */
  decorrelate?: boolean;
  /** standard deviation of the random spectrum (Lucid: 0.01) */
  sd?: number;
}

/**
 * Lucid's `fft_image` + `to_valid_rgb(decorrelate=True, sigmoid=True)`: theta is a real/imag
 * spectrum [N, C, H, 2K] (K = W/2 + 1 frequencies along x), scaled by sqrt(HW) / max(f, 1/max(H, W))^decay,
 * inverse-transformed with two MatMuls (x, then y), divided by 4, colour-decorrelated, squashed
 * by a sigmoid.
 */
export function fourierParam(o: FourierOptions = {}): Parameterization {
  const decay = o.decay ?? 1;
  const decor = o.decorrelate ?? true;
  const sd = o.sd ?? 0.01;
  const K = (w: number): number => Math.floor(w / 2) + 1;
  const freq = (h: number, w: number): Float32Array => {
    const k = K(w);
    const f = new Float32Array(h * k);
    for (let y = 0; y < h; y++) {
      const fy = (y <= (h - 1) / 2 ? y : y - h) / h;
      for (let x = 0; x < k; x++) f[y * k + x] = Math.hypot(fy, x / w);
    }
    return f;
  };
  return {
    key: `fourier-d${decay}${decor ? '-decorrelated' : ''}`,
    kind: 'fourier',
    shape: (s) => [s.batch, s.channels, s.height, 2 * K(s.width)],
    init(s, rand, start) {
      if (start) throw new ConvLensError('INVALID_ARGUMENT', 'The Fourier parameterization cannot start from an image.', 'Start from an image with the pixel parameterization (CLI: --param pixel), or from noise.');
      const n = s.batch * s.channels * s.height * 2 * K(s.width);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = sd * gaussian(rand);
      return out;
    },
    build(b, theta, s) {
      const { height: H, width: W } = s;
      const k = K(W);
      const f = freq(H, W);
      const scale = new Float32Array(H * 2 * k);
      const norm = Math.sqrt(H * W);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < k; x++) {
          const v = norm / Math.max(f[y * k + x]!, 1 / Math.max(H, W)) ** decay;
          scale[y * 2 * k + x] = v;
          scale[y * 2 * k + k + x] = v;
        }
      const scaled = b.op('Mul', [theta, b.constant({ dtype: 'float32', dims: [H, 2 * k], data: scale }, 'spectrum_scale')]);
      // along x: [A | B] [H, 2K] x Mx [2K, 2W] = [Re V | Im V], with the irfft weights and 1/(HW) (and Lucid's /4) folded in
      const mx = new Float32Array(2 * k * 2 * W);
      for (let kx = 0; kx < k; kx++) {
        const wgt = (kx === 0 || (W % 2 === 0 && kx === W / 2) ? 1 : 2) / (H * W * 4);
        for (let x = 0; x < W; x++) {
          const a = (2 * Math.PI * kx * x) / W;
          const c = wgt * Math.cos(a);
          const sn = wgt * Math.sin(a);
          mx[kx * 2 * W + x] = c; // A -> Re
          mx[kx * 2 * W + W + x] = sn; // A -> Im
          mx[(k + kx) * 2 * W + x] = -sn; // B -> Re
          mx[(k + kx) * 2 * W + W + x] = c; // B -> Im
        }
      }
      const v = b.op('MatMul', [scaled, b.constant({ dtype: 'float32', dims: [2 * k, 2 * W], data: mx }, 'idft_x')]);
      const [re, im] = b.opN('Split', [v, b.ints([W, W])], { axis: 3 }, { outputs: 2 });
      const stacked = b.op('Concat', [re!, im!], { axis: 2 }); // [N, C, 2H, W]
      const my = new Float32Array(H * 2 * H);
      for (let y = 0; y < H; y++)
        for (let ky = 0; ky < H; ky++) {
          const a = (2 * Math.PI * ky * y) / H;
          my[y * 2 * H + ky] = Math.cos(a);
          my[y * 2 * H + H + ky] = -Math.sin(a);
        }
      let x = b.op('MatMul', [b.constant({ dtype: 'float32', dims: [H, 2 * H], data: my }, 'idft_y'), stacked]);
      if (decor && s.channels === 3) x = decorrelate(b, x);
      return b.op('Sigmoid', [x]);
    },
    blur(theta, s, sigma) {
      // A Gaussian blur is a product with exp(-2 pi^2 sigma^2 f^2) in the frequency domain.
      const k = K(s.width);
      const f = freq(s.height, s.width);
      const per = s.height * 2 * k;
      for (let i = 0; i < s.batch * s.channels; i++)
        for (let y = 0; y < s.height; y++)
          for (let x = 0; x < k; x++) {
            const g = Math.exp(-2 * Math.PI * Math.PI * sigma * sigma * f[y * k + x]! ** 2);
            theta[i * per + y * 2 * k + x]! *= g;
            theta[i * per + y * 2 * k + k + x]! *= g;
          }
    },
  };
}

/** In-place separable Gaussian blur of `planes` planes of h x w (edges clamped). */
export function gaussianBlurPlanes(data: Float32Array, planes: number, h: number, w: number, sigma: number): void {
  if (!(sigma > 0)) return;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  const tmp = new Float32Array(h * w);
  for (let p = 0; p < planes; p++) {
    const o = p * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (let i = -r; i <= r; i++) v += k[i + r]! * data[o + y * w + Math.min(w - 1, Math.max(0, x + i))]!;
        tmp[y * w + x] = v;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let v = 0;
        for (let i = -r; i <= r; i++) v += k[i + r]! * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x]!;
        data[o + y * w + x] = v;
      }
  }
}
