// Embedding arithmetic with known answers: centred PCA scores, settings that fit small samples,
// and the scatter plot's padded axes.
import { describe, expect, it } from 'vitest';
import { embedSettings, embedVectors, pca } from '../../src/methods/dataset/embed.js';
import { frameNote, paddedDomain, patchCaption, scatterFigure } from '../../src/methods/dataset/figures.js';

describe('pca', () => {
  it('scores are centred: points on a line through a non-zero mean project symmetrically around 0', () => {
    // x = m + t v with m = (10, -4, 7), v = (3, 4, 0) (|v| = 5), t = -2..2, plus a small offset
    // along z, uncorrelated with t and of mean 0, so the second component is z
    const m = [10, -4, 7];
    const v = [3, 4, 0];
    const ts = [-2, -1, 0, 1, 2];
    const off = [0.1, -0.1, 0, -0.1, 0.1];
    const data = new Float32Array(ts.flatMap((t, i) => [m[0]! + t * v[0]!, m[1]! + t * v[1]!, m[2]! + off[i]!]));
    const { coords, explained } = pca(data, 5, 3, 2);
    const first = ts.map((_, i) => coords[2 * i]!);
    const sign = Math.sign(first[4]!);
    // numpy: (X - X.mean(0)) @ V[:, 0] = t |v| (up to the component's sign)
    first.forEach((s, i) => expect(s * sign).toBeCloseTo(ts[i]! * 5, 4));
    const second = ts.map((_, i) => coords[2 * i + 1]!);
    expect(second.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 5);
    const sign2 = Math.sign(second[0]!);
    second.forEach((s, i) => expect(s * sign2).toBeCloseTo(off[i]!, 4));
    expect(explained[0]! + explained[1]!).toBeCloseTo(1, 5);
  });

  it('embedVectors(pca) returns the centred scores too', async () => {
    const data = new Float32Array([5, 5, 6, 6, 7, 7, 8, 8.5]);
    const r = await embedVectors('pca', data, 4, 2);
    let mx = 0;
    let my = 0;
    for (let i = 0; i < 4; i++) {
      mx += r.coords[2 * i]! / 4;
      my += r.coords[2 * i + 1]! / 4;
    }
    expect(mx).toBeCloseTo(0, 5);
    expect(my).toBeCloseTo(0, 5);
  });
});

describe('embedSettings', () => {
  it('lowers a default perplexity or neighbour count to what the points allow, and says so', () => {
    const t = embedSettings('tsne', 26, {});
    expect(t.perplexity).toBe(8);
    expect(t.notes.join()).toMatch(/perplexity lowered from 30 to 8, the largest 26 points allow/);
    expect(embedSettings('tsne', 2000, {})).toEqual({ perplexity: 30, notes: [] });
    const u = embedSettings('umap', 10, {});
    expect(u.neighbours).toBe(9);
    expect(u.notes.join()).toMatch(/neighbours lowered from 15 to 9/);
  });

  it('refuses a perplexity the caller gave that the points cannot carry, with a hint that is possible', () => {
    expect(() => embedSettings('tsne', 26, { perplexity: 30 }, 26)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/^Lower the perplexity \(CLI: --perplexity\) to at most 8 \(the largest 26 points allow; leaving it out uses that\)\.$/) }));
    // more points in the store than in the sample: a larger sample is a way out too
    expect(() => embedSettings('tsne', 26, { perplexity: 30 }, 400)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/raise --sample to 91 or more/) }));
    expect(() => embedSettings('tsne', 3, {}, 3)).toThrow(/at least 4 points/);
  });
});

describe('paddedDomain', () => {
  it('leaves room around the extreme points', () => {
    const [lo, hi] = paddedDomain([-2, 0, 8]);
    expect(lo).toBeCloseTo(-2.5);
    expect(hi).toBeCloseTo(8.5);
    const [a, b] = paddedDomain([3, 3]);
    expect(a).toBeLessThan(3);
    expect(b).toBeGreaterThan(3);
  });

  it('the scatter plot uses it on both axes', async () => {
    const coords = Float64Array.from([-2, 10, 0, 11, 8, 12]);
    const fig = await scatterFigure({ method: 'pca', space: 'relu4', ids: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0, 1, 0]), coords, params: {}, ms: 0 }, { classes: ['a', 'b'] });
    const enc = (fig.spec as unknown as { encoding: Record<'x' | 'y', { scale: { domain: number[] } }> }).encoding;
    expect(enc.x.scale.domain[0]).toBeCloseTo(-2.5);
    expect(enc.x.scale.domain[1]).toBeCloseTo(8.5);
    expect(enc.y.scale.domain[0]).toBeCloseTo(9.9);
    expect(enc.y.scale.domain[1]).toBeCloseTo(12.1);
  });
});

describe('scatter axes', () => {
  it('label tiny PCA scores (an untrained model\'s features) in exponent form, not as 0.000000000016', async () => {
    const coords = Float64Array.from([-1e-10, 1.6e-11, 2e-11, -9e-12, 6e-11, 4e-12, 3e-11, -2e-12]);
    const fig = await scatterFigure({ method: 'pca', space: 'relu4', ids: Int32Array.from([0, 1, 2, 3]), labels: Int32Array.from([0, 1, 0, 1]), coords, params: {}, ms: 0 }, { classes: ['a', 'b'] });
    const labels = [...fig.svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(labels.filter((l) => /0\.0000/.test(l))).toEqual([]);
    expect(labels).toContain('1e-11');
    expect(labels).toContain('0');
  });
});

describe('unlabeled images (a folder without class subfolders)', () => {
  it('the scatter plot has no class legend of "?"', async () => {
    const coords = Float64Array.from([0, 1, 2, 3, 4, 5]);
    const unlabeled = await scatterFigure({ method: 'umap', space: 'relu4', ids: Int32Array.from([0, 1, 2]), labels: Int32Array.from([-1, -1, -1]), coords, params: {}, ms: 0 }, { classes: [] });
    const text = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
    expect(text(unlabeled.svg)).not.toContain('?');
    expect(text(unlabeled.svg)).not.toContain('class');
    const labelled = await scatterFigure({ method: 'umap', space: 'relu4', ids: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0, 1, 0]), coords, params: {}, ms: 0 }, { classes: ['cat', 'dog'] });
    expect(text(labelled.svg)).toEqual(expect.arrayContaining(['class', 'cat', 'dog']));
  });

  it('the grid\'s note names colours that exist ("? (undefined)" before)', () => {
    expect(frameNote([-1], [])).toBe('The images have no classes (their frames all have one colour).');
    expect(frameNote([-1, 0, 11], Array.from({ length: 12 }, (_, i) => `c${i}`))).toBe('Frame colour = class: unlabeled (blue), c0 (blue), c11 (orange).');
  });
});

describe('patch captions', () => {
  it('show small activations (an untrained model\'s) in exponent form, not as 0.00', () => {
    expect(patchCaption(5.985e-13, ['cat'], 0)).toBe('6.0e-13 cat');
    expect(patchCaption(-0.004, ['cat'], 0)).toBe('-4.0e-3 cat');
    expect(patchCaption(3.14159, ['cat'], 0)).toBe('3.14 cat');
    expect(patchCaption(0, ['cat'], 0)).toBe('0.00 cat');
  });

  it('name no class for images of a folder without class sub-folders', () => {
    expect(patchCaption(2.5, [], -1)).toBe('2.50');
  });
});
