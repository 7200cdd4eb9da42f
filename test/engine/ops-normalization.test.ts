import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { AttrInput, Dim, Graph } from '../../src/engine/graph/ir.js';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { lowerTrainingBatchNorm } from '../../src/engine/ops/normalization.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Normalization backward rules against float64 central differences of sum(output * dy).
//
// Tolerance: inference BatchNorm is a per-channel affine map: dx is one float32 product per
// element, dscale and dbias float32 sums of up to ~200 products whose terms cancel (dy has zero
// mean), which is where its worst case comes from (1.8e-6 relative to max|g|). With batch
// statistics (training-mode BatchNorm, InstanceNorm) dx = dy*k + (x - mean)*A + B, terms of the
// size of k|dy| that partly cancel, plus float32 reductions for the statistics: worst 6e-7 here
// (the summary is printed after the run). 2e-5 leaves a 10x margin; a wrong term (a missing mean
// subtraction, a wrong axis) is >= 1e-2, unbiased instead of population variance >= 1e-3.
// Finite differences (h = 1e-6) add ~1e-9.
const TOL = 2e-5;

const engine = new Engine(nodeBackend(), { threads: 1 });
const worst = new Map<string, number>();
afterAll(async () => {
  await engine.dispose();
  console.log('worst relative error per case:', Object.fromEntries([...worst].map(([k, v]) => [k, Number(v.toExponential(2))])));
});

