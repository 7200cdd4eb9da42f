import { ConvLensError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import type { InferContext, OutputFacts } from '../graph/facts.js';
import { attrFloat, attrInt, type Dim, type Graph, type Node } from '../graph/ir.js';
import { shapeValue, unbroadcast } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// BatchNormalization (inference and training mode) and InstanceNormalization over
// [N, C, spatial...] tensors, channel axis 1; LayerNormalization over the trailing axes from
// `axis` on (ConvNeXt and other channels-last blocks, exported from PyTorch at opset 17).
//
// Training-mode BatchNormalization: onnxruntime-node 1.30's CPU provider runs it (outputs Y,
// running_mean, running_var; batch statistics with the population variance, as ONNX specifies;
// it matches the float64 reference kernel to float32 rounding, symbolic batch included). Like
// ONNX's shape inference it rejects a training-mode node with fewer than three outputs, and it
// segfaults at run time when the two statistics outputs are present but unnamed. There is no
// backward kernel in the inference build, so the backward pass is emitted here.
//
// Three designs were timed on x = [32, 64, 56, 56], symbolic batch, one graph computing Y, the
// running statistics and the gradients for x, scale and bias (onnxruntime-node 1.30, 1 intra-op
// thread, min of 6-8 rounds x 10 runs; two separate runs on a 2-core machine shared with other
// jobs at load ~4, hence the spread):
//   A  fused ORT forward + the dedicated rule below (statistics recomputed)   78 / 87 ms
//   B  lowerTrainingBatchNorm forward + the primitive ops' rules               95 / 111 ms
//   C  primitive forward whose mean/inv_std the rule's algebra reuses          84 / 91 ms
// (forward alone: 20-21 ms fused, 37-38 ms lowered). B is 1.2-1.3x slower than A: the primitive
// rules emit 54 nodes to A's 33 (15 Muls, an Expand, two Sums). C saves the recomputation but
// pays for a forward of primitives and gains nothing measurable; it would also need the driver
// to hand a rule the lowered forward's values. So the node stays fused and carries its own rule;
// lowerTrainingBatchNorm is kept for backends without a training-mode kernel and as an
// independent check of the rule (the tests compare the two).

const rankError = (ctx: InferContext, what: string, min: number, rank: number): Error =>
  ctx.malformed(`${what} must have rank >= ${min} ([N, C, ...]), got rank ${rank}`);

/** Checks that inputs `indices` are per-channel vectors [C]. */
function checkChannelInputs(ctx: InferContext, indices: readonly number[], C: Dim): void {
  for (const i of indices) {
    const f = ctx.need(i);
    if (f.shape.length !== 1) throw ctx.malformed(`input ${i} must be a vector [C], got shape [${f.shape.join(', ')}]`);
    const d = f.shape[0]!;
    if (typeof d === 'number' && typeof C === 'number' && d !== C) throw ctx.malformed(`input ${i} has ${d} entries for ${C} channels`);
  }
}

/** Axes 0 and 2.. : everything but the channel axis. */
const allButChannel = (rank: number): number[] => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
/** Axes 2.. : the spatial axes. */
const spatialAxes = (rank: number): number[] => Array.from({ length: rank - 2 }, (_, i) => i + 2);

/** A per-channel vector [C] reshaped to [1, C, 1, ...] so it broadcasts against x. */
function channelView(b: GraphBuilder, v: string, rank: number): string {
  return b.op('Unsqueeze', [v, b.ints(allButChannel(rank))]);
}

/** Number of elements of `x` along `axes`, as a float32 scalar: a constant, or computed at run time for symbolic dims. */
function countAlong(b: GraphBuilder, x: string, axes: readonly number[]): string {
  const shape = b.shapeOf(x);
  const dims = axes.map((a) => shape[a]!);
  if (dims.every((d): d is number => typeof d === 'number')) return b.scalar(dims.reduce((p, q) => p * q, 1));
  const picked = b.op('Gather', [b.op('Shape', [x]), b.ints(axes)], { axis: 0 });
  return b.op('Cast', [b.op('ReduceProd', [picked], { keepdims: 0 })], { to: 1 });
}

const reduceMean = (b: GraphBuilder, t: string, axes: readonly number[]): string => b.op('ReduceMean', [t], { axes: [...axes], keepdims: 1 });
const reduceSum = (b: GraphBuilder, t: string, axes: readonly number[], keepdims = 1): string => b.op('ReduceSum', [t, b.ints(axes)], { keepdims });

/** 1 / sqrt(var + eps) */
function invStd(b: GraphBuilder, variance: string, eps: number): string {
  return b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.scalar(eps)])])]);
}

