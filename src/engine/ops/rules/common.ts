// Pieces the data-driven rule sets (LRP, DeepLIFT) share: a node's standard rule run on a
// different upstream signal or different operands, and small emission helpers.
import type { GraphBuilder } from '../../graph/builder.js';
import type { Node } from '../../graph/ir.js';
import { findOp, type GradContext } from '../registry.js';

/**
 * The standard backward rule of `node` (or of a node like it with other inputs), fed `upstream`
 * as the gradient of output 0, for the inputs in `wanted`. Reuses the op's own formulation, so
 * LRP and DeepLIFT run on the same fast kernels as plain gradients.
 */
export function standardBackward(g: GradContext, upstream: string, wanted: readonly number[], node: Node = g.node): (string | undefined)[] {
  const def = findOp(node.op);
  if (!def?.grad) throw new Error(`internal: ${node.op} has no standard rule`);
  const b = g.b;
  const ctx: GradContext = {
    node,
    b,
    x: (i) => node.inputs[i]!,
    y: (i) => (node === g.node ? g.y(i) : node.outputs[i]!),
    dy: (i) => (i === 0 ? upstream : undefined),
    wants: (i) => wanted.includes(i) && !!node.inputs[i],
    facts: (name) => b.factsOf(name),
    constant: (i) => (node.inputs[i] ? b.valueOf(node.inputs[i]!) : undefined),
  };
  return def.grad(ctx);
}

/** z + eps * sign(z), with sign(0) = +1 (Captum's and zennit's stabilizer). */
export function stabilize(b: GraphBuilder, z: string, eps: number): string {
  if (eps === 0) return z;
  return b.op('Where', [b.op('GreaterOrEqual', [z, b.scalar(0)]), b.op('Add', [z, b.scalar(eps)]), b.op('Sub', [z, b.scalar(eps)])]);
}

/** Inputs of `node` whose gradient the caller wants. */
export function wantedInputs(g: GradContext): number[] {
  return g.node.inputs.map((_, i) => i).filter((i) => g.wants(i));
}

/** Element-wise activations: one tensor in, same shape out (DeepLIFT rescales them, LRP passes relevance through). */
export const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Gelu', 'Mish', 'ThresholdedRelu']);

/** A QDQ model's rounding pair: QuantizeLinear (float to integer codes) and DequantizeLinear (back). */
export const QUANTIZATION = new Set(['QuantizeLinear', 'DequantizeLinear']);
