// Feature visualization (Olah et al., Distill 2017; Lucid's render.render_vis): gradient ascent
// on an objective from a seeded start, through a parameterization and random transforms, with
// regularizers. Multi-faceted visualization (Nguyen et al. 2016): cluster a class's training
// images by their activations and visualize each cluster's direction together with the class.
import { ConvLensError } from '../../engine/errors.js';
import { finiteOption, imageSizeOption, wholeNumberOption } from './options.js';
import type { Tensor } from '../../engine/tensor.js';
import { gaussian, seededRandom } from '../../models/init.js';
import type { Model } from '../../models/model.js';
import { outputProbabilities } from '../../models/output-kind.js';
import { throwIfCancelled, type JobOptions } from '../../engine/jobs.js';
import { extractFeatures, modelChannels, modelInputSize, SynthesisSession, type ImageShape } from './graph.js';
import { classLogit, classLogits, direction, imageMatch, l1, l2, parseObjective, sum, tv, weighted, type Objective } from './objectives.js';
import { ascend, type AscentOptions, type Frame, type OptimizerName, type StepRegularizers } from './optimize.js';
import { fourierParam, pixelParam, type Parameterization } from './params.js';
import { parseTransforms, standardTransforms, type Transform } from './transforms.js';

export interface FeatvizOptions extends JobOptions, Pick<AscentOptions, 'onFrame'> {
  /** what to maximize: an Objective or a string (see parseObjective); `class:*` = one image per class */
  objective: Objective | string;
  /** images optimized together (default 1, or the class count for `class:*`) */
  batch?: number;
  /** image size (default: the model's input size, 128 for models that take any size) */
  size?: [number, number];
  /** 'fourier' (default, decorrelated colour) or 'pixel' (sigmoid range), or any Parameterization */
  param?: 'fourier' | 'pixel' | Parameterization;
  /** random transforms each step: a list, a spec string, or 'standard' (default) / 'none' */
  transforms?: readonly Transform[] | string;
  steps?: number;
  lr?: number;
  optimizer?: OptimizerName;
  seed?: number;
  /** start: zero (grey), noise (default: the parameterization's small random start), or images [N, C, H, W] in [0, 1] */
  start?: 'zero' | 'noise' | Tensor;
  /** in-graph penalties on the image, weights (subtracted from the objective); L1/L2 pull towards `background` */
  penalties?: { l1?: number; l2?: number; tv?: number };
  /** the neutral grey level: L1/L2 centre, what transforms show outside the image, the 'zero' start (default 0.5; 0 for black-background data such as Fashion-MNIST) */
  background?: number;
  /** between-step regularizers (decay, blur every k steps, norm/contribution clipping) */
  regularizers?: StepRegularizers;
  /** frames kept for the strip and the GIF (default 8) */
  frames?: number;
}

/**
 * The caption of an image made to raise output `visualized` of a multi-label head: that output's
 * own sigmoid, yes from 0.5 (its outputs are no rivals, so the top output, "class 11 56%" under an
 * image made for class 24, says nothing about it); undefined for other heads, which caption the
 * prediction. `said` follows the figure (a figure's small tiles say it once, in a note).
 */
export function visualizedOutputCaption(model: Model, prediction: { logits: number[] } | undefined, visualized: number | undefined, said = ' (its own sigmoid)'): string | undefined {
  const logit = visualized === undefined ? undefined : prediction?.logits[visualized];
  if (model.outputKind !== 'multi-label' || logit === undefined) return undefined;
  const own = outputProbabilities('multi-label', [logit])![0]!;
  return `${own >= 0.5 ? 'yes' : 'no'}: ${(100 * own).toFixed(1)}%${said}`;
}

