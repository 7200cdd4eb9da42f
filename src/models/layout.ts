// Where each axis of a value comes from in the image's NCHW order, so that channels-last blocks
// (ConvNeXt permutes to [N, H, W, C] around its LayerNorm and Linear layers) are not read as
// [N, C, H, W] feature maps, and their per-position layers keep their receptive fields.
import type { GraphBuilder } from '../engine/graph/builder.js';
import { attrInt, attrInts, type Graph, type Node } from '../engine/graph/ir.js';
import { layerNormAxes } from '../engine/ops/normalization.js';

/** For each axis of a value, the NCHW axis of the input it follows (0 N, 1 C, 2 H, 3 W). */
export type AxisLayout = readonly number[];

export const NCHW: AxisLayout = [0, 1, 2, 3];

/** Ops whose output is an [N, C, H, W] map by definition, whatever their input was. */
const MAP_MAKERS = new Set(['Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'BatchNormalization', 'InstanceNormalization', 'DepthToSpace', 'SpaceToDepth']);

/** Ops after which the axes no longer follow the input's (the value is re-cut or regrouped). */
const REGROUPING = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'DepthToSpace', 'SpaceToDepth', 'Einsum', 'Gather', 'GatherElements', 'GatherND', 'Tile']);

/**
 * The axis layout of every value computed from `input` (rank 4, NCHW) whose axes can be followed:
 * Transpose permutes them; an op whose output has the rank of its inputs and whose inputs agree
 * keeps them (elementwise ops, activations, convolutions, pooling, LayerNormalization, MatMul by
 * a weight); a Reshape that regroups only the channels keeps the batch and spatial axes. Other
 * Reshapes are followed axis by axis as pieces of the axes before them (factoredLayout): a window
 * partition's 4-D values follow no image axis (-1), and the maps put back follow N, C, H, W
 * again; a Reshape whose sizes do not divide, Flatten and other regrouping ops end the trail (no
 * entry: unknown). `regrouped`, when given, receives the values whose positions are no longer the
 * image's: cut into windows, H and W merged into positions, the batch merged with windows (Swin's
 * [N * windows, positions, C]), and everything computed from them whose axes cannot be followed
 * (the attention inside a window: [N * windows, heads, positions, positions]): no maps, though
 * their layout is unknown.
 */
export function axisLayouts(graph: Graph, b: GraphBuilder, input: string, regrouped?: Set<string>): Map<string, AxisLayout> {
  const layouts = new Map<string, AxisLayout>([[input, NCHW]]);
  const rankOf = (v: string): number | undefined => {
    try {
      return b.factsOf(v).shape?.length;
    } catch {
      return undefined;
    }
  };
  // How the axes of values past a Reshape are cut from the axes of the value before it: window
  // partitions (MaxViT's [N, C, H, W] -> [N, windows, positions, C]) and their way back.
  const factors = new Map<string, Factored>();
  const shapeOf = (v: string): Dim[] | undefined => {
    try {
      return b.factsOf(v).shape;
    } catch {
      return undefined;
    }
  };
  const follow = (node: Node): void => {
    const known = node.inputs.filter((i) => i && layouts.has(i)).map((i) => layouts.get(i)!);
    if (node.op === 'Reshape' && node.outputs[0]) {
      const out = node.outputs[0];
      const cut = reshapedFactors(node, layouts, factors, shapeOf);
      if (cut) factors.set(out, cut);
      const regrouped = known.length ? channelRegrouping(node, layouts.get(node.inputs[0]!), b) : undefined;
      const layout = regrouped ?? (cut ? factoredLayout(cut) : undefined);
      if (layout) layouts.set(out, layout);
      return;
    }
    if (node.op === 'Transpose' && node.outputs[0] && factors.has(node.inputs[0]!)) {
      const f = factors.get(node.inputs[0]!)!;
      const perm = attrInts(node, 'perm') ?? f.map((_, k, a) => a.length - 1 - k);
      factors.set(node.outputs[0], perm.map((k) => f[k]!));
      if (!layouts.has(node.inputs[0]!)) {
        const layout = factoredLayout(factors.get(node.outputs[0])!);
        if (layout) layouts.set(node.outputs[0], layout);
        return;
      }
    }
    if (known.length && node.outputs[0] && layouts.has(node.inputs[0]!)) {
      const picked = axisPickLayout(node, layouts.get(node.inputs[0]!)!, b);
      if (picked) {
        layouts.set(node.outputs[0], picked);
        return;
      }
    }
    if (known.length === 0 || REGROUPING.has(node.op)) return;
    const out = node.outputs[0];
    if (!out) return;
    let layout: AxisLayout | undefined;
    if (node.op === 'Transpose') {
      const perm = attrInts(node, 'perm') ?? [...known[0]!].map((_, k, a) => a.length - 1 - k);
      layout = perm.map((k) => known[0]![k]!);
    } else if (known.every((l) => sameLayout(l, known[0]!)) && rankOf(out) === known[0]!.length) {
      layout = known[0];
      // the cuts go along where every position stays in place (elementwise ops, LayerNorm, Linear)
      const cut = node.inputs.find((i) => i && factors.has(i));
      if (cut && sameShape(shapeOf(cut), shapeOf(out))) factors.set(out, factors.get(cut)!);
    }
    if (layout) for (const o of node.outputs) if (o && rankOf(o) === layout.length) layouts.set(o, layout);
  };
  const batch = shapeOf(input)?.[0];
  for (const node of graph.nodes) {
    follow(node);
    for (const o of node.outputs) {
      if (!o) continue;
      const layout = layouts.get(o);
      if (layout && !layout.includes(-1)) continue;
      const f = factors.get(o);
      const pieces = f ? factoredLayout(f) : undefined;
      // born where the image's axes are cut or merged (windows, positions, the batch with windows),
      // and where a Reshape of a followed value moves the batch from the first axis in a way the
      // sizes cannot tell (a target computed from symbolic sizes: Swin's window partition)
      const x = node.inputs[0];
      const movesBatch = node.op === 'Reshape' && !layout && !!x && (layouts.has(x) || factors.has(x)) && shapeOf(o)?.[0] !== batch;
      if ((f && (!pieces || pieces.includes(-1))) || movesBatch) regrouped?.add(o);
      // and carried on by what is computed from such values, until an op that makes maps (a
      // convolution) or one whose layout is followed again (a residual sum with the block's
      // input): a Reshape back to [N, H, W, C] cannot be told from one into heads [N, P*P, heads, d]
      else if (node.inputs.some((i) => i && regrouped?.has(i)) && !MAP_MAKERS.has(node.op)) regrouped?.add(o);
    }
  }
  return layouts;
}

