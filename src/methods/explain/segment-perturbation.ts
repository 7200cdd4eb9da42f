// The perturbation methods over a feature mask, as Captum has them: each image is cut into
// segments (segments.ts), coalitions of segments are kept while the others show a baseline, and
// the target's score on each coalition is explained per segment:
//   feature-ablation: score(x) - score(x with one segment replaced) (Captum FeatureAblation);
//   kernel-shap: Shapley values by Lundberg & Lee's weighted regression over coalitions drawn
//     from the Shapley kernel, with efficiency as an exact constraint;
//   lime: a linear surrogate fitted to random coalitions weighted by an exponential kernel on
//     their cosine distance to the image (Captum Lime's sampling and kernel).
// Coalitions become model inputs in one reused buffer and are scored at the engine's forward
// batch size by the target-logit-only head where the model allows (scoring.ts).
import { ConvLensError, describeValue } from '../../engine/errors.js';
import { tensorToRaw } from '../../io/pixels.js';
import { f32, nchw, seedOf, uniformSource } from './arrays.js';
import { resolveBaseline } from './integrated-gradients.js';
import { runScoring, scoringGraph, scoringSession } from './scoring.js';
import { maskSegmentations, resolveSegmentation, segmentImage, type Segmentation } from './segments.js';
import { everyPositionPlan, incrementalScores, localWindowSide, type ScoredPlan } from './incremental.js';
import { MIN_WINDOW_MACS } from './occlusion.js';
import { atLeast, forChunks, Work } from './session.js';
import type { AblationMode, Completeness, LimeRegression, MethodContext, MethodParams, MethodResult, SegmentBaseline } from './types.js';

export const SEGMENT_SAMPLE_DEFAULTS = { samples: 256, kernelWidth: 1, regression: 'ridge', alpha: 1, lassoAlpha: 0.01 } as const;
/** Coalitions per image at most: the regression keeps samples x segments bits and samples x segments^2 work. */
export const MAX_SEGMENT_SAMPLES = 10_000;
/**
 * Each image draws its coalitions from its own stretch of the seeded stream, this many draws
 * long (at most 10,000 samples x 513 draws fit), so an image's map does not depend on which
 * chunk of a run it was explained in.
 */
const DRAWS_PER_IMAGE = 2 ** 24;
const BASELINES = ['zero', 'black', 'mean', 'blurred'] as const;
export const LIME_REGRESSIONS: readonly LimeRegression[] = ['ridge', 'lasso', 'linear'];

/** Each penalized fit's default penalty: the lime package's Ridge(alpha=1), Captum's SkLearnLasso(alpha=0.01). */
function limeAlpha(regression: LimeRegression): number {
  return regression === 'lasso' ? SEGMENT_SAMPLE_DEFAULTS.lassoAlpha : SEGMENT_SAMPLE_DEFAULTS.alpha;
}

type SegmentOptions = NonNullable<MethodParams['segments']>;
type SegmentMethod = 'feature-ablation' | 'kernel-shap' | 'lime';

/** What every segment method shares: the checked options, each image's segments, and the baseline. */
interface SegmentSetup {
  segmentations: Segmentation[];
  /** [N, C, H, W] in model input space */
  baseline: Float32Array;
  params: Record<string, unknown>;
  samples: number;
  seed: number;
}

