import type { Studio } from '../app.js';
import { explain, METHODS, resolveMethods, type ExplainOptions, type MethodParams } from '../../../methods/explain/index.js';
import { deletionInsertion } from '../../../methods/metrics/index.js';
import type { Tensor } from '../../../engine/tensor.js';
import { toWire } from '../wire.js';

interface ExplainBody {
  model: string;
  image: string;
  methods: string[];
  layer?: string;
  target?: number | string;
  score?: 'logit' | 'prob';
  params?: Record<string, Record<string, unknown>>;
  metrics?: boolean;
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

/** Page parameter keys (method names) -> the library's option keys. */
function methodParams(params: ExplainBody['params'] = {}): MethodParams {
  const get = (...keys: string[]): Record<string, unknown> | undefined => keys.map((k) => params[k]).find((v) => v !== undefined);
  const out: Record<string, unknown> = {};
  const put = (key: keyof MethodParams, ...names: string[]): void => {
    const v = get(key, ...names);
    if (v) out[key] = v;
  };
  put('saliency');
  put('smoothgrad', 'smoothgrad-sq', 'vargrad');
  put('integratedGradients', 'integrated-gradients', 'ig');
  put('occlusion');
  put('guidedGradcam', 'guided-gradcam');
  return out as MethodParams;
}

export function registerExplainRoutes({ app, models, images, jobs }: Studio): void {
  app.post<{ Body: ExplainBody }>('/api/explain', { schema }, async (req, reply) => {
    const body = req.body;
    const model = models.require(body.model);
    images.require(body.image);
    const methods = resolveMethods(body.methods); // unknown names fail now, with the closest ones
    const job = jobs.start('explain', async (job) => {
      const { tensor } = await images.input(model, body.image);
      const options: ExplainOptions = {
        methods,
        ...methodParams(body.params),
        ...(body.layer ? { layer: body.layer } : {}),
        ...(body.target !== undefined ? { target: body.target } : {}),
        ...(body.score ? { score: body.score } : {}),
        ...job,
      };
      const total = methods.length + (body.metrics ? methods.length : 0);
      let done = 0;
      const step = (phase: string): ExplainOptions['onProgress'] => (p) => job.onProgress?.({ ...p, done: done + p.done / Math.max(1, p.total), total, phase });
      const result = await explain(model, tensor, { ...options, onProgress: step('explaining') });
      done = methods.length;
      job.onProgress?.({ done, total, phase: 'explained' });
      const image = result.images[0]!;
      const maps = result.attributions.map((a) => ({
        method: a.method,
        title: METHODS[a.method].title,
        signed: a.signed,
        values: toWire({ dtype: 'float32', dims: a.map.dims.slice(1), data: a.map.data }),
        raw: toWire(a.raw),
        params: a.params,
        notes: a.notes,
        ...(a.layer ? { layer: a.layer.name } : {}),
        ...(a.completeness ? { completeness: a.completeness[0] } : {}),
        ms: a.timeMs,
      }));
      const metrics: Record<string, unknown> = {};
      if (body.metrics) {
        const targets = Int32Array.from(result.targets);
        for (const a of result.attributions) {
          const mapOf: Tensor = a.map;
          // Curves on the probability (as in RISE): logits are unbounded, so AUCs would not compare.
          const [curves] = await deletionInsertion(model, tensor, targets, [mapOf], { ...job, score: 'prob', onProgress: step(`faithfulness: ${a.method}`) });
          metrics[a.method] = {
            deletion: { x: curves!.fractions, y: curves!.deletion[0], auc: curves!.deletionAuc[0] },
            insertion: { x: curves!.fractions, y: curves!.insertion[0], auc: curves!.insertionAuc[0] },
          };
          done++;
        }
      }
      return { target: { index: image.target.index, label: image.target.label, score: image.target.score }, predicted: image.predicted, score: result.score, maps, metrics };
    });
    return reply.status(202).send({ job });
  });
}
