// Channels-last image inputs. Exports from TensorFlow and Keras (tf2onnx) take images as
// [N, H, W, C] and transpose them to [N, C, H, W] inside the graph, or keep computing
// channels-last. Everything in ConvLens (image loading, preprocessing, the input's gradient, the
// maps) speaks NCHW, so such a model is given an NCHW input instead: the transposes that only
// turned it into NCHW are dropped, and otherwise one Transpose hands the model its own layout.
import type { Dim, Graph, Node } from '../engine/graph/ir.js';
import { attrInts } from '../engine/graph/ir.js';

const TO_NCHW = [0, 3, 1, 2];

/** The graph with its image input taken as NCHW; the graph itself when it already is. */
export function withChannelsFirstInput(graph: Graph): Graph {
  const input = graph.realInputs()[0];
  const shape = input?.shape;
  if (!input || shape?.length !== 4) return graph;
  const readers = graph.consumers().get(input.name) ?? [];
  const onlyTransposed = readers.length > 0 && readers.every(isToNchw) && !graph.outputs.some((o) => readers.some((r) => r.outputs[0] === o.name));
  if (!onlyTransposed && !looksChannelsLast(shape)) return graph;

  const g = graph.clone();
  const [n, h, w, c] = shape as [Dim, Dim, Dim, Dim];
  g.inputs = g.inputs.map((i) => (i.name === input.name ? { ...i, shape: [n, c, h, w] } : i));
  g.valueInfo.delete(input.name);
  if (onlyTransposed) {
    const sameAsInput = new Set(readers.map((r) => r.outputs[0]!));
    g.nodes = g.nodes.filter((node) => !(isToNchw(node) && node.inputs[0] === input.name));
    for (const node of g.nodes) node.inputs = node.inputs.map((i) => (sameAsInput.has(i) ? input.name : i));
    for (const name of sameAsInput) g.valueInfo.delete(name);
    return g;
  }
  const used = g.valueNames();
  let channelsLast = `${input.name}_channels_last`;
  for (let k = 2; used.has(channelsLast); k++) channelsLast = `${input.name}_channels_last_${k}`;
  for (const node of g.nodes) node.inputs = node.inputs.map((i) => (i === input.name ? channelsLast : i));
  g.outputs = g.outputs.map((o) => (o.name === input.name ? { ...o, name: channelsLast } : o));
  g.nodes.unshift({ op: 'Transpose', name: channelsLast, inputs: [input.name], outputs: [channelsLast], attrs: { perm: { type: 'ints', value: [0, 2, 3, 1] } } });
  return g;
}

function isToNchw(node: Node): boolean {
  const perm = node.op === 'Transpose' ? attrInts(node, 'perm') : undefined;
  return !!perm && perm.length === 4 && perm.every((p, k) => p === TO_NCHW[k]);
}

/**
 * [N, H, W, C] by its sizes: a last axis of 1, 3 or 4 (gray, RGB, RGBA) after an axis that is
 * not ([N, 224, 224, 3], [N, H, W, 3]). [N, 3, 224, 224] and anything ambiguous stay NCHW.
 */
function looksChannelsLast(shape: readonly Dim[]): boolean {
  const channels = (d: Dim | undefined): boolean => d === 1 || d === 3 || d === 4;
  return channels(shape[3]) && !channels(shape[1]) && !channels(shape[2]);
}
