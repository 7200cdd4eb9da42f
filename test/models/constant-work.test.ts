// The work a model asks ONNX Runtime to spend on values computed from its constants alone, planned
// from shapes as the model loads (src/models/constant-work.ts): refused past CONSTANT_WORK_BOUND,
// at the bound it loads; the built-in models ask for next to none (torchvision exports checked
// by hand ask for at most 2.2e5 steps: Identity copies of shared weights, shape arithmetic).
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { CONSTANT_WORK_BOUND, constantWork } from '../../src/models/constant-work.js';
import { loadModel } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { cnnReading, fill, shapeConstant } from '../support/constant-graphs.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

/**
 * A ConstantOfShape of `n` ones, summed by the network: n + 1 steps to fill (its shape and its
 * values), n + 1 to sum, 3 to multiply the sum by zero: 2n + 5.
 */
const filled = (n: number): Node[] => [shapeConstant('n', [n]), fill('x', 'n', 1)];

describe('the work of values computed from constants alone', () => {
  it('is refused just past the bound, naming the costliest node, and loads at the bound', () => {
    const under = (CONSTANT_WORK_BOUND - 5) / 2 - 0.5;
    const at = Model.fromOnnxGraph(cnnReading(filled(under), 'x'), engine, 'at');
    const work = constantWork(at.graph, at.builder());
    expect(work.reduce((sum, n) => sum + n.work, 0)).toBe(CONSTANT_WORK_BOUND - 1);
    expect(work.map((n) => n.op)).toEqual(['ConstantOfShape', 'ReduceSum', 'Mul']);
    expect(work[0]).toMatchObject({ name: 'x', dims: [under], work: under + 1 });
    expect(() => Model.fromOnnxGraph(cnnReading(filled(under + 1), 'x'), engine, 'past')).toThrow(
      /^Model "past" computes values from its constants alone that take 1\.1e9 steps of kernel work, more than the 1\.1e9 ConvLens lets ONNX Runtime spend on them \(seconds to minutes on every session or run\): the costliest is ConstantOfShape node "x", 5\.4e8 steps for its \[536870910\] output, of 1\.1e9 over 3 such nodes\.$/,
    );
  });

  it('is next to none in the built-in models', () => {
    for (const name of ['fashion-cnn', 'squeezenet']) {
      const model = loadModel(name, engine);
      const total = constantWork(model.graph, model.builder()).reduce((sum, n) => sum + n.work, 0);
      expect(total, name).toBeLessThan(CONSTANT_WORK_BOUND / 1000);
    }
  });
});
