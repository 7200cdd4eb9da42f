// A layer that is NaN or infinite on some image (a division by a value that can be 0): the
// single-process scan stored it (distances to NaN are NaN, so the image sat nowhere in every
// search) while a distributed scan's coordinator refused the same result. Both now stop at that
// image with its name, and keep the chunks scanned before it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/data/sources.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { failure } from '../support/failure.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-non-finite-');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await engine.dispose();
});

const SIDE = 8;

/** conv1 divided by its own maximum: 0/0 = NaN on an all-black image. */
function normalizingModel(): Model {
  const b = new GraphBuilder();
  b.graph.name = 'normalizing';
  const x = b.input('input', 'float32', ['N', 1, SIDE, SIDE]);
  const conv = b.op('Conv', [x, b.initializer('conv1.weight', f32([2, 1, 1, 1], [1, 2]))], { kernel_shape: [1, 1] }, { name: 'conv1', outputs: ['conv1'] });
  const peak = b.op('GlobalMaxPool', [conv], {}, { name: 'peak', outputs: ['peak'] });
  const normalized = b.op('Div', [conv, peak], {}, { name: 'normalized', outputs: ['normalized'] });
  const gap = b.op('Flatten', [b.op('GlobalAveragePool', [normalized], {}, { name: 'gap', outputs: ['gap'] })], { axis: 1 }, { name: 'flat', outputs: ['flat'] });
  b.output(b.op('Gemm', [gap, b.initializer('fc.weight', f32([2, 2], [1, 0, 0, 1]))], { transB: 1 }, { name: 'logits', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b'], preprocessing: { size: [SIDE, SIDE], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, 'normalizing');
}

async function png(file: string, value: number): Promise<void> {
  const px = new Uint8Array(SIDE * SIDE);
  px[SIDE + 2] = value;
  writeFileSync(file, await sharp(Buffer.from(px), { raw: { width: SIDE, height: SIDE, channels: 1 } }).png().toBuffer());
}

describe('a layer that is NaN on one image', () => {
  it('stops the scan naming the image, layer and channel; the chunks before it are stored and readable', async () => {
    const data = join(tmp, 'images');
    mkdirSync(data);
    // folder order: a-*, then the black image, then z-*
    for (let i = 0; i < 4; i++) await png(join(data, `a-${i}.png`), 60 + 40 * i);
    await png(join(data, 'm-black.png'), 0);
    for (let i = 0; i < 2; i++) await png(join(data, `z-${i}.png`), 90);
    const model = normalizingModel();
    const dir = join(tmp, 'store');
    const e = await failure(indexDataset(model, openSource(data), dir, { layers: ['normalized'], k: 2, chunkSize: 2 }));
    expect(e.code).toBe('RUNTIME_FAILURE');
    expect(e.message).toMatch(/^Layer "normalized" of model "normalizing" is NaN on image #4 \(m-black\.png\), channel 0: a store cannot compare such values/);
    expect(e.hint).toMatch(/continues from them/);
    // images 0-3 (two chunks of 2) are in the store, nothing of the black image's chunk
    const store = await DatasetStore.open(dir);
    try {
      expect(await store.count()).toBe(4);
    } finally {
      store.close();
    }
  });
});
