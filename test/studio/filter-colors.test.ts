// The studio's filter tiles: colour only for the first conv on the image, in the model's channel order.
import { describe, expect, it } from 'vitest';
import { filterColorOrder } from '../../web/src/filter-colors.js';

describe('filterColorOrder', () => {
  it('draws a BGR model\'s first filters with red from weight channel 2 (they were drawn with red and blue swapped)', () => {
    expect(filterColorOrder(3, true, 'bgr')).toEqual([2, 1, 0]);
    expect(filterColorOrder(3, true, 'rgb')).toEqual([0, 1, 2]);
  });
  it('draws a later conv that takes 3 channels in grey: its inputs are features, not colours', () => {
    expect(filterColorOrder(3, false, 'rgb')).toBeNull();
    expect(filterColorOrder(1, true, 'gray')).toBeNull();
    expect(filterColorOrder(4, true, 'rgb')).toBeNull();
  });
});
