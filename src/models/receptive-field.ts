import type { GraphBuilder } from '../engine/graph/builder.js';
import { attrInts, attrString, type Graph } from '../engine/graph/ir.js';
import { transposeGeometry, windowGeometry } from '../engine/ops/geometry.js';
import { toNumbers } from '../engine/tensor.js';

import { axisLayouts, channelOnly, type AxisLayout } from './layout.js';
import type { ReceptiveField } from './region.js';

export { unitRegion, type ReceptiveField } from './region.js';

const IDENTITY_LIKE = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'Erf', 'BatchNormalization', 'InstanceNormalization', 'LRN', 'Identity', 'Dropout', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Pow', 'Cast', 'QuantizeLinear', 'DequantizeLinear']);
const CHANNEL_CUTS = new Set(['Slice', 'Split', 'Gather', 'Squeeze', 'Unsqueeze']);
const COMBINE = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Max', 'Min', 'Mean', 'Concat', 'Where']);

/** Receptive fields of every spatial value reachable from the image input. */
export function receptiveFields(graph: Graph, b: GraphBuilder, input: string): Map<string, ReceptiveField> {
  const rf = new Map<string, ReceptiveField>();
  const inShape = b.shapeOf(input);
  const H = typeof inShape[2] === 'number' ? inShape[2] : 0;
  const W = typeof inShape[3] === 'number' ? inShape[3] : 0;
  const whole: ReceptiveField = { size: [H, W], jump: [H, W], start: [(H - 1) / 2, (W - 1) / 2], global: true };
  rf.set(input, { size: [1, 1], jump: [1, 1], start: [0, 0], global: false });
  const layouts = axisLayouts(graph, b, input);
  for (const node of graph.nodes) {
    const ins = node.inputs.filter((i) => i && rf.has(i));
    if (ins.length === 0) continue;
    const out = node.outputs[0];
    if (!out) continue;
    // A global input broadcast over the positions (a squeeze-and-excitation gate, [N, C, 1, 1])
    // gives each channel one number per image: where a unit fires is still its local window's
    // doing, so the gate does not make every later layer "see the whole image".
    const gated = COMBINE.has(node.op) ? ins.filter((i) => !(rf.get(i)!.global && broadcastOverPositions(i, out, b))) : ins;
    const windows = gated.length ? gated : ins;
    const src = rf.get(windows[0]!)!;
    const shape = b.factsOf(out).shape;
    let r: ReceptiveField;
    try {
      if (src.global) r = whole;
      else if (node.op === 'Conv' || node.op === 'MaxPool' || node.op === 'AveragePool') {
        const xs = b.shapeOf(node.inputs[0]!);
        const kernel = node.op === 'Conv' ? (b.shapeOf(node.inputs[1]!).slice(2) as number[]) : attrInts(node, 'kernel_shape');
        if (!kernel) continue; // a pool without its window: see the catch below
        if (kernel.length !== 2) r = whole;
        else {
          const g = windowGeometry(node, xs.slice(2), kernel);
          r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
          const lastRead: [number, number] = [src.lastRead?.[0] ?? H - 1, src.lastRead?.[1] ?? W - 1];
          for (let a = 0; a < 2; a++) {
            r.jump[a] = src.jump[a]! * g.strides[a]!;
            r.size[a] = src.size[a]! + (kernel[a]! - 1) * g.dilations[a]! * src.jump[a]!;
            r.start[a] = src.start[a]! + (((kernel[a]! - 1) * g.dilations[a]!) / 2 - g.padBegin[a]!) * src.jump[a]!;
            // The last unit's last tap: past the map's end it reads padding, not a pixel.
            const inSize = xs[2 + a];
            const outSize = g.out[a];
            if (typeof inSize === 'number' && typeof outSize === 'number') {
              const lastTap = Math.min(inSize - 1, (outSize - 1) * g.strides[a]! - g.padBegin[a]! + (kernel[a]! - 1) * g.dilations[a]!);
              lastRead[a] = Math.min(lastRead[a]!, Math.floor(src.start[a]! + lastTap * src.jump[a]! + (src.size[a]! - 1) / 2));
            }
          }
          if (lastRead[0] < H - 1 || lastRead[1] < W - 1) r.lastRead = lastRead;
        }
      } else if (node.op === 'ConvTranspose') {
        const xs = b.shapeOf(node.inputs[0]!);
        const kernel = b.shapeOf(node.inputs[1]!).slice(2) as number[];
        const g = transposeGeometry(node, xs.slice(2), kernel);
        r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
        for (let a = 0; a < 2; a++) {
          r.jump[a] = src.jump[a]! / g.strides[a]!;
          // an output unit gathers ceil(k / s) input units
          r.size[a] = src.size[a]! + (Math.ceil(kernel[a]! / g.strides[a]!) - 1) * src.jump[a]!;
          r.start[a] = src.start[a]! + (g.padBegin[a]! - ((kernel[a]! - 1) * g.dilations[a]!) / 2) * r.jump[a]!;
        }
      } else if (node.op === 'Resize') {
        const scales = node.inputs[2] ? b.valueOf(node.inputs[2]) : undefined;
        const xs = b.shapeOf(node.inputs[0]!);
        const s = scales ? toNumbers(scales).slice(2) : shape && xs ? [Number(shape[2]) / Number(xs[2]), Number(shape[3]) / Number(xs[3])] : [1, 1];
        const linear = attrString(node, 'mode', 'nearest') === 'linear';
        r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
        for (let a = 0; a < 2; a++) {
          r.jump[a] = src.jump[a]! / s[a]!;
          r.size[a] = src.size[a]! + (linear ? src.jump[a]! : 0);
          r.start[a] = src.start[a]! + (0.5 / s[a]! - 0.5) * src.jump[a]!;
        }
      } else if (node.op === 'Pad' && node.inputs[1] && b.valueOf(node.inputs[1]) && attrString(node, 'mode', 'constant') !== 'wrap' && isChannelsFirstSpatial(layouts.get(node.inputs[0]!))) {
        // Padding (nn.ZeroPad2d, F.pad, TF's asymmetric "SAME") moves the units, not their
        // windows: output unit i is input unit i - padBegin.
        const pads = toNumbers(b.valueOf(node.inputs[1])!);
        const rank = pads.length / 2;
        r = { size: [src.size[0], src.size[1]], jump: [src.jump[0], src.jump[1]], start: [0, 0], global: false };
        for (let a = 0; a < 2; a++) r.start[a] = src.start[a]! - pads[rank - 2 + a]! * src.jump[a]!;
      } else if (IDENTITY_LIKE.has(node.op)) {
        r = src;
      } else if ((node.op === 'Transpose' || node.op === 'Reshape') && layouts.has(node.inputs[0]!) && layouts.has(out)) {
        // a channels-last block's permute, or a regrouping of the channels only (a channel
        // shuffle): units keep their place in the image
        r = src;
      } else if (CHANNEL_CUTS.has(node.op) && keepsPositions(node.inputs[0]!, out, layouts, b)) {
        // a cut along the channels (ShuffleNet's channel split, GoogLeNet's transform_input picking
        // each channel and unsqueezing it back): units keep their place
        r = src;
      } else if (node.op === 'Slice' && spatialSlice(node, layouts, b)) {
        // a crop or a strided pick along H or W (YOLOv5's Focus: x[..., ::2, ::2]): unit i is input
        // unit start + i * step
        const cut = spatialSlice(node, layouts, b)!;
        r = { size: [src.size[0], src.size[1]], jump: [src.jump[0] * cut.step[0], src.jump[1] * cut.step[1]], start: [src.start[0] + cut.begin[0] * src.jump[0], src.start[1] + cut.begin[1] * src.jump[1]], global: false };
      } else if (node.op.startsWith('Reduce') && reducesOnlyOtherAxes(node.inputs[0]!, out, layouts, b)) {
        // a reduction over the channels (LayerNorm as exported before opset 17: ReduceMean over the
        // last axis of a channels-last block; CBAM's channel mean): each position keeps its window
        r = src;
      } else if (layouts.has(node.inputs[0]!) && channelOnly(node, layouts.get(node.inputs[0]!)!, b)) {
        r = src;
      } else if (COMBINE.has(node.op)) {
        // Union of the inputs' windows (residual connections, concatenated branches).
        const all = windows.map((i) => rf.get(i)!);
        if (all.some((f) => f.global)) r = whole;
        else {
          r = { size: [0, 0], jump: [0, 0], start: [0, 0], global: false };
          for (let a = 0; a < 2; a++) {
            const lo = Math.min(...all.map((f) => f.start[a]! - (f.size[a]! - 1) / 2));
            const hi = Math.max(...all.map((f) => f.start[a]! + (f.size[a]! - 1) / 2));
            r.size[a] = hi - lo + 1;
            r.start[a] = (lo + hi) / 2;
            r.jump[a] = Math.max(...all.map((f) => f.jump[a]!));
          }
          const reach = (a: 0 | 1, edge: number): number => Math.max(...all.map((f) => f.lastRead?.[a] ?? edge));
          const lastRead: [number, number] = [reach(0, H - 1), reach(1, W - 1)];
          if (lastRead[0] < H - 1 || lastRead[1] < W - 1) r.lastRead = lastRead;
        }
      } else {
        // GlobalAveragePool, Flatten, Gemm, MatMul, Reshape, reductions: every unit sees everything.
        r = whole;
      }
    } catch {
      // A window the graph's shapes or attributes leave undefined (a damaged or unusual file,
      // which ONNX Runtime will judge): no receptive field here or downstream, rather than a wrong one.
      continue;
    }
    // A unit never reads past what its window's source reads (pads, crops, upsamplings).
    if (!r.global && !r.lastRead && src.lastRead) r = { ...r, lastRead: src.lastRead };
    for (const o of node.outputs) if (o) rf.set(o, r);
  }
  return rf;
}

