// Adversarial examples: FGSM (Goodfellow et al. 2015) and PGD (Madry et al. 2018), untargeted
// (raise the loss of the true class) or targeted (lower the loss of a chosen class), under an
// L-infinity or L2 budget measured in image space ([0, 1] per channel: 8/255 is 8 grey levels).
import { ConvLensError, describeValue } from '../../engine/errors.js';
import { finiteOption, wholeNumberOption, imagesOption } from './options.js';
import type { Tensor } from '../../engine/tensor.js';
import { gaussian, seededRandom } from '../../models/init.js';
import type { Model } from '../../models/model.js';
import { softmax } from '../predict.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { extractFeatures, modelInputSize, SynthesisSession } from './graph.js';
import { frameSteps, type AscentOptions } from './optimize.js';
import type { Objective } from './objectives.js';
import { pixelParam } from './params.js';

export type AttackMethod = 'fgsm' | 'pgd';
export type AttackNorm = 'linf' | 'l2';

export interface AttackOptions extends JobOptions, Pick<AscentOptions, 'onFrame'> {
  method?: AttackMethod;
  norm?: AttackNorm;
  /** budget: max |delta| (linf) or |delta|_2 per image (l2), image units */
  epsilon?: number;
  /** PGD step size (default 2.5 * epsilon / steps, Madry et al.) */
  stepSize?: number;
  steps?: number;
  /** targeted attack towards this class (index or label); default untargeted */
  target?: number | string;
  /** the true classes to move away from (default: the model's prediction on the clean image) */
  labels?: number[];
  /** PGD: start at a random point of the ball */
  randomStart?: boolean;
  seed?: number;
  /**
   * images told to onFrame as the attack runs (evenly spaced over the steps, the start and the
   * last step's included; default 0): each frame holds the adversarial images before rounding
   * to 8 bits, for a page to show while the attack runs
   */
  frames?: number;
  /**
   * Round the result to 8-bit levels (k/255) inside the budget, so the reported prediction and
   * norms are those of the image as a PNG holds it (the CLI writes PNGs). The clean images must
   * be 8-bit already (decoded files are).
   */
  quantize?: boolean;
}

export interface AttackImageResult {
  original: { index: number; label: string; probability: number };
  adversarial: { index: number; label: string; probability: number };
  /** probability the adversarial image gives the original class / the target */
  originalClassProbability: number;
  targetProbability?: number;
  success: boolean;
  linf: number;
  l2: number;
}

export interface AttackResult {
  /** adversarial images [N, C, H, W] in [0, 1] */
  images: Tensor;
  /** adversarial - clean */
  perturbation: Tensor;
  perImage: AttackImageResult[];
  params: Record<string, unknown>;
  /** loss per step (PGD) */
  history: number[];
}

/** Softmax cross-entropy with a one-hot input, times `sign` (+1: raise the loss, -1: lower it). */
function crossEntropy(onehot: Tensor, sign: 1 | -1): Objective {
  return {
    key: `xent(${onehot.dims.join('x')},${sign})`,
    label: 'cross-entropy',
    layers: (m) => [m.output],
    build(ctx) {
      const b = ctx.b;
      const y = ctx.input(`${ctx.scope}onehot`, [...onehot.dims]);
      const logp = b.op('LogSoftmax', [ctx.logits()], { axis: 1 });
      const ce = b.op('Neg', [b.op('ReduceSum', [b.op('Mul', [logp, y])], { keepdims: 0 })]);
      ctx.report('cross-entropy', ce);
      return sign === 1 ? ce : b.op('Neg', [ce]);
    },
    feeds: (scope = '') => new Map([[`${scope}onehot`, onehot]]),
  };
}

function resolveClass(model: Model, c: number | string): number {
  if (typeof c !== 'number' && typeof c !== 'string') throw new ConvLensError('INVALID_ARGUMENT', `A target class is an index or a label, got ${describeValue(c)}.`, `Use a class from 0 to ${model.labels.length - 1}, or a label (CLI: --target).`);
  if (typeof c === 'number' || /^\d+$/.test(c)) {
    const k = Number(c);
    if (!Number.isInteger(k) || k < 0 || k >= model.labels.length) throw new ConvLensError('INVALID_ARGUMENT', `Class ${k} does not exist: the model has ${model.labels.length} classes.`, `Use a class from 0 to ${model.labels.length - 1}, or a label (CLI: --target).`);
    return k;
  }
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const k = model.labels.findIndex((l) => norm(l) === norm(c));
  if (k < 0) throw model.unknownClassError(c);
  return k;
}

