// Layer attribution (Captum's Layer* family): how much each channel of a hidden layer contributes
// to a class score, instead of each pixel. Gradient x activation, Integrated Gradients along the
// straight path between the baseline's and the image's activations (Captum's
// LayerIntegratedGradients), DeepLIFT's multipliers at the layer times the activations' change
// from the reference (LayerDeepLift), and channel ablation (LayerFeatureAblation with one group
// per channel), and conductance (LayerConductance: the gradient at the layer times the layer's
// change between consecutive points of the input path). IG and ablation change the activations
// themselves, so they run the network's tail from the layer on (tail-model.ts); the others read
// the layer in the full model, so they work at a layer a branch bypasses too.
import { ConvLensError } from '../../engine/errors.js';
import type { JobOptions } from '../../engine/jobs.js';
import { deepliftRuleSet } from '../../engine/ops/rules/deeplift.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { cachedTailModel, cutsEveryPath } from '../../models/tail-model.js';
import { channelsLastLayer } from '../../models/unit-model.js';
import { f32, nchw } from './arrays.js';
import { completenessOf } from './completeness.js';
import { convergenceNotes, quadrature, resolveBaseline } from './integrated-gradients.js';
import { batchedForward, batchSizeOption, classCount, forChunks, scoreGradients, scoreInputs, Work } from './session.js';
import { checkScore, presetTargets, resolveTargets, targetScores, type ScoreKind, type TargetSpec } from './target.js';
import type { Completeness, IgBaseline, IgRule } from './types.js';
import { DEFAULT_PATH_STEPS } from './method-defaults.js';

export const LAYER_METHODS = ['gradient-x-activation', 'integrated-gradients', 'conductance', 'deeplift', 'ablation'] as const;
export type LayerMethodName = (typeof LAYER_METHODS)[number];

/** What an ablated channel is set to: zero (Captum's default layer baseline), or the baseline image's activations there. */
export type ChannelAblation = 'zero' | 'baseline';

export interface LayerAttributionOptions extends JobOptions {
  /** a layer as `Model.resolveLayer` takes it: a feature map [N, C, h, w] (default: the CAM methods' layer, the last spatial one the output depends on) */
  layer?: string;
  /** default: every method */
  methods?: readonly LayerMethodName[];
  target?: TargetSpec;
  score?: ScoreKind | 'probability';
  /** integrated-gradients: path points (default 50) and quadrature rule (default gausslegendre); conductance: steps (steps + 1 path points) and the rule whose nodes place them */
  steps?: number;
  rule?: IgRule;
  /** integrated-gradients, conductance, deeplift, ablation 'baseline': the reference image (default black) */
  baseline?: IgBaseline;
  blurSigma?: number;
  /** ablation: what a removed channel is set to (default zero) */
  ablation?: ChannelAblation;
  /** samples per engine run */
  batchSize?: number;
}

export interface LayerMethodResult {
  method: LayerMethodName;
  /** [N, C, h, w]; ablation spreads each channel's score drop evenly over its positions */
  attribution: Tensor;
  /** [N, C]: the attribution summed over each channel's positions */
  channels: Tensor;
  /** per image, the channel indices by contribution, largest first */
  ranked: Int32Array[];
  /** IG, conductance and DeepLIFT: the layer's attributions against score(image) - score(baseline) */
  completeness?: Completeness[];
  params: Record<string, unknown>;
  notes: string[];
}

/** A method the layer rules out (IG and ablation where a branch bypasses it): the others still run, as explain() skips a method a model rules out. */
export interface SkippedLayerMethod {
  method: LayerMethodName;
  reason: string;
  hint?: string;
}

export interface LayerAttribution {
  /** methods the layer rules out, with the reason */
  skipped: SkippedLayerMethod[];
  /** the layer's value name, and its label as `explain --unit` and `--layer` take it */
  layer: string;
  label: string;
  shape: [number, number, number];
  targets: Int32Array;
  /** the score explained, per image */
  scores: Float64Array;
  score: ScoreKind;
  /** [N, C, h, w]: the layer's activations for the images (what ablation removes) */
  activations: Tensor;
  results: LayerMethodResult[];
}

const PAIRED = deepliftRuleSet();

