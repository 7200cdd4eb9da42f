// The faithfulness and robustness metrics check their arguments before running the model:
// a bad one gets a ConvLensError that names it, not a hang, a NaN curve or a stack trace.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { forChunks } from '../../src/methods/explain/session.js';
import { deletionInsertion, randomMaps } from '../../src/methods/metrics/deletion-insertion.js';
import { infidelity, maxSensitivity, randomizationCheck, road } from '../../src/methods/metrics/index.js';
import { courseModel } from './models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const x: Tensor = { dtype: 'float32', dims: [2, 1, 28, 28], data: Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 29) / 29) };
const maps = [randomMaps(2, 28, 28, 1)];
const targets = Int32Array.of(1, 2);

describe('batch size', () => {
  it('a batch size below 1 is refused by every metric that batches forward runs (it used to spin forever)', async () => {
    for (const batchSize of [0, -4, 0.5, Number.NaN]) {
      for (const run of [
        () => deletionInsertion(model, x, targets, maps, { steps: 2, batchSize }),
        () => road(model, x, targets, maps, { fractions: [0.5], batchSize }),
        () => infidelity(model, x, targets, maps, { samples: 2, batchSize }),
      ]) {
        const e = await failure(run());
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.message).toContain(`Batch size must be a positive integer, got ${batchSize}`);
        expect(e.hint).toContain('batch size of 1 or more');
      }
    }
  });

  it('a chunk loop refuses chunks of no items instead of looping on them', async () => {
    let calls = 0;
    const e = await failure(
      forChunks(3, 0, undefined, async () => {
        if (++calls > 5) throw new Error('looping');
      }),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(calls).toBe(0);
  });
});

describe('targets and inputs', () => {
  const metrics = (t: ArrayLike<number>, input: Tensor = x): (() => Promise<unknown>)[] => [
    () => deletionInsertion(model, input, t as Int32Array, maps, { steps: 2 }),
    () => road(model, input, t as Int32Array, maps, { fractions: [0.5] }),
    () => infidelity(model, input, t as Int32Array, maps, { samples: 2 }),
  ];

  it('a target out of range is refused, naming the image (the curves used to come back NaN)', async () => {
    for (const run of metrics(Int32Array.of(1, 10))) {
      const e = await failure(run());
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe('Target 10 of image 1 is out of range: model "course-0" has 10 classes (0-9).');
    }
    for (const run of metrics([-1, 0])) expect((await failure(run())).message).toContain('Target -1 of image 0');
    for (const run of metrics([0.5, 0])) expect((await failure(run())).message).toContain('Target 0.5 of image 0');
  });

  it('too few targets are refused (the missing ones used to read as class 0)', async () => {
    for (const run of metrics(Int32Array.of(1))) {
      const e = await failure(run());
      expect(e.message).toBe('1 targets given for 2 images.');
      expect(e.hint).toContain('one per image');
    }
  });

  it('an input the model does not take is refused with its own shape, before any run', async () => {
    const wrong: Tensor = { dtype: 'float32', dims: [2, 3, 28, 28], data: new Float32Array(2 * 3 * 784) };
    const flat: Tensor = { dtype: 'float32', dims: [2, 784], data: new Float32Array(2 * 784) };
    for (const input of [wrong, flat]) {
      for (const run of metrics(targets, input)) {
        const e = await failure(run());
        expect(e.code).toBe('SHAPE_MISMATCH');
        expect(e.message).toContain(`Input tensor has shape [${input.dims.join(', ')}]`);
      }
    }
  });

  it('ROAD with no fractions to remove (its means came back NaN)', async () => {
    const e = await failure(road(model, x, targets, maps, { fractions: [] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('ROAD needs at least one fraction of pixels to remove.');
  });
});

describe('seeds', () => {
  it('every seeded metric refuses a seed that is not an integer from 0 to 2^32 - 1, before any run (NaN ran as seed 0)', async () => {
    // a fresh engine that counts the sessions it compiles: no run happens without one
    let sessions = 0;
    const backend = nodeBackend();
    const countingEngine = new Engine({ ...backend, createSession: (m: Uint8Array, o: Parameters<typeof backend.createSession>[1]) => (sessions++, backend.createSession(m, o)) });
    const counting = courseModel(countingEngine);
    for (const seed of [Number.NaN, 1.5, -1, 2 ** 32, 'abc' as unknown as number]) {
      for (const [what, run] of [
        ['deletion/insertion', () => deletionInsertion(counting, x, targets, maps, { steps: 2, seed })],
        ['ROAD', () => road(counting, x, targets, maps, { fractions: [0.5], seed })],
        ['infidelity', () => infidelity(counting, x, targets, maps, { samples: 2, seed })],
        ['sensitivity', () => maxSensitivity(counting, x, targets, ['saliency'], {}, { samples: 2, seed })],
        ['sanity-check', () => randomizationCheck(counting, x, { methods: ['saliency'], seed })],
      ] as const) {
        const e = await failure(run());
        expect(e.code).toBe('INVALID_ARGUMENT');
        expect(e.message).toMatch(new RegExp(`^The ${what} seed must be an integer from 0 to 4294967295`, 'i'));
        expect(e.hint).toContain('whole number');
      }
    }
    expect(sessions).toBe(0);
    await countingEngine.dispose();
  });

  it('the largest seed, 2^32 - 1, is accepted and orders tied pixels its own way', async () => {
    // a flat map is all ties, so the seed alone decides which pixels go first
    const flat = [{ dtype: 'float32', dims: [2, 28, 28], data: new Float32Array(2 * 784) } as Tensor];
    const curves = (seed: number) => deletionInsertion(model, x, targets, flat, { steps: 4, seed }).then((c) => c[0]!.deletion);
    const last = await curves(2 ** 32 - 1);
    expect(await curves(2 ** 32 - 1)).toEqual(last);
    expect(await curves(0)).not.toEqual(last);
  });

  it('a sanity check given no layers says so (it said the model had no layers with weights)', async () => {
    const e = await failure(randomizationCheck(model, x, { methods: ['saliency'], layers: [] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('No layers given to randomize (layers: []).');
    expect(e.hint).toMatch(/^Leave layers out .* or name some: logits, /);
  });
});
