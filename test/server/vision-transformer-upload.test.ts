// The studio's model listing says why the CAM-type methods do not apply to a vision transformer
// whose tokens ConvLens cannot follow (its only spatial map, the patch embedding, comes before
// attention), in the model's own words; it said "no spatial (4-D) layer on the path to its
// output", which a ViT has. Where the tokens are followed, the methods read them as the patch
// grid's map and are available.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { vitLike } from '../support/unseen-models.js';
import { inProcessStudio, multipart } from './page-inject.js';

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
});
