// The ascent loop every method shares: sample this step's warp, run the compiled synthesis
// graph (objective, gradient, image), update theta in place, apply the in-array regularizers,
// keep frames for the strip and the GIF, report progress, stop between steps when cancelled.
// Optimizers: Adam and SGD (from the trainer), DeepDream's L1-normalized step, and L-BFGS.
import { ConvLensError } from '../../engine/errors.js';
import { seededRandom } from '../../models/init.js';
import { createOptimizer } from '../../training/optimizers.js';
import { divergenceHint, type DivergenceSetting } from '../../training/divergence.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import type { ImageShape, StepResult, SynthesisSession } from './graph.js';
import type { Parameterization } from './params.js';
import { sampleWarp, type Transform, type Warp } from './transforms.js';
import { mapFloat32 } from '../../engine/tensor.js';

export type OptimizerName = 'adam' | 'sgd' | 'l1-sgd' | 'lbfgs';

/** Regularizers applied to theta between steps (Yosinski et al. 2015, "Understanding Neural Networks Through Deep Visualization"). */
export interface StepRegularizers {
  /** L2 decay: theta moves towards grey by this fraction each step */
  decay?: number;
  /** Gaussian blur of the image every `every` steps */
  blur?: { every: number; sigma: number };
  /** pixels whose norm (distance from grey over the channels) is below this percentile (0-100) are set to grey */
  clipNormPercentile?: number;
  /** pixels whose contribution |sum_c (x - grey) * grad| is below this percentile are set to grey */
  clipContributionPercentile?: number;
}

export interface AscentOptions extends JobOptions {
  steps: number;
  lr: number;
  optimizer?: OptimizerName;
  /** random transforms each step (the session must have a warp) */
  transforms?: readonly Transform[];
  /** seeds the transforms (the initial theta is the caller's) */
  seed?: number;
  regularizers?: StepRegularizers;
  /** keep this many frames, evenly spaced from the start to the end (0 = none) */
  frames?: number;
  /**
   * told each kept frame as it is taken (a page shows the image while it is optimized), with the
   * images' shape; its step counts as progress does (progressOffset + step), so the frames of a
   * job of several runs (octaves, layers) go on rising
   */
  onFrame?: (frame: Frame, shape: ImageShape) => void;
  /**
   * false: kept frames go to onFrame only, not into the result (a job that shows them as they
   * come needs no copies of a large image held to the end)
   */
  keepFrames?: boolean;
  /** progress: label, and where this run sits in a longer job */
  phase?: string;
  progressOffset?: number;
  progressTotal?: number;
  /** L-BFGS history length */
  history?: number;
  /**
   * What the hint names when the objective stops being finite: the step size and the weights of
   * the objective's terms, as the caller's user sets them (default: --lr alone)
   */
  divergence?: readonly DivergenceSetting[];
}

/** Stops a run whose objective or gradient is no longer finite: going on would only write a blank or unchanged image. */
function checkFinite(r: StepResult, step: number, o: AscentOptions): void {
  let bad: number | undefined = Number.isFinite(r.value) ? undefined : r.value;
  if (bad === undefined) {
    for (let i = 0; i < r.grad.length; i++) {
      if (!Number.isFinite(r.grad[i]!)) {
        bad = r.grad[i]!;
        break;
      }
    }
    if (bad === undefined) return;
    throw new ConvLensError('RUNTIME_FAILURE', `The objective's gradient became ${bad} at step ${step}.`, hintFor(o));
  }
  throw new ConvLensError('RUNTIME_FAILURE', `The objective became ${bad} at step ${step}.`, hintFor(o));
}

const hintFor = (o: AscentOptions): string =>
  o.divergence ? divergenceHint(o.divergence) : divergenceHint([{ option: '--lr', what: 'learning rate', value: o.lr, usualMax: 10 }], 'add a regularizer');

