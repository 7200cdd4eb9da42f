// Non-negative matrix factorization (HALS): exact recovery of a planted factorization, the
// best rank-1 answer that linear algebra gives independently, an error that never increases and
// is reported as it is, and refusals.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { nmf } from '../../src/methods/inspect/nmf.js';
import { rng } from '../support/rng.js';

/** ||V - W H|| / ||V||, computed directly. */
function relativeError(v: ArrayLike<number>, w: Float64Array, h: Float64Array, m: number, n: number, k: number): number {
  let num = 0;
  let den = 0;
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += w[r * k + j]! * h[j * n + c]!;
      num += (v[r * n + c]! - s) ** 2;
      den += v[r * n + c]! ** 2;
    }
  }
  return Math.sqrt(num / den);
}

/** V = W H with sparse non-negative factors (each column of V mostly one part). */
function planted(m: number, n: number, k: number, seed: number): Float64Array {
  const rand = rng(seed);
  const w = Float64Array.from({ length: m * k }, () => (rand() < 0.5 ? rand() : 0));
  const h = new Float64Array(k * n);
  for (let c = 0; c < n; c++) h[Math.floor(rand() * k) * n + c] = 0.5 + rand();
  const v = new Float64Array(m * n);
  for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) for (let j = 0; j < k; j++) v[r * n + c]! += w[r * k + j]! * h[j * n + c]!;
  return v;
}

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

describe('nmf', () => {
  it('recovers a planted non-negative factorization to a small error', async () => {
    const [m, n, k] = [40, 60, 3];
    const v = planted(m, n, k, 1);
    const f = await nmf(v, m, n, k, { maxIterations: 3000, tolerance: 0 });
    expect(f.relativeError).toBeLessThan(1e-4);
    expect(relativeError(v, f.w, f.h, m, n, k)).toBeCloseTo(f.relativeError, 6);
    expect(f.w.every((x) => x >= 0) && f.h.every((x) => x >= 0)).toBe(true);
  });

  it('with one component gives the best rank-1 approximation (the leading singular pair of a positive matrix)', async () => {
    const [m, n] = [12, 9];
    const rand = rng(3);
    const v = Float64Array.from({ length: m * n }, () => rand());
    // sigma_1 by power iteration on V^T V; the best rank-1 error is sqrt(||V||^2 - sigma_1^2)
    let x = new Float64Array(n).fill(1);
    let sigma = 0;
    for (let it = 0; it < 500; it++) {
      const y = new Float64Array(m);
      for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) y[r]! += v[r * n + c]! * x[c]!;
      const z = new Float64Array(n);
      for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) z[c]! += v[r * n + c]! * y[r]!;
      const norm = Math.hypot(...z);
      sigma = Math.sqrt(norm);
      x = z.map((e) => e / norm);
    }
    const total = v.reduce((a, e) => a + e * e, 0);
    const best = Math.sqrt(total - sigma * sigma) / Math.sqrt(total);
    const f = await nmf(v, m, n, 1, { maxIterations: 1000, tolerance: 0 });
    expect(f.relativeError).toBeCloseTo(best, 6);
  });

  it('never increases the error, and reports the error it reached', async () => {
    const [m, n, k] = [30, 50, 6];
    const rand = rng(7);
    const v = Float64Array.from({ length: m * n }, () => (rand() < 0.3 ? 0 : rand() ** 2));
    const f = await nmf(v, m, n, k, { maxIterations: 100, tolerance: 0 });
    expect(f.iterations).toBe(100);
    for (let i = 1; i < f.history.length; i++) expect(f.history[i]!).toBeLessThanOrEqual(f.history[i - 1]! + 1e-12);
    expect(relativeError(v, f.w, f.h, m, n, k)).toBeCloseTo(f.relativeError, 8);
    expect(f.history[0]! - f.relativeError).toBeGreaterThan(0.01);
  });

  it('stops when a sweep gains less than the tolerance, and is the same from the same seed', async () => {
    const [m, n, k] = [20, 25, 4];
    const rand = rng(9);
    const v = Float64Array.from({ length: m * n }, () => rand());
    const a = await nmf(v, m, n, k, { tolerance: 1e-3, seed: 4 });
    expect(a.iterations).toBeLessThan(200);
    const [last, before] = [a.history.at(-1)!, a.history.at(-2)!];
    expect(before - last).toBeLessThan(1e-3 * before);
    const b = await nmf(v, m, n, k, { tolerance: 1e-3, seed: 4 });
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    const c = await nmf(v, m, n, k, { tolerance: 1e-3, seed: 5 });
    expect(Array.from(c.w)).not.toEqual(Array.from(a.w));
  });

  it('refuses negative or non-finite values and impossible component counts, and stops when cancelled', async () => {
    await expect(nmf([1, -1, 2, 3], 2, 2, 1)).rejects.toThrow(/non-negative values; entry 1 is -1/);
    await expect(nmf([1, NaN, 2, 3], 2, 2, 1)).rejects.toThrow(/entry 1 is NaN/);
    await expect(nmf([1, Infinity, 2, 3], 2, 2, 1)).rejects.toThrow(/entry 1 is Infinity/);
    await expect(nmf([1, 2, 3, 4], 2, 2, 3)).rejects.toThrow(/into 3 components/);
    await expect(nmf([1, 2, 3, 4], 2, 2, 0)).rejects.toThrow(/into 0 components/);
    const ac = new AbortController();
    ac.abort();
    await expect(nmf([1, 2, 3, 4], 2, 2, 1, { signal: ac.signal })).rejects.toThrow(/Cancelled the factorization/);
  });

  it('runs its products on ONNX Runtime (float32) to the same factorization as in float64 here', async () => {
    const [m, n, k] = [48, 70, 5];
    const rand = rng(11);
    const v = Float64Array.from({ length: m * n }, () => (rand() < 0.4 ? 0 : rand()));
    const here = await nmf(v, m, n, k, { maxIterations: 40, tolerance: 0, seed: 2 });
    const runtime = await nmf(v, m, n, k, { maxIterations: 40, tolerance: 0, seed: 2, engine });
    expect(runtime.iterations).toBe(40);
    expect(runtime.relativeError).toBeCloseTo(here.relativeError, 5);
    const peak = Math.max(...here.w);
    here.w.forEach((x, i) => expect(Math.abs(runtime.w[i]! - x)).toBeLessThan(1e-3 * peak));
    expect(relativeError(v, runtime.w, runtime.h, m, n, k)).toBeCloseTo(runtime.relativeError, 5);
  });
});
