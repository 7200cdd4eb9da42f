// Embedding settings that fit small samples.
import { describe, expect, it } from 'vitest';
import { embedSettings } from '../../src/methods/dataset/embed.js';

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
    expect(() => embedSettings('tsne', 26, { perplexity: 30 }, 26)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/^Lower --perplexity to at most 8 \(the largest 26 points allow; leaving it out uses that\)\.$/) }));
    // more points in the store than in the sample: a larger sample is a way out too
    expect(() => embedSettings('tsne', 26, { perplexity: 30 }, 400)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/raise --sample to 91 or more/) }));
    expect(() => embedSettings('tsne', 3, {}, 3)).toThrow(/at least 4 points/);
  });
});
