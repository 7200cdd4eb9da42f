// A blurred baseline or canvas takes its sigma from the caller: a sigma that blurs nothing used
// to give an all-zero attribution without a word, and a huge one a RangeError.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { blurBatch, gaussianBlur } from '../../src/methods/explain/arrays.js';
import { explain } from '../../src/methods/explain/index.js';
import { deletionInsertion, randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { courseModel } from './models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const x: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 29) };

describe('blur sigma', () => {
  it('a sigma that blurs nothing is refused wherever a caller gives one', async () => {
    for (const blurSigma of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const run of [
        () => explain(model, x, { methods: ['integrated-gradients'], integratedGradients: { baseline: 'blurred', blurSigma, steps: 2 } }),
        () => explain(model, x, { methods: ['deeplift'], deeplift: { baseline: 'blurred', blurSigma } }),
        () => explain(model, x, { methods: ['occlusion'], occlusion: { fill: 'blur', blurSigma } }),
        () => deletionInsertion(model, x, Int32Array.of(0), [randomMaps(1, 28, 28)], { steps: 2, blurSigma }),
      ]) {
        const e = await failure(run());
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.message).toBe(`The blur sigma must be a positive number of pixels, got ${blurSigma}.`);
      }
    }
  });

  it('a sigma far beyond the image blurs it to its mean, quickly', async () => {
    const blurred = blurBatch(x, 1e9).data as Float32Array;
    const mean = (x.data as Float32Array).reduce((a, b) => a + b, 0) / 784;
    for (const v of blurred) expect(v).toBeCloseTo(mean, 3);
    const e = await explain(model, x, { methods: ['integrated-gradients'], integratedGradients: { baseline: 'blurred', blurSigma: 1e9, steps: 2 } });
    expect(e.skipped).toEqual([]);
    expect((e.attributions[0]!.map.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('up to the image side the kernel is not cut (scipy\'s truncate 4)', () => {
    const plane = Float32Array.from({ length: 36 }, (_, i) => (i * 7) % 11);
    const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);
    // Reflected borders keep the total; a kernel cut short would not change that, so compare
    // against a direct 1-D convolution of a row-constant plane instead.
    const rows = Float32Array.from({ length: 36 }, (_, i) => i % 6);
    const sigma = 6;
    const radius = 24;
    const weights = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
    const total = weights.reduce((a, b) => a + b, 0);
    const reflect = (i: number): number => {
      let j = ((i % 12) + 12) % 12;
      if (j >= 6) j = 11 - j;
      return j;
    };
    const want = Array.from({ length: 6 }, (_, xx) => weights.reduce((s, wgt, k) => s + (wgt / total) * reflect(xx + k - radius), 0));
    const got = gaussianBlur(rows, 6, 6, sigma);
    for (let xx = 0; xx < 6; xx++) expect(got[xx]).toBeCloseTo(want[xx]!, 5);
    expect(sum(gaussianBlur(plane, 6, 6, 2))).toBeCloseTo(sum(plane), 3);
  });
});
