// Exports without dynamic axes write the image size into Reshape targets: ShuffleNet's channel
// shuffle becomes Reshape([N, 116, 28, 28] -> [1, 2, 58, 28, 28]) and back. Such a model runs only
// at its export size, although every other op would take any size, so DeepDream's octaves, style
// transfer and inversion at other sizes stopped at the first shuffle (an export with only a
// dynamic batch computes the target from the batch and the same constants). Where a target ends in
// the reshaped value's own last two (spatial) dimensions, those two entries are taken from the
// value at run time instead (Shape + Concat): at the export size the target is the same, at other
// sizes the reshape keeps the spatial axes as the model's code (`view(n, g, c / g, h, w)`) does.
import { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, type Dim, type Graph, type Node } from '../engine/graph/ir.js';

interface Candidate {
  /** the Reshape's position in the graph's node list (the same in its clones) */
  index: number;
  node: Node;
  data: string;
  target: string;
}

/**
 * The graph with size-free spatial entries in its Reshape targets, where that is what they mean;
 * the graph itself when there is nothing to free. A target may be a constant or computed (an
 * export with a dynamic batch only computes [N, 2, 58, 28, 28] from the batch and constants).
 * A rewrite is kept only when shape inference at another input size shows the reshaped value's
 * last two dimensions follow the image size and the reshape then keeps them; at the export size
 * the target's entries are the same numbers.
 */
export function withSizeFreeReshapes(graph: Graph): Graph {
  const input = graph.realInputs()[0];
  const [, , height, width] = input?.shape ?? [];
  if (!input || typeof height !== 'number' || typeof width !== 'number') return graph;
  const isReshape = (n: Node): boolean => n.op === 'Reshape' && attrInt(n, 'allowzero', 0) === 0;
  if (!graph.nodes.some(isReshape)) return graph;

  let exported: GraphBuilder;
  try {
    exported = GraphBuilder.over(graph.clone(), { strict: false });
  } catch {
    return graph;
  }
  const shapeIn = (b: GraphBuilder, name: string): readonly Dim[] | undefined => (b.has(name) ? b.factsOf(name).shape : undefined);
  const entriesOf = (name: string): Dim[] | undefined => {
    if (!exported.has(name)) return undefined;
    const f = exported.factsOf(name);
    if (f.value) return f.value.dtype === 'int64' ? Array.from(f.value.data as BigInt64Array, Number) : undefined;
    return f.dimsValue ? [...f.dimsValue] : undefined;
  };
  const candidates: Candidate[] = [];
  for (const [index, node] of graph.nodes.entries()) {
    if (!isReshape(node)) continue;
    const [data, target] = node.inputs as [string, string];
    if (target === `${node.outputs[0]}_size_free_target`) continue; // freed already (a Model made from a Model's graph)
    const shape = shapeIn(exported, data);
    const entries = entriesOf(target);
    if (!shape || shape.length < 3 || !entries || entries.length < 3) continue;
    const [h, w] = shape.slice(-2);
    const [th, tw] = entries.slice(-2);
    if (typeof h !== 'number' || typeof w !== 'number' || h !== th || w !== tw || h * w <= 1) continue;
    candidates.push({ index, node, data, target });
  }
  if (!candidates.length) return graph;

  // Which rewrites mean something: at another size (not square, so a swap of the axes shows),
  // the value's last two dimensions must move with the image and the reshape must keep them.
  const probe = rewritten(graph, candidates);
  probe.inputs = probe.inputs.map((i) => (i.name === input.name ? { ...i, shape: [i.shape![0]!, i.shape![1]!, height + 32, width + 64] } : i));
  probe.valueInfo = new Map();
  let other: GraphBuilder;
  try {
    other = GraphBuilder.over(probe, { strict: false });
  } catch {
    return graph;
  }
  const kept = candidates.filter((c) => {
    const data = shapeIn(other, c.data);
    const out = shapeIn(other, c.node.outputs[0]!);
    const rank = entriesOf(c.target)!.length;
    if (!data || !out || data.length < 3) return false;
    const [h, w] = data.slice(-2);
    const [eh, ew] = shapeIn(exported, c.data)!.slice(-2);
    if (typeof h !== 'number' || typeof w !== 'number' || (h === eh && w === ew)) return false;
    return out.length === rank && out[rank - 2] === h && out[rank - 1] === w;
  });
  return kept.length ? rewritten(graph, kept) : graph;
}

/** A clone of the graph whose candidate Reshapes take their last two target entries from the data. */
function rewritten(graph: Graph, candidates: readonly Candidate[]): Graph {
  const g = graph.clone();
  const at = new Map(candidates.map((c) => [c.index, c]));
  g.nodes = g.nodes.flatMap((node, index) => {
    const c = at.get(index);
    if (!c) return [node];
    const base = `${node.outputs[0]}_size_free`;
    g.initializers.set(`${base}_starts`, { dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) });
    g.initializers.set(`${base}_ends`, { dtype: 'int64', dims: [1], data: BigInt64Array.of(-2n) });
    return [
      { op: 'Slice', name: `${base}_leading`, inputs: [c.target, `${base}_starts`, `${base}_ends`], outputs: [`${base}_leading`], attrs: {} },
      { op: 'Shape', name: `${base}_shape`, inputs: [c.data], outputs: [`${base}_spatial`], attrs: { start: { type: 'int', value: -2 } } },
      { op: 'Concat', name: `${base}_concat`, inputs: [`${base}_leading`, `${base}_spatial`], outputs: [`${base}_target`], attrs: { axis: { type: 'int', value: 0 } } },
      { ...node, inputs: [c.data, `${base}_target`, ...node.inputs.slice(2)] },
    ];
  });
  return g;
}