function setup(ctx: MethodContext, method: SegmentMethod): SegmentSetup {
  const o: SegmentOptions = ctx.options.segments ?? {};
  const [n, c, h, w] = nchw(ctx.x);
  if (o.mask !== undefined) {
    const given = (['segmentation', 'count', 'compactness'] as const).filter((k) => o[k] !== undefined);
    if (given.length) throw new ConvLensError('INVALID_ARGUMENT', `Segment ${given.join(', ')} ${given.length > 1 ? 'apply' : 'applies'} only to computed segments; a feature mask gives the segments itself.`, 'Leave them out with a mask, or leave out the mask to compute segments (CLI: --segments-mask replaces --segmentation, --segments and --compactness).');
  }
  const seg = o.mask !== undefined ? undefined : resolveSegmentation({ ...(o.segmentation !== undefined ? { kind: o.segmentation } : {}), ...(o.count !== undefined ? { segments: o.count } : {}), ...(o.compactness !== undefined ? { compactness: o.compactness } : {}) }, h, w);
  const samples = o.samples ?? SEGMENT_SAMPLE_DEFAULTS.samples;
  if (method !== 'feature-ablation' && !(Number.isInteger(samples) && samples >= 1 && samples <= MAX_SEGMENT_SAMPLES)) {
    throw new ConvLensError('INVALID_ARGUMENT', `${method} samples must be an integer from 1 to ${MAX_SEGMENT_SAMPLES}, got ${describeValue(samples)}.`, `Use 1 to ${MAX_SEGMENT_SAMPLES} coalitions per image (CLI: --samples); each costs a forward pass.`);
  }
  const seed = seedOf(o.seed, `The ${method} seed`);
  const spec = o.baseline ?? 'zero';
  let baseline: Float32Array;
  const blurSigma = o.blurSigma ?? Math.max(h, w) / 10;
  if (spec === 'mean') {
    baseline = new Float32Array(n * c * h * w);
    const xd = ctx.x.data as Float32Array;
    for (let p = 0; p < n * c; p++) {
      let s = 0;
      for (let i = 0; i < h * w; i++) s += xd[p * h * w + i]!;
      baseline.fill(s / (h * w), p * h * w, (p + 1) * h * w);
    }
  } else if (typeof spec === 'string' && !(BASELINES as readonly string[]).includes(spec)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown baseline "${spec}" for ${method}.`, `Use ${BASELINES.join(', ')}, or a tensor in model input space (CLI: --baseline, or a .npy file).`);
  } else {
    if (spec === 'blurred' && !(typeof blurSigma === 'number' && blurSigma > 0 && Number.isFinite(blurSigma))) {
      throw new ConvLensError('INVALID_ARGUMENT', `The blurred baseline's sigma must be a positive number, got ${describeValue(blurSigma)}.`, 'Give a sigma in pixels, or leave it out for a tenth of the image side.');
    }
    baseline = resolveBaseline(ctx.model, ctx.x, spec as Exclude<SegmentBaseline, 'mean'>, blurSigma).data as Float32Array;
  }
  if (method === 'lime') {
    const width = o.kernelWidth ?? SEGMENT_SAMPLE_DEFAULTS.kernelWidth;
    if (!(typeof width === 'number' && Number.isFinite(width) && width > 0)) throw new ConvLensError('INVALID_ARGUMENT', `LIME kernel width must be a positive number, got ${describeValue(width)}.`, 'Use about 1 (Captum\'s default) on cosine distances, which lie in [0, 2] (CLI: --lime-kernel-width).');
    const regression = o.regression ?? SEGMENT_SAMPLE_DEFAULTS.regression;
    if (!LIME_REGRESSIONS.includes(regression)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown LIME regression "${String(regression)}".`, `Use ${LIME_REGRESSIONS.join(', ')} (CLI: --lime-regression).`);
    const alpha = o.alpha ?? limeAlpha(regression);
    if (!(typeof alpha === 'number' && Number.isFinite(alpha) && alpha >= 0)) throw new ConvLensError('INVALID_ARGUMENT', `LIME ${regression} alpha must be a non-negative number, got ${describeValue(alpha)}.`, 'Use 1 for ridge (the lime package\'s Ridge) or 0.01 for lasso (Captum\'s Lime), or leave it out; regression "linear" fits without a penalty (CLI: --lime-alpha).');
    if (o.alpha !== undefined && regression === 'linear') throw new ConvLensError('INVALID_ARGUMENT', 'LIME alpha applies only to regressions "ridge" and "lasso".', 'Leave alpha out, or use regression "ridge" or "lasso" (CLI: --lime-regression).');
  }

  // Segmenting is cheap next to the forward passes: every image is segmented, and the bounds
  // that depend on the segment counts checked, before the first pass.
  const prep = ctx.model.meta.preprocessing;
  const segmentations = seg ? Array.from({ length: n }, (_, i) => segmentImage(tensorToRaw(ctx.x, prep, i), seg)) : maskSegmentations(o.mask!, n, h, w);
  if (method !== 'feature-ablation') {
    const most = Math.max(...segmentations.map((s) => s.count));
    // KernelSHAP enumerates every coalition when they are fewer than the samples, so only its
    // sampled regressions need more equations than unknowns; LIME's ridge is defined at any count.
    const needs = method === 'kernel-shap' ? 2 ** most - 2 > samples && samples < most : (ctx.options.segments?.regression ?? SEGMENT_SAMPLE_DEFAULTS.regression) === 'linear' && samples < most + 1;
    if (needs) {
      throw new ConvLensError('INVALID_ARGUMENT', `${method} with ${samples} samples cannot fit ${most} segments (image ${segmentations.findIndex((s) => s.count === most) + 1}): the regression needs at least ${method === 'lime' ? most + 1 : most} coalitions.`, `Give at least ${method === 'lime' ? most + 1 : most} samples (4 to 5 times the segments for a stable map), or ask for fewer segments (CLI: --samples, --segments).`);
    }
  }
  const params: Record<string, unknown> = {
    ...(seg ? { segmentation: seg.kind, segmentsAsked: seg.segments, ...(seg.kind === 'slic' ? { compactness: seg.compactness } : {}) } : { segmentation: 'mask' }),
    segments: segmentations.map((s) => s.count),
    baseline: typeof spec === 'string' ? spec : `tensor [${spec.dims.join(', ')}]`,
    ...(spec === 'blurred' ? { blurSigma } : {}),
  };
  return { segmentations, baseline, params, samples, seed };
}

/** Scores coalitions of one image: row k keeps the segments `kept(k)` says, the rest show the baseline. */
class CoalitionScorer {
  private buffer?: Float32Array;
  constructor(
    private readonly ctx: MethodContext,
    private readonly baseline: Float32Array,
    private readonly work: Work,
  ) {}

  async score(img: number, seg: Segmentation, rows: number, kept: (row: number) => Uint8Array): Promise<Float64Array> {
    const { ctx } = this;
    const [, c, h, w] = nchw(ctx.x);
    const hw = h * w;
    const per = c * hw;
    const xd = (ctx.x.data as Float32Array).subarray(img * per, (img + 1) * per);
    const bd = this.baseline.subarray(img * per, (img + 1) * per);
    const scoring = scoringGraph(ctx.model, ctx.score);
    const session = await scoringSession(ctx.model, scoring);
    const out = new Float64Array(rows);
    const labels = seg.labels;
    await forChunks(rows, ctx.forwardBatchSize, this.work, async (s, e) => {
      this.buffer = atLeast(this.buffer, (e - s) * per);
      const data = this.buffer.subarray(0, (e - s) * per);
      for (let r = s; r < e; r++) {
        const on = kept(r);
        const into = data.subarray((r - s) * per, (r - s + 1) * per);
        for (let ch = 0; ch < c; ch++) {
          const o = ch * hw;
          for (let p = 0; p < hw; p++) into[o + p] = on[labels[p]!] ? xd[o + p]! : bd[o + p]!;
        }
        await this.work.pause();
      }
      out.set(await runScoring(session, scoring, ctx.model, f32([e - s, c, h, w], data), ctx.targets[img]!), s);
    });
    return out;
  }
}

/** Each pixel gets its segment's value: [N * H * W]. */
function perPixel(segmentations: readonly Segmentation[], values: readonly Float64Array[]): Float32Array {
  const hw = segmentations[0]!.labels.length;
  const map = new Float32Array(segmentations.length * hw);
  segmentations.forEach((s, i) => {
    for (let p = 0; p < hw; p++) map[i * hw + p] = values[i]![s.labels[p]!]!;
  });
  return map;
}

function result(ctx: MethodContext, s: SegmentSetup, values: Float64Array[], params: Record<string, unknown>, completeness?: Completeness[]): MethodResult {
  const [n, , h, w] = nchw(ctx.x);
  const map = perPixel(s.segmentations, values);
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: true, params: { ...s.params, ...params }, ...(completeness ? { completeness } : {}) };
}

function ones(m: number): Uint8Array {
  return new Uint8Array(m).fill(1);
}

export const ABLATION_MODES: readonly AblationMode[] = ['incremental', 'brute-force'];

export async function featureAblation(ctx: MethodContext): Promise<MethodResult> {
  const s = setup(ctx, 'feature-ablation');
  const mode = ctx.options.segments?.mode;
  if (mode !== undefined && !ABLATION_MODES.includes(mode)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown feature-ablation mode "${String(mode)}".`, `Use ${ABLATION_MODES.join(' or ')} (CLI: --ablation-mode).`);
  const [n, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const batch = ctx.forwardBatchSize;
  // Windows are chosen (and planned) for every image before the first pass, so progress knows the runs.
  const runs = s.segmentations.map((seg) => ablationRun(ctx, seg, mode));
  const work = new Work(
    ctx.job,
    'feature-ablation',
    runs.reduce((t, r, img) => t + (r.window ? 1 + Math.ceil(r.window.local.length / batch) + Math.ceil((s.segmentations[img]!.count - r.window.local.length) / batch) : Math.ceil((s.segmentations[img]!.count + 1) / batch)), 0),
  );
  const scorer = new CoalitionScorer(ctx, s.baseline, work);
  const values: Float64Array[] = [];
  const xd = ctx.x.data as Float32Array;
  for (let img = 0; img < n; img++) {
    const seg = s.segmentations[img]!;
    const m = seg.count;
    const chosen = runs[img]!.window;
    const drops = new Float64Array(m);
    const without = new Uint8Array(m);
    const ablating = (j: number): Uint8Array => {
      without.fill(1);
      without[j] = 0;
      return without;
    };
    if (!chosen) {
      // row 0: the image; row j + 1: segment j replaced
      const scores = await scorer.score(img, seg, m + 1, (r) => (r === 0 ? ones(m) : ablating(r - 1)));
      for (let j = 0; j < m; j++) drops[j] = scores[0]! - scores[j + 1]!;
      values.push(drops);
      continue;
    }
    const { scored, local, starts } = chosen;
    const [sh, sw] = chosen.size;
    const xi = xd.subarray(img * per, (img + 1) * per);
    const bi = s.baseline.subarray(img * per, (img + 1) * per);
    const labels = seg.labels;
    const hw = h * w;
    const r = await incrementalScores(
      ctx.model,
      scored,
      f32([1, c, h, w], xi.slice()),
      starts,
      (i, into) => {
        // The box keeps the image except on the segment's own pixels: the window is the ablated image there.
        const j = local[i]!;
        const [y0, x0] = starts[i]!;
        let o = 0;
        for (let ch = 0; ch < c; ch++) {
          for (let y = y0; y < y0 + sh; y++) {
            for (let x = x0; x < x0 + sw; x++) {
              const p = y * w + x;
              into[o++] = labels[p] === j ? bi[ch * hw + p]! : xi[ch * hw + p]!;
            }
          }
        }
      },
      ctx.targets[img]!,
      batch,
      work,
    );
    work.step(); // the pass over the image
    local.forEach((j, i) => (drops[j] = r.clean - r.scores[i]!));
    const isLocal = new Uint8Array(m);
    for (const j of local) isLocal[j] = 1;
    const rest = Array.from({ length: m }, (_, j) => j).filter((j) => !isLocal[j]);
    if (rest.length) {
      const scores = await scorer.score(img, seg, rest.length, (k) => ablating(rest[k]!));
      rest.forEach((j, k) => (drops[j] = r.clean - scores[k]!));
    }
    values.push(drops);
  }
  const modes = runs.map((r) => (r.window ? 'incremental' : 'brute-force'));
  const incremental = runs.some((r) => r.window);
  const notes = [...new Set(runs.flatMap((r) => r.notes))];
  const params: Record<string, unknown> = {
    mode: modes.every((v) => v === modes[0]) ? modes[0] : modes,
    forwardPasses: s.segmentations.map((seg) => seg.count + 1),
    ...(incremental
      ? {
          estimatedSpeedup: runs.map((r) => (r.window ? Number(r.window.speedup.toFixed(2)) : 1)),
          incrementalSegments: runs.map((r) => r.window?.local.length ?? 0),
          ablationWindow: runs.map((r) => (r.window ? r.window.size : null)),
        }
      : {}),
  };
  return { ...result(ctx, s, values, params), notes };
}

/**
 * The default mode runs brute force below this estimated saving (occlusion's 1.3 is too low here):
 * SLIC's segments need windows of 56-84 px at 224, whose patches cover much of the later maps, and
 * there the gathers and the cache pass eat the saving. Measured at the defaults (docs/occlusion.md):
 * estimated 1.5-1.65x ran 0.75-1.2x (SqueezeNet, ResNet-18-shaped, two threads), grid cells
 * (estimated 2.1x on SqueezeNet) 1.45-1.9x.
 */
const MIN_ABLATION_SPEEDUP = 2;

/** One image's segments scored incrementally: those whose bounding box fits one window size. */
interface AblationWindow {
  scored: ScoredPlan;
  /** the window's height and width in pixels */
  size: [number, number];
  /** the segments scored incrementally, and where each one's window starts (row, column) */
  local: number[];
  starts: [number, number][];
  /** multiply-accumulates of brute force (segments + 1 passes) over those of this run */
  speedup: number;
}

/**
 * How one image's ablations run. Ablating a segment changes only the pixels of its bounding box,
 * so, as occlusion's windows, each ablated copy can be computed from the image's activations.
 * One window size serves the image (each plan costs a session compile, about 12 SqueezeNet
 * forwards): among the box sizes rounded up to local-plan steps, the one whose estimated cost,
 * incremental for the segments it covers and brute force for the rest, is lowest. The default
 * mode keeps brute force where that saves little.
 */
function ablationRun(ctx: MethodContext, seg: Segmentation, mode: AblationMode | undefined): { window?: AblationWindow; notes: string[] } {
  if (mode === 'brute-force') return { notes: [] };
  let chosen: AblationWindow | undefined;
  try {
    chosen = cheapestWindow(ctx, seg);
  } catch (e) {
    if (mode !== undefined) throw e;
    return { notes: [`feature ablation ran brute force: incremental inference cannot plan this model (${(e as Error).message})`] };
  }
  if (!chosen) return { notes: [] };
  const fallbacks = chosen.scored.plan.fullOps.filter((f) => f.reason).map((f) => `${f.node} (${f.op}): ${f.reason}`);
  const notes = fallbacks.length ? [`incremental inference ran these ops on full maps: ${fallbacks.join('; ')}`] : [];
  if (mode === undefined && (chosen.speedup < MIN_ABLATION_SPEEDUP || chosen.scored.plan.macs.bruteForce < MIN_WINDOW_MACS)) {
    const why = chosen.scored.plan.macs.bruteForce < MIN_WINDOW_MACS ? 'the model is too small for it to pay off' : `it would save little on these segments (estimated ${chosen.speedup.toFixed(2)}x)`;
    return { notes: [...notes, `feature ablation ran brute force: ${why}`] };
  }
  return { window: chosen, notes };
}

function cheapestWindow(ctx: MethodContext, seg: Segmentation): AblationWindow | undefined {
  const { height: h, width: w, count: m, labels } = seg;
  const box = new Int32Array(4 * m).fill(-1);
  for (let p = 0; p < labels.length; p++) {
    const j = labels[p]!;
    const [y, x] = [Math.floor(p / w), p % w];
    if (box[4 * j] === -1) box.set([y, x, y, x], 4 * j);
    else {
      box[4 * j + 1] = Math.min(box[4 * j + 1]!, x);
      box[4 * j + 2] = y; // raster order: the last row seen is the lowest
      box[4 * j + 3] = Math.max(box[4 * j + 3]!, x);
    }
  }
  const sides = Array.from({ length: m }, (_, j) => [localWindowSide(box[4 * j + 2]! - box[4 * j]! + 1, h), localWindowSide(box[4 * j + 3]! - box[4 * j + 1]! + 1, w)] as const);
  const heights = [...new Set(sides.map((s) => s[0]))].sort((a, b) => a - b);
  const widths = [...new Set(sides.map((s) => s[1]))].sort((a, b) => a - b);
  const fits = (a: number, b: number): number => sides.filter(([sh, sw]) => sh <= a && sw <= b).length;
  const candidates = heights.flatMap((a, ia) => widths.map((b, ib) => ({ a, b, covered: fits(a, b), smaller: Math.max(ia ? fits(heights[ia - 1]!, b) : 0, ib ? fits(a, widths[ib - 1]!) : 0) })));
  candidates.sort((p, q) => p.a * p.b - q.a * q.b);
  let best: AblationWindow | undefined;
  for (const { a, b, covered, smaller } of candidates) {
    // A window covering no more segments than a smaller one costs more for the same work saved,
    // and one whose savings could not beat the best even at no cost is not worth planning.
    if (covered === 0 || covered === smaller || (best && (m + 1) / (m + 1 - covered) <= best.speedup)) continue;
    const scored = everyPositionPlan(ctx.model, ctx.score, [h, w], [a, b]);
    const { bruteForce, incremental } = scored.plan.macs;
    const speedup = ((m + 1) * bruteForce) / (bruteForce + covered * incremental + (m - covered) * bruteForce);
    if (best && speedup <= best.speedup) continue;
    const local: number[] = [];
    const starts: [number, number][] = [];
    sides.forEach(([sh, sw], j) => {
      if (sh > a || sw > b) return;
      local.push(j);
      starts.push([Math.min(box[4 * j]!, h - a), Math.min(box[4 * j + 1]!, w - b)]);
    });
    best = { scored, size: [a, b], local, starts, speedup };
  }
  return best;
}

/** Probabilities of coalition sizes 1..m-1 under the Shapley kernel: (m - 1) / (k (m - k)), normalized. */
export function shapleySizeDistribution(m: number): Float64Array {
  const p = new Float64Array(m + 1);
  let total = 0;
  for (let k = 1; k < m; k++) total += p[k] = (m - 1) / (k * (m - k));
  for (let k = 1; k < m; k++) p[k]! /= total;
  return p;
}

/** The Shapley kernel weight of one coalition of size k out of m: (m - 1) / (C(m, k) k (m - k)). */
function shapleyWeight(m: number, k: number): number {
  let logChoose = 0;
  for (let i = 1; i <= k; i++) logChoose += Math.log(m - k + i) - Math.log(i);
  return (m - 1) / (Math.exp(logChoose) * k * (m - k));
}

/**
 * KernelSHAP's coalitions for one image (without the full and empty ones, scored apart): all of
 * them with their kernel weights when there are no more than `samples`, else `samples` drawn from
 * the kernel (a size from the size distribution, then that many segments at random), each
 * followed by its complement (paired sampling: the kernel is symmetric in k and m - k, and the
 * pairs cancel much of the estimate's variance), with weight 1.
 */
export function kernelShapCoalitions(m: number, samples: number, rand: () => number): { rows: Uint8Array[]; weights: Float64Array; exhaustive: boolean } {
  const rows: Uint8Array[] = [];
  if (m < 31 && 2 ** m - 2 <= samples) {
    const weights: number[] = [];
    for (let bits = 1; bits < 2 ** m - 1; bits++) {
      const z = new Uint8Array(m);
      let k = 0;
      for (let j = 0; j < m; j++) if ((bits >>> j) & 1) (z[j] = 1), k++;
      rows.push(z);
      weights.push(shapleyWeight(m, k));
    }
    return { rows, weights: Float64Array.from(weights), exhaustive: true };
  }
  const sizes = shapleySizeDistribution(m);
  const order = new Int32Array(m);
  while (rows.length < samples) {
    let u = rand();
    let k = 1;
    while (k < m - 1 && u >= sizes[k]!) u -= sizes[k++]!;
    for (let j = 0; j < m; j++) order[j] = j;
    const z = new Uint8Array(m);
    for (let j = 0; j < k; j++) {
      const pick = j + Math.floor(rand() * (m - j));
      [order[j], order[pick]] = [order[pick]!, order[j]!];
      z[order[j]!] = 1;
    }
    rows.push(z);
    if (rows.length < samples) rows.push(z.map((v) => 1 - v));
  }
  return { rows, weights: new Float64Array(rows.length).fill(1), exhaustive: false };
}

/**
 * Shapley values from coalition scores: minimize sum_i w_i (y_i - z_i . phi)^2 with
 * y_i = f(z_i) - f(baseline), subject to sum(phi) = f(x) - f(baseline) (efficiency, held
 * exactly by eliminating the last segment, as the shap package does; Captum approximates the
 * constraint by a weight of 1e6 on the full and empty coalitions).
 */
export function constrainedShapley(rows: readonly Uint8Array[], weights: Float64Array, y: Float64Array, total: number): Float64Array {
  const m = rows[0]?.length ?? 1;
  if (m === 1) return Float64Array.of(total);
  const d = m - 1;
  const ata = new Float64Array(d * d);
  const aty = new Float64Array(d);
  const idx = new Int32Array(d);
  const sign = new Float64Array(d);
  rows.forEach((z, i) => {
    const last = z[d]!;
    // x_j = z_j - z_last: nonzero where z_j differs from the last segment
    let nnz = 0;
    for (let j = 0; j < d; j++) if (z[j] !== last) (idx[nnz] = j), (sign[nnz++] = z[j]! - last);
    const target = y[i]! - last * total;
    const wi = weights[i]!;
    for (let a = 0; a < nnz; a++) {
      const ja = idx[a]!;
      const va = wi * sign[a]!;
      aty[ja]! += va * target;
      for (let b = 0; b < nnz; b++) ata[ja * d + idx[b]!]! += va * sign[b]!;
    }
  });
  const head = solveSymmetric(ata, aty, d);
  const phi = new Float64Array(m);
  phi.set(head);
  let sum = 0;
  for (const v of head) sum += v;
  phi[d] = total - sum;
  return phi;
}

/**
 * Solves the symmetric positive semi-definite system A x = b (A is d x d, overwritten) by
 * Cholesky, with a ridge of 1e-10 of the mean diagonal: a segment no sample switched on its own
 * would otherwise leave the system singular, and the jitter moves a well-posed answer by about
 * that relative amount.
 */
export function solveSymmetric(a: Float64Array, b: Float64Array, d: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += a[i * d + i]!;
  const jitter = Math.max(1e-300, (1e-10 * trace) / d);
  for (let i = 0; i < d; i++) a[i * d + i]! += jitter;
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]!;
    for (let k = 0; k < j; k++) s -= a[j * d + k]! ** 2;
    const diag = Math.sqrt(Math.max(s, jitter));
    a[j * d + j] = diag;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j]!;
      for (let k = 0; k < j; k++) t -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = t / diag;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < d; i++) {
    let t = x[i]!;
    for (let k = 0; k < i; k++) t -= a[i * d + k]! * x[k]!;
    x[i] = t / a[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let t = x[i]!;
    for (let k = i + 1; k < d; k++) t -= a[k * d + i]! * x[k]!;
    x[i] = t / a[i * d + i]!;
  }
  return x;
}

