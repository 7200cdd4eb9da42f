// The completeness gap a run reports (IG, DeepLIFT, LRP): relative to the score difference,
// unless that difference is float32 rounding of the scores themselves.
import { describe, expect, it } from 'vitest';
import { completenessOf } from '../../src/methods/explain/completeness.js';

describe('completenessOf', () => {
  it('relates the gap to the score difference', () => {
    const [c] = completenessOf(Float32Array.of(1, 0.9), 2, [3], [1]);
    expect(c!.scoreDifference).toBe(2);
    expect(c!.gap).toBeCloseTo(-0.1, 6);
    expect(c!.relativeGap).toBeCloseTo(0.05, 6);
  });

  it('does not blow up a rounding-sized gap when an image and its baseline score alike', () => {
    // GoogLeNet with random weights gave one logit for the photo and the black image: a gap of
    // 3.6e-13 read as "completeness gap 36%".
    const [c] = completenessOf(Float32Array.of(3.6e-13, 0), 2, [0.0123], [0.0123]);
    expect(c!.relativeGap).toBeLessThan(1e-4); // prints as 0.00%
    // a real gap on the same scores still shows
    const [d] = completenessOf(Float32Array.of(0.01, 0), 2, [0.0123], [0.0123]);
    expect(d!.relativeGap).toBeGreaterThan(1);
  });

  it('takes the baseline score as 0 when none is given (LRP)', () => {
    const [c] = completenessOf(Float32Array.of(2, 2), 2, [5]);
    expect(c!.scoreDifference).toBe(5);
    expect(c!.relativeGap).toBeCloseTo(0.2, 6);
  });
});
