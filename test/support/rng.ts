/** Seeded PRNG (mulberry32) so test inputs are the same on every run. */
export { seededRandom as rng } from '../../src/util/random.js';

/** Standard normal samples (Box-Muller). */
export function randn(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}
