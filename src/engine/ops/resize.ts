import { ConvLensError } from '../errors.js';
import { dimsOfInput, freshSymbol, normAxis, type InferContext, type OutputFacts } from '../graph/facts.js';
import type { GraphBuilder } from '../graph/builder.js';
import { attrInt, attrInts, attrString, type Dim, type Node } from '../graph/ir.js';
import { toNumbers, type Tensor } from '../tensor.js';
import { reshapeLike } from './emit.js';
import { defineOp, type GradContext } from './registry.js';
import { lookup } from '../../util/lookup.js';

// Resize (opset 11+ inputs X, roi, scales, sizes). Nearest and linear resampling are separable:
// along each resized axis the output is A·x for a static [out, in] matrix A, so the input
// gradient is A^T·dy along each axis. The matrices are built here from ONNX Runtime's own
// float32 coordinate arithmetic, so ties and edge clamping pick the same input pixels as its
// forward kernel (test/engine/ops-resize.test.ts checks A against ORT's forward output).

// ------------------------------------------------------------------ shape rule

function resizeInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  const rank = x.shape.length;
  const axes = (attrInts(ctx.node, 'axes') ?? x.shape.map((_, i) => i)).map((a) => normAxis(ctx.node, a, rank));
  const unknown = (): OutputFacts[] => [{ dtype: x.dtype, shape: x.shape.map((d, i) => (axes.includes(i) ? freshSymbol('resize') : d)) }];
  const shape: Dim[] = [...x.shape];
  if (given(ctx.input(3))) {
    const sizes = dimsOfInput(ctx, 3);
    if (!sizes) return unknown();
    if (sizes.length !== axes.length) throw ctx.malformed(`sizes has ${sizes.length} entries for ${axes.length} axes`);
    axes.forEach((a, k) => (shape[a] = sizes[k]!));
    return [{ dtype: x.dtype, shape }];
  }
  if (!given(ctx.input(2))) throw ctx.malformed('one of scales and sizes must be given');
  const scalesT = ctx.value(2);
  if (!scalesT) return unknown();
  const scales = toNumbers(scalesT);
  if (scales.length !== axes.length) throw ctx.malformed(`scales has ${scales.length} entries for ${axes.length} axes`);
  axes.forEach((a, k) => {
    const n = x.shape[a]!;
    const s = Math.fround(scales[k]!);
    if (s === 1) return;
    // ONNX Runtime: (int64)(float(scale) * float(n)), a float32 product.
    shape[a] = typeof n === 'number' ? Math.floor(Math.fround(s * n)) : freshSymbol('resize');
  });
  return [{ dtype: x.dtype, shape }];
}

/** An optional input that is present and not an empty tensor (exporters pass [] for "absent"). */
function given(f: { shape?: Dim[] } | undefined): boolean {
  return !!f && !(f.shape && f.shape.length === 1 && f.shape[0] === 0);
}

// ------------------------------------------------------------------ resampling matrices

const f32 = Math.fround;

type CoordFn = (o: number, scale: number, outLen: number, inLen: number) => number;

/** ONNX Runtime's GetOriginalCoordinateFromResizedCoordinate, one float32 rounding per operation. */
const COORDINATES: Record<string, CoordFn> = {
  half_pixel: (o, s) => f32(f32(f32(o + 0.5) / s) - 0.5),
  pytorch_half_pixel: (o, s, outLen) => (outLen > 1 ? f32(f32(f32(o + 0.5) / s) - 0.5) : 0),
  asymmetric: (o, s) => f32(o / s),
  tf_half_pixel_for_nn: (o, s) => f32(f32(o + 0.5) / s),
  align_corners: (o, _s, outLen, inLen) => (outLen === 1 ? 0 : f32(f32(o * (inLen - 1)) / (outLen - 1))),
};

/**
 * ONNX Runtime's GetNearestPixelFromOriginal. Negative coordinates are clamped to 0 afterwards,
 * so std::round's half-away-from-zero and Math.round's half-up only differ where it cannot matter.
 */
const NEAREST: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x === Math.trunc(x) + 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.round(x),
  floor: Math.floor,
  ceil: Math.ceil,
};

export interface ResampleSpec {
  mode: 'nearest' | 'linear';
  coordinate: string;
  nearestMode: string;
}

/** One resized axis: y = A·x along `axis`, A row-major [outLen, inLen]. */
export interface AxisMatrix {
  axis: number;
  outLen: number;
  inLen: number;
  data: Float64Array;
  /** nearest only: the input index each output reads */
  source?: Int32Array;
}