/** Projects delta (per image) onto the budget and keeps x0 + delta in [0, 1]. */
function project(x0: Float32Array, x: Float32Array, per: number, norm: AttackNorm, eps: number): void {
  for (let s = 0; s < x.length; s += per) {
    if (norm === 'linf') {
      for (let i = s; i < s + per; i++) x[i] = Math.min(1, Math.max(0, Math.min(x0[i]! + eps, Math.max(x0[i]! - eps, x[i]!))));
    } else {
      // alternate the two projections a few times; the ball and the box are both convex
      for (let rep = 0; rep < 3; rep++) {
        let n = 0;
        for (let i = s; i < s + per; i++) n += (x[i]! - x0[i]!) ** 2;
        n = Math.sqrt(n);
        const k = n > eps ? eps / n : 1;
        for (let i = s; i < s + per; i++) x[i] = Math.min(1, Math.max(0, x0[i]! + (x[i]! - x0[i]!) * k));
      }
    }
  }
}

/**
 * Rounds x to the nearest 8-bit level, keeping every image within its budget: a change rounded
 * past epsilon (linf), or an image whose L2 norm rounding took past epsilon, is rounded towards
 * x0 instead (x0 is on the grid, so |rounded change| <= |change| there). Float results written
 * as PNGs were otherwise judged on values the file does not hold - with epsilon 0.5/255 every
 * change rounds to 0 or 1/255, outside the budget, and the reported probabilities were not the
 * file's.
 */
function quantize(x0: Float32Array, x: Float32Array, per: number, norm: AttackNorm, eps: number): void {
  const within = eps * 255 + 1e-6; // the budget in grey levels
  const near = new Int32Array(per);
  const toward = new Int32Array(per);
  for (let s = 0; s < x.length; s += per) {
    let n2 = 0;
    for (let j = 0; j < per; j++) {
      const i = s + j;
      const base = Math.round(x0[i]! * 255);
      const d = x[i]! * 255 - base;
      near[j] = Math.round(x[i]! * 255) - base;
      // towards x0, with a hair of slack so 7.9999 levels (8/255 in float32) stays 8
      toward[j] = Math.trunc(d + Math.sign(d) * 1e-3);
      if (norm === 'linf' && Math.abs(near[j]!) > within) near[j] = toward[j]!;
      n2 += near[j]! ** 2;
    }
    const use = norm === 'l2' && Math.sqrt(n2) > within ? toward : near;
    for (let j = 0; j < per; j++) x[s + j] = (Math.round(x0[s + j]! * 255) + use[j]!) / 255;
  }
}

/** Ascent direction per image: sign(g) (linf) or g / |g|_2 (l2). */
function direction(g: Float32Array, per: number, norm: AttackNorm): Float32Array {
  const d = new Float32Array(g.length);
  for (let s = 0; s < g.length; s += per) {
    if (norm === 'linf') for (let i = s; i < s + per; i++) d[i] = Math.sign(g[i]!);
    else {
      let n = 0;
      for (let i = s; i < s + per; i++) n += g[i]! * g[i]!;
      n = Math.sqrt(n) || 1;
      for (let i = s; i < s + per; i++) d[i] = g[i]! / n;
    }
  }
  return d;
}

/**
 * Attacks a batch of images (image space [0, 1], [N, C, H, W] at the model's input size).
 * The returned perturbation never exceeds the budget (checked after the last step, in float64).
 */
