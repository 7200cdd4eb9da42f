// explain(): runs attribution methods on a batch for each image's target class and score,
// sharing work between methods (one input-gradient pass serves gradient, saliency and
// input x gradient; one layer pass serves Grad-CAM, Grad-CAM++ and LayerCAM).
import { ConvLensError, describeValue, unknownNameError } from '../../engine/errors.js';
import { nonFiniteCount, type Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { outputNoun } from '../../models/metadata.js';
import { outputProbabilities } from '../../models/output-kind.js';
import { throwIfCancelled } from '../../engine/jobs.js';
import { f32, nchw } from './arrays.js';
import { cam, gradcam, gradcamPlusPlus, guidedGradcam, layercam } from './cam.js';
import { ablationcam, eigencam, eigengradcam, hirescam, xgradcam } from './cam-family.js';
import { deeplift, deepliftShap, gradientShap } from './deeplift.js';
import { fullgrad, fullgradPass } from './fullgrad.js';
import { lrp, lrpPass } from './lrp.js';
import { augmentationSmoothed } from './smoothing.js';
import { deconvnet, gradient, guidedBackprop, inputXGradient, saliency, saliencyPass } from './gradients.js';
import { integratedGradients } from './integrated-gradients.js';
import { camHead, spatialLayer } from './layers.js';
import { occlusion } from './occlusion.js';
import { scorecam } from './scorecam.js';
import { featureAblation, kernelShap, lime } from './segment-perturbation.js';
import { batchedForward, batchSizeOption, classCount, inputGradientPass, layerGradientPass, runPass, Work, type GradientPass } from './session.js';
import { smoothgrad, smoothgradSquared, vargrad } from './smoothgrad.js';
import { checkScore, presetTargets, resolveTargets, type ScoreKind } from './target.js';
import { METHOD_NAMES, type Attribution, type ExplainOptions, type ExplainedImage, type Explanation, type Memo, type MethodContext, type MethodName, type MethodResult, type SkippedMethod } from './types.js';
import { lookup } from '../../util/lookup.js';

interface MethodSpec {
  run: (ctx: MethodContext) => Promise<MethodResult>;
  /** reads a layer (CAM-type) */
  layer: boolean;
  /** one of pytorch-grad-cam's CAMs: --aug-smooth and --eigen-smooth apply */
  camFamily?: boolean;
  title: string;
  description: string;
}

export const METHODS: Record<MethodName, MethodSpec> = {
  gradient: { run: gradient, layer: false, title: 'Gradient', description: 'd score / d input, signed' },
  saliency: { run: saliency, layer: false, title: 'Saliency', description: 'max over channels of |d score / d input| (Simonyan et al.)' },
  'input-x-gradient': { run: inputXGradient, layer: false, title: 'Input x gradient', description: 'input times gradient' },
  smoothgrad: { run: smoothgrad, layer: false, title: 'SmoothGrad', description: 'mean gradient over noisy copies (Smilkov et al.)' },
  'smoothgrad-sq': { run: smoothgradSquared, layer: false, title: 'SmoothGrad²', description: 'mean squared gradient over noisy copies' },
  vargrad: { run: vargrad, layer: false, title: 'VarGrad', description: 'variance of the gradient over noisy copies (Adebayo et al.)' },
  'integrated-gradients': { run: integratedGradients, layer: false, title: 'Integrated gradients', description: 'path integral of gradients from a baseline (Sundararajan et al.)' },
  occlusion: { run: occlusion, layer: false, title: 'Occlusion', description: 'score drop when a sliding window is filled (Zeiler & Fergus)' },
  cam: { run: cam, layer: true, title: 'CAM', description: 'class weights x GAP feature maps (Zhou et al.)' },
  gradcam: { run: gradcam, layer: true, camFamily: true, title: 'Grad-CAM', description: 'ReLU(sum of channels weighted by mean gradient) (Selvaraju et al.)' },
  'gradcam++': { run: gradcamPlusPlus, layer: true, camFamily: true, title: 'Grad-CAM++', description: 'higher-order gradient weights (Chattopadhay et al.)' },
  scorecam: { run: scorecam, layer: true, camFamily: true, title: 'Score-CAM', description: 'channels weighted by the score of the input they mask (Wang et al.)' },
  layercam: { run: layercam, layer: true, camFamily: true, title: 'LayerCAM', description: 'ReLU(sum of positive gradients x activations) (Jiang et al.)' },
  'guided-backprop': { run: guidedBackprop, layer: false, title: 'Guided backprop', description: 'gradient with guided ReLUs (Springenberg et al.)' },
  deconvnet: { run: deconvnet, layer: false, title: 'Deconvnet', description: 'backward pass with deconvnet ReLUs (Zeiler & Fergus)' },
  'guided-gradcam': { run: guidedGradcam, layer: true, title: 'Guided Grad-CAM', description: 'guided backprop x upsampled Grad-CAM' },
  deeplift: { run: deeplift, layer: false, title: 'DeepLIFT', description: 'multipliers (y - y\') / (x - x\') through the nonlinearities, times x - x\' (Shrikumar et al., Rescale rule)' },
  'deeplift-shap': { run: deepliftShap, layer: false, title: 'DeepLiftShap', description: 'DeepLIFT averaged over a set of baselines (Lundberg & Lee)' },
  'gradient-shap': { run: gradientShap, layer: false, title: 'GradientSHAP', description: 'expected gradients: (x - x\') x gradient at a random point between a random baseline and x' },
  lrp: { run: lrp, layer: false, title: 'LRP', description: 'layer-wise relevance propagation with a composite of rules per layer type (Bach et al.)' },
  xgradcam: { run: xgradcam, layer: true, camFamily: true, title: 'XGrad-CAM', description: 'channels weighted by sum(gradient x activation) / sum(activation) (Fu et al.)' },
  hirescam: { run: hirescam, layer: true, camFamily: true, title: 'HiResCAM', description: 'ReLU(sum over channels of gradient x activation) (Draelos & Carin)' },
  eigencam: { run: eigencam, layer: true, camFamily: true, title: 'EigenCAM', description: 'first principal component of the activations (Muhammad & Yeasin)' },
  eigengradcam: { run: eigengradcam, layer: true, camFamily: true, title: 'EigenGradCAM', description: 'first principal component of gradient x activation' },
  ablationcam: { run: ablationcam, layer: true, camFamily: true, title: 'Ablation-CAM', description: 'channels weighted by the score drop when each is ablated (Desai & Ramaswamy)' },
  fullgrad: { run: fullgrad, layer: false, camFamily: true, title: 'FullGrad', description: '|input x gradient| plus |bias x gradient| of every conv/BN layer, each map normalized (Srinivas & Fleuret)' },
  'feature-ablation': { run: featureAblation, layer: false, title: 'Feature ablation', description: 'score drop when each segment (SLIC superpixel or grid cell) is replaced by the baseline' },
  'kernel-shap': { run: kernelShap, layer: false, title: 'KernelSHAP', description: 'Shapley values of the segments by weighted regression over coalitions from the Shapley kernel (Lundberg & Lee)' },
  lime: { run: lime, layer: false, title: 'LIME', description: 'linear surrogate over random coalitions of segments, weighted by closeness to the image (Ribeiro et al.)' },
};

const ALIASES: Record<string, MethodName> = {
  grad: 'gradient',
  gradients: 'gradient',
  vanilla: 'gradient',
  'vanilla-gradient': 'gradient',
  ixg: 'input-x-gradient',
  'input-x-grad': 'input-x-gradient',
  'inputxgradient': 'input-x-gradient',
  'input-times-gradient': 'input-x-gradient',
  'smoothgrad-squared': 'smoothgrad-sq',
  'smoothgrad-square': 'smoothgrad-sq',
  'smoothgrad-sq': 'smoothgrad-sq',
  ig: 'integrated-gradients',
  'integrated-gradient': 'integrated-gradients',
  'grad-cam': 'gradcam',
  'grad-cam++': 'gradcam++',
  'gradcam-plus-plus': 'gradcam++',
  gradcampp: 'gradcam++',
  'score-cam': 'scorecam',
  'layer-cam': 'layercam',
  guided: 'guided-backprop',
  'guided-backpropagation': 'guided-backprop',
  guidedbackprop: 'guided-backprop',
  'guided-grad-cam': 'guided-gradcam',
  deconv: 'deconvnet',
  'deep-lift': 'deeplift',
  deepliftshap: 'deeplift-shap',
  'deep-lift-shap': 'deeplift-shap',
  gradientshap: 'gradient-shap',
  'expected-gradients': 'gradient-shap',
  shap: 'gradient-shap',
  'layer-wise-relevance-propagation': 'lrp',
  'xgrad-cam': 'xgradcam',
  'hires-cam': 'hirescam',
  'eigen-cam': 'eigencam',
  'eigen-grad-cam': 'eigengradcam',
  'ablation-cam': 'ablationcam',
  'full-grad': 'fullgrad',
  ablation: 'feature-ablation',
  featureablation: 'feature-ablation',
  kernelshap: 'kernel-shap',
  'kernel-shapley': 'kernel-shap',
};

/** A method name as users type it (any case, '_' or '-', common aliases) -> the canonical name. */
export function resolveMethod(name: string): MethodName {
  const key = name.trim().toLowerCase().replace(/_/g, '-');
  if ((METHOD_NAMES as readonly string[]).includes(key)) return key as MethodName;
  const alias = lookup(ALIASES, key);
  if (alias) return alias;
  throw unknownNameError('attribution method', name, METHOD_NAMES);
}

/** Method names from a list (comma-separated entries allowed, `all` for every method), deduplicated, in order. */
export function resolveMethods(names: readonly string[]): MethodName[] {
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new ConvLensError('INVALID_ARGUMENT', `Methods are given as a list of names, got ${describeValue(names)}.`, `Pass e.g. methods: ['gradcam', 'integrated-gradients']; choose from: ${METHOD_NAMES.join(', ')}.`);
  }
  const out: MethodName[] = [];
  for (const part of names.flatMap((n) => n.split(',')).map((s) => s.trim()).filter(Boolean)) {
    for (const m of part.toLowerCase() === 'all' ? METHOD_NAMES : [resolveMethod(part)]) if (!out.includes(m)) out.push(m);
  }
  if (out.length === 0) throw new ConvLensError('INVALID_ARGUMENT', 'No attribution method given.', `Choose from: ${METHOD_NAMES.join(', ')}.`);
  return out;
}

