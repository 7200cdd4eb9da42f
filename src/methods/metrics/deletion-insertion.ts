// Deletion and insertion curves (Petsiuk et al. 2018, RISE): remove pixels from the image, or
// add them to a blank canvas, in order of attribution, and follow the target's score. A
// faithful map makes the score fall fast under deletion (low AUC) and rise fast under
// insertion (high AUC). Every step of every curve is one batched forward input.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { blurBatch, nchw, seedOf, uniformSource } from '../explain/arrays.js';
import { blackImage } from '../explain/integrated-gradients.js';
import { batchSizeOption, scoreInputs, Work } from '../explain/session.js';
import { checkScoredBatch } from './arguments.js';
import { defaultCurveScore, type ScoreKind } from '../explain/target.js';
import type { JobOptions } from '../../engine/jobs.js';

export type Canvas = 'black' | 'zero' | 'blur' | 'mean';

export interface CurveOptions extends JobOptions {
  /** points per curve after the start (default 50: 2% of the pixels per step) */
  steps?: number;
  /** what the curves follow (default 'prob', as RISE) */
  score?: ScoreKind;
  /** what deleted pixels become (default 'black': a black image in model space) */
  deletionFill?: Canvas;
  /** the canvas insertion starts from (default 'blur', as RISE) */
  insertionStart?: Canvas;
  /** sigma of the blurred canvas (default: a tenth of the image side) */
  blurSigma?: number;
  batchSize?: number;
  /** tie-breaking among equal attributions (default 0) */
  seed?: number;
}

export interface Curves {
  /** fraction of pixels removed / inserted at each point, 0..1 */
  fractions: number[];
  /** per image, the score at each fraction */
  deletion: number[][];
  insertion: number[][];
  deletionAuc: number[];
  insertionAuc: number[];
  meanDeletionAuc: number;
  meanInsertionAuc: number;
}

/** Area under a curve sampled at `xs` (trapezoid rule). */
export function auc(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  let s = 0;
  for (let i = 1; i < xs.length; i++) s += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return s;
}

/** Pixel order, most relevant first (ties in a seeded random order, not raster order). */
export function pixelOrder(map: ArrayLike<number>, seed = 0): Int32Array {
  const rand = uniformSource(seed);
  const n = map.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = rand();
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => map[b]! - map[a]! || keys[a]! - keys[b]!);
  return Int32Array.from(idx);
}

function canvasOf(model: Model, x: Tensor, kind: Canvas, sigma: number): Float32Array {
  const [n, c, h, w] = nchw(x);
  const per = c * h * w;
  const hw = h * w;
  const xd = x.data as Float32Array;
  if (kind === 'blur') return blurBatch(x, sigma).data as Float32Array;
  const out = new Float32Array(n * per);
  if (kind === 'black') {
    const one = blackImage(model, [c, h, w]).data as Float32Array;
    for (let i = 0; i < n; i++) out.set(one, i * per);
  } else if (kind === 'mean') {
    for (let p = 0; p < n * c; p++) {
      let s = 0;
      for (let i = 0; i < hw; i++) s += xd[p * hw + i]!;
      out.fill(s / hw, p * hw, (p + 1) * hw);
    }
  } else if (kind !== 'zero') {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown canvas "${kind as string}".`, 'Use black, zero, blur or mean.');
  }
  return out;
}

/**
 * Deletion and insertion curves of several maps at once. `maps` are [N, H, W] (one per image,
 * at input resolution), ranked by value, largest first.
 */
export async function deletionInsertion(model: Model, x: Tensor, targets: Int32Array, maps: readonly Tensor[], o: CurveOptions = {}): Promise<Curves[]> {
  checkScoredBatch(model, x, targets);
  const [n, c, h, w] = nchw(x);
  const steps = o.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 1) throw new ConvLensError('INVALID_ARGUMENT', `Curve steps must be a positive integer, got ${steps}.`, 'Use 1 or more steps (CLI: --curve-steps).');
  for (const m of maps) {
    if (m.dims.length !== 3 || m.dims[0] !== n || m.dims[1] !== h || m.dims[2] !== w) {
      throw new ConvLensError('SHAPE_MISMATCH', `A map has shape [${m.dims.join(', ')}]; deletion/insertion needs [${n}, ${h}, ${w}] (one map per image at input resolution).`, `Pass one map per image at input resolution, [${n}, ${h}, ${w}]; upsample coarse maps first (e.g. resizeBilinear).`);
    }
  }
  const seed = seedOf(o.seed, 'The deletion/insertion seed');
  const score = o.score ?? defaultCurveScore(model);
  const sigma = o.blurSigma ?? Math.max(h, w) / 10;
  const hw = h * w;
  const per = c * hw;
  const xd = x.data as Float32Array;
  const delFill = canvasOf(model, x, o.deletionFill ?? 'black', sigma);
  const insStart = canvasOf(model, x, o.insertionStart ?? 'blur', sigma);
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round((k / steps) * hw));
  const fractions = counts.map((k) => k / hw);
  const orders = maps.map((m) => Array.from({ length: n }, (_, i) => pixelOrder((m.data as Float32Array).subarray(i * hw, (i + 1) * hw), seed + i)));

  // Item k: map m, image i, curve (deletion/insertion), step s.
  const perMap = n * 2 * (steps + 1);
  const total = maps.length * perMap;
  const decode = (k: number): { m: number; i: number; ins: boolean; s: number } => {
    const m = Math.floor(k / perMap);
    let r = k % perMap;
    const i = Math.floor(r / (2 * (steps + 1)));
    r %= 2 * (steps + 1);
    return { m, i, ins: r > steps, s: r % (steps + 1) };
  };
  const batch = batchSizeOption(model, o.batchSize, 'forward');
  const work = new Work(o, 'deletion/insertion', Math.ceil(total / batch));
  const scores = await scoreInputs(
    model,
    [c, h, w],
    total,
    batch,
    (k, into) => {
      const { m, i, ins, s } = decode(k);
      const from = ins ? insStart : xd;
      const to = ins ? xd : delFill;
      into.set(from.subarray(i * per, (i + 1) * per));
      const order = orders[m]![i]!;
      for (let r = 0; r < counts[s]!; r++) {
        const p = order[r]!;
        for (let ch = 0; ch < c; ch++) into[ch * hw + p] = to[i * per + ch * hw + p]!;
      }
    },
    (k) => targets[decode(k).i]!,
    score,
    work,
  );

  return maps.map((_, m) => {
    const deletion: number[][] = [];
    const insertion: number[][] = [];
    for (let i = 0; i < n; i++) {
      const base = m * perMap + i * 2 * (steps + 1);
      deletion.push(Array.from(scores.subarray(base, base + steps + 1)));
      insertion.push(Array.from(scores.subarray(base + steps + 1, base + 2 * (steps + 1))));
    }
    const deletionAuc = deletion.map((ys) => auc(fractions, ys));
    const insertionAuc = insertion.map((ys) => auc(fractions, ys));
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    return { fractions, deletion, insertion, deletionAuc, insertionAuc, meanDeletionAuc: mean(deletionAuc), meanInsertionAuc: mean(insertionAuc) };
  });
}

/** A seeded random map per image: the reference ranking every method should beat. */
export function randomMaps(n: number, h: number, w: number, seed = 1): Tensor {
  const rand = uniformSource(seed);
  const data = new Float32Array(n * h * w);
  for (let i = 0; i < data.length; i++) data[i] = rand();
  return { dtype: 'float32', dims: [n, h, w], data };
}
