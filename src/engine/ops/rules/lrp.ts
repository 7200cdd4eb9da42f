// Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019) as a rule set of the
// autodiff. The signal the backward pass carries is relevance itself: each op maps the relevance
// of its output onto its inputs, so the "gradient" at the input is the relevance map. Rules are
// data (zennit's design): a composite maps layer kinds to rules, and every rule reuses the op's
// standard backward rule for the transposed product (modified-gradient view, Ancona et al. 2018).
//
//   epsilon    R_in = x * W^T (R / stab(z)),           z = W x + b
//   gamma      Captum: W' = W + g W+ (bias unchanged), R_in = x * W'^T (R / stab(W' x + b))
//              zennit: positive and negative outputs separately, weights and bias boosted
//   zplus      R_in = x+ * W+^T s + x- * W-^T s,       s = R / stab(W+ x+ + W- x- + b+)
//   flat       R_in = 1^T (R / stab(1 * 1))            (weights and inputs set to one)
//   zbox       R_in = x * W^T s - L * W+^T s - H * W-^T s,  s = R / stab(W x - W+ L - W- H)
//   ReLU and other activations pass relevance through, so do QDQ rounding pairs, and so does LRN (a positive rescaling
//   of each element by its channel neighbourhood: the identity rule Binder et al. 2016 list for
//   local renormalization layers, which the LRP toolbox applies to Caffe's AlexNet/GoogLeNet), and so does a product with a gate (SiLU,
//   GELU, squeeze-and-excitation), the gate taking none; LayerNorm is linear with its standard
//   deviation held fixed (epsilon rule); max-pooling routes it to the winner;
//   average pools, reductions, additions and un-folded BatchNorm split it by contribution
//   (x * grad(R / stab(y))); a BatchNorm right after a Conv/Gemm is folded into that layer's
//   weights, so the layer's rule sees the combined affine map (zennit's canonizer).
import { ConvLensError } from '../../errors.js';
import type { GraphBuilder } from '../../graph/builder.js';
import { attrFloat, attrInt, type Graph, type Node } from '../../graph/ir.js';
import { nonNegativeValues } from '../../graph/sign.js';
import { mapFloat32, type Tensor } from '../../tensor.js';
import { unbroadcast } from '../emit.js';
import { batchStats, layerNormAxes } from '../normalization.js';
import { findOp, type GradContext, type GradRule, type OpDef, type RuleSet } from '../registry.js';
import { dequantize } from '../../reference/kernels/quantize.js';
import { ACTIVATIONS, QUANTIZATION, stabilize, standardBackward, wantedInputs } from './common.js';

export type LrpRule =
  | { rule: 'epsilon'; epsilon: number }
  /** 'captum': weights boosted, bias kept, one term; 'zennit': generalized gamma, weights and bias boosted */
  | { rule: 'gamma'; gamma: number; epsilon: number; flavor: 'captum' | 'zennit' }
  | { rule: 'zplus'; epsilon: number }
  | { rule: 'flat'; epsilon: number }
  /** bounds per input channel (or one for all) in model input space */
  | { rule: 'zbox'; low: readonly number[]; high: readonly number[]; epsilon: number };

/** Rules as data: which rule each kind of layer gets. */
export interface LrpComposite {
  /** identifies the composite and its parameters (compiled graphs are cached by it) */
  name: string;
  conv: LrpRule;
  dense: LrpRule;
  /** the first Conv (and, if given, the first dense layer when it comes first) in graph order */
  firstConv?: LrpRule;
  firstLinear?: LrpRule;
  /** stabilizer of the proportional rules (additions, average pools, un-folded BatchNorm) */
  normEpsilon: number;
}

export const LRP_COMPOSITES = ['epsilon', 'epsilon-gamma', 'epsilon-plus-flat', 'epsilon-gamma-box'] as const;
export type LrpCompositeName = (typeof LRP_COMPOSITES)[number];

export interface LrpParams {
  /** epsilon of the epsilon rule (default: 1e-9 for the Captum composites, 1e-6 for zennit's) */
  epsilon?: number;
  /** gamma of the gamma rule (default 0.25, both libraries) */
  gamma?: number;
  /** z^B bounds of the first layer, per channel */
  low?: readonly number[];
  high?: readonly number[];
}

