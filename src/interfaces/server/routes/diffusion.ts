import type { Studio } from '../app.js';
import { idSchema } from '../ids.js';
import { ConvLensError } from '../../../engine/errors.js';
import type { Engine } from '../../../engine/runtime/engine.js';
import { loadDenoiser, type ClassConditionalDenoiser } from '../../../methods/diffusion/model.js';
import { resolvePrompt } from '../../../methods/diffusion/prompts.js';
import { MAX_ETA, MAX_GUIDANCE, SAMPLERS } from '../../../methods/diffusion/sampler.js';
import type { SampleBody } from '../tasks/diffusion.js';

export type { WireFrame } from '../tasks/diffusion.js';

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
      guidanceScale: { type: 'number', minimum: 0, maximum: MAX_GUIDANCE },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      count: { type: 'integer', minimum: 1, maximum: 64 },
      sampler: { enum: [...SAMPLERS] },
      eta: { type: 'number', minimum: 0, maximum: MAX_ETA },
      previewEvery: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    additionalProperties: false,
  },
} as const;

/**
 * Diffusion in the studio: the built-in class-conditional denoiser (or a denoiser file given to
 * the server) generating images for a prompt as a job. Progress events carry the latest
 * denoising frame (`progress.preview`: x_t and the predicted clean image of every image), so
 * the page can show it live; the result has every frame, the images and a GIF.
 */
export function registerDiffusionRoutes({ app, jobs, task }: Studio, engine: Engine, denoiserPath?: string): void {
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
    const request = task('diffusion', {
      ...(denoiserPath !== undefined ? { denoiserPath } : {}),
      prompt: body.prompt,
      ...(body.negativePrompt !== undefined ? { negativePrompt: body.negativePrompt } : {}),
      steps,
      guidanceScale: body.guidanceScale ?? 3,
      seed: body.seed ?? 0,
      count,
      sampler: body.sampler ?? 'ddim',
      ...(body.eta !== undefined ? { eta: body.eta } : {}),
      previewEvery: every,
    });
    const job = jobs.submit('diffusion', request);
    return reply.status(202).send({ job });
  });
}
