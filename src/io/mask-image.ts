// A segments mask as a file (Captum's feature_mask drawn as a picture): the checks that must come
// before it is decoded, shared by the CLI's --segments-mask and the studio's mask uploads.
import { ConvLensError } from '../engine/errors.js';
import { decodeFailure, decodeImage, plainPngHeader, type RawImage } from './image.js';
import { loadSharp } from './sharp.js';

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
