// Seeded streams started part-way: a batch that continues a longer run draws exactly what the
// longer run would have drawn for it.
import { describe, expect, it } from 'vitest';
import { normalSource, seededRandom } from '../../src/util/random.js';

const draws = (f: () => number, n: number): number[] => Array.from({ length: n }, f);

describe('skipping into a seeded stream', () => {
  it('uniform: skip k gives draws k, k+1, ... of the stream', () => {
    for (const seed of [0, 1, 7919, 2 ** 32 - 1]) {
      const whole = draws(seededRandom(seed), 50);
      for (const k of [0, 1, 2, 17, 49]) expect(draws(seededRandom(seed, k), 50 - k), `seed ${seed} skip ${k}`).toEqual(whole.slice(k));
    }
  });

  it('uniform: a skip past 2^32 draws wraps like the state does', () => {
    // the state advances by a constant mod 2^32, so 2^32 draws bring it back to the seed
    expect(draws(seededRandom(5, 2 ** 32), 3)).toEqual(draws(seededRandom(5), 3));
    expect(draws(seededRandom(5, 2 ** 32 + 3), 3)).toEqual(draws(seededRandom(5, 3), 3));
  });

  it('normal: even and odd skips', () => {
    const whole = draws(normalSource(42), 40);
    for (const k of [0, 1, 2, 3, 10, 39]) expect(draws(normalSource(42, k), 40 - k), `skip ${k}`).toEqual(whole.slice(k));
  });
});

describe('filling from a normal stream', () => {
  it('gives the draws one call at a time would, from any start, interleaved with calls', () => {
    for (const skip of [0, 1, 6, 7]) {
      const one = normalSource(9, skip);
      const whole = draws(one, 101);
      const many = normalSource(9, skip);
      const out = new Float64Array(101);
      many.fill(out, 0, 3); // odd counts leave a spare for the next call
      out[3] = many();
      many.fill(out, 4, 50);
      many.fill(out, 50, 50); // nothing
      many.fill(out, 50);
      expect(Array.from(out), `skip ${skip}`).toEqual(whole);
    }
  });
});
