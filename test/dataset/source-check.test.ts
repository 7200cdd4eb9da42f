// A dataset the model cannot read is refused before the store exists. An RGB model indexing the
// gray 28x28 Fashion-MNIST subset failed on its first batch after writing store.json: the store
// of no images was left behind, and `neighbors` then answered "A features_1 query needs 1 values,
// got 0" and `patches` drew a figure from it.
import '../../src/methods/dataset/quiet.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { ConvLensError } from '../../src/engine/errors.js';
import { openSource } from '../../src/data/sources.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { openStoreContext } from '../../src/methods/dataset/context.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { Model } from '../../src/models/model.js';
import { binaryMapNet } from '../support/binary-net.js';
import { tempFolder } from '../support/temp-folder.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = tempFolder('convlens-source-check-');
afterAll(async () => {
  await engine.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('indexing a dataset the model cannot read', () => {
  it('refuses it with the reason and leaves no store behind', async () => {
    const model = new Model(binaryMapNet({ sigmoid: true }), engine);
    const dir = join(tmp, 'store');
    await expect(indexDataset(model, openSource(`${SUBSET_DIR}:test`), dir, { layers: model.profile.featureLayers, limit: 16 })).rejects.toThrow(/takes rgb 16x16 input.*holds gray 28x28 images/);
    expect(DatasetStore.exists(dir)).toBe(false);
  });
});

describe('reading a store whose scan committed no images', () => {
  it('is refused with the way to run the scan again, not drawn as empty rows', async () => {
    // a scan that fails on its first batch (an unreadable file, say) leaves the store behind
    const model = new Model(binaryMapNet({ sigmoid: true }), engine);
    const folder = openSource(join(import.meta.dirname, '..', '..', 'samples', 'photos'));
    const failing = { ...folder, fill: async () => { throw new ConvLensError('INVALID_ARGUMENT', 'unreadable image', 'fix it'); } };
    const dir = join(tmp, 'empty-store');
    await expect(indexDataset(model, failing, dir, { layers: model.profile.featureLayers })).rejects.toThrow(/unreadable image/);
    expect(DatasetStore.exists(dir)).toBe(true);
    const read = openStoreContext(dir, engine, { model });
    await expect(read).rejects.toThrow(/holds no images yet: its scan stopped before committing any/);
    await expect(read).rejects.toMatchObject({ hint: expect.stringMatching(/Run the scan again \(CLI: convlens index .*--store/) });
  });
});
