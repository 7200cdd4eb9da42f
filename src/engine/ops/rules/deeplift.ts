// DeepLIFT's Rescale rule (Shrikumar et al. 2017) as a rule set, the way Captum runs it: the
// batch holds the inputs in its first half and their references (baselines) in its second (or,
// in the shared-reference layout, every row but the last against the last: DeepliftLayout), and
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
// and LRN are taken apart into those pieces (centering, the square, the mean, 1/sqrt, the
// product). Every step then passes on exactly its output difference, so ConvNeXt-,
// EfficientNet- and AlexNet-style nets keep summation-to-delta as ReLU nets do.
import type { GraphBuilder } from '../../graph/builder.js';
import { attrFloat, type Graph, type Node } from '../../graph/ir.js';
import { unbroadcast } from '../emit.js';
import { batchStats, layerNormAxes, lrnDenominatorBase, lrnParams, lrnWindowMean } from '../normalization.js';
import type { GradContext, GradRule, OpDef, RuleSet } from '../registry.js';
import { ACTIVATIONS, standardBackward, wantedInputs } from './common.js';

/** Element-wise functions of one varying input (a constant exponent for Pow) that rescale like the activations. */
const RESCALED = new Set([...ACTIVATIONS, 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Abs', 'Sin', 'Cos', 'Pow']);

/**
 * How the batch pairs inputs with references. `pairs` (Captum's): inputs in the first half,
 * each input's reference at the same place in the second. `shared-reference`: every row but the
 * last is an input and the last row is the reference of them all (one baseline for many images
 * costs one row instead of one per image; the reference row is its own partner).
 */
export type DeepliftLayout = 'pairs' | 'shared-reference';

interface Pairing {
  /** the input rows and the reference rows of a value */
  halves(b: GraphBuilder, v: string): [string, string];
  /** every row's partner: the other half's row (pairs), or the reference row (shared) */
  partner(b: GraphBuilder, v: string): string;
}

const PAIRS: Pairing = {
  halves(b, v) {
    const rows = b.op('Slice', [b.op('Shape', [v]), b.ints([0]), b.ints([1])]);
    const half = b.op('Div', [rows, b.ints([2])]);
    return [b.op('Slice', [v, b.ints([0]), half, b.ints([0])]), b.op('Slice', [v, half, b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])])];
  },
  partner(b, v) {
    const [first, second] = PAIRS.halves(b, v);
    return b.op('Concat', [second, first], { axis: 0 });
  },
};

/** `v`'s shape as a graph value: a constant when shape inference knows it, so ops on it keep static shapes. */
function shapeValue(b: GraphBuilder, v: string): string {
  const shape = b.shapeOf(v);
  return shape.every((d): d is number => typeof d === 'number') ? b.ints(shape) : b.op('Shape', [v]);
}

const SHARED: Pairing = {
  halves(b, v) {
    return [b.op('Slice', [v, b.ints([0]), b.ints([-1]), b.ints([0])]), b.op('Slice', [v, b.ints([-1]), b.ints([Number.MAX_SAFE_INTEGER]), b.ints([0])])];
  },
  partner(b, v) {
    return b.op('Expand', [SHARED.halves(b, v)[1], shapeValue(b, v)]);
  },
};

/** x minus its partner's value: input rows get x - x_ref (reference rows x_ref - x, or 0 when shared). */
function halfDifference(b: GraphBuilder, p: Pairing, v: string): string {
  return b.op('Sub', [v, p.partner(b, v)]);
}

/** (v + v_partner) / 2: the same on both rows of a pair. */
function pairMean(b: GraphBuilder, p: Pairing, v: string): string {
  return b.op('Mul', [b.op('Add', [v, p.partner(b, v)]), b.scalar(0.5)]);
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

function rescale(eps: number, p: Pairing): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    // a varying second operand (a Pow's exponent, a PRelu's slope) makes it no one-input function
    if (g.node.inputs.some((_, i) => i > 0 && varies(g, i))) return standardBackward(g, dy, wantedInputs(g));
    const b = g.b;
    const derivative = standardBackward(g, dy, [0])[0]!;
    out[0] = dividedOrFallback(b, b.op('Mul', [dy, halfDifference(b, p, g.y(0))]), halfDifference(b, p, g.x(0)), derivative, eps);
    return out;
  };
}

/**
 * QuantizeLinear: the rescale rule on the rounding itself, (q - q') / (x - x') with the codes as
 * reals, falling back to the straight-through estimate where x = x'. The DequantizeLinear after it
 * is linear, so its standard rule (times the scale) is already exact: the pair's multiplier is
 * (fq(x) - fq(x')) / (x - x'), which keeps DeepLIFT's summation to delta.
 */
