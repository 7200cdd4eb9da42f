// The work ONNX Runtime spends on what a model computes from its constants alone, planned from
// shapes before any session is made. ConvLens folds such nodes itself only within a small budget
// (the graph builder's fold budget); the rest ONNX Runtime computes when it compiles a session
// or in every run, and a file of a few kilobytes can ask for minutes of it: a MaxPool of 100x100
// windows over a ConstantOfShape of [1, 1, 2000, 2000] made every prediction take 29-43 s and
// held the studio's interactive worker all that time, and a gigabyte of values folded took 20-28 s
// however cheap each step.
import { ConvLensError } from '../engine/errors.js';
import type { GraphBuilder } from '../engine/graph/builder.js';
import type { Graph } from '../engine/graph/ir.js';
import { inputFreeValues } from '../engine/graph/constant-values.js';
import { kernelWork } from '../engine/reference/evaluator.js';
import { BYTES_PER_ELEMENT, sizeOf } from '../engine/tensor.js';
import '../engine/reference/kernels/index.js';

/**
 * Steps of kernel work (KernelWork: elements visited per axis, window taps, contraction terms)
 * a model may ask ONNX Runtime to spend on values computed from its constants alone, in all.
 * ONNX Runtime took 29-43 s for the 7.2e10 steps of that MaxPool (2^30 of them: under a
 * second) and 2.5 s for the 2.7e10 of a MatMul of two 3000x3000 constants. The real models
 * checked spend at most 2.2e5 (see docs/security.md).
 */
export const CONSTANT_WORK_BOUND = 2 ** 30;

/**
 * Bytes of values computed from constants alone a model may ask ONNX Runtime to fold, in all:
 * its constant folding is slow per byte, whatever the op (20-28 s a gigabyte, a ConstantOfShape
 * of 250 million values or a Sum of 25 of 10 million or of 250 of a million; 4.3 s for 256 MB),
 * where steps of element-wise work are cheap. The real models checked fold none (an Identity of
 * a weight is that weight; a QDQ model's DequantizeLinear of its weights is left unfolded for
 * ONNX Runtime's quantized kernels, and scales with the weights the file holds).
 */
export const CONSTANT_BYTES_BOUND = 2 ** 28;

/**
 * A model that rearranges its own weights as it runs (an export without constant folding
 * transposes, reshapes or casts each weight before its MatMul or Conv) has ONNX Runtime fold about
 * what it stores, at a cost the user chose with the file's size: VGG-16's 411 MB classifier weight
 * behind a Transpose is no attack. What a few kilobytes can ask for is values generated far beyond
 * the file (ConstantOfShape, Expand, Tile, Range, Resize), so the bounds grow with the weights the
 * file stores: by this many bytes folded per byte stored, and steps per value stored.
 */
const FOLDED_BYTES_PER_STORED_BYTE = 2;
const STEPS_PER_STORED_VALUE = 8;

/** The bounds for a graph: the fixed ones, or what its stored weights allow where that is more. */
export function constantBounds(graph: Graph): { work: number; bytes: number } {
  let values = 0;
  let bytes = 0;
  for (const t of graph.initializers.values()) {
    const n = sizeOf(t.dims);
    values += n;
    bytes += n * BYTES_PER_ELEMENT[t.dtype];
  }
  return { work: Math.max(CONSTANT_WORK_BOUND, STEPS_PER_STORED_VALUE * values), bytes: Math.max(CONSTANT_BYTES_BOUND, FOLDED_BYTES_PER_STORED_BYTE * bytes) };
}

/** Ops whose constant outputs ONNX Runtime does not fold into new values (see CONSTANT_BYTES_BOUND). */
const UNFOLDED = new Set(['Identity', 'DequantizeLinear']);

/** A node computing from constants alone, with the work its kernel takes. */
export interface ConstantNodeWork {
  name: string;
  op: string;
  /** its first output's shape */
  dims: number[];
  work: number;
  /** bytes of its outputs ONNX Runtime's constant folding computes (what ConvLens did not fold) */
  bytes: number;
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
    let bytes = 0;
    if (!UNFOLDED.has(node.op)) {
      for (const [k, o] of node.outputs.entries()) {
        const facts = o && free.has(o) ? b.factsOf(o) : undefined;
        if (facts && !facts.value) bytes += sizeOf(shapes[k]!) * BYTES_PER_ELEMENT[facts.dtype];
      }
    }
    found.push({ name: node.name || node.outputs[0]!, op: node.op, dims: shapes[0] ?? [], work, bytes });
  }
  return found.sort((x, y) => y.work - x.work);
}

/** "7.2e10" */
const steps = (n: number): string => n.toExponential(1).replace('e+', 'e');

/** "954 MB", "1.2 GB" */
const size = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : `${Math.round(bytes / 2 ** 20)} MB`);

/**
 * Refuses a model whose values computed from its constants alone would take ONNX Runtime more
 * steps, or have it fold more bytes, than `constantBounds` allows, naming
 * the costliest node: they do not depend on the input, so every session (and, for ops ONNX
 * Runtime does not fold, every run) pays for them again.
 */
export function checkConstantWork(modelName: string, graph: Graph, b: GraphBuilder): void {
  const found = constantWork(graph, b);
  const total = found.reduce((sum, n) => sum + n.work, 0);
  const bounds = constantBounds(graph);
  if (total <= bounds.work) {
    checkConstantBytes(modelName, found, bounds.bytes);
    return;
  }
  const costliest = found[0]!;
  const more = found.length > 1 ? `, of ${steps(total)} over ${found.length} such nodes` : '';
  throw new ConvLensError(
    'MODEL_UNSUPPORTED',
    `Model "${modelName}" computes values from its constants alone that take ${steps(total)} steps of kernel work, more than the ${steps(bounds.work)} ConvLens lets ONNX Runtime spend on them (seconds to minutes on every session or run): the costliest is ${costliest.op} node "${costliest.name}", ${steps(costliest.work)} steps for its [${costliest.dims.join(', ')}] output${more}.`,
    'Those values do not depend on the input: re-export the model with them computed once and stored as weights, or without them.',
  );
}

function checkConstantBytes(modelName: string, found: readonly ConstantNodeWork[], bound: number): void {
  const total = found.reduce((sum, n) => sum + n.bytes, 0);
  if (total <= bound) return;
  const largest = found.reduce((a, n) => (n.bytes > a.bytes ? n : a));
  const folding = found.filter((n) => n.bytes > 0).length;
  const more = folding > 1 ? `, of ${folding} such nodes` : '';
  throw new ConvLensError(
    'MODEL_UNSUPPORTED',
    `Model "${modelName}" computes ${size(total)} of values from its constants alone, more than the ${size(bound)} ConvLens lets ONNX Runtime fold for it (its constant folding takes 20-30 s a gigabyte, on every session): the largest is ${largest.op} node "${largest.name}", ${size(largest.bytes)} for its [${largest.dims.join(', ')}] output${more}.`,
    'Those values do not depend on the input: re-export the model with them computed once and stored as weights, or without them.',
  );
}
