import type { GraphBuilder } from '../graph/builder.js';
import { attrInt } from '../graph/ir.js';
import { dimsOfInput, normAxis } from '../graph/facts.js';
import { zerosLike } from './emit.js';
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
    const indices = b.op('Unsqueeze', [g.x(1), b.ints([-1])]);
    if (axis === 0) return [b.op('ScatterND', [zerosLike(b, x), indices, dy], { reduction: 'add' }), undefined];
    return [scatterAlongAxis(b, x, dy, indices, axis, b.shapeOf(g.x(1)).length), undefined];
  },
});

/**
 * Scatter-adds dy [pre..., idx..., post...] back along `axis` of x: ScatterND works on the
 * first axis, so the gathered axis goes first. With static sizes the axes before and after it
 * are merged (x as [n, P, Q], dy moved as [P, idx..., Q] -> [idx..., P, Q]), so ONNX Runtime moves
 * one axis of a 3- or 4-axis tensor instead of permuting many: for the bilinear warp of feature
 * visualization ([8, 3, 4, 50176] -> [4, 50176, 24]) a few ms instead of ~25, a tenth of a
 * SqueezeNet step. The merged dy goes straight into the scatter, leaving ORT no Reshape on both
 * sides of the Transpose to fold back into the many-axis permutation.
 */
function scatterAlongAxis(b: GraphBuilder, x: string, dy: string, indices: string, axis: number, idxRank: number): string {
  const xDims = b.shapeOf(x);
  const dyDims = b.shapeOf(dy);
  const rank = xDims.length;
  if (!xDims.every((d): d is number => typeof d === 'number') || !dyDims.every((d): d is number => typeof d === 'number')) {
    const perm = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
    const idxAxes = Array.from({ length: idxRank }, (_, i) => axis + i);
    const rest = Array.from({ length: dyDims.length }, (_, i) => i).filter((i) => !idxAxes.includes(i));
    const scattered = b.op('ScatterND', [zerosLike(b, b.op('Transpose', [x], { perm })), indices, b.op('Transpose', [dy], { perm: [...idxAxes, ...rest] })], { reduction: 'add' });
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    return b.op('Transpose', [scattered], { perm: inv });
  }
  const product = (ds: readonly number[]): number => ds.reduce((p, q) => p * q, 1);
  const p = product(xDims.slice(0, axis));
  const q = product(xDims.slice(axis + 1));
  const idx = dyDims.slice(axis, axis + idxRank);
  const tail = q === 1 ? [] : [q];
  const moved = b.op('Transpose', [b.op('Reshape', [dy, b.ints([p, ...idx, ...tail])])], { perm: [...idx.map((_, i) => i + 1), 0, ...tail.map(() => idxRank + 1)] });
  const target = b.op('ConstantOfShape', [b.ints([xDims[axis]!, p, ...tail])], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(0) } });
  const scattered = b.op('ScatterND', [target, indices, moved], { reduction: 'add' });
  return b.op('Reshape', [b.op('Transpose', [scattered], { perm: [1, 0, ...tail.map(() => 2)] }), b.ints(xDims)]);
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