/**
 * The gradient pass over the explained images that some requested method runs anyway, if any:
 * running it first yields the predictions too, which saves a forward pass. Failing that, the
 * input-gradient pass when every method runs that graph anyway.
 */
function leadingPass(model: Model, methods: readonly MethodName[], score: ScoreKind, options: ExplainOptions): GradientPass | undefined {
  for (const m of methods) {
    if (METHODS[m].camFamily && options.cam?.augSmooth) continue; // it runs over the augmented batch instead
    switch (m) {
      case 'saliency':
        return saliencyPass(model, score, methods, options);
      case 'gradient':
      case 'input-x-gradient':
        return inputGradientPass(model, score);
      case 'guided-backprop':
        return inputGradientPass(model, score, 'guided');
      case 'deconvnet':
        return inputGradientPass(model, score, 'deconvnet');
      case 'lrp':
        try {
          return lrpPass(model, options);
        } catch {
          break; // invalid options: the method reports them when it runs, a later one may lead
        }
      case 'fullgrad':
        return fullgradPass(model, score);
      case 'gradcam':
      case 'gradcam++':
      case 'layercam':
      case 'guided-gradcam':
      case 'xgradcam':
      case 'hirescam':
      case 'eigengradcam': {
        const layer = skippableFailure(() => spatialLayer(model, options.layer, { tokens: true }), methods.length);
        if (layer) return layerGradientPass(score, layer.name);
        break; // no spatial layer: the method is skipped, a later one may lead
      }
      default:
    }
  }
  // No method runs a pass over the explained images, but one runs the input-gradient graph over
  // many rows (IG's path, SmoothGrad's noisy copies): leading with that graph costs N gradient
  // rows where a forward pass would cost compiling a second graph (~0.6 s on ResNet-18).
  const manyRows: readonly MethodName[] = ['integrated-gradients', 'smoothgrad', 'smoothgrad-sq', 'vargrad'];
  if (methods.length > 0 && methods.every((m) => manyRows.includes(m))) return inputGradientPass(model, score);
  return undefined;
}

