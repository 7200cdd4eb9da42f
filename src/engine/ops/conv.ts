import { MALFORMED_HINT, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrInt, attrInts, type Dim, type Node } from '../graph/ir.js';
import type { GraphBuilder } from '../graph/builder.js';
import { transposeGeometry, windowGeometry } from './geometry.js';
import { defineOp, type GradContext } from './registry.js';

// Conv and ConvTranspose over any number of spatial axes (1-D and 2-D in practice).
//
// Backward formulations, chosen by measurement (engine notes, and the numbers below; ms, min of
// 20 interleaved runs, 1 intra-op thread, onnxruntime-node 1.30, batch 32):
// - input gradient, stride 1: a Conv of dy with the weights transposed in/out per group and
//   flipped, pads d*(k-1)-p. Stays on ONNX Runtime's fast Conv path: 35 vs 42 for ConvTranspose
//   on 64->64 3x3 @32x32, 11 vs 23 depthwise.
// - input gradient, stride > 1: ConvTranspose of dy with output_padding from static sizes:
//   21, against 92 for zero-inserting dy and running the stride-1 Conv (64->128 3x3 s2 @32x32).
// - weight gradient: im2col from one strided Slice per kernel tap of the padded input, then
//   one batched MatMul over (batch, group); see weightGradient for the alternatives measured.
// - bias gradient: ReduceSum of dy over batch and space.

const dimsText = (s: readonly Dim[]): string => `[${s.join(', ')}]`;

/** Reads group, checks it is a positive integer. */
function groupOf(node: Node, fail: (msg: string) => Error): number {
  const group = attrInt(node, 'group', 1);
  if (!Number.isInteger(group) || group < 1) throw fail(`group=${group} must be a positive integer`);
  return group;
}

/** Shared rank/kernel/bias checks; returns the static kernel size. */
function checkOperands(ctx: InferContext, outChannels: Dim): { x: Dim[]; w: Dim[]; kernel: number[] } {
  const x = ctx.need(0);
  const w = ctx.need(1);
  if (x.shape.length < 3) throw ctx.malformed(`input must be [N, C, spatial...], got ${dimsText(x.shape)}`);
  if (w.shape.length !== x.shape.length) {
    throw ctx.malformed(`weight ${dimsText(w.shape)} has rank ${w.shape.length} but the input ${dimsText(x.shape)} has rank ${x.shape.length}`);
  }
  if (x.dtype !== w.dtype) throw ctx.malformed(`input is ${x.dtype} but the weight is ${w.dtype}`);
  const kernel = w.shape.slice(2);
  if (!kernel.every((d): d is number => typeof d === 'number')) throw ctx.error(`weight ${dimsText(w.shape)} must have a static kernel size`);
  const attrKernel = attrInts(ctx.node, 'kernel_shape');
  if (attrKernel && (attrKernel.length !== kernel.length || attrKernel.some((k, i) => k !== kernel[i]))) {
    throw ctx.malformed(`kernel_shape [${attrKernel.join(', ')}] disagrees with the weight ${dimsText(w.shape)}`);
  }
  const bias = ctx.input(2);
  if (bias?.shape) {
    const m = outChannels;
    if (bias.shape.length !== 1 || (typeof bias.shape[0] === 'number' && typeof m === 'number' && bias.shape[0] !== m)) {
      throw ctx.malformed(`bias has shape ${dimsText(bias.shape)} but the layer has ${m} output channels`);
    }
  }
  return { x: x.shape, w: w.shape, kernel };
}

function convInfer(ctx: InferContext): OutputFacts[] {
  const wShape = ctx.need(1).shape;
  const { x, w, kernel } = checkOperands(ctx, wShape[0]!);
  const group = groupOf(ctx.node, (m) => ctx.malformed(m));
  const [m, cg] = [w[0]!, w[1]!];
  const c = x[1]!;
  if (typeof c === 'number' && typeof cg === 'number' && c !== cg * group) {
    throw ctx.malformed(`input has ${c} channels but the weight expects ${cg * group} (group=${group})`, `The weight ${dimsText(w)} is [out, in/group, kernel...]. ${MALFORMED_HINT}`);
  }
  // ONNX Runtime's kernel refuses it only when it runs ("invalid channel count")
  if (m === 0) throw ctx.malformed(`weight ${dimsText(w)} has no output channels`);
  if (typeof m === 'number' && m % group !== 0) throw ctx.malformed(`weight has ${m} output channels, which group=${group} does not divide`);
  const geo = windowGeometry(ctx.node, x.slice(2), kernel);
  return [{ dtype: ctx.need(0).dtype, shape: [x[0]!, m, ...geo.out] }];
}