export interface BatchStats {
  mean: string;
  /** x - mean */
  centered: string;
  /** population variance */
  variance: string;
  /** 1 / sqrt(variance + eps) */
  inv: string;
  /** number of elements each statistic is taken over (float32 scalar) */
  count: string;
}

/**
 * Mean and population variance of x over `axes`, keepdims. Two passes (the variance of the
 * centered values), so a large mean does not cancel digits as E[x^2] - E[x]^2 would; the second
 * pass is one ReduceSumSquare, without a full-size Mul.
 */
export function batchStats(b: GraphBuilder, x: string, axes: readonly number[], eps: number): BatchStats {
  const mean = reduceMean(b, x, axes);
  const centered = b.op('Sub', [x, mean]);
  const count = countAlong(b, x, axes);
  const variance = b.op('Div', [b.op('ReduceSumSquare', [centered], { axes: [...axes], keepdims: 1 }), count]);
  return { mean, centered, variance, inv: invStd(b, variance, eps), count };
}

/**
 * Backward of y = scale * xhat + bias, xhat = (x - mean) * inv, with the statistics taken over
 * `axes` of x itself (training-mode BatchNorm: axes 0,2..; InstanceNorm: axes 2..). With
 * k = scale * inv, n the count over `axes`, S1 = sum(dy) and Sc = sum(dy * (x - mean)):
 *   dx = k * (dy - S1/n - xhat * sum(dy * xhat)/n) = dy * k + (x - mean) * A + B,
 *   A = -k * inv^2 * Sc / n,  B = -k * S1 / n,
 * so xhat is never formed: after the two reductions only two Muls and two Adds touch full-size
 * tensors; A and B are per (n, c) or per c.
 * `extra` adds per-channel terms to A and B (BatchNorm's running-statistics outputs).
 * dscale = sum(dy * xhat) = inv * Sc, dbias = S1, summed over the remaining non-channel axes.
 */
function normalizedBackward(
  g: GradContext,
  stats: BatchStats,
  axes: readonly number[],
  dy: string | undefined,
  extra: { a?: string; b?: string } = {},
): (string | undefined)[] {
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const wantX = g.wants(0);
  const wantScale = g.wants(1);
  const wantBias = g.wants(2);
  const grads: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  if (dy) {
    const s1 = wantX || wantBias ? reduceSum(b, dy, axes) : undefined;
    const sc = wantX || wantScale ? reduceSum(b, b.op('Mul', [dy, stats.centered]), axes) : undefined;
    const perChannel = allButChannel(rank);
    // For BatchNorm the sums are already [1, C, 1..]; for InstanceNorm [N, C, 1..], still to sum over N.
    if (wantScale) grads[1] = reduceSum(b, b.op('Mul', [sc!, stats.inv]), perChannel, 0);
    if (wantBias) grads[2] = reduceSum(b, s1!, perChannel, 0);
    if (wantX) {
      const k = b.op('Mul', [channelView(b, g.x(1), rank), stats.inv]);
      const negKOverN = b.op('Neg', [b.op('Div', [k, stats.count])]);
      let coefA = b.op('Mul', [b.op('Mul', [negKOverN, b.op('Mul', [stats.inv, stats.inv])]), sc!]);
      let coefB = b.op('Mul', [negKOverN, s1!]);
      if (extra.a) coefA = b.op('Add', [coefA, extra.a]);
      if (extra.b) coefB = b.op('Add', [coefB, extra.b]);
      grads[0] = b.op('Add', [b.op('Add', [b.op('Mul', [dy, k]), b.op('Mul', [stats.centered, coefA])]), coefB]);
    }
  } else if (wantX && (extra.a || extra.b)) {
    let dx = extra.a ? b.op('Mul', [stats.centered, extra.a]) : undefined;
    if (extra.b) dx = dx ? b.op('Add', [dx, extra.b]) : b.op('Expand', [extra.b, shapeValue(b, x)]);
    grads[0] = dx;
  }
  return grads;
}