/**
 * The named composites. `epsilon` and `epsilon-gamma` follow Captum's EpsilonRule and GammaRule
 * (stabilizer 1e-9, gamma boosts weights only); `epsilon-plus-flat` and `epsilon-gamma-box`
 * follow zennit's EpsilonPlusFlat and EpsilonGammaBox (stabilizer 1e-6, zennit's Gamma and ZPlus).
 */
export function lrpComposite(name: LrpCompositeName, p: LrpParams = {}): LrpComposite {
  const zennit = name === 'epsilon-plus-flat' || name === 'epsilon-gamma-box';
  const epsilon = p.epsilon ?? (zennit ? 1e-6 : 1e-9);
  const gamma = p.gamma ?? 0.25;
  const normEpsilon = zennit ? 1e-6 : 1e-9;
  const eps: LrpRule = { rule: 'epsilon', epsilon };
  const tag = `lrp:${name}:eps=${epsilon}:gamma=${gamma}`;
  switch (name) {
    case 'epsilon':
      return { name: tag, conv: eps, dense: eps, normEpsilon };
    case 'epsilon-gamma':
      return { name: tag, conv: { rule: 'gamma', gamma, epsilon: 1e-9, flavor: 'captum' }, dense: eps, normEpsilon };
    case 'epsilon-plus-flat':
      return { name: tag, conv: { rule: 'zplus', epsilon: 1e-6 }, dense: eps, firstLinear: { rule: 'flat', epsilon: 1e-6 }, normEpsilon };
    case 'epsilon-gamma-box': {
      if (!p.low || !p.high) throw new ConvLensError('INVALID_ARGUMENT', 'The epsilon-gamma-box composite needs the input bounds (low, high) for its first layer.', 'Give the model preprocessing (pixel range, mean, std) or the bounds.');
      const box: LrpRule = { rule: 'zbox', low: p.low, high: p.high, epsilon: 1e-6 };
      return { name: `${tag}:low=${p.low.join(',')}:high=${p.high.join(',')}`, conv: { rule: 'gamma', gamma, epsilon: 1e-6, flavor: 'zennit' }, dense: eps, firstConv: box, normEpsilon };
    }
    default:
      throw new ConvLensError('INVALID_ARGUMENT', `Unknown LRP composite "${name as string}".`, `Use one of: ${LRP_COMPOSITES.join(', ')}.`);
  }
}

// ------------------------------------------------------------------ graph analysis

/** A Conv / Gemm / MatMul with constant weights, with a following BatchNorm folded in. */
interface LinearLayer {
  node: Node;
  kind: 'conv' | 'dense';
  weight: Tensor;
  bias?: Tensor;
  /** the value whose relevance the layer's rule receives and divides by (the BN output when folded) */
  output: string;
}

/** Ops whose standard gradient moves relevance without changing it (layout, routing, selection). */
const ROUTING = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Concat', 'Split', 'Slice', 'Gather', 'Pad', 'MaxPool', 'GlobalMaxPool', 'ReduceMax', 'Resize', 'Cast', 'Expand', 'Tile', 'DepthToSpace', 'SpaceToDepth']);
/** Ops between a gate's Sigmoid and the product it scales. */
const GATE_PASS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Expand', 'Cast']);
/** Ops that split relevance by each input's contribution: x * grad(R / stab(y)). */
const PROPORTIONAL = new Set(['Add', 'Sub', 'Sum', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'ReduceSum']);

const f32 = (dims: readonly number[], data: Float32Array): Tensor => ({ dtype: 'float32', dims: [...dims], data });

function floatData(t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32') throw new ConvLensError('MODEL_UNSUPPORTED', `LRP needs float32 weights; ${what} is ${t.dtype}.`, 'Convert the model to float32 for LRP, or use a gradient method such as integrated-gradients.');
  return t.data as Float32Array;
}

/** Output channel of element i of a weight tensor, per the op's layout. */
function outChannelOf(node: Node, w: Tensor): (i: number) => number {
  if (node.op === 'Conv') {
    const per = w.data.length / w.dims[0]!;
    return (i) => Math.floor(i / per);
  }
  const transB = node.op === 'Gemm' && attrInt(node, 'transB', 0) === 1;
  const cols = w.dims[1]!;
  return transB ? (i) => Math.floor(i / cols) : (i) => i % cols;
}

