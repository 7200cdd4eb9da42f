// Feature ablation, KernelSHAP and LIME over image segments: known answers on a model linear in
// its input, Shapley values by enumeration on a nonlinear one, efficiency, seeds, bounds, batching.
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { tensorToRaw } from '../../src/io/pixels.js';
import { explain, type ExplainOptions } from '../../src/methods/explain/index.js';
import { explainReport } from '../../src/methods/explain/report.js';
import { resolveBaseline } from '../../src/methods/explain/integrated-gradients.js';
import { constrainedShapley, kernelShapCoalitions, lassoFit, lassoNote, shapleySizeDistribution, weightedLasso, weightedRidge } from '../../src/methods/explain/segment-perturbation.js';
import { maskFromImage, maskSegmentations, segmentImage, type Segmentation } from '../../src/methods/explain/segments.js';
import type { RawImage } from '../../src/io/image.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { uniformSource } from '../../src/methods/explain/arrays.js';
import { hintForStudio } from '../../src/util/ways-out.js';
import { rng } from '../support/rng.js';
import { courseModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const [H, W] = [12, 16];
const PREP = { size: [H, W] as [number, number], channels: 'rgb' as const, range: [0, 1] as [number, number], mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3], resize: 'stretch' as const };

/** logits = W x + b over a [3, 12, 16] input (ImageNet-like normalization, so black is not zero). */
function linear(): { model: Model; weights: Float32Array } {
  const rand = rng(21);
  const b = new GraphBuilder();
  b.graph.name = 'linear_rgb';
  const x = b.input('input', 'float32', ['N', 3, H, W]);
  const flat = b.op('Flatten', [x], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const weights = Float32Array.from({ length: 2 * 3 * H * W }, () => rand() * 2 - 1);
  const w = b.initializer('fc.weight', { dtype: 'float32', dims: [2, 3 * H * W], data: weights });
  const bias = b.initializer('fc.bias', { dtype: 'float32', dims: [2], data: Float32Array.of(0.3, -0.2) });
  b.output(b.op('Gemm', [flat, w, bias], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b'], preprocessing: PREP });
  return { model: new Model(g, engine, 'linear-rgb'), weights };
}

/** Images of a few colour patches (so SLIC has edges to find), in model input space from 8-bit pixels. */
function patchImages(n: number, seed = 4): Tensor {
  const rand = rng(seed);
  const data = new Float32Array(n * 3 * H * W);
  for (let i = 0; i < n; i++) {
    const colours = Array.from({ length: 4 }, () => [rand(), rand(), rand()].map((v) => Math.round(v * 255)));
    const [cy, cx] = [3 + Math.floor(rand() * 6), 4 + Math.floor(rand() * 8)];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const patch = colours[(y < cy ? 0 : 2) + (x < cx ? 0 : 1)]!;
        for (let c = 0; c < 3; c++) data[((i * 3 + c) * H + y) * W + x] = (patch[c]! / 255 - PREP.mean[c]!) / PREP.std[c]!;
      }
    }
  }
  return { dtype: 'float32', dims: [n, 3, H, W], data };
}

/** The exact per-segment contributions w . (x - b) of a linear model, per image. */
function exactContributions(weights: Float32Array, target: number, x: Tensor, baseline: Tensor, segs: Segmentation[]): Float64Array[] {
  const per = 3 * H * W;
  const xd = x.data as Float32Array;
  const bd = baseline.data as Float32Array;
  return segs.map((seg, i) => {
    const out = new Float64Array(seg.count);
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) out[seg.labels[p]!]! += weights[target * per + c * H * W + p]! * (xd[i * per + c * H * W + p]! - bd[(bd.length === per ? 0 : i * per) + c * H * W + p]!);
    return out;
  });
}

function segmentsOf(model: Model, x: Tensor, o: Parameters<typeof segmentImage>[1]): Segmentation[] {
  return Array.from({ length: x.dims[0]! }, (_, i) => segmentImage(tensorToRaw(x, model.meta.preprocessing, i), o));
}

/** Checks the map gives each pixel its segment's expected value. */
function expectPerSegment(map: Tensor, segs: Segmentation[], expected: Float64Array[], digits: number): void {
  const d = map.data as Float32Array;
  segs.forEach((seg, i) => {
    for (let p = 0; p < H * W; p++) expect(d[i * H * W + p]!, `image ${i} pixel ${p}`).toBeCloseTo(expected[i]![seg.labels[p]!]!, digits);
  });
}

