import type { GraphBuilder } from '../graph/builder.js';
import { broadcastShapes, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrFloat } from '../graph/ir.js';
import { toNumbers } from '../tensor.js';
import { floatMask, unbroadcast } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Activations. ReLU (and a Clip at 0, ReLU6's export) carries the rule-set variants that define
// guided backprop and deconvnet.

export function sameShape(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}

/**
 * dy where the forward input was positive: Mul by a 0/1 mask stays on ONNX Runtime's fast kernels.
 * The mask reads the output (y > 0 exactly where x > 0): reading x would give the producer of x
 * a second consumer, and ORT fuses a Conv with the Relu after it only when the Relu is the Conv's
 * one consumer.
 */
function reluMasked(g: GradContext, dy: string): string {
  const b = g.b;
  return b.op('Mul', [dy, floatMask(b, b.op('Greater', [g.y(0), b.scalar(0)]))]);
}

defineOp({
  type: 'Relu',
  infer: sameShape,
  grad: (g) => {
    const dy = g.dy(0);
    return [dy && reluMasked(g, dy)];
  },
  variants: {
    // Springenberg et al.: only positive upstream gradient, only where the input was positive.
    guided: (g) => {
      const dy = g.dy(0);
      return [dy && reluMasked(g, g.b.op('Relu', [dy]))];
    },
    // Zeiler & Fergus: the backward ReLU rectifies the upstream signal and ignores the forward mask.
    deconvnet: (g) => {
      const dy = g.dy(0);
      return [dy && g.b.op('Relu', [dy])];
    },
  },
});

// ---------------------------------------------------------------- other activations
//
// Backward formulations keep to what ONNX Runtime runs fast (docs/engine-notes.md): 0/1 masks
// as Cast(compare) multiplied in, no Sign/Expand, no variadic Sum with broadcast scalars. Where
// the choice was open, candidates were timed as standalone backward graphs on [8, 64, 56, 56]
// float32 (onnxruntime-node 1.30, 1 intra-op thread, min of 8 x 15 runs on a 2-core machine
// shared with other jobs: the minimum is the figure least disturbed by them). For scale:
// Mul(dy, 1) alone took 2.9 ms and the ReLU rule 4.9 ms. At kinks the rules take PyTorch's
// one-sided derivative, so results match autograd there too.

/** A unary op whose backward maps dy (and the forward values) to dx. */
function unaryRule(type: string, rule: (g: GradContext, dy: string) => string): void {
  defineOp({
    type,
    infer: sameShape,
    grad: (g) => {
      const dy = g.dy(0);
      return [dy && g.wants(0) ? rule(g, dy) : undefined];
    },
  });
}

/** Cast(x > 0) as float: the forward branch taken, with x == 0 on the negative side as in PyTorch. */
function positive(g: GradContext): string {
  return floatMask(g.b, g.b.op('Greater', [g.x(0), g.b.scalar(0)]));
}

/**
 * mask + slope * (1 - mask), written as mask * (1 - slope) + slope: one Mul and one Add on the
 * mask, and `slope` may be a tensor that broadcasts (PRelu).
 */
function blend(b: GraphBuilder, mask: string, oneMinusSlope: string, slope: string): string {
  return b.op('Add', [b.op('Mul', [mask, oneMinusSlope]), slope]);
}

// LeakyRelu: the mask blend took 6.9 ms, Mul(dy, Where(x > 0, 1, alpha)) 7.2 ms,
// Where(x > 0, dy, alpha * dy) 8.3 ms.
unaryRule('LeakyRelu', (g, dy) => {
  const alpha = attrFloat(g.node, 'alpha', 0.01);
  return g.b.op('Mul', [dy, blend(g.b, positive(g), g.b.scalar(1 - alpha), g.b.scalar(alpha))]);
});

defineOp({
  type: 'PRelu',
  infer: (ctx) => {
    const x = ctx.need(0);
    const s = ctx.need(1);
    // Unidirectional: the slope broadcasts to X, never the other way round.
    const out = broadcastShapes(ctx.node, [x.shape, s.shape]);
    const ok = out.length === x.shape.length && out.every((d, i) => d === x.shape[i] || typeof x.shape[i] !== 'number');
    if (!ok) throw ctx.malformed(`slope [${s.shape.join(', ')}] does not broadcast to X [${x.shape.join(', ')}]`, 'Give the slope shape [C, 1, 1], [1] or a scalar.');
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy) return [undefined, undefined];
    const b = g.b;
    const slope = g.x(1);
    const dx = g.wants(0) ? b.op('Mul', [dy, blend(b, positive(g), b.op('Sub', [b.scalar(1), slope]), slope)]) : undefined;
    // d/dslope is x where x < 0, else 0: Min(x, 0), one op instead of a mask and a Mul.
    const ds = g.wants(1) ? unbroadcast(b, b.op('Mul', [dy, b.op('Min', [g.x(0), b.scalar(0)])]), slope) : undefined;
    return [dx, ds];
  },
});

// Elu: dy/dx is 1 for x > 0 and alpha * e^x = y + alpha for x <= 0, i.e.
// mask * (1 - alpha) + alpha + Min(y, 0). With alpha = 1 (PyTorch's default) the mask terms
// vanish: Min(y, 0) + 1 (3.8 ms beyond the forward, vs 7.2 ms for the general form with Adds,
// 7.3 ms with Where, 12 ms when the three terms go through one broadcasting Sum).
unaryRule('Elu', (g, dy) => {
  const b = g.b;
  const alpha = attrFloat(g.node, 'alpha', 1);
  const negSide = b.op('Min', [g.y(0), b.scalar(0)]);
  const local = alpha === 1 ? b.op('Add', [negSide, b.scalar(1)]) : b.op('Add', [blend(b, positive(g), b.scalar(1 - alpha), b.scalar(alpha)), negSide]);
  return b.op('Mul', [dy, local]);
});

