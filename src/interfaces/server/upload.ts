// The one shape an upload takes: multipart/form-data with one file, in a field named "file",
// and nothing else (as the studio page sends it). A form of other fields or more files was
// taken as the first file found: a second file or a misnamed field was dropped unannounced.
import type { FastifyRequest } from 'fastify';
import { ConvLensError } from '../../engine/errors.js';

/** The most characters of a client's field name an answer quotes. */
const MAX_NAME_SHOWN = 64;

const shown = (name: string): string => (name.length > MAX_NAME_SHOWN ? `${JSON.stringify(name.slice(0, MAX_NAME_SHOWN)).slice(1, -1)}...` : JSON.stringify(name).slice(1, -1));

export interface Upload {
  filename: string;
  bytes: Uint8Array;
}

/**
 * The upload's one file, read up to `maxBytes` (beyond them a 413), or undefined when the form
 * holds no part at all. Any other part is a 400 naming it, before its contents are read.
 */
export async function readUpload(req: FastifyRequest, maxBytes: number, hint: string): Promise<Upload | undefined> {
  let upload: Upload | undefined;
  // files: 2, so that a second file reaches the loop and is refused by name, not by a limit
  for await (const part of req.parts({ limits: { fileSize: maxBytes, files: 2 } })) {
    if (part.type !== 'file' && part.fieldname === 'file') throw new ConvLensError('INVALID_ARGUMENT', 'The field "file" of the upload holds a form value, not a file.', hint);
    if (part.type !== 'file') throw new ConvLensError('INVALID_ARGUMENT', `The upload has a form field "${shown(part.fieldname)}"; it takes one file in the field "file" and nothing else.`, hint);
    if (part.fieldname !== 'file') throw new ConvLensError('INVALID_ARGUMENT', `The upload's file is in the field "${shown(part.fieldname)}"; the studio reads it from the field "file".`, hint);
    if (upload) throw new ConvLensError('INVALID_ARGUMENT', 'The upload holds more than one file; send one file per request.', hint);
    upload = { filename: part.filename, bytes: new Uint8Array(await part.toBuffer()) };
  }
  return upload;
}
