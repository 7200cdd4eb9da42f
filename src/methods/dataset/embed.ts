// 2-D embeddings of a layer's feature vectors: PCA (DruidJS), t-SNE (Barnes-Hut, tsne.ts) and
// UMAP (umap-js, PAIR's port of McInnes et al.), on a seeded, stratified sample of the store;
// and the snapping of an embedding to a grid of cells (a linear assignment, as in the
// well-known t-SNE image grids).
import * as druid from '@saehrimnir/druidjs';
import { UMAP } from 'umap-js';
import { ConvLensError } from '../../engine/errors.js';
import { seededRandom } from '../../models/init.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import type { DatasetStore, Metric, Space } from './store.js';
import { tsne } from './tsne.js';

export type EmbedMethod = 'pca' | 'tsne' | 'umap';
export const EMBED_METHODS: EmbedMethod[] = ['pca', 'tsne', 'umap'];

export interface EmbedOptions extends JobOptions {
  /** points to embed (default: all for PCA, 2000 for t-SNE and UMAP), stratified by class */
  sample?: number;
  seed?: number;
  /** l2: raw vectors; cosine: unit vectors (the same geometry as cosine distance) */
  metric?: Metric;
  /** t-SNE */
  perplexity?: number;
  iterations?: number;
  /** UMAP */
  neighbours?: number;
  minDist?: number;
  epochs?: number;
}

export interface Embedding {
  method: EmbedMethod;
  space: string;
  ids: Int32Array;
  labels: Int32Array;
  /** [n, 2] */
  coords: Float64Array;
  params: Record<string, number | string>;
  ms: number;
  /** PCA: fraction of variance on each axis */
  explained?: [number, number];
  /** settings changed to fit the points (a default perplexity lowered for a small sample) */
  notes?: string[];
}

/** An embedding method by name (case, hyphens and underscores ignored: "t-SNE" is tsne). */
export function parseEmbedMethod(name: string): EmbedMethod {
  const n = name.trim().toLowerCase().replace(/[-_ ]/g, '');
  if ((EMBED_METHODS as string[]).includes(n)) return n as EmbedMethod;
  throw new ConvLensError('INVALID_ARGUMENT', `Unknown embedding method "${name}".`, `Use ${EMBED_METHODS.join(', ')} (comma-separated for several).`);
}

/** A seeded sample of `n` of the ids, stratified by label (proportional), sorted. */
export function stratifiedSample(ids: Int32Array, labels: Int32Array, n: number, seed: number): number[] {
  if (n >= ids.length) return Array.from(ids);
  const rand = seededRandom(seed);
  const by = new Map<number, number[]>();
  ids.forEach((id, i) => {
    const l = labels[i]!;
    let g = by.get(l);
    if (!g) by.set(l, (g = []));
    g.push(id);
  });
  const out: number[] = [];
  const groups = [...by.entries()].sort((a, b) => a[0] - b[0]);
  let left = n;
  groups.forEach(([, g], gi) => {
    const take = gi === groups.length - 1 ? left : Math.min(left, Math.round((n * g.length) / ids.length));
    for (let i = g.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    out.push(...g.slice(0, take));
    left -= take;
  });
  return out.sort((a, b) => a - b);
}

const rowsOf = (data: Float32Array | Float64Array, n: number, d: number): number[][] => Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));