describe('on a model linear in its input', () => {
  const { model, weights } = linear();
  const x = patchImages(2);

  for (const [segmentation, baseline] of [['slic', 'zero'], ['grid', 'black'], ['slic', 'mean']] as const) {
    it(`feature ablation, KernelSHAP and LIME (linear fit) equal w . (x - b) per segment (${segmentation}, baseline ${baseline})`, async () => {
      const segments = { segmentation, count: 8, baseline, samples: 64, regression: 'linear' as const };
      const e = await explain(model, x, { methods: ['feature-ablation', 'kernel-shap', 'lime'], target: 1, segments, batchSize: 5 });
      const segs = segmentsOf(model, x, { kind: segmentation, segments: 8 });
      let b: Tensor;
      if (baseline === 'mean') {
        const xd = x.data as Float32Array;
        const data = new Float32Array(xd.length);
        for (let p = 0; p < 2 * 3; p++) {
          let s = 0;
          for (let q = 0; q < H * W; q++) s += xd[p * H * W + q]!;
          data.fill(s / (H * W), p * H * W, (p + 1) * H * W);
        }
        b = { dtype: 'float32', dims: x.dims, data };
      } else b = resolveBaseline(model, x, baseline, 1);
      const exact = exactContributions(weights, 1, x, b, segs);
      // the exact answer is not trivially small: each image has segments of both signs worth > 0.1
      for (const v of exact) expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.1);
      for (const a of e.attributions) {
        expect(a.signed).toBe(true);
        expect(a.raw.dims).toEqual([2, 1, H, W]);
        expect(a.params['segments']).toEqual(segs.map((s) => s.count));
        expectPerSegment(a.map, segs, exact, 4);
      }
    });
  }

  it('KernelSHAP from sampled coalitions (more segments than exhaustive enumeration allows) is exact too', async () => {
    const e = await explain(model, x, { methods: ['kernel-shap'], target: 0, segments: { segmentation: 'grid', count: 24, samples: 120, seed: 3 } });
    const segs = segmentsOf(model, x, { kind: 'grid', segments: 24 });
    expect(segs[0]!.count).toBe(24);
    const a = e.attributions[0]!;
    expect(a.params['coalitions']).toEqual(['122 (sampled, paired)', '122 (sampled, paired)']);
    expectPerSegment(a.map, segs, exactContributions(weights, 0, x, resolveBaseline(model, x, 'zero', 1), segs), 4);
    // Each distinct coalition is scored once (each image draws from its own stretch of the stream).
    const distinct = [0, 1].map((img) => new Set(kernelShapCoalitions(24, 120, uniformSource(3, img * 2 ** 24)).rows.map((z) => z.join(''))).size);
    expect(a.params['forwardPasses']).toEqual(distinct.map((d) => d + 2));
    expect(a.params['duplicateCoalitions']).toEqual(distinct.map((d) => 120 - d));
    expect(Math.max(...distinct)).toBeLessThan(120);
  });

  it('LIME\'s default ridge shrinks the same weights towards zero, and alpha 0 is the linear fit', async () => {
    const segments = { segmentation: 'grid' as const, count: 6, samples: 200, seed: 1 };
    const [ridge, zero, plain] = await Promise.all([
      explain(model, x, { methods: ['lime'], target: 0, segments }),
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, alpha: 0 } }),
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, regression: 'linear' } }),
    ]);
    const norm = (t: Tensor): number => Math.hypot(...(t.data as Float32Array));
    expect(norm(ridge.attributions[0]!.map)).toBeLessThan(norm(plain.attributions[0]!.map));
    expect(norm(ridge.attributions[0]!.map)).toBeGreaterThan(0.5 * norm(plain.attributions[0]!.map));
    const [z, p] = [zero.attributions[0]!.map.data as Float32Array, plain.attributions[0]!.map.data as Float32Array];
    for (let i = 0; i < z.length; i++) expect(z[i]).toBeCloseTo(p[i]!, 5);
    expect(ridge.attributions[0]!.params).toMatchObject({ regression: 'ridge', alpha: 1, kernelWidth: 1, samples: 200 });
  });

  it('LIME\'s lasso (Captum\'s surrogate) defaults to alpha 0.01, nears the linear fit as alpha goes to 0, and zeroes every weight at a large alpha', async () => {
    const segments = { segmentation: 'grid' as const, count: 6, samples: 200, seed: 1 };
    const [lasso, tiny, plain, huge] = await Promise.all([
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, regression: 'lasso' } }),
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, regression: 'lasso', alpha: 1e-12 } }),
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, regression: 'linear' } }),
      explain(model, x, { methods: ['lime'], target: 0, segments: { ...segments, regression: 'lasso', alpha: 1e6 } }),
    ]);
    expect(lasso.attributions[0]!.params).toMatchObject({ regression: 'lasso', alpha: 0.01, kernelWidth: 1 });
    const [t, p] = [tiny.attributions[0]!.map.data as Float32Array, plain.attributions[0]!.map.data as Float32Array];
    for (let i = 0; i < t.length; i++) expect(t[i]).toBeCloseTo(p[i]!, 4);
    expect([...(huge.attributions[0]!.map.data as Float32Array)].every((v) => v === 0)).toBe(true);
  });
});