export interface FeatvizResult {
  /** the images, [N, C, H, W] in [0, 1] */
  images: Tensor;
  frames: Frame[];
  history: { step: number; value: number; terms: Record<string, number> }[];
  /** the model's prediction for each final image (softmax of the logits, untransformed) */
  predictions: { index: number; label: string; probability: number; logits: number[] }[];
  objective: string;
  params: Record<string, unknown>;
  /** the objective's gradient was zero at every step (a dead channel or network): nothing but the regularizers moved the images */
  zeroGradient?: boolean;
  /**
   * The share of horizontally adjacent colour values that jump from pure black to pure white or
   * back (within half an 8-bit step of 0 and 1). Steps that overshoot (`--lr 1e9` with Adam)
   * leave saturated noise, 0.19 on SqueezeNet; a sane run leaves none (0 at lr 0.05, 0.011 at an
   * overcooked lr 1), and neither does a black background, whose neighbours are black too.
   */
  speckle: number;
}

/** A speckle at or above this share is worth a word (see FeatvizResult.speckle). */
export const SPECKLE_NOTE = 0.05;

/** FeatvizResult.speckle of image-space values [N, C, H, W]. */
export function speckle(values: Float32Array, dims: readonly number[]): number {
  const w = dims[dims.length - 1] ?? 0;
  const rows = w > 0 ? values.length / w : 0;
  const lo = 0.5 / 255;
  const hi = 1 - lo;
  let jumps = 0;
  for (let r = 0; r < rows; r++) {
    for (let x = r * w + 1; x < (r + 1) * w; x++) {
      const a = values[x - 1]!;
      const b = values[x]!;
      if ((a <= lo && b >= hi) || (a >= hi && b <= lo)) jumps++;
    }
  }
  const pairs = rows * (w - 1);
  return pairs > 0 ? jumps / pairs : 0;
}

/** `class:*` -> one image per class, each maximizing its own logit (one batch: see classVisualization for many classes). */
function expandObjective(model: Model, spec: string): { objective: Objective; batch?: number } {
  const s = spec.trim();
  const all = /^(class|logit):\*$/i.exec(s);
  if (all) return { objective: classLogits(model.labels.map((_, k) => k), model.labels.length), batch: model.labels.length };
  return { objective: parseObjective(s) };
}

export function resolveParam(p: FeatvizOptions['param']): Parameterization {
  if (p === undefined || p === 'fourier') return fourierParam();
  if (p === 'pixel') return pixelParam({ range: 'sigmoid', decorrelate: true });
  if (typeof p === 'string') throw new ConvLensError('INVALID_ARGUMENT', `Unknown parameterization "${p}".`, 'Use fourier or pixel.');
  return p;
}

/** The image size featviz uses by default for a model. */
export function defaultSize(model: Model): [number, number] {
  return modelInputSize(model) ?? [128, 128];
}

