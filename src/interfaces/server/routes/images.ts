import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';

const TYPES: [string, (b: Uint8Array) => boolean][] = [
  ['image/png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/webp', (b) => b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45],
];

/** The image type from its magic bytes (not from the file name a client claims). */
export function sniffImage(bytes: Uint8Array): string | undefined {
  return TYPES.find(([, test]) => bytes.length > 12 && test(bytes))?.[0];
}

export function registerImageRoutes({ app, images }: Studio, maxBytes: number): void {
  const describe = (e: { id: string; name: string; source: string; group: string }): Record<string, unknown> => ({
    id: e.id,
    name: e.name,
    source: e.source,
    group: e.group,
    url: `/api/image?id=${encodeURIComponent(e.id)}`,
  });

  app.get('/api/images', async () => ({ images: images.list().map(describe) }));

  app.get<{ Querystring: { id: string } }>('/api/image', { schema: { querystring: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } }, async (req, reply) => {
    const img = images.require(req.query.id);
    return reply.type(sniffImage(img.bytes) ?? 'application/octet-stream').header('cache-control', 'max-age=3600').send(Buffer.from(img.bytes));
  });

  app.post('/api/images', async (req, reply) => {
    const file = await req.file({ limits: { fileSize: maxBytes } });
    if (!file) throw new ConvLensError('INVALID_ARGUMENT', 'No file in the upload.', 'Send multipart/form-data with a "file" field holding a PNG, JPEG or WebP image.');
    const bytes = new Uint8Array(await file.toBuffer());
    if (!sniffImage(bytes)) {
      return reply.status(415).send({ error: { code: 'INPUT_UNREADABLE', message: `"${file.filename}" is not a PNG, JPEG or WebP image.`, hint: 'Upload a PNG, JPEG or WebP file.' } });
    }
    const entry = images.addUpload(file.filename.replace(/\.\w+$/, ''), bytes);
    return reply.status(201).send(describe(entry));
  });
}