/** Layers whose activations a requested method reads from a forward pass (CAM, EigenCAM), where it can tell. */
function forwardLayers(model: Model, methods: readonly MethodName[], options: ExplainOptions): string[] {
  const layers = new Set<string>();
  const add = (name: () => string): void => {
    try {
      layers.add(name());
    } catch {
      // the method reports why it does not apply when it runs
    }
  };
  for (const m of methods) {
    if (m === 'cam') add(() => camHead(model).layer);
    if (m === 'eigencam' && !options.cam?.augSmooth) add(() => spatialLayer(model, options.layer, { tokens: true }).name);
  }
  return [...layers];
}

/**
 * A context whose memo shares work between the methods run in it. With --aug-smooth, CAM-family
 * methods run again in a context over the augmented batch (smoothing.ts).
 */
export function methodContext(model: Model, x: Tensor, targets: Int32Array, score: MethodContext['score'], shared: Pick<MethodContext, 'batchSize' | 'forwardBatchSize' | 'methods'>, options: ExplainOptions, memoValues = new Map<string, Promise<unknown>>()): MethodContext {
  const ctx: MethodContext = { model, x, targets, score, ...shared, job: options, options, memo: undefined as unknown as Memo };
  const memo: Memo = {
    once<T>(key: string, compute: () => Promise<T>): Promise<T> {
      let p = memoValues.get(key) as Promise<T> | undefined;
      if (!p) memoValues.set(key, (p = compute()));
      return p;
    },
    method(name: MethodName): Promise<MethodResult> {
      const spec = METHODS[name];
      if (spec.camFamily && options.cam?.augSmooth) return memo.once(`method|${name}|aug`, () => augmentationSmoothed(ctx, name, (sub) => methodContext(model, sub.x, sub.targets, score, shared, { ...options, cam: { ...options.cam, augSmooth: false } }), (c) => spec.run(c)));
      return memo.once(`method|${name}`, () => spec.run(ctx));
    },
  };
  ctx.memo = memo;
  return ctx;
}