export async function featureVisualization(model: Model, o: FeatvizOptions): Promise<FeatvizResult> {
  const t0 = performance.now();
  if (typeof o.objective === 'string' && /^(class|logit):\*$/i.test(o.objective.trim()) && o.batch === undefined && typeof (o.start ?? 'noise') === 'string' && model.labels.length > synthesisBatchSize(model, o.size ?? defaultSize(model))) {
    return classVisualization(model, { ...o, start: o.start as 'zero' | 'noise' | undefined }); // too many classes for one batch
  }
  let objective: Objective;
  let batch = o.batch === undefined ? undefined : wholeNumberOption(o.batch, 'batch size', '--batch');
  if (typeof o.objective === 'string') {
    const e = expandObjective(model, o.objective);
    objective = e.objective;
    if (e.batch !== undefined && batch !== undefined && batch !== e.batch) {
      throw new ConvLensError(
        'INVALID_ARGUMENT',
        `"${o.objective.trim()}" makes one image per class, ${e.batch} in one batch; a batch of ${batch} cannot hold them.`,
        'For fewer images at a time use classVisualization (CLI: --batch with class:*), or pick classes, e.g. 0-3 (CLI: --classes 0-3).',
      );
    }
    batch ??= e.batch;
  } else objective = o.objective;
  batch ??= o.start && typeof o.start !== 'string' ? o.start.dims[0]! : 1;
  const [H, W] = o.size === undefined ? defaultSize(model) : imageSizeOption(o.size);
  const channels = modelChannels(model);
  const shape: ImageShape = { batch, channels, height: H, width: W };
  const param = resolveParam(o.param);
  const transforms = typeof o.transforms === 'string' ? parseTransforms(o.transforms, Math.min(H, W)) : o.transforms ?? standardTransforms(Math.min(H, W));
  const pen = o.penalties ?? {};
  const terms: Objective[] = [objective];
  const bg = o.background ?? 0.5;
  if (pen.l1) terms.push(weighted(pen.l1, l1(bg)));
  if (pen.l2) terms.push(weighted(pen.l2, l2(bg)));
  if (pen.tv) terms.push(weighted(pen.tv, tv()));
  const full = sum(...terms);
  const warp = transforms.length ? { height: modelInputSize(model)?.[0] ?? H, width: modelInputSize(model)?.[1] ?? W, fill: bg } : undefined;
  const session = await SynthesisSession.create({ model, shape, param, objective: full, ...(warp ? { warp } : {}) }, [model.output]);
  const seed = o.seed ?? 0;
  const rand = seededRandom(seed);
  let theta: Float32Array;
  if (o.start && typeof o.start !== 'string') {
    if (o.start.dims.join('x') !== [batch, channels, H, W].join('x')) {
      throw new ConvLensError(
        'SHAPE_MISMATCH',
        `Start images have shape [${o.start.dims.join(', ')}]; [${batch}, ${channels}, ${H}, ${W}] are needed.`,
        o.start.dims[0] !== batch ? `Give one start image per image made (${batch}), or start from zero or noise.` : undefined,
      );
    }
    theta = param.kind === 'pixel' ? param.init(shape, rand, o.start.data as Float32Array) : await fitParam(model, shape, param, o.start, rand);
  } else {
    theta = param.init(shape, rand);
    if (o.start === 'zero') {
      if (param.kind === 'pixel') theta = param.init(shape, rand, new Float32Array(theta.length).fill(bg));
      else theta.fill(0);
    }
  }
  const steps = wholeNumberOption(o.steps ?? 256, 'step count', '--steps');
  const lr = finiteOption(o.lr ?? 0.05, 'learning rate', '--lr');
  const r = await ascend(session, theta, {
    steps,
    lr,
    optimizer: o.optimizer ?? 'adam',
    transforms,
    seed: seed + 1,
    frames: o.frames ?? 8,
    ...(o.regularizers ? { regularizers: o.regularizers } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.onFrame ? { onFrame: o.onFrame } : {}),
    phase: 'visualizing',
    divergence: [
      { option: '--lr', what: 'learning rate', value: lr, usualMax: 10 },
      ...(pen.l1 ? [{ option: '--l1', what: 'L1 weight', value: pen.l1, usualMax: 1e4 }] : []),
      ...(pen.l2 ? [{ option: '--l2', what: 'L2 weight', value: pen.l2, usualMax: 1e4 }] : []),
      ...(pen.tv ? [{ option: '--tv', what: 'TV weight', value: pen.tv, usualMax: 1e4 }] : []),
    ],
  });
  const images: Tensor = { dtype: 'float32', dims: [batch, channels, H, W], data: r.image };
  const predictions = await predictImages(model, images);
  return {
    images,
    frames: r.frames,
    history: r.history,
    predictions,
    objective: typeof o.objective === 'string' ? o.objective : objective.key,
    ...(r.zeroGradient ? { zeroGradient: true } : {}),
    speckle: speckle(r.image, images.dims),
    params: { steps, lr, optimizer: o.optimizer ?? 'adam', param: param.key, transforms, seed, size: [H, W], batch, penalties: pen, background: bg, regularizers: o.regularizers ?? {}, ms: Math.round(performance.now() - t0) },
  };
}

