import { attrFloat, attrInt, attrInts, type Node } from '../../graph/ir.js';
import { allocate, sizeOf, toFloat64, toNumbers, type DType, type Tensor } from '../../tensor.js';
import { defineKernel, type Shaped } from '../evaluator.js';
import {
  bigAt,
  broadcastDims,
  broadcastIndex,
  fromFloat64,
  isIntDType,
  kernelError,
  need,
  normAxis,
  putBig,
  resultDType,
  wrapInt,
  type Inputs,
} from './util.js';

// Elementwise math, activations, softmax, reductions and matrix products. Floats are computed
// in float64 and stored back in the operand dtype; integer tensors (shape arithmetic folded at
// build time) are computed exactly with BigInt and wrapped to their width like C++ does.

// ------------------------------------------------------------------ unary

/** erf to full double precision (no Math.erf in JS): a positive series near 0, a continued fraction for erfc in the tails. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax === 0) return x;
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!, all terms positive: no cancellation.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum);
  }
  if (ax > 6) return Math.sign(x); // erfc(6) < 2.2e-17
  // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
  let f = ax;
  for (let n = 120; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

interface UnarySpec {
  f: (v: number, node: Node) => number;
  /** Exact integer version, for ops ONNX defines on integer tensors. */
  int?: (v: bigint) => bigint;
}

/** Attribute values are read once per call, not per element. */
type UnaryFactory = (node: Node) => UnarySpec;

function unaryKernel(make: UnaryFactory) {
  return (node: Node, inputs: Inputs): Tensor[] => {
    const x = need(node, inputs, 0);
    const spec = make(node);
    if (isIntDType(x.dtype) && spec.int) {
      const out = allocate(x.dtype, x.data.length);
      for (let i = 0; i < x.data.length; i++) putBig(out, i, wrapInt(x.dtype, spec.int(bigAt(x.data, i))));
      return [{ dtype: x.dtype, dims: [...x.dims], data: out }];
    }
    const v = toFloat64(x);
    const y = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) y[i] = spec.f(v[i]!, node);
    return [fromFloat64(x.dtype, x.dims, y)];
  };
}

function softplus(v: number): number {
  // log(1 + e^v) without overflow for large v and without losing digits for very negative v.
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

const unaries: Record<string, UnaryFactory> = {
  Relu: () => ({ f: (v) => (v > 0 ? v : 0), int: (v) => (v > 0n ? v : 0n) }),
  LeakyRelu: (node) => {
    const alpha = attrFloat(node, 'alpha', 0.01);
    return { f: (v) => (v >= 0 ? v : alpha * v) };
  },
  Elu: (node) => {
    const alpha = attrFloat(node, 'alpha', 1);
    // expm1 keeps relative precision for small negative inputs, like PyTorch's double ELU.
    return { f: (v) => (v > 0 ? v : alpha * Math.expm1(v)) };
  },
  Sigmoid: () => ({ f: (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))) }),
  Tanh: () => ({ f: Math.tanh }),
  HardSigmoid: (node) => {
    const alpha = attrFloat(node, 'alpha', 0.2);
    const beta = attrFloat(node, 'beta', 0.5);
    return { f: (v) => Math.max(0, Math.min(1, alpha * v + beta)) };
  },
  HardSwish: () => ({ f: (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)) }),
  Softplus: () => ({ f: softplus }),
  Softsign: () => ({ f: (v) => v / (1 + Math.abs(v)) }),
  Exp: () => ({ f: Math.exp }),
  Log: () => ({ f: Math.log }),
  Sqrt: () => ({ f: Math.sqrt }),
  Neg: () => ({ f: (v) => -v, int: (v) => -v }),
  Abs: () => ({ f: Math.abs, int: (v) => (v < 0n ? -v : v) }),
  Reciprocal: () => ({ f: (v) => 1 / v }),
  Erf: () => ({ f: erf }),
  Floor: () => ({ f: Math.floor }),
  Ceil: () => ({ f: Math.ceil }),
  Sin: () => ({ f: Math.sin }),
  Cos: () => ({ f: Math.cos }),
};

for (const [op, make] of Object.entries(unaries)) defineKernel(op, unaryKernel(make));

function scalarOf(t: Tensor | undefined): number | undefined {
  if (!t) return undefined;
  if (t.data.length !== 1) throw new Error(`expected a scalar, got shape [${t.dims.join(', ')}]`);
  return Number(t.data[0]!);
}

