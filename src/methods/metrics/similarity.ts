// How similar two attribution maps are: Spearman rank correlation and SSIM, the two measures
// of the model-randomization sanity check (Adebayo et al. 2018).
import { ConvLensError } from '../../engine/errors.js';

/** Ranks 1..n with ties sharing their average rank (scipy.stats.rankdata 'average'). */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = r;
    i = j + 1;
  }
  return out;
}

/** Pearson correlation; 0 when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new ConvLensError('INVALID_ARGUMENT', `Cannot correlate ${n} values with ${b.length}.`, 'Pass two arrays of the same length.');
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** True when every value equals the first (an all-zero map, say): no ranking to correlate. */
export function isConstant(values: ArrayLike<number>): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] !== values[0]) return false;
  return true;
}

/**
 * Spearman rank correlation (scipy.stats.spearmanr for 1-D data): NaN when either side is
 * constant, as scipy's, since a constant has no ranking (pearson's 0 would read as "unrelated").
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return pearson(a, b); // pearson's length error
  if (isConstant(a) || isConstant(b)) return NaN;
  return pearson(ranks(a), ranks(b));
}

export interface SsimOptions {
  /** the range of the values (default 1: maps normalized to [0, 1]) */
  dataRange?: number;
  /** side of the uniform window (default 7) */
  window?: number;
}

/**
 * Mean structural similarity of two [h, w] images, as skimage.metrics.structural_similarity
 * with its defaults: 7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance, averaged
 * over the windows that fit entirely inside the image.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number, o: SsimOptions = {}): number {
  const win = o.window ?? 7;
  const range = o.dataRange ?? 1;
  if (a.length !== width * height || b.length !== width * height) throw new ConvLensError('INVALID_ARGUMENT', `SSIM needs two ${width}x${height} images.`, `Pass two arrays of ${width * height} values (${width} wide, ${height} high).`);
  if (width < win || height < win) throw new ConvLensError('INVALID_ARGUMENT', `SSIM with a ${win}x${win} window needs images of at least ${win}x${win}, got ${width}x${height}.`, `Use a window of at most ${Math.min(width, height)} (the window option), or larger images.`);
  const np = win * win;
  const covNorm = np / (np - 1);
  const c1 = (0.01 * range) ** 2;
  const c2 = (0.03 * range) ** 2;
  // Summed-area tables of a, b, a^2, b^2, ab.
  const W = width + 1;
  const tables = [new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1)), new Float64Array(W * (height + 1))];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const va = a[y * width + x]!;
      const vb = b[y * width + x]!;
      const vals = [va, vb, va * va, vb * vb, va * vb];
      for (let t = 0; t < 5; t++) {
        const T = tables[t]!;
        T[(y + 1) * W + x + 1] = vals[t]! + T[y * W + x + 1]! + T[(y + 1) * W + x]! - T[y * W + x]!;
      }
    }
  }
  const box = (T: Float64Array, y: number, x: number): number => T[(y + win) * W + x + win]! - T[y * W + x + win]! - T[(y + win) * W + x]! + T[y * W + x]!;
  let total = 0;
  let count = 0;
  for (let y = 0; y + win <= height; y++) {
    for (let x = 0; x + win <= width; x++) {
      const ux = box(tables[0]!, y, x) / np;
      const uy = box(tables[1]!, y, x) / np;
      const vx = covNorm * (box(tables[2]!, y, x) / np - ux * ux);
      const vy = covNorm * (box(tables[3]!, y, x) / np - uy * uy);
      const vxy = covNorm * (box(tables[4]!, y, x) / np - ux * uy);
      total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

/** |values| scaled to [0, 1] by their maximum (all zeros stay zeros). */
export function normalizedMagnitude(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let max = 0;
  for (let i = 0; i < out.length; i++) max = Math.max(max, (out[i] = Math.abs(values[i]!)));
  if (max > 0) for (let i = 0; i < out.length; i++) out[i]! /= max;
  return out;
}