/**
 * Explains each image's target score with each method. The batch is [N, C, H, W] in the model's
 * input space (as loadInputs returns it).
 */
export async function explain(model: Model, x: Tensor, options: ExplainOptions): Promise<Explanation> {
  if (typeof options !== 'object' || options === null) {
    throw new ConvLensError('INVALID_ARGUMENT', `explain() takes an options object, got ${describeValue(options)}.`, "Pass at least the methods: explain(model, x, { methods: ['gradcam'] }).");
  }
  model.checkInput(x, { anyCount: true }); // runs are cut to the model's batch below
  // A NaN pixel turns some methods' maps into NaN and others' into zeros, with no sign of why.
  const nonFinite = nonFiniteCount(x);
  if (nonFinite > 0) throw new ConvLensError('INVALID_ARGUMENT', `The input has ${nonFinite} NaN or infinite value${nonFinite === 1 ? '' : 's'}.`, 'Pass finite values in the model input space (check the preprocessing that made them).');
  const methods = resolveMethods(options.methods);
  const score = checkScore(options.score ?? 'logit', model);
  const batchSize = batchSizeOption(model, options.batchSize, 'gradient');
  const forwardBatchSize = batchSizeOption(model, options.batchSize, 'forward');
  // Check what can be checked before any long computation starts.
  if (options.firstIndex !== undefined && !(Number.isSafeInteger(options.firstIndex) && options.firstIndex >= 0)) {
    throw new ConvLensError('INVALID_ARGUMENT', `firstIndex must be a non-negative integer, got ${options.firstIndex}.`, 'Give the position of the batch\'s first input in the whole run (0 for a run in one batch).');
  }
  // A model without any spatial layer only rules the CAM-type methods out (they are skipped below).
  if (methods.some((m) => METHODS[m].layer && m !== 'cam')) skippableFailure(() => spatialLayer(model, options.layer, { tokens: true }), methods.length);
  else if (options.layer !== undefined) model.resolveLayer(options.layer);

  throwIfCancelled(options.signal, 'explain');
  // Every method counts its own runs from 0; the part says which method's they are. The shared
  // prediction pass before the first method belongs to none: its events carry no part, or a
  // caller adding the parts up counted its 1/1 as the first method done (1/6, then 0/6).
  let part: number | undefined;
  const report = options.onProgress;
  if (report) options = { ...options, onProgress: (p) => report(part === undefined ? p : { ...p, part: { index: part, count: methods.length } }) };
  // The predictions come from the first gradient pass when a method needs one over these images
  // (its graph picks each row's top class itself); only otherwise from a forward pass of their own.
  const memoValues = new Map<string, Promise<unknown>>();
  const lead = leadingPass(model, methods, score, options);
  const passStart = performance.now();
  let led: { logits: Tensor; targets: Int32Array } | undefined;
  if (lead) {
    const preset = presetTargets(model, options.target, x.dims[0]!, classCount(model));
    try {
      const r = await runPass(model, x, preset, lead, batchSize, options);
      memoValues.set(lead.key, Promise.resolve(r));
      led = r;
    } catch (e) {
      // The pass fails again in each method that needs it, which is then reported (skipped when
      // the model rules it out, failed otherwise) while the methods that do not need it run.
      if (methods.length === 1 || (e instanceof ConvLensError && e.code === 'CANCELLED') || options.signal?.aborted) throw e;
    }
  }
  let logits = led?.logits;
  if (!logits) {
    // The prediction pass also returns the activations CAM and EigenCAM read: one forward graph
    // and one pass instead of two.
    const layers = forwardLayers(model, methods, options);
    const runs = Math.ceil(x.dims[0]! / forwardBatchSize);
    const out = await batchedForward(model, x, layers, forwardBatchSize, new Work(options, 'prediction', runs));
    for (const l of layers) memoValues.set(`activations|${l}`, Promise.resolve(out[l]!));
    logits = out[model.output]!;
  }
  const predictionPass = { kind: led ? ('shared gradient pass' as const) : ('forward pass' as const), timeMs: performance.now() - passStart };
  const targets = led?.targets ?? resolveTargets(model, options.target, logits);
  const classes = logits.dims[1]!;
  const ld = logits.data as Float32Array;
  const images = Array.from({ length: x.dims[0]! }, (_, i) => {
    const row = ld.subarray(i * classes, (i + 1) * classes);
    const p = outputProbabilities(model.outputKind, row);
    let best = 0;
    for (let k = 1; k < classes; k++) if (row[k]! > row[best]!) best = k;
    const t = targets[i]!;
    const label = (k: number): string => model.labels[k] ?? `${outputNoun(model.outputKind)} ${k}`;
    return {
      predicted: { index: best, label: label(best), ...(p ? { probability: p[best]! } : {}), logit: row[best]! },
      target: { index: t, label: label(t), score: score === 'prob' && p ? p[t]! : row[t]!, ...(p ? { probability: p[t]! } : {}), logit: row[t]! },
    };
  });

  const ctx = methodContext(model, x, targets, score, { batchSize, forwardBatchSize, methods }, options, memoValues);
  ctx.logits = logits;
  const [, , h, w] = nchw(x);
  const attributions: Attribution[] = [];
  const skipped: SkippedMethod[] = [];
  const failures: unknown[] = [];
  for (const [k, method] of methods.entries()) {
    throwIfCancelled(options.signal, 'explain');
    part = k;
    const t0 = performance.now();
    let r: MethodResult;
    try {
      r = await ctx.memo.method(method);
    } catch (e) {
      // A method the model's structure rules out (CAM without GAP + dense, ...) is reported, and
      // so is one that fails: neither discards the other methods' results. Cancelling stops all.
      if (methods.length === 1 || (e instanceof ConvLensError && e.code === 'CANCELLED') || options.signal?.aborted) throw e;
      const skippable = e instanceof ConvLensError && SKIPPABLE.has(e.code);
      if (!skippable) failures.push(e);
      const hint = e instanceof ConvLensError ? e.hint : undefined;
      skipped.push({ method, reason: e instanceof Error ? e.message : String(e), ...(hint ? { hint } : {}), ...(skippable ? {} : { failed: true }) });
      continue;
    }
    const timeMs = performance.now() - t0;
    attributions.push({
      method,
      params: r.params,
      ...(r.layer ? { layer: r.layer } : {}),
      raw: r.raw,
      map: f32([x.dims[0]!, h, w], r.map),
      signed: r.signed,
      ...(r.completeness ? { completeness: r.completeness } : {}),
      notes: [...(r.notes ?? []), ...quantizationNotes(model, method), ...flatMapNotes(method, r.map, images, score, model.unit !== undefined), ...blankCamNotes(method, r, images.length)],
      timeMs,
    });
  }
  if (!attributions.length) {
    if (failures.length) throw failures[0];
    const first = skipped[0]!;
    throw new ConvLensError('MODEL_UNSUPPORTED', `No method applies to model "${model.name}": ${skipped.map((s) => `${s.method}: ${s.reason}`).join('; ')}`, first.hint);
  }
  return { model: model.name, ...(model.unit ? { unit: model.unit } : {}), ...(model.outputKind === 'regression' ? { outputKind: 'regression' as const } : {}), score, inputShape: [...x.dims], images, targets, attributions, skipped, batchSize, forwardBatchSize, predictionPass };
}

