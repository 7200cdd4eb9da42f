// Einsum had no shape rule, no gradient and no reference kernel: torchvision's MaxViT writes its
// attention as Einsum("B G H I D, B G H J D -> B G H I J") and back, and every command but summary
// and predict stopped at "Op Einsum ... has no shape rule in ConvLens". The forward is checked
// against ONNX Runtime, the gradients against float64 central finite differences.
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { evaluateGraph } from '../../src/engine/reference/evaluator.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, toFloat64, type Tensor } from '../../src/engine/tensor.js';
import { finiteDifferences, float64Graph, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());
const rand = rng(7);

interface Case {
  equation: string;
  dims: number[][];
}

const CASES: Case[] = [
  // MaxViT's two products, as PyTorch writes them (spaces kept)
  { equation: 'B G H I D, B G H J D -> B G H I J', dims: [[2, 2, 3, 4, 5], [2, 2, 3, 6, 5]] },
  { equation: 'B G H I J, B G H J D -> B G H I D', dims: [[2, 2, 3, 4, 6], [2, 2, 3, 6, 5]] },
  // a letter only one operand has is summed out: its gradient is the same along it
  { equation: 'ik,kj->j', dims: [[3, 4], [4, 5]] },
  // implicit output (letters that appear once, alphabetical): a transposed product
  { equation: 'ji,kj', dims: [[3, 4], [5, 3]] },
];

function build(c: Case): { graph: Graph; feeds: Record<string, Tensor>; b: GraphBuilder } {
  const b = new GraphBuilder();
  const feeds: Record<string, Tensor> = {};
  const names = c.dims.map((dims, i) => {
    feeds[`x${i}`] = f32(dims, randn(rand, dims.reduce((p, q) => p * q, 1)));
    return b.input(`x${i}`, 'float32', [...dims]);
  });
  b.output(b.op('Einsum', names, { equation: c.equation }, { outputs: ['y'] }));
  return { graph: b.build(), feeds, b };
}

describe('Einsum', () => {
  it('infers the output shape, with a symbolic batch too', () => {
    const b = new GraphBuilder();
    const q = b.input('q', 'float32', ['N', 49, 2, 64, 32]);
    const k = b.input('k', 'float32', ['N', 49, 2, 64, 32]);
    expect(b.factsOf(b.op('Einsum', [q, k], { equation: 'B G H I D, B G H J D -> B G H I J' })).shape).toEqual(['N', 49, 2, 64, 64]);
  });

  for (const c of CASES) {
    it(`"${c.equation}": forward as ONNX Runtime, gradients as finite differences`, async () => {
      const { graph, feeds } = build(c);
      const wrt = Object.keys(feeds);
      const want = evaluateGraph(float64Graph(graph), feeds, ['y'])['y']!;
      const dy = f32([...want.dims], randn(rand, want.data.length));
      const gg = buildGradientGraph(graph, { seed: { upstream: ['y'] }, wrt, outputs: ['y'] });
      const run = await engine.compileOnce(gg.graph);
      const out = await run.run({ ...feeds, [gg.seedInputs['y']!]: dy });
      await run.release();
      expect(out['y']!.dims).toEqual(want.dims);
      expect(relativeMaxError(toFloat64(out['y']!), toFloat64(want))).toBeLessThan(1e-5);
      const fd = finiteDifferences(graph, feeds, 'y', dy, wrt);
      for (const name of wrt) {
        const g = out[gg.gradientOutputs[name]!]!;
        expect(g.dims, name).toEqual(feeds[name]!.dims);
        expect(relativeMaxError(toFloat64(g), fd.get(name)!.values, fd.get(name)!.indices), name).toBeLessThan(1e-4);
      }
    });
  }

  it('refuses an ellipsis with the reason, when the graph is built', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    expect(() => b.op('Einsum', [x], { equation: '...ij->...ji' })).toThrow(/ellipsis/);
  });
});
