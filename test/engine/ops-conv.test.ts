import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { decodeModel, encodeModel } from '../../src/engine/onnx/codec.js';
import type { AttrInput, Graph } from '../../src/engine/graph/ir.js';
import { transposeGeometry } from '../../src/engine/ops/geometry.js';
import { findOp, type GradContext } from '../../src/engine/ops/registry.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { castTensor, f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { finiteDifferences, float64Graph, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';
import { tempFolder } from '../support/temp-folder.js';

// Conv and ConvTranspose backward rules against float64 central finite differences.
//
// Tolerance: y is linear in each of x, w and b separately, so central differences have no
// truncation error and the FD side is exact to float64 rounding (~1e-16 * sum|terms| / h with
// h = 1e-6: ~1e-9 relative). The engine side runs in float32: each gradient entry is a sum of at
// most a few hundred O(1) products, rounded to ~sqrt(terms) * 6e-8 of the summed magnitudes.
// Errors are normalised by max|gradient| (relativeMaxError); for x and w that is comparable to
// the summed magnitudes and the measured worst is ~1.3e-7. A bias with one or two channels has
// only one or two sums of dy, which can nearly cancel, so the same absolute rounding is up to
// ~1e-5 of the result (measured 1.2e-5). TOL = 1e-4 covers that with margin, while a wrong tap,
// flip, pad, group or missing term shows up as an O(0.1-1) error.
const TOL = 1e-4;
/** Coordinates checked per tensor (evenly spaced); most tensors here are smaller and fully checked. */
const MAX_COORDS = 120;

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

const rand = rng(20240611);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

interface Case {
  op: 'Conv' | 'ConvTranspose';
  batch: number;
  symbolicBatch: boolean;
  c: number;
  m: number;
  group: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  autoPad: AutoPad;
  pads: number[];
  outputPadding?: number[];
  outputShape?: number[];
  spatial: number[];
  bias: boolean;
  paramsAsInputs: boolean;
}

const describeCase = (c: Case): string =>
  `${c.op} ${c.spatial.length}-D x[${c.batch},${c.c},${c.spatial}] k[${c.kernel}] s[${c.strides}] d[${c.dilations}] ` +
  `${c.autoPad === 'NOTSET' ? `pads[${c.pads}]` : c.autoPad}${c.outputPadding ? ` op[${c.outputPadding}]` : ''}${c.outputShape ? ` os[${c.outputShape}]` : ''} ` +
  `g${c.group} m${c.m}${c.bias ? ' bias' : ''} ${c.paramsAsInputs ? 'params-as-inputs' : 'initializers'}${c.symbolicBatch ? ' batch=N' : ''}`;

/** Channels: groups 1/2/3 with 1-3 channels per group, or depthwise (multiplier 1 or 2). */
function channels(): { c: number; m: number; group: number } {
  const kind = pick(['1', '2', '3', 'dw'] as const);
  if (kind === 'dw') {
    const c = int(2, 4);
    return { c, m: c * int(1, 2), group: c };
  }
  const group = Number(kind);
  return { c: group * int(1, 3), m: group * int(1, 3), group };
}

