import { ConvLensError } from '../errors.js';
import type { InferContext, OutputFacts, ValueFacts } from '../graph/facts.js';
import { attrInt, type Dim } from '../graph/ir.js';
import { dequantize, quantize, QUANTIZED_RANGE } from '../reference/kernels/quantize.js';
import { sizeOf, type DType } from '../tensor.js';
import { floatMask } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// QuantizeLinear / DequantizeLinear: the QDQ format of onnxruntime's static quantizer and the
// ONNX Model Zoo's `-qdq` files, where every float op is wrapped in Q -> DQ pairs that round its
// activations (and store its weights) as 8-bit integers. The float ops in between are ordinary
// ops with ordinary rules; these two only need shapes and, for gradients, a straight-through
// estimate of the rounding (see the backward rules).
//
// Opset 10 has per-tensor scales only; opset 13 adds per-axis scales (a 1-D scale along `axis`,
// default 1, e.g. one scale per output channel of a conv weight with axis 0). Later opsets' extra
// attributes (saturate, block_size, output_dtype) are settled when the graph is imported.

/** Dequantized weights larger than this keep unknown values (as the builder's folding limit). */
const VALUE_LIMIT = 1 << 20;

/**
 * A quantization node the file got wrong. Thrown as MODEL_UNREADABLE, which even the lenient
 * builder that imports models passes on: ONNX Runtime refuses such a node too, but names
 * neither the node nor what is wrong with it, and a shape left unknown here surfaced as
 * symptoms in every command.
 */
function malformed(ctx: InferContext, message: string): ConvLensError {
  return new ConvLensError('MODEL_UNREADABLE', `The quantized model is malformed: ${ctx.node.op} node "${ctx.node.name}" ${message}.`, 'Re-run the quantizer on the float model (onnxruntime.quantization.quantize_static writes well-formed QDQ models).');
}

export interface QuantizationParameters {
  /** the scale's input facts */
  scale: ValueFacts;
  /** how many scales: 1 (per tensor) or the size of the quantized axis */
  count: number;
  /** the quantized axis (normalized), undefined per tensor */
  axis: number | undefined;
  /** dtype of the zero point, if one is given */
  zeroPointDType: DType | undefined;
}

/**
 * Checks a node's scale (input 1) and zero point (input 2) against the quantized tensor `x`
 * (input 0 of Q and DQ): a float32 scalar or 1-D scale, a zero point shaped like it, a per-axis
 * length equal to the axis' size, finite positive constant scales.
 */
export function quantizationParameters(ctx: InferContext): QuantizationParameters {
  const x = ctx.input(0);
  const scale = ctx.input(1);
  if (!x || !scale) throw malformed(ctx, 'lacks its input or its scale');
  if (scale.dtype !== 'float32') throw malformed(ctx, `has a ${scale.dtype} scale; ConvLens reads float32 scales`);
  const scaleShape = scale.shape;
  if (scaleShape && scaleShape.length > 1) throw malformed(ctx, `has a scale of shape [${scaleShape.join(', ')}]; a scale is a scalar (per tensor) or 1-D (per axis)`);
  const count = scaleShape && scaleShape.length === 1 ? scaleShape[0]! : 1;
  const zero = ctx.input(2);
  if (zero && scaleShape && zero.shape && (zero.shape.length !== scaleShape.length || zero.shape.some((d, i) => d !== scaleShape[i]))) {
    throw malformed(ctx, `has a zero point of shape [${zero.shape.join(', ')}] for a scale of shape [${scaleShape.join(', ')}]`);
  }
  let axis: number | undefined;
  if (count !== 1) {
    const rank = x.shape?.length;
    const given = attrInt(ctx.node, 'axis', 1);
    if (rank !== undefined) {
      axis = given < 0 ? given + rank : given;
      if (axis < 0 || axis >= rank) throw malformed(ctx, `quantizes along axis ${given}, outside its rank-${rank} input`);
      const size = x.shape![axis]!;
      if (typeof count === 'number' && typeof size === 'number' && count !== size) {
        throw malformed(ctx, `has ${count} scales along axis ${given}, which has ${size} entries`);
      }
    }
  }
  const s = scale.value;
  if (s) {
    const bad = Array.from(s.data as Float32Array).findIndex((v) => !(Number.isFinite(v) && v > 0));
    if (bad >= 0) throw malformed(ctx, `has scale ${(s.data as Float32Array)[bad]} (entry ${bad}); scales are finite and positive`);
  }
  return { scale, count: typeof count === 'number' ? count : 1, axis, zeroPointDType: zero?.dtype };
}

// ---------------------------------------------------------------- backward
//
// Rounding has a zero derivative almost everywhere, so the exact gradient through a Q -> DQ pair
// is zero and every gradient map of a QDQ model would be blank. Quantization-aware training uses
// the straight-through estimator instead (Bengio et al. 2013; PyTorch's fake-quantize backward):
// the pair y = DQ(Q(x)) = s * (clamp(round(x/s) + z, lo, hi) - z) passes dy where the code was not
// clamped, round(x/s) + z in [lo, hi], and nothing where it saturated. Split over the two nodes:
// DQ's exact derivative with respect to its codes is s, and Q's estimated one is (1/s) * mask, so
// their product is PyTorch's mask, to float32 rounding of dy * s / s. The same rules serve guided
// backprop and deconvnet (they only change ReLUs); LRP and DeepLIFT have their own (rules/).

