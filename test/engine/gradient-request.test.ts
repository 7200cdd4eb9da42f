// A gradient request from a script is checked before the graph is built: a missing seed or wrt
// ended in "Cannot use 'in' operator to search for 'scalar' in undefined".
import { afterAll, describe, expect, it } from 'vitest';
import { buildGradientGraph, type GradientRequest } from '../../src/engine/autodiff/gradient.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { courseModel } from '../explain/models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend(), { threads: 1 });
afterAll(() => engine.dispose());
const model = courseModel(engine);
const x = { dtype: 'float32' as const, dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.5) };

describe('gradient requests', () => {
  it('refuses a request without a usable seed, wrt or outputs, naming what to pass', async () => {
    const bad: [unknown, RegExp][] = [
      [{}, /needs a seed/],
      [{ seed: {}, wrt: ['input'] }, /needs a seed/],
      [{ seed: { upstream: [] }, wrt: ['input'] }, /needs a seed/],
      [{ seed: { scalar: 3 }, wrt: ['input'] }, /needs a seed/],
      [{ seed: { upstream: [model.output] } }, /needs wrt/],
      [{ seed: { upstream: [model.output] }, wrt: 'input' }, /needs wrt/],
      [{ seed: { upstream: [model.output] }, wrt: ['input'], outputs: 'logits' }, /outputs must be a list/],
    ];
    for (const [request, message] of bad) {
      const e = await failure(model.gradients(x, request as GradientRequest));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(message);
      expect(() => buildGradientGraph(model.graph, request as GradientRequest)).toThrow(message);
    }
  });

  it('a well-formed request still builds and runs', async () => {
    const dy = { dtype: 'float32' as const, dims: [1, 10], data: Float32Array.from({ length: 10 }, (_, i) => (i === 3 ? 1 : 0)) };
    const r = await model.gradients(x, { seed: { upstream: [model.output] }, wrt: [model.input.name] }, { [model.output]: dy });
    expect(r.gradients[model.input.name]!.dims).toEqual([1, 1, 28, 28]);
  });
});
