import { ConvLensError } from '../errors.js';
import type { InferContext, OutputFacts } from '../graph/facts.js';
import type { GraphBuilder } from '../graph/builder.js';
import { attrInt, attrInts, type Node } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';
import { floatMask, reshapeLike, shapeValue, zerosLike } from './emit.js';
import { windowGeometry, type WindowGeometry } from './geometry.js';
import { defineOp, type GradContext } from './registry.js';
import { adjointAlongAxes, type AxisMatrix } from './resize.js';

// Pooling. Each backward formulation was picked by timing the candidates in onnxruntime-node
// 1.30 (2 threads; best-of-many ms, backward alone unless noted):
//  - MaxPool, disjoint windows: Equal-mask against Resize-upsampled y, 4.8 ms fwd+bwd (median)
//    on [1,64,112,112] 2x2/2 vs 8.6 ms for Indices + ScatterElements. Resize with asymmetric/floor
//    coordinates hits ORT's nearest-2x kernel: 2x faster than the default half_pixel.
//  - MaxPool, overlapping/padded windows: a second MaxPool asking for Indices + ScatterElements.
//  - AveragePool, disjoint windows: dy/count upsampled by Resize (3.5 ms on [8,64,56,56] 2x2/2;
//    separable MatMuls 4.0, depthwise ConvTranspose 5.2).
//  - AveragePool, stride 1: an AveragePool over dy (0.45 ms on [1,64,56,56] 3x3 p1; depthwise
//    Conv 0.38 but needs a static C and a ones weight, ConvTranspose 2.1, MatMuls 0.55).
//  - AveragePool, other strides: separable MatMuls against constant window matrices (2.1 ms on
//    [1,64,112,112] 3x3/2 p1 vs 3.2 depthwise ConvTranspose; 0.7 vs 1.9 on [4,128,28,28]; only
//    on 224-wide planes did ConvTranspose win, 15 vs 19 ms). Zero-insertion (Pad) + AveragePool
//    was 2.5-5x slower than either.

// ------------------------------------------------------------------ shape rules

function poolInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  if (x.shape.length < 3) throw ctx.malformed(`input must be [N, C, spatial...], got rank ${x.shape.length}`);
  const kernel = attrInts(ctx.node, 'kernel_shape');
  if (!kernel) throw ctx.malformed('the kernel_shape attribute is required');
  const geo = windowGeometry(ctx.node, x.shape.slice(2), kernel);
  // ONNX Runtime's pooling kernels refuse it only when the model compiles ("Pad should be smaller than kernel")
  const pads = attrInts(ctx.node, 'pads');
  const r = kernel.length;
  const wide = pads?.findIndex((p, i) => p >= kernel[i % r]!) ?? -1;
  if (pads && wide >= 0) {
    throw ctx.malformed(`pads [${pads.join(', ')}] pad spatial axis ${wide % r} by ${pads[wide]} at its ${wide < r ? 'start' : 'end'}, not less than the kernel's ${kernel[wide % r]}: a window there would hold nothing but padding`);
  }
  const shape = [x.shape[0]!, x.shape[1]!, ...geo.out];
  const outs: OutputFacts[] = [{ dtype: x.dtype, shape }];
  if (ctx.node.op === 'MaxPool' && ctx.node.outputs.length > 1) outs.push({ dtype: 'int64', shape: [...shape] });
  return outs;
}

function globalPoolInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  if (x.shape.length < 3) throw ctx.malformed(`input must be [N, C, spatial...], got rank ${x.shape.length}`);
  return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] }];
}

// ------------------------------------------------------------------ window analysis

/** Static per-axis window geometry of a pooling node, with the input's spatial sizes. */
interface Windows {
  geo: WindowGeometry;
  /** input spatial sizes */
  n: number[];
  /** output spatial sizes */
  o: number[];
}

function windowsOf(g: GradContext): Windows {
  const node = g.node;
  const xs = g.b.shapeOf(g.x(0));
  const spatial = xs.slice(2);
  if (!spatial.every((d): d is number => typeof d === 'number')) {
    throw new ConvLensError(
      'SHAPE_MISMATCH',
      `${node.op} node "${node.name}": the backward rule needs static spatial sizes, but the input is [${xs.join(', ')}].`,
      'Fix the input size before differentiating: Model.staticGraph(dims) returns the graph with static sizes.',
    );
  }
  const kernel = attrInts(node, 'kernel_shape') ?? [];
  const geo = windowGeometry(node, spatial, kernel);
  return { geo, n: spatial, o: geo.out as number[] };
}

/**
 * Whether every window is a disjoint block starting at 0 along each axis (kernel == stride,
 * or a single window), so the windows tile [0, o*k) and upsampling by k maps each output back
 * onto its window. Returns the block size per axis, or undefined.
 */
