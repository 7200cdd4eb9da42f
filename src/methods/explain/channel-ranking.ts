// One "channels behind this prediction" request as the studio asks it (a layer, layer methods,
// the top channels to show) and its answer: per method, the top channels with their contribution,
// share and a small map. The server runs it as a job (POST /api/channels) and sends the maps as
// wire tensors; the page runs the very same function on onnxruntime-web when the user chooses to
// compute in the browser, and keeps the maps as tensors. Browser-safe: no Node imports. Its hints
// and notes are the studio's words (hintForStudio): the CLI's flags mean nothing on the page.
import { ConvLensError } from '../../engine/errors.js';
import type { JobOptions } from '../../engine/jobs.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { hintForStudio } from '../../util/ways-out.js';
import { f32 } from './arrays.js';
import { layerAttribution, type ChannelAblation, type LayerAttribution, type LayerMethodName } from './layer-attribution.js';
import type { TargetSpec } from './target.js';
import type { Completeness, IgBaseline, IgRule } from './types.js';

export interface ChannelsRequest {
  /** default: the CAM layer (on a segmentation net the backbone's last layer; on pooled class maps, SqueezeNet's, the features the class conv reads), as `convlens channels` */
  layer?: string;
  methods: LayerMethodName[];
  target?: TargetSpec;
  score?: 'logit' | 'prob';
  /** channels shown per method (default 8) */
  top?: number;
  steps?: number;
  rule?: IgRule;
  baseline?: Extract<IgBaseline, string>;
  ablation?: ChannelAblation;
}

/** One of a method's top channels; `M` is the map's form (a tensor here, a wire tensor on the server's answer). */
export interface ChannelEntry<M = Tensor> {
  channel: number;
  /** as explain's unit takes it: "fires.5:12" */
  label: string;
  contribution: number;
  /** of the channels' net total; null where they cancel out */
  share: number | null;
  /** [h, w] at the layer's resolution (block means past CHANNEL_MAP_SIDE) */
  map: M;
}

export interface ChannelsReport<M = Tensor> {
  layer: { name: string; label: string; shape: [number, number, number] };
  /** methods the layer rules out (IG and ablation where a branch bypasses it), with the reason */
  skipped: { method: string; reason: string; hint?: string }[];
  score: 'logit' | 'prob';
  target: { index: number; label: string; score: number };
  methods: {
    method: LayerMethodName;
    params: Record<string, unknown>;
    notes: string[];
    completeness?: Completeness;
    /** ablation's maps are the channel's activation (its attribution is flat) */
    maps: 'attribution' | 'activation';
    top: ChannelEntry<M>[];
  }[];
}

/**
 * A map's longest side in the answer: top-k channels of every method at an early layer's
 * resolution would be hundreds of MB; a thumbnail needs no more than this.
 */
export const CHANNEL_MAP_SIDE = 64;

