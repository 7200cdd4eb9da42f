import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { AttrInput, Dim, Graph } from '../../src/engine/graph/ir.js';
import { findOp, type GradContext } from '../../src/engine/ops/registry.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { finiteDifferences, float64Graph, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Gemm and MatMul backward rules against float64 central finite differences.
//
// Tolerance: the output is linear in each operand, so central differences have no truncation
// error and are exact to float64 rounding (~1e-9 relative with h = 1e-6). The engine computes in
// float32; each gradient entry sums at most a few dozen O(1) products, so its rounding is ~1e-7
// of the summed magnitudes (measured worst 2.5e-7 over all operands). Errors are normalised by
// max|gradient|, and a small C ([] or [1]) is a single sum of dy that can nearly cancel, which
// inflates its relative error (the Conv bias, the same reduction, reached 1.2e-5). TOL = 1e-4
// covers that, while a missing transpose, alpha, beta or broadcast sum is an O(0.1-1) error.
const TOL = 1e-4;

const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

const rand = rng(77031);
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

interface Operand {
  name: string;
  /** declared shape (may hold the symbol "N") */
  declared: Dim[];
  /** concrete shape fed / stored */
  dims: number[];
  asInput: boolean;
}

interface Built {
  graph: Graph;
  feeds: Record<string, Tensor>;
  wrt: string[];
  yDims: number[];
}

function build(op: string, operands: Operand[], attrs: Record<string, AttrInput> = {}): Built {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const names = operands.map((o) => {
    const t = f32(o.dims, randn(rand, o.dims.reduce((p, q) => p * q, 1)));
    if (o.asInput) {
      feeds[o.name] = t;
      return b.input(o.name, 'float32', o.declared);
    }
    return b.initializer(o.name, t);
  });
  const y = b.op(op, names, attrs, { outputs: ['y'] });
  b.output(y);
  const graph = b.build();
  const yDims = [...evaluateGraph(graph, feeds, ['y'])['y']!.dims];
  return { graph, feeds, wrt: names, yDims };
}

async function gradErrors(built: Built): Promise<Record<string, number>> {
  const dy = f32(built.yDims, randn(rand, built.yDims.reduce((p, q) => p * q, 1)));
  const gg = buildGradientGraph(built.graph, { seed: { upstream: ['y'] }, wrt: built.wrt, outputs: ['y'] });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ ...built.feeds, [gg.seedInputs['y']!]: dy });
  await run.release();
  const y64 = evaluateGraph(float64Graph(built.graph), built.feeds, ['y'])['y']!;
  expect(out['y']!.dims, 'forward shape').toEqual(y64.dims);
  const errors: Record<string, number> = { y: relativeMaxError(toFloat64(out['y']!), toFloat64(y64)) };
  const fd = finiteDifferences(built.graph, built.feeds, 'y', dy, built.wrt);
  for (const name of built.wrt) {
    const g = out[gg.gradientOutputs[name]!]!;
    expect(g.dims, `shape of d/d${name}`).toEqual(built.feeds[name]?.dims ?? built.graph.initializers.get(name)!.dims);
    const ref = fd.get(name)!;
    errors[name] = relativeMaxError(toFloat64(g), ref.values, ref.indices);
  }
  return errors;
}

const worst = new Map<string, { value: number; where: string }>();
function record(label: string, errors: Record<string, number>): void {
  for (const [k, e] of Object.entries(errors)) {
    const w = worst.get(k);
    if (!w || e > w.value) worst.set(k, { value: e, where: label });
    expect(e, `${label}: ${k === 'y' ? 'forward y' : `d/d${k}`}`).toBeLessThan(TOL);
  }
}
afterAll(() => {
  const lines = [...worst].map(([k, w]) => `  ${k === 'y' ? 'forward y' : `d/d${k}`}: ${w.value.toExponential(2)} (${w.where})`);
  console.log(`gemm/matmul: ${GEMM_CASES.length + MATMUL_CASES.length} random configurations; worst relative errors:\n${lines.join('\n')}`);
});

