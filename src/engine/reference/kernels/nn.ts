import { attrInt, attrInts, type Node } from '../../graph/ir.js';
import { transposeGeometry, windowGeometry } from '../../ops/geometry.js';
import { sizeOf, toFloat64, type Tensor } from '../../tensor.js';
import { defineKernel, type Shaped } from '../evaluator.js';
import { fromFloat64, kernelError, need, resultDType, stridesOf, type Inputs } from './util.js';

// Convolution and pooling over any number of spatial axes. Every kernel reads its window
// geometry through ops/geometry.ts, so output sizes always agree with the shape rules.

function staticSizes(node: Node, dims: readonly (number | string)[]): number[] {
  if (!dims.every((d): d is number => typeof d === 'number')) throw kernelError(node, `output size [${dims.join(', ')}] is not static`);
  return [...dims];
}

/**
 * For each (output position, kernel tap) pair, the flat offset of the input element the tap
 * reads within one spatial plane, or -1 where the tap lands in padding (or past the input in
 * ceil mode). Row-major over output positions, then taps.
 */
function windowTable(
  inSp: readonly number[],
  outSp: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padBegin: readonly number[],
): Int32Array {
  const r = inSp.length;
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const inStr = stridesOf(inSp);
  // Per-axis input coordinate for (o, k), -1 when outside the input.
  const axisPos = inSp.map((n, a) => {
    const t = new Int32Array(outSp[a]! * kernel[a]!);
    for (let o = 0; o < outSp[a]!; o++)
      for (let k = 0; k < kernel[a]!; k++) {
        const p = o * strides[a]! - padBegin[a]! + k * dilations[a]!;
        t[o * kernel[a]! + k] = p >= 0 && p < n ? p : -1;
      }
    return t;
  });
  const table = new Int32Array(outN * kN);
  const oi = new Array<number>(r).fill(0);
  const ki = new Array<number>(r).fill(0);
  for (let o = 0; o < outN; o++) {
    ki.fill(0);
    for (let k = 0; k < kN; k++) {
      let off = 0;
      for (let a = 0; a < r; a++) {
        const p = axisPos[a]![oi[a]! * kernel[a]! + ki[a]!]!;
        if (p < 0) {
          off = -1;
          break;
        }
        off += p * inStr[a]!;
      }
      table[o * kN + k] = off;
      increment(ki, kernel);
    }
    increment(oi, outSp);
  }
  return table;
}

/** Advances a row-major multi-index (wrapping to all zeros at the end). */
function increment(idx: number[], dims: readonly number[]): void {
  for (let a = dims.length - 1; a >= 0; a--) {
    if (++idx[a]! < dims[a]!) return;
    idx[a] = 0;
  }
}

function checkRank(node: Node, x: Tensor, minRank = 3): void {
  if (x.dims.length < minRank) throw kernelError(node, `input must be [N, C, spatial...], got rank ${x.dims.length}`);
}

// ------------------------------------------------------------------ Conv

function conv(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  const wT = need(node, inputs, 1);
  const bT = inputs[2];
  checkRank(node, xT);
  const [N, C] = xT.dims as [number, number];
  const inSp = xT.dims.slice(2);
  const [M, Cg] = wT.dims as [number, number];
  const kernel = wT.dims.slice(2);
  const group = attrInt(node, 'group', 1);
  if (kernel.length !== inSp.length) throw kernelError(node, `weight rank ${wT.dims.length} does not match input rank ${xT.dims.length}`);
  if (C !== Cg * group || M % group !== 0) throw kernelError(node, `${C} input channels and weight [${wT.dims.join(', ')}] do not fit group=${group}`);
  const g = windowGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, g.out);
  const table = windowTable(inSp, outSp, kernel, g.strides, g.dilations, g.padBegin);
  const x = toFloat64(xT);
  const w = toFloat64(wT);
  const b = bT ? toFloat64(bT) : undefined;
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const Mg = M / group;
  const y = new Float64Array(N * M * outN);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const gi = Math.floor(m / Mg);
      const ybase = (n * M + m) * outN;
      if (b) y.fill(b[m]!, ybase, ybase + outN);
      for (let c = 0; c < Cg; c++) {
        const xbase = (n * C + gi * Cg + c) * inN;
        const wbase = (m * Cg + c) * kN;
        for (let o = 0; o < outN; o++) {
          let s = 0;
          const tbase = o * kN;
          for (let k = 0; k < kN; k++) {
            const off = table[tbase + k]!;
            if (off >= 0) s += x[xbase + off]! * w[wbase + k]!;
          }
          y[ybase + o] += s;
        }
      }
    }
  return [fromFloat64(resultDType(xT, wT, bT), [N, M, ...outSp], y)];
}

// ------------------------------------------------------------------ ConvTranspose

