import { clientGone, type Studio } from '../app.js';
import { defaultBatchSize, METHOD_NAMES, resolveMethods } from '../../../methods/explain/index.js';
import { presetTargets } from '../../../methods/explain/target.js';
import { sanityLayers, type ReportRequest } from '../../../methods/explain/report.js';
import { REPORT_MAX_SEGMENT_SAMPLES, REPORT_SANITY_MAX_LAYERS, REPORT_SENSITIVITY_MAX_SAMPLES } from '../../../methods/explain/request-limits.js';
import type { MethodParams } from '../../../methods/explain/types.js';
import { checkOcclusionOptions, OCCLUSION_MODES } from '../../../methods/explain/occlusion.js';
import { SCORECAM_MODES } from '../../../methods/explain/scorecam.js';
import { ABLATION_MODES, LIME_REGRESSIONS } from '../../../methods/explain/segment-perturbation.js';
import { idSchema, imageIdSchema } from '../ids.js';
import { ConvLensError } from '../../../engine/errors.js';
import { checkMaskFits, shownImageSize } from '../../../io/mask-image.js';
import type { ExplainPlan } from '../tasks/explain.js';

/** The page's keys the segment methods' parameters come under (report.ts's methodParams). */
const SEGMENT_KEYS = ['segments', 'feature-ablation', 'kernel-shap', 'lime'];
const SEGMENT_METHODS = new Set(['feature-ablation', 'kernel-shap', 'lime']);

interface ExplainBody extends ReportRequest {
  model: string;
  image: string;
}

// Per-method parameter ranges, checked before the job starts (docs/api.md). The work a request
// can ask for is bounded: at most 1000 integration steps or 500 noisy samples per method, and
// occlusion windows no smaller than 1 pixel (the method checks them against the image size),
// 500 GradientSHAP samples over at most 64 baselines, 512 segments and 2000 KernelSHAP or LIME
// coalitions (a forward pass each).
const side = { anyOf: [{ type: 'integer', minimum: 1, maximum: 4096 }, { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4096 }, minItems: 2, maxItems: 2 }] };
const sigma = { type: 'number', minimum: 0.01, maximum: 1000 };
const noisy = {
  type: 'object',
  properties: { samples: { type: 'integer', minimum: 1, maximum: 500 }, noise: { type: 'number', minimum: 0, maximum: 5 }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } },
  additionalProperties: false,
};
const integrated = {
  type: 'object',
  properties: {
    steps: { type: 'integer', minimum: 1, maximum: 1000 },
    baseline: { enum: ['black', 'zero', 'blurred'] },
    rule: { enum: ['gausslegendre', 'riemann-trapezoid', 'riemann-left', 'riemann-right', 'riemann-middle'] },
    blurSigma: sigma,
  },
  additionalProperties: false,
};
// The enums are the methods' own lists, so a mode the library learns is one the studio accepts.
// tau and drillDown: the approximate mode's, in (0, 1] as occlusion.ts checks them.
const fraction = { type: 'number', exclusiveMinimum: 0, maximum: 1 };
const occlusion = {
  type: 'object',
  properties: { window: side, stride: side, fill: { enum: ['zero', 'mean', 'blur'] }, blurSigma: sigma, mode: { enum: OCCLUSION_MODES }, tau: fraction, drillDown: fraction },
  additionalProperties: false,
};
const scorecam = { type: 'object', properties: { mode: { enum: SCORECAM_MODES } }, additionalProperties: false };
const saliency = { type: 'object', properties: { reduce: { enum: ['max', 'sum'] } }, additionalProperties: false };
const guided = { type: 'object', properties: { interpolate: { enum: ['bilinear', 'nearest'] } }, additionalProperties: false };
const deeplift = { type: 'object', properties: { baseline: { enum: ['black', 'zero', 'blurred'] }, blurSigma: sigma }, additionalProperties: false };
// The baseline set of the SHAP methods is drawn here (noise images): a request names how many.
const shap = {
  type: 'object',
  properties: { count: { type: 'integer', minimum: 1, maximum: 64 }, samples: { type: 'integer', minimum: 1, maximum: 500 }, noise: { type: 'number', minimum: 0, maximum: 5 }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } },
  additionalProperties: false,
};
const lrp = {
  type: 'object',
  properties: { composite: { enum: ['epsilon', 'epsilon-gamma', 'epsilon-plus-flat', 'epsilon-gamma-box'] }, epsilon: { type: 'number', minimum: 0, maximum: 100 }, gamma: { type: 'number', minimum: 0, maximum: 100 } },
  additionalProperties: false,
};
const segments = {
  type: 'object',
  properties: {
    segmentation: { enum: ['slic', 'grid'] },
    count: { type: 'integer', minimum: 1, maximum: 512 },
    compactness: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    mode: { enum: ABLATION_MODES },
    baseline: { enum: ['zero', 'black', 'mean', 'blurred'] },
    blurSigma: sigma,
    samples: { type: 'integer', minimum: 1, maximum: REPORT_MAX_SEGMENT_SAMPLES },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    kernelWidth: { type: 'number', exclusiveMinimum: 0, maximum: 100 },
    regression: { enum: LIME_REGRESSIONS },
    alpha: { type: 'number', minimum: 0, maximum: 1e6 },
    // the id of a segments mask (POST /api/masks): its colours are the segments
    mask: imageIdSchema,
  },
  additionalProperties: false,
};
const cam = { type: 'object', properties: { augSmooth: { type: 'boolean' }, eigenSmooth: { type: 'boolean' } }, additionalProperties: false };

