import { ConvLensError } from '../engine/errors.js';
import type { Preprocessing } from '../models/metadata.js';
import { seededRandom } from '../models/init.js';

/**
 * A labelled image dataset held in memory as 8-bit pixels (Fashion-MNIST: 60,000 x 28 x 28 is
 * 47 MB; as float32 it would be 188 MB), converted to float per batch.
 */
export interface ImageDataset {
  /** N x C x H x W pixels, 0..255, sample-major (NCHW; for one channel the same as NHWC) */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** where it came from (shown in messages and recorded in model metadata) */
  source: string;
}

export const sampleSize = (ds: ImageDataset): number => ds.channels * ds.height * ds.width;

/** The samples at `indices`, as a new dataset (copies). */
export function selectSamples(ds: ImageDataset, indices: ArrayLike<number>, source = ds.source): ImageDataset {
  const per = sampleSize(ds);
  const images = new Uint8Array(indices.length * per);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    images.set(ds.images.subarray(k * per, (k + 1) * per), i * per);
    labels[i] = ds.labels[k]!;
  }
  return { ...ds, images, labels, count: indices.length, source };
}

/**
 * 256-entry table mapping a pixel byte to the model's input value: range, then (v - mean) / std,
 * with optional inversion, exactly as rawToTensor (src/io/image.ts) maps image files, so the
 * dataset and image files reach the model the same way.
 */
export function pixelTable(prep: Preprocessing, channel = 0): Float32Array {
  const [lo, hi] = prep.range;
  const mean = prep.mean[channel] ?? prep.mean[0] ?? 0;
  const std = prep.std[channel] ?? prep.std[0] ?? 1;
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    const p = prep.invert ? 255 - v : v;
    t[v] = (lo + ((hi - lo) * p) / 255 - mean) / std;
  }
  return t;
}

/**
 * Writes the samples at `indices` as float32 model input into `out` (NCHW), and their one-hot
 * labels into `onehot` if given ([n, classes]). Reuses the caller's buffers: no allocation per batch.
 */
export function fillBatch(ds: ImageDataset, indices: ArrayLike<number>, tables: Float32Array[], out: Float32Array, onehot?: { data: Float32Array; classes: number }): void {
  const plane = ds.height * ds.width;
  const per = ds.channels * plane;
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    const src = k * per;
    const dst = i * per;
    for (let c = 0; c < ds.channels; c++) {
      const t = tables[c] ?? tables[0]!;
      const o = c * plane;
      for (let p = 0; p < plane; p++) out[dst + o + p] = t[ds.images[src + o + p]!]!;
    }
  }
  if (onehot) {
    const { data, classes } = onehot;
    data.fill(0, 0, indices.length * classes);
    for (let i = 0; i < indices.length; i++) data[i * classes + ds.labels[indices[i]!]!] = 1;
  }
}

/** Per-class sample indices, each list in dataset order. */
export function indicesByClass(labels: Uint8Array, classes: number): number[][] {
  const by: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y >= classes) throw new ConvLensError('INPUT_UNREADABLE', `Label ${y} at sample ${i} is outside 0..${classes - 1}.`, `Check that the labels file belongs to these images: every label must be a class index from 0 to ${classes - 1}.`);
    by[y]!.push(i);
  }
  return by;
}

/** Fisher-Yates shuffle with a seeded generator, in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(a: T, rand: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/**
 * A stratified, seeded split: from each class, round(fraction * class size) samples go to the
 * second part. Both parts are in dataset order, so the split depends only on (labels, fraction, seed).
 */
export function stratifiedSplit(labels: Uint8Array, classes: number, fraction: number, seed: number): { first: Int32Array; second: Int32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new ConvLensError('INVALID_ARGUMENT', `Split fraction ${fraction} must be in [0, 1).`, 'Pass a validation fraction from 0 up to, but not including, 1 (CLI: --val).');
  const rand = seededRandom(seed ^ 0x5eed5);
  const second = new Uint8Array(labels.length);
  for (const list of indicesByClass(labels, classes)) {
    const picked = shuffleInPlace(list.slice(), rand).slice(0, Math.round(fraction * list.length));
    for (const i of picked) second[i] = 1;
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < labels.length; i++) (second[i] ? b : a).push(i);
  return { first: Int32Array.from(a), second: Int32Array.from(b) };
}

/** `perClass` seeded random samples of every class, in dataset order (the committed subset). */
export function stratifiedSubset(labels: Uint8Array, classes: number, perClass: number, seed: number): Int32Array {
  const rand = seededRandom(seed);
  const keep: number[] = [];
  indicesByClass(labels, classes).forEach((list, c) => {
    if (list.length < perClass) throw new ConvLensError('INVALID_ARGUMENT', `Class ${c} has ${list.length} samples, fewer than the ${perClass} asked for.`, 'Ask for fewer images (CLI: --limit), or use a dataset with more images of each class.');
    keep.push(...shuffleInPlace(list.slice(), rand).slice(0, perClass));
  });
  return Int32Array.from(keep.sort((x, y) => x - y));
}

/** Mean and standard deviation of all pixels, on the [0, 1] scale (for normalization). */
export function pixelStats(ds: ImageDataset): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  const hist = new Float64Array(256);
  for (let i = 0; i < ds.images.length; i++) hist[ds.images[i]!]!++;
  for (let v = 0; v < 256; v++) {
    s += hist[v]! * (v / 255);
    s2 += hist[v]! * (v / 255) ** 2;
  }
  const n = ds.images.length;
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}
