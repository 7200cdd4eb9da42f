// Exports without dynamic axes write the image size into Reshape targets (ShuffleNet's channel
// shuffle). Loading such a model takes the spatial entries from the reshaped value instead, where
// that is what they mean: at the export size the model computes exactly what the file does, at
// other sizes what the same network exported with dynamic axes computes; targets whose last two
// entries do not follow the image are left as they are.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { seededRandom } from '../../src/models/init.js';
import { Layers } from '../../src/models/layers.js';
import { Model } from '../../src/models/model.js';
import { receptiveFields } from '../../src/models/receptive-field.js';
import { withSizeFreeReshapes } from '../../src/models/size-free-reshapes.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

const SIZE = 24;

type Export = 'static' | 'batch-dynamic' | 'dynamic';

/**
 * conv, channel shuffle, conv, global pool, dense, as torch.onnx writes it: `static` (no dynamic
 * axes) with constant targets for batch 1 at 24x24; `batch-dynamic` with the batch taken from the
 * value and the rest constant; `dynamic` (batch and size dynamic) with the batch and the spatial
 * entries taken from the value, which is the reference at other sizes.
 */
function shuffleNet(kind: Export): Graph {
  const b = new GraphBuilder();
  b.graph.name = `shuffle_${kind}`;
  const L = new Layers(b, seededRandom(11));
  let x = b.input('image', 'float32', kind === 'static' ? [1, 3, SIZE, SIZE] : kind === 'batch-dynamic' ? ['N', 3, SIZE, SIZE] : ['N', 3, 'H', 'W']);
  x = L.relu(L.conv2d(x, 'conv1', { filters: 8, stride: 2 }), 'relu1');
  const target = (middle: number[]): string => {
    if (kind === 'static') return b.ints([1, ...middle, SIZE / 2, SIZE / 2]);
    const shape = b.op('Shape', [x]);
    const batch = b.op('Slice', [shape, b.ints([0]), b.ints([1])]);
    if (kind === 'batch-dynamic') return b.op('Concat', [batch, b.ints([...middle, SIZE / 2, SIZE / 2])], { axis: 0 });
    const spatial = b.op('Slice', [shape, b.ints([2]), b.ints([4])]);
    return b.op('Concat', [batch, b.ints(middle), spatial], { axis: 0 });
  };
  const grouped = b.op('Reshape', [x, target([2, 4])]);
  const swapped = b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] });
  x = b.op('Reshape', [swapped, target([8])], {}, { name: 'shuffle', outputs: ['shuffle'] });
  x = L.relu(L.conv2d(x, 'conv2', { filters: 8 }), 'relu2');
  b.output(L.dense(L.flatten(L.globalAvgPool(x, 'gap'), 'flat'), 'fc', 5));
  return b.build();
}

/** Runs a graph on an input of any size (the graph's input shape is rewritten to fit). */
async function run(graph: Graph, x: Tensor, output: string): Promise<Float32Array> {
  const g = graph.clone();
  g.inputs = g.inputs.map((i) => ({ ...i, shape: [...x.dims] }));
  // shapes written for the export size would contradict the run's
  g.valueInfo = new Map();
  g.outputs = [{ name: output, dtype: 'float32' }];
  const c = await engine.compileOnce(g);
  try {
    return (await c.run({ [g.inputs[0]!.name]: x }, [output]))[output]!.data as Float32Array;
  } finally {
    await c.release();
  }
}

const image = (h: number, w: number, seed: number): Tensor => f32([1, 3, h, w], randn(rng(seed), 3 * h * w));

