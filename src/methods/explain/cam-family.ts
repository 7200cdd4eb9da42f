// More of pytorch-grad-cam's CAM family, computed as it computes them, maps clipped at zero:
// XGradCAM (Fu et al. 2020), HiResCAM (Draelos & Carin 2020), EigenCAM (Muhammad & Yeasin 2020),
// EigenGradCAM, and AblationCAM (Desai & Ramaswamy 2020) with its ablations batched.
import { ConvLensError } from '../../engine/errors.js';
import type { Graph } from '../../engine/graph/ir.js';
import { pruneGraph } from '../../engine/graph/prune.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { f32, layerMaps, nchw } from './arrays.js';
import { camFromMaps, camFromWeights, camResult, chosenLayer, eigenParam, layerActivationMaps, layerActivations, layerSignals } from './cam.js';
import { principalProjection } from './eigen.js';
import { forChunks, forwardScores, Work } from './session.js';
import { targetScores } from './target.js';
import type { MethodContext, MethodResult } from './types.js';

export async function xgradcam(ctx: MethodContext): Promise<MethodResult> {
  const { layer, activations, n, k, hw, ad, gd } = await layerSignals(ctx);
  const weights = new Float64Array(n * k);
  for (let p = 0; p < n * k; p++) {
    let sumA = 0;
    let sumGA = 0;
    for (let i = p * hw; i < (p + 1) * hw; i++) {
      sumA += ad[i]!;
      sumGA += gd[i]! * ad[i]!;
    }
    weights[p] = sumGA / (sumA + 1e-7);
  }
  return camResult(ctx, camFromWeights(ctx, activations, weights), layer, { weights: 'sum(gradient x activation) / (sum(activation) + 1e-7)', relu: true, ...eigenParam(ctx) });
}

function products(ad: Float32Array, gd: Float32Array): Float32Array {
  const out = new Float32Array(ad.length);
  for (let i = 0; i < out.length; i++) out[i] = ad[i]! * gd[i]!;
  return out;
}

export async function hirescam(ctx: MethodContext): Promise<MethodResult> {
  const { layer, n, k, h, w, ad, gd } = await layerSignals(ctx);
  return camResult(ctx, camFromMaps(ctx, f32([n, k, h, w], products(ad, gd))), layer, { weights: 'gradient x activation per location, summed over channels', relu: true, ...eigenParam(ctx) });
}

/** ReLU of the oriented first principal component of per-channel maps. */
function projected(maps: Float32Array, n: number, k: number, h: number, w: number): Tensor {
  const out = principalProjection(maps, n, k, h * w);
  for (let p = 0; p < out.length; p++) if (!(out[p]! > 0)) out[p] = 0;
  return f32([n, 1, h, w], out);
}

const ORIENTATION = 'sign chosen so the projection correlates positively with the channel-mean map';

export async function eigencam(ctx: MethodContext): Promise<MethodResult> {
  const layer = await chosenLayer(ctx);
  const a = await layerActivationMaps(ctx, layer);
  const [n, k, h, w] = nchw(a);
  return camResult(ctx, projected(a.data as Float32Array, n, k, h, w), layer, { weights: 'first principal component of the activations', orientation: ORIENTATION, relu: true });
}

export async function eigengradcam(ctx: MethodContext): Promise<MethodResult> {
  const { layer, n, k, h, w, ad, gd } = await layerSignals(ctx);
  return camResult(ctx, projected(products(ad, gd), n, k, h, w), layer, { weights: 'first principal component of gradient x activation', orientation: ORIENTATION, relu: true });
}

// ------------------------------------------------------------------ AblationCAM

/**
 * The model from `layer` on: `layer` becomes a graph input, the nodes computing it go. Values the
 * rest still needs from the input (skip connections around the layer) keep the image input.
 */
