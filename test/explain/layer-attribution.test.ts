// Layer attribution: which channels of a layer carry a prediction. On a model whose tail after
// the layer is GAP + dense, every method's channel total has a closed form; on SqueezeNet,
// DeepLIFT sums to the score difference exactly and IG (at the layer) to within its quadrature.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadInputs } from '../../src/io/inputs.js';
import { quadrature } from '../../src/methods/explain/integrated-gradients.js';
import { defaultChannelLayer, layerAttribution } from '../../src/methods/explain/layer-attribution.js';
import { loadBuiltinModel } from '../../src/models/load.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { unitModel } from '../../src/models/unit-model.js';
import { ROOT } from '../support/cli.js';
import { rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

/** conv 3x3 (no bias) -> ReLU ("feat", 4 x 6x6 by default) -> GAP -> dense 3: logit_k = sum_c W[k, c] mean(feat_c) + b_k. */
function gapDenseModel(size: [number, number] = [6, 6], channels = 4): { model: Model; dense: Float32Array } {
  const rand = rng(5);
  const b = new GraphBuilder();
  b.graph.name = 'gap_dense';
  const x = b.input('input', 'float32', ['N', 3, ...size]);
  const w1 = b.initializer('conv.weight', f32([channels, 3, 3, 3], Array.from({ length: channels * 27 }, () => rand() - 0.3)));
  const conv = b.op('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv', outputs: ['conv'] });
  const feat = b.op('Relu', [conv], {}, { name: 'feat', outputs: ['feat'] });
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [feat], {}, { name: 'gap', outputs: ['gap'] })], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const dense = Float32Array.from({ length: 3 * channels }, () => rand() * 2 - 1);
  const logits = b.op('Gemm', [flat, b.initializer('fc.weight', f32([3, channels], dense)), b.initializer('fc.bias', f32([3], [0.3, -0.2, 0.1]))], { transB: 1 }, { name: 'fc', outputs: ['logits'] });
  b.output(logits);
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size, channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
  return { model: new Model(g, engine, 'gap-dense'), dense };
}

/**
 * conv -> Transpose to [N, H, W, C] -> LayerNormalization over C -> ReLU ("cl_relu", channels-last)
 * -> Transpose back ("back") -> ReLU ("out") -> GAP -> dense: a ConvNeXt block's layout.
 */
