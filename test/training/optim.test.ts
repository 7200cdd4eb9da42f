import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/training/checkpoint.js';
import { clipGradientNorm, createOptimizer } from '../../src/training/optimizers.js';
import { learningRate, parseSchedule } from '../../src/training/schedules.js';

const shapes = new Map<string, number[]>([
  ['w', [2, 2]],
  ['b', [2]],
]);
const start = (): Map<string, Float32Array> =>
  new Map([
    ['w', Float32Array.of(0.5, -1, 2, 0.25)],
    ['b', Float32Array.of(1, -2)],
  ]);
const gradsAt = (t: number): Map<string, Float32Array> =>
  new Map([
    ['w', Float32Array.of(0.1 * t, -0.3, 0.2, 1 / t)],
    ['b', Float32Array.of(-0.5, 0.05 * t)],
  ]);

/** float64 reference implementations of the PyTorch update rules. */
function reference(kind: 'sgd' | 'nesterov' | 'adamw', steps: number, lr: number, wd: number): Map<string, number[]> {
  const p = new Map([...start()].map(([k, v]) => [k, Array.from(v)]));
  const s1 = new Map([...p].map(([k, v]) => [k, v.map(() => 0)]));
  const s2 = new Map([...p].map(([k, v]) => [k, v.map(() => 0)]));
  for (let t = 1; t <= steps; t++) {
    const g = gradsAt(t);
    for (const [k, v] of p) {
      const decay = shapes.get(k)!.length >= 2 ? wd : 0;
      const m = s1.get(k)!;
      const s = s2.get(k)!;
      for (let i = 0; i < v.length; i++) {
        const gi = g.get(k)![i]!;
        if (kind === 'adamw') {
          v[i]! *= 1 - lr * decay;
          m[i] = 0.9 * m[i]! + 0.1 * gi;
          s[i] = 0.999 * s[i]! + 0.001 * gi * gi;
          const mh = m[i]! / (1 - 0.9 ** t);
          const vh = s[i]! / (1 - 0.999 ** t);
          v[i]! -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
        } else {
          const gg = gi + decay * v[i]!;
          m[i] = 0.9 * m[i]! + gg;
          v[i]! -= lr * (kind === 'nesterov' ? gg + 0.9 * m[i]! : m[i]!);
        }
      }
    }
  }
  return p;
}

describe('optimizers', () => {
  for (const kind of ['sgd', 'nesterov', 'adamw'] as const) {
    it(`${kind} matches the PyTorch update rule (weight decay on weights only)`, () => {
      const opt = createOptimizer(kind === 'adamw' ? { type: 'adam', weightDecay: 0.1 } : { type: 'sgd', momentum: 0.9, nesterov: kind === 'nesterov', weightDecay: 0.1 }, shapes);
      const p = start();
      for (let t = 1; t <= 5; t++) opt.update(p, gradsAt(t), 0.05);
      const ref = reference(kind, 5, 0.05, 0.1);
      for (const [k, v] of p) v.forEach((x, i) => expect(x).toBeCloseTo(ref.get(k)![i]!, 5));
      expect(opt.state.step).toBe(5);
    });
  }

  it('state saved after k steps and loaded into a fresh optimizer continues identically', () => {
    const a = createOptimizer({ type: 'adam' }, shapes);
    const pa = start();
    for (let t = 1; t <= 3; t++) a.update(pa, gradsAt(t), 0.01);
    const b = createOptimizer({ type: 'adam' }, shapes);
    b.load({ step: a.state.step, slots: new Map([...a.state.slots].map(([k, v]) => [k, v.slice()])) });
    const pb = new Map([...pa].map(([k, v]) => [k, v.slice()]));
    for (let t = 4; t <= 6; t++) {
      a.update(pa, gradsAt(t), 0.01);
      b.update(pb, gradsAt(t), 0.01);
    }
    for (const [k, v] of pa) expect(Array.from(pb.get(k)!)).toEqual(Array.from(v));
    expect(() => b.load({ step: 1, slots: new Map([['m/zzz', new Float32Array(2)]]) })).toThrow(/parameter the model does not have/);
  });

  it('clipGradientNorm scales to the maximum global norm', () => {
    const g = new Map([['a', Float32Array.of(3, 0)], ['b', Float32Array.of(4)]]);
    expect(clipGradientNorm(g, 1)).toBeCloseTo(5);
    expect(g.get('a')![0]).toBeCloseTo(0.6);
    expect(g.get('b')![0]).toBeCloseTo(0.8);
  });
});

