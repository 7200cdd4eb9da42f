import type { Studio } from '../app.js';
import { resolveMethods } from '../../../methods/explain/index.js';
import { explainReport, type ReportRequest } from '../../../methods/explain/report.js';
import { toWire } from '../wire.js';

interface ExplainBody extends ReportRequest {
  model: string;
  image: string;
}

const schema = {
  body: {
    type: 'object',
    required: ['model', 'image', 'methods'],
    properties: {
      model: { type: 'string' },
      image: { type: 'string' },
      methods: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 20 },
      layer: { type: 'string' },
      target: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] },
      score: { enum: ['logit', 'prob'] },
      params: { type: 'object', additionalProperties: { type: 'object' } },
      metrics: { type: 'boolean' },
    },
    additionalProperties: false,
  },
} as const;

export function registerExplainRoutes({ app, models, images, jobs }: Studio): void {
  app.post<{ Body: ExplainBody }>('/api/explain', { schema }, async (req, reply) => {
    const body = req.body;
    const model = models.require(body.model);
    images.require(body.image);
    resolveMethods(body.methods); // unknown names fail now, with the closest ones, not in the job
    const job = jobs.start('explain', async (job) => {
      const { tensor } = await images.input(model, body.image);
      const report = await explainReport(model, tensor, body, job);
      return { ...report, maps: report.maps.map((m) => ({ ...m, values: toWire(m.values), raw: toWire(m.raw) })) };
    });
    return reply.status(202).send({ job });
  });
}
