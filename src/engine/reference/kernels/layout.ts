import { attrFloat, attrInt, attrInts, attrString, attrTensor, type Node } from '../../graph/ir.js';
import { allocate, castTensor, dtypeFromOnnx, sizeOf, tensor, toFloat64, toNumbers, type Tensor, type TypedArray } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';

// Data-movement and shape-arithmetic kernels: exact for every dtype (values are copied, not converted).

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

function get(t: Tensor, i: number): number | bigint {
  return t.data[i]!;
}

function put(a: TypedArray, i: number, v: number | bigint): void {
  (a as unknown as (number | bigint)[])[i] = v;
}

function need(node: Node, inputs: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) throw new Error(`${node.op} "${node.name}": input ${i} is missing`);
  return t;
}

/** Gathers elements by a per-output-index function over the input's flat index. */
function remap(src: Tensor, outDims: readonly number[], indexOf: (outIndex: number[]) => number): Tensor {
  const n = sizeOf(outDims);
  const out = allocate(src.dtype, n);
  const idx = new Array<number>(outDims.length).fill(0);
  for (let f = 0; f < n; f++) {
    put(out, f, get(src, indexOf(idx)));
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++idx[k]! < outDims[k]!) break;
      idx[k] = 0;
    }
  }
  return { dtype: src.dtype, dims: [...outDims], data: out };
}

export function transposeTensor(t: Tensor, perm: readonly number[]): Tensor {
  const st = stridesOf(t.dims);
  const outDims = perm.map((p) => t.dims[p]!);
  return remap(t, outDims, (idx) => idx.reduce((acc, v, k) => acc + v * st[perm[k]!]!, 0));
}

export function broadcastTo(t: Tensor, outDims: readonly number[]): Tensor {
  const r = outDims.length;
  const dims = [...new Array<number>(r - t.dims.length).fill(1), ...t.dims];
  const st = stridesOf(dims);
  return remap(t, outDims, (idx) => idx.reduce((acc, v, k) => acc + (dims[k] === 1 ? 0 : v * st[k]!), 0));
}