/** Principal components of rows [n, d]: projections on the first `k`, and the variance fractions. */
export function pca(data: Float32Array | Float64Array, n: number, d: number, k: number, seed = 0): { coords: Float64Array; explained: number[] } {
  const kk = Math.min(k, d, n);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]! / n;
  // DruidJS projects the rows as given: centred first, the scores have mean 0, as scikit-learn's
  // and numpy's PCA scores do (uncentred, every point was shifted by the mean's projection)
  const centred = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = data[i * d + j]! - mean[j]!;
  const p = new druid.PCA(rowsOf(centred, n, d), { d: kk, seed: seed + 1 });
  const Y = p.transform() as unknown as number[][];
  const coords = new Float64Array(n * kk);
  for (let i = 0; i < n; i++) for (let j = 0; j < kk; j++) coords[i * kk + j] = Y[i]![j]!;
  // variance fractions: each component's variance over the total
  let total = 0;
  for (let i = 0; i < n * d; i++) total += centred[i]! ** 2;
  const explained = Array.from({ length: kk }, (_, j) => {
    let s = 0;
    let m = 0;
    for (let i = 0; i < n; i++) m += coords[i * kk + j]! / n;
    for (let i = 0; i < n; i++) s += (coords[i * kk + j]! - m) ** 2;
    return total > 0 ? s / total : 0;
  });
  return { coords, explained };
}

export const DEFAULT_PERPLEXITY = 30;
export const DEFAULT_NEIGHBOURS = 15;

/** Points a method embeds from a store of `available` vectors: the sample asked for, or its default. */
export function sampleSize(method: EmbedMethod, available: number, o: Pick<EmbedOptions, 'sample'> = {}): number {
  return Math.min(available, o.sample ?? (method === 'pca' ? available : 2000));
}

/**
 * The settings a method runs with on `n` points, checked before any work: a default the points
 * cannot carry is lowered to the largest they allow (with a note), as openTSNE does; a value the
 * caller gave is refused, naming the largest allowed. `available`: the vectors in the store,
 * so a hint offers a larger --sample only when there are more points to take.
 */
export function embedSettings(method: EmbedMethod, n: number, o: Pick<EmbedOptions, 'perplexity' | 'neighbours'> = {}, available = n): { perplexity?: number; neighbours?: number; notes: string[] } {
  const notes: string[] = [];
  const more = (need: number): string => (available >= need ? `, or raise --sample to ${need} or more` : '');
  if (n < 3) throw new ConvLensError('INVALID_ARGUMENT', `An embedding needs at least 3 points, got ${n}.`, available >= 3 ? 'Embed at least 3 images: ask for a larger sample (CLI: --sample 3 or more).' : 'Embed at least 3 images: index more images into the store.');
  if (method === 'tsne') {
    // bhtsne's bound: each point's 3 x perplexity nearest neighbours must exist
    const most = Math.floor((n - 1) / 3);
    if (most < 1) throw new ConvLensError('INVALID_ARGUMENT', `t-SNE needs at least 4 points (3 neighbours per point); the sample has ${n}.`, available >= 4 ? 'Raise the sample to 4 or more (CLI: --sample), or use PCA (CLI: --method pca).' : 'Index at least 4 images, or use PCA (CLI: --method pca).');
    if (o.perplexity === undefined) {
      if (most >= DEFAULT_PERPLEXITY) return { perplexity: DEFAULT_PERPLEXITY, notes };
      notes.push(`t-SNE perplexity lowered from ${DEFAULT_PERPLEXITY} to ${most}, the largest ${n} points allow (3 x perplexity neighbours per point)`);
      return { perplexity: most, notes };
    }
    if (n - 1 < 3 * o.perplexity) {
      const need = Math.ceil(3 * o.perplexity) + 1;
      throw new ConvLensError('INVALID_ARGUMENT', `t-SNE with perplexity ${o.perplexity} needs at least ${need} points (3 x perplexity neighbours per point); the sample has ${n}.`, `Lower the perplexity (CLI: --perplexity) to at most ${most} (the largest ${n} points allow; leaving it out uses that)${more(need)}.`);
    }
    return { perplexity: o.perplexity, notes };
  }
  if (method === 'umap') {
    const most = n - 1;
    if (o.neighbours === undefined) {
      if (most >= DEFAULT_NEIGHBOURS) return { neighbours: DEFAULT_NEIGHBOURS, notes };
      notes.push(`UMAP neighbours lowered from ${DEFAULT_NEIGHBOURS} to ${most}, the most ${n} points have`);
      return { neighbours: most, notes };
    }
    if (o.neighbours > most) throw new ConvLensError('INVALID_ARGUMENT', `UMAP with ${o.neighbours} neighbours needs at least ${o.neighbours + 1} points; the sample has ${n}.`, `Lower the neighbours (CLI: --neighbours) to at most ${most} (leaving it out uses that)${more(o.neighbours + 1)}.`);
    return { neighbours: o.neighbours, notes };
  }
  return { notes };
}