describe('with a feature mask (Captum\'s feature_mask)', () => {
  const { model, weights } = linear();
  const x = patchImages(2, 8);
  /** Two regions split along a diagonal (image 0) or a ring (image 1), labelled 7 and -3: any integers are segments. */
  const inA = (img: number, y: number, xx: number): boolean => (img === 0 ? y + xx < 12 : Math.hypot(y - 5.5, xx - 7.5) < 4);
  const maskOf = (img: number): Int32Array => Int32Array.from({ length: H * W }, (_, p) => (inA(img, Math.floor(p / W), p % W) ? 7 : -3));
  /** w . (x - 0) over each region, summed by hand: [region of the first pixel, the other]. */
  const exact = (img: number, target: number): [number, number] => {
    const sums: [number, number] = [0, 0];
    const firstIsA = inA(img, 0, 0);
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) sums[inA(img, Math.floor(p / W), p % W) === firstIsA ? 0 : 1] += weights[target * 3 * H * W + c * H * W + p]! * (x.data as Float32Array)[img * 3 * H * W + c * H * W + p]!;
    return sums;
  };
  const expectRegions = (map: Tensor, img: number, values: [number, number]): void => {
    const d = map.data as Float32Array;
    const firstIsA = inA(img, 0, 0);
    for (let p = 0; p < H * W; p++) expect(d[img * H * W + p]!, `image ${img} pixel ${p}`).toBeCloseTo(values[inA(img, Math.floor(p / W), p % W) === firstIsA ? 0 : 1], 4);
  };

  it('feature ablation, KernelSHAP and LIME (linear fit) give each of 2 given regions exactly w . (x - b) over it', async () => {
    const perImage: Tensor = { dtype: 'float32', dims: [2, 1, H, W], data: Float32Array.from([...maskOf(0), ...maskOf(1)]) };
    const e = await explain(model, x, { methods: ['feature-ablation', 'kernel-shap', 'lime'], target: 1, segments: { mask: perImage, regression: 'linear', samples: 64 } });
    for (const a of e.attributions) {
      expect(a.params, a.method).toMatchObject({ segmentation: 'mask', segments: [2, 2] });
      expect(a.params['segmentsAsked'], a.method).toBeUndefined();
      for (const img of [0, 1]) expectRegions(a.map, img, exact(img, 1));
    }
    // one [H, W] mask serves every image
    const shared = await explain(model, x, { methods: ['feature-ablation'], target: 0, segments: { mask: { dtype: 'int32', dims: [H, W], data: maskOf(0) } } });
    const d = shared.attributions[0]!.map.data as Float32Array;
    expectRegions(shared.attributions[0]!.map, 0, exact(0, 0));
    const firstIsA = inA(0, 0, 0);
    const image1: [number, number] = [0, 0];
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) image1[inA(0, Math.floor(p / W), p % W) === firstIsA ? 0 : 1] += weights[c * H * W + p]! * (x.data as Float32Array)[3 * H * W + c * H * W + p]!;
    expect(d[H * W]).toBeCloseTo(image1[0], 4);
    expect(d[2 * H * W - 1]).toBeCloseTo(image1[1], 4);
  });

  it('refuses a mask of the wrong size, type, values or count, or with computed-segment options, before any forward pass', async () => {
    const refused = async (segments: NonNullable<ExplainOptions['segments']>, message: RegExp): Promise<void> => {
      let passes = 0;
      await expect(explain(model, x, { methods: ['kernel-shap'], segments, onProgress: (p) => p.phase !== 'prediction' && p.phase !== 'gradient' && passes++ })).rejects.toThrow(message);
      expect(passes).toBe(0);
    };
    const labels = (data: Int32Array | Float32Array, dims: number[]): Tensor => ({ dtype: data instanceof Int32Array ? 'int32' : 'float32', dims, data });
    await refused({ mask: labels(new Int32Array(H * (W + 1)), [H, W + 1]) }, /feature mask has shape \[12, 17\]; it must be a label map at the model's input size 12x16, one for all 2 images or one per image/);
    await refused({ mask: labels(new Int32Array(3 * H * W), [3, 1, H, W]) }, /shape \[3, 1, 12, 16\]/);
    await refused({ mask: labels(Float32Array.from({ length: H * W }, (_, p) => p / 2), [H, W]) }, /holds 0.5 at image 1, row 0, column 1; its values must be whole-number segment labels/);
    // more labels than MAX_SEGMENTS need a larger image than this model's 12x16
    expect(() => maskSegmentations({ dtype: 'int64', dims: [30, 30], data: BigInt64Array.from({ length: 900 }, (_, p) => BigInt(p)) }, 1, 30, 30)).toThrow(/The feature mask has more than 512 distinct labels: at most 512 segments are allowed/);
    expect(maskSegmentations({ dtype: 'int64', dims: [30, 30], data: BigInt64Array.from({ length: 900 }, (_, p) => BigInt(p % 512)) }, 1, 30, 30)[0]!.count).toBe(512);
    await refused({ mask: labels(maskOf(0), [H, W]), count: 10 }, /Segment count applies only to computed segments; a feature mask gives the segments itself/);
    await refused({ mask: labels(maskOf(0), [H, W]), segmentation: 'grid', compactness: 3 }, /Segment segmentation, compactness apply only to computed segments/);
  });

  it('refuses what is no tensor, and int64 labels past 2^53 (which would merge), before any forward pass', async () => {
    const refused = async (mask: unknown, message: RegExp): Promise<void> => {
      let passes = 0;
      const run = explain(model, x, { methods: ['lime'], segments: { mask: mask as Tensor, samples: 8 }, onProgress: (p) => p.phase !== 'prediction' && p.phase !== 'gradient' && passes++ });
      await expect(run).rejects.toBeInstanceOf(ConvLensError);
      await expect(run).rejects.toThrow(message);
      expect(passes).toBe(0);
    };
    // a file name, null, and an object without dims threw TypeErrors
    await refused('mask.png', /The feature mask must be a tensor \{ dtype, dims, data \}, got a string/);
    await refused(null, /must be a tensor \{ dtype, dims, data \}, got null/);
    await refused({ dtype: 'int32', data: new Int32Array(H * W) }, /must be a tensor \{ dtype, dims, data \}, got an object/);
    // 2^60 and 2^60 + 1 are one Number: the two regions came out as one segment
    const huge = BigInt64Array.from({ length: H * W }, (_, p) => 2n ** 60n + BigInt(p % 2));
    await refused({ dtype: 'int64', dims: [H, W], data: huge }, /holds 1152921504606846976 at image 1, row 0, column 0, beyond 2\^53: labels that large cannot all be told apart/);
    const safe = BigInt64Array.from({ length: H * W }, (_, p) => 2n ** 52n + BigInt(p % 2));
    expect(maskSegmentations({ dtype: 'int64', dims: [H, W], data: safe }, 1, H, W)[0]!.count).toBe(2);
  });
});

