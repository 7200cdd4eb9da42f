// Class activation maps from a layer's activations A [N, K, h, w] and gradients dS/dA:
// CAM (Zhou et al. 2016), Grad-CAM (Selvaraju et al. 2017), Grad-CAM++ (Chattopadhay et al.
// 2018, as pytorch-grad-cam computes it), LayerCAM (Jiang et al. 2021), and Guided Grad-CAM.
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { throwIfCancelled } from '../../engine/jobs.js';
import { f32, layerMaps, nchw, resizeBilinear, resizeNearest, upsampleMaps } from './arrays.js';
import { inputGradient } from './gradients.js';
import { principalProjection } from './eigen.js';
import { camHead, spatialLayer, type SpatialLayer } from './layers.js';
import { batchedForward, layerGradientPass, runPass } from './session.js';
import type { MethodContext, MethodResult } from './types.js';

export function chosenLayer(ctx: MethodContext): Promise<SpatialLayer> {
  return ctx.memo.once('layer', async () => spatialLayer(ctx.model, ctx.options.layer, { tokens: true }));
}

/** Activations and score gradients at a layer, one batched pass shared by the CAM methods. */
export async function layerGradient(ctx: MethodContext, layer: string): Promise<{ activations: Tensor; gradients: Tensor }> {
  const pass = layerGradientPass(ctx.score, layer);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  return { activations: r.values[layer]!, gradients: r.gradients[layer]! };
}

/** Forward activations at a layer (no gradient needed). */
export function layerActivations(ctx: MethodContext, layer: string): Promise<Tensor> {
  return ctx.memo.once(`activations|${layer}`, async () => {
    throwIfCancelled(ctx.job.signal, 'explain');
    const out = await batchedForward(ctx.model, ctx.x, [layer], ctx.forwardBatchSize);
    return out[layer]!;
  });
}

/** A layer's forward activations as [N, C, h, w] maps (a vision transformer's tokens as their patch grid). */
export async function layerActivationMaps(ctx: MethodContext, layer: SpatialLayer): Promise<Tensor> {
  return layerMaps(await layerActivations(ctx, layer.name), layer);
}

/** sum_k weights[n, k] * A[n, k] (then ReLU when asked), as [N, 1, h, w]. */
export function weightedSum(a: Tensor, weights: Float64Array | Float32Array, relu: boolean): Tensor {
  const [n, k, h, w] = nchw(a);
  const hw = h * w;
  const ad = a.data as Float32Array;
  const out = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    const o = i * hw;
    for (let ch = 0; ch < k; ch++) {
      const wt = weights[i * k + ch]!;
      if (wt === 0) continue;
      const base = (i * k + ch) * hw;
      for (let p = 0; p < hw; p++) out[o + p]! += wt * ad[base + p]!;
    }
  }
  if (relu) for (let p = 0; p < out.length; p++) if (!(out[p]! > 0)) out[p] = 0;
  return f32([n, 1, h, w], out);
}

/**
 * The map of per-channel weights: ReLU(sum_k w_k A_k), or with --eigen-smooth ReLU of the first
 * principal component of the weighted maps w_k A_k (pytorch-grad-cam's get_cam_image).
 */
export function camFromWeights(ctx: MethodContext, a: Tensor, weights: Float64Array | Float32Array): Tensor {
  if (!ctx.options.cam?.eigenSmooth) return weightedSum(a, weights, true);
  const [n, k, h, w] = nchw(a);
  const hw = h * w;
  const ad = a.data as Float32Array;
  const weighted = new Float32Array(ad.length);
  for (let p = 0; p < n * k; p++) {
    const wt = weights[p]!;
    for (let i = p * hw; i < (p + 1) * hw; i++) weighted[i] = wt * ad[i]!;
  }
  return camFromMaps(ctx, f32([n, k, h, w], weighted));
}

/** ReLU of the channel sum of per-channel maps [N, K, h, w], or of their first principal component with --eigen-smooth. */
export function camFromMaps(ctx: MethodContext, maps: Tensor): Tensor {
  const [n, k, h, w] = nchw(maps);
  const hw = h * w;
  const md = maps.data as Float32Array;
  let out: Float32Array;
  if (ctx.options.cam?.eigenSmooth) out = principalProjection(md, n, k, hw);
  else {
    out = new Float32Array(n * hw);
    for (let i = 0; i < n; i++) for (let ch = 0; ch < k; ch++) for (let p = 0; p < hw; p++) out[i * hw + p]! += md[(i * k + ch) * hw + p]!;
  }
  for (let p = 0; p < out.length; p++) if (!(out[p]! > 0)) out[p] = 0;
  return f32([n, 1, h, w], out);
}

export function camResult(ctx: MethodContext, raw: Tensor, layer: SpatialLayer, params: Record<string, unknown> = {}, signed = false): MethodResult {
  const [, , h, w] = nchw(ctx.x);
  return { raw, map: upsampleMaps(raw, h, w, 'bilinear'), signed, params: { layer: layer.name, ...params }, layer };
}