/** Embeds vectors [n, d] in 2-D. `available`: see embedSettings. */
export async function embedVectors(method: EmbedMethod, data: Float32Array, n: number, d: number, o: EmbedOptions = {}, available = n): Promise<{ coords: Float64Array; params: Record<string, number | string>; explained?: [number, number]; notes: string[] }> {
  const seed = o.seed ?? 0;
  const settings = embedSettings(method, n, o, available);
  const notes = settings.notes;
  if (method === 'pca') {
    const r = pca(data, n, d, 2, seed);
    return { coords: r.coords, params: { components: 2 }, explained: [r.explained[0] ?? 0, r.explained[1] ?? 0], notes };
  }
  // t-SNE and UMAP start from the first 50 principal components (the usual preprocessing);
  // there are no more components than points
  const dims = Math.min(50, d, n);
  const reduced = d > dims ? pca(data, n, d, dims, seed).coords : Float64Array.from(data);
  if (method === 'tsne') {
    const perplexity = settings.perplexity!;
    const iterations = o.iterations ?? 750;
    // PCA initialization scaled to std 1e-4 (openTSNE's default): keeps the global layout stable
    const init = pca(reduced, n, dims, 2, seed).coords;
    let s = 0;
    for (let i = 0; i < n; i++) s += init[2 * i]! ** 2;
    const scale = 1e-4 / Math.max(1e-12, Math.sqrt(s / n));
    for (let i = 0; i < init.length; i++) init[i]! *= scale;
    const coords = await tsne(reduced, n, dims, { perplexity, iterations, init, seed, ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
    return { coords, params: { perplexity, iterations, theta: 0.5, exaggeration: 12, init: 'pca', pcaDims: dims }, notes };
  }
  const neighbours = settings.neighbours!;
  const minDist = o.minDist ?? 0.1;
  const rand = seededRandom(seed + 7);
  const umap = new UMAP({ nComponents: 2, nNeighbors: neighbours, minDist, random: rand, ...(o.epochs ? { nEpochs: o.epochs } : {}) });
  o.onProgress?.({ done: 0, total: 1, phase: 'UMAP: nearest neighbours' });
  const epochs = umap.initializeFit(rowsOf(reduced, n, dims));
  for (let e = 0; e < epochs; e++) {
    if (e % 10 === 0) {
      throwIfCancelled(o.signal, 'UMAP');
      o.onProgress?.({ done: e, total: epochs, phase: 'UMAP' });
      await new Promise((r) => setImmediate(r));
    }
    umap.step();
  }
  const emb = umap.getEmbedding();
  const coords = new Float64Array(n * 2);
  emb.forEach((p, i) => {
    coords[2 * i] = p[0]!;
    coords[2 * i + 1] = p[1]!;
  });
  return { coords, params: { neighbours, minDist, epochs, pcaDims: dims }, notes };
}

/** Embeds a sample of a store's vectors (a layer, or 'pixels'). */
export async function embedStore(store: DatasetStore, space: Space, method: EmbedMethod, o: EmbedOptions = {}): Promise<Embedding> {
  const t0 = performance.now();
  const all = await store.vectors(space, undefined, o.metric ?? 'l2');
  if (all.ids.length === 0) throw new ConvLensError('INVALID_ARGUMENT', `The store "${store.dir}" holds no vectors yet.`, 'Index a dataset first (CLI: convlens index).');
  const ids = stratifiedSample(all.ids, all.labels, sampleSize(method, all.ids.length, o), o.seed ?? 0);
  const rowOf = new Map<number, number>();
  all.ids.forEach((id, i) => rowOf.set(id, i));
  const d = all.dim;
  const data = new Float32Array(ids.length * d);
  const labels = new Int32Array(ids.length);
  ids.forEach((id, i) => {
    const r = rowOf.get(id)!;
    data.set(all.data.subarray(r * d, (r + 1) * d), i * d);
    labels[i] = all.labels[r]!;
  });
  throwIfCancelled(o.signal, 'the embedding');
  const r = await embedVectors(method, data, ids.length, d, o, all.ids.length);
  return {
    method,
    space: space === 'pixels' ? 'pixels' : space.layer,
    ids: Int32Array.from(ids),
    labels,
    coords: r.coords,
    params: { ...r.params, sample: ids.length, of: all.ids.length, seed: o.seed ?? 0, metric: o.metric ?? 'l2' },
    ms: performance.now() - t0,
    ...(r.explained ? { explained: r.explained } : {}),
    ...(r.notes.length ? { notes: r.notes } : {}),
  };
}

/**
 * Minimum-cost assignment of rows to columns (rows <= columns) for a dense cost matrix
 * [rows, cols]: the Hungarian method with potentials (shortest augmenting paths), O(rows^2 cols).
 */
export function assignment(cost: Float64Array, rows: number, cols: number): Int32Array {
  if (rows > cols) throw new Error('assignment: more rows than columns');
  const INF = Infinity;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1); // p[j] = row (1-based) assigned to column j
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      const base = (i0 - 1) * cols;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[base + j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const rowToCol = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j]! > 0) rowToCol[p[j]! - 1] = j - 1;
  return rowToCol;
}

