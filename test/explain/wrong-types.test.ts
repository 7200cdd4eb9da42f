// Plain JavaScript callers can pass anything: a value of the wrong type gets a ConvLensError
// that names what was passed and what to pass, not a TypeError from deep inside.
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError, describeValue } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import type { ExplainOptions } from '../../src/methods/explain/types.js';
import { courseModel } from './models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 29) / 29) };

const untyped = (o: unknown): ExplainOptions => o as ExplainOptions;

describe('options of the wrong type', () => {
  it('a target that is neither an index nor a label', async () => {
    for (const [target, shown] of [[{}, 'an object'], [null, 'null'], [true, 'true'], [[0, {}], 'an object']] as const) {
      const e = await failure(explain(model, x, untyped({ methods: ['gradient'], target })));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(`A target is a class index or a label, got ${shown}.`);
      expect(e.hint).toContain('class index (0-9)');
    }
  });

  it('a layer that is not a string', async () => {
    const e = await failure(explain(model, x, untyped({ methods: ['gradcam'], layer: 3 })));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('A layer is named by a string, got 3.');
    expect(() => model.resolveLayer(undefined as unknown as string)).toThrow(ConvLensError);
  });

  it('methods that are not a list of names, and no options at all', async () => {
    const one = await failure(explain(model, x, untyped({ methods: 'gradcam' })));
    expect(one.message).toBe('Methods are given as a list of names, got "gradcam".');
    expect(one.hint).toContain("methods: ['gradcam', 'integrated-gradients']");
    expect((await failure(explain(model, x, untyped({})))).message).toBe('Methods are given as a list of names, got undefined.');
    expect((await failure(explain(model, x, untyped(undefined)))).message).toBe('explain() takes an options object, got undefined.');
  });

  it('describeValue names a value by what it is', () => {
    expect([describeValue('a'), describeValue(3n), describeValue([1]), describeValue(new Float32Array(1)), describeValue(() => 1)]).toEqual(['"a"', '3n', 'an array', 'a Float32Array', 'a function']);
  });

  it('a saliency reduction or Guided Grad-CAM interpolation it does not know (they ran as sum and nearest)', async () => {
    const reduce = await failure(explain(model, x, untyped({ methods: ['saliency'], saliency: { reduce: 'mean' } })));
    expect(reduce.code).toBe('INVALID_ARGUMENT');
    expect(reduce.message).toBe('Unknown saliency reduction "mean".');
    const interpolate = await failure(explain(model, x, untyped({ methods: ['guided-gradcam'], guidedGradcam: { interpolate: 'bicubic' } })));
    expect(interpolate.message).toBe('Unknown Guided Grad-CAM interpolation "bicubic".');
  });
});

describe('seeds', () => {
  it('are integers from 0 to 2^32 - 1: NaN, 1.5 or a string are refused by name, not run as some seed', async () => {
    for (const seed of [Number.NaN, 1.5, -1, 2 ** 32, 'abc']) {
      const e = await failure(explain(model, x, untyped({ methods: ['smoothgrad'], smoothgrad: { samples: 2, seed } })));
      expect(e.message).toMatch(/The SmoothGrad seed must be an integer from 0 to 4294967295/);
      const shap = await failure(explain(model, x, untyped({ methods: ['gradient-shap'], shap: { samples: 2, seed } })));
      expect(shap.message).toMatch(/The SHAP seed must be an integer from 0 to 4294967295/);
    }
    const fine = await explain(model, x, { methods: ['smoothgrad'], smoothgrad: { samples: 2, seed: 4294967295 } });
    expect(fine.attributions[0]!.params['seed']).toBe(4294967295);
  });
});
