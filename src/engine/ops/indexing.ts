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
    // Scatter-add dy rows back to the gathered positions; move the axis to the front for ScatterND.
    const idxRank = b.shapeOf(g.x(1)).length;
    const perm = axis === 0 ? undefined : [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
    const xT = perm ? b.op('Transpose', [x], { perm }) : x;
    let dyT = dy;
    if (perm) {
      // dy is [pre..., idx..., post...]; bring idx axes first, then pre, then post.
      const dyRank = rank - 1 + idxRank;
      const idxAxes = Array.from({ length: idxRank }, (_, i) => axis + i);
      const rest = Array.from({ length: dyRank }, (_, i) => i).filter((i) => !idxAxes.includes(i));
      dyT = b.op('Transpose', [dy], { perm: [...idxAxes, ...rest] });
    }
    const indices = b.op('Unsqueeze', [g.x(1), b.ints([-1])]);
    const scattered = b.op('ScatterND', [zerosLike(b, xT), indices, dyT], { reduction: 'add' });
    if (!perm) return [scattered, undefined];
    const inv = new Array<number>(rank);
    perm.forEach((p, i) => (inv[p] = i));
    return [b.op('Transpose', [scattered], { perm: inv }), undefined];
  },
});

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