function convTransposeInfer(ctx: InferContext): OutputFacts[] {
  const wShape = ctx.need(1).shape;
  const group = groupOf(ctx.node, (m) => ctx.malformed(m));
  const mg = wShape[1]!;
  const m: Dim = typeof mg === 'number' ? mg * group : mg;
  const { x, w, kernel } = checkOperands(ctx, m);
  const c = x[1]!;
  const cw = w[0]!;
  if (typeof c === 'number' && typeof cw === 'number' && c !== cw) {
    throw ctx.malformed(`input has ${c} channels but the weight expects ${cw} (group=${group})`, `The weight ${dimsText(w)} is [in, out/group, kernel...]. ${MALFORMED_HINT}`);
  }
  if (m === 0) throw ctx.malformed(`weight ${dimsText(w)} has no output channels`);
  if (typeof cw === 'number' && cw % group !== 0) throw ctx.malformed(`weight has ${cw} input channels, which group=${group} does not divide`);
  const geo = transposeGeometry(ctx.node, x.slice(2), kernel);
  // ONNX Runtime enforces both at run time; saying so here names the node and the fix. An
  // output_shape may exceed the natural size by less than the stride (PyTorch's output_size).
  geo.outputPadding.forEach((p, i) => {
    if (p >= geo.strides[i]!) throw ctx.malformed(`output_padding ${p} on spatial axis ${i} must be less than the stride ${geo.strides[i]}`);
    const extra = p - geo.padBegin[i]! - geo.padEnd[i]!;
    if (extra >= geo.strides[i]!) {
      throw ctx.malformed(`output size ${geo.out[i]} on spatial axis ${i} is larger than the ${(geo.out[i] as number) - extra + geo.strides[i]! - 1} this input, kernel and stride can produce`);
    }
  });
  return [{ dtype: ctx.need(0).dtype, shape: [x[0]!, m, ...geo.out] }];
}

// ------------------------------------------------------------------ emission helpers

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Spatial sizes of `name`, which the strided and weight-gradient rules need statically. */
function staticSpatial(b: GraphBuilder, name: string, node: Node): number[] {
  const sp = b.shapeOf(name).slice(2);
  if (!sp.every((d): d is number => typeof d === 'number')) {
    throw new Error(`${node.op} "${node.name}": the gradient needs static spatial sizes, but "${name}" is ${dimsText(b.shapeOf(name))}; fix the input image size first`);
  }
  return sp;
}

interface ConvSpec {
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  group: number;
}

/**
 * A Conv with explicit pads. The stride-1 input gradient needs negative pads d*(k-1)-p when a
 * forward pad exceeds d*(k-1); a negative pad is a crop of the input, done with a Slice because
 * ONNX Conv only takes pads >= 0.
 */
function emitConv(b: GraphBuilder, input: string, weight: string, s: ConvSpec): string {
  const r = s.strides.length;
  const crops = range(0, r).filter((i) => s.padBegin[i]! < 0 || s.padEnd[i]! < 0);
  let x = input;
  if (crops.length) {
    // Slice ends count from the back, so the batch and spatial sizes may stay symbolic.
    x = b.op('Slice', [
      x,
      b.ints(crops.map((i) => Math.max(0, -s.padBegin[i]!))),
      b.ints(crops.map((i) => (s.padEnd[i]! < 0 ? s.padEnd[i]! : Number.MAX_SAFE_INTEGER))),
      b.ints(crops.map((i) => i + 2)),
    ]);
  }
  const pads = [...s.padBegin, ...s.padEnd].map((p) => Math.max(0, p));
  return b.op('Conv', [x, weight], {
    strides: s.strides,
    dilations: s.dilations,
    pads,
    group: s.group,
  });
}

/**
 * Conv weights [M, C/g, k...] rearranged for the stride-1 input gradient: in/out channels
 * swapped within each group and every spatial axis flipped, giving [C, M/g, k...]. Built from
 * ops even for a constant weight: ONNX Runtime folds them into one initializer when it creates
 * the session, so the encoded graph carries each weight once, not twice (on ResNet-18's input
 * gradient, 38 MB less to encode, parse and copy; docs/speed.md).
 */
function flippedWeight(b: GraphBuilder, w: string, group: number): string {
  const ws = b.staticShape(w);
  const [m, cg] = [ws[0]!, ws[1]!];
  const kernel = ws.slice(2);
  const mg = m / group;
  const c = cg * group;
  const r = kernel.length;
  let t: string;
  if (group === 1) t = b.op('Transpose', [w], { perm: [1, 0, ...range(2, r + 2)] });
  else {
    const split = b.op('Reshape', [w, b.ints([group, mg, cg, ...kernel])]);
    const swapped = b.op('Transpose', [split], { perm: [0, 2, 1, ...range(3, r + 3)] });
    t = b.op('Reshape', [swapped, b.ints([c, mg, ...kernel])]);
  }
  const spatial = range(2, r + 2);
  return b.op('Slice', [t, b.ints(spatial.map(() => -1)), b.ints(spatial.map(() => Number.MIN_SAFE_INTEGER)), b.ints(spatial), b.ints(spatial.map(() => -1))]);
}

