// Seeded random numbers: every stochastic method (initialization, SmoothGrad noise, shuffling,
// sampling) must be repeatable bit for bit from its seed.

const STEP = 0x6d2b79f5;

/**
 * Uniform [0, 1) from a seed (mulberry32). `skip` starts the stream that many draws in, at no
 * cost (its state advances by a constant per draw), so a batch that continues a longer run draws
 * what it would have drawn in one.
 */
export function seededRandom(seed: number, skip = 0): () => number {
  let a = skip ? Number((BigInt(seed >>> 0) + BigInt(skip) * BigInt(STEP)) % 2n ** 32n) : seed >>> 0;
  return () => {
    a = (a + STEP) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream of standard normals: one per call, or `fill` for many (the same stream, faster). */
export interface NormalSource {
  (): number;
  /** writes the next `end - start` samples of the stream into out[start..end) */
  fill(out: Float32Array | Float64Array, start?: number, end?: number): void;
}

/** Standard normal samples from a seed (Box-Muller on seededRandom, using both outputs), starting `skip` samples in. */
export function normalSource(seed: number, skip = 0): NormalSource {
  // two uniforms make two normals: an odd skip starts on the second of a pair
  const uniform = seededRandom(seed, 2 * Math.floor(skip / 2));
  // A flag beside a number, not `number | undefined`: V8 keeps the state unboxed, and SmoothGrad
  // draws 150k of these per noisy copy of a 224 px image.
  let hasSpare = false;
  let spare = 0;
  const next = ((): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }) as NormalSource;
  // A loop over pairs without a call per sample: 150k samples in ~9 ms instead of ~15 (the
  // transcendentals are most of what is left).
  next.fill = (out, start = 0, end = out.length) => {
    let i = start;
    if (i < end && hasSpare) {
      out[i++] = spare;
      hasSpare = false;
    }
    for (; i + 1 < end; i += 2) {
      const u = Math.max(uniform(), 1e-12);
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = r * Math.cos(2 * Math.PI * v);
      out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    if (i < end) out[i] = next();
  };
  if (skip % 2 === 1) next();
  return next;
}

/** One standard normal sample from a uniform source (Box-Muller, cosine branch). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
