// Heatmaps, overlays and colorbars as 8-bit pixels (RawImage), in plain typed arrays so they
// work anywhere; PNG encoding and figure layout live in grid.ts (sharp).
import { ConvLensError } from '../engine/errors.js';
import type { RawImage } from '../io/image.js';
import { colormap, type Colormap } from './colormap.js';
import { mapRange, type RangeSpec } from './range.js';

export interface HeatmapOptions {
  colormap?: string;
  range?: RangeSpec;
  /** output size (default: the map's); the normalized map is resampled, not the colours */
  width?: number;
  height?: number;
  /** 'nearest' keeps pixel-level maps honest; 'bilinear' suits coarse CAMs */
  interpolation?: 'nearest' | 'bilinear';
}

export interface Heatmap {
  image: RawImage;
  /** the values drawn at the two ends of the colormap */
  min: number;
  max: number;
  colormap: string;
}

/** Resamples one float plane (nearest or bilinear with half-pixel centres). */
export function resamplePlane(src: Float32Array, w: number, h: number, W: number, H: number, how: 'nearest' | 'bilinear'): Float32Array {
  if (w === W && h === H) return src;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (how === 'nearest') {
        out[y * W + x] = src[Math.min(h - 1, Math.floor(((y + 0.5) * h) / H)) * w + Math.min(w - 1, Math.floor(((x + 0.5) * w) / W))]!;
        continue;
      }
      const sy = Math.max(0, Math.min(h - 1, ((y + 0.5) * h) / H - 0.5));
      const sx = Math.max(0, Math.min(w - 1, ((x + 0.5) * w) / W - 0.5));
      const y0 = Math.floor(sy);
      const x0 = Math.floor(sx);
      const y1 = Math.min(h - 1, y0 + 1);
      const x1 = Math.min(w - 1, x0 + 1);
      const fy = sy - y0;
      const fx = sx - x0;
      const top = src[y0 * w + x0]! * (1 - fx) + src[y0 * w + x1]! * fx;
      const bottom = src[y1 * w + x0]! * (1 - fx) + src[y1 * w + x1]! * fx;
      out[y * W + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Colours values already in [0, 1]. */
export function colorize(normalized: Float32Array, width: number, height: number, cm: Colormap): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = normalized[i]!;
    const k = Math.max(0, Math.min(255, Math.round((Number.isFinite(t) ? t : 0) * 255))) * 3;
    data[i * 3] = cm.lut[k]!;
    data[i * 3 + 1] = cm.lut[k + 1]!;
    data[i * 3 + 2] = cm.lut[k + 2]!;
  }
  return { width, height, channels: 3, data };
}

/** A map [h, w] as a coloured image, with the range it was drawn with. */
export function renderHeatmap(map: Float32Array, width: number, height: number, options: HeatmapOptions = {}): Heatmap {
  if (map.length !== width * height) throw new ConvLensError('INVALID_ARGUMENT', `A ${width}x${height} heatmap needs ${width * height} values, got ${map.length}.`, `Pass ${width * height} values, row by row.`);
  const cm = colormap(options.colormap ?? 'inferno');
  const spec = options.range ?? (cm.diverging ? { mode: 'symmetric' } : { mode: 'minmax' });
  const { normalized, min, max } = mapRange(map, spec);
  const W = options.width ?? width;
  const H = options.height ?? height;
  const resampled = resamplePlane(normalized, width, height, W, H, options.interpolation ?? 'nearest');
  return { image: colorize(resampled, W, H, cm), min, max, colormap: cm.name };
}

export function toRgb(img: RawImage): RawImage {
  if (img.channels === 3) return img;
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = img.data[i]!;
  return { width: img.width, height: img.height, channels: 3, data };
}

/** Nearest-neighbour resize of pixels (input images shown at their true resolution). */
export function resizeImage(img: RawImage, width: number, height: number, how: 'nearest' | 'bilinear' = 'nearest'): RawImage {
  if (img.width === width && img.height === height) return img;
  const c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let ch = 0; ch < c; ch++) {
    const plane = new Float32Array(img.width * img.height);
    for (let i = 0; i < plane.length; i++) plane[i] = img.data[i * c + ch]!;
    const r = resamplePlane(plane, img.width, img.height, width, height, how);
    for (let i = 0; i < width * height; i++) data[i * c + ch] = Math.max(0, Math.min(255, Math.round(r[i]!)));
  }
  return { width, height, channels: c, data };
}

/**
 * Alpha-blends a heatmap over an image: out = (1 - opacity) * image + opacity * heatmap, as
 * pytorch-grad-cam's show_cam_on_image with image_weight = 1 - opacity. Sizes must match.
 */
export function overlay(base: RawImage, heat: RawImage, opacity = 0.5): RawImage {
  if (!(opacity >= 0 && opacity <= 1)) throw new ConvLensError('INVALID_ARGUMENT', `Overlay opacity must be between 0 and 1, got ${opacity}.`, 'Use an opacity from 0 to 1 (CLI: --opacity).');
  if (base.width !== heat.width || base.height !== heat.height) throw new ConvLensError('INVALID_ARGUMENT', `Overlay sizes differ: image ${base.width}x${base.height}, heatmap ${heat.width}x${heat.height}.`, 'Resize the heatmap to the image first (resizeImage).');
  const b = toRgb(base);
  const h = toRgb(heat);
  const data = new Uint8Array(b.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round((1 - opacity) * b.data[i]! + opacity * h.data[i]!);
  return { width: b.width, height: b.height, channels: 3, data };
}

/** A horizontal colorbar (left = 0, right = 1). */
export function colorbar(name: string, width: number, height: number): RawImage {
  const cm = colormap(name);
  const row = new Float32Array(width);
  for (let x = 0; x < width; x++) row[x] = width > 1 ? x / (width - 1) : 0;
  const data = new Uint8Array(width * height * 3);
  const line = colorize(row, width, 1, cm).data;
  for (let y = 0; y < height; y++) data.set(line, y * width * 3);
  return { width, height, channels: 3, data };
}