/** Gradient of sum over (batch, space) of dy: the bias gradient of Conv and ConvTranspose. */
function biasGradient(b: GraphBuilder, dy: string): string {
  const r = b.shapeOf(dy).length;
  return b.op('ReduceSum', [dy, b.ints([0, ...range(2, r)])], { keepdims: 0 });
}

interface WindowSpec {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
}

/**
 * Weight gradient of a correlation: out[n, o, p] = sum_{c,t} w[o, c, t] * in_pad[n, g(o)*Cg + c, p*s + t*d].
 * Returns dW [Co, Ci/g, k...] = sum_{n,p} gout[n, o, p] * in_pad[n, ., p*s + t*d].
 * Conv uses it with (x, dy); ConvTranspose with (dy, x), whose weight layout [Ci, Co/g, k] is
 * the same contraction with the roles of its input and output swapped.
 *
 * Formulation: pad the input once; one strided Slice per kernel tap gives in_pad[n, c, p*s+t*d]
 * as [N, Ci, P]; the taps are concatenated into im2col columns [N, g, Ci/g*K, P] and contracted
 * with gout [N, g, Co/g, P] by one batched MatMul over (N, g), then summed over N. Groups and
 * depthwise convs need nothing special.
 *
 * Measured (ms, min of 20 interleaved runs, 1 intra-op thread, onnxruntime-node 1.30, the
 * 2-core box under load from other jobs; forward Conv for scale):
 *
 *   layer (batch 32 unless noted)       cols@goutT  gout@colsT  batch-merged  chan-last  conv-kernel=dy  fwd
 *   64->64 3x3 @32x32                       61          65           76          90         367*        35
 *   3->32 3x3 @128x128 (first layer)        46          47           61         102         261*        63
 *   64->128 3x3 s2 @32x32                   33          34           39          33         139*        17
 *   64->64 group 4 3x3 @32x32               44          49           61          81          -          19
 *   depthwise 64 3x3 @32x32                 50          39           54         103          46          11
 *   depthwise 32 3x3 @112x112, batch 8      74          59           85         157          70          14
 *   (* 2 threads, the others' load made them noisy; per-tap Mul+ReduceSum on depthwise: 39 and 62)
 *
 * "batch-merged" transposes x to [g, Ci/g, N, H, W] so N joins the contraction (one Gemm, no
 * ReduceSum); "chan-last" slices an [N, g, H, W, Ci/g] copy of x. Both lose to the plain NCHW
 * columns. Which operand gets transposed only matters for depthwise: with one output channel
 * per group, [1, P] x [P, K] beats [K, P] x [P, 1], so that case transposes the columns.
 */