export async function cam(ctx: MethodContext): Promise<MethodResult> {
  const head = camHead(ctx.model);
  const layer = spatialLayer(ctx.model, head.layer);
  const notes: string[] = [];
  if (ctx.options.layer !== undefined && ctx.model.resolveLayer(ctx.options.layer) !== head.layer) {
    notes.push(`cam is defined at the globally pooled layer "${head.layer}" only; the layer asked for, "${ctx.options.layer}" (CLI: --layer), applies to the other CAM methods`);
  }
  if (ctx.score === 'prob') notes.push('cam weights are the dense layer\'s class weights (a logit quantity); the probability score does not apply');
  const a = await layerActivations(ctx, head.layer);
  const [n, k] = nchw(a);
  const weights = new Float32Array(n * k);
  for (let i = 0; i < n; i++) weights.set(head.weights.subarray(ctx.targets[i]! * k, (ctx.targets[i]! + 1) * k), i * k);
  const r = camResult(ctx, weightedSum(a, weights, false), layer, { weights: 'dense class weights', relu: false });
  // Zhou et al. normalize the raw map for display without a ReLU; its values can be negative.
  return { ...r, notes };
}

/** The chosen layer's activations and the score's gradient there, with their sizes. */
export async function layerSignals(ctx: MethodContext): Promise<{ layer: SpatialLayer; activations: Tensor; n: number; k: number; h: number; w: number; hw: number; ad: Float32Array; gd: Float32Array }> {
  const layer = await chosenLayer(ctx);
  const signals = await layerGradient(ctx, layer.name);
  // a vision transformer's tokens as their patch grid's map, activations and gradients alike
  const activations = layerMaps(signals.activations, layer);
  const gradients = layerMaps(signals.gradients, layer);
  const [n, k, h, w] = nchw(gradients);
  return { layer, activations, n, k, h, w, hw: h * w, ad: activations.data as Float32Array, gd: gradients.data as Float32Array };
}

export async function gradcam(ctx: MethodContext): Promise<MethodResult> {
  const { layer, activations, n, k, h, w, gd } = await layerSignals(ctx);
  const alphas = new Float64Array(n * k);
  for (let p = 0; p < n * k; p++) {
    let s = 0;
    for (let i = p * h * w; i < (p + 1) * h * w; i++) s += gd[i]!;
    alphas[p] = s / (h * w);
  }
  return camResult(ctx, camFromWeights(ctx, activations, alphas), layer, { weights: 'spatial mean of gradients', relu: true, ...eigenParam(ctx) });
}

export async function gradcamPlusPlus(ctx: MethodContext): Promise<MethodResult> {
  const { layer, activations, n, k, hw, ad, gd } = await layerSignals(ctx);
  const eps = 1e-6; // pytorch-grad-cam's (grad_cam_plusplus.py): where g^2 is near it, it sets the weights
  const weights = new Float64Array(n * k);
  for (let p = 0; p < n * k; p++) {
    let sumA = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++) sumA += ad[i]!;
    let wsum = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++) {
      const g = gd[i]!;
      if (g === 0) continue;
      const g2 = g * g;
      const aij = g2 / (2 * g2 + sumA * g2 * g + eps);
      if (g > 0) wsum += g * aij;
    }
    weights[p] = wsum;
  }
  return camResult(ctx, camFromWeights(ctx, activations, weights), layer, { weights: 'alpha-weighted positive gradients (pytorch-grad-cam closed form)', relu: true, ...eigenParam(ctx) });
}

export async function layercam(ctx: MethodContext): Promise<MethodResult> {
  const { layer, n, k, h, w, ad, gd } = await layerSignals(ctx);
  const products = new Float32Array(n * k * h * w);
  for (let i = 0; i < products.length; i++) if (gd[i]! > 0) products[i] = gd[i]! * ad[i]!;
  return camResult(ctx, camFromMaps(ctx, f32([n, k, h, w], products)), layer, { weights: 'positive gradients per location', relu: true, ...eigenParam(ctx) });
}

/** The smoothing parameter, when on. */
export const eigenParam = (ctx: MethodContext): Record<string, unknown> => (ctx.options.cam?.eigenSmooth ? { eigenSmooth: true } : {});

export async function guidedGradcam(ctx: MethodContext): Promise<MethodResult> {
  const interpolate = ctx.options.guidedGradcam?.interpolate ?? 'bilinear';
  // anything but 'bilinear' used to run as 'nearest' without a word
  if (interpolate !== 'bilinear' && interpolate !== 'nearest') throw new ConvLensError('INVALID_ARGUMENT', `Unknown Guided Grad-CAM interpolation "${String(interpolate)}".`, 'Use bilinear (the default) or nearest.');
  const gc = await ctx.memo.method('gradcam');
  const gb = await inputGradient(ctx, 'guided');
  const [n, c, h, w] = nchw(gb);
  const [, , lh, lw] = nchw(gc.raw);
  const hw = h * w;
  const up = new Float32Array(n * hw);
  const src = gc.raw.data as Float32Array;
  for (let i = 0; i < n; i++) {
    const plane = src.subarray(i * lh * lw, (i + 1) * lh * lw);
    if (interpolate === 'bilinear') resizeBilinear(plane, lh, lw, h, w, false, up, i * hw);
    else resizeNearest(plane, lh, lw, h, w, up, i * hw);
  }
  const gd = gb.data as Float32Array;
  const out = new Float32Array(gd.length);
  const map = new Float32Array(n * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * hw;
      for (let p = 0; p < hw; p++) {
        const v = gd[base + p]! * up[i * hw + p]!;
        out[base + p] = v;
        map[i * hw + p]! += v;
      }
    }
  }
  return { raw: f32(gb.dims, out), map, signed: true, params: { layer: gc.layer!.name, interpolate }, layer: gc.layer! };
}