/** Finds the linear layers and the BatchNorms folded into them. */
function analyze(graph: Graph): { layers: Map<string, LinearLayer>; folded: Set<string>; firstConv?: string; firstLinear?: string } {
  const consumers = new Map<string, Node[]>();
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    for (const o of n.outputs) if (o) producer.set(o, n);
  }
  const constant = (name: string | undefined): Tensor | undefined => {
    if (!name) return undefined;
    const init = graph.initializers.get(name);
    if (init) return init;
    const p = producer.get(name);
    if (p?.op === 'DequantizeLinear') {
      // a QDQ model's int8 weights: the layer's rule needs their float values
      const [codes, scale, zero] = [0, 1, 2].map((i) => constant(p.inputs[i]));
      return codes && scale && (zero || !p.inputs[2]) ? dequantize(p, codes, scale, zero) : undefined;
    }
    const v = p?.op === 'Constant' ? p.attrs['value'] : undefined;
    return v && v.type === 'tensor' ? v.value : undefined;
  };
  const layers = new Map<string, LinearLayer>();
  const folded = new Set<string>();
  let firstConv: string | undefined;
  let firstLinear: string | undefined;
  for (const n of graph.nodes) {
    if (n.domain) continue;
    const isConv = n.op === 'Conv';
    const isDense = (n.op === 'Gemm' && attrInt(n, 'transA', 0) === 0) || n.op === 'MatMul';
    if (!isConv && !isDense) continue;
    const weight = constant(n.inputs[1]);
    if (!weight) continue;
    if (isDense && weight.dims.length !== 2) continue;
    let bias = n.op === 'MatMul' ? undefined : constant(n.inputs[2]);
    if (bias && n.op === 'Gemm') {
      const beta = attrFloat(n, 'beta', 1);
      const m = isConv ? weight.dims[0]! : attrInt(n, 'transB', 0) ? weight.dims[0]! : weight.dims[1]!;
      if (bias.data.length !== m) continue; // a bias broadcast over rows is not a per-output bias
      if (beta !== 1) bias = f32([m], Float32Array.from(floatData(bias, `bias of ${n.name}`), (v) => v * beta));
    }
    let output = n.outputs[0]!;
    let w = weight;
    const next = consumers.get(output);
    const bn = next?.length === 1 && next[0]!.op === 'BatchNormalization' && attrInt(next[0]!, 'training_mode', 0) === 0 ? next[0]! : undefined;
    const bnParams = bn ? [1, 2, 3, 4].map((i) => constant(bn.inputs[i])) : [];
    if (bn && bnParams.every((t) => t)) {
      // y = k (W x + b - mean) + beta with k = scale / sqrt(var + eps): one affine map.
      const [scale, shift, mean, variance] = bnParams.map((t) => floatData(t!, `BatchNorm "${bn.name}"`)) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const eps = attrFloat(bn, 'epsilon', 1e-5);
      const k = Float64Array.from(scale, (s, c) => s / Math.sqrt(variance[c]! + eps));
      const channel = outChannelOf(n, weight);
      const wd = floatData(weight, `weight of ${n.name}`);
      w = f32(weight.dims, mapFloat32(wd, (v, i) => v * k[channel(i)]!));
      const bd = bias ? floatData(bias, `bias of ${n.name}`) : undefined;
      bias = f32([k.length], Float32Array.from(k, (kc, c) => ((bd?.[c] ?? 0) - mean[c]!) * kc + shift[c]!));
      output = bn.outputs[0]!;
      folded.add(bn.name);
    }
    layers.set(n.name, { node: n, kind: isConv ? 'conv' : 'dense', weight: w, ...(bias ? { bias } : {}), output });
    if (isConv && firstConv === undefined) firstConv = n.name;
    if (firstLinear === undefined) firstLinear = n.name;
  }
  return { layers, folded, ...(firstConv !== undefined ? { firstConv } : {}), ...(firstLinear !== undefined ? { firstLinear } : {}) };
}

// ------------------------------------------------------------------ rules

const mapData = (t: Tensor, f: (v: number) => number): Tensor => f32(t.dims, mapFloat32(t.data as Float32Array, f));
const positive = (t: Tensor): Tensor => mapData(t, (v) => (v > 0 ? v : 0));
const negative = (t: Tensor): Tensor => mapData(t, (v) => (v < 0 ? v : 0));

interface Emitter {
  b: GraphBuilder;
  /** the layer op applied to `x` with weights `w` (a constant, or a value of the graph) and bias `bias` (omitted: none) */
  forward(x: string, w: Tensor | string, bias?: Tensor): string;
  /** W^T s: the transposed product with weights `w`, shaped like the layer input */
  backward(s: string, w: Tensor | string): string;
  /** the graph value holding a constant weight (one per tensor) */
  weight(w: Tensor): string;
}