describe('Reshape targets that name the image size', () => {
  for (const kind of ['static', 'batch-dynamic'] as const) {
    it(`follow the image (${kind} export): bit for bit at the export size, the dynamic export elsewhere`, async () => {
      const file = shuffleNet(kind);
      const model = new Model(file, engine);
      const reshapes = model.graph.nodes.filter((n) => n.op === 'Reshape' && n.name !== 'flat');
      expect(reshapes.length).toBe(2);
      // both shuffle reshapes now read their spatial entries from the value
      for (const r of reshapes) expect(model.graph.nodes.find((n) => n.outputs.includes(r.inputs[1]!))?.op).toBe('Concat');

      const x = image(SIZE, SIZE, 1);
      const out = model.output;
      expect(await run(model.graph, x, out)).toEqual(await run(file, x, out));

      const dynamic = shuffleNet('dynamic');
      for (const [h, w] of [
        [40, 56],
        [18, 30],
      ] as const) {
        const y = image(h, w, h);
        const got = await run(model.graph, y, 'shuffle');
        const want = await run(dynamic, y, 'shuffle');
        expect(got.length).toBe(8 * (h / 2) * (w / 2));
        expect(got).toEqual(want);
        // the file itself cannot run there
        await expect(run(file, y, 'shuffle')).rejects.toThrow();
      }
    });
  }

  it('are freed once: a Model made from a Model\'s graph (the sanity check\'s randomized copies) compiles', async () => {
    const model = new Model(shuffleNet('batch-dynamic'), engine);
    expect(withSizeFreeReshapes(model.graph)).toBe(model.graph);
    const copy = new Model(model.graph.clone(), engine, 'copy');
    const names = copy.graph.nodes.map((n) => n.name).filter(Boolean);
    expect(new Set(names).size).toBe(names.length);
    const x = image(SIZE, SIZE, 2);
    expect(await run(copy.graph, x, copy.output)).toEqual(await run(model.graph, x, model.output));
  });

  it('a channel shuffle keeps every unit\'s receptive field (it regroups channels, not positions)', () => {
    for (const kind of ['static', 'batch-dynamic', 'dynamic'] as const) {
      const model = new Model(shuffleNet(kind), engine);
      const fields = receptiveFields(model.graph, model.builder(), model.input.name);
      const before = fields.get('relu1')!;
      const after = fields.get('shuffle')!;
      expect(before.global).toBe(false);
      expect(after, kind).toEqual(before);
      // and the conv after it grows the field as a 3x3 conv does
      const next = fields.get('relu2')!;
      expect(next.global).toBe(false);
      expect(next.size[0]).toBeGreaterThan(before.size[0]!);
    }
  });

  it('a channel split keeps receptive fields; a cut across positions moves them by its start', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(5));
    const x = b.input('image', 'float32', ['N', 3, SIZE, SIZE]);
    const c = L.relu(L.conv2d(x, 'conv1', { filters: 8 }), 'relu1');
    const half = b.op('Slice', [c, b.ints([0]), b.ints([4]), b.ints([1])], {}, { name: 'split', outputs: ['half'] });
    const rows = b.op('Slice', [c, b.ints([0]), b.ints([SIZE / 2]), b.ints([2])], {}, { name: 'rows', outputs: ['top'] });
    const low = b.op('Slice', [c, b.ints([SIZE / 2]), b.ints([SIZE]), b.ints([2])], {}, { name: 'low', outputs: ['bottom'] });
    const pooled = b.op('Add', [b.op('Add', [L.globalAvgPool(L.conv2d(half, 'conv2', { filters: 4 }), 'gap2'), L.globalAvgPool(L.conv2d(rows, 'conv3', { filters: 4 }), 'gap3')]), L.globalAvgPool(L.conv2d(low, 'conv4', { filters: 4 }), 'gap4')]);
    b.output(L.dense(L.flatten(pooled, 'flat'), 'fc', 3));
    const model = new Model(b.build(), engine);
    const fields = receptiveFields(model.graph, model.builder(), model.input.name);
    expect(fields.get('half')).toEqual(fields.get('relu1'));
    // the top half: unit i is relu1's unit i; the bottom half: unit i is relu1's unit SIZE / 2 + i
    // (it was "whole image", which no unit of a crop is)
    expect(fields.get('top')).toEqual(fields.get('relu1'));
    const r = fields.get('relu1')!;
    expect(fields.get('bottom')).toEqual({ ...r, start: [r.start[0] + (SIZE / 2) * r.jump[0], r.start[1]] });
  });

  it('are left alone where the last two entries do not follow the image', () => {
    // a [1, 64] feature reshaped to [1, 4, 4, 4] and regrouped: 4x4 at every image size
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(3));
    const x = b.input('image', 'float32', [1, 3, SIZE, SIZE]);
    const flat = L.dense(L.flatten(L.globalAvgPool(L.conv2d(x, 'conv', { filters: 8 }), 'gap'), 'flat'), 'fc', 64);
    const cube = b.op('Reshape', [flat, b.ints([1, 4, 4, 4])]);
    const grouped = b.op('Reshape', [cube, b.ints([1, 2, 2, 4, 4])]);
    b.output(b.op('ReduceMean', [grouped], { axes: [1, 2, 3, 4], keepdims: 0 }));
    const g = b.build();
    expect(withSizeFreeReshapes(g)).toBe(g);
  });

  it('leave a model without such targets as it is', () => {
    const b = new GraphBuilder();
    const L = new Layers(b, seededRandom(3));
    const x = b.input('image', 'float32', [1, 3, SIZE, SIZE]);
    b.output(L.dense(L.flatten(L.relu(L.conv2d(x, 'conv', { filters: 4 }), 'relu'), 'flat'), 'fc', 3));
    const g = b.build();
    expect(withSizeFreeReshapes(g)).toBe(g);
  });
});