function channelsLastBlockModel(): Model {
  const rand = rng(3);
  const b = new GraphBuilder();
  const x = b.input('input', 'float32', ['N', 3, 6, 6]);
  const conv = b.op('Conv', [x, b.initializer('conv.weight', f32([4, 3, 3, 3], Array.from({ length: 108 }, () => rand() - 0.5)))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv', outputs: ['conv'] });
  const last = b.op('Transpose', [conv], { perm: [0, 2, 3, 1] }, { name: 'to_last', outputs: ['to_last'] });
  const norm = b.op('LayerNormalization', [last, b.initializer('ln.weight', f32([4], [1, 1, 1, 1])), b.initializer('ln.bias', f32([4], [0, 0, 0, 0]))], { axis: -1 }, { name: 'ln', outputs: ['ln'] });
  const relu = b.op('Relu', [norm], {}, { name: 'cl_relu', outputs: ['cl_relu'] });
  const back = b.op('Transpose', [relu], { perm: [0, 3, 1, 2] }, { name: 'back', outputs: ['back'] });
  const out = b.op('Relu', [back], {}, { name: 'out', outputs: ['out'] });
  const flat = b.op('Flatten', [b.op('GlobalAveragePool', [out], {}, { name: 'gap', outputs: ['gap'] })], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  b.output(b.op('Gemm', [flat, b.initializer('fc.weight', f32([3, 4], Array.from({ length: 12 }, () => rand() * 2 - 1))), b.initializer('fc.bias', f32([3], [0, 0, 0]))], { transB: 1 }, { name: 'fc', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['a', 'b', 'c'], preprocessing: { size: [6, 6], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' } });
  return new Model(g, engine, 'channels-last-block');
}

describe('layer attribution', () => {
  it('gives W[target, c] x mean activation_c per channel on a GAP + dense tail, by every method', async () => {
    const { model, dense } = gapDenseModel();
    const rand = rng(9);
    const x = f32([2, 3, 6, 6], Array.from({ length: 2 * 108 }, () => rand()));
    const feat = (await model.run(x, ['feat']))['feat']!.data as Float32Array;
    const r = await layerAttribution(model, x, { layer: 'feat', target: [0, 2], baseline: 'zero', steps: 8, batchSize: 5 });
    expect(r.results.map((m) => m.method)).toEqual(['gradient-x-activation', 'integrated-gradients', 'conductance', 'deeplift', 'ablation']);
    // conductance's Gauss-Legendre path stops short of both ends; its own test below covers it
    for (const m of r.results.filter((k) => k.method !== 'conductance')) {
      expect(m.attribution.dims).toEqual([2, 4, 6, 6]);
      expect(m.channels.dims).toEqual([2, 4]);
      const totals = m.channels.data as Float32Array;
      for (let i = 0; i < 2; i++) {
        const t = r.targets[i]!;
        const expected = Array.from({ length: 4 }, (_, c) => {
          let mean = 0;
          for (let p = 0; p < 36; p++) mean += feat[(i * 4 + c) * 36 + p]! / 36;
          return dense[t * 4 + c]! * mean;
        });
        for (let c = 0; c < 4; c++) expect(totals[i * 4 + c]!, `${m.method} image ${i} channel ${c}`).toBeCloseTo(expected[c]!, 5);
        expect(Array.from(m.ranked[i]!)).toEqual([0, 1, 2, 3].sort((a, b) => expected[b]! - expected[a]!));
      }
    }
    // the zero image gives zero activations, so IG and DeepLIFT decompose logit(x) - bias
    for (const m of r.results.filter((k) => k.completeness && k.method !== 'conductance')) for (const k of m.completeness!) expect(Math.abs(k.gap)).toBeLessThan(1e-5);
  });

  it('cuts the network at a layer 4 wide ([N, 6, 8, 4]), which the layout guess for files would read as a 4-channel channels-last image', async () => {
    const { model, dense } = gapDenseModel([8, 4], 6);
    const rand = rng(2);
    const x = f32([1, 3, 8, 4], Array.from({ length: 96 }, () => rand()));
    const feat = (await model.run(x, ['feat']))['feat']!.data as Float32Array;
    const r = await layerAttribution(model, x, { layer: 'feat', target: [1], methods: ['integrated-gradients', 'ablation'], baseline: 'zero', steps: 8 });
    expect(r.skipped).toEqual([]);
    for (const m of r.results) {
      const totals = m.channels.data as Float32Array;
      for (let c = 0; c < 6; c++) {
        let mean = 0;
        for (let p = 0; p < 32; p++) mean += feat[c * 32 + p]! / 32;
        expect(totals[c]!, `${m.method} channel ${c}`).toBeCloseTo(dense[6 + c]! * mean, 5);
      }
    }
  });

  it('gives conductance as the layer gradient times the activations\' change along the input path (Captum LayerConductance)', async () => {
    const { model, dense } = gapDenseModel();
    const rand = rng(11);
    const x = f32([2, 3, 6, 6], Array.from({ length: 2 * 108 }, () => rand()));
    const feat = (await model.run(x, ['feat']))['feat']!.data as Float32Array;
    // By hand: the tail is linear, so dF/dfeat_c = W[t, c] / 36 at every point; with a zero
    // baseline and a bias-free conv + ReLU, feat(alpha x) = alpha feat(x). The sum over the path
    // telescopes to W[t, c] / 36 * (alpha_last - alpha_first) * feat(x): the whole of feat(x) with
    // the trapezoid rule's ends 0 and 1, less with Gauss-Legendre's interior nodes (9 here).
    const nodes9 = quadrature('gausslegendre', 9).alphas;
    for (const [rule, span] of [['riemann-trapezoid', 1], ['gausslegendre', nodes9[8]! - nodes9[0]!]] as const) {
      const r = await layerAttribution(model, x, { layer: 'feat', methods: ['conductance'], target: [1, 2], baseline: 'zero', steps: 8, rule, batchSize: 4 });
      const m = r.results[0]!;
      expect(m.method).toBe('conductance');
      expect(m.params).toMatchObject({ steps: 8, rule });
      const attr = m.attribution.data as Float32Array;
      for (let i = 0; i < 2; i++) {
        const t = r.targets[i]!;
        for (let c = 0; c < 4; c++) for (let p = 0; p < 36; p++) {
          const at = (i * 4 + c) * 36 + p;
          expect(attr[at]!, `${rule} image ${i} channel ${c} position ${p}`).toBeCloseTo((dense[t * 4 + c]! / 36) * span * feat[at]!, 6);
        }
      }
      if (rule === 'riemann-trapezoid') for (const k of m.completeness!) expect(Math.abs(k.gap)).toBeLessThan(1e-5);
      else expect(span).toBeLessThan(0.99);
    }
  });

  it('scores SqueezeNet at the features its class conv reads by default, not at its class maps (channel k is class k there)', async () => {
    // SqueezeNet's logits are its last conv's 1000 maps, average-pooled: scored there, the target's
    // channel took 100% and every other channel 0 by construction ("relu25:285 100.0%")
    const model = loadBuiltinModel(engine, 'squeezenet');
    expect(model.lastSpatialLayer()).toBe('/relu25/Relu_output_0');
    expect(defaultChannelLayer(model)).toBe('/fires.7/Concat_output_0');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/chelsea.png')], model);
    const r = await layerAttribution(model, batch, { methods: ['gradient-x-activation'] });
    expect(r.shape).toEqual([512, 13, 13]);
    // a GAP + dense model keeps its CAM layer
    const { model: gapDense } = gapDenseModel();
    expect(defaultChannelLayer(gapDense)).toBe(gapDense.lastSpatialLayer());
  }, 60_000);

  it('sums to the score difference on SqueezeNet: DeepLIFT to 1e-4, IG at 64 steps within 2%', async () => {
    const model = loadBuiltinModel(engine, 'squeezenet');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/chelsea.png')], model);
    // fires.5: the tail after it holds three fire modules, nothing near linear
    const r = await layerAttribution(model, batch, { layer: 'fires.5', methods: ['deeplift', 'integrated-gradients'], steps: 64 });
    const [deeplift, ig] = r.results;
    expect(deeplift!.completeness![0]!.relativeGap).toBeLessThan(1e-4);
    expect(ig!.completeness![0]!.relativeGap).toBeLessThan(0.02);
    expect(ig!.completeness![0]!.scoreDifference).toBeCloseTo(deeplift!.completeness![0]!.scoreDifference, 3);
  }, 120_000);

  it('conductance sums to the score difference on SqueezeNet at fires.5 (to 2% at 128 steps), and runs at a layer a branch bypasses', async () => {
    const model = loadBuiltinModel(engine, 'squeezenet');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/chelsea.png')], model);
    // Captum's scheme takes each step's gradient at its start, a first-order rule: the gap halves
    // as the steps double (measured 4.8% at 64, 1.5% at 128), where IG's Gauss-Legendre is 0.01% at 64
    const gaps = [];
    for (const steps of [64, 128]) {
      const r = await layerAttribution(model, batch, { layer: 'fires.5', methods: ['conductance'], steps });
      const k = r.results[0]!.completeness![0]!;
      expect(Math.abs(k.scoreDifference)).toBeGreaterThan(1);
      expect(r.results[0]!.notes).toEqual([]);
      gaps.push(k.relativeGap);
    }
    expect(gaps[0]!).toBeLessThan(0.06);
    expect(gaps[1]!).toBeLessThan(0.02);
    expect(gaps[1]!).toBeLessThan(gaps[0]! * 0.6);
    // too few steps: the gap beyond 5% is said, with the way out, as IG says it
    const coarse = await layerAttribution(model, batch, { layer: 'fires.5', methods: ['conductance', 'integrated-gradients'], steps: 4 });
    const [cond, ig] = coarse.results;
    expect(cond!.completeness![0]!.relativeGap).toBeGreaterThan(0.05);
    expect(cond!.notes.join(' ')).toMatch(/^conductance at fires\.5 has not converged at 4 steps: on image 1 the attributions sum to \d+% of the score's change.*--steps 16/);
    expect(ig!.notes.filter((n) => n.includes('converged')).length).toBe(ig!.completeness![0]!.relativeGap > 0.05 ? 1 : 0);
    // expand1x1_relu: the concat beside it carries expand3x3, so IG and ablation are skipped there
    const b = await layerAttribution(model, batch, { layer: 'fires.7/expand1x1_relu', methods: ['conductance', 'integrated-gradients'], steps: 8 });
    expect(b.skipped.map((s) => s.method)).toEqual(['integrated-gradients']);
    expect(b.results.map((m) => m.method)).toEqual(['conductance']);
    const c = b.results[0]!;
    expect(c.completeness![0]!.sum).not.toBe(0);
    expect(Number.isFinite(c.completeness![0]!.sum)).toBe(true);
    expect(c.notes.join(' ')).toMatch(/bypasses it/);
  }, 180_000);

  it('reports progress per method and stops when aborted', async () => {
    const { model } = gapDenseModel();
    const x = f32([3, 3, 6, 6], Array.from({ length: 3 * 108 }, (_, k) => (k % 7) / 7));
    const phases = new Set<string>();
    const r = await layerAttribution(model, x, { layer: 'feat', steps: 4, batchSize: 2, onProgress: (p) => phases.add(p.phase!) });
    expect(r.results[4]!.notes).toEqual([]);
    expect([...phases]).toEqual(['activations at feat', 'baseline activations at feat', 'gradient-x-activation at feat', 'integrated-gradients at feat', 'conductance at feat', 'deeplift at feat', 'ablation at feat']);
    const controller = new AbortController();
    controller.abort();
    await expect(layerAttribution(model, x, { layer: 'feat', signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('refuses a bad request before any run', async () => {
    const { model } = gapDenseModel();
    const x = f32([1, 3, 6, 6], new Float32Array(108));
    await expect(layerAttribution(model, x, { layer: 'feat', methods: ['nope' as never] })).rejects.toThrow(/Unknown layer attribution method "nope"/);
    await expect(layerAttribution(model, x, { layer: 'feat', steps: 0 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(layerAttribution(model, x, { layer: 'flatten' })).rejects.toThrow(/not a feature map/);
    await expect(layerAttribution(model, x, { layer: 'feat', target: 'zebra' })).rejects.toThrow(/zebra/);
  });

  it('refuses a channels-last layer (a ConvNeXt block between its permutes) as such, naming the layer after the block permutes back', async () => {
    // it said "[N, 6, 6, 4], not a feature map [N, C, H, W] of fixed size" and sent the user to
    // "a conv, activation or pooling layer": the layer is a fixed-size activation, only channels-last
    const model = channelsLastBlockModel();
    expect(model.isChannelsFirst('cl_relu')).toBe(false);
    const x = f32([1, 3, 6, 6], new Float32Array(108).fill(0.5));
    const refused = await layerAttribution(model, x, { layer: 'cl_relu' }).catch((e: unknown) => e as ConvLensError);
    expect(refused).toBeInstanceOf(ConvLensError);
    expect((refused as ConvLensError).message).toMatch(/"cl_relu" is channels-last \(\[N, H, W, C\].*shape \[N, 6, 6, 4\]/);
    expect((refused as ConvLensError).message).not.toMatch(/fixed size/);
    expect((refused as ConvLensError).hint).toMatch(/permutes back .*e\.g\. out/);
    let unit: unknown;
    try {
      unitModel(model, { layer: 'cl_relu' });
    } catch (e) {
      unit = e;
    }
    expect(unit).toBeInstanceOf(ConvLensError);
    expect((unit as ConvLensError).message).toMatch(/"cl_relu" is channels-last/);
    expect((unit as ConvLensError).hint).toMatch(/e\.g\. out/);
    // the layer it names works
    const r = await layerAttribution(model, x, { layer: 'out', methods: ['gradient-x-activation'] });
    expect(r.results[0]!.channels.dims).toEqual([1, 4]);
  });

  it('refuses IG and ablation at a layer a branch bypasses, naming layers that cut the network, and runs the others there', async () => {
    const model = loadBuiltinModel(engine, 'squeezenet');
    const { batch } = await loadInputs([join(ROOT, 'samples/photos/chelsea.png')], model);
    const branch = 'fires.7/expand1x1_relu';
    const refused = await layerAttribution(model, batch, { layer: branch, methods: ['ablation'] }).catch((e: unknown) => e as ConvLensError);
    expect(refused).toBeInstanceOf(ConvLensError);
    expect((refused as ConvLensError).message).toMatch(/another branch bypasses it/);
    expect((refused as ConvLensError).hint).toMatch(/e\.g\. .*fires\.7, conv25/);
    const r = await layerAttribution(model, batch, { layer: branch, methods: ['gradient-x-activation', 'deeplift'] });
    expect(r.results[0]!.channels.dims).toEqual([1, 256]);
    expect(r.results[1]!.notes.join()).toMatch(/one branch of the network.*not to the whole/);
    expect(r.results[1]!.completeness![0]!.relativeGap).toBeGreaterThan(0.01);
    expect(r.skipped).toEqual([]);
    // every method (the default): the two the layer rules out are skipped with the reason, as
    // explain skips a method a model rules out; most layers of a residual net are such branches
    const all = await layerAttribution(model, batch, { layer: branch, steps: 4 });
    expect(all.results.map((m) => m.method)).toEqual(['gradient-x-activation', 'conductance', 'deeplift']);
    expect(all.skipped.map((k) => k.method)).toEqual(['integrated-gradients', 'ablation']);
    for (const k of all.skipped) {
      expect(k.reason).toMatch(/another branch bypasses it/);
      expect(k.hint).toMatch(/e\.g\. .*fires\.7, conv25/);
    }
  }, 60_000);
});