function quantizeRescale(eps: number, p: Pairing): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    const b = g.b;
    const derivative = standardBackward(g, dy, [0])[0]!;
    const codes = b.op('Cast', [g.y(0)], { to: 1 });
    out[0] = dividedOrFallback(b, b.op('Mul', [dy, halfDifference(b, p, codes)]), halfDifference(b, p, g.x(0)), derivative, eps);
    return out;
  };
}

/** Captum's max-pool rule (see the top of the file), for MaxPool and GlobalMaxPool. */
function maxPoolRescale(eps: number, layout: DeepliftLayout): GradRule {
  return (g) => {
    const dy = g.dy(0);
    const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
    if (!dy || !g.wants(0)) return out;
    const b = g.b;
    const derivative = standardBackward(g, dy, [0])[0]!;
    if (layout === 'shared-reference') {
      out[0] = sharedReferenceMaxPool(g, dy, derivative, eps);
      return out;
    }
    const twice = (v: string): string => b.op('Concat', [v, v], { axis: 0 });
    const [x, xRef] = PAIRS.halves(b, g.x(0));
    const [y, yRef] = PAIRS.halves(b, g.y(0));
    const cross = b.op('Max', [y, yRef]);
    const share = b.op('Concat', [b.op('Sub', [cross, yRef]), b.op('Sub', [y, cross])], { axis: 0 });
    const routed = standardBackward(g, b.op('Mul', [dy, share]), [0])[0]!;
    const [fromInputs, fromReferences] = PAIRS.halves(b, routed);
    out[0] = dividedOrFallback(b, twice(b.op('Add', [fromInputs, fromReferences])), twice(b.op('Sub', [x, xRef])), derivative, eps);
    return out;
  };
}

/**
 * The same rule with one reference row for all inputs: each input's share of the reference side,
 * y_ref - max(y, y_ref), goes through the reference's winners, which a pool over the reference
 * repeated once per input routes (the pool's own backward, on that copy). The reference row
 * keeps its plain derivative: no attribution reads it.
 */
function sharedReferenceMaxPool(g: GradContext, dy: string, derivative: string, eps: number): string {
  const b = g.b;
  const [x, xRef] = SHARED.halves(b, g.x(0));
  const [y, yRef] = SHARED.halves(b, g.y(0));
  const [dyInputs, dyReference] = SHARED.halves(b, dy);
  const cross = b.op('Max', [y, yRef]);
  const inputShare = b.op('Mul', [dyInputs, b.op('Sub', [cross, yRef])]);
  const viaInputs = SHARED.halves(b, standardBackward(g, b.op('Concat', [inputShare, b.op('Mul', [dyReference, b.scalar(0)])], { axis: 0 }), [0])[0]!)[0];
  const repeated = b.op('Expand', [xRef, shapeValue(b, x)]);
  const pooled = b.uniqueName(`${g.node.name}_reference_pool`);
  const copy: Node = { ...g.node, name: b.uniqueName(`${g.node.name}_reference`), inputs: [repeated], outputs: [pooled] };
  b.addNode(copy);
  const viaReference = standardBackward(g, b.op('Mul', [dyInputs, b.op('Sub', [y, cross])]), [0], copy)[0]!;
  const [derivativeInputs, derivativeReference] = SHARED.halves(b, derivative);
  const inputs = dividedOrFallback(b, b.op('Add', [viaInputs, viaReference]), b.op('Sub', [x, xRef]), derivativeInputs, eps);
  return b.op('Concat', [inputs, derivativeReference], { axis: 0 });
}

/** Mul of two varying operands: each gets dy times the pair mean of the other (the Shapley split). */
function productRule(g: GradContext, p: Pairing): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy) return g.node.inputs.map(() => undefined);
  if (!(varies(g, 0) && varies(g, 1))) return standardBackward(g, dy, wantedInputs(g));
  const b = g.b;
  return [0, 1].map((i) => (g.wants(i) ? unbroadcast(b, b.op('Mul', [dy, pairMean(b, p, g.x(1 - i))]), g.x(i)) : undefined));
}

/** Div with a varying divisor: a / b as a * (1/b), 1/b's multiplier -1 / (b b'). */
function quotientRule(g: GradContext, p: Pairing): (string | undefined)[] {
  const dy = g.dy(0);
  const wanted = wantedInputs(g);
  if (!dy || !varies(g, 1)) return dy ? standardBackward(g, dy, wanted) : g.node.inputs.map(() => undefined);
  const b = g.b;
  const [a, d] = [g.x(0), g.x(1)];
  const out: (string | undefined)[] = [undefined, undefined];
  const numerator = varies(g, 0) ? pairMean(b, p, a) : a;
  if (g.wants(0)) out[0] = unbroadcast(b, b.op('Mul', [dy, pairMean(b, p, b.op('Reciprocal', [d]))]), a);
  if (g.wants(1)) out[1] = unbroadcast(b, b.op('Neg', [b.op('Div', [b.op('Mul', [dy, numerator]), b.op('Mul', [d, p.partner(b, d)])])]), d);
  return out;
}

