// Integrated Gradients (Sundararajan et al. 2017): (x - x') * integral over a in [0, 1] of
// d score(x' + a (x - x')) / dx, by quadrature over batched path points, with the
// completeness gap (sum of attributions vs score difference) reported per image.
import { ConvLensError } from '../../engine/errors.js';
import { nonFiniteCount, type Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { blurBatch, f32, nchw, reduceChannels } from './arrays.js';
import { forChunks, RunBuffers, scoreGradients, Work } from './session.js';
import { completenessOf } from './completeness.js';
import { targetScores } from './target.js';
import type { Completeness, IgBaseline, IgRule, MethodContext, MethodResult } from './types.js';
import { DEFAULT_PATH_STEPS } from './method-defaults.js';

/** Path points (alphas) and weights on [0, 1], as Captum's approximation_methods. */
export function quadrature(rule: IgRule, steps: number): { alphas: Float64Array; weights: Float64Array } {
  const alphas = new Float64Array(steps);
  const weights = new Float64Array(steps);
  switch (rule) {
    case 'gausslegendre': {
      const { nodes, weights: w } = gaussLegendre(steps);
      for (let i = 0; i < steps; i++) {
        alphas[i] = 0.5 * (nodes[i]! + 1);
        weights[i] = 0.5 * w[i]!;
      }
      break;
    }
    case 'riemann-trapezoid':
      if (steps < 2) throw new ConvLensError('INVALID_ARGUMENT', 'The trapezoid rule needs at least 2 steps.', 'Use at least 2 steps with the riemann-trapezoid rule (CLI: --steps), or another rule (CLI: --ig-rule).');
      for (let i = 0; i < steps; i++) {
        alphas[i] = i / (steps - 1);
        weights[i] = (i === 0 || i === steps - 1 ? 0.5 : 1) / (steps - 1);
      }
      break;
    case 'riemann-left':
    case 'riemann-right':
    case 'riemann-middle': {
      const shift = rule === 'riemann-left' ? 0 : rule === 'riemann-right' ? 1 : 0.5;
      for (let i = 0; i < steps; i++) {
        alphas[i] = (i + shift) / steps;
        weights[i] = 1 / steps;
      }
      break;
    }
    default:
      throw new ConvLensError('INVALID_ARGUMENT', `Unknown integration rule "${rule as string}".`, 'Use gausslegendre, riemann-trapezoid, riemann-left, riemann-right or riemann-middle.');
  }
  return { alphas, weights };
}

// Newton's method on the Legendre recurrence costs O(n^2) per rule (20,000 nodes: ~2 s); a
// session asks for the same few step counts again and again, so the rules are kept.
const RULES = new Map<number, { nodes: Float64Array; weights: Float64Array }>();
const MAX_RULES = 16;

/** Gauss-Legendre nodes (ascending) and weights on [-1, 1] (numpy.polynomial.legendre.leggauss). */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  let rule = RULES.get(n);
  if (!rule) {
    rule = computeGaussLegendre(n);
    if (RULES.size >= MAX_RULES) RULES.delete(RULES.keys().next().value as number);
    RULES.set(n, rule);
  }
  return { nodes: rule.nodes.slice(), weights: rule.weights.slice() };
}

function computeGaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n === 1) p0 = 1;
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    if (n === 1) {
      z = 0;
      dp = 1;
    }
    const w = 2 / ((1 - z * z) * dp * dp);
    nodes[i] = -z;
    nodes[n - 1 - i] = z;
    weights[i] = w;
    weights[n - 1 - i] = w;
  }
  return { nodes, weights };
}

/**
 * A black image in the model's input space (per the model's preprocessing), [1, C, H, W]:
 * `dims` [C, H, W] default to the model's own (a model that takes any size: the batch's).
 */
export function blackImage(model: Model, dims: readonly [number, number, number] = model.inputDims()): Tensor {
  const [c, h, w] = dims;
  const prep = model.meta.preprocessing;
  const data = new Float32Array(c! * h! * w!);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < c!; ch++) {
    const mean = prep.mean[ch] ?? prep.mean[0] ?? 0;
    const std = prep.std[ch] ?? prep.std[0] ?? 1;
    data.fill((lo + (prep.invert ? hi - lo : 0) - mean) / std, ch * h! * w!, (ch + 1) * h! * w!);
  }
  return f32([1, c!, h!, w!], data);
}

