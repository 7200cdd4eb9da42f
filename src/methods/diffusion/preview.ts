// Pictures of diffusion runs (Node: sharp for PNG figures, gifenc for GIFs): samples per prompt,
// the denoising trajectory (x_t and the predicted clean image every k-th step) as a grid and as
// an animated GIF, and the forward process of one image at chosen steps.
import { createRequire } from 'node:module';
import type { RawImage } from '../../io/image.js';
import { gridFigure, type GridRow } from '../../render/grid.js';
import { resizeImage } from '../../render/heatmap.js';
import type { Frame } from './sampler.js';
import { scales, type NoiseSchedule } from './schedule.js';

/** Turns sample i of a batch [B, ...shape] into display pixels. */
export type ToImage = (x: Float32Array, i: number) => RawImage;

/**
 * Pixel-space samples [B, C, H, W] in `range` -> 8-bit gray (C = 1) or RGB (C = 3) images,
 * clipped to the range.
 */
export function pixelImages(shape: readonly number[], range: [number, number] = [-1, 1]): ToImage {
  const [c, h, w] = shape as [number, number, number];
  const [lo, hi] = range;
  return (x, i) => {
    const channels = c === 1 ? 1 : 3;
    const data = new Uint8Array(h * w * channels);
    const off = i * c * h * w;
    for (let ch = 0; ch < channels; ch++) {
      for (let p = 0; p < h * w; p++) {
        const v = ((x[off + ch * h * w + p]! - lo) / (hi - lo)) * 255;
        data[p * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
    return { width: w, height: h, channels, data };
  };
}

/**
 * Stable Diffusion v1 latents (4 channels) -> approximate RGB by a fixed linear map (the
 * "latent preview" factors popularized by ComfyUI), for watching latent denoising without running
 * the VAE; other channel counts show their first three channels (or the first, as gray),
 * each min-max scaled.
 */
export const SD_LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

export function latentImages(shape: readonly number[]): ToImage {
  const [c, h, w] = shape as [number, number, number];
  const plane = h * w;
  return (x, i) => {
    const off = i * c * plane;
    const data = new Uint8Array(plane * 3);
    if (c === 4) {
      for (let p = 0; p < plane; p++) {
        for (let k = 0; k < 3; k++) {
          let v = 0;
          for (let ch = 0; ch < 4; ch++) v += x[off + ch * plane + p]! * SD_LATENT_RGB[ch]![k]!;
          data[p * 3 + k] = Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));
        }
      }
    } else {
      for (let k = 0; k < 3; k++) {
        const ch = Math.min(k, c - 1);
        let lo = Infinity;
        let hi = -Infinity;
        for (let p = 0; p < plane; p++) {
          const v = x[off + ch * plane + p]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        for (let p = 0; p < plane; p++) data[p * 3 + k] = hi > lo ? Math.round(((x[off + ch * plane + p]! - lo) / (hi - lo)) * 255) : 128;
      }
    }
    return { width: w, height: h, channels: 3, data };
  };
}

/** Whole-factor enlargement of small images (28 px -> 112 px) so figures are readable. */
export function enlarge(img: RawImage, target = 112): RawImage {
  const side = Math.max(img.width, img.height);
  if (side >= target) return img;
  const f = Math.max(1, Math.floor(target / side));
  return resizeImage(img, img.width * f, img.height * f, 'nearest');
}

/** Rows = prompts, columns = that prompt's images. */
export async function samplesFigure(o: { images: Float32Array; promptOf: readonly number[]; prompts: readonly string[]; toImage: ToImage; title?: string; notes?: string[]; captions?: (string | undefined)[]; tile?: number }): Promise<Uint8Array> {
  const rows: GridRow[] = o.prompts.map((p, pi) => {
    const idx = o.promptOf.map((q, i) => (q === pi ? i : -1)).filter((i) => i >= 0);
    return { lines: [p === '' ? '(unconditional)' : p], cells: idx.map((i) => enlarge(o.toImage(o.images, i), o.tile)), ...(o.captions ? { captions: idx.map((i) => o.captions![i]) } : {}) };
  });
  const cols = Math.max(...rows.map((r) => r.cells.length));
  return gridFigure({ ...(o.title ? { title: o.title } : {}), columns: Array.from({ length: cols }, (_, i) => `#${i + 1}`), rows, ...(o.notes ? { notes: o.notes } : {}) });
}

/** For each chosen image two rows, x_t and the predicted x_0; columns = the recorded steps. */
export async function denoisingFigure(o: { frames: readonly Frame[]; images: readonly number[]; labels: readonly string[]; toImage: ToImage; final?: { images: Float32Array; toImage?: ToImage }; title?: string; notes?: string[]; tile?: number }): Promise<Uint8Array> {
  const rows: GridRow[] = [];
  o.images.forEach((img, k) => {
    const label = o.labels[k] ?? `image ${img + 1}`;
    const finalCell = o.final ? enlarge((o.final.toImage ?? o.toImage)(o.final.images, img), o.tile) : undefined;
    rows.push({ lines: [label, 'x_t (input of the step)'], cells: [...o.frames.map((f) => enlarge(o.toImage(f.x, img), o.tile)), finalCell] });
    rows.push({ lines: [label, 'predicted clean x_0'], cells: [...o.frames.map((f) => enlarge(o.toImage(f.x0, img), o.tile)), undefined] });
  });
  const columns = [...o.frames.map((f) => `step ${f.step + 1}/${f.steps}\nt = ${f.t}`), ...(o.final ? ['result'] : [])];
  return gridFigure({ ...(o.title ? { title: o.title } : {}), columns, rows, ...(o.notes ? { notes: o.notes } : {}) });
}

/** Side by side for each chosen image: x_t | predicted x_0, one GIF frame per recorded step (the last held longer). */
export function denoisingGif(o: { frames: readonly Frame[]; images: readonly number[]; toImage: ToImage; final?: Float32Array; tile?: number; delayMs?: number }): Uint8Array {
  const gif = gifenc();
  const enc = gif.GIFEncoder();
  const gap = 4;
  const pictures = (f: { x: Float32Array; x0: Float32Array }): RawImage[] => o.images.flatMap((i) => [enlarge(o.toImage(f.x, i), o.tile), enlarge(o.toImage(f.x0, i), o.tile)]);
  const seq = [...o.frames.map((f) => ({ x: f.x, x0: f.x0 })), ...(o.final ? [{ x: o.final, x0: o.final }] : [])];
  seq.forEach((f, n) => {
    const tiles = pictures(f);
    const tw = tiles[0]!.width;
    const th = tiles[0]!.height;
    const width = tiles.length * tw + (tiles.length - 1) * gap + (o.images.length - 1) * gap;
    const rgba = new Uint8Array(width * th * 4).fill(255);
    let left = 0;
    tiles.forEach((t, k) => {
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const src = (y * t.width + x) * t.channels;
          const dst = (y * width + left + x) * 4;
          rgba[dst] = t.data[src]!;
          rgba[dst + 1] = t.data[src + (t.channels === 3 ? 1 : 0)]!;
          rgba[dst + 2] = t.data[src + (t.channels === 3 ? 2 : 0)]!;
        }
      }
      left += tw + gap + (k % 2 === 1 ? gap : 0);
    });
    const palette = gif.quantize(rgba, 256);
    const index = gif.applyPalette(rgba, palette);
    enc.writeFrame(index, width, th, { palette, delay: n === seq.length - 1 ? 1500 : (o.delayMs ?? 120), ...(n === 0 ? { repeat: 0 } : {}) });
  });
  enc.finish();
  return enc.bytes();
}