// ------------------------------------------------------------------ one image per class, in batches

/** Memory the synthesis of one image may take (forward values, their gradients, the warp and parameterization around them). */
const BYTES_PER_ACTIVATION = 4 * 4;
/** What a batch of class visualizations may use, in bytes. */
export const CLASS_BATCH_MEMORY = 1 << 30;

/** Float elements of every value the model computes for one image at [H, W] (scaled from its own size). */
export function activationsPerImage(model: Model, size: [number, number]): number {
  const b = model.builder();
  const [h0, w0] = model.profile.input.size;
  const scale = (size[0] * size[1]) / (h0 * w0);
  let total = 0;
  const g = model.profile.input.fixed ? undefined : model.profile.input.size;
  for (const n of model.graph.nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      let shape: (number | string)[] | undefined;
      try {
        shape = b.factsOf(o).shape;
      } catch {
        continue;
      }
      if (!shape || b.factsOf(o).value) continue;
      // free-size models: spatial dims are symbolic; count them at the profile size
      total += shape.slice(1).reduce<number>((a, d, i) => a * (typeof d === 'number' ? d : g && i >= 1 ? g[i - 1]! : 1), 1);
    }
  }
  return Math.ceil(total * scale);
}

/** Images per batch so one batch of synthesis at [H, W] stays within `budget` bytes (1 to 64). */
export function synthesisBatchSize(model: Model, size: [number, number], budget = CLASS_BATCH_MEMORY): number {
  return Math.max(1, Math.min(64, Math.floor(budget / (activationsPerImage(model, size) * BYTES_PER_ACTIVATION))));
}

export interface ClassVisualizationOptions extends Omit<FeatvizOptions, 'objective' | 'batch' | 'start'> {
  /** zero (grey/background) or noise (default); start images would need one per class */
  start?: 'zero' | 'noise';
  /** the classes to visualize (default: all) */
  classes?: readonly number[];
  /** images optimized together (default: as many as fit CLASS_BATCH_MEMORY, see synthesisBatchSize) */
  batchSize?: number;
  /** called after each batch, so results can be written as they come */
  onBatch?: (done: { classes: number[]; result: FeatvizResult; batch: number; batches: number }) => Promise<void> | void;
}

export interface ClassVisualizationResult extends FeatvizResult {
  classes: number[];
  batchSize: number;
  batches: number;
}

/**
 * One image per class, each maximizing its own logit, as a sequence of memory-bounded batches
 * (a 1000-class ImageNet model does not fit in one). Progress runs over all batches; frames and
 * the objective history are kept for the first batch; onFrame is told every batch's frames, its
 * steps counted over all batches as progress is.
 */
