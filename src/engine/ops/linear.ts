import { broadcastShapes, type InferContext, type OutputFacts } from '../graph/facts.js';
import { attrFloat, attrInt, type Dim } from '../graph/ir.js';
import type { GraphBuilder } from '../graph/builder.js';
import { reshapeLike, unbroadcast } from './emit.js';
import { defineOp, type GradContext } from './registry.js';

// Gemm and MatMul. Backward products are themselves Gemm/MatMul; 2-D cases use Gemm's trans
// flags (engine notes: "Gemm: a Gemm with transB flipped") so no Transpose copies are made.

const dimsText = (s: readonly Dim[]): string => `[${s.join(', ')}]`;

/** Two dims that must agree: equal, or at least one symbolic (checked at run time by ONNX Runtime). */
const clash = (a: Dim | undefined, c: Dim | undefined): boolean => typeof a === 'number' && typeof c === 'number' && a !== c;

// ------------------------------------------------------------------ Gemm

function gemmInfer(ctx: InferContext): OutputFacts[] {
  const a = ctx.need(0);
  const bm = ctx.need(1);
  if (a.shape.length !== 2 || bm.shape.length !== 2) {
    throw ctx.malformed(`A and B must be matrices, got A ${dimsText(a.shape)} and B ${dimsText(bm.shape)}`, 'Insert a Flatten before the Gemm.');
  }
  const transA = attrInt(ctx.node, 'transA', 0) === 1;
  const transB = attrInt(ctx.node, 'transB', 0) === 1;
  const [m, ka] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = transB ? [bm.shape[1]!, bm.shape[0]!] : [bm.shape[0]!, bm.shape[1]!];
  if (clash(ka, kb)) {
    throw ctx.malformed(`inner dimensions differ: A ${dimsText(a.shape)} with transA=${+transA} gives K=${ka}, but B ${dimsText(bm.shape)} with transB=${+transB} gives K=${kb}`);
  }
  const c = ctx.input(2);
  if (c?.shape) {
    // C broadcasts one way only: to [M, N], never the other way round.
    if (c.shape.length > 2) throw ctx.malformed(`C ${dimsText(c.shape)} has rank ${c.shape.length}; it must broadcast to [${m}, ${n}]`);
    const target = [m, n].slice(2 - c.shape.length);
    c.shape.forEach((d, i) => {
      if (d !== 1 && clash(d, target[i])) throw ctx.malformed(`C ${dimsText(c.shape!)} does not broadcast to the output [${m}, ${n}]`);
    });
  }
  return [{ dtype: a.dtype, shape: [m, n] }];
}

function gemmGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy) return [undefined, undefined, undefined];
  const b = g.b;
  const A = g.x(0);
  const B = g.x(1);
  const alpha = attrFloat(g.node, 'alpha', 1);
  const beta = attrFloat(g.node, 'beta', 1);
  const transA = attrInt(g.node, 'transA', 0);
  const transB = attrInt(g.node, 'transB', 0);
  const scaled = alpha === 1 ? {} : { alpha };
  // Y = alpha A'B' + beta C with A' = op(A), B' = op(B):
  //   dA' = alpha dY B'^T, dB' = alpha A'^T dY; un-transposing swaps the operands.
  const dA = !g.wants(0)
    ? undefined
    : transA
      ? b.op('Gemm', [B, dy], { ...scaled, transA: transB, transB: 1 })
      : b.op('Gemm', [dy, B], { ...scaled, transB: 1 - transB });
  const dB = !g.wants(1)
    ? undefined
    : transB
      ? b.op('Gemm', [dy, A], { ...scaled, transA: 1, transB: transA })
      : b.op('Gemm', [A, dy], { ...scaled, transA: 1 - transA });
  let dC: string | undefined;
  if (g.node.inputs[2] && g.wants(2) && beta !== 0) {
    dC = unbroadcast(b, dy, g.x(2));
    if (beta !== 1) dC = b.op('Mul', [dC, b.scalar(beta)]);
  }
  return [dA, dB, dC];
}

