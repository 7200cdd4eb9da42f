// The studio's model listing says why the CAM-type methods do not apply to a vision transformer
// whose tokens ConvLens cannot follow (its only spatial map, the patch embedding, comes before
// attention), in the model's own words; it said "no spatial (4-D) layer on the path to its
// output", which a ViT has. Where the tokens are followed, the methods read them as the patch
// grid's map and are available; the summary lists those tokens for the CAM layer picker (which
// listed maps alone, so a studio user could not pick another block's tokens than the default).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { vitLike } from '../support/unseen-models.js';
import { inProcessStudio, jobResult, multipart } from './page-inject.js';

const { inject } = inProcessStudio();

describe('a vision transformer uploaded to the studio', () => {
  it('loads, and its CAM-type methods are available when its tokens are a patch grid', async () => {
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart('vit-like.onnx', encodeModel(vitLike(32, 8, 8, 10, 3))) });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(201);
    const unavailable = (r.json() as { unavailableMethods: Record<string, unknown> }).unavailableMethods;
    for (const method of ['gradcam', 'layercam', 'scorecam', 'saliency']) expect(unavailable[method], method).toBeUndefined();
  });

  it('loads, and its CAM-type methods are unavailable with the reason and the way out when its tokens cannot be followed', async () => {
    const r = await inject({ method: 'POST', url: '/api/models', ...multipart('vit-like.onnx', encodeModel(vitLike(32, 8, 8, 10, 3, false, true))) });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(201);
    const unavailable = (r.json() as { unavailableMethods: Record<string, { reason: string; hint?: string }> }).unavailableMethods;
    for (const method of ['gradcam', 'layercam', 'scorecam']) {
      expect(unavailable[method]?.reason, method).toContain('comes before attention');
      expect(unavailable[method]?.hint, method).toContain('integrated-gradients');
    }
    for (const method of ['saliency', 'integrated-gradients', 'occlusion', 'smoothgrad']) expect(unavailable[method], method).toBeUndefined();
  });

  it('lists its token layers for the CAM layer picker, as --layer takes them, and explains at the one picked', async () => {
    // torchvision's VisionTransformer, tiny: two blocks, a 4x4 patch grid and a class token
    const bytes = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'vit-cam', 'model.onnx'));
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('vit.onnx', bytes) });
    expect(up.statusCode, up.body.slice(0, 300)).toBe(201);
    const { id, profile } = up.json() as { id: string; profile: { camTokens?: { layer: string } } };
    const summary = (await inject({ method: 'GET', url: `/api/models/${id}/summary` })).json() as { pickable: { name: string }[]; tokenLayers?: { name: string; label: string; shape: unknown[]; grid: { height: number; width: number; prefix: number; channels: number } }[] };
    const tokens = summary.tokenLayers ?? [];
    const byLabel = new Map(tokens.map((t) => [t.label, t]));
    const block = (k: number): string => `encoder/layers/encoder_layer_${k}/ln_1`;
    for (const k of [0, 1]) {
      expect(byLabel.get(block(k))?.grid, block(k)).toEqual({ tokenAxis: 1, prefix: 1, height: 4, width: 4, channels: 16 });
      expect(byLabel.get(block(k))?.shape.slice(1)).toEqual([17, 16]);
    }
    expect(byLabel.get(block(1))!.name).toBe(profile.camTokens?.layer);
    // a written-out LayerNorm's per-token variance is one channel, no map of features
    expect(tokens.every((t) => t.grid.channels > 1)).toBe(true);

    type Explained = { maps: { method: string; params: { layer?: string }; raw: { dims: number[]; data: string } }[] };
    const explained = (layer?: string): Promise<Explained> => jobResult<Explained>(inject, '/api/explain', { model: id, image: 'photos/coffee.png', methods: ['gradcam'], metrics: false, target: 3, ...(layer ? { layer } : {}) });
    const picked = (await explained(block(0))).maps[0]!;
    expect(picked.params.layer).toBe(byLabel.get(block(0))!.name);
    expect(picked.raw.dims).toEqual([1, 1, 4, 4]);
    const byDefault = (await explained()).maps[0]!;
    expect(byDefault.params.layer).toBe(byLabel.get(block(1))!.name);
    expect(picked.raw.data).not.toBe(byDefault.raw.data);
  }, 120_000);
});