const rand = rng(4242);
const pick = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const uniform = (n: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

/** Random [N, C, spatial...] with N in [minBatch, 3] and at least `minPerStat` elements per statistic. */
function randomShape(rank: number, minBatch: number, minPerStat: number, statAxes: 'batch' | 'spatial'): number[] {
  for (;;) {
    const s = [pick(minBatch, 3), pick(1, 4), ...Array.from({ length: rank - 2 }, () => pick(1, 4))];
    const per = statAxes === 'batch' ? size(s) / s[1]! : size(s.slice(2));
    if (per >= minPerStat) return s;
  }
}

/** x with a per-channel offset and scale, so the statistics are far from 0 and 1. */
function channelData(shape: number[]): Float32Array {
  const C = shape[1]!;
  const inner = size(shape.slice(2));
  const offsets = uniform(C, -3, 3);
  const scales = uniform(C, 0.3, 2);
  const x = randn(rand, size(shape));
  return x.map((v, i) => {
    const c = Math.floor(i / inner) % C;
    return offsets[c]! + scales[c]! * v;
  });
}

interface Built {
  graph: Graph;
  feeds: Record<string, Tensor>;
}

function buildNorm(op: string, shape: number[], attrs: Record<string, AttrInput>, symbolic: boolean, outputs = ['y']): Built {
  const b = new GraphBuilder();
  const C = shape[1]!;
  const dims: Dim[] = symbolic ? ['N', ...shape.slice(1)] : shape;
  const x = b.input('x', 'float32', dims);
  const params = [
    b.initializer('scale', f32([C], uniform(C, 0.5, 1.5).map((v, i) => (i % 2 ? -v : v)))),
    b.initializer('bias', f32([C], uniform(C, -1, 1))),
  ];
  if (op === 'BatchNormalization') {
    params.push(b.initializer('mean', f32([C], uniform(C, -1, 1))), b.initializer('var', f32([C], uniform(C, 0.3, 2))));
  }
  b.opN(op, [x, ...params], attrs, { outputs });
  for (const o of outputs) b.output(o);
  return { graph: b.build(), feeds: { x: f32(shape, channelData(shape)) } };
}

async function gradErrors(label: string, { graph, feeds }: Built, wrt: string[], output = 'y'): Promise<number> {
  const yDims = evaluateGraph(graph, feeds, [output])[output]!.dims;
  const dy = f32(yDims, randn(rand, size(yDims)));
  const fd = finiteDifferences(graph, feeds, output, dy, wrt);
  const got = await engineGradients(engine, graph, feeds, output, dy, wrt);
  let err = 0;
  for (const w of wrt) {
    const g = got.get(w)!;
    expect(g.dims, `shape of d/d${w}`).toEqual(w === 'x' ? feeds['x']!.dims : graph.initializers.get(w)!.dims);
    const ref = fd.get(w)!;
    err = Math.max(err, relativeMaxError(toFloat64(g), ref.values, ref.indices));
  }
  worst.set(label, Math.max(worst.get(label) ?? 0, err));
  return err;
}

describe('BatchNormalization, inference mode', () => {
  for (const rank of [2, 3, 4, 5]) {
    it(`rank ${rank}: gradients for x, scale and bias`, async () => {
      for (const epsilon of [1e-5, 0.1]) {
        const shape = randomShape(rank, 1, 1, 'batch');
        const built = buildNorm('BatchNormalization', shape, { epsilon }, rank % 2 === 0);
        expect(await gradErrors('BN inference', built, ['x', 'scale', 'bias']), `[${shape}] eps ${epsilon}`).toBeLessThan(TOL);
      }
    });
  }
});

describe('BatchNormalization, training mode (batch statistics)', () => {
  const outputs = ['y', 'running_mean', 'running_var'];
  for (const rank of [2, 3, 4]) {
    it(`rank ${rank}: gradients for x, scale and bias through the batch statistics`, async () => {
      for (const momentum of [0.9, 0.6]) {
        // Rank 2 normalizes over the batch alone: it needs a batch of 2+ (3+ values per statistic).
        const shape = randomShape(rank, rank === 2 ? 3 : 1, 3, 'batch');
        const built = buildNorm('BatchNormalization', shape, { training_mode: 1, momentum, epsilon: 1e-5 }, rank !== 3, outputs);
        expect(await gradErrors('BN training, via Y', built, ['x', 'scale', 'bias']), `[${shape}] momentum ${momentum}`).toBeLessThan(TOL);
      }
    });
  }

  it('gradients through the running_mean and running_var outputs', async () => {
    for (const rank of [2, 4]) {
      const shape = randomShape(rank, 2, 3, 'batch');
      const built = buildNorm('BatchNormalization', shape, { training_mode: 1, momentum: 0.7 }, true, outputs);
      expect(await gradErrors('BN training, via running stats', built, ['x'], 'running_mean')).toBeLessThan(TOL);
      expect(await gradErrors('BN training, via running stats', built, ['x'], 'running_var')).toBeLessThan(TOL);
    }
  });

  it('ONNX Runtime runs it: batch statistics, population variance, running averages as ONNX specifies', async () => {
    const shape = [3, 4, 2, 5];
    const { graph, feeds } = buildNorm('BatchNormalization', shape, { training_mode: 1, momentum: 0.8 }, true, outputs);
    const run = await engine.compileOnce(graph);
    const got = await run.run(feeds);
    await run.release();
    const ref = evaluateGraph(graph, feeds, outputs);
    for (const o of outputs) expect(relativeMaxError(toFloat64(got[o]!), toFloat64(ref[o]!)), o).toBeLessThan(1e-6);
  });

  it('lowerTrainingBatchNorm: same forward values, and primitive rules give the same gradients', async () => {
    for (const rank of [2, 4]) {
      const shape = randomShape(rank, 2, 3, 'batch');
      const built = buildNorm('BatchNormalization', shape, { training_mode: 1, momentum: 0.75, epsilon: 1e-4 }, true, outputs);
      const lowered = lowerTrainingBatchNorm(built.graph);
      expect(lowered.nodes.some((n) => n.op === 'BatchNormalization')).toBe(false);
      expect(lowered.outputs.map((o) => o.name)).toEqual(outputs);
      const fused = await engine.compileOnce(built.graph);
      const prim = await engine.compileOnce(lowered);
      const a = await fused.run(built.feeds);
      const p = await prim.run(built.feeds);
      await fused.release();
      await prim.release();
      for (const o of outputs) expect(relativeMaxError(toFloat64(p[o]!), toFloat64(a[o]!)), o).toBeLessThan(1e-6);
      expect(await gradErrors('BN training, lowered', { graph: lowered, feeds: built.feeds }, ['x', 'scale', 'bias'])).toBeLessThan(TOL);
    }
  });

  it('lowerTrainingBatchNorm leaves other nodes alone', () => {
    const { graph } = buildNorm('BatchNormalization', [2, 3, 4], {}, true);
    const lowered = lowerTrainingBatchNorm(graph);
    expect(lowered).not.toBe(graph);
    expect(lowered.nodes.map((n) => n.op)).toEqual(graph.nodes.map((n) => n.op));
  });

  it('a training-mode node without named running-statistics outputs is rejected', () => {
    // ONNX requires three outputs; ONNX Runtime 1.30 segfaults running the node when the last two are empty names.
    expect(() => buildNorm('BatchNormalization', [2, 3, 4], { training_mode: 1 }, true, ['y'])).toThrow(/training_mode=1 needs the three outputs/);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2]);
    const v = b.initializer('v', f32([2], [1, 1]));
    expect(() => b.opN('BatchNormalization', [x, v, v, v, v], { training_mode: 1 }, { outputs: ['y', '', ''] })).toThrow(/all named; the node has 1 named/);
  });
});

