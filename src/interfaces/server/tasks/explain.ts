import { explainReport, type ReportRequest } from '../../../methods/explain/report.js';
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
  return { ...report, maps: report.maps.map((m) => ({ ...m, values: toWire(m.values), raw: toWire(m.raw) })) };
}
