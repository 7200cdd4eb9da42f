// Occlusion sensitivity (Zeiler & Fergus 2014), as Captum's Occlusion: slide a window over all
// channels, fill it, and give every pixel the average score drop score(x) - score(occluded)
// over the windows that cover it. Occluded copies are assembled in place and batched.
import { ConvLensError } from '../../engine/errors.js';
import { blurBatch, f32, nchw } from './arrays.js';
import { incrementalPlan, incrementalScores, planSpeedup, type ScoredPlan, type WindowIndex } from './incremental.js';
import { forwardScores, scoreInputs, Work } from './session.js';
import type { MethodContext, MethodParams, MethodResult, OcclusionFill, OcclusionMode } from './types.js';

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
    if (!Number.isInteger(v) || v < 1 || v > max) throw new ConvLensError('INVALID_ARGUMENT', `Occlusion ${what} must be an integer from 1 to ${max}, got ${v}.`, `Use a ${what.startsWith('window') ? 'window' : 'stride'} from 1 to ${max} pixels (occlusion "${what.startsWith('window') ? 'window' : 'stride'}"; CLI: ${what.startsWith('window') ? '--window' : '--stride'}).`);
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

  const run = await occlusionDrops(ctx, o, ys, xs, [wh, ww], fillPlane);
  const drops = run.drops;

  const sum = new Float64Array(n * hw);
  const count = new Float64Array(hw);
  for (const y0 of ys) for (const x0 of xs) for (let y = y0; y < y0 + wh; y++) for (let x = x0; x < x0 + ww; x++) count[y * w + x]!++;
  for (let k = 0; k < n * windows; k++) {
    const img = Math.floor(k / windows);
    const win = k % windows;
    const y0 = ys[Math.floor(win / xs.length)]!;
    const x0 = xs[win % xs.length]!;
    const drop = drops[k]!;
    for (let y = y0; y < y0 + wh; y++) for (let x = x0; x < x0 + ww; x++) sum[img * hw + y * w + x]! += drop;
  }
  const map = new Float32Array(n * hw);
  for (let i = 0; i < map.length; i++) map[i] = sum[i]! / count[i % hw]!;
  const params: Record<string, unknown> = { window: [wh, ww], stride: [sh, sw], fill, windows, ...run.params };
  if (fill === 'blur') params['blurSigma'] = blurSigma;
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: true, params, notes: run.notes };
}

export const OCCLUSION_MODES: readonly OcclusionMode[] = ['incremental', 'brute-force', 'approximate'];

/** Approximate mode's defaults: the error they cost is measured in docs/occlusion.md. */
export const APPROXIMATE_DEFAULTS = { tau: 0.75, drillDown: 0.5 } as const;

/**
 * Incremental inference pays fixed costs per engine run (index maps, gathers); below this many
 * multiply-accumulates per window they outweigh what it saves (the built-in 28x28 CNN, 2.6M per
 * window, ran no faster), so the default mode runs brute force there.
 */
export const MIN_WINDOW_MACS = 10e6;
/** The default mode runs brute force when incremental inference would save less than this factor. */
const MIN_SPEEDUP = 1.3;

interface DropsRun {
  drops: Float64Array;
  params: Record<string, unknown>;
  notes: string[];
}

/**
 * Occlusion's mode and its approximate-mode settings checked alone, before any pass: the studio
 * checks a request with it before starting a job, so a contradictory one is a 400, not a failed job.
 */