type Dim = number | string;

/**
 * One piece of an axis: `size` steps of `stride` along the NCHW axis `axis`, whose whole extent,
 * where the pieces were first cut, was `extent` (a symbolic size, the batch, is one whole piece).
 */
interface Piece {
  axis: number;
  stride: number;
  size: Dim;
  extent: Dim;
}

/** Each axis of a value as its pieces, outermost first (no pieces: an axis of size 1). */
type Factored = Piece[][];

const sameShape = (a: Dim[] | undefined, c: Dim[] | undefined): boolean => !!a && !!c && a.length === c.length && a.every((d, k) => d === c[k]);

/**
 * The pieces of a Reshape's output axes, cut from its input's: the input's pieces (or its whole
 * axes, where its layout is known), outermost first, dealt to the output axes in order, a piece
 * split where an axis takes only part of it; undefined where sizes do not divide or are unknown.
 */
function reshapedFactors(node: Node, layouts: ReadonlyMap<string, AxisLayout>, factors: ReadonlyMap<string, Factored>, shapeOf: (v: string) => Dim[] | undefined): Factored | undefined {
  const x = node.inputs[0];
  const xs = x ? shapeOf(x) : undefined;
  const ys = shapeOf(node.outputs[0]!);
  if (!x || !xs || !ys) return undefined;
  const layout = layouts.get(x);
  const input = factors.get(x) ?? (layout && layout.length === xs.length && layout.every((a) => a >= 0) ? xs.map((d, k) => [{ axis: layout[k]!, stride: 1, size: d, extent: d }]) : undefined);
  if (!input) return undefined;
  // an axis of size 1 is kept as a piece where an axis of size 1 takes it (a batch of 1), and
  // skipped elsewhere
  const queue = input.flat();
  const out: Factored = [];
  let at = 0;
  // A symbolic size other than the input's symbol (a shape inference's fresh "reshape?k" for a -1)
  // is the input's symbolic piece (the batch) times what the sizes leave over: Swin's window
  // partition writes [N * windows, positions, C], and a lone window (or a plain view(-1, C, H, W))
  // leaves 1, the batch alone.
  const numericProduct = (ds: readonly Dim[]): number => ds.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
  const symbolicIn = queue.filter((p) => typeof p.size !== 'number');
  const symbolicOut = ys.filter((d) => typeof d !== 'number');
  const leftOver = symbolicIn.length === 1 && symbolicOut.length === 1 ? numericProduct(queue.map((p) => p.size)) / numericProduct(ys) : undefined;
  /** Deals numeric pieces of `need` elements in all onto `axis`, splitting the last where it takes part of it; false where sizes do not divide. */
  const take = (need: number, axis: Piece[]): boolean => {
    while (need > 1) {
      const p = queue[at];
      if (!p || typeof p.size !== 'number') return false;
      if (p.size === 1) {
        at++;
      } else if (p.size <= need) {
        if (need % p.size !== 0) return false;
        axis.push(p);
        need /= p.size;
        at++;
      } else {
        if (p.size % need !== 0) return false;
        axis.push({ ...p, stride: p.stride * (p.size / need), size: need });
        queue[at] = { ...p, size: p.size / need };
        need = 1;
      }
    }
    return true;
  };
  for (const d of ys) {
    if (typeof d !== 'number') {
      // a symbolic size passes whole (the batch), with what the sizes leave over merged into it
      while (queue[at]?.size === 1) at++;
      const p = queue[at++];
      if (!p || typeof p.size === 'number') return undefined;
      if (p.size === d) {
        out.push([p]);
        continue;
      }
      const axis: Piece[] = [p];
      if (leftOver === undefined || !Number.isInteger(leftOver) || leftOver < 1 || !take(leftOver, axis)) return undefined;
      out.push(merged(axis));
      continue;
    }
    if (d === 1) {
      out.push(queue[at]?.size === 1 ? [queue[at++]!] : []);
      continue;
    }
    const axis: Piece[] = [];
    if (!take(d, axis)) return undefined;
    out.push(merged(axis));
  }
  return queue.slice(at).every((p) => p.size === 1) ? out : undefined;
}

