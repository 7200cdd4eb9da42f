import { broadcastShapes, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrInt } from '../graph/ir.js';
import { isFloatDType } from '../tensor.js';
import { floatMask, unbroadcast } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Elementwise arithmetic with numpy broadcasting, and unary math.

function broadcastInfer(ctx: InferContext): OutputFacts[] {
  const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.need(i));
  return [{ dtype: inputs[0]!.dtype, shape: broadcastShapes(ctx.node, inputs.map((f) => f.shape)) }];
}

/**
 * Div and Mod: integers divided by a constant zero are refused where the model loads. ONNX leaves
 * them undefined; ONNX Runtime refuses such a model when it compiles it, so every request on an
 * upload that loaded failed later, quoting ONNX Runtime's internals and a hint about ops it does not
 * implement, and a divisor ONNX Runtime does not see as constant would stop the process (SIGFPE).
 */
function divisionInfer(ctx: InferContext): OutputFacts[] {
  const facts = broadcastInfer(ctx);
  const divisor = ctx.value(1);
  if (divisor && !isFloatDType(divisor.dtype)) {
    const zero = Array.prototype.findIndex.call(divisor.data, (v: number | bigint) => v === 0 || v === 0n);
    if (zero >= 0) {
      const entry = divisor.data.length > 1 ? `entry ${zero} of its divisor "${ctx.node.inputs[1]}"` : `its divisor "${ctx.node.inputs[1]}"`;
      throw ctx.malformed(`divides ${divisor.dtype} values by zero (${entry}), which ONNX leaves undefined`);
    }
  }
  return facts;
}

function unaryInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}

/** Each wanted input gets `local(i)` (already shaped like the output) summed down to its own shape. */
function perInput(g: GradContext, local: (i: number, dy: string) => string): (string | undefined)[] {
  const dy = g.dy(0);
  return g.node.inputs.map((x, i) => (dy && g.wants(i) ? unbroadcast(g.b, local(i, dy), x) : undefined));
}

defineOp({ type: 'Add', infer: broadcastInfer, grad: (g) => perInput(g, (_, dy) => dy) });
defineOp({ type: 'Sum', infer: broadcastInfer, grad: (g) => perInput(g, (_, dy) => dy) });
defineOp({ type: 'Sub', infer: broadcastInfer, grad: (g) => perInput(g, (i, dy) => (i === 0 ? dy : g.b.op('Neg', [dy]))) });
defineOp({ type: 'Mul', infer: broadcastInfer, grad: (g) => perInput(g, (i, dy) => g.b.op('Mul', [dy, g.x(1 - i)])) });
defineOp({
  type: 'Div',
  infer: divisionInfer,
  // d(a/b)/da = 1/b; d(a/b)/db = -y/b
  grad: (g) => perInput(g, (i, dy) => (i === 0 ? g.b.op('Div', [dy, g.x(1)]) : g.b.op('Neg', [g.b.op('Div', [g.b.op('Mul', [dy, g.y(0)]), g.x(1)])]))),
});
defineOp({
  type: 'Pow',
  infer: (ctx) => {
    const a = ctx.need(0);
    const e = ctx.need(1);
    return [{ dtype: a.dtype, shape: broadcastShapes(ctx.node, [a.shape, e.shape]) }];
  },
  grad: (g) =>
    perInput(g, (i, dy) => {
      const b = g.b;
      if (i === 0) {
        // e * a^(e-1); float exponents only (integer powers come from exporters as float constants too)
        const e = g.x(1);
        return b.op('Mul', [dy, b.op('Mul', [e, b.op('Pow', [g.x(0), b.op('Sub', [e, b.scalar(1)])])])]);
      }
      return b.op('Mul', [dy, b.op('Mul', [g.y(0), b.op('Log', [g.x(0)])])]);
    }),
});
// Mod: a - b * q, q = floor(a / b) (fmod=0, the divisor's sign) or trunc(a / b) (fmod=1, C's
// fmod). Exporters write it for shape arithmetic (Swin's window padding, (w - W % w) % w), where
// its facts are what later shapes fold from; on floats q is piecewise constant, so
// d/da = dy and d/db = -q dy.
defineOp({
  type: 'Mod',
  infer: divisionInfer,
  grad: (g) =>
    perInput(g, (i, dy) => {
      if (i === 0) return dy;
      const b = g.b;
      const ratio = b.op('Div', [g.x(0), g.x(1)]);
      const q = attrInt(g.node, 'fmod', 0) === 1 ? b.op('Mul', [b.op('Sign', [ratio]), b.op('Floor', [b.op('Abs', [ratio])])]) : b.op('Floor', [ratio]);
      return b.op('Neg', [b.op('Mul', [dy, q])]);
    }),
});
defineOp({
  type: 'Mean',
  infer: broadcastInfer,
  grad: (g) => perInput(g, (_, dy) => g.b.op('Mul', [dy, g.b.scalar(1 / g.node.inputs.length)])),
});
for (const op of ['Max', 'Min']) {
  defineOp({
    type: op,
    infer: broadcastInfer,
    // The winner of each element gets the gradient; exact ties share it evenly, as PyTorch's
    // maximum/minimum do (a ReLU written as Max(x, 0) ties at every zero).
    grad: (g) => {
      const b = g.b;
      const dy = g.dy(0);
      if (!dy) return g.node.inputs.map(() => undefined);
      const hits = g.node.inputs.map((x) => floatMask(b, b.op('Equal', [x, g.y(0)])));
      const share = hits.length === 1 ? dy : b.op('Div', [dy, hits.length === 2 ? b.op('Add', [hits[0]!, hits[1]!]) : b.op('Sum', hits)]);
      return perInput(g, (i) => b.op('Mul', [share, hits[i]!]));
    },
  });
}

