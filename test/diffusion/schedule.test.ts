import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/methods/diffusion/random.js';
import { addNoise, inferenceTimesteps, makeSchedule, noiseStepwise, scales } from '../../src/methods/diffusion/schedule.js';

describe('noise schedules', () => {
  it('linear: betas from 1e-4 to 0.02 (Ho et al.), abar decreasing to ~4e-5', () => {
    const s = makeSchedule({ kind: 'linear' });
    expect(s.steps).toBe(1000);
    expect(s.betas[0]).toBeCloseTo(1e-4, 12);
    expect(s.betas[999]).toBeCloseTo(0.02, 12);
    for (let t = 1; t < 1000; t++) expect(s.alphasCumprod[t]!).toBeLessThan(s.alphasCumprod[t - 1]!);
    expect(s.alphasCumprod[0]).toBeCloseTo(1 - 1e-4, 12);
    // Known value (diffusers DDPMScheduler, linear, T = 1000): alphas_cumprod[-1] = 4.0358e-05.
    expect(s.alphasCumprod[999]).toBeCloseTo(4.0358e-5, 8);
  });

  it('cosine: abar_t = f(t + 1) / f(0) with f = cos^2(((t/T + s)/(1 + s)) pi/2) while no beta is clipped', () => {
    const s = makeSchedule({ kind: 'cosine' });
    const f = (t: number): number => Math.cos(((t / 1000 + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 100, 500, 900]) expect(s.alphasCumprod[t]!).toBeCloseTo(f(t + 1) / f(0), 10);
    expect(Math.max(...s.betas)).toBeLessThanOrEqual(0.999);
    // The cosine schedule destroys information more slowly than the linear one in the middle.
    expect(s.alphasCumprod[500]!).toBeGreaterThan(makeSchedule({ kind: 'linear' }).alphasCumprod[500]!);
  });

  it('scaled_linear (Stable Diffusion): linear in sqrt(beta)', () => {
    const s = makeSchedule({ kind: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
    expect(s.betas[0]).toBeCloseTo(0.00085, 12);
    expect(s.betas[999]).toBeCloseTo(0.012, 12);
    expect(Math.sqrt(s.betas[500]!)).toBeCloseTo(Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * 500) / 999, 12);
  });

  it('rejects bad timesteps and schedules with clear errors', () => {
    const s = makeSchedule({ kind: 'linear' });
    expect(() => scales(s, 1000)).toThrow(/Timestep 1000 is outside 0..999/);
    expect(() => makeSchedule({ kind: 'quadratic' as 'linear' })).toThrow(/Unknown noise schedule/);
    expect(() => inferenceTimesteps(s, 0)).toThrow(/num_inference_steps must be between 1 and 1000/);
  });
});

describe('inference timesteps (diffusers spacing)', () => {
  const s = makeSchedule({ kind: 'linear' });
  it('leading: k * (T / n) + offset, noisiest first', () => {
    const t = inferenceTimesteps(s, 50);
    expect(t.length).toBe(50);
    expect(t.slice(0, 3)).toEqual([980, 960, 940]);
    expect(t[49]).toBe(0);
    expect(inferenceTimesteps(s, 50, 'leading', 1).slice(0, 2)).toEqual([981, 961]);
  });
  it('trailing starts at T - 1', () => {
    const t = inferenceTimesteps(s, 50, 'trailing');
    expect(t.slice(0, 3)).toEqual([999, 979, 959]);
    expect(t[49]).toBe(19);
  });
});

describe('forward process', () => {
  // A few pixel values of a "clean image" in [-1, 1].
  const x0 = Float32Array.of(-1, -0.5, 0, 0.3, 0.8, 1);

  /** Mean and variance over N draws of (x_t - sqrt(abar) x0) / sqrt(1 - abar), pooled over pixels. */
  function standardized(draw: (gen: Generator) => Float32Array, signal: number, noise: number, N: number): { mean: number; variance: number; n: number } {
    let s = 0;
    let s2 = 0;
    let n = 0;
    const gen = new Generator(12345);
    for (let k = 0; k < N; k++) {
      const x = draw(gen);
      for (let j = 0; j < x.length; j++) {
        const z = (x[j]! - signal * x0[j]!) / noise;
        s += z;
        s2 += z * z;
        n++;
      }
    }
    const mean = s / n;
    return { mean, variance: s2 / n - mean * mean, n };
  }

  for (const kind of ['linear', 'cosine'] as const) {
    const sch = makeSchedule({ kind });
    for (const t of [0, 50, 250, 600, 999]) {
      it(`${kind}, t = ${t}: running the chain step by step gives N(sqrt(abar) x0, (1 - abar) I), as the closed form says`, () => {
        const { signal, noise } = scales(sch, t);
        const stepwise = standardized((gen) => noiseStepwise(sch, x0, t, gen), signal, noise, 1000);
        const closed = standardized((gen) => addNoise(sch, x0, t, gen), signal, noise, 4000);
        for (const r of [stepwise, closed]) {
          // mean 0 within 4 standard errors, variance 1 within 4 standard errors (var of s^2 ~ 2/n)
          expect(Math.abs(r.mean)).toBeLessThan(4 / Math.sqrt(r.n));
          expect(Math.abs(r.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / r.n));
        }
      });
    }
  }

  it('per-pixel means follow sqrt(abar_t) x0 at several t', () => {
    const sch = makeSchedule({ kind: 'linear' });
    for (const t of [10, 100, 300]) {
      const { signal, noise } = scales(sch, t);
      const gen = new Generator(7);
      const sums = new Float64Array(x0.length);
      const M = 1000;
      for (let k = 0; k < M; k++) {
        const x = noiseStepwise(sch, x0, t, gen);
        for (let j = 0; j < x.length; j++) sums[j] += x[j]!;
      }
      for (let j = 0; j < x0.length; j++) expect(Math.abs(sums[j]! / M - signal * x0[j]!)).toBeLessThan((4 * noise) / Math.sqrt(M));
    }
  });

  it('addNoise with given eps is exactly sqrt(abar) x0 + sqrt(1 - abar) eps, per sample timestep', () => {
    const sch = makeSchedule({ kind: 'cosine' });
    const eps = new Generator(3).randn(12);
    const x = new Float32Array(12).map((_, i) => (i % 6) / 3 - 1);
    const out = addNoise(sch, x, [5, 700], eps);
    for (let i = 0; i < 12; i++) {
      const { signal, noise } = scales(sch, i < 6 ? 5 : 700);
      expect(out[i]).toBe(Math.fround(signal * x[i]! + noise * eps[i]!));
    }
  });
});

describe('Generator', () => {
  it('is repeatable bit for bit and standard normal', () => {
    const a = new Generator(42).randn(20000);
    const b = new Generator(42).randn(20000);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(new Generator(43).randn(16).buffer).equals(Buffer.from(a.subarray(0, 16).slice().buffer))).toBe(false);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
  });
});