// ---------------------------------------------------------------- BatchNormalization

function isTraining(node: Node): boolean {
  return attrInt(node, 'training_mode', 0) === 1;
}

defineOp({
  type: 'BatchNormalization',
  infer: (ctx) => {
    const x = ctx.need(0);
    if (x.shape.length < 2) throw rankError(ctx, 'X', 2, x.shape.length);
    const C = x.shape[1]!;
    checkChannelInputs(ctx, [1, 2, 3, 4], C);
    const outputs = ctx.node.outputs.filter((o) => o).length;
    const training = isTraining(ctx.node);
    // ONNX (and ONNX Runtime) accept exactly these output counts for opset 15+. Omitted (empty)
    // running-statistics outputs pass ORT's session creation, but running such a node crashed
    // onnxruntime-node 1.30 with a segfault, so they are refused here with a message instead.
    if (training && (ctx.node.outputs.length !== 3 || ctx.node.outputs.some((o) => !o))) {
      throw ctx.malformed(
        `training_mode=1 needs the three outputs Y, running_mean, running_var, all named; the node has ${ctx.node.outputs.filter((o) => o).length} named`,
        'Name all three outputs (they need not be graph outputs), or rewrite the node with lowerTrainingBatchNorm.',
      );
    }
    if (!training && outputs > 1) {
      throw ctx.malformed(`has ${outputs} outputs in inference mode (training_mode=0), which ONNX allows only Y for`, 'Drop the extra outputs, or set training_mode=1.');
    }
    const stat: OutputFacts = { dtype: ctx.need(3).dtype, shape: [C] };
    return [{ dtype: x.dtype, shape: [...x.shape] }, stat, { ...stat, shape: [C] }];
  },
  grad: (g) => (isTraining(g.node) ? trainingBatchNormGrad(g) : inferenceBatchNormGrad(g)),
  // Running statistics are buffers, not parameters: no gradient, as in PyTorch.
  noGradInputs: [3, 4],
});

/**
 * Inference mode is an affine map per channel, y = x * k + (bias - mean * k), k = scale / sqrt(var + eps):
 * dx is one per-channel Mul, dbias = sum(dy), dscale = sum(dy * (x - mean)) / sqrt(var + eps).
 */
function inferenceBatchNormGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  const grads: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  if (!dy) return grads;
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const axes = allButChannel(rank);
  const eps = attrFloat(g.node, 'epsilon', 1e-5);
  const inv = g.wants(0) || g.wants(1) ? invStd(b, g.x(4), eps) : undefined;
  if (g.wants(0)) grads[0] = b.op('Mul', [dy, channelView(b, b.op('Mul', [g.x(1), inv!]), rank)]);
  if (g.wants(1)) {
    // inv_std applied after the reduction, on [C], saves a full-size Mul.
    const centered = b.op('Sub', [x, channelView(b, g.x(3), rank)]);
    grads[1] = b.op('Mul', [reduceSum(b, b.op('Mul', [dy, centered]), axes, 0), inv!]);
  }
  if (g.wants(2)) grads[2] = reduceSum(b, dy, axes, 0);
  return grads;
}

