import { ConvLensError } from '../../engine/errors.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { Generator, mixSeed } from './random.js';
import { inferenceTimesteps, type NoiseSchedule } from './schedule.js';

/**
 * Sampling: start from Gaussian noise and remove the predicted noise step by step, with DDPM
 * (ancestral) or DDIM (eta) updates on a subsequence of the training timesteps, classifier-free
 * guidance and negative conditions. Works for any model that predicts the noise (or v) from
 * (x_t, t, condition): the class-conditional U-Net (conditions = class indices) and
 * Stable-Diffusion-style pipelines (conditions = text embeddings, latents).
 */
export interface DiffusionModel<C> {
  /** one sample's shape, e.g. [1, 28, 28] or latents [4, 64, 64] */
  readonly shape: readonly number[];
  readonly schedule: NoiseSchedule;
  readonly predictionType: 'epsilon' | 'v_prediction';
  /** clip the predicted x_0 to this range (pixel-space models); undefined = no clipping (latents) */
  readonly clipRange?: [number, number] | undefined;
  /** the model's output for `n` samples `x` ([n, ...shape]) at timestep `t`, sample i under conditions[i] */
  predict(x: Float32Array, n: number, t: number, conditions: readonly C[]): Promise<Float32Array>;
}

export type SamplerKind = 'ddim' | 'ddpm';
export const SAMPLERS: readonly SamplerKind[] = ['ddim', 'ddpm'];

export interface SampleOptions<C> extends JobOptions {
  /** one condition per prompt */
  conditions: readonly C[];
  /** the "no condition" of classifier-free guidance */
  unconditional: C;
  /**
   * Negative conditions: replace the unconditional branch, eps = eps_neg + s (eps_cond - eps_neg).
   * One for all prompts or one per prompt; ignored when guidanceScale <= 1 (as diffusers does).
   */
  negative?: C | readonly C[] | undefined;
  /** classifier-free guidance scale s (1 = the conditional model alone, one model run per step; default 1) */
  guidanceScale?: number;
  numImagesPerPrompt?: number;
  /** num_inference_steps (default 50) */
  steps?: number;
  sampler?: SamplerKind;
  /** DDIM: 0 = deterministic, 1 = DDPM-like noise (default 0) */
  eta?: number;
  /**
   * Image i of the run draws its initial noise and every step's noise from its own generator,
   * seeded with (seed, i): the same seed and settings give the same images bit for bit.
   */
  seed?: number;
  spacing?: 'leading' | 'trailing' | 'linspace';
  /** added to every timestep (Stable Diffusion's steps_offset = 1) */
  stepsOffset?: number;
  /** DDIM's abar for the step after t = 0 (1 = set_alpha_to_one; Stable Diffusion: abar[0]) */
  finalAlphaCumprod?: number;
  /** record x_t and the predicted x_0 at every k-th step (and the last); 0 = none */
  previewEvery?: number;
  /** called with each recorded frame as sampling runs (live previews) */
  onFrame?: (frame: Frame) => void | Promise<void>;
  /** starting noise [B, ...shape] instead of drawing it (tests) */
  initialNoise?: Float32Array;
}

/** One recorded step: the input x_t at timestep t and the x_0 predicted from it. */
export interface Frame {
  /** 0-based step index */
  step: number;
  steps: number;
  t: number;
  x: Float32Array;
  x0: Float32Array;
}

export interface SampleResult {
  /** [B, ...shape], B = prompts x numImagesPerPrompt, prompt-major */
  images: Float32Array;
  count: number;
  /** prompt index of each image */
  promptOf: number[];
  timesteps: number[];
  frames: Frame[];
  /** model evaluations (rows) per step: B, or 2B with guidance */
  rowsPerStep: number;
  seconds: number;
}

