import { explainReport, reportModel, type ReportRequest } from '../../../methods/explain/report.js';
import { maskFromImage } from '../../../methods/explain/segments.js';
import { decodeImage } from '../../../io/image.js';
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
  return { ...report, maps: report.maps.map((m) => ({ ...m, values: toWire(m.values), raw: toWire(m.raw) })) };
}
