// Gradients through QuantizeLinear -> DequantizeLinear (fake quantization): the straight-through
// estimator, dy where round(x/s) + z was not clamped and 0 where it was (PyTorch's
// fake_quantize_per_tensor_affine / per_channel_affine backward).
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { roundHalfEven } from '../../src/engine/reference/kernels/quantize.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

interface Quantizer {
  name: string;
  scale: number[];
  zero?: Tensor;
  axis?: number;
  range: [number, number];
}

const QUANTIZERS: Quantizer[] = [
  { name: 'int8 per channel (axis 1)', scale: [0.05, 0.1, 0.02], zero: { dtype: 'int8', dims: [3], data: Int8Array.of(0, 3, -5) }, axis: 1, range: [-128, 127] },
  { name: 'uint8 per tensor, no zero point', scale: [0.03], range: [0, 255] },
  { name: 'uint8 per tensor, zero point 128', scale: [0.04], zero: { dtype: 'uint8', dims: [], data: Uint8Array.of(128) }, range: [0, 255] },
  { name: 'int8 per axis on the last axis (-1)', scale: [0.05, 0.01, 0.2, 0.07], zero: { dtype: 'int8', dims: [4], data: Int8Array.of(1, 0, -2, 0) }, axis: -1, range: [-128, 127] },
];

function fakeQuant(q: Quantizer): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['N', 3, 4, 4]);
  const scale = b.initializer('s', q.scale.length === 1 ? f32([], q.scale) : f32([q.scale.length], q.scale));
  const zero = q.zero ? b.initializer('z', q.zero) : undefined;
  const attrs = q.axis === undefined ? {} : { axis: q.axis };
  const codes = b.op('QuantizeLinear', [x, scale, zero], attrs, { outputs: ['q'] });
  b.output(b.op('DequantizeLinear', [codes, scale, zero], attrs, { outputs: ['y'] }));
  return b.build();
}

/** For element i of [N, 3, 4, 4]: its scale and zero point. */
function parametersAt(q: Quantizer, i: number): { s: number; z: number } {
  if (q.scale.length === 1) return { s: Math.fround(q.scale[0]!), z: q.zero ? Number(q.zero.data[0]) : 0 };
  const k = q.axis === 1 ? Math.floor(i / 16) % 3 : i % 4;
  return { s: Math.fround(q.scale[k]!), z: Number(q.zero!.data[k]) };
}

async function gradient(graph: Graph, x: Tensor, upstream: Tensor): Promise<Float32Array> {
  const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt: ['x'] });
  const run = await engine.compileOnce(gg.graph);
  const out = await run.run({ x, [gg.seedInputs['y']!]: upstream });
  await run.release();
  return out[gg.gradientOutputs['x']!]!.data as Float32Array;
}

describe('QuantizeLinear -> DequantizeLinear backward: straight-through estimator', () => {
  for (const q of QUANTIZERS) {
    it(`${q.name}: equals the definition, upstream where the code is not clamped, 0 where it saturates`, async () => {
      const n = 2 * 3 * 16;
      // wide enough that codes saturate on both ends
      const x = f32([2, 3, 4, 4], randn(rng(11), n, 6));
      const u = f32([2, 3, 4, 4], randn(rng(12), n, 1));
      const got = await gradient(fakeQuant(q), x, u);
      let clamped = 0;
      let maxRelative = 0;
      for (let i = 0; i < n; i++) {
        const { s, z } = parametersAt(q, i);
        const code = roundHalfEven(Math.fround(x.data[i] as number / s)) + z;
        const inside = code >= q.range[0] && code <= q.range[1];
        if (!inside) clamped++;
        const want = inside ? (u.data[i] as number) : 0;
        if (!inside) expect(Math.abs(got[i]!)).toBe(0);
        else maxRelative = Math.max(maxRelative, Math.abs(got[i]! - want) / Math.abs(want));
      }
      expect(clamped).toBeGreaterThan(5); // both kinds of element were exercised
      expect(clamped).toBeLessThan(n - 5);
      expect(maxRelative).toBeLessThan(2.5e-7); // dy * s / s: float32 rounding only
    });
  }

  it('matches finite differences of the fake-quant function taken across whole rounding steps', async () => {
    // fq is a staircase: its pointwise derivative is 0, but the secant over h = 8 steps is exactly
    // 1 where no clamping is in reach and 0 deep in saturation: what the estimator stands for.
    const q = QUANTIZERS[0]!;
    const graph = fakeQuant(q);
    const n = 96;
    const x = f32([2, 3, 4, 4], randn(rng(13), n, 5));
    const u = f32([2, 3, 4, 4], new Float32Array(n).fill(1));
    const ste = await gradient(graph, x, u);
    const at = (values: Float64Array): Float64Array => evaluateGraph(graph, { x: { dtype: 'float64', dims: [2, 3, 4, 4], data: values } }, ['y'])['y']!.data as Float64Array;
    const h = new Float64Array(n);
    const base = Float64Array.from(x.data as Float32Array);
    for (let i = 0; i < n; i++) h[i] = 8 * parametersAt(q, i).s;
    const plus = at(base.map((v, i) => v + h[i]!));
    const minus = at(base.map((v, i) => v - h[i]!));
    let compared = 0;
    for (let i = 0; i < n; i++) {
      const { s, z } = parametersAt(q, i);
      const code = base[i]! / s + z;
      // skip the band where the secant straddles a clamp boundary
      if (Math.abs(code - q.range[0]) < 10 || Math.abs(code - q.range[1]) < 10) continue;
      const secant = (plus[i]! - minus[i]!) / (2 * h[i]!);
      expect(Math.abs(ste[i]! - secant)).toBeLessThan(1e-6);
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });
});
