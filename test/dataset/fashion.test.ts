// The dataset lens on the committed Fashion-MNIST subset with the built-in model: the store's
// answers against brute force computed here, the vector index against exact search, the
// embeddings, grid snapping and the figures.
import '../../src/methods/dataset/quiet.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { openSource, type DatasetSource } from '../../src/data/sources.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import type { Model } from '../../src/models/model.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { topPatches } from '../../src/methods/dataset/patches.js';
import { nearestNeighbours } from '../../src/methods/dataset/neighbors.js';
import { assignment, embedStore, snapToGrid } from '../../src/methods/dataset/embed.js';
import { embeddingGridFigure, neighboursFigure, patchesFigure, scatterFigure } from '../../src/methods/dataset/figures.js';
import type { RawImage } from '../../src/io/image.js';
import { tempFolder } from '../support/temp-folder.js';

let tmp: string;
let engine: Engine;
let model: Model;
let source: DatasetSource;
let store: DatasetStore;
const N = 2000;

beforeAll(async () => {
  tmp = tempFolder('convlens-fm-');
  engine = new Engine(nodeBackend());
  model = loadBuiltinModel(engine);
  source = openSource(`${SUBSET_DIR}:test`);
  // small index threshold so the 2,000 vectors get an IVF index like a large store
  await indexDataset(model, source, join(tmp, 'store'), { layers: ['relu3', 'relu4'], k: 8, chunkSize: 500, minIndexRows: 1000 });
  store = await DatasetStore.open(join(tmp, 'store'));
});

