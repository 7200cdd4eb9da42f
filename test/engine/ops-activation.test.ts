import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { AttrInput, Dim, Graph } from '../../src/engine/graph/ir.js';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Activation backward rules against float64 central differences of sum(y * dy).
//
// Tolerance: every rule here is elementwise, dx = dy * f'(x) evaluated in float32 through at most
// ~8 ops, so each element is within a few float32 ulps (~1e-7 relative) of the float64 value;
// finite differences with h = 1e-6 add ~1e-9. Errors are measured relative to max|g|. PRelu's
// slope gradient sums up to 75 products (float32 accumulation ~1e-6 relative at worst). 1e-5
// therefore passes with a 10x margin while a wrong branch, sign or factor shows up as >= 1e-2.
const TOL = 1e-5;
// Inputs stay this far from every kink (ReLU-like 0, clip bounds, hard-sigmoid corners): the
// float32 and float64 evaluations must take the same branch, and the step h must not cross one.
const MARGIN = 0.05;

const engine = new Engine(nodeBackend(), { threads: 1 });
const worst = new Map<string, number>();
afterAll(async () => {
  await engine.dispose();
  console.log('worst relative error per op:', Object.fromEntries([...worst].map(([k, v]) => [k, Number(v.toExponential(2))])));
});

const rand = rng(20240611);
const pick = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** A random [N, C, spatial...] shape of rank 2-4, batch 1-3. */
function randomShape(rank: number): number[] {
  return [pick(1, 3), pick(1, 5), ...Array.from({ length: rank - 2 }, () => pick(1, 5))];
}

