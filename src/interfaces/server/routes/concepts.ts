import type { Studio } from '../app.js';
import { defaultBatchSize } from '../../../methods/explain/index.js';
import { factorizationBytes, factorizedLayer } from '../../../methods/inspect/concepts.js';
import { idSchema, imageIdSchema } from '../ids.js';
import { CONCEPT_IMAGES_MAX, type ConceptsRequest } from '../tasks/concepts.js';

interface ConceptsBody extends ConceptsRequest {
  model: string;
  images: string[];
}

// Bounds as `convlens concepts` takes them (components 1-64, classes 1-20, sweeps 1-10000), and
// at most as many images as its figure shows: every image's maps travel in the answer.
const schema = {
  body: {
    type: 'object',
    required: ['model', 'images'],
    properties: {
      model: idSchema,
      images: { type: 'array', items: imageIdSchema, minItems: 1, maxItems: CONCEPT_IMAGES_MAX, uniqueItems: true },
      layer: { type: 'string', minLength: 1, maxLength: 256 },
      components: { type: 'integer', minimum: 1, maximum: 64 },
      top: { type: 'integer', minimum: 1, maximum: 20 },
      iterations: { type: 'integer', minimum: 1, maximum: 10000 },
      seed: { type: 'integer', minimum: 0, maximum: 2147483647 },
    },
    additionalProperties: false,
  },
} as const;

export function registerConceptsRoutes({ app, models, images, jobs, memory, task }: Studio): void {
  app.post<{ Body: ConceptsBody }>('/api/concepts', { schema }, async (req, reply) => {
    const { model: modelId, images: ids, ...request } = req.body;
    for (const id of ids) images.require(id);
    const model = models.require(modelId);
    // The library's refusals (unknown layer, no feature map, more concepts than the layer holds,
    // more values than it factorizes at once) and the memory the factorization holds are the
    // answer here rather than a failed job.
    const layer = factorizedLayer(model, ids.length, request);
    const columns = ids.length * layer.height * layer.width;
    memory.check(`Factorizing layer "${model.layerLabel(layer.name)}" over ${ids.length} image${ids.length === 1 ? '' : 's'}`, factorizationBytes(layer.channels, columns, request.components ?? 5), model);
    const batchSize = memory.batch('The forward run of a factorization', model, 'forward', { max: Math.min(ids.length, defaultBatchSize(model, 'forward')), fetched: [layer.name] });
    const job = jobs.submit('concepts', task('concepts', { images: ids, request, batchSize }, { model: modelId, images: ids }), [models.pin(modelId), ...ids.map((id) => images.pin(id))]);
    return reply.status(202).send({ job });
  });
}
