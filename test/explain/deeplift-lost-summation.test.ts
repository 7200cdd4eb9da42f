// DeepLIFT's summation-to-delta is exact up to float32 rounding, except where the baseline puts a
// normalization at a constant map (zeros through a bias-free stem into LayerNorm): there the
// multipliers grow by ~1/sqrt(eps) per layer and the sum is lost. The result then says so and
// names the way out; with a baseline that keeps the maps varying it holds and nothing is said.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { Model } from '../../src/models/model.js';
import { convnextLike } from '../support/unseen-models.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const image: Tensor = { dtype: 'float32', dims: [1, 3, 64, 64], data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37) * 1.5) };

describe('DeepLIFT on a ConvNeXt-shaped net without biases', () => {
  const model = new Model(convnextLike(64, 5, 3, [8, 16, 32, 64], false), engine, 'convnext-like');

  it('a zero baseline loses summation-to-delta, and the result says where to look and what to use', async () => {
    const e = await explain(model, image, { methods: ['deeplift'], deeplift: { baseline: 'zero' }, firstIndex: 4 });
    const a = e.attributions[0]!;
    expect(a.completeness![0]!.relativeGap).toBeGreaterThan(0.01);
    expect(a.notes.join('\n')).toMatch(/deeplift's contributions do not add up to the score's change on image 5 \(gap .*\): float32 lost summation-to-delta.*LayerNorm.*black or blurred/);
  });

  it('a black baseline keeps it to float32 rounding, with no note', async () => {
    const e = await explain(model, image, { methods: ['deeplift', 'deeplift-shap'], deeplift: { baseline: 'black' } });
    for (const a of e.attributions) {
      expect(a.completeness![0]!.relativeGap, a.method).toBeLessThan(1e-3);
      expect(a.notes.filter((n) => n.includes('summation-to-delta')), a.method).toEqual([]);
    }
  });
});
