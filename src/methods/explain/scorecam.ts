// Score-CAM (Wang et al. 2020): each channel of a layer, upsampled and min-max normalized, masks
// the input; the target's score on the masked input weighs that channel. The masked inputs are
// assembled in place and batched. Constant channels give an all-zero mask and channels with the
// same map give the same mask: each distinct mask is scored once. With logit scores only the
// target's logit is computed (scoring.ts); masks whose support is a small part of the image are
// scored by incremental inference from the all-zero image, which is what they leave outside it.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { BilinearResampler, f32, nchw, resizeBilinear } from './arrays.js';
import { camFromWeights, chosenLayer, eigenParam, layerActivationMaps } from './cam.js';
import { everyPositionPlan, incrementalPlan, incrementalScores, localWindowSide, planSpeedup, type WindowIndex } from './incremental.js';
import { runScoring, scoringGraph, scoringSession } from './scoring.js';
import { atLeast, forChunks, forwardScores, scoreInputs, Work } from './session.js';
import type { ScoreKind } from './target.js';
import type { MethodContext, MethodResult, ScoreCamMode } from './types.js';

export const SCORECAM_MODES: readonly ScoreCamMode[] = ['incremental', 'brute-force'];

/** A mask is local when its support fits in this fraction of the image side (along both axes). */
const LOCAL_FRACTION = 0.5;
/** A size group is scored incrementally only with at least this many masks (each plan costs a session compile)... */
const MIN_GROUP = 8;
/** ...and when its plan saves at least this factor. */
const MIN_SPEEDUP = 2;
/** Below this many multiply-accumulates per forward pass, incremental inference does not pay off (see occlusion.ts). */
const MIN_FORWARD_MACS = 10e6;

