// DeepLIFT's Rescale rule (Shrikumar et al. 2017) as a rule set, the way Captum runs it: the
// batch holds the inputs in its first half and their references (baselines) in its second, and
// every element-wise nonlinearity passes the multiplier (y - y_ref) / (x - x_ref) instead of
// its derivative, falling back to the derivative where |x - x_ref| < eps. Linear ops (conv,
// dense, BatchNorm, pooling averages, additions) keep their gradient, which is their multiplier.
// Max-pooling takes Captum's rule for nn.MaxPool modules: each window's output difference is
// split at the cross maximum max(y, y_ref); the input rows route max(y, y_ref) - y_ref through
// their own winner, the reference rows y - max(y, y_ref) through theirs, and both halves get
// the sum over (x - x_ref). A window's multipliers then add up to its output difference, so
// pools keep DeepLIFT's summation-to-delta. (Captum's max_unpool writes one window's share over
// another's where overlapping windows pick the same winner; the routing here adds them, as the
// pool's gradient does.) Every row is seeded with its target, as Captum's expanded target does,
// and every rule treats both halves alike, so the reference rows carry the same multipliers as
// the input rows: the attribution is (x - x_ref) * the input rows' multipliers.
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node } from '../../graph/ir.js';
import type { GradRule, OpDef, RuleSet } from '../registry.js';
import { ACTIVATIONS, standardBackward } from './common.js';

/** The two halves of the batch along axis 0: the inputs' rows, then the references'. */
function halves(b: GraphBuilder, v: string): [string, string] {
  const rows = b.op('Slice', [b.op('Shape', [v]), b.ints([0]), b.ints([1])]);
  const half = b.op('Div', [rows, b.ints([2])]);
  return [b.op('Slice', [v, b.ints([0]), half, b.ints([0])]), b.op('Slice', [v, half, b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])])];
}

/** x minus the same value of the other half of the batch: input rows get x - x_ref, reference rows x_ref - x. */
function halfDifference(b: GraphBuilder, v: string): string {
  const [first, second] = halves(b, v);
  return b.op('Sub', [v, b.op('Concat', [second, first], { axis: 0 })]);
}

/** `dy * numerator / dx`, or `fallback` where |dx| < eps (the division kept finite there). */
function dividedOrFallback(b: GraphBuilder, numerator: string, dx: string, fallback: string, eps: number): string {
  const small = b.op('Less', [b.op('Abs', [dx]), b.scalar(eps)]);
  const safe = b.op('Where', [small, b.scalar(1), dx]);
  return b.op('Where', [small, fallback, b.op('Div', [numerator, safe])]);
}

function rescale(eps: number): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    const b = g.b;
    const derivative = standardBackward(g, dy, [0])[0]!;
    out[0] = dividedOrFallback(b, b.op('Mul', [dy, halfDifference(b, g.y(0))]), halfDifference(b, g.x(0)), derivative, eps);
    return out;
  };
}

/** Captum's max-pool rule (see the top of the file), for MaxPool and GlobalMaxPool. */
function maxPoolRescale(eps: number): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    const b = g.b;
    const twice = (v: string): string => b.op('Concat', [v, v], { axis: 0 });
    const [x, xRef] = halves(b, g.x(0));
    const [y, yRef] = halves(b, g.y(0));
    const cross = b.op('Max', [y, yRef]);
    const share = b.op('Concat', [b.op('Sub', [cross, yRef]), b.op('Sub', [y, cross])], { axis: 0 });
    const routed = standardBackward(g, b.op('Mul', [dy, share]), [0])[0]!;
    const [fromInputs, fromReferences] = halves(b, routed);
    const derivative = standardBackward(g, dy, [0])[0]!;
    out[0] = dividedOrFallback(b, twice(b.op('Add', [fromInputs, fromReferences])), twice(b.op('Sub', [x, xRef])), derivative, eps);
    return out;
  };
}

/** Captum's DeepLift default: eps = 1e-10. */
export function deepliftRuleSet(eps = 1e-10): RuleSet {
  const rule = rescale(eps);
  const pool = maxPoolRescale(eps);
  return {
    name: `deeplift-rescale:eps=${eps}:maxpool`,
    ruleFor(node: Node, _def: OpDef): GradRule | undefined {
      if (node.op === 'MaxPool' || node.op === 'GlobalMaxPool') return pool;
      return ACTIVATIONS.has(node.op) ? rule : undefined;
    },
  };
}
