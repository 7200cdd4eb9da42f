// Incremental occlusion and the faster Score-CAM give today's (brute-force) results to float32
// rounding, on odd geometries and on real networks; the approximate mode stays within its
// stated error; the target-only head computes the same logit as the whole model.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { planIncremental } from '../../src/engine/graph/incremental.js';
import { targetHead } from '../../src/engine/graph/target-head.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadInputs } from '../../src/io/inputs.js';
import { explain, windowOffsets, type Attribution, type ExplainOptions } from '../../src/methods/explain/index.js';
import { scoreCamChannelScores } from '../../src/methods/explain/scorecam.js';
import type { Progress } from '../../src/engine/jobs.js';
import { loadBuiltinModel, loadModelFile } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { resnet, resnet18Like } from '../../src/models/zoo/index.js';
import { rng } from '../support/rng.js';
import { geometryInputs, geometryModel } from './geometry-model.js';
import { regionInputs, regionModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const SQUEEZENET = '/work/shared/models/squeezenet1.1/squeezenet1.1.onnx';
const CAT = '/work/shared/images/chelsea.png';
const FIRE9 = '/fires.7/Concat_output_0';

function squeezenet(): Model {
  if (!existsSync(SQUEEZENET)) throw new Error(`SqueezeNet 1.1 is missing at ${SQUEEZENET}: these tests need the real network (see /work/shared/models/squeezenet1.1/README.md).`);
  return loadModelFile(SQUEEZENET, engine);
}

const data = (t: Tensor): Float32Array => t.data as Float32Array;

/**
 * The largest difference between two maps, relative to the scale float32 rounding works at:
 * the larger of the reference map's largest value and the largest target score. Occlusion
 * values are differences of two scores, so rounding the scores (a few ulps of |score|) bounds
 * how closely two correct evaluation orders can agree.
 */
function relativeDifference(got: Attribution, want: Attribution, scores: readonly number[]): number {
  const a = data(got.raw);
  const b = data(want.raw);
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = Math.max(...scores.map(Math.abs));
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

async function compare(model: Model, x: Tensor, options: Omit<ExplainOptions, 'methods'> & { methods: string[] }, mode: 'occlusion' | 'scorecam', fast: Record<string, unknown> = { mode: 'incremental' }): Promise<{ fast: Attribution; reference: Attribution; difference: number }> {
  const own = (options as Record<string, unknown>)[mode] as object | undefined;
  const ref = await explain(model, x, { ...options, [mode]: { ...own, mode: 'brute-force' } });
  const got = await explain(model, x, { ...options, [mode]: { ...own, ...fast } });
  const scores = ref.images.map((im) => im.target.score);
  return { fast: got.attributions[0]!, reference: ref.attributions[0]!, difference: relativeDifference(got.attributions[0]!, ref.attributions[0]!, scores) };
}

describe('incremental occlusion equals brute force', () => {
  const model = geometryModel(engine);
  const x = geometryInputs(2);

  it('on odd geometries: non-square image, windows that do not divide it, asymmetric pads, ceil-mode pooling, dilation, groups, stride > kernel, residual add, concat', async () => {
    for (const occlusion of [
      { window: [5, 7] as [number, number], stride: [3, 4] as [number, number] },
      { window: 1, stride: 1 },
      { window: [30, 22] as [number, number] },
      { window: [9, 4] as [number, number], stride: [9, 4] as [number, number], fill: 'mean' as const },
      { window: 6, stride: 5, fill: 'blur' as const },
    ]) {
      const r = await compare(model, x, { methods: ['occlusion'], occlusion, batchSize: 13 }, 'occlusion');
      expect(r.fast.params['mode'], JSON.stringify(occlusion)).toBe('incremental');
      expect(r.difference, JSON.stringify(occlusion)).toBeLessThan(1e-5);
    }
  });

  it('with probability scores and a target per image (no target-only head)', async () => {
    const r = await compare(model, x, { methods: ['occlusion'], occlusion: { window: 4, stride: 3 }, score: 'prob', target: [1, 3] }, 'occlusion');
    expect(r.difference).toBeLessThan(1e-5);
  });

  it('runs only the changed patches where it can, and full maps after an op whose constant varies over the image (with a note)', async () => {
    const spatial = geometryModel(engine, { spatialConstant: true });
    const offsets = [windowOffsets(30, 5, 3), windowOffsets(22, 5, 3)] as const;
    const plan = planIncremental(spatial.graph, { input: 'input', output: 'logits', window: [5, 5], offsets });
    expect(plan.fullOps.find((f) => f.node === 'spatial')?.reason).toBe('an operand varies over the image');
    expect(plan.macs.incremental).toBeLessThan(plan.macs.bruteForce);
    const r = await compare(spatial, x, { methods: ['occlusion'], occlusion: { window: 5, stride: 3 } }, 'occlusion');
    expect(r.difference).toBeLessThan(1e-5);
    expect(r.fast.notes.join(' ')).toContain('spatial (Mul): an operand varies over the image');
  });

  it('runs Pads on patches (DenseNet\'s Pad of nothing before each transition\'s pool, an asymmetric ZeroPad2d)', async () => {
    const padded = geometryModel(engine, { pads: true });
    const offsets = [windowOffsets(30, 1, 1), windowOffsets(22, 1, 1)] as const;
    const plan = planIncremental(padded.graph, { input: 'input', output: 'logits', window: [1, 1], offsets });
    expect(plan.fullOps).toEqual([]);
    for (const occlusion of [{ window: 5, stride: 3 }, { window: [9, 4] as [number, number], stride: [9, 4] as [number, number] }, { window: 1, stride: 1 }]) {
      const r = await compare(padded, x, { methods: ['occlusion'], occlusion }, 'occlusion');
      expect(r.fast.params['mode'], JSON.stringify(occlusion)).toBe('incremental');
      expect(r.fast.notes.join(' '), JSON.stringify(occlusion)).not.toContain('Pad');
      expect(r.difference, JSON.stringify(occlusion)).toBeLessThan(1e-5);
    }
  });

  it('on the built-in Fashion-MNIST CNN', async () => {
    const builtin = loadBuiltinModel(engine);
    const { batch } = await loadInputs(['samples/fashion-mnist/ankle-boot-test0.png', 'samples/fashion-mnist/bag-test18.png', 'samples/fashion-mnist/coat-test6.png'], builtin);
    for (const occlusion of [{}, { window: 5, stride: 2 }, { window: 3, stride: 3, fill: 'blur' as const }]) {
      const r = await compare(builtin, batch, { methods: ['occlusion'], occlusion }, 'occlusion');
      expect(r.difference, JSON.stringify(occlusion)).toBeLessThan(1e-5);
    }
  });

  it('on SqueezeNet 1.1 (real ImageNet weights; fire-module concats, ceil-mode pools, a 1x1 conv head)', async () => {
    const sq = squeezenet();
    const { batch } = await loadInputs([CAT], sq);
    const r = await compare(sq, batch, { methods: ['occlusion'], occlusion: { window: 32, stride: 24 } }, 'occlusion', {});
    expect(r.fast.params['mode']).toBe('incremental'); // the default here
    expect(r.difference).toBeLessThan(1e-5);
  });

  it('on a ResNet-18-shaped net at 224 (residual adds, strided 1x1 downsampling)', async () => {
    const net = new Model(resnet18Like(3, 224, 100), engine, 'resnet18-test');
    const { batch } = await loadInputs([CAT], net);
    const r = await compare(net, batch, { methods: ['occlusion'], occlusion: { window: 48, stride: 44 } }, 'occlusion', {});
    expect(r.fast.params['mode']).toBe('incremental');
    expect(r.difference).toBeLessThan(1e-5);
  });

  it('reports progress per batch and stops between batches when cancelled', async () => {
    for (const occlusion of [{ window: 3, stride: 2, mode: 'incremental' as const }, { window: 3, stride: 2, mode: 'approximate' as const }]) {
      const seen: Progress[] = [];
      await explain(model, x, { methods: ['occlusion'], batchSize: 16, occlusion, onProgress: (p) => seen.push(p) });
      expect(seen.length).toBeGreaterThan(5);
      expect(seen.at(-1)!.done).toBe(seen.at(-1)!.total);
      const controller = new AbortController();
      let calls = 0;
      await expect(
        explain(model, x, {
          methods: ['occlusion'],
          batchSize: 16,
          occlusion,
          signal: controller.signal,
          onProgress: () => {
            calls++;
            controller.abort();
          },
        }),
      ).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(calls).toBeLessThanOrEqual(2);
    }
  });

  it('rejects unknown modes and approximate-only settings elsewhere, with the way out', async () => {
    const fail = async (occlusion: object): Promise<ConvLensError> => {
      try {
        await explain(model, x, { methods: ['occlusion'], occlusion: occlusion as ExplainOptions['occlusion'] });
      } catch (e) {
        expect(e).toBeInstanceOf(ConvLensError);
        return e as ConvLensError;
      }
      throw new Error('expected an error');
    };
    expect((await fail({ mode: 'fast' })).hint).toContain('incremental, brute-force, approximate');
    expect((await fail({ tau: 0.5 })).hint).toContain('mode: "approximate"');
    expect((await fail({ mode: 'approximate', tau: 0 })).message).toContain('tau must be a number in (0, 1]');
    expect((await fail({ mode: 'approximate', drillDown: 2 })).message).toContain('drillDown must be a number in (0, 1]');
  });

  it('the default mode runs brute force where incremental inference cannot help, and says so', async () => {
    const region = regionModel(engine); // its first op multiplies the image by a mask
    const e = await explain(region, regionInputs(1), { methods: ['occlusion'], occlusion: { window: 2, stride: 2 } });
    expect(e.attributions[0]!.params['mode']).toBe('brute-force');
    expect(e.attributions[0]!.notes.join(' ')).toContain('ran brute force');
  });
});

/** ||a - b|| / ||b|| over the raw maps. */
function relativeL2(a: Attribution, b: Attribution): number {
  const p = data(a.raw);
  const q = data(b.raw);
  let d2 = 0;
  let q2 = 0;
  for (let i = 0; i < p.length; i++) {
    d2 += (p[i]! - q[i]!) ** 2;
    q2 += q[i]! ** 2;
  }
  return Math.sqrt(d2 / q2);
}

describe('approximate occlusion (projective-field threshold and drill-down)', () => {
  it('with its defaults stays within the stated error on the trained networks (relative L2 <= 0.25) while scoring fewer windows', async () => {
    // docs/occlusion.md states this bound from 14 images (0 to 0.23 measured; the photo of a
    // rocket is the worst); random-weight networks are not covered.
    const builtin = loadBuiltinModel(engine);
    const fm = (await loadInputs(['samples/fashion-mnist/t-shirt-top-test19.png', 'samples/fashion-mnist/shirt-test4.png', 'samples/fashion-mnist/trouser-test2.png'], builtin)).batch;
    const sq = squeezenet();
    const photos = (await loadInputs([CAT, '/work/shared/images/rocket.jpg'], sq)).batch;
    for (const [model, x, occlusion] of [
      [builtin, fm, { window: 4, stride: 1 }],
      [sq, photos, { window: 16, stride: 8 }],
    ] as const) {
      const exact = (await explain(model, x, { methods: ['occlusion'], occlusion: { ...occlusion, mode: 'incremental' } })).attributions[0]!;
      const approx = (await explain(model, x, { methods: ['occlusion'], occlusion: { ...occlusion, mode: 'approximate' } })).attributions[0]!;
      expect(approx.params).toMatchObject({ mode: 'approximate', tau: 0.75, drillDown: 0.5 });
      expect(approx.params['evaluatedWindows'] as number).toBeLessThan(0.7 * (approx.params['windows'] as number));
      const n = x.dims[0]!;
      const per = data(exact.raw).length / n;
      for (let i = 0; i < n; i++) {
        const one = (a: Attribution): Attribution => ({ ...a, raw: { dtype: 'float32', dims: [per], data: data(a.raw).subarray(i * per, (i + 1) * per) } });
        const err = relativeL2(one(approx), one(exact));
        expect(err, `${model.name} image ${i}`).toBeLessThan(0.25);
        expect(err, `${model.name} image ${i}: the approximation is not exact`).toBeGreaterThan(0);
      }
    }
  });

  it('with tau 1 and no drill-down it is exact', async () => {
    const model = geometryModel(engine);
    const x = geometryInputs(1);
    const r = await compare(model, x, { methods: ['occlusion'], occlusion: { window: 4, stride: 2 } }, 'occlusion', { mode: 'approximate', tau: 1, drillDown: 1 });
    expect(r.difference).toBeLessThan(1e-5);
  });
});

describe('the target-only head computes the target logit of the whole model', () => {
  const check = async (model: Model, x: Tensor, targets: number[]): Promise<void> => {
    const head = targetHead(model.graph, model.output);
    expect(head, model.name).toBeDefined();
    const full = data((await model.run(x))[model.output]!);
    const compiled = await engine.compileOnce(head!.graph);
    const k = full.length / x.dims[0]!;
    for (const t of targets) {
      const out = data((await compiled.run({ [model.input.name]: x, [head!.target]: { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(t)) } }))[head!.output]!);
      expect(out.length).toBe(x.dims[0]);
      for (let i = 0; i < x.dims[0]!; i++) expect(Math.abs(out[i]! - full[i * k + t]!), `${model.name} class ${t}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(full[i * k + t]!)));
    }
  };

  it('Gemm head (built-in CNN), conv + ReLU + global pooling head (SqueezeNet), MatMul + Add head', async () => {
    const builtin = loadBuiltinModel(engine);
    await check(builtin, (await loadInputs(['samples/fashion-mnist/bag-test18.png', 'samples/fashion-mnist/coat-test6.png'], builtin)).batch, [0, 8, 9]);
    const sq = squeezenet();
    await check(sq, (await loadInputs([CAT], sq)).batch, [0, 285, 999]);
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 1, 4, 4]);
    const rand = rng(3);
    const flat = b.op('Flatten', [b.op('Relu', [x])], { axis: 1 });
    const w = b.initializer('w', { dtype: 'float32', dims: [16, 6], data: Float32Array.from({ length: 96 }, () => rand() - 0.5) });
    const bias = b.initializer('bias', { dtype: 'float32', dims: [6], data: Float32Array.from({ length: 6 }, () => rand()) });
    b.output(b.op('Add', [b.op('MatMul', [flat, w]), bias], {}, { outputs: ['logits'] }));
    const mm = new Model(b.build(), engine, 'matmul-head');
    await check(mm, { dtype: 'float32', dims: [3, 1, 4, 4], data: Float32Array.from({ length: 48 }, () => rand() - 0.3) }, [0, 5]);
  });

  it('is not made for heads that mix classes (a softmax inside the chain)', () => {
    const b = new GraphBuilder();
    const x = b.input('input', 'float32', ['N', 4]);
    const w = b.initializer('w', { dtype: 'float32', dims: [3, 4], data: new Float32Array(12).fill(0.1) });
    const s = b.op('Softmax', [b.op('Gemm', [x, w], { transB: 1 })], { axis: 1 });
    b.output(b.op('Relu', [s], {}, { outputs: ['out'] }));
    expect(targetHead(b.build(), 'out')).toBeUndefined();
  });
});

describe('Score-CAM (distinct masks once, target-only head, local masks incrementally) equals the reference', () => {
  it('on the built-in CNN, SqueezeNet (fire 9, whose small masks run incrementally) and a ResNet-shaped net', async () => {
    const builtin = loadBuiltinModel(engine);
    const fm = (await loadInputs(['samples/fashion-mnist/ankle-boot-test0.png', 'samples/fashion-mnist/bag-test18.png'], builtin)).batch;
    for (const score of ['logit', 'prob'] as const) {
      const r = await compare(builtin, fm, { methods: ['scorecam'], score }, 'scorecam');
      expect(r.difference, score).toBeLessThan(1e-5);
      expect(r.fast.params['duplicateChannels'], 'dead channels are one mask').toBeGreaterThan(0);
    }
    const sq = squeezenet();
    const cat = (await loadInputs([CAT], sq)).batch;
    const r9 = await compare(sq, cat, { methods: ['scorecam'], layer: FIRE9 }, 'scorecam');
    expect(r9.difference).toBeLessThan(1e-5);
    expect(r9.fast.params['targetOnly']).toBe(true);
    expect(r9.fast.params['incrementalMasks'] as number).toBeGreaterThan(0);
    const net = new Model(resnet({ widths: [16, 32, 64, 128], size: 112, classes: 20, seed: 4 }), engine, 'resnet-small');
    const x = (await loadInputs([CAT], net)).batch;
    const r = await compare(net, x, { methods: ['scorecam'] }, 'scorecam');
    expect(r.difference).toBeLessThan(1e-5);
  });
});

describe('Score-CAM channel scores', () => {
  it('every channel\'s score equals the reference\'s, including the small masks scored incrementally (SqueezeNet fire 9)', async () => {
    // The map weighs channels by a softmax, which hides small errors in most scores: compare
    // the scores themselves.
    const sq = squeezenet();
    const x = (await loadInputs([CAT], sq)).batch;
    const a = (await sq.run(x, [FIRE9]))[FIRE9]!;
    const run = { model: sq, x, targets: Int32Array.of(285), score: 'logit' as const, forwardBatchSize: 16, job: {} };
    const ref = await scoreCamChannelScores(run, a, 'brute-force');
    const got = await scoreCamChannelScores(run, a, 'incremental');
    expect(got.params['incrementalMasks'] as number).toBeGreaterThan(20);
    const scale = Math.max(...Array.from(ref.scores, Math.abs));
    for (let j = 0; j < ref.scores.length; j++) expect(Math.abs(got.scores[j]! - ref.scores[j]!), `channel ${j}`).toBeLessThan(1e-5 * scale);
  });
});