/** Whether a value's last two axes are the image's H and W (so a Pad's last two pairs pad them). */
function isChannelsFirstSpatial(layout: AxisLayout | undefined): boolean {
  return !!layout && layout.at(-2) === 2 && layout.at(-1) === 3;
}

/** The first index and step of a Slice along the image's H and W (constant, forward steps), else undefined. */
function spatialSlice(node: { inputs: string[]; outputs: string[] }, layouts: Map<string, AxisLayout>, b: GraphBuilder): { begin: [number, number]; step: [number, number] } | undefined {
  const layout = layouts.get(node.inputs[0]!);
  const xs = b.factsOf(node.inputs[0]!).shape;
  if (!layout || !xs || !layouts.has(node.outputs[0]!)) return undefined;
  const value = (k: number): number[] | undefined => {
    const name = node.inputs[k];
    if (!name) return undefined;
    const t = b.valueOf(name);
    return t ? toNumbers(t) : undefined;
  };
  const starts = value(1);
  if (!starts) return undefined;
  const rank = xs.length;
  const axes = (value(3) ?? starts.map((_, k) => k)).map((a) => (a < 0 ? a + rank : a));
  const steps = value(4) ?? starts.map(() => 1);
  const out: { begin: [number, number]; step: [number, number] } = { begin: [0, 0], step: [1, 1] };
  for (let k = 0; k < axes.length; k++) {
    const a = layout[axes[k]!];
    if (a !== 2 && a !== 3) continue;
    const dim = xs[axes[k]!];
    const step = steps[k]!;
    if (typeof dim !== 'number' || !(step >= 1)) return undefined;
    const s = starts[k]!;
    out.begin[a - 2] = Math.min(dim, Math.max(0, s < 0 ? s + dim : s));
    out.step[a - 2] = step;
  }
  return out;
}