function tailGraph(model: Model, layer: string): { graph: Graph; needsInput: boolean } {
  const g = model.graph.clone();
  const shape = model.facts(layer).shape!;
  g.nodes = g.nodes.filter((node) => !node.outputs.includes(layer));
  g.inputs.push({ name: layer, dtype: 'float32', shape: ['N', ...shape.slice(1)] });
  g.outputs = g.outputs.filter((o) => o.name === model.output);
  if (!g.outputs.length) g.outputs.push({ name: model.output, dtype: 'float32' });
  pruneGraph(g, false);
  if (!g.inputs.some((i) => i.name === layer)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The output does not depend on layer "${layer}".`, 'Pick a layer on the path to the output.');
  }
  return { graph: g, needsInput: g.inputs.some((i) => i.name === model.input.name) };
}

export async function ablationcam(ctx: MethodContext): Promise<MethodResult> {
  const layer = await chosenLayer(ctx);
  // the activations as the graph holds them (a vision transformer's tokens), ablated and fed
  // back in that form, and as the maps the weights multiply
  const held = await layerActivations(ctx, layer.name);
  const a = layerMaps(held, layer);
  const [n, k, h, w] = nchw(a);
  const [, c, H, W] = nchw(ctx.x);
  const size = held.data.length / n;
  const per = c * H * W;
  const ad = held.data as Float32Array;
  const xd = ctx.x.data as Float32Array;
  const { graph, needsInput } = tailGraph(ctx.model, layer.name);
  const compiled = await ctx.model.engine.compile(`${ctx.model.id}|ablation-tail|${layer.name}`, () => graph);
  const work = new Work(ctx.job, 'ablationcam', Math.ceil((n * k) / ctx.forwardBatchSize) + 1);
  work.check();
  const original = await forwardScores(ctx.model, ctx.x, ctx.targets, ctx.score, ctx.forwardBatchSize);
  work.step();
  // As pytorch-grad-cam's AblationLayer: a channel is set to 0 when the image's smallest
  // activation is 0 (after a ReLU), else far below it (min - 1e7). On tokens, as its
  // AblationLayerVit, the channel goes in every token, the leading ones too.
  const ablationValue = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let min = Infinity;
    for (let p = i * size; p < (i + 1) * size; p++) min = Math.min(min, ad[p]!);
    ablationValue[i] = min === 0 ? 0 : min - 1e7;
  }
  const ablate = (acts: Float32Array, at: number, ch: number, value: number): void => {
    const g = layer.tokens;
    if (!g && !layer.channelsLast) acts.fill(value, at + ch * h * w, at + (ch + 1) * h * w);
    else if (g?.tokenAxis === 2) acts.fill(value, at + (ch * size) / k, at + ((ch + 1) * size) / k);
    else for (let t = at + ch; t < at + size; t += k) acts[t] = value;
  };
  const ablated = new Float64Array(n * k);
  await forChunks(n * k, ctx.forwardBatchSize, work, async (s, e) => {
    const m = e - s;
    const acts = new Float32Array(m * size);
    const images = needsInput ? new Float32Array(m * per) : undefined;
    const targets = new Int32Array(m);
    for (let q = s; q < e; q++) {
      const i = Math.floor(q / k);
      const ch = q % k;
      acts.set(ad.subarray(i * size, (i + 1) * size), (q - s) * size);
      ablate(acts, (q - s) * size, ch, ablationValue[i]!);
      images?.set(xd.subarray(i * per, (i + 1) * per), (q - s) * per);
      targets[q - s] = ctx.targets[i]!;
    }
    const feeds: Record<string, Tensor> = { [layer.name]: f32([m, ...held.dims.slice(1)], acts) };
    if (images) feeds[ctx.model.input.name] = f32([m, c, H, W], images);
    const out = await compiled.run(feeds, [ctx.model.output]);
    ablated.set(targetScores(out[ctx.model.output]!, targets, ctx.score, ctx.model.outputKind), s);
  });
  const weights = new Float64Array(n * k);
  for (let q = 0; q < n * k; q++) {
    const o = original[Math.floor(q / k)]!;
    weights[q] = (o - ablated[q]!) / o;
  }
  return camResult(ctx, camFromWeights(ctx, a, weights), layer, { weights: '(score - score with the channel ablated) / score', ablations: n * k, relu: true, ...eigenParam(ctx) });
}