export interface Frame {
  step: number;
  image: Float32Array;
  /** class visualization in batches: the class each of the frame's images maximizes */
  classes?: readonly number[];
}

export interface AscentResult {
  theta: Float32Array;
  /** the final image (image space [0, 1]) */
  image: Float32Array;
  /** objective (and labelled terms) per step, before that step's update */
  history: { step: number; value: number; terms: Record<string, number> }[];
  frames: Frame[];
  /** the last step's fetched values (at the final theta) */
  final: StepResult;
  /**
   * The gradient was exactly zero at every step: the objective does not respond to the image
   * (a dead channel or network - ReLUs off everywhere), so nothing moved it but the regularizers.
   */
  zeroGradient?: boolean;
}

function keepFrame(frames: Frame[], frame: Frame, shape: ImageShape, o: AscentOptions): void {
  if (o.keepFrames !== false) frames.push(frame);
  o.onFrame?.(o.progressOffset ? { ...frame, step: o.progressOffset + frame.step } : frame, shape);
}

/** Steps at which to keep frames: 0, ..., steps (`count` of them, evenly spaced). */
export function frameSteps(steps: number, count: number): Set<number> {
  const out = new Set<number>();
  if (count <= 0) return out;
  if (count === 1) return new Set([steps]);
  for (let i = 0; i < count; i++) out.add(Math.round((i * steps) / (count - 1)));
  return out;
}

/** Percentile (0-100) of an array, by sorting a copy. */
function percentileOf(a: Float32Array, p: number): number {
  const s = Float32Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor((p / 100) * (s.length - 1))))]!;
}

/** Applies the between-step regularizers to theta in place. */
export function applyRegularizers(theta: Float32Array, grad: Float32Array, param: Parameterization, shape: ImageShape, step: number, r: StepRegularizers): void {
  const grey = param.clip ? 0.5 : 0;
  if (r.decay) for (let i = 0; i < theta.length; i++) theta[i] = grey + (theta[i]! - grey) * (1 - r.decay);
  if (r.blur && r.blur.every > 0 && (step + 1) % r.blur.every === 0) {
    if (!param.blur) throw new ConvLensError('INVALID_ARGUMENT', `The ${param.kind} parameterization cannot be blurred.`, 'Leave out the blur regularizer (CLI: --blur-every), or give the parameterization a blur method.');
    param.blur(theta, shape, r.blur.sigma);
  }
  if (r.clipNormPercentile || r.clipContributionPercentile) {
    if (param.kind !== 'pixel') throw new ConvLensError('INVALID_ARGUMENT', 'Norm and contribution clipping need the pixel parameterization.', 'Use the pixel parameterization (CLI: --param pixel).');
    const { batch: N, channels: C, height: H, width: W } = shape;
    const plane = H * W;
    for (let i = 0; i < N; i++) {
      const norm = new Float32Array(plane);
      const contrib = new Float32Array(plane);
      for (let c = 0; c < C; c++) {
        const o = (i * C + c) * plane;
        for (let p = 0; p < plane; p++) {
          const d = theta[o + p]! - grey;
          norm[p]! += d * d;
          contrib[p]! += d * grad[o + p]!;
        }
      }
      for (let p = 0; p < plane; p++) contrib[p] = Math.abs(contrib[p]!);
      const tn = r.clipNormPercentile ? percentileOf(norm, r.clipNormPercentile) : -1;
      const tc = r.clipContributionPercentile ? percentileOf(contrib, r.clipContributionPercentile) : -1;
      for (let p = 0; p < plane; p++) {
        if (norm[p]! < tn || contrib[p]! < tc) for (let c = 0; c < C; c++) theta[(i * C + c) * plane + p] = grey;
      }
    }
  }
  if (param.clip) for (let i = 0; i < theta.length; i++) theta[i] = Math.min(1, Math.max(0, theta[i]!));
}

