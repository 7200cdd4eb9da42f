// Every attribution method where the answer is known.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadInputs } from '../../src/io/inputs.js';
import { explain, gaussLegendre, METHOD_NAMES, quadrature, type Attribution, type MethodName } from '../../src/methods/explain/index.js';
import { resizeBilinear } from '../../src/methods/explain/arrays.js';
import { resolveBaseline } from '../../src/methods/explain/integrated-gradients.js';
import { deletionInsertion } from '../../src/methods/metrics/deletion-insertion.js';
import { scoreGradients } from '../../src/methods/explain/session.js';
import { softmax } from '../../src/methods/predict.js';
import { Model } from '../../src/models/model.js';
import { resnet } from '../../src/models/zoo/index.js';
import { randn, rng } from '../support/rng.js';
import { courseModel, inRegion, linearModel, REGION, regionInputs, regionModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const data = (t: Tensor): Float32Array => t.data as Float32Array;
const byMethod = (as: Attribution[], m: MethodName): Attribution => as.find((a) => a.method === m)!;
/** Methods whose map gives every pixel its segment's value (segments straddle the region's edge unless aligned with it). */
const SEGMENT_METHODS: readonly MethodName[] = ['feature-ablation', 'kernel-shap', 'lime'];

describe('a model whose score depends on one region only', () => {
  const model = regionModel(engine);
  const x = regionInputs(2);
  let attrs: Attribution[];
  beforeAll(async () => {
    attrs = (await explain(model, x, { methods: [...METHOD_NAMES], target: 0, batchSize: 7, occlusion: { window: 2, stride: 2 }, smoothgrad: { samples: 8 }, integratedGradients: { steps: 16 }, segments: { segmentation: 'grid', count: 16 } })).attributions;
  });

  it('every input-space method is exactly zero outside the region and not zero inside', () => {
    for (const a of attrs.filter((a) => (!a.layer || a.method === 'guided-gradcam') && !SEGMENT_METHODS.includes(a.method))) {
      const [n, c, h, w] = a.raw.dims as number[];
      const d = data(a.raw);
      for (let i = 0; i < n!; i++) {
        let inside = 0;
        for (let ch = 0; ch < c!; ch++) {
          for (let y = 0; y < h!; y++) {
            for (let xx = 0; xx < w!; xx++) {
              const v = d[((i * c! + ch) * h! + y) * w! + xx]!;
              if (inRegion(y, xx)) inside += Math.abs(v);
              else expect(v, `${a.method} at (${y}, ${xx})`).toBe(0);
            }
          }
        }
        expect(inside, a.method).toBeGreaterThan(0);
      }
    }
  });

  it('the segment methods give the region\'s grid cell the whole score change and the others nothing', () => {
    // a 4 x 4 grid of 4 x 4 cells: the region is exactly cell (1, 2); the score depends on it alone.
    // LIME's ridge penalty leaks a little onto cells sampled together with it (up to 1.1e-3 of it here).
    for (const m of SEGMENT_METHODS) {
      const tolerance = m === 'lime' ? 1e-2 : 1e-6;
      const d = data(byMethod(attrs, m).raw);
      for (let i = 0; i < 2; i++) {
        const inside = Math.abs(d[i * 256 + REGION.top * 16 + REGION.left]!);
        expect(inside, m).toBeGreaterThan(0.01);
        for (let y = 0; y < 16; y++) for (let xx = 0; xx < 16; xx++) if (!inRegion(y, xx)) expect(Math.abs(d[i * 256 + y * 16 + xx]!), `${m} at (${y}, ${xx})`).toBeLessThan(tolerance * inside);
      }
    }
  });

  it('occlusion gives exactly the score drop of each window (non-overlapping windows)', async () => {
    const occ = byMethod(attrs, 'occlusion');
    const logits = data((await model.run(x))[model.output]!);
    // Window at rows 4-5, cols 8-9 of image 0: zero it and score again.
    const one = Float32Array.from(data(x).subarray(0, 768));
    for (let ch = 0; ch < 3; ch++) for (let y = 4; y < 6; y++) for (let xx = 8; xx < 10; xx++) one[ch * 256 + y * 16 + xx] = 0;
    const occluded = data((await model.run({ dtype: 'float32', dims: [1, 3, 16, 16], data: one }))[model.output]!);
    const drop = logits[0]! - occluded[0]!;
    expect(drop).toBeGreaterThan(0);
    for (const [y, xx] of [[4, 8], [5, 9]] as const) expect(data(occ.raw)[y * 16 + xx]).toBeCloseTo(drop, 5);
  });

  it('every CAM-type map is zero outside the region\'s footprint at the layer and peaks inside it', () => {
    // The region (rows 4-7, cols 8-11) after a 3x3 conv and a 2x2 pool covers cells rows 1-4, cols 3-6 of 8x8.
    const footprint = (y: number, xx: number): boolean => y >= 1 && y <= 4 && xx >= 3 && xx <= 6;
    for (const m of ['cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam'] as MethodName[]) {
      const a = byMethod(attrs, m);
      expect(a.raw.dims).toEqual([2, 1, 8, 8]);
      expect(a.layer!.name).toBe('feat');
      const d = data(a.raw);
      for (let i = 0; i < 2; i++) {
        let best = -Infinity;
        let at = [0, 0];
        for (let y = 0; y < 8; y++) {
          for (let xx = 0; xx < 8; xx++) {
            const v = d[i * 64 + y * 8 + xx]!;
            if (!footprint(y, xx)) expect(v, `${m} at cell (${y}, ${xx})`).toBe(0);
            if (v > best) [best, at] = [v, [y, xx]];
          }
        }
        expect(best, m).toBeGreaterThan(0);
        expect(footprint(at[0]!, at[1]!), m).toBe(true);
      }
      // The upsampled map points there too.
      const map = data(a.map);
      let best = 0;
      for (let p = 1; p < 256; p++) if (map[p]! > map[best]!) best = p;
      expect(Math.abs(Math.floor(best / 16) - 5.5) <= 4 && Math.abs((best % 16) - 9.5) <= 4, m).toBe(true);
    }
  });
});

describe('closed forms on a linear model (logits = W x + b)', () => {
  const { model, weights, bias } = linearModel(engine);
  const x: Tensor = { dtype: 'float32', dims: [2, 1, 4, 4], data: Float32Array.from({ length: 32 }, (_, i) => Math.sin(i + 1)) };
  const t = 1;
  const w = weights.subarray(t * 16, (t + 1) * 16);

  it('gradient = W[t]; input x gradient = integrated gradients (zero baseline) = occlusion (1x1, zero fill) = x * W[t]', async () => {
    const e = await explain(model, x, {
      methods: ['gradient', 'input-x-gradient', 'integrated-gradients', 'occlusion'],
      target: t,
      integratedGradients: { baseline: 'zero', steps: 7 },
      occlusion: { window: 1, stride: 1, fill: 'zero' },
    });
    for (let i = 0; i < 2; i++) {
      for (let p = 0; p < 16; p++) {
        const xv = data(x)[i * 16 + p]!;
        expect(data(byMethod(e.attributions, 'gradient').raw)[i * 16 + p]).toBeCloseTo(w[p]!, 6);
        for (const m of ['input-x-gradient', 'integrated-gradients', 'occlusion'] as MethodName[]) expect(data(byMethod(e.attributions, m).raw)[i * 16 + p], m).toBeCloseTo(xv * w[p]!, 5);
      }
      const c = byMethod(e.attributions, 'integrated-gradients').completeness![i]!;
      expect(Math.abs(c.gap)).toBeLessThan(1e-5);
      let logit = bias[t]!;
      for (let p = 0; p < 16; p++) logit += w[p]! * data(x)[i * 16 + p]!;
      expect(c.scoreDifference).toBeCloseTo(logit - bias[t]!, 5);
    }
  });

  it('SmoothGrad of a constant gradient is that gradient; squared is its square; VarGrad is 0', async () => {
    const e = await explain(model, x, { methods: ['smoothgrad', 'smoothgrad-sq', 'vargrad'], target: t, smoothgrad: { samples: 10, noise: 0.3 } });
    for (let p = 0; p < 32; p++) {
      expect(data(byMethod(e.attributions, 'smoothgrad').raw)[p]).toBeCloseTo(w[p % 16]!, 6);
      expect(data(byMethod(e.attributions, 'smoothgrad-sq').raw)[p]).toBeCloseTo(w[p % 16]! ** 2, 6);
      expect(data(byMethod(e.attributions, 'vargrad').raw)[p]).toBeCloseTo(0, 6);
    }
  });

  it('the probability score differentiates softmax: d p_t / dx = p_t (W_t - sum_j p_j W_j)', async () => {
    const e = await explain(model, x, { methods: ['gradient'], target: t, score: 'prob' });
    const logits = data((await model.run(x))[model.output]!);
    for (let i = 0; i < 2; i++) {
      const p = softmax(logits.subarray(i * 3, i * 3 + 3));
      for (let q = 0; q < 16; q++) {
        let mix = 0;
        for (let j = 0; j < 3; j++) mix += p[j]! * weights[j * 16 + q]!;
        expect(data(e.attributions[0]!.raw)[i * 16 + q]).toBeCloseTo(p[t]! * (w[q]! - mix), 6);
      }
      expect(e.images[i]!.target.score).toBeCloseTo(p[t]!, 6);
    }
  });
});

describe('the course CNN (GAP + dense) on the Fashion-MNIST samples', () => {
  const model = courseModel(engine, 1);
  const dir = join(import.meta.dirname, '..', '..', 'samples', 'fashion-mnist');
  let x: Tensor;
  beforeAll(async () => {
    x = (await loadInputs(readdirSync(dir).map((f) => join(dir, f)), model)).batch;
  });

  it('Integrated Gradients is complete within 1% at 50 steps (black and blurred baselines)', async () => {
    for (const baseline of ['black', 'blurred'] as const) {
      const e = await explain(model, x, { methods: ['integrated-gradients'], integratedGradients: { steps: 50, baseline } });
      for (const c of e.attributions[0]!.completeness!) expect(c.relativeGap, baseline).toBeLessThan(0.01);
    }
  });

  it('Grad-CAM equals ReLU(CAM) / (h w) at the pooled layer', async () => {
    const e = await explain(model, x, { methods: ['cam', 'gradcam'] });
    const cam = data(byMethod(e.attributions, 'cam').raw);
    const gc = data(byMethod(e.attributions, 'gradcam').raw);
    expect(byMethod(e.attributions, 'cam').raw.dims).toEqual([10, 1, 3, 3]);
    let nonzero = 0;
    for (let p = 0; p < cam.length; p++) {
      expect(gc[p]!).toBeCloseTo(Math.max(0, cam[p]!) / 9, 5);
      if (gc[p]! > 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(10);
  });

  it('Grad-CAM++ and LayerCAM follow pytorch-grad-cam\'s formulas (float64 reference)', async () => {
    const e = await explain(model, x, { methods: ['gradcam++', 'layercam'], target: 'Bag' });
    const { gradients, values } = await scoreGradients(model, x, new Int32Array(10).fill(8), { score: 'logit', wrt: ['relu4'], outputs: ['relu4'] });
    const g = data(gradients['relu4']!);
    const a = data(values['relu4']!);
    const pp = data(byMethod(e.attributions, 'gradcam++').raw);
    const lc = data(byMethod(e.attributions, 'layercam').raw);
    for (let i = 0; i < 10; i++) {
      const camPP = new Float64Array(9);
      const camL = new Float64Array(9);
      for (let k = 0; k < 128; k++) {
        const o = (i * 128 + k) * 9;
        let sumA = 0;
        for (let q = 0; q < 9; q++) sumA += a[o + q]!;
        let wk = 0;
        for (let q = 0; q < 9; q++) {
          const gv = g[o + q]!;
          const aij = gv !== 0 ? gv ** 2 / (2 * gv ** 2 + sumA * gv ** 3 + 1e-6) : 0; // eps as grad_cam_plusplus.py
          wk += Math.max(gv, 0) * aij;
          camL[q]! += Math.max(gv, 0) * a[o + q]!;
        }
        for (let q = 0; q < 9; q++) camPP[q]! += wk * a[o + q]!;
      }
      for (let q = 0; q < 9; q++) {
        expect(pp[i * 9 + q]!).toBeCloseTo(Math.max(0, camPP[q]!), 4);
        expect(lc[i * 9 + q]!).toBeCloseTo(Math.max(0, camL[q]!), 4);
      }
    }
  });

  it('guided backprop and deconvnet are the engine\'s rule-set gradients of the target logit', async () => {
    const e = await explain(model, x, { methods: ['guided-backprop', 'deconvnet'], target: 3 });
    const seed: Tensor = { dtype: 'float32', dims: [10, 10], data: Float32Array.from({ length: 100 }, (_, i) => (i % 10 === 3 ? 1 : 0)) };
    for (const [m, ruleSet] of [['guided-backprop', 'guided'], ['deconvnet', 'deconvnet']] as const) {
      const ref = await model.gradients(x, { seed: { upstream: [model.output] }, wrt: ['input', 'relu1', 'relu2', 'relu3'], ruleSet }, { [model.output]: seed });
      const got = data(byMethod(e.attributions, m).raw);
      const want = data(ref.gradients['input']!);
      for (let p = 0; p < got.length; p++) expect(got[p]!).toBeCloseTo(want[p]!, 6);
    }
  });

  it('Guided Grad-CAM is guided backprop times the upsampled Grad-CAM (bilinear and nearest)', async () => {
    for (const interpolate of ['bilinear', 'nearest'] as const) {
      const e = await explain(model, x, { methods: ['guided-gradcam', 'guided-backprop', 'gradcam'], guidedGradcam: { interpolate } });
      const gb = data(byMethod(e.attributions, 'guided-backprop').raw);
      const gc = data(byMethod(e.attributions, 'gradcam').raw);
      const ggc = data(byMethod(e.attributions, 'guided-gradcam').raw);
      for (let i = 0; i < 10; i++) {
        const plane = gc.subarray(i * 9, (i + 1) * 9);
        const up = new Float32Array(784);
        for (let y = 0; y < 28; y++) {
          for (let xx = 0; xx < 28; xx++) {
            if (interpolate === 'nearest') up[y * 28 + xx] = plane[Math.floor((y * 3) / 28) * 3 + Math.floor((xx * 3) / 28)]!;
          }
        }
        if (interpolate === 'bilinear') resizeBilinear(plane, 3, 3, 28, 28, false, up);
        for (let p = 0; p < 784; p++) expect(ggc[i * 784 + p]!).toBeCloseTo(gb[i * 784 + p]! * up[p]!, 6);
      }
    }
  });

  it('results do not depend on the batch size (occlusion, SmoothGrad, IG, GradientSHAP, Score-CAM; runs reuse their buffers)', async () => {
    const two: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: data(x).slice(0, 2 * 784) };
    const opts = { methods: ['occlusion', 'smoothgrad', 'integrated-gradients', 'gradient-shap', 'scorecam'], smoothgrad: { samples: 6 }, integratedGradients: { steps: 8 }, shap: { samples: 5 } };
    const a = await explain(model, two, { ...opts, batchSize: 3 });
    const b = await explain(model, two, { ...opts, batchSize: 64 });
    a.attributions.forEach((at, k) => {
      const p = data(at.raw);
      const q = data(b.attributions[k]!.raw);
      for (let i = 0; i < p.length; i++) expect(p[i]!, at.method).toBeCloseTo(q[i]!, 5);
    });
  });
});

describe('a model that takes any size, explained at a size of its own', () => {
  it('IG, SmoothGrad, GradientSHAP, occlusion and Score-CAM run at the batch\'s size (64x80 on a net described at 96) in uneven batches, as in one batch', async () => {
    const g = resnet({ widths: [8, 16], blocks: 1, size: 96, classes: 10, seed: 4 });
    g.inputs[0]!.shape = ['N', 3, 'H', 'W'];
    const free = new Model(g, engine, 'free-size');
    const x: Tensor = { dtype: 'float32', dims: [3, 3, 64, 80], data: Float32Array.from(randn(rng(5), 3 * 3 * 64 * 80)) };
    const opts = { methods: ['integrated-gradients', 'smoothgrad', 'gradient-shap', 'occlusion', 'scorecam'] as MethodName[], target: 2, smoothgrad: { samples: 3 }, integratedGradients: { steps: 5 }, shap: { samples: 3 }, occlusion: { window: 16, stride: 16, mode: 'brute-force' as const } };
    const a = await explain(free, x, { ...opts, batchSize: 2 });
    const b = await explain(free, x, { ...opts, batchSize: 64 });
    for (const e of [a, b]) {
      expect(e.skipped).toEqual([]);
      expect(e.attributions.map((at) => at.method)).toEqual(opts.methods);
    }
    a.attributions.forEach((at, k) => {
      expect(at.map.dims, at.method).toEqual([3, 64, 80]);
      const p = data(at.raw);
      const q = data(b.attributions[k]!.raw);
      expect(p.every(Number.isFinite), at.method).toBe(true);
      for (let i = 0; i < p.length; i += 7) expect(p[i]!, at.method).toBeCloseTo(q[i]!, 4);
    });
    // the deletion curve's black canvas has the batch's size too; deleting everything leaves it
    const [curves] = await deletionInsertion(free, x, a.targets, [a.attributions[0]!.map], { steps: 4, score: 'logit', deletionFill: 'black' });
    const black = (await free.run(resolveBaseline(free, x, 'black', 1)))[free.output]!.data as Float32Array;
    curves!.deletion.forEach((row, i) => expect(row[row.length - 1]!).toBeCloseTo(black[i * 10 + 2]!, 4));
  });
});

describe('CAM on other GAP + dense heads', () => {
  it('reads ReduceMean pooling and a MatMul + Add dense layer (weights [C, K]); Grad-CAM = ReLU(CAM) / (h w)', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 1, 6, 6]);
    const w1 = b.initializer('conv.weight', { dtype: 'float32', dims: [4, 1, 3, 3], data: Float32Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7)) });
    const feat = b.op('Relu', [b.op('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })], {}, { outputs: ['feat'] });
    const pooled = b.op('ReduceMean', [feat], { axes: [2, 3], keepdims: 0 }, { outputs: ['pooled'] });
    const w = b.initializer('fc.weight', { dtype: 'float32', dims: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i * 2.3)) });
    const bias = b.initializer('fc.bias', { dtype: 'float32', dims: [3], data: Float32Array.of(0.1, -0.2, 0.3) });
    b.output(b.op('Add', [b.op('MatMul', [pooled, w]), bias], {}, { outputs: ['logits'] }));
    const model = new Model(b.build(), engine, 'matmul-head');
    const input: Tensor = { dtype: 'float32', dims: [2, 1, 6, 6], data: Float32Array.from({ length: 72 }, (_, i) => Math.abs(Math.sin(i))) };
    const e = await explain(model, input, { methods: ['cam', 'gradcam'], target: 2 });
    const a = data((await model.run(input, ['feat']))['feat']!);
    const cam = data(byMethod(e.attributions, 'cam').raw);
    const gc = data(byMethod(e.attributions, 'gradcam').raw);
    for (let i = 0; i < 2; i++) {
      for (let q = 0; q < 36; q++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += Math.cos((k * 3 + 2) * 2.3) * a[(i * 4 + k) * 36 + q]!;
        expect(cam[i * 36 + q]!).toBeCloseTo(s, 5);
        expect(gc[i * 36 + q]!).toBeCloseTo(Math.max(0, s) / 36, 5);
      }
    }
  });

  it('reads a dense layer written as a 1x1 conv of the pooled map, reshaped to [N, K] (MXNet mobilenetv2-7); Grad-CAM = ReLU(CAM) / (h w)', async () => {
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 1, 6, 6]);
    const w1 = b.initializer('conv.weight', { dtype: 'float32', dims: [4, 1, 3, 3], data: Float32Array.from({ length: 36 }, (_, i) => Math.sin(i * 1.7)) });
    const feat = b.op('Relu', [b.op('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })], {}, { outputs: ['feat'] });
    const pooled = b.op('GlobalAveragePool', [feat], {}, { outputs: ['pooled'] });
    const w = b.initializer('fc.weight', { dtype: 'float32', dims: [3, 4, 1, 1], data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i * 2.3)) });
    const bias = b.initializer('fc.bias', { dtype: 'float32', dims: [3], data: Float32Array.of(0.1, -0.2, 0.3) });
    const scores = b.op('Conv', [pooled, w, bias], { kernel_shape: [1, 1] }, { outputs: ['scores'] });
    b.output(b.op('Reshape', [scores, b.ints([0, -1])], {}, { outputs: ['logits'] }));
    const model = new Model(b.build(), engine, 'conv-head');
    expect(model.profile.head).toBe('gap-dense');
    const input: Tensor = { dtype: 'float32', dims: [2, 1, 6, 6], data: Float32Array.from({ length: 72 }, (_, i) => Math.abs(Math.sin(i))) };
    const e = await explain(model, input, { methods: ['cam', 'gradcam'], target: 2 });
    expect(e.skipped).toEqual([]);
    const a = data((await model.run(input, ['feat']))['feat']!);
    const cam = data(byMethod(e.attributions, 'cam').raw);
    const gc = data(byMethod(e.attributions, 'gradcam').raw);
    for (let i = 0; i < 2; i++) {
      for (let q = 0; q < 36; q++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += Math.cos((2 * 4 + k) * 2.3) * a[(i * 4 + k) * 36 + q]!;
        expect(cam[i * 36 + q]!).toBeCloseTo(s, 5);
        expect(gc[i * 36 + q]!).toBeCloseTo(Math.max(0, s) / 36, 5);
      }
    }
  });
});