/** Maps in squared score units (their size says nothing against the score's). */
const SQUARED_UNITS: ReadonlySet<MethodName> = new Set(['smoothgrad-sq', 'vargrad']);

/**
 * A pixel map in the score's units (a gradient, a score change, a share of one) whose values
 * sum in magnitude to less than a millionth of the score says the score barely depends on the
 * input, and its picture shows rounding scaled up to full colour: an untrained model (a random
 * deep net's logits move by 1e-13 across images), a saturated probability, or dead units.
 */
function flatMapNotes(method: MethodName, map: Float32Array, images: readonly ExplainedImage[], score: ScoreKind, unit: boolean): string[] {
  if (METHODS[method].layer || SQUARED_UNITS.has(method)) return [];
  const per = map.length / Math.max(1, images.length);
  for (let i = 0; i < images.length; i++) {
    let total = 0;
    for (let p = i * per; p < (i + 1) * per; p++) total += Math.abs(map[p]!);
    const target = images[i]!.target.score;
    if (Number.isFinite(total) && Number.isFinite(target) && total < 1e-6 * Math.max(Math.abs(target), 1e-3)) {
      const sum = `its values sum in magnitude to ${total.toPrecision(2)}`;
      if (unit) return [`${method} on image ${i + 1}: the map is flat (${sum} against the unit's value of ${target.toPrecision(3)}): the unit barely moves with the input here, as a unit that does not fire (a ReLU at 0 passes no gradient); the colours show rounding scaled up`];
      return [
        `${method} on image ${i + 1}: the map is flat (${sum} against a target ${score} of ${target.toPrecision(3)}), so the score barely depends on the input and the colours show rounding scaled up: an untrained model, ${score === 'prob' ? 'a saturated probability (the logit score avoids it; CLI: --score logit), ' : ''}or units that never fire`,
      ];
    }
  }
  return [];
}