/**
 * Gradient ascent on the session's objective from `theta` (updated in place). Deterministic for
 * a given seed: the warp is drawn from a seeded generator, everything else is fixed arithmetic.
 */
export async function ascend(session: SynthesisSession, theta: Float32Array, o: AscentOptions): Promise<AscentResult> {
  const { param, shape } = session.spec;
  const name = o.optimizer ?? 'adam';
  if (name === 'lbfgs') return lbfgs(session, theta, o);
  const rand = seededRandom(o.seed ?? 0);
  const warpSize = session.spec.warp;
  const warpAt = (): Warp | undefined => (warpSize ? sampleWarp(o.transforms ?? [], shape.height, shape.width, warpSize.height, warpSize.width, rand) : undefined);
  const adam = name === 'adam' ? createOptimizer({ type: 'adam' }, new Map([['theta', [theta.length]]])) : undefined;
  const params = new Map([['theta', theta]]);
  const keep = frameSteps(o.steps, o.frames ?? 0);
  const frames: Frame[] = [];
  const history: AscentResult['history'] = [];
  const neg = new Float32Array(theta.length);
  const total = o.progressTotal ?? o.steps;
  const offset = o.progressOffset ?? 0;
  let last: StepResult | undefined;
  let moved = false;
  for (let step = 0; step <= o.steps; step++) {
    throwIfCancelled(o.signal, o.phase ?? 'the synthesis');
    const r = await session.step(theta, warpAt());
    last = r;
    checkFinite(r, step, o);
    if (keep.has(step)) keepFrame(frames, { step, image: Float32Array.from(r.image) }, shape, o);
    if (step === o.steps) break; // the last run only evaluates the final image
    history.push({ step, value: r.value, terms: r.terms });
    const g = r.grad;
    if (!moved) for (let i = 0; i < g.length && !moved; i++) moved = g[i] !== 0;
    if (adam) {
      for (let i = 0; i < g.length; i++) neg[i] = -g[i]!;
      adam.update(params, new Map([['theta', neg]]), o.lr);
    } else if (name === 'sgd') {
      for (let i = 0; i < g.length; i++) theta[i]! += o.lr * g[i]!;
    } else {
      // DeepDream: step size divided by the mean |gradient|, so every step moves pixels by about
      // lr, whatever the scale of the layer. No additive epsilon: with `+ 1e-8` a layer whose
      // gradients are ~1e-12 (small activations, a freshly initialized network) moved pixels by
      // 1e-4 of the step, and the dream came back as the photo. A zero gradient takes no step.
      let s = 0;
      for (let i = 0; i < g.length; i++) s += Math.abs(g[i]!);
      const mean = s / g.length;
      const k = mean > 0 ? o.lr / mean : 0;
      for (let i = 0; i < g.length; i++) theta[i]! += k * g[i]!;
    }
    applyRegularizers(theta, g, param, shape, step, o.regularizers ?? {});
    o.onProgress?.({ done: offset + step + 1, total, phase: o.phase ?? 'optimizing', metrics: { objective: r.value, ...r.terms } });
  }
  return { theta, image: Float32Array.from(last!.image), history, frames, final: last!, ...(o.steps > 0 && !moved ? { zeroGradient: true } : {}) };
}

/**
 * L-BFGS (Nocedal & Wright, algorithm 7.4) minimizing -objective, with a backtracking Armijo line
 * search; `steps` iterations. The objective must be deterministic (no random transforms).
 * Theta is clamped to [0, 1] only at the end (pixel values rarely leave it in style transfer).
 */