/**
 * Training mode: y normalizes by the batch statistics, so x reaches y through them too (the
 * normalizedBackward algebra). The statistics are recomputed in the backward pass because the
 * fused forward kernel does not output them (ONNX dropped saved_mean/saved_var in opset 14).
 * The running-statistics outputs are differentiable functions of x as well:
 *   running_mean = m * mean_in + (1 - m) * mean(x)      -> dx += (1 - m)/n * d_rm
 *   running_var  = m * var_in  + (1 - m) * var(x)       -> dx += 2 (1 - m)/n * (x - mean) * d_rv
 * which fold into the per-channel coefficients B and A; they matter only if a seed depends on
 * those outputs.
 */
function trainingBatchNormGrad(g: GradContext): (string | undefined)[] {
  const b = g.b;
  const x = g.x(0);
  const rank = b.shapeOf(x).length;
  const axes = allButChannel(rank);
  const dy = g.dy(0);
  const dMean = g.dy(1);
  const dVar = g.dy(2);
  const none: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  if (!dy && !(g.wants(0) && (dMean || dVar))) return none;
  const eps = attrFloat(g.node, 'epsilon', 1e-5);
  const momentum = attrFloat(g.node, 'momentum', 0.9);
  const stats = batchStats(b, x, axes, eps);
  const extra: { a?: string; b?: string } = {};
  if (g.wants(0) && (dMean || dVar)) {
    if (dMean) extra.b = b.op('Div', [b.op('Mul', [channelView(b, dMean, rank), b.scalar(1 - momentum)]), stats.count]);
    if (dVar) extra.a = b.op('Div', [b.op('Mul', [channelView(b, dVar, rank), b.scalar(2 * (1 - momentum))]), stats.count]);
  }
  return normalizedBackward(g, stats, axes, dy, extra);
}

/**
 * Rewrites every training-mode BatchNormalization node of `graph` into primitive ops
 * (ReduceMean, Sub, Mul, Sqrt, Reciprocal, Add, Unsqueeze/Squeeze), keeping its output names:
 *   Y = (x - mean) / sqrt(var + eps) * scale + bias, mean/var over N and spatial (population var),
 *   running_mean = momentum * input_mean + (1 - momentum) * mean, likewise running_var,
 * so backends without a training-mode kernel can run it and the backward pass follows from the
 * primitive rules. Returns a new graph; nodes other than those are copied unchanged.
 */
export function lowerTrainingBatchNorm(graph: Graph): Graph {
  if (!graph.nodes.some((n) => n.op === 'BatchNormalization' && !n.domain && isTraining(n))) return graph.clone();
  const out = graph.clone();
  const nodes = out.nodes;
  out.nodes = [];
  const b = GraphBuilder.over(out, { strict: false });
  b.fold = false;
  // Fresh names must not collide with values defined further down the original graph.
  for (const n of nodes) {
    if (n.name) b.uniqueName(n.name);
    for (const o of n.outputs) if (o) b.uniqueName(o);
  }
  for (const node of nodes) {
    if (node.op !== 'BatchNormalization' || node.domain || !isTraining(node)) {
      b.addNode({ ...node, inputs: [...node.inputs], outputs: [...node.outputs], attrs: { ...node.attrs } });
      continue;
    }
    const [x, scale, bias, inMean, inVar] = node.inputs as [string, string, string, string, string];
    const shape = b.factsOf(x).shape;
    if (!shape) {
      throw new ConvLensError('SHAPE_MISMATCH', `BatchNormalization node "${node.name}": the rank of "${x}" is unknown, so it cannot be lowered.`, 'Give the model input a full shape.');
    }
    const rank = shape.length;
    const axes = allButChannel(rank);
    const eps = attrFloat(node, 'epsilon', 1e-5);
    const momentum = attrFloat(node, 'momentum', 0.9);
    const stats = batchStats(b, x, axes, eps);
    const k = b.op('Mul', [stats.inv, channelView(b, scale, rank)]);
    const [yName, rmName, rvName] = node.outputs;
    b.op('Add', [b.op('Mul', [stats.centered, k]), channelView(b, bias, rank)], {}, { name: node.name, outputs: [yName!] });
    const running = (old: string, batch: string, name: string | undefined): void => {
      if (!name) return;
      const flat = b.op('Squeeze', [batch, b.ints(axes)]);
      b.op('Add', [b.op('Mul', [old, b.scalar(momentum)]), b.op('Mul', [flat, b.scalar(1 - momentum)])], {}, { outputs: [name] });
    };
    running(inMean, stats.mean, rmName);
    running(inVar, stats.variance, rvName);
  }
  return out;
}