/**
 * The refusals a request meets whatever its images are (methods, steps, layer, a tail that cannot
 * be cut there, a fixed batch for DeepLIFT, the target): the studio answers them before a job.
 */
export function checkLayerAttribution(model: Model, o: LayerAttributionOptions, images = 1) {
  if (typeof o !== 'object' || o === null || (o.layer !== undefined && typeof o.layer !== 'string')) throw new ConvLensError('INVALID_ARGUMENT', 'Layer attribution takes its layer by name.', 'Pass { layer: "fires.9" } (CLI: --layer), or leave it out for the last spatial layer; `convlens summary` lists the layers.');
  let methods = [...new Set(o.methods ?? LAYER_METHODS)];
  if (methods.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'No layer attribution methods given.', `Use one or more of: ${LAYER_METHODS.join(', ')}.`);
  for (const m of methods) if (!(LAYER_METHODS as readonly string[]).includes(m)) throw new ConvLensError('INVALID_ARGUMENT', `Unknown layer attribution method "${String(m)}".`, `Use one or more of: ${LAYER_METHODS.join(', ')}.`);
  const steps = o.steps ?? DEFAULT_PATH_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new ConvLensError('INVALID_ARGUMENT', `Integrated Gradients steps must be a positive integer, got ${steps}.`, 'Use 1 or more steps (CLI: --steps).');
  const rule = o.rule ?? 'gausslegendre';
  quadrature(rule, steps); // refuses an unknown rule now, not after the other methods ran
  const ablation = o.ablation ?? 'zero';
  if (ablation !== 'zero' && ablation !== 'baseline') throw new ConvLensError('INVALID_ARGUMENT', `Unknown channel ablation "${String(ablation)}".`, 'Use zero (the default) or baseline.');
  const score = checkScore(o.score ?? 'logit', model);
  const layer = o.layer === undefined ? defaultChannelLayer(model) : model.resolveLayer(o.layer);
  const label = model.layerLabel(layer);
  const shape = layer === model.input.name ? undefined : model.facts(layer).shape;
  if (layer !== model.input.name && shape?.length === 4 && !model.isChannelsFirst(layer)) throw channelsLastLayer(model, layer, "channel attribution needs a feature map [N, C, H, W]");
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => typeof d !== 'number')) {
    throw new ConvLensError('INVALID_ARGUMENT', `Layer "${label}" is ${layer === model.input.name ? 'the input' : `[${shape?.join(', ') ?? '?'}], not a feature map [N, C, H, W] of fixed size`}; channel attribution needs a convolutional layer's output.`, 'Pick a conv, activation or pooling layer inside the network (`convlens summary` lists them with their shapes).');
  }
  const [, c, h, w] = shape as [unknown, number, number, number];
  // The tail is cut now so that a layer it cannot be cut at is known before any work: IG and
  // ablation replace the layer's activations, which a branch around it would not see. They are
  // skipped with the reason while another method runs (most layers of a residual net are such),
  // and refused when nothing else was asked.
  const skipped: SkippedLayerMethod[] = [];
  let tail: Model | undefined;
  const replacing: LayerMethodName[] = methods.filter((m) => m === 'integrated-gradients' || m === 'ablation');
  if (replacing.length) {
    try {
      tail = cachedTailModel(model, layer);
    } catch (e) {
      if (!(e instanceof ConvLensError) || replacing.length === methods.length) throw e;
      for (const m of replacing) skipped.push({ method: m, reason: e.message, ...(e.hint ? { hint: e.hint } : {}) });
      methods = methods.filter((m) => !replacing.includes(m));
    }
  }
  if (methods.includes('deeplift') && typeof model.input.shape?.[0] === 'number') {
    const reason = `DeepLIFT runs each image together with its baseline in one batch, and model "${model.name}" runs exactly ${model.input.shape[0]} image(s) at a time (its batch axis is fixed in the graph's shapes)`;
    // skipped while another method runs, as explain() skips it: a fixed-batch export (most
    // segmentation nets sized by their input's shape) failed the whole default run
    if (methods.length === 1) throw new ConvLensError('MODEL_UNSUPPORTED', `${reason}.`, 'Re-export the model with a free batch axis, or leave deeplift out.');
    skipped.push({ method: 'deeplift', reason, hint: 'Re-export the model with a free batch axis to run it.' });
    methods = methods.filter((m) => m !== 'deeplift');
  }
  presetTargets(model, o.target, images, classCount(model)); // a wrong class name fails here
  return { methods, skipped, steps, rule, ablation, score, layer, label, c, h, w, tail };
}