function convTranspose(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  const wT = need(node, inputs, 1);
  const bT = inputs[2];
  checkRank(node, xT);
  const [N, C] = xT.dims as [number, number];
  const inSp = xT.dims.slice(2);
  const [Cw, Mg] = wT.dims as [number, number];
  const kernel = wT.dims.slice(2);
  const group = attrInt(node, 'group', 1);
  if (kernel.length !== inSp.length) throw kernelError(node, `weight rank ${wT.dims.length} does not match input rank ${xT.dims.length}`);
  if (Cw !== C || C % group !== 0) throw kernelError(node, `${C} input channels and weight [${wT.dims.join(', ')}] do not fit group=${group}`);
  const g = transposeGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, g.out);
  const M = Mg * group;
  const Cg = C / group;
  const r = inSp.length;
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const kN = sizeOf(kernel);
  const outStr = stridesOf(outSp);
  // Scatter table: where input position i, tap k lands in the output plane (-1 when cropped by pads).
  const table = new Int32Array(inN * kN);
  const ii = new Array<number>(r).fill(0);
  const ki = new Array<number>(r).fill(0);
  for (let i = 0; i < inN; i++) {
    ki.fill(0);
    for (let k = 0; k < kN; k++) {
      let off = 0;
      for (let a = 0; a < r; a++) {
        const p = ii[a]! * g.strides[a]! + ki[a]! * g.dilations[a]! - g.padBegin[a]!;
        if (p < 0 || p >= outSp[a]!) {
          off = -1;
          break;
        }
        off += p * outStr[a]!;
      }
      table[i * kN + k] = off;
      increment(ki, kernel);
    }
    increment(ii, inSp);
  }
  const x = toFloat64(xT);
  const w = toFloat64(wT);
  const b = bT ? toFloat64(bT) : undefined;
  const y = new Float64Array(N * M * outN);
  for (let n = 0; n < N; n++)
    for (let gi = 0; gi < group; gi++)
      for (let m = 0; m < Mg; m++) {
        const ybase = (n * M + gi * Mg + m) * outN;
        if (b) y.fill(b[gi * Mg + m]!, ybase, ybase + outN);
        for (let c = 0; c < Cg; c++) {
          const xbase = (n * C + gi * Cg + c) * inN;
          const wbase = ((gi * Cg + c) * Mg + m) * kN;
          for (let i = 0; i < inN; i++) {
            const xv = x[xbase + i]!;
            const tbase = i * kN;
            for (let k = 0; k < kN; k++) {
              const off = table[tbase + k]!;
              if (off >= 0) y[ybase + off] += xv * w[wbase + k]!;
            }
          }
        }
      }
  return [fromFloat64(resultDType(xT, wT, bT), [N, M, ...outSp], y)];
}

// ------------------------------------------------------------------ pools

interface PoolSetup {
  N: number;
  C: number;
  inSp: number[];
  outSp: number[];
  kN: number;
  table: Int32Array;
}

function poolSetup(node: Node, xT: Tensor): PoolSetup & { geometry: ReturnType<typeof windowGeometry> } {
  checkRank(node, xT);
  const kernel = attrInts(node, 'kernel_shape');
  if (!kernel) throw kernelError(node, 'kernel_shape attribute is required');
  const inSp = xT.dims.slice(2);
  const geometry = windowGeometry(node, inSp, kernel);
  const outSp = staticSizes(node, geometry.out);
  const table = windowTable(inSp, outSp, kernel, geometry.strides, geometry.dilations, geometry.padBegin);
  return { N: xT.dims[0]!, C: xT.dims[1]!, inSp, outSp, kN: sizeOf(kernel), table, geometry };
}

function maxPool(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  const { N, C, inSp, outSp, kN, table } = poolSetup(node, xT);
  const storageOrder = attrInt(node, 'storage_order', 0);
  const wantIndices = node.outputs.length > 1 && node.outputs[1] !== '';
  const x = toFloat64(xT);
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  const y = new Float64Array(N * C * outN);
  const idx = wantIndices ? new BigInt64Array(N * C * outN) : undefined;
  // storage_order=1 numbers the spatial plane column-major (first spatial axis fastest).
  const colStr = stridesOf([...inSp].reverse()).reverse();
  const rowStr = stridesOf(inSp);
  const toColMajor = (off: number): number => {
    let c = 0;
    for (let a = 0; a < inSp.length; a++) {
      const p = Math.floor(off / rowStr[a]!) % inSp[a]!;
      c += p * colStr[a]!;
    }
    return c;
  };
  for (let nc = 0; nc < N * C; nc++) {
    const xbase = nc * inN;
    for (let o = 0; o < outN; o++) {
      let best = -Infinity;
      let arg = -1;
      for (let k = 0; k < kN; k++) {
        const off = table[o * kN + k]!;
        // Strictly greater keeps the first maximum in row-major window order, as ONNX Runtime does.
        if (off >= 0 && (arg < 0 || x[xbase + off]! > best)) {
          best = x[xbase + off]!;
          arg = off;
        }
      }
      y[nc * outN + o] = best;
      if (idx) idx[nc * outN + o] = BigInt(xbase + (storageOrder === 1 ? toColMajor(arg) : arg));
    }
  }
  const outDims = [N, C, ...outSp];
  const outs: Tensor[] = [fromFloat64(xT.dtype, outDims, y)];
  if (idx) outs.push({ dtype: 'int64', dims: outDims, data: idx });
  return outs;
}