export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < r; k++) {
    const x = a[a.length - r + k] ?? 1;
    const y = b[b.length - r + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Resolves a Reshape target (0 copies the input dim unless allowzero, -1 is inferred). */
export function reshapeTarget(inDims: readonly number[], spec: readonly number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inDims[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = sizeOf(inDims);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = known === 0 ? 0 : total / known;
  if (sizeOf(out) !== total || !out.every(Number.isInteger)) throw new Error(`cannot reshape [${inDims}] to [${spec}]`);
  return out;
}

/** Slice parameters resolved against a shape, per ONNX clamping rules. */
export function resolveSlice(
  dims: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axesIn: readonly number[] | undefined,
  stepsIn: readonly number[] | undefined,
): { start: number[]; step: number[]; count: number[] } {
  const r = dims.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const count = [...dims];
  const axes = axesIn ?? starts.map((_, i) => i);
  axes.forEach((a0, i) => {
    const a = a0 < 0 ? a0 + r : a0;
    const d = dims[a]!;
    const s = stepsIn?.[i] ?? 1;
    if (s === 0) throw new Error('Slice step cannot be 0');
    let b = starts[i]!;
    let e = ends[i]!;
    if (b < 0) b += d;
    if (e < 0) e += d;
    if (s > 0) {
      b = Math.min(Math.max(b, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      b = Math.min(Math.max(b, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    start[a] = b;
    step[a] = s;
    count[a] = Math.max(0, Math.ceil((e - b) / s));
  });
  return { start, step, count };
}

defineKernel('Identity', (node, ins) => [need(node, ins, 0)]);
defineKernel('Dropout', (node, ins) => {
  const x = need(node, ins, 0);
  return [x, tensor('bool', x.dims, new Uint8Array(sizeOf(x.dims)).fill(1))];
});

defineKernel('Constant', (node) => {
  const t = attrTensor(node, 'value');
  if (t) return [t];
  const f = attrFloat(node, 'value_float');
  if (f !== undefined) return [tensor('float32', [], [f])];
  const i = attrInt(node, 'value_int');
  if (i !== undefined) return [tensor('int64', [], [i])];
  const fs = node.attrs['value_floats'];
  if (fs?.type === 'floats') return [tensor('float32', [fs.value.length], fs.value)];
  const is = attrInts(node, 'value_ints');
  if (is) return [tensor('int64', [is.length], is)];
  throw new Error(`Constant "${node.name}" has no supported value attribute`);
});

defineKernel('Shape', (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  let start = attrInt(node, 'start', 0);
  let end = attrInt(node, 'end', r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = Math.min(Math.max(start, 0), r);
  end = Math.min(Math.max(end, 0), r);
  const dims = x.dims.slice(start, Math.max(start, end));
  return [tensor('int64', [dims.length], dims)];
});

defineKernel('Size', (node, ins) => [tensor('int64', [], [sizeOf(need(node, ins, 0).dims)])]);

defineKernel('ConstantOfShape', (node, ins) => {
  const dims = toNumbers(need(node, ins, 0));
  const v = attrTensor(node, 'value') ?? tensor('float32', [1], [0]);
  const out = allocate(v.dtype, sizeOf(dims));
  const fill = v.data[0]!;
  for (let i = 0; i < out.length; i++) put(out, i, fill);
  return [{ dtype: v.dtype, dims, data: out }];
});

defineKernel('Cast', (node, ins) => {
  const to = dtypeFromOnnx(attrInt(node, 'to', 1));
  if (!to) throw new Error(`Cast "${node.name}": unsupported target type`);
  return [castTensor(need(node, ins, 0), to)];
});

defineKernel('Reshape', (node, ins) => {
  const x = need(node, ins, 0);
  const dims = reshapeTarget(x.dims, toNumbers(need(node, ins, 1)), attrInt(node, 'allowzero', 0) === 1);
  return [{ dtype: x.dtype, dims, data: x.data }];
});

defineKernel('Flatten', (node, ins) => {
  const x = need(node, ins, 0);
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += x.dims.length;
  const dims = [sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))];
  return [{ dtype: x.dtype, dims, data: x.data }];
});

defineKernel('Squeeze', (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  const axes = ins[1] ? toNumbers(ins[1]).map((a) => (a < 0 ? a + r : a)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : []));
  const dims = x.dims.filter((_, i) => !axes.includes(i));
  return [{ dtype: x.dtype, dims, data: x.data }];
});

defineKernel('Unsqueeze', (node, ins) => {
  const x = need(node, ins, 0);
  const axesRaw = toNumbers(need(node, ins, 1));
  const r = x.dims.length + axesRaw.length;
  const axes = axesRaw.map((a) => (a < 0 ? a + r : a));
  const dims: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) dims.push(axes.includes(i) ? 1 : x.dims[k++]!);
  return [{ dtype: x.dtype, dims, data: x.data }];
});

defineKernel('Transpose', (node, ins) => {
  const x = need(node, ins, 0);
  const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
  return [transposeTensor(x, perm)];
});

defineKernel('Expand', (node, ins) => {
  const x = need(node, ins, 0);
  return [broadcastTo(x, broadcastDims(x.dims, toNumbers(need(node, ins, 1))))];
});

defineKernel('Tile', (node, ins) => {
  const x = need(node, ins, 0);
  const reps = toNumbers(need(node, ins, 1));
  const st = stridesOf(x.dims);
  const outDims = x.dims.map((d, i) => d * reps[i]!);
  return [remap(x, outDims, (idx) => idx.reduce((acc, v, k) => acc + (v % x.dims[k]!) * st[k]!, 0))];
});

defineKernel('Concat', (node, ins) => {
  const parts = ins.filter((t): t is Tensor => !!t);
  const r = parts[0]!.dims.length;
  let axis = attrInt(node, 'axis', 0);
  if (axis < 0) axis += r;
  const outDims = [...parts[0]!.dims];
  outDims[axis] = parts.reduce((a, t) => a + t.dims[axis]!, 0);
  const outer = sizeOf(outDims.slice(0, axis));
  const out = allocate(parts[0]!.dtype, sizeOf(outDims));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const t of parts) {
      const block = sizeOf(t.dims.slice(axis));
      for (let j = 0; j < block; j++) put(out, o++, get(t, i * block + j));
    }
  }
  return [{ dtype: parts[0]!.dtype, dims: outDims, data: out }];
});

defineKernel('Split', (node, ins) => {
  const x = need(node, ins, 0);
  let axis = attrInt(node, 'axis', 0);
  if (axis < 0) axis += x.dims.length;
  const n = node.outputs.length;
  const d = x.dims[axis]!;
  const chunk = Math.ceil(d / n);
  const sizes = ins[1] ? toNumbers(ins[1]) : Array.from({ length: n }, (_, i) => (i < n - 1 ? chunk : d - chunk * (n - 1)));
  const st = stridesOf(x.dims);
  let offset = 0;
  return sizes.map((s) => {
    const outDims = [...x.dims];
    outDims[axis] = s;
    const base = offset;
    offset += s;
    return remap(x, outDims, (idx) => idx.reduce((acc, v, k) => acc + (k === axis ? v + base : v) * st[k]!, 0));
  });
});

defineKernel('Slice', (node, ins) => {
  const x = need(node, ins, 0);
  const { start, step, count } = resolveSlice(
    x.dims,
    toNumbers(need(node, ins, 1)),
    toNumbers(need(node, ins, 2)),
    ins[3] ? toNumbers(ins[3]) : undefined,
    ins[4] ? toNumbers(ins[4]) : undefined,
  );
  const st = stridesOf(x.dims);
  return [remap(x, count, (idx) => idx.reduce((acc, v, k) => acc + (start[k]! + v * step[k]!) * st[k]!, 0))];
});

defineKernel('Pad', (node, ins) => {
  const x = need(node, ins, 0);
  const r = x.dims.length;
  const pads = toNumbers(need(node, ins, 1));
  const mode = attrString(node, 'mode', 'constant');
  const cv = ins[2] ? ins[2].data[0]! : x.data instanceof BigInt64Array ? 0n : 0;
  const outDims = x.dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const st = stridesOf(x.dims);
  const n = sizeOf(outDims);
  const out = allocate(x.dtype, n);
  const idx = new Array<number>(r).fill(0);
  for (let f = 0; f < n; f++) {
    let src = 0;
    let inside = true;
    for (let k = 0; k < r; k++) {
      const d = x.dims[k]!;
      let i = idx[k]! - pads[k]!;
      if (i < 0 || i >= d) {
        if (mode === 'constant') inside = false;
        else if (mode === 'reflect') {
          const period = 2 * (d - 1);
          i = period === 0 ? 0 : ((i % period) + period) % period;
          if (i >= d) i = period - i;
        } else if (mode === 'edge') i = Math.min(Math.max(i, 0), d - 1);
        else if (mode === 'wrap') i = ((i % d) + d) % d;
        else throw new Error(`Pad "${node.name}": unknown mode ${mode}`);
      }
      src += i * st[k]!;
    }
    put(out, f, inside ? get(x, src) : cv);
    for (let k = r - 1; k >= 0; k--) {
      if (++idx[k]! < outDims[k]!) break;
      idx[k] = 0;
    }
  }
  return [{ dtype: x.dtype, dims: outDims, data: out }];
});

defineKernel('Range', (node, ins) => {
  const [s, l, d] = [0, 1, 2].map((i) => Number(need(node, ins, i).data[0]!));
  const n = Math.max(Math.ceil((l! - s!) / d!), 0);
  const vals = Array.from({ length: n }, (_, i) => s! + i * d!);
  return [tensor(need(node, ins, 0).dtype, [n], vals)];
});

function compare(op: string, f: (a: number, b: number) => boolean): void {
  defineKernel(op, (node, ins) => {
    const a = need(node, ins, 0);
    const b = need(node, ins, 1);
    const dims = broadcastDims(a.dims, b.dims);
    const av = toFloat64(broadcastTo(a, dims));
    const bv = toFloat64(broadcastTo(b, dims));
    const out = new Uint8Array(av.length);
    for (let i = 0; i < out.length; i++) out[i] = f(av[i]!, bv[i]!) ? 1 : 0;
    return [{ dtype: 'bool', dims, data: out }];
  });
}
compare('Equal', (a, b) => a === b);
compare('Greater', (a, b) => a > b);
compare('Less', (a, b) => a < b);
compare('GreaterOrEqual', (a, b) => a >= b);
compare('LessOrEqual', (a, b) => a <= b);
compare('And', (a, b) => a !== 0 && b !== 0);
compare('Or', (a, b) => a !== 0 || b !== 0);

defineKernel('Not', (node, ins) => {
  const x = need(node, ins, 0);
  return [{ dtype: 'bool', dims: [...x.dims], data: Uint8Array.from(x.data as Uint8Array, (v) => (v ? 0 : 1)) }];
});

defineKernel('Where', (node, ins) => {
  const c = need(node, ins, 0);
  const a = need(node, ins, 1);
  const b = need(node, ins, 2);
  const dims = broadcastDims(broadcastDims(c.dims, a.dims), b.dims);
  const cc = broadcastTo(c, dims);
  const aa = broadcastTo(a, dims);
  const bb = broadcastTo(b, dims);
  const out = allocate(a.dtype, sizeOf(dims));
  for (let i = 0; i < out.length; i++) put(out, i, cc.data[i] ? get(aa, i) : get(bb, i));
  return [{ dtype: a.dtype, dims, data: out }];
});
