// A batch size is an upper bound on the rows per run: one far above the work runs what there is,
// with the same result as the default, and allocates nothing for rows that never run.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { explain } from '../../src/methods/explain/index.js';
import type { MethodName } from '../../src/methods/explain/types.js';
import { courseModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 29) / 29) };

describe('a batch size far above the work', () => {
  it('gives the default batch size\'s maps for the methods that batch many rows (it used to throw RangeError: Invalid typed array length)', async () => {
    const methods: MethodName[] = ['smoothgrad', 'integrated-gradients', 'gradient-shap', 'scorecam', 'occlusion', 'ablationcam'];
    const options = { methods, smoothgrad: { samples: 3 }, integratedGradients: { steps: 3 }, shap: { samples: 3, count: 2 }, scorecam: { mode: 'brute-force' as const } };
    const reference = await explain(model, x, options);
    const huge = await explain(model, x, { ...options, batchSize: 1e9 });
    expect(huge.skipped).toEqual([]);
    huge.attributions.forEach((a, i) => {
      const want = reference.attributions[i]!.map.data as Float32Array;
      const got = a.map.data as Float32Array;
      for (let k = 0; k < want.length; k++) expect(got[k]).toBeCloseTo(want[k]!, 4);
    });
  });
});
