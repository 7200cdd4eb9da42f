// Colormaps as 256-entry lookup tables, sampled from d3-scale-chromatic (the matplotlib
// perceptual maps viridis/inferno/magma/plasma/cividis, Google's turbo, ColorBrewer diverging).
import { color } from 'd3-color';
import {
  interpolateBrBG,
  interpolateCividis,
  interpolateGreys,
  interpolateInferno,
  interpolateMagma,
  interpolatePiYG,
  interpolatePlasma,
  interpolatePRGn,
  interpolatePuOr,
  interpolateRdBu,
  interpolateTurbo,
  interpolateViridis,
} from 'd3-scale-chromatic';
import { ConvLensError, unknownNameError } from '../engine/errors.js';
import { lookup } from '../util/lookup.js';

interface ColormapDef {
  interpolate: (t: number) => string;
  diverging: boolean;
  description: string;
}

/**
 * Diverging maps run from negative (t = 0) to positive (t = 1) with a light middle at zero:
 * 'rdbu' is blue for negative and red for positive (matplotlib's RdBu_r, the usual choice for
 * signed attributions); 'rdbu-rev' is ColorBrewer's own order (red negative).
 */
const DEFS: Record<string, ColormapDef> = {
  viridis: { interpolate: interpolateViridis, diverging: false, description: 'perceptually uniform, dark blue to yellow' },
  inferno: { interpolate: interpolateInferno, diverging: false, description: 'perceptually uniform, black to yellow' },
  magma: { interpolate: interpolateMagma, diverging: false, description: 'perceptually uniform, black to light pink' },
  plasma: { interpolate: interpolatePlasma, diverging: false, description: 'perceptually uniform, blue to yellow' },
  cividis: { interpolate: interpolateCividis, diverging: false, description: 'colour-vision-deficiency friendly' },
  turbo: { interpolate: interpolateTurbo, diverging: false, description: 'rainbow (an improved jet)' },
  gray: { interpolate: (t) => interpolateGreys(1 - t), diverging: false, description: 'black to white' },
  rdbu: { interpolate: (t) => interpolateRdBu(1 - t), diverging: true, description: 'blue (negative), white, red (positive)' },
  'rdbu-rev': { interpolate: interpolateRdBu, diverging: true, description: 'red (negative), white, blue (positive)' },
  puor: { interpolate: (t) => interpolatePuOr(1 - t), diverging: true, description: 'purple (negative), white, orange (positive)' },
  piyg: { interpolate: interpolatePiYG, diverging: true, description: 'pink (negative), white, green (positive)' },
  prgn: { interpolate: interpolatePRGn, diverging: true, description: 'purple (negative), white, green (positive)' },
  brbg: { interpolate: interpolateBrBG, diverging: true, description: 'brown (negative), white, teal (positive)' },
};

export type ColormapName = keyof typeof DEFS & string;
export const COLORMAP_NAMES = Object.keys(DEFS);

export interface Colormap {
  name: string;
  diverging: boolean;
  /** 256 RGB triples */
  lut: Uint8Array;
}

const cache = new Map<string, Colormap>();

export function colormap(name: string): Colormap {
  const key = name.toLowerCase();
  const hit = cache.get(key);
  if (hit) return hit;
  const def = lookup(DEFS, key);
  if (!def) throw unknownNameError('colormap', name, COLORMAP_NAMES);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const c = color(def.interpolate(i / 255))?.rgb();
    if (!c) throw new ConvLensError('INVALID_ARGUMENT', `Colormap ${name} produced an unreadable colour.`);
    lut[i * 3] = Math.round(c.r);
    lut[i * 3 + 1] = Math.round(c.g);
    lut[i * 3 + 2] = Math.round(c.b);
  }
  const cm = { name: key, diverging: def.diverging, lut };
  cache.set(key, cm);
  return cm;
}

export function describeColormap(name: string): string {
  return lookup(DEFS, name.toLowerCase())?.description ?? '';
}

/** The RGB colour for a value in [0, 1]. */
export function colorAt(cm: Colormap, t: number): [number, number, number] {
  const i = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255)));
  return [cm.lut[i * 3]!, cm.lut[i * 3 + 1]!, cm.lut[i * 3 + 2]!];
}
