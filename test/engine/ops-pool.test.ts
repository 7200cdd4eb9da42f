import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph, Node } from '../../src/engine/graph/ir.js';
import { windowGeometry } from '../../src/engine/ops/geometry.js';
import type { RuleSetName } from '../../src/engine/ops/registry.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, toNumbers, type Tensor } from '../../src/engine/tensor.js';
import { finiteDifferences, float64Graph, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Pooling backward rules against float64 central finite differences on the reference evaluator.
//
// Tolerance: these maps are (piecewise) linear, so central differences are exact up to rounding
// (~1e-16 / 1e-6 = 1e-10) as long as no perturbation flips a max-pool argmax; inputs are
// permutations of distinct values 0.01 apart, far beyond the FD step (1e-6 x max(1, |x|) <= 1e-5).
// The engine runs in float32: each gradient entry sums at most a few dozen float32 terms
// (dy / count), so its error stays below ~1e-6 of the largest entry. 1e-5 keeps a 10x margin;
// a wrong tap, count or edge shows up as O(0.1) or more.
const TOL = 1e-5;

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

type Attrs = Record<string, number | number[] | string>;

/**
 * x -> Identity -> pool. The Identity keeps the pool's input distinct from the `wrt` value x:
 * rules take their exact (slower) tie route when the caller reads the gradient at the pool
 * input itself, which the tests below exercise separately by asking for `h`.
 */
function poolGraph(op: string, attrs: Attrs, shape: (number | string)[], outputs: string[] = ['y']): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', shape);
  const h = b.op('Identity', [x], {}, { name: 'pre', outputs: ['h'] });
  const outs = b.opN(op, [h], attrs, { name: 'pool', outputs });
  for (const o of outs) if (o) b.output(o);
  return b.build();
}

/** Distinct values 0.01 apart in random order: no near-ties for max-pooling, no FD argmax flips. */
function distinct(rand: () => number, n: number): Float32Array {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return Float32Array.from(v);
}

interface Run {
  y: Tensor;
  dx: Tensor;
  ops: string[];
}

async function gradient(graph: Graph, x: Tensor, dy: Tensor, ruleSet: RuleSetName = 'standard'): Promise<Run> {
  const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'], outputs: ['y'], ruleSet });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ x, [gg.seedInputs['y']!]: dy });
  await run.release();
  // The backward nodes only: everything after the forward pool.
  const ops = gg.graph.nodes.slice(graph.nodes.length).map((n) => n.op);
  return { y: out['y']!, dx: out[gg.gradientOutputs['x']!]!, ops };
}

/** Which formulation the rule picked, read off the emitted ops. */
function pathOf(op: string, ops: string[]): string {
  if (ops.includes('ScatterElements')) return 'indices';
  if (op === 'MaxPool' && ops.includes('Concat')) return 'planes';
  if (ops.includes('Resize')) return 'blocks';
  if (ops.includes('MatMul')) return 'matmul';
  if (ops.includes('AveragePool')) return 'avgpool-s1';
  if (op === 'MaxPool' && ops.includes('Equal')) return 'global-mask';
  return 'other';
}

interface PoolCase {
  op: 'MaxPool' | 'AveragePool';
  attrs: Attrs;
  batch: number;
  channels: number;
  /** spatial sizes (1-D, 2-D or 3-D) */
  hw: number[];
}

const describeCase = (c: PoolCase): string => `${c.op} ${JSON.stringify(c.attrs)} x [${c.batch}, ${c.channels}, ${c.hw}]`;

