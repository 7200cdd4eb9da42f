// A dataset the model cannot read is refused before the store exists. An RGB model indexing the
// gray 28x28 Fashion-MNIST subset failed on its first batch after writing store.json: the store
// of no images was left behind, and `neighbors` then answered "A features_1 query needs 1 values,
// got 0" and `patches` drew a figure from it.
import '../../src/methods/dataset/quiet.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { openSource } from '../../src/data/sources.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { indexDataset } from '../../src/methods/dataset/scan.js';
import { DatasetStore } from '../../src/methods/dataset/store.js';
import { Model } from '../../src/models/model.js';
import { binaryMapNet } from '../support/binary-net.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
const tmp = mkdtempSync(join(tmpdir(), 'convlens-source-check-'));
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
