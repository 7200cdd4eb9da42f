// MaxViT cuts its [N, C, H, W] maps into windows for attention ([N, C, H/P, P, W/P, P], permuted,
// then [N, windows, P*P, C]) and puts them back. The layout could not follow axes through those
// Reshapes, so the partitioned values were taken for [N, C, H, W] maps (49x4x256 at torchvision
// maxvit_t's third stage) and chosen as its dream layer, two style layers and two inversion
// layers. Now the axes are followed through Reshapes that split and merge them: the windows are
// no maps, and the maps put back are maps again.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { windowPartitionLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('window partitions (MaxViT)', () => {
  const model = new Model(windowPartitionLike(32, 8, 4, 10, 7), engine, 'window_partition_like');

  it('reads the partitioned values as no [N, C, H, W] map, and the maps put back as maps', () => {
    expect(model.facts('partition').shape).toEqual(['N', 16, 16, 8]);
    for (const v of ['partition', 'mix']) expect(model.isChannelsFirst(v), v).toBe(false);
    for (const v of ['departition', 'conv.act', 'stem.act']) expect(model.isChannelsFirst(v), v).toBe(true);
  });

  it('chooses no role among the partitioned values', () => {
    const p = model.profile;
    const names = p.layers.map((l) => l.name);
    expect(names).not.toContain('mix');
    expect(names).not.toContain('partition');
    for (const role of [p.dreamLayer, p.camLayer, ...p.styleLayers, ...p.contentLayers, ...p.inversionLayers, ...p.featureLayers]) {
      expect(['mix', 'partition'], String(role)).not.toContain(role);
    }
    expect(p.camLayer).toBe('conv.act');
  });

  it('keeps a sub-pixel upsampling written out with Reshapes a map ([N, C, H r, W r])', () => {
    const shuffled = new Model(windowPartitionLike(32, 8, 4, 10, 7, true), engine, 'pixel_shuffle_like');
    expect(shuffled.facts('shuffle').shape).toEqual(['N', 2, 32, 32]);
    expect(shuffled.isChannelsFirst('shuffle')).toBe(true);
    expect(shuffled.profile.camLayer).toBe('shuffle.act');
  });
});

describe('a partitioned value named as a layer', () => {
  it('is refused as cut into windows, with the maps to pick instead', async () => {
    const model = new Model(windowPartitionLike(32, 8, 4, 10, 7), engine, 'window_partition_like');
    const x = f32([1, 3, 32, 32], Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i)));
    await expect(explain(model, x, { methods: ['gradcam'], layer: 'mix' })).rejects.toThrow(/cut into windows/);
  });
});
