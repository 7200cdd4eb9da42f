// Layer-wise relevance propagation: the LRP rule set of a composite (src/engine/ops/rules/lrp.ts)
// run as a backward pass from the target logit. Relevance starts as the logit itself (Captum's
// convention: its attributions are the normalized relevances times the output), so the map sums
// to the logit less what biases and stabilizers absorb; that gap is reported per image.
import { ConvLensError } from '../../engine/errors.js';
import { LRP_COMPOSITES, lrpComposite, lrpRuleSet, type LrpCompositeName } from '../../engine/ops/rules/lrp.js';
import type { RuleSet } from '../../engine/ops/registry.js';
import type { Model } from '../../models/model.js';
import { f32, nchw, reduceChannels } from './arrays.js';
import { runPass, type GradientPass } from './session.js';
import { targetScores } from './target.js';
import { completenessOf } from './completeness.js';
import type { ExplainOptions, MethodContext, MethodResult } from './types.js';

/** The lowest and highest value each input channel can take: the pixel range through mean/std. */
export function inputBounds(model: Model): { low: number[]; high: number[] } {
  const [, c] = model.input.shape! as number[];
  const prep = model.meta.preprocessing;
  const [lo, hi] = prep.range;
  const low: number[] = [];
  const high: number[] = [];
  for (let ch = 0; ch < c!; ch++) {
    const mean = prep.mean[ch] ?? prep.mean[0] ?? 0;
    const std = prep.std[ch] ?? prep.std[0] ?? 1;
    const a = (lo - mean) / std;
    const b = (hi - mean) / std;
    low.push(Math.min(a, b));
    high.push(Math.max(a, b));
  }
  return { low, high };
}

const ruleSets = new WeakMap<Model, Map<string, RuleSet>>();

/**
 * LRP's backward pass over the explained images (validating the options): a gradient pass
 * under the composite's rule set, so it can also be the call's prediction pass.
 */
export function lrpPass(model: Model, options: ExplainOptions): GradientPass & { name: LrpCompositeName } {
  const o = options.lrp ?? {};
  const name: LrpCompositeName = o.composite ?? 'epsilon-gamma-box';
  if (!(LRP_COMPOSITES as readonly string[]).includes(name)) {
    throw new ConvLensError('INVALID_ARGUMENT', `Unknown LRP composite "${name}".`, `Use one of: ${LRP_COMPOSITES.join(', ')}.`);
  }
  if (o.epsilon !== undefined && !(o.epsilon >= 0 && Number.isFinite(o.epsilon))) throw new ConvLensError('INVALID_ARGUMENT', `LRP epsilon must be a finite number >= 0, got ${o.epsilon}.`, 'Use an epsilon of 0 or more (CLI: --lrp-epsilon).');
  if (o.gamma !== undefined && !(o.gamma >= 0 && Number.isFinite(o.gamma))) throw new ConvLensError('INVALID_ARGUMENT', `LRP gamma must be a finite number >= 0, got ${o.gamma}.`, 'Use a gamma of 0 or more (CLI: --lrp-gamma).');
  const composite = lrpComposite(name, { ...(o.epsilon !== undefined ? { epsilon: o.epsilon } : {}), ...(o.gamma !== undefined ? { gamma: o.gamma } : {}), ...inputBounds(model) });
  // The rule set analyzes the graph and folds BatchNorms into weight copies: once per model and composite.
  let sets = ruleSets.get(model);
  if (!sets) ruleSets.set(model, (sets = new Map()));
  let ruleSet = sets.get(composite.name);
  if (!ruleSet) sets.set(composite.name, (ruleSet = lrpRuleSet(model.graph, composite)));
  return { name, key: `lrp|${composite.name}`, phase: 'lrp', request: { score: 'logit', wrt: [model.input.name], ruleSet } };
}

export async function lrp(ctx: MethodContext): Promise<MethodResult> {
  const o = ctx.options.lrp ?? {};
  const pass = lrpPass(ctx.model, ctx.options);
  const name = pass.name;
  const bounds = inputBounds(ctx.model);
  const input = ctx.model.input.name;
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  const logits = targetScores(r.logits, r.targets, 'logit'); // the forward part of the same runs
  const [, c, h, w] = nchw(ctx.x);
  const per = c * h * w;
  const relevance = r.gradients[input]!.data as Float32Array;
  const attr = new Float32Array(relevance.length);
  for (let p = 0; p < attr.length; p++) attr[p] = relevance[p]! * logits[Math.floor(p / per)]!;
  const raw = f32(ctx.x.dims, attr);
  const notes = ctx.score === 'prob' ? ['lrp decomposes the target logit (relevance starts as the logit, as in Captum); the probability score (CLI: --score prob) does not apply'] : [];
  const eps = name === 'epsilon-plus-flat' || name === 'epsilon-gamma-box' ? 1e-6 : 1e-9;
  const params: Record<string, unknown> = { composite: name, epsilon: o.epsilon ?? eps, gamma: o.gamma ?? 0.25, relevanceStartsAs: 'target logit' };
  if (name === 'epsilon-gamma-box') params['bounds'] = bounds;
  return { raw, map: reduceChannels(raw, 'sum'), signed: true, params, completeness: completenessOf(attr, per, logits), notes };
}
