import { clientGone, type Studio } from '../app.js';
import { idSchema, imageIdSchema } from '../ids.js';

// Closed, as every body: a misspelt key (`topk`) is a 400 naming it, not a default answer.
const target = { type: 'object', required: ['model', 'image'], properties: { model: idSchema, image: imageIdSchema }, additionalProperties: false } as const;

// Quick requests: checked here, computed on the interactive worker (tasks/inspect.ts).
export function registerInspectRoutes({ app, models, images, call, memory }: Studio): void {
  // One forward pass must fit the interactive worker: a model at 30000x30000 px (a free-size
  // model described so) had the worker killed for memory on every request, answered with a 500
  // after 9 s each.
  const requireOneSampleFits = (what: string, modelId: string, fetched: readonly string[] = []): void => {
    memory.batch(what, models.require(modelId), 'forward', { max: 1, worker: 'interactive', fetched });
  };

  app.post<{ Body: { model: string; image: string; k?: number } }>(
    '/api/predict',
    { schema: { body: { ...target, properties: { ...target.properties, k: { type: 'integer', minimum: 1, maximum: 1000 } } } } },
    async (req, reply) => {
      requireOneSampleFits('A prediction', req.body.model);
      images.require(req.body.image);
      return call('predict', { image: req.body.image, k: req.body.k ?? 5 }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
    },
  );

  // The preprocessed input tensor [1, C, H, W] exactly as the server feeds it, for computing in the page.
  app.post<{ Body: { model: string; image: string } }>('/api/input', { schema: { body: target } }, async (req, reply) => {
    // no session: the worker holds the weights once, not the forward run's copies
    memory.checkInput('Preprocessing an image', models.require(req.body.model));
    images.require(req.body.image);
    return call('input', { image: req.body.image }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
  });

  app.post<{ Body: { model: string; image: string; layers?: string[] } }>(
    '/api/activations',
    { schema: { body: { ...target, properties: { ...target.properties, layers: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 256 } } } } },
    async (req, reply) => {
      const model = models.require(req.body.model);
      // each layer once: 256 copies of one 55x55x256 map were 255 MB of JSON and a worker over its memory
      const layers = req.body.layers?.length ? [...new Set(req.body.layers.map((l) => model.resolveLayer(l)))] : model.pickableValues().filter((p) => p.shape.length === 4 && model.isChannelsFirst(p.name)).map((p) => p.name);
      requireOneSampleFits('Activations', req.body.model, layers);
      images.require(req.body.image);
      return call('activations', { image: req.body.image, layers }, { model: req.body.model, images: [req.body.image] }, clientGone(reply));
    },
  );
}
