import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { resampleMatrix, type ResampleSpec } from '../../src/engine/ops/resize.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Resize backward = A^T·dy along each resized axis, with A built from ONNX Runtime's float32
// coordinate arithmetic. Three independent checks:
//  1. A reproduces ORT's forward Resize (nearest: bit-exact; linear: to float32 rounding), so
//     ties and edge clamping pick the same pixels ORT does;
//  2. the engine's gradient equals A^T·dy computed in float64 on the host;
//  3. the engine's gradient matches float64 central finite differences on the project's
//     reference evaluator.
// Tolerances: every gradient entry is a sum of at most a few dozen float32 products of weights
// in [0, 1] with N(0, 1) upstream values, so float32 accumulation error stays below ~1e-6 of the
// largest entry; the finite differences of these (piecewise) linear maps are exact up to
// ~1e-10. 1e-5 leaves a 10x margin while a wrong tap or weight shows up as O(0.1) or more.
const TOL = 1e-5;

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

interface Config {
  mode: 'nearest' | 'linear';
  coordinate: string;
  nearestMode?: string;
  inHW: [number, number];
  /** scales on H and W, or output sizes on H and W */
  scales?: [number, number];
  sizes?: [number, number];
}

const f32s = Math.fround;

/** Output length and the float32 scale ORT uses, per the ONNX Runtime rules the rule copies. */
function axisPlan(c: Config, a: 0 | 1): { outLen: number; scale: number } {
  const n = c.inHW[a];
  if (c.sizes) return { outLen: c.sizes[a], scale: f32s(c.sizes[a] / n) };
  const s = f32s(c.scales![a]);
  return { outLen: Math.floor(f32s(s * n)), scale: s };
}

function buildResize(c: Config, batch: number | 'N' = 'N', channels = 2): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [batch, channels, ...c.inHW]);
  const attrs: Record<string, string> = { mode: c.mode, coordinate_transformation_mode: c.coordinate };
  if (c.nearestMode) attrs['nearest_mode'] = c.nearestMode;
  const scales = c.scales ? b.constant(f32([4], [1, 1, ...c.scales]), 'scales') : '';
  // Sizes name every axis; with a symbolic batch they come from Shape(x), as exporters emit them.
  let sizesIn: string | undefined;
  if (c.sizes && batch === 'N') {
    const head = b.op('Slice', [b.op('Shape', [x]), b.ints([0]), b.ints([2])]);
    sizesIn = b.op('Concat', [head, b.ints(c.sizes)], { axis: 0 });
  } else if (c.sizes && typeof batch === 'number') sizesIn = b.ints([batch, channels, ...c.sizes], 'sizes');
  const y = b.op('Resize', [x, '', scales, sizesIn], attrs, { name: 'resize', outputs: ['y'] });
  b.output(y);
  return b.build();
}

/** y = A_h · x · A_w^T per plane, in float64, from the rule's matrices. */
function hostResize(c: Config, x: Tensor): { dims: number[]; data: Float64Array; ah: Float64Array; aw: Float64Array; oh: number; ow: number } {
  const spec: ResampleSpec = { mode: c.mode, coordinate: c.coordinate, nearestMode: c.nearestMode ?? 'round_prefer_floor' };
  const [H, W] = c.inHW;
  const ph = axisPlan(c, 0);
  const pw = axisPlan(c, 1);
  const eye = (n: number): Float64Array => Float64Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0));
  // Axes whose scale is exactly 1 are copied untouched (ORT skips the coordinate transform).
  const ah = ph.scale === 1 ? eye(H) : resampleMatrix(spec, H, ph.outLen, ph.scale).data;
  const aw = pw.scale === 1 ? eye(W) : resampleMatrix(spec, W, pw.outLen, pw.scale).data;
  const oh = ph.outLen;
  const ow = pw.outLen;
  const planes = x.dims[0]! * x.dims[1]!;
  const xv = toFloat64(x);
  const out = new Float64Array(planes * oh * ow);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = 0;
        for (let h = 0; h < H; h++) {
          const wh = ah[i * H + h]!;
          if (wh === 0) continue;
          for (let w = 0; w < W; w++) s += wh * aw[j * W + w]! * xv[p * H * W + h * W + w]!;
        }
        out[p * oh * ow + i * ow + j] = s;
      }
  return { dims: [x.dims[0]!, x.dims[1]!, oh, ow], data: out, ah, aw, oh, ow };
}

