// Gradient-based maps: gradient, saliency (Simonyan et al. 2014), input x gradient,
// guided backpropagation (Springenberg et al. 2015), deconvnet (Zeiler & Fergus 2014).
import type { RuleSetName } from '../../engine/ops/registry.js';
import type { Tensor } from '../../engine/tensor.js';
import { f32, nchw, reduceChannels } from './arrays.js';
import { inputGradientPass, runPass } from './session.js';
import type { MethodContext, MethodResult } from './types.js';

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

export async function saliency(ctx: MethodContext): Promise<MethodResult> {
  const reduce = ctx.options.saliency?.reduce ?? 'max';
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
