// Occlusion sensitivity (Zeiler & Fergus 2014), as Captum's Occlusion: slide a window over all
// channels, fill it, and give every pixel the average score drop score(x) - score(occluded)
// over the windows that cover it. Occluded copies are assembled in place and batched.
import { ConvLensError } from '../../engine/errors.js';
import { blurBatch, f32, nchw } from './arrays.js';
import { forwardScores, scoreInputs, Work } from './session.js';
import type { MethodContext, MethodResult, OcclusionFill } from './types.js';

/** Window offsets along one axis: every `stride`, plus one flush with the far edge so every pixel is covered. */
export function windowOffsets(size: number, window: number, stride: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + window <= size; o += stride) out.push(o);
  if (out.length === 0 || out[out.length - 1]! + window < size) out.push(size - window);
  return out;
}

const pair = (v: number | [number, number]): [number, number] => (Array.isArray(v) ? v : [v, v]);

export async function occlusion(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.occlusion ?? {};
  const [n, c, h, w] = nchw(ctx.x);
  const [wh, ww] = pair(o.window ?? Math.max(2, Math.round(Math.min(h, w) / 7)));
  const [sh, sw] = pair(o.stride ?? [Math.ceil(wh / 2), Math.ceil(ww / 2)]);
  const fill: OcclusionFill = o.fill ?? 'zero';
  for (const [what, v, max] of [['window height', wh, h], ['window width', ww, w], ['stride', sh, h], ['stride', sw, w]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) throw new ConvLensError('INVALID_ARGUMENT', `Occlusion ${what} must be an integer from 1 to ${max}, got ${v}.`);
  }
  if ((sh > wh && wh < h) || (sw > ww && ww < w)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Occlusion stride ${sh}x${sw} is larger than the window ${wh}x${ww}: some pixels would never be occluded.`, 'Use a stride no larger than the window (as Captum requires).');
  }
  if (!['zero', 'mean', 'blur'].includes(fill)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown occlusion fill "${fill}".`, 'Use zero, mean or blur.');
  const blurSigma = o.blurSigma ?? Math.max(wh, ww) / 2;
  const ys = windowOffsets(h, wh, sh);
  const xs = windowOffsets(w, ww, sw);
  const windows = ys.length * xs.length;
  const per = c * h * w;
  const hw = h * w;
  const xd = ctx.x.data as Float32Array;

  // What a window is filled with, per image and channel (a full plane for blur).
  let fillPlane: Float32Array;
  if (fill === 'blur') fillPlane = blurBatch(ctx.x, blurSigma).data as Float32Array;
  else {
    fillPlane = new Float32Array(n * per);
    if (fill === 'mean') {
      for (let p = 0; p < n * c; p++) {
        let s = 0;
        for (let i = 0; i < hw; i++) s += xd[p * hw + i]!;
        fillPlane.fill(s / hw, p * hw, (p + 1) * hw);
      }
    }
  }

  const work = new Work(ctx.job, 'occlusion', Math.ceil((n * windows) / ctx.batchSize) + 1);
  work.check();
  const clean = await forwardScores(ctx.model, ctx.x, ctx.targets, ctx.score);
  work.step();
  const scores = await scoreInputs(
    ctx.model,
    n * windows,
    ctx.batchSize,
    (k, into) => {
      const img = Math.floor(k / windows);
      const win = k % windows;
      const y0 = ys[Math.floor(win / xs.length)]!;
      const x0 = xs[win % xs.length]!;
      into.set(xd.subarray(img * per, (img + 1) * per));
      for (let ch = 0; ch < c; ch++) {
        const base = ch * hw;
        const src = img * per + base;
        for (let y = y0; y < y0 + wh; y++) into.set(fillPlane.subarray(src + y * w + x0, src + y * w + x0 + ww), base + y * w + x0);
      }
    },
    (k) => ctx.targets[Math.floor(k / windows)]!,
    ctx.score,
    work,
  );

  const sum = new Float64Array(n * hw);
  const count = new Float64Array(hw);
  for (const y0 of ys) for (const x0 of xs) for (let y = y0; y < y0 + wh; y++) for (let x = x0; x < x0 + ww; x++) count[y * w + x]!++;
  for (let k = 0; k < n * windows; k++) {
    const img = Math.floor(k / windows);
    const win = k % windows;
    const y0 = ys[Math.floor(win / xs.length)]!;
    const x0 = xs[win % xs.length]!;
    const drop = clean[img]! - scores[k]!;
    for (let y = y0; y < y0 + wh; y++) for (let x = x0; x < x0 + ww; x++) sum[img * hw + y * w + x]! += drop;
  }
  const map = new Float32Array(n * hw);
  for (let i = 0; i < map.length; i++) map[i] = sum[i]! / count[i % hw]!;
  const params: Record<string, unknown> = { window: [wh, ww], stride: [sh, sw], fill, windows };
  if (fill === 'blur') params['blurSigma'] = blurSigma;
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: true, params };
}
