// Segment masks the studio holds (Captum's feature_mask, the CLI's --segments-mask): PNG images
// whose distinct colours are the segments of feature ablation, KernelSHAP and LIME. Each one is
// checked when it arrives, with the CLI's refusals (not a PNG, a size from the header before anything is
// decoded, more than 8 bits a sample, more than 512 colours), so that a bad mask is the answer to
// its upload and never a failed job. Kept in memory like uploaded images, capped in count and
// bytes; refusals name the file as the user named it, never what it holds.
import { randomUUID } from 'node:crypto';
import { ConvLensError } from '../../engine/errors.js';
import { checkMaskIsPng, decodeMaskImage } from '../../io/mask-image.js';
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

/** A mask as the API lists it (GET /api/masks, POST /api/masks): its bytes behind `url`. */
export type MaskDescription = Omit<MaskEntry, 'bytes'> & { url: string };

/**
 * Checks a mask image as the CLI does before any work, and counts its colours. `name` is how
 * messages refer to it (the file name the user gave).
 */
export async function checkMask(bytes: Uint8Array, name: string, maxPixels = MAX_MASK_PIXELS): Promise<{ width: number; height: number; segments: number }> {
  const source = `The mask "${name}"`;
  // Lossy formats blur the edges into colours of their own, each a segment: PNG only.
  checkMaskIsPng(bytes, source);
  const image = await decodeMaskImage(bytes, `"${name}"`, { subject: source, maxPixels: Math.min(maxPixels, MAX_MASK_PIXELS) });
  // the colours at the mask's own size (refuses more than 512)
  const { colours } = maskFromImage(image, { size: [image.height, image.width], channels: 'rgb', range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1], resize: 'stretch' }, source);
  return { width: image.width, height: image.height, segments: colours };
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