/** The [outLen, inLen] resampling matrix ONNX Runtime's Resize applies along one axis. */
export function resampleMatrix(spec: ResampleSpec, inLen: number, outLen: number, scale: number, axis = 0): AxisMatrix {
  const coord = lookup(COORDINATES, spec.coordinate);
  if (!coord) throw new Error(`coordinate_transformation_mode "${spec.coordinate}" is not supported`);
  const s = f32(scale);
  const data = new Float64Array(outLen * inLen);
  if (spec.mode === 'nearest') {
    const nearest = lookup(NEAREST, spec.nearestMode);
    if (!nearest) throw new Error(`nearest_mode "${spec.nearestMode}" is not supported`);
    const source = new Int32Array(outLen);
    for (let o = 0; o < outLen; o++) {
      const i = Math.min(Math.max(nearest(coord(o, s, outLen, inLen)), 0), inLen - 1);
      source[o] = i;
      data[o * inLen + i] = 1;
    }
    return { axis, outLen, inLen, data, source };
  }
  for (let o = 0; o < outLen; o++) {
    // SetupUpsampleBilinear: clamp into [0, inLen-1], neighbours i1 <= i2, weights |c - other|.
    const c = Math.max(0, Math.min(coord(o, s, outLen, inLen), inLen - 1));
    const i1 = Math.min(Math.trunc(c), inLen - 1);
    const i2 = Math.min(i1 + 1, inLen - 1);
    if (i1 === i2) {
      data[o * inLen + i1] = 1; // ORT weighs the same pixel 0.5 + 0.5
      continue;
    }
    data[o * inLen + i1] += f32(Math.abs(c - i2));
    data[o * inLen + i2] += f32(Math.abs(c - i1));
  }
  return { axis, outLen, inLen, data };
}

/** Integer block factor f when output o reads input floor(o / f) (so the adjoint is a block sum), else 0. */
function blockFactor(m: AxisMatrix): number {
  if (!m.source || m.outLen % m.inLen !== 0) return 0;
  const f = m.outLen / m.inLen;
  for (let o = 0; o < m.outLen; o++) if (m.source[o] !== Math.floor(o / f)) return 0;
  return f;
}

// ------------------------------------------------------------------ adjoint emission

function matrixConst(b: GraphBuilder, rows: number, cols: number, get: (r: number, c: number) => number, hint: string): string {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = get(r, c);
  const t: Tensor = { dtype: 'float32', dims: [rows, cols], data };
  return b.constant(t, hint);
}

/** A Reshape target for `dims`: constants where static, the run-time sizes of `like` where symbolic. */
function shapeFor(b: GraphBuilder, dims: readonly Dim[], like: string): string {
  const symbolic = dims.flatMap((d, i) => (typeof d === 'number' ? [] : [i]));
  if (symbolic.length === 0) return b.ints(dims as number[]);
  if (symbolic.length === 1) return b.ints(dims.map((d) => (typeof d === 'number' ? d : -1)));
  const whole = b.op('Shape', [like]);
  const parts = dims.map((d, i) => (typeof d === 'number' ? b.ints([d]) : b.op('Gather', [whole, b.ints([i])], { axis: 0 })));
  return b.op('Concat', parts, { axis: 0 });
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((it, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [it, ...p]));
}

/**
 * Applies A^T along each listed axis of `dy` (the adjoint of y = A·x per axis): one MatMul per
 * axis against a constant, in the cheapest order. `x` is the forward input the result is shaped
 * like. Axes other than the last two go through a [-1, out, inner] reshape.
 */
export function adjointAlongAxes(b: GraphBuilder, node: Node, dy: string, x: string, mats: readonly AxisMatrix[]): string {
  if (mats.length === 0) return dy;
  const start = b.shapeOf(dy);
  const rank = start.length;
  const size = (d: Dim): number => (typeof d === 'number' ? d : 1);
  const costOf = (order: readonly AxisMatrix[]): number => {
    const dims = start.map(size);
    let total = 0;
    for (const m of order) {
      total += dims.reduce((p, q) => p * q, 1) * m.inLen; // multiply-adds of this MatMul
      dims[m.axis] = m.inLen;
    }
    return total;
  };
  const orders = mats.length <= 4 ? permutations(mats) : [[...mats].sort((p, q) => q.axis - p.axis)];
  let order = orders[0]!;
  for (const o of orders) if (costOf(o) < costOf(order)) order = o;

  let g = dy;
  const cur: Dim[] = [...start];
  for (const m of order) {
    const at = (r: number, c: number): number => m.data[r * m.inLen + c]!;
    if (m.axis === rank - 1) {
      g = b.op('MatMul', [g, matrixConst(b, m.outLen, m.inLen, at, 'resample')]);
      cur[m.axis] = m.inLen;
      continue;
    }
    const transposed = matrixConst(b, m.inLen, m.outLen, (r, c) => at(c, r), 'resample_t');
    if (m.axis === rank - 2) {
      g = b.op('MatMul', [transposed, g]); // [in, out] x [..., out, W] broadcasts over the leading axes
      cur[m.axis] = m.inLen;
      continue;
    }
    const inner = cur.slice(m.axis + 1);
    if (!inner.every((d): d is number => typeof d === 'number')) {
      throw new ConvLensError('SHAPE_MISMATCH', `${node.op} node "${node.name}": the backward rule needs static sizes after axis ${m.axis} (shape [${cur.join(', ')}]).`, 'Fix the model input size before differentiating.');
    }
    const folded = b.op('Reshape', [g, b.ints([-1, m.outLen, inner.reduce((p, q) => p * q, 1)])]);
    cur[m.axis] = m.inLen;
    g = b.op('Reshape', [b.op('MatMul', [transposed, folded]), shapeFor(b, cur, x)]);
  }
  return reshapeLike(b, g, x);
}

