import { inflateSync } from 'node:zlib';
import { ConvLensError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { Preprocessing } from '../models/metadata.js';
import { readFileOrExplain } from './files.js';
import { loadSharp } from './sharp.js';

export { tensorToRaw } from './pixels.js';

/** 8-bit interleaved pixels (RGB or gray). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];
export const isImagePath = (p: string): boolean => IMAGE_EXTENSIONS.some((e) => p.toLowerCase().endsWith(e));

/** sharp's default `limitInputPixels` (0x3FFF x 0x3FFF), which ConvLens keeps: a small file can declare billions of pixels. */
const SHARP_PIXEL_LIMIT = 0x3fff * 0x3fff;

/**
 * Why an image did not decode, in our words: the decoder's own message can quote the bytes it
 * choked on (text chunks, SVG source, a file that is no image at all), and errors never show
 * file contents. The decoder's message stays on `cause`.
 */
export function decodeFailure(source: string, e: unknown): ConvLensError {
  const m = (e as Error)?.message ?? '';
  const why = /unsupported image format|not a known/i.test(m)
    ? 'it is not in a supported image format'
    : /pixel limit/i.test(m)
      ? 'it has more pixels than the decoder accepts'
      : /premature|truncat|end of (input|file|data)|corrupt|crc|invalid|bad/i.test(m)
        ? 'the data is truncated or corrupt'
        : 'the decoder refused it';
  const hint = /pixel limit/i.test(m)
    ? `Scale it down first (at most ${Math.floor(SHARP_PIXEL_LIMIT / 1e6)} megapixels, e.g. 16384x16384), or pass a preprocessed .npy tensor.`
    : 'Use a PNG, JPEG or WebP file (or a preprocessed .npy tensor).';
  return new ConvLensError('INPUT_UNREADABLE', `Cannot decode ${source} as an image: ${why}.`, hint, { cause: e });
}

/**
 * A plain PNG decoded without sharp (fast-png, pure JS), or undefined when sharp must do it.
 * Loading sharp costs more than the rest of a small `predict`, and most inputs at model size are
 * plain PNGs. Plain means what both decoders agree on to the bit: 8-bit gray or RGB (with or
 * without alpha, which is dropped as sharp's removeAlpha drops it), not interlaced, and nothing
 * that asks for colour management or reorientation (iCCP, eXIf, tRNS). Gray is widened to RGB
 * by copying, as sharp does; colour to gray is left to sharp's own formula unless the colour
 * image is gray already.
 */
async function decodePlainPng(bytes: Uint8Array, channels: 1 | 3, size?: readonly [number, number]): Promise<RawImage | undefined> {
  const info = plainPngHeader(bytes);
  // An image that must be resampled anyway goes to sharp undecoded.
  if (!info || (size && (info.height !== size[0] || info.width !== size[1]))) return undefined;
  if (!inflatesWithin(bytes, info)) return undefined;
  const { decode } = await import('fast-png');
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch {
    return undefined; // sharp decodes it again and words the failure
  }
  const { width, height } = png;
  const src = png.data;
  const inChannels = png.channels;
  if (png.depth !== 8 || inChannels !== (info.colour ? 3 : 1) + (info.alpha ? 1 : 0) || src.length !== width * height * inChannels) return undefined;
  const colourChannels = info.colour ? 3 : 1;
  if (channels === 1 && colourChannels === 3) {
    // Gray content saved as RGB (R = G = B everywhere, as the Fashion-MNIST samples are) is its
    // own luma; real colour goes to sharp's conversion.
    for (let i = 0; i < width * height; i++) {
      const at = i * inChannels;
      if (src[at] !== src[at + 1] || src[at] !== src[at + 2]) return undefined;
    }
  }
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++)
    for (let c = 0; c < channels; c++) out[i * channels + c] = src[i * inChannels + (colourChannels === 1 ? 0 : c)]!;
  return { width, height, channels, data: out };
}

/**
 * Whether the image data inflates to no more than the header's rows need. fast-png inflates all
 * of it, so a small header over a compression bomb would grow without bound; sharp stops at the
 * rows it expects, and such files go to it.
 */
export function inflatesWithin(bytes: Uint8Array, info: PlainPngHeader): boolean {
  const rowBytes = 1 + info.width * ((info.colour ? 3 : 1) + (info.alpha ? 1 : 0));
  const parts: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length; at += 12 + view.getUint32(at)) {
    if (String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!) === 'IDAT') parts.push(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + view.getUint32(at))));
  }
  try {
    inflateSync(Buffer.concat(parts), { maxOutputLength: rowBytes * info.height });
    return true;
  } catch {
    return false; // too much data, or none that inflates: sharp decides and words it
  }
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const FAST_PNG_MAX_PIXELS = 1024 * 1024;

