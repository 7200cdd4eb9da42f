import type { GraphBuilder } from '../graph/builder.js';
import { attrInt } from '../graph/ir.js';
import { dimsOfInput, normAxis } from '../graph/facts.js';
import { defineOp } from './registry.js';

// Gather and the scatters. Gather on float data is differentiable (embedding lookups in
// conditional models); on shape vectors it is shape arithmetic.

defineOp({
  type: 'Gather',
  infer: (ctx) => {
    const x = ctx.need(0);
    const idx = ctx.need(1);
    const axis = normAxis(ctx.node, attrInt(ctx.node, 'axis', 0), x.shape.length);
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const out: { dtype: typeof x.dtype; shape: typeof shape; dimsValue?: typeof shape } = { dtype: x.dtype, shape };
    const dims = x.dimsValue;
    const picks = dimsOfInput(ctx, 1);
    const size = x.shape[axis];
    // ONNX Runtime checks indices only when it runs: constant ones out of range were a 500 on every request
    if (typeof size === 'number' && ctx.value(1)) {
      const outside = picks?.find((p) => typeof p === 'number' && (p < -size || p >= size));
      if (outside !== undefined) throw ctx.malformed(`index ${outside} is out of range for axis ${axis} of size ${size} (indices run from ${-size} to ${size - 1})`);
    }
    if (dims && picks && x.shape.length === 1 && picks.every((p) => typeof p === 'number')) {
      out.dimsValue = (picks as number[]).map((p) => dims[p < 0 ? p + dims.length : p]!);
    }
    return [out];
  },
  noGradInputs: [1],
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined, undefined];
    const b = g.b;
    const x = g.x(0);
    const rank = b.shapeOf(x).length;
    const axis = normAxis(g.node, attrInt(g.node, 'axis', 0), rank);
    return [scatterAlongAxis(b, x, dy, g.x(1), axis), undefined];
  },
});

/**
 * Scatter-adds dy [pre..., idx..., post...] back along `axis` of x, as one ScatterElements on
 * [P, I, Q] views (P, Q: the sizes before and after the axis merged; I: the indices flattened,
 * expanded over P and Q). Not ScatterND with reduction 'add': ONNX Runtime's CPU kernel splits
 * the updates over its threads and adds into the output without atomics, so with two or more
 * intra-op threads repeated indices (every bilinear warp, DeepDream's resize) lose updates at
 * random - a different gradient each run, and featviz --seed no longer reproducible. Its
 * ScatterElements adds in one ordered loop, as the MaxPool gradient already relies on.
 */
function scatterAlongAxis(b: GraphBuilder, x: string, dy: string, indices: string, axis: number): string {
  const xShape = b.op('Shape', [x]);
  const dyShape = b.op('Shape', [dy]);
  const rank = b.shapeOf(x).length;
  const idxRank = b.shapeOf(indices).length;
  const prod = (t: string, from: number, to: number): string =>
    from >= to ? b.ints([1]) : b.op('ReduceProd', [b.op('Slice', [t, b.ints([from]), b.ints([to])])], { keepdims: 1 });
  const p = prod(xShape, 0, axis);
  const n = prod(xShape, axis, axis + 1);
  const q = prod(xShape, axis + 1, rank);
  const i = prod(dyShape, axis, axis + idxRank);
  const view = b.op('Concat', [p, i, q], { axis: 0 });
  const updates = b.op('Reshape', [dy, view]);
  const idx = b.op('Expand', [b.op('Reshape', [indices, b.op('Concat', [b.ints([1]), i, b.ints([1])], { axis: 0 })]), view]);
  const target = b.op('ConstantOfShape', [b.op('Concat', [p, n, q], { axis: 0 })], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(0) } });
  const scattered = b.op('ScatterElements', [target, idx, updates], { axis: 1, reduction: 'add' });
  return b.op('Reshape', [scattered, xShape]);
}

for (const op of ['ScatterElements', 'ScatterND']) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      return [{ dtype: x.dtype, shape: [...x.shape] }];
    },
    noGradInputs: [1],
  });
}