// ------------------------------------------------------------------ backward rule

function gradError(node: Node, message: string, hint?: string): ConvLensError {
  return new ConvLensError('UNSUPPORTED_OP', `Cannot differentiate Resize node "${node.name}": ${message}`, hint);
}

/** The per-axis resampling matrices of a Resize node (identity axes omitted). */
function resizeMatrices(g: GradContext): AxisMatrix[] {
  const node = g.node;
  const b = g.b;
  const mode = attrString(node, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') throw gradError(node, `mode "${mode}" has no backward rule (nearest and linear do).`);
  const coordinate = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!lookup(COORDINATES, coordinate)) {
    throw gradError(node, `coordinate_transformation_mode "${coordinate}" has no backward rule.`, `Supported: ${Object.keys(COORDINATES).join(', ')}.`);
  }
  const nearestMode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  if (mode === 'nearest' && !lookup(NEAREST, nearestMode)) throw gradError(node, `nearest_mode "${nearestMode}" is unknown.`);
  if (attrInt(node, 'antialias', 0) !== 0) throw gradError(node, 'antialias=1 has no backward rule.');
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw gradError(node, 'keep_aspect_ratio_policy other than "stretch" has no backward rule.');

  const xs = b.shapeOf(g.x(0));
  const rank = xs.length;
  const axes = (attrInts(node, 'axes') ?? xs.map((_, i) => i)).map((a) => normAxis(node, a, rank));
  const sizesIn = node.inputs[3] ? g.facts(node.inputs[3]) : undefined;
  const scalesIn = node.inputs[2] ? g.facts(node.inputs[2]) : undefined;
  const dynamicHint = 'Export the model with constant scales or sizes (fixed input size), or fix the input size before differentiating.';

  // Per axis: output length and the float32 scale ORT's coordinate formulas use (1 = untouched).
  const plan: { axis: number; inLen: Dim; outLen: Dim; scale: number }[] = [];
  if (given(sizesIn)) {
    const sizes = sizesIn!.value ? toNumbers(sizesIn!.value) : sizesIn!.dimsValue;
    if (!sizes) throw gradError(node, 'its sizes input is computed at run time; the backward rule needs it static.', dynamicHint);
    axes.forEach((a, k) => {
      const n = xs[a]!;
      const m = sizes[k]!;
      if (m === n) return; // ORT: scale = m / n = 1, an identity mapping
      if (typeof n !== 'number' || typeof m !== 'number') {
        throw gradError(node, `axis ${a} resizes ${n} to ${m}; the backward rule needs both sizes static.`, dynamicHint);
      }
      plan.push({ axis: a, inLen: n, outLen: m, scale: f32(m / n) });
    });
  } else {
    const t = scalesIn?.value;
    if (!t) throw gradError(node, 'its scales input is computed at run time; the backward rule needs constant scales.', dynamicHint);
    const scales = toNumbers(t);
    axes.forEach((a, k) => {
      const s = f32(scales[k]!);
      if (s === 1) return;
      const n = xs[a]!;
      if (typeof n !== 'number') throw gradError(node, `axis ${a} has symbolic size ${n} and scale ${s}; the backward rule needs it static.`, dynamicHint);
      plan.push({ axis: a, inLen: n, outLen: Math.floor(f32(s * n)), scale: s });
    });
  }
  const spec: ResampleSpec = { mode, coordinate, nearestMode };
  return plan.map((p) => resampleMatrix(spec, p.inLen as number, p.outLen as number, p.scale, p.axis));
}

function resizeGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy || !g.wants(0)) return [undefined];
  const b = g.b;
  const x = g.x(0);
  const mats = resizeMatrices(g);
  const rank = b.shapeOf(x).length;
  // Integer-factor nearest upsampling: the adjoint sums f x f blocks. An AveragePool with
  // kernel = stride = f, times f^2, did that fastest: 0.69 ms on dy [1,64,112,112] vs 1.0 for
  // the two MatMuls and 1.0 for Reshape + ReduceSum (1.5 vs 3.0 / 2.3 on [1,32,224,224]).
  // Linear: the two MatMuls, 1.2 ms there, against a 2.1 ms forward Resize.
  const factors = mats.map(blockFactor);
  if (mats.length > 0 && rank >= 3 && factors.every((f) => f > 1) && mats.every((m) => m.axis >= 2)) {
    const kernel = new Array<number>(rank - 2).fill(1);
    mats.forEach((m, i) => (kernel[m.axis - 2] = factors[i]!));
    const pooled = b.op('AveragePool', [dy], { kernel_shape: kernel, strides: kernel });
    const volume = kernel.reduce((p, q) => p * q, 1);
    return [reshapeLike(b, b.op('Mul', [pooled, b.scalar(volume)]), x)];
  }
  return [adjointAlongAxes(b, g.node, dy, x, mats)];
}

defineOp({ type: 'Resize', infer: resizeInfer, grad: resizeGrad, noGradInputs: [1, 2, 3] });
