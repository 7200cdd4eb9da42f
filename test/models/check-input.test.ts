// A batch the model cannot take is refused by Model.checkInput with what is wrong and what to
// pass, before ONNX Runtime sees it (its errors name neither the model nor the way out).
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import { courseModel } from '../explain/models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const tensorOf = (t: unknown): Tensor => t as Tensor;

describe('Model.checkInput', () => {
  it('data that does not hold the shape\'s values', async () => {
    const short = tensorOf({ dtype: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(10) });
    for (const run of [() => model.run(short), () => explain(model, short, { methods: ['gradient'] })]) {
      const e = await failure(run());
      expect(e.code).toBe('SHAPE_MISMATCH');
      expect(e.message).toBe('Input tensor has shape [1, 1, 28, 28] (784 values) but its data holds 10.');
    }
  });

  it('float32 values in another kind of array', async () => {
    const wide = tensorOf({ dtype: 'float32', dims: [1, 1, 28, 28], data: new Float64Array(784) });
    const e = await failure(explain(model, wide, { methods: ['gradient'] }));
    expect(e.message).toBe('Input tensor is float32 but its data is a Float64Array.');
    expect(e.hint).toContain('Float32Array.from');
  });

  it('something that is not a tensor, and a batch of no images', async () => {
    for (const [x, shown] of [[null, 'null'], [new Float32Array(784), 'a Float32Array']] as const) {
      const e = await failure(explain(model, tensorOf(x), { methods: ['gradient'] }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(`The input is a tensor { dtype, dims, data }, got ${shown}.`);
    }
    const empty = await failure(explain(model, { dtype: 'float32', dims: [0, 1, 28, 28], data: new Float32Array(0) }, { methods: ['gradient'] }));
    expect(empty.message).toContain('it holds no images');
  });
});
