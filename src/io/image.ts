import sharp from 'sharp';
import { ConvLensError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { Preprocessing } from '../models/metadata.js';
import { readFileOrExplain } from './files.js';

/** 8-bit interleaved pixels (RGB or gray). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];
export const isImagePath = (p: string): boolean => IMAGE_EXTENSIONS.some((e) => p.toLowerCase().endsWith(e));

/**
 * Why an image did not decode, in our words: the decoder's own message can quote the bytes it
 * choked on (text chunks, SVG source, a file that is no image at all), and errors never show
 * file contents. The decoder's message stays on `cause`.
 */
function decodeFailure(source: string, e: unknown): ConvLensError {
  const m = (e as Error)?.message ?? '';
  const why = /unsupported image format|not a known/i.test(m)
    ? 'it is not in a supported image format'
    : /pixel limit/i.test(m)
      ? 'it has more pixels than the decoder accepts'
      : /premature|truncat|end of (input|file|data)|corrupt|crc|invalid|bad/i.test(m)
        ? 'the data is truncated or corrupt'
        : 'the decoder refused it';
  return new ConvLensError('INPUT_UNREADABLE', `Cannot decode ${source} as an image: ${why}.`, 'Use a PNG, JPEG or WebP file (or a preprocessed .npy tensor).', { cause: e });
}

/** Decodes image bytes (PNG, JPEG, WebP, ...) with sharp, as RGB or gray. */
export async function decodeImage(bytes: Uint8Array, source: string, channels: 1 | 3 = 3): Promise<RawImage> {
  try {
    let img = sharp(bytes, { failOn: 'error' }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw decodeFailure(source, e);
  }
}

export async function readImageFile(path: string, channels: 1 | 3 = 3): Promise<RawImage> {
  return decodeImage(readFileOrExplain(path, 'image'), `"${path}"`, channels);
}

/**
 * Resizes and normalizes an image per the model's preprocessing into a [1, C, H, W] float32
 * tensor. Also returns the resized 8-bit image, which overlays are drawn on.
 */
export async function preprocessImage(bytes: Uint8Array, prep: Preprocessing, source: string): Promise<{ tensor: Tensor; display: RawImage }> {
  const resized = await resizeForModel(bytes, prep, source);
  return { tensor: rawToTensor(resized, prep), display: resized };
}

/**
 * The geometric half of the preprocessing, shared by every command that hands a model an image:
 * decode (EXIF orientation applied), convert to the model's colours (gray or RGB), and resize
 * to the model's size - stretched, or (resize 'crop') scaled so the crop keeps `crop` of the
 * shorter side and centre-cropped, the ImageNet evaluation transform.
 */
export async function resizeForModel(bytes: Uint8Array, prep: Preprocessing, source: string): Promise<RawImage> {
  const channels = prep.channels === 'gray' ? 1 : 3;
  const [h, w] = prep.size;
  try {
    let img = sharp(bytes, { failOn: 'error' }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
    if (prep.resize === 'crop') {
      // Orientation first, so the crop is centred on the image as shown.
      const upright = await img.raw().toBuffer({ resolveWithObject: true });
      const { width: W0, height: H0 } = upright.info;
      const scale = Math.max(h / H0, w / W0) / (prep.crop ?? 224 / 256);
      const W1 = Math.max(w, Math.round(W0 * scale));
      const H1 = Math.max(h, Math.round(H0 * scale));
      img = sharp(upright.data, { raw: { width: W0, height: H0, channels: upright.info.channels } }).resize(W1, H1, { fit: 'fill', kernel: 'lanczos3' });
      const buf = await img.raw().toBuffer({ resolveWithObject: true });
      img = sharp(buf.data, { raw: { width: buf.info.width, height: buf.info.height, channels: buf.info.channels } }).extract({
        left: Math.floor((buf.info.width - w) / 2),
        top: Math.floor((buf.info.height - h) / 2),
        width: w,
        height: h,
      });
    } else {
      img = img.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data) };
  } catch (e) {
    if (e instanceof ConvLensError) throw e;
    throw decodeFailure(source, e);
  }
}

/** Normalizes 8-bit pixels into a [1, C, H, W] float32 tensor in the model's channel order. */
export function rawToTensor(img: RawImage, prep: Preprocessing): Tensor {
  const c = prep.channels === 'gray' ? 1 : 3;
  const { width: w, height: h } = img;
  const out = new Float32Array(c * h * w);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < c; ch++) {
    const src = prep.channels === 'bgr' ? 2 - ch : ch;
    const mean = prep.mean[ch] ?? prep.mean[0] ?? 0;
    const std = prep.std[ch] ?? prep.std[0] ?? 1;
    for (let i = 0; i < h * w; i++) {
      let v = img.channels === 1 ? img.data[i]! : img.data[i * 3 + src]!;
      if (prep.invert) v = 255 - v;
      out[ch * h * w + i] = (lo + ((hi - lo) * v) / 255 - mean) / std;
    }
  }
  return { dtype: 'float32', dims: [1, c, h, w], data: out };
}

/** Inverse of rawToTensor for one image of a batch: model input back to 8-bit pixels for display. */
export function tensorToRaw(t: Tensor, prep: Preprocessing, index = 0): RawImage {
  const [, c, h, w] = t.dims as [number, number, number, number];
  const data = t.data as Float32Array;
  const channels = c === 1 ? 1 : 3;
  const out = new Uint8Array(h * w * channels);
  const [lo, hi] = prep.range;
  for (let ch = 0; ch < channels; ch++) {
    const src = prep.channels === 'bgr' ? 2 - ch : ch;
    const mean = prep.mean[src] ?? prep.mean[0] ?? 0;
    const std = prep.std[src] ?? prep.std[0] ?? 1;
    for (let i = 0; i < h * w; i++) {
      const x = data[index * c * h * w + src * h * w + i]! * std + mean;
      let v = ((x - lo) / (hi - lo)) * 255;
      if (prep.invert) v = 255 - v;
      out[i * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: w, height: h, channels, data: out };
}

/** Encodes pixels as PNG bytes. */
export async function encodePng(img: RawImage): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