function emitterFor(g: GradContext, layer: LinearLayer): Emitter {
  const b = g.b;
  const node = layer.node;
  const x = g.x(0);
  const hasBiasSlot = node.op !== 'MatMul';
  // One constant per tensor: a rule uses the same weights in up to six products, and a constant
  // per use put each weight in the graph that many times.
  const constants = new Map<Tensor, string>();
  const constant = (t: Tensor, hint: string): string => {
    let name = constants.get(t);
    if (!name) constants.set(t, (name = b.constant(t, hint)));
    return name;
  };
  // The layer's own weight is already in the graph: use its value rather than a copy.
  const ownWeight = node.inputs[1];
  const weightName = (w: Tensor): string => (ownWeight && b.has(ownWeight) && b.factsOf(ownWeight).value === w ? ownWeight : constant(w, `${node.name}_lrp_w`));
  const biasName = (t: Tensor | undefined): string | undefined => {
    if (!t) return undefined;
    // Gemm adds C as [M, N] broadcast: a [N] bias is what both layouts take.
    return constant(t, `${node.name}_lrp_bias`);
  };
  return {
    b,
    weight: weightName,
    forward(input, w, bias) {
      const inputs = [input, typeof w === 'string' ? w : weightName(w)];
      const bn = hasBiasSlot ? biasName(bias) : undefined;
      if (bn) inputs.push(bn);
      const attrs = { ...node.attrs };
      if (node.op === 'Gemm' && bn) attrs['beta'] = { type: 'float', value: 1 };
      const out = b.uniqueName(`${node.name}_lrp_z`);
      b.addNode({ op: node.op, name: b.uniqueName(`${node.name}_lrp`), inputs, outputs: [out], attrs });
      let z = out;
      if (bias && !hasBiasSlot) z = b.op('Add', [z, constant(bias, `${node.name}_lrp_bias`)]);
      return z;
    },
    backward(s, w) {
      const synthetic: Node = { ...node, inputs: [x, typeof w === 'string' ? w : weightName(w)], outputs: [...node.outputs] };
      if (node.op === 'Gemm') synthetic.attrs = { ...node.attrs };
      return standardBackward(g, s, [0], synthetic)[0]!;
    },
  };
}

const mul = (b: GraphBuilder, a: string, c: string): string => b.op('Mul', [a, c]);
const add = (b: GraphBuilder, a: string, c: string): string => b.op('Add', [a, c]);
const div = (b: GraphBuilder, a: string, c: string): string => b.op('Div', [a, c]);

/**
 * Relevance of a linear layer's input under one rule. `inputNonNegative`: the layer's input is
 * never negative (a ReLU's output, pooled or not), so the rules that split it into positive and
 * negative parts drop the negative part's products, which are zero.
 */
