// Graphs are built at opset 17, where ReduceMean (and every reduction but ReduceSum) takes its
// axes as an attribute. Given the opset-18 form (axes as a second input), the builder computed the
// shape of a reduction over every axis while ONNX Runtime reduced only the axes given, so the
// gradient graph failed at run time with "invalid expand shape". The builder now refuses the node.
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../src/engine/autodiff/gradient.js';
import { GraphBuilder } from '../../src/engine/graph/builder.js';
import { expectConvLensError } from '../support/onnx-files.js';

describe('reductions with axes as an input', () => {
  it('ReduceMean with a second (axes) input is refused, naming the node and the attribute to use', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 4, 4]);
    const axes = b.ints([2, 3]);
    const e = expectConvLensError(() => b.op('ReduceMean', [x, axes], { keepdims: 0 }, { name: 'pool', outputs: ['logits'] }), 'INVALID_ARGUMENT');
    expect(e.message).toMatch(/ReduceMean "pool".*second input.*opset 17/);
    expect(e.hint).toMatch(/axes: \[/);
  });

  it('ReduceMean with axes as the attribute keeps the other axes, and its gradient builds', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 4, 4]);
    b.output(b.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 }, { outputs: ['logits'] }));
    expect(b.shapeOf('logits')).toEqual([1, 8]);
    const grad = buildGradientGraph(b.build(), { seed: { upstream: ['logits'] }, wrt: ['x'] });
    expect(grad.gradientOutputs['x']).toBeDefined();
  });

  it('ReduceSum still takes its axes as an input (opset 13 and later)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 4, 4]);
    expect(b.shapeOf(b.op('ReduceSum', [x, b.ints([2, 3])], { keepdims: 0 }))).toEqual([1, 8]);
  });
});
