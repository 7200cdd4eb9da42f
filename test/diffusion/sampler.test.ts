import { describe, expect, it } from 'vitest';
import { sample, type DiffusionModel } from '../../src/methods/diffusion/sampler.js';
import { makeSchedule, inferenceTimesteps, type NoiseSchedule } from '../../src/methods/diffusion/schedule.js';
import { Generator } from '../../src/methods/diffusion/random.js';

/**
 * A toy model whose data distribution for condition c is a point mass at mu[c] (condition -1 =
 * "unconditional": the mean of all). Its exact noise prediction is eps = (x - sqrt(abar) mu) /
 * sqrt(1 - abar). It records which conditions it was asked for.
 */
class PointMass implements DiffusionModel<number> {
  readonly shape = [1, 2, 3];
  readonly predictionType = 'epsilon' as const;
  readonly clipRange: [number, number] | undefined = undefined;
  readonly calls: number[][] = [];
  constructor(
    readonly schedule: NoiseSchedule,
    readonly mu: Float32Array[],
  ) {}

  private mean(c: number): Float32Array {
    if (c >= 0) return this.mu[c]!;
    const m = new Float32Array(6);
    for (const v of this.mu) for (let j = 0; j < 6; j++) m[j]! += v[j]! / this.mu.length;
    return m;
  }

  async predict(x: Float32Array, n: number, t: number, conditions: readonly number[]): Promise<Float32Array> {
    this.calls.push([...conditions]);
    const a = this.schedule.alphasCumprod[t]!;
    const out = new Float32Array(n * 6);
    for (let i = 0; i < n; i++) {
      const m = this.mean(conditions[i]!);
      for (let j = 0; j < 6; j++) out[i * 6 + j] = (x[i * 6 + j]! - Math.sqrt(a) * m[j]!) / Math.sqrt(1 - a);
    }
    return out;
  }
}

