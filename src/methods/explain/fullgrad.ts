// FullGrad (Srinivas & Fleuret 2019) as pytorch-grad-cam computes it: |input x gradient| per
// channel, plus for every Conv with a bias and every BatchNorm |bias x gradient at its output|
// per channel, each map min-max scaled on its own (scale_cam_image) and resized to the input,
// all summed and min-max scaled again. A BatchNorm's bias is beta - mean * scale / sqrt(var + eps);
// when the exporter folded BatchNorm into the Conv, the Conv's bias is that same number.
import { attrFloat, attrInt } from '../../engine/graph/ir.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Model } from '../../models/model.js';
import { f32, nchw, resizeBilinear, scaleCamPlane } from './arrays.js';
import { principalProjection } from './eigen.js';
import { runPass, type GradientPass } from './session.js';
import type { ScoreKind } from './target.js';
import type { MethodContext, MethodResult } from './types.js';

interface BiasLayer {
  value: string;
  bias: Float32Array;
}

/** Conv (4-D, constant bias) and BatchNormalization outputs with their per-channel bias. */
export function biasLayers(model: Model): BiasLayer[] {
  const b = model.builder();
  const constant = (name: string | undefined): Float32Array | undefined => {
    if (!name) return undefined;
    const t = b.valueOf(name);
    return t?.dtype === 'float32' ? (t.data as Float32Array) : undefined;
  };
  const out: BiasLayer[] = [];
  for (const node of model.graph.nodes) {
    const value = node.outputs[0];
    if (!value || node.domain || model.facts(value).shape?.length !== 4) continue;
    if (node.op === 'Conv') {
      const bias = constant(node.inputs[2]);
      if (bias) out.push({ value, bias });
    } else if (node.op === 'BatchNormalization' && attrInt(node, 'training_mode', 0) === 0) {
      const [scale, shift, mean, variance] = [1, 2, 3, 4].map((i) => constant(node.inputs[i]));
      if (!scale || !shift || !mean || !variance) continue;
      const eps = attrFloat(node, 'epsilon', 1e-5);
      out.push({ value, bias: Float32Array.from(shift, (beta, c) => beta - (mean[c]! * scale[c]!) / Math.sqrt(variance[c]! + eps)) });
    }
  }
  return out;
}

/** Min-max scaled, then resized (bilinear, half-pixel, as cv2.resize). */
function scaledTo(plane: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  scaleCamPlane(plane);
  return h === H && w === W ? plane : resizeBilinear(plane, h, w, H, W, false);
}

/** FullGrad's gradient pass over the explained images (the input and every bias layer), which can also be the call's prediction pass. */
export function fullgradPass(model: Model, score: ScoreKind): GradientPass {
  return { key: `fullgrad|${score}`, phase: 'fullgrad', request: { score, wrt: [model.input.name, ...biasLayers(model).map((l) => l.value)] } };
}

export async function fullgrad(ctx: MethodContext): Promise<MethodResult> {
  const layers = biasLayers(ctx.model);
  const input = ctx.model.input.name;
  const [n, c, H, W] = nchw(ctx.x);
  const HW = H * W;
  const pass = fullgradPass(ctx.model, ctx.score);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  const xd = ctx.x.data as Float32Array;
  const gx = r.gradients[input]!.data as Float32Array;
  const eigen = !!ctx.options.cam?.eigenSmooth;
  const out = new Float32Array(n * HW);
  // With --eigen-smooth the per-layer maps (input channels, then one per bias layer) are kept
  // apart at 1/8 of the input size and projected on their first principal component.
  const h8 = Math.max(1, Math.floor(H / 8));
  const w8 = Math.max(1, Math.floor(W / 8));
  const parts = c + layers.length;
  const stack = eigen ? new Float32Array(n * parts * h8 * w8) : undefined;
  const add = (i: number, part: number, map: Float32Array): void => {
    if (!stack) {
      for (let p = 0; p < HW; p++) out[i * HW + p]! += map[p]!;
      return;
    }
    const small = scaledTo(Float32Array.from(map), H, W, h8, w8);
    stack.set(small, (i * parts + part) * h8 * w8);
  };
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = new Float32Array(HW);
      const o = (i * c + ch) * HW;
      for (let p = 0; p < HW; p++) plane[p] = Math.abs(xd[o + p]! * gx[o + p]!);
      add(i, ch, scaledTo(plane, H, W, H, W));
    }
  }
  layers.forEach((layer, li) => {
    const g = r.gradients[layer.value]!;
    const [, k, h, w] = nchw(g);
    const gd = g.data as Float32Array;
    // Resizing is linear, so the layer's scaled channel maps are summed at their own size and
    // the sum resized once: pytorch-grad-cam resizes every channel (thousands of 224x224 resizes
    // per image on ResNet-18, most of this method's time); the results differ only in float32
    // summation order.
    const plane = new Float32Array(h * w);
    for (let i = 0; i < n; i++) {
      const sum = new Float32Array(h * w);
      for (let ch = 0; ch < k; ch++) {
        const o = (i * k + ch) * h * w;
        const bias = layer.bias[ch] ?? 0;
        for (let p = 0; p < h * w; p++) plane[p] = Math.abs(bias * gd[o + p]!);
        scaleCamPlane(plane);
        for (let p = 0; p < h * w; p++) sum[p]! += plane[p]!;
      }
      add(i, c + li, h === H && w === W ? sum : resizeBilinear(sum, h, w, H, W, false));
    }
  });
  if (stack) {
    const projection = principalProjection(stack, n, parts, h8 * w8);
    for (let i = 0; i < n; i++) out.set(scaledTo(projection.subarray(i * h8 * w8, (i + 1) * h8 * w8).slice(), h8, w8, H, W), i * HW);
  }
  for (let i = 0; i < n; i++) scaleCamPlane(out.subarray(i * HW, (i + 1) * HW));
  const raw: Tensor = f32([n, 1, H, W], out);
  return { raw, map: out.slice(), signed: false, params: { biasLayers: layers.length, normalization: 'each channel map min-max scaled, summed, min-max scaled (pytorch-grad-cam)', ...(eigen ? { eigenSmooth: true } : {}) } };
}
