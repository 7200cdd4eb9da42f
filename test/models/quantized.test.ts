// Quantized models (the ONNX Model Zoo's int8 variants: QDQ pairs from onnxruntime's quantizer, or
// QLinearConv): predictions run as they are; everything that needs shapes or gradients is refused
// naming the quantization and the way out, not a symptom further down ("no static class dimension").
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
  for (const kind of ['qdq', 'qlinear'] as const) {
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
      expect(error?.message).toMatch(kind === 'qdq' ? /The model is quantized: (Dequantize|Quantize)Linear node "\w+" works on 8-bit integers/ : /The model is quantized: QLinearConv node "QLinearConv_cq" works on 8-bit integers/);
      expect(error?.hint).toMatch(/float32 model it was quantized from/);
    });
  }
});