// ------------------------------------------------------------------ Gemm

interface GemmCase {
  m: number;
  k: number;
  n: number;
  symbolicRows: boolean;
  transA: number;
  transB: number;
  alpha: number;
  beta: number;
  c: 'none' | 'scalar' | '[1]' | '[N]' | '[1,N]' | '[M,1]' | '[M,N]';
  paramsAsInputs: boolean;
}

function randomGemm(): GemmCase {
  const symbolicRows = rand() < 0.5;
  // A C with M rows cannot be an initializer when M is the symbolic batch.
  const cs = symbolicRows ? (['none', 'scalar', '[1]', '[N]', '[1,N]'] as const) : (['none', 'scalar', '[1]', '[N]', '[1,N]', '[M,1]', '[M,N]'] as const);
  return {
    m: int(1, 5),
    k: int(1, 5),
    n: int(1, 5),
    symbolicRows,
    transA: int(0, 1),
    transB: int(0, 1),
    alpha: pick([1, 1, 0.5, -1.75]),
    beta: pick([1, 1, 0.25, 0]),
    c: pick(cs),
    paramsAsInputs: rand() < 0.5,
  };
}

const gemmLabel = (c: GemmCase): string =>
  `Gemm M${c.symbolicRows ? '=N' : ''}${c.m} K${c.k} N${c.n} transA=${c.transA} transB=${c.transB} alpha=${c.alpha} beta=${c.beta} C=${c.c} ${c.paramsAsInputs ? 'params-as-inputs' : 'initializers'}`;

function buildGemm(c: GemmCase): Built {
  const rows: Dim = c.symbolicRows ? 'N' : c.m;
  const a: Operand = { name: 'a', declared: c.transA ? [c.k, rows] : [rows, c.k], dims: c.transA ? [c.k, c.m] : [c.m, c.k], asInput: true };
  const bDims = c.transB ? [c.n, c.k] : [c.k, c.n];
  const ops: Operand[] = [a, { name: 'b', declared: bDims, dims: bDims, asInput: c.paramsAsInputs }];
  const cDims: Record<GemmCase['c'], number[]> = { none: [], scalar: [], '[1]': [1], '[N]': [c.n], '[1,N]': [1, c.n], '[M,1]': [c.m, 1], '[M,N]': [c.m, c.n] };
  if (c.c !== 'none') ops.push({ name: 'c', declared: cDims[c.c], dims: cDims[c.c], asInput: c.paramsAsInputs });
  return build('Gemm', ops, { transA: c.transA, transB: c.transB, alpha: { type: 'float', value: c.alpha }, beta: { type: 'float', value: c.beta } });
}

const GEMM_CASES = Array.from({ length: 48 }, randomGemm);

describe('Gemm gradients match finite differences', () => {
  GEMM_CASES.forEach((c, i) => {
    it(`#${i} ${gemmLabel(c)}`, async () => {
      record(gemmLabel(c), await gradErrors(buildGemm(c)));
    });
  });
});

// ------------------------------------------------------------------ MatMul