function blockSizes(w: Windows): number[] | undefined {
  const { geo, o } = w;
  const ok = geo.kernel.every((k, a) => geo.dilations[a] === 1 && geo.padBegin[a] === 0 && geo.padEnd[a] === 0 && (k === geo.strides[a] || o[a] === 1));
  return ok ? [...geo.kernel] : undefined;
}

/** Nearest-neighbour upsampling by integer factors on the spatial axes (asymmetric + floor hits ORT's fastest Resize path). */
function upsample(b: GraphBuilder, t: string, factors: readonly number[]): string {
  const scales: Tensor = { dtype: 'float32', dims: [factors.length + 2], data: Float32Array.from([1, 1, ...factors]) };
  return b.op('Resize', [t, '', b.constant(scales, 'scales')], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
}

function sliceSpatial(b: GraphBuilder, t: string, ends: readonly number[]): string {
  const axes = ends.map((_, a) => a + 2);
  return b.op('Slice', [t, b.ints(ends.map(() => 0)), b.ints([...ends]), b.ints(axes)]);
}

/**
 * Maps a gradient laid out over the block grid [o*k] back onto the input [n]: crops where
 * ceil mode made the grid overhang, zero-pads where floor mode left rows uncovered.
 */
function blocksToInput(b: GraphBuilder, grid: string, covered: readonly number[], n: readonly number[]): string {
  let t = grid;
  if (covered.some((c, a) => c > n[a]!)) t = sliceSpatial(b, t, covered.map((c, a) => Math.min(c, n[a]!)));
  if (covered.some((c, a) => c < n[a]!)) {
    const r = n.length + 2;
    const pads = new Array<number>(2 * r).fill(0);
    n.forEach((len, a) => (pads[r + a + 2] = Math.max(0, len - covered[a]!)));
    t = b.op('Pad', [t, b.ints(pads)]);
  }
  return t;
}

/** Input positions each window tap reads along one axis (-1 in padding or past the input). */
function tapPositions(geo: WindowGeometry, a: number, o: number, n: number): number[] {
  const taps: number[] = [];
  for (let t = 0; t < geo.kernel[a]!; t++) {
    const p = o * geo.strides[a]! - geo.padBegin[a]! + t * geo.dilations[a]!;
    taps.push(p >= 0 && p < n ? p : -1);
  }
  return taps;
}

/**
 * Divisor of each average window along one axis. ONNX Runtime (and PyTorch) count the taps
 * inside the input, or with count_include_pad the taps inside input + pads; ceil-mode windows
 * hanging past the end padding are clipped either way. The divisor of an N-d window is the
 * product over axes, so the whole pool is separable.
 */
function axisCounts(geo: WindowGeometry, a: number, n: number, o: number, includePad: boolean): number[] {
  const counts: number[] = [];
  for (let j = 0; j < o; j++) {
    let c = 0;
    for (let t = 0; t < geo.kernel[a]!; t++) {
      const p = j * geo.strides[a]! - geo.padBegin[a]! + t * geo.dilations[a]!;
      if (includePad ? p < n + geo.padEnd[a]! : p >= 0 && p < n) c++;
    }
    counts.push(c);
  }
  return counts;
}

/**
 * dy scaled by 1/count per window: a scalar when all windows count the same, else a constant
 * [o1, o2, ...] map that broadcasts over N and C. `extra` multiplies in.
 */
function scaleByCounts(b: GraphBuilder, dy: string, perAxis: readonly number[][], extra = 1): string {
  const uniform = perAxis.every((c) => c.every((v) => v === c[0]));
  if (uniform) {
    const f = extra / perAxis.reduce((p, c) => p * c[0]!, 1);
    return f === 1 ? dy : b.op('Mul', [dy, b.scalar(f)]);
  }
  const dims = perAxis.map((c) => c.length);
  const total = dims.reduce((p, q) => p * q, 1);
  const data = new Float32Array(total);
  const idx = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < total; i++) {
    let c = 1;
    for (let a = 0; a < dims.length; a++) c *= perAxis[a]![idx[a]!]!;
    data[i] = extra / c;
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
  return b.op('Mul', [dy, b.constant({ dtype: 'float32', dims, data }, 'inv_count')]);
}

// ------------------------------------------------------------------ MaxPool

/**
 * Max-pool gradient: each window's dy goes to ONE winner, the first maximum in row-major
 * window order, as PyTorch and ONNX Runtime's Indices pick. Ties are common (flat image
 * regions give equal activations; all-zero windows follow every ReLU), and giving dy to every
 * tie would break Euler's identity x.grad = f for ReLU nets, IG's completeness and Grad-CAM at
 * a layer before a pool. The same routing is Zeiler & Fergus' deconvnet "switches", so the
 * deconvnet rule set needs no variant.
 */
function maxPoolGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy || !g.wants(0)) return [undefined];
  const w = windowsOf(g);
  // Disjoint 2-D windows (kernel == stride): found plane by plane, so the forward MaxPool stays
  // on ORT's fast kernel (asking it for Indices costs ~10x on the pool, +60% on a VGG's
  // input gradient; the planes cost +25%). Everything else goes through Indices.
  const blocks = blockSizes(w);
  const planes = blocks && firstWinnerBlocks(g.b, g.x(0), g.y(0), dy, blocks, w);
  return [planes ?? scatterThroughIndices(g, dy)];
}

