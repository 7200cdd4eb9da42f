import { ConvLensError } from '../../engine/errors.js';
import type { Generator } from './random.js';

/**
 * Noise schedules and the forward process of DDPM (Ho et al. 2020):
 *
 *   q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)
 *   q(x_t | x_0)     = N(sqrt(abar_t) x_0, (1 - abar_t) I),  abar_t = prod_{s <= t} (1 - beta_s)
 *
 * Timesteps are 0-based as in diffusers: t = 0 is the first (least noisy) step, t = T - 1 the
 * last; abar[t] includes beta[t].
 */
export type ScheduleKind = 'linear' | 'cosine' | 'scaled_linear';

export interface ScheduleConfig {
  kind: ScheduleKind;
  /** number of training timesteps T (default 1000) */
  steps?: number;
  /** linear and scaled_linear: first and last beta (defaults 1e-4 and 0.02, Ho et al.) */
  betaStart?: number;
  betaEnd?: number;
  /** cosine: the offset s of Nichol & Dhariwal (default 0.008) */
  offset?: number;
}

export interface NoiseSchedule {
  config: Required<ScheduleConfig>;
  /** T */
  steps: number;
  betas: Float64Array;
  /** abar_t */
  alphasCumprod: Float64Array;
}

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['linear', 'cosine', 'scaled_linear'];

export function makeSchedule(c: ScheduleConfig): NoiseSchedule {
  const T = c.steps ?? 1000;
  if (!Number.isInteger(T) || T < 2) throw new ConvLensError('INVALID_ARGUMENT', `A schedule needs at least 2 timesteps, got ${T}.`, 'Use at least 2 timesteps (CLI: --timesteps for diffuse train, --steps for diffuse noise).');
  const config: Required<ScheduleConfig> = { kind: c.kind, steps: T, betaStart: c.betaStart ?? 1e-4, betaEnd: c.betaEnd ?? 0.02, offset: c.offset ?? 0.008 };
  const betas = new Float64Array(T);
  switch (c.kind) {
    case 'linear':
      for (let t = 0; t < T; t++) betas[t] = config.betaStart + ((config.betaEnd - config.betaStart) * t) / (T - 1);
      break;
    case 'scaled_linear': {
      // Stable Diffusion: linear in sqrt(beta).
      const a = Math.sqrt(config.betaStart);
      const b = Math.sqrt(config.betaEnd);
      for (let t = 0; t < T; t++) betas[t] = (a + ((b - a) * t) / (T - 1)) ** 2;
      break;
    }
    case 'cosine': {
      // Nichol & Dhariwal 2021: abar(t) = f(t) / f(0), f(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2), betas clipped at 0.999.
      const f = (t: number): number => Math.cos((((t / T) + config.offset) / (1 + config.offset)) * (Math.PI / 2)) ** 2;
      for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f(t + 1) / f(t), 0.999);
      break;
    }
    default:
      throw new ConvLensError('INVALID_ARGUMENT', `Unknown noise schedule "${String(c.kind)}".`, `Use one of: ${SCHEDULE_KINDS.join(', ')}.`);
  }
  const alphasCumprod = new Float64Array(T);
  let p = 1;
  for (let t = 0; t < T; t++) alphasCumprod[t] = p *= 1 - betas[t]!;
  return { config, steps: T, betas, alphasCumprod };
}

export function parseScheduleKind(text: string): ScheduleKind {
  const k = text.trim().toLowerCase().replace(/-/g, '_');
  if (!(SCHEDULE_KINDS as readonly string[]).includes(k)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown noise schedule "${text}".`, `Use one of: ${SCHEDULE_KINDS.join(', ')}.`);
  }
  return k as ScheduleKind;
}

/** sqrt(abar_t) and sqrt(1 - abar_t): the signal and noise scales of q(x_t | x_0). */
export function scales(s: NoiseSchedule, t: number): { signal: number; noise: number } {
  checkTimestep(s, t);
  const a = s.alphasCumprod[t]!;
  return { signal: Math.sqrt(a), noise: Math.sqrt(1 - a) };
}

function checkTimestep(s: NoiseSchedule, t: number): void {
  if (!Number.isInteger(t) || t < 0 || t >= s.steps) {
    throw new ConvLensError('INVALID_ARGUMENT', `Timestep ${t} is outside 0..${s.steps - 1}.`, `The schedule has ${s.steps} timesteps, numbered from 0 (least noise) to ${s.steps - 1} (pure noise).`);
  }
}

/**
 * The closed form of the forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, for
 * every sample of a batch at its own timestep (`t` one per sample, or one for all). `eps` is
 * drawn from `gen` when not given.
 */
export function addNoise(s: NoiseSchedule, x0: Float32Array, t: number | ArrayLike<number>, eps: Float32Array | Generator, out = new Float32Array(x0.length)): Float32Array {
  const noise = eps instanceof Float32Array ? eps : eps.randn(x0.length);
  const ts = typeof t === 'number' ? [t] : t;
  const per = x0.length / ts.length;
  if (!Number.isInteger(per)) throw new ConvLensError('SHAPE_MISMATCH', `${x0.length} values do not split into ${ts.length} samples.`, 'Pass x0 as whole samples with one timestep per sample, or one timestep for all.');
  for (let i = 0; i < ts.length; i++) {
    const { signal, noise: sigma } = scales(s, ts[i]!);
    for (let j = i * per; j < (i + 1) * per; j++) out[j] = signal * x0[j]! + sigma * noise[j]!;
  }
  return out;
}

/** Runs the forward chain step by step (x_{t} from x_{t-1}), for checking the closed form. */
export function noiseStepwise(s: NoiseSchedule, x0: Float32Array, t: number, gen: Generator): Float32Array {
  checkTimestep(s, t);
  const x = Float64Array.from(x0);
  for (let k = 0; k <= t; k++) {
    const beta = s.betas[k]!;
    const a = Math.sqrt(1 - beta);
    const b = Math.sqrt(beta);
    for (let j = 0; j < x.length; j++) x[j] = a * x[j]! + b * gen.normal();
  }
  return Float32Array.from(x);
}

/**
 * The timesteps a sampler visits with `n` inference steps, from the noisiest down, spaced as
 * diffusers' "leading" (default; t = k * floor(T / n) + offset) or "trailing" (t = round(T - k * T / n) - 1,
 * which starts at T - 1) or "linspace".
 */
export function inferenceTimesteps(s: NoiseSchedule, n: number, spacing: 'leading' | 'trailing' | 'linspace' = 'leading', offset = 0): number[] {
  const T = s.steps;
  if (!Number.isInteger(n) || n < 1 || n > T) {
    throw new ConvLensError('INVALID_ARGUMENT', `num_inference_steps must be between 1 and ${T}, got ${n}.`, `The model was trained with ${T} timesteps.`);
  }
  const out: number[] = [];
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    for (let k = n - 1; k >= 0; k--) out.push(Math.min(T - 1, k * ratio + offset));
  } else if (spacing === 'trailing') {
    const ratio = T / n;
    for (let k = 0; k < n; k++) out.push(Math.max(0, Math.round(T - k * ratio) - 1));
  } else {
    for (let k = n - 1; k >= 0; k--) out.push(Math.round((k * (T - 1)) / Math.max(1, n - 1)));
  }
  return out;
}
