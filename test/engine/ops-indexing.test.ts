import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Dim } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Gather's backward (scatter-add of dy to the gathered positions) against float64 central
// finite differences, for the index shapes the rule reorders differently: indices on the last
// axis (a bilinear warp's corner lookups, with repeated positions that must add up), on a middle
// axis with trailing axes, a scalar index, and a symbolic batch (no static sizes to merge).
// Gather is linear in its data, so the differences are exact to float64 rounding; float32 sums
// of a few terms stay within ~1e-6 of the largest entry, and a dropped or misplaced update is an
// O(1) error.
const TOL = 1e-5;

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

interface Case {
  name: string;
  declared: Dim[];
  dims: number[];
  axis: number;
  indices: { dims: number[]; data: number[] };
}

const rand = rng(4242);
const cases: Case[] = [
  { name: 'last axis, 2-D indices with repeats', declared: [2, 3, 7], dims: [2, 3, 7], axis: 2, indices: { dims: [4, 5], data: Array.from({ length: 20 }, (_, k) => (k * 3) % 7) } },
  { name: 'middle axis, trailing axes', declared: [2, 5, 3, 2], dims: [2, 5, 3, 2], axis: 1, indices: { dims: [6], data: [4, 0, 4, -1, 2, 2] } },
  { name: 'scalar index', declared: [3, 4, 2], dims: [3, 4, 2], axis: 1, indices: { dims: [], data: [2] } },
  { name: 'symbolic batch', declared: ['N', 3, 6], dims: [2, 3, 6], axis: 2, indices: { dims: [2, 3], data: [5, 0, 5, 1, 1, 3] } },
];

describe('Gather backward', () => {
  for (const c of cases) {
    it(`${c.name}: equals float64 finite differences`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', c.declared);
      const idx = b.constant({ dtype: 'int64', dims: c.indices.dims, data: BigInt64Array.from(c.indices.data, (v) => BigInt(v)) }, 'idx');
      const y = b.op('Gather', [x, idx], { axis: c.axis }, { outputs: ['y'] });
      b.output(y);
      const graph = b.build();
      const n = c.dims.reduce((p, q) => p * q, 1);
      const feeds: Record<string, Tensor> = { x: f32(c.dims, randn(rand, n)) };
      const yDims = [...c.dims.slice(0, c.axis), ...c.indices.dims, ...c.dims.slice(c.axis + 1)];
      const dy = f32(yDims, randn(rand, yDims.reduce((p, q) => p * q, 1)));
      const got = (await engineGradients(engine, graph, feeds, 'y', dy, ['x'])).get('x')!;
      expect(got.dims).toEqual(c.dims);
      const fd = finiteDifferences(graph, feeds, 'y', dy, ['x']).get('x')!;
      expect(relativeMaxError(toFloat64(got), fd.values, fd.indices)).toBeLessThan(TOL);
    });
  }
});

// ONNX Runtime's ScatterND with reduction 'add' splits the updates over its intra-op threads and
// adds into the output without atomics: with several threads, repeated indices lost updates at
// random (a different gradient each run; featviz and dream with one --seed gave different
// images). dy = 1 makes every gradient entry an exact integer count, so one lost update shows.
describe('Gather backward on several threads', () => {
  const threaded = new Engine(nodeBackend(), { threads: 4 });
  afterAll(() => threaded.dispose());
  const shapes = [
    { name: 'first axis, rows', dims: [64, 64], axis: 0, count: 1 << 16 },
    { name: 'last axis (a warp)', dims: [4, 3, 4096], axis: 2, count: 1 << 17 },
  ];
  for (const c of shapes) {
    it(`${c.name}: every repeated index adds up, run after run`, async () => {
      const n = c.dims[c.axis]!;
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', c.dims);
      const idx = b.constant({ dtype: 'int64', dims: [c.count], data: BigInt64Array.from({ length: c.count }, (_, k) => BigInt((k * 7) % n)) }, 'idx');
      b.output(b.op('Gather', [x, idx], { axis: c.axis }, { outputs: ['y'] }));
      const graph = b.build();
      const size = c.dims.reduce((p, q) => p * q, 1);
      const yDims = [...c.dims.slice(0, c.axis), c.count, ...c.dims.slice(c.axis + 1)];
      const dy = f32(yDims, new Float32Array(yDims.reduce((p, q) => p * q, 1)).fill(1));
      for (let run = 0; run < 6; run++) {
        const g = (await engineGradients(threaded, graph, { x: f32(c.dims, new Float32Array(size)) }, 'y', dy, ['x'])).get('x')!;
        const v = g.data as Float32Array;
        let lo = Infinity;
        let hi = -Infinity;
        for (const e of v) {
          lo = Math.min(lo, e);
          hi = Math.max(hi, e);
        }
        expect([run, lo, hi]).toEqual([run, c.count / n, c.count / n]);
      }
    });
  }
});
