// The feature-map legend in the studio: the numbers it prints are the range the colours span.
import { describe, expect, it } from 'vitest';
import { channelMapping, oneScale } from '../../web/src/channel-range.js';

describe('channelMapping', () => {
  const layer = { h: 7, w: 7, range: { lo: -2, hi: 3 }, channels: [{ lo: -1, hi: 1 }, { lo: 0, hi: 3 }] };
  it('spans a channel\'s own range per channel and the layer\'s per layer, and says which', () => {
    expect(channelMapping(layer, 1, 'channel')).toEqual({ lo: 0, hi: 3, caption: 'this channel' });
    expect(channelMapping(layer, 1, 'layer')).toEqual({ lo: -2, hi: 3, caption: 'layer range' });
    expect(oneScale(layer, 'channel')).toBe(false);
  });
  it('draws 1x1 maps (a squeeze-and-excitation gate) on the layer\'s scale and labels the legend so', () => {
    // the legend said "this channel" over the layer's range: channel 0 at -0.031 under "-0.060 ... 0.034"
    const gate = { h: 1, w: 1, range: { lo: -0.06, hi: 0.034 }, channels: [{ lo: -0.031, hi: -0.031 }] };
    expect(channelMapping(gate, 0, 'channel')).toEqual({ lo: -0.06, hi: 0.034, caption: 'layer range' });
    expect(oneScale(gate, 'channel')).toBe(true);
  });
});
