// Colormaps as 256-entry RGB lookup tables. Viridis and inferno use the published degree-6
// polynomial fits of matplotlib's maps (max error well under one 8-bit step of perceived
// lightness); RdBu is ColorBrewer's 11-class diverging scheme, interpolated linearly; turbo (the
// CLI's colormap for CAM overlays) is the library's own table.
import { colormap } from '../../src/render/colormap.js';

export type ColormapName = 'gray' | 'viridis' | 'inferno' | 'rdbu' | 'turbo';

type Poly = [number, number, number][];

const VIRIDIS: Poly = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

const INFERNO: Poly = [
  [0.0002189403691192265, 0.001651004631001012, -0.01948089843709184],
  [0.1065134194856116, 0.5639564367884091, 3.932712388889277],
  [11.60249308247187, -3.972853965665698, -15.9423941062914],
  [-41.70399613139459, 17.43639888205313, 44.35414519872813],
  [77.162935699427, -33.40235894210092, -81.80730925738993],
  [-71.31942824499214, 32.62606426397723, 73.20951985803202],
  [25.13112622477341, -12.24266895238567, -23.07032500287172],
];

// ColorBrewer RdBu, from blue (negative) to red (positive): attributions read "red = for".
const RDBU = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'];

function fromPoly(p: Poly): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = p.length - 1; k >= 0; k--) v = v * t + p[k]![c]!;
      lut[i * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return lut;
}

function fromStops(hex: string[]): Uint8ClampedArray {
  const rgb = hex.map((h) => [1, 3, 5].map((o) => parseInt(h.slice(o, o + 2), 16)));
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (rgb.length - 1);
    const j = Math.min(rgb.length - 2, Math.floor(pos));
    const f = pos - j;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[j]![c]! * (1 - f) + rgb[j + 1]![c]! * f);
  }
  return lut;
}

function gray(): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) lut[i * 3] = lut[i * 3 + 1] = lut[i * 3 + 2] = i;
  return lut;
}

export const LUTS: Record<ColormapName, Uint8ClampedArray> = {
  gray: gray(),
  viridis: fromPoly(VIRIDIS),
  inferno: fromPoly(INFERNO),
  rdbu: fromStops(RDBU),
  turbo: Uint8ClampedArray.from(colormap('turbo').lut),
};

/** CSS linear-gradient for a colorbar. */
export function gradientCss(name: ColormapName, direction = 'to right'): string {
  const lut = LUTS[name];
  const stops: string[] = [];
  for (let i = 0; i <= 16; i++) {
    const k = Math.round((i / 16) * 255) * 3;
    stops.push(`rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${(i / 16) * 100}%`);
  }
  return `linear-gradient(${direction}, ${stops.join(', ')})`;
}
