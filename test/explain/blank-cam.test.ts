// A rectified CAM that is 0 at every position (every channel-weighted sum negative: the layer
// holds no positive evidence for the target) drew a blank tile captioned "0 to 0" and said
// nothing; it is now noted, naming the layer as --layer takes it. ResNeXt-50 with random
// weights gave such a Grad-CAM for class 1 (PyTorch's is 0 there too).
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32 } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { rng } from '../support/rng.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

/** conv (2 channels) -> ReLU -> global average pool -> dense: class 0 reads both channels with weight -1, class 1 with +1. */
function oppositeClassesModel(): Model {
  const rand = rng(7);
  const b = new GraphBuilder();
  b.graph.name = 'opposite_classes';
  const x = b.input('input', 'float32', ['N', 1, 8, 8]);
  const w = b.initializer('features.weight', f32([2, 1, 3, 3], Array.from({ length: 18 }, () => rand() + 0.1)));
  const conv = b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: '/features/Conv', outputs: ['/features/Conv_output_0'] });
  const relu = b.op('Relu', [conv], {}, { name: '/features/Relu', outputs: ['/features/Relu_output_0'] });
  const pooled = b.op('GlobalAveragePool', [relu], {}, { name: '/pool/GlobalAveragePool', outputs: ['/pool/GlobalAveragePool_output_0'] });
  const flat = b.op('Flatten', [pooled], { axis: 1 }, { name: '/Flatten', outputs: ['/Flatten_output_0'] });
  const fc = b.initializer('fc.weight', f32([2, 2], [-1, -1, 1, 1]));
  b.output(b.op('Gemm', [flat, fc], { transB: 1 }, { name: '/fc/Gemm', outputs: ['logits'] }));
  const g = b.build();
  writeMetadata(g, { labels: ['absent', 'present'], preprocessing: { size: [8, 8], channels: 'gray', range: [0, 1], mean: [0], std: [1], resize: 'stretch' } });
  return new Model(g, engine, 'opposite');
}

const x = f32([2, 1, 8, 8], Array.from({ length: 128 }, (_, i) => ((i * 37) % 11) / 10));

describe('a rectified CAM that is 0 everywhere', () => {
  const model = oppositeClassesModel();

  it('is noted with the layer as --layer takes it, for Grad-CAM and the other rectified CAMs', async () => {
    const e = await explain(model, x, { methods: ['gradcam', 'layercam', 'xgradcam'], target: 0 });
    for (const a of e.attributions) {
      expect(Math.max(...(a.raw.data as Float32Array)), a.method).toBe(0);
      expect(a.layer?.label, a.method).toBe(model.layerLabel(a.layer!.name));
      expect(a.notes, a.method).toContainEqual(expect.stringMatching(new RegExp(`^${a.method} is 0 everywhere on every image: at ${a.layer!.label} every position's channel-weighted sum is zero or negative`)));
    }
  });

  it('is not noted where the layer holds evidence for the target', async () => {
    const e = await explain(model, x, { methods: ['gradcam'], target: 1 });
    const a = e.attributions[0]!;
    expect(Math.max(...(a.raw.data as Float32Array))).toBeGreaterThan(0);
    expect(a.notes.filter((n) => n.includes('0 everywhere'))).toEqual([]);
  });

  it('names the images that are blank when only some are', async () => {
    // image 2 all zero: the ReLU'd conv is 0 there, so are the maps of both classes
    const mixed = f32([2, 1, 8, 8], [...Array.from({ length: 64 }, (_, i) => ((i * 37) % 11) / 10), ...new Array<number>(64).fill(0)]);
    const e = await explain(model, mixed, { methods: ['gradcam'], target: 1 });
    expect(e.attributions[0]!.notes).toContainEqual(expect.stringMatching(/^gradcam is 0 everywhere on image 2: at /));
  });
});