describe('learning-rate schedules', () => {
  const base = { baseLr: 0.1, stepsPerEpoch: 10, totalSteps: 100 };
  it('constant, step, exponential, cosine, warmup', () => {
    expect(learningRate({ ...base, schedule: { type: 'constant' } }, 57)).toBe(0.1);
    const step = parseSchedule('step:3:0.5');
    expect(learningRate({ ...base, schedule: step }, 29)).toBeCloseTo(0.1);
    expect(learningRate({ ...base, schedule: step }, 30)).toBeCloseTo(0.05);
    expect(learningRate({ ...base, schedule: step }, 65)).toBeCloseTo(0.025);
    expect(learningRate({ ...base, schedule: parseSchedule('exp:0.5') }, 20)).toBeCloseTo(0.025);
    // PyTorch's CosineAnnealingLR(T_max=100, eta_min=0.01) on lr 0.1 uses 0.1, 0.055 and 0.0100222 at steps 0, 50 and 99
    const cos = parseSchedule('cosine:0.1');
    expect(learningRate({ ...base, schedule: cos }, 0)).toBeCloseTo(0.1, 12);
    expect(learningRate({ ...base, schedule: cos }, 50)).toBeCloseTo(0.055, 12);
    expect(learningRate({ ...base, schedule: cos }, 99)).toBeCloseTo(0.010022204783542078, 12);
    expect(learningRate({ ...base, schedule: { type: 'cosine' } }, 50)).toBeCloseTo(0.05, 12);
    // down to 0: the last step still learns (at 2.467e-5, as PyTorch), and only the end of the run is 0
    expect(learningRate({ ...base, schedule: { type: 'cosine' } }, 99)).toBeCloseTo(2.4671981713420017e-5, 15);
    expect(learningRate({ ...base, schedule: { type: 'cosine' } }, 100)).toBe(0);
    expect(learningRate({ ...base, schedule: { type: 'constant' }, warmupSteps: 4 }, 0)).toBeCloseTo(0.025);
    expect(learningRate({ ...base, schedule: { type: 'constant' }, warmupSteps: 4 }, 3)).toBeCloseTo(0.1);
  });

  it('explains a schedule it cannot read', () => {
    for (const bad of ['linear', 'step:2', 'exp', 'constant:1']) expect(() => parseSchedule(bad), bad).toThrow(/Cannot read the schedule/);
    // readable, but a value out of range: named, with its range
    expect(() => parseSchedule('cosine:5')).toThrow(/The final factor in the schedule "cosine:5" is 5; it must be from 0 to 1/);
    expect(() => parseSchedule('step:0:0.5')).toThrow(/The interval in the schedule "step:0:0.5" is 0; it must be a whole number of epochs, 1 or more/);
    expect(() => parseSchedule('exp:-1')).toThrow(/The factor in the schedule "exp:-1" is -1; it must be a number >= 0/);
    expect(() => parseSchedule('step:2:x')).toThrow(/The factor in the schedule "step:2:x" is x/);
  });
});

describe('checkpoint files', () => {
  const c = {
    meta: { fit: { step: 12 }, note: 'é' },
    tensors: new Map([
      ['param/w', { dtype: 'float32' as const, dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
      ['extra/blob', { dtype: 'uint8' as const, dims: [5], data: Uint8Array.of(9, 8, 7, 6, 5) }],
      ['param/b', { dtype: 'float32' as const, dims: [1], data: Float32Array.of(-0.5) }],
    ]),
  };

  it('round-trips metadata and tensors', () => {
    const back = decodeCheckpoint(encodeCheckpoint(c), 'ckpt');
    expect(back.meta).toEqual(c.meta);
    expect([...back.tensors.keys()]).toEqual([...c.tensors.keys()]);
    for (const [k, t] of c.tensors) {
      expect(back.tensors.get(k)!.dims).toEqual(t.dims);
      expect(Array.from(back.tensors.get(k)!.data as Float32Array)).toEqual(Array.from(t.data as Float32Array));
    }
  });

  it('rejects truncated and foreign files with a message', () => {
    const bytes = encodeCheckpoint(c);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 3), '"x.ckpt"')).toThrow(/"x.ckpt" is not a usable ConvLens checkpoint: tensor "param\/b" runs past the end/);
    expect(() => decodeCheckpoint(new TextEncoder().encode('hello world, not a checkpoint'), '"y"')).toThrow(/wrong magic bytes/);
  });
});
