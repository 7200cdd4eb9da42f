import { basename } from 'node:path';
import type { Studio } from '../app.js';
import { ConvLensError } from '../../../engine/errors.js';
import { imageIdSchema } from '../ids.js';
import { checkMask, type MaskDescription, type MaskEntry } from '../masks.js';
import { readUpload } from '../upload.js';
import { pngFilesUnder } from './dataset-sources.js';

/**
 * Segments masks for feature ablation, KernelSHAP and LIME: uploaded (multipart, one "file") or
 * read from a data folder (JSON { path }), checked before they are kept (masks.ts).
 */
export function registerMaskRoutes({ app, masks, files, maxImagePixels }: Studio, maxBytes: number): void {
  const describe = (m: MaskEntry): MaskDescription => ({ id: m.id, name: m.name, source: m.source, width: m.width, height: m.height, segments: m.segments, url: `/api/mask?id=${encodeURIComponent(m.id)}` });

  app.get('/api/masks', async () => ({ masks: masks.list().map(describe) }));

  // what the page offers to pick as a mask: the PNGs in the data folders (read by POST { path })
  app.get('/api/masks/files', async () => pngFilesUnder(files));

  app.get<{ Querystring: { id: string } }>('/api/mask', { schema: { querystring: { type: 'object', required: ['id'], properties: { id: imageIdSchema } } } }, async (req, reply) =>
    reply.type('image/png').header('cache-control', 'max-age=3600').send(Buffer.from(masks.require(req.query.id).bytes)),
  );

  app.post('/api/masks', async (req, reply) => {
    let bytes: Uint8Array;
    let name: string;
    let source: MaskEntry['source'];
    if (req.isMultipart()) {
      const way = 'Send multipart/form-data with one "file" field holding a PNG mask.';
      const file = await readUpload(req, maxBytes, way);
      if (!file) throw new ConvLensError('INVALID_ARGUMENT', 'No file in the upload.', way);
      bytes = file.bytes;
      name = file.filename.slice(0, 200);
      source = 'upload';
    } else {
      const body = req.body as { path?: unknown } | undefined;
      const path = body && typeof body === 'object' && typeof body.path === 'string' && body.path.length > 0 && body.path.length <= 1000 ? body.path : undefined;
      if (!path || Object.keys(body!).length !== 1) throw new ConvLensError('INVALID_ARGUMENT', 'A mask is uploaded as a "file" (multipart/form-data) or named by { "path" } in a data folder.', 'Upload the PNG, or give the path of one inside the studio\'s data folders.');
      name = basename(path).slice(0, 200);
      // inside the data folders (before anything is said about the file), a regular file, of an upload's size at most
      const entry = files.entry(path, `The mask "${name}"`);
      if (entry.kind !== 'file') throw new ConvLensError('INVALID_ARGUMENT', `The mask "${name}" is a folder.`, 'Name a PNG file.');
      if (entry.size > maxBytes) return reply.status(413).send({ error: { code: 'TOO_LARGE', message: `The mask "${name}" is ${Math.ceil(entry.size / 1024)} kB; masks up to ${Math.round(maxBytes / (1 << 20))} MB are read.`, hint: 'Save the mask as PNG with flat colours: it compresses to a few kB.' } });
      bytes = files.read(entry.path, `The mask "${name}"`);
      source = 'data';
    }
    const checked = await checkMask(bytes, name, maxImagePixels);
    return reply.status(201).send(describe(masks.add(name.replace(/\.\w+$/, ''), source, bytes, checked)));
  });

  app.delete<{ Params: { '*': string } }>('/api/masks/*', { schema: { params: { type: 'object', properties: { '*': imageIdSchema } } } }, async (req) => {
    masks.delete(req.params['*']);
    return { deleted: req.params['*'] };
  });
}
