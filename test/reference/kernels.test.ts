import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import '../../src/engine/reference/kernels/index.js';
import { evaluateGraph, evaluateNode, hasKernel } from '../../src/engine/reference/evaluator.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import { Graph, toAttr, type AttrInput, type Node } from '../../src/engine/graph/ir.js';
import { castTensor, isFloatDType, tensor, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { parseNpy } from '../../src/io/npy.js';
import { erf } from '../../src/engine/reference/kernels/math.js';
import { rng, randn } from '../support/rng.js';

// ------------------------------------------------------------------ helpers

function makeNode(op: string, nIn: number, attrs: Record<string, AttrInput> = {}, nOut = 1): Node {
  const typed: Node['attrs'] = {};
  for (const [k, v] of Object.entries(attrs)) typed[k] = toAttr(k, v);
  return {
    op,
    name: `${op.toLowerCase()}_test`,
    inputs: Array.from({ length: nIn }, (_, i) => `in${i}`),
    outputs: Array.from({ length: nOut }, (_, i) => `out${i}`),
    attrs: typed,
  };
}

function run(op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrInput> = {}, nOut = 1, opset = 17): Tensor[] {
  return evaluateNode(makeNode(op, inputs.length, attrs, nOut), inputs, opset);
}

const run1 = (op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrInput> = {}, opset = 17): Tensor => run(op, inputs, attrs, 1, opset)[0]!;

const f32 = (dims: number[], v: ArrayLike<number>): Tensor => tensor('float32', dims, v);
const f64 = (dims: number[], v: ArrayLike<number>): Tensor => tensor('float64', dims, v);
const i64 = (dims: number[], v: ArrayLike<number> | ArrayLike<bigint>): Tensor => tensor('int64', dims, v);
const seq = (n: number, start = 1): number[] => Array.from({ length: n }, (_, i) => i + start);

function expectClose(t: Tensor, dims: readonly number[], values: readonly number[], tol = 1e-12): void {
  expect(t.dims).toEqual(dims);
  const got = toFloat64(t);
  expect(got.length).toBe(values.length);
  for (let i = 0; i < values.length; i++) {
    const want = values[i]!;
    if (Number.isNaN(want)) expect(got[i]).toBeNaN();
    else if (Math.abs(got[i]! - want) > tol * Math.max(1, Math.abs(want))) {
      expect.fail(`element ${i}: got ${got[i]}, want ${want} (all: [${Array.from(got).join(', ')}])`);
    }
  }
}

function ints(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

// ------------------------------------------------------------------ dtype rules

describe('dtype handling', () => {
  it('keeps float32 and float64 and promotes mixed float operands to float64', () => {
    expect(run1('Relu', [f32([2], [-1, 2])]).dtype).toBe('float32');
    expect(run1('Relu', [f64([2], [-1, 2])]).dtype).toBe('float64');
    expect(run1('Add', [f64([2], [1, 2]), f32([], [0.5])]).dtype).toBe('float64');
    expect(run1('Conv', [f64([1, 1, 2, 2], [1, 2, 3, 4]), f32([1, 1, 1, 1], [2])]).dtype).toBe('float64');
  });

  it('computes in float64 before rounding to float32', () => {
    // 1e8 + 1 - 1e8 would be 0 in float32 arithmetic; ReduceSum in float64 keeps the 1 (then rounds the result).
    expectClose(run1('ReduceSum', [f32([3], [1e8, 1, -1e8])]), [1], [1]);
    expectClose(run1('Sum', [f32([1], [1e8]), f32([1], [1]), f32([1], [-1e8])]), [1], [1]);
    expectClose(run1('Mean', [f32([1], [1e8]), f32([1], [1]), f32([1], [-1e8])]), [1], [1 / 3], 1e-7);
  });

  it('reads and writes float16', () => {
    const h = tensor('float16', [4], Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001)); // 1, -2, 65504, 2^-24
    const y = run1('Neg', [h]);
    expect(y.dtype).toBe('float16');
    expect(Array.from(y.data as Uint16Array)).toEqual([0xbc00, 0x4000, 0xfbff, 0x8001]);
    expect(Array.from(run1('Relu', [h]).data as Uint16Array)).toEqual([0x3c00, 0, 0x7bff, 0x0001]);
  });
});

// ------------------------------------------------------------------ Conv family

describe('Conv', () => {
  const x = f64([1, 1, 3, 3], seq(9));
  const ones = f64([1, 1, 2, 2], [1, 1, 1, 1]);

  it('valid 2x2 window', () => {
    expectClose(run1('Conv', [x, ones]), [1, 1, 2, 2], [12, 16, 24, 28]);
  });

  it('pads, strides and bias', () => {
    // padded 5x5 with stride 2: windows at rows/cols -1, 1
    const y = run1('Conv', [x, ones, f64([1], [0.5])], { pads: [1, 1, 1, 1], strides: [2, 2] });
    expectClose(y, [1, 1, 2, 2], [1.5, 5.5, 11.5, 28.5]);
  });

  it('asymmetric pads and dilation', () => {
    // 2x2 kernel dilated by 2 covers a 3x3 extent: corners only.
    const y = run1('Conv', [x, ones], { dilations: [2, 2] });
    expectClose(y, [1, 1, 1, 1], [1 + 3 + 7 + 9]);
    const z = run1('Conv', [x, ones], { pads: [0, 1, 0, 0] });
    expectClose(z, [1, 1, 2, 3], [5, 12, 16, 11, 24, 28]);
  });

  it('auto_pad SAME_UPPER and SAME_LOWER', () => {
    expectClose(run1('Conv', [x, ones], { auto_pad: 'SAME_UPPER' }), [1, 1, 3, 3], [12, 16, 9, 24, 28, 15, 15, 17, 9]);
    expectClose(run1('Conv', [x, ones], { auto_pad: 'SAME_LOWER' }), [1, 1, 3, 3], [1, 3, 5, 5, 12, 16, 11, 24, 28]);
  });

  it('groups and depthwise', () => {
    const x2 = f64([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    const w = f64([2, 1, 1, 1], [2, -1]);
    expectClose(run1('Conv', [x2, w], { group: 2 }), [1, 2, 2, 2], [2, 4, 6, 8, -10, -20, -30, -40]);
    // groups=2 with 2 outputs per group: each output only sees its own group's channel
    const w4 = f64([4, 1, 1, 1], [1, 2, 3, 4]);
    expectClose(run1('Conv', [x2, w4], { group: 2 }), [1, 4, 2, 2], [1, 2, 3, 4, 2, 4, 6, 8, 30, 60, 90, 120, 40, 80, 120, 160]);
    // no group: channels sum
    expectClose(run1('Conv', [x2, f64([1, 2, 1, 1], [1, 1])]), [1, 1, 2, 2], [11, 22, 33, 44]);
  });

  it('1-D conv', () => {
    const y = run1('Conv', [f64([1, 1, 5], seq(5)), f64([1, 1, 3], [1, 0, -1])], { pads: [1, 1] });
    expectClose(y, [1, 1, 5], [-2, -2, -2, -2, 4]);
  });

  it('is fast enough for test-sized inputs', () => {
    const r = rng(1);
    const xs = tensor('float64', [2, 8, 16, 16], randn(r, 2 * 8 * 256));
    const ws = tensor('float64', [8, 8, 3, 3], randn(r, 8 * 8 * 9));
    run1('Conv', [xs, ws], { pads: [1, 1, 1, 1] });
    const t0 = performance.now();
    run1('Conv', [xs, ws], { pads: [1, 1, 1, 1] });
    expect(performance.now() - t0).toBeLessThan(250);
  });
});

describe('ConvTranspose', () => {
  const x = f64([1, 1, 2, 2], [1, 2, 3, 4]);
  const ones = f64([1, 1, 2, 2], [1, 1, 1, 1]);

  it('stride 1 spreads each input over the kernel', () => {
    expectClose(run1('ConvTranspose', [x, ones]), [1, 1, 3, 3], [1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('stride 2, output_padding and bias', () => {
    const y = run1('ConvTranspose', [x, ones, f64([1], [0.5])], { strides: [2, 2], output_padding: [1, 0] });
    // 4x4 of 2x2 blocks, one extra bias-only row at the bottom
    expectClose(y, [1, 1, 5, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 0, 0, 0, 0].map((v) => v + 0.5));
  });

  it('pads crop the output', () => {
    expectClose(run1('ConvTranspose', [x, ones], { pads: [1, 1, 1, 1] }), [1, 1, 1, 1], [10]);
  });

  it('output_shape decides the pads', () => {
    const y = run1('ConvTranspose', [x, ones], { strides: [2, 2], output_shape: [3, 3] });
    // The full output is 4x4 and total padding 1; unless auto_pad is SAME_UPPER the odd pad goes to
    // the beginning (ONNX spec, and ONNX Runtime agrees), so the first row and column are cropped.
    expectClose(y, [1, 1, 3, 3], [1, 2, 2, 3, 4, 4, 3, 4, 4]);
  });

  it('groups map input channel groups to output channel groups', () => {
    const x2 = f64([1, 2, 1, 1], [1, 10]);
    const w = f64([2, 2, 1, 1], [1, 2, 3, 4]); // [C_in, C_out/group, 1, 1]
    expectClose(run1('ConvTranspose', [x2, w], { group: 2 }), [1, 4, 1, 1], [1, 2, 30, 40]);
    expectClose(run1('ConvTranspose', [x2, w]), [1, 2, 1, 1], [1 + 30, 2 + 40]);
  });
});

describe('pools', () => {
  const x = f64([1, 1, 4, 4], [1, 5, 2, 0, 3, 4, 8, 7, 9, 6, 1, 2, 0, 3, 4, 5]);

  it('MaxPool with indices', () => {
    const [y, idx] = run('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, 2);
    expectClose(y!, [1, 1, 2, 2], [5, 8, 9, 5]);
    expect(idx!.dtype).toBe('int64');
    expect(ints(idx!)).toEqual([1, 6, 8, 15]);
  });

  it('MaxPool indices count batch and channel, and storage_order=1 goes column-major', () => {
    const x2 = f64([2, 1, 2, 2], [1, 2, 3, 4, 8, 7, 6, 5]);
    const [, idx] = run('MaxPool', [x2], { kernel_shape: [2, 2] }, 2);
    expect(ints(idx!)).toEqual([3, 4]);
    const [, col] = run('MaxPool', [x2], { kernel_shape: [2, 2], storage_order: 1 }, 2);
    expect(ints(col!)).toEqual([3, 4]);
    const [, col2] = run('MaxPool', [f64([1, 1, 2, 3], [0, 9, 0, 0, 0, 0])], { kernel_shape: [2, 3], storage_order: 1 }, 2);
    expect(ints(col2!)).toEqual([2]); // (h=0, w=1) is element 1*H + 0 = 2 column-major
  });

  it('MaxPool ceil_mode clips the last window and pads never win', () => {
    const x5 = f64([1, 1, 1, 5], [-5, -4, -3, -2, -1]);
    expectClose(run1('MaxPool', [x5], { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1 }), [1, 1, 1, 3], [-4, -2, -1]);
    expectClose(run1('MaxPool', [x5], { kernel_shape: [1, 2], strides: [1, 2] }), [1, 1, 1, 2], [-4, -2]);
    // a window that would start in the end padding is dropped (ONNX Runtime / PyTorch behaviour)
    expectClose(run1('MaxPool', [x5], { kernel_shape: [1, 2], strides: [1, 2], pads: [0, 1, 0, 1], ceil_mode: 1 }), [1, 1, 1, 3], [-5, -3, -1]);
  });

  it('MaxPool dilations and 1-D', () => {
    expectClose(run1('MaxPool', [f64([1, 1, 5], [1, 9, 2, 8, 3])], { kernel_shape: [2], dilations: [2] }), [1, 1, 3], [2, 9, 3]);
  });

  it('AveragePool count_include_pad', () => {
    const x3 = f64([1, 1, 3, 3], seq(9));
    const opts = { kernel_shape: [2, 2], pads: [1, 1, 0, 0] };
    expectClose(run1('AveragePool', [x3], opts), [1, 1, 3, 3], [1, 1.5, 2.5, 2.5, 3, 4, 5.5, 6, 7]);
    expectClose(run1('AveragePool', [x3], { ...opts, count_include_pad: 1 }), [1, 1, 3, 3], [0.25, 0.75, 1.25, 1.25, 3, 4, 2.75, 6, 7]);
  });

  it('AveragePool ceil_mode: clipped windows divide by the taps inside input+pads', () => {
    const x5 = f64([1, 1, 1, 5], [1, 2, 3, 4, 5]);
    const base = { kernel_shape: [1, 2], strides: [1, 2], ceil_mode: 1 };
    expectClose(run1('AveragePool', [x5], base), [1, 1, 1, 3], [1.5, 3.5, 5]);
    // count_include_pad=1 without pads: the last window holds only 5 and still divides by 1
    expectClose(run1('AveragePool', [x5], { ...base, count_include_pad: 1 }), [1, 1, 1, 3], [1.5, 3.5, 5]);
    // with pads [1, 1]: windows [-1,0] [1,2] [3,4]; the pad at -1 counts, nothing runs past the end pad
    expectClose(run1('AveragePool', [x5], { ...base, pads: [0, 1, 0, 1], count_include_pad: 1 }), [1, 1, 1, 3], [0.5, 2.5, 4.5]);
    // kernel 3 stride 2 pad 1 on 4: windows [-1..1] [1..3] [3..5]; the last hangs 1 past the end pad (index 5)
    const x4 = f64([1, 1, 1, 4], [1, 2, 3, 4]);
    const k3 = { kernel_shape: [1, 3], strides: [1, 2], pads: [0, 1, 0, 1], ceil_mode: 1 };
    expectClose(run1('AveragePool', [x4], { ...k3, count_include_pad: 1 }), [1, 1, 1, 3], [1, 3, 2]);
    expectClose(run1('AveragePool', [x4], k3), [1, 1, 1, 3], [1.5, 3, 4]);
  });

  it('global pools', () => {
    const x2 = f64([1, 2, 2, 2], [1, 2, 3, 4, -1, -5, -3, -2]);
    expectClose(run1('GlobalAveragePool', [x2]), [1, 2, 1, 1], [2.5, -2.75]);
    expectClose(run1('GlobalMaxPool', [x2]), [1, 2, 1, 1], [4, -1]);
    expectClose(run1('GlobalAveragePool', [f64([1, 1, 3], [1, 2, 6])]), [1, 1, 1], [3]);
  });
});

// ------------------------------------------------------------------ elementwise

describe('unary ops and activations', () => {
  const xs = [-3, -1, -0.25, 0, 0.5, 2, 4];
  const cases: [string, Record<string, AttrInput>, (v: number) => number][] = [
    ['Relu', {}, (v) => Math.max(0, v)],
    ['LeakyRelu', {}, (v) => (v < 0 ? 0.01 * v : v)],
    ['LeakyRelu', { alpha: 0.5 }, (v) => (v < 0 ? 0.5 * v : v)],
    ['Elu', {}, (v) => (v < 0 ? Math.exp(v) - 1 : v)],
    ['Elu', { alpha: 2 }, (v) => (v < 0 ? 2 * (Math.exp(v) - 1) : v)],
    ['Sigmoid', {}, (v) => 1 / (1 + Math.exp(-v))],
    ['Tanh', {}, (v) => (Math.exp(2 * v) - 1) / (Math.exp(2 * v) + 1)],
    ['HardSigmoid', {}, (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5))],
    ['HardSigmoid', { alpha: 0.5, beta: 0.25 }, (v) => Math.min(1, Math.max(0, 0.5 * v + 0.25))],
    ['HardSwish', {}, (v) => (v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6)],
    ['Softplus', {}, (v) => Math.log(1 + Math.exp(v))],
    ['Softsign', {}, (v) => v / (1 + Math.abs(v))],
    ['Exp', {}, Math.exp],
    ['Neg', {}, (v) => -v],
    ['Abs', {}, Math.abs],
    ['Floor', {}, Math.floor],
    ['Ceil', {}, Math.ceil],
    ['Sin', {}, Math.sin],
    ['Cos', {}, Math.cos],
  ];
  for (const [op, attrs, f] of cases) {
    it(`${op} ${JSON.stringify(attrs)}`, () => {
      expectClose(run1(op, [f64([xs.length], xs)], attrs), [xs.length], xs.map(f), 1e-14);
    });
  }

  it('Log, Sqrt, Reciprocal', () => {
    expectClose(run1('Log', [f64([3], [1, Math.E, 0])]), [3], [0, 1, -Infinity]);
    expectClose(run1('Sqrt', [f64([3], [4, 2, -1])]), [3], [2, Math.SQRT2, NaN]);
    expectClose(run1('Reciprocal', [f64([2], [4, -0.5])]), [2], [0.25, -2]);
  });

  it('Softplus and Sigmoid stay finite and accurate far from 0', () => {
    expectClose(run1('Softplus', [f64([3], [800, -800, -40])]), [3], [800, 0, Math.exp(-40)], 1e-15);
    expectClose(run1('Sigmoid', [f64([2], [-800, 800])]), [2], [0, 1]);
  });

  it('Erf to double precision', () => {
    // correctly rounded reference values (CPython math.erf agrees with each)
    const ref: [number, number][] = [
      [0, 0],
      [1e-10, 1.1283791670955126e-10],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, y] of ref) {
      expect(Math.abs(erf(x) - y)).toBeLessThanOrEqual(4e-16 * y);
      expect(erf(-x)).toBe(-erf(x));
    }
    expectClose(run1('Erf', [f64([2], [1, -2])]), [2], [0.8427007929497149, -0.9953222650189527], 1e-15);
  });

  it('integer Neg, Abs, Relu are exact', () => {
    const big = 2n ** 62n + 1n;
    expect(Array.from(run1('Neg', [i64([2], [big, -3n])]).data as BigInt64Array)).toEqual([-big, 3n]);
    expect(Array.from(run1('Abs', [i64([2], [-big, 3n])]).data as BigInt64Array)).toEqual([big, 3n]);
    expect(ints(run1('Relu', [tensor('int32', [3], [-2, 0, 7])]))).toEqual([0, 0, 7]);
  });

  it('Clip with optional bounds', () => {
    const x = f64([5], [-2, -1, 0, 1, 2]);
    expectClose(run1('Clip', [x, f64([], [-1]), f64([], [1])]), [5], [-1, -1, 0, 1, 1]);
    expectClose(run1('Clip', [x, undefined, f64([], [0.5])]), [5], [-2, -1, 0, 0.5, 0.5]);
    expectClose(run1('Clip', [x, f64([], [0])]), [5], [0, 0, 0, 1, 2]);
    expectClose(run1('Clip', [x]), [5], [-2, -1, 0, 1, 2]);
    // float32 bounds on float64 data (a relu6 Constant in an oracle run) keep float64
    expect(run1('Clip', [x, f32([], [0]), f32([], [6])]).dtype).toBe('float64');
    expect(Array.from(run1('Clip', [i64([3], [-5n, 3n, 2n ** 60n]), i64([], [0]), i64([], [2n ** 59n])]).data as BigInt64Array)).toEqual([0n, 3n, 2n ** 59n]);
    // opset 6 style attributes
    expectClose(run1('Clip', [x], { min: -0.5, max: 0.5 }, 6), [5], [-0.5, -0.5, 0, 0.5, 0.5]);
  });

  it('PRelu broadcasts the slope to X', () => {
    const x = f64([1, 2, 1, 2], [-1, 2, -3, 4]);
    expectClose(run1('PRelu', [x, f64([2, 1, 1], [0.1, 0.5])]), [1, 2, 1, 2], [-0.1, 2, -1.5, 4]);
    expectClose(run1('PRelu', [x, f64([1], [0.25])]), [1, 2, 1, 2], [-0.25, 2, -0.75, 4]);
    expect(() => run1('PRelu', [f64([2], [1, 2]), f64([2, 2], [1, 1, 1, 1])])).toThrow();
  });
});

describe('Softmax and LogSoftmax', () => {
  const x = f64([2, 3], [1, 2, 3, -1, 0, 1000]);
  const sm = (v: number[]): number[] => {
    const m = Math.max(...v);
    const e = v.map((a) => Math.exp(a - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((a) => a / s);
  };

  it('default axis -1, stable for large inputs', () => {
    expectClose(run1('Softmax', [x]), [2, 3], [...sm([1, 2, 3]), ...sm([-1, 0, 1000])], 1e-15);
    expectClose(run1('LogSoftmax', [x]), [2, 3], [...sm([1, 2, 3]).map(Math.log), -1001, -1000, 0], 1e-15);
  });

  it('axis 0 on a 3-D tensor', () => {
    const t = f64([2, 1, 2], [0, 1, 2, 4]);
    expectClose(run1('Softmax', [t], { axis: 0 }), [2, 1, 2], [sm([0, 2])[0]!, sm([1, 4])[0]!, sm([0, 2])[1]!, sm([1, 4])[1]!], 1e-15);
  });

  it('opset < 13 normalizes over the flattened tail', () => {
    const t = f64([2, 2], [0, 1, 2, 3]);
    expectClose(run1('Softmax', [f64([1, 2, 2], [0, 1, 2, 3])], { axis: 1 }, 11), [1, 2, 2], sm([0, 1, 2, 3]), 1e-15);
    expectClose(run1('Softmax', [t], {}, 11), [2, 2], [...sm([0, 1]), ...sm([2, 3])], 1e-15);
  });
});

describe('binary and variadic ops', () => {
  const a = f64([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = f64([3], [10, 20, 30]);

  it('broadcasts like numpy', () => {
    expectClose(run1('Add', [a, b]), [2, 3], [11, 22, 33, 14, 25, 36]);
    expectClose(run1('Sub', [b, a]), [2, 3], [9, 18, 27, 6, 15, 24]);
    expectClose(run1('Mul', [a, f64([2, 1], [2, -1])]), [2, 3], [2, 4, 6, -4, -5, -6]);
    expectClose(run1('Div', [a, f64([], [4])]), [2, 3], [0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    expectClose(run1('Add', [f64([2, 1, 2], [1, 2, 3, 4]), f64([3, 1], [10, 20, 30])]), [2, 3, 2], [11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34]);
    expect(() => run1('Add', [a, f64([2], [1, 2])])).toThrow(/broadcast/);
  });

  it('integer arithmetic is exact and Div truncates toward zero', () => {
    const big = 2n ** 62n + 1n;
    expect(Array.from(run1('Add', [i64([1], [big]), i64([1], [2n])]).data as BigInt64Array)).toEqual([big + 2n]);
    expect(Array.from(run1('Mul', [i64([1], [3n]), i64([1], [big])]).data as BigInt64Array)).toEqual([BigInt.asIntN(64, 3n * big)]);
    expect(ints(run1('Div', [i64([4], [7, -7, 7, -7]), i64([4], [2, 2, -2, -2])]))).toEqual([3, -3, -3, 3]);
    const d32 = run1('Div', [tensor('int32', [2], [-9, 9]), tensor('int32', [], [4])]);
    expect(d32.dtype).toBe('int32');
    expect(ints(d32)).toEqual([-2, 2]);
    expect(ints(run1('Sub', [i64([2], [5, 6]), i64([], [7])]))).toEqual([-2, -1]);
    expect(() => run1('Div', [i64([1], [1]), i64([1], [0])])).toThrow(/division by zero/);
  });

  it('Pow broadcasts and keeps the base dtype', () => {
    expectClose(run1('Pow', [f64([3], [2, 3, 4]), f64([], [2])]), [3], [4, 9, 16]);
    expectClose(run1('Pow', [f64([2], [4, 9]), f64([], [0.5])]), [2], [2, 3]);
    const p = run1('Pow', [f32([2], [2, 3]), i64([], [3])]);
    expect(p.dtype).toBe('float32');
    expectClose(p, [2], [8, 27]);
  });

  it('Sum, Max, Min, Mean are variadic with broadcasting', () => {
    const c = f64([2, 1], [100, 200]);
    expectClose(run1('Sum', [a, b, c]), [2, 3], [111, 122, 133, 214, 225, 236]);
    expectClose(run1('Mean', [a, b, c]), [2, 3], [37, 122 / 3, 133 / 3, 214 / 3, 75, 236 / 3]);
    expectClose(run1('Max', [a, f64([3], [2, 0, 7])]), [2, 3], [2, 2, 7, 4, 5, 7]);
    expectClose(run1('Min', [a, f64([3], [2, 0, 7]), f64([], [1.5])]), [2, 3], [1, 0, 1.5, 1.5, 0, 1.5]);
    expectClose(run1('Sum', [a]), [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(ints(run1('Max', [i64([2], [3, -1]), i64([], [0])]))).toEqual([3, 0]);
  });
});

describe('reductions', () => {
  const x = f64([2, 3], [1, -2, 3, 4, 5, -6]);

  it('axes attribute, keepdims, negative axes', () => {
    expectClose(run1('ReduceMean', [x], { axes: [1] }), [2, 1], [2 / 3, 1]);
    expectClose(run1('ReduceMean', [x], { axes: [0], keepdims: 0 }), [3], [2.5, 1.5, -1.5]);
    expectClose(run1('ReduceMax', [x], { axes: [-1], keepdims: 0 }), [2], [3, 5]);
    expectClose(run1('ReduceMin', [x]), [1, 1], [-6]);
    expectClose(run1('ReduceProd', [x], { axes: [1] }), [2, 1], [-6, -120]);
    expectClose(run1('ReduceSumSquare', [x], { axes: [0] }), [1, 3], [17, 29, 45]);
    expectClose(run1('ReduceL2', [x], { axes: [1], keepdims: 0 }), [2], [Math.sqrt(14), Math.sqrt(77)]);
  });

  it('ReduceSum takes axes as an input and honours noop_with_empty_axes', () => {
    expectClose(run1('ReduceSum', [x, i64([1], [1])]), [2, 1], [2, 3]);
    expectClose(run1('ReduceSum', [x, i64([2], [0, 1])], { keepdims: 0 }), [], [5]);
    expectClose(run1('ReduceSum', [x]), [1, 1], [5]);
    expectClose(run1('ReduceSum', [x, i64([0], [])]), [1, 1], [5]);
    expectClose(run1('ReduceSum', [x, i64([0], [])], { noop_with_empty_axes: 1 }), [2, 3], [1, -2, 3, 4, 5, -6]);
    // before opset 13, axes was an attribute
    expectClose(run1('ReduceSum', [x], { axes: [0] }, 11), [1, 3], [5, 3, -3]);
  });

  it('3-D reductions over several axes', () => {
    const t = f64([2, 2, 2], seq(8));
    expectClose(run1('ReduceSum', [t, i64([2], [0, 2])], { keepdims: 0 }), [2], [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]);
    expectClose(run1('ReduceMean', [t], { axes: [2, 1] }), [2, 1, 1], [2.5, 6.5]);
  });

  it('integer reductions are exact', () => {
    const s = i64([3], [2, 3, 4]);
    expect(run1('ReduceProd', [s], { keepdims: 0 }).dtype).toBe('int64');
    expect(ints(run1('ReduceProd', [s], { keepdims: 0 }))).toEqual([24]);
    expect(Array.from(run1('ReduceSum', [i64([2], [2n ** 60n, 1n])], { keepdims: 0 }).data as BigInt64Array)).toEqual([2n ** 60n + 1n]);
    expect(ints(run1('ReduceMax', [s], {}))).toEqual([4]);
  });
});

describe('Gemm and MatMul', () => {
  const A = f64([2, 3], [1, 2, 3, 4, 5, 6]);
  const B = f64([3, 2], [1, 0, 0, 1, 1, 1]);

  it('Gemm with alpha, beta, transposes and broadcast C', () => {
    expectClose(run1('Gemm', [A, B]), [2, 2], [4, 5, 10, 11]);
    expectClose(run1('Gemm', [A, B, f64([2], [1, -1])], { alpha: 2, beta: 0.5 }), [2, 2], [8.5, 9.5, 20.5, 21.5]);
    expectClose(run1('Gemm', [f64([3, 2], [1, 4, 2, 5, 3, 6]), f64([2, 3], [1, 0, 1, 0, 1, 1]), f64([], [10])], { transA: 1, transB: 1 }), [2, 2], [14, 15, 20, 21]);
    expectClose(run1('Gemm', [A, B, f64([2, 1], [100, 200])]), [2, 2], [104, 105, 210, 211]);
  });

  it('MatMul: 2-D, batched broadcasting, 1-D operands', () => {
    expectClose(run1('MatMul', [A, B]), [2, 2], [4, 5, 10, 11]);
    const batched = f64([2, 1, 2, 3], [...seq(6), ...seq(6, 0)]);
    const bb = f64([3, 3, 1], [1, 1, 1, 0, 1, 0, 1, 0, 0]);
    const y = run1('MatMul', [batched, bb]);
    expect(y.dims).toEqual([2, 3, 2, 1]);
    expectClose(y, [2, 3, 2, 1], [6, 15, 2, 5, 1, 4, 3, 12, 1, 4, 0, 3]);
    expectClose(run1('MatMul', [f64([3], [1, 1, 1]), B]), [2], [2, 2]);
    expectClose(run1('MatMul', [A, f64([3], [1, 0, -1])]), [2], [-2, -2]);
    expectClose(run1('MatMul', [f64([3], [1, 2, 3]), f64([3], [4, 5, 6])]), [], [32]);
    expectClose(run1('MatMul', [f64([2, 1, 3], [1, 2, 3, 4, 5, 6]), f64([3], [1, 1, 1])]), [2, 1], [6, 15]);
  });
});

// ------------------------------------------------------------------ normalization

describe('normalization', () => {
  it('BatchNormalization inference', () => {
    const x = f64([1, 2, 1, 2], [1, 2, 3, 4]);
    const y = run1('BatchNormalization', [x, f64([2], [2, 1]), f64([2], [0, 1]), f64([2], [1, 3]), f64([2], [4, 0.25])], { epsilon: 0 });
    expectClose(y, [1, 2, 1, 2], [0, 1, 1, 3]);
    const y2 = run1('BatchNormalization', [f64([2, 1], [1, 2]), f64([1], [1]), f64([1], [0]), f64([1], [0]), f64([1], [1])]);
    expectClose(y2, [2, 1], [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(1 + 1e-5)]);
  });

  it('BatchNormalization training mode uses batch statistics (population variance) for Y and the running stats', () => {
    // values checked against onnxruntime-node
    const x = f64([2, 2, 1, 2], [1, 2, 3, 4, 5, 6, 7, 9]);
    const [y, rm, rv] = run('BatchNormalization', [x, f64([2], [1, 1]), f64([2], [0, 0]), f64([2], [0, 0]), f64([2], [1, 1])], { training_mode: 1, momentum: 0.5, epsilon: 0 }, 3);
    expectClose(rm!, [2], [1.75, 2.875]);
    expectClose(rv!, [2], [2.625, 3.34375]);
    const s0 = Math.sqrt(4.25);
    expectClose(y!, [2, 2, 1, 2], [-2.5 / s0, -1.5 / s0, (3 - 5.75) / Math.sqrt(5.6875), (4 - 5.75) / Math.sqrt(5.6875), 1.5 / s0, 2.5 / s0, (7 - 5.75) / Math.sqrt(5.6875), (9 - 5.75) / Math.sqrt(5.6875)]);
  });

  it('InstanceNormalization', () => {
    const x = f64([1, 2, 2], [1, 3, 10, 10]);
    const y = run1('InstanceNormalization', [x, f64([2], [2, 1]), f64([2], [0.5, -1])], { epsilon: 0.5 });
    // channel 0: mean 2, var 1 -> (x-2)/sqrt(1.5)*2 + 0.5; channel 1: all equal -> bias
    expectClose(y, [1, 2, 2], [-2 / Math.sqrt(1.5) + 0.5, 2 / Math.sqrt(1.5) + 0.5, -1, -1]);
  });
});

// ------------------------------------------------------------------ Resize

describe('Resize', () => {
  const empty = f32([0], []);
  const x = f64([1, 1, 2, 2], [1, 2, 3, 4]);

  it('nearest 2x upsample', () => {
    const y = run1('Resize', [x, empty, f32([4], [1, 1, 2, 2])], { mode: 'nearest' });
    expectClose(y, [1, 1, 4, 4], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('nearest modes with asymmetric coordinates', () => {
    const row = f64([1, 4], [10, 20, 30, 40]);
    const sizes = i64([2], [1, 8]);
    const base = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric' };
    // x_orig = o / 2 = 0, .5, 1, 1.5, ...
    expectClose(run1('Resize', [row, empty, empty, sizes], { ...base, nearest_mode: 'floor' }), [1, 8], [10, 10, 20, 20, 30, 30, 40, 40]);
    expectClose(run1('Resize', [row, empty, empty, sizes], { ...base, nearest_mode: 'ceil' }), [1, 8], [10, 20, 20, 30, 30, 40, 40, 40]);
    expectClose(run1('Resize', [row, empty, empty, sizes], { ...base, nearest_mode: 'round_prefer_floor' }), [1, 8], [10, 10, 20, 20, 30, 30, 40, 40]);
    expectClose(run1('Resize', [row, empty, empty, sizes], { ...base, nearest_mode: 'round_prefer_ceil' }), [1, 8], [10, 20, 20, 30, 30, 40, 40, 40]);
  });

  it('linear with each coordinate transformation', () => {
    const row = f64([1, 2], [0, 1]);
    const up = (ctm: string, n: number): Tensor => run1('Resize', [row, empty, empty, i64([2], [1, n])], { mode: 'linear', coordinate_transformation_mode: ctm });
    expectClose(up('half_pixel', 4), [1, 4], [0, 0.25, 0.75, 1]);
    expectClose(up('pytorch_half_pixel', 4), [1, 4], [0, 0.25, 0.75, 1]);
    expectClose(up('align_corners', 4), [1, 4], [0, 1 / 3, 2 / 3, 1], 1e-7);
    expectClose(up('asymmetric', 4), [1, 4], [0, 0.5, 1, 1]);
    // a single output position: pytorch_half_pixel reads position 0, half_pixel the centre
    expectClose(up('pytorch_half_pixel', 1), [1, 1], [0]);
    expectClose(up('half_pixel', 1), [1, 1], [0.5]);
    expectClose(up('align_corners', 1), [1, 1], [0]);
  });

  it('bilinear 2-D is separable', () => {
    const y = run1('Resize', [x, empty, f32([4], [1, 1, 2, 2])], { mode: 'linear' });
    expectClose(y, [1, 1, 4, 4], [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });

  it('output size from scales rounds like ONNX Runtime', () => {
    const t = f64([1, 1, 10, 10], seq(100));
    expect(run1('Resize', [t, empty, f32([4], [1, 1, 0.7, 0.7])], { mode: 'nearest' }).dims).toEqual([1, 1, 7, 7]);
    expect(run1('Resize', [t, empty, f32([4], [1, 1, 1.25, 0.5])], { mode: 'nearest' }).dims).toEqual([1, 1, 12, 5]);
  });

  it('rejects cubic and tf_crop_and_resize clearly', () => {
    expect(() => run1('Resize', [x, empty, f32([4], [1, 1, 2, 2])], { mode: 'cubic' })).toThrow(/cubic/);
    expect(() => run1('Resize', [x, f32([8], [0, 0, 0, 0, 1, 1, 1, 1]), f32([4], [1, 1, 2, 2])], { coordinate_transformation_mode: 'tf_crop_and_resize' })).toThrow(/tf_crop_and_resize/);
    expect(() => run1('Resize', [x, empty, f32([4], [1, 1, 2, 2]), i64([4], [1, 1, 4, 4])])).toThrow(/exactly one/);
  });
});

// ------------------------------------------------------------------ indexing

describe('Gather, Scatter, ArgMax/ArgMin', () => {
  it('Gather along axes with negative and scalar indices', () => {
    const d = f64([3, 2], [1, 2, 3, 4, 5, 6]);
    expectClose(run1('Gather', [d, i64([2, 2], [0, 1, -1, 0])]), [2, 2, 2], [1, 2, 3, 4, 5, 6, 1, 2]);
    expectClose(run1('Gather', [d, i64([1], [1])], { axis: 1 }), [3, 1], [2, 4, 6]);
    expectClose(run1('Gather', [d, i64([], [-2])], { axis: 0 }), [2], [3, 4]);
    const shape = i64([4], [2n, 3n, 2n ** 40n, 5n]);
    const g = run1('Gather', [shape, i64([], [2])]);
    expect(g.dtype).toBe('int64');
    expect(g.dims).toEqual([]);
    expect(Array.from(g.data as BigInt64Array)).toEqual([2n ** 40n]);
    expect(ints(run1('Gather', [tensor('int32', [3], [7, 8, 9]), tensor('int32', [2], [2, 0])]))).toEqual([9, 7]);
    expect(() => run1('Gather', [d, i64([1], [3])])).toThrow(/out of range/);
  });

  it('ScatterElements (ONNX examples) with reduction none and add', () => {
    const data = f64([3, 3], new Array(9).fill(0));
    const idx = i64([2, 3], [1, 0, 2, 0, 2, 1]);
    const upd = f64([2, 3], [1, 1.1, 1.2, 2, 2.1, 2.2]);
    expectClose(run1('ScatterElements', [data, idx, upd]), [3, 3], [2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2]);
    const d2 = f64([1, 5], [1, 2, 3, 4, 5]);
    expectClose(run1('ScatterElements', [d2, i64([1, 2], [1, 3]), f64([1, 2], [1.1, 2.1])], { axis: 1 }), [1, 5], [1, 1.1, 3, 2.1, 5]);
    expectClose(run1('ScatterElements', [d2, i64([1, 2], [1, 1]), f64([1, 2], [1.1, 2.1])], { axis: 1, reduction: 'add' }), [1, 5], [1, 5.2, 3, 4, 5]);
    expectClose(run1('ScatterElements', [d2, i64([1, 1], [-1]), f64([1, 1], [9])], { axis: 1 }), [1, 5], [1, 2, 3, 4, 9]);
  });

  it('ScatterND (ONNX examples) with reduction none and add', () => {
    const data = f64([8], seq(8));
    expectClose(run1('ScatterND', [data, i64([4, 1], [4, 3, 1, 7]), f64([4], [9, 10, 11, 12])]), [8], [1, 11, 3, 10, 9, 6, 7, 12]);
    expectClose(run1('ScatterND', [data, i64([2, 1], [0, 0]), f64([2], [5, 6])], { reduction: 'add' }), [8], [12, 2, 3, 4, 5, 6, 7, 8]);
    const d3 = f64([2, 2, 2], seq(8));
    expectClose(run1('ScatterND', [d3, i64([1, 1], [1]), f64([1, 2, 2], [0, 0, 0, 0])]), [2, 2, 2], [1, 2, 3, 4, 0, 0, 0, 0]);
    expectClose(run1('ScatterND', [d3, i64([2, 3], [0, 1, 0, 1, 1, 1]), f64([2], [-1, -2])]), [2, 2, 2], [1, 2, -1, 4, 5, 6, 7, -2]);
  });

  it('ArgMax and ArgMin with keepdims and select_last_index', () => {
    const x = f64([2, 3], [1, 5, 5, 7, 0, 7]);
    const am = run1('ArgMax', [x], { axis: 1 });
    expect(am.dtype).toBe('int64');
    expect(am.dims).toEqual([2, 1]);
    expect(ints(am)).toEqual([1, 0]);
    expect(ints(run1('ArgMax', [x], { axis: 1, select_last_index: 1 }))).toEqual([2, 2]);
    expect(ints(run1('ArgMin', [x], { axis: 0, keepdims: 0 }))).toEqual([0, 1, 0]);
    const ami = run1('ArgMin', [x], { axis: -1, keepdims: 0 });
    expect(ami.dims).toEqual([2]);
    expect(ints(ami)).toEqual([0, 1]);
    expect(ints(run1('ArgMax', [i64([3], [2n ** 60n + 1n, 2n ** 60n + 2n, 2n ** 60n])]))).toEqual([1]);
  });
});

// ------------------------------------------------------------------ PyTorch float64 oracle vectors

const FIXTURES = new URL('../fixtures/grad-vectors/', import.meta.url);

interface ManifestEntry {
  description: string;
  ops: string[];
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as Record<string, ManifestEntry>;

/**
 * Tolerance of the float64 oracle comparison. Both sides compute in float64 from the same float32
 * weights and inputs, so only summation order differs: errors are a few ulps times the condition of
 * the op (~1e-13 after normalizations). 1e-9 leaves ample margin while catching any real semantic
 * mistake, which shows up at 1e-3 or more. Two graphs store an activation constant that PyTorch
 * applied in double as a float32 attribute (LeakyRelu alpha 0.01, HardSigmoid alpha 1/6), so the
 * graph itself differs from PyTorch's function by float32 rounding of that constant (~6e-8 relative).
 */
const ORACLE_TOL = 1e-9;
const ATTR_ROUNDING_TOL: Record<string, number> = { act_leakyrelu: 1e-6, act_hardsigmoid: 1e-6 };

/** Largest |a - b| / |b|, with |b| floored at 1e-6 of the tensor's scale so exact zeros do not explode the ratio. */
function worstRelativeError(got: Float64Array, want: Float64Array): number {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const denom = Math.max(Math.abs(want[i]!), 1e-6 * scale, Number.MIN_VALUE);
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / denom);
  }
  return worst;
}

describe('PyTorch float64 oracle vectors (test/fixtures/grad-vectors, PyTorch 1.13 autograd in float64)', () => {
  for (const [name, entry] of Object.entries(manifest)) {
    const dir = new URL(`${name}/`, FIXTURES);
    const graph = decodeModel(readFileSync(new URL('model.onnx', dir)), { source: `${name}/model.onnx` });
    const missing = [...new Set(graph.nodes.map((n) => n.op))].filter((op) => !hasKernel(op));
    it.skipIf(missing.length > 0)(`${name}: ${entry.description}${missing.length ? ` (no kernel yet for ${missing.join(', ')})` : ''}`, () => {
      const feeds: Record<string, Tensor> = {};
      for (const [k, t] of graph.initializers) if (isFloatDType(t.dtype)) feeds[k] = castTensor(t, 'float64');
      feeds.x = castTensor(parseNpy(readFileSync(new URL('x.npy', dir))), 'float64');
      const y = evaluateGraph(graph, feeds).y!;
      const want = parseNpy(readFileSync(new URL('y64.npy', dir)));
      expect(y.dtype).toBe('float64');
      expect(y.dims).toEqual(want.dims);
      expect(worstRelativeError(toFloat64(y), toFloat64(want))).toBeLessThan(ATTR_ROUNDING_TOL[name] ?? ORACLE_TOL);
    });
  }
});

// ------------------------------------------------------------------ agreement with ONNX Runtime (float32)

ort.env.logLevel = 'error';

/**
 * Runs one node on ONNX Runtime and on the reference kernel. Inputs listed in `constant` become
 * initializers (ORT requires constant scales/weights for some ops); an empty 1-D tensor marks an
 * omitted optional input.
 */
async function compareWithOrt(op: string, inputs: Tensor[], attrs: Record<string, AttrInput>, opts: { outputs?: number; constant?: number[]; tol?: number } = {}): Promise<void> {
  const nOut = opts.outputs ?? 1;
  const node = makeNode(op, inputs.length, attrs, nOut);
  const omitted = inputs.map((t) => t.dims.length === 1 && t.dims[0] === 0);
  node.inputs = node.inputs.map((n, i) => (omitted[i] ? '' : n));
  const mine = evaluateNode(node, inputs.map((t, i) => (omitted[i] ? undefined : t)), 17);
  const g = new Graph();
  g.opset = 17;
  const feeds: Record<string, ort.Tensor> = {};
  inputs.forEach((t, i) => {
    if (omitted[i]) return;
    const name = node.inputs[i]!;
    if (opts.constant?.includes(i)) g.initializers.set(name, t);
    else {
      g.inputs.push({ name, dtype: t.dtype, shape: [...t.dims] });
      feeds[name] = toOrt(t);
    }
  });
  g.nodes.push(node);
  g.outputs = node.outputs.map((name, i) => ({ name, dtype: mine[i]!.dtype }));
  const session = await ort.InferenceSession.create(encodeModel(g), { logSeverityLevel: 3 });
  try {
    const result = await session.run(feeds);
    node.outputs.forEach((name, i) => {
      const theirs = result[name]!;
      const ours = mine[i]!;
      expect(ours.dims, `${op} output ${i} shape`).toEqual([...theirs.dims]);
      const a = toFloat64(ours);
      const b = Array.from(theirs.data as ArrayLike<number | bigint>, Number);
      const tol = opts.tol ?? 1e-5;
      let scale = 1;
      for (const v of b) scale = Math.max(scale, Math.abs(v));
      for (let j = 0; j < b.length; j++) {
        if (Math.abs(a[j]! - b[j]!) > tol * scale) expect.fail(`${op} ${JSON.stringify(attrs)} output ${i} element ${j}: reference ${a[j]}, ORT ${b[j]}`);
      }
    });
  } finally {
    await session.release();
  }
}

function toOrt(t: Tensor): ort.Tensor {
  if (t.data instanceof Float32Array) return new ort.Tensor('float32', t.data, [...t.dims]);
  if (t.data instanceof BigInt64Array) return new ort.Tensor('int64', t.data, [...t.dims]);
  throw new Error(`toOrt: ${t.dtype} inputs are not used in these tests`);
}

function randomF32(dims: number[], seed: number): Tensor {
  return tensor('float32', dims, randn(rng(seed), dims.reduce((p, d) => p * d, 1)));
}

/** Distinct values in random order, so max pooling has no ties. */
function permutationF32(dims: number[], seed: number): Tensor {
  const n = dims.reduce((p, d) => p * d, 1);
  const r = rng(seed);
  const keys = Array.from({ length: n }, () => r());
  const order = seq(n, 0).sort((i, j) => keys[i]! - keys[j]!);
  return tensor('float32', dims, order.map((v) => v - n / 2));
}

describe('agreement with onnxruntime-node (float32)', () => {
  const empty = tensor('float32', [0], []);

  it('MaxPool with ceil_mode, pads, dilations and Indices', async () => {
    const x = permutationF32([2, 3, 5, 5], 1);
    const x67 = permutationF32([1, 2, 6, 7], 2);
    const cases: Record<string, AttrInput>[] = [
      { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 },
      // the ONNX shape formula gives 4x4 here; ORT (and PyTorch) drop the window that starts in the end pad: 3x3
      { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
      { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: 1 },
      { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 2], ceil_mode: 1 },
      { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
      { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_LOWER' },
      { kernel_shape: [2, 3], strides: [1, 2], storage_order: 1 },
    ];
    for (const attrs of cases) await compareWithOrt('MaxPool', [attrs.storage_order || attrs.dilations ? x67 : x], attrs, { outputs: 2, tol: 0 });
    await compareWithOrt('MaxPool', [permutationF32([2, 3, 7], 3)], { kernel_shape: [3], strides: [2], pads: [1, 1], ceil_mode: 1 }, { outputs: 2, tol: 0 });
  });

  it('AveragePool with count_include_pad and ceil_mode', async () => {
    const x = randomF32([1, 2, 5, 5], 4);
    const x67 = randomF32([1, 2, 6, 7], 5);
    for (const count_include_pad of [0, 1]) {
      await compareWithOrt('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1, count_include_pad });
      await compareWithOrt('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad });
      await compareWithOrt('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad });
      await compareWithOrt('AveragePool', [x67], { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: 1, count_include_pad });
      await compareWithOrt('AveragePool', [x67], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 2, 1, 0], count_include_pad });
      await compareWithOrt('AveragePool', [x67], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER', count_include_pad });
      await compareWithOrt('AveragePool', [randomF32([2, 3, 4], 6)], { kernel_shape: [3], strides: [2], pads: [1, 1], ceil_mode: 1, count_include_pad });
    }
  });

  it('Resize linear with every coordinate transformation mode, from scales and from sizes', async () => {
    const x = randomF32([1, 2, 4, 5], 7);
    for (const coordinate_transformation_mode of ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric']) {
      for (const s of [[1, 1, 2, 2], [1, 1, 1.5, 0.6], [1, 1, 0.5, 0.4], [1, 1, 0.3, 3.1]]) {
        await compareWithOrt('Resize', [x, empty, tensor('float32', [4], s)], { mode: 'linear', coordinate_transformation_mode }, { constant: [2] });
      }
      for (const s of [[1, 2, 7, 3], [1, 2, 1, 9], [1, 2, 2, 1]]) {
        await compareWithOrt('Resize', [x, empty, empty, tensor('int64', [4], s)], { mode: 'linear', coordinate_transformation_mode }, { constant: [3] });
      }
    }
    // 10 * 0.7f is 7 in float32 and 6.99999988 in float64
    await compareWithOrt('Resize', [randomF32([1, 1, 10, 10], 8), empty, tensor('float32', [4], [1, 1, 0.7, 0.7])], { mode: 'linear' }, { constant: [2] });
  });

  it('Resize nearest with every nearest_mode picks the same pixels', async () => {
    const x = randomF32([1, 2, 4, 5], 9);
    for (const coordinate_transformation_mode of ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn']) {
      for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
        // [1.5, 0.6] hits exact ties only float32 arithmetic resolves the way ORT does
        for (const s of [[1, 1, 2, 3], [1, 1, 1.5, 0.6], [1, 1, 0.5, 0.4]]) {
          await compareWithOrt('Resize', [x, empty, tensor('float32', [4], s)], { mode: 'nearest', coordinate_transformation_mode, nearest_mode }, { constant: [2], tol: 0 });
        }
      }
    }
  });

  it('ConvTranspose with output_padding, groups, dilations, output_shape and auto_pad', async () => {
    const x = randomF32([2, 4, 3, 4], 10);
    const w = randomF32([4, 3, 3, 3], 11);
    const wg = randomF32([4, 2, 3, 2], 12);
    const w2 = randomF32([4, 2, 3, 3], 13);
    await compareWithOrt('ConvTranspose', [x, w, tensor('float32', [3], [0.1, -0.2, 0.3])], { strides: [2, 2], output_padding: [1, 1] }, { constant: [1, 2] });
    await compareWithOrt('ConvTranspose', [x, w], { strides: [2, 3], pads: [1, 0, 0, 1], output_padding: [1, 2] }, { constant: [1] });
    await compareWithOrt('ConvTranspose', [x, wg], { strides: [2, 2], group: 2, dilations: [2, 1], output_padding: [1, 0] }, { constant: [1] });
    await compareWithOrt('ConvTranspose', [x, w2], { strides: [2, 2], output_shape: [7, 8] }, { constant: [1] });
    await compareWithOrt('ConvTranspose', [x, w2], { strides: [2, 2], output_shape: [6, 9], auto_pad: 'SAME_LOWER' }, { constant: [1] });
    await compareWithOrt('ConvTranspose', [x, w2], { strides: [2, 2], auto_pad: 'SAME_UPPER' }, { constant: [1] });
    await compareWithOrt('ConvTranspose', [randomF32([1, 2, 5], 14), randomF32([2, 1, 3], 15)], { strides: [3], pads: [1, 0], output_padding: [2] }, { constant: [1] });
  });

  it('Conv with groups, strides, dilations and auto_pad', async () => {
    const x = randomF32([2, 4, 7, 6], 16);
    await compareWithOrt('Conv', [x, randomF32([6, 2, 3, 2], 17), randomF32([6], 18)], { group: 2, strides: [2, 1], auto_pad: 'SAME_LOWER' }, { constant: [1, 2] });
    await compareWithOrt('Conv', [x, randomF32([6, 2, 3, 3], 19)], { group: 2, strides: [2, 2], auto_pad: 'SAME_UPPER' }, { constant: [1] });
    await compareWithOrt('Conv', [x, randomF32([4, 1, 3, 3], 20)], { group: 4, pads: [2, 0, 1, 2], dilations: [2, 1] }, { constant: [1] });
    await compareWithOrt('Conv', [randomF32([2, 4, 9], 21), randomF32([4, 1, 3], 22)], { group: 4, strides: [2], pads: [2, 1], dilations: [2] }, { constant: [1] });
  });

  it('BatchNormalization in training mode', async () => {
    const x = randomF32([2, 4, 3, 4], 23);
    const p = (seed: number, shift = 0): Tensor => tensor('float32', [4], Array.from(randn(rng(seed), 4), (v) => v + shift));
    await compareWithOrt('BatchNormalization', [x, p(24), p(25), p(26), p(27, 3)], { training_mode: 1, momentum: 0.8 }, { outputs: 3, constant: [1, 2, 3, 4] });
    await compareWithOrt('BatchNormalization', [x, p(24), p(25), p(26), p(27, 3)], { epsilon: 1e-3 }, { constant: [1, 2, 3, 4] });
  });

  it('assorted ops', async () => {
    const x = randomF32([2, 3, 4], 28);
    await compareWithOrt('Softmax', [x], { axis: 1 });
    await compareWithOrt('LogSoftmax', [x], {});
    await compareWithOrt('InstanceNormalization', [randomF32([2, 3, 4, 2], 29), randomF32([3], 30), randomF32([3], 31)], { epsilon: 1e-3 }, { constant: [1, 2] });
    await compareWithOrt('Gemm', [randomF32([4, 3], 32), randomF32([5, 4], 33), randomF32([5], 34)], { transA: 1, transB: 1, alpha: 0.5, beta: 2 }, { constant: [1, 2] });
    await compareWithOrt('MatMul', [randomF32([2, 1, 3, 4], 35), randomF32([3, 4, 2], 36)], {});
    for (const op of ['Erf', 'HardSwish', 'Softplus', 'Softsign', 'Elu', 'Sigmoid', 'Tanh']) await compareWithOrt(op, [x], {});
    await compareWithOrt('HardSigmoid', [x], { alpha: 0.3, beta: 0.4 });
    await compareWithOrt('PRelu', [x, randomF32([3, 1], 37)], {}, { constant: [1] });
    await compareWithOrt('ReduceL2', [x], { axes: [0, 2], keepdims: 0 });
    await compareWithOrt('ReduceSum', [x, tensor('int64', [1], [-1])], { keepdims: 1 }, { constant: [1] });
    await compareWithOrt('ArgMax', [tensor('float32', [2, 3], [1, 5, 5, 7, 0, 7])], { axis: 1, select_last_index: 1 }, { tol: 0 });
    await compareWithOrt('Gather', [x, tensor('int64', [2], [-1, 0])], { axis: 1 }, { constant: [1], tol: 0 });
    await compareWithOrt('ScatterND', [randomF32([4, 3], 38), tensor('int64', [3, 1], [1, 3, 1]), randomF32([3, 3], 39)], { reduction: 'add' }, { constant: [1] });
    await compareWithOrt('ScatterElements', [randomF32([3, 3], 40), tensor('int64', [2, 3], [1, 0, 2, 0, 2, 1]), randomF32([2, 3], 41)], { axis: 0 }, { constant: [1], tol: 0 });
  });
});
