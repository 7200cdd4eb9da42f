// Maximally activating patches: for a channel, the stored top-k images cropped to the receptive
// field of the unit that fired most, next to that unit's guided-backpropagation map
// d(activation of the unit) / d(input) under the guided ReLU rules (Springenberg et al.), the
// way Zeiler & Fergus and the course show what a unit responds to.
import { ConvLensError } from '../../engine/errors.js';
import { defaultRange } from '../explain/display.js';
import { rangeOf } from '../../render/range.js';
import type { Tensor } from '../../engine/tensor.js';
import type { RawImage } from '../../io/image.js';
import type { DatasetSource } from '../../data/sources.js';
import type { Model } from '../../models/model.js';
import { receptiveFields, unitRegion, type ReceptiveField } from '../inspect/receptive-field.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import type { DatasetStore, TopEntry } from './store.js';

export interface Patch extends TopEntry {
  label: number;
  /** inclusive input box [top, left, bottom, right] the unit sees, clipped to the image */
  box: [number, number, number, number];
  /** the crop's [top, left] corner: the receptive field's (may be outside the image), or 0 where the field covers the image */
  origin: [number, number];
  /** the input crop (outside the image: a gray checkerboard) */
  crop: RawImage;
  /** guided backprop summed over input channels, on the same (padded) crop, row-major; NaN outside the image */
  guided?: Float32Array;
  /** max |guided| inside the crop */
  guidedMax?: number;
  /**
   * The |value| drawn at the colormap's ends: the 98th percentile of |guided| inside the crop, as
   * explain draws guided backprop (Captum's outlier_perc=2). At the max, a unit's few strongest
   * pixels left the rest of the map white.
   */
  guidedScale?: number;
}

export interface ChannelPatches {
  layer: string;
  channel: number;
  /** receptive field size [h, w] in input pixels */
  field: [number, number];
  global: boolean;
  patches: Patch[];
  /**
   * Images among the store's top k where the channel never fired (activation exactly 0, a ReLU
   * off everywhere): they are no patch of anything the channel responds to, and on a small store
   * (7 photos) they filled rows with crops captioned 0.00 and blank guided maps.
   */
  silent: number;
}

export interface PatchOptions extends JobOptions {
  k?: number;
  /** compute guided-backprop maps (default true) */
  guided?: boolean;
  /** images per gradient run (default 64) */
  batchSize?: number;
}

export function fieldOf(model: Model, layer: string): ReceptiveField {
  const rf = receptiveFields(model.graph, model.builder(), model.input.name).get(layer);
  if (!rf) throw new ConvLensError('INVALID_ARGUMENT', `Layer "${layer}" does not depend on the input; it has no receptive field.`, 'Pick a layer computed from the image; `convlens summary --model <file>` lists the layers.');
  return rf;
}

/**
 * The crop shown for unit (y, x): its receptive field, [top, left] unclipped (a field reaching
 * past the border shows the outside as padding), except along an axis where the field is at
 * least as large as the image: there the crop is the image. EfficientNet's last stage sees
 * 851 px of a 224 px image, and its crops were mostly padding, a 4x4 figure 7,000 px wide.
 */
export function cropBox(rf: ReceptiveField, y: number, x: number, H: number, W: number): { top: number; left: number; h: number; w: number } {
  if (rf.global) return { top: 0, left: 0, h: H, w: W };
  const axis = (size: number, start: number, jump: number, at: number, limit: number): [number, number] => {
    const n = Math.round(size);
    if (n >= limit) return [0, limit];
    const centre = start + at * jump;
    return [Math.ceil(centre - (n - 1) / 2), n];
  };
  const [top, h] = axis(rf.size[0], rf.start[0], rf.jump[0], y, H);
  const [left, w] = axis(rf.size[1], rf.start[1], rf.jump[1], x, W);
  return { top, left, h, w };
}

/**
 * Crops `img` (as RGB) to a box that may reach outside it; the outside is a light blue-gray
 * checkerboard, so it cannot be mistaken for image content.
 */
export function cropPadded(img: RawImage, top: number, left: number, h: number, w: number): RawImage {
  const c = img.channels;
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    const sy = top + y;
    for (let x = 0; x < w; x++) {
      const sx = left + x;
      const o = (y * w + x) * 3;
      if (sy < 0 || sy >= img.height || sx < 0 || sx >= img.width) {
        const v = (Math.floor(sy / 2) + Math.floor(sx / 2)) & 1 ? [196, 206, 222] : [222, 228, 238];
        data.set(v, o);
        continue;
      }
      const i = (sy * img.width + sx) * c;
      data[o] = img.data[i]!;
      data[o + 1] = img.data[c === 3 ? i + 1 : i]!;
      data[o + 2] = img.data[c === 3 ? i + 2 : i]!;
    }
  }
  return { width: w, height: h, channels: 3, data };
}

