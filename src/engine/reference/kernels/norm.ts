import { attrFloat, attrInt, type Node } from '../../graph/ir.js';
import { sizeOf, toFloat64, type Tensor } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';
import { fromFloat64, kernelError, need, resultDType, type Inputs } from './util.js';

// Normalizations over [N, C, spatial...] tensors. Means and variances use two passes (mean
// first, then squared deviations) so the float64 oracle does not lose digits to cancellation.

function channelParams(node: Node, inputs: Inputs, indices: readonly number[], C: number): Float64Array[] {
  return indices.map((i) => {
    const t = need(node, inputs, i);
    if (t.data.length !== C) throw kernelError(node, `input ${i} has ${t.data.length} elements, expected one per channel (${C})`);
    return toFloat64(t);
  });
}

function batchNormalization(node: Node, inputs: Inputs, opset: number): Tensor[] {
  const xT = need(node, inputs, 0);
  if (xT.dims.length < 2) throw kernelError(node, `input must be [N, C, ...], got rank ${xT.dims.length}`);
  const [N, C] = xT.dims as [number, number];
  const inner = sizeOf(xT.dims.slice(2));
  const [scale, bias, inMean, inVar] = channelParams(node, inputs, [1, 2, 3, 4], C) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const eps = attrFloat(node, 'epsilon', 1e-5);
  // training_mode exists from opset 14; older files signal training only through extra outputs, which
  // ConvLens never consumes, so they are evaluated in inference mode.
  const training = opset >= 14 && attrInt(node, 'training_mode', 0) === 1;
  const x = toFloat64(xT);
  let mean = inMean;
  let variance = inVar;
  if (training) {
    mean = new Float64Array(C);
    variance = new Float64Array(C);
    const count = N * inner;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = (n * C + c) * inner, e = i + inner; i < e; i++) s += x[i]!;
      const m = s / count;
      let q = 0;
      for (let n = 0; n < N; n++)
        for (let i = (n * C + c) * inner, e = i + inner; i < e; i++) {
          const d = x[i]! - m;
          q += d * d;
        }
      mean[c] = m;
      // ONNX normalizes with, and also accumulates into running_var, the population (biased) variance.
      variance[c] = q / count;
    }
  }
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = scale[c]! / Math.sqrt(variance[c]! + eps);
      const m = mean[c]!;
      const b = bias[c]!;
      for (let i = (n * C + c) * inner, e = i + inner; i < e; i++) y[i] = (x[i]! - m) * k + b;
    }
  const yT = fromFloat64(resultDType(xT, ...inputs.slice(1, 5)), xT.dims, y);
  if (!training) return [yT];
  const momentum = attrFloat(node, 'momentum', 0.9);
  const runMean = new Float64Array(C);
  const runVar = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    runMean[c] = inMean[c]! * momentum + mean[c]! * (1 - momentum);
    runVar[c] = inVar[c]! * momentum + variance[c]! * (1 - momentum);
  }
  const statType = resultDType(inputs[3], inputs[4], xT);
  return [yT, fromFloat64(statType, [C], runMean), fromFloat64(statType, [C], runVar)];
}

function instanceNormalization(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  if (xT.dims.length < 3) throw kernelError(node, `input must be [N, C, spatial...], got rank ${xT.dims.length}`);
  const [N, C] = xT.dims as [number, number];
  const inner = sizeOf(xT.dims.slice(2));
  const [scale, bias] = channelParams(node, inputs, [1, 2], C) as [Float64Array, Float64Array];
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const x = toFloat64(xT);
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const start = (n * C + c) * inner;
      let s = 0;
      for (let i = start; i < start + inner; i++) s += x[i]!;
      const m = s / inner;
      let q = 0;
      for (let i = start; i < start + inner; i++) q += (x[i]! - m) * (x[i]! - m);
      const k = scale[c]! / Math.sqrt(q / inner + eps);
      for (let i = start; i < start + inner; i++) y[i] = (x[i]! - m) * k + bias[c]!;
    }
  return [fromFloat64(resultDType(xT, inputs[1], inputs[2]), xT.dims, y)];
}

defineKernel('BatchNormalization', batchNormalization);
defineKernel('InstanceNormalization', instanceNormalization);
