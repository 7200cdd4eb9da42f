// DeepLIFT with the Rescale rule (Shrikumar et al. 2017), DeepLiftShap (DeepLIFT averaged over a
// set of baselines) and GradientSHAP (expected gradients: Lundberg & Lee 2017, Erion et al.
// 2021), as Captum computes them. DeepLIFT runs input and baseline through the network in one
// batch (the deeplift rule set reads each row's partner); the attribution is (x - x') *
// multipliers. Where pairs share a row (one baseline for many images, or many baselines for one
// image) that row runs once per batch instead of once per pair.
import { ConvLensError } from '../../engine/errors.js';
import { deepliftRuleSet } from '../../engine/ops/rules/deeplift.js';
import type { RuleSet } from '../../engine/ops/registry.js';
import { mapFloat32, type Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { f32, nchw, normalSource, reduceChannels, seedOf, uniformSource } from './arrays.js';
import { resolveBaseline } from './integrated-gradients.js';
import { completenessOf } from './completeness.js';
import { inputBounds } from './lrp.js';
import { batchedForward, forChunks, forwardScores, RunBuffers, scoreGradients, Work } from './session.js';
import type { Completeness, MethodContext, MethodResult } from './types.js';

const PAIRED = deepliftRuleSet();
const sharedRulesByModel = new WeakMap<Model, RuleSet>();
const sharedRowRules = (model: Model): RuleSet => {
  let rules = sharedRulesByModel.get(model);
  if (!rules) sharedRulesByModel.set(model, (rules = deepliftRuleSet(undefined, 'shared-reference', model.graph)));
  return rules;
};

/** For each row of `base`, the first row equal to it: equal baselines (a black image per input) run as one. */
function firstEqualRows(base: Tensor, per: number): Int32Array {
  const d = base.data as Float32Array;
  const rows = base.dims[0]!;
  const first = new Int32Array(rows);
  const distinct: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = d.subarray(r * per, (r + 1) * per);
    const same = distinct.find((q) => {
      const other = d.subarray(q * per, (q + 1) * per);
      for (let p = 0; p < per; p++) if (row[p] !== other[p]) return false;
      return true;
    });
    if (same === undefined) distinct.push(r);
    first[r] = same ?? r;
  }
  return first;
}

/** A run of pairs that share one row: the baseline (many images), or the image (many baselines). */
interface SharedRun {
  side: 'baseline' | 'input';
  pairs: number[];
}

/**
 * How deepliftPairs will batch `pairs` pairs. Pairs with equal baselines run as [their images;
 * the baseline], pairs of one image as [its baselines; the image] (the rescale multipliers are
 * symmetric in the two rows of a pair, so either side can be the shared last row), up to
 * batchSize - 1 pairs and the shared row a run, grouped the way that shares more. The rest run
 * as Captum's [inputs; their baselines], batchSize / 2 pairs a run.
 */
function planPairs(base: Tensor, per: number, pairs: number, inputOf: (k: number) => number, baselineOf: (k: number) => number, batchSize: number): { shared: SharedRun[]; paired: number[]; runs: number } {
  const first = firstEqualRows(base, per);
  const groupBy = (key: (k: number) => number): number[][] => {
    const groups = new Map<number, number[]>();
    for (let k = 0; k < pairs; k++) {
      const q = key(k);
      const group = groups.get(q);
      if (group) group.push(k);
      else groups.set(q, [k]);
    }
    return [...groups.values()];
  };
  const byBaseline = groupBy((k) => first[baselineOf(k)]!);
  const byInput = groupBy(inputOf);
  const side = byInput.length < byBaseline.length ? 'input' : 'baseline';
  const perRun = Math.max(1, batchSize - 1);
  const pairsPerRun = Math.max(1, Math.floor(batchSize / 2));
  const shared: SharedRun[] = [];
  const paired: number[] = [];
  for (const group of side === 'input' ? byInput : byBaseline) {
    if (group.length > 1) for (let s = 0; s < group.length; s += perRun) shared.push({ side, pairs: group.slice(s, s + perRun) });
    else paired.push(group[0]!);
  }
  return { shared, paired, runs: shared.length + Math.ceil(paired.length / pairsPerRun) };
}

/**
 * DeepLIFT multipliers for pairs (input row, baseline row): rows `inputOf(k)` of x against rows
 * `baselineOf(k)` of `base`, `pairs` of them, in batches. Gives (x - x') * m per pair, with the
 * target logits of the input and the baseline from the forward part of the same run.
 */
