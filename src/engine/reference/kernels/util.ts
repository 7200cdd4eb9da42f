import { shapeError } from '../../graph/facts.js';
import type { Node } from '../../graph/ir.js';
import { allocate, sizeOf, type DType, type Tensor, type TypedArray } from '../../tensor.js';

// Shared plumbing for the numeric reference kernels: input access, strides, broadcasting and
// writing float64 results back in the caller's dtype.

export type Inputs = readonly (Tensor | undefined)[];

/** Input i, or an error naming the node when a required input is absent. */
export function need(node: Node, inputs: Inputs, i: number): Tensor {
  const t = inputs[i];
  if (!t) throw new Error(`${node.op} node "${node.name}": required input ${i} is missing`);
  return t;
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

export function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw shapeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function isIntDType(d: DType): boolean {
  return d !== 'float32' && d !== 'float64' && d !== 'float16' && d !== 'bool';
}

/**
 * The dtype of a float op's result. Oracle runs mix float64 activations with float32 Constant
 * nodes the graph carries (Clip bounds, Resize scales, PRelu slopes); promoting to float64 when
 * any operand is float64 keeps the oracle in double precision instead of silently rounding.
 */
export function resultDType(...ts: readonly (Tensor | undefined)[]): DType {
  const first = ts.find((t) => t !== undefined);
  if (!first) throw new Error('resultDType: no operands');
  if (ts.some((t) => t?.dtype === 'float64') && !isIntDType(first.dtype)) return 'float64';
  return first.dtype;
}

/** Writes float64 values into a tensor of `dtype` (ints truncate like Cast; float16 rounds to nearest even). */
export function fromFloat64(dtype: DType, dims: readonly number[], values: Float64Array): Tensor {
  if (dtype === 'float64') return { dtype, dims: [...dims], data: values };
  const out = allocate(dtype, values.length);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new Error(`cannot store ${v} in an ${dtype} tensor`);
      out[i] = BigInt(Math.trunc(v));
    }
  } else if (dtype === 'float16') {
    const o = out as Uint16Array;
    for (let i = 0; i < values.length; i++) o[i] = floatToHalf(values[i]!);
  } else if (dtype === 'bool') {
    const o = out as Uint8Array;
    for (let i = 0; i < values.length; i++) o[i] = values[i] !== 0 ? 1 : 0;
  } else if (isIntDType(dtype)) {
    const o = out as Int32Array;
    for (let i = 0; i < values.length; i++) o[i] = Math.trunc(values[i]!);
  } else {
    (out as Float32Array).set(values);
  }
  return { dtype, dims: [...dims], data: out };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a number, rounding to nearest even (via float32, as ONNX Runtime does). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  // A carry out of the mantissa bumps the exponent, overflowing to infinity correctly.
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** numpy-style broadcast of static shapes. */
export function broadcastDims(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let k = 0; k < s.length; k++) {
      const j = rank - s.length + k;
      const d = s[k]!;
      if (d === out[j]) continue;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1) {
        throw shapeError(node, `cannot broadcast shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')}`);
      }
    }
  }
  return out;
}

/**
 * For each flat index of `outDims`, the flat index of the element of a tensor shaped `inDims`
 * that broadcasts to it; null when the shapes are equal (the identity map).
 */
export function broadcastIndex(outDims: readonly number[], inDims: readonly number[]): Int32Array | null {
  if (outDims.length === inDims.length && outDims.every((d, i) => d === inDims[i])) return null;
  const rank = outDims.length;
  const inStrides = stridesOf(inDims);
  // Stride 0 along axes the input repeats (size 1 or missing).
  const st = new Array<number>(rank).fill(0);
  for (let k = 0; k < inDims.length; k++) {
    const j = rank - inDims.length + k;
    st[j] = inDims[k] === 1 && outDims[j] !== 1 ? 0 : inStrides[k]!;
  }
  const n = sizeOf(outDims);
  const map = new Int32Array(n);
  if (n === 0) return map;
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let f = 0; f < n; f++) {
    map[f] = off;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      off += st[k]!;
      if (idx[k]! < outDims[k]!) break;
      off -= st[k]! * idx[k]!;
      idx[k] = 0;
    }
  }
  return map;
}

/** Element i of an array as a BigInt (exact for every integer dtype). */
export function bigAt(a: TypedArray, i: number): bigint {
  const v = a[i]!;
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** Wraps an exact integer result to the dtype's width, as fixed-width C++ arithmetic does. */
export function wrapInt(dtype: DType, v: bigint): bigint {
  switch (dtype) {
    case 'int64':
      return BigInt.asIntN(64, v);
    case 'uint64':
      return BigInt.asUintN(64, v);
    case 'int32':
      return BigInt.asIntN(32, v);
    case 'uint32':
      return BigInt.asUintN(32, v);
    case 'int16':
      return BigInt.asIntN(16, v);
    case 'uint16':
      return BigInt.asUintN(16, v);
    case 'int8':
      return BigInt.asIntN(8, v);
    case 'uint8':
      return BigInt.asUintN(8, v);
    default:
      throw new Error(`wrapInt: ${dtype} is not an integer dtype`);
  }
}

/** Stores an exact integer into a typed array of any integer dtype. */
export function putBig(a: TypedArray, i: number, v: bigint): void {
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) a[i] = v;
  else (a as Int32Array)[i] = Number(v);
}

/** Static per-node attribute error, consistent with the shape rules' errors. */
export function kernelError(node: Node, message: string): Error {
  return shapeError(node, message);
}
