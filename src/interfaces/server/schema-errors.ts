import { closestNames, editDistance } from '../../engine/errors.js';

/** One of Ajv's errors, as Fastify attaches them to a failed validation (`verbose` adds `parentSchema`). */
interface AjvError {
  keyword: string;
  instancePath: string;
  params?: Record<string, unknown>;
  message?: string;
  parentSchema?: { properties?: Record<string, unknown> };
}

/**
 * The API's 400 for a request its schema refused. An unknown key gets its own message: Ajv's
 * ("must NOT have additional properties") names only the object holding it, and the user has
 * to find which of their keys is the stray one; the hint lists what the object does take.
 */
export function schemaError(validation: readonly AjvError[], context: string | undefined, fallback: string): { message: string; hint: string } {
  const docs = 'See docs/api.md for the request format.';
  const first = validation[0];
  const key = first?.keyword === 'additionalProperties' ? first.params?.['additionalProperty'] : undefined;
  if (typeof key !== 'string') return { message: fallback, hint: docs };
  const where = `${context ?? 'body'}${first!.instancePath}`;
  const known = Object.keys(first!.parentSchema?.properties ?? {});
  const lower = key.toLowerCase();
  // a suggestion only when it is close: a far one would read as the API guessing
  const near = closestNames(key, known, 1).filter((k) => k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase()) || editDistance(k.toLowerCase(), lower) <= Math.max(2, Math.floor(key.length / 3)));
  return {
    // refused, not ignored: a result computed without the user's setting would look like theirs
    message: `Unknown field "${key}" (${where}/${key}).`,
    hint: `${near.length ? `Did you mean "${near[0]}"? ` : ''}${known.length ? `${where} takes ${known.join(', ')}. ` : ''}${docs}`,
  };
}
