// One chunk of a dataset scan: a contiguous range of images run through the model in batches.
// For every chosen layer it keeps, per channel, the chunk's top-k images by the channel's
// largest unit (with that unit's position), the per-channel statistics, and a pooled feature
// vector per image; plus each image's pixel vector. Single-process and distributed scans run
// exactly this code on exactly these ranges, so their results are the same numbers.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { DatasetSource } from '../../data/sources.js';
import type { Model } from '../../models/model.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';

export type Pool = 'avg' | 'max';

/** A scanned layer: spatial [C, H, W] (top-k per channel over positions) or flat [D] (each unit a channel). */
export interface LayerInfo {
  name: string;
  op: string;
  channels: number;
  height: number;
  width: number;
  /** length of the pooled feature vector (= channels) */
  dim: number;
}

export interface ScanSettings {
  layers: LayerInfo[];
  /** top-k kept per channel */
  k: number;
  pool: Pool;
  /** images per engine run */
  batchSize: number;
  /** pixel vectors: the model input averaged down to [C, h, w] (h, w <= the input's) */
  pixelShape: [number, number, number];
}

/** Per-layer results of one chunk. */
export interface LayerChunk {
  /** [n, dim] pooled features, image-major */
  features: Float32Array;
  /** per channel, kk = min(k, n) entries, best first: values, dataset image ids, unit row/col */
  topValue: Float32Array;
  topImage: Int32Array;
  topY: Int32Array;
  topX: Int32Array;
  kk: number;
  /** per channel: sum over images of the spatial mean, sum of the per-image max, overall max */
  sumMean: Float64Array;
  sumMax: Float64Array;
  max: Float32Array;
}

export interface ChunkResult {
  chunk: number;
  start: number;
  end: number;
  layers: LayerChunk[];
  /** [n, prod(pixelShape)] */
  pixels: Float32Array;
  ms: number;
  worker: string;
}

/** Checks and describes the layers to scan. */
export function describeLayers(model: Model, names: readonly string[]): LayerInfo[] {
  if (names.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'No layers to scan.', 'Name the layers to scan (CLI: --layers), or leave them out for the model profile\'s feature layers; `convlens summary` lists the layers.');
  const byName = new Map(model.pickableValues().map((p) => [p.name, p]));
  return [...new Set(names.map((n) => model.resolveLayer(n)))].map((name) => {
    const shape = model.facts(name).shape ?? [];
    const rest = shape.slice(1);
    if (rest.some((d) => typeof d !== 'number') || (rest.length !== 3 && rest.length !== 1)) {
      throw new ConvLensError('INVALID_ARGUMENT', `Layer "${name}" has shape [${shape.join(', ')}]; the dataset lens scans feature maps [N, C, H, W] or vectors [N, D].`, 'Pick a conv/activation/pooling layer or a dense layer (see `convlens summary`).');
    }
    const [c, h = 1, w = 1] = rest as number[];
    return { name, op: byName.get(name)?.op ?? '', channels: c!, height: h, width: w, dim: c! };
  });
}

/** Default pixel-vector shape: the input itself up to 32x32 per channel, else averaged down to fit. */
export function defaultPixelShape(model: Model): [number, number, number] {
  const [, c, h, w] = model.input.shape as number[];
  const f = Math.max(1, Math.ceil(Math.max(h!, w!) / 32));
  return [c!, Math.ceil(h! / f), Math.ceil(w! / f)];
}

