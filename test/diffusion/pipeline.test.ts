import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/engine/runtime/node.js';
import { StableDiffusionPipeline } from '../../src/methods/diffusion/pipeline.js';
import type { GenerateRequest, GenerateResult } from '../../src/methods/diffusion/generate.js';
import { TINY_WORDS, writeTinySdPipeline } from './tiny-sd.js';
import { tempFolder } from '../support/temp-folder.js';

// End to end through a tiny randomly initialized SD-style pipeline (builder-made ONNX files with
// diffusers' input/output names, CLIP BPE vocabulary files, SD 1.x scheduler config).
const root = tempFolder('convlens-tiny-sd-');
const backend = nodeBackend();
let pipe: StableDiffusionPipeline;
let pipeInt64: StableDiffusionPipeline;

beforeAll(async () => {
  writeTinySdPipeline({ dir: join(root, 'float'), seed: 1 });
  writeTinySdPipeline({ dir: join(root, 'int64'), seed: 2, timestepType: 'int64' });
  pipe = await StableDiffusionPipeline.open(join(root, 'float'), backend, { threads: 1 });
  pipeInt64 = await StableDiffusionPipeline.open(join(root, 'int64'), backend, { threads: 1 });
});

afterAll(async () => {
  await pipe?.release();
  await pipeInt64?.release();
  rmSync(root, { recursive: true, force: true });
});

const pixels = (r: GenerateResult): string => Buffer.concat(r.images.map((i) => Buffer.from(i.data))).toString('hex');
const latents = (r: GenerateResult): string => Buffer.from(r.frames[r.frames.length - 1]!.x0.buffer).toString('hex');
const base: GenerateRequest = { prompts: ['a photo of a cat'], numInferenceSteps: 12, guidanceScale: 7.5, seed: 7, previewEvery: 4 };

describe('Stable-Diffusion-style ONNX pipeline (tiny, random weights)', () => {
  it('reads the scheduler config, the tokenizer and the components', () => {
    expect(pipe.scheduler).toMatchObject({ betaSchedule: 'scaled_linear', stepsOffset: 1, setAlphaToOne: false, predictionType: 'epsilon' });
    expect(pipe.imageSize).toEqual([64, 64]);
    expect(pipe.tokenizer.tokenize('A photo of a CAT')).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>']);
    expect(pipe.name).toBe('tiny-random-sd');
  });

  it('produces num_images_per_prompt images per prompt of the VAE size, and latent previews', async () => {
    const r = await pipe.generate({ ...base, prompts: ['a photo of a cat', 'a red car'], numImagesPerPrompt: 3 });
    expect(r.images.length).toBe(6);
    expect(r.promptOf).toEqual([0, 0, 0, 1, 1, 1]);
    for (const img of r.images) expect([img.width, img.height, img.channels]).toEqual([64, 64, 3]);
    // SD's "leading" spacing with steps_offset 1: 12 steps of 83, from 914 down to 1.
    expect(r.timesteps[0]).toBe(914);
    expect(r.timesteps[11]).toBe(1);
    expect(r.frames.map((f) => f.step)).toEqual([0, 4, 8, 11]);
    expect(r.frames[0]!.x.length).toBe(6 * 4 * 8 * 8);
    const preview = r.frameImage(r.frames[1]!.x0, 5);
    expect([preview.width, preview.height, preview.channels]).toEqual([8, 8, 3]);
    expect(r.settings.rowsPerStep).toBe(12); // conditional + unconditional rows
    // The images are not flat: the random VAE still maps different latents to different colors.
    expect(new Set(r.images[0]!.data).size).toBeGreaterThan(10);
  });

  it('the same seed gives the same images bit for bit; another seed, other images', async () => {
    const a = await pipe.generate(base);
    const b = await pipe.generate(base);
    expect(pixels(a)).toBe(pixels(b));
    expect(latents(a)).toBe(latents(b));
    const c = await pipe.generate({ ...base, seed: 8 });
    expect(latents(c)).not.toBe(latents(a));
    // DDPM draws fresh noise every step from the seed: repeatable too.
    const d1 = await pipe.generate({ ...base, sampler: 'ddpm' });
    const d2 = await pipe.generate({ ...base, sampler: 'ddpm' });
    expect(latents(d1)).toBe(latents(d2));
    expect(latents(d1)).not.toBe(latents(a));
  });

  it('negative prompts replace the unconditional branch', async () => {
    const plain = await pipe.generate(base);
    const emptyNegative = await pipe.generate({ ...base, negativePrompt: '' });
    expect(latents(emptyNegative)).toBe(latents(plain)); // "" is exactly the unconditional branch
    const neg = await pipe.generate({ ...base, negativePrompt: 'blurry ugly' });
    expect(latents(neg)).not.toBe(latents(plain));
    // Per-prompt negatives: prompt 0 with "" matches the plain run, prompt 1 with "dog" differs from its plain run.
    const two = await pipe.generate({ ...base, prompts: ['a photo of a cat', 'a blue car'], negativePrompt: ['', 'dog'] });
    const twoPlain = await pipe.generate({ ...base, prompts: ['a photo of a cat', 'a blue car'] });
    const half = (r: GenerateResult, i: number): string => Buffer.from(r.frames[r.frames.length - 1]!.x0.subarray(i * 256, (i + 1) * 256).slice().buffer).toString('hex');
    expect(half(two, 0)).toBe(half(twoPlain, 0));
    expect(half(two, 1)).not.toBe(half(twoPlain, 1));
    // With guidance_scale 1 there is no unconditional branch, so the negative prompt has no effect.
    const g1 = await pipe.generate({ ...base, guidanceScale: 1 });
    const g1neg = await pipe.generate({ ...base, guidanceScale: 1, negativePrompt: 'blurry' });
    expect(latents(g1neg)).toBe(latents(g1));
    expect(g1.settings.rowsPerStep).toBe(1);
  });

  it('prompts change the image (the text encoder reaches the U-Net), and long prompts are truncated to 77 tokens', async () => {
    const cat = await pipe.generate({ ...base, prompts: ['a photo of a cat'] });
    const dog = await pipe.generate({ ...base, prompts: ['a photo of a dog'] });
    expect(latents(cat)).not.toBe(latents(dog));
    const enc = await pipe.encodeText([Array.from({ length: 90 }, () => TINY_WORDS[3]).join(' '), 'cat']);
    expect(enc.shape).toEqual([77, 16]);
    expect(enc.truncated.length).toBe(1);
  });

  it('works with int64 timesteps (optimum exports) and says what is missing from a folder', async () => {
    const r = await pipeInt64.generate({ ...base, numImagesPerPrompt: 2 });
    expect(r.images.length).toBe(2);
    await expect(StableDiffusionPipeline.open(join(root, 'nowhere'), backend)).rejects.toThrow(/does not exist/);
    rmSync(join(root, 'int64', 'vae_decoder'), { recursive: true });
    await expect(StableDiffusionPipeline.open(join(root, 'int64'), backend)).rejects.toThrow(/has no vae_decoder\/model.onnx/);
    await expect(pipe.generate({ ...base, width: 60 })).rejects.toThrow(/multiples of 8/);
  });

  it('a file passed as the pipeline folder is named a file, not missing', async () => {
    const file = join(root, 'float', 'unet', 'model.onnx');
    await expect(StableDiffusionPipeline.open(file, backend)).rejects.toThrow(/is a file, not a pipeline folder/);
  });
});
