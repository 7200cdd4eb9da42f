// Values a graph computes from its constants alone: no input changes them, so ONNX Runtime
// computes them when it compiles a session (its constant folding) or in every run, and keeps
// them as long as the session, like weights.
import { BYTES_PER_ELEMENT } from '../tensor.js';
import { GraphBuilder } from './builder.js';
import type { Graph } from './ir.js';

/**
 * Names of the node outputs that no graph input reaches (values computed from constants alone)
 * and that some graph output needs: ONNX Runtime drops the nodes no output needs, so a thousand
 * unread ConstantOfShape nodes cost nothing there.
 */
export function inputFreeValues(graph: Graph): Set<string> {
  const nodes = graph.nodes;
  const needed = new Set(graph.outputs.map((o) => o.name));
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    if (node.outputs.some((o) => o && needed.has(o))) for (const i of node.inputs) if (i) needed.add(i);
  }
  const reached = new Set(graph.inputs.map((i) => i.name));
  const free = new Set<string>();
  for (const node of nodes) {
    const reads = node.inputs.some((i) => i && reached.has(i));
    for (const out of node.outputs) {
      if (!out) continue;
      if (reads) reached.add(out);
      else if (needed.has(out)) free.add(out);
    }
  }
  return free;
}

/**
 * Bytes of the values `graph` computes from its constants alone at static sizes (Identity
 * copies of weights left out: they are the weights), and the largest of them; undefined when the
 * graph cannot be inferred.
 */
export function constantValueBytes(graph: Graph): { bytes: number; largest?: { name: string; op: string; dims: number[] } } | undefined {
  let b: GraphBuilder;
  try {
    b = GraphBuilder.over(graph.clone(), { strict: false });
  } catch {
    return undefined;
  }
  const free = inputFreeValues(graph);
  let bytes = 0;
  let largest: { name: string; op: string; dims: number[]; bytes: number } | undefined;
  for (const node of graph.nodes) {
    if (node.op === 'Identity') continue;
    for (const out of node.outputs) {
      if (!out || !free.has(out) || !b.has(out)) continue;
      const facts = b.factsOf(out);
      if (facts.value || !facts.shape?.every((d): d is number => typeof d === 'number')) continue;
      const dims = facts.shape;
      const size = dims.reduce((p, d) => p * d, 1) * BYTES_PER_ELEMENT[facts.dtype];
      bytes += size;
      if (!largest || size > largest.bytes) largest = { name: out, op: node.op, dims, bytes: size };
    }
  }
  return largest ? { bytes, largest: { name: largest.name, op: largest.op, dims: largest.dims } } : { bytes };
}