/** Top patches of several channels of one layer (gradient runs batched across channels). */
export async function topPatches(model: Model, source: DatasetSource, store: DatasetStore, layer: string, channels: readonly number[], o: PatchOptions = {}): Promise<ChannelPatches[]> {
  const info = store.layer(layer);
  const rf = fieldOf(model, layer);
  const [, C, H, W] = model.input.shape as number[];
  const prep = model.meta.preprocessing;
  // the store keeps only its k best per channel
  const k = Math.min(o.k ?? 8, store.manifest.k);
  const per = C! * H! * W!;
  const stored = await Promise.all(channels.map((c) => store.top(layer, c, k)));
  const tops = stored.map((entries) => entries.filter((e) => e.value !== 0));
  const labelsOf = await store.images([...new Set(tops.flat().map((e) => e.image))]);
  const displays = new Map<number, RawImage>();
  const result: ChannelPatches[] = channels.map((channel, ci) => ({
    layer,
    channel,
    field: rf.global ? [H!, W!] : [Math.round(rf.size[0]), Math.round(rf.size[1])],
    global: rf.global,
    silent: stored[ci]!.length - tops[ci]!.length,
    patches: tops[ci]!.map((e) => {
      const b = cropBox(rf, e.y, e.x, H!, W!);
      return { ...e, label: labelsOf.get(e.image)?.label ?? -1, box: unitRegion(rf, e.y, e.x, H!, W!), origin: [b.top, b.left] as [number, number], crop: { width: 0, height: 0, channels: 1, data: new Uint8Array() } };
    }),
  }));
  for (const r of result) {
    for (const p of r.patches) {
      let d = displays.get(p.image);
      if (!d) displays.set(p.image, (d = await source.display(p.image, prep)));
      const b = cropBox(rf, p.y, p.x, H!, W!);
      p.crop = cropPadded(d, b.top, b.left, b.h, b.w);
    }
  }
  if (o.guided === false) return result;
  // guided backprop: one gradient run per batch of (channel, rank) pairs, seeded at each unit
  const jobs = result.flatMap((r) => r.patches.map((p) => ({ r, p })));
  const bs = o.batchSize ?? 64;
  const plane = info.height * info.width;
  const buf = new Float32Array(Math.min(bs, jobs.length) * per);
  for (let s = 0; s < jobs.length; s += bs) {
    throwIfCancelled(o.signal, 'the patches');
    const part = jobs.slice(s, s + bs);
    const n = part.length;
    const x = buf.subarray(0, n * per);
    for (let i = 0; i < n; i++) await source.fill(part[i]!.p.image, part[i]!.p.image + 1, prep, x.subarray(i * per, (i + 1) * per));
    const seed = new Float32Array(n * info.channels * plane);
    part.forEach(({ r, p }, i) => (seed[(i * info.channels + r.channel) * plane + p.y * info.width + p.x] = 1));
    const shape = info.height * info.width === 1 && model.facts(layer).shape?.length === 2 ? [n, info.channels] : [n, info.channels, info.height, info.width];
    const seedT: Tensor = { dtype: 'float32', dims: shape, data: seed };
    const xt: Tensor = { dtype: 'float32', dims: [n, C!, H!, W!], data: x.slice() };
    const g = await model.gradients(xt, { seed: { upstream: [layer] }, wrt: [model.input.name], ruleSet: 'guided' }, { [layer]: seedT });
    const gd = g.gradients[model.input.name]!.data as Float32Array;
    part.forEach(({ r, p }, i) => {
      const b = cropBox(rf, p.y, p.x, H!, W!);
      const map = new Float32Array(b.h * b.w).fill(Number.NaN);
      let m = 0;
      for (let yy = 0; yy < b.h; yy++) {
        const sy = b.top + yy;
        if (sy < 0 || sy >= H!) continue;
        for (let xx = 0; xx < b.w; xx++) {
          const sx = b.left + xx;
          if (sx < 0 || sx >= W!) continue;
          let v = 0;
          for (let c = 0; c < C!; c++) v += gd[i * per + c * H! * W! + sy * W! + sx]!;
          map[yy * b.w + xx] = v;
          m = Math.max(m, Math.abs(v));
        }
      }
      p.guided = map;
      p.guidedMax = m;
      p.guidedScale = rangeOf(map.filter((v) => !Number.isNaN(v)), defaultRange('guided-backprop', true)).max;
      void r;
    });
    o.onProgress?.({ done: Math.min(jobs.length, s + bs), total: jobs.length, phase: 'guided backprop' });
  }
  return result;
}

/**
 * Parses "0-15", "3,7,9", "all" (default: the first `max` channels of the layer, or all it has).
 * A backwards range is refused, as featviz's class ranges are: 15-0 read as nothing drew an empty
 * figure, and reading it as 0-15 would guess.
 */
export function parseChannels(spec: string | undefined, channels: number, max = channels): number[] {
  if (!spec || spec === 'all') return Array.from({ length: Math.min(channels, max) }, (_, i) => i);
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new ConvLensError('INVALID_ARGUMENT', `Cannot read channel list "${spec}".`, 'Use e.g. 0-15, 3,7,9 or all.');
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a) throw new ConvLensError('INVALID_ARGUMENT', `Channel range "${part.trim()}" runs backwards.`, `Write ranges low-high, e.g. ${b}-${a} (CLI: --channels).`);
    for (let c = a; c <= b; c++) {
      if (c >= channels) throw new ConvLensError('INVALID_ARGUMENT', `Channel ${c} does not exist: the layer has channels 0..${channels - 1}.`, `Pick channels from 0 to ${channels - 1} (CLI: --channels, e.g. 0-15).`);
      out.push(c);
    }
  }
  return [...new Set(out)];
}