function linearRelevance(g: GradContext, layer: LinearLayer, rule: LrpRule, R: string, inputNonNegative: boolean): string {
  const e = emitterFor(g, layer);
  const b = g.b;
  const x = g.x(0);
  const W = layer.weight;
  const B = layer.bias;
  switch (rule.rule) {
    case 'epsilon': {
      const s = div(b, R, stabilize(b, layer.output, rule.epsilon));
      return mul(b, x, e.backward(s, W));
    }
    case 'gamma': {
      const boost = (t: Tensor, part: (t: Tensor) => Tensor): Tensor => {
        const p = part(t).data as Float32Array;
        return f32(t.dims, mapFloat32(t.data as Float32Array, (v, i) => v + rule.gamma * p[i]!));
      };
      // The boosted weights W + g W+ and W + g W- are ops on W: ONNX Runtime folds them into
      // constants when it creates the session, so the graph carries each weight once (computed
      // here they were 113 MB of ResNet-18's 177 MB LRP graph, each encoded, parsed and copied).
      const w = e.weight(W);
      const boosted = (part: string): string => add(b, w, b.op('Mul', [part, b.scalar(rule.gamma)]));
      const wPlus = (): string => boosted(b.op('Relu', [w]));
      const wMinus = (): string => boosted(b.op('Min', [w, b.scalar(0)]));
      if (rule.flavor === 'captum') {
        const Wg = wPlus();
        const s = div(b, R, stabilize(b, e.forward(x, Wg, B), rule.epsilon));
        return mul(b, x, e.backward(s, Wg));
      }
      // zennit's generalized Gamma: outputs z > 0 are explained by the positive parts
      // (x+ (W + g W+) + x- (W + g W-) + b + g b+), outputs z < 0 by the negative ones.
      const Wp = wPlus();
      const Wn = wMinus();
      const Bp = B && boost(B, positive);
      const Bn = B && boost(B, negative);
      const y = layer.output;
      const mask = (cond: string): string => b.op('Cast', [cond], { to: 1 });
      const onSign = (zp: string, zn: string): [string, string] => [
        div(b, mul(b, R, mask(b.op('Greater', [y, b.scalar(0)]))), stabilize(b, zp, rule.epsilon)),
        div(b, mul(b, R, mask(b.op('Less', [y, b.scalar(0)]))), stabilize(b, zn, rule.epsilon)),
      ];
      if (inputNonNegative) {
        const [sp, sn] = onSign(e.forward(x, Wp, Bp), e.forward(x, Wn, Bn));
        return mul(b, x, add(b, e.backward(sp, Wp), e.backward(sn, Wn)));
      }
      const xp = b.op('Relu', [x]);
      const xn = b.op('Min', [x, b.scalar(0)]);
      const zp = add(b, e.forward(xp, Wp, Bp), e.forward(xn, Wn));
      const zn = add(b, e.forward(xp, Wn, Bn), e.forward(xn, Wp));
      const [sp, sn] = onSign(zp, zn);
      const onPositive = add(b, e.backward(sp, Wp), e.backward(sn, Wn));
      const onNegative = add(b, e.backward(sp, Wn), e.backward(sn, Wp));
      return add(b, mul(b, xp, onPositive), mul(b, xn, onNegative));
    }
    case 'zplus': {
      const Wp = positive(W);
      if (inputNonNegative) {
        const s = div(b, R, stabilize(b, e.forward(x, Wp, B && positive(B)), rule.epsilon));
        return mul(b, x, e.backward(s, Wp));
      }
      const Wn = negative(W);
      const xp = b.op('Relu', [x]);
      const xn = b.op('Min', [x, b.scalar(0)]);
      const z = add(b, e.forward(xp, Wp, B && positive(B)), e.forward(xn, Wn));
      const s = div(b, R, stabilize(b, z, rule.epsilon));
      return add(b, mul(b, xp, e.backward(s, Wp)), mul(b, xn, e.backward(s, Wn)));
    }
    case 'flat': {
      const ones = mapData(W, () => 1);
      const onesIn = b.op('ConstantOfShape', [b.op('Shape', [x])], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } });
      const s = div(b, R, stabilize(b, e.forward(onesIn, ones), rule.epsilon));
      return e.backward(s, ones);
    }
    case 'zbox': {
      const shape = b.shapeOf(x);
      const c = shape[1];
      if (shape.length !== 4 || typeof c !== 'number' || !shape.slice(2).every((d) => typeof d === 'number')) {
        throw new ConvLensError('MODEL_UNSUPPORTED', `The z^B rule needs a first layer with a static [N, C, H, W] input; "${layer.node.name}" reads [${shape.join(', ')}].`, 'Use the epsilon or epsilon-gamma composite.');
      }
      const plane = (shape[2] as number) * (shape[3] as number);
      const bound = (v: readonly number[]): string => {
        if (v.length !== 1 && v.length !== c) throw new ConvLensError('INVALID_ARGUMENT', `z^B bounds have ${v.length} values for ${c} input channels.`, 'Give one bound per channel, or one for all.');
        const data = new Float32Array(c * plane);
        for (let ch = 0; ch < c; ch++) data.fill(v[v.length === 1 ? 0 : ch]!, ch * plane, (ch + 1) * plane);
        return b.constant(f32([1, c, shape[2] as number, shape[3] as number], data), `${layer.node.name}_zbox`);
      };
      const L = bound(rule.low);
      const H = bound(rule.high);
      const Wp = positive(W);
      const Wn = negative(W);
      // The biases cancel: (W x + b) - (W+ L + b+) - (W- H + b-).
      const z = b.op('Sub', [b.op('Sub', [e.forward(x, W), e.forward(L, Wp)]), e.forward(H, Wn)]);
      const s = div(b, R, stabilize(b, z, rule.epsilon));
      return b.op('Sub', [b.op('Sub', [mul(b, x, e.backward(s, W)), mul(b, L, e.backward(s, Wp))]), mul(b, H, e.backward(s, Wn))]);
    }
  }
}