function randomConv(rank: 1 | 2): Case {
  const { c, m, group } = channels();
  const kernel = Array.from({ length: rank }, () => int(1, rank === 1 ? 5 : 4));
  const strides = kernel.map(() => int(1, 3));
  const autoPad = pick(['NOTSET', 'NOTSET', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const);
  // ONNX Runtime's Conv rejects auto_pad=SAME_* with dilations > 1 ("Dilation not supported").
  const dilations = kernel.map(() => (autoPad.startsWith('SAME') ? 1 : int(1, 2)));
  const ext = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  // Pads up to the full dilated extent: pads >= extent make the stride-1 backward pads negative.
  const pads = autoPad === 'NOTSET' ? [...ext, ...ext].map((e) => (rand() < 0.1 ? e : int(0, Math.min(e - 1, 3)))) : new Array<number>(2 * rank).fill(0);
  const spatial = ext.map((e, i) => Math.max(1, e - pads[i]! - pads[i + rank]!) + int(0, rank === 1 ? 6 : 4));
  return {
    op: 'Conv',
    batch: int(1, 3),
    symbolicBatch: rand() < 0.7,
    c,
    m,
    group,
    kernel,
    strides,
    dilations,
    autoPad,
    pads,
    spatial,
    bias: rand() < 0.6,
    paramsAsInputs: rand() < 0.5,
  };
}

function randomConvTranspose(rank: 1 | 2): Case {
  const { c, m, group } = channels();
  const kernel = Array.from({ length: rank }, () => int(1, 4));
  const strides = kernel.map(() => int(1, 3));
  const dilations = kernel.map(() => int(1, 2));
  const ext = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  const spatial = kernel.map(() => int(1, rank === 1 ? 6 : 4));
  const mode = pick(['pads', 'pads', 'pads', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'output_shape'] as const);
  // output_padding below the stride, as PyTorch and ONNX Runtime require.
  const outputPadding = strides.map((s) => int(0, s - 1));
  const natural = spatial.map((n, i) => strides[i]! * (n - 1) + outputPadding[i]! + ext[i]!);
  let autoPad: AutoPad = 'NOTSET';
  let pads = new Array<number>(2 * rank).fill(0);
  let outputShape: number[] | undefined;
  if (mode === 'pads') pads = [...natural, ...natural].map((full) => int(0, Math.min(3, Math.floor((full - 1) / 2))));
  else if (mode === 'output_shape') {
    // Below the natural size, or one beyond it when the stride leaves room: ONNX Runtime then
    // appends a zero row at the end, which is also what transposeGeometry's split gives for an
    // overshoot of 1 without SAME_UPPER (for larger overshoots the two disagree: see the report).
    outputShape = natural.map((full, i) => (outputPadding[i]! < strides[i]! - 1 && rand() < 0.4 ? full + 1 : full - int(0, Math.min(3, full - 1))));
  }
  else if (mode === 'VALID') autoPad = 'VALID';
  // SAME needs out = n*s <= natural size (non-negative total padding).
  else if (natural.every((full, i) => full >= spatial[i]! * strides[i]!)) autoPad = mode;
  return {
    op: 'ConvTranspose',
    batch: int(1, 3),
    symbolicBatch: rand() < 0.7,
    c,
    m,
    group,
    kernel,
    strides,
    dilations,
    autoPad,
    pads,
    outputPadding,
    ...(outputShape ? { outputShape } : {}),
    spatial,
    bias: rand() < 0.6,
    paramsAsInputs: rand() < 0.5,
  };
}

interface Built {
  graph: Graph;
  feeds: Record<string, Tensor>;
  wrt: string[];
  yShape: number[];
}

function build(c: Case): Built {
  const b = new GraphBuilder();
  const wShape = c.op === 'Conv' ? [c.m, c.c / c.group, ...c.kernel] : [c.c, c.m / c.group, ...c.kernel];
  const feeds: Record<string, Tensor> = {};
  const x = b.input('x', 'float32', [c.symbolicBatch ? 'N' : c.batch, c.c, ...c.spatial]);
  feeds['x'] = f32([c.batch, c.c, ...c.spatial], randn(rand, c.batch * c.c * c.spatial.reduce((p, q) => p * q, 1)));
  const param = (name: string, dims: number[]): string => {
    const t = f32(dims, randn(rand, dims.reduce((p, q) => p * q, 1), 0.5));
    if (c.paramsAsInputs) {
      feeds[name] = t;
      return b.input(name, 'float32', dims);
    }
    return b.initializer(name, t);
  };
  const w = param('w', wShape);
  const inputs = [x, w];
  if (c.bias) inputs.push(param('b', [c.m]));
  const attrs: Record<string, AttrInput> = { strides: c.strides, dilations: c.dilations, group: c.group, kernel_shape: c.kernel };
  if (c.autoPad === 'NOTSET') attrs['pads'] = c.pads;
  else attrs['auto_pad'] = c.autoPad;
  if (c.outputPadding) attrs['output_padding'] = c.outputPadding;
  if (c.outputShape) attrs['output_shape'] = c.outputShape;
  const y = b.op(c.op, inputs, attrs, { outputs: ['y'] });
  b.output(y);
  const ys = b.shapeOf(y);
  expect(ys[0]).toBe(c.symbolicBatch ? 'N' : c.batch);
  const yShape = [c.batch, ...(ys.slice(1) as number[])];
  return { graph: b.build(), feeds, wrt: c.bias ? ['x', 'w', 'b'] : ['x', 'w'], yShape };
}

/**
 * Relative errors of the engine's gradients (and of its forward output, which catches ONNX
 * Runtime disagreeing with the spec geometry the rules assume) against the float64 reference.
 */
async function gradError(built: Built, wrt = built.wrt): Promise<Record<string, number>> {
  const dy = f32(built.yShape, randn(rand, built.yShape.reduce((p, q) => p * q, 1)));
  const gg = buildGradientGraph(built.graph, { seed: { upstream: ['y'] }, wrt, outputs: ['y'] });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ ...built.feeds, [gg.seedInputs['y']!]: dy });
  await run.release();
  const y64 = evaluateGraph(float64Graph(built.graph), built.feeds, ['y'])['y']!;
  expect(out['y']!.dims, 'forward shape').toEqual(y64.dims);
  const errors: Record<string, number> = { y: relativeMaxError(toFloat64(out['y']!), toFloat64(y64)) };
  const fd = finiteDifferences(built.graph, built.feeds, 'y', dy, wrt, { maxCoords: MAX_COORDS });
  for (const name of wrt) {
    const g = out[gg.gradientOutputs[name]!]!;
    const expectedDims = built.feeds[name]?.dims ?? built.graph.initializers.get(name)!.dims;
    expect(g.dims, `shape of d/d${name}`).toEqual(expectedDims);
    const ref = fd.get(name)!;
    errors[name] = relativeMaxError(toFloat64(g), ref.values, ref.indices);
  }
  return errors;
}