export interface GridSnap {
  side: number;
  /** per grid cell (row-major, side x side): index into the embedded points, or -1 */
  cells: Int32Array;
}

/**
 * Snaps embedded points to a side x side grid: the points (a seeded subset when there are more
 * than cells) are scaled to the unit square and assigned to cells minimizing the total squared
 * distance, so neighbours stay neighbours and every cell shows one image.
 */
export function snapToGrid(coords: Float64Array, n: number, side: number, seed = 0): GridSnap {
  const cellsN = side * side;
  let pick = Array.from({ length: n }, (_, i) => i);
  if (n > cellsN) {
    const rand = seededRandom(seed + 11);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [pick[i], pick[j]] = [pick[j]!, pick[i]!];
    }
    pick = pick.slice(0, cellsN).sort((a, b) => a - b);
  }
  const m = pick.length;
  // rank-normalize each axis: spreads dense clusters over the grid instead of leaving cells empty
  const norm = new Float64Array(m * 2);
  for (let a = 0; a < 2; a++) {
    const order = pick.map((_, i) => i).sort((x, y) => coords[2 * pick[x]! + a]! - coords[2 * pick[y]! + a]!);
    order.forEach((i, r) => (norm[2 * i + a] = m > 1 ? r / (m - 1) : 0.5));
  }
  const cost = new Float64Array(m * cellsN);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < cellsN; c++) {
      const cx = side > 1 ? (c % side) / (side - 1) : 0.5;
      // row 0 at the top holds the largest y, as in the scatter plot
      const cy = side > 1 ? 1 - Math.floor(c / side) / (side - 1) : 0.5;
      cost[i * cellsN + c] = (norm[2 * i]! - cx) ** 2 + (norm[2 * i + 1]! - cy) ** 2;
    }
  }
  const a = assignment(cost, m, cellsN);
  const cells = new Int32Array(cellsN).fill(-1);
  a.forEach((c, i) => {
    if (c >= 0) cells[c] = pick[i]!;
  });
  return { side, cells };
}
