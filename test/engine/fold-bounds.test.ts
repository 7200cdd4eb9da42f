// Constant folding runs the JavaScript reference kernels while a graph is built, which for an
// upload is on the studio server's event loop. A node of small constants can ask a kernel for far
// more work than its output holds (an Einsum summing a product of all its letters, a window of
// many taps over mostly padding, a Resize that grows one axis before it shrinks another), and a
// file can hold many nodes that each fold a million values. Such nodes are left to the runtime:
// what a fold costs is bounded per graph, not only per node.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { AttrInput } from '../../src/engine/graph/ir.js';

/** A float32 constant of `dims` filled with ones, made the way a file makes one cheaply (ConstantOfShape). */
function ones(b: GraphBuilder, dims: number[]): string {
  return b.op('ConstantOfShape', [b.ints(dims)], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } });
}

/** Whether `name` was folded into a constant (a value the builder holds) or left as the node that computes it. */
function folded(b: GraphBuilder, name: string): boolean {
  return b.valueOf(name) !== undefined;
}

/** Builds one node over constants and says whether it was folded, and how long building it took. */
function fold(make: (b: GraphBuilder) => string): { folded: boolean; ms: number; b: GraphBuilder; out: string } {
  const b = new GraphBuilder();
  const started = performance.now();
  const out = make(b);
  return { folded: folded(b, out), ms: performance.now() - started, b, out };
}

describe('constant folding leaves to the runtime a node whose kernel would work far more than its output holds', () => {
  // Each is just past the budget of 2^24 kernel steps, so folding it would take a fraction of a
  // second; the same shapes scaled up (the studio test's uploads) took minutes to hours.
  const cases: [string, (b: GraphBuilder) => string, number[]][] = [
    ['an Einsum "i,j->" of two 2000-long vectors (4M products for one scalar)', (b) => b.op('Einsum', [ones(b, [2000]), ones(b, [2000])], { equation: 'i,j->' }), []],
    [
      'an Einsum of 12 operands of 4x4 with no letter in common (4^24 products)',
      (b) => {
        const t = ones(b, [4, 4]);
        const letters = 'abcdefghijklmnopqrstuvwx';
        const terms = Array.from({ length: 12 }, (_, i) => letters.slice(2 * i, 2 * i + 2));
        return b.op('Einsum', terms.map(() => t), { equation: `${terms.join(',')}->` });
      },
      [],
    ],
    ['a MaxPool of 30x30 windows over a 415x415 map (149k positions x 900 taps)', (b) => b.op('MaxPool', [ones(b, [1, 1, 415, 415])], { kernel_shape: [30, 30] }), [1, 1, 386, 386]],
    ['an AveragePool of 30x30 windows over a 415x415 map', (b) => b.op('AveragePool', [ones(b, [1, 1, 415, 415])], { kernel_shape: [30, 30] }), [1, 1, 386, 386]],
    [
      'a Conv of a 1x1 map padded by 60 with a 60x60 kernel (3600 taps at each of 3700 positions, nearly all padding)',
      (b) => b.op('Conv', [ones(b, [1, 1, 1, 1]), ones(b, [1, 1, 60, 60])], { pads: [60, 60, 60, 60] }),
      [1, 1, 62, 62],
    ],
    [
      'a Resize of [1, 1, 1, 3000] to [1, 1, 3000, 1] (the rows grow before the columns shrink: 9M values in between)',
      (b) => b.op('Resize', [ones(b, [1, 1, 1, 3000]), '', '', b.ints([1, 1, 3000, 1])]),
      [1, 1, 3000, 1],
    ],
    ['a MatMul of [200, 100] by [70, 100, 70] (980k outputs of 100 terms each)', (b) => b.op('MatMul', [ones(b, [200, 100]), ones(b, [70, 100, 70])]), [70, 200, 70]],
    ['an LRN of size 999 over 1000 channels of 1000 values', (b) => b.op('LRN', [ones(b, [1, 1000, 1000, 1])], { size: 999 } satisfies Record<string, AttrInput>), [1, 1000, 1000, 1]],
  ];
  for (const [what, make, shape] of cases) {
    it(what, () => {
      const r = fold(make);
      expect(r.folded).toBe(false);
      // the shape rule still says what the node computes
      expect(r.b.shapeOf(r.out)).toEqual(shape);
      expect(r.ms).toBeLessThan(2000);
    });
  }

  it('still folds the same ops at sizes whose work is small', () => {
    expect(fold((b) => b.op('Einsum', [ones(b, [300]), ones(b, [300])], { equation: 'i,j->' })).folded).toBe(true);
    expect(fold((b) => b.op('MaxPool', [ones(b, [1, 1, 64, 64])], { kernel_shape: [3, 3] })).folded).toBe(true);
    expect(fold((b) => b.op('Resize', [ones(b, [1, 1, 8, 8]), '', '', b.ints([1, 1, 16, 16])])).folded).toBe(true);
  });
});

describe('constant folding spends a bounded amount per graph', () => {
  it('folds a few of 40 ConstantOfShape nodes of a million values each, not all 40 (160 MB; 1000 such in a 62 kB upload held 4 GB)', () => {
    const b = new GraphBuilder();
    const shape = b.ints([1_000_000]);
    const fills = Array.from({ length: 40 }, (_, i) => b.op('ConstantOfShape', [shape], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(i) } }));
    const kept = fills.reduce((sum, f) => sum + (b.valueOf(f)?.data.length ?? 0), 0);
    expect(fills.filter((f) => folded(b, f)).length).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(1 << 22);
    // every one is still known by its shape
    for (const f of fills) expect(b.shapeOf(f)).toEqual([1_000_000]);
  });

  it('still folds shape arithmetic once the budget is spent', () => {
    const b = new GraphBuilder();
    const shape = b.ints([1_000_000]);
    for (let i = 0; i < 10; i++) b.op('ConstantOfShape', [shape], { value: { dtype: 'float32', dims: [1], data: Float32Array.of(i) } });
    const sum = b.op('Add', [b.ints([2, 3]), b.ints([4, 5])]);
    expect(Array.from(b.valueOf(sum)!.data as BigInt64Array, Number)).toEqual([6, 8]);
    const picked = b.op('Mul', [b.op('Gather', [b.ints([7, 9]), b.ints([1])]), b.ints([2])]);
    expect(Array.from(b.valueOf(picked)!.data as BigInt64Array, Number)).toEqual([18]);
  });
});
