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
  for (const [name, t] of graph.initializers) if (isFloatDType(t.dtype)) out.set(name, t);
  for (const n of graph.nodes) {
    const src = n.op === 'Identity' && n.inputs[0] ? out.get(n.inputs[0]) : undefined;
    if (src && n.outputs[0]) out.set(n.outputs[0], src);
  }
  return out;
}

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