export const EXPLAIN_PARAMS = {
  type: 'object',
  // The keys report.ts's methodParams reads (page names and library names); others are refused.
  properties: {
    saliency,
    smoothgrad: noisy,
    'smoothgrad-sq': noisy,
    vargrad: noisy,
    integratedGradients: integrated,
    'integrated-gradients': integrated,
    ig: integrated,
    occlusion,
    scorecam,
    'score-cam': scorecam,
    guidedGradcam: guided,
    'guided-gradcam': guided,
    deeplift,
    shap,
    'gradient-shap': shap,
    'deeplift-shap': shap,
    lrp,
    cam,
    segments,
    'feature-ablation': segments,
    'kernel-shap': segments,
    lime: segments,
  },
  additionalProperties: false,
} as const;

const schema = {
  body: {
    type: 'object',
    required: ['model', 'image', 'methods'],
    properties: {
      model: idSchema,
      image: imageIdSchema,
      // every method once at most (each costs at least a pass; names are resolved and deduplicated)
      methods: { type: 'array', items: { type: 'string', maxLength: 64 }, minItems: 1, maxItems: METHOD_NAMES.length },
      layer: { type: 'string', maxLength: 256 },
      target: { anyOf: [{ type: 'integer', minimum: 0, maximum: 1000000 }, { type: 'string', maxLength: 200 }] },
      score: { enum: ['logit', 'prob'] },
      params: EXPLAIN_PARAMS,
      metrics: { type: 'boolean' },
      // The model-randomization check: how many layers with weights to randomize, from the
      // output (each recomputes every map), and the seed of the random weights.
      sanity: {
        type: 'object',
        properties: { layers: { type: 'integer', minimum: 1, maximum: REPORT_SANITY_MAX_LAYERS }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } },
        additionalProperties: false,
      },
      // Max-sensitivity: perturbed copies (each recomputes every map) and their seed.
      sensitivity: {
        type: 'object',
        properties: { samples: { type: 'integer', minimum: 1, maximum: REPORT_SENSITIVITY_MAX_SAMPLES }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } },
        additionalProperties: false,
      },
      // a hidden unit instead of a class: a layer's channel mean, or its value at [row, col]
      unit: {
        type: 'object',
        required: ['layer'],
        properties: {
          layer: { type: 'string', minLength: 1, maxLength: 256 },
          at: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 4096 }, minItems: 2, maxItems: 2 },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
} as const;