/** Runs one case on a symbolic-batch graph; returns the FD error and the path taken. */
async function check(c: PoolCase, rand: () => number): Promise<{ err: number; path: string }> {
  const graph = poolGraph(c.op, c.attrs, ['N', c.channels, ...c.hw]);
  const n = c.batch * c.channels * c.hw.reduce((p, q) => p * q, 1);
  const x = f32([c.batch, c.channels, ...c.hw], distinct(rand, n));
  // Output size from the reference evaluator, an implementation independent of the shape rule.
  const ref = evaluateGraph(float64Graph(graph), { x: { dtype: 'float64', dims: x.dims, data: toFloat64(x) } }, ['y'])['y']!;
  const dy = f32(ref.dims, randn(rand, ref.data.length));
  const r = await gradient(graph, x, dy);
  expect(r.y.dims, `${describeCase(c)}: ORT's output shape`).toEqual(ref.dims);
  expect(relativeMaxError(toFloat64(r.y), toFloat64(ref)), `${describeCase(c)}: forward`).toBeLessThan(1e-6);
  const fd = finiteDifferences(graph, { x }, 'y', dy, ['x'], { maxCoords: 2000 }).get('x')!;
  return { err: relativeMaxError(toFloat64(r.dx), fd.values, fd.indices), path: pathOf(c.op, r.ops) };
}

/** Random pooling configurations with valid geometry (ORT requires pads < kernel). */
function randomCases(op: PoolCase['op'], count: number, seed: number): PoolCase[] {
  const rand = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const cases: PoolCase[] = [];
  while (cases.length < count) {
    const square = rand() < 0.6;
    const k0 = int(1, 4);
    const kernel = [k0, square ? k0 : int(1, 4)];
    const s0 = int(1, 3);
    // A third of the cases tile the input with disjoint windows (the fast mask/Resize paths).
    const tiled = rand() < 0.35;
    const strides = tiled ? [...kernel] : [s0, square ? s0 : int(1, 3)];
    const dilations = op === 'MaxPool' && !tiled && rand() < 0.3 ? [int(1, 2), int(1, 2)] : [1, 1];
    const pads = tiled || rand() < 0.5 ? [0, 0, 0, 0] : [0, 1, 0, 1].map((_, i) => int(0, kernel[i % 2]! - 1));
    const attrs: Attrs = { kernel_shape: kernel, strides, pads };
    if (dilations.some((d) => d !== 1)) attrs['dilations'] = dilations;
    if (rand() < 0.5) attrs['ceil_mode'] = 1;
    if (op === 'AveragePool' && rand() < 0.5) attrs['count_include_pad'] = 1;
    const hw = [int(3, 9), int(3, 9)];
    const node: Node = { op, name: 'probe', inputs: [], outputs: [], attrs: {} };
    for (const [k, v] of Object.entries(attrs)) node.attrs[k] = typeof v === 'number' ? { type: 'int', value: v } : { type: 'ints', value: v as number[] };
    try {
      const geo = windowGeometry(node, hw, kernel);
      if (geo.out.some((o) => (o as number) < 1)) continue;
    } catch {
      continue; // window does not fit this input
    }
    cases.push({ op, attrs, batch: int(1, 3), channels: int(1, 3), hw });
  }
  return cases;
}