async function deepliftPairs(ctx: MethodContext, phase: string, base: Tensor, pairs: number, inputOf: (k: number) => number, baselineOf: (k: number) => number, onPair: (k: number, attr: Float32Array, score: number, baseScore: number) => void): Promise<{ rows: number }> {
  const [, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const xd = ctx.x.data as Float32Array;
  const bd = base.data as Float32Array;
  const name = ctx.model.input.name;
  const fixed = ctx.model.input.shape?.[0];
  if (typeof fixed === 'number') {
    throw new ConvLensError(
      'MODEL_UNSUPPORTED',
      `DeepLIFT runs each image together with its baseline in one batch (the rescale rules compare the two), and model "${ctx.model.name}" runs exactly ${fixed} image${fixed === 1 ? '' : 's'} at a time (its batch axis is fixed in the graph's shapes).`,
      "Re-export the model with a free batch axis: torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}}); integrated gradients and GradientSHAP run on it as it is.",
    );
  }
  const plan = planPairs(base, per, pairs, inputOf, baselineOf, ctx.batchSize);
  const work = new Work(ctx.job, phase, plan.runs);
  const attr = new Float32Array(per);
  const imageRow = (k: number): Float32Array => xd.subarray(inputOf(k) * per, (inputOf(k) + 1) * per);
  const baselineRow = (k: number): Float32Array => bd.subarray(baselineOf(k) * per, (baselineOf(k) + 1) * per);
  let rows = 0;
  /**
   * One run of pairs `ks`: `shared` undefined runs [images; their baselines]; otherwise each
   * pair's other row, then the one row they share. Row j's multipliers explain pair j.
   */
  const run = async (ks: readonly number[], shared?: SharedRun['side']): Promise<void> => {
    work.check();
    const m = ks.length;
    const total = shared ? m + 1 : 2 * m;
    const data = new Float32Array(total * per);
    const targets = new Int32Array(total);
    const own = shared === 'input' ? baselineRow : imageRow;
    ks.forEach((k, j) => {
      const target = ctx.targets[inputOf(k)]!;
      data.set(own(k), j * per);
      targets[j] = target;
      if (shared && j > 0) return;
      data.set(shared === 'input' ? imageRow(k) : baselineRow(k), (m + j) * per);
      targets[m + j] = target; // a shared row's own seed reaches no other row
    });
    rows += total;
    const r = await scoreGradients(ctx.model, f32([total, c, h, w], data), targets, { score: 'logit', wrt: [name], ruleSet: shared ? sharedRowRules(ctx.model) : PAIRED });
    const g = r.gradients[name]!.data as Float32Array;
    const logits = r.logits.data as Float32Array;
    const classes = r.logits.dims[1]!;
    ks.forEach((k, j) => {
      const x = imageRow(k);
      const b = baselineRow(k);
      for (let p = 0; p < per; p++) attr[p] = (x[p]! - b[p]!) * g[j * per + p]!;
      const partner = shared ? m : m + j;
      const [imageAt, baselineAt] = shared === 'input' ? [partner, j] : [j, partner];
      const target = ctx.targets[inputOf(k)]!;
      onPair(k, attr, logits[imageAt * classes + target]!, logits[baselineAt * classes + target]!);
    });
    work.step();
  };
  for (const group of plan.shared) await run(group.pairs, group.side);
  const pairsPerRun = Math.max(1, Math.floor(ctx.batchSize / 2));
  for (let s = 0; s < plan.paired.length; s += pairsPerRun) await run(plan.paired.slice(s, s + pairsPerRun));
  return { rows };
}

const logitNote = (ctx: MethodContext, method: string): string[] => (ctx.score === 'prob' ? [`${method} decomposes the target logit (the rescale rule has no softmax rule here); the probability score (CLI: --score prob) does not apply`] : []);

/**
 * Summation-to-delta holds to float32 rounding (1e-7 to 1e-5 of the score's change on ResNet,
 * EfficientNet and ConvNeXt shapes): a gap beyond 1% means the multipliers lost it. The case met
 * so far is a baseline that makes a normalization see a constant (an all-zero input through a
 * bias-free stem into LayerNorm): its 1/sqrt(var + eps) is then ~1/sqrt(eps) at the reference, each
 * such layer multiplies the multipliers by hundreds, and float32 can no longer cancel them (a
 * 4-stage ConvNeXt-shaped net: gap 3e11 with zeros, 2e-7 with a black image).
 */
const DEEPLIFT_GAP_TOLERANCE = 0.01;

function lostSummationNotes(method: string, completeness: readonly Completeness[], firstIndex: number): string[] {
  const worst = completeness.reduce<{ i: number; c: Completeness } | undefined>((w, c, i) => (!(c.relativeGap <= (w?.c.relativeGap ?? DEEPLIFT_GAP_TOLERANCE)) ? { i, c } : w), undefined);
  if (!worst) return [];
  const gap = Number.isFinite(worst.c.relativeGap) ? `${(worst.c.relativeGap * 100).toPrecision(3)}%` : 'not finite';
  return [
    `${method}'s contributions do not add up to the score's change on image ${firstIndex + worst.i + 1} (gap ${gap}): float32 lost summation-to-delta, most likely where the baseline makes a normalization (LayerNorm, InstanceNorm) see a constant map, whose 1/sqrt(var + eps) is then ~1/sqrt(eps); a baseline the first layers do not flatten avoids it (black or blurred; CLI: --baseline blurred)`,
  ];
}

export async function deeplift(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.deeplift ?? {};
  const spec = o.baseline ?? 'black';
  const [n, c, h, w] = nchw(ctx.x);
  const blurSigma = o.blurSigma ?? Math.max(h, w) / 10;
  const base = resolveBaseline(ctx.model, ctx.x, spec, blurSigma);
  const per = c * h * w;
  const attr = new Float32Array(n * per);
  const scores = new Float64Array(n);
  const baseScores = new Float64Array(n);
  const { rows } = await deepliftPairs(ctx, 'deeplift', base, n, (k) => k, (k) => k, (k, a, score, baseScore) => {
    attr.set(a, k * per);
    scores[k] = score;
    baseScores[k] = baseScore;
  });
  const raw = f32(ctx.x.dims, attr);
  const params: Record<string, unknown> = { rule: 'rescale', baseline: typeof spec === 'string' ? spec : 'given tensor', eps: 1e-10, rows };
  if (spec === 'blurred') params['blurSigma'] = blurSigma;
  const completeness = completenessOf(attr, per, scores, baseScores);
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params, completeness, notes: [...logitNote(ctx, 'deeplift'), ...lostSummationNotes('deeplift', completeness, ctx.options.firstIndex ?? 0)] };
}

