import { explainReport, reportModel, sanityLayers, type ReportRequest } from '../../../methods/explain/report.js';
import { maskFromImage } from '../../../methods/explain/segments.js';
import { decodeImage } from '../../../io/image.js';
import { defaultBatchSize } from '../../../methods/explain/index.js';
import { classCount } from '../../../methods/explain/session.js';
import { checkScore, presetTargets } from '../../../methods/explain/target.js';
import { bytesPerSample } from '../../../methods/inspect/memory.js';
import { toWire } from '../wire.js';
import type { TaskContext } from './context.js';

export interface ExplainArgs {
  image: string;
  request: ReportRequest;
  /** samples per engine run, planned to the job's memory budget */
  batchSize: number;
  /** a segments mask the server checked (masks.ts), and the parameter keys it was given under */
  mask?: { name: string; bytes: Uint8Array; keys: string[] };
}

export async function explainTask(ctx: TaskContext, a: ExplainArgs): Promise<unknown> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  let request = a.request;
  if (a.mask) {
    // brought to the model's input as the image is (same geometry, nearest neighbour)
    const { mask } = maskFromImage(await decodeImage(a.mask.bytes, `"${a.mask.name}"`, 3), reportModel(model, request).meta.preprocessing, `The mask "${a.mask.name}"`);
    const keys = a.mask.keys;
    request = { ...request, params: Object.fromEntries(Object.entries(request.params ?? {}).map(([k, v]) => [k, keys.includes(k) ? { ...v, mask } : v])) };
  }
  const report = await explainReport(model, tensor, request, { ...ctx.job, batchSize: a.batchSize });
  // The segment methods' params say only "segmentation: mask": the mask's name tells the reader
  // which of their masks made the segments (the request carried an id, the mask a tensor).
  const params = (m: (typeof report.maps)[number]): Record<string, unknown> => (a.mask && m.params['segmentation'] === 'mask' ? { ...m.params, mask: a.mask.name } : m.params);
  const sanity = report.sanity && { ...report.sanity, steps: report.sanity.steps.map((st) => ({ ...st, maps: Object.fromEntries(Object.entries(st.maps).map(([m, t]) => [m, toWire(t)])) })) };
  return { ...report, maps: report.maps.map((m) => ({ ...m, params: params(m), values: toWire(m.values), raw: toWire(m.raw) })), ...(sanity ? { sanity } : {}) };
}

export interface ExplainPlanArgs {
  request: Pick<ReportRequest, 'unit' | 'score' | 'target' | 'sanity'>;
}

/** What the route needs to plan a unit's explanation: the cut model's bytes per sample (with gradients) and explain's batch. */
export interface ExplainPlan {
  bytesPerSample: number;
  max: number;
}

/**
 * A hidden unit's explanation, checked before its job: the model is cut at the unit's layer
 * here, on the interactive worker, because cutting a deep model held the server's event loop
 * (a 5000-layer model: 100 to 250 ms per request, every other request waiting). Its refusals
 * (unknown or flat layer, position outside, probability score, channel out of range) are the
 * route's answer, as they were when the route cut the model itself.
 */
export async function explainPlanTask(ctx: TaskContext, a: ExplainPlanArgs): Promise<ExplainPlan> {
  const model = reportModel(ctx.model(), a.request);
  if (a.request.unit) checkScore(a.request.score ?? 'logit', model);
  // the cut model's layers with weights are the ones a unit's sanity check can randomize
  if (a.request.sanity) sanityLayers(model, a.request.sanity.layers);
  if (a.request.target !== undefined) {
    const classes = a.request.unit ? classCount(model) : model.facts(model.output).shape?.at(-1);
    if (typeof classes === 'number') presetTargets(model, a.request.target, 1, classes);
  }
  return { bytesPerSample: bytesPerSample(model, 'gradient'), max: defaultBatchSize(model, 'gradient') };
}
