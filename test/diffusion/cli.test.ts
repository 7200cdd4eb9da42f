import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { SUBSET_DIR } from '../../src/data/fashion-mnist.js';
import { decodeModel } from '../../src/engine/onnx/codec.js';
import { readDiffusionMetadata } from '../../src/methods/diffusion/model.js';
import { writeTinySdPipeline } from './tiny-sd.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-diffuse-cli-');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


describe('convlens diffuse', () => {
  it('noise: one image noised at chosen steps, a row per schedule', async () => {
    const out = join(tmp, 'noise.png');
    const r = await convlens('diffuse', 'noise', join(ROOT, 'samples', 'fashion-mnist', 'bag-test18.png'), '--timesteps', '0,100,500,999', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(out).metadata();
    expect(meta.width).toBeGreaterThan(4 * 112);
    expect(meta.height).toBeGreaterThan(2 * 112);
  });

  it('sample: the built-in denoiser, class prompts, guidance, negative prompt; samples, grid, GIF and summary', async () => {
    const out = join(tmp, 'boots');
    const r = await convlens('diffuse', 'sample', 'ankle boot', 'Trousers', '--negative-prompt', 'sneaker', '--count', '2', '--steps', '20', '--guidance', '3', '--seed', '11', '--every', '5', '--classify', '--out', out, '--threads', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 images in [\d.]+ s/);
    for (const f of ['samples.png', 'denoising.png', 'denoising.gif', 'summary.json', '00-ankle-boot-0.png', '01-trousers-1.png']) expect(existsSync(join(out, f)), f).toBe(true);
    const gif = readFileSync(join(out, 'denoising.gif'));
    expect(gif.subarray(0, 6).toString()).toBe('GIF89a');
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.conditions).toEqual(['Ankle boot', 'Trouser']);
    expect(s.negativeConditions).toEqual(['Sneaker', 'Sneaker']);
    expect(s.settings).toMatchObject({ steps: 20, guidanceScale: 3, sampler: 'ddim', eta: 0, seed: 11, numImagesPerPrompt: 2, rowsPerStep: 8 });
    expect(s.images.length).toBe(4);
    // The same command writes the same images.
    const again = join(tmp, 'boots2');
    await convlens('diffuse', 'sample', 'ankle boot', 'Trousers', '--negative-prompt', 'sneaker', '--count', '2', '--steps', '20', '--guidance', '3', '--seed', '11', '--every', '5', '--out', again, '--no-gif', '--threads', '2');
    expect(readFileSync(join(again, '00-ankle-boot-1.png')).equals(readFileSync(join(out, '00-ankle-boot-1.png')))).toBe(true);
  });

  it('an unmappable prompt fails with the list of prompts the model knows', async () => {
    const r = await convlens('diffuse', 'sample', 'a spaceship', '--out', join(tmp, 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cannot map the prompt "a spaceship" to a condition of this model.');
    expect(r.stderr).toContain('"Ankle boot"');
  });

  it.each([
    [['boot', '--width', '64'], /--width applies only with --pipeline .*; here it would be ignored\.\n\s+Leave out --width, or add --pipeline DIR\./],
    [['boot', '--height', '64'], /--height applies only with --pipeline/],
    [['a photo of a cat', '--pipeline', 'PIPELINE', '--classify'], /--classify applies only without --pipeline/],
    [['boot', '--sampler', 'ddpm', '--eta', '0.5'], /--eta applies only with --sampler ddim .*\n\s+Leave out --eta, or use --sampler ddim\./],
  ])('sample %j: an option the run would ignore is refused, not dropped without a word', async (args, pattern) => {
    const pipeline = join(tmp, 'tiny-sd-ignored');
    if (args.includes('PIPELINE')) writeTinySdPipeline({ dir: pipeline });
    const out = join(tmp, 'ignored');
    const r = await convlens('diffuse', 'sample', ...args.map((a) => (a === 'PIPELINE' ? pipeline : a)), '--count', '1', '--steps', '2', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  });

  it('sample --pipeline runs a Stable-Diffusion-style folder', async () => {
    const dir = join(tmp, 'tiny-sd');
    writeTinySdPipeline({ dir });
    const out = join(tmp, 'sd');
    const r = await convlens('diffuse', 'sample', 'a photo of a cat', '--pipeline', dir, '--negative-prompt', 'blurry', '--steps', '8', '--guidance', '7.5', '--count', '2', '--every', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(join(out, '00-a-photo-of-a-cat-0.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([64, 64, 3]);
    expect(existsSync(join(out, 'denoising.gif'))).toBe(true);
  });

  it('train: a tiny U-Net on the committed subset, with checkpoints and --resume', async () => {
    const out = join(tmp, 'tiny-unet.onnx');
    const common = ['--data', SUBSET_DIR, '--limit', '60', '--batch', '20', '--widths', '8,16', '--groups', '4', '--threads', '1', '--quiet'];
    const r = await convlens('diffuse', 'train', ...common, '--epochs', '1', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/after 3 steps/);
    expect(r.stdout).not.toMatch(/^wrote/m); // --quiet: results print, "wrote" lines do not (as in every command)
    const g = decodeModel(readFileSync(out), { source: out });
    expect(readDiffusionMetadata(g, out).labels.length).toBe(10);
    expect(JSON.parse(g.metadata.get('convlens.training')!).command).toContain('diffuse train');
    // Extend the finished run by one epoch from its checkpoint.
    const more = await convlens('diffuse', 'train', '--resume', `${out}.ckpt`, '--epochs', '2');
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toMatch(/after 6 steps/);
    expect(more.stdout).toContain(`wrote ${out} (`);
  });

  it('train: a blow-up on the last step stops the run with the setting named, and writes no denoiser or checkpoint', async () => {
    const out = join(tmp, 'blown-unet.onnx');
    const r = await convlens('diffuse', 'train', '--data', SUBSET_DIR, '--limit', '20', '--batch', '20', '--widths', '8', '--groups', '0', '--epochs', '1', '--weight-decay', '1e308', '--threads', '2', '--quiet', '--out', out);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Training diverged at step 1/);
    expect(r.stderr).toMatch(/--weight-decay 1e\+308 is far outside the usual range/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.ckpt`)).toBe(false);
  });
});
