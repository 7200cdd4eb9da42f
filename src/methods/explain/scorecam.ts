// Score-CAM (Wang et al. 2020): each channel of a layer, upsampled and min-max normalized, masks
// the input; the target's score on the masked input weighs that channel. The masked inputs are
// assembled in place and batched; channels that are constant give an all-zero mask and are
// scored once per target instead of once each.
import { f32, nchw, resizeBilinear } from './arrays.js';
import { chosenLayer, layerActivations, weightedSum } from './cam.js';
import { forwardScores, scoreInputs, Work } from './session.js';
import type { MethodContext, MethodResult } from './types.js';

export async function scorecam(ctx: MethodContext): Promise<MethodResult> {
  const layer = await chosenLayer(ctx);
  const a = await layerActivations(ctx, layer.name);
  const [n, k, lh, lw] = nchw(a);
  const [, c, h, w] = nchw(ctx.x);
  const hw = h * w;
  const per = c * hw;
  const ad = a.data as Float32Array;
  const xd = ctx.x.data as Float32Array;

  // Normalization of each upsampled channel (torch UpsamplingBilinear2d: align_corners=True).
  const mins = new Float32Array(n * k);
  const spans = new Float32Array(n * k);
  const live: number[] = [];
  const plane = new Float32Array(hw);
  for (let p = 0; p < n * k; p++) {
    resizeBilinear(ad.subarray(p * lh * lw, (p + 1) * lh * lw), lh, lw, h, w, true, plane);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < hw; i++) {
      lo = Math.min(lo, plane[i]!);
      hi = Math.max(hi, plane[i]!);
    }
    mins[p] = lo;
    spans[p] = hi - lo;
    if (hi - lo > 0) live.push(p);
  }

  const work = new Work(ctx.job, 'scorecam', Math.ceil(live.length / ctx.batchSize) + 1);
  const scores = new Float64Array(n * k);
  // Constant channels: the mask is 0 everywhere, so the masked input is all zeros.
  const dead = Array.from({ length: n * k }, (_, p) => p).filter((p) => !(spans[p]! > 0));
  if (dead.length) {
    work.check();
    const targets = [...new Set(dead.map((p) => ctx.targets[Math.floor(p / k)]!))];
    const zeroScores = await forwardScores(ctx.model, f32([targets.length, c, h, w]), Int32Array.from(targets), ctx.score);
    const byTarget = new Map(targets.map((t, i) => [t, zeroScores[i]!]));
    for (const p of dead) scores[p] = byTarget.get(ctx.targets[Math.floor(p / k)]!)!;
  }
  work.step();
  const liveScores = await scoreInputs(
    ctx.model,
    live.length,
    ctx.batchSize,
    (i, into) => {
      const p = live[i]!;
      const img = Math.floor(p / k);
      resizeBilinear(ad.subarray(p * lh * lw, (p + 1) * lh * lw), lh, lw, h, w, true, plane);
      const lo = mins[p]!;
      const inv = 1 / (spans[p]! + 1e-8);
      for (let q = 0; q < hw; q++) plane[q] = (plane[q]! - lo) * inv;
      for (let ch = 0; ch < c; ch++) for (let q = 0; q < hw; q++) into[ch * hw + q] = xd[img * per + ch * hw + q]! * plane[q]!;
    },
    (i) => ctx.targets[Math.floor(live[i]! / k)]!,
    ctx.score,
    work,
  );
  live.forEach((p, i) => (scores[p] = liveScores[i]!));

  // Weights: with logits, a softmax over channels (pytorch-grad-cam); with probabilities, the
  // class probability of each masked input itself (the authors' code).
  const weights = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = scores.subarray(i * k, (i + 1) * k);
    if (ctx.score === 'logit') {
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += weights[i * k + j] = Math.exp(row[j]! - max);
      for (let j = 0; j < k; j++) weights[i * k + j]! /= sum;
    } else weights.set(row, i * k);
  }
  const raw = weightedSum(a, weights, true);
  const map = new Float32Array(n * hw);
  const rd = raw.data as Float32Array;
  for (let i = 0; i < n; i++) resizeBilinear(rd.subarray(i * lh * lw, (i + 1) * lh * lw), lh, lw, h, w, false, map, i * hw);
  return {
    raw,
    map,
    signed: false,
    layer,
    params: { layer: layer.name, channels: k, maskedInputs: live.length, weights: ctx.score === 'logit' ? 'softmax over channels of the target logit' : 'target probability', relu: true },
  };
}
