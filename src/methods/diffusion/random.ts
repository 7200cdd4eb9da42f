// Seeded Gaussian noise for diffusion: the initial noise of every image and the noise every
// stochastic sampler step adds. A run is a pure function of its seed, bit for bit: the numbers
// come from integer arithmetic (mulberry32) and Box-Muller in float64, rounded to float32 once.

/** mulberry32 state advanced by one step; returns [next state, uniform in [0, 1)]. */
function mulberry(a: number): [number, number] {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [a, ((t ^ (t >>> 14)) >>> 0) / 4294967296];
}

/** Mixes two 32-bit integers into one well-spread seed (murmur3 finalizer). */
export function mixSeed(a: number, b: number): number {
  let h = (Math.imul(a >>> 0, 0x9e3779b1) ^ Math.imul((b >>> 0) + 0x7f4a7c15, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seeded source of standard normal and uniform numbers, like a torch.Generator passed to a
 * diffusers pipeline: the same seed gives the same numbers in the same order.
 */
export class Generator {
  private state: number;
  private spare: number | undefined;

  constructor(readonly seed: number) {
    this.state = mixSeed(seed, 0x5eed);
  }

  uniform(): number {
    const [s, u] = mulberry(this.state);
    this.state = s;
    return u;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = Math.max(this.uniform(), 2 ** -32);
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` (or a new array of `n`) with standard normal samples. */
  randn(n: number, out = new Float32Array(n)): Float32Array {
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }
}
