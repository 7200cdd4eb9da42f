import { attrInt, attrInts, attrString, type Node } from '../../graph/ir.js';
import { sizeOf, toFloat64, toNumbers, type Tensor } from '../../tensor.js';
import { defineKernel } from '../evaluator.js';
import { fromFloat64, kernelError, need, normAxis, type Inputs } from './util.js';
import { lookup } from '../../../util/lookup.js';

// Resize (opset 11+ inputs X, roi, scales, sizes) as a sequence of 1-D resamplings, one per axis
// whose size or scale changes. Nearest and (multi)linear interpolation are separable, so this is
// exactly the N-d operator.

/** One output position along an axis: which input positions it reads, with which weights. */
interface Tap {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

type CoordinateMode = (o: number, scale: number, inLen: number, outLen: number) => number;

const f = Math.fround;

/**
 * Output coordinate to input coordinate, per the ONNX coordinate_transformation_mode definitions,
 * evaluated step by step in float32 like ONNX Runtime (scales are float32 tensors in ONNX). In
 * float64, 1.5 / 0.6f - 0.5 lands just below 2 and nearest-floor picks pixel 1 where ONNX Runtime
 * picks 2; a reference that samples other pixels than the runtime is useless as a gradient oracle.
 */
const COORDINATE_MODES: Record<string, CoordinateMode> = {
  half_pixel: (o, scale) => f(f(f(o + 0.5) / scale) - 0.5),
  pytorch_half_pixel: (o, scale, _inLen, outLen) => (outLen > 1 ? f(f(f(o + 0.5) / scale) - 0.5) : 0),
  align_corners: (o, _scale, inLen, outLen) => (outLen === 1 ? 0 : f(f(o * (inLen - 1)) / (outLen - 1))),
  asymmetric: (o, scale) => f(o / scale),
  tf_half_pixel_for_nn: (o, scale) => f(f(o + 0.5) / scale),
};

const NEAREST_MODES: Record<string, (x: number) => number> = {
  // Ties are exactly .5 fractions; everything else rounds to the nearest integer.
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
  floor: Math.floor,
  ceil: Math.ceil,
};

function axisTaps(node: Node, mode: string, coord: CoordinateMode, nearest: (x: number) => number, inLen: number, outLen: number, scale: number): Tap[] {
  const taps: Tap[] = [];
  for (let o = 0; o < outLen; o++) {
    const x = coord(o, scale, inLen, outLen);
    if (mode === 'nearest') {
      const i = Math.min(Math.max(nearest(x), 0), inLen - 1);
      taps.push({ i0: i, i1: i, w0: 1, w1: 0 });
    } else {
      // Coordinates outside [0, inLen-1] read the edge value (ONNX Runtime clamps; the spec's
      // reference pads with edge values, which gives the same result).
      // The weights are the float32 distances ONNX Runtime uses, so both sample the same function.
      const c = Math.min(Math.max(x, 0), inLen - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, inLen - 1);
      if (i0 === i1) taps.push({ i0, i1, w0: 1, w1: 0 });
      else taps.push({ i0, i1, w0: f(i1 - c), w1: f(c - i0) });
    }
  }
  return taps;
}

function resampleAxis(x: Float64Array, dims: readonly number[], axis: number, taps: readonly Tap[]): Float64Array {
  const outer = sizeOf(dims.slice(0, axis));
  const inLen = dims[axis]!;
  const inner = sizeOf(dims.slice(axis + 1));
  const outLen = taps.length;
  const y = new Float64Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < outLen; j++) {
      const t = taps[j]!;
      const a = (o * inLen + t.i0) * inner;
      const b = (o * inLen + t.i1) * inner;
      const dst = (o * outLen + j) * inner;
      if (t.w1 === 0) for (let i = 0; i < inner; i++) y[dst + i] = x[a + i]!;
      else for (let i = 0; i < inner; i++) y[dst + i] = t.w0 * x[a + i]! + t.w1 * x[b + i]!;
    }
  return y;
}