describe('Score-CAM against a direct computation', () => {
  it('scores every channel mask one input at a time, softmaxes over channels (logit) or uses the probability', async () => {
    const model = regionModel(engine);
    const x = regionInputs(1, 9);
    for (const score of ['logit', 'prob'] as const) {
      const e = await explain(model, x, { methods: ['scorecam'], target: 2, score, batchSize: 3 });
      const a = data((await model.run(x, ['feat']))['feat']!);
      const scores: number[] = [];
      for (let k = 0; k < 8; k++) {
        const up = resizeBilinear(a.subarray(k * 64, (k + 1) * 64), 8, 8, 16, 16, true);
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of up) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
        const masked = new Float32Array(768);
        for (let ch = 0; ch < 3; ch++) for (let q = 0; q < 256; q++) masked[ch * 256 + q] = data(x)[ch * 256 + q]! * ((up[q]! - lo) / (hi - lo + 1e-8));
        const logits = data((await model.run({ dtype: 'float32', dims: [1, 3, 16, 16], data: masked }))[model.output]!);
        scores.push(score === 'logit' ? logits[2]! : softmax(logits)[2]!);
      }
      const weights = score === 'logit' ? Array.from(softmax(scores)) : scores;
      const got = data(e.attributions[0]!.raw);
      for (let q = 0; q < 64; q++) {
        let s = 0;
        for (let k = 0; k < 8; k++) s += weights[k]! * a[k * 64 + q]!;
        expect(got[q]!).toBeCloseTo(Math.max(0, s), 5);
      }
    }
  });
});

