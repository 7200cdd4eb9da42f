// Faithfulness (deletion/insertion) and the model-randomization sanity check, and the
// similarity measures they use.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { auc, deletionInsertion, pixelOrder, randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { compareMaps, randomizableLayers, randomizationCheck, meanScore } from '../../src/methods/metrics/sanity.js';
import { pearson, ranks, spearman, ssim } from '../../src/methods/metrics/similarity.js';
import { sanityChart } from '../../src/methods/explain/figures.js';
import { rng } from '../support/rng.js';
import { courseModel, linearModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

describe('similarity', () => {
  it('ranks ties by their average rank and correlates like scipy.stats.spearmanr', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(spearman([1, 2, 3], [30, 20, 10])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 16])).toBeCloseTo(1, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });

  it('a constant map has no rank correlation: NaN, as scipy.stats.spearmanr, not a 0 that reads as "unrelated"', () => {
    expect(spearman([0, 0, 0, 0], [1, 2, 3, 4])).toBeNaN();
    expect(spearman([1, 2, 3, 4], [5, 5, 5, 5])).toBeNaN();
  });

  it('the sanity chart names every randomized layer on its x axis, even for a 26-layer cascade', async () => {
    const layers = Array.from({ length: 26 }, (_, i) => `/fires.${i}/expand3x3/Conv`);
    const steps = layers.map((layer) => ({ layer, maps: {}, scores: { saliency: { spearman: [0.5], spearmanAbs: [0.5], ssim: [0.5], constant: [false] } } }));
    const { svg } = await sanityChart({ methods: ['saliency'], layers, steps, original: undefined as never });
    // Vega dropped overlapping labels (opacity 0): SqueezeNet's chart named only "none" and the last layer.
    for (let i = 0; i < 26; i++) {
      const label = new RegExp(`<text[^>]*opacity="([\\d.]+)"[^>]*>fires\\.${i}/expand3x3</text>`);
      const hits = [...svg.matchAll(new RegExp(label, 'g'))];
      expect(hits.length, `fires.${i}`).toBeGreaterThan(0);
      for (const h of hits) expect(h[1], `fires.${i}`).toBe('1');
    }
  });

  it('the sanity check scores a randomized model\'s all-zero map (a dead target) as undefined, not as decorrelated', () => {
    const rand = rng(3);
    const trained: Tensor = { dtype: 'float32', dims: [2, 8, 8], data: Float32Array.from({ length: 128 }, () => rand()) };
    const randomized: Tensor = { dtype: 'float32', dims: [2, 8, 8], data: new Float32Array(128) };
    (randomized.data as Float32Array).set((trained.data as Float32Array).subarray(64).map((v) => v * 2), 64); // image 1 keeps its ranking
    const s = compareMaps(trained, randomized);
    expect(s.constant).toEqual([true, false]);
    expect(s.spearman[0]).toBeNaN();
    expect(s.spearmanAbs[0]).toBeNaN();
    expect(s.ssim[0]).toBeNaN();
    expect(s.spearman[1]).toBeCloseTo(1, 12);
    expect(s.ssim[1]).toBeGreaterThan(0.5);
    expect(meanScore(s.spearman)).toBeCloseTo(1, 12);
  });

  it('SSIM is 1 for identical maps and matches a direct computation of skimage\'s formula', () => {
    const rand = rng(1);
    const a = Float64Array.from({ length: 9 * 8 }, () => rand());
    const b = Float64Array.from(a, (v) => 0.6 * v + 0.3 * rand());
    expect(ssim(a, a, 8, 9)).toBeCloseTo(1, 12);
    // Direct: every 7x7 window, sample covariance (N - 1), K1 = 0.01, K2 = 0.03, data range 1.
    let total = 0;
    let count = 0;
    for (let y = 0; y + 7 <= 9; y++) {
      for (let x = 0; x + 7 <= 8; x++) {
        const va: number[] = [];
        const vb: number[] = [];
        for (let dy = 0; dy < 7; dy++) for (let dx = 0; dx < 7; dx++) (va.push(a[(y + dy) * 8 + x + dx]!), vb.push(b[(y + dy) * 8 + x + dx]!));
        const ma = va.reduce((s, v) => s + v, 0) / 49;
        const mb = vb.reduce((s, v) => s + v, 0) / 49;
        const sa = va.reduce((s, v) => s + (v - ma) ** 2, 0) / 48;
        const sb = vb.reduce((s, v) => s + (v - mb) ** 2, 0) / 48;
        const sab = va.reduce((s, v, i) => s + (v - ma) * (vb[i]! - mb), 0) / 48;
        const c1 = 0.01 ** 2;
        const c2 = 0.03 ** 2;
        total += ((2 * ma * mb + c1) * (2 * sab + c2)) / ((ma * ma + mb * mb + c1) * (sa + sb + c2));
        count++;
      }
    }
    expect(ssim(a, b, 8, 9)).toBeCloseTo(total / count, 10);
    expect(ssim(a, b, 8, 9)).toBeLessThan(0.95);
  });
});