export async function classVisualization(model: Model, o: ClassVisualizationOptions = {}): Promise<ClassVisualizationResult> {
  const t0 = performance.now();
  const K = model.profile.classes;
  const classes = [...(o.classes ?? Array.from({ length: K }, (_, k) => k))];
  if (!classes.length) throw new ConvLensError('INVALID_ARGUMENT', 'No classes to visualize.', `Pick classes from 0 to ${K - 1}, e.g. 0-9.`);
  const size = o.size ?? defaultSize(model);
  const limit = o.batchSize ?? synthesisBatchSize(model, size);
  const batches = Math.ceil(classes.length / limit);
  const per = Math.ceil(classes.length / batches);
  const steps = o.steps ?? 256;
  const parts: FeatvizResult[] = [];
  for (let bi = 0; bi < batches; bi++) {
    throwIfCancelled(o.signal, 'the class visualization');
    const cls = classes.slice(bi * per, (bi + 1) * per);
    const r = await featureVisualization(model, {
      ...o,
      objective: classLogits(cls, K),
      batch: cls.length,
      // the result keeps the first batch's frames; later batches take theirs only for onFrame, so
      // a page watching the run sees every batch's images, not the first batch's last frame
      frames: bi === 0 || o.onFrame ? (o.frames ?? 8) : 0,
      onProgress: (p) => o.onProgress?.({ ...p, done: bi * steps + p.done, total: batches * steps, phase: `${classes.length} class${classes.length === 1 ? '' : 'es'}, batch ${bi + 1}/${batches}` }),
      ...(o.onFrame ? { onFrame: (f: Frame, shape: ImageShape) => o.onFrame!({ ...f, step: bi * steps + f.step, classes: cls }, shape) } : {}),
    });
    parts.push(bi === 0 ? r : { ...r, frames: [] });
    await o.onBatch?.({ classes: cls, result: r, batch: bi, batches });
  }
  const [, C, H, W] = parts[0]!.images.dims as number[];
  const data = new Float32Array(classes.length * C! * H! * W!);
  let at = 0;
  for (const r of parts) {
    data.set(r.images.data as Float32Array, at);
    at += r.images.data.length;
  }
  const first = parts[0]!;
  return {
    ...first,
    images: { dtype: 'float32', dims: [classes.length, C!, H!, W!], data },
    predictions: parts.flatMap((r) => r.predictions),
    ...(parts.some((r) => r.zeroGradient) ? { zeroGradient: true } : {}),
    speckle: speckle(data, [classes.length, C!, H!, W!]),
    objective: o.classes ? `class:${classes.join(',')}` : 'class:*',
    params: { ...first.params, batch: per, classes: classes.length, batches, ms: Math.round(performance.now() - t0) },
    classes,
    batchSize: per,
    batches,
  };
}

/** A model with more classes than this draws only the first DEFAULT_CLASSES unless asked for all. */
export const MANY_CLASSES = 16;
export const DEFAULT_CLASSES = 8;

/**
 * The classes `class:*` draws when none are picked: every class of a small model, the first
 * DEFAULT_CLASSES of a big one (SqueezeNet's 1000 took 2.6 hours here at 256 steps).
 */
export function defaultClassSelection(labels: readonly string[]): number[] {
  const n = labels.length > MANY_CLASSES ? DEFAULT_CLASSES : labels.length;
  return Array.from({ length: n }, (_, k) => k);
}

/** "0-9,285" -> [0, ..., 9, 285] (each below `count`); labels match too ("tabby cat"); "all" is every class. */
export function parseClassList(spec: string, labels: readonly string[]): number[] {
  if (spec.trim().toLowerCase() === 'all') return labels.map((_, k) => k);
  const out = new Set<number>();
  const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const requireClass = (k: number): void => {
    if (k >= labels.length) throw new ConvLensError('INVALID_ARGUMENT', `Class ${k} does not exist: the model has ${labels.length} classes (0-${labels.length - 1}).`, `Pick classes from 0 to ${labels.length - 1}, or labels as the model names them (CLI: --classes).`);
  };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const one = /^\d+$/.test(part) ? Number(part) : undefined;
    let ks: number[];
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a) throw new ConvLensError('INVALID_ARGUMENT', `Class range "${part}" runs backwards.`, 'Write ranges low-high, e.g. 0-9.');
      // The range's end is checked before the range is spelled out: "0-999999999" filled the
      // studio server's heap until it crashed.
      requireClass(b);
      ks = Array.from({ length: b - a + 1 }, (_, i) => a + i);
    } else if (one !== undefined) ks = [one];
    else {
      const k = labels.findIndex((l) => norm(l) === norm(part));
      if (k < 0) throw new ConvLensError('UNKNOWN_NAME', `No class "${part}".`, 'Give class indices (0-9,285) or labels as the model names them.');
      ks = [k];
    }
    for (const k of ks) {
      requireClass(k);
      out.add(k);
    }
  }
  if (!out.size) throw new ConvLensError('INVALID_ARGUMENT', `No classes in "${spec}".`, 'E.g. 0-9,285 (CLI: --classes 0-9,285).');
  return [...out];
}

