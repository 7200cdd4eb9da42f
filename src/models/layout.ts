// Where each axis of a value comes from in the image's NCHW order, so that channels-last blocks
// (ConvNeXt permutes to [N, H, W, C] around its LayerNorm and Linear layers) are not read as
// [N, C, H, W] feature maps, and their per-position layers keep their receptive fields.
import type { GraphBuilder } from '../engine/graph/builder.js';
import { attrInts, type Graph, type Node } from '../engine/graph/ir.js';
import { layerNormAxes } from '../engine/ops/normalization.js';

/** For each axis of a value, the NCHW axis of the input it follows (0 N, 1 C, 2 H, 3 W). */
export type AxisLayout = readonly number[];

export const NCHW: AxisLayout = [0, 1, 2, 3];

/** Ops after which the axes no longer follow the input's (the value is re-cut or regrouped). */
const REGROUPING = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'DepthToSpace', 'SpaceToDepth', 'Einsum', 'Gather', 'GatherElements', 'GatherND', 'Tile']);

/**
 * The axis layout of every value computed from `input` (rank 4, NCHW) whose axes can be followed:
 * Transpose permutes them; an op whose output has the rank of its inputs and whose inputs agree
 * keeps them (elementwise ops, activations, convolutions, pooling, LayerNormalization, MatMul by
 * a weight); a Reshape that regroups only the channels keeps the batch and spatial axes;
 * other Reshapes, Flatten and other regrouping ops end the trail (no entry: unknown).
 */
export function axisLayouts(graph: Graph, b: GraphBuilder, input: string): Map<string, AxisLayout> {
  const layouts = new Map<string, AxisLayout>([[input, NCHW]]);
  const rankOf = (v: string): number | undefined => {
    try {
      return b.factsOf(v).shape?.length;
    } catch {
      return undefined;
    }
  };
  for (const node of graph.nodes) {
    const known = node.inputs.filter((i) => i && layouts.has(i)).map((i) => layouts.get(i)!);
    if (node.op === 'Reshape' && known.length) {
      const regrouped = channelRegrouping(node, layouts.get(node.inputs[0]!), b);
      if (regrouped) layouts.set(node.outputs[0]!, regrouped);
      continue;
    }
    if (known.length === 0 || REGROUPING.has(node.op)) continue;
    const out = node.outputs[0];
    if (!out) continue;
    let layout: AxisLayout | undefined;
    if (node.op === 'Transpose') {
      const perm = attrInts(node, 'perm') ?? [...known[0]!].map((_, k, a) => a.length - 1 - k);
      layout = perm.map((k) => known[0]![k]!);
    } else if (known.every((l) => sameLayout(l, known[0]!)) && rankOf(out) === known[0]!.length) {
      layout = known[0];
    }
    if (layout) for (const o of node.outputs) if (o && rankOf(o) === layout.length) layouts.set(o, layout);
  }
  return layouts;
}

/**
 * The layout after a Reshape that only regroups the channel axis and keeps the batch and the two
 * spatial axes (ShuffleNet's channel shuffle: [N, C, H, W] -> [N, g, C/g, H, W] and back), else
 * undefined: the spatial axes still follow H and W, every axis between them follows C.
 */
function channelRegrouping(node: Node, layout: AxisLayout | undefined, b: GraphBuilder): AxisLayout | undefined {
  if (!layout || layout.length < 4 || layout[0] !== 0 || layout.at(-2) !== 2 || layout.at(-1) !== 3) return undefined;
  if (!layout.slice(1, -2).every((a) => a === 1)) return undefined;
  let xs, ys;
  try {
    xs = b.factsOf(node.inputs[0]!).shape;
    ys = b.factsOf(node.outputs[0]!).shape;
  } catch {
    return undefined;
  }
  if (!xs || !ys || ys.length < 4 || xs.length !== layout.length) return undefined;
  const same = (a: unknown, c: unknown): boolean => a !== undefined && a === c;
  if (!same(xs[0], ys[0]) || !same(xs.at(-2), ys.at(-2)) || !same(xs.at(-1), ys.at(-1))) return undefined;
  return [0, ...new Array<number>(ys.length - 3).fill(1), 2, 3];
}

export function sameLayout(a: AxisLayout, b: AxisLayout): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** Whether a value known to follow `layout` is an [N, C, H, W] map (unknown layouts are taken as such). */
export function isChannelsFirst(layout: AxisLayout | undefined): boolean {
  return !layout || layout.length !== 4 || sameLayout(layout, NCHW);
}

/**
 * Whether `node` mixes values only along the channel axis, position by position, for an input
 * that follows `layout`: LayerNormalization over axes that are all the channel axis, MatMul by a
 * 2-D weight on a channel-last value (a Linear layer in a channels-last block).
 */
export function channelOnly(node: Node, layout: AxisLayout, b: GraphBuilder): boolean {
  const rank = layout.length;
  if (node.op === 'LayerNormalization') return layerNormAxes(node, rank).every((a) => layout[a] === 1);
  if (node.op === 'MatMul') {
    const w = node.inputs[1];
    return !!w && layout[rank - 1] === 1 && b.valueOf(w)?.dims.length === 2;
  }
  return false;
}