function averagePool(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  const { N, C, inSp, outSp, kN, table, geometry } = poolSetup(node, xT);
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const x = toFloat64(xT);
  const inN = sizeOf(inSp);
  const outN = sizeOf(outSp);
  // With count_include_pad=1 the divisor counts taps inside input+pads only: ceil-mode windows
  // that hang past the end padding are clipped (PyTorch and ONNX Runtime agree on this).
  let padCount: Float64Array | undefined;
  if (includePad) {
    const r = inSp.length;
    const perAxis = inSp.map((n, a) => {
      const counts = new Float64Array(outSp[a]!);
      for (let o = 0; o < outSp[a]!; o++) {
        let c = 0;
        for (let k = 0; k < geometry.kernel[a]!; k++) {
          const p = o * geometry.strides[a]! - geometry.padBegin[a]! + k * geometry.dilations[a]!;
          if (p < n + geometry.padEnd[a]!) c++;
        }
        counts[o] = c;
      }
      return counts;
    });
    padCount = new Float64Array(outN);
    const oi = new Array<number>(r).fill(0);
    for (let o = 0; o < outN; o++) {
      let c = 1;
      for (let a = 0; a < r; a++) c *= perAxis[a]![oi[a]!]!;
      padCount[o] = c;
      increment(oi, outSp);
    }
  }
  const y = new Float64Array(N * C * outN);
  for (let nc = 0; nc < N * C; nc++) {
    const xbase = nc * inN;
    for (let o = 0; o < outN; o++) {
      let s = 0;
      let count = 0;
      for (let k = 0; k < kN; k++) {
        const off = table[o * kN + k]!;
        if (off >= 0) {
          s += x[xbase + off]!;
          count++;
        }
      }
      y[nc * outN + o] = s / (padCount ? padCount[o]! : count);
    }
  }
  return [fromFloat64(xT.dtype, [N, C, ...outSp], y)];
}

function globalPool(kind: 'avg' | 'max') {
  return (node: Node, inputs: Inputs): Tensor[] => {
    const xT = need(node, inputs, 0);
    checkRank(node, xT);
    const [N, C] = xT.dims as [number, number];
    const inN = sizeOf(xT.dims.slice(2));
    const x = toFloat64(xT);
    const y = new Float64Array(N * C);
    for (let nc = 0; nc < N * C; nc++) {
      let acc = kind === 'avg' ? 0 : -Infinity;
      for (let i = nc * inN; i < (nc + 1) * inN; i++) acc = kind === 'avg' ? acc + x[i]! : Math.max(acc, x[i]!);
      y[nc] = kind === 'avg' ? acc / inN : acc;
    }
    return [fromFloat64(xT.dtype, [N, C, ...xT.dims.slice(2).map(() => 1)], y)];
  };
}

// Work bounds (see KernelWork). A window's taps are visited whether they land in the input or in
// the padding, and the tap table holds one entry per (output position, tap): a Conv of a 1x1
// constant padded by 207 with a 100x100 kernel is 1e5 positions x 1e4 taps, a 4 GB table.
type WorkInputs = readonly (Shaped | undefined)[];
const planeOf = (dims: readonly number[] | undefined): number => sizeOf((dims ?? []).slice(2));

function convWork(_node: Node, inputs: WorkInputs, outputs: readonly (readonly number[])[]): number {
  const w = inputs[1]?.dims ?? [];
  const taps = sizeOf(w.slice(2));
  // each output element sums in-channels-per-group x taps products
  return sizeOf(outputs[0] ?? []) * sizeOf(w.slice(1)) + planeOf(outputs[0]) * taps;
}

function convTransposeWork(_node: Node, inputs: WorkInputs): number {
  const x = inputs[0]?.dims ?? [];
  const w = inputs[1]?.dims ?? [];
  // each input element is scattered to out-channels-per-group x taps places
  return sizeOf(x) * sizeOf(w.slice(1)) + planeOf(x) * sizeOf(w.slice(2));
}

function poolWork(node: Node, _inputs: WorkInputs, outputs: readonly (readonly number[])[]): number {
  const taps = sizeOf(attrInts(node, 'kernel_shape') ?? []);
  return (sizeOf(outputs[0] ?? []) + planeOf(outputs[0])) * taps;
}

defineKernel('Conv', conv, convWork);
defineKernel('ConvTranspose', convTranspose, convTransposeWork);
defineKernel('MaxPool', maxPool, poolWork);
defineKernel('AveragePool', averagePool, poolWork);
defineKernel('GlobalAveragePool', globalPool('avg'));
defineKernel('GlobalMaxPool', globalPool('max'));