export function checkOcclusionOptions(o: NonNullable<MethodParams['occlusion']>): void {
  if (o.mode !== undefined && !OCCLUSION_MODES.includes(o.mode)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown occlusion mode "${String(o.mode)}".`, `Use ${OCCLUSION_MODES.join(', ')}.`);
  }
  for (const [what, v] of [['tau', o.tau], ['drillDown', o.drillDown]] as const) {
    if (v === undefined) continue;
    if (o.mode !== 'approximate') throw new ConvLensError('INVALID_ARGUMENT', `Occlusion ${what} applies only to mode "approximate".`, 'Add mode: "approximate", or leave it out for the exact result.');
    if (!(typeof v === 'number' && v > 0 && v <= 1)) throw new ConvLensError('INVALID_ARGUMENT', `Occlusion ${what} must be a number in (0, 1], got ${String(v)}.`, `Use a ${what} above 0 and at most 1 (CLI: ${what === 'tau' ? '--tau' : '--drill-down'}).`);
  }
}

/** Every window's score drop, per image, by the requested (or best applicable) mode. */
async function occlusionDrops(ctx: MethodContext, o: NonNullable<MethodParams['occlusion']>, ys: readonly number[], xs: readonly number[], size: [number, number], fillPlane: Float32Array): Promise<DropsRun> {
  checkOcclusionOptions(o);
  const approximate = o.mode === 'approximate';
  if (o.mode === 'brute-force') return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: 'brute-force' }, notes: [] };
  const tau = approximate ? (o.tau ?? APPROXIMATE_DEFAULTS.tau) : 1;
  let scored: ScoredPlan;
  try {
    scored = occlusionPlan(ctx, ys, xs, size, tau);
  } catch (e) {
    if (o.mode !== undefined) throw e;
    return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: 'brute-force' }, notes: [`ran brute force: incremental inference cannot plan this model (${(e as Error).message})`] };
  }
  const speedup = planSpeedup(scored.plan);
  const estimate = Number(speedup.toFixed(2));
  const fallbacks = scored.plan.fullOps.filter((f) => f.reason).map((f) => `${f.node} (${f.op}): ${f.reason}`);
  const notes = fallbacks.length ? [`incremental inference ran these ops on full maps: ${fallbacks.join('; ')}`] : [];
  if (o.mode === undefined && (speedup < MIN_SPEEDUP || scored.plan.macs.bruteForce < MIN_WINDOW_MACS)) {
    const why = speedup < MIN_SPEEDUP ? `it would save little on this model (estimated ${estimate}x)` : 'the model is too small for it to pay off';
    return { drops: await bruteForceDrops(ctx, ys, xs, size, fillPlane), params: { mode: 'brute-force' }, notes: [...notes, `ran brute force: ${why}`] };
  }
  if (!approximate) return { drops: await incrementalDrops(ctx, scored, ys, xs, size, fillPlane), params: { mode: 'incremental', estimatedSpeedup: estimate }, notes };
  const drillDown = o.drillDown ?? APPROXIMATE_DEFAULTS.drillDown;
  const r = await approximateDrops(ctx, scored, ys, xs, size, fillPlane, drillDown);
  return { drops: r.drops, params: { mode: 'approximate', tau, drillDown, evaluatedWindows: r.evaluated, estimatedSpeedup: estimate }, notes };
}

/** Score drops of every window of every image, each occluded copy through the whole network (the reference). */
async function bruteForceDrops(ctx: MethodContext, ys: readonly number[], xs: readonly number[], [wh, ww]: [number, number], fillPlane: Float32Array): Promise<Float64Array> {
  const [n, c, h, w] = nchw(ctx.x);
  const positions: [number, number][] = [];
  for (const y0 of ys) for (const x0 of xs) positions.push([y0, x0]);
  const windows = positions.length;
  const per = c * h * w;
  const hw = h * w;
  const xd = ctx.x.data as Float32Array;
  const work = new Work(ctx.job, 'occlusion', Math.ceil((n * windows) / ctx.forwardBatchSize) + 1);
  work.check();
  const clean = await forwardScores(ctx.model, ctx.x, ctx.targets, ctx.score, ctx.forwardBatchSize);
  work.step();
  const scores = await scoreInputs(
    ctx.model,
    [c, h, w],
    n * windows,
    ctx.forwardBatchSize,
    (k, into) => {
      const img = Math.floor(k / windows);
      const [y0, x0] = positions[k % windows]!;
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
  for (let k = 0; k < n * windows; k++) scores[k] = clean[Math.floor(k / windows)]! - scores[k]!;
  return scores;
}

/** Score drops by incremental inference: per image, one pass over the image, then only what each window changes. */
async function incrementalDrops(ctx: MethodContext, scored: ScoredPlan, ys: readonly number[], xs: readonly number[], size: [number, number], fillPlane: Float32Array): Promise<Float64Array> {
  const n = ctx.x.dims[0]!;
  const windows = ys.length * xs.length;
  const all: WindowIndex[] = Array.from({ length: windows }, (_, k) => [Math.floor(k / xs.length), k % xs.length]);
  const work = new Work(ctx.job, 'occlusion', n * (Math.ceil(windows / ctx.forwardBatchSize) + 1));
  const drops = new Float64Array(n * windows);
  for (let img = 0; img < n; img++) {
    const r = await scoreWindows(ctx, scored, img, all, ys, xs, size, fillPlane, work);
    for (let k = 0; k < windows; k++) drops[img * windows + k] = r[k]!;
  }
  return drops;
}

/** The drops of some windows of one image. */
async function scoreWindows(ctx: MethodContext, scored: ScoredPlan, img: number, windows: readonly WindowIndex[], ys: readonly number[], xs: readonly number[], [wh, ww]: [number, number], fillPlane: Float32Array, work: Work): Promise<Float64Array> {
  const [, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const base = f32([1, c, h, w], (ctx.x.data as Float32Array).slice(img * per, (img + 1) * per));
  const r = await incrementalScores(ctx.model, scored, base, windows, (i, into) => windowContent(fillPlane, img * per, c, h, w, ys[windows[i]![0]]!, xs[windows[i]![1]]!, wh, ww, into), ctx.targets[img]!, ctx.forwardBatchSize, work);
  work.step();
  return r.scores.map((v) => r.clean - v);
}

/** Every other window offset along an axis, always with the last (flush) one. */
function coarseIndices(count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i += 2) out.push(i);
  if (out[out.length - 1] !== count - 1) out.push(count - 1);
  return out;
}

/**
 * Krypton's adaptive drill-down over a window grid: score every other window along each axis
 * first, then the fraction `drillDown` of the others whose coarse neighbours dropped most;
 * the rest get the bilinear interpolation of their coarse neighbours.
 */
async function approximateDrops(ctx: MethodContext, scored: ScoredPlan, ys: readonly number[], xs: readonly number[], size: [number, number], fillPlane: Float32Array, drillDown: number): Promise<{ drops: Float64Array; evaluated: number }> {
  const n = ctx.x.dims[0]!;
  const windows = ys.length * xs.length;
  const cy = coarseIndices(ys.length);
  const cx = coarseIndices(xs.length);
  const coarse: WindowIndex[] = cy.flatMap((iy) => cx.map((ix) => [iy, ix] as const));
  const refine = drillDown >= 1 || coarse.length === windows;
  const others = windows - coarse.length;
  const picked = refine ? others : Math.ceil(drillDown * others);
  const runs = refine ? Math.ceil(windows / ctx.forwardBatchSize) + 1 : Math.ceil(coarse.length / ctx.forwardBatchSize) + Math.ceil(picked / ctx.forwardBatchSize) + 2;
  const work = new Work(ctx.job, 'occlusion', n * runs);
  const drops = new Float64Array(n * windows);
  // Bracketing coarse indices and interpolation weight of every fine index along an axis.
  const bracket = (coarseIdx: number[], count: number): { a: Int32Array; b: Int32Array; t: Float64Array } => {
    const a = new Int32Array(count);
    const b = new Int32Array(count);
    const t = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < count; i++) {
      while (coarseIdx[j + 1] !== undefined && coarseIdx[j + 1]! <= i) j++;
      a[i] = coarseIdx[j]!;
      b[i] = coarseIdx[Math.min(j + 1, coarseIdx.length - 1)]!;
      t[i] = b[i] === a[i] ? 0 : (i - a[i]!) / (b[i]! - a[i]!);
    }
    return { a, b, t };
  };
  const by = bracket(cy, ys.length);
  const bx = bracket(cx, xs.length);
  for (let img = 0; img < n; img++) {
    const at = (iy: number, ix: number): number => img * windows + iy * xs.length + ix;
    const first = refine ? Array.from({ length: windows }, (_, k) => [Math.floor(k / xs.length), k % xs.length] as const) : coarse;
    const d1 = await scoreWindows(ctx, scored, img, first, ys, xs, size, fillPlane, work);
    first.forEach(([iy, ix], i) => (drops[at(iy, ix)] = d1[i]!));
    if (refine) continue;
    const isCoarseY = new Set(cy);
    const isCoarseX = new Set(cx);
    const candidates: { w: WindowIndex; priority: number }[] = [];
    for (let iy = 0; iy < ys.length; iy++) {
      for (let ix = 0; ix < xs.length; ix++) {
        if (isCoarseY.has(iy) && isCoarseX.has(ix)) continue;
        const [ya, yb, ty] = [by.a[iy]!, by.b[iy]!, by.t[iy]!];
        const [xa, xb, tx] = [bx.a[ix]!, bx.b[ix]!, bx.t[ix]!];
        const q = [drops[at(ya, xa)]!, drops[at(ya, xb)]!, drops[at(yb, xa)]!, drops[at(yb, xb)]!];
        drops[at(iy, ix)] = (1 - ty) * ((1 - tx) * q[0]! + tx * q[1]!) + ty * ((1 - tx) * q[2]! + tx * q[3]!);
        candidates.push({ w: [iy, ix], priority: Math.max(...q.map(Math.abs)) });
      }
    }
    candidates.sort((p, q) => q.priority - p.priority);
    const chosen = candidates.slice(0, picked).map((c) => c.w);
    const d2 = await scoreWindows(ctx, scored, img, chosen, ys, xs, size, fillPlane, work);
    chosen.forEach(([iy, ix], i) => (drops[at(iy, ix)] = d2[i]!));
  }
  return { drops, evaluated: refine ? windows : coarse.length + picked };
}

function occlusionPlan(ctx: MethodContext, ys: readonly number[], xs: readonly number[], [wh, ww]: [number, number], tau: number): ScoredPlan {
  const [, , h, w] = nchw(ctx.x);
  const key = `occlusion|${h}x${w}|${wh}x${ww}|${ys.join(',')}|${xs.join(',')}|tau=${tau}`;
  return incrementalPlan(ctx.model, key, ctx.score, { window: [wh, ww], offsets: [ys, xs], tau });
}

/** The fill values over one window of one image ([C, wh, ww] from the planes at `offset`). */
function windowContent(planes: Float32Array, offset: number, c: number, h: number, w: number, y0: number, x0: number, wh: number, ww: number, into: Float32Array): void {
  let o = 0;
  for (let ch = 0; ch < c; ch++) for (let y = y0; y < y0 + wh; y++) for (let x = x0; x < x0 + ww; x++) into[o++] = planes[offset + ch * h * w + y * w + x]!;
}
