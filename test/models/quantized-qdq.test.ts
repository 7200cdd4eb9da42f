// QDQ models (onnxruntime's static quantizer, the ONNX Model Zoo's -qdq files): QuantizeLinear and
// DequantizeLinear have shape rules, the dequantized int8 weights are constants, so the summary,
// the profile and the layer shapes are the float model's; malformed quantization parameters are
// refused naming the node.
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/engine/graph/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { evaluateNode } from '../../src/engine/reference/evaluator.js';
import { summarize } from '../../src/methods/inspect/summary.js';
import { predict } from '../../src/methods/predict.js';
import { Model } from '../../src/models/model.js';
import { expectConvLensError, f32, handGraph, int, node, runOrt } from '../support/onnx-files.js';
import { floatTwin, qdqModel } from '../support/quantized-models.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const load = (g: Graph, name = g.name): Model => Model.fromOnnxGraph(decodeModel(encodeModel(g), { source: `${name}.onnx` }), engine, name);
const SCALES = { input: 2 / 255, relu1: 1 / 64, relu2: 1 / 128 };

describe('QDQ models: shapes, summary, profile', () => {
  it('summarize like their float twin: same rows, shapes, FLOPs, receptive fields and roles; parameters are the stored int8 weights, once', () => {
    const q = load(qdqModel(SCALES));
    const f = load(floatTwin());
    const sq = summarize(q);
    const sf = summarize(f);
    const rows = (s: typeof sq): unknown[] => s.rows.map((r) => [r.type, r.shape, r.params, r.flops, r.receptiveField]);
    expect(rows(sq)).toEqual(rows(sf));
    expect(sq.totalParams).toBe(sf.totalParams); // weights and biases, not their scales and zero points
    expect(sq.totalParams).toBe(8 * 27 + 8 + 12 * 72 + 12 + 120 + 10);
    expect(sq.totalFlops).toBe(sf.totalFlops);
    const roles = (m: Model): unknown => {
      const { firstConv, camLayer, dreamLayer, styleLayers, contentLayers, featureLayers, inversionLayers } = m.profile;
      return { firstConv, camLayer, dreamLayer, styleLayers, contentLayers, featureLayers, inversionLayers };
    };
    expect(roles(q)).toEqual(roles(f));
    expect(q.profile.camLayer).toBe('r2');
    // the conv reads a constant filter bank: the int8 codes times their channel's scale
    const w1 = q.facts('w1').value!;
    expect(Array.from(w1.data as Float32Array)).toEqual(Array.from(f.graph.initializers.get('w1')!.data as Float32Array));
  });

  it('keep their DequantizeLinear nodes, so ONNX Runtime runs the file as written; predictions equal running the file itself', async () => {
    const g = qdqModel(SCALES);
    const q = load(g);
    expect(q.graph.nodes.filter((n) => n.op === 'DequantizeLinear').length).toBe(g.nodes.filter((n) => n.op === 'DequantizeLinear').length);
    const x = f32([2, 3, 16, 16], randn(rng(8), 1536));
    const ours = await predict(q, x, 1);
    const file = await runOrt(encodeModel(g), { image: x });
    const want = file['logits']!.data as Float32Array;
    const got = ours.logits.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4);
  });

  it('opset-10 form (per-tensor scales, no axis attribute) loads with the same shapes', () => {
    const g = handGraph({
      name: 'qdq10',
      opset: 10,
      inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 8, 8] }],
      outputs: ['logits'],
      nodes: [
        node('QuantizeLinear', ['image', 's', 'z'], ['xq']),
        node('DequantizeLinear', ['xq', 's', 'z'], ['xd']),
        node('DequantizeLinear', ['wq', 'ws', 'wz'], ['w']),
        node('Conv', ['xd', 'w'], ['c'], { kernel_shape: { type: 'ints', value: [3, 3] } }),
        node('GlobalAveragePool', ['c'], ['p']),
        node('Flatten', ['p'], ['logits']),
      ],
      initializers: { s: f32([], [0.02]), z: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) }, wq: { dtype: 'int8', dims: [4, 3, 3, 3], data: Int8Array.from({ length: 108 }, (_, i) => (i % 7) - 3) }, ws: f32([], [0.1]), wz: { dtype: 'int8', dims: [], data: Int8Array.of(0) } },
    });
    const m = load(g);
    expect(m.facts('c').shape).toEqual(['N', 4, 6, 6]);
    expect(m.facts('logits').shape).toEqual(['N', 4]);
    expect(summarize(m).totalParams).toBe(108);
  });
});