type Shapes = (d: () => number) => { a: Dim[]; b: Dim[]; batch: number };
/** Operand shape patterns; "N" marks an axis declared symbolic (fed with `batch`). */
const PATTERNS: Record<string, Shapes> = {
  'vec x vec': (d) => ((k) => ({ a: [k], b: [k], batch: 1 }))(d()),
  'vec x mat': (d) => ((k) => ({ a: [k], b: [k, d()], batch: 1 }))(d()),
  'mat x vec': (d) => ((k) => ({ a: [d(), k], b: [k], batch: 1 }))(d()),
  'mat x mat': (d) => ((k) => ({ a: [d(), k], b: [k, d()], batch: 1 }))(d()),
  'linear [N,M,K] x [K,P]': (d) => ((k) => ({ a: ['N', d(), k], b: [k, d()], batch: d() }))(d()),
  'linear [N,2,M,K] x [K,P]': (d) => ((k) => ({ a: ['N', 2, d(), k], b: [k, d()], batch: d() }))(d()),
  'batched [N,M,K] x [N,K,P]': (d) => ((k) => ({ a: ['N', d(), k], b: ['N', k, d()], batch: d() }))(d()),
  'broadcast [N,1,M,K] x [3,K,P]': (d) => ((k) => ({ a: ['N', 1, d(), k], b: [3, k, d()], batch: d() }))(d()),
  'vec x batched [K] x [N,K,P]': (d) => ((k) => ({ a: [k], b: ['N', k, d()], batch: d() }))(d()),
  'batched x vec [N,M,K] x [K]': (d) => ((k) => ({ a: ['N', d(), k], b: [k], batch: d() }))(d()),
  'shared A [M,K] x [N,K,P]': (d) => ((k) => ({ a: [d(), k], b: ['N', k, d()], batch: d() }))(d()),
  'unit batch [1,M,K] x [N,K,P]': (d) => ((k) => ({ a: [1, d(), k], b: ['N', k, d()], batch: d() }))(d()),
  'unit batch [N,M,K] x [1,K,P]': (d) => ((k) => ({ a: ['N', d(), k], b: [1, k, d()], batch: d() }))(d()),
  'static batch [2,M,K] x [K,P]': (d) => ((k) => ({ a: [2, d(), k], b: [k, d()], batch: 1 }))(d()),
};

interface MatMulCase {
  pattern: string;
  a: Dim[];
  b: Dim[];
  batch: number;
  bAsInput: boolean;
}

const concrete = (s: Dim[], batch: number): number[] => s.map((d) => (typeof d === 'number' ? d : batch));
const matmulLabel = (c: MatMulCase): string => `MatMul ${c.pattern}: [${c.a}] x [${c.b}] N=${c.batch} ${c.bAsInput ? 'B input' : 'B initializer'}`;

const MATMUL_CASES: MatMulCase[] = Object.keys(PATTERNS).flatMap((pattern) =>
  Array.from({ length: 4 }, () => {
    const s = PATTERNS[pattern]!(() => int(1, 4));
    // B with a symbolic axis must be fed; otherwise it is an initializer or an input at random.
    return { pattern, ...s, bAsInput: s.b.some((d) => typeof d !== 'number') || rand() < 0.5 };
  }),
);

describe('MatMul gradients match finite differences', () => {
  MATMUL_CASES.forEach((c, i) => {
    it(`#${i} ${matmulLabel(c)}`, async () => {
      const built = build('MatMul', [
        { name: 'a', declared: c.a, dims: concrete(c.a, c.batch), asInput: true },
        { name: 'b', declared: c.b, dims: concrete(c.b, c.batch), asInput: c.bAsInput },
      ]);
      record(matmulLabel(c), await gradErrors(built));
    });
  });

  it('the linear-layer fast path uses Gemms, no batched MatMul or ReduceSum', () => {
    const b = new GraphBuilder();
    const y = b.op('MatMul', [b.input('a', 'float32', ['N', 7, 5]), b.initializer('w', f32([5, 3], randn(rand, 15)))], {}, { outputs: ['y'] });
    b.output(y);
    const ops = buildGradientGraph(b.build(), { seed: { upstream: ['y'] }, wrt: ['a', 'w'] }).graph.nodes.map((n) => n.op);
    expect(ops.filter((o) => o === 'Gemm').length).toBe(2);
    expect(ops.includes('MatMul') || ops.includes('ReduceSum')).toBe(false);
  });
});

