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

/** Removes the named constants (initializers or Constant nodes) nothing reads any more (a replaced Reshape target), in place; the rest of the graph stays as the file has it. */
export function dropUnusedConstants(g: Graph, names: readonly string[]): void {
  const read = new Set([...g.nodes.flatMap((n) => n.inputs), ...g.outputs.map((o) => o.name)]);
  const unused = new Set(names.filter((name) => !read.has(name) && !g.inputs.some((i) => i.name === name)));
  for (const name of unused) g.initializers.delete(name);
  g.nodes = g.nodes.filter((n) => !(n.op === 'Constant' && unused.has(n.outputs[0]!)));
}