// ---------------------------------------------------------------- InstanceNormalization

defineOp({
  type: 'InstanceNormalization',
  infer: (ctx) => {
    const x = ctx.need(0);
    if (x.shape.length < 3) throw rankError(ctx, 'input', 3, x.shape.length);
    checkChannelInputs(ctx, [1, 2], x.shape[1]!);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  // Statistics per (n, c) over the spatial axes, recomputed here (ONNX has no output for them).
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined, undefined, undefined];
    const b = g.b;
    const axes = spatialAxes(b.shapeOf(g.x(0)).length);
    const stats = batchStats(b, g.x(0), axes, attrFloat(g.node, 'epsilon', 1e-5));
    return normalizedBackward(g, stats, axes, dy).slice(0, 3);
  },
});

// ---------------------------------------------------------------- LayerNormalization

/** The normalized axes [axis, rank) of a LayerNormalization node, with a negative axis resolved. */
export function layerNormAxes(node: Node, rank: number, fail: (message: string) => Error = (m) => new ConvLensError('SHAPE_MISMATCH', `LayerNormalization node "${node.name}": ${m}`, 'Fix the node in the model\'s exporter and re-export: the axis must lie inside the input\'s axes and scale and bias must match the normalized axes.')): number[] {
  const given = attrInt(node, 'axis', -1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis >= rank) throw fail(`axis ${given} is outside the input's ${rank} axes`);
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}

