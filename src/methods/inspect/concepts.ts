// Deep feature factorization (Collins, Achanta & Süsstrunk, ECCV 2018; pytorch-grad-cam's
// DeepFeatureFactorization): a layer's activations over the images, channels x pixels, factorized
// by NMF into k concepts, each a channel vector (what the layer holds where the concept is) and a
// map per image (where it is). The head then says what each concept means to the network: the
// layer filled with the concept everywhere is run through the rest of the network.
import type { Tensor } from '../../engine/tensor.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { ConvLensError } from '../../engine/errors.js';
import type { Model } from '../../models/model.js';
import { cachedTailModel, cutsEveryPath } from '../../models/tail-model.js';
import { defaultChannelLayer } from '../explain/layer-attribution.js';
import { spatialLayer } from '../explain/layers.js';
import { batchedForward, defaultBatchSize } from '../explain/session.js';
import { topK } from '../predict.js';
import { nmf } from './nmf.js';

export interface ConceptOptions extends JobOptions {
  /** a feature map [N, C, h, w] as `Model.resolveLayer` takes it (default: the layer `convlens channels` scores) */
  layer?: string;
  /** concepts to find (default 5, as pytorch-grad-cam's DFF tutorial) */
  components?: number;
  /** classes listed per concept (default 3) */
  topClasses?: number;
  /** NMF sweeps at most (default 200) */
  maxIterations?: number;
  /** seed of the NMF start (default 0) */
  seed?: number;
  batchSize?: number;
}

export interface ConceptClass {
  index: number;
  label: string;
  /** the head's probability for the concept (softmax, or the output's sigmoid for a multi-label head; none for a regression) */
  probability?: number;
  logit: number;
}

export interface Concept {
  /**
   * The concept at full strength: the layer's channel values [C] at a pixel where the concept is
   * as strong as anywhere in the images (its map there is 1).
   */
  vector: Float32Array;
  /** share of all pixels of all images where this concept is the strongest */
  coverage: number;
  /** what the network's head makes of the layer filled with `vector` everywhere; absent when the network cannot be cut at the layer */
  classes?: ConceptClass[];
}

export interface FeatureFactorization {
  layer: string;
  /** the layer's short label (fires.7) */
  label: string;
  /** [C, h, w] of one image at the layer */
  shape: [number, number, number];
  /** strongest first (by its share of the activations) */
  concepts: Concept[];
  /** [N, k, h, w]: each concept's strength per pixel, 1 at its strongest over all images */
  maps: Tensor;
  /** ||A - W H|| / ||A|| over the (shifted) activations: how much of the layer the concepts leave out */
  relativeError: number;
  iterations: number;
  notes: string[];
}

/** The most pixels x channels factorized at once (as doubles: 64 M values, 512 MB). */
export const MAX_FACTORIZED_VALUES = 64 * 1024 * 1024;

/** The most values x concepts one sweep of the factorization multiplies (2^28). */
export const MAX_FACTORIZATION_WORK = 2 ** 28;

/**
 * The layer a factorization of `images` images reads, with its refusals made before any work (an
 * unknown layer, no feature map, more concepts than the layer holds, more values than
 * MAX_FACTORIZED_VALUES), so that a caller can refuse a request before it starts a job.
 */
export function factorizedLayer(model: Model, images: number, o: Pick<ConceptOptions, 'layer' | 'components'> = {}): { name: string; channels: number; height: number; width: number } {
  const { name, channels: c, height: h, width: w } = spatialLayer(model, o.layer ?? defaultChannelLayer(model));
  const n = images;
  const k = o.components ?? 5;
  const per = h * w;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(c, n * per)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot find ${k} concepts in layer "${model.layerLabel(name)}" ([${c}, ${h}, ${w}] over ${n} image${n === 1 ? '' : 's'}).`, `Ask for 1 to ${Math.min(c, n * per)} concepts (CLI: --components).`);
  }
  if (c * n * per > MAX_FACTORIZED_VALUES) {
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${model.layerLabel(name)}" over ${n} images is ${c * n * per} values; at most ${MAX_FACTORIZED_VALUES} are factorized at once.`, 'Factorize fewer images at once, or a later (smaller) layer.');
  }
  // each sweep multiplies the activations by both factors: bounded so that the default 200
  // sweeps end in about a minute on two cores (64 concepts of SqueezeNet's first layer over 16
  // images asked for 35 minutes)
  if (c * n * per * k > MAX_FACTORIZATION_WORK) {
    const most = Math.floor(MAX_FACTORIZATION_WORK / (c * n * per));
    throw new ConvLensError(
      'INVALID_ARGUMENT',
      `${k} concepts of layer "${model.layerLabel(name)}" over ${n} image${n === 1 ? '' : 's'} is ${Math.round((c * n * per * k) / 1e6)} M multiply-adds a sweep; at most ${Math.round(MAX_FACTORIZATION_WORK / 1e6)} M are done.`,
      `${most >= 1 ? `Ask for at most ${most} concepts (CLI: --components), factorize` : 'Factorize'} fewer images at once, or pick a later (smaller) layer.`,
    );
  }
  return { name, channels: c, height: h, width: w };
}

/**
 * Bytes a factorization of `values` activations (channels x columns) into `components` holds at
 * once beyond the network's run: the activations as float32, as doubles and as the float32 copy
 * ONNX Runtime multiplies, H and its product with W as doubles, the maps as float32, and W and
 * its product with H.
 */