/** Block means of one h x w map, so that neither side exceeds `side`. */
export function shrinkMap(map: Float32Array, h: number, w: number, side = CHANNEL_MAP_SIDE): { dims: [number, number]; data: Float32Array } {
  const f = Math.ceil(Math.max(h, w) / side);
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

/** A channel's share of image `image`'s net total over its `channels` channels (undefined where they cancel out). */
export function channelShare(totals: Float32Array, image: number, channels: number, channel: number): number | undefined {
  let net = 0;
  let magnitude = 0;
  for (let k = image * channels; k < (image + 1) * channels; k++) {
    net += totals[k]!;
    magnitude += Math.abs(totals[k]!);
  }
  // a net total far below the channels' magnitudes is cancellation, and shares of it mislead
  return Math.abs(net) > 1e-3 * magnitude ? totals[image * channels + channel]! / net : undefined;
}

const PATH_METHODS: readonly string[] = ['integrated-gradients', 'conductance'];

/**
 * Options the asked methods would ignore, refused as `convlens channels` refuses its flags outside
 * their mode (option-rules.ts): the ranking the user gets would not be the one asked for. Named by
 * the request's own fields, as the studio's controls show them.
 */
export function checkChannelsOptions(q: ChannelsRequest): void {
  const has = (...m: string[]): boolean => q.methods.some((k) => m.includes(k));
  const ignored = (field: string, when: string, add: string): never => {
    throw new ConvLensError('INVALID_ARGUMENT', `"${field}" applies only ${when}; here it would be ignored.`, `Leave out "${field}", or ${add}.`);
  };
  for (const field of ['steps', 'rule'] as const) if (q[field] !== undefined && !has(...PATH_METHODS)) ignored(field, 'with integrated-gradients or conductance', 'add integrated-gradients or conductance to the methods');
  if (q.ablation !== undefined && !has('ablation')) ignored('ablation', 'with the ablation method', 'add ablation to the methods');
  if (q.baseline !== undefined && !has(...PATH_METHODS, 'deeplift') && q.ablation !== 'baseline') ignored('baseline', 'with integrated-gradients, conductance, deeplift, or ablation "baseline"', 'add one of them');
  // DeepLIFT's rescale rule has no softmax rule: it always decomposes the logit (a note when another method uses the probability)
  if (q.score === 'prob' && q.methods.every((m) => m === 'deeplift')) {
    throw new ConvLensError('INVALID_ARGUMENT', 'DeepLIFT decomposes the target logit (its rescale rule has no softmax rule), so score "prob" would be ignored.', 'Use score "logit", or add a method that explains the probability.');
  }
}

/**
 * The studio's answer from a layer attribution of one image: per method its `top` channels, each
 * with its contribution, share and map shrunk for a thumbnail. Ablation scores a channel as a
 * whole (its map is flat), so its maps are where the channel is active, as the CLI's figure shows.
 */
export function shapeChannels(r: LayerAttribution, labels: readonly string[], top = 8): ChannelsReport {
  const [c, h, w] = r.shape;
  const k = Math.min(top, c);
  const per = h * w;
  const acts = r.activations.data as Float32Array;
  const t = r.targets[0]!;
  return {
    layer: { name: r.layer, label: r.label, shape: r.shape },
    skipped: r.skipped.map((s) => (s.hint ? { ...s, hint: hintForStudio(s.hint) } : { ...s })),
    score: r.score,
    target: { index: t, label: labels[t] ?? `class ${t}`, score: r.scores[0]! },
    methods: r.results.map((m) => {
      const totals = m.channels.data as Float32Array;
      const maps = m.method === 'ablation' ? 'activation' : 'attribution';
      const source = maps === 'activation' ? acts : (m.attribution.data as Float32Array);
      return {
        method: m.method,
        params: m.params,
        notes: m.notes.map(hintForStudio),
        ...(m.completeness ? { completeness: m.completeness[0]! } : {}),
        maps,
        top: Array.from(m.ranked[0]!.subarray(0, k), (ch) => {
          const small = shrinkMap(source.subarray(ch * per, (ch + 1) * per), h, w);
          // a view of the layer's array when not shrunk: copied, so that the answer holds only what it shows (a worker's message would clone the whole layer)
          const data = small.dims[0] === h && small.dims[1] === w ? small.data.slice() : small.data;
          return { channel: ch, label: `${r.label}:${ch}`, contribution: totals[ch]!, share: channelShare(totals, 0, c, ch) ?? null, map: f32(small.dims, data) };
        }),
      };
    }),
  };
}

/** POST /api/channels's computation: the request's refusals, the layer attribution of the one image `x`, and its answer. */
export async function channelsReport(model: Model, x: Tensor, q: ChannelsRequest, options: JobOptions & { batchSize?: number } = {}): Promise<ChannelsReport> {
  checkChannelsOptions(q);
  const r = await layerAttribution(model, x, {
    ...(q.layer !== undefined ? { layer: q.layer } : {}),
    methods: q.methods,
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(q.target !== undefined ? { target: q.target } : {}),
    ...(q.score ? { score: q.score } : {}),
    ...(q.steps !== undefined ? { steps: q.steps } : {}),
    ...(q.rule ? { rule: q.rule } : {}),
    ...(q.baseline ? { baseline: q.baseline } : {}),
    ...(q.ablation ? { ablation: q.ablation } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return shapeChannels(r, model.labels, q.top);
}