describe('guided backprop and deconvnet on the course-notes ReLU example', () => {
  it('reproduce the engine rule test (Springenberg et al., fig. 1)', async () => {
    // logits = upstream . relu(x): the gradient reaching the ReLU output is the example's upstream.
    const forwardInput = [1, -1, 5, 2, -5, -7, -3, 2, 4];
    const upstream = [-2, 3, -1, 6, -3, 1, 2, -1, 3];
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 1, 3, 3]);
    const r = b.op('Relu', [x], {}, { name: 'relu', outputs: ['relu'] });
    const f = b.op('Flatten', [r], { axis: 1 }, { outputs: ['flat'] });
    const w = b.initializer('w', { dtype: 'float32', dims: [2, 9], data: Float32Array.from([...upstream, ...upstream.map((v) => -v)]) });
    b.output(b.op('Gemm', [f, w], { transB: 1 }, { outputs: ['logits'] }));
    const model = new Model(b.build(), engine, 'relu-example');
    const e = await explain(model, { dtype: 'float32', dims: [1, 1, 3, 3], data: Float32Array.from(forwardInput) }, { methods: ['gradient', 'guided-backprop', 'deconvnet'], target: 0 });
    const got = (m: MethodName): number[] => Array.from(data(byMethod(e.attributions, m).raw), (v) => v + 0);
    expect(got('gradient')).toEqual([-2, 0, -1, 6, 0, 0, 0, -1, 3]);
    expect(got('deconvnet')).toEqual([0, 3, 0, 6, 0, 1, 2, 0, 3]);
    expect(got('guided-backprop')).toEqual([0, 0, 0, 6, 0, 0, 0, 0, 3]);
  });
});