/** x_0 and eps from the model output at (x_t, abar_t). */
function split(out: number, x: number, a: number, kind: 'epsilon' | 'v_prediction'): [number, number] {
  const sa = Math.sqrt(a);
  const sb = Math.sqrt(1 - a);
  if (kind === 'epsilon') return [(x - sb * out) / sa, out];
  return [sa * x - sb * out, sa * out + sb * x];
}

/**
 * DDIM's eta scales the noise between no noise (0, deterministic) and DDPM's posterior noise (1);
 * above 1 the update adds more noise than the step removes and samples end as noise or black.
 */
export const MAX_ETA = 1;
/** Classifier-free guidance past this only saturates the images (typical values: 1 to 10). */
export const MAX_GUIDANCE = 50;

export async function sample<C>(model: DiffusionModel<C>, o: SampleOptions<C>): Promise<SampleResult> {
  const t0 = performance.now();
  const prompts = o.conditions.length;
  if (prompts === 0) throw new ConvLensError('INVALID_ARGUMENT', 'Nothing to sample: no prompt given.', 'Pass at least one condition (a prompt or a class).');
  const perPrompt = o.numImagesPerPrompt ?? 1;
  if (!Number.isInteger(perPrompt) || perPrompt < 1) throw new ConvLensError('INVALID_ARGUMENT', `num_images_per_prompt must be a positive integer, got ${perPrompt}.`, 'Ask for 1 or more images per prompt (CLI: --count).');
  const scale = o.guidanceScale ?? 1;
  if (!Number.isFinite(scale) || scale < 0 || scale > MAX_GUIDANCE) throw new ConvLensError('INVALID_ARGUMENT', `guidance_scale must be from 0 to ${MAX_GUIDANCE}, got ${scale}.`, `Use a guidance scale from 0 to ${MAX_GUIDANCE}, e.g. 3 (CLI: --guidance).`);
  const eta = o.eta ?? 0;
  if (!Number.isFinite(eta) || eta < 0 || eta > MAX_ETA) throw new ConvLensError('INVALID_ARGUMENT', `eta must be from 0 to ${MAX_ETA}, got ${eta}.`, `Use an eta from 0 (deterministic DDIM) to ${MAX_ETA} (DDPM-like noise) (CLI: --eta).`);
  const kind = o.sampler ?? 'ddim';
  if (!SAMPLERS.includes(kind)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown sampler "${String(kind)}".`, `Use one of: ${SAMPLERS.join(', ')}.`);
  const s = model.schedule;
  const timesteps = inferenceTimesteps(s, o.steps ?? 50, o.spacing ?? 'leading', o.stepsOffset ?? 0);
  const B = prompts * perPrompt;
  const per = model.shape.reduce((a, b) => a * b, 1);
  const promptOf = Array.from({ length: B }, (_, i) => Math.floor(i / perPrompt));
  const cond = promptOf.map((p) => o.conditions[p]!);
  const guided = scale > 1;
  let neg: C[] = [];
  if (guided) {
    const n = o.negative;
    const perPromptNeg = Array.isArray(n) ? (n as readonly C[]) : undefined;
    if (perPromptNeg && perPromptNeg.length !== prompts) {
      throw new ConvLensError('INVALID_ARGUMENT', `${perPromptNeg.length} negative prompts for ${prompts} prompts.`, 'Give one negative prompt for all prompts, or one per prompt.');
    }
    neg = promptOf.map((p) => (perPromptNeg ? perPromptNeg[p]! : n === undefined ? o.unconditional : (n as C)));
  }
  const rows = guided ? [...neg, ...cond] : cond;

  // Per-image generators: initial noise first, then each stochastic step's noise.
  const gens = Array.from({ length: B }, (_, i) => new Generator(mixSeed(o.seed ?? 0, i)));
  const x = new Float32Array(B * per);
  if (o.initialNoise) {
    if (o.initialNoise.length !== B * per) throw new ConvLensError('SHAPE_MISMATCH', `initialNoise has ${o.initialNoise.length} values; ${B} samples of [${model.shape.join(', ')}] need ${B * per}.`, `Pass ${B * per} noise values, one [${model.shape.join(', ')}] sample per image, or leave initialNoise out to draw it from the seed.`);
    x.set(o.initialNoise);
  } else {
    for (let i = 0; i < B; i++) gens[i]!.randn(per, x.subarray(i * per, (i + 1) * per));
  }

  const frames: Frame[] = [];
  const k = o.previewEvery ?? 0;
  const input = new Float32Array(rows.length * per);
  const x0 = new Float32Array(B * per);
  const eps = new Float32Array(B * per);
  const z = new Float32Array(per);
  const [lo, hi] = model.clipRange ?? [-Infinity, Infinity];
  const finalA = o.finalAlphaCumprod ?? 1;

  for (let i = 0; i < timesteps.length; i++) {
    throwIfCancelled(o.signal, 'the sampling');
    const t = timesteps[i]!;
    const prev = i + 1 < timesteps.length ? timesteps[i + 1]! : -1;
    const a = s.alphasCumprod[t]!;
    const aPrev = prev >= 0 ? s.alphasCumprod[prev]! : kind === 'ddim' ? finalA : 1;
    if (guided) {
      input.set(x, 0);
      input.set(x, B * per);
    } else input.set(x);
    const out = await model.predict(input, rows.length, t, rows);
    // Guidance, then x_0 (clipped for pixel models) and the matching eps.
    for (let j = 0; j < B * per; j++) {
      const o2 = guided ? out[j]! + scale * (out[B * per + j]! - out[j]!) : out[j]!;
      let [p0, e] = split(o2, x[j]!, a, model.predictionType);
      if (p0 < lo || p0 > hi) {
        p0 = Math.min(hi, Math.max(lo, p0));
        e = (x[j]! - Math.sqrt(a) * p0) / Math.sqrt(1 - a);
      }
      x0[j] = p0;
      eps[j] = e;
    }
    if (k > 0 && (i % k === 0 || i === timesteps.length - 1)) {
      const frame: Frame = { step: i, steps: timesteps.length, t, x: Float32Array.from(x), x0: Float32Array.from(x0) };
      frames.push(frame);
      await o.onFrame?.(frame);
    }
    // The update x_t -> x_prev.
    if (kind === 'ddim') {
      const sigma = eta > 0 && prev >= 0 ? eta * Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev)) : 0;
      const cx0 = Math.sqrt(aPrev);
      const ceps = Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma));
      for (let b = 0; b < B; b++) {
        if (sigma > 0) gens[b]!.randn(per, z);
        const off = b * per;
        for (let j = 0; j < per; j++) x[off + j] = cx0 * x0[off + j]! + ceps * eps[off + j]! + (sigma > 0 ? sigma * z[j]! : 0);
      }
    } else {
      // DDPM posterior q(x_prev | x_t, x_0) over the (possibly strided) step: beta' = 1 - abar_t / abar_prev.
      const alpha = a / aPrev;
      const beta = 1 - alpha;
      const c0 = (Math.sqrt(aPrev) * beta) / (1 - a);
      const ct = (Math.sqrt(alpha) * (1 - aPrev)) / (1 - a);
      const sigma = prev >= 0 ? Math.sqrt(Math.max(1e-20, ((1 - aPrev) / (1 - a)) * beta)) : 0;
      for (let b = 0; b < B; b++) {
        if (sigma > 0) gens[b]!.randn(per, z);
        const off = b * per;
        for (let j = 0; j < per; j++) x[off + j] = c0 * x0[off + j]! + ct * x[off + j]! + (sigma > 0 ? sigma * z[j]! : 0);
      }
    }
    o.onProgress?.({ done: i + 1, total: timesteps.length, phase: `${kind} step ${i + 1}/${timesteps.length} (t = ${t})` });
  }
  return { images: x, count: B, promptOf, timesteps, frames, rowsPerStep: rows.length, seconds: (performance.now() - t0) / 1000 };
}
