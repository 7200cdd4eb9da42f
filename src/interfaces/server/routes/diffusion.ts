import type { Studio } from '../app.js';
import { idSchema } from '../ids.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Engine } from '../../../engine/runtime/engine.js';
import { encodePng } from '../../../io/image.js';
import type { Progress } from '../../../methods/jobs.js';
import { ClassConditionalGenerator } from '../../../methods/diffusion/generate.js';
import { loadDenoiser, type ClassConditionalDenoiser } from '../../../methods/diffusion/model.js';
import { denoisingGif, type ToImage } from '../../../methods/diffusion/preview.js';
import { resolvePrompt } from '../../../methods/diffusion/prompts.js';
import { SAMPLERS, type Frame, type SamplerKind } from '../../../methods/diffusion/sampler.js';

interface SampleBody {
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

const MAX_RECORDED_STEPS = 250;

const schema = {
  body: {
    type: 'object',
    required: ['prompt'],
    properties: {
      model: idSchema,
      prompt: { type: 'string', maxLength: 200 },
      negativePrompt: { type: 'string', maxLength: 200 },
      steps: { type: 'integer', minimum: 1, maximum: 1000 },
      guidanceScale: { type: 'number', minimum: 0, maximum: 50 },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      count: { type: 'integer', minimum: 1, maximum: 64 },
      sampler: { enum: [...SAMPLERS] },
      eta: { type: 'number', minimum: 0, maximum: 10 },
      previewEvery: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    additionalProperties: false,
  },
} as const;

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

/**
 * Diffusion in the studio: the built-in class-conditional denoiser (or a denoiser file given to
 * the server) generating images for a prompt as a job. Progress events carry the latest
 * denoising frame (`progress.preview`: x_t and the predicted clean image of every image), so
 * the page can show it live; the result has every frame, the images and a GIF.
 */
export function registerDiffusionRoutes({ app, jobs }: Studio, engine: Engine, denoiserPath?: string): void {
  let denoiser: ClassConditionalDenoiser | undefined;
  const open = (id: string | undefined): ClassConditionalDenoiser => {
    if (id !== undefined && id !== 'builtin') throw new ConvLensError('UNKNOWN_NAME', `No denoiser "${id}".`, 'The studio has one denoiser, "builtin".');
    denoiser ??= loadDenoiser(denoiserPath, engine);
    return denoiser;
  };

  app.get('/api/diffusion', async () => {
    const d = open(undefined);
    return {
      models: [
        {
          id: 'builtin',
          name: d.name,
          kind: 'class-conditional',
          labels: d.labels,
          imageSize: [d.shape[1], d.shape[2]],
          channels: d.shape[0],
          parameters: d.parameterCount(),
          schedule: d.meta.schedule,
          description: d.graph.metadata.get('convlens.description') ?? '',
        },
      ],
      samplers: SAMPLERS,
      defaults: { steps: 50, guidanceScale: 3, seed: 0, count: 4, sampler: 'ddim', eta: 0, previewEvery: 5 },
    };
  });

  app.post<{ Body: SampleBody }>('/api/diffusion/sample', { schema }, async (req, reply) => {
    const body = req.body;
    const d = open(body.model);
    // Unmappable prompts fail now (400 with the list of known prompts), not inside the job.
    resolvePrompt(body.prompt, d.labels);
    if (body.negativePrompt !== undefined) resolvePrompt(body.negativePrompt, d.labels, 'negative prompt');
    const count = body.count ?? 4;
    const steps = body.steps ?? 50;
    const every = body.previewEvery ?? Math.max(1, Math.round(steps / 10));
    // Every recorded step stays in the result (PNGs per image): bounded like any other work.
    if (Math.ceil(steps / every) > MAX_RECORDED_STEPS) {
      throw new ConvLensError('INVALID_ARGUMENT', `previewEvery ${every} records ${Math.ceil(steps / every)} of ${steps} steps; at most ${MAX_RECORDED_STEPS} are recorded.`, `Use previewEvery ${Math.ceil(steps / MAX_RECORDED_STEPS)} or more.`);
    }
    const gen = new ClassConditionalGenerator(d);
    const job = jobs.start('diffusion', async (job) => {
      let latest: WireFrame | undefined;
      let progress: Progress = { done: 0, total: steps, phase: 'starting' };
      const emit = (): void => job.onProgress?.({ ...progress, ...(latest ? { preview: latest } : {}) } as Progress);
      const r = await gen.generate({
        prompts: [body.prompt],
        ...(body.negativePrompt !== undefined ? { negativePrompt: body.negativePrompt } : {}),
        numInferenceSteps: steps,
        guidanceScale: body.guidanceScale ?? 3,
        numImagesPerPrompt: count,
        seed: body.seed ?? 0,
        sampler: body.sampler ?? 'ddim',
        ...(body.eta !== undefined ? { eta: body.eta } : {}),
        previewEvery: every,
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
        prompt: body.prompt,
        condition: r.conditions[0],
        ...(body.negativePrompt !== undefined ? { negativePrompt: body.negativePrompt, negativeCondition: r.negative?.[0] } : {}),
        settings: r.settings,
        timesteps: r.timesteps,
        seconds: r.seconds,
        images,
        frames,
        gif: Buffer.from(gif).toString('base64'),
      };
    });
    return reply.status(202).send({ job });
  });
}
