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
import { runPass, type GradientPass, type GradientTransform } from './session.js';
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

/**
 * FullGrad's per-layer maps computed in the graph: |x * g| for the input and |bias * g| for each
 * bias layer, every channel plane min-max scaled (scale_cam_image: (v - min) / (1e-7 + max)),
 * and a bias layer's planes summed over channels. Only [N, C, H, W] for the input and
 * [N, 1, h, w] per layer leave ONNX Runtime, where the whole gradients did (ResNet-18: 2.3M
 * values an image, and JavaScript passes over each).
 */
function scaledMaps(model: Model, layers: readonly BiasLayer[]): GradientTransform {
  const biases = new Map(layers.map((l) => [l.value, l.bias]));
  return {
    key: 'fullgrad-scaled-maps',
    apply(b, wrt, g) {
      const scaled = (a: string): string => {
        const shifted = b.op('Sub', [a, b.op('ReduceMin', [a], { axes: [2, 3], keepdims: 1 })]);
        return b.op('Div', [shifted, b.op('Add', [b.op('ReduceMax', [shifted], { axes: [2, 3], keepdims: 1 }), b.scalar(1e-7)])]);
      };
      if (wrt === model.input.name) return scaled(b.op('Abs', [b.op('Mul', [g, wrt])]));
      const bias = biases.get(wrt)!;
      const perChannel = b.constant({ dtype: 'float32', dims: [1, bias.length, 1, 1], data: bias }, 'fullgrad_bias');
      return b.op('ReduceSum', [scaled(b.op('Abs', [b.op('Mul', [g, perChannel])])), b.ints([1])], { keepdims: 1 });
    },
  };
}

/** FullGrad's gradient pass over the explained images (the input and every bias layer), which can also be the call's prediction pass. */
export function fullgradPass(model: Model, score: ScoreKind): GradientPass {
  const layers = biasLayers(model);
  return { key: `fullgrad|${score}`, phase: 'fullgrad', request: { score, wrt: [model.input.name, ...layers.map((l) => l.value)], reduce: scaledMaps(model, layers) } };
}

export async function fullgrad(ctx: MethodContext): Promise<MethodResult> {
  const layers = biasLayers(ctx.model);
  const input = ctx.model.input.name;
  const [n, c, H, W] = nchw(ctx.x);
  const HW = H * W;
  const pass = fullgradPass(ctx.model, ctx.score);
  const r = await ctx.memo.once(pass.key, () => runPass(ctx.model, ctx.x, ctx.targets, pass, ctx.batchSize, ctx.job));
  const inputMaps = r.gradients[input]!.data as Float32Array;
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
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) add(i, ch, inputMaps.subarray((i * c + ch) * HW, (i * c + ch + 1) * HW));
  layers.forEach((layer, li) => {
    const g = r.gradients[layer.value]!;
    const [, , h, w] = nchw(g);
    const gd = g.data as Float32Array;
    // Resizing is linear, so the layer's scaled channel maps are summed at their own size (in
    // the graph) and the sum resized once: pytorch-grad-cam resizes every channel (thousands of
    // 224x224 resizes per image on ResNet-18); the results differ only in float32 summation order.
    for (let i = 0; i < n; i++) {
      const sum = gd.subarray(i * h * w, (i + 1) * h * w);
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
