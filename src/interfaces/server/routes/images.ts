import { loadSharp } from '../../../io/sharp.js';
import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { imageIdSchema } from '../ids.js';
import { readUpload } from '../upload.js';

const TYPES: [string, (b: Uint8Array) => boolean][] = [
  ['image/png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/webp', (b) => b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45],
];

/** The image type from its magic bytes (not from the file name a client claims). */
export function sniffImage(bytes: Uint8Array): string | undefined {
  return TYPES.find(([, test]) => bytes.length > 12 && test(bytes))?.[0];
}

/** Width and height from the image header (nothing decoded), or undefined when the header is unreadable. */
async function imageSize(bytes: Uint8Array): Promise<{ width: number; height: number } | undefined> {
  try {
    const sharp = await loadSharp();
    const m = await sharp(bytes).metadata();
    return m.width && m.height ? { width: m.width, height: m.height } : undefined;
  } catch {
    return undefined;
  }
}

export function registerImageRoutes({ app, images, maxImagePixels }: Studio, maxBytes: number): void {
  const describe = (e: { id: string; name: string; source: string; group: string }): Record<string, unknown> => ({
    id: e.id,
    name: e.name,
    source: e.source,
    group: e.group,
    url: `/api/image?id=${encodeURIComponent(e.id)}`,
  });

  app.get('/api/images', async () => ({ images: images.list().map(describe) }));

  app.get<{ Querystring: { id: string } }>('/api/image', { schema: { querystring: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 300 } } } } }, async (req, reply) => {
    const img = images.require(req.query.id);
    return reply.type(sniffImage(img.bytes) ?? 'application/octet-stream').header('cache-control', 'max-age=3600').send(Buffer.from(img.bytes));
  });

  app.post('/api/images', async (req, reply) => {
    const hint = 'Send multipart/form-data with a "file" field holding a PNG, JPEG or WebP image.';
    const file = await readUpload(req, maxBytes, hint);
    if (!file) throw new ConvLensError('INVALID_ARGUMENT', 'No file in the upload.', hint);
    const { bytes } = file;
    const name = file.filename.slice(0, 200);
    if (!sniffImage(bytes)) {
      return reply.status(415).send({ error: { code: 'INPUT_UNREADABLE', message: `"${name}" is not a PNG, JPEG or WebP image.`, hint: 'Upload a PNG, JPEG or WebP file.' } });
    }
    // A small file can declare a huge image (a decompression bomb): the header decides before anything is decoded.
    const size = await imageSize(bytes);
    if (!size) return reply.status(415).send({ error: { code: 'INPUT_UNREADABLE', message: `"${name}" has no readable image header.`, hint: 'Upload an intact PNG, JPEG or WebP file.' } });
    if (size.width * size.height > maxImagePixels) {
      return reply.status(413).send({ error: { code: 'TOO_LARGE', message: `"${name}" is ${size.width}x${size.height} pixels; images up to ${Math.round(maxImagePixels / 1e6)} million pixels are accepted.`, hint: 'Scale the image down before uploading it.' } });
    }
    const entry = images.addUpload(name.replace(/\.\w+$/, ''), bytes);
    return reply.status(201).send(describe(entry));
  });

  // Uploads only (`upload/<uuid>`; the slash may be sent as is or as %2F).
  app.delete<{ Params: { '*': string } }>('/api/images/*', { schema: { params: { type: 'object', properties: { '*': imageIdSchema } } } }, async (req) => {
    images.delete(req.params['*']);
    return { deleted: req.params['*'] };
  });
}
