// Objectives (Lucid's vocabulary): scalar graph fragments over a model's tensors and the image,
// composed by sums and weights, always MAXIMIZED. Penalties (regularizers, feature and Gram
// distances) are objectives whose value is minus the penalty, so a style-transfer loss is the
// objective -(style distance + content distance + TV) and every method runs the same ascent.
import { ConvLensError } from '../../engine/errors.js';
import type { GraphBuilder } from '../../engine/graph/builder.js';
import type { Dim } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { gramMatrix } from './graph.js';
import { labelIndex } from '../explain/target.js';

export interface ObjectiveContext {
  b: GraphBuilder;
  model: Model;
  /** the image [N, C, H, W] in [0, 1], before any warp */
  image: string;
  batch: number;
  /** a model tensor by layer name */
  layer(name: string): string;
  logits(): string;
  /** declares a float input the objective reads (targets); its value comes from `feeds()` under the same name */
  input(name: string, dims: number[]): string;
  /** names a term so runs report its value each step */
  report(label: string, scalar: string): void;
  /** prefix for input names (set by compositions so two terms never share an input) */
  scope: string;
}

export interface Objective {
  /** the structure, for caching compiled sessions (targets' values are fed, not part of it) */
  readonly key: string;
  /** model tensors it reads */
  layers(model: Model): string[];
  /** appends the objective and returns a scalar to maximize */
  build(ctx: ObjectiveContext): string;
  /** values of the inputs declared through ctx.input (scoped names) */
  feeds(scope?: string): Map<string, Tensor>;
  /** reported under this name when part of a sum */
  readonly label?: string;
}

type Batch = number | undefined;

const none = (): Map<string, Tensor> => new Map();

function leaf(key: string, layers: (m: Model) => string[], build: (ctx: ObjectiveContext) => string, label?: string): Objective {
  return { key, layers, build, feeds: none, ...(label ? { label } : {}) };
}

/** Scalar sum of a [N, ...] tensor, optionally of image `batch` only. */
function sumAll(b: GraphBuilder, x: string): string {
  return b.op('ReduceSum', [x], { keepdims: 0 });
}

function pickBatch(b: GraphBuilder, x: string, batch: Batch): string {
  if (batch === undefined) return x;
  return b.op('Slice', [x, b.ints([batch]), b.ints([batch + 1]), b.ints([0])]);
}

function shapeOf(ctx: ObjectiveContext, name: string): number[] {
  return ctx.b.staticShape(name);
}

/** Per-image mean over every axis but the first: [N, ...] -> [N]. */
function meanPerImage(b: GraphBuilder, x: string): string {
  const rank = b.shapeOf(x).length;
  if (rank === 1) return x;
  return b.op('ReduceMean', [x], { axes: Array.from({ length: rank - 1 }, (_, i) => i + 1), keepdims: 0 });
}

function channelCheck(ctx: ObjectiveContext, layer: string, c: number): number[] {
  const s = shapeOf(ctx, layer);
  checkChannel(layer, s[1], c);
  return s;
}

function checkChannel(layer: string, channels: Dim | undefined, c: number): void {
  if (typeof channels === 'number' && !(c >= 0 && c < channels)) throw new ConvLensError('INVALID_ARGUMENT', `Layer "${layer}" has ${channels} channels; channel ${c} does not exist.`, `Use a channel from 0 to ${channels - 1}.`);
}

/**
 * The layer's value, its channel checked where the model's shapes tell: callers check an
 * objective's layers before a job starts, and an unknown channel was refused only inside it.
 */
function checkedLayer(m: Model, layer: string, c: number): string {
  const name = m.resolveLayer(layer);
  checkChannel(layer, m.facts(name).shape?.[1], c);
  return name;
}

