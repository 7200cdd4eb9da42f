// Known answers on a synthetic dataset (see synthetic.ts): which images and units a channel
// responds to most, their receptive-field crops and guided-backprop maps, neighbours in feature
// and pixel space, and that an interrupted scan resumes without scanning anything twice.
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import '../../src/methods/dataset/quiet.js';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { openSource } from '../../src/data/sources.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { topPatches } from '../../src/methods/dataset/patches.js';
import { nearestNeighbours } from '../../src/methods/dataset/neighbors.js';
import type { Model } from '../../src/models/model.js';
import { SIDE, spotModel, writeSpots, type Spot } from './synthetic.js';
import { tempFolder } from '../support/temp-folder.js';

const N = 40;
let tmp: string;
let engine: Engine;
let model: Model;
let spots: Spot[];
let byDatasetIndex: Spot[];

beforeAll(async () => {
  tmp = tempFolder('convlens-spots-');
  engine = new Engine(nodeBackend());
  model = spotModel(engine);
  spots = await writeSpots(join(tmp, 'data'), N);
  const src = openSource(join(tmp, 'data'));
  byDatasetIndex = Array.from({ length: src.count }, (_, i) => spots.find((s) => relative(join(tmp, 'data'), s.file) === src.item(i).name)!);
});

