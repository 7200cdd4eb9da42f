// SLIC superpixels and grid segments: coverage, connectivity, count, edges, determinism, bounds.
import { describe, expect, it } from 'vitest';
import type { RawImage } from '../../src/io/image.js';
import { enforceConnectivity, gridSegments, MAX_SEGMENTS, segmentImage, segmentSizes, slic, toLab, type Segmentation } from '../../src/methods/explain/segments.js';
import { rng } from '../support/rng.js';

/** Whether each segment's pixels form one 4-connected piece. */
function connected(s: Segmentation): boolean {
  const sizes = segmentSizes(s);
  const seen = new Uint8Array(s.labels.length);
  const reached = new Int32Array(s.count);
  for (let start = 0; start < s.labels.length; start++) {
    const label = s.labels[start]!;
    if (reached[label]! > 0) continue;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      reached[label]!++;
      const y = Math.floor(p / s.width);
      const x = p % s.width;
      for (const [q, ok] of [[p - 1, x > 0], [p + 1, x < s.width - 1], [p - s.width, y > 0], [p + s.width, y < s.height - 1]] as const) {
        if (ok && !seen[q] && s.labels[q] === label) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
  }
  return reached.every((r, l) => r === sizes[l]);
}

function coversOnce(s: Segmentation): void {
  expect(s.labels.length).toBe(s.width * s.height);
  for (const l of s.labels) expect(l >= 0 && l < s.count).toBe(true);
  // every label in 0..count-1 is used: segments are numbered densely
  expect(segmentSizes(s).every((n) => n > 0)).toBe(true);
}

/** A smooth colourful image with some noise: blobs of colour a photograph might have. */
function smoothImage(h: number, w: number, seed = 1): RawImage {
  const rand = rng(seed);
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = [128 + 100 * Math.sin(x / 9) * Math.cos(y / 13), 128 + 100 * Math.cos((x + y) / 17), 128 + 90 * Math.sin((x - 2 * y) / 23)];
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v[c]! + 12 * (rand() - 0.5))));
    }
  }
  return { width: w, height: h, channels: 3, data };
}

