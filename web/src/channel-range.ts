// (no imports: the tests typecheck this file under the node16 rules, the page under Vite's)
interface Range {
  lo: number;
  hi: number;
}

export type Norm = 'channel' | 'layer';

/**
 * Which values a feature map's colours span, and what its legend calls them: the channel's own
 * min and max, or the layer's. A 1x1 map has no range of its own (one value), so it is always
 * drawn on the layer's scale, and its legend must say so: it said "this channel" while showing
 * the layer's range (MobileNetV3's squeeze-and-excitation maps).
 */
export function channelMapping(layer: { h: number; w: number; range: Range; channels: Range[] }, channel: number, norm: Norm): { lo: number; hi: number; caption: 'layer range' | 'this channel' } {
  const whole = norm === 'layer' || layer.h * layer.w === 1;
  const r = whole ? layer.range : layer.channels[channel]!;
  return { lo: r.lo, hi: r.hi, caption: whole ? 'layer range' : 'this channel' };
}

/** Whether the layer's legend is one scale for every map (per-layer normalization, or 1x1 maps). */
export function oneScale(layer: { h: number; w: number }, norm: Norm): boolean {
  return norm === 'layer' || layer.h * layer.w === 1;
}
