// Captum's infidelity and max-sensitivity (Yeh et al. 2019), for maps [N, H, W].
//
// Infidelity: E_I[(I . a - (f(x) - f(x - I)))^2] over random perturbations I; `I . a` sums
// I over channels and pixels weighted by the map (the map broadcast over channels, as Captum
// broadcasts attributions). With `normalize` (the default here; Captum's default is off) the map
// is first scaled by the beta that minimizes the expression, so maps of any scale compare.
// Max-sensitivity: max over perturbed copies x + U(-r, r) of ||e(x + d) - e(x)|| / ||e(x)||
// (Frobenius norms), e the explanation, as Captum's sensitivity_max with its default perturbation.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { f32, nchw, normalSource, seedOf, uniformSource } from '../explain/arrays.js';
import { explain } from '../explain/index.js';
import { batchSizeOption, scoreInputs, Work } from '../explain/session.js';
import { checkScoredBatch } from './arguments.js';
import type { ScoreKind } from '../explain/target.js';
import type { ExplainOptions, Explanation, MethodName } from '../explain/types.js';
import type { JobOptions, Progress } from '../../engine/jobs.js';

export interface InfidelityOptions extends JobOptions {
  /** perturbations per image (default 10, Captum's n_perturb_samples) */
  samples?: number;
  /** standard deviation of the Gaussian perturbation in model input space (default 0.1) */
  sigma?: number;
  /** scale the map by the best beta first (default true) */
  normalize?: boolean;
  /** what f is (default 'logit') */
  score?: ScoreKind;
  seed?: number;
  batchSize?: number;
}

/** Infidelity of each map, per image. */
export async function infidelity(model: Model, x: Tensor, targets: Int32Array, maps: readonly Tensor[], o: InfidelityOptions = {}): Promise<number[][]> {
  checkScoredBatch(model, x, targets);
  const [n, c, h, w] = nchw(x);
  const samples = o.samples ?? 10;
  const sigma = o.sigma ?? 0.1;
  if (!Number.isInteger(samples) || samples < 1) throw new ConvLensError('INVALID_ARGUMENT', `Infidelity samples must be a positive integer, got ${samples}.`, 'Use 1 or more samples (the default is 10).');
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new ConvLensError('INVALID_ARGUMENT', `Infidelity sigma must be a finite number > 0, got ${sigma}.`, 'Use a sigma above 0 (the default is 0.1).');
  const hw = h * w;
  const per = c * hw;
  const xd = x.data as Float32Array;
  const normal = normalSource(seedOf(o.seed, 'The infidelity seed'));
  const score = o.score ?? 'logit';
  const batch = batchSizeOption(model, o.batchSize, 'forward');
  const work = new Work(o, 'infidelity', Math.ceil((n * (samples + 1)) / batch));
  // The perturbations, one copy at a time: 200 copies at 224 px took 1.3 s, past any abort.
  const noise = new Float32Array(n * samples * per);
  const draws = new Float64Array(per);
  for (let q = 0; q < n * samples; q++) {
    await work.pause();
    normal.fill(draws);
    for (let p = 0; p < per; p++) noise[q * per + p] = sigma * draws[p]!;
  }
  // Rows: the n clean images, then n * samples perturbed ones (x - I).
  const f = await scoreInputs(
    model,
    [c, h, w],
    n * (samples + 1),
    batch,
    (k, into) => {
      if (k < n) return void into.set(xd.subarray(k * per, (k + 1) * per));
      const q = k - n;
      const i = Math.floor(q / samples);
      for (let p = 0; p < per; p++) into[p] = xd[i * per + p]! - noise[q * per + p]!;
    },
    (k) => targets[k < n ? k : Math.floor((k - n) / samples)]!,
    score,
    work,
  );
  return maps.map((m) => {
    if (m.dims.length !== 3 || m.dims[0] !== n || m.dims[1] !== h || m.dims[2] !== w) throw new ConvLensError('SHAPE_MISMATCH', `A map has shape [${m.dims.join(', ')}]; infidelity needs [${n}, ${h}, ${w}].`, `Pass one map per image at input resolution, [${n}, ${h}, ${w}]; upsample coarse maps first (e.g. resizeBilinear).`);
    const md = m.data as Float32Array;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      let aa = 0;
      let ad = 0;
      let dd = 0;
      for (let s = 0; s < samples; s++) {
        const q = i * samples + s;
        let dot = 0;
        for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) dot += noise[q * per + ch * hw + p]! * md[i * hw + p]!;
        const diff = f[i]! - f[n + q]!;
        aa += dot * dot;
        ad += dot * diff;
        dd += diff * diff;
      }
      const beta = o.normalize === false ? 1 : aa > 0 ? ad / aa : 0;
      out.push((beta * beta * aa - 2 * beta * ad + dd) / samples);
    }
    return out;
  });
}

