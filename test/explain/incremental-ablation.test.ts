// Feature ablation by incremental inference: each ablated copy computed from the image's
// activations gives brute force's map to float32 rounding, on odd geometries and real networks;
// the default mode keeps brute force where the plan does not pay, and says why.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Progress } from '../../src/engine/jobs.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadInputs } from '../../src/io/inputs.js';
import { explain, type Attribution, type ExplainOptions } from '../../src/methods/explain/index.js';
import { loadBuiltinModel, loadModelFile } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { resnet18Like } from '../../src/models/zoo/index.js';
import { geometryInputs, geometryModel } from './geometry-model.js';
import { regionInputs, regionModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const SQUEEZENET = '/work/shared/models/squeezenet1.1/squeezenet1.1.onnx';
const CAT = '/work/shared/images/chelsea.png';
const COFFEE = '/work/shared/images/coffee.png';

function squeezenet(): Model {
  if (!existsSync(SQUEEZENET)) throw new Error(`SqueezeNet 1.1 is missing at ${SQUEEZENET}: these tests need the real network (see /work/shared/models/squeezenet1.1/README.md).`);
  return loadModelFile(SQUEEZENET, engine);
}

type Segments = NonNullable<ExplainOptions['segments']>;

/**
 * The largest difference between the two maps relative to the scale float32 rounding works at:
 * the larger of the reference's largest value and the largest target score (a segment's value is
 * a difference of two scores, so a few ulps of the score bound how closely two correct
 * evaluation orders agree; as in incremental.test.ts).
 */
async function compare(model: Model, x: Tensor, segments: Segments, extra: Partial<ExplainOptions> = {}): Promise<{ fast: Attribution; difference: number }> {
  const ref = await explain(model, x, { ...extra, methods: ['feature-ablation'], segments: { ...segments, mode: 'brute-force' } });
  const got = await explain(model, x, { ...extra, methods: ['feature-ablation'], segments });
  const a = got.attributions[0]!.raw.data as Float32Array;
  const b = ref.attributions[0]!.raw.data as Float32Array;
  expect(ref.attributions[0]!.params['mode']).toBe('brute-force');
  let diff = 0;
  let scale = Math.max(...ref.images.map((im) => Math.abs(im.target.score)));
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { fast: got.attributions[0]!, difference: diff / scale };
}

describe('incremental feature ablation equals brute force', () => {
  it('on odd geometries (30x22 input, asymmetric pads, ceil-mode pooling, dilation, residual add, concat), SLIC and grid segments, every baseline, two images', async () => {
    const model = geometryModel(engine);
    const x = geometryInputs(2);
    for (const segments of [
      { segmentation: 'grid', count: 12 },
      { segmentation: 'slic', count: 8, baseline: 'mean' },
      { segmentation: 'grid', count: 30, baseline: 'blurred' },
      { segmentation: 'slic', count: 3, baseline: 'black' },
    ] as Segments[]) {
      const r = await compare(model, x, { ...segments, mode: 'incremental' }, { batchSize: 5 });
      const label = JSON.stringify(segments);
      expect(r.fast.params['mode'], label).toBe('incremental');
      expect((r.fast.params['incrementalSegments'] as number[]).every((k) => k > 0), label).toBe(true);
      expect(r.difference, label).toBeLessThan(1e-5);
    }
  });

  it('on the built-in Fashion-MNIST CNN (too small for the default mode, which runs brute force and says so)', async () => {
    const builtin = loadBuiltinModel(engine);
    const { batch } = await loadInputs(['samples/fashion-mnist/ankle-boot-test0.png', 'samples/fashion-mnist/bag-test18.png'], builtin);
    for (const segmentation of ['slic', 'grid'] as const) {
      const r = await compare(builtin, batch, { segmentation, count: 16, mode: 'incremental' });
      expect(r.fast.params['mode']).toBe('incremental');
      expect(r.difference, segmentation).toBeLessThan(1e-5);
    }
    const byDefault = await explain(builtin, batch, { methods: ['feature-ablation'] });
    expect(byDefault.attributions[0]!.params['mode']).toBe('brute-force');
    expect(byDefault.attributions[0]!.notes.join(' ')).toContain('feature ablation ran brute force: the model is too small');
  });

  it('on SqueezeNet 1.1 at the default segments (fire-module concats, ceil-mode pools; the largest segments by brute force in the same run)', async () => {
    const sq = squeezenet();
    const { batch } = await loadInputs([CAT, COFFEE], sq);
    const r = await compare(sq, batch, { mode: 'incremental' });
    expect(r.fast.params['mode']).toBe('incremental');
    const estimate = r.fast.params['estimatedSpeedup'] as number[];
    expect(Math.min(...estimate)).toBeGreaterThan(1.3);
    // The cat's largest segments do not fit the window the others share: they ran by brute force in the same call.
    const covered = r.fast.params['incrementalSegments'] as number[];
    const counts = r.fast.params['segments'] as number[];
    expect(covered[0]).toBeGreaterThan(counts[0]! / 2);
    expect(covered[0]).toBeLessThan(counts[0]!);
    expect(r.difference).toBeLessThan(1e-5);
  });

  it('on a ResNet-18-shaped net at 224 (residual adds, strided 1x1 downsampling), grid segments and the blurred baseline', async () => {
    const net = new Model(resnet18Like(3, 224, 100), engine, 'resnet18-ablation-test');
    const { batch } = await loadInputs([CAT], net);
    const r = await compare(net, batch, { segmentation: 'grid', count: 25, baseline: 'blurred', mode: 'incremental' });
    expect(r.fast.params['mode']).toBe('incremental');
    expect(r.fast.params['incrementalSegments']).toEqual([25]);
    expect(r.difference).toBeLessThan(1e-5);
  });

  it('the default mode runs grid cells on SqueezeNet incrementally (estimated 2.1x) and SLIC segments by brute force (1.65x measured no faster), and says why', async () => {
    const sq = squeezenet();
    const { batch } = await loadInputs([CAT], sq);
    const grid = await explain(sq, batch, { methods: ['feature-ablation'], segments: { segmentation: 'grid' } });
    expect(grid.attributions[0]!.params['mode']).toBe('incremental');
    const slic = await explain(sq, batch, { methods: ['feature-ablation'] });
    expect(slic.attributions[0]!.params['mode']).toBe('brute-force');
    expect(slic.attributions[0]!.notes.join(' ')).toMatch(/feature ablation ran brute force: it would save little on these segments \(estimated 1\.\d+x\)/);
  });

  it('reports progress per run, one pass over the image and the batches of windows, and stops when cancelled', async () => {
    const model = geometryModel(engine);
    const x = geometryInputs(2);
    const seen: Progress[] = [];
    await explain(model, x, { methods: ['feature-ablation'], segments: { segmentation: 'grid', count: 12, mode: 'incremental' }, batchSize: 5, onProgress: (p) => seen.push(p) });
    const mine = seen.filter((p) => p.phase === 'feature-ablation');
    expect(mine.length).toBeGreaterThan(0);
    const last = mine[mine.length - 1]!;
    expect(last.done).toBe(last.total);
    expect(last.total).toBe(2 * (1 + Math.ceil(12 / 5)));
    const abort = new AbortController();
    const run = explain(model, x, {
      methods: ['feature-ablation'],
      segments: { segmentation: 'grid', count: 12, mode: 'incremental' },
      batchSize: 2,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'feature-ablation' && p.done >= 2) abort.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('rejects an unknown mode; the default mode runs brute force where the plan does not pay, and says why', async () => {
    const model = geometryModel(engine);
    await expect(explain(model, geometryInputs(1), { methods: ['feature-ablation'], segments: { mode: 'approximate' as never } })).rejects.toThrow('Unknown feature-ablation mode "approximate"');
    const region = regionModel(engine); // its first op multiplies the image by a mask: no op after it runs on patches
    const e = await explain(region, regionInputs(1), { methods: ['feature-ablation'], segments: { segmentation: 'grid', count: 4 } });
    expect(e.attributions[0]!.params['mode']).toBe('brute-force');
    expect(e.attributions[0]!.notes.join(' ')).toContain('feature ablation ran brute force');
  });
});
