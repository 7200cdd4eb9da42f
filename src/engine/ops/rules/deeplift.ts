// DeepLIFT's Rescale rule (Shrikumar et al. 2017) as a rule set, the way Captum runs it: the
// batch holds the inputs in its first half and their references (baselines) in its second, and
// every element-wise nonlinearity passes the multiplier (y - y_ref) / (x - x_ref) instead of
// its derivative, falling back to the derivative where |x - x_ref| < eps. Linear ops (conv,
// dense, BatchNorm, pooling averages, additions) keep their gradient, which is their multiplier;
// max-pooling keeps its gradient too, routing the multiplier to the window's winner in the
// input's own forward pass, as Captum does for functional pools. Rows stay independent in the
// backward pass, so both halves may be seeded: the attribution is (x - x_ref) * the input
// rows' multipliers, and the reference rows' gradients are dropped.
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node } from '../../graph/ir.js';
import type { GradRule, OpDef, RuleSet } from '../registry.js';
import { ACTIVATIONS, standardBackward } from './common.js';

/** x minus the same value of the other half of the batch: input rows get x - x_ref, reference rows x_ref - x. */
function halfDifference(b: GraphBuilder, v: string): string {
  const rows = b.op('Slice', [b.op('Shape', [v]), b.ints([0]), b.ints([1])]);
  const half = b.op('Div', [rows, b.ints([2])]);
  const first = b.op('Slice', [v, b.ints([0]), half, b.ints([0])]);
  const second = b.op('Slice', [v, half, b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])]);
  return b.op('Sub', [v, b.op('Concat', [second, first], { axis: 0 })]);
}

function rescale(eps: number): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    const b = g.b;
    const dx = halfDifference(b, g.x(0));
    const dyv = halfDifference(b, g.y(0));
    const derivative = standardBackward(g, dy, [0])[0]!;
    const small = b.op('Less', [b.op('Abs', [dx]), b.scalar(eps)]);
    // The division's result is discarded where dx is small; dividing by 1 there keeps it finite.
    const safe = b.op('Where', [small, b.scalar(1), dx]);
    out[0] = b.op('Where', [small, derivative, b.op('Mul', [dy, b.op('Div', [dyv, safe])])]);
    return out;
  };
}

/** Captum's DeepLift default: eps = 1e-10. */
export function deepliftRuleSet(eps = 1e-10): RuleSet {
  const rule = rescale(eps);
  return {
    name: `deeplift-rescale:eps=${eps}`,
    ruleFor(node: Node, _def: OpDef): GradRule | undefined {
      return ACTIVATIONS.has(node.op) ? rule : undefined;
    },
  };
}
