import { closestNames, editDistance } from '../../engine/errors.js';

/** One of Ajv's errors, as Fastify attaches them to a failed validation (`verbose` adds `parentSchema`). */
interface AjvError {
  keyword: string;
  instancePath: string;
  params?: Record<string, unknown>;
  message?: string;
  parentSchema?: { properties?: Record<string, unknown> };
  /** the value refused (`verbose`) */
  data?: unknown;
}

/** The most characters of an unknown key an answer quotes: longer than any field name. */
const MAX_KEY_SHOWN = 64;

/**
 * The API's 400 for a request its schema refused. An unknown key gets its own message: Ajv's
 * ("must NOT have additional properties") names only the object holding it, and the user has
 * to find which of their keys is the stray one; the hint lists what the object does take.
 */
export function schemaError(validation: readonly AjvError[], context: string | undefined, fallback: string): { message: string; hint: string } {
  const docs = 'See docs/api.md for the request format.';
  const first = validation[0];
  // `?layer=a&layer=b` arrives as an array: "must be string" did not say the key came twice
  if (first?.keyword === 'type' && context === 'querystring' && Array.isArray(first.data)) {
    const name = first.instancePath.replace(/^\//, '');
    const shown = name.length > MAX_KEY_SHOWN ? `${JSON.stringify(name.slice(0, MAX_KEY_SHOWN)).slice(1, -1)}...` : JSON.stringify(name).slice(1, -1);
    return { message: `The query parameter "${shown}" is given ${first.data.length} times (querystring${first.instancePath}); it takes one value.`, hint: `Send "${shown}" once. ${docs}` };
  }
  const key = first?.keyword === 'additionalProperties' ? first.params?.['additionalProperty'] : undefined;
  if (typeof key !== 'string') return { message: fallback, hint: docs };
  const where = `${context ?? 'body'}${first!.instancePath}`;
  const known = Object.keys(first!.parentSchema?.properties ?? {});
  const lower = key.toLowerCase();
  // A key is any string up to the body limit (megabytes): the answer quotes a bounded, escaped
  // piece of it, and only a key of a field name's length is compared with the names, since the
  // edit distances of a megabyte key held the event loop for a second.
  const near = key.length > MAX_KEY_SHOWN ? [] : closestNames(key, known, 1).filter((k) => k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase()) || editDistance(k.toLowerCase(), lower) <= Math.max(2, Math.floor(key.length / 3)));
  // JSON's escapes, so a newline or quote in the key cannot break the message's own quoting
  const escaped = key.length > MAX_KEY_SHOWN ? `${JSON.stringify(key.slice(0, MAX_KEY_SHOWN)).slice(1, -1)}...` : JSON.stringify(key).slice(1, -1);
  const length = key.length > MAX_KEY_SHOWN ? `; the key is ${key.length} characters long` : '';
  return {
    // refused, not ignored: a result computed without the user's setting would look like theirs
    message: `Unknown field "${escaped}" (${where}/${escaped}${length}).`,
    hint: `${near.length ? `Did you mean "${near[0]}"? ` : ''}${known.length ? `${where} takes ${known.join(', ')}. ` : ''}${docs}`,
  };
}