export function factorizationBytes(channels: number, columns: number, components: number): number {
  return channels * columns * (4 + 8 + 4) + components * (columns * (8 + 8 + 4) + channels * 8 * 2);
}

export async function factorizeFeatures(model: Model, x: Tensor, o: ConceptOptions = {}): Promise<FeatureFactorization> {
  const n = x.dims[0]!;
  const { name, channels: c, height: h, width: w } = factorizedLayer(model, n, o);
  const k = o.components ?? 5;
  const per = h * w;
  const notes: string[] = [];
  throwIfCancelled(o.signal, 'the factorization');
  const acts = (await batchedForward(model, x, [name], o.batchSize ?? defaultBatchSize(model, 'forward')))[name]!.data as Float32Array;
  throwIfCancelled(o.signal, 'the factorization');

  // channels x (image, pixel), as pytorch-grad-cam's dff(): one factorization for all images, so
  // a concept means the same in each of them
  const columns = n * per;
  const v = new Float64Array(c * columns);
  const offset = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const src = (i * c + ch) * per;
      for (let p = 0; p < per; p++) {
        const a = acts[src + p]!;
        if (!Number.isFinite(a)) throw new ConvLensError('MODEL_UNSUPPORTED', `Layer "${model.layerLabel(name)}" has a non-finite value (channel ${ch} of image ${i + 1}).`, 'Check the image and the model: the layer must be finite to be factorized.');
        v[ch * columns + i * per + p] = a;
        min = Math.min(min, a);
      }
    }
    // NMF needs values >= 0: a channel that goes negative (no ReLU before the layer) is shifted
    // up; a positive floor is left, since it is part of what the channel holds for every concept
    if (min < 0) {
      offset[ch] = min;
      for (let j = ch * columns; j < (ch + 1) * columns; j++) v[j]! -= min;
    }
  }
  if (offset.some((m) => m < 0)) notes.push(`Layer ${model.layerLabel(name)} has negative values; each such channel was shifted up by its minimum before the factorization and back in the concept vectors.`);
  const f = await nmf(v, c, columns, k, {
    engine: model.engine,
    ...(o.maxIterations !== undefined ? { maxIterations: o.maxIterations } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });

  // Scale each concept so its map peaks at 1 (NMF leaves the split of scale between W and H
  // free, and the head's answer depends on it), then order by share of the activations.
  const peaks = Array.from({ length: k }, (_, j) => f.h.subarray(j * columns, (j + 1) * columns).reduce((a, b) => Math.max(a, b), 0));
  const mass = Array.from({ length: k }, (_, j) => {
    let wSum = 0;
    let hSum = 0;
    for (let ch = 0; ch < c; ch++) wSum += f.w[ch * k + j]!;
    for (let p = 0; p < columns; p++) hSum += f.h[j * columns + p]!;
    return wSum * hSum;
  });
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => mass[b]! - mass[a]!);
  const alive = order.filter((j) => peaks[j]! > 0);
  if (alive.length < k) notes.push(`${k - alive.length} of the ${k} concepts came out empty (the layer holds fewer distinct patterns here); ask for fewer concepts.`);
  const maps = new Float32Array(n * alive.length * per);
  const strongest = new Int32Array(columns).fill(-1);
  const best = new Float64Array(columns);
  alive.forEach((j, rank) => {
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < per; p++) {
        const value = f.h[j * columns + i * per + p]! / peaks[j]!;
        maps[(i * alive.length + rank) * per + p] = value;
        if (value > best[i * per + p]!) [best[i * per + p], strongest[i * per + p]] = [value, rank];
      }
    }
  });
  const vectors = alive.map((j) => Float32Array.from({ length: c }, (_, ch) => f.w[ch * k + j]! * peaks[j]! + offset[ch]!));
  const coverage = alive.map((_, rank) => strongest.reduce((a, s) => a + (s === rank ? 1 : 0), 0) / columns);

  let classes: ConceptClass[][] | undefined;
  if (cutsEveryPath(model, name)) {
    throwIfCancelled(o.signal, 'the factorization');
    const tail = cachedTailModel(model, name);
    const filled = new Float32Array(vectors.length * c * per);
    vectors.forEach((vec, r) => {
      for (let ch = 0; ch < c; ch++) filled.fill(vec[ch]!, (r * c + ch) * per, (r * c + ch + 1) * per);
    });
    const fixedBatch = typeof tail.input.shape?.[0] === 'number' ? (tail.input.shape[0] as number) : undefined;
    const out = await batchedForward(tail, { dtype: 'float32', dims: [vectors.length, c, h, w], data: filled }, [], fixedBatch ?? Math.min(vectors.length, 16));
    classes = topK(model, out[tail.output]!, o.topClasses ?? 3).map((p) => p.top.map((t) => ({ index: t.index, label: t.label, probability: t.probability, logit: t.logit })));
  } else {
    notes.push(`Another branch bypasses layer ${model.layerLabel(name)} (a shortcut or a parallel path), so the head cannot be run on a concept alone and the concepts are not named; pick a block's output to name them.`);
  }
  return {
    layer: name,
    label: model.layerLabel(name),
    shape: [c, h, w],
    concepts: vectors.map((vector, r) => ({ vector, coverage: coverage[r]!, ...(classes ? { classes: classes[r]! } : {}) })),
    maps: { dtype: 'float32', dims: [n, alive.length, h, w], data: maps },
    relativeError: f.relativeError,
    iterations: f.iterations,
    notes,
  };
}
