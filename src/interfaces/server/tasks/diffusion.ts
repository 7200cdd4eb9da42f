import type { Engine } from '../../../engine/runtime/engine.js';
import { encodePng } from '../../../io/image.js';
import type { Progress } from '../../../engine/jobs.js';
import { ClassConditionalGenerator } from '../../../methods/diffusion/generate.js';
import { loadDenoiser, type ClassConditionalDenoiser } from '../../../methods/diffusion/model.js';
import { denoisingGif, type ToImage } from '../../../methods/diffusion/preview.js';
import type { Frame, SamplerKind } from '../../../methods/diffusion/sampler.js';
import type { TaskContext } from './context.js';

/** POST /api/diffusion/sample's body. */
export interface SampleBody {
  model?: string;
  prompt: string;
  negativePrompt?: string;
  steps?: number;
  guidanceScale?: number;
  seed?: number;
  count?: number;
  sampler?: SamplerKind;
  eta?: number;
  previewEvery?: number;
}

/** The request with its defaults filled in (by the route), and the denoiser file (undefined: the built-in one). */
export type DiffusionArgs = Required<Omit<SampleBody, 'model' | 'negativePrompt' | 'eta'>> & Pick<SampleBody, 'negativePrompt' | 'eta'> & { denoiserPath?: string };

/** One recorded step as the page shows it: x_t and the predicted x_0 of every image, as PNGs (base64). */
export interface WireFrame {
  step: number;
  steps: number;
  t: number;
  x: string[];
  x0: string[];
}

const png64 = async (toImage: ToImage, data: Float32Array, i: number): Promise<string> => Buffer.from(await encodePng(toImage(data, i))).toString('base64');

async function wireFrame(f: Frame, toImage: ToImage, count: number): Promise<WireFrame> {
  const idx = Array.from({ length: count }, (_, i) => i);
  return { step: f.step, steps: f.steps, t: f.t, x: await Promise.all(idx.map((i) => png64(toImage, f.x, i))), x0: await Promise.all(idx.map((i) => png64(toImage, f.x0, i))) };
}

const denoisers = new WeakMap<Engine, Map<string, ClassConditionalDenoiser>>();

/**
 * Generates images for a prompt. Progress events carry the latest denoising frame
 * (`progress.preview`: x_t and the predicted clean image of every image), so the page can show
 * it live; the result has every frame, the images and a GIF.
 */
export async function diffusionTask(ctx: TaskContext, a: DiffusionArgs): Promise<unknown> {
  let loaded = denoisers.get(ctx.engine);
  if (!loaded) denoisers.set(ctx.engine, (loaded = new Map()));
  let d = loaded.get(a.denoiserPath ?? '');
  if (!d) loaded.set(a.denoiserPath ?? '', (d = loadDenoiser(a.denoiserPath, ctx.engine)));
  const gen = new ClassConditionalGenerator(d);
  const job = ctx.job;
  const count = a.count;
  let latest: WireFrame | undefined;
  let progress: Progress = { done: 0, total: a.steps, phase: 'starting' };
  const emit = (): void => job.onProgress?.({ ...progress, ...(latest ? { preview: latest } : {}) } as Progress);
  const r = await gen.generate({
    prompts: [a.prompt],
    ...(a.negativePrompt !== undefined ? { negativePrompt: a.negativePrompt } : {}),
    numInferenceSteps: a.steps,
    guidanceScale: a.guidanceScale,
    numImagesPerPrompt: count,
    seed: a.seed,
    sampler: a.sampler,
    ...(a.eta !== undefined ? { eta: a.eta } : {}),
    previewEvery: a.previewEvery,
    onFrame: async (f, view) => {
      latest = await wireFrame(f, view.toImage, count);
      emit();
    },
    ...(job.signal ? { signal: job.signal } : {}),
    onProgress: (p) => {
      progress = p;
      emit();
    },
  });
  const frames = await Promise.all(r.frames.map((f) => wireFrame(f, r.frameImage, count)));
  const images = await Promise.all(r.images.map(async (img) => Buffer.from(await encodePng(img)).toString('base64')));
  const gif = denoisingGif({ frames: r.frames, images: Array.from({ length: Math.min(count, 8) }, (_, i) => i), toImage: r.frameImage });
  return {
    prompt: a.prompt,
    condition: r.conditions[0],
    ...(a.negativePrompt !== undefined ? { negativePrompt: a.negativePrompt, negativeCondition: r.negative?.[0] } : {}),
    settings: r.settings,
    timesteps: r.timesteps,
    seconds: r.seconds,
    images,
    frames,
    gif: Buffer.from(gif).toString('base64'),
  };
}