/**
 * Whether a value is a gate: a squashing function's output (Sigmoid, HardSigmoid; Erf or Tanh as
 * GELU writes its gate, 1 + erf(x / sqrt 2)), through reshapes, broadcasts and affine maps by
 * constants.
 */
function gateFinder(graph: Graph, producers: ReadonlyMap<string, Node>): (value: string) => boolean {
  const isConstant = constantFinder(graph, producers);
  return (v) => {
    let value = v;
    for (let hops = 0; hops < 8; hops++) {
      const n = producers.get(value);
      if (!n) return false;
      if (SQUASHING.has(n.op)) return true;
      if (GATE_PASS.has(n.op)) value = n.inputs[0]!;
      else if (AFFINE.has(n.op) && n.inputs.length === 2 && isConstant(n.inputs[1])) value = n.inputs[0]!;
      else if ((n.op === 'Add' || n.op === 'Mul') && n.inputs.length === 2 && isConstant(n.inputs[0])) value = n.inputs[1]!;
      else return false;
    }
    return false;
  };
}

/**
 * Whether a value is a constant of the file: an initializer or a Constant, also behind Identity
 * nodes (torch.onnx shares equal initializers that way, e.g. every block's initial layer scale).
 */
function constantFinder(graph: Graph, producers: ReadonlyMap<string, Node>): (value: string | undefined) => boolean {
  return (v) => {
    for (let hops = 0; v && hops < 8; hops++) {
      if (graph.initializers.has(v)) return !graph.inputs.some((i) => i.name === v);
      const n = producers.get(v);
      if (n?.op === 'Constant') return true;
      if (n?.op !== 'Identity') return false;
      v = n.inputs[0];
    }
    return false;
  };
}

/**
 * LayerNorm as torch.onnx writes it before opset 17 (no LayerNormalization op): u = x - mean(x),
 * then Div(u, Sqrt(ReduceMean(Pow(u, 2)) + eps)), the scale and the bias. Returns the Div nodes
 * whose divisor is the deviation of their own numerator, and the nodes computing that deviation.
 * Holding the deviation fixed, as layerNormRelevance does for the op, makes the divisor passive
 * (it takes no relevance, so its branch needs no rule); the centering (Sub, ReduceMean) then
 * splits relevance as that rule's linear map does.
 */
function decomposedNorms(graph: Graph, producers: ReadonlyMap<string, Node>): { divisions: Set<string>; deviation: Set<string> } {
  const isConstant = constantFinder(graph, producers);
  const divisions = new Set<string>();
  const deviation = new Set<string>();
  for (const div of graph.nodes) {
    if (div.op !== 'Div' || div.inputs.length !== 2) continue;
    const [u, s] = div.inputs as [string, string];
    const sqrt = producers.get(s);
    if (sqrt?.op !== 'Sqrt') continue;
    let v = producers.get(sqrt.inputs[0]!);
    const chain: Node[] = [sqrt];
    if (v?.op === 'Add' && v.inputs.length === 2 && v.inputs.some((i) => isConstant(i))) {
      chain.push(v);
      v = producers.get(v.inputs.find((i) => !isConstant(i))!);
    }
    if (v?.op !== 'ReduceMean') continue;
    chain.push(v);
    const square = producers.get(v.inputs[0]!);
    const squares = (n: Node | undefined): boolean => {
      if (n?.op === 'Mul') return n.inputs[0] === u && n.inputs[1] === u;
      if (n?.op !== 'Pow' || n.inputs[0] !== u || !isConstant(n.inputs[1])) return false;
      const e = producers.get(n.inputs[1]!)?.attrs['value']?.value ?? graph.initializers.get(n.inputs[1]!);
      const data = (e as { data?: ArrayLike<number> } | undefined)?.data;
      return !!data && data.length === 1 && data[0] === 2;
    };
    if (!squares(square)) continue;
    chain.push(square!);
    divisions.add(div.name);
    for (const n of chain) deviation.add(n.name);
  }
  return { divisions, deviation };
}

const SQUASHING = new Set(['Sigmoid', 'HardSigmoid', 'Erf', 'Tanh']);
const AFFINE = new Set(['Add', 'Sub', 'Mul', 'Div']);

/**
 * LayerNormalization as a linear map once its standard deviation is held fixed (Ali et al. 2022;
 * LXT's rule): y = W x + b with W = diag(scale * inv) (I - 1 1^T / n) over the normalized axes,
 * and the epsilon rule R_in = x * W^T s, s = R / stab(y): x * inv * (scale s - mean(scale s)).
 * The mean is a linear function of x and stays in W; b (the bias) absorbs its share.
 */
