// SmoothGrad (Smilkov et al. 2017), its squared variant, and VarGrad (Adebayo et al. 2018):
// statistics of the gradient over noisy copies of the input, the copies batched.
import { ConvLensError } from '../../engine/errors.js';
import { f32, nchw, normalSource, reduceChannels, seedOf } from './arrays.js';
import { forChunks, RunBuffers, scoreGradients, Work } from './session.js';
import type { MethodContext, MethodResult } from './types.js';
import { DEFAULT_NOISE_LEVEL, DEFAULT_NOISE_SAMPLES } from './method-defaults.js';

interface Stats {
  mean: Float32Array;
  meanSquare: Float32Array;
  variance: Float32Array;
  params: Record<string, unknown>;
}

function stats(ctx: MethodContext): Promise<Stats> {
  return ctx.memo.once('smoothgrad-stats', async () => {
    const o = ctx.options.smoothgrad ?? {};
    const samples = o.samples ?? DEFAULT_NOISE_SAMPLES;
    const noise = o.noise ?? DEFAULT_NOISE_LEVEL;
    const seed = seedOf(o.seed, 'The SmoothGrad seed');
    if (!Number.isInteger(samples) || samples < 1) throw new ConvLensError('INVALID_ARGUMENT', `SmoothGrad samples must be a positive integer, got ${samples}.`, 'Use 1 or more samples (CLI: --samples).');
    if (!(noise >= 0 && Number.isFinite(noise))) throw new ConvLensError('INVALID_ARGUMENT', `SmoothGrad noise must be a finite number >= 0 (a fraction of the input range), got ${noise}.`, 'Use a noise of 0 or more, e.g. 0.15 (CLI: --noise).');
    const [n, c, h, w] = nchw(ctx.x);
    const per = c * h * w;
    const xd = ctx.x.data as Float32Array;
    const sigmas = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = i * per; p < (i + 1) * per; p++) {
        lo = Math.min(lo, xd[p]!);
        hi = Math.max(hi, xd[p]!);
      }
      sigmas[i] = noise * (hi - lo);
    }
    const sum = new Float64Array(n * per);
    const sumSq = new Float64Array(n * per);
    const total = n * samples;
    const normal = normalSource(seed, (ctx.options.firstIndex ?? 0) * samples * per);
    const name = ctx.model.input.name;
    const work = new Work(ctx.job, 'smoothgrad', Math.ceil(total / ctx.batchSize));
    const buffers = new RunBuffers(ctx.model, [c, h, w]);
    const draws = new Float64Array(per); // float64, as the draws were used one by one
    await forChunks(total, ctx.batchSize, work, async (s, e) => {
      const data = buffers.input(e - s);
      const targets = new Int32Array(e - s);
      for (let k = s; k < e; k++) {
        const img = Math.floor(k / samples);
        const sigma = sigmas[img]!;
        const dst = (k - s) * per;
        normal.fill(draws);
        for (let p = 0; p < per; p++) data[dst + p] = xd[img * per + p]! + sigma * draws[p]!;
        targets[k - s] = ctx.targets[img]!;
      }
      const r = await scoreGradients(ctx.model, f32([e - s, c, h, w], data), targets, { score: ctx.score, wrt: [name] }, buffers.inputGradient(e - s));
      const g = r.gradients[name]!.data as Float32Array;
      for (let k = s; k < e; k++) {
        const img = Math.floor(k / samples);
        const src = (k - s) * per;
        const dst = img * per;
        for (let p = 0; p < per; p++) {
          const v = g[src + p]!;
          sum[dst + p]! += v;
          sumSq[dst + p]! += v * v;
        }
      }
    });
    const mean = new Float32Array(n * per);
    const meanSquare = new Float32Array(n * per);
    const variance = new Float32Array(n * per);
    for (let p = 0; p < mean.length; p++) {
      const m = sum[p]! / samples;
      mean[p] = m;
      meanSquare[p] = sumSq[p]! / samples;
      variance[p] = Math.max(0, sumSq[p]! / samples - m * m);
    }
    return { mean, meanSquare, variance, params: { samples, noise, noiseIs: 'fraction of each image\'s value range (max - min)', seed } };
  });
}

export async function smoothgrad(ctx: MethodContext): Promise<MethodResult> {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.mean);
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params: s.params };
}

export async function smoothgradSquared(ctx: MethodContext): Promise<MethodResult> {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.meanSquare);
  return { raw, map: reduceChannels(raw, 'sum'), signed: false, params: s.params };
}

export async function vargrad(ctx: MethodContext): Promise<MethodResult> {
  const s = await stats(ctx);
  const raw = f32(ctx.x.dims, s.variance);
  return { raw, map: reduceChannels(raw, 'sum'), signed: false, params: s.params };
}