defineKernel('Clip', (node, inputs, opset) => {
  const x = need(node, inputs, 0);
  // Before opset 11 the bounds were attributes; from 11 on they are optional scalar inputs.
  const lo = opset < 11 ? attrFloat(node, 'min') : scalarOf(inputs[1]);
  const hi = opset < 11 ? attrFloat(node, 'max') : scalarOf(inputs[2]);
  if (isIntDType(x.dtype)) {
    const loB = inputs[1] && opset >= 11 ? bigAt(inputs[1].data, 0) : undefined;
    const hiB = inputs[2] && opset >= 11 ? bigAt(inputs[2].data, 0) : undefined;
    const out = allocate(x.dtype, x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      let v = bigAt(x.data, i);
      if (loB !== undefined && v < loB) v = loB;
      if (hiB !== undefined && v > hiB) v = hiB;
      putBig(out, i, v);
    }
    return [{ dtype: x.dtype, dims: [...x.dims], data: out }];
  }
  const v = toFloat64(x);
  const y = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    let e = v[i]!;
    if (lo !== undefined && e < lo) e = lo;
    if (hi !== undefined && e > hi) e = hi;
    y[i] = e;
  }
  return [fromFloat64(x.dtype, x.dims, y)];
});

defineKernel('PRelu', (node, inputs) => {
  const xT = need(node, inputs, 0);
  const sT = need(node, inputs, 1);
  // The slope broadcasts unidirectionally: the output always has X's shape.
  const dims = broadcastDims(node, [xT.dims, sT.dims]);
  if (dims.length !== xT.dims.length || dims.some((d, i) => d !== xT.dims[i])) {
    throw kernelError(node, `slope [${sT.dims.join(', ')}] does not broadcast to X [${xT.dims.join(', ')}]`);
  }
  const x = toFloat64(xT);
  const s = toFloat64(sT);
  const map = broadcastIndex(xT.dims, sT.dims);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v < 0 ? v * s[map ? map[i]! : i]! : v;
  }
  return [fromFloat64(resultDType(xT, sT), xT.dims, y)];
});

// ------------------------------------------------------------------ softmax

function softmaxKernel(log: boolean) {
  return (node: Node, inputs: Inputs, opset: number): Tensor[] => {
    const xT = need(node, inputs, 0);
    const rank = xT.dims.length;
    const axis = normAxis(node, attrInt(node, 'axis', opset < 13 ? 1 : -1), rank);
    // Before opset 13 the input was flattened to 2-D at `axis` and normalized over the whole tail.
    const outer = sizeOf(xT.dims.slice(0, axis));
    const len = opset < 13 ? sizeOf(xT.dims.slice(axis)) : xT.dims[axis]!;
    const inner = opset < 13 ? 1 : sizeOf(xT.dims.slice(axis + 1));
    const x = toFloat64(xT);
    const y = new Float64Array(x.length);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        let m = -Infinity;
        for (let k = 0; k < len; k++) m = Math.max(m, x[base + k * inner]!);
        let s = 0;
        for (let k = 0; k < len; k++) s += Math.exp(x[base + k * inner]! - m);
        const logS = Math.log(s);
        for (let k = 0; k < len; k++) {
          const j = base + k * inner;
          y[j] = log ? x[j]! - m - logS : Math.exp(x[j]! - m) / s;
        }
      }
    return [fromFloat64(xT.dtype, xT.dims, y)];
  };
}

defineKernel('Softmax', softmaxKernel(false));
defineKernel('LogSoftmax', softmaxKernel(true));

// ------------------------------------------------------------------ binary and variadic

interface BinarySpec {
  f: (a: number, b: number) => number;
  /** Exact integer version; absent when ONNX only defines the op on floats. */
  int?: (a: bigint, b: bigint, node: Node) => bigint;
}

function binary(node: Node, a: Tensor, b: Tensor, spec: BinarySpec): Tensor {
  const dims = broadcastDims(node, [a.dims, b.dims]);
  const n = sizeOf(dims);
  const ma = broadcastIndex(dims, a.dims);
  const mb = broadcastIndex(dims, b.dims);
  if (isIntDType(a.dtype) && isIntDType(b.dtype)) {
    if (!spec.int) throw kernelError(node, `${node.op} is not defined on ${a.dtype} tensors`);
    const out = allocate(a.dtype, n);
    for (let i = 0; i < n; i++) {
      const r = spec.int(bigAt(a.data, ma ? ma[i]! : i), bigAt(b.data, mb ? mb[i]! : i), node);
      putBig(out, i, wrapInt(a.dtype, r));
    }
    return { dtype: a.dtype, dims, data: out };
  }
  const x = toFloat64(a);
  const y = toFloat64(b);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = spec.f(x[ma ? ma[i]! : i]!, y[mb ? mb[i]! : i]!);
  return fromFloat64(resultDType(a, b), dims, out);
}

