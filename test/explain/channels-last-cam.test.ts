// A channels-last map [N, H, W, C] (inside ConvNeXt's and Swin's blocks, between their permutes)
// named as the CAM layer is read as [N, C, H, W], as pytorch-grad-cam's Swin reshape_transform
// does, instead of being refused: the maps equal those at the value the block permutes back to,
// which holds the same numbers.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain, type MethodName } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';
import { convnextLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

describe('CAM-type methods at a channels-last map', () => {
  const model = new Model(convnextLike(32, 10, 3), engine, 'convnext_like');
  const x = f32([2, 3, 32, 32], randn(rng(9), 2 * 3 * 32 * 32));

  it('draw what they draw at the map the block permutes back to', async () => {
    expect(model.isChannelsLast('down1.norm')).toBe(true);
    const methods: MethodName[] = ['gradcam', 'gradcam++', 'layercam', 'eigencam', 'ablationcam'];
    const last = await explain(model, x, { methods, layer: 'down1.norm' });
    const first = await explain(model, x, { methods, layer: 'down1.unpermute' });
    for (const m of methods) {
      const a = last.attributions.find((r) => r.method === m)!;
      const b = first.attributions.find((r) => r.method === m)!;
      expect(a.params['layer'], m).toBe('down1.norm');
      expect(a.raw.dims, m).toEqual(b.raw.dims);
      const ad = a.raw.data as Float32Array;
      const bd = b.raw.data as Float32Array;
      const scale = Math.max(...bd.map(Math.abs));
      expect(scale, m).toBeGreaterThan(0);
      for (let p = 0; p < ad.length; p++) expect(Math.abs(ad[p]! - bd[p]!) / scale, m).toBeLessThan(1e-5);
    }
  });
});
