// The first-principal-component projection of a stack of maps (pytorch-grad-cam's
// get_2d_projection, used by EigenCAM, EigenGradCAM and --eigen-smooth): per image, the
// [positions x channels] matrix is centered per channel and projected on its first right
// singular vector. An SVD leaves that vector's sign arbitrary (pytorch-grad-cam keeps whatever
// numpy/torch return, so its map can come out inverted); here the sign is chosen so that the
// projection correlates positively with the channels' mean map.
import { pearson } from '../metrics/similarity.js';

function euclidean(v: Float64Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/** Top eigenvector of a symmetric positive semi-definite n x n matrix (power iteration in float64). */
function topEigenvector(g: Float64Array, n: number, start: Float64Array): { vector: Float64Array; value: number } {
  let v = Float64Array.from(start);
  let length = euclidean(v);
  if (!(length > 0)) {
    v = Float64Array.from({ length: n }, (_, i) => 1 + 1e-3 * Math.sin(i + 1));
    length = euclidean(v);
  }
  for (let i = 0; i < n; i++) v[i]! /= length;
  const next = new Float64Array(n);
  let value = 0;
  for (let iter = 0; iter < 20000; iter++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) s += g[row + j]! * v[j]!;
      next[i] = s;
    }
    const len = euclidean(next);
    if (!(len > 0)) return { vector: v, value: 0 };
    let change = 0;
    for (let i = 0; i < n; i++) {
      const u = next[i]! / len;
      change = Math.max(change, Math.abs(u - v[i]!));
      v[i] = u;
    }
    value = len;
    if (change < 1e-12) break;
  }
  return { vector: v, value };
}

/**
 * The component's sign: so that the projection correlates positively with the channels' mean
 * map; where that map is flat, so that the projection's largest |value| is positive (sklearn's
 * svd_flip). A LayerNorm without its own scale and shift (torchvision's ViT at initialization)
 * returns tokens whose channel mean is 0 at every position: the mean map is rounding noise
 * there, and the sign followed the noise, differing between float32 and float64.
 */
function orientation(projection: Float64Array, channelMean: Float64Array, data: Float32Array | Float64Array): 1 | -1 {
  let scale = 0;
  for (const v of data) if (Math.abs(v) > scale) scale = Math.abs(v);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of channelMean) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi - lo > 1e-5 * scale) return pearson(projection, channelMean) < 0 ? -1 : 1;
  let largest = 0;
  for (const v of projection) if (Math.abs(v) > Math.abs(largest)) largest = v;
  return largest < 0 ? -1 : 1;
}

/**
 * Projection of each image's maps `data` [n, k, positions] on their first principal
 * component: [n, positions].
 */
export function principalProjection(data: Float32Array | Float64Array, n: number, k: number, positions: number): Float32Array {
  const out = new Float32Array(n * positions);
  for (let img = 0; img < n; img++) {
    const base = img * k * positions;
    // Centered matrix M[p, c] stored channel-major as c * positions + p.
    const m = new Float64Array(k * positions);
    const channelMean = new Float64Array(positions);
    for (let c = 0; c < k; c++) {
      let mean = 0;
      for (let p = 0; p < positions; p++) {
        const v = Number.isNaN(data[base + c * positions + p]!) ? 0 : data[base + c * positions + p]!;
        mean += v;
        channelMean[p]! += v / k;
      }
      mean /= positions;
      for (let p = 0; p < positions; p++) {
        const v = Number.isNaN(data[base + c * positions + p]!) ? 0 : data[base + c * positions + p]!;
        m[c * positions + p] = v - mean;
      }
    }
    let projection: Float64Array;
    if (positions <= k) {
      // M M^T (positions x positions): its top eigenvector u gives M v1 = sigma1 u.
      const g = new Float64Array(positions * positions);
      for (let c = 0; c < k; c++) {
        const col = c * positions;
        for (let p = 0; p < positions; p++) {
          const a = m[col + p]!;
          if (a === 0) continue;
          for (let q = p; q < positions; q++) g[p * positions + q]! += a * m[col + q]!;
        }
      }
      for (let p = 0; p < positions; p++) for (let q = 0; q < p; q++) g[p * positions + q] = g[q * positions + p]!;
      const { vector, value } = topEigenvector(g, positions, channelMean);
      const sigma = Math.sqrt(Math.max(0, value));
      projection = Float64Array.from(vector, (u) => u * sigma);
    } else {
      // M^T M (k x k): its top eigenvector is v1 itself.
      const g = new Float64Array(k * k);
      for (let a = 0; a < k; a++) {
        for (let b = a; b < k; b++) {
          let s = 0;
          for (let p = 0; p < positions; p++) s += m[a * positions + p]! * m[b * positions + p]!;
          g[a * k + b] = s;
          g[b * k + a] = s;
        }
      }
      const start = new Float64Array(k).fill(1);
      const { vector } = topEigenvector(g, k, start);
      projection = new Float64Array(positions);
      for (let c = 0; c < k; c++) for (let p = 0; p < positions; p++) projection[p]! += m[c * positions + p]! * vector[c]!;
    }
    const sign = orientation(projection, channelMean, data.subarray(base, base + k * positions));
    for (let p = 0; p < positions; p++) out[img * positions + p] = sign * projection[p]!;
  }
  return out;
}
