// `convlens explain` end to end: files written, raw .npy shapes as specified, the JSON summary, errors.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convlens, ROOT } from '../support/cli.js';
import { encodeNpy, parseNpy } from '../../src/io/npy.js';

const samples = join(ROOT, 'samples', 'fashion-mnist');
const tmp = mkdtempSync(join(tmpdir(), 'convlens-explain-'));


beforeAll(() => {
  writeFileSync(join(tmp, 'baseline.npy'), encodeNpy({ dtype: 'float32', dims: [1, 1, 28, 28], data: new Float32Array(784).fill(0.1) }));
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
    expect(summary.methods[2].layer).toEqual({ name: 'relu4', shape: [128, 3, 3] });
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

  it('fails clearly on an unknown method, a non-spatial layer, a target out of range, a bad range', async () => {
    const img = join(samples, 'bag-test18.png');
    const cases: [string[], RegExp][] = [
      [['--method', 'gradcam,smoothgrads'], /No attribution method named "smoothgrads"[\s\S]*smoothgrad/],
      [['--method', 'gradcam', '--layer', 'flatten'], /"flatten" has shape \[N, 128\]; CAM-type methods need a spatial feature map/],
      [['--method', 'gradient', '--target', '12'], /Target class 12 is out of range: model .* has 10 classes \(0-9\)/],
      [['--method', 'gradient', '--range', 'percentile:99:1'], /Cannot read range "percentile:99:1"/],
      [['--method', 'gradient', '--colormap', 'jett'], /No colormap named "jett"/],
    ];
    for (const [args, message] of cases) {
      const r = await convlens('explain', img, ...args, '--out', join(tmp, 'bad'), '-q');
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});