const binaries: Record<string, BinarySpec> = {
  Add: { f: (a, b) => a + b, int: (a, b) => a + b },
  Sub: { f: (a, b) => a - b, int: (a, b) => a - b },
  Mul: { f: (a, b) => a * b, int: (a, b) => a * b },
  Div: {
    f: (a, b) => a / b,
    // BigInt division truncates toward zero, which is ONNX's integer Div.
    int: (a, b, node) => {
      if (b === 0n) throw kernelError(node, 'integer division by zero');
      return a / b;
    },
  },
  // fmod=0: the remainder takes the divisor's sign (Python's %), integers only; fmod=1: the
  // dividend's (C's fmod, JavaScript's %; BigInt % truncates the same way).
  Mod: {
    f: (a, b) => a % b,
    int: (a, b, node) => {
      if (b === 0n) throw kernelError(node, 'integer modulo by zero');
      const r = a % b;
      return attrInt(node, 'fmod', 0) === 1 || r === 0n || r < 0n === b < 0n ? r : r + b;
    },
  },
};

for (const [op, spec] of Object.entries(binaries)) {
  defineKernel(op, (node, inputs) => [binary(node, need(node, inputs, 0), need(node, inputs, 1), spec)]);
}

defineKernel('Pow', (node, inputs) => {
  const x = need(node, inputs, 0);
  const e = need(node, inputs, 1);
  // The exponent may have another dtype than the base; the result has the base's dtype (float64
  // when either side is float64, as everywhere in the oracle).
  const dims = broadcastDims(node, [x.dims, e.dims]);
  const mx = broadcastIndex(dims, x.dims);
  const me = broadcastIndex(dims, e.dims);
  const xv = toFloat64(x);
  const ev = toFloat64(e);
  const out = new Float64Array(sizeOf(dims));
  for (let i = 0; i < out.length; i++) out[i] = Math.pow(xv[mx ? mx[i]! : i]!, ev[me ? me[i]! : i]!);
  return [fromFloat64(resultDType(x, e), dims, out)];
});

/**
 * Sum/Max/Min/Mean over any number of broadcasting inputs. Floats accumulate in one float64
 * buffer (pairwise binary ops would round to float32 between inputs); integers fold pairwise,
 * which is exact.
 */
function variadic(spec: BinarySpec, mean = false) {
  return (node: Node, inputs: Inputs): Tensor[] => {
    const ts = inputs.filter((t): t is Tensor => t !== undefined);
    if (ts.length === 0) throw kernelError(node, 'needs at least one input');
    if (ts.every((t) => isIntDType(t.dtype)) && !mean) {
      let acc: Tensor = { dtype: ts[0]!.dtype, dims: [...ts[0]!.dims], data: ts[0]!.data.slice() };
      for (let i = 1; i < ts.length; i++) acc = binary(node, acc, ts[i]!, spec);
      return [acc];
    }
    const dims = broadcastDims(node, ts.map((t) => t.dims));
    const n = sizeOf(dims);
    const acc = new Float64Array(n);
    ts.forEach((t, k) => {
      const v = toFloat64(t);
      const map = broadcastIndex(dims, t.dims);
      for (let i = 0; i < n; i++) {
        const e = v[map ? map[i]! : i]!;
        acc[i] = k === 0 ? e : spec.f(acc[i]!, e);
      }
    });
    if (mean) for (let i = 0; i < n; i++) acc[i] = acc[i]! / ts.length;
    return [fromFloat64(resultDType(...ts), dims, acc)];
  };
}

const maxSpec: BinarySpec = {
  // NaN propagates, as in ONNX Runtime's Eigen max.
  f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  int: (a, b) => (a > b ? a : b),
};
const minSpec: BinarySpec = {
  f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  int: (a, b) => (a < b ? a : b),
};

defineKernel('Sum', variadic(binaries.Add!));
defineKernel('Max', variadic(maxSpec));
defineKernel('Min', variadic(minSpec));
defineKernel('Mean', variadic(binaries.Add!, true));

// ------------------------------------------------------------------ reductions

type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'sumsquare' | 'l2';

