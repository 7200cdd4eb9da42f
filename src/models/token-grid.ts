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

/** A value's token positions something reads: all of them, or these (a class token's index). */
type ReadPositions = 'all' | Set<number>;

/**
 * The token grids whose grid positions (past the prefix) the output depends on. After a vision
 * transformer's last attention only the tokens the head reads (a class token, picked by a Gather
 * or Slice along the tokens) still reach the output, so a grid there has no gradient at any of
 * its patch tokens and a CAM read from it is empty. Followed back from the output through the
 * ops that keep every token in place (those tokenGrids follows: a token's need stays that
 * token's), a Concat of tokens (the need split by where each input's tokens land), and a Gather
 * or Slice of constant positions along the tokens; any other op needs every token of its inputs
 * (attention mixes them), and a Shape reads none.
 */
export function gridsReadByOutput(graph: Graph, b: GraphBuilder, grids: ReadonlyMap<string, TokenGrid>, output: string): Set<string> {
  const needs = new Map<string, ReadPositions>([[output, 'all']]);
  const add = (v: string | undefined, need: ReadPositions): void => {
    if (!v) return;
    const had = needs.get(v);
    if (had === 'all') return;
    if (need === 'all' || !grids.has(v)) needs.set(v, 'all');
    else needs.set(v, new Set([...(had ?? []), ...need]));
  };
  const constantInts = (v: string | undefined): number[] | undefined => {
    const t = v ? b.valueOf(v) : undefined;
    return t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined;
  };
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k]!;
    const out = node.outputs[0];
    const need = out === undefined ? undefined : needs.get(out);
    if (!need || node.op === 'Shape' || node.op === 'Size') continue;
    const outGrid = grids.get(out!);
    const x = node.inputs[0];
    const xGrid = x ? grids.get(x) : undefined;
    if (outGrid && node.op !== 'Reshape' && node.op !== 'Flatten') {
      // the inputs the output's grid was followed from (token-grid's `followed`)
      let offset = 0;
      for (const i of node.inputs) {
        const size = i ? shapeDim(b, i, outGrid.tokenAxis) : undefined;
        if (!i || !grids.has(i)) add(i, 'all');
        else if (need === 'all') add(i, 'all');
        else if (node.op === 'Concat') add(i, new Set([...need].filter((p) => p >= offset && p < offset + (size ?? 0)).map((p) => p - offset)));
        else add(i, need);
        if (node.op === 'Concat') offset += size ?? 0;
      }
      continue;
    }
    if (xGrid && (node.op === 'Gather' || node.op === 'Slice')) {
      const picked = pickedTokens(node, xGrid, shapeDim(b, x!, xGrid.tokenAxis), constantInts);
      if (picked) {
        add(x, picked);
        for (const i of node.inputs.slice(1)) add(i, 'all');
        continue;
      }
    }
    for (const i of node.inputs) add(i, 'all');
  }
  const read = new Set<string>();
  for (const [v, grid] of grids) {
    const need = needs.get(v);
    if (need === 'all' || (need && [...need].some((p) => p >= grid.prefix))) read.add(v);
  }
  return read;
}

function shapeDim(b: GraphBuilder, v: string, axis: number): number | undefined {
  try {
    const d = b.factsOf(v).shape?.[axis];
    return typeof d === 'number' ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The token positions a Gather or Slice of constant positions along the tokens takes, else undefined. */
function pickedTokens(node: Node, grid: TokenGrid, tokens: number | undefined, constantInts: (v: string | undefined) => number[] | undefined): Set<number> | undefined {
  if (tokens === undefined) return undefined;
  const wrap = (p: number): number => (p < 0 ? p + tokens : p);
  if (node.op === 'Gather') {
    const indices = constantInts(node.inputs[1]);
    if ((attrInt(node, 'axis', 0) + 3) % 3 !== grid.tokenAxis || !indices) return undefined;
    return new Set(indices.map(wrap));
  }
  const [starts, ends, axes, steps] = [1, 2, 3, 4].map((k) => constantInts(node.inputs[k]));
  if (!starts || !ends) return undefined;
  const at = (axes ?? starts.map((_, k) => k)).findIndex((a) => (a + 3) % 3 === grid.tokenAxis);
  // a Slice of other axes alone keeps every token (its output is no grid here: not followed)
  if (at < 0) return undefined;
  const step = steps?.[at] ?? 1;
  const clamp = (p: number, hi: number): number => Math.max(step > 0 ? 0 : -1, Math.min(hi, wrap(p)));
  const start = clamp(starts[at]!, step > 0 ? tokens : tokens - 1);
  const end = clamp(ends[at]!, step > 0 ? tokens : tokens - 1);
  const picked = new Set<number>();
  for (let p = start; step > 0 ? p < end : p > end; p += step) picked.add(p);
  return picked;
}