defineOp({
  type: 'LayerNormalization',
  infer: (ctx) => {
    const x = ctx.need(0);
    const axes = layerNormAxes(ctx.node, x.shape.length, (m) => ctx.malformed(m));
    const normalized = x.shape.slice(axes[0]);
    for (const i of [1, 2]) {
      const p = ctx.input(i);
      if (!p?.shape) continue;
      // Scale and B broadcast to the normalized shape, aligned on the right.
      if (p.shape.length > normalized.length) throw ctx.malformed(`input ${i} has rank ${p.shape.length}, more than the ${normalized.length} normalized axes [${normalized.join(', ')}]`);
      p.shape.forEach((d, k) => {
        const n = normalized[normalized.length - p.shape!.length + k]!;
        if (typeof d === 'number' && typeof n === 'number' && d !== 1 && d !== n) throw ctx.malformed(`input ${i} of shape [${p.shape!.join(', ')}] does not broadcast to the normalized shape [${normalized.join(', ')}]`);
      });
    }
    // Mean and InvStdDev keep the leading axes and have size 1 along the normalized ones.
    const stats: OutputFacts = { dtype: x.dtype === 'float64' ? 'float64' : 'float32', shape: [...x.shape.slice(0, axes[0]), ...axes.map(() => 1)] };
    return [{ dtype: x.dtype, shape: [...x.shape] }, stats, { ...stats, shape: [...stats.shape!] }];
  },
  // xhat = (x - mean) * inv over the normalized axes; y = xhat * scale + bias. With gs = dy * scale
  // and n the count along the axes: dx = inv * (gs - mean(gs) - xhat * mean(gs * xhat)), written as
  // gs * inv + (x - mean) * A + B with A = -inv^3 * sum(gs * (x - mean)) / n, B = -inv * sum(gs) / n.
  // The Mean and InvStdDev outputs add dmean / n and dinv * -inv^3 * (x - mean) / n.
  grad: (g) => {
    const b = g.b;
    const x = g.x(0);
    const rank = b.shapeOf(x).length;
    const axes = layerNormAxes(g.node, rank);
    const dy = g.dy(0);
    const dMean = g.dy(1);
    const dInv = g.dy(2);
    const grads: (string | undefined)[] = [undefined, undefined, undefined];
    if (!dy && !dMean && !dInv) return grads;
    const stats = batchStats(b, x, axes, attrFloat(g.node, 'epsilon', 1e-5));
    if (dy && g.wants(1)) grads[1] = unbroadcast(b, b.op('Mul', [dy, b.op('Mul', [stats.centered, stats.inv])]), g.x(1));
    if (dy && g.wants(2) && g.node.inputs[2]) grads[2] = unbroadcast(b, dy, g.x(2));
    if (!g.wants(0)) return grads;
    const invCubedOverN = b.op('Div', [b.op('Mul', [stats.inv, b.op('Mul', [stats.inv, stats.inv])]), stats.count]);
    const terms: string[] = [];
    let coefA: string | undefined;
    if (dy) {
      const gs = b.op('Mul', [dy, g.x(1)]);
      coefA = b.op('Neg', [b.op('Mul', [invCubedOverN, reduceSum(b, b.op('Mul', [gs, stats.centered]), axes)])]);
      terms.push(b.op('Mul', [gs, stats.inv]), b.op('Neg', [b.op('Div', [b.op('Mul', [stats.inv, reduceSum(b, gs, axes)]), stats.count])]));
    }
    if (dInv) {
      const fromInv = b.op('Neg', [b.op('Mul', [dInv, invCubedOverN])]);
      coefA = coefA ? b.op('Add', [coefA, fromInv]) : fromInv;
    }
    if (coefA) terms.push(b.op('Mul', [stats.centered, coefA]));
    if (dMean) terms.push(b.op('Div', [dMean, stats.count]));
    // The per-row terms broadcast; Expand keeps dx at x's shape when no full-size term is present.
    let dx = terms.reduce((acc, t) => b.op('Add', [acc, t]));
    if (!dy && !dInv) dx = b.op('Expand', [dx, shapeValue(b, x)]);
    grads[0] = dx;
    return grads;
  },
});

// ---------------------------------------------------------------- LRN
//
// Local response normalization across channels (AlexNet, CaffeNet, GoogLeNet as the ONNX Model
// Zoo converts them from Caffe): y = x * v^-beta with v = bias + alpha / size * (sum of x^2 over
// the channel window [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)], clipped at the ends).
// The window sum is an AveragePool over the channel axis (x unsqueezed to [N, 1, C, ...], window
// [size, 1, ...], count_include_pad=1), so alpha / size * sum = alpha * that average, for any
// batch and spatial size. Its transpose (what the backward pass needs) is the same pool with the
// padding swapped, which matters only for even sizes.

/** The widest LRN window (in channels) a model may ask for. */
export const MAX_LRN_SIZE = 1023;

export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

export function lrnParams(node: Node): LrnParams {
  return { size: attrInt(node, 'size', 1), alpha: attrFloat(node, 'alpha', 1e-4), beta: attrFloat(node, 'beta', 0.75), bias: attrFloat(node, 'bias', 1) };
}

/**
 * alpha * (mean over the channel window of t), window as LRN's (or its transpose), for t shaped
 * [N, C, spatial...]: alpha / size times the windowed sum of t.
 */