afterAll(async () => {
  store?.close();
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** relu4 [N, 128, 3, 3] of the whole subset, computed directly. */
async function relu4All(): Promise<Float32Array> {
  const x = new Float32Array(N * 784);
  await source.fill(0, N, model.meta.preprocessing, x);
  const out = await model.run({ dtype: 'float32', dims: [N, 1, 28, 28], data: x }, ['relu4']);
  return out['relu4']!.data as Float32Array;
}

describe('dataset lens on the Fashion-MNIST subset', () => {
  it('stores the top-k per channel and the pooled vectors the model computes', async () => {
    const a = await relu4All();
    expect(store.manifest.complete).toBeDefined();
    for (const c of [0, 17, 101]) {
      const best = Array.from({ length: N }, (_, i) => {
        let m = -Infinity;
        let at = 0;
        for (let p = 0; p < 9; p++) if (a[(i * 128 + c) * 9 + p]! > m) [m, at] = [a[(i * 128 + c) * 9 + p]!, p];
        return { i, m, at };
      }).sort((x, y) => y.m - x.m || x.i - y.i);
      const top = await store.top('relu4', c);
      expect(top.map((t) => t.image)).toEqual(best.slice(0, 8).map((b) => b.i));
      expect(top.map((t) => [t.y, t.x])).toEqual(best.slice(0, 8).map((b) => [Math.floor(b.at / 3), b.at % 3]));
    }
    const v = await store.vectors({ layer: 'relu4' }, [5, 1234]);
    for (const [row, id] of [5, 1234].entries()) {
      for (const c of [0, 64, 127]) {
        let s = 0;
        for (let p = 0; p < 9; p++) s += a[(id * 128 + c) * 9 + p]!;
        expect(v.data[row * 128 + c]).toBeCloseTo(s / 9, 5);
      }
    }
    expect(Array.from(v.labels)).toEqual([source.item(5).label, source.item(1234).label]);
  });

  it('answers nearest-neighbour queries through the vector index like an exact search', async () => {
    expect(await store.indexed({ layer: 'relu4' })).toBe(true);
    let agree = 0;
    let total = 0;
    let featureSameClass = 0;
    let pixelSameClass = 0;
    for (const q of [3, 250, 777, 1500, 1999]) {
      const idx = await nearestNeighbours(model, store, { image: q }, { layer: 'relu4', k: 10 });
      const exact = await nearestNeighbours(model, store, { image: q }, { layer: 'relu4', k: 10, exact: true });
      // `neighbors --exact` prints how the search went: a flat scan, not "indexed" (docs/dataset.md)
      expect([idx.indexed, exact.indexed]).toEqual([true, false]);
      const ex = new Set(exact.feature.map((n) => n.id));
      agree += idx.feature.filter((n) => ex.has(n.id)).length;
      total += 10;
      expect(idx.feature.every((n) => n.id !== q)).toBe(true);
      expect(idx.feature.map((n) => n.distance)).toEqual([...idx.feature.map((n) => n.distance)].sort((x, y) => x - y));
      const label = source.item(q).label;
      featureSameClass += exact.feature.filter((n) => n.label === label).length;
      pixelSameClass += exact.pixel.filter((n) => n.label === label).length;
    }
    expect(agree / total).toBeGreaterThanOrEqual(0.9);
    // the course's point: late-layer features group by class better than pixels do
    expect(featureSameClass).toBeGreaterThan(pixelSameClass);
    // a query image from outside the store: its own pixels find it again at distance 0
    const x = new Float32Array(784);
    await source.fill(42, 43, model.meta.preprocessing, x);
    const r = await nearestNeighbours(model, store, { x: { dtype: 'float32', dims: [1, 1, 28, 28], data: x } }, { layer: 'relu4', k: 3, metric: 'cosine' });
    expect(r.feature[0]!.id).toBe(42);
    expect(r.feature[0]!.distance).toBeLessThan(1e-5);
    expect(r.pixel[0]!.id).toBe(42);
  });

  it('embeds features with PCA, t-SNE and UMAP, keeping classes apart', async () => {
    const oneNn = (coords: Float64Array, labels: Int32Array): number => {
      let ok = 0;
      const n = labels.length;
      for (let i = 0; i < n; i++) {
        let b = -1;
        let bd = Infinity;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const d = (coords[2 * i]! - coords[2 * j]!) ** 2 + (coords[2 * i + 1]! - coords[2 * j + 1]!) ** 2;
          if (d < bd) [bd, b] = [d, j];
        }
        if (labels[b] === labels[i]) ok++;
      }
      return ok / n;
    };
    const pca = await embedStore(store, { layer: 'relu4' }, 'pca', {});
    expect(pca.ids.length).toBe(N);
    expect(pca.explained![0]).toBeGreaterThan(pca.explained![1]);
    const tsne = await embedStore(store, { layer: 'relu4' }, 'tsne', { sample: 400, iterations: 350 });
    const umap = await embedStore(store, { layer: 'relu4' }, 'umap', { sample: 400, epochs: 120 });
    expect(new Set(Array.from(tsne.labels)).size).toBe(10); // stratified sample
    for (const e of [tsne, umap]) expect(e.coords.every(Number.isFinite)).toBe(true);
    // the test set's 1-NN accuracy in relu4 space is ~0.85; the 2-D maps keep most of it
    expect(oneNn(tsne.coords, tsne.labels)).toBeGreaterThan(0.7);
    expect(oneNn(umap.coords, umap.labels)).toBeGreaterThan(0.65);
    expect(oneNn(tsne.coords, tsne.labels)).toBeGreaterThan(oneNn(pca.coords.subarray(0, 800), pca.labels.subarray(0, 400)));
  });

  it('snaps an embedding to a grid with an optimal assignment', () => {
    // brute force over all permutations of 6 points onto 6 cells
    const cost = Float64Array.from({ length: 36 }, (_, i) => ((i * 7919) % 97) / 97);
    const perms = (a: number[]): number[][] => (a.length <= 1 ? [a] : a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p])));
    const best = Math.min(...perms([0, 1, 2, 3, 4, 5]).map((p) => p.reduce((s, c, r) => s + cost[r * 6 + c]!, 0)));
    const a = assignment(cost, 6, 6);
    expect(Array.from(a).reduce((s, c, r) => s + cost[r * 6 + c]!, 0)).toBeCloseTo(best, 10);
    // points on a jittered 4x4 lattice land in their own cells
    const coords = new Float64Array(32);
    for (let i = 0; i < 16; i++) [coords[2 * i], coords[2 * i + 1]] = [(i % 4) + 0.1 * Math.sin(i), Math.floor(i / 4) + 0.1 * Math.cos(i)];
    // row 0 of the grid is the top (largest y)
    expect(Array.from(snapToGrid(coords, 16, 4).cells)).toEqual(Array.from({ length: 16 }, (_, c) => (3 - Math.floor(c / 4)) * 4 + (c % 4)));
  });

  it('draws the patches, neighbours, scatter and grid figures', async () => {
    const classes = store.manifest.dataset.classes;
    const patches = await topPatches(model, source, store, 'relu3', [0, 1, 2], { k: 4 });
    expect(patches[0]!.field).toEqual([18, 18]);
    expect(patches[0]!.patches[0]!.crop.width).toBe(18);
    // guided maps are drawn at the 98th percentile of |value| (as explain draws guided backprop),
    // not at their max, where a unit's few strongest pixels left the rest white
    for (const p of patches.flatMap((c) => c.patches)) {
      const mags = Array.from(p.guided!).filter((v) => !Number.isNaN(v)).map(Math.abs).sort((a, b) => a - b);
      const pos = 0.98 * (mags.length - 1);
      const want = mags[Math.floor(pos)]! + (mags[Math.ceil(pos)]! - mags[Math.floor(pos)]!) * (pos - Math.floor(pos));
      expect(p.guidedScale).toBeCloseTo(want, 6);
      expect(p.guidedMax).toBe(mags.at(-1));
    }
    expect(patches.flatMap((c) => c.patches).some((p) => p.guidedScale! < 0.9 * p.guidedMax!)).toBe(true);
    const size = async (png: Uint8Array): Promise<[number, number]> => {
      const m = await sharp(png).metadata();
      return [m.width!, m.height!];
    };
    const [pw, ph] = await size(await patchesFigure(patches, { classes }));
    expect(pw).toBeGreaterThan(600);
    expect(ph).toBeGreaterThan(300);
    const nn = await nearestNeighbours(model, store, { image: 9 }, { layer: 'relu4', k: 4 });
    const withImg = async (l: typeof nn.feature): Promise<(typeof nn.feature[number] & { image: RawImage })[]> => Promise.all(l.map(async (n) => ({ ...n, image: await source.display(n.id, model.meta.preprocessing) })));
    const [nw] = await size(await neighboursFigure([{ name: '#9', query: await source.display(9, model.meta.preprocessing), queryLabel: source.item(9).label, layer: 'relu4', metric: 'l2', pixelMetric: 'l2', feature: await withImg(nn.feature), pixel: await withImg(nn.pixel) }], { classes }));
    expect(nw).toBeGreaterThan(400);
    const e = await embedStore(store, { layer: 'relu4' }, 'pca', { sample: 300 });
    const scatter = await scatterFigure(e, { classes });
    expect(scatter.svg).toContain('<svg');
    expect(scatter.svg).toContain('Ankle boot');
    const snap = snapToGrid(e.coords, e.ids.length, 10);
    const images = new Map<number, RawImage>();
    for (const pi of snap.cells) images.set(e.ids[pi]!, await source.display(e.ids[pi]!, model.meta.preprocessing));
    const [gw, gh] = await size(await embeddingGridFigure(e, snap, images, { classes }));
    expect(gw).toBeGreaterThanOrEqual(300);
    expect(gh).toBeGreaterThanOrEqual(300);
  });
});
