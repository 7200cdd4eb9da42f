// Swin cuts its channels-last maps [N, H, W, C] into windows with the batch merged in
// ([N * windows, positions, C]) and runs attention inside each window
// ([N * windows, heads, positions, positions]). The layout lost the axes at the Reshape that
// merges the batch (its size a fresh symbol, or a number the batch's is not), so the attention's
// 4-D values were taken for [N, C, H, W] maps: listed as feature maps, and drawn by Grad-CAM as
// "heads x positions x positions" maps (3x49x49 at torchvision swin_t's first stage, 24x49x49 at
// its last, where one window holds the whole map). Now the merge is followed (the batch piece and
// the windows in one axis) and what is computed from it is no map until a convolution or a sum
// with the block's followed input.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { swinLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());
const x = f32([1, 3, 16, 16], Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(i)));
const INSIDE = ['attn.scores', 'attn.softmax', 'attn.mixed'];

// four 2x2 windows of a 4x4 map, and one window holding all of it
for (const window of [2, 4]) {
  describe(`Swin's window attention (${window}x${window} windows of a 4x4 map)`, () => {
    const model = new Model(swinLike(16, 8, window, 2, 10, 3), engine, 'swin_like');

    it('reads the attention\'s 4-D values as no map, and keeps the maps around them', () => {
      for (const v of INSIDE) {
        expect(model.facts(v).shape?.length, v).toBe(4);
        expect(model.isChannelsFirst(v), v).toBe(false);
        expect(model.isChannelsLast(v), v).toBe(false);
      }
      expect(model.isChannelsFirst('patch_embed')).toBe(true);
      expect(model.isChannelsLast('block')).toBe(true);
      expect(model.isChannelsFirst('permute')).toBe(true);
      expect(model.profile.camLayer).toBe('permute');
      const roles = [model.profile.dreamLayer, ...model.profile.styleLayers, ...model.profile.contentLayers, ...model.profile.featureLayers, ...model.profile.inversionLayers];
      for (const v of INSIDE) expect(roles, v).not.toContain(v);
    });

    it('refuses them as a CAM layer, and draws the block\'s map', async () => {
      for (const v of INSIDE) await expect(explain(model, x, { methods: ['gradcam'], layer: v }), v).rejects.toThrow(/cut into windows or regrouped/);
      const r = await explain(model, x, { methods: ['gradcam'], layer: 'block' });
      expect(r.attributions[0]!.raw.dims).toEqual([1, 1, 4, 4]);
    });
  });
}