export function lrnWindowMean(b: GraphBuilder, t: string, p: LrnParams, transposed: boolean): string {
  const rank = b.shapeOf(t).length;
  const before = Math.floor((p.size - 1) / 2);
  const after = Math.ceil((p.size - 1) / 2);
  const rest = new Array<number>(rank - 2).fill(0);
  const [lo, hi] = transposed ? [after, before] : [before, after];
  const stacked = b.op('Unsqueeze', [t, b.ints([1])]);
  const pooled = b.op('AveragePool', [stacked], { kernel_shape: [p.size, ...rest.map(() => 1)], pads: [lo, ...rest, hi, ...rest], count_include_pad: 1 });
  return b.op('Mul', [b.op('Squeeze', [pooled, b.ints([1])]), b.scalar(p.alpha)]);
}

/** v = bias + alpha / size * (windowed sum of x^2): the base LRN raises to -beta. */
export function lrnDenominatorBase(b: GraphBuilder, x: string, p: LrnParams): string {
  return b.op('Add', [lrnWindowMean(b, b.op('Mul', [x, x]), p, false), b.scalar(p.bias)]);
}

defineOp({
  type: 'LRN',
  infer: (ctx) => {
    const x = ctx.need(0);
    const size = attrInt(ctx.node, 'size', 0);
    if (size < 1) throw ctx.malformed(`size must be a positive integer (the channel window), got ${size}`);
    // ONNX Runtime's CPU kernel (1.30) runs only these; refused here, when the model loads, rather
    // than as a kernel failure in the middle of a command.
    if (x.shape.length !== 4) throw ctx.malformed(`ONNX Runtime runs LRN only on [N, C, H, W] inputs, got rank ${x.shape.length}`);
    if (size % 2 === 0) throw ctx.malformed(`ONNX Runtime runs LRN only with an odd window size, got ${size}`);
    // ONNX Runtime's kernel takes a scratch buffer of (C + size - 1) x H x W floats per image,
    // which no memory plan counts: a size of 2^31 + 1 failed every run on an allocation of
    // terabytes, a size of 10^5 held 400 MB in a 32x32 worker run.
    if (size > MAX_LRN_SIZE) throw ctx.malformed(`size ${size} is a window of more channels than ConvLens runs (up to ${MAX_LRN_SIZE}; the Model Zoo's AlexNet and GoogLeNet use 5)`, 'The model is malformed; re-export it.');
    // ONNX Runtime refuses these when it compiles the model, with a message from its sources.
    const { alpha, beta, bias } = lrnParams(ctx.node);
    if (!(alpha > 0 && Number.isFinite(alpha))) throw ctx.malformed(`alpha must be a positive number, got ${alpha}`, 'The model is malformed; re-export it.');
    if (!(beta > 0 && Number.isFinite(beta))) throw ctx.malformed(`beta must be a positive number, got ${beta}`, 'The model is malformed; re-export it.');
    if (!Number.isFinite(bias)) throw ctx.malformed(`bias must be a finite number, got ${bias}`, 'The model is malformed; re-export it.');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  // dx = dy * v^-beta - 2 beta alpha / size * x * windowSum^T(dy * y / v): the direct term, and
  // the path through every output whose window holds x (y / v = x * v^(-beta-1)).
  // Guided backprop and deconvnet change only ReLUs, so LRN keeps this rule under them (as
  // Captum's GuidedBackprop and Deconvolution do for every non-ReLU module).
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined];
    const b = g.b;
    const p = lrnParams(g.node);
    const x = g.x(0);
    const v = lrnDenominatorBase(b, x, p);
    const direct = b.op('Mul', [dy, b.op('Pow', [v, b.scalar(-p.beta)])]);
    const throughWindow = lrnWindowMean(b, b.op('Div', [b.op('Mul', [dy, g.y(0)]), v]), p, true);
    return [b.op('Sub', [direct, b.op('Mul', [b.op('Mul', [x, throughWindow]), b.scalar(2 * p.beta)])])];
  },
});
