import { attrInt, attrString, type Node } from '../../graph/ir.js';
import { allocate, sizeOf, toFloat64, toNumbers, type Tensor, type TypedArray } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';
import { kernelError, need, normAxis, stridesOf, type Inputs } from './util.js';

// Gather, scatter and arg-reductions. Values are copied element by element in their own dtype
// (no float64 round trip), so these are exact for int64 shape arithmetic too.

type Scalar = number | bigint;

function put(a: TypedArray, i: number, v: Scalar): void {
  (a as unknown as Scalar[])[i] = v;
}

/** Index values with negative ones wrapped, checked against the axis length. */
function indexList(node: Node, t: Tensor, len: number): number[] {
  return toNumbers(t).map((v) => {
    const i = v < 0 ? v + len : v;
    if (!Number.isInteger(i) || i < 0 || i >= len) throw kernelError(node, `index ${v} is out of range for an axis of length ${len}`);
    return i;
  });
}

function cloneTensor(t: Tensor): Tensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() };
}

// ------------------------------------------------------------------ Gather

defineKernel('Gather', (node, inputs) => {
  const data = need(node, inputs, 0);
  const indices = need(node, inputs, 1);
  const axis = normAxis(node, attrInt(node, 'axis', 0), data.dims.length);
  const len = data.dims[axis]!;
  const idx = indexList(node, indices, len);
  const outer = sizeOf(data.dims.slice(0, axis));
  const inner = sizeOf(data.dims.slice(axis + 1));
  const outDims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const out = allocate(data.dtype, sizeOf(outDims));
  let dst = 0;
  for (let o = 0; o < outer; o++)
    for (const j of idx) {
      const src = (o * len + j) * inner;
      for (let i = 0; i < inner; i++) put(out, dst++, data.data[src + i]!);
    }
  return [{ dtype: data.dtype, dims: outDims, data: out }];
});

// ------------------------------------------------------------------ scatter

type Reduction = (old: Scalar, upd: Scalar) => Scalar;

function reductionOf(node: Node, data: Tensor): Reduction | undefined {
  const r = attrString(node, 'reduction', 'none');
  if (r !== 'none' && data.dtype === 'float16') throw kernelError(node, `reduction "${r}" on float16 data is not supported`);
  switch (r) {
    case 'none':
      return undefined;
    // Mixed number/bigint never happens: data and updates share a dtype.
    case 'add':
      return (a, b) => (typeof a === 'bigint' ? a + (b as bigint) : a + (b as number));
    case 'mul':
      return (a, b) => (typeof a === 'bigint' ? a * (b as bigint) : a * (b as number));
    case 'max':
      return (a, b) => (b > a ? b : a);
    case 'min':
      return (a, b) => (b < a ? b : a);
    default:
      throw kernelError(node, `unknown reduction "${r}"`);
  }
}

/** Writes one update, through the reduction if any (typed arrays wrap bigint/int overflow on store). */
function scatterOne(out: TypedArray, i: number, v: Scalar, red: Reduction | undefined): void {
  if (!red) put(out, i, v);
  else {
    const r = red(out[i]!, v);
    put(out, i, out instanceof BigInt64Array ? BigInt.asIntN(64, r as bigint) : out instanceof BigUint64Array ? BigInt.asUintN(64, r as bigint) : r);
  }
}

defineKernel('ScatterElements', (node, inputs) => {
  const data = need(node, inputs, 0);
  const indices = need(node, inputs, 1);
  const updates = need(node, inputs, 2);
  const rank = data.dims.length;
  const axis = normAxis(node, attrInt(node, 'axis', 0), rank);
  if (indices.dims.length !== rank || updates.dims.length !== rank || indices.dims.some((d, i) => d !== updates.dims[i])) {
    throw kernelError(node, `indices [${indices.dims.join(', ')}] and updates [${updates.dims.join(', ')}] must have the same shape and rank ${rank}`);
  }
  const red = reductionOf(node, data);
  const out = cloneTensor(data);
  const idx = indexList(node, indices, data.dims[axis]!);
  const dStr = stridesOf(data.dims);
  const pos = new Array<number>(rank).fill(0);
  for (let f = 0; f < idx.length; f++) {
    let off = 0;
    for (let a = 0; a < rank; a++) off += (a === axis ? idx[f]! : pos[a]!) * dStr[a]!;
    scatterOne(out.data, off, updates.data[f]!, red);
    for (let a = rank - 1; a >= 0; a--) {
      if (++pos[a]! < indices.dims[a]!) break;
      pos[a] = 0;
    }
  }
  return [out];
});

defineKernel('ScatterND', (node, inputs) => {
  const data = need(node, inputs, 0);
  const indices = need(node, inputs, 1);
  const updates = need(node, inputs, 2);
  const k = indices.dims[indices.dims.length - 1];
  if (k === undefined || k > data.dims.length) throw kernelError(node, `indices [${indices.dims.join(', ')}] do not index data [${data.dims.join(', ')}]`);
  const lead = indices.dims.slice(0, -1);
  const expected = [...lead, ...data.dims.slice(k)];
  if (expected.length !== updates.dims.length || expected.some((d, i) => d !== updates.dims[i])) {
    throw kernelError(node, `updates must have shape [${expected.join(', ')}], got [${updates.dims.join(', ')}]`);
  }
  const red = reductionOf(node, data);
  const out = cloneTensor(data);
  const dStr = stridesOf(data.dims);
  const slice = sizeOf(data.dims.slice(k));
  const iv = toNumbers(indices);
  const count = sizeOf(lead);
  for (let q = 0; q < count; q++) {
    let off = 0;
    for (let a = 0; a < k; a++) {
      const len = data.dims[a]!;
      const raw = iv[q * k + a]!;
      const i = raw < 0 ? raw + len : raw;
      if (i < 0 || i >= len) throw kernelError(node, `index ${raw} is out of range for axis ${a} of length ${len}`);
      off += i * dStr[a]!;
    }
    for (let e = 0; e < slice; e++) scatterOne(out.data, off + e, updates.data[q * slice + e]!, red);
  }
  return [out];
});

// ------------------------------------------------------------------ ArgMax / ArgMin

function argKernel(max: boolean) {
  return (node: Node, inputs: Inputs): Tensor[] => {
    const x = need(node, inputs, 0);
    const rank = x.dims.length;
    const axis = normAxis(node, attrInt(node, 'axis', 0), rank);
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const last = attrInt(node, 'select_last_index', 0) === 1;
    // float16 bits do not order like the values; every other dtype compares in its own storage.
    const values: ArrayLike<Scalar> = x.dtype === 'float16' ? toFloat64(x) : (x.data as ArrayLike<Scalar>);
    const outer = sizeOf(x.dims.slice(0, axis));
    const len = x.dims[axis]!;
    const inner = sizeOf(x.dims.slice(axis + 1));
    if (len === 0) throw kernelError(node, `cannot take ${node.op} over an empty axis`);
    const out = new BigInt64Array(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let best = values[base]!;
        let arg = 0;
        for (let j = 1; j < len; j++) {
          const v = values[base + j * inner]!;
          const better = max ? v > best || (last && v === best) : v < best || (last && v === best);
          if (better) {
            best = v;
            arg = j;
          }
        }
        out[o * inner + i] = BigInt(arg);
      }
    const outDims = keep ? x.dims.map((d, a) => (a === axis ? 1 : d)) : x.dims.filter((_, a) => a !== axis);
    return [{ dtype: 'int64', dims: outDims, data: out }];
  };
}

defineKernel('ArgMax', argKernel(true));
defineKernel('ArgMin', argKernel(false));
