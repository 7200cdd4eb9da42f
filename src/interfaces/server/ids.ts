// The one rule every id the API takes or makes follows (store, job, model, style network and
// image ids): letters, digits, '_', '-' and '.', not starting with '.' (so never '.' or '..'),
// no separators, at most 128 characters. A store id names a folder, so this is what keeps
// writes inside the stores folder; the other ids only key maps, and follow it so that none can
// ever be mistaken for a path. Image ids are `<group>/<name>`: two ids, the slash grouping
// samples by folder (`fashion-mnist/bag-test18.png`, `upload/<uuid>`).
import { ConvLensError } from '../../engine/errors.js';

export const ID_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$';
export const IMAGE_ID_PATTERN = '^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$';
const ID = new RegExp(ID_PATTERN);
const IMAGE_ID = new RegExp(IMAGE_ID_PATTERN);

/** JSON schemas for the routes. */
export const idSchema = { type: 'string', pattern: ID_PATTERN } as const;
export const imageIdSchema = { type: 'string', pattern: IMAGE_ID_PATTERN } as const;

export const isId = (id: string): boolean => ID.test(id);
export const isImageId = (id: string): boolean => IMAGE_ID.test(id);

/** Throws a 400 naming the rule unless `id` follows it. */
export function checkId(what: string, id: string): string {
  if (!isId(id)) {
    throw new ConvLensError('INVALID_ARGUMENT', `${what} id ${JSON.stringify(id.slice(0, 140))} is not valid.`, 'Ids are 1 to 128 letters, digits, "_", "-" or "." and do not start with "." (no "/", "\\\\", "." or "..").');
  }
  return id;
}

/** An id made from free text (a file name, a model name): the characters that pass, never starting with '.'. */
export function toId(text: string, fallback = 'item'): string {
  const id = text.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^\.+/, '').slice(0, 128);
  return isId(id) ? id : fallback;
}
