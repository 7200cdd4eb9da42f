import type { Node } from '../../graph/ir.js';
import { sizeOf, toFloat64 } from '../../tensor.js';
import { defineKernel, type Shaped } from '../evaluator.js';
import { fromFloat64, kernelError, need, resultDType } from './util.js';

// Einsum with explicit letters (no "..." ellipsis): MaxViT's attention is written
// "B G H I D, B G H J D -> B G H I J" and back. Summed in float64, one output element at a time.

export interface EinsumSpec {
  /** the letters of each operand, one per axis */
  inputs: string[];
  /** the output's letters */
  output: string;
}

/**
 * The operands' and the output's letters. Spaces are dropped (PyTorch keeps the user's); without
 * "->" the output is every letter that appears once, in alphabetical order (numpy's implicit mode).
 * Undefined for what this parser does not take: an ellipsis, or anything but letters.
 */
export function parseEinsum(equation: string): EinsumSpec | undefined {
  const text = equation.replace(/\s+/g, '');
  if (text.includes('.')) return undefined;
  const [lhs, rhs, ...more] = text.split('->');
  if (lhs === undefined || more.length) return undefined;
  const inputs = lhs.split(',');
  if (![...inputs, rhs ?? ''].every((t) => /^[A-Za-z]*$/.test(t))) return undefined;
  let output = rhs;
  if (output === undefined) {
    const count = new Map<string, number>();
    for (const c of inputs.join('')) count.set(c, (count.get(c) ?? 0) + 1);
    output = [...count].filter(([, k]) => k === 1).map(([c]) => c).sort().join('');
  }
  return { inputs, output };
}

/**
 * The kernel's work: every combination of the letters' sizes (output positions times summed
 * ones), each reading one element per operand through its letters.
 */
function einsumWork(node: Node, inputs: readonly (Shaped | undefined)[]): number {
  const equation = node.attrs['equation'];
  const spec = equation?.type === 'string' ? parseEinsum(equation.value) : undefined;
  if (!spec) return 0; // the kernel refuses it at once
  const size = new Map<string, number>();
  spec.inputs.forEach((term, i) => [...term].forEach((c, k) => size.set(c, Math.max(size.get(c) ?? 0, inputs[i]?.dims[k] ?? 0))));
  const combinations = [...size.values()].reduce((p, d) => p * d, 1);
  return combinations * (1 + size.size + spec.inputs.join('').length);
}

defineKernel('Einsum', (node: Node, inputs) => {
  const equation = node.attrs['equation'];
  const spec = equation?.type === 'string' ? parseEinsum(equation.value) : undefined;
  if (!spec) throw kernelError(node, 'only equations of letters (no "...") are supported');
  const operands = spec.inputs.map((_, i) => need(node, inputs, i));
  const size = new Map<string, number>();
  spec.inputs.forEach((term, i) => {
    if (term.length !== operands[i]!.dims.length) throw kernelError(node, `operand ${i} has rank ${operands[i]!.dims.length}, the equation names ${term.length} axes`);
    [...term].forEach((c, k) => {
      const d = operands[i]!.dims[k]!;
      if (size.has(c) && size.get(c) !== d) throw kernelError(node, `axis "${c}" is ${size.get(c)} in one operand and ${d} in another`);
      size.set(c, d);
    });
  });
  const letters = [...size.keys()];
  const summed = letters.filter((c) => !spec.output.includes(c));
  const outDims = [...spec.output].map((c) => size.get(c)!);
  const values = operands.map((t) => toFloat64(t));
  const strides = spec.inputs.map((term, i) => {
    const dims = operands[i]!.dims;
    const s = new Map<string, number>();
    let step = 1;
    for (let k = term.length - 1; k >= 0; k--) {
      s.set(term[k]!, (s.get(term[k]!) ?? 0) + step);
      step *= dims[k]!;
    }
    return s;
  });
  const y = new Float64Array(sizeOf(outDims));
  const index = new Map<string, number>();
  const inner = sizeOf(summed.map((c) => size.get(c)!));
  for (let o = 0; o < y.length; o++) {
    let rest = o;
    for (let k = spec.output.length - 1; k >= 0; k--) {
      index.set(spec.output[k]!, rest % outDims[k]!);
      rest = Math.floor(rest / outDims[k]!);
    }
    let total = 0;
    for (let s = 0; s < inner; s++) {
      let r = s;
      for (let k = summed.length - 1; k >= 0; k--) {
        const d = size.get(summed[k]!)!;
        index.set(summed[k]!, r % d);
        r = Math.floor(r / d);
      }
      let product = 1;
      for (let i = 0; i < values.length; i++) {
        let at = 0;
        for (const [c, stride] of strides[i]!) at += index.get(c)! * stride;
        product *= values[i]![at]!;
      }
      total += product;
    }
    y[o] = total;
  }
  return [fromFloat64(resultDType(...operands), outDims, y)];
}, einsumWork);