function weightGradient(b: GraphBuilder, input: string, gout: string, group: number, win: WindowSpec, node: Node): string {
  const inSp = staticSpatial(b, input, node);
  const outSp = staticSpatial(b, gout, node);
  const ci = b.shapeOf(input)[1]!;
  const co = b.shapeOf(gout)[1]!;
  if (typeof ci !== 'number' || typeof co !== 'number') throw new Error(`${node.op} "${node.name}": the gradient needs static channel counts`);
  const r = inSp.length;
  const { kernel, strides, dilations, padBegin } = win;
  const cig = ci / group;
  const cog = co / group;
  const kn = kernel.reduce((p, q) => p * q, 1);
  const pn = outSp.reduce((p, q) => p * q, 1);

  // Pad only what the taps read: padBegin, then up to the end of the last window (less than
  // padEnd when the stride skips the input's tail). A ConvTranspose output_shape beyond the
  // natural size gives negative pads; a negative begin pad shifts every tap instead.
  const lead = padBegin.map((p) => Math.max(0, p));
  const shift = padBegin.map((p) => Math.max(0, -p));
  const trail = range(0, r).map((i) => Math.max(0, (outSp[i]! - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - padBegin[i]! - inSp[i]!));
  let padded = input;
  if (lead.some((p) => p) || trail.some((p) => p)) padded = b.op('Pad', [input, b.ints([0, 0, ...lead, 0, 0, ...trail])]);

  const axes = b.ints(range(2, r + 2));
  const steps = b.ints(strides);
  const taps: string[] = [];
  const t = new Array<number>(r).fill(0);
  for (let k = 0; k < kn; k++) {
    const starts = range(0, r).map((i) => t[i]! * dilations[i]! + shift[i]!);
    const ends = range(0, r).map((i) => starts[i]! + (outSp[i]! - 1) * strides[i]! + 1);
    const tap = b.op('Slice', [padded, b.ints(starts), b.ints(ends), axes, steps]);
    taps.push(b.op('Reshape', [tap, b.ints([0, group, cig, 1, pn])]));
    for (let i = r - 1; i >= 0; i--) {
      if (++t[i]! < kernel[i]!) break;
      t[i] = 0;
    }
  }
  const cols = kn === 1 ? taps[0]! : b.op('Concat', taps, { axis: 3 });
  const cols2 = b.op('Reshape', [cols, b.ints([0, group, cig * kn, pn])]);
  const goutG = b.op('Reshape', [gout, b.ints([0, group, cog, pn])]);
  if (cog === 1) {
    const perSample = b.op('MatMul', [goutG, b.op('Transpose', [cols2], { perm: [0, 1, 3, 2] })]); // [N, g, 1, Ci/g*K]
    const summed = b.op('ReduceSum', [perSample, b.ints([0])], { keepdims: 0 });
    return b.op('Reshape', [summed, b.ints([co, cig, ...kernel])]);
  }
  const perSample = b.op('MatMul', [cols2, b.op('Transpose', [goutG], { perm: [0, 1, 3, 2] })]); // [N, g, Ci/g*K, Co/g]
  const summed = b.op('ReduceSum', [perSample, b.ints([0])], { keepdims: 0 });
  const dw = b.op('Transpose', [summed], { perm: [0, 2, 1] });
  return b.op('Reshape', [dw, b.ints([co, cig, ...kernel])]);
}

// ------------------------------------------------------------------ rules

function convGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  if (!dy) return grads;
  const b = g.b;
  const node = g.node;
  const x = g.x(0);
  const w = g.x(1);
  const ws = b.staticShape(w);
  const kernel = ws.slice(2);
  const r = kernel.length;
  const group = attrInt(node, 'group', 1);
  const geo = windowGeometry(node, b.shapeOf(x).slice(2), kernel);

  if (g.wants(0)) {
    if (geo.strides.every((s) => s === 1)) {
      const reach = range(0, r).map((i) => geo.dilations[i]! * (kernel[i]! - 1));
      grads[0] = emitConv(b, dy, flippedWeight(b, w, group), {
        strides: geo.strides,
        dilations: geo.dilations,
        padBegin: range(0, r).map((i) => reach[i]! - geo.padBegin[i]!),
        padEnd: range(0, r).map((i) => reach[i]! - geo.padEnd[i]!),
        group,
      });
    } else {
      const inSp = staticSpatial(b, x, node);
      const outSp = staticSpatial(b, dy, node);
      // The forward conv drops the input's last (n + pads - extent) mod s elements; output_padding
      // puts them back so dx has exactly the input's size.
      const outputPadding = range(0, r).map((i) => {
        const ext = (kernel[i]! - 1) * geo.dilations[i]! + 1;
        return inSp[i]! - ((outSp[i]! - 1) * geo.strides[i]! + ext - geo.padBegin[i]! - geo.padEnd[i]!);
      });
      grads[0] = b.op('ConvTranspose', [dy, w], {
        strides: geo.strides,
        dilations: geo.dilations,
        pads: [...geo.padBegin, ...geo.padEnd],
        output_padding: outputPadding,
        group,
      });
    }
  }
  if (g.wants(1)) grads[1] = weightGradient(b, x, dy, group, geo, node);
  if (node.inputs[2] && g.wants(2)) grads[2] = biasGradient(b, dy);
  return grads;
}

function convTransposeGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  if (!dy) return grads;
  const b = g.b;
  const node = g.node;
  const x = g.x(0);
  const w = g.x(1);
  const kernel = b.staticShape(w).slice(2);
  const group = attrInt(node, 'group', 1);
  const geo = transposeGeometry(node, b.shapeOf(x).slice(2), kernel);

  if (g.wants(0)) {
    // ConvTranspose is the adjoint of the Conv with the same weight, strides, dilations and pads.
    // Its output has exactly x's size because output_padding < stride (ONNX Runtime rejects more).
    grads[0] = emitConv(b, dy, w, { strides: geo.strides, dilations: geo.dilations, padBegin: geo.padBegin, padEnd: geo.padEnd, group });
  }
  if (g.wants(1)) grads[1] = weightGradient(b, dy, x, group, geo, node);
  if (node.inputs[2] && g.wants(2)) grads[2] = biasGradient(b, dy);
  return grads;
}

defineOp({ type: 'Conv', infer: convInfer, grad: convGrad });
defineOp({ type: 'ConvTranspose', infer: convTransposeInfer, grad: convTransposeGrad });