const schedule = makeSchedule({ kind: 'linear' });
const mu = [Float32Array.of(-0.8, -0.4, 0, 0.2, 0.4, 0.6), Float32Array.of(0.9, 0.5, 0.1, -0.3, -0.6, -0.9), Float32Array.of(0, 0, 0.5, 0.5, -0.5, -0.5)];
const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('DDIM and DDPM samplers', () => {
  it('DDIM with eta 0 lands exactly on the conditional point mass, from any noise', async () => {
    const m = new PointMass(schedule, mu);
    for (const seed of [0, 1, 99]) {
      const r = await sample(m, { conditions: [0, 1, 2], unconditional: -1, steps: 20, sampler: 'ddim', eta: 0, seed });
      for (let c = 0; c < 3; c++) for (let j = 0; j < 6; j++) expect(r.images[c * 6 + j]).toBeCloseTo(mu[c]![j]!, 4);
    }
  });

  it('DDPM (ancestral) with an exact model also ends on the data point, whatever the noise it adds', async () => {
    const m = new PointMass(schedule, mu);
    const r = await sample(m, { conditions: [1], unconditional: -1, numImagesPerPrompt: 3, steps: 25, sampler: 'ddpm', seed: 5 });
    for (let i = 0; i < 3; i++) for (let j = 0; j < 6; j++) expect(r.images[i * 6 + j]).toBeCloseTo(mu[1]![j]!, 4);
  });

  it('DDIM with eta 0 is deterministic: the seed only chooses the starting noise', async () => {
    const m = new PointMass(schedule, mu);
    // A model that is not exact (so paths depend on the noise): predictions shrunk by 0.9.
    const inexact: DiffusionModel<number> = { ...m, shape: m.shape, schedule, predictionType: 'epsilon', clipRange: undefined, predict: async (x, n, t, c) => (await m.predict(x, n, t, c)).map((v) => v * 0.9) };
    const noise = new Generator(77).randn(12);
    const a = await sample(inexact, { conditions: [0, 2], unconditional: -1, steps: 30, eta: 0, seed: 1, initialNoise: noise });
    const b = await sample(inexact, { conditions: [0, 2], unconditional: -1, steps: 30, eta: 0, seed: 2, initialNoise: noise });
    expect(bits(a.images)).toBe(bits(b.images));
    // With eta > 0 the per-step noise depends on the seed, so the results differ.
    const c = await sample(inexact, { conditions: [0, 2], unconditional: -1, steps: 30, eta: 1, seed: 1, initialNoise: noise });
    const d = await sample(inexact, { conditions: [0, 2], unconditional: -1, steps: 30, eta: 1, seed: 2, initialNoise: noise });
    expect(bits(c.images)).not.toBe(bits(d.images));
  });

  it('a seeded run is repeatable bit for bit; image i does not depend on how many images are drawn', async () => {
    const m = new PointMass(schedule, mu);
    const inexact: DiffusionModel<number> = { shape: m.shape, schedule, predictionType: 'epsilon', clipRange: [-1, 1], predict: async (x, n, t, c) => (await m.predict(x, n, t, c)).map((v) => v * 0.95) };
    for (const sampler of ['ddim', 'ddpm'] as const) {
      const o = { conditions: [0, 1], unconditional: -1, numImagesPerPrompt: 2, steps: 15, sampler, eta: 0.5, seed: 2024, guidanceScale: 2 };
      const a = await sample(inexact, o);
      const b = await sample(inexact, o);
      expect(bits(a.images)).toBe(bits(b.images));
      const one = await sample(inexact, { ...o, conditions: [0], numImagesPerPrompt: 1 });
      expect(bits(one.images)).toBe(bits(a.images.subarray(0, 6)));
      expect(bits((await sample(inexact, { ...o, seed: 2025 })).images)).not.toBe(bits(a.images));
    }
  });

  it('guidance_scale 1 is the conditional model alone (never asked for the unconditional)', async () => {
    const m = new PointMass(schedule, mu);
    const inexact = { shape: m.shape, schedule, predictionType: 'epsilon' as const, clipRange: undefined, calls: m.calls, predict: async (x: Float32Array, n: number, t: number, c: readonly number[]) => (await m.predict(x, n, t, c)).map((v, i) => v * 0.9 + 0.01 * Math.sin(i + t)) };
    const noise = new Generator(3).randn(12);
    const r = await sample(inexact, { conditions: [0, 2], unconditional: -1, guidanceScale: 1, steps: 20, initialNoise: noise });
    expect(m.calls.every((c) => c.every((x) => x >= 0))).toBe(true);
    expect(r.rowsPerStep).toBe(2);
    // An independent DDIM (eta 0) loop on the conditional predictions alone.
    const x = Float64Array.from(noise);
    const ts = inferenceTimesteps(schedule, 20);
    for (let i = 0; i < ts.length; i++) {
      const a = schedule.alphasCumprod[ts[i]!]!;
      const ap = i + 1 < ts.length ? schedule.alphasCumprod[ts[i + 1]!]! : 1;
      const eps = await inexact.predict(Float32Array.from(x), 2, ts[i]!, [0, 2]);
      for (let j = 0; j < 12; j++) {
        const x0 = (x[j]! - Math.sqrt(1 - a) * eps[j]!) / Math.sqrt(a);
        x[j] = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * eps[j]!;
      }
    }
    for (let j = 0; j < 12; j++) expect(r.images[j]).toBeCloseTo(x[j]!, 4);
    // The guided formula eps_u + s (eps_c - eps_u) at s -> 1 converges to the same result.
    m.calls.length = 0;
    const near = await sample(inexact, { conditions: [0, 2], unconditional: -1, guidanceScale: 1.000001, steps: 20, initialNoise: noise });
    expect(m.calls[0]).toEqual([-1, -1, 0, 2]);
    for (let j = 0; j < 12; j++) expect(near.images[j]).toBeCloseTo(r.images[j]!, 3);
  });

  it('guidance extrapolates away from the unconditional prediction; a negative condition takes its place', async () => {
    const m = new PointMass(schedule, mu);
    // With exact point masses, guidance s lands on mu_u + s (mu_c - mu_u) (no clipping).
    const r = await sample(m, { conditions: [0], unconditional: -1, guidanceScale: 3, steps: 20 });
    const uncond = mu.reduce((acc, v) => acc.map((a, j) => a + v[j]! / 3), new Float32Array(6));
    for (let j = 0; j < 6; j++) expect(r.images[j]).toBeCloseTo(uncond[j]! + 3 * (mu[0]![j]! - uncond[j]!), 3);
    // Negative condition 1: the unconditional branch is replaced by condition 1.
    m.calls.length = 0;
    const n = await sample(m, { conditions: [0], unconditional: -1, negative: 1, guidanceScale: 3, steps: 20 });
    expect(m.calls.every((c) => c[0] === 1 && c[1] === 0)).toBe(true);
    for (let j = 0; j < 6; j++) expect(n.images[j]).toBeCloseTo(mu[1]![j]! + 3 * (mu[0]![j]! - mu[1]![j]!), 3);
    // Per-prompt negatives, and a negative equal to the unconditional reproduces plain guidance bit for bit.
    const per = await sample(m, { conditions: [0, 2], unconditional: -1, negative: [1, -1], guidanceScale: 3, steps: 20, seed: 4 });
    const plain = await sample(m, { conditions: [0, 2], unconditional: -1, guidanceScale: 3, steps: 20, seed: 4 });
    expect(bits(per.images.subarray(6))).toBe(bits(plain.images.subarray(6)));
    expect(bits(per.images.subarray(0, 6))).not.toBe(bits(plain.images.subarray(0, 6)));
  });

  it('num_images_per_prompt: prompt-major order; previews every k-th step and the last', async () => {
    const m = new PointMass(schedule, mu);
    const frames: number[] = [];
    const r = await sample(m, { conditions: [2, 0], unconditional: -1, numImagesPerPrompt: 3, steps: 10, previewEvery: 4, onFrame: (f) => void frames.push(f.step) });
    expect(r.count).toBe(6);
    expect(r.promptOf).toEqual([0, 0, 0, 1, 1, 1]);
    expect(frames).toEqual([0, 4, 8, 9]);
    expect(r.frames.map((f) => f.t)).toEqual([900, 500, 100, 0]);
    expect(r.frames[0]!.x.length).toBe(36);
    // The first frame's x_t is the starting noise; its predicted x_0 is already the data point (exact model).
    for (let j = 0; j < 6; j++) expect(r.frames[0]!.x0[j]).toBeCloseTo(mu[2]![j]!, 4);
  });

  it('says what is wrong with bad requests', async () => {
    const m = new PointMass(schedule, mu);
    await expect(sample(m, { conditions: [], unconditional: -1 })).rejects.toThrow(/no prompt/);
    await expect(sample(m, { conditions: [0], unconditional: -1, steps: 2000 })).rejects.toThrow(/between 1 and 1000/);
    await expect(sample(m, { conditions: [0, 1], unconditional: -1, negative: [1], guidanceScale: 2 })).rejects.toThrow(/1 negative prompts for 2 prompts/);
    await expect(sample(m, { conditions: [0], unconditional: -1, sampler: 'euler' as 'ddim' })).rejects.toThrow(/Unknown sampler/);
    // past eta 1 DDIM adds more noise than a step removes; huge guidance only saturates
    await expect(sample(m, { conditions: [0], unconditional: -1, eta: 3 })).rejects.toThrow(/eta must be from 0 to 1, got 3/);
    await expect(sample(m, { conditions: [0], unconditional: -1, guidanceScale: 1e308 })).rejects.toThrow(/guidance_scale must be from 0 to 50/);
    const ctl = new AbortController();
    ctl.abort();
    await expect(sample(m, { conditions: [0], unconditional: -1, signal: ctl.signal })).rejects.toThrow(/Cancelled/);
  });
});
