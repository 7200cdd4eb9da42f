// Segment masks the studio holds (Captum's feature_mask, the CLI's --segments-mask): PNG images
// whose distinct colours are the segments of feature ablation, KernelSHAP and LIME. Each one is
// checked when it arrives, with the CLI's refusals (a size from the header before anything is
// decoded, more than 8 bits a sample, more than 512 colours), so that a bad mask is the answer to
// its upload and never a failed job. Kept in memory like uploaded images, capped in count and
// bytes; refusals name the file as the user named it, never what it holds.
import { randomUUID } from 'node:crypto';
import { ConvLensError } from '../../engine/errors.js';
import { decodeMaskImage } from '../../io/mask-image.js';
import { MAX_MASK_PIXELS, maskFromImage } from '../../methods/explain/segments.js';
import { UploadShelf, type UploadCaps } from './state.js';

export interface MaskEntry {
  /** `mask/<uuid>` */
  id: string;
  name: string;
  source: 'upload' | 'data';
  width: number;
  height: number;
  /** its distinct colours: the segments it gives at full size */
  segments: number;
  bytes: Uint8Array;
}

const isPng = (b: Uint8Array): boolean => b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a;

/**
 * Checks a mask image as the CLI does before any work, and counts its colours. `name` is how
 * messages refer to it (the file name the user gave).
 */
export async function checkMask(bytes: Uint8Array, name: string, maxPixels = MAX_MASK_PIXELS): Promise<{ width: number; height: number; segments: number }> {
  const source = `The mask "${name}"`;
  // Lossy formats blur the edges into colours of their own, each a segment: PNG only.
  if (!isPng(bytes)) throw new ConvLensError('INPUT_UNREADABLE', `${source} is not a PNG image.`, 'Save the mask as PNG with flat colours: JPEG and WebP blend the edges between segments into new colours, each of which would be a segment.');
  const image = await decodeMaskImage(bytes, `"${name}"`, { subject: source, maxPixels: Math.min(maxPixels, MAX_MASK_PIXELS) });
  // the colours at the mask's own size (refuses more than 512)
  const { colours } = maskFromImage(image, { size: [image.height, image.width], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' }, source);
  return { width: image.width, height: image.height, segments: colours };
}

/**
 * Whether a mask of `mask` size was drawn on an image of `image` size: the same proportions, to
 * a pixel of rounding. A mask of other proportions would be stretched onto other pixels than the
 * ones it outlines.
 */
export function checkMaskFits(mask: { name: string; width: number; height: number }, image: { name: string; width: number; height: number }): void {
  const height = (mask.height * image.width) / mask.width;
  const width = (mask.width * image.height) / mask.height;
  // tolerance: a pixel of the mask (or of the image), or 1%, whichever is more
  const off = (got: number, want: number, maskSide: number): boolean => Math.abs(got - want) > Math.max(1, want / maskSide, want / 100);
  if (off(height, image.height, mask.height) && off(width, image.width, mask.width)) {
    throw new ConvLensError('INVALID_ARGUMENT', `The mask "${mask.name}" is ${mask.width}x${mask.height} but the image "${image.name}" is ${image.width}x${image.height}: a mask drawn on the image has its proportions.`, 'Pick the image the mask was drawn on, or a mask of this image (any scale of it, same proportions).');
  }
}

/** Masks the studio holds (uploads and files read from its data folders), capped like uploads. */
export class MaskRegistry {
  private readonly entries = new Map<string, MaskEntry>();
  readonly uploads: UploadShelf;

  constructor(caps: UploadCaps = { count: 32, bytes: 64 << 20 }) {
    this.uploads = new UploadShelf(caps, 'mask', (id) => this.entries.delete(id));
  }

  add(name: string, source: MaskEntry['source'], bytes: Uint8Array, checked: { width: number; height: number; segments: number }): MaskEntry {
    this.uploads.makeRoom(bytes.byteLength);
    const entry: MaskEntry = { id: `mask/${randomUUID()}`, name, source, bytes, ...checked };
    this.entries.set(entry.id, entry);
    this.uploads.add(entry.id, bytes.byteLength);
    return entry;
  }

  list(): MaskEntry[] {
    return [...this.entries.values()];
  }

  require(id: string): MaskEntry {
    this.uploads.touch(id);
    const e = this.entries.get(id);
    if (!e) throw new ConvLensError('UNKNOWN_NAME', `No segments mask with id "${id}".`, 'Upload the mask again: masks are kept while the studio runs, the least recently used leaving first.');
    return e;
  }

  /** Holds a mask while a job uses it. */
  pin(id: string): () => void {
    return this.uploads.pin(id);
  }

  delete(id: string): void {
    this.require(id);
    if (this.uploads.pinned(id)) throw new ConvLensError('INVALID_ARGUMENT', `The mask "${id}" is in use by a running job.`, 'Cancel the job or wait for it, then delete.');
    this.uploads.remove(id);
    this.entries.delete(id);
  }
}