/** What a PNG the fast path may decode (see decodePlainPng) declares, read from its chunk headers. */
export interface PlainPngHeader {
  width: number;
  height: number;
  colour: boolean;
  alpha: boolean;
}

/**
 * The header of a PNG the fast path may decode, or undefined. Every chunk header is read (a
 * jump per chunk), because an eXIf after the image data still turns the picture for sharp.
 */
export function plainPngHeader(bytes: Uint8Array): PlainPngHeader | undefined {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PlainPngHeader | undefined;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'IHDR') {
      if (length < 13 || at + 21 > bytes.length) return undefined;
      const [width, height] = [view.getUint32(at + 8), view.getUint32(at + 12)];
      const [depth, colourType, interlace] = [bytes[at + 16]!, bytes[at + 17]!, bytes[at + 20]!];
      // Big images go to sharp, whose pixel limit stops decompression bombs before decoding.
      if (width * height > FAST_PNG_MAX_PIXELS || depth !== 8 || interlace !== 0 || ![0, 2, 4, 6].includes(colourType)) return undefined;
      header = { width, height, colour: colourType === 2 || colourType === 6, alpha: colourType === 4 || colourType === 6 };
    } else if (type === 'iCCP' || type === 'eXIf' || type === 'tRNS') return undefined;
    else if (type === 'IEND') return header;
    at += 12 + length;
  }
  return undefined;
}

