// The explanation grid draws at most GRID_MAX_ROWS images (a 64-row figure took longer to draw
// than Grad-CAM took to explain them) and says how many it left out.
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { tensorToRaw } from '../../src/io/image.js';
import { explain } from '../../src/methods/explain/index.js';
import { explanationGrid, GRID_MAX_ROWS } from '../../src/methods/explain/figures.js';
import { MAX_FIGURE_PIXELS } from '../../src/render/grid.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { rng } from '../support/rng.js';
import { courseModel } from '../explain/models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

describe('explanation grid', () => {
  it(`shows the first ${GRID_MAX_ROWS} images of a bigger batch, and all of them when asked`, async () => {
    const model = courseModel(engine, 3);
    const n = GRID_MAX_ROWS + 1;
    const rand = rng(5);
    const x = { dtype: 'float32' as const, dims: [n, 1, 28, 28], data: Float32Array.from({ length: n * 784 }, () => rand()) };
    const e = await explain(model, x, { methods: ['saliency'] });
    const prep = { size: [28, 28] as [number, number], channels: 'gray' as const, range: [0, 1] as [number, number], mean: [0], std: [1], resize: 'stretch' as const };
    const items = Array.from({ length: n }, (_, i) => ({ name: `image ${i}`, display: tensorToRaw(x, prep, i) }));
    const size = 56;
    const height = async (png: Uint8Array): Promise<number> => (await sharp(png).metadata()).height!;
    const capped = await height(await explanationGrid(e, items, { size }));
    const all = await height(await explanationGrid(e, items, { size, maxRows: n }));
    const first = await height(await explanationGrid({ ...e, images: e.images.slice(0, GRID_MAX_ROWS) }, items.slice(0, GRID_MAX_ROWS), { size }));
    // one more row is at least a tile taller; the cap adds only its note line
    expect(all - first).toBeGreaterThanOrEqual(size);
    expect(capped - first).toBeGreaterThan(0);
    expect(capped - first).toBeLessThan(size / 2);
    // tiles asked at 2048 are drawn at a size the figure fits in (16 rows x 2 columns: 1102)
    const big = await sharp(await explanationGrid(e, items, { size: 2048 })).metadata();
    expect(big.width! * big.height!).toBeLessThanOrEqual(MAX_FIGURE_PIXELS);
    expect(big.height!).toBeGreaterThan(GRID_MAX_ROWS * 1000);
  });

  it('is an opaque RGB image (the text overlay adds no alpha channel to encode)', async () => {
    const model = courseModel(engine, 3);
    const rand = rng(7);
    const x = { dtype: 'float32' as const, dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, () => rand()) };
    const e = await explain(model, x, { methods: ['saliency'] });
    const prep = { size: [28, 28] as [number, number], channels: 'gray' as const, range: [0, 1] as [number, number], mean: [0], std: [1], resize: 'stretch' as const };
    const items = Array.from({ length: 2 }, (_, i) => ({ name: `image ${i}`, display: tensorToRaw(x, prep, i) }));
    const meta = await sharp(await explanationGrid(e, items, { size: 56 })).metadata();
    expect(meta.channels).toBe(3);
    expect(meta.hasAlpha).toBe(false);
  });

  it('draws a non-square input with its aspect, as the maps beside it (a 192x256 input was drawn square)', async () => {
    // conv, global pool, dense on 12x16 images; the input shown is solid green, found by its colour
    const b = new GraphBuilder();
    b.graph.name = 'wide';
    const L = new Layers(b, seededRandom(2));
    b.output(L.dense(L.flatten(L.globalAvgPool(L.relu(L.conv2d(b.input('image', 'float32', ['N', 3, 12, 16]), 'conv', { filters: 4 }), 'relu'), 'gap'), 'flat'), 'fc', 3));
    const model = new Model(b.build(), engine);
    const rand = rng(9);
    const x = { dtype: 'float32' as const, dims: [1, 3, 12, 16], data: Float32Array.from({ length: 3 * 12 * 16 }, () => rand()) };
    const e = await explain(model, x, { methods: ['saliency'] });
    const green = { width: 16, height: 12, channels: 3 as const, data: Uint8Array.from({ length: 16 * 12 * 3 }, (_, k) => (k % 3 === 1 ? 255 : 0)) };
    const { data, info } = await sharp(await explanationGrid(e, [{ name: 'wide', display: green }], { size: 64 })).raw().toBuffer({ resolveWithObject: true });
    let [left, right, top, bottom, count] = [Infinity, -1, Infinity, -1, 0];
    for (let y = 0; y < info.height; y++) {
      for (let x0 = 0; x0 < info.width; x0++) {
        const k = (y * info.width + x0) * info.channels;
        if (data[k] !== 0 || data[k + 1] !== 255 || data[k + 2] !== 0) continue;
        count++;
        [left, right, top, bottom] = [Math.min(left, x0), Math.max(right, x0), Math.min(top, y), Math.max(bottom, y)];
      }
    }
    expect([right - left + 1, bottom - top + 1]).toEqual([64, 48]);
    expect(count).toBe(64 * 48);
  });
});