describe('mask images', () => {
  const prep = { ...PREP, size: [4, 4] as [number, number] };
  /** An 8x8 RGB image whose pixel (y, x) has colour number f(y, x) (as red). */
  const image = (f: (y: number, x: number) => number): RawImage => ({ width: 8, height: 8, channels: 3, data: Uint8Array.from({ length: 192 }, (_, i) => (i % 3 === 0 ? 10 * f(Math.floor(i / 3 / 8), Math.floor(i / 3) % 8) : 0)) });

  it('takes each colour for a segment and resizes by nearest neighbour with the images\' geometry', () => {
    // stretched: every other pixel; labels numbered in raster order of first appearance
    const { mask, colours } = maskFromImage(image((y, x) => 5 + (x >= 4 ? 1 : 0) + (y >= 6 ? 2 : 0)), prep);
    expect(colours).toBe(4);
    expect(mask.dims).toEqual([1, 1, 4, 4]);
    expect([...mask.data]).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3]);
    // centre crop keeping half of the side: the middle 4x4 of the 8x8 image, unscaled
    const cropped = maskFromImage(image((y, x) => y * 8 + x), { ...prep, resize: 'crop', crop: 0.5 });
    const ids = [...cropped.mask.data as Int32Array];
    expect(new Set(ids).size).toBe(16);
    expect(ids.map((id, k) => id - ids[0]! - (Math.floor(k / 4) * 8 + (k % 4)))).toEqual(new Array(16).fill(0));
  });

  it('refuses more than 512 colours, naming the likely cause', () => {
    const flat: RawImage = { width: 30, height: 30, channels: 1, data: new Uint8Array(900) };
    const rgb: RawImage = { width: 30, height: 30, channels: 3, data: Uint8Array.from({ length: 2700 }, (_, i) => (i % 3 === 0 ? Math.floor(i / 3) % 256 : i % 3 === 1 ? Math.floor(i / 768) : 0)) };
    expect(() => maskFromImage(flat, prep)).not.toThrow();
    expect(() => maskFromImage(rgb, prep, 'Mask "m.jpg"')).toThrow(/Mask "m.jpg" has more than 512 distinct colours[\s\S]*/);
  });
});

