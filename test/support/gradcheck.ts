import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import type { RuleSetName } from '../../src/engine/ops/registry.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import type { Engine } from '../../src/engine/runtime/engine.js';
import { castTensor, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import '../../src/engine/index.js';

/** A float64 copy of a graph for the reference evaluator: weights, constants and float casts in double. */
export function float64Graph(graph: Graph): Graph {
  const g = graph.clone();
  // Resize scales are float32 by definition: ONNX Runtime sizes the output with a float32 product
  // (10 x 0.7 = 7 rows, where float64 says 6), so they stay float32 in the oracle too.
  const keep = new Set(g.nodes.filter((n) => n.op === 'Resize').flatMap((n) => n.inputs.slice(1, 3)));
  for (const [k, t] of g.initializers) if (t.dtype === 'float32' && !keep.has(k)) g.initializers.set(k, castTensor(t, 'float64'));
  g.nodes = g.nodes.map((n) => {
    if (n.outputs.some((o) => keep.has(o))) return n;
    if (n.op === 'Cast' && n.attrs['to']?.type === 'int' && n.attrs['to'].value === 1) return { ...n, attrs: { ...n.attrs, to: { type: 'int', value: 11 } } };
    if (n.op === 'Constant' && n.attrs['value']?.type === 'tensor' && n.attrs['value'].value.dtype === 'float32') {
      return { ...n, attrs: { ...n.attrs, value: { type: 'tensor', value: castTensor(n.attrs['value'].value, 'float64') } } };
    }
    return n;
  });
  return g;
}

const to64 = (feeds: Record<string, Tensor>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dtype === 'float32' ? castTensor(t, 'float64') : t]));

/** sum(output * dy) in float64 on the reference evaluator. */
function objective(g64: Graph, feeds64: Record<string, Tensor>, output: string, dy: Float64Array): number {
  const y = toFloat64(evaluateGraph(g64, feeds64, [output])[output]!);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * dy[i]!;
  return s;
}

export interface FdOptions {
  /** at most this many coordinates per wrt tensor are checked (chosen evenly) */
  maxCoords?: number;
  /** relative step; the absolute step is h * max(1, |value|) */
  h?: number;
}

/**
 * Central finite differences of sum(output * dy) with respect to each `wrt` value (inputs,
 * initializers or intermediates), evaluated in float64. With h = 1e-6 the truncation error is
 * O(h^2) ~ 1e-12 and the rounding error ~ 1e-16 / h ~ 1e-10, far below float32's 1e-7.
 */
export function finiteDifferences(
  graph: Graph,
  feeds: Record<string, Tensor>,
  output: string,
  dy: Tensor,
  wrt: readonly string[],
  options: FdOptions = {},
): Map<string, { indices: number[]; values: Float64Array }> {
  const g64 = float64Graph(graph);
  const base64 = to64(feeds);
  const dy64 = toFloat64(dy);
  const h = options.h ?? 1e-6;
  const result = new Map<string, { indices: number[]; values: Float64Array }>();
  for (const w of wrt) {
    let t: Tensor | undefined = base64[w] ?? g64.initializers.get(w);
    if (!t) t = evaluateGraph(g64, base64, [w])[w]!; // an intermediate: perturb its computed value
    const data = toFloat64(t);
    const n = data.length;
    const max = options.maxCoords ?? 200;
    const indices = n <= max ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
    const values = new Float64Array(indices.length);
    indices.forEach((idx, k) => {
      const step = h * Math.max(1, Math.abs(data[idx]!));
      const plus = Float64Array.from(data);
      plus[idx] = data[idx]! + step;
      const minus = Float64Array.from(data);
      minus[idx] = data[idx]! - step;
      const f = (arr: Float64Array): number => objective(g64, { ...base64, [w]: { dtype: 'float64', dims: t!.dims, data: arr } }, output, dy64);
      values[k] = (f(plus) - f(minus)) / (2 * step);
    });
    result.set(w, { indices, values });
  }
  return result;
}

/** Gradients of sum(output * dy) from the engine's backward graph run by ONNX Runtime (float32). */
export async function engineGradients(
  engine: Engine,
  graph: Graph,
  feeds: Record<string, Tensor>,
  output: string,
  dy: Tensor,
  wrt: readonly string[],
  ruleSet: RuleSetName = 'standard',
): Promise<Map<string, Tensor>> {
  const gg = buildGradientGraph(graph, { seed: { upstream: [output] }, wrt, outputs: [output], ruleSet });
  const compiled = await engine.compileOnce(gg.graph);
  const res = await compiled.run({ ...feeds, [gg.seedInputs[output]!]: dy });
  await compiled.release();
  return new Map(wrt.map((w) => [w, res[gg.gradientOutputs[w]!]!]));
}

/**
 * Error of `actual` against `expected`, relative to the largest expected magnitude:
 * max_i |a_i - e_i| / max_i |e_i|. Gradients are sums of many float32 products, so a
 * per-element relative error would be dominated by cancellation near zero.
 */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>, indices?: readonly number[]): number {
  let err = 0;
  let scale = 0;
  const n = indices ? indices.length : expected.length;
  for (let k = 0; k < n; k++) {
    const e = expected[k]!;
    const a = actual[indices ? indices[k]! : k]!;
    err = Math.max(err, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return scale === 0 ? err : err / scale;
}