/** Average-pools [C, H, W] down to [C, h, w] (area averaging over the covering cells). */
function poolPixels(x: Float32Array, off: number, c: number, H: number, W: number, h: number, w: number, out: Float32Array, o: number): void {
  if (h === H && w === W) {
    out.set(x.subarray(off, off + c * H * W), o);
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h; i++) {
      const y0 = Math.floor((i * H) / h);
      const y1 = Math.max(y0 + 1, Math.floor(((i + 1) * H) / h));
      for (let j = 0; j < w; j++) {
        const x0 = Math.floor((j * W) / w);
        const x1 = Math.max(x0 + 1, Math.floor(((j + 1) * W) / w));
        let s = 0;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x[off + ch * H * W + y * W + xx]!;
        out[o + ch * h * w + i * w + j] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
}

/** Runs images [start, end) of a source through the model and reduces them (see the file comment). */
/**
 * A layer value no store can hold: distances to a NaN are NaN, so the image would sit nowhere in
 * every search (a distributed scan's coordinator refuses such a result; a single-process scan
 * stored it).
 */
function nonFiniteLayer(model: Model, source: DatasetSource, layer: string, channel: number, image: number, sum: number): ConvLensError {
  const name = source.item(image).name;
  return new ConvLensError(
    'RUNTIME_FAILURE',
    `Layer "${model.layerLabel(layer)}" of model "${model.name}" is ${Number.isNaN(sum) ? 'NaN' : 'infinite'} on image #${image}${name !== `#${image}` ? ` (${name})` : ''}, channel ${channel}: a store cannot compare such values, so nothing of that image was stored.`,
    'Look at the model on that image (CLI: convlens activations): a layer that divides by a value that can be 0, or overflows, needs fixing in the model; or leave the image out of the dataset. The chunks scanned before it are kept: the same command continues from them.',
  );
}

export async function scanChunk(model: Model, source: DatasetSource, settings: ScanSettings, chunk: number, start: number, end: number, job: JobOptions & { worker?: string; onBatch?: (images: number) => void } = {}): Promise<ChunkResult> {
  const t0 = performance.now();
  const n = end - start;
  const [, C, H, W] = model.input.shape as number[];
  const per = C! * H! * W!;
  const prep = model.meta.preprocessing;
  const [pc, ph, pw] = settings.pixelShape;
  const pixPer = pc * ph * pw;
  const pixels = new Float32Array(n * pixPer);
  const names = settings.layers.map((l) => l.name);
  // Per layer: per channel and image, the max unit (value, flat position) and the spatial mean.
  const maxV = settings.layers.map((l) => new Float32Array(l.channels * n));
  const maxP = settings.layers.map((l) => new Int32Array(l.channels * n));
  const features = settings.layers.map((l) => new Float32Array(n * l.dim));
  const sumMean = settings.layers.map((l) => new Float64Array(l.channels));
  const bs = Math.max(1, settings.batchSize);
  const buf = new Float32Array(Math.min(bs, n) * per);
  for (let s = 0; s < n; s += bs) {
    throwIfCancelled(job.signal, 'the scan');
    const e = Math.min(n, s + bs);
    const m = e - s;
    const data = m * per === buf.length ? buf : buf.subarray(0, m * per);
    await source.fill(start + s, start + e, prep, data);
    for (let i = 0; i < m; i++) poolPixels(data, i * per, C!, H!, W!, ph, pw, pixels, (s + i) * pixPer);
    const x: Tensor = { dtype: 'float32', dims: [m, C!, H!, W!], data };
    const out = await model.run(x, names);
    settings.layers.forEach((l, li) => {
      const v = out[l.name]!.data as Float32Array;
      const plane = l.height * l.width;
      const mv = maxV[li]!;
      const mp = maxP[li]!;
      const f = features[li]!;
      const sm = sumMean[li]!;
      for (let i = 0; i < m; i++) {
        for (let c = 0; c < l.channels; c++) {
          const base = (i * l.channels + c) * plane;
          let best = v[base]!;
          let at = 0;
          let sum = 0;
          for (let p = 0; p < plane; p++) {
            const a = v[base + p]!;
            sum += a;
            if (a > best) {
              best = a;
              at = p;
            }
          }
          // a NaN or infinite value (a division by zero, an overflow) anywhere makes the sum so
          if (!Number.isFinite(sum)) throw nonFiniteLayer(model, source, l.name, c, start + s + i, sum);
          const mean = sum / plane;
          mv[c * n + s + i] = best;
          mp[c * n + s + i] = at;
          sm[c] += mean;
          f[(s + i) * l.dim + c] = settings.pool === 'max' ? best : mean;
        }
      }
    });
    job.onBatch?.(m);
  }
  const kk = Math.min(settings.k, n);
  const layers: LayerChunk[] = settings.layers.map((l, li) => {
    const mv = maxV[li]!;
    const mp = maxP[li]!;
    const topValue = new Float32Array(l.channels * kk);
    const topImage = new Int32Array(l.channels * kk);
    const topY = new Int32Array(l.channels * kk);
    const topX = new Int32Array(l.channels * kk);
    const sumMax = new Float64Array(l.channels);
    const max = new Float32Array(l.channels);
    const order = new Int32Array(n);
    for (let c = 0; c < l.channels; c++) {
      const vals = mv.subarray(c * n, (c + 1) * n);
      let s = 0;
      let best = -Infinity;
      for (let i = 0; i < n; i++) {
        s += vals[i]!;
        if (vals[i]! > best) best = vals[i]!;
      }
      sumMax[c] = s;
      max[c] = best;
      for (let i = 0; i < n; i++) order[i] = i;
      // best first; ties go to the earlier image (the same rule the merge uses)
      const top = selectTop(order, vals, kk);
      for (let r = 0; r < kk; r++) {
        const i = top[r]!;
        const pos = mp[c * n + i]!;
        topValue[c * kk + r] = vals[i]!;
        topImage[c * kk + r] = start + i;
        topY[c * kk + r] = Math.floor(pos / l.width);
        topX[c * kk + r] = pos % l.width;
      }
    }
    return { features: features[li]!, topValue, topImage, topY, topX, kk, sumMean: sumMean[li]!, sumMax, max };
  });
  return { chunk, start, end, layers, pixels, ms: performance.now() - t0, worker: job.worker ?? `pid ${process.pid}` };
}

/** The k indices with the largest values (ties: smaller index first), best first. */
export function selectTop(order: Int32Array, vals: ArrayLike<number>, k: number): Int32Array {
  const cmp = (a: number, b: number): number => vals[b]! - vals[a]! || a - b;
  if (k * 8 >= order.length) return Int32Array.from(Array.from(order).sort(cmp).slice(0, k));
  // a small running list: one pass, insertion into the kept top-k
  const keep: number[] = [];
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    if (keep.length === k && cmp(i, keep[k - 1]!) >= 0) continue;
    let p = keep.length === k ? k - 1 : keep.length;
    if (keep.length < k) keep.push(i);
    while (p > 0 && cmp(i, keep[p - 1]!) < 0) {
      keep[p] = keep[p - 1]!;
      p--;
    }
    keep[p] = i;
  }
  return Int32Array.from(keep);
}

// ---- wire form (what a distributed worker leaves in Redis for the coordinator) ----

/** Encodes a chunk result as JSON with base64 arrays. */
export function encodeChunk(r: ChunkResult): string {
  const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  return JSON.stringify({
    chunk: r.chunk,
    start: r.start,
    end: r.end,
    ms: r.ms,
    worker: r.worker,
    pixels: b64(r.pixels),
    layers: r.layers.map((l) => ({
      kk: l.kk,
      features: b64(l.features),
      topValue: b64(l.topValue),
      topImage: b64(l.topImage),
      topY: b64(l.topY),
      topX: b64(l.topX),
      sumMean: b64(l.sumMean),
      sumMax: b64(l.sumMax),
      max: b64(l.max),
    })),
  });
}

// (read back, with every field checked, by wire.ts decodeChunkResult)