/** A^T · dy · A_w per plane, in float64. */
function hostAdjoint(c: Config, dy: Tensor, ah: Float64Array, aw: Float64Array, oh: number, ow: number): Float64Array {
  const [H, W] = c.inHW;
  const planes = dy.dims[0]! * dy.dims[1]!;
  const d = toFloat64(dy);
  const out = new Float64Array(planes * H * W);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const g = d[p * oh * ow + i * ow + j]!;
        for (let h = 0; h < H; h++) {
          const wh = ah[i * H + h]!;
          if (wh === 0) continue;
          for (let w = 0; w < W; w++) out[p * H * W + h * W + w] += wh * aw[j * W + w]! * g;
        }
      }
  return out;
}

const COORDS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const GEOMETRIES: Pick<Config, 'inHW' | 'scales' | 'sizes'>[] = [
  { inHW: [4, 5], scales: [2, 2] },
  { inHW: [3, 4], scales: [3, 3] },
  { inHW: [8, 6], scales: [0.5, 0.5] },
  { inHW: [5, 5], sizes: [7, 7] }, // non-integer factor 1.4
  { inHW: [7, 6], sizes: [5, 4] }, // non-integer shrink
  { inHW: [4, 6], scales: [2, 1] }, // one axis untouched
  { inHW: [3, 5], scales: [1.5, 0.75] },
  { inHW: [6, 1], sizes: [1, 4] }, // output length 1 and input length 1
  { inHW: [10, 4], scales: [0.7, 2.5] }, // 10 * 0.7f = 7 in float32 (6.99... in float64)
];

const CONFIGS: Config[] = [];
for (const geo of GEOMETRIES)
  for (const coordinate of COORDS) {
    for (const nearestMode of NEAREST_MODES) CONFIGS.push({ mode: 'nearest', coordinate, nearestMode, ...geo });
    CONFIGS.push({ mode: 'linear', coordinate, ...geo });
  }

const label = (c: Config): string =>
  `${c.mode}${c.nearestMode ? `/${c.nearestMode}` : ''} ${c.coordinate} [${c.inHW}] ${c.scales ? `scales ${c.scales}` : `sizes ${c.sizes}`}`;

async function runGradient(graph: Graph, x: Tensor, dy: Tensor): Promise<{ y: Tensor; dx: Tensor; graph: Graph }> {
  const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'], outputs: ['y'] });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ x, [gg.seedInputs['y']!]: dy });
  await run.release();
  return { y: out['y']!, dx: out[gg.gradientOutputs['x']!]!, graph: gg.graph };
}