describe('on a nonlinear model', () => {
  const model = courseModel(engine, 1);
  const x: Tensor = (() => {
    // smooth shapes with a little noise (SLIC on pure noise merges its fragments into a few segments)
    const rand = rng(9);
    const data = new Float32Array(2 * 28 * 28);
    for (let i = 0; i < 2; i++) {
      for (let p = 0; p < 784; p++) {
        const [y, xx] = [Math.floor(p / 28), p % 28];
        const v = 0.5 + 0.4 * Math.sin((xx + 5 * i) / 3) * Math.cos((y - 3 * i) / 4) + 0.05 * (rand() - 0.5);
        data[i * 784 + p] = Math.round(Math.min(1, Math.max(0, v)) * 255) / 255;
      }
    }
    return { dtype: 'float32', dims: [2, 1, 28, 28], data };
  })();

  it('KernelSHAP over all coalitions of 4 segments equals the Shapley values by their definition', async () => {
    const e = await explain(model, x, { methods: ['kernel-shap'], target: 3, segments: { segmentation: 'grid', count: 4 } });
    const segs = segmentsOf(model, x, { kind: 'grid', segments: 4 });
    // score every coalition directly, then phi_j = sum_S |S|! (m - |S| - 1)! / m! (v(S + j) - v(S))
    const m = 4;
    const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
    const phi = await Promise.all(
      [0, 1].map(async (img) => {
        const rows = new Float32Array(16 * 784);
        for (let bits = 0; bits < 16; bits++) for (let p = 0; p < 784; p++) rows[bits * 784 + p] = (bits >> segs[img]!.labels[p]!) & 1 ? (x.data as Float32Array)[img * 784 + p]! : 0;
        const out = (await model.run({ dtype: 'float32', dims: [16, 1, 28, 28], data: rows }))[model.output]!.data as Float32Array;
        const v = (bits: number): number => out[bits * 10 + 3]!;
        return Float64Array.from({ length: m }, (_, j) => {
          let s = 0;
          for (let bits = 0; bits < 16; bits++) {
            if ((bits >> j) & 1) continue;
            const k = [0, 1, 2, 3].filter((q) => (bits >> q) & 1).length;
            s += ((fact(k) * fact(m - k - 1)) / fact(m)) * (v(bits | (1 << j)) - v(bits));
          }
          return s;
        });
      }),
    );
    expect(Math.max(...phi.flatMap((p) => [...p].map(Math.abs)))).toBeGreaterThan(0.01);
    expectPerSegment28(e.attributions[0]!.map, segs, phi);
  });

  it('KernelSHAP is efficient: the segment values sum to f(x) - f(baseline) to float rounding, also when sampled', async () => {
    const e = await explain(model, x, { methods: ['kernel-shap'], target: 2, segments: { count: 30, samples: 64, seed: 5 } });
    const a = e.attributions[0]!;
    expect((a.params['segments'] as number[]).every((m) => m >= 15)).toBe(true);
    expect(a.params['coalitions']).toEqual(['66 (sampled, paired)', '66 (sampled, paired)']);
    for (const c of a.completeness!) {
      expect(Math.abs(c.scoreDifference)).toBeGreaterThan(1e-3);
      expect(Math.abs(c.gap)).toBeLessThan(1e-9 + 1e-6 * Math.abs(c.scoreDifference));
    }
    // and the sum of each segment's value once (not per pixel) is that sum
    const segs = segmentsOf(model, x, { segments: 30 });
    const d = a.map.data as Float32Array;
    segs.forEach((seg, i) => {
      const value = new Float64Array(seg.count);
      for (let p = 0; p < 784; p++) value[seg.labels[p]!] = d[i * 784 + p]!;
      expect(value.reduce((s, v) => s + v, 0)).toBeCloseTo(a.completeness![i]!.scoreDifference, 4);
    });
  });

  it('the same seed gives the same map, another seed another; chunks give what one batch gives', async () => {
    const o = (seed: number): ExplainOptions => ({ methods: ['kernel-shap', 'lime'], segments: { count: 30, samples: 48, seed } });
    const [a, b, c] = await Promise.all([explain(model, x, o(7)), explain(model, x, o(7)), explain(model, x, o(8))]);
    for (let k = 0; k < 2; k++) {
      expect(a.attributions[k]!.map.data).toEqual(b.attributions[k]!.map.data);
      expect(a.attributions[k]!.map.data).not.toEqual(c.attributions[k]!.map.data);
    }
    const second: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: (x.data as Float32Array).slice(784) };
    const alone = await explain(model, second, { ...o(7), target: [...a.targets].slice(1), firstIndex: 1 });
    for (let k = 0; k < 2; k++) expect(alone.attributions[k]!.map.data).toEqual((a.attributions[k]!.map.data as Float32Array).slice(784));
  });

  it('batches coalitions at the forward batch size, reports progress, and stops on cancel', async () => {
    const totals = new Set<number>();
    let runs = 0;
    await explain(model, x, { methods: ['feature-ablation'], batchSize: 7, segments: { segmentation: 'grid', count: 16 }, onProgress: (p) => {
      if (p.phase !== 'feature-ablation') return;
      totals.add(p.total);
      runs++;
    } });
    // 2 images x (16 segments + the image) = 2 x 3 runs of at most 7
    expect([...totals]).toEqual([6]);
    expect(runs).toBe(6);

    const abort = new AbortController();
    let after = 0;
    const run = explain(model, x, { methods: ['lime'], batchSize: 4, segments: { samples: 200 }, signal: abort.signal, onProgress: (p) => {
      if (p.phase !== 'lime') return;
      after++;
      abort.abort();
    } });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(after).toBe(1);
  });

  it('refuses counts out of bounds before any forward pass, saying which option and why', async () => {
    const refused = async (o: ExplainOptions, message: RegExp): Promise<void> => {
      let passes = 0;
      await expect(explain(model, x, { ...o, onProgress: (p) => p.phase !== 'prediction' && p.phase !== 'gradient' && passes++ })).rejects.toThrow(message);
      expect(passes).toBe(0);
    };
    await refused({ methods: ['kernel-shap'], segments: { samples: 0 } }, /kernel-shap samples must be an integer from 1 to 10000, got 0/);
    await refused({ methods: ['lime'], segments: { samples: 10_001 } }, /from 1 to 10000/);
    await refused({ methods: ['feature-ablation'], segments: { count: 513 } }, /segments must be an integer from 1 to 512/);
    await refused({ methods: ['kernel-shap'], segments: { count: 40, samples: 20 } }, /kernel-shap with 20 samples cannot fit \d+ segments/);
    await refused({ methods: ['lime'], segments: { count: 40, samples: 20, regression: 'linear' } }, /lime with 20 samples cannot fit/);
    await refused({ methods: ['lime'], segments: { kernelWidth: 0 } }, /kernel width must be a positive number/);
    await refused({ methods: ['lime'], segments: { regression: 'linear', alpha: 2 } }, /alpha applies only to regressions "ridge" and "lasso"/);
    await refused({ methods: ['lime'], segments: { regression: 'lasso', alpha: -1 } }, /LIME lasso alpha must be a non-negative number, got -1/);
    await refused({ methods: ['lime'], segments: { regression: 'elastic' as never } }, /Unknown LIME regression "elastic".*/);
    await refused({ methods: ['feature-ablation'], segments: { baseline: 'grey' as never } }, /Unknown baseline "grey"/);
    await refused({ methods: ['kernel-shap'], segments: { seed: -1 } }, /seed must be an integer/);
    // LIME's ridge is defined with fewer samples than segments
    await expect(explain(model, x, { methods: ['lime'], segments: { count: 40, samples: 20 } })).resolves.toBeDefined();
  });

  it('refuses a LIME kernel so narrow that every coalition weighs 0 (an all-zero map), before any forward pass', async () => {
    let passes = 0;
    for (const kernelWidth of [1e-3, 1e-200]) {
      const run = explain(model, x, { methods: ['lime'], segments: { kernelWidth, samples: 30 }, onProgress: (p) => p.phase !== 'prediction' && p.phase !== 'gradient' && passes++ });
      await expect(run).rejects.toThrow(new RegExp(`LIME's kernel width ${kernelWidth} gives (every one|all but one) of image 1's 30 coalitions weight 0: .* underflows at their cosine distances d to the image \\(typically [0-9.e-]+\\), so the fit would be all zeros`));
      await expect(run).rejects.toMatchObject({ hint: expect.stringMatching(/Use a wider kernel: about 1 \(Captum's default\), or about the typical distance, [0-9.e-]+ here \(CLI: --lime-kernel-width\)/) });
    }
    expect(passes).toBe(0);
    // the width the hint names gives a map that is not all zeros
    const e = (await explain(model, x, { methods: ['lime'], segments: { kernelWidth: 1e-3, samples: 30 } }).catch((err: ConvLensError) => err)) as ConvLensError;
    const typical = Number(/typical distance, ([0-9.e-]+) here/.exec(e.hint!)![1]);
    const ok = await explain(model, x, { methods: ['lime'], segments: { kernelWidth: typical, samples: 30 } });
    expect((ok.attributions[0]!.map.data as Float32Array).some((v) => v !== 0)).toBe(true);
  });
});

function expectPerSegment28(map: Tensor, segs: Segmentation[], expected: Float64Array[]): void {
  const d = map.data as Float32Array;
  segs.forEach((seg, i) => {
    for (let p = 0; p < 784; p++) expect(d[i * 784 + p]!).toBeCloseTo(expected[i]![seg.labels[p]!]!, 4);
  });
}

describe('the studio\'s request', () => {
  it('passes the page\'s segment parameters (under a method\'s name) to the methods', async () => {
    const { model } = linear();
    const x = patchImages(1);
    const report = await explainReport(model, x, { methods: ['kernel-shap', 'lime'], params: { 'kernel-shap': { segmentation: 'grid', count: 6, samples: 30, seed: 2, baseline: 'black' } } });
    for (const m of report.maps) expect(m.params).toMatchObject({ segmentation: 'grid', segments: [6], samples: 30, seed: 2, baseline: 'black' });
    expect(report.maps.map((m) => m.title)).toEqual(['KernelSHAP', 'LIME']);
  });
});

describe('LIME\'s lasso', () => {
  /** Every coalition of 3 segments, weighted as independent draws keeping segment j with probability p[j] (times 3). */
  function productDesign(p: readonly number[]): { rows: Uint8Array[]; weights: Float64Array } {
    const rows = Array.from({ length: 8 }, (_, bits) => Uint8Array.from(p, (_, j) => (bits >> j) & 1));
    const weights = Float64Array.from(rows, (z) => 3 * z.reduce((w, v, j) => w * (v ? p[j]! : 1 - p[j]!), 1));
    return { rows, weights };
  }

  it('on a design whose weighted columns are uncorrelated, is least squares soft-thresholded by alpha / var(z_j)', () => {
    // Independent draws make the weighted, centred columns orthogonal with variances p (1 - p), so
    // the lasso separates into one soft threshold per coefficient: b_j = S(b_ls_j, alpha / var_j).
    const p = [0.5, 0.2, 0.7];
    const { rows, weights } = productDesign(p);
    const truth = [2, -0.3, 0.05];
    const y = Float64Array.from(rows, (z) => 1 + z.reduce((s, v, j) => s + v * truth[j]!, 0));
    const alpha = 0.03;
    // thresholds 0.12, 0.1875, 0.143: one shrunk, one shrunk past most of its size, one zeroed
    const expected = [2 - 0.12, -0.3 + 0.1875, 0];
    const got = weightedLasso(rows, weights, y, alpha);
    for (let j = 0; j < 3; j++) expect(got[j]).toBeCloseTo(expected[j]!, 9);
    const ls = weightedLasso(rows, weights, y, 0);
    for (let j = 0; j < 3; j++) expect(ls[j]).toBeCloseTo(truth[j]!, 9);
  });

  it('as alpha goes to 0 is the weighted least-squares fit, on a correlated design with noise', () => {
    const rand = rng(5);
    const m = 6;
    const rows = Array.from({ length: 60 }, () => Uint8Array.from({ length: m }, () => (rand() < 0.4 ? 1 : 0)));
    const weights = Float64Array.from(rows, () => 0.1 + rand());
    const y = Float64Array.from(rows, (z) => 0.5 + z.reduce((s, v, j) => s + v * (j - 2.5), 0) + 0.3 * (rand() - 0.5));
    const ls = weightedRidge(rows, weights, y, 0);
    const got = weightedLasso(rows, weights, y, 1e-12);
    for (let j = 0; j < m; j++) expect(got[j]).toBeCloseTo(ls[j]!, 8);
    // a penalty shrinks the L1 norm, and one above max |Z'W(y - mean)| / sum w zeroes every weight
    const l1 = (b: Float64Array): number => b.reduce((s, v) => s + Math.abs(v), 0);
    expect(l1(weightedLasso(rows, weights, y, 0.05))).toBeLessThan(l1(ls));
    expect([...weightedLasso(rows, weights, y, 100)]).toEqual(new Array(m).fill(0));
  });

  it('stops at the first sweep once a NaN or infinite score has made the fit NaN, rather than sweeping to the cap', () => {
    const rand = rng(9);
    const m = 512;
    const rows = Array.from({ length: 256 }, () => Uint8Array.from({ length: m }, () => (rand() < 0.5 ? 1 : 0)));
    const weights = new Float64Array(256).fill(1);
    for (const bad of [NaN, Infinity]) {
      const y = Float64Array.from(rows, (_, i) => (i === 7 ? bad : rand()));
      const t0 = performance.now();
      const beta = weightedLasso(rows, weights, y, 0.01);
      // 10000 sweeps of 512 x 512 took over 5 s; the normal equations alone take well under 1 s
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(beta.some(Number.isNaN)).toBe(true);
    }
  });

  it('reports its duality gap, and once past sklearn\'s 1000 sweeps stops where sklearn would call it converged', () => {
    const p = [0.5, 0.2, 0.7];
    const { rows, weights } = productDesign(p);
    const y = Float64Array.from(rows, (z) => 1 + 2 * z[0]! - 0.3 * z[1]! + 0.05 * z[2]!);
    expect(Math.abs(lassoFit(rows, weights, y, 0.03).relativeGap)).toBeLessThan(1e-12);
    // more segments than coalitions and a small penalty: the objective settles long before the
    // coefficients stop drifting (this ran to the 10,000-sweep cap)
    const rand = rng(11);
    const m = 64;
    const wide = Array.from({ length: 16 }, () => Uint8Array.from({ length: m }, () => (rand() < 0.5 ? 1 : 0)));
    const w = Float64Array.from(wide, () => 0.2 + rand());
    const scores = Float64Array.from(wide, (z) => z.reduce((t, v, j) => t + v * Math.sin(j), 0) + rand());
    const fit = lassoFit(wide, w, scores, 1e-4);
    expect(fit.sweeps).toBeGreaterThanOrEqual(1000);
    expect(fit.sweeps).toBeLessThan(10_000);
    expect(fit.relativeGap).toBeGreaterThanOrEqual(0);
    expect(fit.relativeGap).toBeLessThanOrEqual(1e-4);
    expect([...fit.beta]).toEqual([...weightedLasso(wide, w, scores, 1e-4)]);
    // the gap shrinks as the fit goes on; cut short, it is above sklearn's tolerance
    const early = lassoFit(wide, w, scores, 1e-4, 50);
    expect(early.sweeps).toBe(50);
    expect(early.relativeGap).toBeGreaterThan(1e-4);
    expect(lassoFit(wide, w, scores, 1e-4, 500).relativeGap).toBeLessThan(early.relativeGap);
    const note = lassoNote(4, early, 1e-4, 16);
    expect(note).toMatch(/^LIME's lasso fit has not converged on image 5 after 50 sweeps: its duality gap is [\d.]+% of the scores' weighted variance \(sklearn warns above 0.01%\)/);
    expect(note).toContain('(CLI: --lime-alpha; 0.0001 here, Captum\'s is 0.01)');
    expect(hintForStudio(note)).not.toMatch(/CLI|--/);
  });

  it('gives a segment that never varies no weight', () => {
    const { rows, weights } = productDesign([0.5, 0.5, 0.5]);
    for (const z of rows) z[1] = 1;
    const y = Float64Array.from(rows, (z) => 2 * z[0]! + z[2]!);
    const got = weightedLasso(rows, weights, y, 0);
    expect([...got].map((v) => Number(v.toFixed(9)))).toEqual([2, 0, 1]);
  });
});

describe('KernelSHAP internals', () => {
  it('the size distribution is the Shapley kernel\'s, symmetric and normalized', () => {
    const p = shapleySizeDistribution(6);
    expect(p[0]).toBe(0);
    expect(p[6]).toBe(0);
    expect([...p].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(p[1]).toBeCloseTo(p[5]!, 12);
    expect(p[1]! / p[3]!).toBeCloseTo(9 / 5, 12); // (k (m - k)): 3*3 against 1*5
  });

  it('sampled coalitions come in complementary pairs and are never empty or full', () => {
    const { rows, exhaustive } = kernelShapCoalitions(20, 50, rng(2));
    expect(exhaustive).toBe(false);
    expect(rows).toHaveLength(50);
    for (let i = 0; i < 50; i += 2) {
      for (let j = 0; j < 20; j++) expect(rows[i]![j]! + rows[i + 1]![j]!).toBe(1);
      const k = rows[i]!.reduce((s, v) => s + v, 0);
      expect(k > 0 && k < 20).toBe(true);
    }
  });

  it('the constrained regression recovers an additive function exactly and keeps the sum', () => {
    const phi = Float64Array.of(0.5, -1, 2, 0.25, 3);
    const { rows, weights } = kernelShapCoalitions(5, 1000, rng(1));
    const y = Float64Array.from(rows, (z) => z.reduce((s, v, j) => s + v * phi[j]!, 0));
    const got = constrainedShapley(rows, weights, y, 4.75);
    for (let j = 0; j < 5; j++) expect(got[j]).toBeCloseTo(phi[j]!, 8);
  });
});
