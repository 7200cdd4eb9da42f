import { LUTS, type ColormapName } from './colormaps';

/**
 * How values become colours: `lo` maps to the colormap's first entry, `hi` to its last. With
 * `mid` set (diverging maps), `lo..mid` fills the first half and `mid..hi` the second, so zero
 * stays at the neutral centre even when the range is not symmetric.
 */
export interface Mapping {
  lo: number;
  hi: number;
  mid?: number;
}

export function toUnit(v: number, m: Mapping): number {
  if (m.mid !== undefined) {
    if (v < m.mid) return m.mid > m.lo ? 0.5 * Math.max(0, (v - m.lo) / (m.mid - m.lo)) : 0.5;
    return m.hi > m.mid ? 0.5 + 0.5 * Math.min(1, (v - m.mid) / (m.hi - m.mid)) : 0.5;
  }
  const span = m.hi - m.lo;
  // a constant map (a dead ReLU channel, say) shows as the low end, not as activity
  if (!(span > 0)) return 0;
  return Math.min(1, Math.max(0, (v - m.lo) / span));
}

/** Paints `h*w` values starting at `offset` into an ImageData (opaque). */
export function mapToImageData(values: ArrayLike<number>, offset: number, h: number, w: number, mapping: Mapping, cmap: ColormapName): ImageData {
  const img = new ImageData(w, h);
  const lut = LUTS[cmap];
  const px = img.data;
  for (let i = 0; i < h * w; i++) {
    const v = values[offset + i]!;
    const k = Math.round(toUnit(Number.isFinite(v) ? v : 0, mapping) * 255) * 3;
    px[i * 4] = lut[k]!;
    px[i * 4 + 1] = lut[k + 1]!;
    px[i * 4 + 2] = lut[k + 2]!;
    px[i * 4 + 3] = 255;
  }
  return img;
}

/** Draws a map on a canvas at its native resolution (CSS scales it up, pixelated). */
export function paintCanvas(canvas: HTMLCanvasElement, values: ArrayLike<number>, offset: number, h: number, w: number, mapping: Mapping, cmap: ColormapName): void {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  canvas.getContext('2d')!.putImageData(mapToImageData(values, offset, h, w, mapping, cmap), 0, 0);
}

/** An ImageData as a canvas, for drawImage scaling. */
export function imageDataCanvas(img: ImageData): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = img.width;
  c.height = img.height;
  c.getContext('2d')!.putImageData(img, 0, 0);
  return c;
}

export function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('The image could not be decoded.'));
    img.src = src;
  });
}

/** Sizes a canvas for crisp drawing at its CSS size times the device pixel ratio. */
export function fitCanvas(canvas: HTMLCanvasElement, cssW: number, cssH: number): CanvasRenderingContext2D {
  const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  const w = Math.round(cssW * dpr);
  const h = Math.round(cssH * dpr);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** The input-pixel box a unit sees (shared with the library, so page and CLI agree). */
export { unitRegion as unitBox } from '../../src/methods/inspect/region.js';
