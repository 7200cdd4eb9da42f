// dream(), invert() and attack() called from a script check their numeric options as the CLI
// flags do: 0 octaves, a NaN octave scale or -1 steps used to end in a TypeError or a RangeError,
// and 0 attack steps or an infinite step size in a non-finite result.
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { attack } from '../../src/methods/synthesize/adversarial.js';
import { dream } from '../../src/methods/synthesize/dream.js';
import { featureVisualization } from '../../src/methods/synthesize/featviz.js';
import { invert } from '../../src/methods/synthesize/inversion.js';
import { courseModel } from '../explain/models.js';
import { failure } from '../support/failure.js';

const engine = new Engine(nodeBackend());
afterAll(() => engine.dispose());

const model = courseModel(engine);
const image: Tensor = { dtype: 'float32', dims: [1, 1, 28, 28], data: Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 29) };

describe('synthesis option checks', () => {
  it('dream: octaves, octave scale, steps, step size, jitter', async () => {
    const cases: [Parameters<typeof dream>[2], string, string][] = [
      [{ octaves: 0 }, 'The octave count must be an integer of at least 1, got 0.', '--octaves'],
      [{ octaveScale: Number.NaN }, 'The octave scale must be a finite number of at least 1, got NaN.', '--octave-scale'],
      [{ steps: 2.5 }, 'The step count must be an integer of at least 1, got 2.5.', '--steps'],
      [{ stepSize: 0 }, 'The step size must be a finite number above 0, got 0.', '--step-size'],
      [{ jitter: -5 }, 'The jitter must be an integer of at least 0, got -5.', '--jitter'],
    ];
    for (const [options, message, flag] of cases) {
      const e = await failure(dream(model, image, options));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(message);
      expect(e.hint).toContain(flag);
    }
  });

  it('invert: steps, learning rate, TV weight', async () => {
    expect((await failure(invert(model, image, { layers: ['conv1'], steps: -1 }))).message).toBe('The step count must be an integer of at least 1, got -1.');
    expect((await failure(invert(model, image, { layers: ['conv1'], lr: Number.POSITIVE_INFINITY }))).message).toBe('The learning rate must be a finite number above 0, got Infinity.');
    expect((await failure(invert(model, image, { layers: ['conv1'], tv: -1 }))).message).toBe('The TV weight must be a finite number of at least 0, got -1.');
  });

  it('attack: steps, step size, a target that is no class, epsilon checked first', async () => {
    expect((await failure(attack(model, image, { steps: 0 }))).message).toBe('The step count must be an integer of at least 1, got 0.');
    expect((await failure(attack(model, image, { stepSize: Number.POSITIVE_INFINITY }))).message).toBe('The step size must be a finite number above 0, got Infinity.');
    expect((await failure(attack(model, image, { target: {} as unknown as number }))).message).toBe('A target class is an index or a label, got an object.');
    expect((await failure(attack(model, image, { target: 1.5 }))).message).toContain('Class 1.5 does not exist');
    expect((await failure(attack(model, image, { epsilon: Number.NaN }))).message).toBe('The budget epsilon must be positive and finite, got NaN.');
  });

  it('featureVisualization: steps, learning rate, image size, batch', async () => {
    const objective = 'channel:conv1:0';
    const cases: [Omit<Parameters<typeof featureVisualization>[1], 'objective'>, string][] = [
      [{ steps: Number.NaN }, 'The step count must be an integer of at least 1, got NaN.'],
      [{ lr: -1 }, 'The learning rate must be a finite number above 0, got -1.'],
      [{ size: [0, 0] }, 'The image size must be [height, width] with whole sides from 8 to 4096, got [0, 0].'],
      [{ size: [100_000, 100_000] }, 'The image size must be [height, width] with whole sides from 8 to 4096, got [100000, 100000].'],
      [{ batch: 0 }, 'The batch size must be an integer of at least 1, got 0.'],
    ];
    for (const [options, message] of cases) {
      const e = await failure(featureVisualization(model, { ...options, objective }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toBe(message);
    }
  });

  it('images to attack, invert or dream on must be finite pixels in [0, 1] (a NaN image was "attacked" into NaNs, 0-255 pixels clipped to white)', async () => {
    const nan: Tensor = { ...image, data: Float32Array.from(image.data as Float32Array, (v, i) => (i === 7 ? Number.NaN : v)) };
    const bytes: Tensor = { ...image, data: Float32Array.from(image.data as Float32Array, (v) => v * 255) };
    const flat: Tensor = { dtype: 'float32', dims: [1, 784], data: new Float32Array(784) };
    for (const [what, run] of [
      ['images to attack', (t: Tensor) => attack(model, t, { steps: 2 })],
      ['images to invert', (t: Tensor) => invert(model, t, { layers: ['conv1'], steps: 2 })],
      ['images to dream on', (t: Tensor) => dream(model, t, { steps: 1, octaves: 1 })],
    ] as const) {
      const a = await failure(run(nan));
      expect(a.message).toBe(`The ${what} have 1 NaN or infinite value.`);
      const b = await failure(run(bytes));
      expect(b.message).toMatch(new RegExp(`^The ${what} have \\d+ values outside \\[0, 1\\]`));
      expect(b.hint).toContain('divide 0-255 values by 255');
      const c = await failure(run(flat));
      expect(c.message).toContain('[N, C, H, W]');
    }
  });
});
