// ROAD (noisy linear imputation), infidelity and max-sensitivity against known answers.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { imputeLinear, infidelity, maxSensitivity, road } from '../../src/methods/metrics/index.js';
import { courseModel, inRegion, linearModel, regionInputs, regionModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());
const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

describe('noisy linear imputation', () => {
  it('fills a hole in a linear ramp with the ramp (the 8-neighbour weights are symmetric), and leaves kept pixels alone', () => {
    const h = 12;
    const w = 10;
    const ramp = (c: number, y: number, x: number): number => 0.3 * y - 0.2 * x + c;
    const image = Float32Array.from({ length: 2 * h * w }, (_, i) => ramp(Math.floor(i / (h * w)), Math.floor((i % (h * w)) / w), i % w));
    const removed = new Uint8Array(h * w);
    for (let y = 3; y < 9; y++) for (let x = 2; x < 7; x++) removed[y * w + x] = 1;
    removed[5 * w + 8] = 1;
    const before = image.slice();
    imputeLinear(image, 2, h, w, removed, 0, () => 0);
    for (let i = 0; i < image.length; i++) expect(image[i]).toBeCloseTo(before[i]!, 4);
  });

  it('adds the noise only to imputed pixels, and refuses to impute everything', () => {
    const image = new Float32Array(16).fill(1);
    const removed = new Uint8Array(16);
    removed[5] = 1;
    imputeLinear(image, 1, 4, 4, removed, 0.5, () => 1);
    expect(image[5]).toBeCloseTo(1.5, 5);
    expect(image[0]).toBe(1);
    expect(() => imputeLinear(image, 1, 4, 4, new Uint8Array(16).fill(1), 0, () => 0)).toThrow(/every pixel removed/);
  });
});

describe('ROAD', () => {
  it('removing the region a model reads first (MoRF) drops the score more than removing it last (LeRF); a random map scores near zero', async () => {
    // Bright region on a dark background: imputing the region from its surroundings removes
    // what the model reads; imputing the background from the background changes little.
    const model = regionModel(engine);
    const noise = regionInputs(2);
    const x = f32([2, 3, 16, 16], Array.from(noise.data as Float32Array, (v, i) => (inRegion(Math.floor((i % 256) / 16), i % 16) ? 1 : 0.1 * v)));
    const truth = f32([2, 16, 16], Array.from({ length: 512 }, (_, i) => (inRegion(Math.floor((i % 256) / 16), i % 16) ? 1 + (i % 7) * 0.01 : 0)));
    const [good, random] = await road(model, x, Int32Array.of(0, 0), [truth, randomMaps(2, 16, 16, 3)], { fractions: [0.1, 0.3, 0.5], score: 'logit' });
    for (let i = 0; i < 2; i++) {
      expect(good!.meanMorf[i]).toBeLessThan(good!.meanLerf[i]!);
      expect(good!.combined[i]).toBeGreaterThan(Math.abs(random!.combined[i]!) * 2);
    }
    expect(good!.fractions).toEqual([0.1, 0.3, 0.5]);
    expect(good!.morf[0]).toHaveLength(3);
  });
});

describe('infidelity and max-sensitivity', () => {
  it('the exact attribution of a linear model has zero infidelity; other maps do not', async () => {
    const { model, weights } = linearModel(engine);
    const x = f32([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i / 16));
    const exact = f32([1, 4, 4], weights.subarray(16, 32));
    const [perfect, scrambled] = await infidelity(model, x, Int32Array.of(1), [exact, randomMaps(1, 4, 4, 9)], { samples: 20 });
    expect(perfect![0]).toBeLessThan(1e-9);
    expect(scrambled![0]).toBeGreaterThan(1e-4);
    // Without normalization the scale matters: twice the exact map is off.
    const [doubled] = await infidelity(model, x, Int32Array.of(1), [f32([1, 4, 4], Array.from(exact.data as Float32Array, (v) => 2 * v))], { samples: 20, normalize: false });
    expect(doubled![0]).toBeGreaterThan(1e-4);
  });

  it('a linear model\'s gradient does not move under perturbation (sensitivity 0); input x gradient does, by at most the perturbation', async () => {
    const { model } = linearModel(engine);
    const x = f32([2, 1, 4, 4], Array.from({ length: 32 }, (_, i) => 0.5 + (i % 5) / 10));
    const s = await maxSensitivity(model, x, Int32Array.of(0, 2), ['gradient', 'input-x-gradient'], {}, { samples: 6, radius: 0.05 });
    for (const v of s['gradient']!) expect(v).toBeLessThan(1e-6);
    for (const v of s['input-x-gradient']!) {
      expect(v).toBeGreaterThan(1e-4);
      // |W (x + d) - W x| / |W x| <= max|d| / min|x| = 0.05 / 0.5
      expect(v).toBeLessThanOrEqual(0.1 + 1e-6);
    }
  });

  it('a seeded method keeps its noise for the perturbed copies: a vanishing perturbation moves SmoothGrad or GradientSHAP by ~nothing', async () => {
    const model = courseModel(engine, 3);
    const x = f32([2, 1, 28, 28], Array.from({ length: 2 * 784 }, (_, i) => 0.5 + 0.3 * Math.sin(i / 7) * Math.cos(i / 41) + 0.1 * Math.sin(i * 1.7)));
    // Each perturbed copy drew the noise of another batch position, so this measured the methods'
    // Monte Carlo spread (SmoothGrad 0.97 against saliency's 0.35 on SqueezeNet's cat).
    const s = await maxSensitivity(model, x, Int32Array.of(0, 2), ['smoothgrad', 'gradient-shap', 'saliency'], { smoothgrad: { samples: 8 }, shap: { samples: 8 } }, { samples: 3, radius: 1e-6 });
    for (const m of ['smoothgrad', 'gradient-shap', 'saliency']) for (const v of s[m]!) expect(v, m).toBeLessThan(1e-3);
  });

  it('runs on every map an explanation makes', async () => {
    const model = regionModel(engine);
    const x = regionInputs(1);
    const e = await explain(model, x, { methods: ['gradcam', 'lrp'] });
    const inf = await infidelity(model, x, e.targets, e.attributions.map((a) => a.map), { samples: 4 });
    for (const v of inf) expect(Number.isFinite(v[0])).toBe(true);
  });
});