function imageRandom(ctx: MethodContext, seed: number, img: number): () => number {
  return uniformSource(seed, ((ctx.options.firstIndex ?? 0) + img) * DRAWS_PER_IMAGE);
}

export async function kernelShap(ctx: MethodContext): Promise<MethodResult> {
  const s = setup(ctx, 'kernel-shap');
  const n = ctx.x.dims[0]!;
  const plans = s.segmentations.map((seg, img) => kernelShapCoalitions(seg.count, s.samples, imageRandom(ctx, s.seed, img)));
  // The kernel draws sizes 1 and m - 1 often (a quarter of the draws at 41 segments), and a
  // coalition drawn twice scores the same: each distinct one is scored once (2-10% of 256 draws).
  const distinct = plans.map((p) => distinctRows(p.rows));
  const work = new Work(ctx.job, 'kernel-shap', distinct.reduce((t, d) => t + Math.ceil((d.first.length + 2) / ctx.forwardBatchSize), 0));
  const scorer = new CoalitionScorer(ctx, s.baseline, work);
  const values: Float64Array[] = [];
  const completeness: Completeness[] = [];
  for (let img = 0; img < n; img++) {
    const seg = s.segmentations[img]!;
    const { rows, weights } = plans[img]!;
    const { first, slot } = distinct[img]!;
    const all = ones(seg.count);
    const none = new Uint8Array(seg.count);
    // rows 0 and 1: the image and the baseline, then each distinct coalition
    const scores = await scorer.score(img, seg, first.length + 2, (r) => (r === 0 ? all : r === 1 ? none : rows[first[r - 2]!]!));
    const [full, empty] = [scores[0]!, scores[1]!];
    const y = Float64Array.from(rows, (_, i) => scores[slot[i]! + 2]! - empty);
    const phi = rows.length ? constrainedShapley(rows, weights, y, full - empty) : Float64Array.of(full - empty);
    values.push(phi);
    let sum = 0;
    for (const v of phi) sum += v;
    const diff = full - empty;
    const scale = Math.max(Math.abs(diff), 1e-5 * Math.max(Math.abs(full), Math.abs(empty)), 1e-12);
    completeness.push({ sum, scoreDifference: diff, gap: sum - diff, relativeGap: Math.abs(sum - diff) / scale });
  }
  return result(ctx, s, values, { samples: s.samples, coalitions: plans.map((p) => (p.exhaustive ? `all ${p.rows.length + 2}` : `${p.rows.length + 2} (sampled, paired)`)), forwardPasses: distinct.map((d) => d.first.length + 2), duplicateCoalitions: distinct.map((d, img) => plans[img]!.rows.length - d.first.length), seed: s.seed }, completeness);
}