/**
 * The model's predictions on images in image space (resized to the model size only if it is fixed
 * and equal): the top output with its probability (a softmax's, or a multi-label output's own
 * sigmoid); none for a regression, whose outputs have no probability.
 */
export async function predictImages(model: Model, images: Tensor): Promise<FeatvizResult['predictions']> {
  const fixed = modelInputSize(model);
  const [, , H, W] = images.dims as number[];
  if (fixed && (fixed[0] !== H || fixed[1] !== W)) return [];
  if (model.outputKind === 'regression') return [];
  const [logits] = await extractFeatures(model, images, [{ layer: model.output }]);
  const n = images.dims[0]!;
  const K = logits!.data.length / n;
  const out: FeatvizResult['predictions'] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from((logits!.data as Float32Array).subarray(i * K, (i + 1) * K));
    const p = outputProbabilities(model.outputKind, z)!;
    let best = 0;
    for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k;
    out.push({ index: best, label: model.labels[best] ?? `class ${best}`, probability: p[best]!, logits: z });
  }
  return out;
}

/** Fits a parameterization to start images (200 Adam steps on the squared error). */
export async function fitParam(model: Model, shape: ImageShape, param: Parameterization, target: Tensor, rand: () => number): Promise<Float32Array> {
  const session = await SynthesisSession.create({ model, shape, param, objective: imageMatch(target) });
  const theta = param.init(shape, rand);
  await ascend(session, theta, { steps: 200, lr: 0.1, optimizer: 'adam', phase: 'fitting the start image' });
  return theta;
}

// ------------------------------------------------------------------ multi-faceted visualization

export interface FacetOptions extends Omit<FeatvizOptions, 'objective' | 'batch' | 'start'> {
  /** the class to visualize */
  target: number | string;
  /** facets (clusters) */
  facets?: number;
  /** layer whose activations are clustered and whose facet directions are followed (default: the last spatial layer) */
  layer?: string;
  /** weight of the facet direction relative to the class logit */
  facetWeight?: number;
}

export interface FacetResult extends FeatvizResult {
  /** images per facet, their indices into the given images */
  clusters: number[][];
  layer: string;
}

/**
 * Multi-faceted feature visualization: k-means (seeded, k-means++) on the spatially pooled
 * activations of the class's images at `layer`; facet k maximizes the class logit plus the
 * direction of its cluster centre (relative to the mean of all images), starting from the
 * cluster's mean image (Nguyen, Yosinski & Clune 2016 start from the mean image too).
 */
