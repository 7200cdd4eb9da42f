// Reading and writing images in image space ([1, C, H, W] floats in [0, 1]) for the synthesis
// commands and the studio.
import { existsSync } from 'node:fs';
import { loadSharp } from '../../io/sharp.js';
import { ConvLensError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { readFileOrExplain, writeFileAtomic } from '../../io/files.js';
import { cropFrame, decodeFailure, encodePng, type RawImage, resizeForModel } from '../../io/image.js';
import type { Model } from '../../models/model.js';
import { modelChannels } from './graph.js';
import { fromRaw, tensorImage } from './render.js';

/**
 * Decodes an image to image space, gray (1) or RGB (3), resized so its longer side is `maxSide`
 * (keeping the aspect ratio), or to exactly `size` [H, W].
 */
export async function decodeImageTensor(bytes: Uint8Array, source: string, channels: 1 | 3, o: { maxSide?: number; size?: [number, number] } = {}): Promise<Tensor> {
  try {
    const sharp = await loadSharp();
    let img = sharp(bytes, { failOn: 'error' }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
    if (o.size) img = img.resize(o.size[1], o.size[0], { fit: 'fill', kernel: 'lanczos3' });
    else if (o.maxSide) img = img.resize(o.maxSide, o.maxSide, { fit: 'inside', kernel: 'lanczos3' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return fromRaw({ width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, channels);
  } catch (e) {
    throw decodeFailure(source, e);
  }
}

export async function readImageTensor(path: string, channels: 1 | 3, o: { maxSide?: number; size?: [number, number] } = {}): Promise<Tensor> {
  return decodeImageTensor(readFileOrExplain(path, 'image'), `"${path}"`, channels, o);
}

/**
 * An image exactly as predict hands it to the model - the model's resize or centre crop and its
 * colours - but in image space ([1, C, H, W] in [0, 1]): the synthesis graph applies the rest of
 * the preprocessing (range, mean/std, channel order) itself.
 */
export async function decodeModelImage(bytes: Uint8Array, source: string, model: Model): Promise<Tensor> {
  return fromRaw(await resizeForModel(bytes, model.meta.preprocessing, source), modelChannels(model));
}

export async function readModelImage(path: string, model: Model): Promise<Tensor> {
  return decodeModelImage(readFileOrExplain(path, 'image'), `"${path}"`, model);
}

/**
 * An image made from the model-size crop of `path` (an adversarial example, say), framed so that
 * predict reads back exactly its pixels. ImageNet's transform scales a 224x224 file up to 256 and
 * crops its centre again, so a crop written alone is not what the model was given; written as
 * the centre of the photo's own 256x256 surround it is. `clean` is the crop as the model saw it
 * (8-bit); the surround comes from the photo scaled as predict scales it. Without such a frame
 * (stretching preprocessing, crop 1) or when the surround does not line up pixel for pixel, the
 * image is returned as it is.
 */
export async function inPredictFrame(path: string, model: Model, image: RawImage, clean: RawImage): Promise<RawImage> {
  const prep = model.meta.preprocessing;
  const frame = cropFrame(prep);
  if (!frame || image.width !== prep.size[1] || image.height !== prep.size[0]) return image;
  const [H, W] = frame;
  const around = await resizeForModel(readFileOrExplain(path, 'image'), prep, `"${path}"`, frame);
  const c = image.channels;
  if (around.width !== W || around.height !== H || around.channels !== c) return image;
  const top = (H - image.height) / 2;
  const left = (W - image.width) / 2;
  const row = image.width * c;
  for (let y = 0; y < image.height; y++) {
    const at = ((top + y) * W + left) * c;
    // the surround's centre must be the crop the model saw, or the frame would shift it
    for (let i = 0; i < row; i++) if (around.data[at + i] !== clean.data[y * row + i]) return image;
    around.data.set(image.data.subarray(y * row, (y + 1) * row), at);
  }
  return around;
}

/** Concatenates [1, C, H, W] tensors of one size into a batch. */
export function stack(images: Tensor[]): Tensor {
  const [, c, h, w] = images[0]!.dims as number[];
  for (const t of images) if (t.dims.join('x') !== images[0]!.dims.join('x')) throw new ConvLensError('SHAPE_MISMATCH', `Images differ in size: [${t.dims.join(', ')}] vs [${images[0]!.dims.join(', ')}].`, 'Give images of one size, or resize them to one (CLI: --size HxW).');
  const per = c! * h! * w!;
  const data = new Float32Array(images.length * per);
  images.forEach((t, i) => data.set(t.data as Float32Array, i * per));
  return { dtype: 'float32', dims: [images.length, c!, h!, w!], data };
}

export async function writeImagePng(path: string, t: Tensor, k = 0): Promise<void> {
  writeFileAtomic(path, await encodePng(tensorImage(t, k)));
}

/** JSON with six significant digits, as the other commands write their summaries. */
export function summaryJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v instanceof Float32Array ? Array.from(v) : v), 2)}\n`;
}

/** "name=path[:weight]" or "path[:weight]" -> parts. */
export function parseNamedImage(spec: string): { name: string; path: string; weight: number } {
  let rest = spec;
  let weight = 1;
  // Anything number-like after the last colon is meant as the weight: `brick.png:-1` read as a
  // file name was reported as a missing file. A file really named so is still read.
  const w = /:([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?infinity|nan)$/i.exec(rest);
  if (w && !existsSync(spec)) {
    weight = Number(w[1]!.replace(/infinity/i, 'Infinity'));
    if (!Number.isFinite(weight) || weight < 0) {
      throw new ConvLensError('INVALID_ARGUMENT', `The weight of "${spec}" must be a number >= 0, got ${w[1]}.`, `Give a weight of 0 or more after the colon, e.g. ${rest.slice(0, w.index)}:0.5, or leave it out (weight 1).`);
    }
    rest = rest.slice(0, w.index);
  }
  const eq = rest.indexOf('=');
  const name = eq > 0 ? rest.slice(0, eq) : rest.replace(/^.*[\\/]/, '').replace(/\.\w+$/, '');
  const path = eq > 0 ? rest.slice(eq + 1) : rest;
  return { name, path, weight };
}