afterAll(async () => {
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('dataset lens on a synthetic dataset', () => {
  it('reads a folder of images with sub-folders as classes', () => {
    const src = openSource(join(tmp, 'data'));
    expect(src.count).toBe(N);
    expect(src.classes).toEqual(['even', 'odd']);
    for (let i = 0; i < N; i++) expect(src.item(i).label).toBe(byDatasetIndex[i]!.label);
  });

  it('records the top images of a channel at the units where they fire', async () => {
    const dir = join(tmp, 'store-a');
    const r = await indexDataset(model, openSource(join(tmp, 'data')), dir, { layers: ['relu1', 'flatten'], k: 5, chunkSize: 16, batchSize: 8 });
    expect(r.scanned).toBe(N);
    const store = await DatasetStore.open(dir);
    try {
      // channel 0 sums a 3x3 box: the brightest squares, at their centres, value 9 * v / 255
      const top = await store.top('relu1', 0);
      const expected = [...spots].sort((a, b) => b.value - a.value).slice(0, 5);
      expect(top.map((t) => byDatasetIndex[t.image]!.value)).toEqual(expected.map((s) => s.value));
      top.forEach((t) => {
        const s = byDatasetIndex[t.image]!;
        expect([t.y, t.x]).toEqual([s.row + 1, s.col + 1]);
        expect(t.value).toBeCloseTo((9 * s.value) / 255, 4);
      });
      // the flat layer: every unit is a channel at position (0, 0)
      const flat = await store.top('flatten', 1);
      expect(flat[0]!.y).toBe(0);
      expect(byDatasetIndex[flat[0]!.image]!.value).toBe(expected[0]!.value);
      // statistics: the channel's max over the dataset
      const stats = await store.channelStats('relu1');
      expect(stats[0]!.max).toBeCloseTo((9 * expected[0]!.value) / 255, 4);
    } finally {
      store.close();
    }
  });

  it('crops patches to the receptive field and computes the unit\'s guided-backprop map', async () => {
    const store = await DatasetStore.open(join(tmp, 'store-a'));
    try {
      const [c0] = await topPatches(model, openSource(join(tmp, 'data')), store, 'relu1', [0], { k: 3 });
      expect(c0!.field).toEqual([3, 3]);
      for (const p of c0!.patches) {
        const s = byDatasetIndex[p.image]!;
        expect(p.box).toEqual([s.row, s.col, s.row + 2, s.col + 2]);
        // the crop is the square itself
        expect(p.crop.width).toBe(3);
        expect(Array.from(p.crop.data).every((v) => v === s.value)).toBe(true);
        // d(box sum at the centre)/d(input) = 1 on the 3x3 window
        expect(Array.from(p.guided!).every((v) => Math.abs(v - 1) < 1e-5)).toBe(true);
      }
    } finally {
      store.close();
    }
  });

  it('leaves out images where the channel never fired, and counts them', async () => {
    // three spots and two black images: channel 0 is 0 everywhere on the black ones, which the
    // store still keeps among its top 5 (a 7-photo SqueezeNet store showed crops captioned 0.00)
    const data = join(tmp, 'with-black');
    await writeSpots(join(data, 'spots'), 3);
    const { default: sharp } = await import('sharp');
    const black = await sharp(Buffer.alloc(SIDE * SIDE), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer();
    for (const f of ['black-a.png', 'black-b.png']) writeFileSync(join(data, 'spots', f), black);
    const dir = join(tmp, 'store-black');
    await indexDataset(model, openSource(data), dir, { layers: ['relu1'], k: 5, chunkSize: 8, batchSize: 8 });
    const store = await DatasetStore.open(dir);
    try {
      expect((await store.top('relu1', 0, 5)).map((t) => t.value === 0)).toEqual([false, false, false, true, true]);
      const [c0] = await topPatches(model, openSource(data), store, 'relu1', [0], { k: 5 });
      expect(c0!.patches).toHaveLength(3);
      expect(c0!.patches.every((p) => p.value > 0 && p.guided)).toBe(true);
      expect(c0!.silent).toBe(2);
      const { patchesFigure } = await import('../../src/methods/dataset/figures.js');
      const png = await patchesFigure([c0!], { classes: ['spots'] });
      expect(png.byteLength).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('says how many images the scan scaled up to the model size, with an example', async () => {
    const data = join(tmp, 'thumbs');
    const { default: sharp } = await import('sharp');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(data);
    // 5x5 to the model's 12x12 is 2.4x; 8x8 is 1.5x, under the note's 2x
    for (const [f, side] of [['a-small.png', 5], ['b-small.png', 5], ['c-fine.png', 8], ['d-big.png', 40]] as const) {
      writeFileSync(join(data, f), await sharp(Buffer.alloc(side * side, 90), { raw: { width: side, height: side, channels: 1 } }).png().toBuffer());
    }
    const r = await indexDataset(model, openSource(data), join(tmp, 'store-thumbs'), { layers: ['relu1'], k: 2, chunkSize: 8, batchSize: 8 });
    expect(r.notes).toContainEqual(`2 of the 4 images scanned were scaled up 2x or more to the model's ${SIDE}x${SIDE} input (e.g. a-small.png, 5x5, 2.4x): the model sees blurred pictures, so their features may mean little; images of ${SIDE}x${SIDE} pixels or more are not scaled up`);
    const fine = await indexDataset(model, openSource(join(tmp, 'data')), join(tmp, 'store-fine'), { layers: ['relu1'], k: 2, chunkSize: 16, batchSize: 8 });
    expect(fine.notes.some((n) => n.includes('scaled up'))).toBe(false);
  });

  it('finds neighbours by brightness in feature space and by place in pixel space', async () => {
    const store = await DatasetStore.open(join(tmp, 'store-a'));
    try {
      for (const q of [0, 7, 21]) {
        const r = await nearestNeighbours(model, store, { image: q }, { layer: 'relu1', k: 3 });
        // features are the spatial means of the box sum and of the image: both proportional to the brightness
        const qv = byDatasetIndex[q]!.value;
        const byBrightness = byDatasetIndex.map((s, i) => ({ i, d: Math.abs(s.value - qv) })).filter((e) => e.i !== q).sort((a, b) => a.d - b.d || a.i - b.i);
        expect(r.feature.map((n) => Math.abs(byDatasetIndex[n.id]!.value - qv))).toEqual(byBrightness.slice(0, 3).map((e) => e.d));
        // pixel space: brute-force L2 over the images
        const img = (s: Spot): Float32Array => {
          const a = new Float32Array(SIDE * SIDE);
          for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) a[(s.row + y) * SIDE + s.col + x] = s.value / 255;
          return a;
        };
        const qi = img(byDatasetIndex[q]!);
        const dist = byDatasetIndex.map((s, i) => ({ i, d: Math.sqrt(img(s).reduce((acc, v, k) => acc + (v - qi[k]!) ** 2, 0)) })).filter((e) => e.i !== q).sort((a, b) => a.d - b.d);
        expect(r.pixel.map((n) => n.distance)).toEqual(dist.slice(0, 3).map((e) => expect.closeTo(e.d, 4)));
      }
    } finally {
      store.close();
    }
  });

  it('resumes an interrupted scan without scanning a chunk twice, and drops half-written chunks', async () => {
    const dir = join(tmp, 'store-b');
    const src = openSource(join(tmp, 'data'));
    const controller = new AbortController();
    const opts = { layers: ['relu1', 'flatten'], k: 5, chunkSize: 8, batchSize: 8 };
    // stop after the second chunk
    await expect(
      indexDataset(model, src, dir, { ...opts, signal: controller.signal, onProgress: (p) => p.done >= 16 && controller.abort() }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    let store = await DatasetStore.open(dir);
    expect([...(await store.doneChunks())].sort()).toEqual([0, 1]);
    expect(await store.count()).toBe(16);
    store.close();
    // simulate a run killed between writing a chunk's rows and its commit marker
    const db = await lancedb.connect(dir);
    await (await db.openTable('chunks')).delete('chunk = 1');
    db.close();
    const r = await indexDataset(model, src, dir, opts);
    expect(r.resumed).toBe(8);
    expect(r.scanned).toBe(N - 8);
    store = await DatasetStore.open(dir);
    try {
      expect(await store.count()).toBe(N);
      const ids = (await store.vectors('pixels')).ids;
      expect(Array.from(ids)).toEqual(Array.from({ length: N }, (_, i) => i)); // each image once
      // the same answers as the uninterrupted scan
      const a = await DatasetStore.open(join(tmp, 'store-a'));
      expect(await store.top('relu1', 0)).toEqual(await a.top('relu1', 0));
      expect((await store.vectors({ layer: 'relu1' })).data).toEqual((await a.vectors({ layer: 'relu1' })).data);
      a.close();
    } finally {
      store.close();
    }
    // a complete store is not scanned again
    const again = await indexDataset(model, src, dir, opts);
    expect(again.scanned).toBe(0);
  });

  it('refuses to resume a store made with other settings', async () => {
    await expect(indexDataset(model, openSource(join(tmp, 'data')), join(tmp, 'store-a'), { layers: ['relu1'], k: 5, chunkSize: 16 })).rejects.toThrow(/different scan.*layers relu1,flatten/);
  });

  it('replaces a scan that failed before committing anything, without --fresh', async () => {
    // a folder with an undecodable file: the scan fails on its first chunk and leaves only store.json
    const data = join(tmp, 'with-bad-file');
    await writeSpots(data, 6);
    const bad = join(data, 'even', 'broken.png');
    writeFileSync(bad, 'not a png');
    const dir = join(tmp, 'store-failed');
    const opts = { layers: ['relu1'], k: 3, chunkSize: 16, batchSize: 8 };
    await expect(indexDataset(model, openSource(data), dir, opts)).rejects.toThrow(/broken\.png/);
    expect(DatasetStore.exists(dir)).toBe(true);
    // the user removes the file and runs the same command again: a different dataset, nothing lost
    rmSync(bad);
    const r = await indexDataset(model, openSource(data), dir, opts);
    expect(r.scanned).toBe(6);
    expect(r.notes.join(' ')).toMatch(/replaced the store's earlier scan, which had not committed any images \(it was scanned from .*, and this run reads /);
    // a store with committed images is still kept: another dataset is refused, not replaced
    await writeSpots(join(data, 'more'), 2);
    await expect(indexDataset(model, openSource(data), dir, opts)).rejects.toThrow(/holds a different scan/);
  });
});
