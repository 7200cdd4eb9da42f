// A NaN or infinity in the input or in a numeric option is refused up front: it used to come
// back as NaN maps for some methods and all-zero maps for others, with nothing to say why.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import type { ExplainOptions } from '../../src/methods/explain/types.js';
import { randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { infidelity, maxSensitivity } from '../../src/methods/metrics/index.js';
import { courseModel } from './models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const image = (f: (i: number) => number): Tensor => ({ dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, i) => f(i)) });
const x = image((i) => (i % 29) / 29);

describe('non-finite numbers', () => {
  it('an input with NaN or infinite values', async () => {
    const e = await failure(explain(model, image((i) => (i === 3 || i === 9 ? Number.NaN : i === 5 ? Number.POSITIVE_INFINITY : 0.5)), { methods: ['gradient', 'integrated-gradients'] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('The input has 3 NaN or infinite values.');
  });

  it('an infinite noise, LRP epsilon or gamma, a baseline with NaN', async () => {
    const cases: [ExplainOptions, string][] = [
      [{ methods: ['smoothgrad'], smoothgrad: { noise: Number.POSITIVE_INFINITY } }, 'SmoothGrad noise must be a finite number >= 0'],
      [{ methods: ['gradient-shap'], shap: { noise: Number.POSITIVE_INFINITY } }, 'GradientSHAP noise must be a finite number >= 0'],
      [{ methods: ['lrp'], lrp: { epsilon: Number.POSITIVE_INFINITY } }, 'LRP epsilon must be a finite number >= 0'],
      [{ methods: ['lrp'], lrp: { gamma: Number.POSITIVE_INFINITY } }, 'LRP gamma must be a finite number >= 0'],
      [{ methods: ['integrated-gradients'], integratedGradients: { baseline: image((i) => (i === 0 ? Number.NaN : 0)) } }, 'The baseline has 1 NaN or infinite value.'],
      [{ methods: ['deeplift'], deeplift: { baseline: image(() => Number.NEGATIVE_INFINITY) } }, 'The baseline has 784 NaN or infinite values.'],
    ];
    for (const [options, message] of cases) {
      const e = await failure(explain(model, x, options));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(message);
    }
  });

  it('an infinite infidelity sigma or sensitivity radius', async () => {
    const sigma = await failure(infidelity(model, x, Int32Array.of(0), [randomMaps(1, 28, 28)], { sigma: Number.POSITIVE_INFINITY }));
    expect(sigma.message).toBe('Infidelity sigma must be a finite number > 0, got Infinity.');
    const radius = await failure(maxSensitivity(model, x, Int32Array.of(0), ['saliency'], {}, { radius: Number.POSITIVE_INFINITY }));
    expect(radius.message).toBe('Sensitivity radius must be a finite number > 0, got Infinity.');
  });
});
