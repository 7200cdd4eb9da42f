import { ConvLensError } from '../errors.js';
import type { Graph, Node } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';

/**
 * Naive CPU kernels for every supported op. Two uses: folding constant shape arithmetic while
 * graphs are built, and serving as the float64 oracle in gradient tests (feed float64 tensors,
 * get float64 results). Kernels keep the input's float dtype; they are slow by design and
 * never run user workloads.
 */
export type Kernel = (node: Node, inputs: readonly (Tensor | undefined)[], opset: number) => Tensor[];

const kernels = new Map<string, Kernel>();

export function defineKernel(op: string, k: Kernel): void {
  if (kernels.has(op)) throw new Error(`kernel ${op} defined twice`);
  kernels.set(op, k);
}

export function hasKernel(op: string): boolean {
  return kernels.has(op);
}

export function kernelOps(): string[] {
  return [...kernels.keys()].sort();
}

export function evaluateNode(node: Node, inputs: readonly (Tensor | undefined)[], opset: number): Tensor[] {
  const k = kernels.get(node.op);
  if (!k || node.domain) {
    throw new ConvLensError('UNSUPPORTED_OP', `The reference evaluator has no kernel for ${node.op} (node "${node.name}").`, `Kernels exist for: ${kernelOps().join(', ')}.`);
  }
  return k(node, inputs, opset);
}

/**
 * Runs a whole graph on the reference kernels. `feeds` may override initializers
 * (e.g. float64 copies of the weights for an oracle run) and intermediate values.
 */
export function evaluateGraph(graph: Graph, feeds: Record<string, Tensor>, fetch?: readonly string[]): Record<string, Tensor> {
  const env = new Map<string, Tensor>();
  for (const [k, t] of graph.initializers) env.set(k, t);
  for (const [k, t] of Object.entries(feeds)) env.set(k, t);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((n) => {
      if (!n) return undefined;
      const t = env.get(n);
      if (!t) throw new Error(`evaluateGraph: value "${n}" needed by ${node.op} "${node.name}" is not available`);
      return t;
    });
    const outs = evaluateNode(node, ins, graph.opset);
    node.outputs.forEach((o, i) => {
      // A feed named like an intermediate value replaces it (finite differences perturb activations).
      if (o) env.set(o, feeds[o] ?? outs[i]!);
    });
  }
  const names = fetch ?? graph.outputs.map((o) => o.name);
  const result: Record<string, Tensor> = {};
  for (const n of names) {
    const t = env.get(n);
    if (!t) throw new Error(`evaluateGraph: "${n}" was not computed`);
    result[n] = t;
  }
  return result;
}