/** The scale input broadcast against the quantized tensor: [C, 1, ..., 1] along a per-axis axis. */
export function broadcastScale(g: GradContext): string {
  const scale = g.x(1);
  const shape = g.facts(scale).shape ?? [];
  const count = shape.length === 1 ? shape[0] : 1;
  if (count === 1) return shape.length === 0 ? scale : g.b.op('Reshape', [scale, g.b.ints([])]);
  const rank = g.facts(g.x(0)).shape!.length;
  const axis = attrInt(g.node, 'axis', 1);
  const a = axis < 0 ? axis + rank : axis;
  return g.b.op('Reshape', [scale, g.b.ints([-1, ...new Array<number>(rank - 1 - a).fill(1)])]);
}

/** The zero point as float32, broadcast like the scale (0 without one). */
export function broadcastZeroPoint(g: GradContext): string | undefined {
  const zero = g.node.inputs[2];
  if (!zero) return undefined;
  const asFloat = g.b.op('Cast', [zero], { to: 1 });
  const shape = g.facts(zero).shape ?? [];
  if (shape.length === 0 || shape[0] === 1) return shape.length === 0 ? asFloat : g.b.op('Reshape', [asFloat, g.b.ints([])]);
  const rank = g.facts(g.x(0)).shape!.length;
  const axis = attrInt(g.node, 'axis', 1);
  const a = axis < 0 ? axis + rank : axis;
  return g.b.op('Reshape', [asFloat, g.b.ints([-1, ...new Array<number>(rank - 1 - a).fill(1)])]);
}

/** 1 where QuantizeLinear's code round(x/s) + z was inside the target range (not clamped), else 0. */
export function unclampedMask(g: GradContext): string {
  const b = g.b;
  const [lo, hi] = QUANTIZED_RANGE[g.facts(g.y(0)).dtype]!;
  let code = b.op('Round', [b.op('Div', [g.x(0), broadcastScale(g)])]);
  const zero = broadcastZeroPoint(g);
  if (zero) code = b.op('Add', [code, zero]);
  return floatMask(b, b.op('And', [b.op('GreaterOrEqual', [code, b.scalar(lo)]), b.op('LessOrEqual', [code, b.scalar(hi)])]));
}

function sameShapeAs(x: ValueFacts | undefined): { shape?: Dim[] } {
  return x?.shape ? { shape: [...x.shape] } : {};
}

defineOp({
  type: 'QuantizeLinear',
  infer(ctx): OutputFacts[] {
    const x = ctx.input(0);
    if (x && x.dtype !== 'float32') throw malformed(ctx, `quantizes a ${x.dtype} tensor; ConvLens reads float32 ones`);
    const q = quantizationParameters(ctx);
    const dtype = q.zeroPointDType ?? 'uint8'; // ONNX: no zero point means uint8 with zero point 0
    if (dtype !== 'int8' && dtype !== 'uint8') throw malformed(ctx, `quantizes to ${dtype}; ConvLens handles int8 and uint8`);
    const facts: OutputFacts = { dtype, ...sameShapeAs(x) };
    // Float weights quantized in the graph (PyTorch exports fake-quantized weights this way):
    // their integer values, so the DequantizeLinear after them gives a constant filter bank.
    const xv = ctx.value(0);
    const sv = ctx.value(1);
    const zv = ctx.input(2) ? ctx.value(2) : undefined;
    if (xv && sv && (zv || !ctx.input(2)) && sizeOf(xv.dims) <= VALUE_LIMIT) facts.value = quantize(ctx.node, xv, sv, zv);
    return [facts];
  },
  keepNodeWhenConstant: true,
  outputsAreCodes: true,
  noGradInputs: [1, 2],
  // straight-through: d code / dx estimated as 1/s inside the range, 0 where the code saturated
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined, undefined, undefined];
    const b = g.b;
    return [b.op('Mul', [b.op('Div', [dy, broadcastScale(g)]), unclampedMask(g)]), undefined, undefined];
  },
});

defineOp({
  type: 'DequantizeLinear',
  infer(ctx): OutputFacts[] {
    const x = ctx.input(0);
    if (x && !QUANTIZED_RANGE[x.dtype]) throw malformed(ctx, `dequantizes a ${x.dtype} tensor; ConvLens handles int8, uint8 and int32 (biases)`);
    const q = quantizationParameters(ctx);
    if (x && q.zeroPointDType && q.zeroPointDType !== x.dtype) throw malformed(ctx, `has a ${q.zeroPointDType} zero point for its ${x.dtype} input`);
    const facts: OutputFacts = { dtype: 'float32', ...sameShapeAs(x) };
    // Constant quantized weights: their float values, so the op reading them (a Conv) sees a
    // constant filter bank like a float model's. The node itself stays in the graph (see
    // keepNodeWhenConstant): ONNX Runtime fuses DQ -> Conv -> Q into an integer QLinearConv,
    // and the model should run as the file says.
    const xv = ctx.value(0);
    const sv = ctx.value(1);
    const zv = ctx.input(2) ? ctx.value(2) : undefined;
    if (xv && sv && (zv || !ctx.input(2)) && sizeOf(xv.dims) <= VALUE_LIMIT) facts.value = dequantize(ctx.node, xv, sv, zv);
    return [facts];
  },
  keepNodeWhenConstant: true,
  noGradInputs: [1, 2],
  // exact: d/dq of (q - z) * s is s
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined, undefined, undefined];
    return [g.b.op('Mul', [dy, broadcastScale(g)]), undefined, undefined];
  },
});
