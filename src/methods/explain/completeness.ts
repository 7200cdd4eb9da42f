// Completeness: how far a map's sum is from the score difference it decomposes (IG, DeepLIFT,
// LRP), per image.
import type { Completeness } from './types.js';

/**
 * Per image: the sum of the map against score - baseScore (the baseline's score taken as 0 when
 * none is given). The relative gap divides by the difference, taken at least 1e-5 of the scores:
 * below that the difference is float32 rounding, and a random-weight net that scores an image
 * and its baseline alike turned a gap of 4e-13 into "36%".
 */
export function completenessOf(attr: Float32Array, per: number, scores: ArrayLike<number>, baseScores?: ArrayLike<number>): Completeness[] {
  const out: Completeness[] = [];
  for (let i = 0; i < scores.length; i++) {
    let sum = 0;
    for (let p = i * per; p < (i + 1) * per; p++) sum += attr[p]!;
    const score = scores[i]!;
    const base = baseScores?.[i] ?? 0;
    const diff = score - base;
    const gap = sum - diff;
    const scale = Math.max(Math.abs(diff), 1e-5 * Math.max(Math.abs(score), Math.abs(base)), 1e-12);
    out.push({ sum, scoreDifference: diff, gap, relativeGap: Math.abs(gap) / scale });
  }
  return out;
}
