// `convlens explain` end to end: files written, raw .npy shapes as specified, the JSON summary, errors.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { encodeNpy, parseNpy } from '../../src/io/npy.js';
import { tempFolder } from '../support/temp-folder.js';

const samples = join(ROOT, 'samples', 'fashion-mnist');
const tmp = tempFolder('convlens-explain-');


beforeAll(() => {
  writeFileSync(join(tmp, 'baseline.npy'), encodeNpy({ dtype: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.1) }));
  writeFileSync(join(tmp, 'rgb.npy'), encodeNpy({ dtype: 'float32', dims: [2, 3, 28, 28], data: new Float32Array(2 * 3 * 784) }));
});

describe('convlens explain', () => {
  it('writes the grid, per-image PNGs, raw .npy per method and a JSON summary', async () => {
    const out = join(tmp, 'run1');
    const r = await convlens(
      'explain', join(samples, 'bag-test18.png'), join(samples, 'trouser-test2.png'),
      '--method', 'saliency,integrated-gradients,gradcam,occlusion,gradcam++',
      '--npy', '--faithfulness', '--curve-steps', '8', '--steps', '20', '--baseline', join(tmp, 'baseline.npy'),
      '--window', '7', '--stride', '7', '--out', out, '--json', '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
    expect(summary.inputs).toHaveLength(2);
    expect(summary.inputs[0].source).toContain('bag-test18.png');
    expect(summary.inputs[0].prediction.label).toEqual(expect.any(String));
    expect(summary.score).toBe('logit');
    expect(summary.methods.map((m: { method: string }) => m.method)).toEqual(['saliency', 'integrated-gradients', 'gradcam', 'occlusion', 'gradcam++']);
    const ig = summary.methods[1];
    expect(ig.params).toMatchObject({ steps: 20, rule: 'gausslegendre', baseline: 'given tensor' });
    expect(ig.completeness).toHaveLength(2);
    expect(summary.methods[2].layer).toEqual({ name: 'relu4', label: 'relu4', shape: [128, 3, 3] });
    expect(summary.methods[3].params).toMatchObject({ window: [7, 7], stride: [7, 7], fill: 'zero', windows: 16 });
    expect(summary.methods[2].display).toMatchObject({ view: 'overlay', colormap: 'turbo', range: 'min-max' });
    expect(summary.timingsMs.total).toBeGreaterThan(0);
    expect(Object.keys(summary.faithfulness.methods)).toEqual(['saliency', 'integrated-gradients', 'gradcam', 'occlusion', 'gradcam++', 'random']);
    expect(summary.faithfulness.methods.gradcam.deletion[0]).toHaveLength(9);

    const shape = (f: string): readonly number[] => parseNpy(readFileSync(join(out, f))).dims;
    expect(shape('saliency.npy')).toEqual([2, 1, 28, 28]);
    expect(shape('integrated-gradients.npy')).toEqual([2, 1, 28, 28]);
    expect(shape('gradcam.npy')).toEqual([2, 1, 3, 3]);
    expect(shape('gradcampp.npy')).toEqual([2, 1, 3, 3]);
    expect(shape('occlusion.npy')).toEqual([2, 1, 28, 28]);
    expect(Math.min(...(parseNpy(readFileSync(join(out, 'gradcam.npy'))).data as Float32Array))).toBeGreaterThanOrEqual(0);

    for (const f of ['grid.png', 'faithfulness.png', 'faithfulness.svg', 'bag-test18.gradcam.png', 'trouser-test2.occlusion.png']) expect(existsSync(join(out, f)), f).toBe(true);
    const tile = await sharp(join(out, 'bag-test18.saliency.png')).metadata();
    expect([tile.width, tile.height]).toEqual([112, 112]);
    const grid = await sharp(join(out, 'grid.png')).metadata();
    expect(grid.width).toBeGreaterThan(6 * 112);
    expect(grid.height).toBeGreaterThan(2 * 112);
  });

  it('explains a given label with probability scores, and runs the sanity check', async () => {
    const out = join(tmp, 'run2');
    const r = await convlens('explain', join(samples, 'sandal-test8.png'), '--method', 'gradient,gradcam', '--target', 'sneaker', '--score', 'prob', '--sanity', '--out', out, '--json', '-q', '--no-images');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.inputs[0].target).toMatchObject({ index: 7, label: 'Sneaker' });
    expect(summary.score).toBe('prob');
    expect(summary.sanity.cascade).toEqual(['logits', 'conv4', 'conv3', 'conv2', 'conv1']);
    expect(summary.sanity.methods.gradient).toHaveLength(5);
    for (const f of ['grid.png', 'sanity.png', 'sanity-grid.png']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'sandal-test8.gradient.png'))).toBe(false);
  });

  it('takes one --target per input, comma-separated, also across chunks; a wrong count says so', async () => {
    const out = join(tmp, 'per-input');
    const bag = join(samples, 'bag-test18.png');
    const coat = join(samples, 'coat-test6.png');
    for (const extra of [[], ['--chunk', '1']]) {
      const r = await convlens('explain', bag, coat, '--method', 'saliency', '--target', 'sneaker, 0', ...extra, '--out', out, '--json', '-q', '--no-images');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.inputs.map((i: { target: { index: number } }) => i.target.index)).toEqual([7, 0]);
    }
    // Before, "7,0" was looked up as one label: 'No class label named "7,0"' and unrelated suggestions.
    const wrong = await convlens('explain', bag, coat, '--method', 'saliency', '--target', '7,0,1', '--out', out, '-q', '--no-images');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/gives 3 classes for 2 inputs/);
  });

  it('says when the grid leaves inputs out without chunking too: 17 inputs, 16 rows', async () => {
    const out = join(tmp, 'many');
    writeFileSync(join(tmp, 'many.npy'), encodeNpy({ dtype: 'float32', dims: [17, 1, 28, 28], data: Float32Array.from({ length: 17 * 784 }, (_, i) => (i % 89) / 89) }));
    const r = await convlens('explain', join(tmp, 'many.npy'), '--method', 'saliency', '--out', out, '--size', '32');
    expect(r.code).toBe(0);
    // Before, only a chunked run said so; here the summary and stderr were silent about the 17th input.
    expect(r.stderr).toContain('note: grid.png shows the first 16 of 17 inputs; every input has its own PNGs');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.gridShows).toBe('the first 16 of 17 inputs');
    expect(summary.chunks).toBeUndefined();
  });

  it('runs DeepLIFT, GradientSHAP with a baseline file, LRP composites and the smoothed CAM family; ROAD, infidelity and max-sensitivity in the summary', async () => {
    const out = join(tmp, 'run3');
    writeFileSync(join(tmp, 'set.npy'), encodeNpy({ dtype: 'float32', dims: [3, 1, 28, 28], data: Float32Array.from({ length: 3 * 784 }, (_, i) => (i % 97) / 97) }));
    const r = await convlens(
      'explain', join(samples, 'bag-test18.png'), join(samples, 'coat-test6.png'),
      '--method', 'deeplift,gradient-shap,deeplift-shap,lrp,xgradcam,hirescam,eigencam,eigengradcam,ablationcam,fullgrad',
      '--baseline', 'zero', '--baseline-file', join(tmp, 'set.npy'), '--samples', '16', '--lrp-composite', 'epsilon-plus-flat', '--lrp-epsilon', '0.01',
      '--aug-smooth', '--eigen-smooth', '--faithfulness', '--curve-steps', '4', '--sensitivity', '--npy', '--no-images', '--out', out, '--json', '-q',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    const byName = Object.fromEntries(summary.methods.map((m: { method: string }) => [m.method, m])) as Record<string, { params: Record<string, unknown>; completeness?: unknown[]; raw: { shape: number[] } }>;
    expect(byName['deeplift']!.params).toMatchObject({ baseline: 'zero', rule: 'rescale' });
    expect(byName['deeplift']!.completeness).toHaveLength(2);
    expect(byName['gradient-shap']!.params).toMatchObject({ samples: 16, baselines: 'given set of 3' });
    expect(byName['lrp']!.params).toMatchObject({ composite: 'epsilon-plus-flat', epsilon: 0.01 });
    expect(byName['xgradcam']!.params).toMatchObject({ eigenSmooth: true });
    expect(byName['xgradcam']!.params['augSmooth']).toMatch(/flip/);
    const shape = (f: string): readonly number[] => parseNpy(readFileSync(join(out, f))).dims;
    for (const m of ['deeplift', 'gradient-shap', 'deeplift-shap', 'lrp']) expect(shape(`${m}.npy`), m).toEqual([2, 1, 28, 28]);
    // aug-smoothed CAMs are averaged at input resolution
    for (const m of ['xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam', 'fullgrad']) expect(shape(`${m}.npy`), m).toEqual([2, 1, 28, 28]);
    const f = summary.faithfulness.methods;
    expect(f.lrp.road.morf[0]).toHaveLength(9);
    expect(f.lrp.infidelity).toHaveLength(2);
    expect(Number.isFinite(f.random.road.meanCombined)).toBe(true);
    expect(Object.keys(summary.maxSensitivity.methods)).toHaveLength(10);
  });

  it('runs feature ablation, KernelSHAP and LIME over segments, seeded and reproducible, with their parameters in the summary', async () => {
    const run = async (name: string, seed: string, ...extra: string[]) => {
      const out = join(tmp, name);
      const r = await convlens('explain', join(samples, 'bag-test18.png'), '--method', 'kernel-shap,lime,feature-ablation', '--segments', '12', '--samples', '40', '--seed', seed, '--baseline', 'mean', '--npy', '--no-images', '--out', out, '--json', '-q', ...extra);
      expect(r.code, r.stderr).toBe(0);
      return { summary: JSON.parse(r.stdout), npy: (m: string) => parseNpy(readFileSync(join(out, `${m}.npy`))) };
    };
    const [a, b, c] = [await run('seg1', '3'), await run('seg2', '3'), await run('seg3', '4', '--ablation-mode', 'incremental')];
    const [shap, lime, ablation] = a.summary.methods;
    expect(shap.method).toBe('kernel-shap');
    expect(shap.params).toMatchObject({ segmentation: 'slic', segmentsAsked: 12, compactness: 10, baseline: 'mean', samples: 40, seed: 3 });
    expect(shap.params.segments[0]).toBeGreaterThan(5);
    expect(shap.completeness[0].relativeGap).toBeLessThan(1e-5);
    expect(lime.params).toMatchObject({ samples: 40, regression: 'ridge', alpha: 1 });
    expect(ablation.params.forwardPasses).toEqual([shap.params.segments[0] + 1]);
    for (const m of ['kernel-shap', 'lime', 'feature-ablation']) {
      expect(a.npy(m).dims).toEqual([1, 1, 28, 28]);
      expect(a.npy(m).data).toEqual(b.npy(m).data);
    }
    expect(a.npy('lime').data).not.toEqual(c.npy('lime').data);
    // no random draws; and the built-in CNN is too small for the default mode to run incrementally
    expect(ablation.params.mode).toBe('brute-force');
    expect(c.summary.methods[2].params.mode).toBe('incremental');
    expect(c.summary.methods[2].params.incrementalSegments[0]).toBeGreaterThan(0);
    const [exact, reference] = [c.npy('feature-ablation').data as Float32Array, a.npy('feature-ablation').data as Float32Array];
    expect(Math.max(...exact.map((v, i) => Math.abs(v - reference[i]!)))).toBeLessThan(1e-5 * Math.max(1, ...reference.map(Math.abs)));
  });

  it('takes LIME\'s kernel width, fit and penalty, and refuses them where they would be ignored or out of range', async () => {
    const img = join(samples, 'bag-test18.png');
    const r = await convlens('explain', img, '--method', 'lime', '--segmentation', 'grid', '--segments', '6', '--samples', '30', '--lime-kernel-width', '0.5', '--lime-regression', 'lasso', '--lime-alpha', '0.02', '--no-images', '--out', join(tmp, 'lime-opts'), '--json', '-q');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).methods[0].params).toMatchObject({ kernelWidth: 0.5, regression: 'lasso', alpha: 0.02 });
    const defaults = await convlens('explain', img, '--method', 'lime', '--segmentation', 'grid', '--segments', '6', '--samples', '30', '--lime-regression', 'lasso', '--no-images', '--out', join(tmp, 'lime-lasso'), '--json', '-q');
    expect(JSON.parse(defaults.stdout).methods[0].params).toMatchObject({ kernelWidth: 1, regression: 'lasso', alpha: 0.01 });
    const cases: [string[], RegExp][] = [
      [['--method', 'kernel-shap', '--lime-kernel-width', '2'], /--lime-kernel-width applies only with --method lime/],
      [['--method', 'gradcam', '--lime-regression', 'lasso'], /--lime-regression applies only with --method lime/],
      [['--method', 'lime', '--lime-regression', 'linear', '--lime-alpha', '1'], /--lime-alpha applies only with a penalized LIME fit[\s\S]*--lime-regression ridge \(the default\) or lasso/],
      [['--method', 'lime', '--lime-kernel-width', '0'], /--lime-kernel-width[\s\S]*expected a number above 0 and at most 100/],
      [['--method', 'lime', '--lime-regression', 'elastic'], /--lime-regression[\s\S]*ridge, lasso, linear/],
      [['--method', 'lime', '--lime-alpha', '-1'], /--lime-alpha[\s\S]*expected a number from 0 to 1000000/],
    ];
    for (const [args, message] of cases) {
      const run = await convlens('explain', img, ...args, '--out', join(tmp, 'bad-lime'), '-q');
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('takes the segments from a mask image (--segments-mask), resized to the input by nearest neighbour, and refuses a bad one before any work', async () => {
    const img = join(samples, 'bag-test18.png');
    // 56x56, twice the model's 28x28: a red upper-left triangle, blue elsewhere, and a 1-pixel green dot nearest-neighbour drops
    const px = Buffer.alloc(56 * 56 * 3);
    for (let y = 0; y < 56; y++) for (let x = 0; x < 56; x++) px.set(y === 0 && x === 0 ? [0, 255, 0] : x + y < 40 ? [255, 0, 0] : [0, 0, 255], (y * 56 + x) * 3);
    await sharp(px, { raw: { width: 56, height: 56, channels: 3 } }).png().toFile(join(tmp, 'mask.png'));
    const out = join(tmp, 'masked');
    const r = await convlens('explain', img, '--method', 'feature-ablation,lime', '--segments-mask', join(tmp, 'mask.png'), '--samples', '20', '--npy', '--no-images', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: --segments-mask is 56x56: brought to the model's 28x28 input as the images are, by nearest neighbour; 1 of its 3 colours covers no input pixel there and is no segment/);
    for (const m of JSON.parse(r.stdout).methods) expect(m.params).toMatchObject({ segmentation: 'mask', segments: [2] });
    const map = parseNpy(readFileSync(join(out, 'feature-ablation.npy'))).data as Float32Array;
    // input pixel (y, x) samples mask pixel (2y + 1, 2x + 1): red where 2x + 2y + 2 < 40
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) expect(map[y * 28 + x], `${y},${x}`).toBe(2 * x + 2 * y + 2 < 40 ? map[0] : map[27 * 28 + 27]);
    expect(map[0]).not.toBe(map[27 * 28 + 27]);

    const many = Buffer.alloc(40 * 40 * 3);
    for (let p = 0; p < 1600; p++) many.set([p % 256, Math.floor(p / 256), 0], p * 3);
    await sharp(many, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(tmp, 'many.png'));
    const cases: [string[], RegExp][] = [
      [['--method', 'gradcam', '--segments-mask', join(tmp, 'mask.png')], /--segments-mask applies only with --method feature-ablation, kernel-shap or lime/],
      [['--method', 'lime', '--segments-mask', join(tmp, 'mask.png'), '--segments', '8'], /--segments applies only without --segments-mask \(the mask gives the segments\)[\s\S]*leave out --segments-mask/],
      [['--method', 'lime', '--segments-mask', join(tmp, 'many.png')], /--segments-mask ".*many\.png" has more than 512 distinct colours[\s\S]*save it as PNG/],
      [['--method', 'lime', '--segments-mask', join(tmp, 'missing.png')], /missing\.png/],
    ];
    for (const [args, message] of cases) {
      const run = await convlens('explain', img, ...args, '--out', join(tmp, 'bad-mask'), '-q');
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('refuses, as the studio does, a --segments-mask that is not a PNG or has other proportions than an input image, before any work', async () => {
    const img = join(samples, 'bag-test18.png');
    // two flat regions: JPEG blends their edge into new colours, each a segment
    const px = (w: number, h: number): Buffer => {
      const b = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) b.set(p % w < w / 2 ? [255, 0, 0] : [0, 0, 255], p * 3);
      return b;
    };
    await sharp(px(56, 56), { raw: { width: 56, height: 56, channels: 3 } }).jpeg({ quality: 100 }).toFile(join(tmp, 'mask.jpg'));
    await sharp(px(56, 28), { raw: { width: 56, height: 28, channels: 3 } }).png().toFile(join(tmp, 'wide.png'));
    await sharp(px(28, 28), { raw: { width: 28, height: 28, channels: 3 } }).png().toFile(join(tmp, 'square.png'));
    // an input of other proportions than the square mask, after one that fits
    await sharp(px(40, 28), { raw: { width: 40, height: 28, channels: 3 } }).png().toFile(join(tmp, 'wide-input.png'));
    const cases: [string[], RegExp][] = [
      [[img, '--segments-mask', join(tmp, 'mask.jpg')], /--segments-mask ".*mask\.jpg" is not a PNG image\.[\s\S]*Save the mask as PNG with flat colours: JPEG and WebP blend the edges/],
      [[img, '--segments-mask', join(tmp, 'wide.png')], /--segments-mask ".*wide\.png" is 56x28 but the image ".*bag-test18\.png" is 28x28: a mask drawn on the image has its proportions\.[\s\S]*Pick the image the mask was drawn on, or a mask of this image \(any scale of it, same proportions; CLI: explain images of other proportions in another run/],
      [[img, join(tmp, 'wide-input.png'), join(samples, 'trouser-test2.png'), '--segments-mask', join(tmp, 'square.png')], /--segments-mask ".*square\.png" is 28x28 but the image ".*wide-input\.png" is 40x28: a mask drawn on the image has its proportions/],
    ];
    for (const [args, message] of cases) {
      const out = join(tmp, 'refused-mask');
      const run = await convlens('explain', ...args, '--method', 'lime', '--out', out, '-q');
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
  });

  it('refuses a --segments-mask that declares more pixels than a mask may have, from its header, before decoding it', async () => {
    // 10000x10000 gray, all one label: 100 megapixels (under the decoder's own limit) in a file of ~100 KB
    const chunk = (type: string, data: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body) >>> 0);
      return Buffer.concat([head, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(10_000, 0);
    ihdr.writeUInt32BE(10_000, 4);
    ihdr[8] = 8; // bit depth; colour type 0 (gray)
    const bomb = join(tmp, 'bomb.png');
    writeFileSync(bomb, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(10_001 * 10_000), { level: 9 })), chunk('IEND', Buffer.alloc(0))]));
    const out = join(tmp, 'bomb-out');
    const t0 = performance.now();
    const r = await convlens('explain', join(samples, 'bag-test18.png'), '--method', 'lime', '--segments-mask', bomb, '--out', out, '-q');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--segments-mask ".*bomb\.png" is 10000x10000 pixels \(100 megapixels\); a mask may have at most 50\.[\s\S]*scale it down by nearest neighbour/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a 16-bit --segments-mask, whose labels 0, 1, 2, ... would round to one grey level at 8 bits', async () => {
    // a label map as segmentation tools save it: labels 0 to 3 in the quadrants, 16 bits per sample
    const labels = Uint16Array.from({ length: 28 * 28 }, (_, p) => 2 * Number(Math.floor(p / 28) >= 14) + Number(p % 28 >= 14));
    const mask = join(tmp, 'labels16.png');
    writeFileSync(mask, encodePng({ width: 28, height: 28, depth: 16, channels: 1, data: labels }));
    const out = join(tmp, 'labels16-out');
    const r = await convlens('explain', join(samples, 'bag-test18.png'), '--method', 'feature-ablation', '--segments-mask', mask, '--out', out, '--json', '-q');
    expect(r.code, r.stdout.slice(0, 2000)).toBe(1);
    expect(r.stderr).toMatch(/--segments-mask ".*labels16\.png" has 16 bits per sample; read at 8 bits, its labels would round together and merge\.[\s\S]*Save the mask with 8 bits per sample/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses segment options without a segment method, and bounds before any work', async () => {
    const img = join(samples, 'bag-test18.png');
    const cases: [string[], RegExp][] = [
      [['--method', 'gradcam', '--segments', '12'], /--segments applies only with --method feature-ablation, kernel-shap or lime; here it would be ignored/],
      [['--method', 'saliency', '--segmentation', 'grid'], /--segmentation applies only with --method feature-ablation, kernel-shap or lime/],
      [['--method', 'lime', '--segmentation', 'grid', '--compactness', '5'], /--compactness applies only with SLIC segments[\s\S]*--segmentation slic/],
      [['--method', 'feature-ablation', '--samples', '50'], /--samples applies only with --method smoothgrad, smoothgrad-sq, vargrad, gradient-shap, kernel-shap or lime/],
      [['--method', 'feature-ablation', '--seed', '2'], /--seed applies only with a seeded method/],
      [['--method', 'lime', '--ablation-mode', 'brute-force'], /--ablation-mode applies only with --method feature-ablation/],
      [['--method', 'lime,integrated-gradients', '--baseline', 'mean'], /--baseline mean applies only to feature-ablation, kernel-shap and lime/],
      [['--method', 'kernel-shap', '--segments', '600'], /--segments.*1 to 512|expected an integer from 1 to 512/],
      [['--method', 'kernel-shap', '--segments', '40', '--samples', '10'], /kernel-shap with 10 samples cannot fit \d+ segments[\s\S]*Give at least \d+ samples .*\(CLI: --samples, --segments\)/],
    ];
    for (const [args, message] of cases) {
      const r = await convlens('explain', img, ...args, '--out', join(tmp, 'bad-seg'), '-q');
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('--method all runs every method, and the grid wraps them into bands instead of one row 29 tiles wide', async () => {
    const out = join(tmp, 'all');
    const r = await convlens('explain', 'samples/fashion-mnist/bag-test18.png', '--method', 'all', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { methods: { method: string }[]; skipped?: unknown[] };
    expect(summary.methods.length + (summary.skipped?.length ?? 0)).toBeGreaterThanOrEqual(29);
    const { width, height } = await sharp(readFileSync(join(out, 'grid.png'))).metadata();
    expect(width!).toBeLessThan(1400); // 8 columns at most (the input and 7 methods here)
    expect(height!).toBeGreaterThan(width! * 0.6); // five bands of one image row each
  });

  it('reports the predictions\' pass apart from the methods that share it', async () => {
    const shared = await convlens('explain', join(samples, 'sandal-test8.png'), '--method', 'saliency,gradcam', '--out', join(tmp, 'timing1'), '--no-images');
    expect(shared.code, shared.stderr).toBe(0);
    expect(shared.stdout).toMatch(/^ {2}\(shared gradient pass\) +\d+ ms$/m);
    const forward = await convlens('explain', join(samples, 'sandal-test8.png'), '--method', 'occlusion', '--out', join(tmp, 'timing2'), '--no-images', '--json');
    const summary = JSON.parse(forward.stdout) as { timingsMs: Record<string, number> };
    expect(summary.timingsMs['predictionPass']).toBeGreaterThanOrEqual(0);
    expect(summary.timingsMs['predictionPass']).toBeLessThanOrEqual(summary.timingsMs['explain']!);
  });

  it('fails clearly on an unknown method, a non-spatial layer, a target out of range, a bad range', async () => {
    const img = join(samples, 'bag-test18.png');
    const cases: [string[], RegExp][] = [
      [['--method', 'gradcam,smoothgrads'], /No attribution method named "smoothgrads"[\s\S]*smoothgrad/],
      [['--method', 'gradcam', '--layer', 'flatten'], /"flatten" has shape \[N, 128\]; CAM-type methods need a spatial feature map/],
      [['--method', 'gradient', '--target', '12'], /Target class 12 is out of range: model .* has 10 classes \(0-9\)/],
      [['--method', 'gradient', '--range', 'percentile:99:1'], /Cannot read range "percentile:99:1"/],
      [['--method', 'gradient', '--colormap', 'jett'], /No colormap named "jett"/],
      [['--method', 'lrp', '--lrp-composite', 'alpha2beta1'], /lrp-composite[\s\S]*alpha2beta1[\s\S]*epsilon-gamma-box/],
      [['--method', 'gradient-shap', '--baseline-file', join(tmp, 'rgb.npy'), '--samples', '2'], /baseline set has shape \[2, 3, 28, 28\] \(float32\); it must be float32 \[B, 1, 28, 28\]/],
      [['--method', 'gradient-shap', '--baseline-file', join(tmp, 'missing.npy')], /missing\.npy/],
      [['--method', 'lrp', '--lrp-gamma', '-1'], /lrp-gamma/],
    ];
    for (const [args, message] of cases) {
      const r = await convlens('explain', img, ...args, '--out', join(tmp, 'bad'), '-q');
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