export function registerExplainRoutes({ app, models, images, masks, jobs, memory, task, call }: Studio): void {
  app.post<{ Body: ExplainBody }>('/api/explain', { schema }, async (req, reply) => {
    const { model: modelId, image, ...request } = req.body;
    images.require(image);
    const methods = resolveMethods(request.methods); // unknown names fail now, with the closest ones, not in the job
    const original = models.require(modelId);
    // tau or drillDown without the approximate mode is refused by the method: here, before a job
    const occ = request.params?.['occlusion'] as MethodParams['occlusion'];
    if (occ && methods.includes('occlusion')) checkOcclusionOptions(occ);
    // A segments mask: refused now when it cannot serve (no segment method, computed-segment
    // options beside it, another image's proportions), and handed to the job by its bytes.
    const maskKeys = SEGMENT_KEYS.filter((k) => typeof request.params?.[k]?.['mask'] === 'string');
    let mask: { id: string; name: string; bytes: Uint8Array } | undefined;
    if (maskKeys.length) {
      const ids = new Set(maskKeys.map((k) => request.params![k]!['mask'] as string));
      if (ids.size > 1) throw new ConvLensError('INVALID_ARGUMENT', 'Two different segments masks were given; the segment methods share one.', 'Give the mask once, under "segments".');
      if (!methods.some((m) => SEGMENT_METHODS.has(m))) throw new ConvLensError('INVALID_ARGUMENT', 'A segments mask applies only to feature ablation, KernelSHAP and LIME; here it would be ignored.', 'Add one of them, or leave out the mask.');
      const entry = masks.require([...ids][0]!);
      for (const k of maskKeys) {
        const computed = ['segmentation', 'count', 'compactness'].filter((o) => request.params![k]![o] !== undefined);
        if (computed.length) throw new ConvLensError('INVALID_ARGUMENT', `Segment ${computed.join(', ')} ${computed.length > 1 ? 'apply' : 'applies'} only to computed segments; the mask gives the segments itself.`, 'Leave them out with a mask, or leave out the mask to compute segments.');
      }
      const img = images.require(image);
      // the image as it is shown and explained (EXIF orientation applied), as the CLI measures it
      const size = await shownImageSize(img.bytes);
      if (size) checkMaskFits(entry, { name: img.name, ...size });
      mask = { id: entry.id, name: entry.name, bytes: entry.bytes };
      request.params = Object.fromEntries(Object.entries(request.params!).map(([k, v]) => [k, maskKeys.includes(k) ? Object.fromEntries(Object.entries(v).filter(([o]) => o !== 'mask')) : v]));
    }
    let batchSize: number;
    if (request.unit) {
      // A unit is cut as the job will cut it, on the interactive worker (cutting a deep model took
      // the event loop for 100 ms and more): its refusals (unknown or flat layer, position outside,
      // probability score, channel out of range) are the answer rather than a failed job.
      const { unit, score, target, sanity } = request;
      const plan = (await call('explain-plan', { request: { unit, ...(score ? { score } : {}), ...(target !== undefined ? { target } : {}), ...(sanity ? { sanity } : {}) } }, { model: modelId }, clientGone(reply))) as ExplainPlan;
      batchSize = memory.batch('An explanation', original, 'gradient', { max: plan.max, bytesPerSample: plan.bytesPerSample });
    } else {
      // A class out of range or a label the model does not have is the answer too, rather than a
      // job that queues, runs its prediction pass and fails. A model whose class count shows only
      // in its logits is left to the job, which checks the target against them.
      if (request.target !== undefined) {
        const classes = original.facts(original.output).shape?.at(-1);
        if (typeof classes === 'number') presetTargets(original, request.target, 1, classes);
      }
      // more layers than the model has with weights (or none at all) is the answer, not a failed job
      if (request.sanity) sanityLayers(original, request.sanity.layers);
      // Samples per engine run (occluded copies, integration steps, noisy samples, masked inputs):
      // as many as the job's memory budget holds with gradients, up to explain's default.
      batchSize = memory.batch('An explanation', original, 'gradient', { max: defaultBatchSize(original, 'gradient') });
    }
    const job = jobs.submit('explain', task('explain', { image, request, batchSize, ...(mask ? { mask: { name: mask.name, bytes: mask.bytes, keys: maskKeys } } : {}) }, { model: modelId, images: [image] }), [models.pin(modelId), images.pin(image), ...(mask ? [masks.pin(mask.id)] : [])]);
    return reply.status(202).send({ job });
  });
}
