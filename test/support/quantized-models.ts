// Small conv nets in the QDQ form onnxruntime's static quantizer writes (uint8 activations with
// Q -> DQ pairs after each layer, int8 weights with one scale per output channel (axis 0), int32
// biases with scale = input scale x weight scale), and their float twins: the same graph with the
// dequantized weights as float initializers and no rounding of activations, under the same names.
import type { Node } from '../../src/engine/graph/ir.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { handGraph, int, ints, node } from './onnx-files.js';
import { randn, rng } from './rng.js';

export interface ActivationScales {
  /** scale of the input's uint8 codes (zero point 128) */
  input: number;
  /** scales of the two ReLU outputs' uint8 codes (zero point 0) */
  relu1: number;
  relu2: number;
}

interface IntegerWeights {
  w1: Int8Array;
  w1Scale: Float32Array;
  w2: Int8Array;
  w2Scale: Float32Array;
  fc: Int8Array;
  fcScale: number;
  b1: Float32Array;
  b2: Float32Array;
  fb: Float32Array;
}

/** int8 weights with per-channel scales fitted to random float weights (as the quantizer does). */
function integerWeights(seed: number): IntegerWeights {
  const rand = rng(seed);
  const perChannel = (cout: number, per: number, std: number): { q: Int8Array; scale: Float32Array } => {
    const w = randn(rand, cout * per, std);
    const scale = new Float32Array(cout);
    const q = new Int8Array(cout * per);
    for (let o = 0; o < cout; o++) {
      let max = 0;
      for (let k = 0; k < per; k++) max = Math.max(max, Math.abs(w[o * per + k]!));
      scale[o] = max / 127;
      for (let k = 0; k < per; k++) q[o * per + k] = Math.round(w[o * per + k]! / scale[o]!);
    }
    return { q, scale };
  };
  const c1 = perChannel(8, 27, 0.4);
  const c2 = perChannel(12, 72, 0.15);
  const fc = perChannel(1, 120, 0.4);
  return { w1: c1.q, w1Scale: c1.scale, w2: c2.q, w2Scale: c2.scale, fc: fc.q, fcScale: fc.scale[0]!, b1: Float32Array.from(randn(rand, 8, 0.1)), b2: Float32Array.from(randn(rand, 12, 0.1)), fb: Float32Array.from(randn(rand, 10, 0.1)) };
}

const f32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
const dequantized = (q: Int8Array, scale: Float32Array | number, per: number): Float32Array =>
  Float32Array.from(q, (v, i) => Math.fround(v * (typeof scale === 'number' ? scale : scale[Math.floor(i / per)]!)));

const conv1 = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
const conv2 = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) };
const head = (from: string): Node[] => [node('GlobalAveragePool', [from], ['p']), node('Flatten', ['p'], ['f']), node('Gemm', ['f', 'fc', 'fb'], ['logits'], { transB: int(1) })];

/** The float model: dequantized weights as parameters, activations not rounded. */
export function floatTwin(seed = 5): Graph {
  const w = integerWeights(seed);
  return handGraph({
    name: 'float-twin',
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: ['logits'],
    nodes: [node('Conv', ['image', 'w1', 'b1'], ['c1'], conv1), node('Relu', ['c1'], ['r1']), node('Conv', ['r1', 'w2', 'b2'], ['c2'], conv2), node('Relu', ['c2'], ['r2']), ...head('r2')],
    initializers: { w1: f32([8, 3, 3, 3], dequantized(w.w1, w.w1Scale, 27)), b1: f32([8], w.b1), w2: f32([12, 8, 3, 3], dequantized(w.w2, w.w2Scale, 72)), b2: f32([12], w.b2), fc: f32([10, 12], dequantized(w.fc, w.fcScale, 120)), fb: f32([10], w.fb) },
  });
}

/**
 * The QDQ model of the same weights, rounding the input and both ReLU outputs to uint8 with the
 * given scales. Biases are int32 codes of the float twin's biases (so they differ by rounding).
 */