describe('quadrature', () => {
  it('Gauss-Legendre nodes and weights match numpy.polynomial.legendre.leggauss', () => {
    const { nodes, weights } = gaussLegendre(3);
    expect(Array.from(nodes)).toEqual([expect.closeTo(-Math.sqrt(0.6), 12), expect.closeTo(0, 12), expect.closeTo(Math.sqrt(0.6), 12)]);
    expect(Array.from(weights)).toEqual([expect.closeTo(5 / 9, 12), expect.closeTo(8 / 9, 12), expect.closeTo(5 / 9, 12)]);
    for (const n of [1, 2, 7, 50, 64]) {
      const q = quadrature('gausslegendre', n);
      expect(q.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      // exact for polynomials of degree 2n-1: integral of a^(2n-1) over [0, 1] = 1 / 2n
      let s = 0;
      q.alphas.forEach((a, i) => (s += q.weights[i]! * a ** (2 * n - 1)));
      expect(s).toBeCloseTo(1 / (2 * n), 10);
    }
  });

  it('Riemann rules place points as Captum does', () => {
    expect(Array.from(quadrature('riemann-trapezoid', 3).alphas)).toEqual([0, 0.5, 1]);
    expect(Array.from(quadrature('riemann-trapezoid', 3).weights)).toEqual([0.25, 0.5, 0.25]);
    expect(Array.from(quadrature('riemann-left', 4).alphas)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(Array.from(quadrature('riemann-right', 2).alphas)).toEqual([0.5, 1]);
    expect(Array.from(quadrature('riemann-middle', 2).alphas)).toEqual([0.25, 0.75]);
  });
});
