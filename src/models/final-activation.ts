// The activation a classifier's output ends in (a Softmax over the classes, a binary net's
// Sigmoid), found by walking back from the output through ops that only reshape it. Loading
// explains the logits before it and puts it back after its own reshaping (flat-logits.ts,
// class-map.ts, binary-logit.ts).
import type { Graph, Node } from '../engine/graph/ir.js';

/** Ops that only change a value's shape. */
export const SHAPE_ONLY: ReadonlySet<string> = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity']);

/** The node among `ops` that `value` comes from through `through` ops only, if any. */
export function finalActivation(graph: Graph, value: string, ops: ReadonlySet<string>, through: ReadonlySet<string> = SHAPE_ONLY): Node | undefined {
  const producers = graph.producers();
  for (let node = producers.get(value); node; node = producers.get(node.inputs[0] ?? '')) {
    if (ops.has(node.op)) return node;
    if (!through.has(node.op)) return undefined;
  }
  return undefined;
}
