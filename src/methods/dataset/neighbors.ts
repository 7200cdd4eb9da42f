// Nearest neighbours of a query image in a layer's feature space and, beside them, in pixel
// space (the course's comparison: pixels find images that look alike, features images that
// mean alike). Queries go through the store's vector index.
import type { Tensor } from '../../engine/tensor.js';
import type { DatasetSource } from '../../data/sources.js';
import type { Model } from '../../models/model.js';
import { scanChunk } from './chunk.js';
import type { DatasetStore, Metric, Neighbour } from './store.js';
import { settingsOf } from './scan.js';

export interface NeighbourQuery {
  /** a stored image (it is left out of its own neighbours) */
  image?: number;
  /** or a model input [1, C, H, W] */
  x?: Tensor;
}

export interface NeighbourOptions {
  layer: string;
  k?: number;
  metric?: Metric;
  /** metric for pixel space (default l2) */
  pixelMetric?: Metric;
  /** flat scan instead of the index */
  exact?: boolean;
}

export interface NeighbourResult {
  layer: string;
  metric: Metric;
  pixelMetric: Metric;
  feature: Neighbour[];
  pixel: Neighbour[];
  /** query latency (both searches), ms */
  ms: number;
  /** whether the searches went through the vector index (false for `exact`, a flat scan, whatever the store has) */
  indexed: boolean;
}

/** Feature and pixel vectors of model inputs, pooled exactly as the scan pools them. */
export async function queryVectors(model: Model, store: DatasetStore, x: Tensor): Promise<{ features: Float32Array[]; pixels: Float32Array }> {
  const n = x.dims[0]!;
  const src: DatasetSource = {
    kind: 'list',
    spec: '(query)',
    folders: [],
    description: 'query',
    count: n,
    classes: [],
    fingerprint: '',
    item: () => ({ label: -1, name: 'query' }),
    async fill(start, end, _prep, out) {
      const per = out.length / (end - start);
      out.set((x.data as Float32Array).subarray(start * per, end * per));
    },
    async display() {
      throw new Error('no display for queries');
    },
  };
  const r = await scanChunk(model, src, settingsOf(store.manifest, n), 0, 0, n);
  return { features: r.layers.map((l) => l.features), pixels: r.pixels };
}

export async function nearestNeighbours(model: Model, store: DatasetStore, q: NeighbourQuery, o: NeighbourOptions): Promise<NeighbourResult> {
  const k = o.k ?? 8;
  const metric = o.metric ?? 'l2';
  const pixelMetric = o.pixelMetric ?? 'l2';
  const li = store.layerIndex(o.layer);
  let feature: Float32Array;
  let pixels: Float32Array;
  if (q.image !== undefined) {
    feature = (await store.vectors({ layer: o.layer }, [q.image])).data;
    pixels = (await store.vectors('pixels', [q.image])).data;
  } else {
    const v = await queryVectors(model, store, q.x!);
    feature = v.features[li]!;
    pixels = v.pixels;
  }
  const t0 = performance.now();
  const opts = { ...(o.exact ? { exact: true } : {}), ...(q.image !== undefined ? { exclude: q.image } : {}) };
  const [f, p] = await Promise.all([store.nearest({ layer: o.layer }, feature, k, metric, opts), store.nearest('pixels', pixels, k, pixelMetric, opts)]);
  const ms = performance.now() - t0;
  return { layer: o.layer, metric, pixelMetric, feature: f, pixel: p, ms, indexed: !o.exact && (await store.indexed({ layer: o.layer }, metric)) };
}