describe('InstanceNormalization', () => {
  for (const rank of [3, 4, 5]) {
    it(`rank ${rank}: gradients for x, scale and bias`, async () => {
      for (const epsilon of [1e-5, 0.01]) {
        const shape = randomShape(rank, 1, 3, 'spatial');
        const built = buildNorm('InstanceNormalization', shape, { epsilon }, rank !== 4);
        expect(await gradErrors('InstanceNorm', built, ['x', 'scale', 'bias']), `[${shape}] eps ${epsilon}`).toBeLessThan(TOL);
      }
    });
  }
});

interface LayerNormCase {
  label: string;
  shape: number[];
  axis: number;
  /** shapes of Scale and B (B absent when undefined); they broadcast to the normalized shape */
  scale: number[];
  bias?: number[];
  /** also feed the Mean and InvStdDev outputs into the result, so their gradients count */
  stats?: boolean;
}

/** LayerNormalization (opset 17) with rows far from zero mean and unit variance. */
function buildLayerNorm(c: LayerNormCase, symbolic: boolean, epsilon: number): Built {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', symbolic ? ['N', ...c.shape.slice(1)] : c.shape);
  const scale = b.initializer('scale', f32(c.scale, uniform(size(c.scale), 0.5, 1.5).map((v, i) => (i % 3 ? v : -v))));
  const bias = c.bias ? b.initializer('bias', f32(c.bias, uniform(size(c.bias), -1, 1))) : undefined;
  const outs = c.stats ? ['ln', 'mean', 'inv'] : ['y'];
  b.opN('LayerNormalization', [x, scale, ...(bias ? [bias] : [])], { axis: c.axis, epsilon }, { outputs: outs });
  if (c.stats) {
    const k1 = b.initializer('k1', f32([1], [0.7]));
    const k2 = b.initializer('k2', f32([1], [-1.3]));
    b.op('Add', [b.op('Add', ['ln', b.op('Mul', ['mean', k1])]), b.op('Mul', ['inv', k2])], {}, { outputs: ['y'] });
  }
  b.output('y');
  const n = size(c.shape);
  const data = randn(rand, n).map((v, i) => 2.5 * v + (i % 7) - 3);
  return { graph: b.build(), feeds: { x: f32(c.shape, data) } };
}

