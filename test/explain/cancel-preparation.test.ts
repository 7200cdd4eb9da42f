// An abort that fires while a run's inputs are still being prepared (ROAD imputes each one by a
// linear solve) is honoured before the run, not after every input of the batch is ready.
import { afterAll, describe, expect, it } from 'vitest';
import { ConvLensError } from '../../src/engine/errors.js';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { scoreInputs, Work } from '../../src/methods/explain/session.js';
import { infidelity } from '../../src/methods/metrics/robustness.js';
import { courseModel } from './models.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // stands for a slow imputation
  }
};

describe('cancellation while inputs are prepared', () => {
  it('stops within a few slow inputs of the abort, inside one batch', async () => {
    const model = courseModel(engine);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 60);
    let filled = 0;
    const work = new Work({ signal: controller.signal }, 'road', 1);
    const run = scoreInputs(
      model,
      [1, 28, 28],
      16,
      16,
      (_, into) => {
        busy(30);
        into.fill(0.5);
        filled++;
      },
      () => 0,
      'logit',
      work,
    );
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).code).toBe('CANCELLED');
    expect(filled).toBeLessThan(8);
  });
});

describe('cancellation while infidelity draws its perturbations', () => {
  it('stops within a pause of the abort, before drawing them all', async () => {
    const model = courseModel(engine);
    const x = { dtype: 'float32' as const, dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.5) };
    const map = { dtype: 'float32' as const, dims: [1, 1, 28, 28], data: new Float32Array(784).fill(1) };
    const controller = new AbortController();
    // 20,000 copies of 784 values: about a second of drawing, which ran to the end before
    const start = performance.now();
    setTimeout(() => controller.abort(), 30);
    const error = await infidelity(model, x, Int32Array.of(0), [map], { samples: 20_000, signal: controller.signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // measured from when the abort was due: a loop that never lets the timer run delays it too
    const late = performance.now() - (start + 30);
    expect(error).toBeInstanceOf(ConvLensError);
    expect((error as ConvLensError).code).toBe('CANCELLED');
    expect(late).toBeLessThan(400);
  });
});

