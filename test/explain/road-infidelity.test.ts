// ROAD (noisy linear imputation), infidelity and max-sensitivity against known answers.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { imputeLinear, infidelity, maxSensitivity, road } from '../../src/methods/metrics/index.js';
import { solveImputation } from '../../src/methods/metrics/linear-imputation.js';
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

describe('the imputation system, solved by multigrid-preconditioned CG where holes are regions', () => {
  const weights: [number, number, number][] = [[1, 1, 1 / 12], [0, 1, 1 / 6], [-1, 1, 1 / 12], [1, -1, 1 / 12], [0, -1, 1 / 6], [-1, -1, 1 / 12], [1, 0, 1 / 6], [-1, 0, 1 / 6]];
  /** Each removed pixel the weighted mean of its in-image neighbours, by dense Gaussian elimination in float64. */
  function directSolve(plane: Float32Array, h: number, w: number, removed: Uint8Array): Float64Array {
    const unknowns: number[] = [];
    const index = new Map<number, number>();
    for (let p = 0; p < h * w; p++) if (removed[p]) index.set(p, unknowns.push(p) - 1);
    const m = unknowns.length;
    const a = Array.from({ length: m }, () => new Float64Array(m + 1));
    unknowns.forEach((p, i) => {
      const y = Math.floor(p / w);
      const x = p % w;
      for (const [dy, dx, wt] of weights) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || xx < 0 || yy >= h || xx >= w) continue;
        a[i]![i]! += wt;
        const q = yy * w + xx;
        if (removed[q]) a[i]![index.get(q)!]! -= wt;
        else a[i]![m]! += wt * plane[q]!;
      }
    });
    for (let col = 0; col < m; col++) {
      let pivot = col;
      for (let r = col + 1; r < m; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
      [a[col], a[pivot]] = [a[pivot]!, a[col]!];
      for (let r = 0; r < m; r++) {
        if (r === col) continue;
        const f = a[r]![col]! / a[col]![col]!;
        if (f !== 0) for (let k = col; k <= m; k++) a[r]![k]! -= f * a[col]![k]!;
      }
    }
    const out = Float64Array.from(plane);
    unknowns.forEach((p, i) => (out[p] = a[i]![m]! / a[i]![i]!));
    return out;
  }
  const h = 18;
  const w = 21;
  const masks: Record<string, (y: number, x: number, i: number) => boolean> = {
    'one region': (y, x) => y > 2 && y < 15 && x > 3 && x < 19,
    'scattered pixels': (_y, _x, i) => (i * 7919) % 5 < 2,
    '90% removed, a band kept': (y, x) => (x + 2 * y) % 17 > 2,
    'touching the border': (y, x) => y < 10 && x < 12,
  };
  for (const [name, inside] of Object.entries(masks)) {
    it(`equals a direct solve: ${name}`, () => {
      const removed = Uint8Array.from({ length: h * w }, (_, i) => (inside(Math.floor(i / w), i % w, i) ? 1 : 0));
      const image = Float32Array.from({ length: 2 * h * w }, (_, i) => Math.sin(i * 0.37) + (i % 5) * 0.1);
      const expected = [0, 1].map((c) => directSolve(image.subarray(c * h * w, (c + 1) * h * w), h, w, removed));
      imputeLinear(image, 2, h, w, removed, 0, () => 0);
      for (let c = 0; c < 2; c++) for (let p = 0; p < h * w; p++) expect(image[c * h * w + p]!).toBeCloseTo(expected[c]![p]!, 5);
    });
  }

  it('needs few iterations for a hole most of a 224x224 image wide (Jacobi-preconditioned CG needed about one per pixel of its width)', () => {
    const side = 224;
    const removed = Uint8Array.from({ length: side * side }, (_, i) => (Math.floor(i / side) > 20 && Math.floor(i / side) < 210 && i % side > 10 && i % side < 200 ? 1 : 0));
    const image = Float32Array.from({ length: side * side }, (_, i) => Math.sin(i * 0.013) + (i % 7) * 0.05);
    const before = image.slice();
    const [iterations] = solveImputation(image, 1, side, side, removed);
    expect(iterations).toBeLessThanOrEqual(30);
    // the residual of the returned solution, with the stencil written out again
    let res = 0;
    let rhs = 0;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const p = y * side + x;
        if (!removed[p]) continue;
        let s = 0;
        let b = 0;
        for (const [dy, dx, wt] of weights) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= side || xx >= side) continue;
          const q = yy * side + xx;
          s += wt * (image[p]! - (removed[q] ? image[q]! : 0));
          if (!removed[q]) b += wt * before[q]!;
        }
        res += (b - s) ** 2;
        rhs += b * b;
      }
    }
    expect(Math.sqrt(res / rhs)).toBeLessThan(1e-6);
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

  it('takes the explanation of the image itself when the caller has it, rather than computing it again', async () => {
    const model = courseModel(engine, 3);
    const x = f32([1, 1, 28, 28], Array.from({ length: 784 }, (_, i) => 0.5 + 0.3 * Math.sin(i / 7)));
    const methods = ['saliency', 'gradient'] as const;
    const e = await explain(model, x, { methods: [...methods], target: [4] });
    const own = await maxSensitivity(model, x, Int32Array.of(4), methods, {}, { samples: 3, seed: 5 });
    const given = await maxSensitivity(model, x, Int32Array.of(4), methods, {}, { samples: 3, seed: 5, original: e });
    expect(given).toEqual(own);
    // the given maps are the reference: halved, every copy is farther from them
    const halved = { ...e, attributions: e.attributions.map((a) => ({ ...a, map: f32([...a.map.dims], Array.from(a.map.data as Float32Array, (v) => v / 2)) })) };
    const off = await maxSensitivity(model, x, Int32Array.of(4), methods, {}, { samples: 3, seed: 5, original: halved });
    for (const m of methods) expect(off[m]![0]! - own[m]![0]!, m).toBeGreaterThan(0.5);
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