defineOp({
  type: 'CastLike',
  infer: (ctx) => {
    const x = ctx.need(0);
    return [{ dtype: ctx.need(1).dtype, shape: [...x.shape] }];
  },
  noGradInputs: [1],
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && g.b.op('CastLike', [dy, g.x(0)]), undefined];
  },
});

const unary = (type: string, rule: (g: GradContext, dy: string) => string): void =>
  defineOp({
    type,
    infer: unaryInfer,
    grad: (g) => {
      const dy = g.dy(0);
      return [dy && rule(g, dy)];
    },
  });

unary('Neg', (g, dy) => g.b.op('Neg', [dy]));
unary('Abs', (g, dy) => g.b.op('Mul', [dy, g.b.op('Sign', [g.x(0)])]));
unary('Exp', (g, dy) => g.b.op('Mul', [dy, g.y(0)]));
unary('Log', (g, dy) => g.b.op('Div', [dy, g.x(0)]));
unary('Sqrt', (g, dy) => g.b.op('Div', [dy, g.b.op('Mul', [g.y(0), g.b.scalar(2)])]));
unary('Reciprocal', (g, dy) => g.b.op('Neg', [g.b.op('Mul', [dy, g.b.op('Mul', [g.y(0), g.y(0)])])]));
unary('Sin', (g, dy) => g.b.op('Mul', [dy, g.b.op('Cos', [g.x(0)])]));
unary('Cos', (g, dy) => g.b.op('Neg', [g.b.op('Mul', [dy, g.b.op('Sin', [g.x(0)])])]));
unary('Erf', (g, dy) => {
  const b = g.b;
  const x = g.x(0);
  const gauss = b.op('Exp', [b.op('Neg', [b.op('Mul', [x, x])])]);
  return b.op('Mul', [dy, b.op('Mul', [gauss, b.scalar(2 / Math.sqrt(Math.PI))])]);
});
for (const op of ['Sign', 'Floor', 'Ceil', 'Round', 'IsNaN', 'IsInf']) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      return [{ dtype: op.startsWith('Is') ? 'bool' : x.dtype, shape: [...x.shape] }];
    },
    nonDifferentiable: true,
  });
}