/** Whether a reduction from `from` to `to` (keepdims) leaves the image's H and W axes whole. */
function reducesOnlyOtherAxes(from: string, to: string, layouts: Map<string, AxisLayout>, b: GraphBuilder): boolean {
  const layout = layouts.get(from);
  if (!layout || !layouts.has(to)) return false;
  const xs = b.factsOf(from).shape;
  const ys = b.factsOf(to).shape;
  if (!xs || !ys || xs.length !== layout.length || ys.length !== xs.length) return false;
  const h = layout.indexOf(2);
  const w = layout.indexOf(3);
  return h >= 0 && w >= 0 && typeof xs[h] === 'number' && typeof xs[w] === 'number' && xs[h] === ys[h] && xs[w] === ys[w];
}

/** Whether `to` has `from`'s spatial axes, whole: both follow H and W last, at the same sizes. */
function keepsPositions(from: string, to: string, layouts: Map<string, AxisLayout>, b: GraphBuilder): boolean {
  const a = layouts.get(from);
  const c = layouts.get(to);
  if (!a || !c || a.at(-2) !== 2 || a.at(-1) !== 3 || c.at(-2) !== 2 || c.at(-1) !== 3) return false;
  const xs = b.factsOf(from).shape;
  const ys = b.factsOf(to).shape;
  return !!xs && !!ys && typeof xs.at(-1) === 'number' && xs.at(-2) === ys.at(-2) && xs.at(-1) === ys.at(-1);
}

/** Whether `value` is one number per channel that an element-wise op spreads over `out`'s positions ([N, C, 1, 1] against [N, C, H, W]). */
function broadcastOverPositions(value: string, out: string, b: GraphBuilder): boolean {
  const xs = b.factsOf(value).shape;
  const ys = b.factsOf(out).shape;
  if (!xs || !ys || xs.length !== 4 || ys.length !== 4) return false;
  return xs[2] === 1 && xs[3] === 1 && !(ys[2] === 1 && ys[3] === 1);
}