/** Hand-picked cases that reach every formulation and edge: floor leftovers, ceil overhang, gaps. */
const FIXED: PoolCase[] = [
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] }, batch: 2, channels: 3, hw: [6, 8] },
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] }, batch: 1, channels: 2, hw: [7, 5] }, // floor: last row/col get 0
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, batch: 3, channels: 1, hw: [7, 5] }, // ceil: partial windows
  { op: 'MaxPool', attrs: { kernel_shape: [3, 3], strides: [3, 3], ceil_mode: 1 }, batch: 2, channels: 2, hw: [8, 7] },
  { op: 'MaxPool', attrs: { kernel_shape: [5, 5] }, batch: 2, channels: 3, hw: [5, 5] }, // global
  { op: 'MaxPool', attrs: { kernel_shape: [3, 4] }, batch: 2, channels: 1, hw: [5, 4] }, // one window, not covering all rows
  { op: 'MaxPool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, batch: 2, channels: 3, hw: [9, 8] }, // ResNet stem
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [3, 3] }, batch: 2, channels: 2, hw: [8, 8] }, // gaps between windows
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2], strides: [1, 1], dilations: [2, 2] }, batch: 1, channels: 2, hw: [6, 7] },
  { op: 'MaxPool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, batch: 2, channels: 2, hw: [8, 8] },
  { op: 'AveragePool', attrs: { kernel_shape: [2, 2], strides: [2, 2] }, batch: 2, channels: 3, hw: [6, 8] },
  { op: 'AveragePool', attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, batch: 2, channels: 1, hw: [7, 5] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3], strides: [3, 3] }, batch: 1, channels: 2, hw: [7, 8] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, batch: 2, channels: 2, hw: [7, 7] }, // Inception branch
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 }, batch: 2, channels: 2, hw: [7, 7] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 2], pads: [2, 0, 1, 1] }, batch: 1, channels: 1, hw: [5, 6] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, batch: 2, channels: 2, hw: [7, 7] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 }, batch: 2, channels: 2, hw: [8, 8] },
  { op: 'AveragePool', attrs: { kernel_shape: [4, 4], strides: [3, 3], pads: [2, 1, 2, 1], count_include_pad: 1, ceil_mode: 1 }, batch: 1, channels: 2, hw: [9, 8] },
  // 1-D and 3-D pools: the rules are written for any number of spatial axes.
  { op: 'MaxPool', attrs: { kernel_shape: [2], strides: [2] }, batch: 2, channels: 3, hw: [9] },
  { op: 'MaxPool', attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] }, batch: 2, channels: 3, hw: [9] },
  { op: 'MaxPool', attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 }, batch: 2, channels: 2, hw: [3, 4, 5] },
  { op: 'MaxPool', attrs: { kernel_shape: [3, 3, 3], strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] }, batch: 2, channels: 2, hw: [5, 4, 5] },
  { op: 'AveragePool', attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] }, batch: 2, channels: 3, hw: [9] },
  { op: 'AveragePool', attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 }, batch: 2, channels: 2, hw: [3, 4, 5] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3, 3], pads: [1, 1, 1, 1, 1, 1] }, batch: 1, channels: 2, hw: [4, 5, 3] },
  { op: 'AveragePool', attrs: { kernel_shape: [3, 3, 3], strides: [2, 2, 2], pads: [1, 0, 1, 1, 1, 0] }, batch: 2, channels: 2, hw: [5, 4, 5] },
];

describe('pooling backward rules against finite differences', () => {
  for (const op of ['MaxPool', 'AveragePool'] as const) {
    it(`${op}: hand-picked and 80 random configurations`, async () => {
      const rand = rng(op === 'MaxPool' ? 11 : 12);
      const cases = [...FIXED.filter((c) => c.op === op), ...randomCases(op, 80, op === 'MaxPool' ? 101 : 202)];
      const paths = new Map<string, number>();
      let worst = 0;
      let worstCase = '';
      for (const c of cases) {
        const { err, path } = await check(c, rand);
        expect(err, describeCase(c)).toBeLessThan(TOL);
        paths.set(path, (paths.get(path) ?? 0) + 1);
        if (err > worst) [worst, worstCase] = [err, describeCase(c)];
      }
      console.log(`${op}: ${cases.length} configs, paths ${JSON.stringify(Object.fromEntries(paths))}, worst ${worst.toExponential(2)} (${worstCase})`);
      const expected = op === 'MaxPool' ? ['planes', 'indices'] : ['blocks', 'avgpool-s1', 'matmul'];
      for (const p of expected) expect(paths.get(p) ?? 0, `cases through the ${p} path`).toBeGreaterThan(0);
    });
  }

  it('GlobalAveragePool and GlobalMaxPool, with symbolic batch and symbolic spatial sizes', async () => {
    const rand = rng(3);
    for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
      const runs: [(number | string)[], number[]][] = [
        [['N', 3, 5, 4], [1, 3, 5, 4]],
        [['N', 3, 5, 4], [3, 3, 5, 4]],
        [['N', 2, 'H', 'W'], [2, 2, 5, 6]], // the count 1/(H*W) is computed at run time
      ];
      for (const [declared, actual] of runs) {
        const graph = poolGraph(op, {}, declared);
        const n = actual.reduce((p, q) => p * q, 1);
        const x = f32(actual, distinct(rand, n));
        const dy = f32([actual[0]!, actual[1]!, 1, 1], randn(rand, actual[0]! * actual[1]!));
        const r = await gradient(graph, x, dy);
        const fd = finiteDifferences(graph, { x }, 'y', dy, ['x'], { maxCoords: 1000 }).get('x')!;
        expect(relativeMaxError(toFloat64(r.dx), fd.values, fd.indices), `${op} ${declared} run as ${actual}`).toBeLessThan(TOL);
        if (op === 'GlobalAveragePool' && typeof declared[2] === 'number') {
          // Engine notes: Mul on the small [N, C, 1, 1] tensor, then one Expand (to the run-time Shape of x).
          expect(r.ops.filter((o) => o !== 'Constant' && o !== 'Identity')).toEqual(['Mul', 'Shape', 'Expand']);
        }
      }
    }
  });
});

