import type { Graph } from '../engine/graph/ir.js';
import { isFloatDType, type Tensor } from '../engine/tensor.js';

/**
 * The float parameter tensors a graph's nodes take, by the value name they take them as: each
 * initializer, and each Identity of one. torch.onnx.export (1.13+) stores initializers with equal
 * contents once and hands the copies out through Identity nodes (SqueezeNet's zero-initialized
 * biases, the biases a BatchNorm folds into after a fresh init), so reading initializers alone
 * left those layers without their biases and the totals short of the model's own count.
 */
export function parameterValues(graph: Graph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const quantizationParameters = new Set<string>();
  for (const n of graph.nodes) if (QUANTIZATION_NODES.has(n.op)) for (const i of n.inputs.slice(1)) if (i) quantizationParameters.add(i);
  for (const [name, t] of graph.initializers) if (isFloatDType(t.dtype) && !quantizationParameters.has(name)) out.set(name, t);
  for (const n of graph.nodes) {
    const input = n.inputs[0];
    const output = n.outputs[0];
    if (!input || !output) continue;
    if (n.op === 'Identity' && out.has(input)) out.set(output, out.get(input)!);
    // A QDQ model's weights are stored as integers and dequantized in the graph: the layer reads
    // the dequantized value, and the parameters are the stored integers (counted once each).
    const stored = graph.initializers.get(input);
    if (n.op === 'DequantizeLinear' && stored && !isFloatDType(stored.dtype)) out.set(output, stored);
  }
  return out;
}

/**
 * Q/DQ nodes: their scales and zero points (inputs 1 and 2) describe how values are rounded, as
 * PyTorch's observers hold them in buffers, not parameters.
 */
const QUANTIZATION_NODES = new Set(['QuantizeLinear', 'DequantizeLinear']);

/**
 * The parameters a model holds, as the framework that exported it counts them: every value of
 * `parameterValues` that some node other than an Identity takes (or that nothing takes), once.
 * A tensor two layers take by one name (tied weights) counts once; copies handed out through
 * Identity nodes count once each.
 */
export function countedParameters(graph: Graph): Map<string, Tensor> {
  const values = parameterValues(graph);
  const direct = new Set<string>();
  const used = new Set<string>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (!i || !values.has(i)) continue;
      used.add(i);
      if (n.op !== 'Identity') direct.add(i);
    }
  }
  return new Map([...values].filter(([name]) => direct.has(name) || !used.has(name)));
}
