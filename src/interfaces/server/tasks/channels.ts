import { channelsReport, type ChannelsReport, type ChannelsRequest } from '../../../methods/explain/channel-ranking.js';
import { toWire, type WireTensor } from '../wire.js';
import type { TaskContext } from './context.js';

export type { ChannelsRequest } from '../../../methods/explain/channel-ranking.js';

export interface ChannelsArgs {
  image: string;
  request: ChannelsRequest;
  /** samples per engine run, planned to the job's memory budget */
  batchSize: number;
}

/** The shared computation (methods/explain/channel-ranking.ts, which the page runs too), its maps as wire tensors. */
export async function channelsTask(ctx: TaskContext, a: ChannelsArgs): Promise<ChannelsReport<WireTensor>> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  const r = await channelsReport(model, tensor, a.request, { ...ctx.job, batchSize: a.batchSize });
  return { ...r, methods: r.methods.map((m) => ({ ...m, top: m.top.map((c) => ({ ...c, map: toWire(c.map) })) })) };
}