/** One image noised by the closed form at chosen timesteps, one row per schedule, with sqrt(abar_t) under each tile. */
export async function noisingFigure(o: { x0: Float32Array; shape: readonly number[]; schedules: { name: string; schedule: NoiseSchedule }[]; timesteps: readonly number[]; noise: Float32Array; title?: string; notes?: string[]; range?: [number, number] }): Promise<Uint8Array> {
  const toImage = pixelImages(o.shape, o.range ?? [-1, 1]);
  const rows: GridRow[] = o.schedules.map(({ name, schedule }) => {
    const cells: RawImage[] = [];
    const captions: string[] = [];
    for (const t of o.timesteps) {
      const { signal, noise } = scales(schedule, t);
      const xt = new Float32Array(o.x0.length);
      for (let j = 0; j < xt.length; j++) xt[j] = signal * o.x0[j]! + noise * o.noise[j]!;
      cells.push(enlarge(toImage(xt, 0)));
      captions.push(`√ᾱ ${signal.toFixed(3)}  √(1-ᾱ) ${noise.toFixed(3)}`);
    }
    return { lines: [name, `T = ${schedule.steps}`], cells, captions };
  });
  return gridFigure({ ...(o.title ? { title: o.title } : {}), columns: o.timesteps.map((t) => `t = ${t}`), rows, ...(o.notes ? { notes: o.notes } : {}) });
}

interface GifencModule {
  GIFEncoder(): { writeFrame(index: Uint8Array, width: number, height: number, opts: { palette: number[][]; delay?: number; repeat?: number }): void; finish(): void; bytes(): Uint8Array };
  quantize(rgba: Uint8Array, maxColors: number): number[][];
  applyPalette(rgba: Uint8Array, palette: number[][]): Uint8Array;
}

let gifModule: GifencModule | undefined;
/** gifenc (CommonJS, untyped) loaded once. */
function gifenc(): GifencModule {
  gifModule ??= createRequire(import.meta.url)('gifenc') as GifencModule;
  return gifModule;
}