/** The axes to reduce, or undefined for "return the input unchanged" (noop_with_empty_axes). */
function reduceAxes(node: Node, inputs: Inputs, rank: number, opset: number): number[] | undefined {
  // ReduceSum took axes as an input from opset 13, the other reductions from opset 18.
  const fromInput = inputs[1];
  let axes = fromInput ? toNumbers(fromInput) : attrInts(node, 'axes');
  const inputStyle = node.op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  if (!axes || axes.length === 0) {
    if (inputStyle && attrInt(node, 'noop_with_empty_axes', 0) === 1) return undefined;
    axes = Array.from({ length: rank }, (_, i) => i);
  }
  const norm = axes.map((a) => normAxis(node, a, rank));
  if (new Set(norm).size !== norm.length) throw kernelError(node, `repeated axes [${axes.join(', ')}]`);
  return norm;
}

function reduceKernel(kind: ReduceKind) {
  return (node: Node, inputs: Inputs, opset: number): Tensor[] => {
    const xT = need(node, inputs, 0);
    const rank = xT.dims.length;
    const axes = reduceAxes(node, inputs, rank, opset);
    if (!axes) return [{ dtype: xT.dtype, dims: [...xT.dims], data: xT.data.slice() }];
    const keep = attrInt(node, 'keepdims', 1) === 1;
    const ones = xT.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const outDims = keep ? ones : xT.dims.filter((_, i) => !axes.includes(i));
    const n = sizeOf(ones);
    const count = sizeOf(xT.dims) / Math.max(1, n);
    // Each input element's output slot: the input broadcast from the reduced shape, read backwards.
    const slot = broadcastIndex(xT.dims, ones);
    const at = (i: number): number => (slot ? slot[i]! : i);
    const total = xT.data.length;
    if (isIntDType(xT.dtype) && (kind === 'sum' || kind === 'prod' || kind === 'max' || kind === 'min')) {
      const acc = new Array<bigint | undefined>(n).fill(undefined);
      for (let i = 0; i < total; i++) {
        const v = bigAt(xT.data, i);
        const o = at(i);
        const a = acc[o];
        acc[o] = a === undefined ? v : kind === 'sum' ? a + v : kind === 'prod' ? a * v : kind === 'max' ? (v > a ? v : a) : v < a ? v : a;
      }
      const out = allocate(xT.dtype, n);
      for (let o = 0; o < n; o++) {
        const a = acc[o];
        if (a === undefined && (kind === 'max' || kind === 'min')) throw kernelError(node, `${node.op} over an empty set has no integer value`);
        putBig(out, o, wrapInt(xT.dtype, a ?? (kind === 'prod' ? 1n : 0n)));
      }
      return [{ dtype: xT.dtype, dims: outDims, data: out }];
    }
    const x = toFloat64(xT);
    const init = kind === 'max' ? -Infinity : kind === 'min' ? Infinity : kind === 'prod' ? 1 : 0;
    const acc = new Float64Array(n).fill(init);
    for (let i = 0; i < total; i++) {
      const v = x[i]!;
      const o = at(i);
      switch (kind) {
        case 'sum':
        case 'mean':
          acc[o] += v;
          break;
        case 'sumsquare':
        case 'l2':
          acc[o] += v * v;
          break;
        case 'prod':
          acc[o] *= v;
          break;
        case 'max':
          acc[o] = Number.isNaN(v) || v > acc[o]! ? v : acc[o]!;
          break;
        case 'min':
          acc[o] = Number.isNaN(v) || v < acc[o]! ? v : acc[o]!;
          break;
      }
    }
    if (kind === 'mean') for (let o = 0; o < n; o++) acc[o] = acc[o]! / count;
    if (kind === 'l2') for (let o = 0; o < n; o++) acc[o] = Math.sqrt(acc[o]!);
    return [fromFloat64(xT.dtype, outDims, acc)];
  };
}

defineKernel('ReduceSum', reduceKernel('sum'));
defineKernel('ReduceMean', reduceKernel('mean'));
defineKernel('ReduceMax', reduceKernel('max'));
defineKernel('ReduceMin', reduceKernel('min'));
defineKernel('ReduceProd', reduceKernel('prod'));
defineKernel('ReduceSumSquare', reduceKernel('sumsquare'));
defineKernel('ReduceL2', reduceKernel('l2'));

// ------------------------------------------------------------------ matrix products

