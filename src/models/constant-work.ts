// The work ONNX Runtime spends on what a model computes from its constants alone, planned from
// shapes before any session is made. ConvLens folds such nodes itself only within a small budget
// (the graph builder's fold budget); the rest ONNX Runtime computes when it compiles a session
// or in every run, and a file of a few kilobytes can ask for minutes of it: a MaxPool of 100x100
// windows over a ConstantOfShape of [1, 1, 2000, 2000] made every prediction take 29-43 s and
// held the studio's interactive worker all that time.
import { ConvLensError } from '../engine/errors.js';
import type { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import { inputFreeValues } from '../engine/graph/constant-values.js';
import { kernelWork } from '../engine/reference/evaluator.js';
import '../engine/reference/kernels/index.js';

/**
 * Steps of kernel work (KernelWork: elements visited per axis, window taps, contraction terms)
 * a model may ask ONNX Runtime to spend on values computed from its constants alone, in all.
 * ONNX Runtime took 29-43 s for the 7.2e10 steps of that MaxPool, and 18 s to fill and sum a
 * ConstantOfShape of a billion values (2e9 steps): 2^30 is a few seconds at most. The real
 * models checked spend at most (see docs/security.md) a few million.
 */
export const CONSTANT_WORK_BOUND = 2 ** 30;

/** A node computing from constants alone, with the work its kernel takes. */
export interface ConstantNodeWork {
  name: string;
  op: string;
  /** its first output's shape */
  dims: number[];
  work: number;
}

/**
 * The work of every node that computes from constants alone and that an output needs, largest
 * first, from the shapes shape inference gives its inputs and outputs (a node whose shapes are
 * not all known is left out: its work cannot be bounded).
 */
export function constantWork(graph: Graph, b: GraphBuilder): ConstantNodeWork[] {
  const free = inputFreeValues(graph);
  const staticShape = (name: string): number[] | undefined => {
    if (!b.has(name)) return undefined;
    const shape = b.factsOf(name).shape;
    return shape?.every((d): d is number => typeof d === 'number') ? shape : undefined;
  };
  const found: ConstantNodeWork[] = [];
  for (const node of graph.nodes) {
    if (node.op === 'Constant' || !node.outputs.some((o) => o && free.has(o))) continue;
    const inputs = node.inputs.map((i) => (i ? staticShape(i) : undefined));
    if (node.inputs.some((name, k) => name && !inputs[k])) continue;
    const outputs = node.outputs.map((o) => (o ? staticShape(o) : []));
    if (outputs.some((o) => !o)) continue;
    const shapes = outputs as number[][];
    const work = kernelWork(node, inputs.map((dims) => (dims ? { dims } : undefined)), shapes);
    found.push({ name: node.name || node.outputs[0]!, op: node.op, dims: shapes[0] ?? [], work });
  }
  return found.sort((x, y) => y.work - x.work);
}

/** "7.2e10" */
const steps = (n: number): string => n.toExponential(1).replace('e+', 'e');

/**
 * Refuses a model whose values computed from its constants alone would take ONNX Runtime more
 * than CONSTANT_WORK_BOUND steps, naming the costliest node: they do not depend on the input, so
 * every session (and, for ops ONNX Runtime does not fold, every run) pays for them again.
 */
export function checkConstantWork(modelName: string, graph: Graph, b: GraphBuilder): void {
  const found = constantWork(graph, b);
  const total = found.reduce((sum, n) => sum + n.work, 0);
  if (total <= CONSTANT_WORK_BOUND) return;
  const costliest = found[0]!;
  const more = found.length > 1 ? `, of ${steps(total)} over ${found.length} such nodes` : '';
  throw new ConvLensError(
    'MODEL_UNSUPPORTED',
    `Model "${modelName}" computes values from its constants alone that take ${steps(total)} steps of kernel work, more than the ${steps(CONSTANT_WORK_BOUND)} ConvLens lets ONNX Runtime spend on them (seconds to minutes on every session or run): the costliest is ${costliest.op} node "${costliest.name}", ${steps(costliest.work)} steps for its [${costliest.dims.join(', ')}] output${more}.`,
    'Those values do not depend on the input: re-export the model with them computed once and stored as weights, or without them.',
  );
}
