// Token grids: the [N, tokens, C] values of a vision transformer whose tokens are the positions
// of its patch grid (h x w, after any leading tokens such as a class token). They are followed
// from the Reshape that flattens a map's H and W axes, so that CAM-type methods can read such a
// value as an [N, C, h, w] map - what pytorch-grad-cam's reshape_transform does by hand - without
// knowing any layer's name.
import type { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, attrInts, type Graph, type Node } from '../engine/graph/ir.js';
import { layerNormAxes } from '../engine/ops/normalization.js';
import { sameLayout, type AxisLayout } from './layout.js';

export interface TokenGrid {
  /** where the tokens are: axis 1 ([N, tokens, C]) or axis 2 ([N, C, tokens]) */
  tokenAxis: 1 | 2;
  /** tokens before the grid's own (a class token, distillation token): dropped from the map */
  prefix: number;
  /** the grid: token prefix + y * width + x is position (y, x) */
  height: number;
  width: number;
  channels: number;
}

/** Ops that compute each token from the same token of their inputs (elementwise ops). */
const POSITIONWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Exp', 'Log', 'Erf', 'Max', 'Min', 'Where',
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Gelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Softplus', 'Mish', 'Clip',
  'Identity', 'Dropout', 'Cast',
]);

/** Reductions that, over the channel axis alone with the axis kept, stay per token (a LayerNorm written out). */
const REDUCTIONS = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceL2', 'ReduceSumSquare']);

/**
 * Every value computed from `input` that is a token grid: born where a Reshape or Flatten merges
 * the H and W axes of a map (per `layouts`: [N, C, H, W] to [N, C, H*W], or [N, H, W, C] to
 * [N, H*W, C]); kept by a Transpose that leaves the batch first, by a Concat that puts tokens
 * of its own before the grid's (the class token), by elementwise ops, by LayerNormalization and
 * reductions over the channels alone, and by MatMul with a 2-D weight over the channels (a Linear
 * layer). Attention regroups its tokens by Reshape into heads, which ends the trail; its output
 * joins the residual stream again through an elementwise Add.
 */
export function tokenGrids(graph: Graph, b: GraphBuilder, layouts: ReadonlyMap<string, AxisLayout>): Map<string, TokenGrid> {
  const grids = new Map<string, TokenGrid>();
  const shapeOf = (v: string | undefined): (number | string)[] | undefined => {
    if (!v) return undefined;
    try {
      return b.factsOf(v).shape;
    } catch {
      return undefined;
    }
  };
  for (const node of graph.nodes) {
    const out = node.outputs[0];
    if (!out) continue;
    const ys = shapeOf(out);
    if (!ys || ys.length !== 3) continue;
    const grid = node.op === 'Reshape' || node.op === 'Flatten' ? flattened(node, layouts, shapeOf) : followed(node, grids, b, shapeOf);
    if (!grid) continue;
    const channels = ys[grid.tokenAxis === 1 ? 2 : 1];
    if (typeof channels !== 'number' || ys[grid.tokenAxis] !== grid.prefix + grid.height * grid.width) continue;
    grids.set(out, { ...grid, channels });
  }
  return grids;
}

type Shapes = (v: string | undefined) => (number | string)[] | undefined;

/** The grid a Reshape or Flatten makes by merging a map's H and W axes, in that order. */
function flattened(node: Node, layouts: ReadonlyMap<string, AxisLayout>, shapeOf: Shapes): Omit<TokenGrid, 'channels'> | undefined {
  const layout = layouts.get(node.inputs[0] ?? '');
  const xs = shapeOf(node.inputs[0]);
  const ys = shapeOf(node.outputs[0]);
  if (!layout || !xs || !ys || xs.length !== 4) return undefined;
  const [h, w] = [xs[layout.indexOf(2)], xs[layout.indexOf(3)]];
  if (typeof h !== 'number' || typeof w !== 'number' || h * w <= 1) return undefined;
  const merged = (tokenAxis: 1 | 2): boolean => ys[0] === xs[0] && ys[tokenAxis] === h * w && ys[3 - tokenAxis] === xs[layout.indexOf(1)];
  if (sameLayout(layout, [0, 1, 2, 3]) && merged(2)) return { tokenAxis: 2, prefix: 0, height: h, width: w };
  if (sameLayout(layout, [0, 2, 3, 1]) && merged(1)) return { tokenAxis: 1, prefix: 0, height: h, width: w };
  return undefined;
}

/** The grid of an op's output computed from token grids, where the op keeps every token in place. */
function followed(node: Node, grids: ReadonlyMap<string, TokenGrid>, b: GraphBuilder, shapeOf: Shapes): Omit<TokenGrid, 'channels'> | undefined {
  const tracked = node.inputs.map((i) => (i ? grids.get(i) : undefined));
  const first = tracked.find((g) => g !== undefined);
  if (!first) return undefined;
  const same = (g: TokenGrid): boolean => g.tokenAxis === first.tokenAxis && g.prefix === first.prefix && g.height === first.height && g.width === first.width;
  const channelAxis = 3 - first.tokenAxis;
  const { tokenAxis, prefix, height, width } = first;
  const kept = { tokenAxis, prefix, height, width };
  if (node.op === 'Transpose') {
    const perm = attrInts(node, 'perm') ?? [2, 1, 0];
    if (perm[0] !== 0) return undefined; // the batch moved (PyTorch's attention works on [tokens, N, C])
    return { ...kept, tokenAxis: perm.indexOf(tokenAxis) as 1 | 2 };
  }
  if (node.op === 'Concat') {
    const axis = attrInt(node, 'axis', 0);
    if ((axis + 3) % 3 !== tokenAxis || tracked.filter((g) => g).length !== 1) return undefined;
    const at = tracked.indexOf(first);
    if (at !== node.inputs.length - 1) return undefined; // tokens after the grid's: not followed
    let before = 0;
    for (const i of node.inputs.slice(0, at)) {
      const size = shapeOf(i)?.[tokenAxis];
      if (typeof size !== 'number') return undefined;
      before += size;
    }
    return { ...kept, prefix: prefix + before };
  }
  if (!tracked.every((g) => !g || same(g))) return undefined;
  if (POSITIONWISE.has(node.op)) return kept;
  if (node.op === 'LayerNormalization') return layerNormAxes(node, 3).every((a) => a === channelAxis) ? kept : undefined;
  if (REDUCTIONS.has(node.op)) {
    const axes = attrInts(node, 'axes') ?? (node.inputs[1] ? Array.from(b.valueOf(node.inputs[1])?.data ?? [], Number) : undefined);
    return attrInt(node, 'keepdims', 1) === 1 && axes?.length === 1 && (axes[0]! + 3) % 3 === channelAxis ? kept : undefined;
  }
  if (node.op === 'MatMul') {
    const w = node.inputs[1];
    return tracked[0] && !tracked[1] && channelAxis === 2 && !!w && b.valueOf(w)?.dims.length === 2 ? kept : undefined;
  }
  return undefined;
}
