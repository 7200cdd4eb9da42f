// Pictures of synthesis runs: image-space tensors ([N, C, H, W] in [0, 1]) as 8-bit images,
// strips of intermediate steps, perturbation pictures, and animated GIFs (gifenc).
import * as gifencModule from 'gifenc';
import type { Tensor } from '../../engine/tensor.js';
import type { RawImage } from '../../io/image.js';
import { gridFigure } from '../../render/grid.js';
import { resizeImage, toRgb } from '../../render/heatmap.js';
import type { Frame } from './optimize.js';

// gifenc is CommonJS for Node (a default export only) and ESM for bundlers (named exports).
const gifenc = ('GIFEncoder' in gifencModule ? gifencModule : gifencModule.default) as typeof gifencModule.default;
const { GIFEncoder, applyPalette, quantize } = gifenc;

/** Image k of an image-space batch as 8-bit pixels. */
export function toRaw(data: Float32Array, dims: readonly number[], k = 0): RawImage {
  const [, c, h, w] = dims as [number, number, number, number];
  const channels = c === 1 ? 1 : 3;
  const out = new Uint8Array(h * w * channels);
  const plane = h * w;
  for (let ch = 0; ch < channels; ch++)
    for (let p = 0; p < plane; p++) out[p * channels + ch] = Math.max(0, Math.min(255, Math.round(data[(k * c + ch) * plane + p]! * 255)));
  return { width: w, height: h, channels, data: out };
}

export function tensorImage(t: Tensor, k = 0): RawImage {
  return toRaw(t.data as Float32Array, t.dims, k);
}

/** 8-bit pixels -> image-space [1, C, H, W] (C = 1 or 3 as asked; gray <-> RGB converted). */
export function fromRaw(img: RawImage, channels: 1 | 3 = img.channels): Tensor {
  const { width: w, height: h } = img;
  const out = new Float32Array(channels * h * w);
  for (let p = 0; p < h * w; p++) {
    if (channels === 1) {
      out[p] = (img.channels === 1 ? img.data[p]! : 0.299 * img.data[p * 3]! + 0.587 * img.data[p * 3 + 1]! + 0.114 * img.data[p * 3 + 2]!) / 255;
    } else {
      for (let c = 0; c < 3; c++) out[c * h * w + p] = (img.channels === 1 ? img.data[p]! : img.data[p * 3 + c]!) / 255;
    }
  }
  return { dtype: 'float32', dims: [1, channels, h, w], data: out };
}

/** Upscale small images for display (nearest for tiny inputs, so pixels stay visible). */
export function displaySize(img: RawImage, target = 224): RawImage {
  const k = Math.max(1, Math.floor(target / Math.max(img.width, img.height)));
  if (k === 1) return img;
  return resizeImage(img, img.width * k, img.height * k, img.width <= 64 ? 'nearest' : 'bilinear');
}

/**
 * The perturbation of an adversarial example as a picture: delta scaled so that +-`scale`
 * spans the whole range, around grey (0.5); returns the picture and the scale used.
 */
export function perturbationImage(delta: Float32Array, dims: readonly number[], k = 0, scale?: number): { image: RawImage; scale: number } {
  const [, c, h, w] = dims as [number, number, number, number];
  const per = c * h * w;
  let m = scale ?? 0;
  if (!scale) for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(delta[k * per + i]!));
  m = m || 1;
  const shifted = new Float32Array(per);
  for (let i = 0; i < per; i++) shifted[i] = 0.5 + (0.5 * delta[k * per + i]!) / m;
  return { image: toRaw(shifted, [1, c, h, w]), scale: m };
}

/** A row of frames labelled with their step numbers. */
export async function frameStrip(frames: readonly Frame[], dims: readonly number[], k = 0, title?: string, tile = 160): Promise<Uint8Array> {
  return gridFigure({
    ...(title ? { title } : {}),
    columns: frames.map((f) => `step ${f.step}`),
    rows: [{ lines: [], cells: frames.map((f) => displaySize(toRaw(f.image, dims, k), tile)) }],
  });
}

/** An animated GIF of the frames (image k of each), looping; `delay` ms per frame, the last held longer. */
export function encodeGif(frames: readonly RawImage[], delay = 120, hold = 1000): Uint8Array {
  const gif = GIFEncoder();
  frames.forEach((f, i) => {
    const rgb = toRgb(f);
    const rgba = new Uint8Array(rgb.width * rgb.height * 4);
    for (let p = 0; p < rgb.width * rgb.height; p++) {
      rgba[p * 4] = rgb.data[p * 3]!;
      rgba[p * 4 + 1] = rgb.data[p * 3 + 1]!;
      rgba[p * 4 + 2] = rgb.data[p * 3 + 2]!;
      rgba[p * 4 + 3] = 255;
    }
    const palette = quantize(rgba, 256);
    const index = applyPalette(rgba, palette);
    gif.writeFrame(index, rgb.width, rgb.height, { palette, delay: i === frames.length - 1 ? hold : delay, ...(i === 0 ? { repeat: 0 } : {}) });
  });
  gif.finish();
  return gif.bytes();
}

/** GIF of a run's frames for image k, upscaled for display. */
export function framesGif(frames: readonly Frame[], dims: readonly number[], k = 0, tile = 224): Uint8Array {
  return encodeGif(frames.map((f) => displaySize(toRaw(f.image, dims, k), tile)));
}