/** The first row of each distinct coalition, and for every row the index of its distinct one in `first`. */
function distinctRows(rows: readonly Uint8Array[]): { first: number[]; slot: Int32Array } {
  const seen = new Map<string, number>();
  const first: number[] = [];
  const slot = new Int32Array(rows.length);
  rows.forEach((z, i) => {
    const key = z.join('');
    let k = seen.get(key);
    if (k === undefined) {
      k = first.length;
      seen.set(key, k);
      first.push(i);
    }
    slot[i] = k;
  });
  return { first, slot };
}

/**
 * Captum Lime's defaults: coalitions with each segment kept with probability 1/2, weighted by
 * exp(-d^2 / (2 width^2)) where d is the cosine distance between the image and the perturbed
 * input in model input space, and a linear surrogate with an intercept fitted to the scores.
 * Captum fits a Lasso (alpha 0.01), offered as regression 'lasso'; the default here is the lime
 * package's Ridge (alpha 1), whose closed form needs no iterations and keeps every segment's
 * weight (a lasso zeroes the weak ones), or an unregularized fit.
 */
export async function lime(ctx: MethodContext): Promise<MethodResult> {
  const s = setup(ctx, 'lime');
  const o = ctx.options.segments ?? {};
  const width = o.kernelWidth ?? SEGMENT_SAMPLE_DEFAULTS.kernelWidth;
  const regression = o.regression ?? SEGMENT_SAMPLE_DEFAULTS.regression;
  const alpha = regression === 'linear' ? 0 : (o.alpha ?? limeAlpha(regression));
  const [n, c, h, w] = nchw(ctx.x);
  const hw = h * w;
  const per = c * hw;
  const xd = ctx.x.data as Float32Array;
  const plans = s.segmentations.map((seg, img) => {
    const rand = imageRandom(ctx, s.seed, img);
    return Array.from({ length: s.samples }, () => Uint8Array.from({ length: seg.count }, () => (rand() < 0.5 ? 1 : 0)));
  });
  // Every image's kernel weights before the first forward pass: a width under which they all
  // underflow to 0 fits nothing (the map came out all zeros, without a word), and is refused.
  const weightsOf = s.segmentations.map((seg, img) => {
    const m = seg.count;
    // x.x, x.b and b.b per segment: the cosine distance of a coalition is a sum over segments
    const xx = new Float64Array(m);
    const xb = new Float64Array(m);
    const bb = new Float64Array(m);
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < hw; p++) {
        const l = seg.labels[p]!;
        const xv = xd[img * per + ch * hw + p]!;
        const bv = s.baseline[img * per + ch * hw + p]!;
        xx[l]! += xv * xv;
        xb[l]! += xv * bv;
        bb[l]! += bv * bv;
      }
    }
    let norm2 = 0;
    for (const v of xx) norm2 += v;
    const distances = new Float64Array(plans[img]!.length);
    const weights = Float64Array.from(plans[img]!, (z, r) => {
      let dot = 0;
      let other = 0;
      for (let j = 0; j < m; j++) {
        dot += z[j] ? xx[j]! : xb[j]!;
        other += z[j] ? xx[j]! : bb[j]!;
      }
      // torch's CosineSimilarity, eps 1e-8 on the product of the norms
      const distance = 1 - dot / Math.max(Math.sqrt(norm2 * other), 1e-8);
      distances[r] = distance;
      return Math.exp(-(distance * distance) / (2 * width * width));
    });
    // The fit is centred by the weighted means: with fewer than two coalitions weighing anything,
    // every centred row is zero and so is every segment's weight.
    const weighted = weights.reduce((k, v) => k + (v > 0 ? 1 : 0), 0);
    if (weighted < 2 && weights.length >= 2) {
      const typical = distances.sort()[Math.floor(distances.length / 2)]!;
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `LIME's kernel width ${width} gives ${weighted ? 'all but one' : 'every one'} of image ${img + 1}'s ${weights.length} coalitions weight 0: exp(-d^2 / (2 * ${width}^2)) underflows at their cosine distances d to the image (typically ${typical.toPrecision(3)}), so the fit would be all zeros.`,
        `Use a wider kernel: about 1 (Captum's default), or about the typical distance, ${typical.toPrecision(2)} here (CLI: --lime-kernel-width).`,
      );
    }
    return weights;
  });
  const work = new Work(ctx.job, 'lime', n * Math.ceil(s.samples / ctx.forwardBatchSize));
  const scorer = new CoalitionScorer(ctx, s.baseline, work);
  const values: Float64Array[] = [];
  let unconverged: { img: number; fit: LassoFit } | undefined;
  for (let img = 0; img < n; img++) {
    const seg = s.segmentations[img]!;
    const rows = plans[img]!;
    const weights = weightsOf[img]!;
    const scores = await scorer.score(img, seg, rows.length, (r) => rows[r]!);
    if (regression === 'lasso') {
      const fit = lassoFit(rows, weights, scores, alpha);
      if (fit.relativeGap > LASSO_GAP_TOLERANCE && !(unconverged && unconverged.fit.relativeGap >= fit.relativeGap)) unconverged = { img, fit };
      values.push(fit.beta);
    } else values.push(weightedRidge(rows, weights, scores, alpha));
  }
  const notes = unconverged ? [lassoNote(unconverged.img + (ctx.options.firstIndex ?? 0), unconverged.fit, alpha, s.samples)] : [];
  const fitted = result(ctx, s, values, { samples: s.samples, forwardPasses: s.segmentations.map(() => s.samples), seed: s.seed, kernel: `exp(-d^2 / (2 * ${width}^2)), d = cosine distance in input space`, kernelWidth: width, regression, ...(regression === 'linear' ? {} : { alpha }) });
  return notes.length ? { ...fitted, notes } : fitted;
}

