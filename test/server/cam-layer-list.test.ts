// The studio's CAM layer picker lists the summary's 4-D values; on a Swin-like model that took
// in the values inside its window attention ([N * windows, heads, positions, positions]), which
// no CAM can read as a map of the image (--layer refuses them as cut into windows). The summary
// now says which 4-D values a CAM reads (camMap), as --layer takes them, and the picker keeps those.
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { spatialLayer } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { swinLike } from '../support/unseen-models.js';
import { inProcessStudio, multipart } from './page-inject.js';

const { inject } = inProcessStudio();
const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('the CAM layer list of a Swin-like model (window attention)', () => {
  it('marks the maps a CAM reads, as --layer takes them, and not the attention inside the windows', async () => {
    const graph = swinLike(16, 8, 2, 2, 10, 3);
    const up = await inject({ method: 'POST', url: '/api/models', ...multipart('swin-like.onnx', encodeModel(graph)) });
    expect(up.statusCode, up.body.slice(0, 300)).toBe(201);
    const { id } = up.json() as { id: string };
    const summary = (await inject({ method: 'GET', url: `/api/models/${id}/summary` })).json() as { pickable: { name: string; shape: unknown[]; camMap?: boolean }[] };
    const byName = new Map(summary.pickable.map((p) => [p.name, p]));
    for (const v of ['attn.scores', 'attn.softmax', 'attn.mixed']) expect(byName.get(v)?.camMap, v).toBe(false);
    for (const v of ['patch_embed', 'block']) expect(byName.get(v)?.camMap, v).toBe(true);

    // every 4-D value's mark is what --layer does with it
    const model = new Model(swinLike(16, 8, 2, 2, 10, 3), engine, 'swin_like');
    const taken = (v: string): boolean => {
      try {
        return spatialLayer(model, v, { tokens: true }).name === v;
      } catch {
        return false;
      }
    };
    const fourD = summary.pickable.filter((p) => p.shape.length === 4);
    expect(fourD.length).toBeGreaterThan(6);
    for (const p of fourD) expect(p.camMap, p.name).toBe(taken(p.name));
  });
});