/**
 * dy routed to the first maximum of each disjoint k1 x k2 window. Ties are common (flat image
 * regions give equal activations, all-zero windows follow every ReLU), and handing dy to every
 * tied element would break Euler's identity x.grad = f for ReLU nets and IG's completeness.
 * Each window position (i, j) is a strided plane of x; a position wins where it equals the
 * max and no earlier position did. The k1*k2 routed planes are interleaved back with two
 * Concats and a Reshape.
 */
function firstWinnerBlocks(b: GraphBuilder, x: string, y: string, dy: string, k: readonly number[], w: Windows): string | undefined {
  if (k.length !== 2 || k[0]! * k[1]! > 16) return undefined;
  const [kh, kw] = k as [number, number];
  const [oh, ow] = w.o as [number, number];
  const covered = [kh * oh, kw * ow];
  let grid = x;
  const fit = covered.map((c, a) => Math.min(c, w.n[a]!));
  if (fit.some((f, a) => f < w.n[a]!)) grid = sliceSpatial(b, grid, fit);
  if (covered.some((c, a) => c > w.n[a]!)) {
    // ceil mode: pad the overhang with -max so padded cells never win
    const pads = [0, 0, 0, 0, 0, 0, covered[0]! - fit[0]!, covered[1]! - fit[1]!];
    grid = b.op('Pad', [grid, b.ints(pads), b.scalar(-3.4028234663852886e38)]);
  }
  const one = b.scalar(1);
  let taken: string | undefined;
  const rows: string[] = [];
  for (let i = 0; i < kh; i++) {
    const cells: string[] = [];
    for (let j = 0; j < kw; j++) {
      const plane = b.op('Slice', [grid, b.ints([i, j]), b.ints(covered), b.ints([2, 3]), b.ints([kh, kw])]);
      const hit = floatMask(b, b.op('Equal', [plane, y]));
      const first = taken ? b.op('Mul', [hit, b.op('Sub', [one, taken])]) : hit;
      if (i < kh - 1 || j < kw - 1) taken = taken ? b.op('Add', [taken, first]) : first;
      cells.push(b.op('Unsqueeze', [b.op('Mul', [dy, first]), b.ints([4])]));
    }
    rows.push(b.op('Unsqueeze', [cells.length > 1 ? b.op('Concat', cells, { axis: 4 }) : cells[0]!, b.ints([3])]));
  }
  const blocksGrad = rows.length > 1 ? b.op('Concat', rows, { axis: 3 }) : rows[0]!;
  const full = b.op('Reshape', [blocksGrad, b.ints([0, 0, covered[0]!, covered[1]!])]);
  return blocksToInput(b, full, covered, w.n);
}

/**
 * Overlapping or padded windows: route dy through the argmax indices. ORT numbers them flat
 * over the whole unpadded N*C*H*W input (storage_order 0), so one ScatterElements with
 * reduction=add over a flat zero vector accumulates every window's gradient.
 */
function scatterThroughIndices(g: GradContext, dy: string): string {
  const b = g.b;
  const x = g.x(0);
  const ownIndices = g.node.outputs[1] && attrInt(g.node, 'storage_order', 0) === 0 ? g.y(1) : undefined;
  const indices = ownIndices ?? rerunWithIndices(b, g.node, x);
  const flat = b.ints([-1]);
  const total = b.op('Reshape', [b.op('Size', [x]), b.ints([1])]);
  const zeros = b.op('ConstantOfShape', [total], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(0) } });
  const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [indices, flat]), b.op('Reshape', [dy, flat])], { axis: 0, reduction: 'add' });
  return b.op('Reshape', [scattered, shapeValue(b, x)]);
}

/** A second MaxPool with the forward node's window, asked for row-major Indices. */
function rerunWithIndices(b: GraphBuilder, node: Node, x: string): string {
  const attrs = { ...node.attrs };
  delete attrs['storage_order'];
  const [, indices] = b.opN('MaxPool', [x], attrs, { outputs: 2 });
  return indices!;
}

