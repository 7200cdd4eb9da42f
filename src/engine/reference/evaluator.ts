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

/**
 * An upper bound on the steps a kernel takes for these inputs and the output shapes the op's
 * shape rule inferred: elements read, written and allocated, each counted once per window tap,
 * contraction term or axis visited. Constant folding compares it with its budget before running
 * the kernel: a file of a few bytes can ask for hours of work (an Einsum "i,j->" of two
 * 500,000-long constants is 2.5e11 products for one scalar) or gigabytes of tables.
 */
export type KernelWork = (node: Node, inputs: readonly (Shaped | undefined)[], outputs: readonly (readonly number[])[]) => number;

/**
 * What a work bound reads of an input: its shape alone, so the work of a node can be planned
 * from shape inference before anything is computed (a tensor has one too).
 */
export interface Shaped {
  readonly dims: readonly number[];
}

const kernels = new Map<string, Kernel>();
const works = new Map<string, KernelWork>();

/** `work` is needed where a kernel does more than visit each element once per axis (see defaultWork). */
export function defineKernel(op: string, k: Kernel, work?: KernelWork): void {
  if (kernels.has(op)) throw new Error(`kernel ${op} defined twice`);
  kernels.set(op, k);
  if (work) works.set(op, work);
}

const elementsOf = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);

/**
 * Element-wise, layout and reduction kernels visit each input and output element once, and
 * find its position through every axis (remap and broadcasting walk the index): elements
 * times rank, which a 100,000-axis tensor of a million ones makes 1e11.
 */
function defaultWork(inputs: readonly (Shaped | undefined)[], outputs: readonly (readonly number[])[]): number {
  const all = [...inputs.flatMap((t) => (t ? [t.dims] : [])), ...outputs];
  const elements = all.reduce((sum, dims) => sum + elementsOf(dims), 0);
  return elements * Math.max(1, ...all.map((dims) => dims.length));
}

/**
 * The kernel's work bound for a node (see KernelWork); every kernel has one, and an op without a
 * kernel gets the element-wise bound (elements times rank).
 */
export function kernelWork(node: Node, inputs: readonly (Shaped | undefined)[], outputs: readonly (readonly number[])[]): number {
  return defaultWork(inputs, outputs) + (works.get(node.op)?.(node, inputs, outputs) ?? 0);
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
