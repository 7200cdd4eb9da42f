import { hintForStudio } from '../../../util/ways-out.js';
import { explainReport, reportModel, type ReportRequest } from '../../../methods/explain/report.js';
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
}

export async function explainTask(ctx: TaskContext, a: ExplainArgs): Promise<unknown> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  const report = await explainReport(model, tensor, a.request, { ...ctx.job, batchSize: a.batchSize });
  return { ...report, skipped: report.skipped.map((s) => (s.hint ? { ...s, hint: hintForStudio(s.hint) } : s)), maps: report.maps.map((m) => ({ ...m, values: toWire(m.values), raw: toWire(m.raw) })) };
}

export interface ExplainPlanArgs {
  request: Pick<ReportRequest, 'unit' | 'score' | 'target'>;
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
  if (a.request.target !== undefined) {
    const classes = a.request.unit ? classCount(model) : model.facts(model.output).shape?.at(-1);
    if (typeof classes === 'number') presetTargets(model, a.request.target, 1, classes);
  }
  return { bytesPerSample: bytesPerSample(model, 'gradient'), max: defaultBatchSize(model, 'gradient') };
}