export async function scorecam(ctx: MethodContext): Promise<MethodResult> {
  const mode = ctx.options.scorecam?.mode ?? 'incremental';
  if (!SCORECAM_MODES.includes(mode)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown Score-CAM mode "${String(mode)}".`, `Use ${SCORECAM_MODES.join(' or ')}.`);
  const layer = await chosenLayer(ctx);
  const a = await layerActivationMaps(ctx, layer);
  const [n, k, lh, lw] = nchw(a);
  const [, , h, w] = nchw(ctx.x);
  const hw = h * w;
  const r = await scoreCamChannelScores(ctx, a, mode);

  // Weights: with logits, a softmax over channels (pytorch-grad-cam); with probabilities, the
  // class probability of each masked input itself (the authors' code).
  const scores = r.scores;
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
  const raw = camFromWeights(ctx, a, weights);
  const map = new Float32Array(n * hw);
  const rd = raw.data as Float32Array;
  for (let i = 0; i < n; i++) resizeBilinear(rd.subarray(i * lh * lw, (i + 1) * lh * lw), lh, lw, h, w, false, map, i * hw);
  return {
    raw,
    map,
    signed: false,
    layer,
    params: { layer: layer.name, channels: k, maskedInputs: r.maskedInputs, mode, ...r.params, weights: ctx.score === 'logit' ? 'softmax over channels of the target logit' : 'target probability', relu: true, ...eigenParam(ctx) },
  };
}

/** What scoring the channel masks needs from a method context. */
export type ScoreCamRun = Pick<MethodContext, 'model' | 'x' | 'targets' | 'score' | 'forwardBatchSize' | 'job'>;

/** The target's score on every channel's masked input, by either mode (a: the layer's activations [N, K, h, w]). */
export function scoreCamChannelScores(run: ScoreCamRun, a: Tensor, mode: ScoreCamMode): Promise<ChannelScores> {
  return mode === 'brute-force' ? bruteForceScores(run, a) : fastScores(run, a);
}

export interface ChannelScores {
  /** the target's score on each channel's masked input [N * K] */
  scores: Float64Array;
  /** masked inputs run through the network (distinct live masks) */
  maskedInputs: number;
  params: Record<string, unknown>;
}

/** The layer's and the input's sizes and data, as both modes read them. */
function shapes(ctx: ScoreCamRun, a: Tensor) {
  const [n, k, lh, lw] = nchw(a);
  const [, c, h, w] = nchw(ctx.x);
  return { n, k, lh, lw, c, h, w, hw: h * w, per: c * h * w, ad: a.data as Float32Array, xd: ctx.x.data as Float32Array };
}

/**
 * Minimum and range of a channel upsampled to the input (torch UpsamplingBilinear2d:
 * align_corners=True), the mask's normalization; `up` holds the channel. The range is rounded
 * to float32, as the first implementation stored it, so every mode builds bit-identical masks.
 */
function planeRange(up: BilinearResampler, row: Float32Array): { lo: number; span: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < up.H; y++) {
    up.rowInto(y, row, 0);
    for (let x = 0; x < up.W; x++) {
      lo = Math.min(lo, row[x]!);
      hi = Math.max(hi, row[x]!);
    }
  }
  return { lo, span: Math.fround(hi - lo) };
}

/** The reference: every live channel's masked input through the whole network. */
async function bruteForceScores(ctx: ScoreCamRun, a: Tensor): Promise<ChannelScores> {
  const { n, k, lh, lw, c, h, w, hw, per, ad, xd } = shapes(ctx, a);
  const mins = new Float32Array(n * k);
  const spans = new Float32Array(n * k);
  const live: number[] = [];
  const plane = new Float32Array(hw);
  const up = new BilinearResampler(lh, lw, h, w, true);
  for (let p = 0; p < n * k; p++) {
    const s = planeRange(up.load(ad.subarray(p * lh * lw, (p + 1) * lh * lw)), plane);
    mins[p] = s.lo;
    spans[p] = s.span;
    if (s.span > 0) live.push(p);
  }

  const work = new Work(ctx.job, 'scorecam', Math.ceil(live.length / ctx.forwardBatchSize) + 1);
  const scores = new Float64Array(n * k);
  // Constant channels: the mask is 0 everywhere, so the masked input is all zeros.
  const dead = Array.from({ length: n * k }, (_, p) => p).filter((p) => !(spans[p]! > 0));
  if (dead.length) {
    work.check();
    const targets = [...new Set(dead.map((p) => ctx.targets[Math.floor(p / k)]!))];
    const zeroScores = await forwardScores(ctx.model, f32([targets.length, c, h, w]), Int32Array.from(targets), ctx.score, ctx.forwardBatchSize);
    const byTarget = new Map(targets.map((t, i) => [t, zeroScores[i]!]));
    for (const p of dead) scores[p] = byTarget.get(ctx.targets[Math.floor(p / k)]!)!;
  }
  work.step();
  const liveScores = await scoreInputs(
    ctx.model,
    [c, h, w],
    live.length,
    ctx.forwardBatchSize,
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
  return { scores, maskedInputs: live.length, params: {} };
}

/** A live channel's mask: normalization and the box [y0, x0, y1, x1] (inclusive) outside which it is 0. */
interface Mask {
  channel: number;
  lo: number;
  inv: number;
  box: [number, number, number, number];
}

/**
 * Per image: dead channels share the all-zero input's score, identical maps share one mask,
 * local masks go through incremental plans per support size, the rest through the (target-only)
 * network in batches.
 */
async function fastScores(ctx: ScoreCamRun, a: Tensor): Promise<ChannelScores> {
  const { n, k, lh, lw, c, h, w, hw, per, ad, xd } = shapes(ctx, a);
  const scoring = scoringGraph(ctx.model, ctx.score);
  const up = new BilinearResampler(lh, lw, h, w, true);
  const row = new Float32Array(w);
  const scores = new Float64Array(n * k);
  const load = (img: number, j: number): void => void up.load(ad.subarray((img * k + j) * lh * lw, (img * k + j + 1) * lh * lw));

  // Classify every channel first, so that progress knows the number of runs.
  const perImage = Array.from({ length: n }, (_, img) => {
    const alias = new Map<number, number>(); // channel -> the channel with the same map
    const firstOfMap = new Map<string, number>();
    const dead: number[] = [];
    const masks: Mask[] = [];
    for (let j = 0; j < k; j++) {
      const p = img * k + j;
      const src = ad.subarray(p * lh * lw, (p + 1) * lh * lw);
      const key = mapKey(src);
      const twin = firstOfMap.get(key);
      if (twin !== undefined) {
        alias.set(j, twin);
        continue;
      }
      firstOfMap.set(key, j);
      load(img, j);
      const { lo, span } = planeRange(up, row);
      if (!(span > 0)) {
        dead.push(j);
        continue;
      }
      masks.push({ channel: j, lo, inv: 1 / (span + 1e-8), box: supportBox(up, h, w, lo) });
    }
    return { alias, dead, masks };
  });

  const plans = new Map<string, ReturnType<typeof incrementalPlan>>();
  const groupsOf = (masks: Mask[]): { local: Map<string, Mask[]>; rest: Mask[] } => {
    const local = new Map<string, Mask[]>();
    const rest: Mask[] = [];
    for (const m of masks) {
      const sh = localWindowSide(m.box[2] - m.box[0] + 1, h);
      const sw = localWindowSide(m.box[3] - m.box[1] + 1, w);
      if (sh > LOCAL_FRACTION * h || sw > LOCAL_FRACTION * w) rest.push(m);
      else {
        const key = `${sh}x${sw}`;
        const g = local.get(key);
        if (g) g.push(m);
        else local.set(key, [m]);
      }
    }
    for (const [key, g] of [...local]) {
      const [sh, sw] = key.split('x').map(Number) as [number, number];
      if (g.length < MIN_GROUP || !localPlanWorthIt(ctx.model, ctx.score, sh, sw, h, w, plans)) {
        rest.push(...g);
        local.delete(key);
      }
    }
    return { local, rest };
  };
  const grouped = perImage.map((im) => groupsOf(im.masks));
  let runs = 0;
  for (const g of grouped) {
    runs += Math.ceil(g.rest.length / ctx.forwardBatchSize) + 1;
    for (const l of g.local.values()) runs += Math.ceil(l.length / ctx.forwardBatchSize) + 1;
  }
  const work = new Work(ctx.job, 'scorecam', runs);
  const session = await scoringSession(ctx.model, scoring);
  let incremental = 0;
  let batch: Float32Array | undefined;

  for (let img = 0; img < n; img++) {
    const target = ctx.targets[img]!;
    const { alias, dead } = perImage[img]!;
    const { local, rest } = grouped[img]!;
    /** x times the mask over `box` (default: the whole image), as [C, box height, box width]. */
    const fillMasked = (m: Mask, into: Float32Array, box: [number, number, number, number] = [0, 0, h - 1, w - 1]): void => {
      load(img, m.channel);
      const [y0, x0, y1, x1] = box;
      const bw = x1 - x0 + 1;
      const plane = (y1 - y0 + 1) * bw;
      for (let y = y0; y <= y1; y++) {
        up.rowInto(y, row, 0);
        for (let x = x0; x <= x1; x++) {
          const mask = Math.fround((row[x]! - m.lo) * m.inv);
          const src = img * per + y * w + x;
          const dst = (y - y0) * bw + (x - x0);
          for (let ch = 0; ch < c; ch++) into[ch * plane + dst] = xd[src + ch * hw]! * mask;
        }
      }
    };

    // The all-zero input: the score of dead channels, and the base of local masks.
    work.check();
    const zero = f32([1, c, h, w]);
    const zeroScore = (await runScoring(session, scoring, ctx.model, zero, target))[0]!;
    work.step();
    for (const j of dead) scores[img * k + j] = zeroScore;

    for (const [key, group] of local) {
      const [sh, sw] = key.split('x').map(Number) as [number, number];
      const scored = plans.get(key)!;
      const windows: WindowIndex[] = group.map((m) => [Math.min(m.box[0], h - sh), Math.min(m.box[1], w - sw)]);
      const r = await incrementalScores(
        ctx.model,
        scored,
        zero,
        windows,
        (i, into) => {
          const [y0, x0] = windows[i]!;
          fillMasked(group[i]!, into, [y0, x0, y0 + sh - 1, x0 + sw - 1]);
        },
        target,
        ctx.forwardBatchSize,
        work,
      );
      work.step();
      group.forEach((m, i) => (scores[img * k + m.channel] = r.scores[i]!));
      incremental += group.length;
    }

    await forChunks(rest.length, ctx.forwardBatchSize, work, async (s, e) => {
      // one array for every batch (see scoreInputs)
      batch = atLeast(batch, (e - s) * per);
      const data = batch.subarray(0, (e - s) * per);
      for (let i = s; i < e; i++) fillMasked(rest[i]!, data.subarray((i - s) * per, (i - s + 1) * per));
      const out = await runScoring(session, scoring, ctx.model, f32([e - s, c, h, w], data), target);
      for (let i = s; i < e; i++) scores[img * k + rest[i]!.channel] = out[i - s]!;
    });
    for (const [j, twin] of alias) scores[img * k + j] = scores[img * k + twin]!;
  }
  const maskedInputs = perImage.reduce((s, im) => s + im.masks.length, 0);
  const duplicates = perImage.reduce((s, im) => s + im.alias.size, 0);
  return { scores, maskedInputs, params: { incrementalMasks: incremental, duplicateChannels: duplicates, targetOnly: scoring.target !== undefined } };
}

/** Whether a local-mask plan of this size pays off on the model (plans are kept in `plans`). */
function localPlanWorthIt(model: Model, score: ScoreKind, sh: number, sw: number, h: number, w: number, plans: Map<string, ReturnType<typeof incrementalPlan>>): boolean {
  const key = `${sh}x${sw}`;
  let scored: ReturnType<typeof incrementalPlan>;
  try {
    scored = everyPositionPlan(model, score, [h, w], [sh, sw]);
  } catch {
    return false; // a model the planner cannot follow: its masks go through the whole network
  }
  if (scored.plan.macs.bruteForce < MIN_FORWARD_MACS || planSpeedup(scored.plan) < MIN_SPEEDUP) return false;
  plans.set(key, scored);
  return true;
}

/** Exact content key of a channel's map (equal maps give equal masks). */
function mapKey(src: Float32Array): string {
  const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

/**
 * The box [y0, x0, y1, x1] (inclusive) outside which the plane equals its minimum (the mask is 0
 * there). Scans inwards from each edge, so a mask that covers the image costs a few rows.
 */
function supportBox(up: BilinearResampler, h: number, w: number, lo: number): [number, number, number, number] {
  const rowLive = (y: number, x0: number, x1: number): boolean => {
    for (let x = x0; x <= x1; x++) if (up.at(y, x) !== lo) return true;
    return false;
  };
  const colLive = (x: number, y0: number, y1: number): boolean => {
    for (let y = y0; y <= y1; y++) if (up.at(y, x) !== lo) return true;
    return false;
  };
  let y0 = 0;
  while (y0 < h && !rowLive(y0, 0, w - 1)) y0++;
  if (y0 === h) return [h, w, -1, -1];
  let y1 = h - 1;
  while (!rowLive(y1, 0, w - 1)) y1--;
  let x0 = 0;
  while (!colLive(x0, y0, y1)) x0++;
  let x1 = w - 1;
  while (!colLive(x1, y0, y1)) x1--;
  return [y0, x0, y1, x1];
}