describe('ONNX Runtime MaxPool Indices (pinned: the scatter rule depends on them)', () => {
  // With x = 0, 1, 2, ... every window's max is its last in-bounds tap and its value equals its
  // flat position, so Indices == y exactly when indices are flat over the whole unpadded
  // N*C*H*W tensor (batch and channel included, padding excluded).
  const cases: [string, Attrs, number[]][] = [
    ['overlapping, batch 2', { kernel_shape: [2, 2] }, [2, 2, 3, 3]],
    ['padded, batch 2', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 2, 3, 3]],
    ['ceil mode', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, [1, 1, 5, 5]],
    ['dilated', { kernel_shape: [2, 2], dilations: [2, 2] }, [1, 1, 5, 5]],
    ['ResNet stem, batch 3', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [3, 2, 9, 8]],
  ];
  for (const [name, attrs, shape] of cases) {
    it(name, async () => {
      const graph = poolGraph('MaxPool', attrs, shape, ['y', 'i']);
      const run = await engine.compileOnce(graph);
      const n = shape.reduce((p, q) => p * q, 1);
      const out = await run.run({ x: f32(shape, Float32Array.from({ length: n }, (_, k) => k)) });
      await run.release();
      expect(out['i']!.dtype).toBe('int64');
      expect(toNumbers(out['i']!)).toEqual(toNumbers(out['y']!));
    });
  }

  it('literal values: padded 2x2/2 over [2, 2, 3, 3]', async () => {
    const graph = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 2, 3, 3], ['y', 'i']);
    const run = await engine.compileOnce(graph);
    const out = await run.run({ x: f32([2, 2, 3, 3], Float32Array.from({ length: 36 }, (_, k) => k)) });
    await run.release();
    expect(toNumbers(out['i']!)).toEqual([0, 2, 6, 8, 9, 11, 15, 17, 18, 20, 24, 26, 27, 29, 33, 35]);
  });

  it('storage_order=1 numbers each plane column-major (which is why the rule re-runs MaxPool without it)', async () => {
    const graph = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 }, [2, 2, 3, 4], ['y', 'i']);
    const run = await engine.compileOnce(graph);
    const out = await run.run({ x: f32([2, 2, 3, 4], Float32Array.from({ length: 48 }, (_, k) => k)) });
    await run.release();
    // plane p, row h, column w -> p*12 + h + w*3
    const expected = toNumbers(out['y']!).map((v) => {
      const p = Math.floor(v / 12);
      const h = Math.floor((v % 12) / 4);
      const w = v % 4;
      return p * 12 + h + w * 3;
    });
    expect(toNumbers(out['i']!)).toEqual(expected);
  });

  it('ties go to the first maximum in row-major window order', async () => {
    const graph = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [1, 1] }, [1, 1, 3, 3], ['y', 'i']);
    const run = await engine.compileOnce(graph);
    const out = await run.run({ x: f32([1, 1, 3, 3], [1, 1, 0, 1, 1, 0, 0, 0, 0]) });
    await run.release();
    expect(toNumbers(out['i']!)).toEqual([0, 1, 3, 4]);
  });

  it('the overlapping rule uses the forward node\'s own Indices when it has them', async () => {
    const graph = poolGraph('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, ['N', 2, 7, 7], ['y', 'i']);
    const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'], outputs: ['y'] });
    expect(gg.graph.nodes.filter((n) => n.op === 'MaxPool')).toHaveLength(1);
    const plain = poolGraph('MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, ['N', 2, 7, 7]);
    const rerun = buildGradientGraph(plain, { seed: { upstream: ['y'] }, wrt: ['x'], outputs: ['y'] });
    const pools = rerun.graph.nodes.filter((n) => n.op === 'MaxPool');
    // The forward pool stays on the fast kernel (one output); a second one computes Indices.
    expect(pools.map((n) => n.outputs.filter(Boolean).length).sort()).toEqual([1, 2]);
  });
});

