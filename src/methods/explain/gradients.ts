// Gradient-based maps: gradient, saliency (Simonyan et al. 2014), input x gradient,
// guided backpropagation (Springenberg et al. 2015), deconvnet (Zeiler & Fergus 2014).
import { ConvLensError } from '../../engine/errors.js';
import type { RuleSetName } from '../../engine/ops/registry.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { f32, nchw, reduceChannels } from './arrays.js';
import { inputGradientPass, inputSaliencyPass, runPass, type GradientPass } from './session.js';
import type { ScoreKind } from './target.js';
import type { ExplainOptions, MethodContext, MethodName, MethodResult } from './types.js';

/** d score / d input for the whole batch under a rule set, shared by every method that needs it. */
export async function inputGradient(ctx: MethodContext, ruleSet: RuleSetName = 'standard'): Promise<Tensor> {
  const pass = inputGradientPass(ctx.model, ctx.score, ruleSet);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  return r.gradients[ctx.model.input.name]!;
}

export async function gradient(ctx: MethodContext): Promise<MethodResult> {
  const g = await inputGradient(ctx);
  return { raw: g, map: reduceChannels(g, 'sum'), signed: true, params: {} };
}

/**
 * Saliency's pass: the max over channels reduced in the graph (a third of the output for RGB, and
 * no reduction in JavaScript), unless another method of the call needs the whole input gradient
 * or the sum over channels is asked for.
 */
export function saliencyPass(model: Model, score: ScoreKind, methods: readonly MethodName[], options: ExplainOptions): GradientPass {
  const whole = (options.saliency?.reduce ?? 'max') !== 'max' || methods.some((m) => m === 'gradient' || m === 'input-x-gradient');
  return whole ? inputGradientPass(model, score) : inputSaliencyPass(model, score);
}

export async function saliency(ctx: MethodContext): Promise<MethodResult> {
  const reduce = ctx.options.saliency?.reduce ?? 'max';
  // anything but 'max' used to run as 'sum' without a word
  if (reduce !== 'max' && reduce !== 'sum') throw new ConvLensError('INVALID_ARGUMENT', `Unknown saliency reduction "${String(reduce)}".`, 'Use max (the largest |gradient| over channels, the default) or sum.');
  const pass = saliencyPass(ctx.model, ctx.score, ctx.methods, ctx.options);
  if (pass.request.reduce) {
    const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
    const raw = r.gradients[ctx.model.input.name]!;
    return { raw, map: (raw.data as Float32Array).slice(), signed: false, params: { reduce } };
  }
  const g = await inputGradient(ctx);
  const [n, , h, w] = nchw(g);
  const map = reduceChannels(g, reduce === 'max' ? 'abs-max' : 'abs-sum');
  return { raw: f32([n, 1, h, w], map), map: map.slice(), signed: false, params: { reduce } };
}

export async function inputXGradient(ctx: MethodContext): Promise<MethodResult> {
  const g = await inputGradient(ctx);
  const gd = g.data as Float32Array;
  const xd = ctx.x.data as Float32Array;
  const out = new Float32Array(gd.length);
  for (let i = 0; i < out.length; i++) out[i] = gd[i]! * xd[i]!;
  const raw = f32(g.dims, out);
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params: {} };
}

export async function guidedBackprop(ctx: MethodContext): Promise<MethodResult> {
  const g = await inputGradient(ctx, 'guided');
  return { raw: g, map: reduceChannels(g, 'sum'), signed: true, params: { ruleSet: 'guided' } };
}

export async function deconvnet(ctx: MethodContext): Promise<MethodResult> {
  const g = await inputGradient(ctx, 'deconvnet');
  return { raw: g, map: reduceChannels(g, 'sum'), signed: true, params: { ruleSet: 'deconvnet' } };
}