function layerNormRelevance(g: GradContext, eps: number): (string | undefined)[] {
  const R = g.dy(0);
  const out: (string | undefined)[] = g.node.inputs.map(() => undefined);
  if (!R || !g.wants(0)) return out;
  const b = g.b;
  const x = g.x(0);
  const axes = layerNormAxes(g.node, b.shapeOf(x).length);
  const { inv } = batchStats(b, x, axes, attrFloat(g.node, 'epsilon', 1e-5));
  const scaled = mul(b, div(b, R, stabilize(b, g.y(0), eps)), g.x(1));
  out[0] = mul(b, mul(b, x, inv), b.op('Sub', [scaled, b.op('ReduceMean', [scaled], { axes, keepdims: 1 })]));
  return out;
}

/**
 * The factor of a Mul or Div that takes no relevance: a constant (a Div's divisor only), or for a
 * product of two signals the one gate among them; -1 when neither applies (no LRP rule).
 */
function passiveFactor(node: Node, isConstant: (input: number) => boolean, isGate: (value: string) => boolean): number {
  const constantAt = node.inputs.findIndex((_, i) => isConstant(i));
  if (constantAt >= 0) return node.op === 'Div' && constantAt !== 1 ? -1 : constantAt;
  if (node.op !== 'Mul' || node.inputs.length !== 2) return -1;
  const gated = node.inputs.map((v) => !!v && isGate(v));
  return gated[0] !== gated[1] ? gated.indexOf(true) : -1;
}

/** Why LRP cannot explain a model with this node, and what to use instead. */
export function lrpNoRuleError(node: Node): ConvLensError {
  return new ConvLensError('MODEL_UNSUPPORTED', `LRP has no rule for ${node.op} (node "${node.name}").`, `LRP covers Conv, Gemm/MatMul with constant weights, BatchNormalization, LRN, activations, gates (SiLU, GELU, squeeze-and-excitation), LayerNorm, pooling, additions and layout ops; use integrated-gradients or deeplift for this model.`);
}

function producersOf(graph: Graph): Map<string, Node> {
  const producers = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producers.set(o, n);
  return producers;
}

/**
 * The first node on the way from `input` to the model's output that LRP has no rule for, or
 * undefined: what `lrpRuleSet` would refuse once the gradient graph is built, found without
 * building it (the studio greys the method out when a model is loaded).
 */
export function lrpUnsupportedNode(graph: Graph, input: string, isConstant: (value: string) => boolean, output?: string): Node | undefined {
  const { layers } = analyze(graph);
  const producers = producersOf(graph);
  const gates = gateFinder(graph, producers);
  const constantValue = constantFinder(graph, producers);
  const norms = decomposedNorms(graph, producers);
  // Relevance starts at the explained output: nodes after it (the final Softmax of a Caffe or
  // tf2onnx model, whose logits are explained) never carry any.
  const behind = output === undefined ? undefined : nodesBehind(output, producers);
  const dynamic = new Set([input]);
  for (const node of graph.nodes) {
    if (behind && !behind.has(node)) continue;
    if (!node.inputs.some((i) => i && dynamic.has(i))) continue;
    for (const o of node.outputs) if (o) dynamic.add(o);
    const def = findOp(node.op);
    if (layers.has(node.name) || node.op === 'BatchNormalization' || node.op === 'LayerNormalization' || node.op === 'LRN' || ACTIVATIONS.has(node.op) || QUANTIZATION.has(node.op) || node.op === 'Erf' || PROPORTIONAL.has(node.op) || ROUTING.has(node.op) || def?.nonDifferentiable) continue;
    if (norms.divisions.has(node.name) || norms.deviation.has(node.name)) continue;
    if ((node.op === 'Mul' || node.op === 'Div') && passiveFactor(node, (i) => !!node.inputs[i] && (isConstant(node.inputs[i]!) || constantValue(node.inputs[i])), gates) >= 0) continue;
    return node;
  }
  return undefined;
}

/** x_i * grad_i(R / stab(y)) for every wanted input: relevance split by contribution. */
function proportional(g: GradContext, eps: number): (string | undefined)[] {
  const R = g.dy(0);
  if (!R) return g.node.inputs.map(() => undefined);
  const b = g.b;
  const s = div(b, R, stabilize(b, g.y(0), eps));
  const grads = standardBackward(g, s, wantedInputs(g));
  return grads.map((d, i) => (d && g.wants(i) ? mul(b, g.x(i), d) : undefined));
}