function resize(node: Node, inputs: Inputs, opset: number): Tensor[] {
  const xT = need(node, inputs, 0);
  if (opset < 11) throw kernelError(node, `Resize before opset 11 is not supported (graph opset ${opset})`);
  const rank = xT.dims.length;
  const mode = attrString(node, 'mode', 'nearest');
  if (mode === 'cubic') throw new Error(`Resize node "${node.name}": mode "cubic" is not supported by the reference kernels (only nearest and linear)`);
  if (mode !== 'nearest' && mode !== 'linear') throw kernelError(node, `unknown mode "${mode}"`);
  const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const coord = lookup(COORDINATE_MODES, ctm);
  if (!coord) throw kernelError(node, `coordinate_transformation_mode "${ctm}" is not supported (tf_crop_and_resize and newer modes are not implemented)`);
  const nearestMode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  const nearest = lookup(NEAREST_MODES, nearestMode);
  if (!nearest) throw kernelError(node, `unknown nearest_mode "${nearestMode}"`);
  if (attrInt(node, 'antialias', 0) !== 0) throw kernelError(node, 'antialias=1 is not supported');
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw kernelError(node, 'keep_aspect_ratio_policy other than "stretch" is not supported');
  // opset 18 lets scales/sizes name a subset of axes; before that they cover every axis.
  const axes = (attrInts(node, 'axes') ?? Array.from({ length: rank }, (_, i) => i)).map((a) => normAxis(node, a, rank));

  const scalesT = inputs[2] && inputs[2].data.length > 0 ? inputs[2] : undefined;
  const sizesT = inputs[3] && inputs[3].data.length > 0 ? inputs[3] : undefined;
  if (!scalesT === !sizesT) throw kernelError(node, 'exactly one of scales and sizes must be given');
  const given = toNumbers((scalesT ?? sizesT)!);
  if (given.length !== axes.length) throw kernelError(node, `${scalesT ? 'scales' : 'sizes'} has ${given.length} entries for ${axes.length} axes`);

  const outDims = [...xT.dims];
  const scales = new Array<number>(rank).fill(1);
  axes.forEach((a, k) => {
    const n = xT.dims[a]!;
    if (sizesT) {
      outDims[a] = given[k]!;
      scales[a] = f(given[k]! / n);
    } else {
      scales[a] = f(given[k]!);
      // ONNX Runtime multiplies in float32; rounding the exact product to float32 reproduces
      // its sizes where float64 would land just below an integer (10 * 0.7f -> 7, not 6).
      const prod = scalesT!.dtype === 'float32' ? Math.fround(n * given[k]!) : n * given[k]!;
      outDims[a] = Math.floor(prod);
    }
    if (!(outDims[a]! >= 0)) throw kernelError(node, `invalid output size ${outDims[a]} on axis ${a}`);
  });

  let data = toFloat64(xT);
  const dims = [...xT.dims];
  for (const a of axes) {
    if (outDims[a] === dims[a] && scales[a] === 1) continue;
    const taps = axisTaps(node, mode, coord, nearest, dims[a]!, outDims[a]!, scales[a]!);
    data = resampleAxis(data, dims, a, taps);
    dims[a] = outDims[a]!;
  }
  if (data === xT.data) data = data.slice();
  return [fromFloat64(xT.dtype, outDims, data)];
}

// Axis by axis: between two axes the tensor has some axes resized and some not, so an axis
// grown before another shrinks is as large as both at their larger sizes ([1, 20000] to
// [20000, 1] went through 4e8 values, 3.2 GB). Bounded by those larger sizes, once per axis.
defineKernel('Resize', resize, (_node, inputs, outputs) => {
  const x = inputs[0]?.dims ?? [];
  const y = outputs[0] ?? x;
  return x.reduce((p, d, a) => p * Math.max(d, y[a] ?? d), 1) * Math.max(1, x.length);
});