/** Worst error per gradient (and the forward output), over every configuration. */
const worst = new Map<string, { value: number; where: string }>();
function record(label: string, errors: Record<string, number>): void {
  for (const [k, e] of Object.entries(errors)) {
    const w = worst.get(k);
    if (!w || e > w.value) worst.set(k, { value: e, where: label });
    expect(e, `${label}: ${k === 'y' ? 'forward y' : `d/d${k}`}`).toBeLessThan(TOL);
  }
}

const conv2d = (over: Partial<Case>): Case => ({
  op: 'Conv', batch: 2, symbolicBatch: true, c: 3, m: 4, group: 1, kernel: [3, 3], strides: [1, 1], dilations: [1, 1],
  autoPad: 'NOTSET', pads: [0, 0, 0, 0], spatial: [6, 7], bias: true, paramsAsInputs: true, ...over,
});
/** Edge cases the random draw may miss. */
const FIXED_CONV: Case[] = [
  // pads >= the dilated kernel extent: the stride-1 backward conv needs negative pads (a crop)
  conv2d({ kernel: [1, 1], pads: [1, 2, 2, 1] }),
  conv2d({ kernel: [2, 3], dilations: [2, 1], pads: [3, 0, 2, 4], paramsAsInputs: false }),
  // a strided 1x1 conv that never reads the last input rows/columns
  conv2d({ kernel: [1, 1], strides: [3, 2], spatial: [8, 7] }),
  // depthwise with channel multiplier 2, strided, weights fed as inputs and as initializers
  conv2d({ c: 4, m: 8, group: 4, strides: [2, 2], pads: [1, 1, 1, 1], spatial: [7, 8] }),
  conv2d({ c: 4, m: 8, group: 4, strides: [2, 2], pads: [1, 1, 1, 1], spatial: [7, 8], paramsAsInputs: false }),
  // static batch, 1-D, stride larger than the kernel
  { ...conv2d({}), symbolicBatch: false, batch: 3, kernel: [2], strides: [3], dilations: [1], pads: [1, 0], spatial: [9] },
];
const CONV_CASES = [...FIXED_CONV, ...Array.from({ length: 36 }, () => randomConv(1)), ...Array.from({ length: 48 }, () => randomConv(2))];
const convT = (over: Partial<Case>): Case => ({
  op: 'ConvTranspose', batch: 2, symbolicBatch: true, c: 4, m: 6, group: 2, kernel: [3, 2], strides: [2, 3], dilations: [1, 1],
  autoPad: 'NOTSET', pads: [0, 0, 0, 0], outputPadding: [0, 1], spatial: [3, 4], bias: true, paramsAsInputs: true, ...over,
});
const FIXED_CONVT: Case[] = [
  // output_shape one beyond the natural size (negative end pad: dy is cropped, taps read zeros)
  convT({ outputShape: [8, 13] }),
  convT({ outputShape: [8, 12], paramsAsInputs: false }),
  { ...convT({ group: 1, c: 2, m: 3 }), kernel: [2], strides: [3], dilations: [2], pads: [0, 0], outputPadding: [1], outputShape: [10], spatial: [4] },
  // depthwise transposed conv with large asymmetric pads
  convT({ c: 3, m: 3, group: 3, kernel: [4, 4], strides: [2, 2], pads: [2, 0, 1, 3], outputPadding: [1, 0], spatial: [4, 3] }),
];
const CONVT_CASES = [...FIXED_CONVT, ...Array.from({ length: 20 }, () => randomConvTranspose(1)), ...Array.from({ length: 28 }, () => randomConvTranspose(2))];

