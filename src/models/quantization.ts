import type { Graph, Node } from '../engine/graph/ir.js';

/**
 * How a model is quantized, from its ops:
 * - `qdq`: float ops between QuantizeLinear/DequantizeLinear pairs (onnxruntime's static
 *   quantizer, the ONNX Model Zoo's -qdq files). Shapes are the float model's and gradients pass
 *   the rounding as straight-through estimates, so every command runs.
 * - `integer`: ops that compute on the 8-bit codes themselves (QLinearConv, ConvInteger, ...).
 *   ONNX Runtime runs them, so predictions work; nothing else can know their layer shapes or
 *   differentiate them.
 */
export interface Quantization {
  kind: 'none' | 'qdq' | 'integer';
  /** the integer ops (kind `integer`) or the QuantizeLinear nodes (kind `qdq`) */
  nodes: Node[];
}

const ROUNDING = new Set(['QuantizeLinear', 'DequantizeLinear']);
/** Ops of quantized models that compute on integers (ai.onnx and com.microsoft). */
const INTEGER_OPS = new Set(['DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'QLinearAdd', 'QLinearMul', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QLinearConcat', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearSoftmax', 'QLinearReduceMean', 'QLinearWhere', 'QGemm', 'QAttention', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearConvTranspose']);

export function quantizationOf(graph: Graph): Quantization {
  const integer = graph.nodes.filter((n) => INTEGER_OPS.has(n.op));
  if (integer.length) return { kind: 'integer', nodes: integer };
  if (!graph.nodes.some((n) => !n.domain && ROUNDING.has(n.op))) return { kind: 'none', nodes: [] };
  return { kind: 'qdq', nodes: graph.nodes.filter((n) => !n.domain && n.op === 'QuantizeLinear') };
}
