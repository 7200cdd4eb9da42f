// ROAD, RemOve And Debias (Rong et al. 2022): remove a fraction of the pixels, most relevant
// first (MoRF) or least relevant first (LeRF), fill them by noisy linear imputation (each
// removed pixel the weighted mean of its 8 neighbours, 1/6 direct and 1/12 diagonal, solved as
// one sparse linear system per channel, plus N(0, 0.01) noise), and follow the target's score.
// The imputation leaves no sharp mask edges for the model to react to, so the score measures
// the information removed rather than the shape of the hole. A faithful map: MoRF falls fast,
// LeRF stays high; `combined` = (mean LeRF - mean MoRF) / 2 as pytorch-grad-cam's ROADCombined.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { nchw, normalSource, seedOf } from '../explain/arrays.js';
import { batchSizeOption, scoreInputs, Work } from '../explain/session.js';
import { checkScoredBatch } from './arguments.js';
import { defaultCurveScore, type ScoreKind } from '../explain/target.js';
import type { JobOptions } from '../../engine/jobs.js';
import { pixelOrder } from './deletion-insertion.js';
import { solveImputation } from './linear-imputation.js';

export interface RoadOptions extends JobOptions {
  /** fractions of pixels removed (default 0.1, 0.2, ..., 0.9, as the paper and pytorch-grad-cam) */
  fractions?: number[];
  /** standard deviation of the imputation noise, in model input space (default 0.01) */
  noise?: number;
  /** what is followed (default 'prob') */
  score?: ScoreKind;
  seed?: number;
  batchSize?: number;
}

export interface RoadCurves {
  fractions: number[];
  /** per image, the score after removing each fraction, most relevant first */
  morf: number[][];
  /** least relevant first */
  lerf: number[][];
  meanMorf: number[];
  meanLerf: number[];
  /** per image (mean LeRF - mean MoRF) / 2: higher is more faithful */
  combined: number[];
  meanCombined: number;
}

/**
 * Noisy linear imputation of one image [C, H, W] in place: pixels where `removed` is 1 become
 * the solution of s_i v_i - sum_{removed j} w_ij v_j = sum_{kept j} w_ij x_j (s_i: the weights of
 * the neighbours inside the image; see linear-imputation.ts), plus noise.
 */
export function imputeLinear(image: Float32Array, c: number, h: number, w: number, removed: Uint8Array, noise: number, normal: () => number): void {
  const hw = h * w;
  let m = 0;
  for (let p = 0; p < hw; p++) if (removed[p]) m++;
  if (m === 0) return;
  if (m === hw) throw new ConvLensError('INVALID_ARGUMENT', 'ROAD cannot impute an image with every pixel removed.', 'Use fractions below 1.');
  solveImputation(image, c, h, w, removed);
  if (noise > 0) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) if (removed[p]) image[ch * hw + p]! += noise * normal();
}

/** ROAD curves of several maps ([N, H, W] each, at input resolution). */
export async function road(model: Model, x: Tensor, targets: Int32Array, maps: readonly Tensor[], o: RoadOptions = {}): Promise<RoadCurves[]> {
  checkScoredBatch(model, x, targets);
  const [n, c, h, w] = nchw(x);
  const fractions = o.fractions ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  // with none, every mean below divides by zero and the curves come back NaN
  if (!Array.isArray(fractions) || fractions.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'ROAD needs at least one fraction of pixels to remove.', 'Use fractions strictly between 0 and 1, e.g. [0.1, 0.2, ..., 0.9] (the default).');
  for (const f of fractions) if (!(f > 0 && f < 1)) throw new ConvLensError('INVALID_ARGUMENT', `ROAD fractions must lie strictly between 0 and 1, got ${f}.`, 'Use fractions strictly between 0 and 1, e.g. 0.1 to 0.9.');
  const noise = o.noise ?? 0.01;
  const seed = seedOf(o.seed, 'The ROAD seed');
  if (!(noise >= 0)) throw new ConvLensError('INVALID_ARGUMENT', `ROAD noise must be >= 0, got ${noise}.`, 'Use a noise of 0 or more (the default is 0.01).');
  for (const m of maps) {
    if (m.dims.length !== 3 || m.dims[0] !== n || m.dims[1] !== h || m.dims[2] !== w) {
      throw new ConvLensError('SHAPE_MISMATCH', `A map has shape [${m.dims.join(', ')}]; ROAD needs [${n}, ${h}, ${w}] (one map per image at input resolution).`, `Pass one map per image at input resolution, [${n}, ${h}, ${w}]; upsample coarse maps first (e.g. resizeBilinear).`);
    }
  }
  const hw = h * w;
  const per = c * hw;
  const xd = x.data as Float32Array;
  const orders = maps.map((m) => Array.from({ length: n }, (_, i) => pixelOrder((m.data as Float32Array).subarray(i * hw, (i + 1) * hw), seed + i)));
  const f = fractions.length;
  // Item k: map, image, order (MoRF / LeRF), fraction.
  const perMap = n * 2 * f;
  const decode = (k: number): { m: number; i: number; lerf: boolean; s: number } => {
    const m = Math.floor(k / perMap);
    let r = k % perMap;
    const i = Math.floor(r / (2 * f));
    r %= 2 * f;
    return { m, i, lerf: r >= f, s: r % f };
  };
  const total = maps.length * perMap;
  const batch = batchSizeOption(model, o.batchSize, 'forward');
  const work = new Work(o, 'road', Math.ceil(total / batch));
  const scores = await scoreInputs(
    model,
    [c, h, w],
    total,
    batch,
    (k, into) => {
      const { m, i, lerf, s } = decode(k);
      into.set(xd.subarray(i * per, (i + 1) * per));
      const order = orders[m]![i]!;
      const count = Math.round(fractions[s]! * hw);
      const removed = new Uint8Array(hw);
      for (let r = 0; r < count; r++) removed[lerf ? order[hw - 1 - r]! : order[r]!] = 1;
      imputeLinear(into, c, h, w, removed, noise, normalSource(seed * 7919 + k));
    },
    (k) => targets[decode(k).i]!,
    o.score ?? defaultCurveScore(model),
    work,
  );
  return maps.map((_, m) => {
    const morf: number[][] = [];
    const lerf: number[][] = [];
    for (let i = 0; i < n; i++) {
      const base = m * perMap + i * 2 * f;
      morf.push(Array.from(scores.subarray(base, base + f)));
      lerf.push(Array.from(scores.subarray(base + f, base + 2 * f)));
    }
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    const meanMorf = morf.map(mean);
    const meanLerf = lerf.map(mean);
    const combined = meanLerf.map((l, i) => (l - meanMorf[i]!) / 2);
    return { fractions, morf, lerf, meanMorf, meanLerf, combined, meanCombined: mean(combined) };
  });
}