/** Moves values that fall within MARGIN of a kink to MARGIN..2*MARGIN beyond it. */
function awayFrom(values: Float32Array, kinks: readonly number[]): Float32Array {
  return values.map((v) => {
    for (const k of kinks) if (Math.abs(v - k) < MARGIN) return k + (v >= k ? 1 : -1) * MARGIN * (1 + rand());
    return v;
  });
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * Builds y = op(x, ...params) with x declared [N, ...] (symbolic batch) or fully static, and
 * compares the engine's gradients of sum(y * dy) with finite differences. Returns the worst error.
 */
async function gradcheck(
  label: string,
  op: string,
  shape: number[],
  x: Float32Array,
  opts: { attrs?: Record<string, AttrInput>; params?: Record<string, Tensor>; extraInputs?: (b: GraphBuilder) => (string | undefined)[]; symbolic?: boolean } = {},
): Promise<number> {
  const b = new GraphBuilder();
  const dims: Dim[] = opts.symbolic === false ? shape : ['N', ...shape.slice(1)];
  const xin = b.input('x', 'float32', dims);
  const params = Object.entries(opts.params ?? {}).map(([name, t]) => b.initializer(name, t));
  const y = b.op(op, [xin, ...params, ...(opts.extraInputs?.(b) ?? [])], opts.attrs ?? {}, { outputs: ['y'] });
  b.output(y);
  const graph = b.build();
  const feeds = { x: f32(shape, x) };
  const err = await compare(graph, feeds, ['x', ...params]);
  worst.set(label, Math.max(worst.get(label) ?? 0, err));
  return err;
}

async function compare(graph: Graph, feeds: Record<string, Tensor>, wrt: string[]): Promise<number> {
  const yDims = evaluateGraph(graph, feeds, ['y'])['y']!.dims;
  const dy = f32(yDims, randn(rand, size(yDims)));
  const fd = finiteDifferences(graph, feeds, 'y', dy, wrt);
  const got = await engineGradients(engine, graph, feeds, 'y', dy, wrt);
  let err = 0;
  for (const w of wrt) {
    const ref = fd.get(w)!;
    const g = got.get(w)!;
    expect(g.dims, `gradient shape for ${w}`).toEqual(w === 'x' ? feeds['x']!.dims : graph.initializers.get(w)!.dims);
    err = Math.max(err, relativeMaxError(toFloat64(g), ref.values, ref.indices));
  }
  return err;
}

interface UnaryCase {
  op: string;
  attrs?: Record<string, AttrInput>;
  kinks?: number[];
  /** standard deviation of the inputs (default 3) */
  scale?: number;
}

const unaryCases: UnaryCase[] = [
  { op: 'LeakyRelu', kinks: [0] },
  { op: 'LeakyRelu', attrs: { alpha: 0.2 }, kinks: [0] },
  { op: 'LeakyRelu', attrs: { alpha: -0.7 }, kinks: [0] },
  { op: 'Elu', kinks: [0] },
  { op: 'Elu', attrs: { alpha: 0.5 }, kinks: [0] },
  { op: 'Elu', attrs: { alpha: 1.7 }, kinks: [0] },
  // These rules use y like PyTorch's: 1 - y^2 and y(1 - y) carry float32's absolute error (~1e-7)
  // where the function saturates, which is large relative to max|g| only if *every* element
  // saturates; at scale 2 a tensor has unsaturated elements (a draw at scale 3 gave 3e-6).
  { op: 'Sigmoid', scale: 2 },
  { op: 'Tanh', scale: 2 },
  // corners where alpha*x + beta = 0 or 1
  { op: 'HardSigmoid', kinks: [-2.5, 2.5] },
  { op: 'HardSigmoid', attrs: { alpha: 0.3, beta: 0.4 }, kinks: [-0.4 / 0.3, 0.6 / 0.3] },
  { op: 'HardSigmoid', attrs: { alpha: -0.25, beta: 0.5 }, kinks: [2, -2] },
  { op: 'HardSwish', kinks: [-3, 3] },
  { op: 'Softplus' },
  { op: 'Softsign' },
];

describe('unary activations match finite differences', () => {
  for (const c of unaryCases) {
    const label = `${c.op}${c.attrs ? JSON.stringify(c.attrs) : ''}`;
    it(label, async () => {
      for (const rank of [2, 3, 4]) {
        const shape = randomShape(rank);
        // scale 3 reaches the saturated parts of HardSigmoid/HardSwish and the tails of Tanh.
        const x = awayFrom(randn(rand, size(shape), c.scale ?? 3), c.kinks ?? []);
        const err = await gradcheck(label, c.op, shape, x, { attrs: c.attrs ?? {}, symbolic: rank !== 3 });
        expect(err, `${label} ${JSON.stringify(shape)}`).toBeLessThan(TOL);
      }
    });
  }
});

describe('PRelu: gradients for X and the slope, summed to the slope shape', () => {
  // [rank of X, slope shape given X's channel count and spatial dims]
  const slopeShapes: [string, number, (s: number[]) => number[]][] = [
    ['[C,1,1]', 4, (s) => [s[1]!, 1, 1]],
    ['[C,1]', 3, (s) => [s[1]!, 1]],
    ['[C] on [N,C]', 2, (s) => [s[1]!]],
    ['[1]', 4, () => [1]],
    ['scalar', 3, () => []],
    ['[C,H,W]', 4, (s) => s.slice(1)],
  ];
  for (const [name, rank, slopeOf] of slopeShapes) {
    it(`slope ${name}`, async () => {
      for (let trial = 0; trial < 2; trial++) {
        const shape = randomShape(rank);
        const sd = slopeOf(shape);
        const slope = f32(sd, Array.from({ length: size(sd) }, () => -0.5 + 1.3 * rand()));
        const x = awayFrom(randn(rand, size(shape), 2), [0]);
        const err = await gradcheck('PRelu', 'PRelu', shape, x, { params: { slope } });
        expect(err, `${name} ${JSON.stringify(shape)}`).toBeLessThan(TOL);
      }
    });
  }
});

describe('Clip: gradient strictly inside (min, max); min/max get none', () => {
  const variants: [string, number | undefined, number | undefined][] = [
    ['min and max (ReLU6)', 0, 6],
    ['min and max (hardtanh)', -1, 1],
    ['min only', -0.5, undefined],
    ['max only', undefined, 0.7],
    ['no bounds', undefined, undefined],
  ];
  for (const [name, lo, hi] of variants) {
    it(name, async () => {
      for (const rank of [2, 3, 4]) {
        const shape = randomShape(rank);
        const kinks = [lo, hi].filter((v): v is number => v !== undefined);
        const x = awayFrom(randn(rand, size(shape), 3), kinks);
        const err = await gradcheck('Clip', 'Clip', shape, x, {
          extraInputs: (b) => [lo === undefined ? undefined : b.scalar(lo, 'min'), hi === undefined ? undefined : b.scalar(hi, 'max')],
        });
        expect(err, `${name} ${JSON.stringify(shape)}`).toBeLessThan(TOL);
      }
    });
  }

  it('bounds given as graph inputs (not constants) work too', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 4]);
    const lo = b.input('lo', 'float32', []);
    const hi = b.input('hi', 'float32', []);
    b.output(b.op('Clip', [x, lo, hi], {}, { outputs: ['y'] }));
    const graph = b.build();
    const feeds = { x: f32([2, 4], [-2, -0.5, 0.2, 0.9, 1.5, 3, -0.1, 0.4]), lo: f32([], [-0.6]), hi: f32([], [1]) };
    const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'] });
    const run = await engine.compileOnce(gg.graph);
    const out = await run.run({ ...feeds, [gg.seedInputs['y']!]: f32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]) });
    await run.release();
    expect(Array.from(out[gg.gradientOutputs['x']!]!.data as Float32Array)).toEqual([0, 2, 3, 4, 0, 0, 7, 8]);
  });
});

describe('rules skip gradients nobody asked for', () => {
  it('PRelu wrt x only emits no slope reduction; wrt slope only emits no x mask', () => {
    const make = (): Graph => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', ['N', 3, 4, 4]);
      const s = b.input('slope', 'float32', [3, 1, 1]);
      b.output(b.op('PRelu', [x, s], {}, { outputs: ['y'] }));
      return b.build();
    };
    const ops = (wrt: string[]): string[] => buildGradientGraph(make(), { seed: { upstream: ['y'] }, wrt }).graph.nodes.map((n) => n.op);
    expect(ops(['x'])).not.toContain('ReduceSum');
    expect(ops(['x'])).not.toContain('Min');
    expect(ops(['slope'])).not.toContain('Greater');
  });
});