/** What sklearn's ConvergenceWarning says, with the way out: the fit is underdetermined or barely penalized. */
export function lassoNote(image: number, fit: LassoFit, alpha: number, samples: number): string {
  return `LIME's lasso fit has not converged on image ${image + 1} after ${fit.sweeps.toLocaleString('en-US')} sweeps: its duality gap is ${(fit.relativeGap * 100).toPrecision(2)}% of the scores' weighted variance (sklearn warns above ${LASSO_GAP_TOLERANCE * 100}%), so the weights may still move; a larger alpha (CLI: --lime-alpha; ${alpha} here${alpha < SEGMENT_SAMPLE_DEFAULTS.lassoAlpha ? `, Captum's is ${SEGMENT_SAMPLE_DEFAULTS.lassoAlpha}` : ''}) or more coalitions than segments (CLI: --samples, ${samples} now) make the fit well-posed, and ridge solves it exactly (CLI: --lime-regression ridge)`;
}

/**
 * The weighted, centred normal equations of y ~ b0 + z . beta: Z'WZ and Z'Wy with z and y
 * centred by their weighted means (so the intercept drops out, unpenalized), the weights' sum and
 * the centred scores' weighted sum of squares; undefined when the weights sum to nothing.
 */
function centredNormalEquations(rows: readonly Uint8Array[], weights: Float64Array, y: Float64Array): { ata: Float64Array; aty: Float64Array; wsum: number; yWy: number } | undefined {
  const m = rows[0]?.length ?? 0;
  let wsum = 0;
  const zmean = new Float64Array(m);
  let ymean = 0;
  rows.forEach((z, i) => {
    const wi = weights[i]!;
    wsum += wi;
    ymean += wi * y[i]!;
    for (let j = 0; j < m; j++) if (z[j]) zmean[j]! += wi;
  });
  if (!(wsum > 0)) return undefined;
  for (let j = 0; j < m; j++) zmean[j]! /= wsum;
  ymean /= wsum;
  const ata = new Float64Array(m * m);
  const aty = new Float64Array(m);
  const centred = new Float64Array(m);
  let yWy = 0;
  rows.forEach((z, i) => {
    const wi = weights[i]!;
    const yc = y[i]! - ymean;
    yWy += wi * yc * yc;
    for (let j = 0; j < m; j++) centred[j] = z[j]! - zmean[j]!;
    for (let a = 0; a < m; a++) {
      const va = wi * centred[a]!;
      aty[a]! += va * yc;
      for (let b = a; b < m; b++) ata[a * m + b]! += va * centred[b]!;
    }
  });
  for (let a = 0; a < m; a++) for (let b = 0; b < a; b++) ata[a * m + b] = ata[b * m + a]!;
  return { ata, aty, wsum, yWy };
}

