import { ConvLensError } from '../errors.js';
import { attrInt, attrInts, type Dim } from '../graph/ir.js';
import { dimsOfInput, normAxis, type InferContext, type OutputFacts } from '../graph/facts.js';
import type { GraphBuilder } from '../graph/builder.js';
import { toNumbers } from '../tensor.js';
import { floatMask, shapeValue } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Reductions. ReduceSum takes axes as an input (opset 13+); the others as an attribute (until 18).

function reduceAxes(ctx: InferContext | GradContext, rank: number): number[] | 'none' {
  const node = ctx.node;
  let axes: number[] | undefined;
  if (node.op === 'ReduceSum') {
    if (node.inputs[1]) {
      const v = 'value' in ctx ? dimsOfInput(ctx, 1) : ctx.constant(1) && toNumbers(ctx.constant(1)!);
      if (!v || !v.every((d) => typeof d === 'number')) throw new Error(`${node.op} "${node.name}": axes must be constant`);
      axes = v as number[];
    }
    if ((!axes || axes.length === 0) && attrInt(node, 'noop_with_empty_axes', 0)) return 'none';
  } else {
    // At opset 17 only ReduceSum takes axes as an input. A hand-built node with the opset-18 form
    // got the shape of a reduction over every axis here while ONNX Runtime reduced the axes given,
    // and its gradient then failed inside ONNX Runtime ("invalid expand shape"). Imported opset-18
    // models have that input turned into the attribute already (onnx/import.ts).
    if (node.inputs[1]) {
      throw new ConvLensError('INVALID_ARGUMENT', `${node.op} "${node.name}" has its axes as a second input (the opset-18 form); graphs are built at opset 17, where ${node.op} takes them as an attribute.`, `Give the axes as the attribute: b.op('${node.op}', [x], { axes: [...] }).`);
    }
    axes = attrInts(node, 'axes');
  }
  if (!axes || axes.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => normAxis(node, a, rank)).sort((a, b) => a - b);
}

function reduceInfer(ctx: InferContext): OutputFacts[] {
  const x = ctx.need(0);
  const axes = reduceAxes(ctx, x.shape.length);
  if (axes === 'none') return [{ dtype: x.dtype, shape: [...x.shape] }];
  const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: ctx.node.op.startsWith('Arg') ? 'int64' : x.dtype, shape }];
}

/** dy reshaped to the keepdims shape, so it broadcasts against x. */
function keepdimsGrad(g: GradContext, axes: number[]): string {
  const dy = g.dy(0)!;
  return attrInt(g.node, 'keepdims', 1) === 1 ? dy : g.b.op('Unsqueeze', [dy, g.b.ints(axes)]);
}

function expandTo(b: GraphBuilder, t: string, like: string): string {
  return b.op('Expand', [t, shapeValue(b, like)]);
}

function reduceGrad(local: (g: GradContext, dyKeep: string, yKeep: string) => string) {
  return (g: GradContext): (string | undefined)[] => {
    if (!g.dy(0)) return [undefined];
    const b = g.b;
    const rank = b.shapeOf(g.x(0)).length;
    const axes = reduceAxes(g, rank);
    if (axes === 'none') return [g.dy(0)];
    const dyKeep = keepdimsGrad(g, axes);
    const yKeep = attrInt(g.node, 'keepdims', 1) === 1 ? g.y(0) : b.op('Unsqueeze', [g.y(0), b.ints(axes)]);
    return [local(g, dyKeep, yKeep)];
  };
}

/** Number of elements reduced over, as a float constant (static) or computed at run time. */
function countOf(g: GradContext): string {
  const b = g.b;
  const shape = b.shapeOf(g.x(0));
  const axes = reduceAxes(g, shape.length) as number[];
  const dims = axes.map((a) => shape[a]!);
  if (dims.every((d): d is number => typeof d === 'number')) return b.scalar(dims.reduce((p, q) => p * q, 1));
  const s = b.op('Shape', [g.x(0)]);
  const picked = b.op('Gather', [s, b.ints(axes)], { axis: 0 });
  return b.op('Cast', [b.op('ReduceProd', [picked], { keepdims: 0 })], { to: 1 });
}

defineOp({ type: 'ReduceSum', infer: reduceInfer, noGradInputs: [1], grad: reduceGrad((g, dy) => expandTo(g.b, dy, g.x(0))) });
defineOp({ type: 'ReduceMean', infer: reduceInfer, grad: reduceGrad((g, dy) => expandTo(g.b, g.b.op('Div', [dy, countOf(g)]), g.x(0))) });
defineOp({
  type: 'ReduceSumSquare',
  infer: reduceInfer,
  grad: reduceGrad((g, dy) => g.b.op('Mul', [g.b.op('Mul', [dy, g.b.scalar(2)]), g.x(0)])),
});
defineOp({
  type: 'ReduceL2',
  infer: reduceInfer,
  // d||x||/dx = x / ||x||
  grad: reduceGrad((g, dy, y) => g.b.op('Mul', [g.b.op('Div', [dy, y]), g.x(0)])),
});
for (const op of ['ReduceMax', 'ReduceMin']) {
  defineOp({
    type: op,
    infer: reduceInfer,
    // Tied extremes share dy evenly, as PyTorch's amax/amin do (ties are common: flat regions).
    grad: reduceGrad((g, dy, y) => {
      const b = g.b;
      const hit = floatMask(b, b.op('Equal', [g.x(0), y]));
      const axes = reduceAxes(g, b.shapeOf(g.x(0)).length) as number[];
      const ties = b.op('ReduceSum', [hit, b.ints(axes)], { keepdims: 1 });
      return b.op('Mul', [b.op('Div', [dy, ties]), hit]);
    }),
  });
}
defineOp({ type: 'ReduceProd', infer: reduceInfer });
for (const op of ['ArgMax', 'ArgMin']) {
  defineOp({
    type: op,
    infer: (ctx) => {
      const x = ctx.need(0);
      const axis = normAxis(ctx.node, attrInt(ctx.node, 'axis', 0), x.shape.length);
      const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
      const shape = x.shape.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d]));
      return [{ dtype: 'int64', shape }];
    },
    nonDifferentiable: true,
  });
}