// ------------------------------------------------------------------ AveragePool

function averagePoolGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy || !g.wants(0)) return [undefined];
  const b = g.b;
  const x = g.x(0);
  const w = windowsOf(g);
  const { geo, n, o } = w;
  const includePad = attrInt(g.node, 'count_include_pad', 0) === 1;
  const counts = geo.kernel.map((_, a) => axisCounts(geo, a, n[a]!, o[a]!, includePad));

  // Disjoint windows: every input in a window gets dy / count, i.e. dy scaled then upsampled.
  const blocks = blockSizes(w);
  if (blocks) {
    const covered = blocks.map((k, a) => k * o[a]!);
    return [blocksToInput(b, upsample(b, scaleByCounts(b, dy, counts), blocks), covered, n)];
  }

  // Stride 1: the adjoint of a box sum is a box sum over the output grid, padded by k-1-p:
  // an AveragePool with count_include_pad=1 times the window volume (no static C needed).
  const stride1 = geo.kernel.every((k, a) => geo.strides[a] === 1 && geo.dilations[a] === 1 && geo.padBegin[a]! <= k - 1);
  if (stride1) {
    const begin = geo.kernel.map((k, a) => k - 1 - geo.padBegin[a]!);
    const end = geo.kernel.map((_, a) => n[a]! - o[a]! + geo.padBegin[a]!);
    if (end.every((e, a) => e >= 0 && e <= geo.kernel[a]! - 1)) {
      const volume = geo.kernel.reduce((p, q) => p * q, 1);
      const scaled = scaleByCounts(b, dy, counts, volume);
      return [b.op('AveragePool', [scaled], { kernel_shape: geo.kernel, pads: [...begin, ...end], count_include_pad: 1 })];
    }
  }

  // General (strided with overlap or padding, ceil mode, dilations): y = A1 · x · A2^T per
  // plane with static [o, n] window matrices holding 1/count, so dx = A1^T · dy · A2.
  const mats: AxisMatrix[] = [];
  geo.kernel.forEach((k, a) => {
    if (k === 1 && geo.strides[a] === 1 && geo.padBegin[a] === 0 && o[a] === n[a]) return; // identity axis
    const data = new Float64Array(o[a]! * n[a]!);
    for (let j = 0; j < o[a]!; j++) for (const p of tapPositions(geo, a, j, n[a]!)) if (p >= 0) data[j * n[a]! + p] += 1 / counts[a]![j]!;
    mats.push({ axis: a + 2, outLen: o[a]!, inLen: n[a]!, data });
  });
  return [adjointAlongAxes(b, g.node, dy, x, mats)];
}

// ------------------------------------------------------------------ global pools

function globalAverageGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy || !g.wants(0)) return [undefined];
  const b = g.b;
  const x = g.x(0);
  const spatial = b.shapeOf(x).slice(2);
  let scaled: string;
  if (spatial.every((d): d is number => typeof d === 'number')) {
    scaled = b.op('Mul', [dy, b.scalar(1 / spatial.reduce((p, q) => p * q, 1))]);
  } else {
    const count = b.op('Cast', [b.op('ReduceProd', [b.op('Shape', [x], { start: 2 })], { keepdims: 0 })], { to: 1 });
    scaled = b.op('Div', [dy, count]);
  }
  // Mul on the small [N, C, 1, 1] tensor, then one Expand (engine notes: the fast pairing).
  return [b.op('Expand', [scaled, shapeValue(b, x)])];
}

/** One winner per channel (the first maximum, as ArgMax, PyTorch and ORT pick), not every tie. */
function globalMaxSwitches(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy || !g.wants(0)) return [undefined];
  const b = g.b;
  const x = g.x(0);
  const planes = b.op('Reshape', [x, b.ints([0, 0, -1])]);
  const winner = b.op('ArgMax', [planes], { axis: 2, keepdims: 1 });
  const routed = b.op('ScatterElements', [zerosLike(b, planes), winner, b.op('Reshape', [dy, b.ints([0, 0, 1])])], { axis: 2 });
  return [reshapeLike(b, routed, x)];
}

defineOp({
  type: 'MaxPool',
  infer: poolInfer,
  grad: maxPoolGrad,
});
defineOp({ type: 'AveragePool', infer: poolInfer, grad: averagePoolGrad });
defineOp({ type: 'GlobalAveragePool', infer: globalPoolInfer, grad: globalAverageGrad });
// Ties are common (flat regions, all-zero maps after a ReLU): one winner per map, always.
defineOp({ type: 'GlobalMaxPool', infer: globalPoolInfer, grad: globalMaxSwitches });
