import { normAxis, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrInt } from '../graph/ir.js';
import { sameShape } from './activation.js';
import { defineOp, type GradContext } from './registry.js';

// Softmax and LogSoftmax along one axis (opset 13 semantics; older files are rewritten to these
// on import). Both backward rules need one reduction along the axis, kept as keepdims=1 so the
// result broadcasts back without Expand.

/** Output shape = input shape, once the axis is checked against the input's rank. */
function sameShapeAlongAxis(ctx: InferContext): OutputFacts[] {
  const out = sameShape(ctx);
  normAxis(ctx.node, attrInt(ctx.node, 'axis', -1), ctx.need(0).shape.length);
  return out;
}

function softmaxAxis(g: GradContext): number {
  return normAxis(g.node, attrInt(g.node, 'axis', -1), g.b.shapeOf(g.x(0)).length);
}

function sumAlong(g: GradContext, t: string): string {
  return g.b.op('ReduceSum', [t, g.b.ints([softmaxAxis(g)])], { keepdims: 1 });
}

defineOp({
  type: 'Softmax',
  infer: sameShapeAlongAxis,
  // dx = y * (dy - sum(dy * y)): the Jacobian diag(y) - y y^T applied without forming it.
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined];
    const b = g.b;
    const y = g.y(0);
    return [b.op('Mul', [y, b.op('Sub', [dy, sumAlong(g, b.op('Mul', [dy, y]))])])];
  },
});

defineOp({
  type: 'LogSoftmax',
  infer: sameShapeAlongAxis,
  // dx = dy - softmax(x) * sum(dy), with softmax(x) = exp(y) (y <= 0, so Exp cannot overflow).
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined];
    const b = g.b;
    return [b.op('Sub', [dy, b.op('Mul', [b.op('Exp', [g.y(0)]), sumAlong(g, dy)])])];
  },
});
