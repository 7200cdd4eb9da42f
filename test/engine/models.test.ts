import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { f32, type Tensor } from '../../src/engine/tensor.js';
import type { Graph } from '../../src/engine/graph/ir.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { resnet, vggLike } from '../../src/models/zoo/index.js';
import { engineGradients, finiteDifferences, relativeMaxError } from '../support/gradcheck.js';
import { randn, rng } from '../support/rng.js';

// Whole-model gradients (input, an intermediate activation, parameters) of networks built in the
// repo, against float64 central differences on the reference evaluator. Deep float32 chains
// accumulate ~1e-6 relative error; 2e-5 keeps that margin while any wrong rule shows as O(1e-1).
// Seeded inputs keep ReLU/max-pool decisions away from ties in every run.
const TOL = 2e-5;
const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());

async function check(graph: Graph, size: number, wrt: string[], seed: number): Promise<Record<string, number>> {
  const rand = rng(seed);
  const x = f32([2, 3, size, size], randn(rand, 2 * 3 * size * size));
  const out = graph.outputs[0]!;
  const dy: Tensor = f32([2, out.shape![1] as number], randn(rand, 2 * (out.shape![1] as number)));
  const got = await engineGradients(engine, graph, { input: x }, out.name, dy, wrt);
  const fd = finiteDifferences(graph, { input: x }, out.name, dy, wrt, { maxCoords: 60 });
  const errors: Record<string, number> = {};
  for (const w of wrt) {
    const ref = fd.get(w)!;
    errors[w] = relativeMaxError(got.get(w)!.data as Float32Array, ref.values, ref.indices);
  }
  return errors;
}

describe('whole-model gradients against float64 finite differences', () => {
  it('VGG-like net (conv/relu/max-pool x4, GAP, dense)', async () => {
    const g = vggLike(3, 16);
    // conv2 (before its ReLU): the gradient at a ReLU *output* feeding a max-pool has ties at
    // all-zero windows, where finite differences are one-sided; see the next test for those.
    const errors = await check(g, 16, ['input', 'conv2', 'conv1.weight', 'conv3.bias', 'logits.weight'], 11);
    for (const [w, e] of Object.entries(errors)) expect(e, w).toBeLessThan(TOL);
  });

  it('routes each pool window to one winner when the gradient at a ReLU output is read (Grad-CAM)', async () => {
    const g = vggLike(3, 16);
    const rand = rng(5);
    const x = f32([1, 3, 16, 16], randn(rand, 3 * 16 * 16));
    const dy = f32([1, 10], randn(rand, 10));
    const got = await engineGradients(engine, g, { input: x }, 'logits', dy, ['relu2', 'pool2']);
    const dRelu = got.get('relu2')!.data as Float32Array; // [1, 64, 8, 8]
    const dPool = got.get('pool2')!.data as Float32Array; // [1, 64, 4, 4]
    let windowsWithTies = 0;
    for (let c = 0; c < 64; c++)
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          const cells = [0, 1, 2, 3].map((k) => dRelu[c * 64 + (2 * i + (k >> 1)) * 8 + 2 * j + (k & 1)]!);
          const nonzero = cells.filter((v) => v !== 0).length;
          const g0 = dPool[c * 16 + i * 4 + j]!;
          // PyTorch semantics: the whole window gradient lands on exactly one cell.
          expect(nonzero).toBeLessThanOrEqual(1);
          expect(cells.reduce((a, v) => a + v, 0)).toBeCloseTo(g0, 6);
          if (g0 !== 0 && cells.every((v, k) => k === 0 || v === 0) && cells[0] === g0) windowsWithTies++;
        }
    expect(windowsWithTies).toBeGreaterThan(0); // all-zero windows exist, so ties were exercised
  });

  it('ResNet-like net (7x7 stem, BN, overlapping max-pool, residual blocks with downsampling)', async () => {
    const g = resnet({ widths: [4, 8], blocks: 2, size: 24, classes: 5, seed: 2 });
    const errors = await check(g, 24, ['input', 'layer1.1.add', 'conv1.weight', 'layer2.0.downsample.0.weight', 'layer2.1.bn2.weight', 'fc.bias'], 12);
    for (const [w, e] of Object.entries(errors)) expect(e, w).toBeLessThan(TOL);
  });
});

describe('shape arithmetic as torch.onnx writes it for a dynamic batch', () => {
  // ShuffleNet's channel shuffle: x.view(n, groups, c // groups, h, w).transpose(1, 2).view(n, -1, h, w),
  // the sizes read with Shape + Gather, c // groups as an int64 Div, all joined by Concat.
  function shuffleNet(): Graph {
    const b = new GraphBuilder();
    const int64 = (v: number): string => b.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(v)) });
    const x = b.input('input', 'float32', ['batch', 3, 8, 8]);
    const w1 = b.initializer('w1', f32([8, 3, 3, 3], randn(rng(3), 8 * 27).map((v) => v * 0.3)));
    const y = b.op('Relu', [b.op('Conv', [x, w1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
    const dim = (i: number): string => b.op('Gather', [b.op('Shape', [y]), int64(i)], { axis: 0 });
    const one = (v: string): string => b.op('Unsqueeze', [v, b.ints([0])]);
    const perGroup = b.op('Div', [dim(1), int64(2)]);
    const grouped = b.op('Reshape', [y, b.op('Concat', [one(dim(0)), b.ints([2]), one(perGroup), one(dim(2)), one(dim(3))], { axis: 0 })]);
    const swapped = b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] });
    const back = b.op('Reshape', [swapped, b.op('Concat', [one(dim(0)), b.ints([-1]), one(dim(2)), one(dim(3))], { axis: 0 })], {}, { outputs: ['shuffled'] });
    const w2 = b.initializer('w2', f32([4, 8], randn(rng(4), 32).map((v) => v * 0.3)));
    b.op('Gemm', [b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Relu', [back])])]), w2], { transB: 1 }, { outputs: ['logits'] });
    b.output('logits');
    return b.build();
  }

  it('keeps every shape static but the batch, so the channel shuffle differentiates (Concat needs static sizes)', async () => {
    const g = shuffleNet();
    expect(GraphBuilder.over(g.clone(), { strict: false }).factsOf('shuffled').shape).toEqual(['batch', 8, 8, 8]);
    const errors = await check(g, 8, ['input'], 12);
    expect(errors['input']).toBeLessThan(TOL);
  });
});