/** Checks the request and settles its defaults before any engine run. */
function settle(model: Model, x: Tensor, o: LayerAttributionOptions) {
  if (typeof o === 'object' && o !== null) model.checkInput(x, { anyCount: true });
  const s = checkLayerAttribution(model, o, x.dims[0]!);
  const [, , H, W] = nchw(x);
  const baseline = o.baseline ?? 'black';
  const needsBaseline = s.methods.some((m) => m === 'integrated-gradients' || m === 'conductance' || m === 'deeplift') || (s.methods.includes('ablation') && s.ablation === 'baseline');
  const base = needsBaseline ? resolveBaseline(model, x, baseline, o.blurSigma ?? Math.max(H, W) / 10) : undefined;
  return { ...s, base, baseline, forwardSize: batchSizeOption(model, o.batchSize, 'forward'), gradientSize: batchSizeOption(model, o.batchSize, 'gradient') };
}

/** Per image, the channels by `totals` [N, C], largest first. */
function rank(totals: Float32Array, n: number, c: number): Int32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const row = totals.subarray(i * c, (i + 1) * c);
    return Int32Array.from({ length: c }, (_, k) => k).sort((a, b) => row[b]! - row[a]! || a - b);
  });
}

function channelTotals(attr: Float32Array, n: number, c: number, per: number): Float32Array {
  const out = new Float32Array(n * c);
  for (let k = 0; k < n * c; k++) {
    let s = 0;
    for (let p = k * per; p < (k + 1) * per; p++) s += attr[p]!;
    out[k] = s;
  }
  return out;
}

/**
 * Per method, each channel's contribution to the target score at `layer`: the attribution there
 * [N, C, h, w], its sum per channel [N, C] and the channels ranked by it.
 */
