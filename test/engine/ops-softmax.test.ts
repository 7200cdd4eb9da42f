import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Dim } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64 } from '../../src/engine/tensor.js';
import { engineGradients, finiteDifferences } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Softmax / LogSoftmax backward rules against float64 central differences of sum(y * dy).
//
// Tolerance: dx = y * (dy - sum(dy * y)) and dy - exp(y) * sum(dy) are float32 sums over at most
// 5 elements plus three elementwise ops, so their absolute error is a few ulps of |dy| (~1e-7);
// finite differences (h = 1e-6) add ~1e-9. That error scales with |dy|, not with |g|: when a row
// is nearly one-hot, dy - sum(dy * y) cancels and max|g| is small (a single row [5, -3.2, -1.3]
// had max|g| = 4e-3 |dy| and an error of 8e-6 of it; PyTorch's float32 kernel computes the same
// expression). So the error is taken relative to max(max|g|, 0.1 max|dy|): below 1e-5 with a
// 10x margin, while a wrong axis or a missing term still gives O(1) (every such error is a
// multiple of y * dy).
const TOL = 1e-5;

const engine = new Engine(nodeBackend(), { threads: 1 });
const worst = new Map<string, number>();
afterAll(async () => {
  await engine.dispose();
  console.log('worst relative error per op:', Object.fromEntries([...worst].map(([k, v]) => [k, Number(v.toExponential(2))])));
});

const rand = rng(77031);
const pick = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

async function check(op: string, shape: number[], axis: number | undefined, symbolic: boolean): Promise<number> {
  const b = new GraphBuilder();
  const dims: Dim[] = symbolic ? ['N', ...shape.slice(1)] : shape;
  const x = b.input('x', 'float32', dims);
  b.output(b.op(op, [x], axis === undefined ? {} : { axis }, { outputs: ['y'] }));
  const graph = b.build();
  const feeds = { x: f32(shape, randn(rand, size(shape), 2)) };
  const dy = f32(shape, randn(rand, size(shape)));
  const fd = finiteDifferences(graph, feeds, 'y', dy, ['x']).get('x')!;
  const got = (await engineGradients(engine, graph, feeds, 'y', dy, ['x'])).get('x')!;
  expect(got.dims).toEqual(shape);
  const g = toFloat64(got);
  let diff = 0;
  fd.indices.forEach((idx, k) => (diff = Math.max(diff, Math.abs(g[idx]! - fd.values[k]!))));
  const err = diff / Math.max(maxAbs(fd.values), 0.1 * maxAbs(toFloat64(dy)));
  worst.set(op, Math.max(worst.get(op) ?? 0, err));
  return err;
}

for (const op of ['Softmax', 'LogSoftmax']) {
  describe(`${op} matches finite differences`, () => {
    it('default axis (-1), ranks 1-4', async () => {
      for (const rank of [1, 2, 3, 4]) {
        const shape = Array.from({ length: rank }, (_, i) => (i === 0 && rank > 1 ? pick(1, 3) : pick(2, 5)));
        expect(await check(op, shape, undefined, rank > 1)).toBeLessThan(TOL);
      }
    });
    for (const rank of [2, 3, 4]) {
      it(`every axis of a rank-${rank} input, positive and negative`, async () => {
        for (let axis = -rank; axis < rank; axis++) {
          const shape = [pick(1, 3), ...Array.from({ length: rank - 1 }, () => pick(2, 5))];
          // Axis 0 is the batch: normalizing over it is legal (if odd), and the static shape is used there.
          expect(await check(op, shape, axis, axis !== 0 && axis !== -rank), `axis ${axis} of [${shape}]`).toBeLessThan(TOL);
        }
      });
    }
  });
}

it('rejects an axis out of range at graph-building time', () => {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['N', 10]);
  expect(() => b.op('Softmax', [x], { axis: 2 })).toThrow(/axis 2 is out of range for rank 2/);
});