/**
 * A rectified CAM (Grad-CAM and the methods that ReLU their weighted sum) that is 0 at every
 * position draws a blank tile captioned "0 to 0": every position's channel-weighted sum at the
 * layer was zero or negative, so the layer holds no positive evidence for the target there
 * (pytorch-grad-cam draws the same blank map). Said, so the blank is not read as a failure.
 */
function blankCamNotes(method: MethodName, r: MethodResult, images: number): string[] {
  if (!r.layer || r.params['relu'] !== true) return [];
  const raw = r.raw.data as Float32Array;
  const per = raw.length / Math.max(1, images);
  const blank: number[] = [];
  for (let i = 0; i < images; i++) if (raw.subarray(i * per, (i + 1) * per).every((v) => v === 0)) blank.push(i + 1);
  if (!blank.length) return [];
  const which = blank.length === images ? (images === 1 ? 'the image' : 'every image') : `image${blank.length === 1 ? '' : 's'} ${blank.join(', ')}`;
  return [
    `${method} is 0 everywhere on ${which}: at ${r.layer.label} every position's channel-weighted sum is zero or negative, so the ReLU leaves nothing (the layer holds no positive evidence for the target there); another layer (CLI: --layer) or a gradient method shows where the score's evidence lies`,
  ];
}

/** Methods that only run the model forward: no gradient passes its rounding. */
const FORWARD_ONLY: ReadonlySet<MethodName> = new Set(['cam', 'occlusion', 'scorecam', 'eigencam', 'ablationcam', 'feature-ablation', 'kernel-shap', 'lime']);