/** Decodes image bytes (PNG, JPEG, WebP, ...), as RGB or gray: plain PNGs in JS, the rest with sharp. */
export async function decodeImage(bytes: Uint8Array, source: string, channels: 1 | 3 = 3): Promise<RawImage> {
  const plain = await decodePlainPng(bytes, channels);
  if (plain) return plain;
  const sharp = await loadSharp();
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
export async function preprocessImage(bytes: Uint8Array, prep: Preprocessing, source: string): Promise<{ tensor: Tensor; display: RawImage; scaledUp?: ScaledUp }> {
  const resized = await resizeForModel(bytes, prep, source);
  const { scaledUp, ...display } = resized;
  return { tensor: rawToTensor(resized, prep), display, ...(scaledUp ? { scaledUp } : {}) };
}

/** How far resizeForModel scaled an image up: the decoded image's [H, W] and the linear factor to the model's pixels. */
export interface ScaledUp {
  from: [number, number];
  factor: number;
}

/**
 * Scaling up by this linear factor or more is worth a word: each of the image's pixels then
 * covers four or more of the model's, so the model sees a blurred picture (a 32x32 thumbnail
 * given to an ImageNet model is scaled up 8x).
 */
export const SCALED_UP_NOTE_FACTOR = 2;

/** The smallest [H, W] an image may have for the preprocessing not to scale it up. */
export function unscaledSize(prep: Preprocessing): [number, number] {
  if (prep.resize !== 'crop') return [prep.size[0], prep.size[1]];
  const side = Math.ceil(Math.max(prep.size[0], prep.size[1]) / (prep.crop ?? 224 / 256));
  return [side, side];
}

/**
 * The largest image the centre-crop transform scales whole before cropping (a 24-megapixel
 * photo scales down to ~0.1 megapixel; only a sliver of an image scaled up comes near this).
 */
const MAX_CROP_RESIZE_PIXELS = 16e6;

/**
 * The geometric half of the preprocessing, shared by every command that hands a model an image:
 * decode (EXIF orientation applied), convert to the model's colours (gray or RGB), and resize
 * to the model's size - stretched, or (resize 'crop') scaled so the crop keeps `crop` of the
 * shorter side and centre-cropped, the ImageNet evaluation transform.
 */
export async function resizeForModel(bytes: Uint8Array, prep: Preprocessing, source: string, frame?: [number, number]): Promise<RawImage & { scaledUp?: ScaledUp }> {
  const channels = prep.channels === 'gray' ? 1 : 3;
  // `frame` (see cropFrame): the centred region of the scaled image that holds the crop, larger
  // than it; the crop is this region's centre
  const [h, w] = frame ?? prep.size;
  if (prep.resize !== 'crop') {
    // An image already at the model's size needs no resampling (sharp's resize to the same size
    // returns the same pixels), so a plain PNG never loads sharp.
    const plain = await decodePlainPng(bytes, channels, [h, w]);
    if (plain) return plain;
  }
  const sharp = await loadSharp();
  let scaledUp: ScaledUp | undefined;
  try {
    let img = sharp(bytes, { failOn: 'error' }).rotate();
    img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
    if (prep.resize === 'crop') {
      // Orientation first, so the crop is centred on the image as shown.
      const upright = await img.raw().toBuffer({ resolveWithObject: true });
      const { width: W0, height: H0 } = upright.info;
      const scale = Math.max(prep.size[0] / H0, prep.size[1] / W0) / (prep.crop ?? 224 / 256);
      const W1 = Math.max(w, Math.round(W0 * scale));
      const H1 = Math.max(h, Math.round(H0 * scale));
      if (scale >= SCALED_UP_NOTE_FACTOR) scaledUp = { from: [H0, W0], factor: scale };
      const raw = { raw: { width: W0, height: H0, channels: upright.info.channels } };
      if (W1 * H1 > MAX_CROP_RESIZE_PIXELS) {
        // A sliver (20000x1) scaled until its short side fits is gigapixels wide: sharp refused
        // it, or with an alpha channel aborted the process. The region the crop shows is cut
        // from the image first and scaled alone instead.
        const sw = Math.min(W0, Math.max(1, Math.round(w / scale)));
        const sh = Math.min(H0, Math.max(1, Math.round(h / scale)));
        img = sharp(upright.data, raw)
          .extract({ left: Math.floor((W0 - sw) / 2), top: Math.floor((H0 - sh) / 2), width: sw, height: sh })
          .resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
      } else {
        img = sharp(upright.data, raw).resize(W1, H1, { fit: 'fill', kernel: 'lanczos3' });
        const buf = await img.raw().toBuffer({ resolveWithObject: true });
        img = sharp(buf.data, { raw: { width: buf.info.width, height: buf.info.height, channels: buf.info.channels } }).extract({
          left: Math.floor((buf.info.width - w) / 2),
          top: Math.floor((buf.info.height - h) / 2),
          width: w,
          height: h,
        });
      }
    } else {
      const meta = await img.metadata();
      // orientations 5-8 turn the image a quarter, so its stored width is its shown height
      const turned = (meta.orientation ?? 1) >= 5;
      const [H0, W0] = turned ? [meta.width, meta.height] : [meta.height, meta.width];
      const factor = H0 && W0 ? Math.max(h / H0, w / W0) : 1;
      if (factor >= SCALED_UP_NOTE_FACTOR) scaledUp = { from: [H0!, W0!], factor };
      img = img.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3, data: new Uint8Array(data), ...(scaledUp ? { scaledUp } : {}) };
  } catch (e) {
    if (e instanceof ConvLensError) throw e;
    throw decodeFailure(source, e);
  }
}

/**
 * The size [H, W] of an image the centre crop takes the model's input from without resampling -
 * the crop plus the border it cuts away (256x256 around ImageNet's 224x224) - or undefined when
 * the preprocessing stretches, keeps the whole square (crop 1), or no whole-pixel frame scales by
 * exactly 1. An image of the model's size written as the centre of such a frame reads back, through
 * resizeForModel, as exactly its pixels; written alone it is scaled up (224 -> 256) and cropped.
 */
export function cropFrame(prep: Preprocessing): [number, number] | undefined {
  if (prep.resize !== 'crop') return undefined;
  const c = prep.crop ?? 224 / 256;
  const [h, w] = prep.size;
  // an even border on each axis, so the frame's centre crop starts at the crop's own offset
  const H = h + 2 * Math.round((h / c - h) / 2);
  const W = w + 2 * Math.round((w / c - w) / 2);
  if (H === h && W === w) return undefined;
  const scale = Math.max(h / H, w / W) / c;
  return Math.round(H * scale) === H && Math.round(W * scale) === W ? [H, W] : undefined;
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

/**
 * Encodes pixels as PNG bytes: images up to a megapixel in JS (fast-png), so that writing a map
 * does not load sharp; bigger ones with sharp, whose compressor is faster.
 */
export async function encodePng(img: RawImage): Promise<Uint8Array> {
  if (img.width * img.height <= FAST_PNG_MAX_PIXELS) {
    const { encode } = await import('fast-png');
    return encode({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: 8 });
  }
  const sharp = await loadSharp();
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
