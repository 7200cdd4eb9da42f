import { attrInt, type Node } from '../../graph/ir.js';
import { allocate, sizeOf, toFloat64, type DType, type Tensor } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';
import { need, normAxis } from './util.js';

// QuantizeLinear and DequantizeLinear as ONNX defines them (opsets 10 and 13): per tensor (a
// scalar or one-element scale) or per axis (a 1-D scale along `axis`). Used to fold the
// dequantized weights of QDQ models (their shapes and values feed summaries, profiles and the
// constant-weight paths of backward rules) and as the oracle in tests.

/** The integer range each quantized dtype saturates to. */
export const QUANTIZED_RANGE: Readonly<Partial<Record<DType, readonly [number, number]>>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
};

/** Round half to even, as ONNX (and C's nearbyint) rounds in QuantizeLinear. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * For element i of a tensor of `dims`, the index of its scale: 0 per tensor, else its position
 * along `axis`.
 */
function scaleIndexer(dims: readonly number[], scaleCount: number, axis: number): (i: number) => number {
  if (scaleCount === 1) return () => 0;
  const inner = sizeOf(dims.slice(axis + 1));
  const size = dims[axis]!;
  return (i) => Math.floor(i / inner) % size;
}

function axisOf(node: Node, x: Tensor, scale: Tensor): number {
  return sizeOf(scale.dims) === 1 ? 0 : normAxis(node, attrInt(node, 'axis', 1), x.dims.length);
}

/**
 * y = (x - zero_point) * scale. A float64 input (oracle runs) is computed in float64; otherwise
 * each value is rounded once to float32, the bits ONNX Runtime's float32 kernel gives, so a
 * folded weight equals the one the runtime dequantizes.
 */
export function dequantize(node: Node, x: Tensor, scale: Tensor, zeroPoint: Tensor | undefined): Tensor {
  const xs = toFloat64(x);
  const s = toFloat64(scale);
  const z = zeroPoint ? toFloat64(zeroPoint) : undefined;
  const at = scaleIndexer(x.dims, s.length, axisOf(node, x, scale));
  const wide = scale.dtype === 'float64';
  const out = wide ? new Float64Array(xs.length) : new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const k = at(i);
    out[i] = (xs[i]! - (z ? z[k]! : 0)) * s[k]!;
  }
  return { dtype: wide ? 'float64' : 'float32', dims: [...x.dims], data: out };
}

/** y = saturate(round(x / scale) + zero_point), in the zero point's dtype (uint8 without one). */
export function quantize(node: Node, x: Tensor, scale: Tensor, zeroPoint: Tensor | undefined): Tensor {
  const dtype: DType = zeroPoint?.dtype ?? 'uint8';
  const range = QUANTIZED_RANGE[dtype];
  if (!range) throw new Error(`QuantizeLinear node "${node.name}": cannot quantize to ${dtype}`);
  const xs = toFloat64(x);
  const s = toFloat64(scale);
  const z = zeroPoint ? toFloat64(zeroPoint) : undefined;
  const at = scaleIndexer(x.dims, s.length, axisOf(node, x, scale));
  const out = allocate(dtype, xs.length) as Int8Array | Uint8Array | Int32Array;
  for (let i = 0; i < xs.length; i++) {
    const k = at(i);
    // ONNX Runtime divides in float32; a float64 oracle run divides in float64
    const ratio = x.dtype === 'float64' ? xs[i]! / s[k]! : Math.fround(xs[i]! / s[k]!);
    out[i] = Math.min(range[1], Math.max(range[0], roundHalfEven(ratio) + (z ? z[k]! : 0)));
  }
  return { dtype, dims: [...x.dims], data: out };
}

defineKernel('DequantizeLinear', (node, inputs) => [dequantize(node, need(node, inputs, 0), need(node, inputs, 1), inputs[2])]);
defineKernel('QuantizeLinear', (node, inputs) => [quantize(node, need(node, inputs, 0), need(node, inputs, 1), inputs[2])]);
