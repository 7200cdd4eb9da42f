// A vision transformer's only [N, C, H, W] value is its patch embedding; after it attention mixes
// the positions as tokens before the head. The profile took that first layer as the CAM layer, so
// Grad-CAM on torchvision's vit_b_16 silently drew "@conv_proj" (the patch embedding's gradient),
// and every CAM-type default and `channels` read the first layer. Now there is no CAM map: the
// CAM-type methods read the tokens the attention reads as their patch grid's map (as
// pytorch-grad-cam's ViT recipe does; test/explain/vit-cam.test.ts checks the numbers), and where
// the tokens cannot be followed, or for `channels`, which reads maps, the reason says why and
// what works: the gradient methods run, a CAM method asked for alone is refused, and naming the
// early map still draws it.
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { defaultChannelLayer } from '../../src/methods/explain/layer-attribution.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';
import { vitLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

const model = new Model(vitLike(32, 8, 8, 10, 3), engine, 'vit_like');
// its tokens projected as [tokens, N, C]: no token grid to read
const unfollowed = new Model(vitLike(32, 8, 8, 10, 3, false, true), engine, 'vit_like_batch_second');
const x = f32([1, 3, 32, 32], randn(rng(5), 3 * 32 * 32));

async function failure(p: Promise<unknown>): Promise<ConvLensError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConvLensError) return e;
    throw e;
  }
  throw new Error('expected a ConvLensError');
}

describe('a vision transformer (patch embedding, then attention over tokens)', () => {
  it('has no CAM map, and the profile says the last map comes before attention', () => {
    for (const m of [model, unfollowed]) {
      expect(m.profile.camLayer).toBeUndefined();
      expect(m.profile.camBeforeAttention?.layer).toBe(m.resolveLayer('conv_proj'));
    }
  });

  it('reads the tokens the attention reads as the 4x4 map of the patch grid', async () => {
    expect(model.profile.camTokens).toEqual({ layer: 'tokens', grid: { tokenAxis: 1, prefix: 0, height: 4, width: 4, channels: 8 } });
    const r = await explain(model, x, { methods: ['gradcam', 'layercam', 'scorecam'] });
    expect(r.skipped).toEqual([]);
    for (const a of r.attributions) {
      expect(a.params['layer'], a.method).toBe('tokens');
      expect(a.raw.dims, a.method).toEqual([1, 1, 4, 4]);
      expect(a.map.dims, a.method).toEqual([1, 32, 32]);
    }
  });

  it('refuses a CAM method asked for alone where the tokens cannot be followed, and channels, naming why and the way out', async () => {
    expect(unfollowed.profile.camTokens).toBeUndefined();
    for (const p of [explain(unfollowed, x, { methods: ['gradcam'] }), Promise.resolve().then(() => defaultChannelLayer(model))]) {
      const e = await failure(p);
      expect(e.code).toBe('MODEL_UNSUPPORTED');
      expect(e.message).toContain('conv_proj');
      expect(e.message).toContain('before attention');
      expect(e.hint).toContain('integrated-gradients');
      expect(e.hint).toContain('--layer conv_proj');
    }
  });

  it('runs the gradient methods and skips the CAM ones with the reason', async () => {
    const r = await explain(unfollowed, x, { methods: ['saliency', 'gradcam', 'integrated-gradients'] });
    expect(r.attributions.map((a) => a.method)).toEqual(['saliency', 'integrated-gradients']);
    expect(r.skipped.map((s) => s.method)).toEqual(['gradcam']);
    expect(r.skipped[0]!.reason).toContain('before attention');
  });

  it('keeps the map as the CAM layer when the attention after it is a pool (one query, as CLIP\'s ResNet head)', () => {
    const pooled = new Model(vitLike(32, 8, 8, 10, 3, true), engine, 'attention_pool');
    expect(pooled.profile.camLayer).toBe(pooled.resolveLayer('conv_proj'));
    expect(pooled.profile.camBeforeAttention).toBeUndefined();
  });

  it('still draws the early map when it is named', async () => {
    for (const m of [model, unfollowed]) {
      const r = await explain(m, x, { methods: ['gradcam'], layer: 'conv_proj' });
      expect(r.attributions.map((a) => a.method)).toEqual(['gradcam']);
      expect(r.attributions[0]!.params['layer']).toBe(m.resolveLayer('conv_proj'));
    }
  });
});