/**
 * The coefficients of y ~ b0 + z . beta with sample weights, the intercept unpenalized and
 * alpha ||beta||^2 added (sklearn's Ridge with sample_weight: the data centred by weighted means).
 */
export function weightedRidge(rows: readonly Uint8Array[], weights: Float64Array, y: Float64Array, alpha: number): Float64Array {
  const m = rows[0]?.length ?? 0;
  const eq = centredNormalEquations(rows, weights, y);
  if (!eq) return new Float64Array(m);
  for (let a = 0; a < m; a++) eq.ata[a * m + a]! += alpha;
  return solveSymmetric(eq.ata, eq.aty, m);
}

/** Lasso's coordinate descent stops when no sweep moves a coefficient by more than this fraction of the largest, */
const LASSO_TOLERANCE = 1e-9;
/**
 * ... or, after sklearn's max_iter (1000) sweeps, once sklearn would call the fit converged: its
 * duality gap at most tol = 1e-4 times the centred scores' weighted sum of squares (with more
 * segments than coalitions and a small alpha, the coefficients drift along a near-flat valley
 * long after the objective has settled: 10,000 sweeps, 6-9 s an image on SqueezeNet's 512 segments),
 */
const LASSO_SKLEARN_SWEEPS = 1000;
const LASSO_GAP_TOLERANCE = 1e-4;
/** ... or after this many sweeps; a gap still above sklearn's tolerance then gets a note. */
const LASSO_MAX_SWEEPS = 10_000;

