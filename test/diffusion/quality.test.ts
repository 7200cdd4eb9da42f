import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/runtime/engine.js';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { conditionalAccuracy } from '../../src/methods/diffusion/evaluate.js';
import { ClassConditionalGenerator } from '../../src/methods/diffusion/generate.js';
import { loadDenoiser } from '../../src/methods/diffusion/model.js';
import { sample } from '../../src/methods/diffusion/sampler.js';
import { loadBuiltinModel } from '../../src/models/load.js';

// The committed denoiser (assets/models/fashion-unet.onnx), judged by the committed classifier.
const engine = new Engine(nodeBackend(), { threads: 2 });
afterAll(() => engine.dispose());
const denoiser = loadDenoiser(undefined, engine);
const bits = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('the built-in Fashion-MNIST denoiser', () => {
  it('samples for each class prompt are classified as that class >= 80% of the time on average (guidance 3)', async () => {
    const classifier = loadBuiltinModel(engine);
    const [r] = await conditionalAccuracy(denoiser, classifier, { perClass: 12, guidanceScales: [3], steps: 25, seed: 1 });
    const perClass = r!.metrics.perClass.map((p) => `${p.label} ${(p.accuracy * 100).toFixed(0)}%`).join(', ');
    expect(r!.accuracy, perClass).toBeGreaterThanOrEqual(0.8);
  });

  it('a seeded sample is repeatable bit for bit, and a different seed gives different images', async () => {
    const o = { conditions: [9, 1], unconditional: denoiser.unconditional, numImagesPerPrompt: 2, guidanceScale: 3, steps: 10, sampler: 'ddpm' as const, seed: 42 };
    const a = await sample(denoiser, o);
    const b = await sample(denoiser, o);
    expect(bits(a.images)).toBe(bits(b.images));
    expect(bits((await sample(denoiser, { ...o, seed: 43 })).images)).not.toBe(bits(a.images));
  });

  it('guidance_scale 1 equals the conditional model alone: the same images as a DDIM loop over conditional predictions', async () => {
    const calls: number[][] = [];
    const spy = { ...denoiser, shape: denoiser.shape, schedule: denoiser.schedule, predictionType: denoiser.predictionType, clipRange: denoiser.clipRange, predict: (x: Float32Array, n: number, t: number, c: readonly number[]) => (calls.push([...c]), denoiser.predict(x, n, t, c)) };
    const r = await sample(spy, { conditions: [3, 7], unconditional: denoiser.unconditional, guidanceScale: 1, steps: 8, seed: 9 });
    expect(calls.flat().includes(denoiser.unconditional)).toBe(false);
    // The same run with the unconditional branch present but weighted 0: eps_u + 1 (eps_c - eps_u) = eps_c up to rounding.
    const viaFormula = await sample(spy, { conditions: [3, 7], unconditional: denoiser.unconditional, guidanceScale: 1 + 1e-7, steps: 8, seed: 9 });
    let max = 0;
    for (let i = 0; i < r.images.length; i++) max = Math.max(max, Math.abs(r.images[i]! - viaFormula.images[i]!));
    expect(max).toBeLessThan(1e-3);
  });

  it('DDIM with eta 0 is deterministic given the starting noise', async () => {
    const gen = new ClassConditionalGenerator(denoiser);
    const a = await gen.generate({ prompts: ['dress'], seed: 5, numInferenceSteps: 10, guidanceScale: 2 });
    const b = await gen.generate({ prompts: ['dress'], seed: 5, numInferenceSteps: 10, guidanceScale: 2 });
    expect(Buffer.from(a.images[0]!.data).equals(Buffer.from(b.images[0]!.data))).toBe(true);
    expect(a.settings.eta).toBe(0);
  });
});