defineOp({ type: 'Gemm', infer: gemmInfer, grad: gemmGrad });

// ------------------------------------------------------------------ MatMul

function matmulInfer(ctx: InferContext): OutputFacts[] {
  const a = ctx.need(0);
  const c = ctx.need(1);
  if (a.shape.length === 0 || c.shape.length === 0) throw ctx.malformed('MatMul operands must have rank >= 1 (use Mul for scalars)');
  // numpy.matmul: a 1-D operand gains a unit dimension that is removed from the result.
  const aD = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const cD = c.shape.length === 1 ? [c.shape[0]!, 1] : c.shape;
  const ka = aD[aD.length - 1]!;
  const kc = cD[cD.length - 2]!;
  if (clash(ka, kc)) throw ctx.malformed(`inner dimensions differ: ${dimsText(a.shape)} x ${dimsText(c.shape)} (${ka} vs ${kc})`);
  const batch = broadcastShapes(ctx.node, [aD.slice(0, -2), cD.slice(0, -2)]);
  const shape: Dim[] = [...batch];
  if (a.shape.length > 1) shape.push(aD[aD.length - 2]!);
  if (c.shape.length > 1) shape.push(cD[cD.length - 1]!);
  return [{ dtype: a.dtype, shape }];
}

/** Swaps the last two axes. */
function swapLast(b: GraphBuilder, t: string): string {
  const r = b.shapeOf(t).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return b.op('Transpose', [t], { perm });
}

function matmulGrad(g: GradContext): (string | undefined)[] {
  const dy = g.dy(0);
  if (!dy) return [undefined, undefined];
  const b = g.b;
  const A = g.x(0);
  const B = g.x(1);
  const ra = b.shapeOf(A).length;
  const rb = b.shapeOf(B).length;
  const wantA = g.wants(0);
  const wantB = g.wants(1);

  if (ra === 2 && rb === 2) {
    return [wantA ? b.op('Gemm', [dy, B], { transB: 1 }) : undefined, wantB ? b.op('Gemm', [A, dy], { transA: 1 }) : undefined];
  }
  const [k, n] = b.shapeOf(B);
  if (ra > 2 && rb === 2 && typeof k === 'number' && typeof n === 'number') {
    // A linear layer applied over leading axes ([..., K] x [K, N]): fold those axes into the rows
    // so both products are single Gemms and dB needs no ReduceSum over a batched result.
    const rows = (t: string, cols: number): string => b.op('Reshape', [t, b.ints([-1, cols])]);
    const dy2 = rows(dy, n);
    return [
      wantA ? reshapeLike(b, b.op('Gemm', [dy2, B], { transB: 1 }), A) : undefined,
      wantB ? b.op('Gemm', [rows(A, k), dy2], { transA: 1 }) : undefined,
    ];
  }

  // General numpy semantics: promote 1-D operands, multiply, sum over broadcast batch axes.
  const a1 = ra === 1;
  const b1 = rb === 1;
  const aP = a1 ? b.op('Unsqueeze', [A, b.ints([0])]) : A;
  const bP = b1 ? b.op('Unsqueeze', [B, b.ints([1])]) : B;
  const dyP = a1 && b1 ? b.op('Reshape', [dy, b.ints([1, 1])]) : a1 ? b.op('Unsqueeze', [dy, b.ints([-2])]) : b1 ? b.op('Unsqueeze', [dy, b.ints([-1])]) : dy;
  let dA: string | undefined;
  let dB: string | undefined;
  if (wantA) {
    const bT = b1 ? b.op('Unsqueeze', [B, b.ints([0])]) : swapLast(b, B);
    dA = reshapeLike(b, unbroadcast(b, b.op('MatMul', [dyP, bT]), aP), A);
  }
  if (wantB) {
    const aT = a1 ? b.op('Unsqueeze', [A, b.ints([1])]) : swapLast(b, A);
    dB = reshapeLike(b, unbroadcast(b, b.op('MatMul', [aT, dyP]), bP), B);
  }
  return [dA, dB];
}

defineOp({ type: 'MatMul', infer: matmulInfer, grad: matmulGrad });