/** The baseline batch [N, C, H, W] for a baseline spec. */
export function resolveBaseline(model: Model, x: Tensor, baseline: IgBaseline, blurSigma: number): Tensor {
  const [n, c, h, w] = nchw(x);
  const per = c * h * w;
  let one: Tensor;
  if (baseline === 'zero') one = f32([1, c, h, w]);
  else if (baseline === 'black') one = blackImage(model, [c, h, w]);
  else if (baseline === 'blurred') return blurBatch(x, blurSigma);
  else if (typeof baseline === 'object' && baseline && 'dims' in baseline) {
    const d = baseline.dims;
    const ok = (d.length === 4 && (d[0] === 1 || d[0] === n) && d[1] === c && d[2] === h && d[3] === w) || (d.length === 3 && d[0] === c && d[1] === h && d[2] === w);
    if (!ok || baseline.dtype !== 'float32') {
      throw new ConvLensError('SHAPE_MISMATCH', `The baseline has shape [${d.join(', ')}] (${baseline.dtype}); it must be float32 [1, ${c}, ${h}, ${w}], [${n}, ${c}, ${h}, ${w}] or [${c}, ${h}, ${w}].`, 'Save it in the model input space, like a preprocessed .npy input.');
    }
    const nonFinite = nonFiniteCount(baseline);
    if (nonFinite > 0) throw new ConvLensError('INVALID_ARGUMENT', `The baseline has ${nonFinite} NaN or infinite value${nonFinite === 1 ? '' : 's'}.`, 'Pass a baseline of finite values in the model input space.');
    if (d.length === 4 && d[0] === n) return baseline;
    one = f32([1, c, h, w], baseline.data as Float32Array);
  } else {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown baseline "${String(baseline)}".`, 'Use black, zero, blurred, or a tensor (.npy in the CLI).');
  }
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(one.data as Float32Array, i * per);
  return f32([n, c, h, w], out);
}

/** Whether the `n` rows of `per` values in `data` are all equal (a baseline shared by every image). */
function sameRows(data: Float32Array, n: number, per: number): boolean {
  for (let i = 1; i < n; i++) for (let p = 0; p < per; p++) if (data[i * per + p] !== data[p]) return false;
  return true;
}

export async function integratedGradients(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.integratedGradients ?? {};
  const steps = o.steps ?? DEFAULT_PATH_STEPS;
  const rule = o.rule ?? 'gausslegendre';
  const baselineSpec = o.baseline ?? 'black';
  const [n, c, h, w] = nchw(ctx.x);
  const blurSigma = o.blurSigma ?? Math.max(h, w) / 10;
  if (!Number.isInteger(steps) || steps < 1) throw new ConvLensError('INVALID_ARGUMENT', `Integrated Gradients steps must be a positive integer, got ${steps}.`, 'Use 1 or more steps (CLI: --steps).');
  const { alphas, weights } = quadrature(rule, steps);
  const base = resolveBaseline(ctx.model, ctx.x, baselineSpec, blurSigma);
  const per = c * h * w;
  const xd = ctx.x.data as Float32Array;
  const bd = base.data as Float32Array;
  const avg = new Float64Array(n * per);
  // Rows [0, n * steps) are the path's points. The completeness check needs score(x) and
  // score(baseline): score(x) comes from the prediction pass when explain() ran one (it always
  // does), and the baselines' rows ride in the gradient runs, one row when every image has the
  // same baseline (black, zero or one given image): IG never compiles a forward graph besides,
  // and at 50 steps on 4 images runs 201 rows instead of 208.
  const pathRows = n * steps;
  const inputRows = ctx.logits ? 0 : n;
  const sharedBaseline = sameRows(bd, n, per);
  const baselineRows = sharedBaseline ? 1 : n;
  const total = pathRows + inputRows + baselineRows;
  const scores = new Float64Array(2 * n);
  if (ctx.logits) scores.set(targetScores(ctx.logits, ctx.targets, ctx.score, ctx.model.outputKind));
  const name = ctx.model.input.name;
  const work = new Work(ctx.job, 'integrated-gradients', Math.ceil(total / ctx.batchSize));
  const buffers = new RunBuffers(ctx.model, [c, h, w]);
  await forChunks(total, ctx.batchSize, work, async (s, e) => {
    const data = buffers.input(e - s);
    const targets = new Int32Array(e - s);
    for (let k = s; k < e; k++) {
      const dst = (k - s) * per;
      if (k >= pathRows) {
        // endpoints: the inputs (unless known), then the baselines (one row if shared)
        const end = k - pathRows;
        const img = end < inputRows ? end : end - inputRows;
        data.set((end < inputRows ? xd : bd).subarray(img * per, (img + 1) * per), dst);
        targets[k - s] = ctx.targets[img]!;
        continue;
      }
      const img = Math.floor(k / steps);
      const a = alphas[k % steps]!;
      const src = img * per;
      for (let p = 0; p < per; p++) data[dst + p] = bd[src + p]! + a * (xd[src + p]! - bd[src + p]!);
      targets[k - s] = ctx.targets[img]!;
    }
    const r = await scoreGradients(ctx.model, f32([e - s, c, h, w], data), targets, { score: ctx.score, wrt: [name] }, buffers.inputGradient(e - s));
    const g = r.gradients[name]!.data as Float32Array;
    for (let k = Math.max(s, pathRows); k < e; k++) {
      const end = k - pathRows;
      const row: Tensor = { dtype: 'float32', dims: [1, r.logits.dims[1]!], data: (r.logits.data as Float32Array).subarray((k - s) * r.logits.dims[1]!, (k - s + 1) * r.logits.dims[1]!) };
      if (end < inputRows) scores[end] = targetScores(row, ctx.targets.subarray(end, end + 1), ctx.score, ctx.model.outputKind)[0]!;
      else if (sharedBaseline) for (let i = 0; i < n; i++) scores[n + i] = targetScores(row, ctx.targets.subarray(i, i + 1), ctx.score, ctx.model.outputKind)[0]!;
      else scores[n + end - inputRows] = targetScores(row, ctx.targets.subarray(end - inputRows, end - inputRows + 1), ctx.score, ctx.model.outputKind)[0]!;
    }
    for (let k = s; k < Math.min(e, pathRows); k++) {
      const img = Math.floor(k / steps);
      const wt = weights[k % steps]!;
      const src = (k - s) * per;
      const dst = img * per;
      for (let p = 0; p < per; p++) avg[dst + p]! += wt * g[src + p]!;
    }
  });
  const attr = new Float32Array(n * per);
  for (let p = 0; p < attr.length; p++) attr[p] = (xd[p]! - bd[p]!) * avg[p]!;

  // Completeness: sum of attributions against score(x) - score(baseline).
  const completeness = completenessOf(attr, per, scores.subarray(0, n), scores.subarray(n));
  const raw = f32(ctx.x.dims, attr);
  const params: Record<string, unknown> = { steps, rule, baseline: typeof baselineSpec === 'string' ? baselineSpec : 'given tensor' };
  if (baselineSpec === 'blurred') params['blurSigma'] = blurSigma;
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params, completeness, notes: convergenceNotes(completeness, steps, ctx.options.firstIndex ?? 0) };
}

/**
 * The gap Sundararajan et al. suggest staying within: attributions that sum to less or more than
 * 95-105% of the score's change have not converged, and a map drawn from them shows the
 * quadrature's error as much as the model (Captum returns the same number as its
 * convergence_delta and leaves it to the caller).
 */
const IG_GAP_TOLERANCE = 0.05;

/** The note of a path method (IG, layer IG, conductance) whose attributions miss the score's change by more than 5%. */
export function convergenceNotes(completeness: readonly Completeness[], steps: number, firstIndex: number, method = 'integrated-gradients'): string[] {
  const worst = completeness.reduce<{ i: number; c: Completeness } | undefined>((w, c, i) => (Number.isFinite(c.relativeGap) && c.relativeGap > (w?.c.relativeGap ?? IG_GAP_TOLERANCE) ? { i, c } : w), undefined);
  if (!worst) return [];
  const share = worst.c.scoreDifference !== 0 ? `${((worst.c.sum / worst.c.scoreDifference) * 100).toFixed(0)}% of` : `${worst.c.sum.toPrecision(3)} against`;
  return [
    `${method} has not converged at ${steps} steps: on image ${firstIndex + worst.i + 1} the attributions sum to ${share} the score's change from the baseline (gap ${(worst.c.relativeGap * 100).toFixed(1)}%, more than ${IG_GAP_TOLERANCE * 100}%); more steps (CLI: --steps ${Math.min(1000, steps * 4)}) narrow it, and where they do not, the score jumps on the path (a baseline closer to the image, such as blurred, avoids that)`,
  ];
}
