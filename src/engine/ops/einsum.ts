import type { InferContext, OutputFacts } from '../graph/facts.js';
import type { Dim } from '../graph/ir.js';
import { parseEinsum, type EinsumSpec } from '../reference/kernels/einsum.js';
import { defineOp, type GradContext } from './registry.js';

// Einsum over explicit letters (MaxViT's attention: "B G H I D, B G H J D -> B G H I J" and
// back). The gradient of an operand is another Einsum: the upstream gradient times the other
// operands, to the operand's letters; letters nothing else has were summed out, so their
// gradient is the same along them (Unsqueeze, then Expand to the operand's shape).

function specOf(ctx: { node: InferContext['node'] }, fail: (message: string) => Error): EinsumSpec {
  const equation = ctx.node.attrs['equation'];
  const spec = equation?.type === 'string' ? parseEinsum(equation.value) : undefined;
  if (!spec) throw fail(`equation ${equation?.type === 'string' ? `"${equation.value}"` : '(missing)'} is not one of letters and "->" (an ellipsis "..." is not supported)`);
  return spec;
}

defineOp({
  type: 'Einsum',
  infer: (ctx) => {
    // without an equation the node means nothing (ONNX requires one); with an ellipsis it is valid, just not handled here
    const spec = specOf(ctx, (m) => (ctx.node.attrs['equation']?.type === 'string' ? ctx.error(m) : ctx.malformed(m)));
    if (spec.inputs.length !== ctx.inputCount) throw ctx.malformed(`equation names ${spec.inputs.length} operands, the node has ${ctx.inputCount}`);
    const size = new Map<string, Dim>();
    let dtype: OutputFacts['dtype'] | undefined;
    spec.inputs.forEach((term, i) => {
      const x = ctx.need(i);
      dtype ??= x.dtype;
      if (term.length !== x.shape.length) throw ctx.malformed(`operand ${i} has rank ${x.shape.length}, the equation names ${term.length} axes ("${term}")`);
      [...term].forEach((c, k) => {
        const d = x.shape[k]!;
        const known = size.get(c);
        if (typeof known === 'number' && typeof d === 'number' && known !== d) throw ctx.malformed(`axis "${c}" is ${known} in one operand and ${d} in another`);
        if (known === undefined || typeof d === 'number') size.set(c, d);
      });
    });
    for (const c of spec.output) if (!size.has(c)) throw ctx.malformed(`output axis "${c}" is in no operand`);
    return [{ dtype: dtype!, shape: [...spec.output].map((c) => size.get(c)!) }];
  },
  grad: (g: GradContext) => {
    const dy = g.dy(0);
    if (!dy) return g.node.inputs.map(() => undefined);
    const spec = specOf(g, (m) => new Error(m));
    const b = g.b;
    return spec.inputs.map((term, i) => {
      if (!g.wants(i)) return undefined;
      if (new Set(term).size !== term.length) throw new Error(`Einsum "${g.node.name}": no gradient for an operand with a repeated axis ("${term}", a diagonal)`);
      const others = spec.inputs.filter((_, k) => k !== i);
      const reachable = new Set([...spec.output, ...others.join('')]);
      const kept = [...term].filter((c) => reachable.has(c)).join('');
      const operands = [dy, ...g.node.inputs.filter((_, k) => k !== i)];
      let grad = b.op('Einsum', operands, { equation: `${[spec.output, ...others].join(',')}->${kept}` });
      if (kept.length !== term.length) {
        const missing = [...term].flatMap((c, k) => (reachable.has(c) ? [] : [k]));
        grad = b.op('Expand', [b.op('Unsqueeze', [grad, b.ints(missing)]), b.op('Shape', [g.x(i)])]);
      }
      return grad;
    });
  },
});
