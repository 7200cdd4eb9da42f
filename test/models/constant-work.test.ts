// The work a model asks ONNX Runtime to spend on values computed from its constants alone, planned
// from shapes as the model loads (src/models/constant-work.ts): refused past CONSTANT_WORK_BOUND
// steps or CONSTANT_BYTES_BOUND bytes folded, at the bounds it loads; the built-in models ask for next to none (torchvision exports checked
// by hand ask for at most 2.2e5 steps: Identity copies of shared weights, shape arithmetic).
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/engine/graph/ir.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { CONSTANT_BYTES_BOUND, CONSTANT_WORK_BOUND, constantBounds, constantWork } from '../../src/models/constant-work.js';
import { loadModel } from '../../src/models/load.js';
import { Model } from '../../src/models/model.js';
import { cnnReading, fill, nodeOf, shapeConstant } from '../support/constant-graphs.js';
import { ints, str } from '../support/onnx-files.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(async () => {
  await engine.dispose();
});

/**
 * An Einsum "i,j->" of two stored `n`-long vectors, summed by the network: n^2 products of
 * little memory, 5n^2 + 2n + 1 steps (every combination of the letters, reading an element of
 * each operand), and 5 more to sum the scalar and multiply it by zero.
 */
function products(n: number): Graph {
  const g = cnnReading([nodeOf('Einsum', ['a', 'b'], 'y', { equation: str('i,j->') })], 'y');
  for (const name of ['a', 'b']) g.initializers.set(name, { dtype: 'float32', dims: [n], data: new Float32Array(n).fill(1) });
  return g;
}

/** A ConstantOfShape of `n` floats, summed by the network: 4n bytes, and the scalars 8 more. */
const filled = (n: number): Graph => cnnReading([shapeConstant('n', [n]), fill('x', 'n', 1)], 'x');

describe('the work of values computed from constants alone', () => {
  it('is refused just past the bound of steps, naming the costliest node, and loads at the bound', () => {
    // the largest n whose 5n^2 + 2n + 6 steps are within the bound
    const n = Math.floor((-2 + Math.sqrt(4 - 20 * (6 - CONSTANT_WORK_BOUND))) / 10);
    const at = Model.fromOnnxGraph(products(n), engine, 'at');
    const work = constantWork(at.graph, at.builder());
    expect(work.reduce((sum, w) => sum + w.work, 0)).toBe(5 * n * n + 2 * n + 6);
    expect(work.reduce((sum, w) => sum + w.work, 0)).toBeLessThanOrEqual(CONSTANT_WORK_BOUND);
    expect(work[0]).toMatchObject({ name: 'y', op: 'Einsum', dims: [] });
    expect(() => Model.fromOnnxGraph(products(n + 1), engine, 'past')).toThrow(
      /^Model "past" computes values from its constants alone that take 1\.1e9 steps of kernel work, more than the 1\.1e9 ConvLens lets ONNX Runtime spend on them \(seconds to minutes on every session or run\): the costliest is Einsum node "y", 1\.1e9 steps for its \[\] output, of 1\.1e9 over 3 such nodes\.$/,
    );
  });

  it('is refused just past the bound of bytes folded, naming the largest value, and loads at the bound', () => {
    const n = (CONSTANT_BYTES_BOUND - 8) / 4;
    const at = Model.fromOnnxGraph(filled(n), engine, 'at');
    const work = constantWork(at.graph, at.builder());
    expect(work.reduce((sum, w) => sum + w.bytes, 0)).toBe(CONSTANT_BYTES_BOUND);
    expect(() => Model.fromOnnxGraph(filled(n + 1), engine, 'past')).toThrow(
      /^Model "past" computes 256 MB of values from its constants alone, more than the 256 MB ConvLens lets ONNX Runtime fold for it \(its constant folding takes 20-30 s a gigabyte, on every session\): the largest is ConstantOfShape node "x", 256 MB for its \[67108863\] output, of 3 such nodes\.$/,
    );
  });

  it('grows with the weights a model stores: its own weights rearranged as it runs load, values generated beyond them do not', () => {
    // an export without constant folding: a stored weight of 272 MB transposed before it is used
    const n = 2 ** 26 + 2 ** 20;
    const rearranged = (extra: Graph['nodes'] = [], read = 'wt'): Graph => {
      const g = cnnReading([nodeOf('Transpose', ['w'], 'wt', { perm: ints([1, 0]) }), ...extra], read);
      g.initializers.set('w', { dtype: 'float32', dims: [n / 64, 64], data: new Float32Array(n) });
      return g;
    };
    const stored = rearranged();
    expect(constantBounds(stored).bytes).toBeGreaterThanOrEqual(2 * 4 * n);
    const model = Model.fromOnnxGraph(stored, engine, 'transposed');
    expect(constantWork(model.graph, model.builder())[0]).toMatchObject({ op: 'Transpose', bytes: 4 * n });
    // the same file generating more than twice what it stores
    const generated = rearranged([shapeConstant('big', [2 * n + 2 ** 20]), fill('x', 'big', 1), nodeOf('ReduceSum', ['x'], 'xs'), nodeOf('ReduceSum', ['wt'], 'ws'), nodeOf('Add', ['xs', 'ws'], 'both')], 'both');
    expect(() => Model.fromOnnxGraph(generated, engine, 'generated')).toThrow(/^Model "generated" computes 7\d\d MB of values from its constants alone, more than the 52\d MB ConvLens lets ONNX Runtime fold for it .*the largest is ConstantOfShape node "x"/);
  });

  it('is next to none in the built-in models', () => {
    for (const name of ['fashion-cnn', 'squeezenet']) {
      const model = loadModel(name, engine);
      const total = constantWork(model.graph, model.builder()).reduce((sum, n) => sum + n.work, 0);
      expect(total, name).toBeLessThan(CONSTANT_WORK_BOUND / 1000);
    }
  });
});