/**
 * What an attribution of a QDQ model owes its reader: rounding has a zero gradient almost
 * everywhere, so whatever passes it is an estimate, and each rule set estimates differently.
 */
function quantizationNotes(model: Model, method: MethodName): string[] {
  const q = model.quantization;
  if (q.kind !== 'qdq') return [];
  const what = `the model is quantized (QDQ, ${q.nodes.length} QuantizeLinear node${q.nodes.length === 1 ? '' : 's'})`;
  if (FORWARD_ONLY.has(method)) return [`${what}: this method runs it forward only, its rounding included, so no gradient estimate is involved`];
  if (method === 'lrp') return [`${what}: relevance passes its rounding unchanged, as through an activation`];
  if (method === 'deeplift' || method === 'deeplift-shap') return [`${what}: multipliers through its rounding are (fq(x) - fq(x')) / (x - x'), straight-through estimates where x = x'`];
  return [`${what}: gradients through quantization are straight-through estimates (passed unchanged where the int8 code is inside its range, zero where it saturates; Bengio et al. 2013), as the exact gradient of rounding is zero almost everywhere`];
}

/** Errors that mean "this method does not apply to this model", not "the request is wrong". */
const SKIPPABLE: ReadonlySet<string> = new Set(['MODEL_UNSUPPORTED', 'SHAPE_MISMATCH']);

/** `f()`, or undefined when it fails in a way that only skips a method of a request for several. */
function skippableFailure<T>(f: () => T, methodCount: number): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof ConvLensError) || !SKIPPABLE.has(e.code) || methodCount === 1) throw e;
    return undefined;
  }
}

export { METHOD_NAMES, type Attribution, type ExplainedImage, type SkippedMethod, type ExplainOptions, type Explanation, type MethodName, type MethodParams, type Completeness, type IgBaseline, type IgRule, type OcclusionFill, type OcclusionMode, type ScoreCamMode, type AblationMode, type SegmentBaseline, type LimeRegression } from './types.js';
export { resolveTargets, targetScores, classIndex, checkScore, type TargetSpec, type ScoreKind } from './target.js';
export { spatialLayer, camHead, camMaps, tokenLayers, type SpatialLayer, type CamHead, type TokenLayer } from './layers.js';
export { scoreGradients, forwardScores, defaultBatchSize, BATCH_INPUT_VALUES } from './session.js';
export { quadrature, gaussLegendre, blackImage, resolveBaseline } from './integrated-gradients.js';
export { windowOffsets, OCCLUSION_MODES, APPROXIMATE_DEFAULTS } from './occlusion.js';
export { SCORECAM_MODES } from './scorecam.js';
export { ABLATION_MODES, LIME_REGRESSIONS } from './segment-perturbation.js';
export { resizeBilinear, gaussianBlur, reduceChannels } from './arrays.js';
export { inputBounds } from './lrp.js';
export { principalProjection } from './eigen.js';
export { biasLayers } from './fullgrad.js';
export { shapBaselines } from './deeplift.js';
export { segmentImage, slic, gridSegments, maskFromImage, maskSegmentations, SEGMENTATION_KINDS, SEGMENTATION_DEFAULTS, MAX_SEGMENTS, type Segmentation, type SegmentationKind, type SegmentationOptions } from './segments.js';
export { SEGMENT_SAMPLE_DEFAULTS, MAX_SEGMENT_SAMPLES } from './segment-perturbation.js';
