import type { InferContext, OutputFacts } from '../graph/facts.js';
import { floatMask } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Activations. ReLU carries the rule-set variants that define guided backprop and deconvnet.

export function sameShape(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}

/** dy where the forward input was positive: Mul by a 0/1 mask stays on ONNX Runtime's fast kernels. */
function reluMasked(g: GradContext, dy: string): string {
  const b = g.b;
  return b.op('Mul', [dy, floatMask(b, b.op('Greater', [g.x(0), b.scalar(0)]))]);
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