/** Row-major C[M,N] (+)= A[M,K] B[K,N] with arbitrary element strides for A and B (transposes for free). */
function matmulInto(
  c: Float64Array,
  cOff: number,
  a: Float64Array,
  aOff: number,
  aRow: number,
  aCol: number,
  b: Float64Array,
  bOff: number,
  bRow: number,
  bCol: number,
  M: number,
  K: number,
  N: number,
  scale: number,
): void {
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[aOff + i * aRow + k * aCol]! * b[bOff + k * bRow + j * bCol]!;
      c[cOff + i * N + j] += scale * s;
    }
}

// Each output element of a product sums K terms (the work bound, see KernelWork).
const contractionWork =
  (inner: (node: Node, a: readonly number[]) => number) =>
  (node: Node, inputs: readonly (Shaped | undefined)[], outputs: readonly (readonly number[])[]): number =>
    sizeOf(outputs[0] ?? []) * inner(node, inputs[0]?.dims ?? []);

defineKernel('Gemm', (node, inputs) => {
  const aT = need(node, inputs, 0);
  const bT = need(node, inputs, 1);
  const cT = inputs[2];
  if (aT.dims.length !== 2 || bT.dims.length !== 2) throw kernelError(node, 'A and B must be matrices');
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const [ar, ac] = aT.dims as [number, number];
  const [br, bc] = bT.dims as [number, number];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  if ((transB ? bc : br) !== K) throw kernelError(node, `inner dimensions differ: A [${aT.dims.join(', ')}], B [${bT.dims.join(', ')}] (transA=${+transA}, transB=${+transB})`);
  const y = new Float64Array(M * N);
  if (cT && beta !== 0) {
    // C broadcasts unidirectionally to [M, N].
    const dims = broadcastDims(node, [[M, N], cT.dims]);
    if (dims.length !== 2 || dims[0] !== M || dims[1] !== N) throw kernelError(node, `C [${cT.dims.join(', ')}] does not broadcast to [${M}, ${N}]`);
    const c = toFloat64(cT);
    const map = broadcastIndex([M, N], cT.dims);
    for (let i = 0; i < M * N; i++) y[i] = beta * c[map ? map[i]! : i]!;
  }
  matmulInto(y, 0, toFloat64(aT), 0, transA ? 1 : ac, transA ? ac : 1, toFloat64(bT), 0, transB ? 1 : bc, transB ? bc : 1, M, K, N, alpha);
  return [fromFloat64(resultDType(aT, bT, cT), [M, N], y)];
}, contractionWork((node, a) => a[attrInt(node, 'transA', 0) === 1 ? 0 : 1] ?? 1));

defineKernel('MatMul', (node, inputs) => {
  const aT = need(node, inputs, 0);
  const bT = need(node, inputs, 1);
  if (aT.dims.length === 0 || bT.dims.length === 0) throw kernelError(node, 'MatMul operands must have rank >= 1');
  // numpy.matmul: a 1-D operand gains a unit dimension that is removed from the result.
  const aD = aT.dims.length === 1 ? [1, aT.dims[0]!] : [...aT.dims];
  const bD = bT.dims.length === 1 ? [bT.dims[0]!, 1] : [...bT.dims];
  const M = aD[aD.length - 2]!;
  const K = aD[aD.length - 1]!;
  const N = bD[bD.length - 1]!;
  if (bD[bD.length - 2] !== K) throw kernelError(node, `inner dimensions differ: [${aT.dims.join(', ')}] x [${bT.dims.join(', ')}]`);
  const batchA = aD.slice(0, -2);
  const batchB = bD.slice(0, -2);
  const batch = broadcastDims(node, [batchA, batchB]);
  const nb = sizeOf(batch);
  const ma = broadcastIndex(batch, batchA);
  const mb = broadcastIndex(batch, batchB);
  const a = toFloat64(aT);
  const b = toFloat64(bT);
  const y = new Float64Array(nb * M * N);
  for (let i = 0; i < nb; i++) {
    const ia = ma ? ma[i]! : i;
    const ib = mb ? mb[i]! : i;
    matmulInto(y, i * M * N, a, ia * M * K, K, 1, b, ib * K * N, N, 1, M, K, N, 1);
  }
  const outDims = [...batch];
  if (aT.dims.length > 1) outDims.push(M);
  if (bT.dims.length > 1) outDims.push(N);
  const dtype: DType = isIntDType(aT.dtype) ? aT.dtype : resultDType(aT, bT);
  return [fromFloat64(dtype, outDims, y)];
}, contractionWork((_node, a) => a[a.length - 1] ?? 1));