/** Adjacent pieces of one axis that continue each other, joined (a window's row and its offset). */
function merged(axis: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of axis) {
    const last = out[out.length - 1];
    if (last && last.axis === p.axis && last.extent === p.extent && typeof last.size === 'number' && typeof p.size === 'number' && last.stride === p.stride * p.size) {
      out[out.length - 1] = { ...p, size: last.size * p.size };
    } else out.push(p);
  }
  return out;
}

/**
 * The layout of a value whose axes are pieces: an axis that is a whole NCHW axis follows it; one
 * made of channel pieces follows C (channel groups), as does H or W made whole again with channel
 * pieces inside (a pixel shuffle); an axis of size 1, the NCHW axis in its place; anything else - part of H, H and W merged (a window index, the
 * positions in a window), the batch merged - follows no image axis (-1). Given for rank-4 values
 * (so such a value is no [N, C, H, W] map) and for those whose every axis follows one; others stay
 * unknown, as before pieces were followed.
 */
function factoredLayout(f: Factored): AxisLayout | undefined {
  const codes = f.map((pieces, k) => {
    // an axis of size 1 holds no position: it follows whatever the NCHW axis in its place does
    if (!pieces.length) return k < 4 ? k : -1;
    const axes = new Set(pieces.map((p) => p.axis));
    if (axes.size === 1 && axes.has(1)) return 1;
    const spatial = [...axes].filter((a) => a !== 1);
    if (spatial.length !== 1) return -1;
    const own = merged(pieces.filter((p) => p.axis === spatial[0]));
    return own.length === 1 && own[0]!.stride === 1 && own[0]!.size === own[0]!.extent && pieces[0]!.axis === spatial[0] ? spatial[0]! : -1;
  });
  return f.length === 4 || codes.every((c) => c >= 0) ? codes : undefined;
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

/**
 * The layout after an op that drops or adds single axes and moves nothing else: Gather of one
 * index (a constant scalar) drops its axis (GoogLeNet's transform_input picks each channel:
 * x[:, 0]), Squeeze drops axes of size 1, Unsqueeze adds them (following the NCHW axis in their
 * place where that one is not followed yet, else none: -1); undefined for any other op.
 */
function axisPickLayout(node: Node, layout: AxisLayout, b: GraphBuilder): AxisLayout | undefined {
  const constInts = (name: string | undefined): number[] | undefined => {
    const t = name ? b.valueOf(name) : undefined;
    return t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined;
  };
  const rank = layout.length;
  const positive = (a: number, r: number): number => (a < 0 ? a + r : a);
  if (node.op === 'Gather') {
    const index = node.inputs[1] ? b.valueOf(node.inputs[1]) : undefined;
    if (!index || index.dims.length !== 0) return undefined;
    const axis = positive(attrInt(node, 'axis', 0), rank);
    return axis < rank ? layout.filter((_, k) => k !== axis) : undefined;
  }
  if (node.op === 'Squeeze' || node.op === 'Unsqueeze') {
    const axes = constInts(node.inputs[1]) ?? attrInts(node, 'axes');
    if (!axes) return undefined;
    if (node.op === 'Squeeze') {
      const drop = new Set(axes.map((a) => positive(a, rank)));
      return layout.filter((_, k) => !drop.has(k));
    }
    const outRank = rank + axes.length;
    const added = new Set(axes.map((a) => positive(a, outRank)));
    const rest = [...layout];
    return Array.from({ length: outRank }, (_, k) => (added.has(k) ? (k < 4 && !layout.includes(k) ? k : -1) : rest.shift()!));
  }
  return undefined;
}

export function sameLayout(a: AxisLayout, b: AxisLayout): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** Whether a value known to follow `layout` is an [N, C, H, W] map (unknown layouts are taken as such). */
export function isChannelsFirst(layout: AxisLayout | undefined): boolean {
  return !layout || layout.length !== 4 || sameLayout(layout, NCHW);
}

/** What a 4-D value that is no [N, C, H, W] map is, for a message: "channels-last (...)" or "cut into windows (...)". */
export function notChannelsFirst(layout: AxisLayout | undefined): string {
  return layout?.includes(-1) ? 'cut into windows or regrouped ([N, windows, positions, C] inside attention: its axes are pieces of the image\'s H and W' : 'channels-last ([N, H, W, C] between the model\'s permutes';
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