describe('deletion and insertion', () => {
  const { model, weights, bias } = linearModel(engine);
  // Positive inputs; the target's contributions w_p x_p.
  const x: Tensor = { dtype: 'float32', dims: [1, 1, 4, 4], data: Float32Array.from({ length: 16 }, (_, i) => 0.2 + ((i * 7) % 16) / 16) };
  const t = 0;
  const contrib = Float32Array.from({ length: 16 }, (_, p) => weights[t * 16 + p]! * (x.data as Float32Array)[p]!);

  it('follows the logit exactly as pixels are removed (zero fill) or inserted (zero canvas) in map order', async () => {
    const map: Tensor = { dtype: 'float32', dims: [1, 4, 4], data: contrib };
    const [c] = await deletionInsertion(model, x, Int32Array.of(t), [map], { steps: 16, score: 'logit', deletionFill: 'zero', insertionStart: 'zero', batchSize: 5 });
    const order = pixelOrder(contrib);
    const full = bias[t]! + contrib.reduce((a, b) => a + b, 0);
    let del = full;
    let ins = bias[t]!;
    expect(c!.fractions).toEqual(Array.from({ length: 17 }, (_, k) => k / 16));
    for (let k = 0; k <= 16; k++) {
      expect(c!.deletion[0]![k]).toBeCloseTo(del, 5);
      expect(c!.insertion[0]![k]).toBeCloseTo(ins, 5);
      if (k < 16) {
        del -= contrib[order[k]!]!;
        ins += contrib[order[k]!]!;
      }
    }
    expect(c!.deletionAuc[0]).toBeCloseTo(auc(c!.fractions, c!.deletion[0]!), 12);
    expect(auc([0, 0.5, 1], [1, 1, 0])).toBeCloseTo(0.75, 12);
  });

  it('ranks the true contributions better than a random or an inverted map', async () => {
    const maps: Tensor[] = [
      { dtype: 'float32', dims: [1, 4, 4], data: contrib },
      randomMaps(1, 4, 4, 3),
      { dtype: 'float32', dims: [1, 4, 4], data: contrib.map((v) => -v) },
    ];
    const [good, random, inverted] = await deletionInsertion(model, x, Int32Array.of(t), maps, { steps: 16, score: 'logit', deletionFill: 'zero', insertionStart: 'zero' });
    expect(good!.meanDeletionAuc).toBeLessThan(random!.meanDeletionAuc);
    expect(random!.meanDeletionAuc).toBeLessThan(inverted!.meanDeletionAuc);
    expect(good!.meanInsertionAuc).toBeGreaterThan(random!.meanInsertionAuc);
    expect(random!.meanInsertionAuc).toBeGreaterThan(inverted!.meanInsertionAuc);
  });

  it('pixelOrder puts larger values first and breaks ties in a seeded random order', () => {
    expect(Array.from(pixelOrder([0.1, 0.9, 0.5]))).toEqual([1, 2, 0]);
    const ties = new Float32Array(50);
    const a = Array.from(pixelOrder(ties, 1));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(pixelOrder(ties, 1))).toEqual(a);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('model-randomization sanity check', () => {
  it('randomizes layers cumulatively from the output down and reports how similar the maps stay', async () => {
    const model = courseModel(engine, 2);
    const before = Float32Array.from(model.graph.initializers.get('conv1.weight')!.data as Float32Array);
    const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, (_, i) => Math.max(0, Math.sin(i / 9) * Math.cos(i / 50))) };
    expect(randomizableLayers(model)).toEqual(['logits', 'conv4', 'conv3', 'conv2', 'conv1']);
    const steps: string[] = [];
    const r = await randomizationCheck(model, x, { methods: ['gradient', 'gradcam'], onProgress: (p) => steps.push(p.phase ?? '') });
    expect(r.layers).toEqual(['logits', 'conv4', 'conv3', 'conv2', 'conv1']);
    expect(r.steps.map((s) => s.layer)).toEqual(r.layers);
    expect(steps.at(-1)).toBe('sanity: done');
    // The trained model is untouched, and its targets are kept.
    expect(Array.from(model.graph.initializers.get('conv1.weight')!.data as Float32Array)).toEqual(Array.from(before));
    const again = await explain(model, x, { methods: ['gradient'] });
    expect(Array.from(again.attributions[0]!.map.data as Float32Array)).toEqual(Array.from(r.original.attributions[0]!.map.data as Float32Array));
    // Randomizing every layer decorrelates the gradient from the trained model's.
    const last = r.steps.at(-1)!.scores['gradient']!;
    expect(Math.abs(meanScore(last.spearman))).toBeLessThan(0.5);
    // Scores are at most 1, or NaN exactly where the randomized map is constant (no similarity defined).
    for (const s of r.steps) {
      for (const m of ['gradient', 'gradcam']) {
        const sc = s.scores[m]!;
        sc.constant.forEach((flat, i) => {
          for (const v of [sc.spearman[i]!, sc.spearmanAbs[i]!, sc.ssim[i]!]) {
            if (flat) expect(v, `${m} at ${s.layer}`).toBeNaN();
            else expect(v, `${m} at ${s.layer}`).toBeLessThanOrEqual(1 + 1e-9);
          }
        });
      }
    }
  });

  it('checks the newer methods too: their maps lose the trained model\'s structure as layers are randomized', async () => {
    const model = courseModel(engine, 3);
    const x: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, i) => Math.max(0, Math.sin(i / 7) * Math.cos(i / 41))) };
    const methods = ['lrp', 'deeplift', 'gradient-shap', 'xgradcam', 'ablationcam', 'fullgrad'] as const;
    const r = await randomizationCheck(model, x, { methods: [...methods], shap: { samples: 8 }, layers: ['logits', 'conv4', 'conv3'] });
    expect(r.steps).toHaveLength(3);
    for (const m of methods) {
      const first = r.steps[0]!.scores[m]!;
      const last = r.steps.at(-1)!.scores[m]!;
      for (const sc of [first, last]) sc.spearman.forEach((v, i) => expect(Number.isFinite(v), `${m}: ${v}, constant ${sc.constant[i]}`).toBe(!sc.constant[i]));
      // After three layers are redrawn no method still reproduces the trained model's map: it is
      // less rank-correlated, or (XGrad-CAM here, its ReLU clipping every pixel) gone to a constant.
      if (last.constant.every(Boolean)) expect(new Set(r.original.attributions[r.methods.indexOf(m)]!.map.data as Float32Array).size, m).toBeGreaterThan(1);
      else expect(meanScore(last.spearman), m).toBeLessThan(0.99);
    }
  });

  it('rejects layers that have no weights', async () => {
    const model = courseModel(engine, 2);
    const x: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784) };
    await expect(randomizationCheck(model, x, { methods: ['gradient'], layers: ['relu2'] })).rejects.toThrow(/"relu2" is not a layer with weights/);
  });
});