/**
 * LayerNormalization taken apart: y = scale * u * r + bias with u = x - mean(x) and
 * r = 1 / sqrt(mean(u^2) + eps) over the normalized axes. The product u * r splits as above, r
 * rescales against the variance v (its derivative -r^3 / 2 where v equals v'), the square
 * passes (u + u'), the mean 1/n, and the centering subtracts its mean over the axes.
 */
function layerNormRule(eps: number, p: Pairing): GradRule {
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
    const viaR = sum(b.op('Mul', [gs, pairMean(b, p, u)]));
    const derivative = b.op('Mul', [b.op('Mul', [r, b.op('Mul', [r, r])]), b.scalar(-0.5)]);
    const small = b.op('Less', [b.op('Abs', [halfDifference(b, p, variance)]), b.scalar(eps)]);
    const slope = b.op('Where', [small, derivative, b.op('Div', [halfDifference(b, p, r), b.op('Where', [small, b.scalar(1), halfDifference(b, p, variance)])])]);
    const perElement = b.op('Div', [b.op('Mul', [viaR, slope]), count]);
    const mu = b.op('Add', [b.op('Mul', [gs, pairMean(b, p, r)]), b.op('Mul', [perElement, b.op('Add', [u, p.partner(b, u)])])]);
    grads[0] = b.op('Sub', [mu, mean(mu)]);
    return grads;
  };
}

/**
 * LRN taken apart the same way (Captum has no rule for it and would pass its gradient, leaving a
 * completeness gap): y = x * r with r = v^-beta, v = bias + alpha / size * (window sum of x^2).
 * The product splits as above, r rescales against v (its derivative -beta r / v where v equals
 * v'), the window sum is linear and the square passes (x + x'), so the attribution of every
 * element sums to the node's output difference.
 */
function lrnRule(eps: number, p: Pairing): GradRule {
  return (g) => {
    const dy = g.dy(0);
    if (!dy || !g.wants(0)) return [undefined];
    const b = g.b;
    const x = g.x(0);
    const params = lrnParams(g.node);
    const v = lrnDenominatorBase(b, x, params);
    const r = b.op('Pow', [v, b.scalar(-params.beta)]);
    const direct = b.op('Mul', [dy, pairMean(b, p, r)]);
    const viaR = b.op('Mul', [dy, pairMean(b, p, x)]);
    const dv = halfDifference(b, p, v);
    const small = b.op('Less', [b.op('Abs', [dv]), b.scalar(eps)]);
    const derivative = b.op('Div', [b.op('Mul', [r, b.scalar(-params.beta)]), v]);
    const slope = b.op('Where', [small, derivative, b.op('Div', [halfDifference(b, p, r), b.op('Where', [small, b.scalar(1), dv])])]);
    const perSquare = lrnWindowMean(b, b.op('Mul', [viaR, slope]), params, true);
    return [b.op('Add', [direct, b.op('Mul', [perSquare, b.op('Add', [x, p.partner(b, x)])])])];
  };
}

/**
 * Captum's DeepLift default: eps = 1e-10; `layout`: how the batch pairs inputs with references.
 * `model`: the graph the rules are for; nodes appended after it (a score picking each row's
 * target logit) keep their gradient. The shared layout needs it: there a row's partner is the
 * reference row, whose target is another row's, and the product rule would split the target
 * mask between the two.
 */
export function deepliftRuleSet(eps = 1e-10, layout: DeepliftLayout = 'pairs', model?: Graph): RuleSet {
  const modelValues = model && new Set(model.nodes.flatMap((n) => n.outputs.filter((o) => o)));
  const pairing = layout === 'pairs' ? PAIRS : SHARED;
  const rule = rescale(eps, pairing);
  const pool = maxPoolRescale(eps, layout);
  const layerNorm = layerNormRule(eps, pairing);
  const byOp: Record<string, GradRule> = { MaxPool: pool, GlobalMaxPool: pool, Mul: (g) => productRule(g, pairing), Div: (g) => quotientRule(g, pairing), LayerNormalization: layerNorm, LRN: lrnRule(eps, pairing), QuantizeLinear: quantizeRescale(eps, pairing) };
  return {
    name: `deeplift-rescale:eps=${eps}:maxpool:products${layout === 'pairs' ? '' : `:${layout}`}`,
    ruleFor(node: Node, _def: OpDef): GradRule | undefined {
      if (modelValues && !node.outputs.some((o) => o && modelValues.has(o))) return undefined;
      return byOp[node.op] ?? (RESCALED.has(node.op) ? rule : undefined);
    },
  };
}
