import type { Graph } from './ir.js';

/** Drops nodes, initializers and inputs that no graph output depends on (in place). */
export function pruneGraph(graph: Graph, keepInputs = true): Graph {
  const needed = new Set(graph.outputs.map((o) => o.name));
  const kept = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    if (!node.outputs.some((o) => o && needed.has(o))) continue;
    kept.push(node);
    for (const i of node.inputs) if (i) needed.add(i);
  }
  graph.nodes = kept.reverse();
  for (const name of [...graph.initializers.keys()]) if (!needed.has(name)) graph.initializers.delete(name);
  if (!keepInputs) graph.inputs = graph.inputs.filter((i) => needed.has(i.name));
  for (const name of [...graph.valueInfo.keys()]) if (!needed.has(name)) graph.valueInfo.delete(name);
  return graph;
}