describe('LayerNormalization', () => {
  const cases: LayerNormCase[] = [
    { label: 'channels last (ConvNeXt), axis -1', shape: [2, 3, 4, 6], axis: -1, scale: [6], bias: [6] },
    { label: 'axis 1 over C, H, W, no bias', shape: [2, 3, 2, 3], axis: 1, scale: [3, 2, 3] },
    { label: 'axis -2, broadcast scale', shape: [3, 4, 5], axis: -2, scale: [4, 1], bias: [5] },
    { label: 'Mean and InvStdDev outputs used downstream', shape: [2, 5, 4], axis: -1, scale: [4], bias: [4], stats: true },
  ];
  for (const c of cases) {
    it(`${c.label}: gradients for x, scale and bias`, async () => {
      for (const [symbolic, epsilon] of [[true, 1e-5], [false, 0.1]] as const) {
        const built = buildLayerNorm(c, symbolic, epsilon);
        const wrt = ['x', 'scale', ...(c.bias ? ['bias'] : [])];
        expect(await gradErrors('LayerNorm', built, wrt), `${c.label}, eps ${epsilon}`).toBeLessThan(TOL);
      }
    });
  }

  it('ONNX Runtime and the float64 reference agree on Y, Mean and InvStdDev', async () => {
    const { graph, feeds } = buildLayerNorm({ label: '', shape: [2, 3, 5], axis: -1, scale: [5], bias: [5], stats: true }, false, 1e-5);
    graph.outputs.push(...['ln', 'mean', 'inv'].map((name) => ({ name, dtype: 'float32' as const, shape: undefined })));
    const ref = evaluateGraph(graph, feeds, ['ln', 'mean', 'inv']);
    const compiled = await engine.compileOnce(graph);
    const got = await compiled.run(feeds, ['ln', 'mean', 'inv']);
    for (const k of ['ln', 'mean', 'inv']) {
      expect(got[k]!.dims, k).toEqual(ref[k]!.dims);
      expect(relativeMaxError(toFloat64(got[k]!), toFloat64(ref[k]!)), k).toBeLessThan(1e-5);
    }
    expect(got['mean']!.dims).toEqual([2, 3, 1]);
  });

  it('rejects an axis outside the input and a scale that does not broadcast', () => {
    const b = new GraphBuilder();
      const x = b.input('x', 'float32', ['N', 3, 4]);
    const good = b.initializer('good', f32([4], [1, 1, 1, 1]));
    const bad = b.initializer('bad', f32([3], [1, 1, 1]));
    expect(() => b.op('LayerNormalization', [x, good], { axis: 3 })).toThrow(/axis 3 is outside the input's 3 axes/);
    expect(() => b.op('LayerNormalization', [x, bad], { axis: -1 })).toThrow(/does not broadcast to the normalized shape \[4\]/);
  });
});

describe('shape rules and skipped gradients', () => {
  it('rejects per-channel inputs of the wrong length', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3, 4, 4]);
    const v = b.initializer('v', f32([4], [1, 1, 1, 1]));
    expect(() => b.op('InstanceNormalization', [x, v, v])).toThrow(/4 entries for 3 channels/);
  });

  const opsFor = (op: string, attrs: Record<string, AttrInput>, outputs: string[], wrt: string[]): string[] => {
    const { graph } = buildNorm(op, [2, 3, 4, 4], attrs, true, outputs);
    return buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt }).graph.nodes.map((n) => n.op);
  };

  it('BatchNorm inference wrt x only: one per-channel Mul, no reductions', () => {
    const ops = opsFor('BatchNormalization', {}, ['y'], ['x']);
    expect(ops).not.toContain('ReduceSum');
    expect(ops.filter((o) => o === 'Mul')).toHaveLength(2); // scale * inv_std on [C], then dy * that
  });

  it('InstanceNorm wrt bias only: just ReduceSum of dy', () => {
    const ops = opsFor('InstanceNormalization', {}, ['y'], ['bias']).filter((o) => o !== 'Constant' && o !== 'Identity');
    // (the forward is pruned too: nothing but the gradient is requested)
    expect(ops).toEqual(['ReduceSum', 'ReduceSum']);
  });

  it('training BatchNorm wrt scale only: no dx terms', () => {
    const ops = opsFor('BatchNormalization', { training_mode: 1 }, ['y', 'rm', 'rv'], ['scale']);
    expect(ops).not.toContain('Neg');
    expect(ops.filter((o) => o === 'Add')).toHaveLength(1); // var + eps; dx would add two more
  });
});
