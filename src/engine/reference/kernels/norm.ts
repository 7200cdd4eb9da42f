import { attrFloat, attrInt, type Node } from '../../graph/ir.js';
import { sizeOf, toFloat64, type Tensor } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';
import { fromFloat64, kernelError, need, normAxis, resultDType, type Inputs } from './util.js';

// Normalizations over [N, C, spatial...] tensors, and LayerNormalization over trailing axes. Means
// and variances use two passes (mean first, then squared deviations) so the float64 oracle does
// not lose digits to cancellation.

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

/** A parameter broadcast (aligned on the right) to `inner` values of the normalized shape. */
function normalizedParam(node: Node, t: Tensor | undefined, normalized: readonly number[], fill: number): Float64Array {
  const inner = sizeOf(normalized);
  const out = new Float64Array(inner);
  if (!t) return out.fill(fill);
  const v = toFloat64(t);
  const lead = normalized.length - t.dims.length;
  if (lead < 0 || t.dims.some((d, k) => d !== 1 && d !== normalized[lead + k])) {
    throw kernelError(node, `parameter of shape [${t.dims.join(', ')}] does not broadcast to the normalized shape [${normalized.join(', ')}]`);
  }
  const pStrides = t.dims.map((_, k) => sizeOf(t.dims.slice(k + 1)));
  for (let i = 0; i < inner; i++) {
    let rest = i;
    let at = 0;
    for (let k = normalized.length - 1; k >= 0; k--) {
      const d = normalized[k]!;
      const idx = rest % d;
      rest = Math.floor(rest / d);
      const pk = k - lead;
      if (pk >= 0 && t.dims[pk] !== 1) at += idx * pStrides[pk]!;
    }
    out[i] = v[at]!;
  }
  return out;
}

function layerNormalization(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  const rank = xT.dims.length;
  const axis = normAxis(node, attrInt(node, 'axis', -1), rank);
  const normalized = xT.dims.slice(axis);
  const inner = sizeOf(normalized);
  const rows = sizeOf(xT.dims.slice(0, axis));
  const scale = normalizedParam(node, need(node, inputs, 1), normalized, 1);
  const bias = normalizedParam(node, inputs[2], normalized, 0);
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const x = toFloat64(xT);
  const y = new Float64Array(x.length);
  const means = new Float64Array(rows);
  const invs = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const start = r * inner;
    let s = 0;
    for (let i = 0; i < inner; i++) s += x[start + i]!;
    const m = s / inner;
    let q = 0;
    for (let i = 0; i < inner; i++) q += (x[start + i]! - m) * (x[start + i]! - m);
    const inv = 1 / Math.sqrt(q / inner + eps);
    for (let i = 0; i < inner; i++) y[start + i] = (x[start + i]! - m) * inv * scale[i]! + bias[i]!;
    means[r] = m;
    invs[r] = inv;
  }
  const statDims = [...xT.dims.slice(0, axis), ...normalized.map(() => 1)];
  // Mean and InvStdDev in the computation's precision (stash_type float32; float64 for a float64 x).
  const statType = xT.dtype === 'float64' ? 'float64' : 'float32';
  return [fromFloat64(resultDType(xT, inputs[1], inputs[2]), xT.dims, y), fromFloat64(statType, statDims, means), fromFloat64(statType, statDims, invs)];
}

defineKernel('BatchNormalization', batchNormalization);
defineKernel('LayerNormalization', layerNormalization);
defineKernel('InstanceNormalization', instanceNormalization);

/** LRN across channels, as the ONNX spec writes it: window [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C). */
function lrn(node: Node, inputs: Inputs): Tensor[] {
  const xT = need(node, inputs, 0);
  if (xT.dims.length < 3) throw kernelError(node, `input must be [N, C, ...], got rank ${xT.dims.length}`);
  const [N, C] = xT.dims as [number, number];
  const inner = sizeOf(xT.dims.slice(2));
  const size = attrInt(node, 'size', 1);
  const alpha = attrFloat(node, 'alpha', 1e-4);
  const beta = attrFloat(node, 'beta', 0.75);
  const bias = attrFloat(node, 'bias', 1);
  const x = toFloat64(xT);
  const y = new Float64Array(x.length);
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) {
        let squares = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) squares += x[(n * C + k) * inner + i]! ** 2;
        const at = (n * C + c) * inner + i;
        y[at] = x[at]! * (bias + (alpha / size) * squares) ** -beta;
      }
    }
  }
  return [fromFloat64(xT.dtype, xT.dims, y)];
}

// Each element sums the squares of its channel window, clipped to the channels there are.
defineKernel('LRN', lrn, (node, inputs) => {
  const x = inputs[0]?.dims ?? [];
  return sizeOf(x) * Math.min(Math.max(attrInt(node, 'size', 1), 1), x[1] ?? 1);
});
