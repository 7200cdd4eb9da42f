// Deep feature factorization: planted concepts come back with their vectors, maps, order and the
// head's classes computed by hand; the vectors and maps rebuild the layer to the reported error;
// layers a branch bypasses and layers with negative values say what they did.
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { factorizeFeatures } from '../../src/methods/inspect/concepts.js';
import { softmax } from '../../src/methods/predict.js';
import { writeMetadata } from '../../src/models/metadata.js';
import { Model } from '../../src/models/model.js';
import { geometryInputs, geometryModel } from '../explain/geometry-model.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

// a 1x1 conv maps input channel 0 to concept A and channel 1 to concept B, then ReLU, GAP, dense
const A = [1, 0, 2, 0];
const B = [0, 3, 0, 1];
const FC = [
  [1, -1, 0.5, 0],
  [0, 0.5, -1, 2],
  [-0.5, 0, 0, 1],
];
const FC_BIAS = [0.1, -0.2, 0.3];
const [H, W] = [4, 6];

function twoConceptModel(): Model {
  const b = new GraphBuilder();
  b.graph.name = 'two-concepts';
  const x = b.input('input', 'float32', ['N', 2, H, W]);
  const weight = b.initializer('conv.w', { dtype: 'float32', dims: [4, 2, 1, 1], data: Float32Array.from(A.flatMap((a, c) => [a, B[c]!])) });
  const conv = b.op('Conv', [x, weight], { kernel_shape: [1, 1] }, { name: 'conv', outputs: ['conv'] });
  const feat = b.op('Relu', [conv], {}, { name: 'feat', outputs: ['feat'] });
  const gap = b.op('GlobalAveragePool', [feat], {}, { name: 'gap', outputs: ['gap'] });
  const flat = b.op('Flatten', [gap], { axis: 1 }, { name: 'flatten', outputs: ['flatten'] });
  const fc = b.op('Gemm', [flat, b.initializer('fc.w', { dtype: 'float32', dims: [3, 4], data: Float32Array.from(FC.flat()) }), b.initializer('fc.b', { dtype: 'float32', dims: [3], data: Float32Array.from(FC_BIAS) })], { transB: 1 }, { name: 'logits', outputs: ['logits'] });
  b.output(fc);
  const graph = b.build();
  writeMetadata(graph, { labels: ['ant', 'bee', 'cat'], preprocessing: { size: [H, W], channels: 'rgb', range: [0, 1], mean: [0, 0], std: [1, 1], resize: 'stretch' } });
  return new Model(graph, engine, 'two-concepts');
}

/** Image 0: A at strength 1 on the left half, B at 1 on the right; image 1: A at 2 on the top half, B at 0.5 below. */
function twoConceptImages(): Tensor {
  const data = new Float32Array(2 * 2 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      data[(0 * 2 + (x < W / 2 ? 0 : 1)) * H * W + y * W + x] = 1;
      if (y < H / 2) data[(1 * 2 + 0) * H * W + y * W + x] = 2;
      else data[(1 * 2 + 1) * H * W + y * W + x] = 0.5;
    }
  }
  return { dtype: 'float32', dims: [2, 2, H, W], data };
}

