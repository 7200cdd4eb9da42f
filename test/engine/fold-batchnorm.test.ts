// foldBatchNorms: inference BatchNorms join the Conv before them in gradient graphs, unless a
// caller can tell (the Conv output or a folded tensor is asked for, or is not a constant). The
// values themselves are checked against PyTorch float64 in grad-vectors.test.ts ("input gradient
// alone"); these check when folding happens and that the folded graph computes the same thing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph, type GradientRequest } from '../../src/engine/autodiff/gradient.js';
import { foldBatchNorms } from '../../src/engine/graph/fold-batchnorm.js';
import { importOnnx } from '../../src/engine/onnx/load.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { resnet } from '../../src/models/zoo/index.js';
import { randn, rng } from '../support/rng.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());

const net = resnet({ widths: [8, 16], blocks: 1, size: 32, classes: 5, seed: 3 });
const bnCount = (req: GradientRequest): number => buildGradientGraph(net, req).graph.nodes.filter((n) => n.op === 'BatchNormalization').length;
const seed = { upstream: ['fc'] } as const;

describe('folding BatchNorm into Conv for gradient graphs', () => {
  it('folds every conv+BN pair when only the input gradient is asked for', () => {
    expect(net.nodes.filter((n) => n.op === 'BatchNormalization').length).toBe(6);
    expect(bnCount({ seed, wrt: ['input'] })).toBe(0);
  });

  it('keeps a pair whose conv output, BN parameter or conv weight is asked for', () => {
    expect(bnCount({ seed, wrt: ['input'], outputs: ['conv1'] })).toBe(1);
    expect(bnCount({ seed, wrt: ['input', 'conv1'] })).toBe(1);
    expect(bnCount({ seed, wrt: ['input', 'bn1.weight'] })).toBe(1);
    expect(bnCount({ seed, wrt: ['input', 'conv1.weight'] })).toBe(1);
    expect(bnCount({ seed, wrt: ['input'], parametersAsInputs: ['layer1.0.bn1.running_mean'] })).toBe(1);
    // a BN output asked for is still produced, by the folded conv
    expect(bnCount({ seed, wrt: ['input', 'bn1'] })).toBe(0);
  });

  it('leaves a conv output that feeds anything besides the BN alone', () => {
    const g = net.clone();
    const conv1 = g.nodes.find((n) => n.op === 'Conv')!.outputs[0]!;
    g.outputs.push({ name: conv1, dtype: 'float32' });
    expect(foldBatchNorms(g, new Set())).toBe(5);
  });

  it('the folded gradient graph computes the unfolded one\'s logits and input gradient', async () => {
    const x: Tensor = { dtype: 'float32', dims: [3, 3, 32, 32], data: Float32Array.from(randn(rng(4), 3 * 3 * 1024)) };
    const dy: Tensor = { dtype: 'float32', dims: [3, 5], data: Float32Array.from(randn(rng(5), 15)) };
    const run = async (req: GradientRequest): Promise<{ logits: Float32Array; dx: Float32Array }> => {
      const gg = buildGradientGraph(net, req);
      const c = await engine.compileOnce(gg.graph);
      const out = await c.run({ input: x, [gg.seedInputs['fc']!]: dy });
      await c.release();
      return { logits: out['fc']!.data as Float32Array, dx: out[gg.gradientOutputs['input']!]!.data as Float32Array };
    };
    const folded = await run({ seed, wrt: ['input'], outputs: ['fc'] });
    // asking for every conv weight's gradient too keeps all pairs unfolded
    const convWeights = net.nodes.filter((n) => n.op === 'Conv').map((n) => n.inputs[1]!);
    const unfolded = await run({ seed, wrt: ['input', ...convWeights], outputs: ['fc'] });
    const close = (a: Float32Array, b: Float32Array): void => {
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * scale);
    };
    close(folded.logits, unfolded.logits);
    close(folded.dx, unfolded.dx);
  });

  it('folds the PyTorch-exported ResNet block of the grad-vectors fixtures', () => {
    const root = join(import.meta.dirname, '..', 'fixtures', 'grad-vectors', 'net_resblock');
    const g = importOnnx(readFileSync(join(root, 'model.onnx')), { source: 'net_resblock' });
    const before = g.nodes.filter((n) => n.op === 'BatchNormalization').length;
    expect(before).toBeGreaterThan(0);
    expect(buildGradientGraph(g, { seed: { upstream: ['y'] }, wrt: ['x'] }).graph.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(0);
  });
});