export async function facetVisualization(model: Model, classImages: Tensor, o: FacetOptions): Promise<FacetResult> {
  const k = o.facets ?? 4;
  const layer = model.resolveLayer(o.layer ?? model.lastSpatialLayer());
  const [n, C, H, W] = classImages.dims as [number, number, number, number];
  if (n < k) throw new ConvLensError('INVALID_ARGUMENT', `${n} images cannot make ${k} facets.`, 'Give more images of the class or ask for fewer facets.');
  throwIfCancelled(o.signal, 'the facet visualization');
  const feats: Float32Array[] = [];
  for (let s = 0; s < n; s += 64) {
    const m = Math.min(64, n - s);
    const part: Tensor = { dtype: 'float32', dims: [m, C, H, W], data: (classImages.data as Float32Array).subarray(s * C * H * W, (s + m) * C * H * W) };
    const [f] = await extractFeatures(model, part, [{ layer }]);
    const [, D] = f!.dims as number[];
    const per = f!.data.length / m;
    const sp = per / D!;
    for (let i = 0; i < m; i++) {
      const v = new Float32Array(D!);
      for (let d = 0; d < D!; d++) {
        let acc = 0;
        for (let p = 0; p < sp; p++) acc += (f!.data as Float32Array)[i * per + d * sp + p]!;
        v[d] = acc / sp;
      }
      feats.push(v);
    }
  }
  const { assign, centres } = kmeans(feats, k, o.seed ?? 0);
  const D = feats[0]!.length;
  const mean = new Float32Array(D);
  for (const f of feats) for (let d = 0; d < D; d++) mean[d]! += f[d]! / feats.length;
  const clusters = Array.from({ length: k }, (_, c) => assign.flatMap((a, i) => (a === c ? [i] : [])));
  const start = new Float32Array(k * C * H * W);
  clusters.forEach((members, c) => {
    for (const i of members) for (let q = 0; q < C * H * W; q++) start[c * C * H * W + q]! += (classImages.data as Float32Array)[i * C * H * W + q]! / members.length;
  });
  const w = o.facetWeight ?? 1;
  const terms: Objective[] = [];
  centres.forEach((centre, c) => {
    const dir = new Float32Array(D);
    let norm = 0;
    for (let d = 0; d < D; d++) norm += (dir[d] = centre[d]! - mean[d]!) ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < D; d++) dir[d]! /= norm;
    terms.push(classLogit(o.target, c), weighted(w, direction(layer, dir, c, `facet${c}`)));
  });
  const result = await featureVisualization(model, {
    ...o,
    objective: sum(...terms),
    batch: k,
    size: [H, W],
    param: o.param ?? 'pixel',
    start: { dtype: 'float32', dims: [k, C, H, W], data: start },
  });
  return { ...result, clusters, layer, objective: `facets(${o.target}, ${k}, ${model.layerLabel(layer)})` };
}

/** Seeded k-means with k-means++ initialization; 50 Lloyd iterations at most. */
export function kmeans(points: Float32Array[], k: number, seed: number): { assign: number[]; centres: Float32Array[] } {
  const rand = seededRandom(seed + 17);
  const D = points[0]!.length;
  const dist = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let d = 0; d < D; d++) s += (a[d]! - b[d]!) ** 2;
    return s;
  };
  const centres: Float32Array[] = [Float32Array.from(points[Math.floor(rand() * points.length)]!)];
  while (centres.length < k) {
    const d2 = points.map((p) => Math.min(...centres.map((c) => dist(p, c))));
    const total = d2.reduce((a, b) => a + b, 0);
    let r = rand() * total;
    let pick = 0;
    for (; pick < points.length - 1; pick++) if ((r -= d2[pick]!) <= 0) break;
    centres.push(Float32Array.from(points[pick]!));
  }
  let assign = new Array<number>(points.length).fill(0);
  for (let it = 0; it < 50; it++) {
    const next = points.map((p) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (dist(p, centres[c]!) < dist(p, centres[best]!)) best = c;
      return best;
    });
    const changed = next.some((a, i) => a !== assign[i]);
    assign = next;
    for (let c = 0; c < k; c++) {
      const members = points.filter((_, i) => assign[i] === c);
      if (!members.length) {
        centres[c] = Float32Array.from(points[Math.floor(rand() * points.length)]!); // re-seed an empty cluster
        continue;
      }
      const m = new Float32Array(D);
      for (const p of members) for (let d = 0; d < D; d++) m[d]! += p[d]! / members.length;
      centres[c] = m;
    }
    if (!changed && it > 0) break;
  }
  return { assign, centres };
}

/** Small random images (grey + noise), for tests and starts. */
export function noiseImages(shape: ImageShape, seed: number, sd = 0.1): Tensor {
  const rand = seededRandom(seed);
  const n = shape.batch * shape.channels * shape.height * shape.width;
  return { dtype: 'float32', dims: [shape.batch, shape.channels, shape.height, shape.width], data: Float32Array.from({ length: n }, () => Math.min(1, Math.max(0, 0.5 + sd * gaussian(rand)))) };
}
