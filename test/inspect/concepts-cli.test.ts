// `convlens concepts`: the table, summary.json, the figure, the raw maps and vectors, and refusals
// that name the way out, on the built-in CNN and on SqueezeNet.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/io/npy.js';
import { convlens } from '../support/cli.js';
import { tempFolder } from '../support/temp-folder.js';

const tmp = tempFolder('convlens-concepts-');

describe('convlens concepts', () => {
  it('factorizes the built-in CNN over several images: table, summary, figure, maps and vectors', async () => {
    const out = join(tmp, 'fashion');
    const images = ['ankle-boot-test0', 'trouser-test2', 'sneaker-test9', 'dress-test13'].map((s) => `samples/fashion-mnist/${s}.png`);
    const r = await convlens('concepts', ...images, '--components', '3', '--top', '2', '--npy', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.layer.label).toBe('relu4');
    const [c, h, w] = summary.layer.shape as number[];
    expect(summary.factorization).toMatchObject({ components: 3, seed: 0 });
    expect(summary.factorization.relativeError).toBeGreaterThan(0);
    expect(summary.factorization.relativeError).toBeLessThan(1);
    expect(summary.concepts).toHaveLength(3);
    for (const con of summary.concepts) {
      expect(con.classes).toHaveLength(2);
      expect(con.classes[0].probability).toBeGreaterThanOrEqual(con.classes[1].probability);
    }
    expect(summary.concepts.reduce((s: number, con: { coverage: number }) => s + con.coverage, 0)).toBeCloseTo(1, 6);
    expect(summary.inputs).toHaveLength(4);
    // each concept's map peaks at 1 in some image
    for (let k = 0; k < 3; k++) expect(Math.max(...summary.inputs.map((i: { concepts: { peak: number }[] }) => i.concepts[k]!.peak))).toBeCloseTo(1, 5);
    const maps = parseNpy(readFileSync(join(out, 'maps.npy')), 'maps');
    expect(maps.dims).toEqual([4, 3, h, w]);
    const vectors = parseNpy(readFileSync(join(out, 'vectors.npy')), 'vectors');
    expect(vectors.dims).toEqual([3, c]);
    expect(r.stdout).toMatch(new RegExp(`3 concepts of relu4 \\[${c}, ${h}, ${w}\\] over 4 images`));
    expect(r.stdout).toContain(`1. strongest on`);
    const fig = await sharp(join(out, 'concepts.png')).metadata();
    // rows: 4 images; columns: input, all concepts, 3 concepts
    expect(fig.width).toBeGreaterThan(5 * 112);
    expect(fig.height).toBeGreaterThan(4 * 112);
  }, 60_000);

  it('names SqueezeNet\'s concepts at fires.7 by the classes its head gives them', async () => {
    const out = join(tmp, 'squeezenet');
    const r = await convlens('concepts', 'samples/photos/chelsea.png', 'samples/photos/coffee.png', '--model', 'squeezenet', '--json', '-q', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.layer).toEqual({ name: '/fires.7/Concat_output_0', label: 'fires.7', shape: [512, 13, 13] });
    expect(summary.concepts).toHaveLength(5);
    // the cat and the cup are each mostly one concept, and the head names them as such
    const labels = summary.concepts.map((con: { classes: { label: string }[] }) => con.classes[0]!.label);
    expect(labels).toContain('espresso');
    expect(labels.some((l: string) => /cat/.test(l))).toBe(true);
    expect(existsSync(join(out, 'concepts.png'))).toBe(true);
    expect(existsSync(join(out, 'maps.npy'))).toBe(false);
  }, 60_000);

  it('refuses more concepts than the layer has positions or channels, before writing anything', async () => {
    const out = join(tmp, 'refused');
    const r = await convlens('concepts', 'samples/fashion-mnist/bag-test18.png', '--components', '12', '--out', out);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Cannot find 12 concepts in layer "relu4" \(\[128, 3, 3\] over 1 image\)/);
    expect(r.stderr).toMatch(/Ask for 1 to 9 concepts \(CLI: --components\)/);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  }, 60_000);
});
