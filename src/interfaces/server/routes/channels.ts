import type { Studio } from '../app.js';
import { defaultBatchSize } from '../../../methods/explain/index.js';
import { checkLayerAttribution, LAYER_METHODS } from '../../../methods/explain/layer-attribution.js';
import { idSchema, imageIdSchema } from '../ids.js';
import { checkChannelsOptions, type ChannelsRequest } from '../../../methods/explain/channel-ranking.js';

interface ChannelsBody extends ChannelsRequest {
  model: string;
  image: string;
}

// Bounds as `convlens channels` takes them: at most 64 channels shown per method, 1000 path steps.
const schema = {
  body: {
    type: 'object',
    required: ['model', 'image', 'methods'],
    properties: {
      model: idSchema,
      image: imageIdSchema,
      layer: { type: 'string', minLength: 1, maxLength: 256 },
      methods: { type: 'array', items: { enum: LAYER_METHODS }, minItems: 1, maxItems: LAYER_METHODS.length, uniqueItems: true },
      target: { anyOf: [{ type: 'integer', minimum: 0, maximum: 1000000 }, { type: 'string', minLength: 1, maxLength: 200 }] },
      score: { enum: ['logit', 'prob'] },
      top: { type: 'integer', minimum: 1, maximum: 64 },
      steps: { type: 'integer', minimum: 1, maximum: 1000 },
      rule: { enum: ['gausslegendre', 'riemann-trapezoid', 'riemann-left', 'riemann-right', 'riemann-middle'] },
      baseline: { enum: ['black', 'zero', 'blurred'] },
      ablation: { enum: ['zero', 'baseline'] },
    },
    additionalProperties: false,
  },
} as const;

export function registerChannelsRoutes({ app, models, images, jobs, memory, task }: Studio): void {
  app.post<{ Body: ChannelsBody }>('/api/channels', { schema }, async (req, reply) => {
    const { model: modelId, image, ...request } = req.body;
    images.require(image);
    const model = models.require(modelId);
    // The library's own refusals (unknown layer, no feature map, a layer a branch bypasses for IG
    // or ablation, an unknown class) are the answer here rather than a failed job.
    checkChannelsOptions(request);
    checkLayerAttribution(model, request);
    const batchSize = memory.batch('A channel attribution', model, 'gradient', { max: defaultBatchSize(model, 'gradient') });
    const job = jobs.submit('channels', task('channels', { image, request, batchSize }, { model: modelId, images: [image] }), [models.pin(modelId), images.pin(image)]);
    return reply.status(202).send({ job });
  });
}
