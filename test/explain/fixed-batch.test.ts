// Static-batch exports. One whose Reshapes write the batch size into their targets (a channel
// shuffle as torch.onnx writes it without dynamic_axes) gets a free batch axis: the targets
// copy the input's batch instead. One whose batch cannot be freed (here it is folded into
// another axis) is explained in runs of one image: several images give the same maps as one at
// a time, and a batch size the model cannot take is refused with the reason and the way out.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { explain, type MethodName } from '../../src/methods/explain/index.js';
import { layerAttribution } from '../../src/methods/explain/layer-attribution.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

/** A static-batch export: conv, `middle` (reshapes written for batch 1), conv, pool, dense. */
function staticExport(name: string, middle: (b: GraphBuilder, L: Layers, x: string) => string): Graph {
  const b = new GraphBuilder();
  b.graph.name = name;
  const L = new Layers(b, seededRandom(11));
  let x = b.input('image', 'float32', [1, 3, 24, 24]);
  x = middle(b, L, L.relu(L.conv2d(x, 'conv1', { filters: 8 }), 'relu1'));
  x = L.maxPool(L.relu(L.conv2d(x, 'conv2', { filters: 8 }), 'relu2'), 'pool');
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 5));
  return b.build();
}

/** A channel shuffle through Reshape targets that name the batch (1), as torch.onnx writes it. */
const shuffleNet = (): Graph =>
  staticExport('fixed_batch_shuffle', (b, _L, x) => {
    const grouped = b.op('Reshape', [x, b.ints([1, 2, 4, 24, 24])]);
    const swapped = b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] });
    return b.op('Reshape', [swapped, b.ints([1, 8, 24, 24])], {}, { name: 'shuffle', outputs: ['shuffle'] });
  });

/** The batch folded into a leading axis of 2 (Reshape [2, 4, 24, 24]), a conv, and back: it cannot be freed. */
const foldedBatchNet = (): Graph =>
  staticExport('fixed_batch_folded', (b, L, x) => {
    const halves = b.op('Reshape', [x, b.ints([2, 4, 24, 24])]);
    const mixed = L.relu(L.conv2d(halves, 'conv_halves', { filters: 4 }), 'relu_halves');
    return b.op('Reshape', [mixed, b.ints([1, 8, 24, 24])], {}, { name: 'unfold', outputs: ['unfold'] });
  });

const rand = rng(5);
const images = (n: number): Tensor => f32([n, 3, 24, 24], randn(rand, n * 3 * 24 * 24));
const row = (t: Tensor, i: number): Float32Array => {
  const per = t.data.length / t.dims[0]!;
  return (t.data as Float32Array).slice(i * per, (i + 1) * per);
};

describe('a static export whose Reshape targets name the batch', () => {
  it('gets a free batch axis: three images in one run give the maps of each alone, and DeepLIFT runs', async () => {
    const model = new Model(shuffleNet(), engine);
    expect(model.input.shape![0]).toBe('N');
    const x = images(3);
    const methods: MethodName[] = ['saliency', 'deeplift'];
    const all = await explain(model, x, { methods });
    expect(all.skipped).toEqual([]);
    expect(all.batchSize).toBeGreaterThan(1);
    for (let i = 0; i < 3; i++) {
      const one = await explain(model, f32([1, 3, 24, 24], row(x, i)), { methods });
      for (const m of methods) {
        const got = row(all.attributions.find((t) => t.method === m)!.raw, i);
        const want = one.attributions.find((t) => t.method === m)!.raw.data as Float32Array;
        const scale = Math.max(...want.map(Math.abs), 1e-12);
        expect(Math.max(...got.map((v, k) => Math.abs(v - want[k]!))) / scale, `${m}, image ${i}`).toBeLessThan(1e-5);
      }
    }
    for (const c of all.attributions.find((t) => t.method === 'deeplift')!.completeness!) expect(c.relativeGap).toBeLessThan(1e-4);
  });
});

describe('a model whose batch axis is fixed at 1', () => {
  const model = new Model(foldedBatchNet(), engine);
  const methods: MethodName[] = ['saliency', 'gradcam', 'integrated-gradients', 'occlusion', 'scorecam'];
  const options = { methods, integratedGradients: { steps: 4 }, occlusion: { window: 8, stride: 8 } };

  it('keeps its fixed batch (folded into another axis), and explains three images as it explains each alone', async () => {
    expect(model.input.shape![0]).toBe(1);
    const x = images(3);
    const all = await explain(model, x, options);
    expect(all.skipped).toEqual([]);
    expect(all.batchSize).toBe(1);
    expect(all.forwardBatchSize).toBe(1);
    for (let i = 0; i < 3; i++) {
      const one = await explain(model, f32([1, 3, 24, 24], row(x, i)), options);
      for (const m of methods) {
        const a = all.attributions.find((t) => t.method === m)!.raw;
        const b = one.attributions.find((t) => t.method === m)!.raw;
        expect(a.dims[0], m).toBe(3);
        const got = row(a, i);
        const want = b.data as Float32Array;
        const scale = Math.max(...want.map(Math.abs), 1e-12);
        expect(Math.max(...got.map((v, k) => Math.abs(v - want[k]!))) / scale, `${m}, image ${i}`).toBeLessThan(1e-5);
      }
    }
  });

  it('refuses a batch size it cannot take, naming the fixed batch and how to re-export', async () => {
    await expect(explain(model, images(2), { methods: ['saliency'], batchSize: 2 })).rejects.toThrow(/runs exactly 1 image at a time \(its batch axis is fixed in the graph's shapes\), and this run has 2/);
    await expect(model.run(images(2))).rejects.toMatchObject({ hint: expect.stringMatching(/dynamic_axes/) });
    // DeepLIFT needs image and baseline in one run: skipped with its own reason and the re-export
    const e = await explain(model, images(1), { methods: ['deeplift', 'saliency'] });
    expect(e.attributions.map((a) => a.method)).toEqual(['saliency']);
    expect(e.skipped[0]).toMatchObject({ method: 'deeplift', reason: expect.stringMatching(/each image together with its baseline in one batch.*runs exactly 1 image at a time/) });
    expect(e.skipped[0]!.hint).toMatch(/dynamic_axes/);
  });
});

describe('channel attribution on a model whose batch axis is fixed at 1', () => {
  it('skips DeepLIFT with its reason and runs the other methods (the default run failed whole)', async () => {
    const model = new Model(foldedBatchNet(), engine);
    expect(model.input.shape![0]).toBe(1);
    const r = await layerAttribution(model, images(1), { layer: 'relu2', methods: ['gradient-x-activation', 'deeplift'] });
    expect(r.results.map((m) => m.method)).toEqual(['gradient-x-activation']);
    expect(r.skipped).toEqual([expect.objectContaining({ method: 'deeplift', reason: expect.stringMatching(/runs exactly 1 image\(s\) at a time/) })]);
    // asked for alone, it is refused
    await expect(layerAttribution(model, images(1), { layer: 'relu2', methods: ['deeplift'] })).rejects.toThrow(/DeepLIFT runs each image together with its baseline/);
  });
});
