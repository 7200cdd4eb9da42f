import { ConvLensError } from '../errors.js';
import type { InferContext, OutputFacts, ValueFacts } from '../graph/facts.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Node } from '../graph/ir.js';
import type { Tensor } from '../tensor.js';

/** Backward rule sets an attribution method can choose per call. */
export type RuleSetName = 'standard' | 'guided' | 'deconvnet';
export const RULE_SETS: readonly RuleSetName[] = ['standard', 'guided', 'deconvnet'];

/**
 * A rule set given as data (LRP composites, DeepLIFT; src/engine/ops/rules): the rule for each
 * forward node, or undefined to keep the op's standard rule. `name` identifies the set and its
 * parameters (compiled graphs are cached by it).
 */
export interface RuleSet {
  readonly name: string;
  ruleFor(node: Node, def: OpDef): GradRule | undefined;
}

/** What a gradient request may name: a built-in rule set or one given as data. */
export type RuleSetSpec = RuleSetName | RuleSet;

export const ruleSetKey = (r: RuleSetSpec | undefined): string => (r === undefined ? 'standard' : typeof r === 'string' ? r : r.name);

/**
 * What a backward rule sees: the forward node, the builder that emits into the combined
 * forward+backward graph, and the upstream gradients of the node's outputs.
 */
export interface GradContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** Forward input i (a value name). */
  x(i: number): string;
  /** Forward output i (a value name). */
  y(i: number): string;
  /** Upstream gradient of output i; undefined when no gradient reaches it (it is zero). */
  dy(i: number): string | undefined;
  /** Whether the caller needs the gradient of input i (rules skip work for the rest). */
  wants(i: number): boolean;
  /** Static facts about any value. */
  facts(name: string): ValueFacts;
  /** The constant value of forward input i, if known statically. */
  constant(i: number): Tensor | undefined;
}

/** Returns one gradient per forward input (undefined = none). */
export type GradRule = (g: GradContext) => (string | undefined)[];

export interface OpDef {
  type: string;
  infer(ctx: InferContext): OutputFacts[];
  /** The standard reverse-mode rule; absent for ops gradients never flow through. */
  grad?: GradRule;
  /** Rules that replace `grad` under a non-standard rule set (guided backprop, deconvnet). */
  variants?: Partial<Record<RuleSetName, GradRule>>;
  /** Inputs that never carry gradient (shapes, axes, indices, pads). */
  noGradInputs?: readonly number[];
  /** Outputs are integer/boolean or otherwise piecewise constant: no gradient passes. */
  nonDifferentiable?: boolean;
  /**
   * The shape rule may report constant values, but the node stays in the graph rather than
   * becoming a Constant: ONNX Runtime fuses it with its neighbours (DequantizeLinear of int8
   * weights -> Conv -> QuantizeLinear becomes an integer QLinearConv), so folding would change
   * what the model computes.
   */
  keepNodeWhenConstant?: boolean;
  /**
   * Outputs are integer codes standing for real numbers (QuantizeLinear's, which the next
   * DequantizeLinear multiplies back out): gradients flow through them as float tensors, as
   * through the reals they stand for, instead of stopping at an integer value.
   */
  outputsAreCodes?: boolean;
}

const registry = new Map<string, OpDef>();

export function defineOp(def: OpDef): void {
  if (registry.has(def.type)) throw new Error(`op ${def.type} defined twice`);
  registry.set(def.type, def);
}

export function findOp(type: string): OpDef | undefined {
  return registry.get(type);
}

export function supportedOps(): string[] {
  return [...registry.keys()].sort();
}

export function differentiableOps(): string[] {
  return [...registry.values()]
    .filter((d) => d.grad || d.nonDifferentiable)
    .map((d) => d.type)
    .sort();
}

/**
 * Ops of quantized models (QDQ pairs, QLinear* and integer kernels, as onnxruntime's quantizer and
 * the ONNX Model Zoo's int8 variants write them). Rounding to integers has a zero gradient almost
 * everywhere, so rather than "no rule" for one op, the whole model gets one answer: use the float
 * model it came from.
 */
const QUANTIZATION_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'QLinearAdd', 'QLinearMul', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QLinearConcat', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearSoftmax', 'QGemm']);

/** The refusal for a model whose ops compute on integers (QLinearConv, ConvInteger, ...), naming the node. */
export function quantizedModelError(node: Node): ConvLensError {
  return new ConvLensError(
    'MODEL_UNSUPPORTED',
    `The model is quantized: ${node.op} node "${node.name}" works on 8-bit integers, and ConvLens computes layer shapes and gradients of float models only.`,
    'Predictions run on it as it is; to explain, visualize or look inside it, use the float32 model it was quantized from (the ONNX Model Zoo publishes both), or its QDQ form (onnxruntime.quantization.quantize_static with QuantFormat.QDQ), which ConvLens looks inside.',
  );
}

export function requireOp(node: Node, purpose: 'shape' | 'gradient'): OpDef {
  const def = node.domain ? undefined : registry.get(node.op);
  if (QUANTIZATION_OPS.has(node.op) && (!def || (purpose === 'gradient' && !def.grad && !def.nonDifferentiable))) throw quantizedModelError(node);
  if (!def || (purpose === 'gradient' && !def.grad && !def.nonDifferentiable)) {
    const list = purpose === 'gradient' ? differentiableOps() : supportedOps();
    const what = node.domain ? `${node.domain}::${node.op}` : node.op;
    throw new ConvLensError(
      'UNSUPPORTED_OP',
      `Op ${what} (node "${node.name}") has no ${purpose === 'gradient' ? 'backward rule' : 'shape rule'} in ConvLens.`,
      `Supported ops: ${list.join(', ')}. Re-export the model with these ops, or open an issue asking for ${what}.`,
    );
  }
  return def;
}
