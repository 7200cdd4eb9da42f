// Where a top patch's crop sits: the unit's receptive field, padded past the border, but never
// larger than the image along an axis the field covers.
import { describe, expect, it } from 'vitest';
import { cropBox } from '../../src/methods/dataset/patches.js';
import type { ReceptiveField } from '../../src/methods/inspect/receptive-field.js';

const field = (size: number, jump: number, start: number): ReceptiveField => ({ size: [size, size], jump: [jump, jump], start: [start, start], global: false });

describe('cropBox', () => {
  it('is the receptive field, reaching past the border as padding', () => {
    expect(cropBox(field(31, 8, 3.5), 0, 5, 224, 224)).toEqual({ top: -11, left: 29, h: 31, w: 31 });
  });

  it('is the whole image along an axis the field covers (EfficientNet-B0\'s last stage: 851 px of 224)', () => {
    expect(cropBox(field(851, 32, 15.5), 3, 6, 224, 224)).toEqual({ top: 0, left: 0, h: 224, w: 224 });
    // a wide image: the field covers its height, not its width
    expect(cropBox(field(300, 16, 7.5), 2, 10, 256, 640)).toEqual({ top: 0, left: 18, h: 256, w: 300 });
  });

  it('is the image for a global unit', () => {
    expect(cropBox({ size: [0, 0], jump: [0, 0], start: [0, 0], global: true }, 0, 0, 28, 28)).toEqual({ top: 0, left: 0, h: 28, w: 28 });
  });
});