describe('the rules emit only the gradients that are wanted', () => {
  const cases: [string, Dim[][], Record<string, AttrInput>][] = [
    ['Gemm', [['N', 4], [6, 4], [6]], { transB: 1, beta: { type: 'float', value: 0.5 } }],
    ['MatMul', [['N', 3, 4], [4, 6]], {}],
    ['MatMul', [['N', 3, 4], ['N', 4, 6]], {}],
  ];
  for (const [op, shapes, attrs] of cases) {
    it(`${op} [${shapes.map((s) => `[${s}]`).join(' x ')}]`, () => {
      for (let only = 0; only < shapes.length; only++) {
        const b = new GraphBuilder();
        const ins = shapes.map((s, i) => b.input(`in${i}`, 'float32', s));
        const y = b.op(op, ins, attrs);
        const dy = b.input('dy', 'float32', b.shapeOf(y));
        const ctx: GradContext = {
          node: b.graph.nodes[b.graph.nodes.length - 1]!,
          b,
          x: (i) => ins[i]!,
          y: () => y,
          dy: () => dy,
          wants: (i) => i === only,
          facts: (n) => b.factsOf(n),
          constant: () => undefined,
        };
        const before = b.graph.nodes.length;
        const grads = findOp(op)!.grad!(ctx);
        expect(grads.map((g) => g !== undefined)).toEqual(shapes.map((_, i) => i === only));
        const products = b.graph.nodes.slice(before).filter((n) => n.op === 'Gemm' || n.op === 'MatMul').length;
        expect(products).toBe(only === 2 ? 0 : 1);
      }
    });
  }
});

// ------------------------------------------------------------------ shape rules

describe('Gemm and MatMul shape rules', () => {
  const shape = (op: string, shapes: Dim[][], attrs: Record<string, AttrInput> = {}): Dim[] => {
    const b = new GraphBuilder();
    return b.shapeOf(b.op(op, shapes.map((s, i) => b.input(`in${i}`, 'float32', s)), attrs));
  };

  it('passes symbolic dims through', () => {
    expect(shape('Gemm', [['N', 4], [6, 4], [6]], { transB: 1 })).toEqual(['N', 6]);
    expect(shape('Gemm', [[4, 'N'], [4, 6], [1, 6]], { transA: 1 })).toEqual(['N', 6]);
    expect(shape('Gemm', [['N', 4], [4, 6], []])).toEqual(['N', 6]);
    expect(shape('MatMul', [['N', 5, 4], [4, 3]])).toEqual(['N', 5, 3]);
    expect(shape('MatMul', [[4], ['N', 4, 3]])).toEqual(['N', 3]);
    expect(shape('MatMul', [['N', 5, 4], [4]])).toEqual(['N', 5]);
    expect(shape('MatMul', [[4], [4]])).toEqual([]);
    expect(shape('MatMul', [['N', 1, 5, 4], [3, 4, 2]])).toEqual(['N', 3, 5, 2]);
  });

  it('reports mismatches', () => {
    expect(() => shape('Gemm', [[3, 4], [5, 6]])).toThrow(/inner dimensions differ: A \[3, 4\] with transA=0 gives K=4, but B \[5, 6\] with transB=0 gives K=5/);
    expect(() => shape('Gemm', [[4, 3], [6, 5]], { transA: 1, transB: 1 })).toThrow(/A \[4, 3\] with transA=1 gives K=4, but B \[6, 5\] with transB=1 gives K=5/);
    expect(() => shape('Gemm', [['N', 3, 4], [4, 6]])).toThrow(/A and B must be matrices/);
    expect(() => shape('Gemm', [[3, 4], [4, 6], [4]])).toThrow(/C \[4\] does not broadcast to the output \[3, 6\]/);
    expect(() => shape('Gemm', [[3, 4], [4, 6], [1, 3, 6]])).toThrow(/C \[1, 3, 6\] has rank 3/);
    expect(() => shape('MatMul', [[2, 3], [4, 5]])).toThrow(/inner dimensions differ: \[2, 3\] x \[4, 5\] \(3 vs 4\)/);
    expect(() => shape('MatMul', [['N', 3], [2]])).toThrow(/inner dimensions differ/);
    expect(() => shape('MatMul', [[2, 3, 4], [3, 4, 5]])).toThrow(/cannot broadcast/);
    expect(() => shape('MatMul', [[], [3]])).toThrow(/rank >= 1/);
  });
});
