// The synthesis commands end to end (built CLI): files written, summaries, errors.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cropFrame, resizeForModel } from '../../src/io/image.js';
import { parseNpy } from '../../src/io/npy.js';
import { parsePreprocessing } from '../../src/models/metadata.js';
import { convlens as runCli, ROOT, type CliResult } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const fm = (f: string): string => join(ROOT, 'samples', 'fashion-mnist', f);
const tmp = tempFolder('convlens-synth-');

const convlens = (...args: string[]): Promise<CliResult> => runCli(...args, '--threads', '2');

const json = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Record<string, unknown>;

describe('convlens featviz', () => {
  it('writes the result grid, the strip, the GIF, one PNG per image and a summary with predictions', async () => {
    const out = join(tmp, 'featviz');
    const r = await convlens('featviz', '--objective', 'class:*', '--param', 'pixel-clip', '--start', 'zero', '--background', '0', '--tv', '2', '--blur-every', '4', '--steps', '16', '--frames', '3', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['result.png', 'strip.png', 'optimization.gif', 'class-0-t-shirt-top.png', 'class-9-ankle-boot.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'optimization.gif')).subarray(0, 6).toString()).toBe('GIF89a');
    const s = json(out);
    const images = s['images'] as { label: string; prediction: { label: string } }[];
    expect(images.map((i) => i.label)).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(images.filter((i) => i.prediction.label === i.label).length).toBeGreaterThanOrEqual(8);
    const meta = await sharp(join(out, 'class-0-t-shirt-top.png')).metadata();
    expect([meta.width, meta.height]).toEqual([112, 112]);
  });

  it('multi-faceted visualization of a class from the committed subset', async () => {
    const out = join(tmp, 'facets');
    const r = await convlens('featviz', '--facets', '3', '--target', 'Bag', '--steps', '8', '--frames', '2', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const s = json(out) as { facets: { clusterSizes: number[]; target: string }; images: unknown[] };
    expect(s.facets.target).toBe('Bag');
    expect(s.facets.clusterSizes).toHaveLength(3);
    expect(s.images).toHaveLength(3);
  });

  it('on a 1000-class model draws the first 8 classes unless asked for all, and says so', async () => {
    const out = join(tmp, 'featviz-squeezenet');
    const r = await convlens('featviz', '--model', 'squeezenet', '--steps', '1', '--frames', '1', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/1000 classes; drawing the first 8 \(--classes all draws every class/);
    const images = json(out)['images'] as { label: string }[];
    expect(images.map((i) => i.label)).toEqual(['tench', 'goldfish', 'great white shark', 'tiger shark', 'hammerhead', 'electric ray', 'stingray', 'cock']);
    // a class's file is named by its index and label (class 7 was image-8.png)
    expect((json(out)['images'] as { file: string }[]).map((i) => i.file)).toEqual(['class-0-tench.png', 'class-1-goldfish.png', 'class-2-great-white-shark.png', 'class-3-tiger-shark.png', 'class-4-hammerhead.png', 'class-5-electric-ray.png', 'class-6-stingray.png', 'class-7-cock.png']);
    expect(existsSync(join(out, 'class-7-cock.png')) && !existsSync(join(out, 'class-8-hen.png'))).toBe(true);
  });

  it('says when the result is saturated noise from steps that overshoot, and not for a black background', async () => {
    const wild = await convlens('featviz', '--classes', '3', '--steps', '8', '--frames', '1', '--lr', '1e9', '--out', join(tmp, 'featviz-lr'));
    expect(wild.code, wild.stderr).toBe(0);
    expect(wild.stderr).toMatch(/warning: the result is saturated noise \(\d+% of neighbouring colour values jump from black to white\): the steps overshoot\. Lower --lr \(now 1000000000; the default is 0\.05, and Adam/);
    const sane = await convlens('featviz', '--classes', '3', '--steps', '8', '--frames', '1', '--out', join(tmp, 'featviz-sane'));
    expect(sane.stderr).not.toMatch(/saturated/);
    // the documented black-background example saturates a third of its values, all black
    const black = await convlens('featviz', '--classes', '5,7', '--param', 'pixel', '--start', 'zero', '--background', '0', '--tv', '2', '--blur-every', '8', '--steps', '64', '--frames', '1', '--out', join(tmp, 'featviz-black'));
    expect(black.stderr).not.toMatch(/saturated/);
  });

  it('explains a bad objective', async () => {
    const r = await convlens('featviz', '--objective', 'channel:relu3:500', '--steps', '2', '--out', join(tmp, 'bad'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/64 channels; channel 500 does not exist/);
  });
});

describe('convlens adversarial / invert / dream', () => {
  it('adversarial: PGD flips the predictions within the budget and draws the perturbation', async () => {
    const out = join(tmp, 'adv');
    const r = await convlens('adversarial', fm('ankle-boot-test0.png'), fm('shirt-test4.png'), '--epsilon', '0.1', '--steps', '10', '--npy', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const s = json(out) as { images: { success: boolean; linf: number; files: { perturbation: string } }[] };
    for (const i of s.images) {
      expect(i.success).toBe(true);
      expect(i.linf).toBeLessThanOrEqual(0.1 + 1e-6);
      expect(existsSync(join(out, i.files.perturbation))).toBe(true);
    }
    for (const f of ['figure.png', 'adversarial.npy', 'perturbation.npy']) expect(existsSync(join(out, f)), f).toBe(true);
    const bad = await convlens('adversarial', fm('bag-test18.png'), '--epsilon', 'lots', '--out', out);
    expect(bad.stderr).toMatch(/Cannot read epsilon "lots"/);
  });

  it('adversarial on SqueezeNet: predict on the written PNG gives the class the attack reports (the 224 crop is framed at 256 as predict crops it)', async () => {
    const out = join(tmp, 'adv-squeezenet');
    const photo = join(ROOT, 'samples', 'photos', 'chelsea.png');
    const r = await convlens('adversarial', photo, '--model', 'squeezenet', '--target', 'stingray', '--steps', '10', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const s = json(out) as { images: { adversarial: { label: string }; files: { adversarial: string } }[] };
    expect(s.images[0]!.adversarial.label).toBe('stingray');
    const file = join(out, s.images[0]!.files.adversarial);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    const p = await convlens('predict', file, '--model', 'squeezenet', '--top', '1', '--json');
    expect(p.code, p.stderr).toBe(0);
    expect((JSON.parse(p.stdout) as { top: { label: string }[] }[])[0]!.top[0]!.label).toBe('stingray');
    // the surround is the photo's as predict scales it, untouched; the centre differs by at most epsilon
    const prep = parsePreprocessing('imagenet', [1, 3, 224, 224]);
    expect(cropFrame(prep)).toEqual([256, 256]);
    expect(cropFrame(parsePreprocessing('imagenet-crop', [1, 3, 224, 224]))).toBeUndefined();
    const clean = await resizeForModel(readFileSync(photo), prep, 'photo', [256, 256]);
    const adv = await sharp(file).raw().toBuffer();
    let border = 0;
    let centre = 0;
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 256; x++)
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(adv[(y * 256 + x) * 3 + c]! - clean.data[(y * 256 + x) * 3 + c]!);
          if (y >= 16 && y < 240 && x >= 16 && x < 240) centre = Math.max(centre, d);
          else border = Math.max(border, d);
        }
    expect(border).toBe(0);
    expect(centre).toBeGreaterThan(0);
    expect(centre).toBeLessThanOrEqual(8);
  });

  it('never writes over its own input: an input named as an output in --out is refused before any work, and left as it was', async () => {
    const dir = join(tmp, 'own-input');
    mkdirSync(dir, { recursive: true });
    const photo = join(dir, 'result.png');
    copyFileSync(fm('bag-test18.png'), photo);
    const before = readFileSync(photo);
    const dream = await convlens('dream', photo, '--steps', '1', '--octaves', '1', '--out', dir);
    expect(dream.code).toBe(1);
    expect(dream.stderr).toMatch(/The input ".*result\.png" is where this run writes result\.png.*overwritten/);
    expect(dream.stderr).toMatch(/Write to another folder/);
    expect(readFileSync(photo).equals(before)).toBe(true);
    // the same file by another spelling of the path, and another command
    copyFileSync(fm('bag-test18.png'), join(dir, 'grid.png'));
    const invert = await convlens('invert', join(dir, '.', 'grid.png'), '--steps', '1', '--out', join(dir, '..', 'own-input'));
    expect(invert.code).toBe(1);
    expect(invert.stderr).toMatch(/where this run writes grid\.png/);
    expect(readFileSync(join(dir, 'grid.png')).equals(readFileSync(fm('bag-test18.png')))).toBe(true);
    // elsewhere, the same input is fine
    expect((await convlens('dream', photo, '--steps', '1', '--octaves', '1', '--out', join(tmp, 'own-input-elsewhere'), '-q')).code).toBe(0);
  });

  it('adversarial reports the image its PNG holds: 8-bit levels within the budget, the prediction predict gives the file', async () => {
    const out = join(tmp, 'adv-levels');
    // 2.5/255 is no whole number of grey levels: rounding could step past it
    const r = await convlens('adversarial', fm('ankle-boot-test0.png'), fm('bag-test18.png'), '--epsilon', '2.5/255', '--steps', '10', '--npy', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const adv = parseNpy(readFileSync(join(out, 'adversarial.npy')));
    const pert = parseNpy(readFileSync(join(out, 'perturbation.npy')));
    let offGrid = 0;
    let linf = 0;
    for (let i = 0; i < adv.data.length; i++) {
      offGrid = Math.max(offGrid, Math.abs((adv.data[i] as number) * 255 - Math.round((adv.data[i] as number) * 255)));
      linf = Math.max(linf, Math.abs(pert.data[i] as number));
    }
    expect(offGrid).toBeLessThan(1e-3);
    expect(linf * 255).toBeLessThanOrEqual(2.5);
    const s = json(out) as { images: { adversarial: { index: number; probability: number }; files: { adversarial: string } }[] };
    for (const img of s.images) {
      const p = await convlens('predict', join(out, img.files.adversarial), '--top', '1', '--json');
      const top = (JSON.parse(p.stdout) as { top: { index: number; probability: number }[] }[])[0]!.top[0]!;
      expect(top.index).toBe(img.adversarial.index);
      expect(Math.abs(top.probability - img.adversarial.probability)).toBeLessThan(1e-4);
    }
  });

  it('adversarial --epsilon: a decimal or a fraction, above 0 and at most the norm\'s largest budget; 8/0 and 0 are refused by that rule', async () => {
    const out = join(tmp, 'adv-eps');
    const cases: [string[], RegExp][] = [
      [['--epsilon', '8/0'], /Epsilon "8\/0" is infinite; an L∞ budget must be above 0 and at most 1/],
      [['--epsilon', '0'], /Epsilon "0" is 0; an L∞ budget must be above 0/],
      [['--epsilon', '1e308'], /Epsilon "1e308" is 1e\+308; an L∞ budget must be above 0 and at most 1 /],
      [['--epsilon', '0/0'], /Epsilon "0\/0" is not a number/],
      [['--norm', 'l2', '--epsilon', '29'], /an L2 budget must be above 0 and at most 28\.00/],
    ];
    for (const [args, message] of cases) {
      const r = await convlens('adversarial', fm('bag-test18.png'), ...args, '--steps', '1', '--out', out);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/decimal \(0\.03, 3e-2\) or a fraction \(8\/255\)/);
    }
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const ok = await convlens('adversarial', fm('bag-test18.png'), '--epsilon', '2e-2', '--steps', '1', '--out', out, '--json', '-q');
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { params: { epsilon: number } }).params.epsilon).toBe(0.02);
  });

  it('invert: a grid over layers and a summary of distances', async () => {
    const out = join(tmp, 'invert');
    const r = await convlens('invert', fm('bag-test18.png'), '--layers', 'conv1,relu4', '--steps', '30', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const s = json(out) as { layers: { layer: string; pixelMse: number }[] };
    expect(s.layers.map((l) => l.layer)).toEqual(['conv1', 'relu4']);
    expect(existsSync(join(out, 'grid.png'))).toBe(true);
    expect(existsSync(join(out, 'bag-test18.conv1.png'))).toBe(true);
  });

  it('adversarial and invert keep inputs that share a file name apart (x, x-2), as explain does', async () => {
    const a = join(tmp, 'dup1', 'x.png');
    const b = join(tmp, 'dup2', 'x.png');
    for (const [dir, f] of [[join(tmp, 'dup1'), 'bag-test18.png'], [join(tmp, 'dup2'), 'shirt-test4.png']] as const) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(fm(f), join(dir, 'x.png'));
    }
    const adv = join(tmp, 'adv-dup');
    const r = await convlens('adversarial', a, b, '--steps', '2', '--out', adv, '-q');
    expect(r.code, r.stderr).toBe(0);
    const s = json(adv) as { images: { source: string; files: { adversarial: string; perturbation: string } }[] };
    expect(s.images.map((i) => i.files.adversarial)).toEqual(['x.adversarial.png', 'x-2.adversarial.png']);
    for (const i of s.images) for (const f of Object.values(i.files)) expect(existsSync(join(adv, f)), f).toBe(true);
    // the two files hold the two different images, not one written twice
    expect(readFileSync(join(adv, 'x.adversarial.png')).equals(readFileSync(join(adv, 'x-2.adversarial.png')))).toBe(false);

    const inv = join(tmp, 'invert-dup');
    const v = await convlens('invert', a, b, '--layers', 'conv1', '--steps', '2', '--out', inv, '-q');
    expect(v.code, v.stderr).toBe(0);
    const t = json(inv) as { images: { source: string; files: Record<string, string> }[] };
    expect(t.images.map((i) => i.files['conv1'])).toEqual(['x.conv1.png', 'x-2.conv1.png']);
    for (const f of ['x.conv1.png', 'x-2.conv1.png']) expect(existsSync(join(inv, f)), f).toBe(true);
  });

  it('dream: result at the photo\'s size, a figure of the octaves and a GIF', async () => {
    const out = join(tmp, 'dream');
    const r = await convlens('dream', join(ROOT, 'samples', 'photos', 'chelsea.png'), '--layer', 'relu2', '--octaves', '2', '--steps', '2', '--max-side', '64', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(join(out, 'result.png')).metadata();
    expect([meta.width, meta.height]).toEqual([64, 43]);
    for (const f of ['figure.png', 'optimization.gif', 'summary.json']) expect(existsSync(join(out, f)), f).toBe(true);
  });
});

describe('convlens style / style-train', () => {
  it('texture synthesis writes the result, the intermediate steps and a figure', async () => {
    const out = join(tmp, 'texture');
    const r = await convlens('style', '--style', join(ROOT, 'samples', 'textures', 'gravel.png'), '--size', '32', '--steps', '4', '--frames', '2', '--out', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['result.png', 'figure.png', 'strip.png', 'optimization.gif', 'step-0000.png', 'step-0004.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect((json(out) as { mode: string }).mode).toBe('texture');
    const none = await convlens('style', join(ROOT, 'samples', 'photos', 'chelsea.png'), '--out', out);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/No style image/);
  });

  it('style-train exports a two-style ONNX network that `style --net` runs and blends', async () => {
    const net = join(tmp, 'net.onnx');
    const r = await convlens('style-train', '--style', `a=${join(ROOT, 'samples', 'textures', 'brick.png')}`, '--style', `b=${join(ROOT, 'samples', 'photos', 'coffee.png')}`, '--content', join(ROOT, 'samples', 'photos', 'rocket.jpg'), '--steps', '3', '--size', '16', '--width', '2', '--blocks', '1', '--out', net, '--json', '-q');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { styles: string[] }).styles).toEqual(['a', 'b']);
    const out = join(tmp, 'fast');
    const s = await convlens('style', join(ROOT, 'samples', 'photos', 'chelsea.png'), '--net', net, '--blend', '1,0;0.5,0.5', '--max-side', '64', '--out', out, '-q');
    expect(s.code, s.stderr).toBe(0);
    const meta = await sharp(join(out, 'stylized-0.5_0.5.png')).metadata();
    expect([meta.width, meta.height]).toEqual([64, 43]);
    expect(existsSync(join(out, 'result.png'))).toBe(true);
  });

  it('style and style-train refuse loss weights beyond 1e6; a style-train blow-up stops before anything is written', async () => {
    const brick = join(ROOT, 'samples', 'textures', 'brick.png');
    const chelsea = join(ROOT, 'samples', 'photos', 'chelsea.png');
    const out = join(tmp, 'huge-weight');
    for (const flag of ['--style-weight', '--content-weight', '--tv-weight']) {
      const r = await convlens('style', chelsea, '--style', brick, flag, '1e308', '--steps', '2', '--out', out);
      expect(r.code, flag).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${flag}.*expected a number from 0 to 1000000`));
    }
    expect(existsSync(join(out, 'result.png'))).toBe(false);
    const huge = await convlens('style-train', '--style', brick, '--content', chelsea, '--tv-weight', '2e6', '--steps', '1', '--out', join(tmp, 'huge.onnx'));
    expect(huge.code).toBe(1);
    const net = join(tmp, 'blown-net.onnx');
    const r = await convlens('style-train', '--style', brick, '--content', chelsea, '--lr', '1e300', '--steps', '1', '--size', '16', '--width', '2', '--blocks', '1', '--checkpoint', `${net}.ckpt`, '--out', net, '-q');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Training diverged at step 1/);
    expect(r.stderr).toMatch(/--lr 1e\+300 is far outside the usual range/);
    expect(existsSync(net)).toBe(false);
    expect(existsSync(`${net}.ckpt`)).toBe(false);
  });

  it('a blow-up caused by a weight names that weight, not --lr; a negative style weight is called that, not a missing file', async () => {
    for (const command of ['invert', 'featviz']) {
      const args = command === 'invert' ? [fm('bag-test18.png'), '--layers', 'conv1'] : [];
      const r = await convlens(command, ...args, '--tv', '1e308', '--steps', '2', '--out', join(tmp, `blown-${command}`), '-q');
      expect(r.code, command).toBe(1);
      expect(r.stderr).toMatch(/The objective became -?Infinity at step 0\.\n\s+--tv 1e\+308 is far outside the usual range/);
    }
    const brick = join(ROOT, 'samples', 'textures', 'brick.png');
    const r = await convlens('style', join(ROOT, 'samples', 'photos', 'chelsea.png'), '--style', `${brick}:-1`, '--steps', '1', '--out', join(tmp, 'negative'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The weight of ".*brick\.png:-1" must be a number >= 0, got -1\.\n\s+Give a weight of 0 or more after the colon, e\.g\. .*brick\.png:0\.5/);
  });

  it('style-train --resume takes the run\'s settings from the checkpoint and refuses other settings or images', async () => {
    const style = `a=${join(ROOT, 'samples', 'textures', 'brick.png')}`;
    const content = join(ROOT, 'samples', 'photos', 'rocket.jpg');
    const ckpt = join(tmp, 'style.ckpt');
    const first = await convlens('style-train', '--style', style, '--content', content, '--steps', '2', '--size', '16', '--width', '2', '--blocks', '1', '--lr', '0.01', '--checkpoint', ckpt, '--checkpoint-every', '1', '--out', join(tmp, 'resumable.onnx'), '-q');
    expect(first.code, first.stderr).toBe(0);
    // nothing but the images and --resume: width 2 and 1 block come from the checkpoint
    const resumed = await convlens('style-train', '--style', style, '--content', content, '--resume', ckpt, '--out', join(tmp, 'resumed.onnx'), '--json', '-q');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(join(tmp, 'resumed.onnx'))).toBe(true);
    const other = join(tmp, 'refused.onnx');
    const lr = await convlens('style-train', '--style', style, '--content', content, '--resume', ckpt, '--lr', '0.02', '--out', other, '-q');
    expect(lr.code).toBe(1);
    expect(lr.stderr).toMatch(/Cannot resume: this run differs from the checkpoint's in lr 0\.02 \(the checkpoint's: 0\.01\)/);
    const photos = await convlens('style-train', '--style', style, '--content', join(ROOT, 'samples', 'photos', 'coffee.png'), '--resume', ckpt, '--out', other, '-q');
    expect(photos.code).toBe(1);
    expect(photos.stderr).toMatch(/1 content images \(the checkpoint's: 1, with other pixels\)/);
    expect(photos.stderr).toMatch(/leave the settings out to take the checkpoint's/);
    expect(existsSync(other)).toBe(false);
    // the images themselves are not in the checkpoint: leaving them out says so
    const bare = await convlens('style-train', '--resume', ckpt);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/needs --style and --content\.\s+A checkpoint keeps only checksums of the images it trained on/);
  });
});