describe('Resize backward', () => {
  it(`matches ORT's forward, its own adjoint and finite differences (${CONFIGS.length} configurations)`, async () => {
    const rand = rng(17);
    let worstForward = 0;
    let worstAdjoint = 0;
    let worstFd = 0;
    const fdFailures: string[] = [];
    for (const [k, c] of CONFIGS.entries()) {
      const batch = 1 + (k % 3);
      const graph = buildResize(c);
      const x = f32([batch, 2, ...c.inHW], randn(rand, batch * 2 * c.inHW[0] * c.inHW[1]));
      const host = hostResize(c, x);
      const dy = f32(host.dims, randn(rand, host.data.length));
      const { y, dx } = await runGradient(graph, x, dy);

      // 1. ORT's forward against the matrices.
      expect(y.dims, label(c)).toEqual(host.dims);
      const yErr = relativeMaxError(toFloat64(y), host.data);
      if (c.mode === 'nearest') expect(Array.from(toFloat64(y)), label(c)).toEqual(Array.from(host.data));
      else expect(yErr, label(c)).toBeLessThan(1e-6);
      worstForward = Math.max(worstForward, yErr);

      // 2. The engine's gradient against A^T dy.
      const adj = relativeMaxError(toFloat64(dx), hostAdjoint(c, dy, host.ah, host.aw, host.oh, host.ow));
      expect(adj, label(c)).toBeLessThan(TOL);
      worstAdjoint = Math.max(worstAdjoint, adj);

      // 3. Finite differences on the float64 reference evaluator (an independent implementation;
      // float64Graph keeps the float32 scales so output sizes match ORT's float32 product).
      const fd = finiteDifferences(graph, { x }, 'y', dy, ['x'], { maxCoords: 1000 }).get('x')!;
      const fdErr = relativeMaxError(toFloat64(dx), fd.values, fd.indices);
      if (!(fdErr < TOL)) fdFailures.push(`${label(c)}: ${fdErr.toExponential(2)}`);
      worstFd = Math.max(worstFd, Number.isFinite(fdErr) ? fdErr : Infinity);
    }
    console.log(`Resize: ${CONFIGS.length} configs; worst forward ${worstForward.toExponential(2)}, adjoint ${worstAdjoint.toExponential(2)}, FD ${worstFd.toExponential(2)}`);
    expect(fdFailures, 'gradient vs finite differences on the reference evaluator').toEqual([]);
  });

  it('sums blocks with an AveragePool for integer nearest upsampling, MatMuls otherwise', () => {
    const opsOf = (c: Config): string[] => {
      const gg = buildGradientGraph(buildResize(c), { seed: { upstream: ['y'] }, wrt: ['x'] });
      return gg.graph.nodes.map((n) => n.op);
    };
    const nearest2 = opsOf({ mode: 'nearest', coordinate: 'asymmetric', nearestMode: 'floor', inHW: [4, 4], scales: [2, 2] });
    expect(nearest2).toContain('AveragePool');
    expect(nearest2).not.toContain('MatMul');
    const halfPixel3 = opsOf({ mode: 'nearest', coordinate: 'half_pixel', inHW: [4, 4], scales: [3, 3] });
    expect(halfPixel3).toContain('AveragePool');
    const linear = opsOf({ mode: 'linear', coordinate: 'half_pixel', inHW: [4, 5], scales: [2, 2] });
    expect(linear.filter((o) => o === 'MatMul')).toHaveLength(2);
    // round_prefer_ceil with asymmetric coordinates shifts the blocks by one: not a block sum.
    const shifted = opsOf({ mode: 'nearest', coordinate: 'asymmetric', nearestMode: 'round_prefer_ceil', inHW: [4, 4], scales: [2, 2] });
    expect(shifted).toContain('MatMul');
  });

  it('pins ORT tie-breaking and edge clamping of nearest and linear coordinates', () => {
    const spec = (mode: 'nearest' | 'linear', coordinate: string, nearestMode = 'round_prefer_floor'): ResampleSpec => ({ mode, coordinate, nearestMode });
    const sources = (s: ResampleSpec, inLen: number, outLen: number, scale: number): number[] => Array.from(resampleMatrix(s, inLen, outLen, scale).source!);
    // Downsampling by 2 with half_pixel lands exactly halfway (2o + 0.5): floor vs ceil preference decides.
    expect(sources(spec('nearest', 'half_pixel', 'round_prefer_floor'), 8, 4, 0.5)).toEqual([0, 2, 4, 6]);
    expect(sources(spec('nearest', 'half_pixel', 'round_prefer_ceil'), 8, 4, 0.5)).toEqual([1, 3, 5, 7]);
    // asymmetric x2: o/2 ties at odd o; round_prefer_ceil reads one pixel later and clamps at the end.
    expect(sources(spec('nearest', 'asymmetric', 'round_prefer_ceil'), 3, 6, 2)).toEqual([0, 1, 1, 2, 2, 2]);
    expect(sources(spec('nearest', 'asymmetric', 'floor'), 3, 6, 2)).toEqual([0, 0, 1, 1, 2, 2]);
    // tf_half_pixel_for_nn x2: (o + 0.5) / 2, so ceil overshoots and is clamped to the last pixel.
    expect(sources(spec('nearest', 'tf_half_pixel_for_nn', 'ceil'), 3, 6, 2)).toEqual([1, 1, 2, 2, 2, 2]);
    // Linear at the borders: coordinates outside [0, n-1] are clamped, and the clamped pixel gets weight 1.
    const lin = resampleMatrix(spec('linear', 'half_pixel'), 2, 4, 2).data;
    expect(Array.from(lin)).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
    // align_corners with one output pixel reads input 0; pytorch_half_pixel likewise.
    expect(Array.from(resampleMatrix(spec('linear', 'align_corners'), 5, 1, 0.2).data)).toEqual([1, 0, 0, 0, 0]);
    expect(Array.from(resampleMatrix(spec('linear', 'pytorch_half_pixel'), 5, 1, 0.2).data)).toEqual([1, 0, 0, 0, 0]);
  });

  it('sizes the output as ORT does: floor of the float32 product (10 x 0.7 -> 7)', async () => {
    const graph = buildResize({ mode: 'nearest', coordinate: 'asymmetric', inHW: [10, 10], scales: [0.7, 0.7] }, 1, 1);
    const b = GraphBuilder.over(graph);
    expect(b.shapeOf('y')).toEqual([1, 1, 7, 7]);
    const run = await engine.compileOnce(graph);
    const out = await run.run({ x: f32([1, 1, 10, 10], new Float32Array(100)) });
    await run.release();
    expect(out['y']!.dims).toEqual([1, 1, 7, 7]);
  });

  it('differentiates volumes and non-spatial layouts through the reshape path', async () => {
    // 5-D input, linear on D, H, W: the D axis needs the [-1, out, inner] fold.
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2, 3, 4, 2]);
    const y = b.op('Resize', [x, '', b.constant(f32([5], [1, 1, 2, 1.5, 2]))], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, { outputs: ['y'] });
    b.output(y);
    const graph = b.build();
    expect(b.shapeOf(y)).toEqual(['N', 2, 6, 6, 4]);
    const rand = rng(5);
    const xv = f32([2, 2, 3, 4, 2], randn(rand, 96));
    const dy = f32([2, 2, 6, 6, 4], randn(rand, 2 * 2 * 6 * 6 * 4));
    const { dx } = await runGradient(graph, xv, dy);
    const fd = finiteDifferences(graph, { x: xv }, 'y', dy, ['x'], { maxCoords: 1000 }).get('x')!;
    expect(relativeMaxError(toFloat64(dx), fd.values, fd.indices)).toBeLessThan(TOL);

    // Resizing the channel axis (nearest, shifted blocks) folds [N, C, H*W].
    const b2 = new GraphBuilder();
    const x2 = b2.input('x', 'float32', ['N', 3, 2, 2]);
    const y2 = b2.op('Resize', [x2, '', b2.constant(f32([4], [1, 2, 1, 1]))], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' }, { outputs: ['y'] });
    b2.output(y2);
    const g2 = b2.build();
    const xv2 = f32([2, 3, 2, 2], randn(rand, 24));
    const dy2 = f32([2, 6, 2, 2], randn(rand, 48));
    const r2 = await runGradient(g2, xv2, dy2);
    const fd2 = finiteDifferences(g2, { x: xv2 }, 'y', dy2, ['x']).get('x')!;
    expect(relativeMaxError(toFloat64(r2.dx), fd2.values, fd2.indices)).toBeLessThan(TOL);
  });

  it('names the node when the scales are only known at run time', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 2, 4, 4]);
    const scales = b.input('scales', 'float32', [4]);
    b.output(b.op('Resize', [x, '', scales], { mode: 'nearest' }, { name: 'up1', outputs: ['y'] }));
    expect(() => buildGradientGraph(b.build(), { seed: { upstream: ['y'] }, wrt: ['x'] })).toThrow(/Resize node "up1".*scales/);
  });

  it('rejects cubic and tf_crop_and_resize with the node name', () => {
    for (const attrs of [{ mode: 'cubic' }, { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' }]) {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [1, 1, 4, 4]);
      b.output(b.op('Resize', [x, '', b.constant(f32([4], [1, 1, 2, 2]))], attrs, { name: 'up2', outputs: ['y'] }));
      expect(() => buildGradientGraph(b.build(), { seed: { upstream: ['y'] }, wrt: ['x'] })).toThrow(/Resize node "up2"/);
    }
  });
});