/** Mean activation of one channel (Lucid `channel`), summed over the images (or of image `batch`). */
export function channel(layer: string, c: number, batch?: Batch): Objective {
  return leaf(`channel(${layer},${c},${batch ?? '*'})`, (m) => [checkedLayer(m, layer, c)], (ctx) => {
    const L = ctx.layer(layer);
    channelCheck(ctx, L, c);
    const sl = ctx.b.op('Slice', [L, ctx.b.ints([c]), ctx.b.ints([c + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, meanPerImage(ctx.b, pickBatch(ctx.b, sl, batch)));
  });
}

/** One unit: channel c at (y, x) (default: the centre), Lucid `neuron`. */
export function neuron(layer: string, c: number, y?: number, x?: number, batch?: Batch): Objective {
  return leaf(`neuron(${layer},${c},${y ?? 'c'},${x ?? 'c'},${batch ?? '*'})`, (m) => [checkedLayer(m, layer, c)], (ctx) => {
    const L = ctx.layer(layer);
    const s = channelCheck(ctx, L, c);
    if (s.length !== 4) return channel(layer, c, batch).build(ctx);
    const yy = y ?? Math.floor(s[2]! / 2);
    const xx = x ?? Math.floor(s[3]! / 2);
    if (yy < 0 || yy >= s[2]! || xx < 0 || xx >= s[3]!) throw new ConvLensError('INVALID_ARGUMENT', `Unit (${yy}, ${xx}) is outside layer "${layer}" (${s[2]}x${s[3]}).`, `Give y from 0 to ${s[2]! - 1} and x from 0 to ${s[3]! - 1} (neuron:<layer>:<c>:<y>:<x>), or leave them out for the centre unit.`);
    const sl = ctx.b.op('Slice', [L, ctx.b.ints([c, yy, xx]), ctx.b.ints([c + 1, yy + 1, xx + 1]), ctx.b.ints([1, 2, 3])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}

/** Mean squared activation of a whole layer: DeepDream's objective (Lucid `deepdream`). */
export function layerL2(layer: string, batch?: Batch): Objective {
  return leaf(`l2layer(${layer},${batch ?? '*'})`, (m) => [m.resolveLayer(layer)], (ctx) => {
    const L = pickBatch(ctx.b, ctx.layer(layer), batch);
    return sumAll(ctx.b, meanPerImage(ctx.b, ctx.b.op('Mul', [L, L])));
  });
}

function classIndex(model: Model, cls: number | string): number {
  if (typeof cls === 'number') {
    if (!(Number.isInteger(cls) && cls >= 0 && cls < model.labels.length)) throw new ConvLensError('INVALID_ARGUMENT', `Class ${cls} does not exist: the model has ${model.labels.length} classes.`, `Use a class from 0 to ${model.labels.length - 1}, or a label.`);
    return cls;
  }
  const i = labelIndex(model.labels, cls);
  if (i >= 0) return i;
  if (/^\d+$/.test(cls)) return classIndex(model, Number(cls));
  throw model.unknownClassError(cls);
}

/** The pre-softmax score of a class (Lucid `channel("logits", k)`). */
export function classLogit(cls: number | string, batch?: Batch): Objective {
  return leaf(`logit(${cls},${batch ?? '*'})`, (m) => {
    classIndex(m, cls); // checked with the other layers, before any job starts
    return [m.output];
  }, (ctx) => {
    const k = classIndex(ctx.model, cls);
    const z = ctx.logits();
    const sl = ctx.b.op('Slice', [z, ctx.b.ints([k]), ctx.b.ints([k + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}

/**
 * Image n's own class logit, for a batch of class visualizations: sum_n logits[n, classes[n]].
 * The classes are fed (a one-hot input), so one compiled graph serves every batch of classes.
 */
export function classLogits(classes: readonly number[], numClasses: number): Objective {
  const onehot = new Float32Array(classes.length * numClasses);
  classes.forEach((k, n) => {
    if (!(Number.isInteger(k) && k >= 0 && k < numClasses)) throw new ConvLensError('INVALID_ARGUMENT', `Class ${k} does not exist: the model has ${numClasses} classes.`, `Use classes from 0 to ${numClasses - 1}.`);
    onehot[n * numClasses + k] = 1;
  });
  const fed: Tensor = { dtype: 'float32', dims: [classes.length, numClasses], data: onehot };
  return {
    key: `classlogits(${classes.length}x${numClasses})`,
    label: 'class logits',
    layers: (m) => [m.output],
    build(ctx) {
      const y = ctx.input(`${ctx.scope}classes`, [classes.length, numClasses]);
      return sumAll(ctx.b, ctx.b.op('Mul', [ctx.logits(), y]));
    },
    feeds: (scope = '') => new Map([[`${scope}classes`, fed]]),
  };
}

/**
 * The probability of a class: the softmax's (maximizing it can also push the other classes
 * down), or a multi-label output's own sigmoid. A regression has none.
 */
export function classProb(cls: number | string, batch?: Batch): Objective {
  return leaf(`prob(${cls},${batch ?? '*'})`, (m) => {
    classIndex(m, cls); // checked with the other layers, before any job starts
    if (m.outputKind === 'regression') throw new ConvLensError('INVALID_ARGUMENT', `Model "${m.name}" is a regression: its outputs are values, with no probability to maximize.`, 'Maximize the output itself with a logit:<k> objective.');
    return [m.output];
  }, (ctx) => {
    const k = classIndex(ctx.model, cls);
    const p = ctx.model.outputKind === 'multi-label' ? ctx.b.op('Sigmoid', [ctx.logits()]) : ctx.b.op('Softmax', [ctx.logits()], { axis: 1 });
    const sl = ctx.b.op('Slice', [p, ctx.b.ints([k]), ctx.b.ints([k + 1]), ctx.b.ints([1])]);
    return sumAll(ctx.b, pickBatch(ctx.b, sl, batch));
  });
}

/**
 * A direction in a layer's activation space: the mean over positions of the dot product of the
 * activation vector with `vector` (Lucid `direction`, summed over channels).
 */
export function direction(layer: string, vector: Float32Array, batch?: Batch, tag = 'v'): Objective {
  const C = vector.length;
  return {
    key: `direction(${layer},${tag},${C},${batch ?? '*'})`,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const L = ctx.layer(layer);
      const s = shapeOf(ctx, L);
      if (s[1] !== C) throw new ConvLensError('INVALID_ARGUMENT', `The direction has ${C} values; layer "${layer}" has ${s[1]} channels.`, `Give a direction of ${s[1]} values, one per channel of "${layer}".`);
      const vin = ctx.input(`${ctx.scope}direction`, [1, C]);
      const v = s.length === 4 ? ctx.b.op('Reshape', [vin, ctx.b.ints([1, C, 1, 1])]) : vin;
      const dot = ctx.b.op('ReduceSum', [ctx.b.op('Mul', [pickBatch(ctx.b, L, batch), v]), ctx.b.ints([1])], { keepdims: 0 });
      return sumAll(ctx.b, meanPerImage(ctx.b, dot));
    },
    feeds: (scope = '') => new Map([[`${scope}direction`, { dtype: 'float32', dims: [1, C], data: vector } as Tensor]]),
  };
}

/**
 * Diversity across the batch (Lucid `diversity`, sign flipped so that more is more diverse):
 * minus the mean cosine similarity between the images' Gram matrices at a layer.
 */
export function diversity(layer: string): Objective {
  const spatialLayer = (m: Model): string[] => {
    const name = m.resolveLayer(layer);
    const shape = m.facts(name).shape;
    if (shape?.length !== 4) {
      throw new ConvLensError('INVALID_ARGUMENT', `diversity:${layer} compares the images' Gram matrices over positions, but "${layer}" has shape [${shape?.join(', ') ?? '?'}], not a feature map [N, C, H, W].`, 'Name a convolutional layer (`convlens summary` lists them), e.g. the one of a channel: term.');
    }
    return [name];
  };
  return leaf(`diversity(${layer})`, spatialLayer, (ctx) => {
    const b = ctx.b;
    const L = ctx.layer(layer);
    const N = ctx.batch;
    if (N < 2) return b.scalar(0);
    const g = gramMatrix(b, L); // [N, C, C]
    const norm = b.op('Sqrt', [b.op('Max', [b.op('ReduceSum', [b.op('Mul', [g, g]), b.ints([1, 2])], { keepdims: 1 }), b.scalar(1e-10)])]);
    const gn = b.op('Div', [g, norm]);
    // sum_{i != j} <G_i, G_j> = |sum_i G_i|^2 - sum_i |G_i|^2 = |sum_i G_i|^2 - N (unit norms)
    const total = b.op('ReduceSum', [gn, b.ints([0])], { keepdims: 0 });
    const sim = b.op('Div', [b.op('Sub', [sumAll(b, b.op('Mul', [total, total])), b.scalar(N)]), b.scalar(N)]);
    return b.op('Neg', [sim]);
  });
}

// ------------------------------------------------------------------ penalties on the image

/** Minus the mean |image - c| (Lucid `L1`, mean instead of sum so weights do not depend on size). */
export function l1(c = 0.5): Objective {
  return leaf(`l1(${c})`, () => [], (ctx) => ctx.b.op('Neg', [ctx.b.op('ReduceMean', [ctx.b.op('Abs', [ctx.b.op('Sub', [ctx.image, ctx.b.scalar(c)])])], { keepdims: 0 })]), 'l1');
}

/** Minus the root mean square of image - c (Lucid `L2`). */
export function l2(c = 0.5): Objective {
  return leaf(`l2(${c})`, () => [], (ctx) => {
    const d = ctx.b.op('Sub', [ctx.image, ctx.b.scalar(c)]);
    return ctx.b.op('Neg', [ctx.b.op('Sqrt', [ctx.b.op('Add', [ctx.b.op('ReduceMean', [ctx.b.op('Mul', [d, d])], { keepdims: 0 }), ctx.b.scalar(1e-12)])])]);
  }, 'l2');
}

/**
 * Minus the total variation of the image, per image and mean over pixels: beta = 1 sums
 * |dx| + |dy| (anisotropic, Lucid/TF `total_variation`), beta = 2 sums dx^2 + dy^2 (Mahendran &
 * Vedaldi's TV^beta with beta = 2).
 */
export function tv(beta: 1 | 2 = 1): Objective {
  return leaf(`tv(${beta})`, () => [], (ctx) => {
    const b = ctx.b;
    const [, , H, W] = shapeOf(ctx, ctx.image) as [number, number, number, number];
    const dy = b.op('Sub', [b.op('Slice', [ctx.image, b.ints([1]), b.ints([H]), b.ints([2])]), b.op('Slice', [ctx.image, b.ints([0]), b.ints([H - 1]), b.ints([2])])]);
    const dx = b.op('Sub', [b.op('Slice', [ctx.image, b.ints([1]), b.ints([W]), b.ints([3])]), b.op('Slice', [ctx.image, b.ints([0]), b.ints([W - 1]), b.ints([3])])]);
    const f = (d: string): string => (beta === 1 ? b.op('Abs', [d]) : b.op('Mul', [d, d]));
    const s = b.op('Add', [b.op('ReduceSum', [f(dy)], { keepdims: 0 }), b.op('ReduceSum', [f(dx)], { keepdims: 0 })]);
    return b.op('Neg', [b.op('Mul', [s, b.scalar(1 / (H * W))])]);
  }, 'tv');
}

/** Minus the mean squared distance of the image to a target image (fitting a parameterization to a start image). */
export function imageMatch(target: Tensor): Objective {
  return {
    key: `imagematch(${target.dims.join('x')})`,
    layers: () => [],
    build(ctx) {
      const t = ctx.input(`${ctx.scope}image`, [...target.dims]);
      const d = ctx.b.op('Sub', [ctx.image, t]);
      return ctx.b.op('Neg', [ctx.b.op('ReduceMean', [ctx.b.op('Mul', [d, d])], { keepdims: 0 })]);
    },
    feeds: (scope = '') => new Map([[`${scope}image`, target]]),
  };
}

// ------------------------------------------------------------------ matching stored features

/**
 * Minus the normalized squared distance of a layer's features to target features, per image:
 * sum_i |F_i - T_i|^2 / |T_i|^2 (Mahendran & Vedaldi's inversion loss). Targets [N, ...] or [1, ...].
 */
export function featureMatch(layer: string, target: Tensor, label = 'content'): Objective {
  return {
    key: `featurematch(${layer},${target.dims.join('x')})`,
    label,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const s = shapeOf(ctx, L);
      if (s.slice(1).join('x') !== target.dims.slice(1).join('x')) {
        throw new ConvLensError('SHAPE_MISMATCH', `Target features for "${layer}" have shape [${target.dims.join(', ')}]; the layer gives [${s.join(', ')}].`, 'Compute the targets at the same image size.');
      }
      const t = ctx.input(`${ctx.scope}features`, [...target.dims]);
      const axes = b.ints(Array.from({ length: s.length - 1 }, (_, i) => i + 1));
      const d = b.op('Sub', [L, t]);
      const num = b.op('ReduceSum', [b.op('Mul', [d, d]), axes], { keepdims: 0 });
      const den = b.op('Add', [b.op('ReduceSum', [b.op('Mul', [t, t]), axes], { keepdims: 0 }), b.scalar(1e-8)]);
      return b.op('Neg', [sumAll(b, b.op('Div', [num, den]))]);
    },
    feeds: (scope = '') => new Map([[`${scope}features`, target]]),
  };
}

/**
 * Minus the Gram-matrix distance at a layer (Gatys et al.), per image, normalized by the target:
 * sum_i |G_i - T|^2 / |T|^2 with G = F F^T / (H W). Zero, with zero gradient, when the image's
 * Gram matrix equals the target. Target [1, C, C] (shared) or [N, C, C].
 */
export function gramMatch(layer: string, target: Tensor, label = 'style'): Objective {
  return {
    key: `grammatch(${layer},${target.dims.join('x')})`,
    label,
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const g = gramMatrix(b, L);
      const t = ctx.input(`${ctx.scope}gram`, [...target.dims]);
      const d = b.op('Sub', [g, t]);
      const num = b.op('ReduceSum', [b.op('Mul', [d, d]), b.ints([1, 2])], { keepdims: 0 });
      const den = b.op('Add', [b.op('ReduceSum', [b.op('Mul', [t, t]), b.ints([1, 2])], { keepdims: 0 }), b.scalar(1e-12)]);
      return b.op('Neg', [sumAll(b, b.op('Div', [num, den]))]);
    },
    feeds: (scope = '') => new Map([[`${scope}gram`, target]]),
  };
}

/**
 * Guided DeepDream (Mordvintsev et al.): each position's activation vector is pulled towards the
 * guide image's best-matching vector: the objective is the mean over positions of
 * max_m <F[:, p], G[:, m]> with G the guide's features [C, M].
 */
export function guide(layer: string, guideFeatures: Tensor): Objective {
  const [C, M] = guideFeatures.dims as [number, number];
  return {
    key: `guide(${layer},${C}x${M})`,
    label: 'guide',
    layers: (m) => [m.resolveLayer(layer)],
    build(ctx) {
      const b = ctx.b;
      const L = ctx.layer(layer);
      const [N, c, H, W] = shapeOf(ctx, L) as [number, number, number, number];
      if (c !== C) throw new ConvLensError('SHAPE_MISMATCH', `The guide's features have ${C} channels; layer "${layer}" has ${c}.`, `Compute the guide's features at layer "${layer}" of the same model.`);
      const g = ctx.input(`${ctx.scope}guide`, [C, M]);
      const f = b.op('Transpose', [b.op('Reshape', [L, b.ints([N, C, H * W])])], { perm: [0, 2, 1] }); // [N, HW, C]
      const sim = b.op('MatMul', [f, g]); // [N, HW, M]
      const best = b.op('ReduceMax', [sim], { axes: [2], keepdims: 0 });
      return sumAll(b, b.op('ReduceMean', [best], { axes: [1], keepdims: 0 }));
    },
    feeds: (scope = '') => new Map([[`${scope}guide`, guideFeatures]]),
  };
}

// ------------------------------------------------------------------ composition

/** w * objective. */
export function weighted(w: number, o: Objective): Objective {
  return {
    key: `${w}*${o.key}`,
    ...(o.label ? { label: o.label } : {}),
    layers: (m) => o.layers(m),
    build: (ctx) => ctx.b.op('Mul', [o.build(ctx), ctx.b.scalar(w)]),
    feeds: (scope) => o.feeds(scope),
  };
}

/** The sum of objectives; labelled terms (weighted) are reported each step. */
export function sum(...terms: Objective[]): Objective {
  if (terms.length === 1) return terms[0]!;
  return {
    key: `sum(${terms.map((t) => t.key).join(';')})`,
    layers: (m) => [...new Set(terms.flatMap((t) => t.layers(m)))],
    build(ctx) {
      const parts = terms.map((t, i) => {
        const v = t.build({ ...ctx, scope: `${ctx.scope}${i}.` });
        return { v, label: t.label };
      });
      // Terms sharing a label (several style layers) are reported together.
      const byLabel = new Map<string, string[]>();
      for (const p of parts) if (p.label) byLabel.set(p.label, [...(byLabel.get(p.label) ?? []), p.v]);
      for (const [label, vs] of byLabel) ctx.report(label, vs.length === 1 ? vs[0]! : ctx.b.op('Sum', vs));
      return ctx.b.op('Sum', parts.map((p) => p.v));
    },
    feeds(scope = '') {
      const out = new Map<string, Tensor>();
      terms.forEach((t, i) => {
        for (const [k, v] of t.feeds(`${scope}${i}.`)) out.set(k, v);
      });
      return out;
    },
  };
}

/** An objective with a label (reported on its own when part of a sum). */
export function labelled(label: string, o: Objective): Objective {
  return { ...o, label, layers: (m) => o.layers(m), build: (ctx) => o.build(ctx), feeds: (s) => o.feeds(s) };
}

// ------------------------------------------------------------------ parsing (CLI, API)

/**
 * Parses objective strings: `class:Bag` / `logit:8`, `prob:8`, `channel:<layer>:5`,
 * `neuron:<layer>:5[:y:x]`, `layer:<layer>` (DeepDream L2), with an optional weight prefix
 * `0.5*channel:<layer>:5`; several joined with `+`. A trailing `@k` applies a term to image k only.
 */
export function parseObjective(spec: string): Objective {
  const terms = spec.split('+').map((s) => s.trim()).filter(Boolean);
  if (!terms.length) throw new ConvLensError('INVALID_ARGUMENT', 'Empty objective.', 'Examples: class:7, class:"tabby cat", channel:<layer>:5, layer:<layer>, neuron:<layer>:7 (layers as `convlens summary` lists them).');
  return sum(...terms.map(parseTerm));
}

/**
 * The output an objective string raises in every image, when it is one class term (`class:24`,
 * `logit:tabby cat`, `prob:3`, no weight, no `@k`); undefined for anything else. Captions of a
 * multi-label head's images follow that output, not the top one.
 */
export function visualizedClass(spec: string, model: Model): number | undefined {
  const terms = spec.split('+').map((s) => s.trim()).filter(Boolean);
  const m = terms.length === 1 ? /^(?:class|logit|prob):(.+)$/i.exec(terms[0]!) : null;
  const target = m?.[1];
  if (!target || target === '*' || /@\d+$/.test(target)) return undefined;
  return classIndex(model, /^\d+$/.test(target) ? Number(target) : target);
}

function parseTerm(t: string): Objective {
  let w = 1;
  const m = /^(-?[\d.]+(?:e-?\d+)?)\s*\*\s*(.*)$/i.exec(t);
  if (m) {
    w = Number(m[1]);
    t = m[2]!;
    if (!Number.isFinite(w)) throw new ConvLensError('INVALID_ARGUMENT', `Objective weight "${m[1]}" is not a finite number.`, 'Write weights as plain numbers, e.g. 0.5*channel:<layer>:3 or 1e3*layer:<layer>.');
  }
  let batch: number | undefined;
  const at = /@(\d+)$/.exec(t);
  if (at) {
    batch = Number(at[1]);
    t = t.slice(0, at.index);
  }
  const parts = t.split(':');
  const kind = parts[0]!.toLowerCase();
  const int = (s: string | undefined, what: string): number => {
    const n = Number(s);
    if (s === undefined || !Number.isInteger(n) || n < 0) throw new ConvLensError('INVALID_ARGUMENT', `Objective "${t}": ${what} must be an integer >= 0.`, 'Write it as e.g. channel:<layer>:3 or neuron:<layer>:3:7:7.');
    return n;
  };
  let o: Objective;
  switch (kind) {
    case 'class':
    case 'logit':
      o = classLogit(/^\d+$/.test(parts.slice(1).join(':')) ? Number(parts[1]) : parts.slice(1).join(':'), batch);
      break;
    case 'prob':
      o = classProb(/^\d+$/.test(parts.slice(1).join(':')) ? Number(parts[1]) : parts.slice(1).join(':'), batch);
      break;
    case 'channel':
      o = channel(parts[1]!, int(parts[2], 'the channel'), batch);
      break;
    case 'neuron':
      o = neuron(parts[1]!, int(parts[2], 'the channel'), parts[3] !== undefined ? int(parts[3], 'y') : undefined, parts[4] !== undefined ? int(parts[4], 'x') : undefined, batch);
      break;
    case 'layer':
    case 'dream':
      o = layerL2(parts[1]!, batch);
      break;
    case 'diversity':
      o = diversity(parts[1]!);
      break;
    default:
      throw new ConvLensError('INVALID_ARGUMENT', `Unknown objective "${t}".`, 'Use class:<label or index>, prob:<class>, channel:<layer>:<c>, neuron:<layer>:<c>[:y:x], layer:<layer>, diversity:<layer>; weights as 0.5*term, terms joined with +.');
  }
  if (!parts[1] && kind !== 'diversity') throw new ConvLensError('INVALID_ARGUMENT', `Objective "${t}" needs a ${kind === 'class' || kind === 'logit' || kind === 'prob' ? 'class' : 'layer'}.`, 'Name what it applies to, e.g. class:0, prob:<label>, channel:<layer>:<c> or layer:<layer>; `convlens summary --model <file>` lists the layers.');
  return w === 1 ? o : weighted(w, o);
}
