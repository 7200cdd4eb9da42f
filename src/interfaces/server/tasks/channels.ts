import { hintForStudio } from '../../../util/ways-out.js';
import { channelShare } from '../../../methods/explain/figures.js';
import { layerAttribution, type ChannelAblation, type LayerMethodName } from '../../../methods/explain/layer-attribution.js';
import type { TargetSpec } from '../../../methods/explain/target.js';
import type { IgBaseline, IgRule } from '../../../methods/explain/types.js';
import { f32 } from '../../../methods/explain/arrays.js';
import { toWire } from '../wire.js';
import type { TaskContext } from './context.js';

export interface ChannelsRequest {
  layer: string;
  methods: LayerMethodName[];
  target?: TargetSpec;
  score?: 'logit' | 'prob';
  top?: number;
  steps?: number;
  rule?: IgRule;
  baseline?: Extract<IgBaseline, string>;
  ablation?: ChannelAblation;
}

export interface ChannelsArgs {
  image: string;
  request: ChannelsRequest;
  /** samples per engine run, planned to the job's memory budget */
  batchSize: number;
}

/**
 * A map's longest side on the wire: top-k channels of every method at an early layer's
 * resolution would be hundreds of MB; a thumbnail needs no more than this.
 */
export const CHANNEL_MAP_SIDE = 64;

/** Block means of one h x w map, so that neither side exceeds CHANNEL_MAP_SIDE. */
function shrink(map: Float32Array, h: number, w: number): { dims: [number, number]; data: Float32Array } {
  const f = Math.ceil(Math.max(h, w) / CHANNEL_MAP_SIDE);
  if (f <= 1) return { dims: [h, w], data: map };
  const oh = Math.ceil(h / f);
  const ow = Math.ceil(w / f);
  const out = new Float32Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      let n = 0;
      for (let y = r * f; y < Math.min(h, (r + 1) * f); y++) for (let x = c * f; x < Math.min(w, (c + 1) * f); x++, n++) s += map[y * w + x]!;
      out[r * ow + c] = s / n;
    }
  }
  return { dims: [oh, ow], data: out };
}

export async function channelsTask(ctx: TaskContext, a: ChannelsArgs): Promise<unknown> {
  const model = ctx.model();
  const { tensor } = await ctx.input(model, a.image);
  const q = a.request;
  const r = await layerAttribution(model, tensor, {
    layer: q.layer,
    methods: q.methods,
    batchSize: a.batchSize,
    ...(q.target !== undefined ? { target: q.target } : {}),
    ...(q.score ? { score: q.score } : {}),
    ...(q.steps !== undefined ? { steps: q.steps } : {}),
    ...(q.rule ? { rule: q.rule } : {}),
    ...(q.baseline ? { baseline: q.baseline } : {}),
    ...(q.ablation ? { ablation: q.ablation } : {}),
    ...ctx.job,
  });
  const [c, h, w] = r.shape;
  const top = Math.min(q.top ?? 8, c);
  const per = h * w;
  const acts = r.activations.data as Float32Array;
  const t = r.targets[0]!;
  return {
    layer: { name: r.layer, label: r.label, shape: r.shape },
    skipped: r.skipped.map((k) => (k.hint ? { ...k, hint: hintForStudio(k.hint) } : k)),
    score: r.score,
    target: { index: t, label: model.labels[t] ?? `class ${t}`, score: r.scores[0]! },
    methods: r.results.map((m) => {
      const totals = m.channels.data as Float32Array;
      const attr = m.attribution.data as Float32Array;
      // ablation scores a channel as a whole (its map is flat), so its thumbnails show where the channel is active, as the CLI's figure does
      const maps = m.method === 'ablation' ? 'activation' : 'attribution';
      const source = maps === 'activation' ? acts : attr;
      return {
        method: m.method,
        params: m.params,
        notes: m.notes.map(hintForStudio),
        ...(m.completeness ? { completeness: m.completeness[0] } : {}),
        maps,
        top: Array.from(m.ranked[0]!.subarray(0, top), (ch) => {
          const small = shrink(source.subarray(ch * per, (ch + 1) * per), h, w);
          return { channel: ch, label: `${r.label}:${ch}`, contribution: totals[ch]!, share: channelShare(totals, 0, c, ch) ?? null, map: toWire(f32(small.dims, small.data)) };
        }),
      };
    }),
  };
}