export interface SensitivityOptions extends JobOptions {
  /** perturbed copies per image (default 10, Captum's n_perturb_samples) */
  samples?: number;
  /** radius of the uniform L-infinity perturbation in model input space (default 0.02, Captum's) */
  radius?: number;
  seed?: number;
  /** the explanation of `x` itself with the same methods and targets, when the caller has it (the studio's report, the CLI's run): not computed again */
  original?: Explanation;
}

/** Max-sensitivity of each method's map, per image: the explanation is recomputed on perturbed copies. */
export async function maxSensitivity(model: Model, x: Tensor, targets: Int32Array, methods: readonly MethodName[], options: Omit<ExplainOptions, 'methods' | 'target'>, o: SensitivityOptions = {}): Promise<Record<string, number[]>> {
  const [n, c, h, w] = nchw(x);
  const samples = o.samples ?? 10;
  const radius = o.radius ?? 0.02;
  if (!Number.isInteger(samples) || samples < 1) throw new ConvLensError('INVALID_ARGUMENT', `Sensitivity samples must be a positive integer, got ${samples}.`, 'Use 1 or more samples (the default is 10).');
  if (!(radius > 0 && Number.isFinite(radius))) throw new ConvLensError('INVALID_ARGUMENT', `Sensitivity radius must be a finite number > 0, got ${radius}.`, 'Use a radius above 0 (the default is 0.02).');
  const per = c * h * w;
  const hw = h * w;
  const xd = x.data as Float32Array;
  const rand = uniformSource(seedOf(o.seed, 'The sensitivity seed'));
  const data = new Float32Array(n * samples * per);
  for (let q = 0; q < n * samples; q++) {
    const i = Math.floor(q / samples);
    for (let p = 0; p < per; p++) data[q * per + p] = xd[i * per + p]! + radius * (2 * rand() - 1);
  }
  const base = { ...options, ...(o.signal ? { signal: o.signal } : {}) };
  const clean = o.original ?? (await explain(model, x, { ...base, methods, target: Array.from(targets) }));
  // The s-th perturbed copies of the n images are explained together, as the batch itself:
  // seeded methods (SmoothGrad, VarGrad, GradientSHAP, DeepLiftShap) draw their noise by batch
  // position, so each copy gets its own image's draw and the score measures the perturbation.
  // Explained as one batch of n x samples, copy q drew the noise of image q, and SmoothGrad's
  // "sensitivity" was its Monte Carlo spread (0.97 against saliency's 0.35 on SqueezeNet's cat).
  const e1s = new Map<string, Float32Array[]>(methods.map((m) => [m, []]));
  for (let s = 0; s < samples; s++) {
    const copies = new Float32Array(n * per);
    for (let i = 0; i < n; i++) copies.set(data.subarray((i * samples + s) * per, (i * samples + s + 1) * per), i * per);
    // explain counts each method's own runs (its part): a copy is one unit per method, so the
    // count moves evenly over the copies whatever each method's number of runs
    const progress = o.onProgress
      ? (p: Progress): void => {
          const count = p.part?.count ?? 1;
          const { part: _part, ...rest } = p;
          o.onProgress!({ ...rest, done: s * count + (p.part?.index ?? 0) + p.done / Math.max(1, p.total), total: samples * count, phase: `max-sensitivity: perturbed copy ${s + 1} of ${samples}`, within: { done: p.done, total: p.total, ...(p.phase ? { phase: p.phase } : {}) } });
        }
      : undefined;
    const noisy = await explain(model, f32([n, c, h, w], copies), { ...base, methods, target: Array.from(targets), ...(progress ? { onProgress: progress } : {}) });
    for (const a of noisy.attributions) e1s.get(a.method)?.push(a.map.data as Float32Array);
  }
  const out: Record<string, number[]> = {};
  for (const a of clean.attributions) {
    const maps = e1s.get(a.method);
    if (!maps || maps.length !== samples) continue;
    const e0 = a.map.data as Float32Array;
    const e1 = { at: (q: number, p: number): number => maps[q % samples]![Math.floor(q / samples) * hw + p]! };
    out[a.method] = Array.from({ length: n }, (_, i) => {
      let norm = 0;
      for (let p = 0; p < hw; p++) norm += e0[i * hw + p]! ** 2;
      norm = Math.sqrt(norm);
      let worst = 0;
      for (let s = 0; s < samples; s++) {
        const q = i * samples + s;
        let d = 0;
        for (let p = 0; p < hw; p++) d += (e1.at(q, p) - e0[i * hw + p]!) ** 2;
        worst = Math.max(worst, norm > 0 ? Math.sqrt(d) / norm : Math.sqrt(d));
      }
      return worst;
    });
  }
  return out;
}
