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
//
// Beyond Captum (whose other modules keep their gradients): the product of two values that
// both differ between input and reference (SiLU's x * sigmoid(x), GELU's x * (1 + erf),
// squeeze-and-excitation gates) splits its difference exactly as
// ab - a'b' = (b + b')/2 (a - a') + (a + a')/2 (b - b'), the two-player Shapley split; a
// quotient a / b divides as a * (1/b) with (1/b - 1/b') = -(b - b') / (b b'); further element-wise
// functions (erf, exp, log, square roots, powers by a constant) rescale; and LayerNormalization
// is taken apart into those pieces (centering, the square, the mean, 1/sqrt, the product). Every
// step then passes on exactly its output difference, so ConvNeXt- and EfficientNet-style nets
// keep summation-to-delta as ReLU nets do.
import type { GraphBuilder } from '../../graph/builder.js';
import { attrFloat, type Node } from '../../graph/ir.js';
import { unbroadcast } from '../emit.js';
import { batchStats, layerNormAxes } from '../normalization.js';
import type { GradContext, GradRule, OpDef, RuleSet } from '../registry.js';
import { ACTIVATIONS, standardBackward, wantedInputs } from './common.js';

/** Element-wise functions of one varying input (a constant exponent for Pow) that rescale like the activations. */
const RESCALED = new Set([...ACTIVATIONS, 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Abs', 'Sin', 'Cos', 'Pow']);

/** The two halves of the batch along axis 0: the inputs' rows, then the references'. */
function halves(b: GraphBuilder, v: string): [string, string] {
  const rows = b.op('Slice', [b.op('Shape', [v]), b.ints([0]), b.ints([1])]);
  const half = b.op('Div', [rows, b.ints([2])]);
  return [b.op('Slice', [v, b.ints([0]), half, b.ints([0])]), b.op('Slice', [v, half, b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])])];
}

/** The value with its halves swapped: every row paired with its partner's value. */
function partner(b: GraphBuilder, v: string): string {
  const [first, second] = halves(b, v);
  return b.op('Concat', [second, first], { axis: 0 });
}

/** x minus the same value of the other half of the batch: input rows get x - x_ref, reference rows x_ref - x. */
function halfDifference(b: GraphBuilder, v: string): string {
  return b.op('Sub', [v, partner(b, v)]);
}

/** (v + v_partner) / 2: the same on both rows of a pair. */
function pairMean(b: GraphBuilder, v: string): string {
  return b.op('Mul', [b.op('Add', [v, partner(b, v)]), b.scalar(0.5)]);
}

/**
 * Whether forward input i differs between the halves: not a known constant and carrying the
 * batch axis (a value without it, or of size 1 there, is the same for input and reference).
 */
function varies(g: GradContext, i: number): boolean {
  const name = g.node.inputs[i];
  if (!name || g.constant(i)) return false;
  const shape = g.facts(name).shape;
  const out = g.facts(g.y(0)).shape;
  return !!shape && !!out && shape.length === out.length && shape[0] !== 1 && shape[0] === out[0];
}

/** `numerator / dx`, or `fallback` where |dx| < eps (the division kept finite there). */
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
    // a varying second operand (a Pow's exponent, a PRelu's slope) makes it no one-input function
    if (g.node.inputs.some((_, i) => i > 0 && varies(g, i))) return standardBackward(g, dy, wantedInputs(g));
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

/** Mul of two varying operands: each gets dy times the pair mean of the other (the Shapley split). */
function productRule(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy) return g.node.inputs.map(() => undefined);
  if (!(varies(g, 0) && varies(g, 1))) return standardBackward(g, dy, wantedInputs(g));
  const b = g.b;
  return [0, 1].map((i) => (g.wants(i) ? unbroadcast(b, b.op('Mul', [dy, pairMean(b, g.x(1 - i))]), g.x(i)) : undefined));
}

/** Div with a varying divisor: a / b as a * (1/b), 1/b's multiplier -1 / (b b'). */
function quotientRule(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  const wanted = wantedInputs(g);
  if (!dy || !varies(g, 1)) return dy ? standardBackward(g, dy, wanted) : g.node.inputs.map(() => undefined);
  const b = g.b;
  const [a, d] = [g.x(0), g.x(1)];
  const out: (string | undefined)[] = [undefined, undefined];
  const numerator = varies(g, 0) ? pairMean(b, a) : a;
  if (g.wants(0)) out[0] = unbroadcast(b, b.op('Mul', [dy, pairMean(b, b.op('Reciprocal', [d]))]), a);
  if (g.wants(1)) out[1] = unbroadcast(b, b.op('Neg', [b.op('Div', [b.op('Mul', [dy, numerator]), b.op('Mul', [d, partner(b, d)])])]), d);
  return out;
}

/**
 * LayerNormalization taken apart: y = scale * u * r + bias with u = x - mean(x) and
 * r = 1 / sqrt(mean(u^2) + eps) over the normalized axes. The product u * r splits as above, r
 * rescales against the variance v (its derivative -r^3 / 2 where v equals v'), the square
 * passes (u + u'), the mean 1/n, and the centering subtracts its mean over the axes.
 */
function layerNormRule(eps: number): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const others = [1, 2].filter((i) => g.wants(i));
    const grads: (string | undefined)[] = others.length && dy ? standardBackward(g, dy, others) : [undefined, undefined, undefined];
    if (!dy || !g.wants(0) || g.dy(1) || g.dy(2)) {
      if (dy && g.wants(0)) grads[0] = standardBackward(g, dy, [0])[0];
      return grads;
    }
    const b = g.b;
    const x = g.x(0);
    const axes = layerNormAxes(g.node, b.shapeOf(x).length);
    const sum = (v: string): string => b.op('ReduceSum', [v, b.ints(axes)], { keepdims: 1 });
    const mean = (v: string): string => b.op('ReduceMean', [v], { axes, keepdims: 1 });
    const { centered: u, variance, inv: r, count } = batchStats(b, x, axes, attrFloat(g.node, 'epsilon', 1e-5));
    const gs = b.op('Mul', [dy, g.x(1)]);
    const viaR = sum(b.op('Mul', [gs, pairMean(b, u)]));
    const derivative = b.op('Mul', [b.op('Mul', [r, b.op('Mul', [r, r])]), b.scalar(-0.5)]);
    const small = b.op('Less', [b.op('Abs', [halfDifference(b, variance)]), b.scalar(eps)]);
    const slope = b.op('Where', [small, derivative, b.op('Div', [halfDifference(b, r), b.op('Where', [small, b.scalar(1), halfDifference(b, variance)])])]);
    const perElement = b.op('Div', [b.op('Mul', [viaR, slope]), count]);
    const mu = b.op('Add', [b.op('Mul', [gs, pairMean(b, r)]), b.op('Mul', [perElement, b.op('Add', [u, partner(b, u)])])]);
    grads[0] = b.op('Sub', [mu, mean(mu)]);
    return grads;
  };
}

/** Captum's DeepLift default: eps = 1e-10. */
export function deepliftRuleSet(eps = 1e-10): RuleSet {
  const rule = rescale(eps);
  const pool = maxPoolRescale(eps);
  const layerNorm = layerNormRule(eps);
  const byOp: Record<string, GradRule> = { MaxPool: pool, GlobalMaxPool: pool, Mul: productRule, Div: quotientRule, LayerNormalization: layerNorm };
  return {
    name: `deeplift-rescale:eps=${eps}:maxpool:products`,
    ruleFor(node: Node, _def: OpDef): GradRule | undefined {
      return byOp[node.op] ?? (RESCALED.has(node.op) ? rule : undefined);
    },
  };
}