describe('SLIC superpixels', () => {
  it('cover every pixel once, each segment connected, about as many as asked', () => {
    const image = smoothImage(96, 128);
    for (const segments of [10, 50, 200]) {
      const s = slic(image, segments, 10);
      coversOnce(s);
      expect(connected(s), `${segments} segments`).toBe(true);
      expect(s.count, `${segments} asked`).toBeGreaterThanOrEqual(0.6 * segments);
      expect(s.count, `${segments} asked`).toBeLessThanOrEqual(1.4 * segments);
    }
  });

  it('follow a strong edge: on a two-colour image no segment holds both colours', () => {
    // A curved boundary that no grid line follows: red left of it, blue right.
    const [h, w] = [90, 120];
    const left = (y: number, x: number): boolean => x < 47 + 20 * Math.sin(y / 11);
    const data = new Uint8Array(h * w * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(left(y, x) ? [200, 30, 30] : [30, 40, 210], (y * w + x) * 3);
    const s = slic({ width: w, height: h, channels: 3, data }, 40, 10);
    coversOnce(s);
    expect(connected(s)).toBe(true);
    const sides = new Map<number, Set<boolean>>();
    for (let p = 0; p < h * w; p++) {
      const l = s.labels[p]!;
      if (!sides.has(l)) sides.set(l, new Set());
      sides.get(l)!.add(left(Math.floor(p / w), p % w));
    }
    const mixed = [...sides.values()].filter((v) => v.size > 1).length;
    expect(mixed).toBe(0);
    // and the grid, which ignores colour, does mix them (the test can tell the difference)
    const g = gridSegments(h, w, 40);
    const gridSides = new Map<number, Set<boolean>>();
    for (let p = 0; p < h * w; p++) {
      const l = g.labels[p]!;
      if (!gridSides.has(l)) gridSides.set(l, new Set());
      gridSides.get(l)!.add(left(Math.floor(p / w), p % w));
    }
    expect([...gridSides.values()].filter((v) => v.size > 1).length).toBeGreaterThan(0);
  });

  it('is deterministic', () => {
    const image = smoothImage(64, 64, 5);
    expect(slic(image, 30, 10).labels).toEqual(slic(image, 30, 10).labels);
  });

  it('a larger compactness gives squarer (less elongated) segments', () => {
    const image = smoothImage(96, 96, 2);
    const perimeter = (s: Segmentation): number => {
      let edges = 0;
      for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) {
        const p = y * s.width + x;
        if (x + 1 < s.width && s.labels[p] !== s.labels[p + 1]) edges++;
        if (y + 1 < s.height && s.labels[p] !== s.labels[p + s.width]) edges++;
      }
      return edges / s.count;
    };
    expect(perimeter(slic(image, 36, 40))).toBeLessThan(perimeter(slic(image, 36, 1)));
  });

  it('segments gray images on lightness, and a constant image like a grid', () => {
    const [h, w] = [40, 40];
    const data = new Uint8Array(h * w);
    for (let p = 0; p < h * w; p++) data[p] = p % w < 17 ? 20 : 230;
    const s = slic({ width: w, height: h, channels: 1, data }, 16, 10);
    coversOnce(s);
    expect(connected(s)).toBe(true);
    for (let p = 0; p < h * w; p++) if (p % w === 16) expect(s.labels[p]).not.toBe(s.labels[p + 1]);
    const flat = slic({ width: w, height: h, channels: 1, data: new Uint8Array(h * w).fill(99) }, 16, 10);
    expect(flat.count).toBe(16);
    expect(segmentSizes(flat).every((n) => n === 100)).toBe(true);
  });

  it('converts sRGB to CIELAB (D65)', () => {
    const [L, A, B] = toLab({ width: 3, height: 1, channels: 3, data: Uint8Array.of(255, 255, 255, 0, 0, 0, 255, 0, 0) });
    expect(L![0]).toBeCloseTo(100, 2);
    expect(A![0]).toBeCloseTo(0, 2);
    expect(B![0]).toBeCloseTo(0, 2);
    expect(L![1]).toBeCloseTo(0, 5);
    // pure red: L 53.24, a 80.09, b 67.20 (the standard values)
    expect(L![2]).toBeCloseTo(53.24, 1);
    expect(A![2]).toBeCloseTo(80.09, 1);
    expect(B![2]).toBeCloseTo(67.2, 1);
  });
});

describe('connectivity enforcement', () => {
  it('splits a label in two pieces and merges a piece below the minimum size into its neighbour', () => {
    // label 0 in two pieces (columns 0 and 3), a lone pixel of label 2 inside label 1
    const labels = Int32Array.from([0, 1, 1, 0, 0, 1, 2, 0, 0, 1, 1, 0]);
    const s = enforceConnectivity(labels, 3, 4, 2);
    expect(s.count).toBe(3);
    expect([...s.labels]).toEqual([0, 1, 1, 2, 0, 1, 1, 2, 0, 1, 1, 2]);
  });
});

describe('grid segments and bounds', () => {
  it('a grid of about the asked count, every pixel once', () => {
    const s = gridSegments(224, 224, 49);
    expect(s.count).toBe(49);
    coversOnce(s);
    expect(connected(s)).toBe(true);
    const wide = gridSegments(50, 200, 16);
    expect(wide.count).toBe(16); // 2 rows x 8 columns: cells as square as the aspect allows
    expect(segmentSizes(wide).every((n) => n === 625)).toBe(true);
  });

  it('refuses counts and compactness out of bounds with the way out', () => {
    const image = smoothImage(16, 16);
    expect(() => segmentImage(image, { segments: 0 })).toThrow(/segments must be an integer from 1 to 256, got 0/);
    expect(() => segmentImage(image, { segments: 300 })).toThrow(/from 1 to 256/);
    expect(() => segmentImage(smoothImage(64, 64), { segments: MAX_SEGMENTS + 1 })).toThrow(/from 1 to 512, got 513/);
    expect(() => segmentImage(image, { segments: 2.5 })).toThrow(/integer/);
    expect(() => segmentImage(image, { compactness: 0 })).toThrow(/compactness must be a number above 0/);
    expect(() => segmentImage(image, { kind: 'quickshift' as never })).toThrow(/Unknown segmentation "quickshift"/);
  });
});