/**
 * The LRP rule set of a composite for one forward graph (the graph is analyzed once: which
 * layer is first, which BatchNorms fold into the layer before them).
 */
export function lrpRuleSet(graph: Graph, composite: LrpComposite): RuleSet {
  const { layers, folded, firstConv, firstLinear } = analyze(graph);
  // Nodes appended after the model (the score picking the target logit) keep their gradient:
  // relevance starts at the target logit, it is not redistributed over the rows and classes.
  const modelValues = new Set(graph.nodes.flatMap((n) => n.outputs.filter((o) => o)));
  const ruleOf = (layer: LinearLayer): LrpRule => {
    if (composite.firstLinear && layer.node.name === firstLinear) return composite.firstLinear;
    if (composite.firstConv && layer.node.name === firstConv) return composite.firstConv;
    return layer.kind === 'conv' ? composite.conv : composite.dense;
  };
  const producers = producersOf(graph);
  const gates = gateFinder(graph, producers);
  const constantValue = constantFinder(graph, producers);
  const norms = decomposedNorms(graph, producers);
  const nonNegative = nonNegativeValues(graph);
  const noRule = (node: Node): GradRule => () => {
    throw lrpNoRuleError(node);
  };
  return {
    name: composite.name,
    ruleFor(node: Node, def: OpDef): GradRule | undefined {
      if (!node.outputs.some((o) => o && modelValues.has(o))) return undefined;
      const layer = layers.get(node.name);
      if (layer) {
        const rule = ruleOf(layer);
        return (g) => {
          const R = g.dy(0);
          const out: (string | undefined)[] = node.inputs.map(() => undefined);
          if (R && g.wants(0)) out[0] = linearRelevance(g, layer, rule, R, nonNegative.has(node.inputs[0]!));
          return out;
        };
      }
      if (node.op === 'BatchNormalization') {
        if (folded.has(node.name)) return (g) => [g.dy(0), undefined, undefined, undefined, undefined];
        return (g) => proportional(g, composite.normEpsilon).map((r, i) => (i === 0 ? r : undefined));
      }
      // A Q -> DQ pair rounds a value (its scale multiplies out): relevance passes through it
      // unchanged like an activation's, none lost where the code saturated.
      if (ACTIVATIONS.has(node.op) || QUANTIZATION.has(node.op) || node.op === 'Erf' || node.op === 'LRN') return (g) => [g.dy(0), ...node.inputs.slice(1).map(() => undefined)];
      // a decomposed LayerNorm: the numerator takes all of the relevance, the deviation none
      if (norms.divisions.has(node.name)) return (g) => [g.dy(0) && g.wants(0) ? g.dy(0) : undefined, undefined];
      if (norms.deviation.has(node.name)) return (g) => node.inputs.map(() => undefined);
      if (node.op === 'LayerNormalization') return (g) => layerNormRelevance(g, composite.normEpsilon);
      if (node.op === 'Mul' || node.op === 'Div') {
        // Scaling by a constant does not move relevance. A product with a gate (a sigmoid: SiLU's
        // x * sigmoid(x), squeeze-and-excitation's channel weights) passes all of it to the other
        // factor, the gate taking none (Arras et al. 2017's rule for multiplicative gates). Any
        // other product of two signals has no LRP rule.
        return (g) => {
          const passive = passiveFactor(node, (i) => g.constant(i) !== undefined || constantValue(node.inputs[i]), gates);
          if (passive < 0) return noRule(node)(g);
          const R = g.dy(0);
          return node.inputs.map((x, i) => (R && i !== passive && g.wants(i) ? unbroadcast(g.b, R, x) : undefined));
        };
      }
      if (PROPORTIONAL.has(node.op)) return (g) => proportional(g, composite.normEpsilon);
      if (ROUTING.has(node.op) || def.nonDifferentiable) return undefined;
      return noRule(node);
    },
  };
}

/** The nodes a value is computed from (its producer included). */
function nodesBehind(value: string, producers: ReadonlyMap<string, Node>): Set<Node> {
  const seen = new Set<Node>();
  const stack = [value];
  while (stack.length) {
    const node = producers.get(stack.pop()!);
    if (!node || seen.has(node)) continue;
    seen.add(node);
    for (const i of node.inputs) if (i) stack.push(i);
  }
  return seen;
}