/** A lasso fit: its coefficients, the sweeps it took, and its duality gap as a share of the scores' weighted sum of squares (an upper bound on how far its objective is from the optimum). */
export interface LassoFit {
  beta: Float64Array;
  sweeps: number;
  relativeGap: number;
}

/**
 * The coefficients minimizing 1 / (2 sum w) * sum_i w_i (y_i - b0 - z_i . beta)^2 + alpha ||beta||_1,
 * the intercept unpenalized: sklearn's Lasso with sample_weight, which Captum's Lime fits
 * (SkLearnLasso, alpha 0.01). Cyclic coordinate descent on the centred Gram matrix: each
 * coefficient in turn is its one-variable solution, the soft-thresholded partial correlation,
 * and Z'Z beta is kept up to date so a sweep costs segments x (moved coefficients).
 */
export function weightedLasso(rows: readonly Uint8Array[], weights: Float64Array, y: Float64Array, alpha: number): Float64Array {
  return lassoFit(rows, weights, y, alpha).beta;
}

/** weightedLasso with how well it converged (the duality gap of sklearn's enet_coordinate_descent_gram). */
export function lassoFit(rows: readonly Uint8Array[], weights: Float64Array, y: Float64Array, alpha: number, maxSweeps = LASSO_MAX_SWEEPS): LassoFit {
  const m = rows[0]?.length ?? 0;
  const beta = new Float64Array(m);
  const eq = centredNormalEquations(rows, weights, y);
  if (!eq) return { beta, sweeps: 0, relativeGap: 0 };
  const { ata, aty, wsum, yWy } = eq;
  // scaled so alpha means what sklearn's does: its squared loss is averaged, not summed
  const penalty = alpha * wsum;
  const gb = new Float64Array(m); // Z'WZ beta
  let sweeps = 0;
  while (sweeps < maxSweeps) {
    sweeps++;
    let moved = 0;
    let largest = 0;
    for (let j = 0; j < m; j++) {
      const gjj = ata[j * m + j]!;
      // A segment kept (or dropped) in every weighted coalition is constant: no information, weight 0.
      if (!(gjj > 0)) continue;
      const rho = aty[j]! - gb[j]! + gjj * beta[j]!;
      const next = Math.sign(rho) * Math.max(Math.abs(rho) - penalty, 0) / gjj;
      const d = next - beta[j]!;
      if (d !== 0) {
        for (let k = 0; k < m; k++) gb[k]! += d * ata[k * m + j]!;
        beta[j] = next;
      }
      moved = Math.max(moved, Math.abs(d));
      largest = Math.max(largest, Math.abs(next));
    }
    // A NaN or infinite score makes every later sweep NaN too, which no tolerance test passes:
    // without this the fit ran to the sweep cap (seconds an image) to return the same NaN.
    if (!Number.isFinite(moved) || moved <= LASSO_TOLERANCE * largest) break;
    if (sweeps >= LASSO_SKLEARN_SWEEPS && dualityGap(beta, gb, aty, yWy, penalty) <= LASSO_GAP_TOLERANCE * yWy) break;
  }
  return { beta, sweeps, relativeGap: yWy > 0 ? dualityGap(beta, gb, aty, yWy, penalty) / yWy : 0 };
}

/**
 * The lasso's duality gap from the Gram form (sklearn's enet_coordinate_descent_gram): the primal
 * objective minus the best dual one, with the residual scaled into the dual's feasible set.
 */
function dualityGap(beta: Float64Array, gb: Float64Array, aty: Float64Array, yWy: number, penalty: number): number {
  let l1 = 0;
  let betaAty = 0;
  let betaGb = 0;
  let dualNorm = 0;
  for (let j = 0; j < beta.length; j++) {
    l1 += Math.abs(beta[j]!);
    betaAty += beta[j]! * aty[j]!;
    betaGb += beta[j]! * gb[j]!;
    dualNorm = Math.max(dualNorm, Math.abs(aty[j]! - gb[j]!));
  }
  const residual = Math.max(0, yWy - 2 * betaAty + betaGb);
  const scale = dualNorm > penalty ? penalty / dualNorm : 1;
  return 0.5 * residual * (1 + scale * scale) + penalty * l1 - scale * (yWy - betaAty);
}