export function qdqModel(scales: ActivationScales, seed = 5, opset = 13): Graph {
  const w = integerWeights(seed);
  const u8 = (v: number): Tensor => ({ dtype: 'uint8', dims: [], data: Uint8Array.of(v) });
  const biasCodes = (b: Float32Array, inputScale: number, weightScale: Float32Array): { q: Tensor; scale: Tensor; zero: Tensor } => {
    const scale = Float32Array.from(weightScale, (s) => Math.fround(inputScale * s));
    return { q: { dtype: 'int32', dims: [b.length], data: Int32Array.from(b, (v, i) => Math.round(v / scale[i]!)) }, scale: f32([b.length], scale), zero: { dtype: 'int32', dims: [b.length], data: new Int32Array(b.length) } };
  };
  const bias1 = biasCodes(w.b1, scales.input, w.w1Scale);
  const bias2 = biasCodes(w.b2, scales.relu1, w.w2Scale);
  const int8 = (dims: number[], data: Int8Array): Tensor => ({ dtype: 'int8', dims, data });
  const perAxis = { axis: int(0) };
  return handGraph({
    name: 'qdq',
    opset,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: ['logits'],
    nodes: [
      node('QuantizeLinear', ['image', 's_in', 'z_in'], ['image_q']),
      node('DequantizeLinear', ['image_q', 's_in', 'z_in'], ['image_dq']),
      node('DequantizeLinear', ['w1_q', 'w1_s', 'w1_z'], ['w1'], perAxis),
      node('DequantizeLinear', ['b1_q', 'b1_s', 'b1_z'], ['b1'], perAxis),
      node('Conv', ['image_dq', 'w1', 'b1'], ['c1'], conv1),
      node('Relu', ['c1'], ['r1']),
      node('QuantizeLinear', ['r1', 's_r1', 'z_relu'], ['r1_q']),
      node('DequantizeLinear', ['r1_q', 's_r1', 'z_relu'], ['r1_dq']),
      node('DequantizeLinear', ['w2_q', 'w2_s', 'w2_z'], ['w2'], perAxis),
      node('DequantizeLinear', ['b2_q', 'b2_s', 'b2_z'], ['b2'], perAxis),
      node('Conv', ['r1_dq', 'w2', 'b2'], ['c2'], conv2),
      node('Relu', ['c2'], ['r2']),
      node('QuantizeLinear', ['r2', 's_r2', 'z_relu'], ['r2_q']),
      node('DequantizeLinear', ['r2_q', 's_r2', 'z_relu'], ['r2_dq']),
      node('DequantizeLinear', ['fc_q', 'fc_s'], ['fc']),
      ...head('r2_dq'),
    ],
    initializers: {
      s_in: f32([], [scales.input]),
      z_in: u8(128),
      s_r1: f32([], [scales.relu1]),
      s_r2: f32([], [scales.relu2]),
      z_relu: u8(0),
      w1_q: int8([8, 3, 3, 3], w.w1),
      w1_s: f32([8], w.w1Scale),
      w1_z: int8([8], new Int8Array(8)),
      b1_q: bias1.q,
      b1_s: bias1.scale,
      b1_z: bias1.zero,
      w2_q: int8([12, 8, 3, 3], w.w2),
      w2_s: f32([12], w.w2Scale),
      w2_z: int8([12], new Int8Array(12)),
      b2_q: bias2.q,
      b2_s: bias2.scale,
      b2_z: bias2.zero,
      fc_q: int8([10, 12], w.fc),
      fc_s: f32([], [w.fcScale]),
      fb: f32([10], w.fb),
    },
  });
}

/** A QLinearConv (integer-op) net as onnxruntime's operator-oriented quantizer writes one: its conv node is "conv_int8". */
export function qlinearGraph(): Graph {
  const scalar = (v: number): Tensor => f32([], [v]);
  const conv = { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) };
  const nodes: Node[] = [
    node('QuantizeLinear', ['image', 's', 'z'], ['xq']),
    node('QLinearConv', ['xq', 's', 'z', 'wq', 'ws', 'wz', 's2', 'z'], ['cq'], conv, 'conv_int8'),
    node('DequantizeLinear', ['cq', 's2', 'z'], ['c']),
    node('Relu', ['c'], ['r']),
    node('GlobalAveragePool', ['r'], ['p']),
    node('Flatten', ['p'], ['f']),
    node('Gemm', ['f', 'fw', 'fb'], ['logits'], { transB: int(1) }),
  ];
  const g = handGraph({
    name: 'qlinear',
    opset: 13,
    inputs: [{ name: 'image', dtype: 'float32', shape: ['N', 3, 16, 16] }],
    outputs: ['logits'],
    nodes,
    initializers: {
      s: scalar(0.02),
      z: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) },
      wq: { dtype: 'int8', dims: [8, 3, 3, 3], data: Int8Array.from({ length: 216 }, (_, i) => ((i * 37) % 41) - 20) },
      ws: scalar(0.005),
      wz: { dtype: 'int8', dims: [], data: Int8Array.of(0) },
      s2: scalar(0.05),
      fw: f32([10, 8], Array.from({ length: 80 }, (_, i) => Math.sin(i))),
      fb: f32([10], new Array<number>(10).fill(0)),
    },
  });
  return g;
}