describe('Conv gradients match finite differences', () => {
  CONV_CASES.forEach((c, i) => {
    it(`#${i} ${describeCase(c)}`, async () => {
      const built = build(c);
      record(describeCase(c), await gradError(built));
    });
  });
});

describe('ConvTranspose gradients match finite differences', () => {
  CONVT_CASES.forEach((c, i) => {
    it(`#${i} ${describeCase(c)}`, async () => {
      const built = build(c);
      record(describeCase(c), await gradError(built));
    });
  });

});

describe('Conv gradient graphs', () => {
  it('an output_shape beyond the natural size is appended at the end (negative end pads), as ONNX Runtime does', () => {
    // natural size [9, 11]; output_shape [11, 13] gives pads 0 at the begin and -2 at the end
    const c = convT({ strides: [3, 3], outputPadding: [0, 0], outputShape: [11, 13], paramsAsInputs: true });
    const geo = transposeGeometry(build(c).graph.nodes.at(-1)!, c.spatial, c.kernel);
    expect(geo.padBegin).toEqual([0, 0]);
    expect(geo.padEnd).toEqual([-2, -2]);
    const built = build(c);
    const gg = buildGradientGraph(built.graph, { seed: { upstream: ['y'] }, wrt: built.wrt });
    const dy = f32(built.yShape, randn(rand, built.yShape.reduce((p, q) => p * q, 1)));
    const feeds64 = Object.fromEntries(Object.entries({ ...built.feeds, [gg.seedInputs['y']!]: dy }).map(([k, t]) => [k, castTensor(t, 'float64')]));
    const out = evaluateGraph(float64Graph(gg.graph), feeds64);
    const fd = finiteDifferences(built.graph, built.feeds, 'y', dy, built.wrt, { maxCoords: MAX_COORDS });
    for (const w of built.wrt) {
      const ref = fd.get(w)!;
      // float64 on both sides: what remains is the FD rounding (~1e-16 * sum|terms| / h; measured
      // ~1e-9), so 1e-7 still means the index arithmetic is exact.
      const e = relativeMaxError(toFloat64(out[gg.gradientOutputs[w]!]!), ref.values, ref.indices);
      expect(e, `d/d${w}`).toBeLessThan(1e-7);
    }
  });

  it('one graph serves every batch size when the batch is symbolic', async () => {
    const c: Case = {
      op: 'Conv', batch: 1, symbolicBatch: true, c: 4, m: 6, group: 2, kernel: [3, 3], strides: [2, 1], dilations: [1, 2],
      autoPad: 'NOTSET', pads: [1, 2, 0, 1], spatial: [7, 8], bias: true, paramsAsInputs: true,
    };
    const built = build(c);
    const gg = buildGradientGraph(built.graph, { seed: { upstream: ['y'] }, wrt: built.wrt, outputs: ['y'] });
    const run = await engine.compileOnce(gg.graph);
    try {
      for (const batch of [1, 3, 5]) {
        const feeds = { ...built.feeds, x: f32([batch, 4, 7, 8], randn(rand, batch * 4 * 56)) };
        const yShape = [batch, ...built.yShape.slice(1)];
        const dy = f32(yShape, randn(rand, yShape.reduce((p, q) => p * q, 1)));
        const out = await run.run({ ...feeds, [gg.seedInputs['y']!]: dy });
        const fd = finiteDifferences(built.graph, feeds, 'y', dy, built.wrt, { maxCoords: 60 });
        for (const w of built.wrt) {
          const ref = fd.get(w)!;
          expect(relativeMaxError(toFloat64(out[gg.gradientOutputs[w]!]!), ref.values, ref.indices), `batch ${batch} d/d${w}`).toBeLessThan(TOL);
        }
      }
    } finally {
      await run.release();
    }
  });

  it('symbolic image sizes: the stride-1 input gradient works for any size, the weight gradient says what it needs', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2, 'H', 'W']);
    const y = b.op('Conv', [x, b.initializer('w', f32([3, 2, 3, 2], randn(rand, 36)))], { pads: [1, 0, 1, 1] }, { outputs: ['y'] });
    b.output(y);
    const graph = b.build();
    const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'] });
    const run = await engine.compileOnce(gg.graph);
    try {
      for (const [h, w] of [[4, 5], [7, 3]] as const) {
        const feeds = { x: f32([2, 2, h, w], randn(rand, 4 * h * w)) };
        const dy = f32([2, 3, h, w], randn(rand, 6 * h * w));
        const out = (await run.run({ ...feeds, [gg.seedInputs['y']!]: dy }))[gg.gradientOutputs['x']!]!;
        const ref = finiteDifferences(graph, feeds, 'y', dy, ['x']).get('x')!;
        expect(relativeMaxError(toFloat64(out), ref.values, ref.indices), `${h}x${w}`).toBeLessThan(TOL);
      }
    } finally {
      await run.release();
    }
    expect(() => buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['w'] })).toThrow(/needs static spatial sizes.*fix the input image size/);
  });

  it('stride 1: the input gradient is a Conv on the flipped weight, which ONNX Runtime folds into a constant when the weight is one', async () => {
    for (const paramsAsInputs of [false, true]) {
      const c: Case = {
        op: 'Conv', batch: 2, symbolicBatch: true, c: 3, m: 4, group: 1, kernel: [3, 3], strides: [1, 1], dilations: [1, 1],
        autoPad: 'NOTSET', pads: [1, 1, 1, 1], spatial: [6, 6], bias: false, paramsAsInputs,
      };
      const gg = buildGradientGraph(build(c).graph, { seed: { upstream: ['y'] }, wrt: ['x'] });
      const ops = gg.graph.nodes.map((n) => n.op);
      expect(ops.filter((o) => o === 'Conv').length).toBe(1); // the backward conv; the forward one is pruned
      expect(ops.includes('ConvTranspose')).toBe(false);
      // The graph carries the weight once; the flip is ops on it.
      expect(ops.filter((o) => o === 'Slice' || o === 'Transpose').length).toBe(2);
      expect([...gg.graph.initializers.values()].filter((t) => t.dims.length === 4).length).toBe(paramsAsInputs ? 0 : 1);
      // What ONNX Runtime runs: a constant weight's flip folded away at session creation.
      const dir = tempFolder('convlens-fold-');
      try {
        const optimized = join(dir, 'optimized.onnx');
        await ort.InferenceSession.create(encodeModel(gg.graph), { graphOptimizationLevel: 'basic', optimizedModelFilePath: optimized });
        const runOps = decodeModel(readFileSync(optimized)).nodes.map((n) => n.op);
        expect(runOps.includes('Slice')).toBe(paramsAsInputs);
        expect(runOps.includes('Conv')).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('strided convs use ConvTranspose for the input gradient', () => {
    const c: Case = {
      op: 'Conv', batch: 2, symbolicBatch: true, c: 3, m: 4, group: 1, kernel: [3, 3], strides: [2, 2], dilations: [1, 1],
      autoPad: 'NOTSET', pads: [1, 1, 1, 1], spatial: [7, 7], bias: false, paramsAsInputs: false,
    };
    const ops = buildGradientGraph(build(c).graph, { seed: { upstream: ['y'] }, wrt: ['x'] }).graph.nodes.map((n) => n.op);
    expect(ops.filter((o) => o === 'ConvTranspose').length).toBe(1);
    expect(ops.includes('Conv')).toBe(false);
  });

  for (const op of ['Conv', 'ConvTranspose'] as const) {
    it(`${op}: the rule emits only the gradients that are wanted`, () => {
      for (let only = 0; only < 3; only++) {
        const b = new GraphBuilder();
        const x = b.input('x', 'float32', ['N', 4, 6, 6]);
        const w = b.input('w', 'float32', op === 'Conv' ? [6, 2, 3, 3] : [4, 3, 3, 3]);
        const bias = b.input('b', 'float32', [6]);
        const y = b.op(op, [x, w, bias], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] });
        const dy = b.input('dy', 'float32', b.shapeOf(y));
        const before = b.graph.nodes.length;
        const ctx: GradContext = {
          node: b.graph.nodes[b.graph.nodes.length - 1]!,
          b,
          x: (i) => [x, w, bias][i]!,
          y: () => y,
          dy: () => dy,
          wants: (i) => i === only,
          facts: (n) => b.factsOf(n),
          constant: () => undefined,
        };
        const grads = findOp(op)!.grad!(ctx);
        expect(grads.map((g) => g !== undefined)).toEqual([0, 1, 2].map((i) => i === only));
        const added = b.graph.nodes.slice(before).map((n) => n.op).filter((o) => o !== 'Constant');
        if (only === 2) expect(added).toEqual(['ReduceSum']);
        if (only !== 1) expect(added.includes('MatMul')).toBe(false);
        if (only !== 0) expect(added.includes('Conv') || added.includes('ConvTranspose')).toBe(false);
      }
    });
  }

  afterAll(() => {
    // The numbers the report quotes: configurations run and the worst error per gradient.
    const lines = [...worst].map(([k, w]) => `  ${k === 'y' ? 'forward y' : `d/d${k}`}: ${w.value.toExponential(2)} (${w.where})`);
    console.log(`conv/convtranspose: ${CONV_CASES.length + CONVT_CASES.length} configurations (${FIXED_CONV.length + FIXED_CONVT.length} fixed, the rest random) + 1 multi-batch; worst relative errors:\n${lines.join('\n')}`);
  });
});