describe('opset 19-21 attributes', () => {
  const graph = (qAttrs: Record<string, ReturnType<typeof int>>): Graph =>
    handGraph({
      name: 'qdq21',
      opset: 21,
      inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 4, 4] }],
      outputs: ['logits'],
      nodes: [node('QuantizeLinear', ['image', 's'], ['xq'], qAttrs), node('DequantizeLinear', ['xq', 's'], ['xd']), node('GlobalAveragePool', ['xd'], ['p']), node('Flatten', ['p'], ['logits'])],
      initializers: { s: f32([], [0.02]) },
    });
  it('output_dtype becomes a zero point of that type, saturate (float8 only) is dropped; the model runs at opset 17', async () => {
    const m = load(graph({ output_dtype: int(3), saturate: int(1) }));
    expect(m.facts('xq').dtype).toBe('int8');
    const x = f32([1, 3, 4, 4], Array.from({ length: 48 }, (_, i) => (i - 24) * 0.5));
    const out = await m.run(x);
    // int8 saturates at 127 * 0.02 = 2.54 and -128 * 0.02 = -2.56
    expect(Math.max(...(out['logits']!.data as Float32Array))).toBeLessThanOrEqual(2.54 + 1e-6);
  });
  it('blocked quantization (block_size) is refused naming the node', () => {
    const e = expectConvLensError(() => load(graph({ block_size: int(2) })), 'MODEL_UNSUPPORTED');
    expect(e.message).toMatch(/QuantizeLinear node "QuantizeLinear_xq" uses blocked quantization/);
  });
});

describe('QuantizeLinear / DequantizeLinear reference kernels', () => {
  it('round half to even, saturate, and quantize per axis exactly as ONNX Runtime does', async () => {
    // ties (0.5, 1.5, 2.5, -0.5, -2.5 steps), saturation on both ends, per-channel scales along axis 1
    const steps = [0.5, 1.5, 2.5, -0.5, -2.5, 3.49, 200, -300, 0, 126.5, -128.5, 7];
    const x = f32([1, 2, 6], steps.map((v, i) => v * (i < 6 ? 0.25 : 0.125)));
    const scale = f32([2], [0.25, 0.125]);
    const zero: Tensor = { dtype: 'int8', dims: [2], data: Int8Array.of(0, -1) };
    const g = handGraph({
      name: 'q',
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 6] }],
      outputs: [{ name: 'q', dtype: 'int8' }, 'd'],
      nodes: [node('QuantizeLinear', ['x', 's', 'z'], ['q'], { axis: int(1) }), node('DequantizeLinear', ['q', 's', 'z'], ['d'], { axis: int(1) })],
      initializers: { s: scale, z: zero },
    });
    const ort = await runOrt(encodeModel(g), { x });
    const q = evaluateNode(g.nodes[0]!, [x, scale, zero], 13)[0]!;
    const d = evaluateNode(g.nodes[1]!, [q, scale, zero], 13)[0]!;
    expect(Array.from(q.data as Int8Array)).toEqual(Array.from(ort['q']!.data as unknown as Int8Array));
    expect(Array.from(d.data as Float32Array)).toEqual(Array.from(ort['d']!.data as Float32Array));
    expect(Array.from(q.data as Int8Array)).toEqual([0, 2, 2, 0, -2, 3, 127, -128, -1, 125, -128, 6]);
  });
});

describe('malformed quantization is refused naming the node', () => {
  const base = (change: { scale?: Tensor; zero?: Tensor; axis?: number; x?: Tensor }): Graph =>
    handGraph({
      name: 'bad',
      opset: 13,
      inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 8, 8] }],
      outputs: ['logits'],
      nodes: [
        node('DequantizeLinear', ['wq', 'ws', 'wz'], ['w'], { axis: int(change.axis ?? 0) }, 'weights_dq'),
        node('Conv', ['image', 'w'], ['c'], { kernel_shape: { type: 'ints', value: [3, 3] } }),
        node('GlobalAveragePool', ['c'], ['p']),
        node('Flatten', ['p'], ['logits']),
      ],
      initializers: {
        wq: change.x ?? { dtype: 'int8', dims: [4, 3, 3, 3], data: new Int8Array(108) },
        ws: change.scale ?? f32([4], [0.1, 0.1, 0.1, 0.1]),
        wz: change.zero ?? { dtype: 'int8', dims: [4], data: new Int8Array(4) },
      },
    });
  const cases: [string, Graph, RegExp][] = [
    ['a per-axis scale that does not fit the axis', base({ scale: f32([3], [0.1, 0.1, 0.1]), zero: { dtype: 'int8', dims: [3], data: new Int8Array(3) } }), /has 3 scales along axis 0, which has 4 entries/],
    ['an axis outside the rank', base({ axis: 4 }), /quantizes along axis 4, outside its rank-4 input/],
    ['a zero point of another dtype', base({ zero: { dtype: 'uint8', dims: [4], data: new Uint8Array(4) } }), /uint8 zero point for its int8 input/],
    ['a zero point of another shape', base({ zero: { dtype: 'int8', dims: [], data: new Int8Array(1) } }), /zero point of shape \[\] for a scale of shape \[4\]/],
    ['a 2-D scale', base({ scale: f32([4, 1], [0.1, 0.1, 0.1, 0.1]) }), /scale of shape \[4, 1\]/],
    ['a zero scale', base({ scale: f32([4], [0.1, 0, 0.1, 0.1]) }), /has scale 0 \(entry 1\)/],
    ['an int16 input', base({ x: { dtype: 'int16', dims: [4, 3, 3, 3], data: new Int16Array(108) }, zero: { dtype: 'int16', dims: [4], data: new Int16Array(4) } }), /dequantizes a int16 tensor/],
  ];
  for (const [what, g, message] of cases) {
    it(what, () => {
      const e = expectConvLensError(() => load(g), 'MODEL_UNREADABLE');
      expect(e.message).toMatch(/The quantized model is malformed: DequantizeLinear node "weights_dq"/);
      expect(e.message).toMatch(message);
    });
  }
});