/** The baseline set of gradient-shap and deeplift-shap: given, or seeded uniform noise over the pixel range. */
export function shapBaselines(model: Model, x: Tensor, o: NonNullable<MethodContext['options']['shap']>): { baselines: Tensor; described: string } {
  const [, c, h, w] = nchw(x);
  if (o.baselines) {
    const d = o.baselines.dims;
    if (d.length !== 4 || d[1] !== c || d[2] !== h || d[3] !== w || d[0]! < 1 || o.baselines.dtype !== 'float32') {
      throw new ConvLensError('SHAPE_MISMATCH', `The baseline set has shape [${d.join(', ')}] (${o.baselines.dtype}); it must be float32 [B, ${c}, ${h}, ${w}] with B >= 1.`, 'Save the baselines in the model input space, stacked along the first axis.');
    }
    return { baselines: o.baselines, described: `given set of ${d[0]}` };
  }
  const count = o.count ?? 8;
  if (!Number.isInteger(count) || count < 1) throw new ConvLensError('INVALID_ARGUMENT', `The baseline count must be a positive integer, got ${count}.`, 'Ask for 1 or more noise baselines, or pass a baseline set (CLI: --baseline-file).');
  const { low, high } = inputBounds(model);
  const rand = uniformSource(seedOf(o.seed, 'The SHAP seed') + 7919);
  const plane = h * w;
  const data = new Float32Array(count * c * plane);
  for (let k = 0; k < count; k++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) data[(k * c + ch) * plane + p] = low[ch]! + (high[ch]! - low[ch]!) * rand();
  return { baselines: f32([count, c, h, w], data), described: `${count} uniform-noise images over the pixel range (seeded)` };
}

export async function deepliftShap(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.shap ?? {};
  const { baselines, described } = shapBaselines(ctx.model, ctx.x, o);
  const [n, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const k = baselines.dims[0]!;
  const sum = new Float64Array(n * per);
  const scores = new Float64Array(n);
  const baseMean = new Float64Array(n);
  const { rows } = await deepliftPairs(ctx, 'deeplift-shap', baselines, n * k, (p) => Math.floor(p / k), (p) => p % k, (p, a, score, baseScore) => {
    const img = Math.floor(p / k);
    const o0 = img * per;
    for (let q = 0; q < per; q++) sum[o0 + q]! += a[q]!;
    scores[img] = score;
    baseMean[img]! += baseScore / k;
  });
  const attr = mapFloat32(sum, (v) => v / k);
  const raw = f32(ctx.x.dims, attr);
  const shapCompleteness = completenessOf(attr, per, scores, baseMean);
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params: { rule: 'rescale', baselines: described, eps: 1e-10, rows }, completeness: shapCompleteness, notes: [...logitNote(ctx, 'deeplift-shap'), ...lostSummationNotes('deeplift-shap', shapCompleteness, ctx.options.firstIndex ?? 0)] };
}

