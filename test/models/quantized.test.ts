// Quantized models (the ONNX Model Zoo's int8 variants). QDQ pairs from onnxruntime's quantizer:
// every method runs, gradients through the rounding are straight-through estimates and every
// attribution says so; Grad-CAM of a finely quantized model is its float twin's. QLinearConv and
// other integer ops: predictions run as they are; everything that needs shapes or gradients is
// refused naming the quantization and the way out, not a symptom further down.
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { predict } from '../../src/methods/predict.js';
import { Model } from '../../src/models/model.js';
import { f32, handGraph, ints, int, node } from '../support/onnx-files.js';
import { randn, rng } from '../support/rng.js';
import { floatTwin, qdqModel, type ActivationScales } from '../support/quantized-models.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { METHOD_NAMES } from '../../src/methods/explain/types.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const scalar = (v: number): Tensor => f32([], [v]);
const rand = rng(3);
const weights = (dims: number[]): Tensor => f32(dims, randn(rand, dims.reduce((a, b) => a * b, 1), 0.3));

function quantized(kind: 'qdq' | 'qlinear'): Model {
  const wq: Tensor = { dtype: 'int8', dims: [8, 3, 3, 3], data: Int8Array.from({ length: 216 }, () => Math.round((rand() - 0.5) * 200)) };
  const head: Node[] = [node('Relu', ['c'], ['r']), node('GlobalAveragePool', ['r'], ['p']), node('Flatten', ['p'], ['f']), node('Gemm', ['f', 'fw', 'fb'], ['logits'], { transB: int(1) })];
  const conv = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
  const nodes: Node[] =
    kind === 'qdq'
      ? [node('QuantizeLinear', ['image', 's', 'z'], ['xq']), node('DequantizeLinear', ['xq', 's', 'z'], ['xd']), node('DequantizeLinear', ['wq', 'ws', 'wz'], ['w']), node('Conv', ['xd', 'w', 'b'], ['c'], conv), ...head]
      : [node('QuantizeLinear', ['image', 's', 'z'], ['xq']), node('QLinearConv', ['xq', 's', 'z', 'wq', 'ws', 'wz', 's2', 'z'], ['cq'], conv), node('DequantizeLinear', ['cq', 's2', 'z'], ['c']), ...head];
  const g = handGraph({
    name: kind,
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: ['logits'],
    nodes,
    initializers: { s: scalar(0.02), z: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) }, wq, ws: scalar(0.005), wz: { dtype: 'int8', dims: [], data: Int8Array.of(0) }, s2: scalar(0.05), b: weights([8]), fw: weights([10, 8]), fb: weights([10]) },
  });
  return Model.fromOnnxGraph(decodeModel(encodeModel(g), { source: `${kind}.onnx` }), engine);
}

describe('quantized models', () => {
  for (const kind of ['qlinear'] as const) {
    it(`${kind}: predicts; explaining is refused naming the quantization and the float model as the way out`, async () => {
      const model = quantized(kind);
      const x = f32([1, 3, 16, 16], randn(rng(4), 768));
      const p = await predict(model, x, 2);
      expect(p.logits.dims).toEqual([1, 10]);
      expect(p.nonFinite).toEqual([]);
      const error = await explain(model, x, { methods: ['saliency'] }).then(
        () => undefined,
        (e: unknown) => e as Error & { hint?: string },
      );
      expect(error?.message).toMatch(/The model is quantized: QLinearConv node "QLinearConv_cq" works on 8-bit integers/);
      expect(error?.hint).toMatch(/float32 model it was quantized from/);
    });
  }
});

const load = (g: Graph): Model => Model.fromOnnxGraph(decodeModel(encodeModel(g), { source: `${g.name}.onnx` }), engine, g.name);

/** Pearson correlation of two maps. */
function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('QDQ models: explanations', () => {
  const images = f32([6, 3, 16, 16], randn(rng(21), 6 * 768));

  /** Scales calibrated on the float twin's activations (max over the images), as the static quantizer does, times `coarseness`. */
  async function calibrated(coarseness: number): Promise<ActivationScales> {
    const twin = load(floatTwin());
    const out = await twin.run(images, ['r1', 'r2']);
    const max = (t: Tensor): number => (t.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    return { input: (coarseness * max(images)) / 127, relu1: (coarseness * max(out['r1']!)) / 255, relu2: (coarseness * max(out['r2']!)) / 255 };
  }

  async function gradcamAgreement(coarseness: number): Promise<{ worst: number; mean: number }> {
    const twin = load(floatTwin());
    const quantized = load(qdqModel(await calibrated(coarseness)));
    const target = 3; // the same class on both sides, whatever each predicts
    const maps = async (m: Model): Promise<Float32Array> => (await explain(m, images, { methods: ['gradcam'], target })).attributions[0]!.map.data as Float32Array;
    const [a, b] = [await maps(twin), await maps(quantized)];
    const per = Array.from({ length: 6 }, (_, i) => correlation(a.subarray(i * 256, (i + 1) * 256), b.subarray(i * 256, (i + 1) * 256)));
    return { worst: Math.min(...per), mean: per.reduce((s, v) => s + v, 0) / per.length };
  }

  it('Grad-CAM of a model quantized with calibrated 8-bit scales agrees with its float twin; with 16x coarser scales it does not', async () => {
    const fine = await gradcamAgreement(1);
    const coarse = await gradcamAgreement(16);
    console.log(`Grad-CAM correlation with the float twin: calibrated scales worst ${fine.worst.toFixed(4)} mean ${fine.mean.toFixed(4)}; 16x coarser worst ${coarse.worst.toFixed(4)} mean ${coarse.mean.toFixed(4)}`);
    expect(fine.worst).toBeGreaterThan(0.98);
    expect(coarse.worst).toBeLessThan(fine.worst - 0.05); // the comparison can tell coarse quantization apart
  });

  it('every method runs; every attribution notes how the rounding was passed', async () => {
    const model = load(qdqModel(await calibrated(1)));
    const x = f32([2, 3, 16, 16], (images.data as Float32Array).subarray(0, 1536));
    const result = await explain(model, x, { methods: [...METHOD_NAMES], smoothgrad: { samples: 4 }, integratedGradients: { steps: 4 } });
    expect(result.skipped.filter((s) => s.method !== 'cam')).toEqual([]);
    for (const a of result.attributions) {
      expect(a.notes.join(' '), a.method).toMatch(/the model is quantized \(QDQ, 3 QuantizeLinear nodes\)/);
      expect(Array.from(a.map.data as Float32Array).every(Number.isFinite), a.method).toBe(true);
    }
    const note = (m: string): string => result.attributions.find((a) => a.method === m)!.notes.join(' ');
    expect(note('saliency')).toMatch(/gradients through quantization are straight-through estimates/);
    expect(note('gradcam')).toMatch(/straight-through estimates/);
    expect(note('occlusion')).toMatch(/runs it forward only/);
    expect(note('lrp')).toMatch(/relevance passes its rounding unchanged/);
    expect(note('deeplift')).toMatch(/\(fq\(x\) - fq\(x'\)\) \/ \(x - x'\)/);
    // the saliency map is not the blank map the exact gradient of rounding would give
    const saliency = result.attributions.find((a) => a.method === 'saliency')!.map.data as Float32Array;
    expect(Math.max(...saliency)).toBeGreaterThan(0);
  });
});
