import type { GraphBuilder } from '../graph/builder.js';
import type { Dim } from '../graph/ir.js';

/**
 * Small emission helpers the backward rules share. Shapes that may hold the symbolic
 * batch are taken from the graph at run time (Shape), static ones become constants,
 * so one backward graph serves every batch size.
 */

/** The run-time shape of `x` as an int64 vector value. */
export function shapeValue(b: GraphBuilder, x: string): string {
  const s = b.factsOf(x).shape;
  if (s && s.every((d) => typeof d === 'number')) return b.ints(s as number[], 'shape');
  return b.op('Shape', [x]);
}

/** Reshape `g` to the run-time shape of `like`. */
export function reshapeLike(b: GraphBuilder, g: string, like: string): string {
  const gs = b.factsOf(g).shape;
  const ls = b.factsOf(like).shape;
  if (gs && ls && sameDims(gs, ls)) return g;
  return b.op('Reshape', [g, shapeValue(b, like)]);
}

export function sameDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Zeros shaped like `x`. */
export function zerosLike(b: GraphBuilder, x: string): string {
  return b.op('ConstantOfShape', [shapeValue(b, x)], {
    value: { dtype: 'float32', dims: [1], data: Float32Array.of(0) },
  });
}

/**
 * Sums a broadcast gradient `g` (shape of the op's output) down to the shape of `x`:
 * over leading axes x lacks, and over axes where x has size 1 and g does not.
 */
export function unbroadcast(b: GraphBuilder, g: string, x: string): string {
  const gs = b.shapeOf(g);
  const xs = b.shapeOf(x);
  if (sameDims(gs, xs)) return g;
  const lead = gs.length - xs.length;
  const axes: number[] = [];
  for (let k = 0; k < gs.length; k++) {
    if (k < lead) axes.push(k);
    else if (xs[k - lead] === 1 && gs[k] !== 1) axes.push(k);
  }
  let r = g;
  if (axes.length) r = b.op('ReduceSum', [g, b.ints(axes, 'axes')], { keepdims: 1 });
  return reshapeLike(b, r, x);
}

/** Elementwise helpers (names keep rules short; they are plain ONNX ops). */
export const mul = (b: GraphBuilder, a: string, c: string): string => b.op('Mul', [a, c]);
export const add = (b: GraphBuilder, a: string, c: string): string => b.op('Add', [a, c]);
export const sub = (b: GraphBuilder, a: string, c: string): string => b.op('Sub', [a, c]);
export const div = (b: GraphBuilder, a: string, c: string): string => b.op('Div', [a, c]);
export const neg = (b: GraphBuilder, a: string): string => b.op('Neg', [a]);

/** 1.0 where `cond` holds, else 0.0, as float32 (a mask to Mul with: cheaper than Where). */
export function floatMask(b: GraphBuilder, cond: string): string {
  return b.op('Cast', [cond], { to: 1 });
}

/** Sum of several gradient contributions (one Sum node rather than a chain of Adds). */
export function sumAll(b: GraphBuilder, parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  return b.op('Sum', [...parts]);
}
