// A segments mask as a file (Captum's feature_mask drawn as a picture): the checks that must come
// before it is decoded, and its fit to the images it segments, shared by the CLI's
// --segments-mask and the studio's mask uploads, so that both refuse the same masks.
import { ConvLensError } from '../engine/errors.js';
import { decodeFailure, decodeImage, plainPngHeader, type RawImage } from './image.js';
import { loadSharp } from './sharp.js';

const isPng = (b: Uint8Array): boolean => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a;

/**
 * Refuses a mask that is not a PNG: lossy formats (JPEG, WebP) blur the edges between segments
 * into colours of their own, each of which would be a segment. `subject` starts the refusal as
 * the user named the mask ('--segments-mask "m.png"', 'The mask "m.png"').
 */
export function checkMaskIsPng(bytes: Uint8Array, subject: string): void {
  if (!isPng(bytes)) throw new ConvLensError('INPUT_UNREADABLE', `${subject} is not a PNG image.`, 'Save the mask as PNG with flat colours: JPEG and WebP blend the edges between segments into new colours, each of which would be a segment.');
}

/**
 * Whether a mask of `mask` size was drawn on an image of `image` size: the same proportions, to
 * a pixel of rounding. A mask of other proportions would be stretched onto other pixels than the
 * ones it outlines. `mask.subject` starts the refusal (default 'The mask "<name>"').
 */
export function checkMaskFits(mask: { name: string; width: number; height: number; subject?: string }, image: { name: string; width: number; height: number }): void {
  const height = (mask.height * image.width) / mask.width;
  const width = (mask.width * image.height) / mask.height;
  // tolerance: a pixel of the mask (or of the image), or 1%, whichever is more
  const off = (got: number, want: number, maskSide: number): boolean => Math.abs(got - want) > Math.max(1, want / maskSide, want / 100);
  if (off(height, image.height, mask.height) && off(width, image.width, mask.width)) {
    throw new ConvLensError('INVALID_ARGUMENT', `${mask.subject ?? `The mask "${mask.name}"`} is ${mask.width}x${mask.height} but the image "${image.name}" is ${image.width}x${image.height}: a mask drawn on the image has its proportions.`, 'Pick the image the mask was drawn on, or a mask of this image (any scale of it, same proportions; CLI: explain images of other proportions in another run, without the mask or with their own).');
  }
}

/**
 * An image's size as it is shown and explained, from its header (nothing decoded): EXIF
 * orientations 5-8 turn it a quarter, so its stored width is its shown height. Undefined when the
 * header does not say (the image's own decoding then says why).
 */
export async function shownImageSize(input: Uint8Array | string): Promise<{ width: number; height: number } | undefined> {
  let meta: { width?: number; height?: number; orientation?: number };
  try {
    meta = await (await loadSharp())(input).metadata();
  } catch {
    return undefined;
  }
  if (!meta.width || !meta.height) return undefined;
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}

/**
 * Decodes a mask image as RGB after checking its header: at most `maxPixels` (a flat mask
 * compresses a thousandfold, so a 100 kB file may decode to gigabytes) and 8 bits a sample.
 * `source` is its quoted name; `subject` starts the refusals as the user asked for it
 * ('--segments-mask "m.png"', 'The mask "m.png"'); `scaleTo` ends the way out of a mask too large
 * ("to the model's 224x224 input").
 */
export async function decodeMaskImage(bytes: Uint8Array, source: string, o: { subject: string; maxPixels: number; scaleTo?: string }): Promise<RawImage> {
  // A plain PNG the fast path decodes is small and 8-bit by construction; anything else is
  // measured from its header first.
  if (!plainPngHeader(bytes)) {
    const sharp = await loadSharp();
    let declared: { width?: number; height?: number; depth?: string };
    try {
      declared = await sharp(bytes, { failOn: 'error' }).metadata();
    } catch (e) {
      throw decodeFailure(source, e);
    }
    const [W, H] = [declared.width ?? 0, declared.height ?? 0];
    if (W * H > o.maxPixels) {
      throw new ConvLensError('INVALID_ARGUMENT', `${o.subject} is ${W}x${H} pixels (${(W * H / 1e6).toFixed(0)} megapixels); a mask may have at most ${Math.round(o.maxPixels / 1e6)}.`, `A mask needs no more pixels than the image it was drawn on: scale it down by nearest neighbour (no blended labels)${o.scaleTo ? `, e.g. ${o.scaleTo}` : ''}.`);
    }
    // Decoding gives 8 bits a sample, and labels 0, 1, 2, ... of a 16-bit label map (what
    // segmentation tools save) would all round to grey level 0: merged without a word.
    if (declared.depth !== undefined && declared.depth !== 'uchar' && declared.depth !== 'char') {
      throw new ConvLensError('INVALID_ARGUMENT', `${o.subject} has ${declared.depth === 'ushort' || declared.depth === 'short' ? '16' : 'more than 8'} bits per sample; read at 8 bits, its labels would round together and merge.`, 'Save the mask with 8 bits per sample: up to 256 labels as grey levels, or up to 512 as distinct RGB colours.');
    }
  }
  return decodeImage(bytes, source, 3);
}