/** Target logits of the inputs, and each target's mean logit over the baseline set. */
async function expectedScores(ctx: MethodContext, baselines: Tensor, work: Work): Promise<{ scores: Float64Array; baseMean: Float64Array }> {
  work.check();
  const n = ctx.x.dims[0]!;
  const k = baselines.dims[0]!;
  const scores = await forwardScores(ctx.model, ctx.x, ctx.targets, 'logit', ctx.forwardBatchSize);
  const logits = (await batchedForward(ctx.model, baselines, [], ctx.forwardBatchSize))[ctx.model.output]!;
  const classes = logits.dims[1]!;
  const ld = logits.data as Float32Array;
  const baseMean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += ld[j * classes + ctx.targets[i]!]!;
    baseMean[i] = s / k;
  }
  work.step();
  return { scores, baseMean };
}

export async function gradientShap(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.shap ?? {};
  const samples = o.samples ?? 50;
  const noise = o.noise ?? 0;
  const seed = seedOf(o.seed, 'The SHAP seed');
  if (!Number.isInteger(samples) || samples < 1) throw new ConvLensError('INVALID_ARGUMENT', `GradientSHAP samples must be a positive integer, got ${samples}.`, 'Use 1 or more samples (CLI: --samples).');
  if (!(noise >= 0 && Number.isFinite(noise))) throw new ConvLensError('INVALID_ARGUMENT', `GradientSHAP noise must be a finite number >= 0, got ${noise}.`, 'Use a noise of 0 or more (CLI: --shap-stdev).');
  const { baselines, described } = shapBaselines(ctx.model, ctx.x, o);
  const [n, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const k = baselines.dims[0]!;
  const xd = ctx.x.data as Float32Array;
  const bd = baselines.data as Float32Array;
  // one baseline pick and one path point per sample, and with noise one normal per input value
  const before = (ctx.options.firstIndex ?? 0) * samples;
  const rand = uniformSource(seed, 2 * before);
  const normal = normalSource(seed + 1, noise > 0 ? before * per : 0);
  const sum = new Float64Array(n * per);
  const total = n * samples;
  const name = ctx.model.input.name;
  const work = new Work(ctx.job, 'gradient-shap', Math.ceil(total / ctx.batchSize) + 1);
  const buffers = new RunBuffers(ctx.model, [c, h, w]);
  const draws = new Float64Array(per); // float64, as the draws were used one by one
  await forChunks(total, ctx.batchSize, work, async (s, e) => {
    const m = e - s;
    const points = buffers.input(m);
    const deltas = new Float32Array(m * per);
    const targets = new Int32Array(m);
    for (let q = s; q < e; q++) {
      const img = Math.floor(q / samples);
      // One baseline and one path point per sample, as Captum's GradientShap draws them.
      const b0 = Math.min(k - 1, Math.floor(rand() * k)) * per;
      const alpha = rand();
      const dst = (q - s) * per;
      if (noise > 0) normal.fill(draws);
      for (let p = 0; p < per; p++) {
        const xi = xd[img * per + p]! + (noise > 0 ? noise * draws[p]! : 0);
        const delta = xi - bd[b0 + p]!;
        deltas[dst + p] = delta;
        points[dst + p] = bd[b0 + p]! + alpha * delta;
      }
      targets[q - s] = ctx.targets[img]!;
    }
    const g = (await scoreGradients(ctx.model, f32([m, c, h, w], points), targets, { score: ctx.score, wrt: [name] }, buffers.inputGradient(m))).gradients[name]!.data as Float32Array;
    for (let q = s; q < e; q++) {
      const dst = Math.floor(q / samples) * per;
      const src = (q - s) * per;
      for (let p = 0; p < per; p++) sum[dst + p]! += deltas[src + p]! * g[src + p]!;
    }
  });
  const attr = mapFloat32(sum, (v) => v / samples);
  const raw = f32(ctx.x.dims, attr);
  const params = { samples, noise, noiseIs: 'standard deviation added to the input (model input space), as Captum\'s stdevs', baselines: described, seed };
  if (ctx.score === 'logit') {
    const { scores, baseMean } = await expectedScores(ctx, baselines, work);
    return { raw, map: reduceChannels(raw, 'sum'), signed: true, params, completeness: completenessOf(attr, per, scores, baseMean) };
  }
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params };
}