// Sigmoid and Tanh reuse the forward output: y(1 - y) and 1 - y^2 (7.5 ms; (dy*y) - (dy*y)*y 8.2 ms).
unaryRule('Sigmoid', (g, dy) => g.b.op('Mul', [dy, g.b.op('Mul', [g.y(0), g.b.op('Sub', [g.b.scalar(1), g.y(0)])])]));
unaryRule('Tanh', (g, dy) => g.b.op('Mul', [dy, g.b.op('Sub', [g.b.scalar(1), g.b.op('Mul', [g.y(0), g.y(0)])])]));

defineOp({
  type: 'Clip',
  infer: (ctx) => {
    for (const i of [1, 2]) {
      const bound = ctx.input(i);
      if (bound?.shape && bound.shape.some((d) => d !== 1)) throw ctx.malformed(`${i === 1 ? 'min' : 'max'} must be a scalar, got shape [${bound.shape.join(', ')}]`);
    }
    return sameShape(ctx);
  },
  // Passes strictly inside (min, max), as PyTorch's hardtanh/ReLU6 backward: 0 at a bound.
  // And of the two compares, then one Cast: 6.2 ms; two Casts multiplied 8.8 ms,
  // Cast(|x - c| < r) 7.3 ms, Where 7.6 ms.
  grad: (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined];
    return [clipPassed(g, dy)];
  },
  // A clip at 0 is a rectifier (ReLU6 exports as Clip(x, 0, 6)), so the rectifier rules apply
  // to it: MobileNetV2's guided backprop is guided. Captum and pytorch-grad-cam replace only
  // nn.ReLU modules, so theirs is MobileNetV2's plain gradient. Other clips keep the gradient.
  variants: {
    guided: (g) => {
      const dy = g.dy(0);
      if (!dy || !g.wants(0)) return [undefined];
      return [clipPassed(g, isRectifyingClip(g) ? g.b.op('Relu', [dy]) : dy)];
    },
    deconvnet: (g) => {
      const dy = g.dy(0);
      if (!dy || !g.wants(0)) return [undefined];
      return [isRectifyingClip(g) ? g.b.op('Relu', [dy]) : clipPassed(g, dy)];
    },
  },
  noGradInputs: [1, 2],
});

/** dy where the forward input was strictly inside the clip's bounds. */
function clipPassed(g: GradContext, dy: string): string {
  const b = g.b;
  const x = g.x(0);
  const conds: string[] = [];
  if (g.node.inputs[1]) conds.push(b.op('Greater', [x, g.x(1)]));
  if (g.node.inputs[2]) conds.push(b.op('Less', [x, g.x(2)]));
  if (conds.length === 0) return dy;
  const cond = conds.length === 2 ? b.op('And', conds) : conds[0]!;
  return b.op('Mul', [dy, floatMask(b, cond)]);
}

/** A Clip whose lower bound is the constant 0: a (capped) ReLU. */
function isRectifyingClip(g: GradContext): boolean {
  if (!g.node.inputs[1]) return false;
  const min = g.constant(1);
  if (!min) return false;
  const values = toNumbers(min);
  return values.length === 1 && values[0] === 0;
}

// HardSigmoid: alpha where 0 < alpha*x + beta < 1 (strict, as PyTorch). Tested on y, which is
// exactly the clipped value, so the mask agrees with the forward for either sign of alpha.
unaryRule('HardSigmoid', (g, dy) => {
  const b = g.b;
  const y = g.y(0);
  const inside = b.op('And', [b.op('Greater', [y, b.scalar(0)]), b.op('Less', [y, b.scalar(1)])]);
  return b.op('Mul', [dy, b.op('Mul', [floatMask(b, inside), b.scalar(attrFloat(g.node, 'alpha', 0.2))])]);
});

// HardSwish: y = x * hs(x) with hs = HardSigmoid(1/6, 1/2), so dy/dx = hs(x) + x/6 on |x| < 3
// and hs(x) (0 or 1) outside: one HardSigmoid plus a mask, 10.7 ms, vs a nested Where 14.1 ms
// and Clip(x, -3, 3)/3 + 1/2 corrected by two masks 15.8 ms.
unaryRule('HardSwish', (g, dy) => {
  const b = g.b;
  const x = g.x(0);
  const hs = b.op('HardSigmoid', [x], { alpha: 1 / 6, beta: 0.5 });
  const mid = floatMask(b, b.op('Less', [b.op('Abs', [x]), b.scalar(3)]));
  return b.op('Mul', [dy, b.op('Add', [hs, b.op('Mul', [b.op('Mul', [x, b.scalar(1 / 6)]), mid])])]);
});

// Softplus' derivative is the logistic function of x: one fused kernel.
unaryRule('Softplus', (g, dy) => g.b.op('Mul', [dy, g.b.op('Sigmoid', [g.x(0)])]));

// Softsign: dy / (1 + |x|)^2 (6.5 ms; through Reciprocal and Mul 7.1 ms). From x rather than
// (1 - |y|)^2, which cancels when |x| is large.
unaryRule('Softsign', (g, dy) => {
  const b = g.b;
  const d = b.op('Add', [b.op('Abs', [g.x(0)]), b.scalar(1)]);
  return b.op('Div', [dy, b.op('Mul', [d, d])]);
});