export async function attack(model: Model, images: Tensor, o: AttackOptions = {}): Promise<AttackResult> {
  imagesOption(images, 'images to attack');
  // the loss and every reported probability are a softmax's: a multi-label head's outputs are
  // independent sigmoids, and a regression's have no probability at all
  if (model.outputKind !== 'single-label') {
    throw new ConvLensError(
      'MODEL_UNSUPPORTED',
      `Model "${model.name}" is ${model.outputKind === 'multi-label' ? 'a multi-label head (each output its own sigmoid)' : 'a regression (its outputs are values)'}: an attack raises a single-label classifier's cross-entropy over the softmax of its outputs, which this model does not compute.`,
      'Attack a single-label classifier, or declare this model one if its outputs are the logits of one softmax (CLI: --output-kind single-label).',
    );
  }
  const method = o.method ?? 'pgd';
  const norm = o.norm ?? 'linf';
  const eps = o.epsilon ?? (norm === 'linf' ? 8 / 255 : 1);
  // an infinite budget (8/0) would run and report any image as within it
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ConvLensError('INVALID_ARGUMENT', `The budget epsilon must be positive and finite, got ${eps}.`, 'Use a finite budget above 0, e.g. 8/255 (CLI: --epsilon).');
  const steps = method === 'fgsm' ? 1 : wholeNumberOption(o.steps ?? 40, 'step count', '--steps');
  const stepSize = method === 'fgsm' ? eps : finiteOption(o.stepSize ?? (2.5 * eps) / steps, 'step size', '--step-size');
  const [N, C, H, W] = images.dims as [number, 1 | 3, number, number];
  const fixed = modelInputSize(model);
  if (fixed && (fixed[0] !== H || fixed[1] !== W)) throw new ConvLensError('SHAPE_MISMATCH', `The images are ${H}x${W}; the model takes ${fixed[0]}x${fixed[1]}.`, `Resize the images to ${fixed[0]}x${fixed[1]} before the attack.`);
  const per = C * H * W;
  const x0 = Float32Array.from(images.data as Float32Array);
  const K = model.labels.length;
  const shape = { batch: N, channels: C, height: H, width: W };
  const param = pixelParam({ range: 'clip' });

  // Clean predictions (and the labels to move away from).
  const clean = await logitsOf(model, shape, x0);
  const cleanPred = rows(clean, N, K).map((z) => top(model, z));
  const target = o.target !== undefined ? resolveClass(model, o.target) : undefined;
  const labels = o.labels ?? cleanPred.map((p) => p.index);
  const onehot = new Float32Array(N * K);
  for (let i = 0; i < N; i++) onehot[i * K + (target ?? labels[i]!)] = 1;
  const session = await SynthesisSession.create({ model, shape, param, objective: crossEntropy({ dtype: 'float32', dims: [N, K], data: onehot }, target === undefined ? 1 : -1) }, [model.output]);

  const x = Float32Array.from(x0);
  if (method === 'pgd' && o.randomStart) {
    const rand = seededRandom(o.seed ?? 0);
    for (let i = 0; i < x.length; i++) x[i] = x0[i]! + (norm === 'linf' ? (2 * rand() - 1) * eps : (gaussian(rand) * eps) / Math.sqrt(per));
    project(x0, x, per, norm, eps);
  }
  const history: number[] = [];
  const told = o.onFrame ? frameSteps(steps, o.frames ?? 0) : new Set<number>();
  const tell = (step: number): void => {
    if (told.has(step)) o.onFrame!({ step, image: Float32Array.from(x) }, shape);
  };
  tell(0);
  for (let s = 0; s < steps; s++) {
    throwIfCancelled(o.signal, 'the attack');
    const r = await session.step(x);
    history.push(r.terms['cross-entropy'] ?? -r.value);
    const d = direction(r.grad, per, norm);
    for (let i = 0; i < x.length; i++) x[i]! += stepSize * d[i]!;
    project(x0, x, per, norm, eps);
    o.onProgress?.({ done: s + 1, total: steps, phase: method.toUpperCase(), metrics: { 'cross-entropy': history[history.length - 1]! } });
    tell(s + 1);
  }
  if (o.quantize) quantize(x0, x, per, norm, eps);
  const adv = await logitsOf(model, shape, x);
  const perImage: AttackImageResult[] = [];
  const delta = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) delta[i] = x[i]! - x0[i]!;
  rows(adv, N, K).forEach((z, i) => {
    const p = softmax(z);
    const a = top(model, z);
    let linf = 0;
    let l2 = 0;
    for (let q = i * per; q < (i + 1) * per; q++) {
      linf = Math.max(linf, Math.abs(delta[q]!));
      l2 += delta[q]! ** 2;
    }
    perImage.push({
      original: cleanPred[i]!,
      adversarial: a,
      originalClassProbability: p[labels[i]!]!,
      ...(target !== undefined ? { targetProbability: p[target]! } : {}),
      success: target !== undefined ? a.index === target : a.index !== labels[i],
      linf,
      l2: Math.sqrt(l2),
    });
  });
  return {
    images: { dtype: 'float32', dims: [N, C, H, W], data: x },
    perturbation: { dtype: 'float32', dims: [N, C, H, W], data: delta },
    perImage,
    params: { method, norm, epsilon: eps, stepSize, steps, target: target ?? null, randomStart: !!o.randomStart, seed: o.seed ?? 0 },
    history,
  };
}

async function logitsOf(model: Model, shape: { batch: number; channels: 1 | 3; height: number; width: number }, x: Float32Array): Promise<Float32Array> {
  const [z] = await extractFeatures(model, { dtype: 'float32', dims: [shape.batch, shape.channels, shape.height, shape.width], data: x }, [{ layer: model.output }]);
  return z!.data as Float32Array;
}

function rows(z: Float32Array, n: number, k: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => z.subarray(i * k, (i + 1) * k));
}

function top(model: Model, z: Float32Array): { index: number; label: string; probability: number } {
  const p = softmax(z);
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return { index: best, label: model.labels[best] ?? `class ${best}`, probability: p[best]! };
}