export async function layerAttribution(model: Model, x: Tensor, options: LayerAttributionOptions): Promise<LayerAttribution> {
  const s = settle(model, x, options);
  const job: JobOptions = { ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
  const n = x.dims[0]!;
  const { c, h, w, layer } = s;
  const per = h * w;
  const size = n * c * per;

  const first = await batchedForward(model, x, [layer], s.forwardSize, new Work(job, `activations at ${s.label}`, Math.ceil(n / s.forwardSize)));
  const acts = first[layer]!.data as Float32Array;
  const targets = resolveTargets(model, options.target, first[model.output]!);
  const scores = targetScores(first[model.output]!, targets, s.score, model.outputKind);
  let baseActs: Float32Array | undefined;
  let baseScores: Float64Array | undefined;
  if (s.base) {
    const b = await batchedForward(model, s.base, [layer], s.forwardSize, new Work(job, `baseline activations at ${s.label}`, Math.ceil(n / s.forwardSize)));
    baseActs = b[layer]!.data as Float32Array;
    baseScores = targetScores(b[model.output]!, targets, s.score, model.outputKind);
  }

  const results: LayerMethodResult[] = [];
  const finish = (method: LayerMethodName, attr: Float32Array, params: Record<string, unknown>, completeness?: Completeness[], notes: string[] = []): void => {
    const totals = channelTotals(attr, n, c, per);
    results.push({ method, attribution: f32([n, c, h, w], attr), channels: f32([n, c], totals), ranked: rank(totals, n, c), ...(completeness ? { completeness } : {}), params, notes });
  };

  for (const method of s.methods) {
    const phase = `${method} at ${s.label}`;
    if (method === 'gradient-x-activation') {
      const attr = new Float32Array(size);
      const work = new Work(job, phase, Math.ceil(n / s.gradientSize));
      await forChunks(n, s.gradientSize, work, async (lo, hi) => {
        const r = await scoreGradients(model, f32([hi - lo, ...x.dims.slice(1)], (x.data as Float32Array).subarray(lo * (x.data.length / n), hi * (x.data.length / n))), targets.subarray(lo, hi), { score: s.score, wrt: [layer], outputs: [layer] });
        const g = r.gradients[layer]!.data as Float32Array;
        const a = r.values[layer]!.data as Float32Array;
        const at = lo * c * per;
        for (let p = 0; p < g.length; p++) attr[at + p] = g[p]! * a[p]!;
      });
      finish(method, attr, {});
    } else if (method === 'integrated-gradients') {
      // Captum's LayerIntegratedGradients: IG in the layer's space, from the baseline's
      // activations to the image's in a straight line, the tail run on each point
      const tail = s.tail!;
      const { alphas, weights } = quadrature(s.rule, s.steps);
      const avg = new Float64Array(size);
      const rowLen = c * per;
      const total = n * s.steps;
      const data = new Float32Array(Math.min(s.gradientSize, total) * rowLen);
      const work = new Work(job, phase, Math.ceil(total / s.gradientSize));
      await forChunks(total, s.gradientSize, work, async (lo, hi) => {
        const rows = data.subarray(0, (hi - lo) * rowLen);
        const rowTargets = new Int32Array(hi - lo);
        for (let k = lo; k < hi; k++) {
          const img = Math.floor(k / s.steps);
          const a = alphas[k % s.steps]!;
          const src = img * rowLen;
          const dst = (k - lo) * rowLen;
          for (let p = 0; p < rowLen; p++) rows[dst + p] = baseActs![src + p]! + a * (acts[src + p]! - baseActs![src + p]!);
          rowTargets[k - lo] = targets[img]!;
        }
        const r = await scoreGradients(tail, f32([hi - lo, c, h, w], rows), rowTargets, { score: s.score, wrt: [tail.input.name] });
        const g = r.gradients[tail.input.name]!.data as Float32Array;
        for (let k = lo; k < hi; k++) {
          const wt = weights[k % s.steps]!;
          const dst = Math.floor(k / s.steps) * rowLen;
          const src = (k - lo) * rowLen;
          for (let p = 0; p < rowLen; p++) avg[dst + p]! += wt * g[src + p]!;
        }
      });
      const attr = new Float32Array(size);
      for (let p = 0; p < size; p++) attr[p] = (acts[p]! - baseActs![p]!) * avg[p]!;
      const completeness = completenessOf(attr, c * per, scores, baseScores);
      finish(method, attr, { steps: s.steps, rule: s.rule, baseline: baselineName(s.baseline), path: 'layer activations (Captum LayerIntegratedGradients)' }, completeness, convergenceNotes(completeness, s.steps, 0, `${method} at ${s.label}`));
    } else if (method === 'conductance') {
      // Captum's LayerConductance: steps + 1 points x_k = baseline + alpha_k (x - baseline) on the
      // input path (alpha_k the rule's nodes, ascending), and per unit
      // sum_k dF/dy(x_(k-1)) * (y(x_k) - y(x_(k-1))). Rows run image-major, points in order, and
      // chunks run in sequence, so each row's predecessor is the row before it.
      const { alphas } = quadrature(s.rule, s.steps + 1);
      const points = s.steps + 1;
      const rowLen = c * per;
      const inPer = x.data.length / n;
      const xd = x.data as Float32Array;
      const bd = s.base!.data as Float32Array;
      const total = n * points;
      const data = new Float32Array(Math.min(s.gradientSize, total) * inPer);
      const prevGrad = new Float32Array(rowLen);
      const prevAct = new Float32Array(rowLen);
      const sums = new Float64Array(size);
      const work = new Work(job, phase, Math.ceil(total / s.gradientSize));
      await forChunks(total, s.gradientSize, work, async (lo, hi) => {
        const rows = data.subarray(0, (hi - lo) * inPer);
        const rowTargets = new Int32Array(hi - lo);
        for (let k = lo; k < hi; k++) {
          const img = Math.floor(k / points);
          const a = alphas[k % points]!;
          const src = img * inPer;
          const dst = (k - lo) * inPer;
          for (let p = 0; p < inPer; p++) rows[dst + p] = bd[src + p]! + a * (xd[src + p]! - bd[src + p]!);
          rowTargets[k - lo] = targets[img]!;
        }
        const r = await scoreGradients(model, f32([hi - lo, ...x.dims.slice(1)], rows), rowTargets, { score: s.score, wrt: [layer], outputs: [layer] });
        const g = r.gradients[layer]!.data as Float32Array;
        const a = r.values[layer]!.data as Float32Array;
        for (let k = lo; k < hi; k++) {
          const src = (k - lo) * rowLen;
          if (k % points > 0) {
            const dst = Math.floor(k / points) * rowLen;
            for (let p = 0; p < rowLen; p++) sums[dst + p]! += prevGrad[p]! * (a[src + p]! - prevAct[p]!);
          }
          prevGrad.set(g.subarray(src, src + rowLen));
          prevAct.set(a.subarray(src, src + rowLen));
        }
      });
      const attr = Float32Array.from(sums);
      // the total telescopes to F(x) - F(baseline) only when the whole change flows through the layer
      const completeness = completenessOf(attr, rowLen, scores, baseScores);
      // at a branch the gap is the bypass's share, not the quadrature's: that note, not convergence
      const notes = cutsEveryPath(model, layer) ? convergenceNotes(completeness, s.steps, 0, `${method} at ${s.label}`) : [`layer "${s.label}" is one branch of the network (another path bypasses it), so conductance's channels there sum to the part of the score's change that flows through it, not to the whole; a layer every path passes through (a block's output) decomposes the whole change`];
      finish(method, attr, { steps: s.steps, rule: s.rule, baseline: baselineName(s.baseline), path: 'input (Captum LayerConductance)' }, completeness, notes);
    } else if (method === 'deeplift') {
      // [images; their baselines] per run: the rescale rules read each row's partner, and the
      // gradient they give at the layer is DeepLIFT's multiplier there
      const pairs = Math.max(1, Math.floor(s.gradientSize / 2));
      const attr = new Float32Array(size);
      const logitScores = new Float64Array(n);
      const logitBase = new Float64Array(n);
      const xd = x.data as Float32Array;
      const bd = s.base!.data as Float32Array;
      const inPer = xd.length / n;
      const work = new Work(job, phase, Math.ceil(n / pairs));
      await forChunks(n, pairs, work, async (lo, hi) => {
        const m = hi - lo;
        const data = new Float32Array(2 * m * inPer);
        data.set(xd.subarray(lo * inPer, hi * inPer));
        data.set(bd.subarray(lo * inPer, hi * inPer), m * inPer);
        const rowTargets = new Int32Array(2 * m);
        rowTargets.set(targets.subarray(lo, hi));
        rowTargets.set(targets.subarray(lo, hi), m);
        const r = await scoreGradients(model, f32([2 * m, ...x.dims.slice(1)], data), rowTargets, { score: 'logit', wrt: [layer], outputs: [layer], ruleSet: PAIRED });
        const g = r.gradients[layer]!.data as Float32Array;
        const a = r.values[layer]!.data as Float32Array;
        const rowLen = c * per;
        for (let j = 0; j < m; j++) for (let p = 0; p < rowLen; p++) attr[(lo + j) * rowLen + p] = g[j * rowLen + p]! * (a[j * rowLen + p]! - a[(m + j) * rowLen + p]!);
        const both = targetScores(r.logits, rowTargets, 'logit');
        logitScores.set(both.subarray(0, m), lo);
        logitBase.set(both.subarray(m), lo);
      });
      const notes = s.score === 'prob' ? ['deeplift decomposes the target logit (the rescale rule has no softmax rule here); score prob does not apply'] : [];
      // a branch's channels carry only the part of the change that flows through that branch
      if (!cutsEveryPath(model, layer)) notes.push(`layer "${s.label}" is one branch of the network (another path bypasses it), so deeplift's channels there sum to the part of the logit's change that flows through it, not to the whole; a layer every path passes through (a block's output) decomposes the whole change`);
      finish(method, attr, { baseline: baselineName(s.baseline), score: 'logit' }, completenessOf(attr, c * per, logitScores, logitBase), notes);
    } else {
      const tail = s.tail!;
      const rowLen = c * per;
      const work = new Work(job, phase, Math.ceil((n * c) / s.forwardSize));
      const ablated = await scoreInputs(
        tail,
        [c, h, w],
        n * c,
        s.forwardSize,
        (k, into) => {
          const img = Math.floor(k / c);
          const ch = k % c;
          into.set(acts.subarray(img * rowLen, (img + 1) * rowLen));
          const at = ch * per;
          if (s.ablation === 'zero') into.fill(0, at, at + per);
          else into.set(baseActs!.subarray(img * rowLen + at, img * rowLen + at + per), at);
        },
        (k) => targets[Math.floor(k / c)]!,
        s.score,
        work,
      );
      const attr = new Float32Array(size);
      for (let k = 0; k < n * c; k++) attr.fill((scores[Math.floor(k / c)]! - ablated[k]!) / per, k * per, (k + 1) * per);
      finish(method, attr, { ablation: s.ablation, ...(s.ablation === 'baseline' ? { baseline: baselineName(s.baseline) } : {}) });
    }
  }
  return { skipped: s.skipped, layer, label: s.label, shape: [c, h, w], targets, scores, score: s.score, activations: first[layer]!, results };
}

const baselineName = (b: IgBaseline): string => (typeof b === 'string' ? b : 'given tensor');

/** Ops a segmentation head puts between its classifier and the class map: resampling, elementwise steps and transposes that keep each channel a class. */
const CHANNELWISE: ReadonlySet<string> = new Set(['Resize', 'Upsample', 'Identity', 'Relu', 'Sigmoid', 'Softmax', 'LogSoftmax', 'Dropout', 'BatchNormalization', 'Cast', 'Transpose']);

const FLATTENING = new Set(['Flatten', 'Reshape', 'Squeeze', 'Identity']);

/**
 * Whether the output is `layer` globally pooled, channel by channel (SqueezeNet's logits: its
 * conv10 class maps, average-pooled): channel k of the layer is then class k, as on a class map.
 */
function pooledIntoOutput(model: Model, layer: string): boolean {
  const producers = model.graph.producers();
  let node = producers.get(model.output);
  for (let hops = 0; node && hops < 4 && FLATTENING.has(node.op); hops++) node = producers.get(node.inputs[0] ?? '');
  if (!node || (node.op !== 'GlobalAveragePool' && node.op !== 'GlobalMaxPool')) return false;
  let value = node.inputs[0];
  for (let hops = 0; value !== layer && hops < 8; hops++) {
    const step = producers.get(value ?? '');
    if (!step || !CHANNELWISE.has(step.op)) return false;
    value = step.inputs[0];
  }
  return value === layer;
}

/**
 * The layer whose channels are scored by default: the CAM layer (on a segmentation net the
 * backbone's last layer, profile.ts), except where that is a class map itself, channel k being
 * class k (a net whose logits are its last class maps, pooled: SqueezeNet; a segmentation net
 * whose head the profile could not step back through): every method gave the target's channel
 * 100% ("m:0 100.0%"), true by construction. There it is the input of the classifier
 * convolution that computes the map (looking through an upsampling), or of the MatMul over the
 * channels of a channels-last export (looking through its Transposes): the features the classes
 * are read from.
 */
export function defaultChannelLayer(model: Model): string {
  const cam = model.lastSpatialLayer();
  if (!(model.classMap && cam === model.classMap) && !pooledIntoOutput(model, cam)) return cam;
  const producers = model.graph.producers();
  let classifier = producers.get(cam);
  for (let hops = 0; classifier && hops < 8 && CHANNELWISE.has(classifier.op); hops++) classifier = producers.get(classifier.inputs[0] ?? '');
  const perChannel = classifier?.op === 'Conv' || (classifier?.op === 'MatMul' && model.builder().valueOf(classifier.inputs[1] ?? '')?.dims.length === 2);
  if (!classifier || !perChannel) return cam;
  const isMap = (v: string): boolean => model.facts(v).shape?.length === 4 && model.isChannelsFirst(v);
  // the features as a channels-first map: Transposes to channels-last in between are looked through
  let features = classifier.inputs[0];
  for (let hops = 0; features && hops < 4 && !isMap(features) && producers.get(features)?.op === 'Transpose'; hops++) features = producers.get(features)!.inputs[0];
  if (!features || features === model.input.name) return cam;
  const shape = model.facts(features).shape;
  return shape?.length === 4 && model.isChannelsFirst(features) ? features : cam;
}
