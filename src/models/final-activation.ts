// The activation a classifier's output ends in (a Softmax over the classes, a binary net's
// Sigmoid), found by walking back from the output through ops that only reshape it. Loading
// explains the logits before it and puts it back after its own reshaping (flat-logits.ts,
// class-map.ts, binary-logit.ts).
import type { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, type Graph, type Node } from '../engine/graph/ir.js';

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

/**
 * Whether `node` is a Softmax or LogSoftmax along an axis of one value: its output is 1 (or 0)
 * whatever the input, as in `nn.Linear(..., 1)` followed by `softmax(dim=1)`, a binary
 * classifier exported with the multi-class recipe.
 */
export function isSoftmaxOverOne(node: Node, b: GraphBuilder): boolean {
  if (node.op !== 'Softmax' && node.op !== 'LogSoftmax') return false;
  const shape = b.has(node.inputs[0] ?? '') ? b.factsOf(node.inputs[0]!).shape : undefined;
  if (!shape?.length) return false;
  const axis = attrInt(node, 'axis', -1);
  return shape.at(axis < 0 ? axis : axis - shape.length) === 1;
}

/** The load note for a Softmax over one value: what ConvLens reads instead (`reads`, e.g. 'the value before it ("fc") as the logit l'). */
export function softmaxOverOneNote(node: Node, output: string, reads: string): string {
  return `the model ends in a ${node.op} over a single value ("${output}"), which is ${node.op === 'Softmax' ? 1 : 0} for every image, so nothing could be explained through it (a binary classifier's probability is the Sigmoid of its logit); ConvLens reads ${reads}`;
}