export async function lbfgs(session: SynthesisSession, theta: Float32Array, o: AscentOptions): Promise<AscentResult> {
  if (session.spec.warp) throw new ConvLensError('INVALID_ARGUMENT', 'L-BFGS needs a deterministic objective: it cannot be combined with random transforms.', 'Use the Adam optimizer (CLI: --optimizer adam), or no transforms.');
  const m = o.history ?? 10;
  const n = theta.length;
  const S: Float32Array[] = [];
  const Y: Float32Array[] = [];
  const rho: number[] = [];
  const keep = frameSteps(o.steps, o.frames ?? 0);
  const frames: Frame[] = [];
  const history: AscentResult['history'] = [];
  const total = o.progressTotal ?? o.steps;
  const offset = o.progressOffset ?? 0;
  const evaluate = async (x: Float32Array): Promise<{ f: number; g: Float32Array; r: StepResult }> => {
    const r = await session.step(x);
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) g[i] = -r.grad[i]!;
    return { f: -r.value, g, r };
  };
  const dot = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
    return s;
  };
  let cur = await evaluate(theta);
  // the line search below only takes finite values: a start that is not finite ended the run
  // unchanged, as if it had converged
  checkFinite(cur.r, 0, o);
  if (keep.has(0)) keepFrame(frames, { step: 0, image: Float32Array.from(cur.r.image) }, session.spec.shape, o);
  for (let it = 0; it < o.steps; it++) {
    throwIfCancelled(o.signal, o.phase ?? 'the synthesis');
    history.push({ step: it, value: -cur.f, terms: cur.r.terms });
    // two-loop recursion: d = -H g
    const q = Float64Array.from(cur.g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      let a = 0;
      for (let i = 0; i < n; i++) a += S[k]![i]! * q[i]!;
      a *= rho[k]!;
      alpha[k] = a;
      for (let i = 0; i < n; i++) q[i]! -= a * Y[k]![i]!;
    }
    let gamma = 1;
    if (S.length) gamma = dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!);
    for (let i = 0; i < n; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      let bta = 0;
      for (let i = 0; i < n; i++) bta += Y[k]![i]! * q[i]!;
      bta *= rho[k]!;
      for (let i = 0; i < n; i++) q[i]! += S[k]![i]! * (alpha[k]! - bta);
    }
    const d = mapFloat32(q, (v) => -v);
    let gd = dot(cur.g, d);
    if (!(gd < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -cur.g[i]!;
      gd = dot(cur.g, d);
    }
    // first step: scale so it moves by about lr (PyTorch's min(1, 1/|g|_1) * lr)
    let t = S.length ? 1 : Math.min(1, 1 / (cur.g.reduce((a, v) => a + Math.abs(v), 0) / n + 1e-12)) * o.lr;
    let next: typeof cur | undefined;
    const trial = new Float32Array(n);
    for (let ls = 0; ls < 12; ls++) {
      for (let i = 0; i < n; i++) trial[i] = theta[i]! + t * d[i]!;
      const e = await evaluate(trial);
      if (Number.isFinite(e.f) && e.f <= cur.f + 1e-4 * t * gd) {
        next = e;
        break;
      }
      t *= 0.5;
    }
    if (!next) break; // no decrease along the direction: converged as far as float32 allows
    const s = new Float32Array(n);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = trial[i]! - theta[i]!;
      y[i] = next.g[i]! - cur.g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    checkFinite(next.r, it + 1, o);
    theta.set(trial);
    cur = next;
    if (keep.has(it + 1)) keepFrame(frames, { step: it + 1, image: Float32Array.from(cur.r.image) }, session.spec.shape, o);
    o.onProgress?.({ done: offset + it + 1, total, phase: o.phase ?? 'optimizing', metrics: { loss: cur.f, ...cur.r.terms } });
  }
  const { param } = session.spec;
  if (param.clip) {
    for (let i = 0; i < n; i++) theta[i] = Math.min(1, Math.max(0, theta[i]!));
    cur = await evaluate(theta);
  }
  if (keep.has(o.steps) && frames[frames.length - 1]?.step !== o.steps) keepFrame(frames, { step: o.steps, image: Float32Array.from(cur.r.image) }, session.spec.shape, o);
  return { theta, image: Float32Array.from(cur.r.image), history, frames, final: cur.r };
}