describe('MaxPool under the deconvnet rule set', () => {
  // Zeiler & Fergus route the signal back through the forward pass's max "switches": the
  // standard max-pool gradient. On inputs without ties both rule sets agree exactly.
  const attrsList: Attrs[] = [
    { kernel_shape: [2, 2], strides: [2, 2] },
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    { kernel_shape: [4, 4] },
    { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 },
  ];
  for (const attrs of attrsList) {
    it(`equals the standard gradient: ${JSON.stringify(attrs)}`, async () => {
      const rand = rng(9);
      const graph = poolGraph('MaxPool', attrs, ['N', 3, 5, 4]);
      const x = f32([2, 3, 5, 4], distinct(rand, 120));
      const ref = evaluateGraph(graph, { x }, ['y'])['y']!;
      const dy = f32(ref.dims, randn(rand, ref.data.length));
      const std = await gradient(graph, x, dy, 'standard');
      const dec = await gradient(graph, x, dy, 'deconvnet');
      expect(toNumbers(dec.dx).map((v) => v + 0)).toEqual(toNumbers(std.dx).map((v) => v + 0));
    });
  }

  it('on exact ties routes each window to one switch (the first maximum), as PyTorch does', async () => {
    // All-zero windows follow every ReLU and flat image regions tie at positive values: each
    // window's gradient must land on exactly one cell (the first in row-major order), under
    // every rule set, or Euler's identity and IG's completeness break.
    const graph = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, [1, 1, 2, 6]);
    const x = f32([1, 1, 2, 6], [0, 0, 3, 1, 5, 5, 0, 0, 2, 4, 5, 5]);
    const dy = f32([1, 1, 1, 3], [1, 1, 1]);
    for (const ruleSet of ['standard', 'guided', 'deconvnet'] as RuleSetName[]) {
      const r = await gradient(graph, x, dy, ruleSet);
      expect(toNumbers(r.dx).map((v) => v + 0), ruleSet).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    }
    // ceil mode: the partial window at the end competes only among real cells
    const ceil = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, [1, 1, 3, 3]);
    const cx = f32([1, 1, 3, 3], [1, 1, 2, 1, 1, 0, 7, 7, 7]);
    const cr = await gradient(ceil, cx, f32([1, 1, 2, 2], [1, 2, 3, 4]), 'standard');
    expect(toNumbers(cr.dx).map((v) => v + 0)).toEqual([1, 0, 2, 0, 0, 0, 3, 0, 4]);

    const gmax = poolGraph('GlobalMaxPool', {}, [1, 2, 2, 2]);
    const gx = f32([1, 2, 2, 2], [0, 0, 0, 0, 5, 7, 7, 1]);
    for (const ruleSet of ['standard', 'deconvnet'] as RuleSetName[]) {
      const gd = await gradient(gmax, gx, f32([1, 2, 1, 1], [2, 3]), ruleSet);
      expect(toNumbers(gd.dx).map((v) => v + 0), ruleSet).toEqual([2, 0, 0, 0, 0, 3, 0, 0]);
    }
  });

});

describe('pooling rules: errors name the node', () => {
  it('MaxPool needs static spatial sizes', () => {
    const graph = poolGraph('MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, ['N', 3, 'H', 'W']);
    expect(() => buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'] })).toThrow(/MaxPool node "pool".*static spatial/);
  });
  it('AveragePool needs static spatial sizes', () => {
    const graph = poolGraph('AveragePool', { kernel_shape: [3, 3], strides: [2, 2] }, ['N', 3, 'H', 9]);
    expect(() => buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'] })).toThrow(/AveragePool node "pool".*static spatial/);
  });
});
