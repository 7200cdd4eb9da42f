import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { defaultBatchSize } from '../../../methods/explain/index.js';
import { checkLayerAttribution, LAYER_METHODS } from '../../../methods/explain/layer-attribution.js';
import { idSchema, imageIdSchema } from '../ids.js';
import type { ChannelsRequest } from '../tasks/channels.js';

interface ChannelsBody extends ChannelsRequest {
  model: string;
  image: string;
}

// Bounds as `convlens channels` takes them: at most 64 channels shown per method, 1000 path steps.
const schema = {
  body: {
    type: 'object',
    required: ['model', 'image', 'layer', 'methods'],
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

const PATH_METHODS: readonly string[] = ['integrated-gradients', 'conductance'];

/**
 * Options the asked methods would ignore, refused as `convlens channels` refuses its flags outside
 * their mode (option-rules.ts): the ranking the user gets would not be the one asked for. Named by
 * the request's own fields, as the studio's controls show them.
 */
export function checkChannelsOptions(q: ChannelsRequest): void {
  const has = (...m: string[]): boolean => q.methods.some((k) => m.includes(k));
  const ignored = (field: string, when: string, add: string): never => {
    throw new ConvLensError('INVALID_ARGUMENT', `"${field}" applies only ${when}; here it would be ignored.`, `Leave out "${field}", or ${add}.`);
  };
  for (const field of ['steps', 'rule'] as const) if (q[field] !== undefined && !has(...PATH_METHODS)) ignored(field, 'with integrated-gradients or conductance', 'add integrated-gradients or conductance to the methods');
  if (q.ablation !== undefined && !has('ablation')) ignored('ablation', 'with the ablation method', 'add ablation to the methods');
  if (q.baseline !== undefined && !has(...PATH_METHODS, 'deeplift') && q.ablation !== 'baseline') ignored('baseline', 'with integrated-gradients, conductance, deeplift, or ablation "baseline"', 'add one of them');
  // DeepLIFT's rescale rule has no softmax rule: it always decomposes the logit (a note when another method uses the probability)
  if (q.score === 'prob' && q.methods.every((m) => m === 'deeplift')) {
    throw new ConvLensError('INVALID_ARGUMENT', 'DeepLIFT decomposes the target logit (its rescale rule has no softmax rule), so score "prob" would be ignored.', 'Use score "logit", or add a method that explains the probability.');
  }
}

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