describe('Conv and ConvTranspose shape rules', () => {
  const conv = (xShape: (number | string)[], wShape: number[], attrs: Record<string, AttrInput> = {}, biasShape?: number[], op = 'Conv'): (number | string)[] => {
    const b = new GraphBuilder();
    const inputs = [b.input('x', 'float32', xShape), b.input('w', 'float32', wShape)];
    if (biasShape) inputs.push(b.input('b', 'float32', biasShape));
    return b.shapeOf(b.op(op, inputs, attrs));
  };

  it('passes a symbolic batch through and computes spatial sizes', () => {
    expect(conv(['N', 3, 32, 32], [16, 3, 3, 3], { pads: [1, 1, 1, 1] })).toEqual(['N', 16, 32, 32]);
    expect(conv(['N', 3, 32, 31], [16, 3, 3, 3], { strides: [2, 2], pads: [0, 1, 1, 0] })).toEqual(['N', 16, 16, 15]);
    expect(conv(['batch', 4, 10], [6, 2, 5], { group: 2, dilations: [2], auto_pad: 'SAME_UPPER' })).toEqual(['batch', 6, 10]);
    expect(conv(['N', 8, 9, 9], [8, 1, 3, 3], { group: 8, strides: [2, 2], auto_pad: 'VALID' })).toEqual(['N', 8, 4, 4]);
    expect(conv(['N', 6, 5, 5], [6, 4, 4, 4], { strides: [2, 2], pads: [1, 1, 1, 1] }, [4], 'ConvTranspose')).toEqual(['N', 4, 10, 10]);
    expect(conv(['N', 6, 5, 5], [6, 2, 3, 3], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, undefined, 'ConvTranspose')).toEqual(['N', 6, 10, 10]);
    expect(conv(['N', 2, 5], [2, 3, 3], { strides: [2], output_shape: [10] }, undefined, 'ConvTranspose')).toEqual(['N', 3, 10]);
    // up to stride - 1 beyond the natural size (11 here), as ONNX Runtime accepts
    expect(conv(['N', 2, 5], [2, 3, 3], { strides: [2], output_shape: [12] }, undefined, 'ConvTranspose')).toEqual(['N', 3, 12]);
  });

  const fails = (f: () => unknown, message: RegExp): void => {
    expect(f).toThrow(message);
  };

  it('reports channel mismatches', () => {
    fails(() => conv(['N', 3, 8, 8], [4, 1, 3, 3]), /input has 3 channels but the weight expects 1 \(group=1\)/);
    fails(() => conv(['N', 6, 8, 8], [6, 3, 3, 3], { group: 3 }), /input has 6 channels but the weight expects 9 \(group=3\)/);
    fails(() => conv(['N', 6, 8, 8], [5, 2, 3, 3], { group: 3 }), /weight has 5 output channels, which group=3 does not divide/);
    fails(() => conv(['N', 3, 8, 8], [4, 3, 3, 3], {}, [5]), /bias has shape \[5\] but the layer has 4 output channels/);
    fails(() => conv(['N', 2, 8, 8], [3, 4, 3, 3], {}, undefined, 'ConvTranspose'), /input has 2 channels but the weight expects 3 \(group=1\)/);
    fails(() => conv(['N', 4, 8, 8], [4, 2, 3, 3], {}, [4], 'ConvTranspose'), /bias has shape \[4\] but the layer has 2 output channels/);
  });

  it('reports rank, kernel and window problems', () => {
    fails(() => conv(['N', 3, 8, 8], [4, 3, 3]), /has rank 3 but the input .* has rank 4/);
    fails(() => conv(['N', 3], [4, 3]), /input must be \[N, C, spatial...\]/);
    fails(() => conv(['N', 3, 8, 8], [4, 3, 3, 3], { kernel_shape: [5, 5] }), /kernel_shape \[5, 5\] disagrees with the weight/);
    fails(() => conv(['N', 3, 4, 4], [4, 3, 5, 5]), /window of extent 5 does not fit the padded input size 4/);
    fails(() => conv(['N', 3, 8, 8], [4, 3, 3, 3], { group: 0 }), /group=0 must be a positive integer/);
    fails(() => conv(['N', 2, 5], [2, 3, 3], { strides: [2], dilations: [3], output_padding: [2] }, undefined, 'ConvTranspose'), /output_padding 2 on spatial axis 0 must be less than the stride 2/);
    fails(() => conv(['N', 1, 3], [1, 1, 2], { strides: [2], output_shape: [9] }, undefined, 'ConvTranspose'), /output size 9 on spatial axis 0 is larger than the 7 this input, kernel and stride can produce/);
  });
});

