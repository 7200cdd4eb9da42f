// Models with several outputs. An export of `return features, logits` (or a feature map beside
// the scores) makes the first output whatever was returned first, and every command explained
// and labelled that: 512 "classes" of pooled features. The classifier is taken to be the first
// output that a dense layer or a softmax produces, else the first of shape [N, K]; it is moved to
// the front, where every command looks for it, and the model says which output it chose. Among
// several such heads (GoogLeNet / Inception exported with their auxiliary classifiers, in any
// order) the one at the end of the longest chain of nodes wins: an auxiliary head branches off
// mid-network, so the main head's chain runs through the branch point and on through the rest
// of the network. (Counting every node behind each head, as until 2026-12-07, cost heads x nodes:
// a 1 MB upload of 9,000 dense heads on a 9,000-node trunk held the studio server 25 s.)
import type { Graph, Node } from '../engine/graph/ir.js';
import { abbreviateName } from '../util/names.js';

/**
 * How many outputs the note names before it counts the rest: it goes out with every model
 * listing, and naming each of 9,000 outputs made it 150 kB.
 */
export const LISTED_OUTPUTS = 4;

/** Ops that end a classifier head (a dense layer, a softmax over its scores). */
const HEAD_OPS = new Set(['Gemm', 'MatMul', 'Softmax', 'LogSoftmax']);
/** Ops looked through on the way back from an output to its head (bias, flatten, reshape). */
const PASS_THROUGH = new Set(['Add', 'Flatten', 'Reshape', 'Squeeze', 'Identity']);

export interface ClassifierFirst {
  graph: Graph;
  /** what was chosen among several outputs, for a note; undefined for a single output */
  note?: string;
}

/** The graph with its classifier output first. */
export function withClassifierFirst(graph: Graph): ClassifierFirst {
  if (graph.outputs.length < 2) return { graph };
  const producers = graph.producers();
  const fromHead = (name: string): boolean => {
    for (let node: Node | undefined = producers.get(name), k = 0; node && k < 8; node = producers.get(node.inputs[0] ?? ''), k++) {
      if (HEAD_OPS.has(node.op)) return true;
      if (!PASS_THROUGH.has(node.op)) return false;
    }
    return false;
  };
  const flat = (shape: readonly unknown[] | undefined): boolean => !!shape && shape.length === 2;
  const heads = graph.outputs.map((o, i) => (fromHead(o.name) && (!o.shape || flat(o.shape)) ? i : -1)).filter((i) => i >= 0);
  let chosen = heads[0] ?? -1;
  let why = 'the one a dense layer or softmax produces';
  if (heads.length > 1) {
    const chain = chainLengths(graph);
    const depth = heads.map((i) => chain.get(graph.outputs[i]!.name) ?? 0);
    const deepest = depth.reduce((a, b) => Math.max(a, b), 0);
    chosen = heads[depth.indexOf(deepest)]!;
    why = `of the ${heads.length} a dense layer or softmax produces, the one at the end of the longest chain of nodes (${deepest}; auxiliary classifiers branch off earlier)`;
  }
  if (chosen < 0) {
    chosen = graph.outputs.findIndex((o) => flat(o.shape));
    why = 'the first of shape [N, K]';
  }
  if (chosen < 0) {
    chosen = 0;
    why = 'the first';
  }
  // names and shapes are the file's to choose: a sentence shows each abbreviated, and shows only a few
  const describe = (o: Graph['outputs'][number]): string => `${abbreviateName(o.name)}${o.shape ? ` [${abbreviateName(o.shape.join(', '))}]` : ''}`;
  const unlisted = graph.outputs.length - LISTED_OUTPUTS;
  const listed = `${graph.outputs.slice(0, LISTED_OUTPUTS).map(describe).join(', ')}${unlisted > 0 ? ` and ${unlisted} more` : ''}`;
  const note = `the model has ${graph.outputs.length} outputs (${listed}); ConvLens explains and labels "${abbreviateName(graph.outputs[chosen]!.name)}", ${why} (re-export with the classifier as the only output to choose another)`;
  if (chosen === 0) return { graph, note };
  const g = graph.clone();
  const [first] = g.outputs.splice(chosen, 1);
  g.outputs.unshift(first!);
  return { graph: g, note };
}

/**
 * For every value a node computes: the most nodes on a path from the graph's inputs to it (its
 * own node included), in one pass over the nodes in file order. A producer that comes later in
 * the file (a cycle, or a graph out of order) counts as 0, so a cycle cannot loop.
 */
function chainLengths(graph: Graph): Map<string, number> {
  const length = new Map<string, number>();
  for (const node of graph.nodes) {
    let longest = 0;
    for (const i of node.inputs) if (i) longest = Math.max(longest, length.get(i) ?? 0);
    for (const o of node.outputs) if (o) length.set(o, longest + 1);
  }
  return length;
}