describe('factorizeFeatures (deep feature factorization)', () => {
  it('finds planted concepts: vectors at full strength, maps scaled to 1, larger one first, classes from the head', async () => {
    const f = await factorizeFeatures(twoConceptModel(), twoConceptImages(), { layer: 'feat', components: 2, topClasses: 3, maxIterations: 2000 });
    expect(f.label).toBe('feat');
    expect(f.shape).toEqual([4, H, W]);
    expect(f.relativeError).toBeLessThan(1e-3);
    // A: 3 x (24 x 1 + 12 x 2) of activation against B: 4 x (12 x 1 + 12 x 0.5)
    const [a, b] = f.concepts;
    A.forEach((v, c) => expect(a!.vector[c]).toBeCloseTo(2 * v, 2));
    B.forEach((v, c) => expect(b!.vector[c]).toBeCloseTo(v, 2));
    const maps = f.maps.data as Float32Array;
    expect(f.maps.dims).toEqual([2, 2, H, W]);
    const at = (image: number, concept: number, y: number, x: number): number => maps[((image * 2 + concept) * H + y) * W + x]!;
    expect(at(0, 0, 1, 1)).toBeCloseTo(0.5, 2); // A at 1 of its 2
    expect(at(0, 0, 1, 5)).toBeCloseTo(0, 2);
    expect(at(0, 1, 1, 5)).toBeCloseTo(1, 2);
    expect(at(1, 0, 0, 3)).toBeCloseTo(1, 2);
    expect(at(1, 1, 3, 3)).toBeCloseTo(0.5, 2);
    expect(a!.coverage).toBeCloseTo(0.5, 6);
    expect(b!.coverage).toBeCloseTo(0.5, 6);
    // the head on the layer filled with a concept: GAP gives the vector back, then the dense layer
    for (const [concept, vector] of [[a!, A.map((v) => 2 * v)], [b!, B]] as const) {
      const logits = FC.map((row, k) => row.reduce((s, wk, c) => s + wk * vector[c]!, FC_BIAS[k]!));
      const p = softmax(logits);
      const order = [0, 1, 2].sort((i, j) => logits[j]! - logits[i]!);
      expect(concept.classes!.map((t) => t.label)).toEqual(order.map((k) => ['ant', 'bee', 'cat'][k]));
      concept.classes!.forEach((t) => {
        expect(t.logit).toBeCloseTo(logits[t.index]!, 2);
        expect(t.probability).toBeCloseTo(p[t.index]!, 3);
      });
    }
  });

  it('rebuilds the layer from vectors x maps to the error it reports', async () => {
    const model = geometryModel(engine);
    const x = geometryInputs(3);
    const f = await factorizeFeatures(model, x, { layer: 'feat', components: 4 });
    const acts = (await model.run(x, ['feat']))['feat']!.data as Float32Array;
    const [c, h, w] = f.shape;
    const k = f.concepts.length;
    const maps = f.maps.data as Float32Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < 3; i++) {
      for (let ch = 0; ch < c; ch++) {
        for (let p = 0; p < h * w; p++) {
          let s = 0;
          for (let r = 0; r < k; r++) s += f.concepts[r]!.vector[ch]! * maps[(i * k + r) * h * w + p]!;
          const a = acts[(i * c + ch) * h * w + p]!;
          num += (a - s) ** 2;
          den += a * a;
        }
      }
    }
    expect(Math.sqrt(num / den)).toBeCloseTo(f.relativeError, 4);
    for (let r = 0; r < k; r++) {
      let peak = 0;
      for (let i = 0; i < 3; i++) for (let p = 0; p < h * w; p++) peak = Math.max(peak, maps[(i * k + r) * h * w + p]!);
      expect(peak).toBeCloseTo(1, 6);
    }
    expect(f.concepts.reduce((s, con) => s + con.coverage, 0)).toBeCloseTo(1, 6);
    expect(f.notes).toEqual([]);
  });

  it('names no classes at a layer a branch bypasses, and shifts channels with negative values', async () => {
    const model = geometryModel(engine);
    const bypassed = await factorizeFeatures(model, geometryInputs(2), { layer: 'dil.relu', components: 3 });
    expect(bypassed.concepts.every((con) => con.classes === undefined)).toBe(true);
    expect(bypassed.notes.join(' ')).toMatch(/Another branch bypasses layer dil.relu/);
    const signed = await factorizeFeatures(model, geometryInputs(2), { layer: 'bn', components: 3 });
    expect(signed.notes.join(' ')).toMatch(/has negative values; each such channel was shifted up by its minimum/);
    expect(signed.concepts.some((con) => con.vector.some((v) => v < 0))).toBe(true);
  });

  it('refuses impossible component counts before any work, naming the range', async () => {
    const model = twoConceptModel();
    await expect(factorizeFeatures(model, twoConceptImages(), { layer: 'feat', components: 5 })).rejects.toThrow(/Cannot find 5 concepts in layer "feat" \(\[4, 4, 6\] over 2 images\)/);
    await expect(factorizeFeatures(model, twoConceptImages(), { layer: 'feat', components: 0 })).rejects.toThrow(/Cannot find 0 concepts/);
  });
});