describe('the builder folds constant convolutions only when they are cheap', () => {
  // A conv of constants is folded in JavaScript when it is small; a big one (118M multiply-adds
  // for a ResNet's first conv over a constant image took 1.3 s in the reference kernels) stays in
  // the graph for ONNX Runtime to fold. Either way the result is the same.
  for (const [size, folded] of [[8, true], [224, false]] as const) {
    it(`a 7x7 conv, 3 -> 64 channels, over a constant ${size}x${size} image: ${folded ? 'folded' : 'left to the runtime'}`, async () => {
      const rand = rng(3);
      const b = new GraphBuilder();
      const image = b.constant(f32([1, 3, size, size], Array.from({ length: 3 * size * size }, () => rand() - 0.5)), 'image');
      const w = b.constant(f32([64, 3, 7, 7], Array.from({ length: 64 * 147 }, () => rand() - 0.5)), 'w');
      const y = b.op('Conv', [image, w], { kernel_shape: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3] }, { outputs: ['y'] });
      b.output(y);
      const graph = b.build();
      expect(graph.nodes.some((n) => n.op === 'Conv')).toBe(!folded);
      const got = (await engine.compileOnce(graph).then((c) => c.run({})))['y']!;
      const want = evaluateGraph(graph, {})['y']!;
      expect(got.dims).toEqual([1, 64, size / 2, size / 2]);
      expect(relativeMaxError(got.data as Float32Array, want.data as Float32Array)).toBeLessThan(1e-5);
    });
  }
});
